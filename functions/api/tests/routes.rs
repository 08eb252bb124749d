//! The API's routes in-process, on the in-memory ports, with tokens from the development issuer:
//! authentication, roles, object-level authorization, problem documents and the OpenAPI document.

use api::App;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use chrono::Utc;
use csms_auth::{DevIssuer, Role, Verifier};
use csms_domain::memory::MemoryWorld;
use csms_domain::registry::{self, NewStation};
use csms_domain::*;
use http_body_util::BodyExt;
use rust_decimal::Decimal;
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::Duration;
use tower::ServiceExt;

const AUDIENCE: &str = "test-app";

struct Fixture {
    world: MemoryWorld,
    issuer: DevIssuer,
    router: axum::Router,
}

async fn fixture() -> Fixture {
    let world = MemoryWorld::default();
    let services = world.services(BootPolicy::default());
    let issuer = DevIssuer::generate("http://127.0.0.1:1/issuer");
    let verifier = Verifier::new(issuer.verifier_config(AUDIENCE), Arc::new(issuer.clone()));
    for (id, organisation, latitude) in [("CP-A", "org-a", 52.50), ("CP-B", "org-b", 52.51)] {
        let new = NewStation {
            id: StationId::parse(id).unwrap(),
            protocols: vec![ProtocolVersion::Ocpp16],
            registration: Registration::Accepted,
            site: None,
            organisation: Some(organisation.into()),
            location: GeoPoint::new(latitude, 13.40),
            connectors: Vec::new(),
            password: None,
        };
        registry::register(&services, new, Utc::now()).await.unwrap();
    }
    // Tokens work at their organisation's stations only: Alice holds a card of each.
    for (tag, owner, organisation) in [
        ("ALICE-TAG", "alice", "org-a"),
        ("BOB-TAG", "bob", "org-a"),
        ("ALICE-B-TAG", "alice", "org-b"),
    ] {
        let record = TokenRecord {
            token: IdToken::parse_16(tag).unwrap(),
            status: AuthorizationStatus::Accepted,
            expiry: None,
            group: None,
            owner: Some(owner.into()),
            organisation: Some(organisation.into()),
        };
        services.charging.tokens.put(&record).await.unwrap();
    }
    let reservations = csms_domain::reservation::memory::MemoryReservationWorld::default()
        .services(csms_domain::reservation::ReservationSettings::default());
    let router = api::router(Arc::new(App {
        services,
        reservations,
        verifier,
        limits: api::Limits::memory(),
    }));
    Fixture { world, issuer, router }
}

impl Fixture {
    /// A token for `subject`; with an organisation, they are also made its operator (the
    /// membership, not the token, is what the API reads), the organisation created if need be.
    fn token(&self, subject: &str, roles: &[Role], organisation: Option<&str>) -> String {
        if let Some(raw) = organisation {
            self.operator_of(raw, subject);
        }
        self.issuer
            .mint(subject, roles, None, AUDIENCE, Duration::from_secs(600))
    }

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

