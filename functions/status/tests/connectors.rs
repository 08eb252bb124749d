//! Issue 10, item 9: a pile cannot make up connectors. Reports for components the station has not
//! declared (beyond connector 0, the station itself) build no availability item, which every
//! station view reads; they are kept as anomalies for the operator instead.

use aws_lambda_events::sqs::SqsEvent;
use chrono::Utc;
use csms_domain::memory::MemoryWorld;
use csms_domain::ports::AnomalyLog;
use csms_domain::registry::{self, NewStation};
use csms_domain::*;
use serde_json::json;

async fn world_with(id: &str, connectors: Vec<Connector>) -> (MemoryWorld, Services) {
    let world = MemoryWorld::default();
    let services = world.services(BootPolicy::default());
    let new = NewStation {
        id: StationId::parse(id).unwrap(),
        protocols: vec![ProtocolVersion::Ocpp16, ProtocolVersion::Ocpp201],
        registration: Registration::Accepted,
        site: None,
        organisation: None,
        location: None,
        connectors,
        password: None,
    };
    registry::register(&services, new, Utc::now()).await.unwrap();
    (world, services)
}

fn connector(evse: Option<u32>, id: u32) -> Connector {
    Connector {
        evse_id: evse,
        connector_id: id,
        kind: ConnectorType::CType2,
        max_power_w: 22_000,
    }
}

/// One SQS batch of status reports for `station`: (EVSE, connector) each, a second apart.
fn batch(station: &str, components: &[(Option<u32>, u32)]) -> SqsEvent {
    let records = components
        .iter()
        .enumerate()
        .map(|(i, (evse, connector))| {
            let mut body = json!({"stationId": station, "connectorId": connector, "status": "Available",
                                  "timestamp": format!("2026-11-24T05:00:{i:02}Z"),
                                  "receivedAt": format!("2026-11-24T05:00:{i:02}Z")});
            if let Some(evse) = evse {
                body["evseId"] = json!(evse);
            }
            json!({"messageId": format!("m{i}"), "body": json!({ "StatusReported": body }).to_string()})
        })
        .collect::<Vec<_>>();
    serde_json::from_value(json!({ "Records": records })).unwrap()
}

fn views(world: &MemoryWorld) -> Vec<String> {
    let mut keys: Vec<String> = world
        .availability
        .0
        .lock()
        .unwrap()
        .keys()
        .map(|(_, component)| component.key())
        .collect();
    keys.sort();
    keys
}

#[tokio::test]
async fn only_declared_connectors_and_the_station_itself_get_a_view() {
    let (world, services) = world_with("CP-DECL", vec![connector(None, 1), connector(None, 2)]).await;
    let reports = batch(
        "CP-DECL",
        &[(None, 0), (None, 1), (None, 2), (None, 3), (None, 4_000_000)],
    );
    let response = ::status::handle(&services, reports).await.unwrap();
    // Taken, not failed: a retry would not make the connector declared.
    assert!(response.batch_item_failures.is_empty());
    assert_eq!(views(&world), ["connector#0", "connector#1", "connector#2"]);
    let station = StationId::parse("CP-DECL").unwrap();
    let anomalies = world.charging.anomalies.list(&station).await.unwrap();
    let undeclared: Vec<Component> = anomalies
        .iter()
        .filter_map(|a| match &a.kind {
            AnomalyKind::UndeclaredComponent { component } => Some(*component),
            _ => None,
        })
        .collect();
    assert_eq!(undeclared.len(), 2, "{anomalies:?}");
    assert!(undeclared.iter().all(|c| c.connector == 3 || c.connector == 4_000_000));

    // 2.0.1 connectors are keyed by EVSE.
    let (world, services) = world_with("CP-EVSE", vec![connector(Some(1), 1), connector(Some(2), 1)]).await;
    let reports = batch("CP-EVSE", &[(Some(1), 1), (Some(2), 1), (Some(3), 1), (Some(1), 2)]);
    ::status::handle(&services, reports).await.unwrap();
    assert_eq!(views(&world), ["evse#1#connector#1", "evse#2#connector#1"]);
}

#[tokio::test]
async fn a_station_that_declares_nothing_gets_a_few_ids_and_no_more() {
    let (world, services) = world_with("CP-NONE", vec![]).await;
    let bound = status::UNDECLARED_MAX_ID;
    let reports = batch(
        "CP-NONE",
        &[
            (None, 1),
            (None, bound),
            (None, bound + 1),
            (Some(bound), bound),
            (Some(bound + 1), 1),
        ],
    );
    ::status::handle(&services, reports).await.unwrap();
    assert_eq!(
        views(&world),
        [
            "connector#1".to_owned(),
            format!("connector#{bound}"),
            format!("evse#{bound}#connector#{bound}")
        ]
    );
}
