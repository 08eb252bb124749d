//! The reservations consumer on the sample SQS batch in `events/` (a reservation recorded by the
//! API, its expiry delivered by the scheduler, a poison message), against in-memory ports.

use aws_lambda_events::sqs::SqsEvent;
use chrono::{Duration, Utc};
use csms_domain::command::CommandId;
use csms_domain::memory::MemoryWorld;
use csms_domain::reservation::memory::MemoryReservationWorld;
use csms_domain::reservation::*;
use csms_domain::{BootPolicy, IdToken, ProtocolVersion, StationId};

const BATCH: &str = include_str!("../../../events/sqs-reservation-events.json");

#[tokio::test]
async fn a_requested_reservation_is_sent_then_expires_and_a_poison_message_fails_the_rest_of_the_batch() {
    // GIVEN reservation 1 at CP-DEMO-1, recorded by the API, whose time is up
    let world = MemoryWorld::default();
    let services = world.services(BootPolicy::default());
    let reservations_world = MemoryReservationWorld::default();
    let reservations = reservations_world.services(ReservationSettings::default());
    let station = StationId::parse("CP-DEMO-1").unwrap();
    let created = Utc::now() - Duration::minutes(16);
    let r = Reservation {
        id: ReservationId::new(1).unwrap(),
        station: station.clone(),
        organisation: None,
        protocol: ProtocolVersion::Ocpp16,
        spot: Spot::Connector(1),
        connector_type: None,
        driver: "alice".into(),
        token: IdToken::parse_16("04E91C5A").unwrap(),
        group: None,
        created_at: created,
        expiry: created + Duration::minutes(15),
        command: CommandId::parse("0190c3a2-0000-7000-8000-000000000001").unwrap(),
        state: State::Requested,
        history: vec![Change::new(created, State::Requested, None)],
    };
    assert_eq!(reservations.store.create(&r, true, created).await.unwrap(), Ok(()));

    // WHEN the batch arrives
    let batch: SqsEvent = serde_json::from_str(BATCH).unwrap();
    let response = ::reservations::handle(&services, &reservations, batch.clone())
        .await
        .unwrap();

    // THEN ReserveNow went to the commands queue under the recorded id, with its expiry
    let submitted = world.command_queue.submitted.lock().unwrap().clone();
    assert_eq!(submitted.len(), 1);
    assert_eq!(
        (submitted[0].id.as_str(), submitted[0].action.as_str()),
        (r.command.as_str(), "ReserveNow")
    );
    let payload: serde_json::Value = serde_json::from_str(&submitted[0].payload).unwrap();
    assert_eq!(
        (payload["reservationId"].clone(), payload["connectorId"].clone()),
        (1.into(), 1.into())
    );
    // AND the expiry ended it, freeing the connector and the driver
    let ended = reservations.store.get(&station, r.id).await.unwrap().unwrap();
    assert_eq!(ended.state, State::Expired);
    assert!(reservations.store.holds(&station).await.unwrap().is_empty());
    assert!(reservations_world.scheduled().is_empty());
    // AND the poison message fails itself and what follows it in the FIFO batch
    let failed: Vec<_> = response
        .batch_item_failures
        .iter()
        .map(|f| f.item_identifier.as_str())
        .collect();
    assert_eq!(
        failed,
        [
            "7c1d3e2a-0000-4000-8000-000000000003",
            "7c1d3e2a-0000-4000-8000-000000000004"
        ]
    );

    // WHEN the good messages come again THEN nothing changes
    let mut again = batch.clone();
    again.records.truncate(2);
    let response = ::reservations::handle(&services, &reservations, again).await.unwrap();
    assert!(response.batch_item_failures.is_empty());
    assert_eq!(world.command_queue.submitted.lock().unwrap().len(), 1);
    assert_eq!(
        reservations
            .store
            .get(&station, r.id)
            .await
            .unwrap()
            .unwrap()
            .history
            .len(),
        2
    );
}
