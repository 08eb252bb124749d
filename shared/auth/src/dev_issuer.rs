//! LOCAL DEVELOPMENT ONLY: a token issuer standing in for an Amazon Cognito user pool.
//!
//! The local stand-in uses it to sign access tokens for seeded demo users and to publish the matching
//! keys, so the app API can be exercised on a laptop with the very verifier that checks Cognito's
//! tokens in AWS. It has no users, passwords or consent of its own: whoever can call [`DevIssuer::mint`]
//! can become anyone. Never deploy it, never point a production verifier at it.
//!
//! Keys are ES256 (P-256), generated in memory at start with aws-lc-rs (the crypto jsonwebtoken runs
//! on here) and never written anywhere: a restart invalidates every token it issued.

use std::collections::BTreeSet;
use std::sync::{Arc, RwLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use async_trait::async_trait;
use aws_lc_rs::digest::{SHA256, digest};
use aws_lc_rs::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Map, Value, json};

use crate::config::{DEFAULT_GROUPS_CLAIM, VerifierConfig, default_jwks_url};
use crate::error::JwksFetchError;
use crate::jwks::JwksSource;
use crate::principal::Role;

/// LOCAL DEVELOPMENT ONLY: signs Cognito-shaped access tokens with an in-memory ES256 key. See the
/// [module documentation](self).
///
/// Clones share the keys: a clone that [`DevIssuer::rotate`]s rotates for all.
#[derive(Clone)]
pub struct DevIssuer {
    issuer: String,
    keys: Arc<RwLock<DevKeys>>,
}

struct DevKeys {
    current: DevKey,
    previous: Option<DevKey>,
}

struct DevKey {
    kid: String,
    encoding: EncodingKey,
    jwk: Value,
}

impl std::fmt::Debug for DevIssuer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DevIssuer")
            .field("issuer", &self.issuer)
            .field("current_kid", &self.current_kid())
            .finish_non_exhaustive()
    }
}

impl DevIssuer {
    /// A new issuer named `issuer_url` (the `iss` of its tokens; its keys are served, by whoever
    /// serves them, at `<issuer_url>/.well-known/jwks.json`) with a freshly generated key.
    ///
    /// # Panics
    /// If the system's random number generator fails.
    pub fn generate(issuer_url: impl Into<String>) -> DevIssuer {
        let keys = DevKeys {
            current: DevKey::generate(),
            previous: None,
        };
        DevIssuer {
            issuer: issuer_url.into(),
            keys: Arc::new(RwLock::new(keys)),
        }
    }

    /// The issuer URL, the `iss` of every token.
    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// `<issuer>/.well-known/jwks.json`.
    pub fn jwks_url(&self) -> String {
        default_jwks_url(&self.issuer)
    }

    /// The key id new tokens are signed with.
    pub fn current_kid(&self) -> String {
        self.read().current.kid.clone()
    }

    /// The published keys: the current one and, after a [`DevIssuer::rotate`], the previous one.
    pub fn jwks(&self) -> Value {
        let keys = self.read();
        let published: Vec<Value> = std::iter::once(&keys.current)
            .chain(&keys.previous)
            .map(|k| k.jwk.clone())
            .collect();
        json!({ "keys": published })
    }

    /// An OpenID Connect discovery document (`/.well-known/openid-configuration`) for this issuer.
    pub fn openid_configuration(&self) -> Value {
        let issuer = self.issuer.trim_end_matches('/');
        json!({
            "issuer": self.issuer,
            "jwks_uri": self.jwks_url(),
            "token_endpoint": format!("{issuer}/oauth2/token"),
            "authorization_endpoint": format!("{issuer}/oauth2/authorize"),
            "end_session_endpoint": format!("{issuer}/logout"),
            "response_types_supported": ["code"],
            "grant_types_supported": ["authorization_code", "refresh_token", "password"],
            "code_challenge_methods_supported": ["S256"],
            "id_token_signing_alg_values_supported": ["ES256"],
            "subject_types_supported": ["public"],
        })
    }

