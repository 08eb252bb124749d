//! The `$disconnect` handler on the sample event in `events/`.

use aws_lambda_events::apigw::ApiGatewayWebsocketProxyRequest;
use csms_domain::connection::{self, ConnectAttempt};
use csms_domain::memory::MemoryWorld;
use csms_domain::registry::{self, NewStation};
use csms_domain::*;

#[tokio::test]
async fn the_station_goes_offline_and_a_second_delivery_is_harmless() {
    let world = MemoryWorld::default();
    let services = world.services(BootPolicy::default());
    let id = StationId::parse("CP-DEMO-1").unwrap();
    let new = NewStation {
        id: id.clone(),
        protocols: vec![ProtocolVersion::Ocpp16],
        registration: Registration::Accepted,
        site: None,
        organisation: None,
        location: None,
        connectors: Vec::new(),
        password: Some(Password::parse("demo-password-1234").unwrap()),
    };
    registry::register(&services, new, chrono::Utc::now()).await.unwrap();
    let attempt = ConnectAttempt {
        connection_id: "Vq1bYcT0IAMCJxw=",
        station_id: "CP-DEMO-1",
        credentials: Some(("CP-DEMO-1", "demo-password-1234")),
        offered_protocols: "ocpp1.6",
        now: chrono::Utc::now(),
    };
    connection::open(&services, attempt).await.unwrap().unwrap();

    let event: ApiGatewayWebsocketProxyRequest =
        serde_json::from_str(include_str!("../../../events/ws-disconnect.json")).unwrap();
    assert_eq!(
        disconnect::handle(&services, event.clone()).await.unwrap().status_code,
        200
    );
    assert_eq!(disconnect::handle(&services, event).await.unwrap().status_code, 200);
    let station = services.stations.get(&id).await.unwrap().unwrap();
    assert!(!station.online);
    assert!(services.connections.get("Vq1bYcT0IAMCJxw=").await.unwrap().is_none());
}
