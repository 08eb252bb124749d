//! The verifier against good tokens and every way a token can be bad.

mod common;

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use common::*;
use csms_auth::{AuthError, DevIssuer, InMemoryJwksSource, Role, Verifier};
use serde_json::json;

// ---- accepted ----

#[tokio::test]
async fn valid_rs256_is_accepted() {
    let key = TestKey::rsa("rsa-1");
    let (verifier, _) = verifier(&[&key]);
    let principal = verifier.verify(&key.token(&good_claims())).await.unwrap();
    assert_eq!(principal.subject, "3f6c1a2e-0000-4000-8000-000000000001");
    assert_eq!(principal.roles, BTreeSet::from([Role::Driver]));
}

#[tokio::test]
async fn valid_es256_is_accepted() {
    let key = TestKey::ec("ec-1");
    let (verifier, _) = verifier(&[&key]);
    let principal = verifier.verify(&key.token(&good_claims())).await.unwrap();
    assert_eq!(principal.subject, "3f6c1a2e-0000-4000-8000-000000000001");
}

#[tokio::test]
async fn dev_issuer_tokens_are_accepted_with_roles_and_email() {
    let issuer = DevIssuer::generate("http://127.0.0.1:4010/dev-issuer");
    let verifier = Verifier::new(issuer.verifier_config("app"), Arc::new(issuer.clone()));
    let token = issuer.mint(
        "op-1",
        &[Role::Operator, Role::Admin],
        Some("op@example.org"),
        "app",
        Duration::from_secs(600),
    );
    let (principal, claims) = verifier.verify_with_claims(&token).await.unwrap();
    assert_eq!(principal.subject, "op-1");
    assert_eq!(principal.roles, BTreeSet::from([Role::Operator, Role::Admin]));
    assert_eq!(principal.email.as_deref(), Some("op@example.org"));
    assert_eq!(claims["client_id"], "app");
    // Another audience's token from the same issuer is not accepted.
    let other = issuer.mint("op-1", &[], None, "other-app", Duration::from_secs(600));
    assert_eq!(refused(&verifier, &other).await, AuthError::WrongAudience);
}

#[tokio::test]
async fn no_role_still_gives_a_principal_and_unknown_groups_are_ignored() {
    let key = TestKey::ec("ec-1");
    let (verifier, _) = verifier(&[&key]);
    let none = verifier
        .verify(&key.token(&claims_with(json!({"cognito:groups": null}))))
        .await
        .unwrap();
    assert!(none.roles.is_empty());
    assert_eq!(none.email, None);
    let unknown = claims_with(json!({"cognito:groups": ["superusers", "admins", "ADMINS"]}));
    let principal = verifier.verify(&key.token(&unknown)).await.unwrap();
    assert_eq!(principal.roles, BTreeSet::from([Role::Admin]));
}

#[tokio::test]
async fn the_groups_claim_name_is_configurable() {
    let key = TestKey::ec("ec-1");
    let mut config = config();
    config.groups_claim = "roles".into();
    let (verifier, _) = verifier_with(config, &[&key]);
    let claims = claims_with(json!({"roles": ["operators"], "org": "acme", "custom:org": "ignored"}));
    let principal = verifier.verify(&key.token(&claims)).await.unwrap();
    assert_eq!(principal.roles, BTreeSet::from([Role::Operator]));
}

// ---- time ----

#[tokio::test]
async fn expired_is_refused() {
    let key = TestKey::rsa("rsa-1");
    let (verifier, _) = verifier(&[&key]);
    let token = key.token(&claims_with(
        json!({"iat": now() - 7200, "nbf": now() - 7200, "exp": now() - 3600}),
    ));
    assert_eq!(refused(&verifier, &token).await, AuthError::Expired);
}

#[tokio::test]
async fn not_yet_valid_is_refused() {
    let key = TestKey::ec("ec-1");
    let (verifier, _) = verifier(&[&key]);
    let token = key.token(&claims_with(json!({"nbf": now() + 3600, "exp": now() + 7200})));
    assert_eq!(refused(&verifier, &token).await, AuthError::NotYetValid);
}