    /// Makes a new key current. The previous current key stays published (so its tokens keep
    /// verifying); the one before it is dropped.
    pub fn rotate(&self) {
        let fresh = DevKey::generate();
        let mut keys = self.keys.write().unwrap_or_else(|e| e.into_inner());
        let old = std::mem::replace(&mut keys.current, fresh);
        keys.previous = Some(old);
    }

    /// A signed access token shaped like Cognito's: `iss`, `sub`, `username`, `iat`, `nbf` (now),
    /// `exp` (now + `lifetime`), `jti`, `token_use: "access"`, `client_id: audience`, `cognito:groups`
    /// (the roles' group names; absent when there are none, as in Cognito) and `email` when given.
    /// No organisation: who operates for which organisation is data the API reads, not a claim.
    /// The header has `alg: ES256`, `typ: JWT` and the current `kid`.
    ///
    /// # Panics
    /// If signing fails, which only a broken system random number generator can cause.
    pub fn mint(
        &self,
        subject: &str,
        roles: &[Role],
        email: Option<&str>,
        audience: &str,
        lifetime: Duration,
    ) -> String {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or_default();
        let mut claims = Map::new();
        claims.insert("iss".into(), json!(self.issuer));
        claims.insert("sub".into(), json!(subject));
        claims.insert("username".into(), json!(subject));
        claims.insert("iat".into(), json!(now));
        claims.insert("nbf".into(), json!(now));
        claims.insert("exp".into(), json!(now.saturating_add(lifetime.as_secs())));
        claims.insert("jti".into(), json!(random_id()));
        claims.insert("token_use".into(), json!("access"));
        claims.insert("client_id".into(), json!(audience));
        let groups: BTreeSet<&str> = roles.iter().map(|r| r.group()).collect();
        if !groups.is_empty() {
            claims.insert(DEFAULT_GROUPS_CLAIM.into(), json!(groups));
        }
        if let Some(email) = email {
            claims.insert("email".into(), json!(email));
        }
        self.sign(&Value::Object(claims))
    }

    /// Signs arbitrary `claims` with the current key (for tests that need claims [`DevIssuer::mint`]
    /// does not make: expired, other issuers, ID tokens, ...).
    ///
    /// # Panics
    /// If signing fails, which only a broken system random number generator can cause.
    pub fn sign(&self, claims: &Value) -> String {
        let keys = self.read();
        let mut header = Header::new(Algorithm::ES256);
        header.typ = Some("JWT".into());
        header.kid = Some(keys.current.kid.clone());
        jsonwebtoken::encode(&header, claims, &keys.current.encoding).expect("ES256 signing with a generated key")
    }

