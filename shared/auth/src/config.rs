//! What a [`crate::Verifier`] accepts.

use std::time::Duration;

use crate::error::ConfigError;

/// Default clock-skew allowance for `exp` and `nbf`.
pub const DEFAULT_LEEWAY_SECONDS: u64 = 60;
/// Default minimum time between two JWKS refetches caused by unknown key ids.
pub const DEFAULT_REFETCH_INTERVAL: Duration = Duration::from_secs(60);
/// Default age after which the cached key set is fetched again before it is used, so a key the
/// issuer has withdrawn stops verifying within about this long even when no unknown `kid` comes.
pub const DEFAULT_MAX_KEY_SET_AGE: Duration = Duration::from_secs(3600);
/// Default claim holding the groups roles come from (Cognito's).
pub const DEFAULT_GROUPS_CLAIM: &str = "cognito:groups";

/// What a [`crate::Verifier`] accepts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifierConfig {
    /// The exact `iss` tokens must carry. Cognito: `https://cognito-idp.<region>.amazonaws.com/<user pool id>`.
    pub issuer: String,
    /// The app client id: accepted when `aud` (a string or an array) contains it, or when `client_id`
    /// (Cognito access tokens, which have no `aud`) equals it.
    pub audience: String,
    /// Where the issuer publishes its keys. Must be `https`, except on a loopback host.
    pub jwks_url: String,
    /// When set, `token_use` must equal it (Cognito: `access`, so ID tokens are refused).
    pub token_use: Option<String>,
    /// Clock skew allowed on `exp` and `nbf`, in seconds.
    pub leeway_seconds: u64,
    /// At most one JWKS refetch per this interval for unknown key ids, however many callers ask.
    pub refetch_interval: Duration,
    /// A key set older than this is fetched again (at most once per this age, whatever the outcome;
    /// on failure the cached keys go on serving, so an issuer outage does not lock everyone out).
    pub max_key_set_age: Duration,
    /// The claim roles come from.
    pub groups_claim: String,
}

impl VerifierConfig {
    /// A configuration with the defaults: JWKS at `<issuer>/.well-known/jwks.json`, no `token_use`
    /// requirement, 60 s leeway, one refetch per 60 s, `cognito:groups`.
    pub fn new(issuer: impl Into<String>, audience: impl Into<String>) -> VerifierConfig {
        let issuer = issuer.into();
        VerifierConfig {
            jwks_url: default_jwks_url(&issuer),
            issuer,
            audience: audience.into(),
            token_use: None,
            leeway_seconds: DEFAULT_LEEWAY_SECONDS,
            refetch_interval: DEFAULT_REFETCH_INTERVAL,
            max_key_set_age: DEFAULT_MAX_KEY_SET_AGE,
            groups_claim: DEFAULT_GROUPS_CLAIM.to_owned(),
        }
    }

    /// Reads `AUTH_ISSUER` and `AUTH_AUDIENCE` (required), `AUTH_JWKS_URL` (default
    /// `<issuer>/.well-known/jwks.json`) and `AUTH_TOKEN_USE` (optional); the rest are the defaults.
    pub fn from_env() -> Result<VerifierConfig, ConfigError> {
        VerifierConfig::from_lookup(|name| std::env::var(name).ok())
    }

    /// [`VerifierConfig::from_env`] with the variables read by `lookup` (for tests and for callers
    /// that keep their environment elsewhere).
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<VerifierConfig, ConfigError> {
        let get = |name: &'static str| lookup(name).map(|v| v.trim().to_owned()).filter(|v| !v.is_empty());
        let issuer = get("AUTH_ISSUER").ok_or(ConfigError::Missing("AUTH_ISSUER"))?;
        let audience = get("AUTH_AUDIENCE").ok_or(ConfigError::Missing("AUTH_AUDIENCE"))?;
        let mut config = VerifierConfig::new(issuer, audience);
        if let Some(url) = get("AUTH_JWKS_URL") {
            config.jwks_url = url;
        }
        config.token_use = get("AUTH_TOKEN_USE");
        Ok(config)
    }
}

/// `<issuer>/.well-known/jwks.json`, where Cognito (and the development issuer) publish their keys.
pub fn default_jwks_url(issuer: &str) -> String {
    format!("{}/.well-known/jwks.json", issuer.trim_end_matches('/'))
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn lookup(vars: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = vars.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        move |name| map.get(name).cloned()
    }

    #[test]
    fn from_env_defaults_the_jwks_url_to_the_issuers_well_known_path() {
        let c = VerifierConfig::from_lookup(lookup(&[
            (
                "AUTH_ISSUER",
                "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_abc",
            ),
            ("AUTH_AUDIENCE", "client123"),
        ]))
        .unwrap();
        assert_eq!(
            c.jwks_url,
            "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_abc/.well-known/jwks.json"
        );
        assert_eq!(c.token_use, None);
        assert_eq!(c.leeway_seconds, 60);
        assert_eq!(c.refetch_interval, Duration::from_secs(60));
        assert_eq!(c.groups_claim, "cognito:groups");
    }

    #[test]
    fn from_env_reads_the_optional_variables() {
        let c = VerifierConfig::from_lookup(lookup(&[
            ("AUTH_ISSUER", "http://127.0.0.1:4566/dev"),
            ("AUTH_AUDIENCE", "app"),
            ("AUTH_JWKS_URL", "http://127.0.0.1:4566/dev/keys"),
            ("AUTH_TOKEN_USE", "access"),
        ]))
        .unwrap();
        assert_eq!(c.issuer, "http://127.0.0.1:4566/dev");
        assert_eq!(c.jwks_url, "http://127.0.0.1:4566/dev/keys");
        assert_eq!(c.token_use.as_deref(), Some("access"));
    }

    #[test]
    fn from_env_requires_issuer_and_audience() {
        assert_eq!(
            VerifierConfig::from_lookup(lookup(&[("AUTH_AUDIENCE", "a")])),
            Err(ConfigError::Missing("AUTH_ISSUER"))
        );
        assert_eq!(
            VerifierConfig::from_lookup(lookup(&[("AUTH_ISSUER", "https://i"), ("AUTH_AUDIENCE", " ")])),
            Err(ConfigError::Missing("AUTH_AUDIENCE"))
        );
    }
}
