//! Tenancy and attribution through the API, in-process on the in-memory ports: a driver binds a
//! token to themselves only by accepting it (a claim code); operators cannot attribute sessions to
//! drivers who never agreed; a token registration says nothing about other organisations; a
//! station id registered again by another organisation shows nothing of its earlier life.

use api::App;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use chrono::{Duration as Span, Utc};
use csms_auth::{DevIssuer, Role, Verifier};
use csms_domain::command::CommandRecord;
use csms_domain::memory::MemoryWorld;
use csms_domain::ports::{AvailabilityRepository, CommandStore, StatusHistory, TokenRepository};
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

/// Stations CP-A (org-a) and CP-B (org-b), each organisation with its operator `op-<org>`.
async fn fixture() -> Fixture {
    let world = MemoryWorld::default();
    let services = world.services(BootPolicy::default());
    let issuer = DevIssuer::generate("http://127.0.0.1:1/issuer");
    let verifier = Verifier::new(issuer.verifier_config(AUDIENCE), Arc::new(issuer.clone()));
    for (id, org) in [("CP-A", "org-a"), ("CP-B", "org-b")] {
        let new = NewStation {
            id: StationId::parse(id).unwrap(),
            protocols: vec![ProtocolVersion::Ocpp16],
            registration: Registration::Accepted,
            site: None,
            organisation: Some(org.into()),
            location: None,
            connectors: Vec::new(),
            password: None,
        };
        registry::register(&services, new, Utc::now()).await.unwrap();
        let id = OrganisationId::parse(org).unwrap();
        let store = &*services.organisations;
        organisation::create(store, id.clone(), org.into(), Utc::now())
            .await
            .unwrap();
        let subject = Subject::parse(&format!("op-{org}")).unwrap();
        organisation::add_operator(store, &id, subject, Utc::now())
            .await
            .unwrap();
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
    fn operator(&self, org: &str) -> String {
        let subject = format!("op-{org}");
        self.issuer
            .mint(&subject, &[Role::Operator], None, AUDIENCE, Duration::from_secs(600))
    }

    fn driver(&self, subject: &str) -> String {
        self.issuer
            .mint(subject, &[Role::Driver], None, AUDIENCE, Duration::from_secs(600))
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

/// Item 17: registering a token value another organisation holds answers as if it were free.
#[tokio::test]
async fn a_token_registration_reveals_nothing_about_other_organisations() {
    let f = fixture().await;
    let (olga, bob) = (f.operator("org-a"), f.operator("org-b"));
    let card = json!({"idToken": "04A1B2C3", "type": "ISO14443", "expiry": "2099-01-01T00:00:00Z"});
    let (status, body) = f.call("POST", "/v1/operator/tokens", &olga, Some(card)).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");

    // WHEN another organisation registers the same value (in another case, with other settings)
    let theirs = json!({"idToken": "04a1b2c3", "status": "Blocked"});
    let (status, body) = f.call("POST", "/v1/operator/tokens", &bob, Some(theirs)).await;

    // THEN it is theirs, answered exactly like a value nobody holds
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["status"], "Blocked");
    let (status, fresh) = f
        .call(
            "POST",
            "/v1/operator/tokens",
            &bob,
            Some(json!({"idToken": "NEVER-SEEN", "status": "Blocked"})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let shape = |v: &Value| v.as_object().unwrap().keys().cloned().collect::<Vec<_>>();
    assert_eq!(shape(&body), shape(&fresh));
    // AND each organisation reads its own record; neither changed the other's
    let (_, a) = f.call("GET", "/v1/operator/tokens/04a1b2c3", &olga, None).await;
    let (_, b) = f.call("GET", "/v1/operator/tokens/04a1b2c3", &bob, None).await;
    assert_eq!(
        (a["status"].as_str(), a["type"].as_str()),
        (Some("Accepted"), Some("ISO14443"))
    );
    assert_eq!((b["status"].as_str(), b.get("type")), (Some("Blocked"), None));
    // AND deleting one leaves the other
    let (status, _) = f.call("DELETE", "/v1/operator/tokens/04A1B2C3", &bob, None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = f.call("GET", "/v1/operator/tokens/04A1B2C3", &olga, None).await;
    assert_eq!(status, StatusCode::OK);
    // AND the document promises no 409 for it
    let (_, document) = f.call("GET", "/openapi.json", "", None).await;
    assert!(document["paths"]["/v1/operator/tokens"]["post"]["responses"]["409"].is_null());
}

/// Item 16: an operator cannot bind a token to a driver; the driver binds it by redeeming the
/// claim code the operator hands them.
#[tokio::test]
async fn a_token_is_bound_to_a_driver_only_by_their_claim() {
    let f = fixture().await;
    let olga = f.operator("org-a");
    let dave = f.driver("dave");

    // An operator naming an owner is refused, at registration and by a change.
    let (status, body) = f
        .call(
            "POST",
            "/v1/operator/tokens",
            &olga,
            Some(json!({"idToken": "CARD-1", "owner": "dave"})),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    let (status, _) = f
        .call("POST", "/v1/operator/tokens", &olga, Some(json!({"idToken": "CARD-1"})))
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, body) = f
        .call(
            "PATCH",
            "/v1/operator/tokens/CARD-1",
            &olga,
            Some(json!({"owner": "dave"})),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    let (_, mine) = f.call("GET", "/v1/me/tokens", &dave, None).await;
    assert_eq!(mine["tokens"], json!([]), "nothing is Dave's before he accepts");

    // The operator gets a claim code for the card; a newer code replaces it.
    let (status, first) = f
        .call("POST", "/v1/operator/tokens/CARD-1/claim-code", &olga, None)
        .await;
    assert_eq!(status, StatusCode::CREATED, "{first}");
    let (_, issued) = f
        .call("POST", "/v1/operator/tokens/card-1/claim-code", &olga, None)
        .await;
    let code = issued["claimCode"].as_str().unwrap().to_owned();
    assert!(issued["expiresAt"].is_string());
    // Not for another organisation's operator.
    let (status, _) = f
        .call(
            "POST",
            "/v1/operator/tokens/CARD-1/claim-code",
            &f.operator("org-b"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // A wrong, or replaced, code binds nothing.
    let claim = |code: &str| json!({"claimCode": code});
    for wrong in ["AAAA-BBBB-CCCC-DDDD", first["claimCode"].as_str().unwrap()] {
        let (status, body) = f.call("POST", "/v1/me/tokens", &dave, Some(claim(wrong))).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    }

    // WHEN Dave redeems the code THEN the card is his
    let (status, body) = f
        .call("POST", "/v1/me/tokens", &dave, Some(claim(&code.to_lowercase())))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["idToken"], "CARD-1");
    let (_, mine) = f.call("GET", "/v1/me/tokens", &dave, None).await;
    assert_eq!(mine["tokens"][0]["idToken"], "CARD-1");
    let (_, read) = f.call("GET", "/v1/operator/tokens/CARD-1", &olga, None).await;
    assert_eq!(read["owner"], "dave");
    // AND the code is spent: nobody else can redeem it
    let (status, _) = f
        .call("POST", "/v1/me/tokens", &f.driver("eve"), Some(claim(&code)))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    // AND replacing the card's settings keeps its owner; the operator may unbind it
    let (status, body) = f
        .call(
            "POST",
            "/v1/operator/tokens",
            &olga,
            Some(json!({"idToken": "CARD-1", "status": "Blocked"})),
        )
        .await;
    assert_eq!(
        (status, body["owner"].as_str()),
        (StatusCode::OK, Some("dave")),
        "{body}"
    );
    let (status, body) = f
        .call(
            "PATCH",
            "/v1/operator/tokens/CARD-1",
            &olga,
            Some(json!({"owner": null})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body.get("owner").is_none());
}

/// Item 16: an operator's remote start cannot charge on a driver's token (or any token that is
/// not one of their organisation's own unbound ones), so no session is attributed to a driver
/// who did not start it.
#[tokio::test]
async fn an_operators_remote_start_cannot_use_a_drivers_token() {
    let f = fixture().await;
    let olga = f.operator("org-a");
    for (tag, owner) in [("DAVE-CARD", Some("dave")), ("SERVICE-CARD", None)] {
        let record = TokenRecord {
            token: IdToken::parse_16(tag).unwrap(),
            status: AuthorizationStatus::Accepted,
            expiry: None,
            group: None,
            owner: owner.map(Into::into),
            organisation: Some("org-a".into()),
        };
        f.world.charging.tokens.put(&record).await.unwrap();
    }
    let start = |tag: &str| json!({"action": "RemoteStartTransaction", "payload": {"idTag": tag, "connectorId": 1}});
    let path = "/v1/operator/stations/CP-A/commands";

    for tag in ["DAVE-CARD", "dave-card", "NOBODY-S-CARD"] {
        let (status, body) = f.call("POST", path, &olga, Some(start(tag))).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{tag}: {body}");
    }
    assert!(f.world.command_queue.submitted.lock().unwrap().is_empty());
    // Their own organisation's unbound card (a service card) is fine.
    let (status, body) = f.call("POST", path, &olga, Some(start("SERVICE-CARD"))).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
}

/// Item 18: a decommissioned station id, registered again by another organisation, shows that
/// organisation nothing of the earlier registration: no live status, history or commands.
#[tokio::test]
async fn a_reregistered_station_id_shows_nothing_of_its_earlier_life() {
    let f = fixture().await;
    let (olga, bob) = (f.operator("org-a"), f.operator("org-b"));
    let id = StationId::parse("CP-A").unwrap();
    // GIVEN CP-A of org-a with live status, status history and an answered command with an idTag
    let at = Utc::now() - Span::minutes(5);
    let report = StatusReport {
        station_id: id.clone(),
        component: Component {
            evse: None,
            connector: 1,
        },
        status: "Charging".into(),
        error_code: Some("NoError".into()),
        info: None,
        vendor_error_code: None,
        timestamp: at,
        received_at: Utc::now(),
    };
    f.world.history.append(&report).await.unwrap();
    let view = Availability {
        station_id: id.clone(),
        component: report.component,
        status: "Charging".into(),
        error_code: None,
        since: at,
        reported_at: at,
    };
    f.world.availability.replace(&view, None).await.unwrap();
    let service_card = TokenRecord {
        token: IdToken::parse_16("SECRET-TAG").unwrap(),
        status: AuthorizationStatus::Accepted,
        expiry: None,
        group: None,
        owner: None,
        organisation: Some("org-a".into()),
    };
    f.world.charging.tokens.put(&service_card).await.unwrap();
    let (_, history) = f
        .call("GET", "/v1/operator/stations/CP-A/status-history", &olga, None)
        .await;
    assert_eq!(history["entries"].as_array().unwrap().len(), 1, "{history}");
    let start = json!({"action": "RemoteStartTransaction", "payload": {"idTag": "SECRET-TAG"}});
    f.call("POST", "/v1/operator/stations/CP-A/commands", &olga, Some(start))
        .await;
    let submitted = f.world.command_queue.submitted.lock().unwrap().clone();
    for command in submitted {
        f.world.commands.create(&CommandRecord::queued(command)).await.unwrap();
    }
    let (_, commands) = f.call("GET", "/v1/operator/stations/CP-A/commands", &olga, None).await;
    assert_eq!(commands["commands"].as_array().unwrap().len(), 1, "{commands}");

    // WHEN org-a decommissions it and org-b registers the same id
    let (status, _) = f.call("DELETE", "/v1/operator/stations/CP-A", &olga, None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    tokio::time::sleep(Duration::from_millis(5)).await;
    let new = json!({"stationId": "CP-A", "protocols": ["ocpp1.6"]});
    let (status, body) = f.call("POST", "/v1/operator/stations", &bob, Some(new)).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");

    // THEN org-b sees none of it
    let (status, station) = f.call("GET", "/v1/operator/stations/CP-A", &bob, None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        station["connectors"],
        json!([]),
        "no live status of the old pile: {station}"
    );
    let (_, history) = f
        .call("GET", "/v1/operator/stations/CP-A/status-history", &bob, None)
        .await;
    assert_eq!(history["entries"], json!([]), "{history}");
    let (_, commands) = f.call("GET", "/v1/operator/stations/CP-A/commands", &bob, None).await;
    assert_eq!(commands["commands"], json!([]), "{commands}");
    // AND what org-b's own station reports from now on shows
    let now = Utc::now();
    let mine = StatusReport {
        status: "Available".into(),
        timestamp: now,
        received_at: now,
        ..report
    };
    f.world.history.append(&mine).await.unwrap();
    let (_, history) = f
        .call("GET", "/v1/operator/stations/CP-A/status-history", &bob, None)
        .await;
    assert_eq!(history["entries"].as_array().unwrap().len(), 1, "{history}");
    assert_eq!(history["entries"][0]["status"], "Available");
}
