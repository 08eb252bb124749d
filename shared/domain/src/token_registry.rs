//! What an organisation's operators do with the id tokens they issue (register, change, list and
//! withdraw them, and offer one to a driver), and how a driver accepts one.
//!
//! Rules implemented here:
//! - Every organisation has its own registry ([`crate::id_token`]): registering a value another
//!   organisation issued too is answered like registering a new one, so nothing tells an operator
//!   what other organisations hold.
//! - A token is bound to a driver (its `owner`, to whom its sessions are attributed) only by the
//!   driver: the operator has a claim code made for the token and hands it over (printed with the
//!   card, sent by mail); the driver redeems it in the app. An operator may unbind a token, never
//!   bind one. A newer code replaces the earlier one; a code binds once and expires after
//!   [`CLAIM_VALIDITY`].
//! - Remote starts that are not the driver's own ([`check_remote_start`]) charge only on the
//!   organisation's unbound tokens (service cards): a session on a driver's token is started by
//!   that driver, at the pile or in the app.

use chrono::{DateTime, Duration, Utc};
use sha2::{Digest, Sha256};

use crate::id_token::{AuthorizationStatus, IdToken, TokenClaim, TokenRecord};
use crate::page::{Page, PageRequest};
use crate::ports::{Services, StoreError, TokenRepository};

/// How long a claim code binds.
pub const CLAIM_VALIDITY: Duration = Duration::days(14);

#[derive(Debug, thiserror::Error)]
pub enum TokenRegistryError {
    #[error("your organisation has no such id token")]
    Unknown,
    #[error("no such claim code: it is wrong, spent, replaced by a newer one, or expired")]
    UnknownClaim,
    #[error(
        "a remote start by anyone but the token's driver needs one of the station's organisation's own \
         id tokens that no driver holds (a service card); drivers start with theirs in the app"
    )]
    NotAServiceToken,
    #[error(transparent)]
    Store(StoreError),
}

impl From<StoreError> for TokenRegistryError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => Self::Unknown,
            other => Self::Store(other),
        }
    }
}

/// The organisation's token with this key (the type and case do not matter).
pub async fn get(services: &Services, organisation: &str, token: &IdToken) -> Result<TokenRecord, TokenRegistryError> {
    services
        .charging
        .tokens
        .get(Some(organisation), token)
        .await?
        .ok_or(TokenRegistryError::Unknown)
}

/// Registers (or replaces) a token in `organisation`'s registry (None: the registry of tokens
/// without organisation); whoever the record names as owner, a replaced token keeps its own and
/// a new one has none. Returns the record as stored and whether it was new.
pub async fn put(
    tokens: &dyn TokenRepository,
    organisation: Option<&str>,
    mut record: TokenRecord,
) -> Result<(TokenRecord, bool), TokenRegistryError> {
    record.organisation = organisation.map(str::to_owned);
    let previous = tokens.register(&record).await?;
    record.owner = previous.as_ref().and_then(|p| p.owner.clone());
    Ok((record, previous.is_none()))
}

/// What an operator changes on a token; None leaves a field as it is.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TokenChange {
    pub status: Option<AuthorizationStatus>,
    /// Some(None) removes the expiry.
    pub expiry: Option<Option<DateTime<Utc>>>,
    /// Unbinds the token from its driver. (Binding is the driver's: [`claim`].)
    pub release: bool,
}

/// Changes a token of `organisation`; the record as stored after.
pub async fn update(
    services: &Services,
    organisation: &str,
    token: &IdToken,
    change: TokenChange,
) -> Result<TokenRecord, TokenRegistryError> {
    let mut record = get(services, organisation, token).await?;
    if let Some(status) = change.status {
        record.status = status;
    }
    if let Some(expiry) = change.expiry {
        record.expiry = expiry;
    }
    let (mut record, _) = put(&*services.charging.tokens, Some(organisation), record).await?;
    if change.release && record.owner.is_some() {
        services.charging.tokens.release(Some(organisation), token).await?;
        record.owner = None;
    }
    Ok(record)
}

pub async fn delete(services: &Services, organisation: &str, token: &IdToken) -> Result<(), TokenRegistryError> {
    Ok(services.charging.tokens.delete(Some(organisation), token).await?)
}

