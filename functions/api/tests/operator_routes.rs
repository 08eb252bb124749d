//! The operator routes in-process, on the in-memory ports: an organisation's stations (register,
//! change, rotate, decommission, list, status history, commands) and id tokens, and that another
//! organisation's objects are 404 (409 when an id is taken).

use api::App;
use axum::body::Body;
use axum::http::{HeaderMap, Request, StatusCode, header};
use chrono::{Duration as Span, Utc};
use csms_auth::{DevIssuer, Role, Verifier};
use csms_domain::command::CommandRecord;
use csms_domain::memory::MemoryWorld;
use csms_domain::ports::{AvailabilityRepository, CommandStore, StationRepository, StatusHistory, TokenRepository};
use csms_domain::registry::{self, NewStation};
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
    for (id, organisation) in [("CP-A", "org-a"), ("CP-B", "org-b")] {
        let new = NewStation {
            id: StationId::parse(id).unwrap(),
            protocols: vec![ProtocolVersion::Ocpp16],
            registration: Registration::Accepted,
            site: None,
            organisation: Some(organisation.into()),
            location: None,
            connectors: Vec::new(),
            password: None,
        };
        registry::register(&services, new, Utc::now()).await.unwrap();
        // Its operator `op-<organisation>`: the membership, not the token, names the organisation.
        let org = organisation::OrganisationId::parse(organisation).unwrap();
        let store = &*services.organisations;
        organisation::create(store, org.clone(), organisation.into(), Utc::now())
            .await
            .unwrap();
        let subject = organisation::Subject::parse(&format!("op-{organisation}")).unwrap();
        organisation::add_operator(store, &org, subject, Utc::now())
            .await
            .unwrap();
    }
    // A token the command-line tool registered without an organisation.
    let unassigned = TokenRecord {
        token: IdToken::parse_16("CLI-TAG").unwrap(),
        status: AuthorizationStatus::Accepted,
        expiry: None,
        group: None,
        owner: None,
        organisation: None,
    };
    services.charging.tokens.put(&unassigned).await.unwrap();
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

struct Answer {
    status: StatusCode,
    body: Value,
    headers: HeaderMap,
}

impl Fixture {
    fn operator(&self, organisation: &str) -> String {
        self.issuer.mint(
            &format!("op-{organisation}"),
            &[Role::Operator],
            None,
            AUDIENCE,
            Duration::from_secs(600),
        )
    }

    fn driver(&self, subject: &str) -> String {
        self.issuer
            .mint(subject, &[Role::Driver], None, AUDIENCE, Duration::from_secs(600))
    }

    async fn call(&self, method: &str, path: &str, token: &str, body: Option<Value>) -> Answer {
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
        let headers = response.headers().clone();
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        Answer {
            status,
            body: serde_json::from_slice(&bytes).unwrap_or(Value::Null),
            headers,
        }
    }
}

fn station_body(id: &str) -> Value {
    json!({
        "stationId": id,
        "protocols": ["ocpp2.0.1", "ocpp1.6"],
        "site": "Depot",
        "location": {"latitude": 52.5, "longitude": 13.4},
        "connectors": [
            {"evseId": 1, "connectorId": 1, "type": "cCCS2", "maxPowerW": 150000},
            {"evseId": 2, "connectorId": 1, "type": "cType2", "maxPowerW": 22000},
        ],
    })
}

