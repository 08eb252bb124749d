//! Id tokens (1.6 idTag, 2.0.1 IdTokenType) and the operator's registry that authorizes them.
//!
//! Rules implemented here:
//! - A 1.6 idTag is a CiString20Type: at most 20 characters (1.6 section 7.28 IdToken). A 2.0.1
//!   idToken is at most 36 characters and carries an IdTokenEnumType (2.0.1 IdTokenType).
//! - Both are case-insensitive (1.6 CiString; 2.0.1 "IdToken is case insensitive"), so tokens are
//!   compared and keyed in ASCII upper case and kept as sent for display. The schemas limit only
//!   the length (in characters); control characters are refused.
//! - A 2.0.1 token of type NoAuthorization is left empty by the station ("IdToken field SHALL be
//!   left empty"); every other token must have at least one character.
//! - Authorization (1.6 section 4.1/4.8, 2.0.1 C01 and E01.FR.11/12): an unknown token is Invalid;
//!   an Accepted token whose expiry has passed is Expired; otherwise the registry's status stands.
//!   The expiry and the group (1.6 parentIdTag, 2.0.1 groupIdToken) are answered with it.
//! - Tenancy: every organisation has its own registry, so a token works at the stations of the
//!   organisation that issued it and nowhere else (tokens and stations registered without an
//!   organisation, by `csms-registry`, form one more such registry). Another organisation's token
//!   is unknown at a station: Invalid. Roaming will add registries a station also accepts, by
//!   explicit agreement between organisations (docs/decisions/token-tenancy.md).

use chrono::{DateTime, Utc};
use std::fmt;
use std::hash::{Hash, Hasher};

use crate::ports::{StoreError, TokenRepository};

/// 2.0.1 IdTokenEnumType: how the token was obtained. 1.6 idTags carry no type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum IdTokenType {
    Central,
    EMaid,
    Iso14443,
    Iso15693,
    KeyCode,
    Local,
    MacAddress,
    NoAuthorization,
}

impl IdTokenType {
    pub const ALL: [IdTokenType; 8] = [
        Self::Central,
        Self::EMaid,
        Self::Iso14443,
        Self::Iso15693,
        Self::KeyCode,
        Self::Local,
        Self::MacAddress,
        Self::NoAuthorization,
    ];

    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.as_str() == raw)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Central => "Central",
            Self::EMaid => "eMAID",
            Self::Iso14443 => "ISO14443",
            Self::Iso15693 => "ISO15693",
            Self::KeyCode => "KeyCode",
            Self::Local => "Local",
            Self::MacAddress => "MacAddress",
            Self::NoAuthorization => "NoAuthorization",
        }
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum IdTokenError {
    #[error("id token is empty")]
    Empty,
    #[error("id token is longer than {0} characters")]
    TooLong(usize),
    #[error("id token may not contain control characters")]
    InvalidCharacter,
}

/// An id token as a station presents it. Equality and hashing ignore ASCII case.
#[derive(Debug, Clone)]
pub struct IdToken {
    value: String,
    kind: Option<IdTokenType>,
}

impl IdToken {
    /// 1.6 idTag: CiString20Type.
    pub const MAX_LEN_16: usize = 20;
    /// 2.0.1 IdTokenType.idToken: string[0..36].
    pub const MAX_LEN_201: usize = 36;

    pub fn parse_16(raw: &str) -> Result<Self, IdTokenError> {
        check(raw, Self::MAX_LEN_16, false)?;
        Ok(Self {
            value: raw.to_owned(),
            kind: None,
        })
    }

    pub fn parse_201(raw: &str, kind: IdTokenType) -> Result<Self, IdTokenError> {
        check(raw, Self::MAX_LEN_201, kind == IdTokenType::NoAuthorization)?;
        Ok(Self {
            value: raw.to_owned(),
            kind: Some(kind),
        })
    }

    /// The token as the station sent it.
    pub fn as_str(&self) -> &str {
        &self.value
    }

