//! Verifying a bearer JWT against the issuer's published keys.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, Validation};
use serde_json::{Map, Value};

use crate::config::VerifierConfig;
use crate::error::{AuthError, ConfigError};
use crate::jwks::{HttpJwksSource, JwksSource, KeySet, VerifyingKey};
use crate::principal::Principal;

/// Tokens longer than this are refused unread (Cognito's are 1 to 2 KiB).
pub const MAX_TOKEN_BYTES: usize = 16 * 1024;
/// Fetches made for tokens that may be newer than the cached keys are at least this far apart.
pub const MIN_FETCH_SPACING: Duration = Duration::from_secs(1);

/// The verified claims of a token, as the issuer signed them.
pub type Claims = Map<String, Value>;

/// The monotonic clock a verifier measures intervals and the key set's age on: the system's
/// ([`Instant::now`]), or in tests one they move.
pub type Clock = Arc<dyn Fn() -> Instant + Send + Sync>;

/// Verifies bearer JWTs from one issuer for one audience.
///
/// Only RS256 and ES256 are accepted, each only with a key of its own type from the issuer's JWKS:
/// `alg: none`, HMAC and every other algorithm are refused before any key is looked at, and no
/// verification key is ever built from anything but a JWK's public components.
///
/// Keys are cached. A token naming an unknown `kid` causes a refetch of the JWKS, but at most one per
/// [`VerifierConfig::refetch_interval`], shared by all callers (the first load of the keys does not
/// count), so tokens with made-up key ids cannot make it hammer the issuer. A refetch replaces the
/// cached set: a key stays trusted exactly as long as the issuer publishes it.
///
/// That limit alone would let anyone lock good tokens out after a key rotation: a made-up `kid` sent
/// just before the rotation spends the refetch on a key set without the new key, and every new-key
/// token is then refused until the interval ends. So a token whose (unverified) `iat` is not older
/// than the last fetch, give or take the leeway, may still cause a fetch within the interval: the
/// cached set cannot have seen a key that was first used after it was fetched. Such fetches are
/// [`MIN_FETCH_SPACING`] apart (a caller waits for the spacing rather than fail) and a fetch serves
/// every caller that was already waiting when it started, so forged `iat`s buy at most one fetch per
/// second; tokens issued before the last fetch keep the interval. An outage is never hammered.
///
/// Share one `Verifier` (it is `Send + Sync`; wrap it in an `Arc`) for the life of the process.
pub struct Verifier {
    config: VerifierConfig,
    source: Arc<dyn JwksSource>,
    keys: RwLock<Arc<KeySet>>,
    refetch: tokio::sync::Mutex<RefetchState>,
    clock: Clock,
    /// When the verifier was made, on `clock`: the origin of `last_fetch_nanos`.
    created: Instant,
    /// When the last fetch of any kind started, in nanoseconds since `created`, plus one (0:
    /// never), readable without the lock so that a fresh key set costs verification nothing.
    last_fetch_nanos: AtomicU64,
    /// How many fetches have started: a caller that saw this number grow while it waited knows a
    /// fetch began after it arrived (a count, unlike two readings of a clock, cannot tie).
    fetches_started: AtomicU64,
}

#[derive(Default)]
struct RefetchState {
    /// Whether a key set has been loaded successfully.
    loaded: bool,
    /// When the last rate-limited fetch started: a refetch for an unknown `kid`, or any failed fetch.
    last_refetch: Option<Instant>,
    /// When the last fetch of any kind started (monotonic, and as Unix seconds to compare with `iat`).
    last_fetch: Option<(Instant, u64)>,
    /// Whether the last fetch failed.
    last_failed: bool,
}

impl RefetchState {
    fn failure(&self) -> AuthError {
        if self.last_failed {
            AuthError::JwksUnavailable
        } else {
            AuthError::UnknownKey
        }
    }
}

