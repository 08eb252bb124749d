//! What the `$default` handler tests share: a registered, connected station on in-memory ports,
//! and sending sample events from `events/`.

// Each test binary uses some of these.
#![allow(dead_code)]

use aws_lambda_events::apigw::ApiGatewayWebsocketProxyRequest;
use aws_lambda_events::encodings::Body;
use csms_domain::connection::{self, ConnectAttempt};
use csms_domain::memory::MemoryWorld;
use csms_domain::registry::{self, NewStation};
use csms_domain::*;
use serde_json::{Value, json};

pub const CONNECTION: &str = "Vq1bYcT0IAMCJxw=";

#[macro_export]
macro_rules! event {
    ($name:literal) => {
        include_str!(concat!("../../../events/", $name))
    };
}

pub async fn connected(protocol: &str, registration: Registration) -> (MemoryWorld, Services) {
    let world = MemoryWorld::default();
    let services = world.services(BootPolicy {
        heartbeat_interval: 240,
        retry_interval: 30,
    });
    let new = NewStation {
        id: StationId::parse("CP-DEMO-1").unwrap(),
        protocols: ProtocolVersion::ALL.to_vec(),
        registration,
        site: None,
        organisation: None,
        location: None,
        connectors: Vec::new(),
        password: Some(Password::parse("demo-password-1234").unwrap()),
    };
    registry::register(&services, new, chrono::Utc::now()).await.unwrap();
    let attempt = ConnectAttempt {
        connection_id: CONNECTION,
        station_id: "CP-DEMO-1",
        credentials: Some(("CP-DEMO-1", "demo-password-1234")),
        offered_protocols: protocol,
        now: chrono::Utc::now(),
    };
    connection::open(&services, attempt).await.unwrap().unwrap();
    (world, services)
}

pub async fn send(services: &Services, event_json: &str) -> Option<Value> {
    let reservations = csms_domain::reservation::memory::MemoryReservationWorld::default();
    send_with(services, &reservations.services(Default::default()), event_json).await
}

/// Like [`send`], with the reservation ports the test inspects.
pub async fn send_with(
    services: &Services,
    reservations: &csms_domain::reservation::ReservationServices,
    event_json: &str,
) -> Option<Value> {
    let event: ApiGatewayWebsocketProxyRequest = serde_json::from_str(event_json).unwrap();
    let response = message::handle(services, reservations, event).await.unwrap();
    assert_eq!(response.status_code, 200);
    match response.body {
        Some(Body::Text(text)) => Some(serde_json::from_str(&text).unwrap()),
        None => None,
        other => panic!("unexpected body {other:?}"),
    }
}

/// `event_json` with its frame replaced by `body`.
pub fn with_body(event_json: &str, body: &str) -> String {
    let mut event: Value = serde_json::from_str(event_json).unwrap();
    event["body"] = json!(body);
    event.to_string()
}

/// `event_json` with its CALL payload changed by `edit`.
pub fn with_payload(event_json: &str, edit: impl FnOnce(&mut Value)) -> String {
    let event: Value = serde_json::from_str(event_json).unwrap();
    let mut frame: Value = serde_json::from_str(event["body"].as_str().unwrap()).unwrap();
    edit(&mut frame[3]);
    with_body(event_json, &frame.to_string())
}