    async fn call(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> (StatusCode, Value, String) {
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
        let content_type = response
            .headers()
            .get(header::CONTENT_TYPE)
            .map(|v| v.to_str().unwrap().to_owned())
            .unwrap_or_default();
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        (status, body, content_type)
    }
}

#[tokio::test]
async fn requests_without_a_valid_token_get_401_problems() {
    let f = fixture().await;
    let (status, body, content_type) = f.call("GET", "/v1/stations/CP-A", None, None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(content_type, "application/problem+json");
    assert_eq!(body["status"], 401);
    let stranger = DevIssuer::generate("http://127.0.0.1:1/issuer");
    let forged = stranger.mint("alice", &[Role::Driver], None, AUDIENCE, Duration::from_secs(600));
    assert_eq!(
        f.call("GET", "/v1/stations/CP-A", Some(&forged), None).await.0,
        StatusCode::UNAUTHORIZED
    );
    let good = f.token("alice", &[Role::Driver], None);
    assert_eq!(
        f.call("GET", "/v1/stations/CP-A", Some(&good), None).await.0,
        StatusCode::OK
    );
}

#[tokio::test]
async fn a_driver_starts_with_their_own_token_only() {
    let f = fixture().await;
    let alice = f.token("alice", &[Role::Driver], None);
    let start = |tag: &str| json!({"stationId": "CP-A", "idToken": tag, "connector": 1});

    let (status, body, _) = f
        .call("POST", "/v1/charging/start", Some(&alice), Some(start("ALICE-TAG")))
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    assert_eq!(body["action"], "RemoteStartTransaction");
    assert_eq!(body["request"], json!({"idTag": "ALICE-TAG", "connectorId": 1}));
    let submitted = f.world.command_queue.submitted.lock().unwrap().clone();
    assert_eq!(submitted.len(), 1);
    assert_eq!(submitted[0].requested_by.as_deref(), Some("alice"));

    // Her tokens are hers alone.
    let (status, body, _) = f.call("GET", "/v1/me/tokens", Some(&alice), None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        body,
        json!({"tokens": [
            {"idToken": "ALICE-B-TAG", "status": "Accepted"},
            {"idToken": "ALICE-TAG", "status": "Accepted"},
        ]})
    );

    // Bob's token is not Alice's to use, and its existence is not confirmed.
    let (status, body, _) = f
        .call("POST", "/v1/charging/start", Some(&alice), Some(start("BOB-TAG")))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    // An operator is not a driver.
    let operator = f.token("olga", &[Role::Operator], Some("org-a"));
    let (status, _, _) = f
        .call("POST", "/v1/charging/start", Some(&operator), Some(start("ALICE-TAG")))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    // A malformed body is a 400 problem.
    let (status, body, content_type) = f
        .call(
            "POST",
            "/v1/charging/start",
            Some(&alice),
            Some(json!({"stationId": "CP-A", "extra": 1})),
        )
        .await;
    assert_eq!(
        (status, content_type.as_str()),
        (StatusCode::BAD_REQUEST, "application/problem+json"),
        "{body}"
    );
}

#[tokio::test]
async fn operators_reach_only_their_organisations_stations() {
    let f = fixture().await;
    let olga = f.token("olga", &[Role::Operator], Some("org-a"));
    assert_eq!(
        f.call("GET", "/v1/operator/stations/CP-A", Some(&olga), None).await.0,
        StatusCode::OK
    );
    for (method, path) in [
        ("GET", "/v1/operator/stations/CP-B"),
        ("GET", "/v1/operator/stations/CP-B/commands"),
        ("GET", "/v1/operator/stations/CP-NONE"),
    ] {
        assert_eq!(
            f.call(method, path, Some(&olga), None).await.0,
            StatusCode::NOT_FOUND,
            "{path}"
        );
    }
    let reset = json!({"action": "Reset", "payload": {"type": "Soft"}});
    let (status, _, _) = f
        .call(
            "POST",
            "/v1/operator/stations/CP-B/commands",
            Some(&olga),
            Some(reset.clone()),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, body, _) = f
        .call("POST", "/v1/operator/stations/CP-A/commands", Some(&olga), Some(reset))
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    let bad = json!({"action": "Reset", "payload": {"type": "Sideways"}});
    let (status, body, _) = f
        .call("POST", "/v1/operator/stations/CP-A/commands", Some(&olga), Some(bad))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body["detail"].as_str().unwrap().contains("type"), "{body}");
    // An operator without an organisation reaches nothing.
    let lost = f.token("lost", &[Role::Operator], None);
    assert_eq!(
        f.call("GET", "/v1/operator/stations/CP-A", Some(&lost), None).await.0,
        StatusCode::FORBIDDEN
    );
}

#[tokio::test]
async fn stations_near_a_point_come_nearest_first() {
    let f = fixture().await;
    let alice = f.token("alice", &[Role::Driver], None);
    let (status, body, _) = f
        .call(
            "GET",
            "/v1/stations?latitude=52.50&longitude=13.40&radius=5000",
            Some(&alice),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let ids: Vec<&str> = body["stations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["stationId"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["CP-A", "CP-B"]);
    let (status, body, _) = f
        .call(
            "GET",
            "/v1/stations?latitude=52.50&longitude=13.40&radius=500000",
            Some(&alice),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    let (status, _, _) = f
        .call("GET", "/v1/stations?latitude=91&longitude=0", Some(&alice), None)
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn the_openapi_document_is_public_and_describes_every_route() {
    let f = fixture().await;
    let (status, document, _) = f.call("GET", "/openapi.json", None, None).await;
    assert_eq!(status, StatusCode::OK);
    assert!(document["openapi"].as_str().unwrap().starts_with("3.1"));
    let paths: Vec<&String> = document["paths"].as_object().unwrap().keys().collect();
    for path in [
        "/v1/stations",
        "/v1/stations/{stationId}",
        "/v1/charging/start",
        "/v1/charging/stop",
        "/v1/commands/{stationId}/{commandId}",
        "/v1/me/tokens",
        "/v1/operator/stations/{stationId}",
        "/v1/operator/stations/{stationId}/commands",
        "/v1/me/sessions",
        "/v1/me/sessions/{stationId}/{transactionId}",
        "/v1/operator/sessions",
        "/v1/operator/sessions/{stationId}/{transactionId}",
        "/v1/admin/organisations",
        "/v1/admin/organisations/{organisationId}",
        "/v1/admin/organisations/{organisationId}/operators",
        "/v1/admin/organisations/{organisationId}/operators/{subject}",
    ] {
        assert!(
            paths.iter().any(|p| p.as_str() == path),
            "{path} missing from {paths:?}"
        );
    }
    assert_eq!(f.call("GET", "/v1/nothing", None, None).await.0, StatusCode::NOT_FOUND);
}

// ---- Sessions -----------------------------------------------------------------------------------

fn minutes(n: i64) -> chrono::DateTime<Utc> {
    chrono::DateTime::parse_from_rfc3339("2026-11-30T08:00:00Z")
        .unwrap()
        .with_timezone(&Utc)
        + chrono::Duration::minutes(n)
}

/// One session event of 1.6 transaction `tx` at `station`, `at` minutes in, with an energy and
/// a power reading.
fn session_event(station: &str, tx: i64, tag: &str, at: i64, kind: SessionEventKind) -> SessionEvent {
    let energy = MeterSample::new(
        minutes(at),
        Measurand::EnergyActiveImportRegister,
        Decimal::from(1000 + 100 * at),
        Some("Wh"),
        0,
    );
    let power = MeterSample::new(
        minutes(at),
        Measurand::PowerActiveImport,
        Decimal::from(7000 + at),
        Some("W"),
        0,
    );
    SessionEvent {
        station: StationId::parse(station).unwrap(),
        transaction: TransactionKey::Ocpp16(transaction::TransactionId::new(tx).unwrap()),
        seq_no: None,
        timestamp: minutes(at),
        offline: false,
        evse: None,
        connector: Some(1),
        id_token: Some(IdToken::parse_16(tag).unwrap()),
        kind,
        samples: vec![energy.unwrap(), power.unwrap()],
    }
}

impl Fixture {
    /// Runs the sessions consumer's use case, as the queue would deliver the events.
    async fn charge(&self, station: &str, tx: i64, tag: &str, start: i64, stop: Option<i64>) {
        let started = SessionEventKind::Started {
            meter_start_wh: Some(Decimal::from(1000 + 100 * start)),
            reason: None,
            remote_start_id: None,
        };
        let mut events = vec![
            session_event(station, tx, tag, start, started),
            session_event(station, tx, tag, start + 1, SessionEventKind::Updated),
        ];
        if let Some(stop) = stop {
            let stopped = SessionEventKind::Stopped {
                meter_stop_wh: None,
                reason: "Local".into(),
            };
            events.push(session_event(station, tx, tag, stop, stopped));
        }
        for event in &events {
            let ports = self.world.charging.session_ports(&*self.world.stations);
            session::project(ports, event).await.unwrap();
        }
    }

    async fn list(&self, path: &str, token: &str) -> (StatusCode, Value) {
        let (status, body, _) = self.call("GET", path, Some(token), None).await;
        (status, body)
    }
}

fn ids(body: &Value) -> Vec<String> {
    body["sessions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            format!(
                "{}/{}",
                s["stationId"].as_str().unwrap(),
                s["transactionId"].as_str().unwrap()
            )
        })
        .collect()
}

async fn charged() -> Fixture {
    let f = fixture().await;
    // Alice charges at both organisations' stations, Bob at CP-A; the last one is still going.
    f.charge("CP-A", 1, "ALICE-TAG", 0, Some(30)).await;
    f.charge("CP-B", 2, "ALICE-B-TAG", 60, Some(90)).await;
    f.charge("CP-A", 3, "BOB-TAG", 120, Some(150)).await;
    f.charge("CP-A", 4, "ALICE-TAG", 180, None).await;
    f
}

#[tokio::test]
async fn a_driver_lists_their_own_sessions_newest_first_in_pages() {
    let f = charged().await;
    let alice = f.token("alice", &[Role::Driver], None);
    let (status, body) = f.list("/v1/me/sessions", &alice).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(ids(&body), ["CP-A/4", "CP-B/2", "CP-A/1"]);
    assert!(body.get("nextCursor").is_none());
    assert_eq!(body["sessions"][0]["state"], "active");
    assert_eq!(body["sessions"][1]["state"], "completed");
    assert_eq!(body["sessions"][1]["energyWh"], 3000.0);
    assert_eq!(body["sessions"][1]["startedAt"], "2026-11-30T09:00:00Z");

    // Pages of two, then one, without repeats.
    let (_, first) = f.list("/v1/me/sessions?limit=2", &alice).await;
    assert_eq!(ids(&first), ["CP-A/4", "CP-B/2"]);
    // Opaque, so escaped as any query value (the in-memory double's cursors hold '#').
    let cursor = first["nextCursor"].as_str().unwrap().replace('#', "%23");
    let (_, second) = f
        .list(&format!("/v1/me/sessions?limit=2&cursor={cursor}"), &alice)
        .await;
    assert_eq!(ids(&second), ["CP-A/1"]);
    assert!(second.get("nextCursor").is_none());

    // Filters: state, station, start time range (inclusive).
    let (_, done) = f.list("/v1/me/sessions?state=completed", &alice).await;
    assert_eq!(ids(&done), ["CP-B/2", "CP-A/1"]);
    let (_, live) = f.list("/v1/me/sessions?state=active", &alice).await;
    assert_eq!(ids(&live), ["CP-A/4"]);
    let (_, at_a) = f.list("/v1/me/sessions?stationId=CP-A", &alice).await;
    assert_eq!(ids(&at_a), ["CP-A/4", "CP-A/1"]);
    let (_, range) = f
        .list(
            "/v1/me/sessions?from=2026-11-30T09:00:00Z&to=2026-11-30T10:59:59Z",
            &alice,
        )
        .await;
    assert_eq!(ids(&range), ["CP-B/2"]);

    // Bob sees only his; an operator is not a driver.
    let bob = f.token("bob", &[Role::Driver], None);
    assert_eq!(ids(&f.list("/v1/me/sessions", &bob).await.1), ["CP-A/3"]);
    let olga = f.token("olga", &[Role::Operator], Some("org-a"));
    assert_eq!(f.list("/v1/me/sessions", &olga).await.0, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn session_lists_refuse_bad_filters_with_400_problems() {
    let f = charged().await;
    let alice = f.token("alice", &[Role::Driver], None);
    let olga = f.token("olga", &[Role::Operator], Some("org-a"));
    for query in [
        "state=charging",
        "from=yesterday",
        "to=2026-11-30",
        "from=2026-11-30T10:00:00Z&to=2026-11-30T09:00:00Z",
        "stationId=has%20space",
        "limit=0",
        "limit=101",
        "cursor=",
        "colour=red",
    ] {
        for (base, token) in [("/v1/me/sessions", &alice), ("/v1/operator/sessions", &olga)] {
            let (status, body, content_type) = f.call("GET", &format!("{base}?{query}"), Some(token), None).await;
            assert_eq!(status, StatusCode::BAD_REQUEST, "{base}?{query}: {body}");
            assert_eq!(content_type, "application/problem+json");
        }
    }
}

#[tokio::test]
async fn a_driver_watches_one_of_their_sessions_with_its_meter_series() {
    let f = charged().await;
    let alice = f.token("alice", &[Role::Driver], None);
    let (status, live) = f.list("/v1/me/sessions/CP-A/4", &alice).await;
    assert_eq!(status, StatusCode::OK, "{live}");
    assert_eq!(live["state"], "active");
    assert_eq!(live["energyWh"], 100.0);
    assert_eq!(live["latestPowerW"], 7181.0);
    assert_eq!(live["samples"].as_array().unwrap().len(), 4);
    assert_eq!(live["samples"][0]["measurand"], "Energy.Active.Import.Register");
    assert!(live.get("durationSeconds").is_none());

    // More readings arrive: the series grows.
    let update = session_event("CP-A", 4, "ALICE-TAG", 185, SessionEventKind::Updated);
    let ports = f.world.charging.session_ports(&*f.world.stations);
    session::project(ports, &update).await.unwrap();
    let (_, later) = f.list("/v1/me/sessions/CP-A/4", &alice).await;
    assert_eq!(later["samples"].as_array().unwrap().len(), 6);
    assert_eq!(later["energyWh"], 500.0);
    assert!(later.get("nextCursor").is_none());

    // The series pages by instant, oldest first: two readings each.
    let (_, first) = f.list("/v1/me/sessions/CP-A/4?limit=2", &alice).await;
    let times = |page: &Value| -> Vec<String> {
        page["samples"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["timestamp"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(first["samples"].as_array().unwrap().len(), 4);
    let cursor = first["nextCursor"].as_str().expect("a second page").to_owned();
    let (status, second) = f
        .list(&format!("/v1/me/sessions/CP-A/4?limit=2&cursor={cursor}"), &alice)
        .await;
    assert_eq!(status, StatusCode::OK, "{second}");
    assert_eq!(second["samples"].as_array().unwrap().len(), 2);
    assert!(second.get("nextCursor").is_none());
    let mut all = times(&first);
    all.extend(times(&second));
    let mut sorted = all.clone();
    sorted.sort();
    assert_eq!(all, sorted);
    assert_eq!(second["samples"][0]["value"], 1000 + 100 * 185);
    for bad in ["?limit=0", "?limit=101", "?cursor=", "?cursor=nope", "?color=red"] {
        let (status, body) = f.list(&format!("/v1/me/sessions/CP-A/4{bad}"), &alice).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}: {body}");
    }

    let (_, done) = f.list("/v1/me/sessions/CP-B/2", &alice).await;
    assert_eq!(
        (done["state"].as_str(), done["durationSeconds"].as_i64()),
        (Some("completed"), Some(1800))
    );

    // Someone else's session, an unknown one and an unknown station are all 404; a bad id is 400.
    for path in [
        "/v1/me/sessions/CP-A/3",
        "/v1/me/sessions/CP-A/99",
        "/v1/me/sessions/CP-NONE/1",
        "/v1/me/sessions/CP-A/x",
    ] {
        assert_eq!(f.list(path, &alice).await.0, StatusCode::NOT_FOUND, "{path}");
    }
    assert_eq!(
        f.list("/v1/me/sessions/CP%3AA/1", &alice).await.0,
        StatusCode::BAD_REQUEST
    );
}

#[tokio::test]
async fn operators_see_only_their_organisations_sessions() {
    let f = charged().await;
    let olga = f.token("olga", &[Role::Operator], Some("org-a"));
    let (status, body) = f.list("/v1/operator/sessions", &olga).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(ids(&body), ["CP-A/4", "CP-A/3", "CP-A/1"]);
    let (_, done) = f
        .list("/v1/operator/sessions?stationId=CP-A&state=completed&limit=1", &olga)
        .await;
    assert_eq!(ids(&done), ["CP-A/3"]);
    let (_, b) = f.list("/v1/operator/sessions?stationId=CP-B", &olga).await;
    assert!(ids(&b).is_empty());

    let (status, one) = f.list("/v1/operator/sessions/CP-A/3", &olga).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(one["idToken"], "BOB-TAG");
    assert_eq!(
        f.list("/v1/operator/sessions/CP-B/2", &olga).await.0,
        StatusCode::NOT_FOUND
    );

    let oscar = f.token("oscar", &[Role::Operator], Some("org-b"));
    assert_eq!(ids(&f.list("/v1/operator/sessions", &oscar).await.1), ["CP-B/2"]);

    // No organisation, or not an operator: 403.
    let lost = f.token("lost", &[Role::Operator], None);
    let alice = f.token("alice", &[Role::Driver], None);
    for token in [&lost, &alice] {
        assert_eq!(f.list("/v1/operator/sessions", token).await.0, StatusCode::FORBIDDEN);
        assert_eq!(
            f.list("/v1/operator/sessions/CP-A/1", token).await.0,
            StatusCode::FORBIDDEN
        );
    }
}

/// Issue 10 item 20: how a refused or failed command reads, for the driver who asked and for the
/// station's operators: the CALLERROR's code and description, or the failure reason and what it
/// means.
#[tokio::test]
async fn refused_and_failed_commands_say_why() {
    use csms_domain::command::{Answer, CommandRecord, CommandState, FailureReason, StateKind};
    use csms_domain::ports::CommandStore;
    let f = fixture().await;
    let alice = f.token("alice", &[Role::Driver], None);
    let olga = f.token("olga", &[Role::Operator], Some("org-a"));
    let start = json!({"stationId": "CP-A", "idToken": "ALICE-TAG", "connector": 1});
    let station = StationId::parse("CP-A").unwrap();
    let store = &*f.world.commands;
    // One at a time: a driver's next command waits until the last has ended. The commands function
    // would record each; here the test does.
    let submit = async || {
        let (status, body, _) = f
            .call("POST", "/v1/charging/start", Some(&alice), Some(start.clone()))
            .await;
        assert_eq!(status, StatusCode::ACCEPTED, "{body}");
        let command = f.world.command_queue.submitted.lock().unwrap().last().cloned().unwrap();
        store.create(&CommandRecord::queued(command)).await.unwrap();
        body["commandId"].as_str().unwrap().to_owned()
    };
    let mut commands = Vec::new();
    // The pile refuses the first with a CALLERROR; the second fails: the station was offline.
    commands.push(submit().await);
    let refused = command::CommandId::parse(&commands[0]).unwrap();
    let answer = |_: &command::Command| Answer::Error {
        code: "GenericError".into(),
        description: "connector 1 is faulted".into(),
    };
    let record = command::answered(store, &station, refused.as_str(), answer, Utc::now())
        .await
        .unwrap();
    assert_eq!(record.unwrap().state.kind(), StateKind::Refused);
    commands.push(submit().await);
    let failed = command::CommandId::parse(&commands[1]).unwrap();
    let offline = CommandState::Failed {
        at: Utc::now(),
        reason: FailureReason::StationOffline,
    };
    store
        .transition(&station, &failed, StateKind::PENDING, &offline)
        .await
        .unwrap()
        .unwrap();

    let view = async |id: &str| {
        f.call("GET", &format!("/v1/commands/CP-A/{id}"), Some(&alice), None)
            .await
            .1
    };
    let refused_view = view(&commands[0]).await;
    assert_eq!(refused_view["state"], "Refused", "{refused_view}");
    assert_eq!(refused_view["errorCode"], "GenericError");
    assert_eq!(refused_view["errorDescription"], "connector 1 is faulted");
    assert!(refused_view.get("answer").is_none());
    let failed_view = view(&commands[1]).await;
    assert_eq!(failed_view["state"], "Failed", "{failed_view}");
    assert_eq!(failed_view["errorCode"], "StationOffline");
    assert_eq!(
        failed_view["errorDescription"],
        FailureReason::StationOffline.describe()
    );
    // The station's operators read the same.
    let (_, listed, _) = f
        .call("GET", "/v1/operator/stations/CP-A/commands", Some(&olga), None)
        .await;
    let by_id = |id: &str| {
        listed["commands"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["commandId"] == id)
            .cloned()
            .unwrap()
    };
    for (id, view) in [(&commands[0], &refused_view), (&commands[1], &failed_view)] {
        let operator_view = by_id(id);
        for field in ["state", "errorCode", "errorDescription"] {
            assert_eq!(operator_view[field], view[field], "{field}");
        }
    }
}

#[tokio::test]
async fn a_command_timeout_out_of_range_is_a_400_not_a_panic() {
    let f = fixture().await;
    let olga = f.token("olga", &[Role::Operator], Some("org-a"));
    for timeout in [
        json!(9_223_372_036_854_775_806_i64),
        json!(-9_223_372_036_854_775_807_i64),
        json!(0),
        json!(901),
    ] {
        let body = json!({"action": "Reset", "payload": {"type": "Soft"}, "timeoutSeconds": timeout});
        let (status, problem, content_type) = f
            .call("POST", "/v1/operator/stations/CP-A/commands", Some(&olga), Some(body))
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{timeout}: {problem}");
        assert_eq!(content_type, "application/problem+json");
    }
}

#[tokio::test]
async fn admins_create_rename_and_list_organisations() {
    let f = fixture().await;
    let admin = f.token("ada", &[Role::Admin], None);
    let acme = json!({"id": "acme", "name": "Acme Charging"});
    let (status, body, _) = f
        .call("POST", "/v1/admin/organisations", Some(&admin), Some(acme.clone()))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(
        (body["id"].as_str(), body["name"].as_str()),
        (Some("acme"), Some("Acme Charging"))
    );
    let (status, body, content_type) = f
        .call("POST", "/v1/admin/organisations", Some(&admin), Some(acme))
        .await;
    assert_eq!(
        (status, content_type.as_str()),
        (StatusCode::CONFLICT, "application/problem+json"),
        "{body}"
    );
    for bad in [
        json!({"id": "no spaces", "name": "x"}),
        json!({"id": "ok", "name": "   "}),
        json!({"id": "ok"}),
        json!({"id": "ok", "name": "x", "extra": 1}),
    ] {
        let (status, body, _) = f
            .call("POST", "/v1/admin/organisations", Some(&admin), Some(bad.clone()))
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad} -> {body}");
    }
    let (status, body, _) = f
        .call(
            "PATCH",
            "/v1/admin/organisations/acme",
            Some(&admin),
            Some(json!({"name": "Acme"})),
        )
        .await;
    assert_eq!(
        (status, body["name"].as_str()),
        (StatusCode::OK, Some("Acme")),
        "{body}"
    );
    let (status, body, _) = f.call("GET", "/v1/admin/organisations/acme", Some(&admin), None).await;
    assert_eq!((status, body["name"].as_str()), (StatusCode::OK, Some("Acme")));
    for (method, body) in [("GET", None), ("PATCH", Some(json!({"name": "x"})))] {
        let (status, _, _) = f.call(method, "/v1/admin/organisations/nope", Some(&admin), body).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{method}");
    }
    assert_eq!(
        f.call("GET", "/v1/admin/organisations/a%20b", Some(&admin), None)
            .await
            .0,
        StatusCode::BAD_REQUEST
    );
    // Pages of two walk all five organisations once, by id.
    for id in ["b", "c", "d", "e"] {
        let body = json!({"id": id, "name": id});
        f.call("POST", "/v1/admin/organisations", Some(&admin), Some(body))
            .await;
    }
    let mut seen = Vec::new();
    let mut path = "/v1/admin/organisations?limit=2".to_owned();
    loop {
        let (status, body, _) = f.call("GET", &path, Some(&admin), None).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let page = body["organisations"].as_array().unwrap();
        assert!(page.len() <= 2);
        seen.extend(page.iter().map(|o| o["id"].as_str().unwrap().to_owned()));
        match body["nextCursor"].as_str() {
            Some(cursor) => path = format!("/v1/admin/organisations?limit=2&cursor={cursor}"),
            None => break,
        }
    }
    assert_eq!(seen, ["acme", "b", "c", "d", "e"]);
    assert_eq!(
        f.call("GET", "/v1/admin/organisations?limit=0", Some(&admin), None)
            .await
            .0,
        StatusCode::BAD_REQUEST
    );
}

#[tokio::test]
async fn an_admins_membership_change_holds_at_once_for_the_operators_token() {
    let f = fixture().await;
    let admin = f.token("ada", &[Role::Admin], None);
    f.call(
        "POST",
        "/v1/admin/organisations",
        Some(&admin),
        Some(json!({"id": "org-a", "name": "A"})),
    )
    .await;
    // A token minted before olga is anyone's operator.
    let olga = f.token("olga", &[Role::Operator], None);
    let station = "/v1/operator/stations/CP-A";
    assert_eq!(f.call("GET", station, Some(&olga), None).await.0, StatusCode::FORBIDDEN);
    let membership = "/v1/admin/organisations/org-a/operators/olga";
    for _ in 0..2 {
        let (status, body, _) = f.call("PUT", membership, Some(&admin), None).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["organisationId"], "org-a");
    }
    assert_eq!(f.call("GET", station, Some(&olga), None).await.0, StatusCode::OK);
    let (status, body, _) = f
        .call("GET", "/v1/admin/organisations/org-a/operators", Some(&admin), None)
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["operators"][0]["subject"], "olga");
    assert!(body.get("nextCursor").is_none());
    // Moving her to org-b takes org-a's station away.
    f.call(
        "POST",
        "/v1/admin/organisations",
        Some(&admin),
        Some(json!({"id": "org-b", "name": "B"})),
    )
    .await;
    f.call(
        "PUT",
        "/v1/admin/organisations/org-b/operators/olga",
        Some(&admin),
        None,
    )
    .await;
    assert_eq!(f.call("GET", station, Some(&olga), None).await.0, StatusCode::NOT_FOUND);
    assert_eq!(
        f.call("GET", "/v1/operator/stations/CP-B", Some(&olga), None).await.0,
        StatusCode::OK
    );
    // Removing her from org-a (not hers any more) changes nothing; from org-b ends it, twice fine.
    let from_b = "/v1/admin/organisations/org-b/operators/olga";
    assert_eq!(
        f.call("DELETE", membership, Some(&admin), None).await.0,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        f.call("GET", "/v1/operator/stations/CP-B", Some(&olga), None).await.0,
        StatusCode::OK
    );
    for _ in 0..2 {
        assert_eq!(
            f.call("DELETE", from_b, Some(&admin), None).await.0,
            StatusCode::NO_CONTENT
        );
    }
    assert_eq!(
        f.call("GET", "/v1/operator/stations/CP-B", Some(&olga), None).await.0,
        StatusCode::FORBIDDEN
    );
    // An unknown organisation is 404 for every membership route.
    for (method, path) in [
        ("PUT", "/v1/admin/organisations/nope/operators/olga"),
        ("DELETE", "/v1/admin/organisations/nope/operators/olga"),
        ("GET", "/v1/admin/organisations/nope/operators"),
    ] {
        assert_eq!(
            f.call(method, path, Some(&admin), None).await.0,
            StatusCode::NOT_FOUND,
            "{method} {path}"
        );
    }
    assert_eq!(
        f.call(
            "PUT",
            "/v1/admin/organisations/org-a/operators/a%20b",
            Some(&admin),
            None
        )
        .await
        .0,
        StatusCode::BAD_REQUEST
    );
}

#[tokio::test]
async fn only_admins_reach_admin_routes() {
    let f = fixture().await;
    let driver = f.token("alice", &[Role::Driver], None);
    let operator = f.token("olga", &[Role::Operator], Some("org-a"));
    for token in [&driver, &operator] {
        for (method, path, body) in [
            ("POST", "/v1/admin/organisations", Some(json!({"id": "x", "name": "x"}))),
            ("GET", "/v1/admin/organisations", None),
            ("GET", "/v1/admin/organisations/org-a", None),
            ("PATCH", "/v1/admin/organisations/org-a", Some(json!({"name": "x"}))),
            ("GET", "/v1/admin/organisations/org-a/operators", None),
            ("PUT", "/v1/admin/organisations/org-a/operators/olga", None),
            ("DELETE", "/v1/admin/organisations/org-a/operators/olga", None),
        ] {
            let (status, _, content_type) = f.call(method, path, Some(token), body).await;
            assert_eq!(
                (status, content_type.as_str()),
                (StatusCode::FORBIDDEN, "application/problem+json"),
                "{method} {path}"
            );
        }
    }
    assert_eq!(
        f.call("GET", "/v1/admin/organisations", None, None).await.0,
        StatusCode::UNAUTHORIZED
    );
}