impl std::fmt::Debug for Verifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Verifier")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl Verifier {
    /// A verifier taking its keys from `source`.
    pub fn new(config: VerifierConfig, source: Arc<dyn JwksSource>) -> Verifier {
        Verifier::with_clock(config, source, Arc::new(Instant::now))
    }

    /// [`Verifier::new`] measuring time on `clock` (tests move it instead of sleeping).
    pub fn with_clock(config: VerifierConfig, source: Arc<dyn JwksSource>, clock: Clock) -> Verifier {
        let created = clock();
        Verifier {
            config,
            source,
            keys: RwLock::new(Arc::new(KeySet::default())),
            refetch: tokio::sync::Mutex::new(RefetchState::default()),
            clock,
            created,
            last_fetch_nanos: AtomicU64::new(0),
            fetches_started: AtomicU64::new(0),
        }
    }

    fn now(&self) -> Instant {
        (self.clock)()
    }

    fn since(&self, at: Instant) -> Duration {
        self.now().saturating_duration_since(at)
    }

    /// A verifier fetching its keys over HTTP(S) from `config.jwks_url`.
    pub fn from_config(config: VerifierConfig) -> Result<Verifier, ConfigError> {
        let source = HttpJwksSource::new(&config.jwks_url)?;
        Ok(Verifier::new(config, Arc::new(source)))
    }

    /// [`Verifier::from_config`] with [`VerifierConfig::from_env`].
    pub fn from_env() -> Result<Verifier, ConfigError> {
        Verifier::from_config(VerifierConfig::from_env()?)
    }

    /// What this verifier accepts.
    pub fn config(&self) -> &VerifierConfig {
        &self.config
    }

    /// Verifies `token` (the bare JWT, without `Bearer `) and says whom it speaks for.
    pub async fn verify(&self, token: &str) -> Result<Principal, AuthError> {
        self.verify_with_claims(token).await.map(|(principal, _)| principal)
    }

    /// [`Verifier::verify`], also handing back all the verified claims (for instance to pass them on
    /// the way API Gateway's JWT authorizer does).
    pub async fn verify_with_claims(&self, token: &str) -> Result<(Principal, Claims), AuthError> {
        let (alg, kid) = parse_header(token)?;
        let key = self.key_for(&kid, || unverified_iat(token)).await?;
        if key.alg != alg {
            return Err(AuthError::AlgorithmMismatch);
        }
        let claims = self.decode(token, alg, &key)?;
        let subject = self.check_claims(&claims)?;
        let principal = Principal::from_claims(subject, &claims, &self.config.groups_claim);
        Ok((principal, claims))
    }

    /// Fetches the key set now, whatever the rate limit, and returns how many usable keys it has. For
    /// warming up at start; verifying does this by itself when needed.
    pub async fn refresh_keys(&self) -> Result<usize, AuthError> {
        let mut state = self.refetch.lock().await;
        state.last_fetch = Some((self.now(), unix_now()));
        let result = self.fetch_and_store().await;
        state.last_failed = result.is_err();
        state.loaded |= result.is_ok();
        result
    }

    fn cached(&self, kid: &str) -> Option<Arc<VerifyingKey>> {
        self.keys.read().unwrap_or_else(|e| e.into_inner()).get(kid)
    }

    async fn key_for(&self, kid: &str, iat: impl FnOnce() -> Option<u64>) -> Result<Arc<VerifyingKey>, AuthError> {
        // Taken first: a refresh of an old key set below counts as a fetch this caller saw.
        let arrived = self.fetches_started.load(Ordering::Relaxed);
        self.refresh_if_old().await;
        if let Some(key) = self.cached(kid) {
            return Ok(key);
        }
        let mut state = self.refetch.lock().await;
        // Another caller may have fetched while this one waited.
        if let Some(key) = self.cached(kid) {
            return Ok(key);
        }
        // A fetch that started after this caller arrived saw all it could hope for: share its outcome.
        if self.fetches_started.load(Ordering::Relaxed) > arrived {
            return Err(state.failure());
        }
        let interval = self.config.refetch_interval;
        if state.last_refetch.is_some_and(|at| self.since(at) < interval) {
            if state.last_failed || !self.may_be_newer_than_keys(iat(), &state) {
                return Err(state.failure());
            }
            // The token may have been signed with a key published after the last fetch (a rotation):
            // fetch again once the spacing has passed, without spending the interval's refetch.
            if let Some((at, _)) = state.last_fetch {
                let spacing = MIN_FETCH_SPACING.min(interval);
                tokio::time::sleep(spacing.saturating_sub(self.since(at))).await;
            }
            state.last_fetch = Some((self.now(), unix_now()));
            let result = self.fetch_and_store().await;
            state.last_failed = result.is_err();
            result?;
            return self.cached(kid).ok_or(AuthError::UnknownKey);
        }
        let previous = state.last_refetch.replace(self.now());
        state.last_fetch = Some((self.now(), unix_now()));
        match self.fetch_and_store().await {
            Ok(_) => {
                state.last_failed = false;
                if !state.loaded {
                    // The first successful load is not a refetch: it leaves the allowance untouched.
                    state.loaded = true;
                    state.last_refetch = previous;
                }
            }
            Err(e) => {
                state.last_failed = true;
                return Err(e);
            }
        }
        self.cached(kid).ok_or(AuthError::UnknownKey)
    }

    /// Fetches the key set again when the last fetch is older than `max_key_set_age`, so a withdrawn
    /// key stops verifying although every `kid` in use is still cached. Failures keep the cached
    /// keys; either way the next try waits another `max_key_set_age`.
    async fn refresh_if_old(&self) {
        if !self.key_set_is_old() {
            return;
        }
        let mut state = self.refetch.lock().await;
        if !self.key_set_is_old() {
            return; // another caller refreshed while this one waited
        }
        state.last_fetch = Some((self.now(), unix_now()));
        let result = self.fetch_and_store().await;
        state.last_failed = result.is_err();
    }

    /// Whether a token issued at `iat` (unverified) may carry a key the cached set cannot have: issued
    /// no earlier than the last fetch, give or take the leeway, and not in the future.
    fn may_be_newer_than_keys(&self, iat: Option<u64>, state: &RefetchState) -> bool {
        let (Some(iat), Some((_, fetched_at))) = (iat, state.last_fetch) else {
            return false;
        };
        let leeway = self.config.leeway_seconds;
        iat.saturating_add(leeway) >= fetched_at && iat <= unix_now().saturating_add(leeway)
    }

    /// Whether a key set was fetched at least `max_key_set_age` ago, on the monotonic clock to the
    /// nanosecond (ages in whole Unix seconds jumped by one at second boundaries).
    fn key_set_is_old(&self) -> bool {
        match self.last_fetch_nanos.load(Ordering::Relaxed) {
            0 => false,
            last => self.nanos_since_created().saturating_sub(last - 1) >= nanos(self.config.max_key_set_age),
        }
    }

    fn nanos_since_created(&self) -> u64 {
        nanos(self.since(self.created))
    }

    /// Fetches and parses the key set and, if it has at least one usable key, replaces the cache.
    async fn fetch_and_store(&self) -> Result<usize, AuthError> {
        self.fetches_started.fetch_add(1, Ordering::Relaxed);
        self.last_fetch_nanos
            .store(self.nanos_since_created().saturating_add(1), Ordering::Relaxed);
        let jwks = self.source.fetch().await.map_err(|e| {
            tracing::warn!(error = %e, "could not fetch the issuer's JWKS");
            AuthError::JwksUnavailable
        })?;
        let set = KeySet::parse(&jwks).map_err(|reason| {
            tracing::warn!(reason, "the issuer's JWKS is unusable");
            AuthError::JwksUnavailable
        })?;
        let count = set.len();
        if count == 0 {
            tracing::warn!("the issuer's JWKS has no usable RS256/ES256 key; keeping the cached keys");
            return Err(AuthError::JwksUnavailable);
        }
        *self.keys.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(set);
        tracing::info!(keys = count, "loaded the issuer's signing keys");
        Ok(count)
    }

    /// Signature, then `exp` (required), `nbf` and `iss` (required), by jsonwebtoken.
    fn decode(&self, token: &str, alg: Algorithm, key: &VerifyingKey) -> Result<Claims, AuthError> {
        let mut validation = Validation::new(alg);
        validation.leeway = self.config.leeway_seconds;
        validation.validate_exp = true;
        validation.validate_nbf = true;
        validation.set_required_spec_claims(&["exp", "iss"]);
        validation.set_issuer(&[&self.config.issuer]);
        // Checked below: `client_id` may stand in for `aud`.
        validation.validate_aud = false;
        jsonwebtoken::decode::<Claims>(token, &key.key, &validation)
            .map(|data| data.claims)
            .map_err(from_jwt_error)
    }

    /// The claims jsonwebtoken does not check, or not as strictly; returns the subject.
    fn check_claims(&self, claims: &Claims) -> Result<String, AuthError> {
        if claims.get("iss").and_then(Value::as_str) != Some(self.config.issuer.as_str()) {
            return Err(AuthError::WrongIssuer);
        }
        let audience = self.config.audience.as_str();
        let aud_ok = match claims.get("aud") {
            Some(Value::String(aud)) => aud == audience,
            Some(Value::Array(auds)) => auds.iter().any(|aud| aud.as_str() == Some(audience)),
            _ => false,
        };
        let client_id_ok = claims.get("client_id").and_then(Value::as_str) == Some(audience);
        if !aud_ok && !client_id_ok {
            return Err(AuthError::WrongAudience);
        }
        if let Some(token_use) = &self.config.token_use
            && claims.get("token_use").and_then(Value::as_str) != Some(token_use.as_str())
        {
            return Err(AuthError::WrongTokenUse);
        }
        match claims.get("sub").and_then(Value::as_str) {
            Some(sub) if !sub.is_empty() => Ok(sub.to_owned()),
            _ => Err(AuthError::MissingClaim("sub")),
        }
    }
}

