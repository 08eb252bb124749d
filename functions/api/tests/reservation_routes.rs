//! The reservation routes in-process, on the in-memory ports: a driver reserves, sees, cancels;
//! another driver cannot see it nor start on the reserved connector; operators of the station's
//! organisation list and cancel it, others do not reach it. Problems for every refusal.

use api::App;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use chrono::Utc;
use csms_auth::{DevIssuer, Role, Verifier};
use csms_domain::memory::MemoryWorld;
use csms_domain::reservation::ReservationSettings;
use csms_domain::reservation::memory::MemoryReservationWorld;
use csms_domain::*;
use http_body_util::BodyExt;
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
    // CP-A (org-a, 1.6, connectors 1 and 2) is connected.
    let mut station = Station::new(
        StationId::parse("CP-A").unwrap(),
        vec![ProtocolVersion::Ocpp16],
        Password::parse("s3cret-password-16").unwrap().hash().unwrap(),
        Utc::now(),
    );
    station.organisation = Some("org-a".into());
    station.connectors = (1..=2)
        .map(|c| Connector {
            evse_id: None,
            connector_id: c,
            kind: ConnectorType::CType2,
            max_power_w: 22_000,
        })
        .collect();
    services.stations.create(&station).await.unwrap();
    services
        .connections
        .put(&Connection {
            connection_id: "conn-a".into(),
            station_id: station.id.clone(),
            organisation: Some("org-a".into()),
            protocol: ProtocolVersion::Ocpp16,
            boot: Some(Registration::Accepted),
            connected_at: Utc::now(),
            last_seen_at: Utc::now(),
        })
        .await
        .unwrap();
    services
        .stations
        .attach_connection(
            &station.id,
            "conn-a",
            csms_domain::ports::CheckedAgainst {
                password_hash: &station.password_hash,
                registration: station.registration,
            },
        )
        .await
        .unwrap();
    for (tag, owner) in [("ALICE-TAG", "alice"), ("BOB-TAG", "bob")] {
        let record = TokenRecord {
            token: IdToken::parse_16(tag).unwrap(),
            status: AuthorizationStatus::Accepted,
            expiry: None,
            group: None,
            owner: Some(owner.into()),
            organisation: Some("org-a".into()),
        };
        services.charging.tokens.put(&record).await.unwrap();
    }
    let reservations = MemoryReservationWorld::default().services(ReservationSettings::default());
    let router = api::router(Arc::new(App {
        services,
        reservations,
        verifier,
        limits: api::Limits::memory(),
    }));
    Fixture { world, issuer, router }
}

impl Fixture {
    fn token(&self, subject: &str, roles: &[Role]) -> String {
        self.issuer
            .mint(subject, roles, None, AUDIENCE, Duration::from_secs(600))
    }

    fn operator(&self, subject: &str, organisation: &str) -> String {
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
        let who = Subject::parse(subject).unwrap();
        let membership = Membership {
            subject: who.clone(),
            organisation: id,
            since: Utc::now(),
        };
        store.memberships.lock().unwrap().insert(who, membership);
        self.token(subject, &[Role::Operator])
    }

