//! GIVEN connected stations and drivers with tokens WHEN drivers reserve, piles answer, time runs
//! out or someone starts charging THEN each reservation holds its spot alone and ends as the rules
//! say, through the in-memory ports.

use chrono::{DateTime, Duration, Utc};
use csms_domain::command::{CommandId, FailureReason};
use csms_domain::connection::{self, ConnectAttempt};
use csms_domain::memory::MemoryWorld;
use csms_domain::registry::{self, NewStation};
use csms_domain::remote_charging::{self, StartCharging, StartError, StartPorts};
use csms_domain::reservation::memory::{MemoryOrders, MemoryReservationWorld};
use csms_domain::reservation::*;
use csms_domain::*;

const PASSWORD: &str = "s3cret-password-16";

fn now() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-03-01T10:00:00Z")
        .unwrap()
        .with_timezone(&Utc)
}

fn after(minutes: i64) -> DateTime<Utc> {
    now() + Duration::minutes(minutes)
}

fn cp(id: &str) -> StationId {
    StationId::parse(id).unwrap()
}

struct Fixture {
    services: Services,
    reservations: MemoryReservationWorld,
    orders: MemoryOrders,
    settings: ReservationSettings,
}

fn type2(connector_id: u32) -> Connector {
    Connector {
        evse_id: None,
        connector_id,
        kind: ConnectorType::CType2,
        max_power_w: 22_000,
    }
}

/// GIVEN station `id` (1.6, connectors 1 and 2, organisation `acme`), connected when `online`.
async fn station(f: &Fixture, id: &str, online: bool) {
    let new = NewStation {
        id: cp(id),
        protocols: vec![ProtocolVersion::Ocpp16],
        registration: Registration::Accepted,
        site: None,
        organisation: Some("acme".into()),
        location: None,
        connectors: vec![type2(1), type2(2)],
        password: Some(Password::parse(PASSWORD).unwrap()),
    };
    registry::register(&f.services, new, now()).await.unwrap();
    if online {
        let attempt = ConnectAttempt {
            connection_id: &format!("conn-{id}"),
            station_id: id,
            credentials: Some((id, PASSWORD)),
            offered_protocols: "ocpp1.6",
            now: now(),
        };
        connection::open(&f.services, attempt).await.unwrap().unwrap();
    }
}

async fn fixture() -> Fixture {
    let world = MemoryWorld::default();
    let services = world.services(BootPolicy::default());
    let f = Fixture {
        services,
        reservations: MemoryReservationWorld::default(),
        orders: MemoryOrders::default(),
        settings: ReservationSettings::default(),
    };
    station(&f, "CP1", true).await;
    for (tag, owner, status) in [
        ("CARD-A", "alice", AuthorizationStatus::Accepted),
        ("CARD-B", "bob", AuthorizationStatus::Accepted),
        ("CARD-X", "bob", AuthorizationStatus::Blocked),
    ] {
        let record = TokenRecord {
            token: IdToken::parse_16(tag).unwrap(),
            status,
            expiry: None,
            group: None,
            owner: Some(owner.into()),
            // The station's organisation issued it: tokens work only at their issuer's stations.
            organisation: Some("acme".into()),
        };
        f.services.charging.tokens.put(&record).await.unwrap();
    }
    f
}