/// The token's shape and header, read before any key is looked up: three base64url parts, a JSON
/// header with an accepted `alg`, a `kid`, and no `crit`.
fn parse_header(token: &str) -> Result<(Algorithm, String), AuthError> {
    if token.len() > MAX_TOKEN_BYTES {
        return Err(AuthError::Malformed("too long"));
    }
    let parts: Vec<&str> = token.split('.').collect();
    let [header, payload, signature] = parts.as_slice() else {
        return Err(AuthError::Malformed("not three dot-separated parts"));
    };
    let header = URL_SAFE_NO_PAD
        .decode(header)
        .map_err(|_| AuthError::Malformed("bad base64url"))?;
    for part in [payload, signature] {
        URL_SAFE_NO_PAD
            .decode(part)
            .map_err(|_| AuthError::Malformed("bad base64url"))?;
    }
    let header: Map<String, Value> =
        serde_json::from_slice(&header).map_err(|_| AuthError::Malformed("the header is not a JSON object"))?;
    let alg = match header.get("alg").and_then(Value::as_str) {
        Some("RS256") => Algorithm::RS256,
        Some("ES256") => Algorithm::ES256,
        _ => return Err(AuthError::UnsupportedAlgorithm),
    };
    if header.contains_key("crit") {
        return Err(AuthError::Malformed("unsupported critical header extensions"));
    }
    match header.get("kid").and_then(Value::as_str) {
        Some(kid) if !kid.is_empty() => Ok((alg, kid.to_owned())),
        _ => Err(AuthError::MissingKid),
    }
}