    async fn call(&self, method: &str, path: &str, token: &str, body: Option<Value>) -> (StatusCode, Value) {
        let request = Request::builder()
            .method(method)
            .uri(path)
            .header(header::AUTHORIZATION, format!("Bearer {token}"));
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

#[tokio::test]
async fn a_driver_reserves_sees_and_cancels_and_nobody_else_reaches_it() {
    let f = fixture().await;
    let (alice, bob) = (f.token("alice", &[Role::Driver]), f.token("bob", &[Role::Driver]));
    let body = json!({"stationId": "CP-A", "idToken": "ALICE-TAG", "connector": 2, "minutes": 15});

    // Alice reserves connector 2.
    let (status, r) = f.call("POST", "/v1/me/reservations", &alice, Some(body.clone())).await;
    assert_eq!(status, StatusCode::CREATED, "{r}");
    assert_eq!(
        (r["state"].as_str(), r["connectorId"].as_u64()),
        (Some("Requested"), Some(2))
    );
    let path = format!("/v1/me/reservations/CP-A/{}", r["reservationId"]);
    assert_eq!(f.call("GET", &path, &alice, None).await.0, StatusCode::OK);
    let (_, mine) = f.call("GET", "/v1/me/reservations?state=Requested", &alice, None).await;
    assert_eq!(mine["reservations"].as_array().unwrap().len(), 1);

    // The station view shows it Reserved, and Alice that it is hers.
    let (_, view) = f.call("GET", "/v1/stations/CP-A", &alice, None).await;
    assert_eq!(view["connectors"][1]["status"], "Reserved");
    assert_eq!(view["connectors"][1]["reservedForYou"], true);
    let (_, view) = f.call("GET", "/v1/stations/CP-A", &bob, None).await;
    assert_eq!(view["connectors"][1]["reservedForYou"], false);
    assert_eq!(view["connectors"][0]["status"], "Unknown");

    // Bob neither sees it nor takes the connector, nor starts on it; another connector is his.
    assert_eq!(f.call("GET", &path, &bob, None).await.0, StatusCode::NOT_FOUND);
    assert_eq!(f.call("DELETE", &path, &bob, None).await.0, StatusCode::NOT_FOUND);
    let (_, listed) = f.call("GET", "/v1/me/reservations", &bob, None).await;
    assert_eq!(listed["reservations"], json!([]));
    let bobs = json!({"stationId": "CP-A", "idToken": "BOB-TAG", "connector": 2, "minutes": 15});
    let (status, problem) = f.call("POST", "/v1/me/reservations", &bob, Some(bobs)).await;
    assert_eq!(status, StatusCode::CONFLICT, "{problem}");
    assert!(
        problem["detail"].as_str().unwrap().contains("reserved by someone else"),
        "{problem}"
    );
    let start = json!({"stationId": "CP-A", "idToken": "BOB-TAG", "connector": 2});
    let (status, problem) = f.call("POST", "/v1/charging/start", &bob, Some(start)).await;
    assert_eq!(status, StatusCode::CONFLICT, "{problem}");
    assert!(
        problem["detail"]
            .as_str()
            .unwrap()
            .contains("reserved for someone else"),
        "{problem}"
    );
    // Alice starts on it without naming it: the remote start names her connector.
    let start = json!({"stationId": "CP-A", "idToken": "ALICE-TAG"});
    let (status, command) = f.call("POST", "/v1/charging/start", &alice, Some(start)).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{command}");
    assert_eq!(command["request"], json!({"connectorId": 2, "idTag": "ALICE-TAG"}));

    // A second reservation of Alice's is refused while the first is active.
    let other = json!({"stationId": "CP-A", "idToken": "ALICE-TAG", "connector": 1, "minutes": 5});
    let (status, problem) = f.call("POST", "/v1/me/reservations", &alice, Some(other)).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert!(
        problem["detail"]
            .as_str()
            .unwrap()
            .contains("already have an active reservation")
    );

    // Operators: their organisation's, not another's.
    let own = f.operator("op-a", "org-a");
    let stranger = f.operator("op-b", "org-b");
    let (_, listed) = f
        .call("GET", "/v1/operator/reservations?stationId=CP-A", &own, None)
        .await;
    assert_eq!(listed["reservations"].as_array().unwrap().len(), 1);
    let (_, listed) = f.call("GET", "/v1/operator/reservations", &stranger, None).await;
    assert_eq!(listed["reservations"], json!([]));
    let operator_path = path.replace("/v1/me/", "/v1/operator/");
    assert_eq!(
        f.call("GET", &operator_path, &stranger, None).await.0,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        f.call("DELETE", &operator_path, &stranger, None).await.0,
        StatusCode::NOT_FOUND
    );

    // Alice cancels; a second cancel is a conflict with the state it is in.
    let (status, cancelled) = f.call("DELETE", &path, &alice, None).await;
    assert_eq!(
        (status, cancelled["state"].as_str()),
        (StatusCode::OK, Some("Cancelled"))
    );
    let (status, problem) = f.call("DELETE", &path, &alice, None).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert!(problem["detail"].as_str().unwrap().contains("Cancelled"));
    // Now Bob may have it.
    let bobs = json!({"stationId": "CP-A", "idToken": "BOB-TAG", "connector": 2, "minutes": 15});
    assert_eq!(
        f.call("POST", "/v1/me/reservations", &bob, Some(bobs)).await.0,
        StatusCode::CREATED
    );
    // And an operator of org-a cancels Bob's.
    let (_, listed) = f
        .call("GET", "/v1/operator/reservations?state=Requested", &own, None)
        .await;
    let id = listed["reservations"][0]["reservationId"].clone();
    let (status, cancelled) = f
        .call("DELETE", &format!("/v1/operator/reservations/CP-A/{id}"), &own, None)
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(cancelled["reason"], "cancelled by operator op-a");
}

#[tokio::test]
async fn bad_reservation_requests_get_problems() {
    let f = fixture().await;
    let alice = f.token("alice", &[Role::Driver]);
    let cases = [
        (
            json!({"stationId": "CP-A", "idToken": "ALICE-TAG", "minutes": 0}),
            StatusCode::BAD_REQUEST,
            "1 to 30 minutes",
        ),
        (
            json!({"stationId": "CP-A", "idToken": "ALICE-TAG", "minutes": 31}),
            StatusCode::BAD_REQUEST,
            "1 to 30 minutes",
        ),
        (
            json!({"stationId": "CP-A", "idToken": "ALICE-TAG", "minutes": 5, "connectorType": "cBanana"}),
            StatusCode::BAD_REQUEST,
            "connectorType",
        ),
        (
            json!({"stationId": "CP-A", "idToken": "BOB-TAG", "minutes": 5}),
            StatusCode::NOT_FOUND,
            "no such id token",
        ),
        (
            json!({"stationId": "CP-Z", "idToken": "ALICE-TAG", "minutes": 5}),
            StatusCode::NOT_FOUND,
            "no station",
        ),
        (
            json!({"stationId": "CP-A", "idToken": "ALICE-TAG", "minutes": 5, "connector": 9}),
            StatusCode::NOT_FOUND,
            "has no connector 9",
        ),
        (
            json!({"stationId": "CP-A", "idToken": "ALICE-TAG", "minutes": 5, "connector": 0}),
            StatusCode::CONFLICT,
            "any connector",
        ),
        (
            json!({"stationId": "CP-A", "idToken": "ALICE-TAG", "minutes": 5, "connectorType": "cCCS2"}),
            StatusCode::NOT_FOUND,
            "no connector of type cCCS2",
        ),
        (
            json!({"stationId": "CP-A", "minutes": 5}),
            StatusCode::BAD_REQUEST,
            "idToken",
        ),
        (
            json!({"stationId": "CP-A", "idToken": "ALICE-TAG", "minutes": -1}),
            StatusCode::BAD_REQUEST,
            "minutes",
        ),
    ];
    for (body, status, words) in cases {
        let (got, problem) = f.call("POST", "/v1/me/reservations", &alice, Some(body.clone())).await;
        assert_eq!(got, status, "{body}: {problem}");
        assert!(problem["detail"].as_str().unwrap().contains(words), "{body}: {problem}");
    }
    for path in [
        "/v1/me/reservations/CP-A/0",
        "/v1/me/reservations/CP-A/x",
        "/v1/me/reservations?state=Maybe",
    ] {
        assert_eq!(
            f.call("GET", path, &alice, None).await.0,
            StatusCode::BAD_REQUEST,
            "{path}"
        );
    }
    let operator = f.token("op", &[Role::Operator]);
    let body = json!({"stationId": "CP-A", "idToken": "ALICE-TAG", "minutes": 5});
    assert_eq!(
        f.call("POST", "/v1/me/reservations", &operator, Some(body)).await.0,
        StatusCode::FORBIDDEN
    );
}