#[tokio::test]
async fn nbf_just_inside_leeway_is_accepted() {
    let key = TestKey::ec("ec-1");
    let (verifier, _) = verifier(&[&key]);
    let token = key.token(&claims_with(json!({"nbf": now() + 50})));
    verifier.verify(&token).await.unwrap();
}

#[tokio::test]
async fn exp_just_inside_leeway_is_accepted() {
    // Default leeway 60 s: expired 50 s ago is still within it.
    let key = TestKey::rsa("rsa-1");
    let (verifier, _) = verifier(&[&key]);
    assert_eq!(verifier.config().leeway_seconds, 60);
    let token = key.token(&claims_with(json!({"nbf": now() - 600, "exp": now() - 50})));
    verifier.verify(&token).await.unwrap();
}

#[tokio::test]
async fn exp_just_outside_leeway_is_refused() {
    let key = TestKey::rsa("rsa-1");
    let (verifier, _) = verifier(&[&key]);
    let token = key.token(&claims_with(json!({"nbf": now() - 600, "exp": now() - 70})));
    assert_eq!(refused(&verifier, &token).await, AuthError::Expired);
}

#[tokio::test]
async fn leeway_is_configurable() {
    let key = TestKey::ec("ec-1");
    let mut config = config();
    config.leeway_seconds = 0;
    let (verifier, _) = verifier_with(config, &[&key]);
    let token = key.token(&claims_with(json!({"nbf": now() - 600, "exp": now() - 10})));
    assert_eq!(refused(&verifier, &token).await, AuthError::Expired);
}

#[tokio::test]
async fn missing_exp_iss_or_sub_is_refused() {
    let key = TestKey::ec("ec-1");
    let (verifier, _) = verifier(&[&key]);
    for (claim, expected) in [
        ("exp", AuthError::MissingClaim("exp")),
        ("iss", AuthError::MissingClaim("iss")),
        ("sub", AuthError::MissingClaim("sub")),
    ] {
        let token = key.token(&claims_with(json!({ claim: null })));
        assert_eq!(refused(&verifier, &token).await, expected, "{claim}");
    }
    let token = key.token(&claims_with(json!({"sub": ""})));
    assert_eq!(refused(&verifier, &token).await, AuthError::MissingClaim("sub"));
    let token = key.token(&claims_with(json!({"exp": "tomorrow"})));
    assert!(matches!(
        refused(&verifier, &token).await,
        AuthError::MissingClaim("exp") | AuthError::Malformed(_)
    ));
}

// ---- issuer, audience, token_use ----

#[tokio::test]
async fn wrong_issuer_is_refused() {
    let key = TestKey::rsa("rsa-1");
    let (verifier, _) = verifier(&[&key]);
    for iss in [
        json!("https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_OtherPool"),
        json!(format!("{ISSUER}/")),
        json!(ISSUER.to_uppercase()),
        json!([ISSUER, "https://evil.example"]),
        json!([ISSUER]),
    ] {
        let token = key.token(&claims_with(json!({ "iss": iss })));
        assert_eq!(refused(&verifier, &token).await, AuthError::WrongIssuer, "{iss}");
    }
}

#[tokio::test]
async fn wrong_audience_is_refused() {
    let key = TestKey::rsa("rsa-1");
    let (verifier, _) = verifier(&[&key]);
    for changes in [
        json!({"client_id": "other-client"}),
        json!({"client_id": null}),
        json!({"client_id": null, "aud": "other-client"}),
        json!({"client_id": null, "aud": ["a", "b"]}),
        json!({"client_id": null, "aud": [AUDIENCE.to_uppercase()]}),
        json!({"client_id": ["test-app-client"]}),
    ] {
        let token = key.token(&claims_with(changes.clone()));
        assert_eq!(refused(&verifier, &token).await, AuthError::WrongAudience, "{changes}");
    }
}

#[tokio::test]
async fn audience_via_client_id_is_accepted() {
    // Cognito access tokens: no `aud`, the app client in `client_id`.
    let key = TestKey::ec("ec-1");
    let (verifier, _) = verifier(&[&key]);
    let claims = good_claims();
    assert!(claims.get("aud").is_none());
    verifier.verify(&key.token(&claims)).await.unwrap();
}

