//! What `$default` tells reservations, from real-shaped events: a 1.6 start naming a
//! reservation or made by its holder's tag on its connector, a connector reported Reserved, a
//! 2.0.1 ReservationStatusUpdate, and the pile's answer to ReserveNow.

mod common;

use chrono::{Duration, Utc};
use common::*;
use csms_domain::command::{Command, CommandId, CommandRecord, CommandState};
use csms_domain::reservation::memory::MemoryReservationWorld;
use csms_domain::reservation::{
    Change, Outcome, Reservation, ReservationAction, ReservationId, ReservationStore, Signal, Spot, State,
};
use csms_domain::{Component, IdToken, ProtocolVersion, Registration, StationId};
use serde_json::json;

/// A connected station that booted (its other requests are answered).
async fn booted(protocol: &str) -> csms_domain::Services {
    let (_, services) = connected(protocol, Registration::Accepted).await;
    let boot = match protocol {
        "ocpp1.6" => event!("ws-default-boot-notification-1.6.json"),
        _ => event!("ws-default-boot-notification-2.0.1.json"),
    };
    assert_eq!(send(&services, boot).await.unwrap()[2]["status"], "Accepted");
    services
}

fn station() -> StationId {
    StationId::parse("CP-DEMO-1").unwrap()
}

/// Reservation 1 of CP-DEMO-1 on connector 1, for `tag`.
async fn reserved(world: &MemoryReservationWorld, tag: &str) -> Reservation {
    let now = Utc::now();
    let r = Reservation {
        id: ReservationId::new(1).unwrap(),
        station: station(),
        organisation: None,
        protocol: ProtocolVersion::Ocpp16,
        spot: Spot::Connector(1),
        connector_type: None,
        driver: "alice".into(),
        token: IdToken::parse_16(tag).unwrap(),
        group: None,
        created_at: now,
        expiry: now + Duration::minutes(15),
        command: CommandId::parse("reserve-1").unwrap(),
        state: State::Accepted,
        history: vec![Change::new(now, State::Accepted, None)],
    };
    world.store.create(&r, true, now).await.unwrap().unwrap();
    r
}

#[tokio::test]
async fn a_16_start_by_the_holders_tag_or_naming_the_reservation_uses_it() {
    let services = booted("ocpp1.6").await;
    let world = MemoryReservationWorld::default();
    let reservations = world.services(Default::default());
    let start = event!("ws-default-start-transaction-1.6.json");
    // The sample start is by tag 04E91C5A on connector 1.
    let r = reserved(&world, "04e91c5a").await;
    let answer = send_with(&services, &reservations, start).await.unwrap();
    assert_eq!(
        answer[2]["idTagInfo"]["status"], "Invalid",
        "the tag is not registered: {answer}"
    );
    let signals = world.signals.take();
    assert!(
        matches!(signals.as_slice(), [Signal::Used { id, .. }] if *id == r.id),
        "{signals:?}"
    );
    // Someone else's tag on that connector uses nothing; naming the reservation does.
    let other = with_payload(start, |p| p["idTag"] = json!("SOMEONE"));
    send_with(&services, &reservations, &other).await.unwrap();
    assert!(world.signals.take().is_empty());
    let named = with_payload(start, |p| {
        p["idTag"] = json!("SOMEONE");
        p["reservationId"] = json!(1);
    });
    send_with(&services, &reservations, &named).await.unwrap();
    assert!(matches!(world.signals.take().as_slice(), [Signal::Used { .. }]));
}

#[tokio::test]
async fn a_connector_reported_reserved_and_a_201_status_update_are_passed_on() {
    let services = booted("ocpp2.0.1").await;
    let world = MemoryReservationWorld::default();
    let reservations = world.services(Default::default());
    let reserved_status = with_payload(event!("ws-default-status-notification-2.0.1.json"), |p| {
        p["connectorStatus"] = json!("Reserved")
    });
    send_with(&services, &reservations, &reserved_status).await.unwrap();
    let update = send_with(
        &services,
        &reservations,
        event!("ws-default-reservation-status-update-2.0.1.json"),
    )
    .await
    .unwrap();
    assert_eq!(update[0], 3, "a CALLRESULT: {update}");
    assert_eq!(update[2], json!({}));
    assert_eq!(
        world.signals.take(),
        vec![
            Signal::ReportedReserved {
                station: station(),
                component: Component {
                    evse: Some(1),
                    connector: 1
                },
                at: "2026-11-24T05:00:02Z".parse().unwrap(),
            },
            Signal::StationEnded {
                station: station(),
                id: ReservationId::new(1).unwrap(),
                removed: false
            },
        ]
    );
    // Other statuses say nothing to reservations.
    send_with(
        &services,
        &reservations,
        event!("ws-default-status-notification-2.0.1.json"),
    )
    .await
    .unwrap();
    assert!(world.signals.take().is_empty());
}

#[tokio::test]
async fn the_piles_answer_to_reserve_now_is_passed_on() {
    let services = booted("ocpp1.6").await;
    let world = MemoryReservationWorld::default();
    let reservations = world.services(Default::default());
    let now = Utc::now();
    let command = Command {
        id: CommandId::parse("reserve-7").unwrap(),
        station: station(),
        protocol: ProtocolVersion::Ocpp16,
        action: "ReserveNow".into(),
        payload:
            json!({"connectorId": 1, "expiryDate": "2026-11-24T05:30:00Z", "idTag": "04E91C5A", "reservationId": 7})
                .to_string(),
        deadline: now + Duration::seconds(30),
        created_at: now,
        requested_by: None,
    };
    let mut record = CommandRecord::queued(command);
    record.state = CommandState::Sent { at: now };
    services.commands.store.create(&record).await.unwrap();
    let answer = with_body(
        event!("ws-default-heartbeat-1.6.json"),
        r#"[3,"reserve-7",{"status":"Occupied"}]"#,
    );
    assert_eq!(
        send_with(&services, &reservations, &answer).await,
        None,
        "answers get no reply"
    );
    assert_eq!(
        world.signals.take(),
        vec![Signal::Answered {
            station: station(),
            id: ReservationId::new(7).unwrap(),
            action: ReservationAction::ReserveNow,
            outcome: Outcome::Status("Occupied".into()),
        }]
    );
}
