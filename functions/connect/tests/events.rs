//! The `$connect` handler on the sample event in `events/`, against in-memory ports.

use aws_lambda_events::apigw::ApiGatewayWebsocketProxyRequest;
use aws_lambda_events::http::HeaderValue;
use csms_domain::memory::MemoryWorld;
use csms_domain::registry::{self, NewStation};
use csms_domain::*;

const EVENT: &str = include_str!("../../../events/ws-connect.json");

async fn world(protocols: Vec<ProtocolVersion>) -> (MemoryWorld, Services) {
    let world = MemoryWorld::default();
    let services = world.services(BootPolicy::default());
    let new = NewStation {
        id: StationId::parse("CP-DEMO-1").unwrap(),
        protocols,
        registration: Registration::Accepted,
        site: None,
        organisation: None,
        location: None,
        connectors: Vec::new(),
        password: Some(Password::parse("demo-password-1234").unwrap()),
    };
    registry::register(&services, new, chrono::Utc::now()).await.unwrap();
    (world, services)
}

fn event() -> ApiGatewayWebsocketProxyRequest {
    serde_json::from_str(EVENT).unwrap()
}

#[tokio::test]
async fn accepts_the_sample_handshake_and_echoes_the_chosen_subprotocol() {
    let (world, services) = world(vec![ProtocolVersion::Ocpp16, ProtocolVersion::Ocpp201]).await;
    let response = connect::handle(&services, event()).await.unwrap();
    assert_eq!(response.status_code, 200);
    assert_eq!(response.headers.get("Sec-WebSocket-Protocol").unwrap(), "ocpp2.0.1");
    let station = world.stations.0.lock().unwrap().values().next().cloned().unwrap();
    assert!(station.online);
    assert_eq!(station.connection_id.as_deref(), Some("Vq1bYcT0IAMCJxw="));
}

#[tokio::test]
async fn refusals_have_their_http_status() {
    let (_, services) = world(vec![ProtocolVersion::Ocpp16]).await;
    let basic = |s: &str| HeaderValue::from_str(&format!("Basic {}", base64_encode(s))).unwrap();

    let unknown = serde_json::from_str(&EVENT.replace("\"CP-DEMO-1\"", "\"CP-UNKNOWN\"")).unwrap();
    let mut wrong_password = event();
    wrong_password
        .headers
        .insert("authorization", basic("CP-DEMO-1:wrong-password-1234"));
    let mut wrong_user = event();
    wrong_user
        .headers
        .insert("authorization", basic("CP-OTHER:demo-password-1234"));
    let mut no_auth = event();
    no_auth.headers.remove("authorization");
    let mut no_protocol = event();
    no_protocol
        .headers
        .insert("sec-websocket-protocol", HeaderValue::from_static("ocpp2.0.1"));

    for (event, status) in [
        (unknown, 404),
        (wrong_password, 401),
        (wrong_user, 401),
        (no_auth, 401),
        (no_protocol, 400),
    ] {
        let response = connect::handle(&services, event).await.unwrap();
        assert_eq!(response.status_code, status);
        assert!(response.headers.get("Sec-WebSocket-Protocol").is_none());
    }
}

fn base64_encode(s: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(s)
}