#[tokio::test]
async fn audience_via_aud_string_or_array_is_accepted() {
    let key = TestKey::ec("ec-1");
    let (verifier, _) = verifier(&[&key]);
    for aud in [json!(AUDIENCE), json!(["someone-else", AUDIENCE])] {
        let token = key.token(&claims_with(json!({"client_id": null, "aud": aud})));
        verifier.verify(&token).await.unwrap();
    }
}

#[tokio::test]
async fn wrong_token_use_is_refused() {
    let key = TestKey::ec("ec-1");
    let (verifier, _) = verifier(&[&key]);
    for token_use in [json!("id"), json!("Access"), json!(null), json!(["access"])] {
        let token = key.token(&claims_with(json!({"token_use": token_use, "aud": AUDIENCE})));
        assert_eq!(
            refused(&verifier, &token).await,
            AuthError::WrongTokenUse,
            "{token_use}"
        );
    }
}

#[tokio::test]
async fn token_use_is_not_checked_when_not_configured() {
    let key = TestKey::ec("ec-1");
    let mut config = config();
    config.token_use = None;
    let (verifier, _) = verifier_with(config, &[&key]);
    let token = key.token(&claims_with(json!({"token_use": "id", "aud": AUDIENCE})));
    verifier.verify(&token).await.unwrap();
}

// ---- algorithms and keys ----

#[tokio::test]
async fn alg_none_is_refused() {
    let key = TestKey::rsa("rsa-1");
    let (verifier, source) = verifier(&[&key]);
    let payload = b64(good_claims().to_string());
    for alg in ["none", "None", "NONE", "nOnE"] {
        let header = b64(json!({"alg": alg, "typ": "JWT", "kid": "rsa-1"}).to_string());
        for token in [
            format!("{header}.{payload}."),
            format!("{header}.{payload}.{}", b64("x")),
        ] {
            assert_eq!(
                refused(&verifier, &token).await,
                AuthError::UnsupportedAlgorithm,
                "{alg}"
            );
        }
    }
    // Refused before any key was looked up.
    assert_eq!(source.fetch_count(), 0);
}

#[tokio::test]
async fn hs256_signed_with_the_rsa_public_key_pem_is_refused() {
    // The classic RS/HS confusion: a verifier that builds an HMAC key from "the key" it has would
    // accept this, since the RSA public key is public.
    let key = TestKey::rsa("rsa-1");
    let (verifier, source) = verifier(&[&key]);
    verifier.verify(&key.token(&good_claims())).await.unwrap();
    for alg in ["HS256", "HS384", "HS512"] {
        let header = json!({"alg": alg, "typ": "JWT", "kid": "rsa-1"});
        let token = hs256_token(&header, &good_claims(), &key.rsa_public_pem());
        assert_eq!(
            refused(&verifier, &token).await,
            AuthError::UnsupportedAlgorithm,
            "{alg}"
        );
    }
    assert_eq!(source.fetch_count(), 1);
}

#[tokio::test]
async fn hs256_signed_with_the_rsa_public_key_der_is_refused() {
    let key = TestKey::rsa("rsa-1");
    let (verifier, _) = verifier(&[&key]);
    let header = json!({"alg": "HS256", "typ": "JWT", "kid": "rsa-1"});
    let token = hs256_token(&header, &good_claims(), &key.rsa_public_der());
    assert_eq!(refused(&verifier, &token).await, AuthError::UnsupportedAlgorithm);
}