pub async fn list(
    services: &Services,
    organisation: &str,
    page: &PageRequest,
) -> Result<Page<TokenRecord>, TokenRegistryError> {
    Ok(services
        .charging
        .tokens
        .list_by_organisation(organisation, page)
        .await?)
}

/// A claim code as the operator hands it to a driver: 16 characters in four groups
/// (`K7QM-2XRD-9BTW-H4NP`), from 31 symbols without look-alikes (no 0/O, 1/I/L): 79 random bits.
#[derive(Clone, PartialEq, Eq)]
pub struct ClaimCode(String);

impl ClaimCode {
    const ALPHABET: &'static [u8] = b"ABCDEFGHJKMNPQRSTUVWXYZ23456789";
    const LEN: usize = 16;

    /// A new code from the operating system's generator.
    pub fn generate() -> Self {
        let alphabet = Self::ALPHABET;
        let mut out = String::with_capacity(Self::LEN);
        while out.len() < Self::LEN {
            let mut byte = [0u8; 1];
            getrandom::fill(&mut byte).expect("the operating system's random generator is available");
            // Rejection sampling keeps every symbol equally likely (248 = 8 * 31).
            if byte[0] < 248 {
                out.push(alphabet[usize::from(byte[0] % 31)] as char);
            }
        }
        Self(out)
    }

    /// A code as a driver types it: case, spaces and dashes do not matter. None: it cannot be one.
    pub fn parse(raw: &str) -> Option<Self> {
        let code: String = raw
            .chars()
            .filter(|c| !matches!(c, '-' | ' '))
            .map(|c| c.to_ascii_uppercase())
            .collect();
        let valid = code.len() == Self::LEN && code.bytes().all(|b| Self::ALPHABET.contains(&b));
        valid.then_some(Self(code))
    }

    /// How it is shown: four groups of four.
    pub fn expose(&self) -> String {
        let groups: Vec<&str> = (0..Self::LEN).step_by(4).map(|i| &self.0[i..i + 4]).collect();
        groups.join("-")
    }

    /// What is stored instead of the code: its SHA-256, in hex. 79 random bits need no salt or
    /// slow hash to be out of reach of guessing.
    pub fn digest(&self) -> String {
        hex::encode(Sha256::digest(self.0.as_bytes()))
    }
}

impl std::fmt::Debug for ClaimCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ClaimCode(..)")
    }
}

/// Makes a claim code for a token of `organisation` (None: one registered without), replacing any
/// earlier code for it. The code is returned this once: only its digest is kept.
pub async fn offer(
    tokens: &dyn TokenRepository,
    organisation: Option<&str>,
    token: &IdToken,
    now: DateTime<Utc>,
) -> Result<(ClaimCode, DateTime<Utc>), TokenRegistryError> {
    let code = ClaimCode::generate();
    let claim = TokenClaim {
        digest: code.digest(),
        organisation: organisation.map(str::to_owned),
        token: token.clone(),
        expires_at: now + CLAIM_VALIDITY,
    };
    tokens.offer_claim(&claim).await?;
    Ok((code, claim.expires_at))
}

/// The driver `subject` accepts the token a claim code was made for: it is theirs from now on.
pub async fn claim(
    tokens: &dyn TokenRepository,
    subject: &str,
    code: &str,
    now: DateTime<Utc>,
) -> Result<TokenRecord, TokenRegistryError> {
    let code = ClaimCode::parse(code).ok_or(TokenRegistryError::UnknownClaim)?;
    tokens
        .redeem_claim(&code.digest(), subject, now)
        .await?
        .ok_or(TokenRegistryError::UnknownClaim)
}

