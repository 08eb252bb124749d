//! The DynamoDB and SQS adapters honour the ports' contracts on DynamoDB Local and LocalStack.

use chrono::{DateTime, Duration, SubsecRound, Utc};
use csms_aws::events::DomainEvent;
use csms_domain::connection::{self, BootReport, ConnectAttempt, ConnectRefusal};
use csms_domain::registry::{self, NewStation, RegistryError};
use csms_domain::status::{self, Recorded};
use csms_domain::*;
use integration_tests::fresh_stack;

fn now() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(3)
}

fn new_station(id: &str, registration: Registration) -> NewStation {
    NewStation {
        id: StationId::parse(id).unwrap(),
        protocols: vec![ProtocolVersion::Ocpp201, ProtocolVersion::Ocpp16],
        registration,
        site: Some("depot".into()),
        organisation: None,
        location: GeoPoint::new(52.37, 4.89),
        connectors: Vec::new(),
        password: Some(Password::parse("integration-pass-1").unwrap()),
    }
}

fn attempt<'a>(connection_id: &'a str, station: &'a str) -> ConnectAttempt<'a> {
    ConnectAttempt {
        connection_id,
        station_id: station,
        credentials: Some((station, "integration-pass-1")),
        offered_protocols: "ocpp1.6",
        now: now(),
    }
}