#[tokio::test]
async fn hs256_is_refused_even_when_the_jwks_publishes_a_symmetric_key() {
    let key = TestKey::rsa("rsa-1");
    let secret = b"a shared secret no issuer should publish";
    let source = Arc::new(InMemoryJwksSource::new(json!({"keys": [
        key.jwk(),
        {"kty": "oct", "kid": "sym", "alg": "HS256", "k": b64(secret)},
    ]})));
    let verifier = Verifier::new(config(), source);
    let header = json!({"alg": "HS256", "typ": "JWT", "kid": "sym"});
    let token = hs256_token(&header, &good_claims(), secret);
    assert_eq!(refused(&verifier, &token).await, AuthError::UnsupportedAlgorithm);
    // And claiming RS256 for the symmetric key's kid finds no usable key.
    let token = key.sign_with_header(&json!({"alg": "RS256", "kid": "sym"}), &good_claims());
    assert_eq!(refused(&verifier, &token).await, AuthError::UnknownKey);
}

#[tokio::test]
async fn es256_header_with_an_rsa_keys_kid_is_refused() {
    let rsa = TestKey::rsa("rsa-1");
    let ec = TestKey::ec("ec-1");
    let (verifier, _) = verifier(&[&rsa, &ec]);
    let token = ec.sign_with_header(&json!({"alg": "ES256", "kid": "rsa-1"}), &good_claims());
    assert_eq!(refused(&verifier, &token).await, AuthError::AlgorithmMismatch);
}

#[tokio::test]
async fn rs256_header_with_an_ec_keys_kid_is_refused() {
    let rsa = TestKey::rsa("rsa-1");
    let ec = TestKey::ec("ec-1");
    let (verifier, _) = verifier(&[&rsa, &ec]);
    let token = rsa.sign_with_header(&json!({"alg": "RS256", "kid": "ec-1"}), &good_claims());
    assert_eq!(refused(&verifier, &token).await, AuthError::AlgorithmMismatch);
}

#[tokio::test]
async fn a_token_alg_other_than_the_jwks_declared_alg_is_refused() {
    // The JWK says this RSA key is for PS256 only: an RS256 token with it is refused, though the
    // signature is mathematically fine.
    let key = TestKey::rsa("rsa-ps");
    let mut jwk = key.jwk();
    jwk["alg"] = json!("PS256");
    let source = Arc::new(InMemoryJwksSource::new(json!({ "keys": [jwk] })));
    let verifier = Verifier::new(config(), source);
    assert_eq!(
        refused(&verifier, &key.token(&good_claims())).await,
        AuthError::JwksUnavailable
    );
    // With a usable key beside it, the PS256 key is simply not a key for RS256.
    let other = TestKey::ec("ec-1");
    let mut jwk = key.jwk();
    jwk["alg"] = json!("PS256");
    let source = Arc::new(InMemoryJwksSource::new(json!({ "keys": [jwk, other.jwk()] })));
    let verifier = Verifier::new(config(), source);
    assert_eq!(
        refused(&verifier, &key.token(&good_claims())).await,
        AuthError::UnknownKey
    );
}

#[tokio::test]
async fn missing_kid_is_refused() {
    let key = TestKey::rsa("rsa-1");
    let (verifier, source) = verifier(&[&key]);
    for header in [
        json!({"alg": "RS256", "typ": "JWT"}),
        json!({"alg": "RS256", "kid": ""}),
        json!({"alg": "RS256", "kid": null}),
    ] {
        let token = key.sign_with_header(&header, &good_claims());
        assert_eq!(refused(&verifier, &token).await, AuthError::MissingKid, "{header}");
    }
    assert_eq!(source.fetch_count(), 0);
}

#[tokio::test]
async fn bad_signatures_are_refused() {
    let key = TestKey::ec("ec-1");
    let impostor = TestKey::ec("ec-1");
    let rsa = TestKey::rsa("rsa-1");
    let rsa_impostor = TestKey::rsa("rsa-1");
    let (verifier, _) = verifier(&[&key, &rsa]);

    // Same kid, another key.
    assert_eq!(
        refused(&verifier, &impostor.token(&good_claims())).await,
        AuthError::BadSignature
    );
    assert_eq!(
        refused(&verifier, &rsa_impostor.token(&good_claims())).await,
        AuthError::BadSignature
    );

    // Claims changed after signing (a role added).
    let token = key.token(&good_claims());
    let parts: Vec<&str> = token.split('.').collect();
    let forged = b64(claims_with(json!({"cognito:groups": ["admins"]})).to_string());
    let tampered = format!("{}.{forged}.{}", parts[0], parts[2]);
    assert_eq!(refused(&verifier, &tampered).await, AuthError::BadSignature);

    // Truncated, empty and DER-shaped signatures.
    for sig in [&parts[2][..40], "", "MEUCIQ"] {
        let token = format!("{}.{}.{sig}", parts[0], parts[1]);
        assert_eq!(refused(&verifier, &token).await, AuthError::BadSignature, "{sig}");
    }
}