impl Fixture {
    fn reserve_ports(&self) -> ReservePorts<'_> {
        ReservePorts {
            store: &*self.reservations.store,
            signals: &*self.reservations.signals,
            tokens: &*self.services.charging.tokens,
            stations: &*self.services.stations,
            connections: &*self.services.connections,
            availability: &*self.services.availability,
            settings: self.settings,
        }
    }

    fn lifecycle(&self) -> LifecyclePorts<'_> {
        LifecyclePorts {
            store: &*self.reservations.store,
            schedules: &*self.reservations.schedules,
            fees: &*self.reservations.fees,
            orders: &self.orders,
            stations: &*self.services.stations,
            connections: &*self.services.connections,
            availability: &*self.services.availability,
        }
    }

    async fn reserve(
        &self,
        driver: &str,
        tag: &str,
        spot: SpotRequest,
        minutes: i64,
    ) -> Result<Reservation, ReserveError> {
        let request = ReserveRequest {
            station: cp("CP1"),
            driver: driver.into(),
            token: IdToken::parse_16(tag).unwrap(),
            spot,
            connector_type: None,
            duration: Duration::minutes(minutes),
        };
        let command = CommandId::parse(&format!("reserve-{driver}-{minutes}")).unwrap();
        reserve(self.reserve_ports(), &request, command, now()).await
    }

    /// Runs every published signal through the reservations function, as the queue would.
    async fn drain(&self, at: DateTime<Utc>) {
        for signal in self.reservations.signals.take() {
            on_signal(self.lifecycle(), &signal, at).await.unwrap();
        }
    }

    async fn signal(&self, signal: Signal, at: DateTime<Utc>) -> Result<(), LifecycleError> {
        on_signal(self.lifecycle(), &signal, at).await
    }

    async fn get(&self, id: ReservationId) -> Reservation {
        self.reservations.store.get(&cp("CP1"), id).await.unwrap().unwrap()
    }

    async fn answered(&self, id: ReservationId, action: ReservationAction, outcome: Outcome, at: DateTime<Utc>) {
        let signal = Signal::Answered {
            station: cp("CP1"),
            id,
            action,
            outcome,
        };
        self.signal(signal, at).await.unwrap();
    }

    async fn report(&self, connector: u32, status: &str, at: DateTime<Utc>) {
        let report = StatusReport {
            station_id: cp("CP1"),
            component: Component { evse: None, connector },
            status: status.into(),
            error_code: None,
            info: None,
            vendor_error_code: None,
            timestamp: at,
            received_at: at,
        };
        status::record(&*self.services.availability, &*self.services.history, &report)
            .await
            .unwrap();
    }

    async fn held(&self) -> Vec<(Spot, ReservationId)> {
        self.reservations
            .store
            .holds(&cp("CP1"))
            .await
            .unwrap()
            .into_iter()
            .map(|h| (h.spot, h.reservation))
            .collect()
    }
}

#[tokio::test]
async fn a_reservation_is_sent_accepted_and_consumed_by_its_holders_start() {
    // GIVEN a free station
    let f = fixture().await;
    // WHEN alice reserves without naming a connector
    let r = f.reserve("alice", "CARD-A", SpotRequest::Pick, 20).await.unwrap();
    // THEN the CSMS picked connector 1 and holds it for her, Requested, until 20 minutes from now
    assert_eq!(
        (r.spot, r.state, r.expiry),
        (Spot::Connector(1), State::Requested, after(20))
    );
    assert_eq!(f.held().await, vec![(Spot::Connector(1), r.id)]);
    // AND the reservations function schedules its expiry and sends ReserveNow under the recorded id
    f.drain(now()).await;
    let sent = f.orders.take();
    assert_eq!(sent.len(), 1);
    assert_eq!(
        (sent[0].action, sent[0].reservation, sent[0].spot),
        ("ReserveNow", Some(r.id), Some(1))
    );
    assert_eq!(sent[0].envelope.id.as_ref(), Some(&r.command));
    assert!(f.reservations.scheduled().contains(&(cp("CP1"), r.id)));
    // WHEN the pile accepts it
    f.answered(
        r.id,
        ReservationAction::ReserveNow,
        Outcome::Status("Accepted".into()),
        after(1),
    )
    .await;
    assert_eq!(f.get(r.id).await.state, State::Accepted);
    // AND alice's card starts on connector 1 without a reservationId (1.6 section 5.13)
    let start = StartSeen {
        station: &cp("CP1"),
        reservation: None,
        spot: Some(Spot::Connector(1)),
        token: Some(&IdToken::parse_16("card-a").unwrap()),
        group: None,
        transaction: "17".into(),
    };
    let used = start_seen(&*f.reservations.store, &*f.reservations.signals, &start, after(5))
        .await
        .unwrap();
    assert_eq!(used, Some(r.id));
    f.drain(after(5)).await;
    // THEN it is Consumed, the spot is free, the schedule is gone and pricing is told once
    let done = f.get(r.id).await;
    assert_eq!(done.state, State::Consumed);
    assert_eq!(done.reason(), Some("transaction 17 started"));
    assert!(f.held().await.is_empty());
    assert!(f.reservations.scheduled().is_empty());
    let fees = f.reservations.fees.0.lock().unwrap().clone();
    assert_eq!(fees.len(), 1);
    assert!(!fees[0].no_show());
    // AND a redelivered signal changes nothing
    f.signal(
        Signal::Used {
            station: cp("CP1"),
            id: r.id,
            transaction: "17".into(),
        },
        after(6),
    )
    .await
    .unwrap();
    assert_eq!(f.get(r.id).await.history.len(), 3);
    assert_eq!(f.reservations.fees.0.lock().unwrap().len(), 1);
}