#[tokio::test]
async fn an_operator_registers_a_station_and_sees_its_password_once() {
    let f = fixture().await;
    let olga = f.operator("org-a");
    let created = f
        .call("POST", "/v1/operator/stations", &olga, Some(station_body("CP-NEW")))
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    assert_eq!(created.headers[header::CACHE_CONTROL], "no-store");
    let password = created.body["password"].as_str().unwrap().to_owned();
    let stored = f
        .world
        .stations
        .get(&StationId::parse("CP-NEW").unwrap())
        .await
        .unwrap()
        .unwrap();
    assert!(stored.password_hash.verify(&password));
    assert_eq!(stored.organisation.as_deref(), Some("org-a"));
    assert_eq!(stored.connectors.len(), 2);

    // Taken ids are 409 whoever has them: ours, and another organisation's.
    for taken in ["CP-NEW", "CP-B"] {
        let again = f
            .call("POST", "/v1/operator/stations", &olga, Some(station_body(taken)))
            .await;
        assert_eq!(again.status, StatusCode::CONFLICT, "{taken}");
        assert_eq!(again.headers[header::CONTENT_TYPE], "application/problem+json");
    }
    // Bad input is a 400 problem, never stored.
    let mut bad_bodies = Vec::new();
    for (field, value) in [
        ("stationId", json!("a:b")),
        ("protocols", json!(["ocpp2.1"])),
        ("protocols", json!([])),
        ("protocols", json!(["ocpp1.6", "ocpp1.6"])),
        ("site", json!("")),
        ("location", json!({"latitude": 91, "longitude": 0})),
        (
            "connectors",
            json!([{"connectorId": 1, "type": "cCHAdeMO", "maxPowerW": 50000}]),
        ),
        (
            "connectors",
            json!([{"connectorId": 0, "type": "cG105", "maxPowerW": 50000}]),
        ),
        (
            "connectors",
            json!([{"connectorId": 1, "type": "cG105", "maxPowerW": 0}]),
        ),
        (
            "connectors",
            json!([{"connectorId": 1, "type": "cG105", "maxPowerW": 50000, "volts": 400}]),
        ),
        ("registration", json!("Maybe")),
        ("organisation", json!("org-b")),
    ] {
        let mut body = station_body("CP-BAD");
        body[field] = value;
        bad_bodies.push(body);
    }
    bad_bodies.push(json!(["not an object"]));
    for body in bad_bodies {
        let answer = f.call("POST", "/v1/operator/stations", &olga, Some(body.clone())).await;
        assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{body}");
    }
    assert!(
        f.world
            .stations
            .get(&StationId::parse("CP-BAD").unwrap())
            .await
            .unwrap()
            .is_none()
    );

    // Not an operator: 403; an operator without an organisation: 403.
    assert_eq!(
        f.call(
            "POST",
            "/v1/operator/stations",
            &f.driver("dave"),
            Some(station_body("CP-X"))
        )
        .await
        .status,
        StatusCode::FORBIDDEN
    );
}

#[tokio::test]
async fn an_organisations_stations_come_in_pages_with_live_status() {
    let f = fixture().await;
    let olga = f.operator("org-a");
    for id in ["CP-A2", "CP-A3"] {
        let created = f
            .call("POST", "/v1/operator/stations", &olga, Some(station_body(id)))
            .await;
        assert_eq!(created.status, StatusCode::CREATED);
    }
    let mut seen = Vec::new();
    let mut path = "/v1/operator/stations?limit=2".to_owned();
    loop {
        let page = f.call("GET", &path, &olga, None).await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.body);
        for s in page.body["stations"].as_array().unwrap() {
            seen.push(s["stationId"].as_str().unwrap().to_owned());
            assert_eq!(s["online"], false);
        }
        match page.body["nextCursor"].as_str() {
            Some(cursor) => path = format!("/v1/operator/stations?limit=2&cursor={cursor}"),
            None => break,
        }
    }
    assert_eq!(seen, ["CP-A", "CP-A2", "CP-A3"]);
    let other = f.call("GET", "/v1/operator/stations", &f.operator("org-b"), None).await;
    assert_eq!(other.body["stations"].as_array().unwrap().len(), 1);
    assert_eq!(other.body["stations"][0]["stationId"], "CP-B");
    for bad in ["limit=0", "limit=101", "limit=x", "cursor=", "extra=1"] {
        let answer = f
            .call("GET", &format!("/v1/operator/stations?{bad}"), &olga, None)
            .await;
        assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{bad}");
    }
}

