//! The status consumer on the sample SQS batch in `events/`, against in-memory ports.

use aws_lambda_events::sqs::SqsEvent;
use csms_domain::memory::MemoryWorld;
use csms_domain::*;

const BATCH: &str = include_str!("../../../events/sqs-status-events.json");

fn ids(response: &aws_lambda_events::sqs::SqsBatchResponse) -> Vec<String> {
    response
        .batch_item_failures
        .iter()
        .map(|f| f.item_identifier.clone())
        .collect()
}

#[tokio::test]
async fn a_poison_message_fails_itself_and_everything_after_it_in_the_fifo_batch() {
    let world = MemoryWorld::default();
    let services = world.services(BootPolicy::default());
    let batch: SqsEvent = serde_json::from_str(BATCH).unwrap();
    let response = ::status::handle(&services, batch.clone()).await.unwrap();
    assert_eq!(
        ids(&response),
        vec![
            "059f36b4-87a3-44ab-83d2-661975518862",
            "059f36b4-87a3-44ab-83d2-661975518863"
        ]
    );

    let station = StationId::parse("CP-DEMO-1").unwrap();
    let view = world
        .availability
        .0
        .lock()
        .unwrap()
        .get(&(
            station.clone(),
            Component {
                evse: None,
                connector: 1,
            },
        ))
        .cloned()
        .unwrap();
    assert_eq!(view.status, "Available");

    // Redelivery of the good message changes nothing; the third, alone, applies.
    let mut again = batch.clone();
    again.records = vec![batch.records[0].clone(), batch.records[2].clone()];
    assert!(
        ::status::handle(&services, again.clone())
            .await
            .unwrap()
            .batch_item_failures
            .is_empty()
    );
    assert!(
        ::status::handle(&services, again)
            .await
            .unwrap()
            .batch_item_failures
            .is_empty()
    );
    let view = world
        .availability
        .0
        .lock()
        .unwrap()
        .get(&(
            station.clone(),
            Component {
                evse: None,
                connector: 1,
            },
        ))
        .cloned()
        .unwrap();
    assert_eq!(view.status, "Charging");
    assert_eq!(view.since.to_rfc3339(), "2026-11-24T05:01:00+00:00");
    assert_eq!(world.history.0.lock().unwrap().len(), 2);
}