#[tokio::test]
async fn a_start_by_someone_else_consumes_nothing() {
    let f = fixture().await;
    let r = f
        .reserve("alice", "CARD-A", SpotRequest::Numbered(2), 20)
        .await
        .unwrap();
    let start = StartSeen {
        station: &cp("CP1"),
        reservation: None,
        spot: Some(Spot::Connector(2)),
        token: Some(&IdToken::parse_16("CARD-B").unwrap()),
        group: None,
        transaction: "18".into(),
    };
    assert_eq!(
        start_seen(&*f.reservations.store, &*f.reservations.signals, &start, after(1))
            .await
            .unwrap(),
        None
    );
    // A start naming the reservation consumes it whoever started.
    let named = StartSeen {
        reservation: Some(r.id.get()),
        ..start
    };
    assert_eq!(
        start_seen(&*f.reservations.store, &*f.reservations.signals, &named, after(1))
            .await
            .unwrap(),
        Some(r.id)
    );
}

#[tokio::test]
async fn the_rules_refuse_clearly() {
    let f = fixture().await;
    station(&f, "CP2", false).await;
    f.report(1, "Charging", now()).await;
    f.report(2, "Faulted", now()).await;
    let busy = f
        .reserve("alice", "CARD-A", SpotRequest::Numbered(1), 10)
        .await
        .unwrap_err();
    assert!(
        matches!(
            busy,
            ReserveError::SpotBusy {
                status: SpotStatus::Occupied,
                ..
            }
        ),
        "{busy}"
    );
    let faulted = f
        .reserve("alice", "CARD-A", SpotRequest::Numbered(2), 10)
        .await
        .unwrap_err();
    assert_eq!(faulted.to_string(), "connector 2 of station CP1 is Faulted");
    let none = f.reserve("alice", "CARD-A", SpotRequest::Pick, 10).await.unwrap_err();
    assert!(matches!(none, ReserveError::NoFreeSpot(_)), "{none}");
    assert!(matches!(
        f.reserve("alice", "CARD-A", SpotRequest::Numbered(7), 10)
            .await
            .unwrap_err(),
        ReserveError::NoSuchSpot { .. }
    ));
    assert!(matches!(
        f.reserve("alice", "CARD-A", SpotRequest::AnyConnector, 10)
            .await
            .unwrap_err(),
        ReserveError::AnyConnectorUnsupported(_)
    ));
    f.report(1, "Available", after(1)).await;
    assert!(matches!(
        f.reserve("alice", "CARD-A", SpotRequest::Pick, 31).await.unwrap_err(),
        ReserveError::Duration { max_minutes: 30 }
    ));
    assert!(matches!(
        f.reserve("alice", "CARD-B", SpotRequest::Pick, 10).await.unwrap_err(),
        ReserveError::NotYourToken
    ));
    assert!(matches!(
        f.reserve("bob", "CARD-X", SpotRequest::Pick, 10).await.unwrap_err(),
        ReserveError::TokenNotAccepted { .. }
    ));
    // An offline station holds nothing.
    let request = ReserveRequest {
        station: cp("CP2"),
        driver: "alice".into(),
        token: IdToken::parse_16("CARD-A").unwrap(),
        spot: SpotRequest::Pick,
        connector_type: None,
        duration: Duration::minutes(10),
    };
    let offline = reserve(f.reserve_ports(), &request, CommandId::parse("c").unwrap(), now())
        .await
        .unwrap_err();
    assert!(matches!(offline, ReserveError::StationOffline(_)), "{offline}");
    // One active reservation per driver, and one reservation per connector.
    f.report(2, "Available", after(1)).await;
    let first = f.reserve("alice", "CARD-A", SpotRequest::Pick, 10).await.unwrap();
    let again = f.reserve("alice", "CARD-A", SpotRequest::Pick, 10).await.unwrap_err();
    assert!(
        matches!(again, ReserveError::DriverHasOne { id, .. } if id == first.id),
        "{again}"
    );
    let taken = f
        .reserve("bob", "CARD-B", SpotRequest::Numbered(1), 10)
        .await
        .unwrap_err();
    assert!(matches!(taken, ReserveError::SpotHeld { .. }), "{taken}");
    assert!(f.signals_published() == 1);
}

