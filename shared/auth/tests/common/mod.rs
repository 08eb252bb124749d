//! Test keys and hand-built tokens. Every key here is generated at test time (aws-lc-rs) and lives only
//! in memory: test-only keys, never used for anything else. Tokens are assembled and signed by hand,
//! independently of jsonwebtoken, so the verifier is checked against a second implementation and can
//! be fed headers no JWT library would produce.

#![allow(dead_code)]

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::KeySize;
use aws_lc_rs::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair, RSA_PKCS1_SHA256, RsaKeyPair};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use csms_auth::{AuthError, Clock, InMemoryJwksSource, Verifier, VerifierConfig};
use serde_json::{Value, json};

pub const ISSUER: &str = "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_TestPool";
pub const AUDIENCE: &str = "test-app-client";

pub fn now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs()
}

pub fn b64(bytes: impl AsRef<[u8]>) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Claims of a good Cognito-style access token: no `aud`, `client_id` is the audience.
pub fn good_claims() -> Value {
    let now = now();
    json!({
        "iss": ISSUER,
        "sub": "3f6c1a2e-0000-4000-8000-000000000001",
        "client_id": AUDIENCE,
        "token_use": "access",
        "iat": now,
        "nbf": now,
        "exp": now + 300,
        "cognito:groups": ["drivers"],
    })
}

/// `good_claims()` with `changes` merged in; a `null` value removes the claim.
pub fn claims_with(changes: Value) -> Value {
    let mut claims = good_claims();
    for (k, v) in changes.as_object().unwrap() {
        if v.is_null() {
            claims.as_object_mut().unwrap().remove(k);
        } else {
            claims[k] = v.clone();
        }
    }
    claims
}

pub enum TestKey {
    Rsa { kid: String, pair: RsaKeyPair },
    Ec { kid: String, pair: EcdsaKeyPair },
}

impl TestKey {
    /// A 2048-bit RSA key generated now (test-only).
    pub fn rsa(kid: &str) -> TestKey {
        TestKey::Rsa {
            kid: kid.into(),
            pair: RsaKeyPair::generate(KeySize::Rsa2048).unwrap(),
        }
    }

    /// A P-256 key generated now (test-only).
    pub fn ec(kid: &str) -> TestKey {
        TestKey::Ec {
            kid: kid.into(),
            pair: EcdsaKeyPair::generate(&ECDSA_P256_SHA256_FIXED_SIGNING).unwrap(),
        }
    }

    pub fn kid(&self) -> &str {
        match self {
            TestKey::Rsa { kid, .. } | TestKey::Ec { kid, .. } => kid,
        }
    }

    pub fn alg(&self) -> &'static str {
        match self {
            TestKey::Rsa { .. } => "RS256",
            TestKey::Ec { .. } => "ES256",
        }
    }

    /// The public JWK, as Cognito publishes them (with `alg` and `use`).
    pub fn jwk(&self) -> Value {
        match self {
            TestKey::Rsa { kid, pair } => {
                let public = pair.public_key();
                json!({
                    "kty": "RSA", "kid": kid, "alg": "RS256", "use": "sig",
                    "n": b64(public.modulus().big_endian_without_leading_zero()),
                    "e": b64(public.exponent().big_endian_without_leading_zero()),
                })
            }
            TestKey::Ec { kid, pair } => {
                let point = pair.public_key().as_ref();
                json!({
                    "kty": "EC", "kid": kid, "alg": "ES256", "use": "sig", "crv": "P-256",
                    "x": b64(&point[1..33]), "y": b64(&point[33..65]),
                })
            }
        }
    }

    /// The RSA public key as X.509 SubjectPublicKeyInfo DER.
    pub fn rsa_public_der(&self) -> Vec<u8> {
        let TestKey::Rsa { pair, .. } = self else {
            panic!("not an RSA key")
        };
        pair.public_key().as_der().unwrap().as_ref().to_vec()
    }

    /// The RSA public key as PEM (`-----BEGIN PUBLIC KEY-----`), the way it is usually distributed.
    pub fn rsa_public_pem(&self) -> Vec<u8> {
        let body = STANDARD.encode(self.rsa_public_der());
        let lines: Vec<&str> = body
            .as_bytes()
            .chunks(64)
            .map(|c| std::str::from_utf8(c).unwrap())
            .collect();
        format!(
            "-----BEGIN PUBLIC KEY-----\n{}\n-----END PUBLIC KEY-----\n",
            lines.join("\n")
        )
        .into_bytes()
    }

    /// Signs `signing_input` with this key's own algorithm.
    pub fn signature(&self, signing_input: &[u8]) -> Vec<u8> {
        let rng = SystemRandom::new();
        match self {
            TestKey::Rsa { pair, .. } => {
                let mut sig = vec![0; pair.public_modulus_len()];
                pair.sign(&RSA_PKCS1_SHA256, &rng, signing_input, &mut sig).unwrap();
                sig
            }
            TestKey::Ec { pair, .. } => pair.sign(&rng, signing_input).unwrap().as_ref().to_vec(),
        }
    }

    /// A token with any `header`, signed with this key.
    pub fn sign_with_header(&self, header: &Value, claims: &Value) -> String {
        let input = format!("{}.{}", b64(header.to_string()), b64(claims.to_string()));
        let sig = self.signature(input.as_bytes());
        format!("{input}.{}", b64(sig))
    }

    /// A token with the usual header: this key's `alg`, `typ: JWT`, its `kid`.
    pub fn token(&self, claims: &Value) -> String {
        self.sign_with_header(&json!({"alg": self.alg(), "typ": "JWT", "kid": self.kid()}), claims)
    }
}