/// Whether someone other than the token's driver (an operator, the command-line tool) may start
/// charging on `token` at a station of `organisation`: only on that organisation's own tokens that
/// no driver holds. A foreign, unknown or driver-held token is refused alike, so the answer tells
/// nothing of other registries.
pub async fn check_remote_start(
    tokens: &dyn TokenRepository,
    organisation: Option<&str>,
    token: &IdToken,
) -> Result<(), TokenRegistryError> {
    match tokens.get(organisation, token).await? {
        Some(record) if record.owner.is_none() => Ok(()),
        _ => Err(TokenRegistryError::NotAServiceToken),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::memory::MemoryTokens;

    fn now() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-03-01T10:00:00Z")
            .unwrap()
            .with_timezone(&Utc)
    }

    fn card(value: &str) -> TokenRecord {
        TokenRecord {
            token: IdToken::parse_16(value).unwrap(),
            status: AuthorizationStatus::Accepted,
            expiry: None,
            group: None,
            owner: Some("someone-the-operator-names".into()),
            organisation: None,
        }
    }

    #[test]
    fn claim_codes_are_typed_loosely_and_stored_as_digests() {
        let code = ClaimCode::generate();
        let shown = code.expose();
        assert_eq!(shown.len(), 19);
        assert_eq!(shown.matches('-').count(), 3);
        let typed = shown.to_lowercase().replace('-', " ");
        assert_eq!(ClaimCode::parse(&typed), Some(code.clone()));
        assert_eq!(code.digest().len(), 64);
        assert_ne!(ClaimCode::generate(), code);
        for bad in [
            "",
            "ABCD-EFGH-JKMN-PQR",
            "ABCD-EFGH-JKMN-PQRS-T",
            "ABCD-EFGH-JKMN-PQR0",
            "ÄBCD-EFGH-JKMN-PQRS",
        ] {
            assert_eq!(ClaimCode::parse(bad), None, "{bad}");
        }
        assert!(!format!("{code:?}").contains(&code.0), "a code is never logged");
    }

    #[tokio::test]
    async fn only_the_drivers_claim_binds_a_token() {
        // GIVEN org-a registers a card naming an owner
        let tokens = MemoryTokens::default();
        let (stored, new) = put(&tokens, Some("org-a"), card("CARD-1")).await.unwrap();
        assert!(new);
        assert_eq!(stored.owner, None, "an operator cannot name the owner");
        let token = stored.token.clone();

        // WHEN a code is offered twice and the first one is tried
        let (first, _) = offer(&tokens, Some("org-a"), &token, now()).await.unwrap();
        let (second, expires) = offer(&tokens, Some("org-a"), &token, now()).await.unwrap();
        assert_eq!(expires, now() + CLAIM_VALIDITY);
        let tried = claim(&tokens, "dave", &first.expose(), now()).await;
        assert!(
            matches!(tried, Err(TokenRegistryError::UnknownClaim)),
            "replaced codes do not bind"
        );

        // THEN only the newest code binds, once, until it expires
        let late = claim(&tokens, "dave", &second.expose(), expires).await;
        assert!(matches!(late, Err(TokenRegistryError::UnknownClaim)));
        let bound = claim(&tokens, "dave", &second.expose(), now()).await.unwrap();
        assert_eq!(bound.owner.as_deref(), Some("dave"));
        let again = claim(&tokens, "eve", &second.expose(), now()).await;
        assert!(matches!(again, Err(TokenRegistryError::UnknownClaim)));
        // AND replacing the card keeps its owner
        let (replaced, new) = put(&tokens, Some("org-a"), card("card-1")).await.unwrap();
        assert!(!new);
        assert_eq!(replaced.owner.as_deref(), Some("dave"));
        // AND there is no code for a token the organisation does not hold
        let elsewhere = offer(&tokens, Some("org-b"), &token, now()).await;
        assert!(matches!(elsewhere, Err(TokenRegistryError::Unknown)));
    }

    #[tokio::test]
    async fn others_start_remotely_only_on_the_organisations_unbound_tokens() {
        let tokens = MemoryTokens::default();
        let (service, _) = put(&tokens, Some("org-a"), card("SERVICE")).await.unwrap();
        let (drivers, _) = put(&tokens, Some("org-a"), card("DRIVERS")).await.unwrap();
        let (code, _) = offer(&tokens, Some("org-a"), &drivers.token, now()).await.unwrap();
        claim(&tokens, "dave", &code.expose(), now()).await.unwrap();
        let check =
            async |organisation, token: &TokenRecord| check_remote_start(&tokens, organisation, &token.token).await;
        assert!(check(Some("org-a"), &service).await.is_ok());
        for refused in [
            check(Some("org-a"), &drivers).await,
            check(Some("org-b"), &service).await,
            check(None, &service).await,
            check(Some("org-a"), &card("UNKNOWN")).await,
        ] {
            assert!(matches!(refused, Err(TokenRegistryError::NotAServiceToken)));
        }
    }
}