impl Fixture {
    fn signals_published(&self) -> usize {
        self.reservations.signals.0.lock().unwrap().len()
    }
}

#[tokio::test]
async fn of_twenty_drivers_asking_for_one_connector_one_holds_it() {
    let f = fixture().await;
    for n in 0..20 {
        let tag = format!("RACE-{n}");
        let record = TokenRecord {
            token: IdToken::parse_16(&tag).unwrap(),
            status: AuthorizationStatus::Accepted,
            expiry: None,
            group: None,
            owner: Some(format!("driver-{n}")),
            organisation: Some("acme".into()),
        };
        f.services.charging.tokens.put(&record).await.unwrap();
    }
    let mut results = Vec::new();
    for n in 0..20 {
        let result = f
            .reserve(
                &format!("driver-{n}"),
                &format!("RACE-{n}"),
                SpotRequest::Numbered(1),
                10,
            )
            .await;
        results.push(result);
    }
    assert_eq!(results.iter().filter(|r| r.is_ok()).count(), 1);
    assert!(
        results
            .iter()
            .filter_map(|r| r.as_ref().err())
            .all(|e| matches!(e, ReserveError::SpotHeld { .. }))
    );
}

#[tokio::test]
async fn refusals_and_failures_free_the_spot_with_the_reason() {
    let f = fixture().await;
    let r = f
        .reserve("alice", "CARD-A", SpotRequest::Numbered(1), 10)
        .await
        .unwrap();
    f.drain(now()).await;
    f.answered(
        r.id,
        ReservationAction::ReserveNow,
        Outcome::Status("Occupied".into()),
        now(),
    )
    .await;
    let refused = f.get(r.id).await;
    assert_eq!(
        (refused.state, refused.reason()),
        (State::Refused, Some("the station answered Occupied"))
    );
    assert!(f.held().await.is_empty() && f.reservations.scheduled().is_empty());
    // A late Accepted for a refused reservation does not bring it back.
    let b = f.reserve("bob", "CARD-B", SpotRequest::Numbered(1), 10).await.unwrap();
    f.drain(now()).await;
    f.answered(
        b.id,
        ReservationAction::ReserveNow,
        Outcome::Failed(FailureReason::StationOffline),
        now(),
    )
    .await;
    let failed = f.get(b.id).await;
    assert_eq!(failed.state, State::Failed);
    assert!(failed.reason().unwrap().contains("offline"));
    assert!(f.reservations.store.leftovers(&cp("CP1")).await.unwrap().is_empty());
}

#[tokio::test]
async fn expiry_ends_it_here_and_a_pile_that_still_holds_it_is_told_when_it_shows_it() {
    let f = fixture().await;
    let r = f
        .reserve("alice", "CARD-A", SpotRequest::Numbered(1), 10)
        .await
        .unwrap();
    f.drain(now()).await;
    f.orders.take();
    f.answered(
        r.id,
        ReservationAction::ReserveNow,
        Outcome::Status("Accepted".into()),
        now(),
    )
    .await;
    let due = Signal::ExpiryDue {
        station: cp("CP1"),
        id: r.id,
    };
    // An early signal is retried, not taken.
    assert!(matches!(
        f.signal(due.clone(), after(5)).await,
        Err(LifecycleError::Early(_))
    ));
    // GIVEN the pile went offline; WHEN the expiry is due
    connection::close(&f.services, "conn-CP1", after(8)).await.unwrap();
    f.signal(due.clone(), after(10)).await.unwrap();
    // THEN it is Expired here on time, the spot is free, and pricing hears of a no-show
    assert_eq!(f.get(r.id).await.state, State::Expired);
    assert!(f.held().await.is_empty());
    assert!(f.reservations.fees.0.lock().unwrap()[0].no_show());
    assert!(f.orders.take().is_empty(), "nothing can reach an offline pile");
    // WHEN the pile is back and reports the connector Reserved
    let attempt = ConnectAttempt {
        connection_id: "conn-CP1-b",
        station_id: "CP1",
        credentials: Some(("CP1", PASSWORD)),
        offered_protocols: "ocpp1.6",
        now: after(12),
    };
    connection::open(&f.services, attempt).await.unwrap().unwrap();
    let reported = Signal::ReportedReserved {
        station: cp("CP1"),
        component: Component {
            evse: None,
            connector: 1,
        },
        at: after(12),
    };
    f.signal(reported.clone(), after(12)).await.unwrap();
    // THEN it is sent CancelReservation for that reservation
    let sent = f.orders.take();
    assert_eq!(
        sent.iter().map(|o| (o.action, o.reservation)).collect::<Vec<_>>(),
        vec![("CancelReservation", Some(r.id))]
    );
    // AND once it answers, nothing more is sent
    f.answered(
        r.id,
        ReservationAction::CancelReservation,
        Outcome::Status("Accepted".into()),
        after(12),
    )
    .await;
    f.signal(reported, after(13)).await.unwrap();
    assert!(f.orders.take().is_empty());
    // AND a redelivered expiry changes nothing
    f.signal(due, after(14)).await.unwrap();
    assert_eq!(f.get(r.id).await.history.len(), 3);
}