#[tokio::test]
async fn an_online_station_shows_the_version_its_connection_speaks() {
    let f = fixture().await;
    let olga = f.operator("org-a");
    let id = StationId::parse("CP-A").unwrap();
    let offline = f.call("GET", "/v1/operator/stations/CP-A", &olga, None).await;
    assert!(offline.body.get("connection").is_none(), "{}", offline.body);
    let services = f.world.services(BootPolicy::default());
    let connected_at = Utc::now();
    let connection = Connection {
        connection_id: "conn-1".into(),
        station_id: id.clone(),
        organisation: None,
        protocol: ProtocolVersion::Ocpp16,
        boot: None,
        connected_at,
        last_seen_at: connected_at,
    };
    services.connections.put(&connection).await.unwrap();
    let station = services.stations.get(&id).await.unwrap().unwrap();
    let checked = csms_domain::ports::CheckedAgainst {
        password_hash: &station.password_hash,
        registration: station.registration,
    };
    services
        .stations
        .attach_connection(&id, "conn-1", checked)
        .await
        .unwrap();
    let one = f.call("GET", "/v1/operator/stations/CP-A", &olga, None).await;
    assert_eq!(one.body["online"], true);
    assert_eq!(one.body["connection"]["protocol"], "ocpp1.6");
    let listed = f.call("GET", "/v1/operator/stations", &olga, None).await;
    assert_eq!(
        listed.body["stations"][0]["connection"]["protocol"], "ocpp1.6",
        "{}",
        listed.body
    );
}

#[tokio::test]
async fn declared_connectors_show_with_their_live_status() {
    let f = fixture().await;
    let olga = f.operator("org-a");
    f.call("POST", "/v1/operator/stations", &olga, Some(station_body("CP-LIVE")))
        .await;
    let id = StationId::parse("CP-LIVE").unwrap();
    let now = Utc::now();
    for (evse, status) in [(Some(1), "Occupied"), (None, "Available")] {
        let live = Availability {
            station_id: id.clone(),
            component: Component {
                evse,
                connector: if evse.is_some() { 1 } else { 0 },
            },
            status: status.into(),
            error_code: None,
            since: now,
            reported_at: now,
        };
        f.world.availability.replace(&live, None).await.unwrap();
    }
    // Drivers and operators get the same merged connectors.
    for (path, token) in [
        ("/v1/stations/CP-LIVE", f.driver("dave")),
        ("/v1/operator/stations/CP-LIVE", olga.clone()),
    ] {
        let view = f.call("GET", path, &token, None).await;
        assert_eq!(view.status, StatusCode::OK);
        let connectors = view.body["connectors"].as_array().unwrap().clone();
        assert_eq!(connectors.len(), 3, "{connectors:?}");
        // A status for something not declared (here 1.6's connector 0) still shows, first.
        assert_eq!(connectors[0]["connectorId"], 0);
        assert!(connectors[0].get("type").is_none());
        assert_eq!(
            connectors[1],
            json!({"evseId": 1, "connectorId": 1, "type": "cCCS2", "maxPowerW": 150000, "status": "Occupied",
                   "since": connectors[1]["since"]})
        );
        // Declared but not reported yet.
        assert_eq!(
            connectors[2],
            json!({"evseId": 2, "connectorId": 1, "type": "cType2", "maxPowerW": 22000, "status": "Unknown"})
        );
    }
    let view = f.call("GET", "/v1/operator/stations/CP-LIVE", &olga, None).await;
    assert_eq!(view.body["protocols"], json!(["ocpp2.0.1", "ocpp1.6"]));
    assert_eq!(view.body["registration"], "Accepted");
}