/// HMAC-SHA256 token with `secret` as the key (for the algorithm-confusion attack).
pub fn hs256_token(header: &Value, claims: &Value, secret: &[u8]) -> String {
    let input = format!("{}.{}", b64(header.to_string()), b64(claims.to_string()));
    let key = aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, secret);
    let tag = aws_lc_rs::hmac::sign(&key, input.as_bytes());
    format!("{input}.{}", b64(tag.as_ref()))
}

pub fn jwks(keys: &[&TestKey]) -> Value {
    json!({ "keys": keys.iter().map(|k| k.jwk()).collect::<Vec<_>>() })
}

/// Cognito-like configuration: issuer, audience, `token_use` must be `access`.
pub fn config() -> VerifierConfig {
    let mut config = VerifierConfig::new(ISSUER, AUDIENCE);
    config.token_use = Some("access".into());
    config
}

pub fn verifier_with(config: VerifierConfig, keys: &[&TestKey]) -> (Verifier, Arc<InMemoryJwksSource>) {
    let source = Arc::new(InMemoryJwksSource::new(jwks(keys)));
    (Verifier::new(config, source.clone()), source)
}

/// A monotonic clock that stands still until the test moves it: ages and intervals are then exact,
/// whatever the machine's load and wherever the wall clock's seconds turn.
pub struct TestClock {
    start: Instant,
    elapsed: Mutex<Duration>,
}

impl TestClock {
    pub fn new() -> Arc<TestClock> {
        Arc::new(TestClock {
            start: Instant::now(),
            elapsed: Mutex::new(Duration::ZERO),
        })
    }

    pub fn advance(&self, by: Duration) {
        *self.elapsed.lock().unwrap() += by;
    }

    pub fn clock(self: &Arc<Self>) -> Clock {
        let me = self.clone();
        Arc::new(move || me.start + *me.elapsed.lock().unwrap())
    }
}

/// [`verifier_with`] on a [`TestClock`].
pub fn verifier_on(config: VerifierConfig, keys: &[&TestKey]) -> (Verifier, Arc<InMemoryJwksSource>, Arc<TestClock>) {
    let source = Arc::new(InMemoryJwksSource::new(jwks(keys)));
    let time = TestClock::new();
    (Verifier::with_clock(config, source.clone(), time.clock()), source, time)
}

pub fn verifier(keys: &[&TestKey]) -> (Verifier, Arc<InMemoryJwksSource>) {
    verifier_with(config(), keys)
}

/// Verifies a token that must be refused, and checks the error does not echo any piece of it.
pub async fn refused(verifier: &Verifier, token: &str) -> AuthError {
    let error = verifier.verify(token).await.expect_err("the token must be refused");
    let message = error.to_string();
    for part in token.split('.').filter(|p| p.len() > 3) {
        assert!(!message.contains(part), "error message echoes the token: {message}");
    }
    error
}

/// A 1 s refetch interval, so tests can wait it out; long enough that a slow machine stays inside it.
pub fn short_interval(mut config: VerifierConfig) -> VerifierConfig {
    config.refetch_interval = Duration::from_secs(1);
    config
}