// ---- malformed ----

#[tokio::test]
async fn malformed_tokens_are_refused() {
    let key = TestKey::ec("ec-1");
    let (verifier, source) = verifier(&[&key]);
    let good = key.token(&good_claims());
    let parts: Vec<&str> = good.split('.').collect();
    let cases = [
        ("empty", String::new()),
        ("garbage", "garbage that is no token at all".to_owned()),
        ("dots only", "..".to_owned()),
        ("two parts", format!("{}.{}", parts[0], parts[1])),
        ("four parts", format!("{good}.{}", parts[2])),
        ("bad base64 header", format!("{}!.{}.{}", parts[0], parts[1], parts[2])),
        ("bad base64 payload", format!("{}.{}*.{}", parts[0], parts[1], parts[2])),
        (
            "bad base64 signature",
            format!("{}.{}.{}=", parts[0], parts[1], parts[2]),
        ),
        (
            "padded base64 header",
            format!("{}==.{}.{}", parts[0], parts[1], parts[2]),
        ),
        (
            "header not JSON",
            format!("{}.{}.{}", b64("not json"), parts[1], parts[2]),
        ),
        (
            "header a JSON array",
            format!("{}.{}.{}", b64("[]"), parts[1], parts[2]),
        ),
        ("Bearer prefix", format!("Bearer {good}")),
        ("oversized", format!("{}.{}.{}", parts[0], "A".repeat(20_000), parts[2])),
    ];
    for (name, token) in cases {
        let error = refused(&verifier, &token).await;
        assert!(matches!(error, AuthError::Malformed(_)), "{name}: {error:?}");
    }
    assert_eq!(source.fetch_count(), 0, "no malformed token may cause a fetch");
    // Claims that are not a JSON object, validly signed.
    let header = b64(json!({"alg": "ES256", "kid": "ec-1"}).to_string());
    let input = format!("{header}.{}", b64("[1,2,3]"));
    let token = format!("{input}.{}", b64(key.signature(input.as_bytes())));
    assert!(matches!(refused(&verifier, &token).await, AuthError::Malformed(_)));
}

// ---- JWKS cache, refetch, rotation, outage ----