#[tokio::test]
async fn an_operator_changes_rotates_and_decommissions_only_their_stations() {
    let f = fixture().await;
    let olga = f.operator("org-a");
    f.call("POST", "/v1/operator/stations", &olga, Some(station_body("CP-C")))
        .await;
    let id = StationId::parse("CP-C").unwrap();

    let change = json!({"protocols": ["ocpp1.6"], "registration": "Pending", "site": null, "location": null,
                        "connectors": [{"connectorId": 1, "type": "sType2", "maxPowerW": 11000}]});
    let changed = f
        .call("PATCH", "/v1/operator/stations/CP-C", &olga, Some(change.clone()))
        .await;
    assert_eq!(changed.status, StatusCode::OK, "{}", changed.body);
    assert_eq!(changed.body["protocols"], json!(["ocpp1.6"]));
    assert_eq!(changed.body["registration"], "Pending");
    assert!(changed.body.get("site").is_none() && changed.body.get("location").is_none());
    assert_eq!(changed.body["connectors"][0]["type"], "sType2");
    // Fields left out stay.
    let kept = f
        .call(
            "PATCH",
            "/v1/operator/stations/CP-C",
            &olga,
            Some(json!({"site": "Yard"})),
        )
        .await;
    assert_eq!(kept.body["protocols"], json!(["ocpp1.6"]));
    assert_eq!(kept.body["site"], "Yard");
    for bad in [
        json!({"protocols": []}),
        json!({"registration": "Sometimes"}),
        json!({"connectors": [{"connectorId": 1, "type": "cType2", "maxPowerW": 1}, {"connectorId": 1, "type": "cType2", "maxPowerW": 1}]}),
        json!({"organisation": "org-b"}),
    ] {
        let answer = f
            .call("PATCH", "/v1/operator/stations/CP-C", &olga, Some(bad.clone()))
            .await;
        assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{bad}");
    }

    let before = f.world.stations.get(&id).await.unwrap().unwrap().password_hash;
    let rotated = f.call("POST", "/v1/operator/stations/CP-C/password", &olga, None).await;
    assert_eq!(rotated.status, StatusCode::OK);
    assert_eq!(rotated.headers[header::CACHE_CONTROL], "no-store");
    let after = f.world.stations.get(&id).await.unwrap().unwrap().password_hash;
    assert!(after.verify(rotated.body["password"].as_str().unwrap()));
    assert_ne!(before, after);

    // Another organisation's station: 404 for every route, and nothing changes.
    let bob = f.operator("org-b");
    for (method, path, body) in [
        ("GET", "/v1/operator/stations/CP-C", None),
        (
            "PATCH",
            "/v1/operator/stations/CP-C",
            Some(json!({"registration": "Rejected"})),
        ),
        ("POST", "/v1/operator/stations/CP-C/password", None),
        ("DELETE", "/v1/operator/stations/CP-C", None),
        ("GET", "/v1/operator/stations/CP-C/status-history", None),
        ("GET", "/v1/operator/stations/CP-C/commands", None),
    ] {
        let answer = f.call(method, path, &bob, body).await;
        assert_eq!(answer.status, StatusCode::NOT_FOUND, "{method} {path}");
    }
    assert_eq!(f.world.stations.get(&id).await.unwrap().unwrap().password_hash, after);

    // Decommissioning removes the record and closes the live connection.
    let station = f.world.stations.get(&id).await.unwrap().unwrap();
    let checked = csms_domain::ports::CheckedAgainst {
        password_hash: &station.password_hash,
        registration: station.registration,
    };
    f.world
        .stations
        .attach_connection(&id, "conn-1", checked)
        .await
        .unwrap();
    let gone = f.call("DELETE", "/v1/operator/stations/CP-C", &olga, None).await;
    assert_eq!(gone.status, StatusCode::NO_CONTENT);
    assert!(f.world.stations.get(&id).await.unwrap().is_none());
    assert_eq!(*f.world.channel.0.lock().unwrap(), ["conn-1"]);
    assert_eq!(
        f.call("DELETE", "/v1/operator/stations/CP-C", &olga, None).await.status,
        StatusCode::NOT_FOUND
    );
    // The id may be registered again.
    let again = f
        .call("POST", "/v1/operator/stations", &olga, Some(station_body("CP-C")))
        .await;
    assert_eq!(again.status, StatusCode::CREATED);
}

