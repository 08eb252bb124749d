//! The issuer's published keys (JWKS, RFC 7517): where they come from and which of them are usable.

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::net::IpAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::signature::{ECDSA_P256_SHA256_FIXED, ParsedPublicKey, RSA_PKCS1_2048_8192_SHA256};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, DecodingKey};
use serde::Deserialize;
use serde_json::Value;

use crate::error::{ConfigError, JwksFetchError};

/// Where a [`crate::Verifier`] gets the issuer's key set (`{"keys": [...]}`) from.
#[async_trait]
pub trait JwksSource: Send + Sync {
    /// Fetches the current key set. Called on the first token and again (rate-limited) when a token
    /// names a key id the cached set does not have.
    async fn fetch(&self) -> Result<Value, JwksFetchError>;
}

/// Upper bound on a JWKS response body; Cognito's is about 1 KiB.
const MAX_JWKS_BYTES: usize = 256 * 1024;
/// A whole fetch, connection included, gives up after this long.
const FETCH_TIMEOUT: Duration = Duration::from_secs(5);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);

/// Fetches the JWKS over HTTP(S) with reqwest (rustls). `https` is required unless the host is a
/// loopback address or `localhost` (the local development issuer). No redirects are followed, a
/// fetch gives up after 5 s, and bodies over 256 KiB are refused.
#[derive(Debug, Clone)]
pub struct HttpJwksSource {
    client: reqwest::Client,
    url: reqwest::Url,
}

impl HttpJwksSource {
    /// Builds the source for `url`.
    pub fn new(url: &str) -> Result<HttpJwksSource, ConfigError> {
        let invalid = |reason: String| ConfigError::Invalid {
            name: "AUTH_JWKS_URL",
            reason,
        };
        let url = reqwest::Url::parse(url).map_err(|e| invalid(e.to_string()))?;
        let loopback = is_loopback(&url);
        match url.scheme() {
            "https" => {}
            "http" if loopback => {}
            other => {
                return Err(invalid(format!(
                    "scheme {other} is not allowed (https, or http on loopback only)"
                )));
            }
        }
        let mut builder = reqwest::Client::builder()
            .timeout(FETCH_TIMEOUT)
            .connect_timeout(CONNECT_TIMEOUT)
            .redirect(reqwest::redirect::Policy::none());
        if loopback {
            // A proxy from the environment must not swallow requests to this machine.
            builder = builder.no_proxy();
        }
        let client = builder.build().map_err(|e| invalid(format!("HTTP client: {e}")))?;
        Ok(HttpJwksSource { client, url })
    }

    /// The URL keys are fetched from.
    pub fn url(&self) -> &str {
        self.url.as_str()
    }
}