#[tokio::test]
async fn drivers_and_operators_cancel() {
    let f = fixture().await;
    let r = f
        .reserve("alice", "CARD-A", SpotRequest::Numbered(1), 10)
        .await
        .unwrap();
    f.drain(now()).await;
    f.answered(
        r.id,
        ReservationAction::ReserveNow,
        Outcome::Status("Accepted".into()),
        now(),
    )
    .await;
    f.orders.take();
    let store = &*f.reservations.store;
    let signals = &*f.reservations.signals;
    // Someone else's reservation is not found.
    assert!(matches!(
        cancel(store, signals, &cp("CP1"), r.id, Canceller::Driver("bob"), now()).await,
        Err(CancelError::NotFound)
    ));
    let other_org = Canceller::Operator {
        organisation: "other",
        subject: "op",
    };
    assert!(matches!(
        cancel(store, signals, &cp("CP1"), r.id, other_org, now()).await,
        Err(CancelError::NotFound)
    ));
    let cancelled = cancel(store, signals, &cp("CP1"), r.id, Canceller::Driver("alice"), after(1))
        .await
        .unwrap();
    assert_eq!(
        (cancelled.state, cancelled.reason()),
        (State::Cancelled, Some("cancelled by the driver"))
    );
    assert!(f.held().await.is_empty());
    f.drain(after(1)).await;
    let sent = f.orders.take();
    assert_eq!(
        sent.iter().map(|o| o.action).collect::<Vec<_>>(),
        vec!["CancelReservation"]
    );
    assert!(matches!(
        cancel(store, signals, &cp("CP1"), r.id, Canceller::Driver("alice"), after(2)).await,
        Err(CancelError::Ended(_))
    ));
    // An operator of the station's organisation cancels another.
    let b = f.reserve("bob", "CARD-B", SpotRequest::Numbered(2), 10).await.unwrap();
    let by_operator = Canceller::Operator {
        organisation: "acme",
        subject: "op-1",
    };
    let cancelled = cancel(store, signals, &cp("CP1"), b.id, by_operator, after(3))
        .await
        .unwrap();
    assert_eq!(cancelled.reason(), Some("cancelled by operator op-1"));
}

#[tokio::test]
async fn a_reserved_connector_starts_only_for_its_holder() {
    let f = fixture().await;
    let r = f
        .reserve("alice", "CARD-A", SpotRequest::Numbered(2), 10)
        .await
        .unwrap();
    let tokens = &*f.services.charging.tokens;
    let bob = tokens
        .get(Some("acme"), &IdToken::parse_16("CARD-B").unwrap())
        .await
        .unwrap()
        .unwrap();
    let alice = tokens
        .get(Some("acme"), &IdToken::parse_16("CARD-A").unwrap())
        .await
        .unwrap()
        .unwrap();
    let ports = StartPorts {
        stations: &*f.services.stations,
        connections: &*f.services.connections,
        reservations: &*f.reservations.store,
        orders: &f.orders,
    };
    let station = cp("CP1");
    let start = |token, spot| StartCharging {
        station: &station,
        token,
        spot,
        requested_by: Some("someone"),
    };
    let refused = remote_charging::start(ports, &start(&bob, Some(2)), after(1))
        .await
        .unwrap_err();
    assert!(
        matches!(refused, StartError::Reserved { until, .. } if until == r.expiry),
        "{refused}"
    );
    // Bob may start elsewhere; Alice starts on her connector without naming it.
    remote_charging::start(ports, &start(&bob, Some(1)), after(1))
        .await
        .unwrap();
    remote_charging::start(ports, &start(&alice, None), after(1))
        .await
        .unwrap();
    let sent = f.orders.take();
    assert_eq!(
        sent.iter()
            .map(|o| (o.action, o.spot, o.token.clone()))
            .collect::<Vec<_>>(),
        vec![
            ("RemoteStartTransaction", Some(1), Some("CARD-B".to_owned())),
            ("RemoteStartTransaction", Some(2), Some("CARD-A".to_owned())),
        ]
    );
    // Once the reservation ends, the connector is anyone's.
    let cancelled = cancel(
        &*f.reservations.store,
        &*f.reservations.signals,
        &cp("CP1"),
        r.id,
        Canceller::Driver("alice"),
        after(2),
    )
    .await;
    assert!(cancelled.is_ok());
    remote_charging::start(ports, &start(&bob, Some(2)), after(2))
        .await
        .unwrap();
}

