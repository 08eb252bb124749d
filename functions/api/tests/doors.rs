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
    fixture_with(api::Limits::memory())
}

fn fixture_with(limits: api::Limits) -> Fixture {
    let world = MemoryWorld::default();
    let services = world.services(BootPolicy::default());
    let issuer = DevIssuer::generate("http://127.0.0.1:1/issuer");
    let verifier = Verifier::new(issuer.verifier_config(AUDIENCE), Arc::new(issuer.clone()));
    let reservations = csms_domain::reservation::memory::MemoryReservationWorld::default()
        .services(csms_domain::reservation::ReservationSettings::default());
    let router = api::router(Arc::new(App {
        services,
        reservations,
        verifier,
        limits,
    }));
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

async fn station(f: &Fixture, id: &str, organisation: &str) {
    let new = csms_domain::registry::NewStation {
        id: StationId::parse(id).unwrap(),
        protocols: vec![ProtocolVersion::Ocpp16],
        registration: Registration::Accepted,
        site: None,
        organisation: Some(organisation.into()),
        location: None,
        connectors: Vec::new(),
        password: None,
    };
    let services = f.world.services(BootPolicy::default());
    csms_domain::registry::register(&services, new, Utc::now())
        .await
        .unwrap();
}

async fn token_of(f: &Fixture, tag: &str, owner: &str) {
    let record = TokenRecord {
        token: IdToken::parse_16(tag).unwrap(),
        status: AuthorizationStatus::Accepted,
        expiry: None,
        group: None,
        owner: Some(owner.into()),
        // The stations' organisation: a token works only at its issuer's stations.
        organisation: Some("org-a".into()),
    };
    use csms_domain::ports::TokenRepository;
    f.world.charging.tokens.put(&record).await.unwrap();
}

fn submitted(f: &Fixture) -> usize {
    f.world.command_queue.submitted.lock().unwrap().len()
}

/// Item 13: a DataTransfer larger than API Gateway carries to a pile (128 KB a message) is
/// refused when it is submitted, instead of failing to send 60 times from the queue.
#[tokio::test]
async fn an_oversized_data_transfer_is_refused_at_submission() {
    let f = fixture();
    station(&f, "CP-BIG", "org-a").await;
    f.operator_of("org-a", "olivia");
    let olivia = f.token("olivia", &[Role::Operator]);
    let command = |data: String| serde_json::json!({"action": "DataTransfer", "payload": {"vendorId": "com.example", "data": data}});
    let path = "/v1/operator/stations/CP-BIG/commands";
    let (status, problem) = f
        .call("POST", path, Some(&olivia), Some(command("x".repeat(200_000))))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{problem}");
    assert!(problem["detail"].as_str().unwrap().contains("128 KB"), "{problem}");
    assert_eq!(submitted(&f), 0);
    let (status, _) = f
        .call("POST", path, Some(&olivia), Some(command("x".repeat(1_000))))
        .await;
    assert_eq!(status, StatusCode::ACCEPTED);
    assert_eq!(submitted(&f), 1);
}

/// Item 13: a driver has at most one remote command pending; the next waits for its answer.
#[tokio::test]
async fn a_driver_has_at_most_one_pending_remote_command() {
    let f = fixture();
    station(&f, "CP-D1", "org-a").await;
    station(&f, "CP-D2", "org-a").await;
    token_of(&f, "DRIVER-TAG", "dora").await;
    let dora = f.token("dora", &[Role::Driver]);
    let start = |station: &str| serde_json::json!({"stationId": station, "idToken": "DRIVER-TAG"});
    let (status, first) = f
        .call("POST", "/v1/charging/start", Some(&dora), Some(start("CP-D1")))
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{first}");
    // Still Submitted, then Queued (recorded by the commands function): a second one waits.
    for station in ["CP-D1", "CP-D2"] {
        let (status, problem) = f
            .call("POST", "/v1/charging/start", Some(&dora), Some(start(station)))
            .await;
        assert_eq!(status, StatusCode::CONFLICT, "{problem}");
        assert!(
            problem["detail"]
                .as_str()
                .unwrap()
                .contains(first["commandId"].as_str().unwrap())
        );
    }
    assert_eq!(submitted(&f), 1);
    // Another driver is not held up.
    token_of(&f, "OTHER-TAG", "otto").await;
    let otto = f.token("otto", &[Role::Driver]);
    let body = serde_json::json!({"stationId": "CP-D2", "idToken": "OTHER-TAG"});
    assert_eq!(
        f.call("POST", "/v1/charging/start", Some(&otto), Some(body)).await.0,
        StatusCode::ACCEPTED
    );

    // Once the first is answered, the next may go.
    use csms_domain::ports::CommandStore;
    let queued = f.world.command_queue.submitted.lock().unwrap()[0].clone();
    let store = &*f.world.commands;
    store.create(&CommandRecord::queued(queued.clone())).await.unwrap();
    let answered = CommandState::Answered {
        at: Utc::now(),
        payload: r#"{"status":"Accepted"}"#.into(),
    };
    store
        .transition(&queued.station, &queued.id, &[StateKind::Queued], &answered)
        .await
        .unwrap()
        .unwrap();
    let (status, next) = f
        .call("POST", "/v1/charging/start", Some(&dora), Some(start("CP-D2")))
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{next}");
}

/// Item 13: each subject has a request budget per minute; beyond it, 429 with Retry-After,
/// whatever the route, while other subjects go on.
#[tokio::test]
async fn a_subject_beyond_its_request_budget_gets_429_with_retry_after() {
    let f = fixture_with(api::Limits::new(csms_domain::limits::LimitPorts::memory(), 5));
    let dora = f.token("dora", &[Role::Driver]);
    let mut answers = Vec::new();
    for _ in 0..20 {
        let request = Request::get("/v1/me/tokens")
            .header(header::AUTHORIZATION, format!("Bearer {dora}"))
            .body(Body::empty())
            .unwrap();
        let response = f.router.clone().oneshot(request).await.unwrap();
        let retry_after = response
            .headers()
            .get(header::RETRY_AFTER)
            .map(|v| v.to_str().unwrap().parse::<i64>().unwrap());
        answers.push((response.status(), retry_after));
    }
    // Windows are aligned to the minute: a run may straddle two, so at most twice the budget.
    let allowed = answers.iter().filter(|(s, _)| *s == StatusCode::OK).count();
    assert!((5..=10).contains(&allowed), "{answers:?}");
    assert!(answers[..5].iter().all(|(s, _)| *s == StatusCode::OK), "{answers:?}");
    for (status, retry_after) in &answers {
        match *status {
            StatusCode::OK => assert_eq!(*retry_after, None),
            StatusCode::TOO_MANY_REQUESTS => assert!((1..=60).contains(&retry_after.unwrap())),
            other => panic!("{other}"),
        }
    }
    // Another subject is not held up.
    let otto = f.token("otto", &[Role::Driver]);
    assert_eq!(
        f.call("GET", "/v1/me/tokens", Some(&otto), None).await.0,
        StatusCode::OK
    );
}
