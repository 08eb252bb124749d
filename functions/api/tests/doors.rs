//! The app door against abuse (issue 10, items 13, 14 and 19), in-process on the in-memory ports
//! with tokens from the development issuer.

use api::App;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use chrono::Utc;
use csms_auth::{DevIssuer, Role, Verifier};
use csms_domain::memory::MemoryWorld;
use csms_domain::*;
use http_body_util::BodyExt;
use serde_json::Value;
use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tower::ServiceExt;

const AUDIENCE: &str = "test-app";

struct Fixture {
    world: MemoryWorld,
    issuer: DevIssuer,
    router: axum::Router,
}

fn fixture() -> Fixture {
    let world = MemoryWorld::default();
    let services = world.services(BootPolicy::default());
    let issuer = DevIssuer::generate("http://127.0.0.1:1/issuer");
    let verifier = Verifier::new(issuer.verifier_config(AUDIENCE), Arc::new(issuer.clone()));
    let router = api::router(Arc::new(App { services, verifier }));
    Fixture { world, issuer, router }
}

impl Fixture {
    fn token(&self, subject: &str, roles: &[Role]) -> String {
        self.issuer
            .mint(subject, roles, None, AUDIENCE, Duration::from_secs(600))
    }

    /// Makes `subject` an operator of `organisation` (created if need be).
    fn operator_of(&self, organisation: &str, subject: &str) {
        let id = OrganisationId::parse(organisation).unwrap();
        let store = &self.world.organisations;
        store
            .organisations
            .lock()
            .unwrap()
            .entry(id.clone())
            .or_insert_with(|| Organisation {
                id: id.clone(),
                name: organisation.to_owned(),
                created_at: Utc::now(),
            });
        let subject = Subject::parse(subject).unwrap();
        let membership = Membership {
            subject: subject.clone(),
            organisation: id,
            since: Utc::now(),
        };
        store.memberships.lock().unwrap().insert(subject, membership);
    }

    async fn call(&self, method: &str, path: &str, token: Option<&str>, body: Option<Value>) -> (StatusCode, Value) {
        let mut request = Request::builder().method(method).uri(path);
        if let Some(token) = token {
            request = request.header(header::AUTHORIZATION, format!("Bearer {token}"));
        }
        let request = match body {
            Some(body) => request
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(body.to_string())),
            None => request.body(Body::empty()),
        }
        .unwrap();
        let response = self.router.clone().oneshot(request).await.unwrap();
        let status = response.status();
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        (status, serde_json::from_slice(&bytes).unwrap_or(Value::Null))
    }
}

/// Everything logged at INFO and above while `f` runs.
async fn logged<F: std::future::Future<Output = ()>>(f: F) -> String {
    #[derive(Clone, Default)]
    struct Sink(Arc<Mutex<Vec<u8>>>);
    impl Write for Sink {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let sink = Sink::default();
    let writer = sink.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::INFO)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);
    f.await;
    String::from_utf8(sink.0.lock().unwrap().clone()).unwrap()
}

/// Item 19: paths carry id tokens, so neither the access log (no `$context.path`, asserted by the
/// template tests) nor the function's log has them; the function logs the route template.
#[tokio::test]
async fn the_log_names_the_route_template_never_the_id_token_in_the_path() {
    let f = fixture();
    f.operator_of("org-a", "olivia");
    let olivia = f.token("olivia", &[Role::Operator]);
    let log = logged(async {
        let (status, _) = f
            .call("GET", "/v1/operator/tokens/SECRET-TAG-1", Some(&olivia), None)
            .await;
        assert_eq!(status, StatusCode::NOT_FOUND);
    })
    .await;
    assert!(log.contains("/v1/operator/tokens/{idToken}"), "{log}");
    assert!(log.contains("404"), "{log}");
    assert!(!log.contains("SECRET-TAG-1"), "{log}");
}