fn is_loopback(url: &reqwest::Url) -> bool {
    let Some(host) = url.host_str() else { return false };
    let host = host.trim_start_matches('[').trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost") || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

#[async_trait]
impl JwksSource for HttpJwksSource {
    async fn fetch(&self) -> Result<Value, JwksFetchError> {
        let fail = |what: &str, e: &dyn std::fmt::Display| JwksFetchError(format!("{what} {}: {e}", self.url));
        let mut response = self
            .client
            .get(self.url.clone())
            .header(reqwest::header::ACCEPT, "application/json")
            .send()
            .await
            .map_err(|e| fail("GET", &e))?;
        let status = response.status();
        if !status.is_success() {
            return Err(fail("GET", &format!("HTTP {status}")));
        }
        if response.content_length().is_some_and(|len| len > MAX_JWKS_BYTES as u64) {
            return Err(fail("GET", &"response too large"));
        }
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(|e| fail("reading", &e))? {
            if body.len() + chunk.len() > MAX_JWKS_BYTES {
                return Err(fail("GET", &"response too large"));
            }
            body.extend_from_slice(&chunk);
        }
        serde_json::from_slice(&body).map_err(|e| fail("parsing", &e))
    }
}

/// A key set held in memory: for tests, and for a process that is its own issuer. Counts fetches,
/// and can be made unavailable to play an issuer that is down (`Default` is such an unavailable source).
#[derive(Debug, Default)]
pub struct InMemoryJwksSource {
    jwks: Mutex<Option<Value>>,
    fetches: AtomicUsize,
}

impl InMemoryJwksSource {
    /// A source publishing `jwks`.
    pub fn new(jwks: Value) -> InMemoryJwksSource {
        InMemoryJwksSource {
            jwks: Mutex::new(Some(jwks)),
            fetches: AtomicUsize::new(0),
        }
    }

    /// Publishes `jwks` from now on.
    pub fn set(&self, jwks: Value) {
        *self.jwks.lock().unwrap_or_else(|e| e.into_inner()) = Some(jwks);
    }

    /// Makes every fetch fail from now on, until [`InMemoryJwksSource::set`].
    pub fn set_unavailable(&self) {
        *self.jwks.lock().unwrap_or_else(|e| e.into_inner()) = None;
    }

    /// How many fetches were asked for, failed ones included.
    pub fn fetch_count(&self) -> usize {
        self.fetches.load(Ordering::SeqCst)
    }
}

#[async_trait]
impl JwksSource for InMemoryJwksSource {
    async fn fetch(&self) -> Result<Value, JwksFetchError> {
        self.fetches.fetch_add(1, Ordering::SeqCst);
        let jwks = self.jwks.lock().unwrap_or_else(|e| e.into_inner()).clone();
        jwks.ok_or_else(|| JwksFetchError("the in-memory issuer is unavailable".to_owned()))
    }
}

#[async_trait]
impl<S: JwksSource + ?Sized> JwksSource for Arc<S> {
    async fn fetch(&self) -> Result<Value, JwksFetchError> {
        (**self).fetch().await
    }
}

/// One usable key: its algorithm (from its type and curve, and its `alg` when present) and the
/// verification key built from its public components only.
pub(crate) struct VerifyingKey {
    pub(crate) alg: Algorithm,
    pub(crate) key: DecodingKey,
}

/// The usable keys of one fetched key set, by key id.
#[derive(Default)]
pub(crate) struct KeySet {
    keys: HashMap<String, Arc<VerifyingKey>>,
}

impl KeySet {
    pub(crate) fn get(&self, kid: &str) -> Option<Arc<VerifyingKey>> {
        self.keys.get(kid).cloned()
    }

    pub(crate) fn len(&self) -> usize {
        self.keys.len()
    }

    /// The usable keys of a `{"keys": [...]}` document. Keys that cannot be used for RS256 or ES256
    /// signatures (other types, curves or algorithms, `use` other than `sig`, `key_ops` without
    /// `verify`, no `kid`, bad components, RSA under 2048 bits) are skipped; a repeated `kid` keeps
    /// its first key.
    pub(crate) fn parse(jwks: &Value) -> Result<KeySet, &'static str> {
        let keys = jwks.get("keys").and_then(Value::as_array).ok_or("no keys array")?;
        let mut set = KeySet::default();
        for jwk in keys {
            match usable_key(jwk) {
                Ok((kid, key)) => match set.keys.entry(kid) {
                    Entry::Vacant(slot) => {
                        slot.insert(Arc::new(key));
                    }
                    Entry::Occupied(slot) => {
                        tracing::warn!(kid = slot.key(), "JWKS repeats a key id; keeping the first key");
                    }
                },
                Err(reason) => {
                    let kid = jwk.get("kid").and_then(Value::as_str).unwrap_or("");
                    tracing::debug!(kid, reason, "skipping JWKS key");
                }
            }
        }
        Ok(set)
    }
}

#[derive(Deserialize)]
struct Jwk {
    kty: String,
    kid: Option<String>,
    alg: Option<String>,
    #[serde(rename = "use")]
    use_: Option<String>,
    key_ops: Option<Vec<String>>,
    crv: Option<String>,
    n: Option<String>,
    e: Option<String>,
    x: Option<String>,
    y: Option<String>,
}