    pub fn kind(&self) -> Option<IdTokenType> {
        self.kind
    }

    /// The registry key: the value in ASCII upper case, without the type, so that one card
    /// used at a 1.6 and at a 2.0.1 station is one registry entry.
    pub fn key(&self) -> String {
        self.value.to_ascii_uppercase()
    }
}

fn check(raw: &str, max: usize, may_be_empty: bool) -> Result<(), IdTokenError> {
    if raw.is_empty() && !may_be_empty {
        return Err(IdTokenError::Empty);
    }
    // The schemas restrict only the length (in characters); control characters cannot be shown
    // to an operator and are refused.
    if raw.chars().any(char::is_control) {
        return Err(IdTokenError::InvalidCharacter);
    }
    if raw.chars().count() > max {
        return Err(IdTokenError::TooLong(max));
    }
    Ok(())
}

impl PartialEq for IdToken {
    fn eq(&self, other: &Self) -> bool {
        self.kind == other.kind && self.value.eq_ignore_ascii_case(&other.value)
    }
}

impl Eq for IdToken {}

impl Hash for IdToken {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.key().hash(state);
        self.kind.hash(state);
    }
}

impl fmt::Display for IdToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.value)
    }
}

/// The status of a token, as the registry holds it and as Authorize answers it (the values
/// 1.6 AuthorizationStatus and 2.0.1 AuthorizationStatusEnumType share).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AuthorizationStatus {
    Accepted,
    Blocked,
    Expired,
    Invalid,
}

impl AuthorizationStatus {
    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "Accepted" => Some(Self::Accepted),
            "Blocked" => Some(Self::Blocked),
            "Expired" => Some(Self::Expired),
            "Invalid" => Some(Self::Invalid),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Accepted => "Accepted",
            Self::Blocked => "Blocked",
            Self::Expired => "Expired",
            Self::Invalid => "Invalid",
        }
    }
}

/// A token as the operator registered it.
#[derive(Debug, Clone, PartialEq)]
pub struct TokenRecord {
    pub token: IdToken,
    pub status: AuthorizationStatus,
    pub expiry: Option<DateTime<Utc>>,
    /// 1.6 parentIdTag, 2.0.1 groupIdToken: tokens of one group may stop each other's sessions.
    pub group: Option<IdToken>,
    /// Who the token belongs to (a driver or fleet reference); never sent to stations.
    pub owner: Option<String>,
    /// The organisation that issued it: its registry holds the token, its stations accept it and
    /// its operators manage it. None: registered by the command-line tool without one; such
    /// tokens work at stations registered without one.
    pub organisation: Option<String>,
}

/// A claim code's offer to bind a token to whoever redeems it: the digest of the code (the code
/// itself is shown once, to the operator who hands it to the driver), the token, and until when.
#[derive(Debug, Clone, PartialEq)]
pub struct TokenClaim {
    pub digest: String,
    pub organisation: Option<String>,
    pub token: IdToken,
    pub expires_at: DateTime<Utc>,
}

/// The answer to "may this token charge?": 1.6 IdTagInfo, 2.0.1 IdTokenInfoType.
#[derive(Debug, Clone, PartialEq)]
pub struct Authorization {
    pub status: AuthorizationStatus,
    pub expiry: Option<DateTime<Utc>>,
    pub group: Option<IdToken>,
}

impl Authorization {
    pub fn invalid() -> Self {
        Self {
            status: AuthorizationStatus::Invalid,
            expiry: None,
            group: None,
        }
    }
}

impl TokenRecord {
    /// How this record answers for the token presented at `now`.
    pub fn authorization(&self, presented: &IdToken, now: DateTime<Utc>) -> Authorization {
        // A key code "1234" is not the RFID card "1234": a typed record only answers its type.
        if let (Some(registered), Some(shown)) = (self.token.kind(), presented.kind())
            && registered != shown
        {
            return Authorization::invalid();
        }
        let status = match self.status {
            AuthorizationStatus::Accepted if self.expiry.is_some_and(|e| e <= now) => AuthorizationStatus::Expired,
            other => other,
        };
        Authorization {
            status,
            expiry: self.expiry,
            group: self.group.clone(),
        }
    }
}

