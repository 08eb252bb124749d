//! The HTTP JWKS source against a tiny HTTP server on 127.0.0.1 (loopback only, port chosen by the OS).

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use axum::Router;
use axum::http::StatusCode;
use axum::routing::get;
use common::refused;
use csms_auth::{AuthError, DevIssuer, HttpJwksSource, JwksSource, Role, Verifier};

/// A listener on 127.0.0.1 with a port chosen by the OS, and its base URL.
async fn listen() -> (tokio::net::TcpListener, String) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    (listener, base)
}

/// Serves `router` on `listener` for as long as the test's runtime lives.
fn serve(listener: tokio::net::TcpListener, router: Router) {
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
}

#[tokio::test]
async fn http_jwks_source_fetches_keys_from_a_loopback_server() {
    let (listener, base) = listen().await;
    let issuer = DevIssuer::generate(format!("{base}/dev-issuer"));
    let hits = Arc::new(AtomicUsize::new(0));
    let router = {
        let issuer = issuer.clone();
        let hits = hits.clone();
        Router::new().route(
            "/dev-issuer/.well-known/jwks.json",
            get(move || {
                hits.fetch_add(1, Ordering::SeqCst);
                let jwks = issuer.jwks();
                async move { axum::Json(jwks) }
            }),
        )
    };
    serve(listener, router);

    let verifier = Verifier::from_config(issuer.verifier_config("app")).unwrap();
    assert_eq!(
        verifier.config().jwks_url,
        format!("{base}/dev-issuer/.well-known/jwks.json")
    );
    let token = issuer.mint("driver-7", &[Role::Driver], None, "app", Duration::from_secs(300));
    let principal = verifier.verify(&token).await.unwrap();
    assert_eq!(principal.subject, "driver-7");
    assert!(principal.has_role(Role::Driver));
    verifier.verify(&token).await.unwrap();
    assert_eq!(hits.load(Ordering::SeqCst), 1, "keys are cached");

    // After a rotation the new key is fetched once; the old key's tokens keep verifying.
    issuer.rotate();
    let rotated = issuer.mint("driver-7", &[], None, "app", Duration::from_secs(300));
    verifier.verify(&rotated).await.unwrap();
    verifier.verify(&token).await.unwrap();
    assert_eq!(hits.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn http_jwks_source_reports_server_errors_and_bad_bodies() {
    let router = Router::new()
        .route("/500", get(|| async { (StatusCode::INTERNAL_SERVER_ERROR, "boom") }))
        .route(
            "/redirect",
            get(|| async { axum::response::Redirect::temporary("/ok") }),
        )
        .route("/html", get(|| async { "<html>not json</html>" }))
        .route(
            "/huge",
            get(|| async { format!("{{\"keys\":[],\"pad\":\"{}\"}}", "x".repeat(300 * 1024)) }),
        )
        .route("/ok", get(|| async { axum::Json(serde_json::json!({"keys": []})) }));
    let (listener, base) = listen().await;
    serve(listener, router);
    for path in ["/500", "/redirect", "/html", "/huge", "/missing"] {
        let source = HttpJwksSource::new(&format!("{base}{path}")).unwrap();
        assert!(source.fetch().await.is_err(), "{path}");
    }
    let ok = HttpJwksSource::new(&format!("{base}/ok")).unwrap();
    assert_eq!(ok.fetch().await.unwrap(), serde_json::json!({"keys": []}));
}

#[tokio::test]
async fn jwks_endpoint_down_gives_jwks_unavailable() {
    // A port that was just free: nothing listens there.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    let issuer = DevIssuer::generate(format!("http://{addr}/dev-issuer"));
    let verifier = Verifier::from_config(issuer.verifier_config("app")).unwrap();
    let token = issuer.mint("u", &[], None, "app", Duration::from_secs(60));
    assert_eq!(refused(&verifier, &token).await, AuthError::JwksUnavailable);
}