    /// A verifier configuration for this issuer's access tokens for `audience` (`token_use` must be
    /// `access`); the other settings are the defaults.
    pub fn verifier_config(&self, audience: impl Into<String>) -> VerifierConfig {
        let mut config = VerifierConfig::new(self.issuer.clone(), audience);
        config.token_use = Some("access".into());
        config
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, DevKeys> {
        self.keys.read().unwrap_or_else(|e| e.into_inner())
    }
}

/// The issuer is its own key source: a process that issues and verifies needs no HTTP round trip.
#[async_trait]
impl JwksSource for DevIssuer {
    async fn fetch(&self) -> Result<Value, JwksFetchError> {
        Ok(self.jwks())
    }
}

impl DevKey {
    fn generate() -> DevKey {
        let pair = EcdsaKeyPair::generate(&ECDSA_P256_SHA256_FIXED_SIGNING).expect("P-256 key generation");
        let pkcs8 = pair.to_pkcs8v1().expect("PKCS#8 export of a generated key");
        // Uncompressed SEC1 point: 0x04 || x || y, 32 bytes each.
        let point = pair.public_key().as_ref();
        let x = URL_SAFE_NO_PAD.encode(&point[1..33]);
        let y = URL_SAFE_NO_PAD.encode(&point[33..65]);
        // RFC 7638 thumbprint as the key id: stable for the key, unique across keys.
        let canonical = format!(r#"{{"crv":"P-256","kty":"EC","x":"{x}","y":"{y}"}}"#);
        let kid = URL_SAFE_NO_PAD.encode(digest(&SHA256, canonical.as_bytes()));
        let jwk = json!({ "kty": "EC", "crv": "P-256", "x": x, "y": y, "kid": kid, "use": "sig", "alg": "ES256" });
        DevKey {
            kid,
            encoding: EncodingKey::from_ec_der(pkcs8.as_ref()),
            jwk,
        }
    }
}

fn random_id() -> String {
    let mut bytes = [0u8; 16];
    aws_lc_rs::rand::fill(&mut bytes).expect("system random number generator");
    URL_SAFE_NO_PAD.encode(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn openid_configuration_points_at_the_issuers_keys() {
        let issuer = DevIssuer::generate("http://127.0.0.1:4000/dev-issuer");
        let doc = issuer.openid_configuration();
        assert_eq!(doc["issuer"], "http://127.0.0.1:4000/dev-issuer");
        assert_eq!(
            doc["jwks_uri"],
            "http://127.0.0.1:4000/dev-issuer/.well-known/jwks.json"
        );
        assert_eq!(doc["token_endpoint"], "http://127.0.0.1:4000/dev-issuer/oauth2/token");
        assert_eq!(
            doc["authorization_endpoint"],
            "http://127.0.0.1:4000/dev-issuer/oauth2/authorize"
        );
        assert_eq!(doc["code_challenge_methods_supported"], json!(["S256"]));
        assert_eq!(doc["id_token_signing_alg_values_supported"], json!(["ES256"]));
    }

    #[test]
    fn jwks_publishes_public_components_only() {
        let issuer = DevIssuer::generate("http://127.0.0.1:4000/dev");
        let jwks = issuer.jwks();
        let keys = jwks["keys"].as_array().unwrap();
        assert_eq!(keys.len(), 1);
        let key = keys[0].as_object().unwrap();
        let mut fields: Vec<&str> = key.keys().map(String::as_str).collect();
        fields.sort_unstable();
        assert_eq!(fields, ["alg", "crv", "kid", "kty", "use", "x", "y"]);
        assert_eq!(key["kid"], json!(issuer.current_kid()));
    }

    #[test]
    fn rotate_keeps_publishing_the_previous_key_only() {
        let issuer = DevIssuer::generate("http://127.0.0.1:4000/dev");
        let first = issuer.current_kid();
        issuer.rotate();
        let second = issuer.current_kid();
        assert_ne!(first, second);
        let kids = |i: &DevIssuer| -> Vec<String> {
            i.jwks()["keys"]
                .as_array()
                .unwrap()
                .iter()
                .map(|k| k["kid"].as_str().unwrap().to_owned())
                .collect()
        };
        assert_eq!(kids(&issuer), [second.clone(), first]);
        issuer.rotate();
        assert_eq!(kids(&issuer), [issuer.current_kid(), second]);
    }

    #[test]
    fn minted_claims_are_cognito_shaped() {
        let issuer = DevIssuer::generate("http://127.0.0.1:4000/dev");
        let token = issuer.mint(
            "user-1",
            &[Role::Operator, Role::Driver],
            Some("a@example.org"),
            "app",
            Duration::from_secs(300),
        );
        let payload = token.split('.').nth(1).unwrap();
        let claims: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap();
        assert_eq!(claims["iss"], "http://127.0.0.1:4000/dev");
        assert_eq!(claims["sub"], "user-1");
        assert_eq!(claims["token_use"], "access");
        assert_eq!(claims["client_id"], "app");
        assert_eq!(claims["cognito:groups"], json!(["drivers", "operators"]));
        assert_eq!(claims["email"], "a@example.org");
        assert_eq!(claims["exp"].as_u64().unwrap() - claims["iat"].as_u64().unwrap(), 300);
        assert_eq!(claims["nbf"], claims["iat"]);
        assert!(claims.get("aud").is_none());
        let no_roles = issuer.mint("user-2", &[], None, "app", Duration::from_secs(60));
        let payload = no_roles.split('.').nth(1).unwrap();
        let claims: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap();
        assert!(claims.get("cognito:groups").is_none() && claims.get("custom:org").is_none());
    }
}