#[tokio::test]
async fn stations_register_connect_boot_and_disconnect() {
    let stack = fresh_stack().await;
    let s = &stack.services;
    let id = StationId::parse("CP-IT-1").unwrap();
    registry::register(s, new_station("CP-IT-1", Registration::Pending), now())
        .await
        .unwrap();
    assert!(matches!(
        registry::register(s, new_station("CP-IT-1", Registration::Accepted), now()).await,
        Err(RegistryError::AlreadyRegistered)
    ));

    let stored = s.stations.get(&id).await.unwrap().unwrap();
    assert_eq!(
        stored.protocols,
        vec![ProtocolVersion::Ocpp201, ProtocolVersion::Ocpp16]
    );
    assert_eq!(stored.location, GeoPoint::new(52.37, 4.89));
    assert!(stored.password_hash.as_str().starts_with("$argon2id$"));
    assert!(!stored.online);

    assert_eq!(
        connection::open(s, attempt("conn-a", "CP-NOPE")).await.unwrap(),
        Err(ConnectRefusal::UnknownStation)
    );
    let first = connection::open(s, attempt("conn-a", "CP-IT-1"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(first.protocol, ProtocolVersion::Ocpp16);
    assert_eq!(s.connections.get_latest("conn-a").await.unwrap().as_ref(), Some(&first));
    let report = BootReport {
        vendor: "V".into(),
        model: "M".into(),
        serial_number: Some("S-1".into()),
        firmware_version: Some("1.0".into()),
    };
    let decision = connection::boot(s, &first, report, now()).await.unwrap();
    assert_eq!(decision.status, Registration::Pending);

    registry::set_registration(s, &id, Registration::Accepted)
        .await
        .unwrap();
    let second = connection::open(s, attempt("conn-b", "CP-IT-1"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        second.boot,
        Some(Registration::Pending),
        "the boot status travels to the new connection"
    );
    let stored = s.stations.get(&id).await.unwrap().unwrap();
    assert_eq!((stored.online, stored.connection_id.as_deref()), (true, Some("conn-b")));
    assert_eq!(stored.boot.unwrap().serial_number.as_deref(), Some("S-1"));

    // The replaced connection's $disconnect leaves the station online.
    connection::close(s, "conn-a", now()).await.unwrap();
    assert!(s.stations.get(&id).await.unwrap().unwrap().online);
    let found = s
        .connections
        .get_many(&["conn-a".into(), "conn-b".into()])
        .await
        .unwrap();
    assert_eq!(
        found.iter().map(|c| c.connection_id.as_str()).collect::<Vec<_>>(),
        vec!["conn-b"]
    );

    let later = now() + Duration::minutes(10);
    connection::seen(s, &second, later).await.unwrap();
    assert_eq!(s.connections.get("conn-b").await.unwrap().unwrap().last_seen_at, later);

    connection::close(s, "conn-b", now()).await.unwrap();
    connection::close(s, "conn-b", now()).await.unwrap();
    let stored = s.stations.get(&id).await.unwrap().unwrap();
    assert_eq!((stored.online, stored.connection_id), (false, None));
    assert_eq!(s.stations.list().await.unwrap().len(), 1);
}

#[tokio::test]
async fn password_rotation_takes_effect_at_the_next_connect() {
    let stack = fresh_stack().await;
    let s = &stack.services;
    let id = StationId::parse("CP-IT-2").unwrap();
    registry::register(s, new_station("CP-IT-2", Registration::Accepted), now())
        .await
        .unwrap();
    let new_password = registry::rotate_password(s, &id, None).await.unwrap();
    assert_eq!(
        connection::open(s, attempt("c1", "CP-IT-2")).await.unwrap(),
        Err(ConnectRefusal::BadCredentials)
    );
    let with_new = ConnectAttempt {
        credentials: Some(("CP-IT-2", new_password.expose())),
        ..attempt("c1", "CP-IT-2")
    };
    assert!(connection::open(s, with_new).await.unwrap().is_ok());
    let unknown = StationId::parse("CP-IT-NONE").unwrap();
    assert!(matches!(
        registry::rotate_password(s, &unknown, None).await,
        Err(RegistryError::UnknownStation)
    ));
}

#[tokio::test]
async fn status_reports_project_idempotently_and_in_order() {
    let stack = fresh_stack().await;
    let s = &stack.services;
    let station = StationId::parse("CP-IT-3").unwrap();
    let t0 = now();
    let report = |status: &str, at: DateTime<Utc>| StatusReport {
        station_id: station.clone(),
        component: Component {
            evse: Some(1),
            connector: 1,
        },
        status: status.into(),
        error_code: None,
        info: None,
        vendor_error_code: None,
        timestamp: at,
        received_at: at,
    };
    let (avail, hist) = (s.availability.as_ref(), s.history.as_ref());
    assert_eq!(
        status::record(avail, hist, &report("Available", t0)).await.unwrap(),
        Recorded::Updated
    );
    assert_eq!(
        status::record(avail, hist, &report("Available", t0)).await.unwrap(),
        Recorded::Unchanged
    );
    assert_eq!(
        status::record(avail, hist, &report("Occupied", t0 + Duration::seconds(5)))
            .await
            .unwrap(),
        Recorded::Updated
    );
    // An offline-queued report with an older timestamp goes to the history only.
    assert_eq!(
        status::record(avail, hist, &report("Faulted", t0 + Duration::seconds(2)))
            .await
            .unwrap(),
        Recorded::Unchanged
    );

    let view = s.availability.list(&station).await.unwrap();
    assert_eq!(view.len(), 1);
    assert_eq!(
        (view[0].status.as_str(), view[0].since),
        ("Occupied", t0 + Duration::seconds(5))
    );
    let history = s
        .history
        .list(&station, t0 - Duration::hours(1), &PageRequest::first(10))
        .await
        .unwrap()
        .items;
    assert_eq!(
        history.iter().map(|r| r.status.as_str()).collect::<Vec<_>>(),
        vec!["Occupied", "Faulted", "Available"]
    );

    // A stale optimistic write loses.
    let mut stale = view[0].clone();
    stale.status = "Unavailable".into();
    assert!(!s.availability.replace(&stale, Some(t0)).await.unwrap());
}

#[tokio::test]
async fn the_bus_delivers_one_message_per_dedup_key_in_station_order() {
    let stack = fresh_stack().await;
    let queue_url = stack.config.status_queue_url.clone().unwrap();
    let station = StationId::parse("CP-IT-4").unwrap();
    let report = |status: &str, secs: i64| StatusReport {
        station_id: station.clone(),
        component: Component {
            evse: None,
            connector: 1,
        },
        status: status.into(),
        error_code: Some("NoError".into()),
        info: None,
        vendor_error_code: None,
        timestamp: now() + Duration::seconds(secs),
        received_at: now(),
    };
    let (a, b) = (report("Available", 0), report("Charging", 1));
    stack.services.bus.status_reported(&a, "key-a").await.unwrap();
    stack.services.bus.status_reported(&a, "key-a").await.unwrap();
    stack.services.bus.status_reported(&b, "key-b").await.unwrap();

    let mut received = Vec::new();
    for _ in 0..10 {
        let out = stack
            .sqs
            .receive_message()
            .queue_url(&queue_url)
            .max_number_of_messages(10)
            .wait_time_seconds(1)
            .send()
            .await
            .unwrap();
        for m in out.messages() {
            let DomainEvent::StatusReported(event) = DomainEvent::parse(m.body().unwrap()).unwrap() else {
                panic!("not a status event")
            };
            received.push(StatusReport::try_from(event).unwrap());
            stack
                .sqs
                .delete_message()
                .queue_url(&queue_url)
                .receipt_handle(m.receipt_handle().unwrap())
                .send()
                .await
                .unwrap();
        }
        if received.len() >= 2 {
            break;
        }
    }
    assert_eq!(
        received.iter().map(|r| r.status.as_str()).collect::<Vec<_>>(),
        vec!["Available", "Charging"]
    );
    assert_eq!(received[0], a);
}

#[tokio::test]
async fn station_events_are_stored_once_per_entry() {
    let stack = fresh_stack().await;
    let station = StationId::parse("CP-IT-5").unwrap();
    let log = &stack.services.station_events;
    log.store(&station, "report#7#0000000000", r#"{"requestId":7}"#, now())
        .await
        .unwrap();
    log.store(&station, "report#7#0000000000", r#"{"requestId":7}"#, now())
        .await
        .unwrap();
    log.store(&station, "report#7#0000000001", r#"{"requestId":7,"seqNo":1}"#, now())
        .await
        .unwrap();
    let table = stack.config.station_events_table.clone().unwrap();
    let count = stack.dynamodb.scan().table_name(table).send().await.unwrap().count();
    assert_eq!(count, 2);
}