/// The `iat` of a token's payload, read without verifying anything: only to decide whether fetching
/// the keys again could help, never to accept a token.
fn unverified_iat(token: &str) -> Option<u64> {
    let payload = URL_SAFE_NO_PAD.decode(token.split('.').nth(1)?).ok()?;
    let claims: Map<String, Value> = serde_json::from_slice(&payload).ok()?;
    claims.get("iat")?.as_u64()
}

/// Nanoseconds of `d`, saturating (u64 holds 584 years).
fn nanos(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default()
}

fn from_jwt_error(error: jsonwebtoken::errors::Error) -> AuthError {
    match error.kind() {
        ErrorKind::InvalidSignature => AuthError::BadSignature,
        ErrorKind::ExpiredSignature => AuthError::Expired,
        ErrorKind::ImmatureSignature => AuthError::NotYetValid,
        ErrorKind::InvalidIssuer => AuthError::WrongIssuer,
        ErrorKind::InvalidAudience => AuthError::WrongAudience,
        ErrorKind::MissingRequiredClaim(claim) if claim == "exp" => AuthError::MissingClaim("exp"),
        ErrorKind::MissingRequiredClaim(claim) if claim == "iss" => AuthError::MissingClaim("iss"),
        ErrorKind::MissingRequiredClaim(_) => AuthError::Malformed("a required claim is missing"),
        ErrorKind::InvalidClaimFormat(_) => AuthError::Malformed("a time claim is not a number"),
        ErrorKind::InvalidAlgorithm | ErrorKind::MissingAlgorithm => AuthError::AlgorithmMismatch,
        ErrorKind::UnsupportedAlgorithm | ErrorKind::InvalidAlgorithmName => AuthError::UnsupportedAlgorithm,
        ErrorKind::Base64(_) => AuthError::Malformed("bad base64url"),
        ErrorKind::Json(_) | ErrorKind::Utf8(_) => AuthError::Malformed("the header or claims are not JSON objects"),
        ErrorKind::InvalidToken => AuthError::Malformed("not a JWT"),
        // Key or provider trouble: the signature could not be verified.
        _ => AuthError::BadSignature,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b64(s: &str) -> String {
        URL_SAFE_NO_PAD.encode(s)
    }

    #[test]
    fn header_needs_an_accepted_alg_and_a_kid() {
        let token = |header: &str| format!("{}.{}.{}", b64(header), b64("{}"), b64("sig"));
        assert_eq!(
            parse_header(&token(r#"{"alg":"ES256","kid":"k"}"#)),
            Ok((Algorithm::ES256, "k".into()))
        );
        assert_eq!(
            parse_header(&token(r#"{"alg":"RS256","kid":"k"}"#)),
            Ok((Algorithm::RS256, "k".into()))
        );
        for alg in [
            "none", "None", "HS256", "HS384", "HS512", "RS512", "PS256", "ES384", "EdDSA", "",
        ] {
            let header = format!(r#"{{"alg":"{alg}","kid":"k"}}"#);
            assert_eq!(
                parse_header(&token(&header)),
                Err(AuthError::UnsupportedAlgorithm),
                "{alg}"
            );
        }
        assert_eq!(
            parse_header(&token(r#"{"kid":"k"}"#)),
            Err(AuthError::UnsupportedAlgorithm)
        );
        assert_eq!(parse_header(&token(r#"{"alg":"ES256"}"#)), Err(AuthError::MissingKid));
        assert_eq!(
            parse_header(&token(r#"{"alg":"ES256","kid":""}"#)),
            Err(AuthError::MissingKid)
        );
        assert_eq!(
            parse_header(&token(r#"{"alg":"ES256","kid":7}"#)),
            Err(AuthError::MissingKid)
        );
        assert!(matches!(
            parse_header(&token(r#"{"alg":"ES256","kid":"k","crit":["b64"]}"#)),
            Err(AuthError::Malformed(_))
        ));
        assert!(matches!(parse_header(&token("[1]")), Err(AuthError::Malformed(_))));
    }

    #[test]
    fn oversized_tokens_are_refused_unread() {
        let token = "a".repeat(MAX_TOKEN_BYTES + 1);
        assert_eq!(parse_header(&token), Err(AuthError::Malformed("too long")));
    }
}
