//! The reservation adapters on DynamoDB Local and LocalStack: the hold as one conditional
//! transaction (of twenty concurrent drivers exactly one wins), the driver's lock, conditional
//! transitions, releases that free only their own hold, the two lists in pages, leftovers,
//! capabilities, and signals on the FIFO queue.

use chrono::{DateTime, Duration, SubsecRound, Utc};
use csms_aws::reservations::SignalV1;
use csms_domain::command::CommandId;
use csms_domain::reservation::*;
use csms_domain::{Component, IdToken, IdTokenType, PageRequest, ProtocolVersion, StationId, StoreError};
use integration_tests::fresh_stack;

fn now() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(3)
}

fn reservation(station: &str, id: i64, driver: &str, spot: Spot, created: DateTime<Utc>) -> Reservation {
    Reservation {
        id: ReservationId::new(id).unwrap(),
        station: StationId::parse(station).unwrap(),
        organisation: Some("org-a".into()),
        protocol: ProtocolVersion::Ocpp201,
        spot,
        connector_type: Some(csms_domain::ConnectorType::CCcs2),
        driver: driver.into(),
        token: IdToken::parse_201(&format!("TAG-{driver}"), IdTokenType::Iso14443).unwrap(),
        group: Some(IdToken::parse_201("FLEET", IdTokenType::Central).unwrap()),
        created_at: created,
        expiry: created + Duration::minutes(15),
        command: CommandId::parse(&format!("reserve-{station}-{id}")).unwrap(),
        state: State::Requested,
        history: vec![Change::new(created, State::Requested, None)],
    }
}

#[tokio::test]
async fn of_twenty_concurrent_drivers_exactly_one_holds_the_connector() {
    let stack = fresh_stack().await;
    let store = stack.reservations.store.clone();
    let at = now();
    let attempts: Vec<_> = (1..=20)
        .map(|n| {
            let store = store.clone();
            tokio::spawn(async move {
                let r = reservation("RACE-1", n, &format!("driver-{n}"), Spot::Evse(1), at);
                store.create(&r, true, at).await
            })
        })
        .collect();
    let mut won = Vec::new();
    for (n, attempt) in attempts.into_iter().enumerate() {
        match attempt.await.unwrap().unwrap() {
            Ok(()) => won.push(n + 1),
            Err(conflict) => assert_eq!(conflict, Conflict::SpotHeld),
        }
    }
    assert_eq!(won.len(), 1, "winners: {won:?}");
    let holds = store.holds(&StationId::parse("RACE-1").unwrap()).await.unwrap();
    assert_eq!(holds.len(), 1);
    assert_eq!(holds[0].reservation.get() as usize, won[0]);
}