/// Answers Authorize (and the idTagInfo / idTokenInfo of transaction messages) at a station of
/// `organisation` from that organisation's registry: one read, whoever else holds the same value.
/// A NoAuthorization token is Accepted: the station has no reader, so there is nothing to check,
/// and which stations may charge freely is decided by registering them.
pub async fn authorize(
    tokens: &dyn TokenRepository,
    organisation: Option<&str>,
    token: &IdToken,
    now: DateTime<Utc>,
) -> Result<Authorization, StoreError> {
    if token.kind() == Some(IdTokenType::NoAuthorization) {
        return Ok(Authorization {
            status: AuthorizationStatus::Accepted,
            expiry: None,
            group: None,
        });
    }
    Ok(match tokens.get(organisation, token).await? {
        Some(record) => record.authorization(token, now),
        None => Authorization::invalid(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::memory::MemoryTokens;
    use chrono::Duration;

    fn now() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-03-01T10:00:00Z")
            .unwrap()
            .with_timezone(&Utc)
    }

    fn record(token: IdToken, status: AuthorizationStatus, expiry: Option<DateTime<Utc>>) -> TokenRecord {
        TokenRecord {
            token,
            status,
            expiry,
            group: Some(IdToken::parse_16("FLEET-1").unwrap()),
            owner: Some("driver-42".into()),
            organisation: None,
        }
    }

    #[test]
    fn tokens_follow_the_length_and_character_rules() {
        assert!(IdToken::parse_16(&"A".repeat(20)).is_ok());
        assert_eq!(IdToken::parse_16(&"A".repeat(21)), Err(IdTokenError::TooLong(20)));
        assert!(IdToken::parse_201(&"A".repeat(36), IdTokenType::Iso14443).is_ok());
        assert_eq!(
            IdToken::parse_201(&"A".repeat(37), IdTokenType::Central),
            Err(IdTokenError::TooLong(36))
        );
        assert_eq!(IdToken::parse_16(""), Err(IdTokenError::Empty));
        assert_eq!(IdToken::parse_201("", IdTokenType::KeyCode), Err(IdTokenError::Empty));
        assert!(IdToken::parse_201("", IdTokenType::NoAuthorization).is_ok());
        assert_eq!(IdToken::parse_16("tag\n"), Err(IdTokenError::InvalidCharacter));
        assert!(IdToken::parse_16("tagé").is_ok());
        assert_eq!(IdToken::parse_16(&"é".repeat(21)), Err(IdTokenError::TooLong(20)));
    }

    #[test]
    fn tokens_compare_without_case_but_keep_what_was_sent() {
        let lower = IdToken::parse_16("04a1b2c3").unwrap();
        let upper = IdToken::parse_16("04A1B2C3").unwrap();
        assert_eq!(lower, upper);
        assert_eq!(lower.key(), "04A1B2C3");
        assert_eq!(lower.as_str(), "04a1b2c3");
        let typed = IdToken::parse_201("04a1b2c3", IdTokenType::Iso14443).unwrap();
        assert_ne!(typed, lower, "the type is part of a token's identity");
        assert_eq!(typed.key(), lower.key(), "but not of its registry key");
    }

    #[test]
    fn token_types_round_trip() {
        for t in IdTokenType::ALL {
            assert_eq!(IdTokenType::parse(t.as_str()), Some(t));
        }
        assert_eq!(IdTokenType::parse("emaid"), None);
    }

    #[tokio::test]
    async fn authorization_follows_the_registry() {
        // GIVEN a registry with an accepted, a blocked and an expired-by-date token
        let tokens = MemoryTokens::default();
        let ok = IdToken::parse_16("OK").unwrap();
        let blocked = IdToken::parse_16("BLOCKED").unwrap();
        let old = IdToken::parse_16("OLD").unwrap();
        let typed = IdToken::parse_201("CARD", IdTokenType::Iso14443).unwrap();
        let future = Some(now() + Duration::days(1));
        for r in [
            record(ok.clone(), AuthorizationStatus::Accepted, future),
            record(blocked.clone(), AuthorizationStatus::Blocked, None),
            record(old.clone(), AuthorizationStatus::Accepted, Some(now())),
            record(typed.clone(), AuthorizationStatus::Accepted, None),
        ] {
            tokens.put(&r).await.unwrap();
        }
        let status = async |t: &IdToken| authorize(&tokens, None, t, now()).await.unwrap().status;

        // WHEN tokens are presented THEN each gets its registry answer
        let answer = authorize(&tokens, None, &IdToken::parse_16("ok").unwrap(), now())
            .await
            .unwrap();
        assert_eq!(answer.status, AuthorizationStatus::Accepted);
        assert_eq!(answer.expiry, future);
        assert_eq!(answer.group, Some(IdToken::parse_16("FLEET-1").unwrap()));
        assert_eq!(status(&blocked).await, AuthorizationStatus::Blocked);
        assert_eq!(
            status(&old).await,
            AuthorizationStatus::Expired,
            "expiry at now has passed"
        );
        assert_eq!(
            status(&IdToken::parse_16("NOBODY").unwrap()).await,
            AuthorizationStatus::Invalid
        );
        // A 1.6 tag matches a typed record; another type does not.
        assert_eq!(
            status(&IdToken::parse_16("card").unwrap()).await,
            AuthorizationStatus::Accepted
        );
        let key_code = IdToken::parse_201("CARD", IdTokenType::KeyCode).unwrap();
        assert_eq!(status(&key_code).await, AuthorizationStatus::Invalid);
        let free = IdToken::parse_201("", IdTokenType::NoAuthorization).unwrap();
        assert_eq!(status(&free).await, AuthorizationStatus::Accepted);
    }

    #[tokio::test]
    async fn a_token_works_only_where_its_organisation_runs_the_station() {
        // GIVEN one card value issued by org-a, by org-b (blocked there), and one without organisation
        let tokens = MemoryTokens::default();
        let card = IdToken::parse_16("04A1B2C3").unwrap();
        let issued = |organisation: Option<&str>, status| TokenRecord {
            organisation: organisation.map(Into::into),
            ..record(card.clone(), status, None)
        };
        tokens
            .put(&issued(Some("org-a"), AuthorizationStatus::Accepted))
            .await
            .unwrap();
        tokens
            .put(&issued(Some("org-b"), AuthorizationStatus::Blocked))
            .await
            .unwrap();
        let cli_only = IdToken::parse_16("CLI-ONLY").unwrap();
        tokens
            .put(&record(cli_only.clone(), AuthorizationStatus::Accepted, None))
            .await
            .unwrap();
        let at = async |organisation: Option<&str>, t: &IdToken| {
            authorize(&tokens, organisation, t, now()).await.unwrap().status
        };

        // WHEN it is presented at each organisation's stations THEN each answers from its own registry
        assert_eq!(at(Some("org-a"), &card).await, AuthorizationStatus::Accepted);
        assert_eq!(at(Some("org-b"), &card).await, AuthorizationStatus::Blocked);
        assert_eq!(at(Some("org-c"), &card).await, AuthorizationStatus::Invalid);
        assert_eq!(at(None, &card).await, AuthorizationStatus::Invalid);
        // AND tokens without organisation work only at stations without one
        assert_eq!(at(None, &cli_only).await, AuthorizationStatus::Accepted);
        assert_eq!(at(Some("org-a"), &cli_only).await, AuthorizationStatus::Invalid);
    }
}