#[tokio::test]
async fn unknown_kid_refetches_once_then_is_refused() {
    let key = TestKey::rsa("rsa-1");
    let stranger = TestKey::rsa("not-published");
    let (verifier, source) = verifier(&[&key]);
    verifier.verify(&key.token(&good_claims())).await.unwrap();
    assert_eq!(source.fetch_count(), 1);
    assert_eq!(
        refused(&verifier, &stranger.token(&stale_claims())).await,
        AuthError::UnknownKey
    );
    assert_eq!(source.fetch_count(), 2, "one refetch for the unknown kid");
    assert_eq!(
        refused(&verifier, &stranger.token(&stale_claims())).await,
        AuthError::UnknownKey
    );
    assert_eq!(source.fetch_count(), 2, "no second refetch within the interval");
    // Known keys are served from the cache.
    verifier.verify(&key.token(&good_claims())).await.unwrap();
    assert_eq!(source.fetch_count(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn burst_of_100_unknown_kids_refetches_at_most_once() {
    let key = TestKey::ec("ec-1");
    let stranger = TestKey::ec("x");
    let (verifier, source) = verifier(&[&key]);
    let verifier = Arc::new(verifier);
    verifier.verify(&key.token(&good_claims())).await.unwrap();
    let before = source.fetch_count();
    let mut tasks = Vec::new();
    for i in 0..100 {
        let token = stranger.sign_with_header(&json!({"alg": "ES256", "kid": format!("random-{i}")}), &stale_claims());
        let verifier = verifier.clone();
        tasks.push(tokio::spawn(async move { verifier.verify(&token).await }));
    }
    for task in tasks {
        assert_eq!(task.await.unwrap(), Err(AuthError::UnknownKey));
    }
    assert_eq!(
        source.fetch_count() - before,
        1,
        "exactly one refetch for the whole burst"
    );
    // Good tokens keep working meanwhile.
    verifier.verify(&key.token(&good_claims())).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn burst_of_100_unknown_kids_on_a_cold_cache_fetches_at_most_twice() {
    // The first load plus at most one refetch.
    let key = TestKey::ec("ec-1");
    let (verifier, source) = verifier(&[&key]);
    let verifier = Arc::new(verifier);
    let mut tasks = Vec::new();
    for i in 0..100 {
        let token = key.sign_with_header(&json!({"alg": "ES256", "kid": format!("random-{i}")}), &stale_claims());
        let verifier = verifier.clone();
        tasks.push(tokio::spawn(async move { verifier.verify(&token).await }));
    }
    for task in tasks {
        assert_eq!(task.await.unwrap(), Err(AuthError::UnknownKey));
    }
    assert!(source.fetch_count() <= 2, "{} fetches", source.fetch_count());
}

#[tokio::test]
async fn refetch_is_allowed_again_after_the_interval() {
    let key = TestKey::ec("ec-1");
    let stranger = TestKey::ec("late");
    let (verifier, source, time) = verifier_on(short_interval(config()), &[&key]);
    verifier.verify(&key.token(&good_claims())).await.unwrap();
    assert_eq!(
        refused(&verifier, &stranger.token(&stale_claims())).await,
        AuthError::UnknownKey
    );
    assert_eq!(source.fetch_count(), 2);
    // The issuer publishes the key, but the interval has not passed yet, to the last nanosecond.
    source.set(jwks(&[&key, &stranger]));
    time.advance(Duration::from_secs(1) - Duration::from_nanos(1));
    assert_eq!(
        refused(&verifier, &stranger.token(&stale_claims())).await,
        AuthError::UnknownKey
    );
    assert_eq!(source.fetch_count(), 2);
    time.advance(Duration::from_nanos(1));
    verifier.verify(&stranger.token(&stale_claims())).await.unwrap();
    assert_eq!(source.fetch_count(), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn key_rotation_old_and_new_tokens_both_verify() {
    let issuer = DevIssuer::generate(ISSUER);
    let source = Arc::new(InMemoryJwksSource::new(issuer.jwks()));
    let verifier = Arc::new(Verifier::new(
        short_interval(issuer.verifier_config(AUDIENCE)),
        source.clone(),
    ));
    let mint = |issuer: &DevIssuer| issuer.mint("u", &[Role::Driver], None, AUDIENCE, Duration::from_secs(300));

    let old_tokens: Vec<String> = (0..20).map(|_| mint(&issuer)).collect();
    verifier.verify(&old_tokens[0]).await.unwrap();
    assert_eq!(source.fetch_count(), 1);

    // The issuer rotates: the new key signs, the old one stays published.
    issuer.rotate();
    source.set(issuer.jwks());
    let new_tokens: Vec<String> = (0..20).map(|_| mint(&issuer)).collect();
    let mut tasks = Vec::new();
    for token in old_tokens.iter().chain(&new_tokens) {
        let (verifier, token) = (verifier.clone(), token.clone());
        tasks.push(tokio::spawn(async move { verifier.verify(&token).await }));
    }
    for task in tasks {
        task.await
            .unwrap()
            .expect("no good token may be refused during a rotation");
    }
    assert_eq!(source.fetch_count(), 2, "one refetch picked up the new key");

    // A second rotation drops the first key: its tokens are refused, the others still verify.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    issuer.rotate();
    source.set(issuer.jwks());
    let newest = mint(&issuer);
    verifier.verify(&newest).await.unwrap();
    verifier.verify(&new_tokens[0]).await.unwrap();
    assert_eq!(refused(&verifier, &old_tokens[1]).await, AuthError::UnknownKey);
}

/// Claims of a token issued ten minutes ago, before any fetch in these tests: a refetch cannot help it.
fn stale_claims() -> serde_json::Value {
    claims_with(json!({"iat": now() - 600, "nbf": now() - 600}))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_kid_just_before_a_rotation_does_not_lock_new_key_tokens_out() {
    // The default 60 s interval: the attacker's token spends it on a key set without the new key.
    let issuer = DevIssuer::generate(ISSUER);
    let source = Arc::new(InMemoryJwksSource::new(issuer.jwks()));
    let verifier = Verifier::new(issuer.verifier_config(AUDIENCE), source.clone());
    let mint = |issuer: &DevIssuer| issuer.mint("u", &[Role::Driver], None, AUDIENCE, Duration::from_secs(300));
    let old = mint(&issuer);
    verifier.verify(&old).await.unwrap();
    let attacker = TestKey::ec("made-up");
    let forged = attacker.token(&claims_with(json!({"iss": issuer.issuer()})));
    assert_eq!(refused(&verifier, &forged).await, AuthError::UnknownKey);
    assert_eq!(source.fetch_count(), 2);

    issuer.rotate();
    source.set(issuer.jwks());
    let started = std::time::Instant::now();
    verifier
        .verify(&mint(&issuer))
        .await
        .expect("a new-key token right after the rotation");
    assert!(started.elapsed() < Duration::from_secs(3), "{:?}", started.elapsed());
    assert_eq!(source.fetch_count(), 3);
    verifier
        .verify(&old)
        .await
        .expect("old-key tokens while the old key is published");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forged_fresh_iats_buy_at_most_one_fetch_per_second() {
    let key = TestKey::ec("ec-1");
    let stranger = TestKey::ec("x");
    let (verifier, source) = verifier(&[&key]);
    let verifier = Arc::new(verifier);
    verifier.verify(&key.token(&good_claims())).await.unwrap();
    let before = source.fetch_count();
    let started = std::time::Instant::now();
    // Bursts of fresh-looking tokens for 2.5 s: each burst's callers share one fetch.
    while started.elapsed() < Duration::from_millis(2500) {
        let mut tasks = Vec::new();
        for i in 0..20 {
            let token = stranger.sign_with_header(&json!({"alg": "ES256", "kid": format!("r{i}")}), &good_claims());
            let verifier = verifier.clone();
            tasks.push(tokio::spawn(async move { verifier.verify(&token).await }));
        }
        for task in tasks {
            assert_eq!(task.await.unwrap(), Err(AuthError::UnknownKey));
        }
    }
    let fetches = source.fetch_count() - before;
    assert!((1..=5).contains(&fetches), "{fetches} fetches in 2.5 s");
}

#[tokio::test]
async fn a_token_from_the_future_or_without_iat_gets_no_extra_fetch() {
    let key = TestKey::ec("ec-1");
    let stranger = TestKey::ec("x");
    let (verifier, source) = verifier(&[&key]);
    verifier.verify(&key.token(&good_claims())).await.unwrap();
    assert_eq!(
        refused(&verifier, &stranger.token(&stale_claims())).await,
        AuthError::UnknownKey
    );
    assert_eq!(source.fetch_count(), 2);
    for claims in [
        claims_with(json!({"iat": now() + 3600})),
        claims_with(json!({"iat": null})),
    ] {
        assert_eq!(
            refused(&verifier, &stranger.token(&claims)).await,
            AuthError::UnknownKey
        );
    }
    assert_eq!(source.fetch_count(), 2, "no fetch within the interval for these");
}

#[tokio::test]
async fn jwks_down_gives_jwks_unavailable_and_cached_keys_still_work() {
    let key = TestKey::rsa("rsa-1");
    let stranger = TestKey::rsa("rsa-2");
    let (verifier, source) = verifier(&[&key]);
    verifier.verify(&key.token(&good_claims())).await.unwrap();

    source.set_unavailable();
    assert_eq!(
        refused(&verifier, &stranger.token(&good_claims())).await,
        AuthError::JwksUnavailable
    );
    assert_eq!(source.fetch_count(), 2);
    // Cached keys keep working while the issuer is down.
    verifier.verify(&key.token(&good_claims())).await.unwrap();
    // And the outage is not hammered: no new fetch within the interval.
    assert_eq!(
        refused(&verifier, &stranger.token(&good_claims())).await,
        AuthError::JwksUnavailable
    );
    assert_eq!(source.fetch_count(), 2);
}

#[tokio::test]
async fn jwks_down_on_a_cold_cache_gives_jwks_unavailable_without_hammering() {
    let key = TestKey::ec("ec-1");
    let (verifier, source, time) = verifier_on(short_interval(config()), &[&key]);
    source.set_unavailable();
    for _ in 0..5 {
        assert_eq!(
            refused(&verifier, &key.token(&good_claims())).await,
            AuthError::JwksUnavailable
        );
    }
    assert_eq!(source.fetch_count(), 1);
    assert_eq!(verifier.refresh_keys().await, Err(AuthError::JwksUnavailable));
    // The issuer comes back; after the interval tokens verify.
    source.set(jwks(&[&key]));
    time.advance(Duration::from_secs(1));
    verifier.verify(&key.token(&good_claims())).await.unwrap();
}

#[tokio::test]
async fn a_jwks_without_usable_keys_keeps_the_cached_keys() {
    let key = TestKey::ec("ec-1");
    let stranger = TestKey::ec("ec-2");
    let (verifier, source) = verifier(&[&key]);
    assert_eq!(verifier.refresh_keys().await, Ok(1));
    source.set(json!({"keys": [{"kty": "oct", "kid": "sym", "k": "c2VjcmV0"}]}));
    assert_eq!(
        refused(&verifier, &stranger.token(&good_claims())).await,
        AuthError::JwksUnavailable
    );
    verifier.verify(&key.token(&good_claims())).await.unwrap();
}

#[tokio::test]
async fn a_withdrawn_key_stops_verifying_once_the_key_set_is_old_and_an_outage_keeps_the_keys() {
    // Ages are measured on the verifier's monotonic clock, here one the test moves: exact to the
    // nanosecond, so no second boundary of the wall clock (nor a slow machine) changes the outcome.
    let (retired, kept) = (TestKey::ec("ec-retired"), TestKey::ec("ec-kept"));
    let max_age = Duration::from_secs(3600);
    let just_under = max_age - Duration::from_nanos(1);
    let mut config = config();
    config.max_key_set_age = max_age;
    let (verifier, source, time) = verifier_on(config, &[&retired, &kept]);
    let (old_token, kept_token) = (retired.token(&good_claims()), kept.token(&good_claims()));
    verifier.verify(&old_token).await.unwrap();
    assert_eq!(source.fetch_count(), 1);

    // The issuer withdraws a key: while the cached set is younger than the maximum age, even by a
    // nanosecond, nothing is fetched.
    source.set(jwks(&[&kept]));
    time.advance(just_under);
    verifier.verify(&old_token).await.unwrap();
    assert_eq!(source.fetch_count(), 1);
    // At the maximum age, the next verification fetches first.
    time.advance(Duration::from_nanos(1));
    assert_eq!(refused(&verifier, &old_token).await, AuthError::UnknownKey);
    verifier.verify(&kept_token).await.unwrap();
    assert_eq!(source.fetch_count(), 2);

    // An outage when the set is old again: the cached keys go on serving, and the failed fetch is
    // not retried on every request, but after another maximum age.
    source.set_unavailable();
    time.advance(max_age);
    verifier.verify(&kept_token).await.unwrap();
    verifier.verify(&kept_token).await.unwrap();
    assert_eq!(source.fetch_count(), 3);
    time.advance(just_under);
    verifier.verify(&kept_token).await.unwrap();
    assert_eq!(source.fetch_count(), 3);
    time.advance(Duration::from_nanos(1));
    verifier.verify(&kept_token).await.unwrap();
    assert_eq!(source.fetch_count(), 4);
}