#[tokio::test]
async fn a_reservation_is_stored_moved_released_and_listed() {
    let stack = fresh_stack().await;
    let store = &*stack.reservations.store;
    let station = StationId::parse("CP-R1").unwrap();
    let at = now();
    // Ids count per station, never reused.
    let first = store.next_id(&station).await.unwrap();
    let second = store.next_id(&station).await.unwrap();
    assert_eq!((first.get(), second.get()), (1, 2));
    assert_eq!(
        store.next_id(&StationId::parse("CP-R2").unwrap()).await.unwrap().get(),
        1
    );

    let r = reservation("CP-R1", 1, "alice", Spot::Evse(2), at);
    assert_eq!(store.create(&r, true, at).await.unwrap(), Ok(()));
    assert_eq!(store.get(&station, r.id).await.unwrap().unwrap(), r);
    // Her second is refused while the first is active, and says which one she has.
    let again = reservation("CP-R1", 2, "alice", Spot::Evse(1), at);
    assert_eq!(
        store.create(&again, true, at).await.unwrap(),
        Err(Conflict::DriverHasOne {
            station: station.clone(),
            id: r.id
        })
    );
    // Without the rule, she may.
    assert_eq!(store.create(&again, false, at).await.unwrap(), Ok(()));
    // The hold is for her token and her group.
    let hold = store.hold(&station, Spot::Evse(2)).await.unwrap().unwrap();
    assert!(hold.is_for(&IdToken::parse_16("tag-alice").unwrap(), None));
    assert_eq!(hold.group.as_deref(), Some("FLEET"));

    // Transitions only from the states named; the history grows by one each.
    let accepted = Change::new(at + Duration::seconds(1), State::Accepted, Some("held".into()));
    let moved = store
        .transition(&station, r.id, &[State::Requested], &accepted)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((moved.state, moved.history.len()), (State::Accepted, 2));
    let refused = Change::new(at, State::Refused, None);
    assert_eq!(
        store
            .transition(&station, r.id, &[State::Requested], &refused)
            .await
            .unwrap(),
        None
    );
    let expired = Change::new(at + Duration::seconds(2), State::Expired, None);
    let ended = store
        .transition(&station, r.id, State::ACTIVE, &expired)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(ended.reason(), None);

    // Release frees its own hold and lock, never another's.
    store.release(&again).await.unwrap();
    assert_eq!(store.holds(&station).await.unwrap().len(), 1, "evse 2 is still r's");
    store.release(&ended).await.unwrap();
    assert!(store.holds(&station).await.unwrap().is_empty());
    let third = reservation("CP-R1", 3, "alice", Spot::Evse(2), at);
    assert_eq!(store.create(&third, true, at).await.unwrap(), Ok(()));
    // A lapsed hold is free: after its reservation's expiry, another takes the spot.
    let later = at + Duration::minutes(16);
    let bob = reservation("CP-R1", 4, "bob", Spot::Evse(2), later);
    assert_eq!(
        store.create(&bob, true, at + Duration::minutes(14)).await.unwrap(),
        Err(Conflict::SpotHeld)
    );
    assert_eq!(store.create(&bob, true, later).await.unwrap(), Ok(()));

    // Lists: hers newest first, filtered, in pages; the organisation's; another list's cursor refused.
    let filter = ReservationFilter::default();
    let mut page = PageRequest::first(1);
    let mut ids = Vec::new();
    loop {
        let got = store.list_by_driver("alice", &filter, &page).await.unwrap();
        ids.extend(got.items.iter().map(|r| r.id.get()));
        match got.next {
            Some(next) => page = page.after(Some(next)),
            None => break,
        }
    }
    assert_eq!(ids.len(), 3);
    let expired_only = ReservationFilter {
        station: Some(station.clone()),
        state: Some(State::Expired),
    };
    let got = store
        .list_by_driver("alice", &expired_only, &PageRequest::first(10))
        .await
        .unwrap();
    assert_eq!(got.items.iter().map(|r| r.id).collect::<Vec<_>>(), vec![r.id]);
    let org = store
        .list_by_organisation("org-a", &filter, &PageRequest::first(10))
        .await
        .unwrap();
    assert_eq!(org.items.len(), 4);
    assert_eq!(org.items[0].id.get(), 4, "newest first");
    let cursor = store
        .list_by_driver("alice", &filter, &PageRequest::first(1))
        .await
        .unwrap()
        .next;
    assert!(matches!(
        store
            .list_by_driver("bob", &filter, &PageRequest::first(1).after(cursor))
            .await,
        Err(StoreError::InvalidCursor)
    ));

    // Leftovers and capabilities.
    let left = Leftover {
        station: station.clone(),
        reservation: r.id,
        protocol: ProtocolVersion::Ocpp201,
        spot: Spot::Evse(2),
    };
    store.add_leftover(&left, at).await.unwrap();
    store.add_leftover(&left, at).await.unwrap();
    assert_eq!(store.leftovers(&station).await.unwrap(), vec![left]);
    store.remove_leftover(&station, r.id).await.unwrap();
    assert!(store.leftovers(&station).await.unwrap().is_empty());
    assert_eq!(store.any_connector(&station).await.unwrap(), None);
    store.set_any_connector(&station, true).await.unwrap();
    assert_eq!(store.any_connector(&station).await.unwrap(), Some(true));
}

#[tokio::test]
async fn signals_travel_in_the_stations_group_and_read_back() {
    let stack = fresh_stack().await;
    let station = StationId::parse("CP-S1").unwrap();
    let signal = Signal::ReportedReserved {
        station: station.clone(),
        component: Component {
            evse: Some(1),
            connector: 2,
        },
        at: now(),
    };
    stack.reservations.signals.publish(&signal).await.unwrap();
    // The same signal again within the deduplication window is one message.
    stack.reservations.signals.publish(&signal).await.unwrap();
    let url = stack.config.reservation_events_queue_url.clone().unwrap();
    let out = stack
        .sqs
        .receive_message()
        .queue_url(&url)
        .max_number_of_messages(10)
        .wait_time_seconds(1)
        .message_system_attribute_names(aws_sdk_sqs::types::MessageSystemAttributeName::MessageGroupId)
        .send()
        .await
        .unwrap();
    let messages = out.messages();
    assert_eq!(messages.len(), 1);
    assert_eq!(SignalV1::parse(messages[0].body().unwrap()).unwrap(), signal);
    assert_eq!(
        messages[0]
            .attributes()
            .unwrap()
            .get(&aws_sdk_sqs::types::MessageSystemAttributeName::MessageGroupId)
            .map(String::as_str),
        Some("CP-S1")
    );
}