#[tokio::test]
async fn status_history_and_commands_come_newest_first_in_pages() {
    let f = fixture().await;
    let olga = f.operator("org-a");
    let id = StationId::parse("CP-A").unwrap();
    let start = Utc::now() - Span::minutes(10);
    for (i, status) in ["Available", "Occupied", "Faulted"].into_iter().enumerate() {
        let at = start + Span::minutes(i as i64);
        f.world
            .history
            .append(&StatusReport {
                station_id: id.clone(),
                component: Component {
                    evse: None,
                    connector: 1,
                },
                status: status.into(),
                error_code: None,
                info: None,
                vendor_error_code: None,
                timestamp: at,
                // Received now, whatever the station's clock says: since its registration.
                received_at: Utc::now(),
            })
            .await
            .unwrap();
    }
    let first = f
        .call("GET", "/v1/operator/stations/CP-A/status-history?limit=2", &olga, None)
        .await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.body);
    let statuses = |page: &Value| -> Vec<String> {
        page["entries"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["status"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(statuses(&first.body), ["Faulted", "Occupied"]);
    let cursor = first.body["nextCursor"].as_str().unwrap();
    let second = f
        .call(
            "GET",
            &format!("/v1/operator/stations/CP-A/status-history?limit=2&cursor={cursor}"),
            &olga,
            None,
        )
        .await;
    assert_eq!(statuses(&second.body), ["Available"]);
    assert!(second.body.get("nextCursor").is_none());

    // Three commands, recorded as the commands function would.
    for _ in 0..3 {
        let reset = json!({"action": "Reset", "payload": {"type": "Soft"}});
        let answer = f
            .call("POST", "/v1/operator/stations/CP-A/commands", &olga, Some(reset))
            .await;
        assert_eq!(answer.status, StatusCode::ACCEPTED, "{}", answer.body);
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    let submitted = f.world.command_queue.submitted.lock().unwrap().clone();
    for command in &submitted {
        f.world
            .commands
            .create(&CommandRecord::queued(command.clone()))
            .await
            .unwrap();
    }
    let page = f
        .call("GET", "/v1/operator/stations/CP-A/commands?limit=2", &olga, None)
        .await;
    assert_eq!(page.status, StatusCode::OK);
    let ids = |page: &Value| -> Vec<String> {
        page["commands"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["commandId"].as_str().unwrap().to_owned())
            .collect()
    };
    let newest: Vec<String> = submitted.iter().rev().map(|c| c.id.to_string()).collect();
    assert_eq!(ids(&page.body), newest[..2]);
    let cursor = page.body["nextCursor"].as_str().unwrap();
    let rest = f
        .call(
            "GET",
            &format!("/v1/operator/stations/CP-A/commands?limit=2&cursor={cursor}"),
            &olga,
            None,
        )
        .await;
    assert_eq!(ids(&rest.body), newest[2..]);
}

#[tokio::test]
async fn an_organisation_manages_its_own_id_tokens_only() {
    let f = fixture().await;
    let olga = f.operator("org-a");
    let bob = f.operator("org-b");
    let card = json!({"idToken": "04a1b2c3", "type": "ISO14443", "expiry": "2099-01-01T00:00:00Z"});
    let created = f.call("POST", "/v1/operator/tokens", &olga, Some(card.clone())).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    assert_eq!(created.body["status"], "Accepted");
    assert_eq!(created.body["type"], "ISO14443");
    // Registering it again replaces it (200). Another organisation, or the command-line tool
    // without one, registers the same value in its own registry (tests/tenancy.rs).
    assert_eq!(
        f.call("POST", "/v1/operator/tokens", &olga, Some(card.clone()))
            .await
            .status,
        StatusCode::OK
    );
    // Dave makes it his by redeeming a claim code (tests/tenancy.rs).
    let code = f
        .call("POST", "/v1/operator/tokens/04a1b2c3/claim-code", &olga, None)
        .await;
    assert_eq!(code.status, StatusCode::CREATED, "{}", code.body);
    assert_eq!(code.headers[header::CACHE_CONTROL], "no-store");
    let claim = json!({"claimCode": code.body["claimCode"]});
    let mine = f.call("POST", "/v1/me/tokens", &f.driver("dave"), Some(claim)).await;
    assert_eq!(mine.status, StatusCode::CREATED, "{}", mine.body);
    let mine = f.call("GET", "/v1/me/tokens", &f.driver("dave"), None).await;
    assert_eq!(mine.body["tokens"][0]["idToken"], "04a1b2c3");

    // Case does not matter in the path; another organisation gets 404 everywhere.
    let read = f.call("GET", "/v1/operator/tokens/04A1B2C3", &olga, None).await;
    assert_eq!(read.status, StatusCode::OK);
    assert_eq!(read.body["owner"], "dave");
    for (method, body) in [
        ("GET", None),
        ("PATCH", Some(json!({"status": "Blocked"}))),
        ("DELETE", None),
    ] {
        let answer = f.call(method, "/v1/operator/tokens/04a1b2c3", &bob, body).await;
        assert_eq!(answer.status, StatusCode::NOT_FOUND, "{method}");
    }
    assert_eq!(
        f.call("GET", "/v1/operator/tokens/CLI-TAG", &olga, None).await.status,
        StatusCode::NOT_FOUND
    );

    let blocked = f
        .call(
            "PATCH",
            "/v1/operator/tokens/04a1b2c3",
            &olga,
            Some(json!({"status": "Blocked", "expiry": null})),
        )
        .await;
    assert_eq!(blocked.status, StatusCode::OK, "{}", blocked.body);
    assert_eq!(blocked.body["status"], "Blocked");
    assert_eq!(blocked.body["effectiveStatus"], "Blocked");
    assert!(blocked.body.get("expiry").is_none());
    assert_eq!(blocked.body["owner"], "dave");
    let stored = f
        .world
        .charging
        .tokens
        .get(Some("org-a"), &IdToken::parse_16("04A1B2C3").unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.status, AuthorizationStatus::Blocked);
    assert_eq!(stored.organisation.as_deref(), Some("org-a"));

    for bad in [
        json!({"idToken": ""}),
        json!({"idToken": "x".repeat(21)}),
        json!({"idToken": "x", "type": "Magic"}),
        json!({"idToken": "x", "status": "Maybe"}),
        json!({"idToken": "x", "owner": "dave"}),
        json!({"idToken": "x", "expiry": "tomorrow"}),
        json!({"idToken": "x", "organisation": "org-b"}),
    ] {
        let answer = f.call("POST", "/v1/operator/tokens", &olga, Some(bad.clone())).await;
        assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{bad}");
    }

    // Pages of the organisation's tokens only.
    for n in 0..3 {
        let token = json!({"idToken": format!("FOB-{n}")});
        assert_eq!(
            f.call("POST", "/v1/operator/tokens", &olga, Some(token)).await.status,
            StatusCode::CREATED
        );
    }
    let mut seen = Vec::new();
    let mut path = "/v1/operator/tokens?limit=3".to_owned();
    loop {
        let page = f.call("GET", &path, &olga, None).await;
        assert_eq!(page.status, StatusCode::OK);
        for t in page.body["tokens"].as_array().unwrap() {
            seen.push(t["idToken"].as_str().unwrap().to_owned());
        }
        match page.body["nextCursor"].as_str() {
            Some(cursor) => path = format!("/v1/operator/tokens?limit=3&cursor={cursor}"),
            None => break,
        }
    }
    assert_eq!(seen, ["04a1b2c3", "FOB-0", "FOB-1", "FOB-2"]);
    let theirs = f.call("GET", "/v1/operator/tokens", &bob, None).await;
    assert_eq!(theirs.body["tokens"], json!([]));

    assert_eq!(
        f.call("DELETE", "/v1/operator/tokens/04a1b2c3", &olga, None)
            .await
            .status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        f.call("GET", "/v1/operator/tokens/04a1b2c3", &olga, None).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        f.call("GET", "/v1/operator/tokens", &f.driver("dave"), None)
            .await
            .status,
        StatusCode::FORBIDDEN
    );
}

#[tokio::test]
async fn the_openapi_document_describes_the_operator_routes() {
    let f = fixture().await;
    let document = f.call("GET", "/openapi.json", "", None).await.body;
    let paths = &document["paths"];
    for (path, methods) in [
        ("/v1/operator/stations", &["get", "post"][..]),
        ("/v1/operator/stations/{stationId}", &["get", "patch", "delete"]),
        ("/v1/operator/stations/{stationId}/password", &["post"]),
        ("/v1/operator/stations/{stationId}/status-history", &["get"]),
        ("/v1/operator/stations/{stationId}/commands", &["get", "post"]),
        ("/v1/operator/tokens", &["get", "post"]),
        ("/v1/operator/tokens/{idToken}", &["get", "patch", "delete"]),
    ] {
        for method in methods {
            assert!(paths[path][method].is_object(), "{method} {path} missing");
        }
    }
    assert!(paths["/v1/operator/stations"]["post"]["responses"]["409"].is_object());
    assert!(paths["/v1/operator/tokens/{idToken}/claim-code"]["post"].is_object());
    let list_params = paths["/v1/operator/stations/{stationId}/status-history"]["get"]["parameters"].to_string();
    assert!(list_params.contains("cursor") && list_params.contains("limit"));
}