#[tokio::test]
async fn a_card_of_the_reservations_group_consumes_it_and_any_connector_once_the_station_says_so() {
    // GIVEN alice's card belongs to the fleet FLEET-1, and carol's card too
    let f = fixture().await;
    for (tag, owner) in [("CARD-A", "alice"), ("CARD-C", "carol")] {
        let record = TokenRecord {
            token: IdToken::parse_16(tag).unwrap(),
            status: AuthorizationStatus::Accepted,
            expiry: None,
            group: Some(IdToken::parse_16("FLEET-1").unwrap()),
            owner: Some(owner.into()),
            // The station's organisation issued it: tokens work only at their issuer's stations.
            organisation: Some("acme".into()),
        };
        f.services.charging.tokens.put(&record).await.unwrap();
    }
    // WHEN alice reserves connector 2, the ReserveNow names her group (1.6 parentIdTag)
    let r = f
        .reserve("alice", "CARD-A", SpotRequest::Numbered(2), 20)
        .await
        .unwrap();
    assert_eq!(r.group, Some(IdToken::parse_16("FLEET-1").unwrap()));
    // AND carol, of the same group, starts on connector 2 without a reservationId (1.6 section 5.13)
    let carol = IdToken::parse_16("CARD-C").unwrap();
    let fleet = IdToken::parse_16("FLEET-1").unwrap();
    let start = StartSeen {
        station: &cp("CP1"),
        reservation: None,
        spot: Some(Spot::Connector(2)),
        token: Some(&carol),
        group: Some(&fleet),
        transaction: "21".into(),
    };
    // THEN that start consumes alice's reservation
    let used = start_seen(&*f.reservations.store, &*f.reservations.signals, &start, after(2))
        .await
        .unwrap();
    assert_eq!(used, Some(r.id));
    f.drain(after(2)).await;
    assert_eq!(f.get(r.id).await.state, State::Consumed);
    f.orders.take();

    // GIVEN the station said in its configuration answer that it reserves any connector
    // (1.6 ReserveConnectorZeroSupported), which it had not: refused before
    assert!(matches!(
        f.reserve("alice", "CARD-A", SpotRequest::AnyConnector, 10)
            .await
            .unwrap_err(),
        ReserveError::AnyConnectorUnsupported(_)
    ));
    f.signal(
        Signal::AnyConnector {
            station: cp("CP1"),
            supported: true,
        },
        after(3),
    )
    .await
    .unwrap();
    // WHEN alice reserves any connector
    let any = f
        .reserve("alice", "CARD-A", SpotRequest::AnyConnector, 10)
        .await
        .unwrap();
    // THEN the whole station is held for her and the pile is sent ReserveNow naming no connector
    // (csms-ocpp writes it as 1.6 connectorId 0, 2.0.1 without evseId)
    assert_eq!(any.spot, Spot::Station);
    assert_eq!(f.held().await, vec![(Spot::Station, any.id)]);
    f.drain(after(3)).await;
    let sent = f.orders.take();
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert_eq!(
        (sent[0].action, sent[0].reservation, sent[0].spot),
        ("ReserveNow", Some(any.id), None)
    );
    // AND a station-wide hold is the pile's to keep (1.6 section 5.13: it keeps a connector free
    // for it and answers a reservation that would take the last one Occupied): the CSMS still
    // lets bob ask for a connector, and holds it for him
    let bobs = f.reserve("bob", "CARD-B", SpotRequest::Pick, 10).await.unwrap();
    assert_eq!(bobs.spot, Spot::Connector(1));
}