fn usable_key(jwk: &Value) -> Result<(String, VerifyingKey), &'static str> {
    let jwk = Jwk::deserialize(jwk).map_err(|_| "not a JWK")?;
    let kid = jwk.kid.filter(|k| !k.is_empty()).ok_or("no kid")?;
    if jwk.use_.as_deref().is_some_and(|u| u != "sig") {
        return Err("not a signature key");
    }
    if jwk
        .key_ops
        .as_ref()
        .is_some_and(|ops| !ops.iter().any(|op| op == "verify"))
    {
        return Err("key_ops without verify");
    }
    let b64 = |s: Option<String>| {
        s.and_then(|s| URL_SAFE_NO_PAD.decode(s).ok())
            .ok_or("missing or bad component")
    };
    let (alg, key) = match jwk.kty.as_str() {
        "RSA" => {
            let n = b64(jwk.n)?;
            let e = b64(jwk.e)?;
            // Public components only; the checks (2048 to 8192 bits, a sane exponent) are aws-lc's.
            let der = aws_lc_rs::rsa::PublicKeyComponents {
                n: n.as_slice(),
                e: e.as_slice(),
            }
            .as_der()
            .map_err(|_| "bad RSA key")?;
            ParsedPublicKey::new(&RSA_PKCS1_2048_8192_SHA256, der.as_ref()).map_err(|_| "unacceptable RSA key")?;
            (Algorithm::RS256, DecodingKey::from_rsa_raw_components(&n, &e))
        }
        "EC" => {
            if jwk.crv.as_deref() != Some("P-256") {
                return Err("EC curve is not P-256");
            }
            let x = b64(jwk.x)?;
            let y = b64(jwk.y)?;
            if x.len() != 32 || y.len() != 32 {
                return Err("bad P-256 coordinates");
            }
            let point = [&[0x04][..], &x, &y].concat();
            ParsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, &point).map_err(|_| "point is not on P-256")?;
            let x = URL_SAFE_NO_PAD.encode(&x);
            let y = URL_SAFE_NO_PAD.encode(&y);
            (
                Algorithm::ES256,
                DecodingKey::from_ec_components(&x, &y).map_err(|_| "bad EC key")?,
            )
        }
        _ => return Err("key type is not RSA or EC"),
    };
    let declared_ok = match jwk.alg.as_deref() {
        None => true,
        Some("RS256") => alg == Algorithm::RS256,
        Some("ES256") => alg == Algorithm::ES256,
        Some(_) => false,
    };
    if !declared_ok {
        return Err("alg is not RS256/ES256 or does not fit the key type");
    }
    Ok((kid, VerifyingKey { alg, key }))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn ec_jwk() -> Value {
        crate::dev_issuer::DevIssuer::generate("http://127.0.0.1:1/dev").jwks()["keys"][0].clone()
    }

    #[test]
    fn a_p256_key_is_usable_for_es256() {
        let set = KeySet::parse(&json!({ "keys": [ec_jwk()] })).unwrap();
        assert_eq!(set.len(), 1);
    }

    #[test]
    fn keys_that_are_not_for_es256_or_rs256_signatures_are_skipped() {
        let mut variants = Vec::new();
        for (i, (field, value)) in [
            ("use", json!("enc")),
            ("key_ops", json!(["encrypt"])),
            ("alg", json!("RS256")),
            ("alg", json!("ES384")),
            ("crv", json!("P-384")),
            ("kty", json!("oct")),
            ("kid", json!("")),
            ("x", json!("AAAA")),
            ("y", json!("!!")),
        ]
        .into_iter()
        .enumerate()
        {
            let mut jwk = ec_jwk();
            jwk["kid"] = json!(format!("k{i}"));
            jwk[field] = value;
            variants.push(jwk);
        }
        let mut off_curve = ec_jwk();
        off_curve["kid"] = json!("off-curve");
        off_curve["y"] = json!(URL_SAFE_NO_PAD.encode([1u8; 32]));
        variants.push(off_curve);
        let set = KeySet::parse(&json!({ "keys": variants })).unwrap();
        assert_eq!(set.len(), 0);
    }

    #[test]
    fn a_document_without_keys_is_refused() {
        assert!(KeySet::parse(&json!({"nokeys": []})).is_err());
        assert!(KeySet::parse(&json!([1, 2])).is_err());
    }

    #[test]
    fn plain_http_is_only_for_loopback() {
        assert!(HttpJwksSource::new("http://127.0.0.1:9/jwks").is_ok());
        assert!(HttpJwksSource::new("http://localhost:9/jwks").is_ok());
        assert!(HttpJwksSource::new("http://[::1]:9/jwks").is_ok());
        assert!(HttpJwksSource::new("https://cognito-idp.eu-west-1.amazonaws.com/p/.well-known/jwks.json").is_ok());
        assert!(HttpJwksSource::new("http://example.com/jwks").is_err());
        assert!(HttpJwksSource::new("ftp://127.0.0.1/jwks").is_err());
        assert!(HttpJwksSource::new("not a url").is_err());
    }
}
