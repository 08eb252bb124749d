//! GIVEN a registered station WHEN piles connect, boot and disconnect THEN the station's live
//! state follows, through the in-memory ports.

use chrono::{DateTime, Duration, Utc};
use csms_domain::connection::{self, BootReport, ConnectAttempt, ConnectRefusal};
use csms_domain::memory::MemoryWorld;
use csms_domain::registry::{self, NewStation};
use csms_domain::*;

const PASSWORD: &str = "s3cret-password-16";

fn now() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-03-01T10:00:00Z")
        .unwrap()
        .with_timezone(&Utc)
}

async fn world_with(id: &str, registration: Registration) -> (MemoryWorld, Services) {
    let world = MemoryWorld::default();
    let services = world.services(BootPolicy {
        heartbeat_interval: 120,
        retry_interval: 30,
    });
    let new = NewStation {
        id: StationId::parse(id).unwrap(),
        protocols: vec![ProtocolVersion::Ocpp16, ProtocolVersion::Ocpp201],
        registration,
        site: Some("depot".into()),
        organisation: None,
        location: GeoPoint::new(52.0, 4.0),
        connectors: Vec::new(),
        password: Some(Password::parse(PASSWORD).unwrap()),
    };
    registry::register(&services, new, now()).await.unwrap();
    (world, services)
}

fn attempt<'a>(conn: &'a str, id: &'a str, user: &'a str, password: &'a str, offered: &'a str) -> ConnectAttempt<'a> {
    ConnectAttempt {
        connection_id: conn,
        station_id: id,
        credentials: Some((user, password)),
        offered_protocols: offered,
        now: now(),
    }
}

#[tokio::test]
async fn refusals() {
    let (_, services) = world_with("CP1", Registration::Accepted).await;
    let cases = [
        (
            attempt("c", "CP2", "CP2", PASSWORD, "ocpp1.6"),
            ConnectRefusal::UnknownStation,
        ),
        (
            attempt("c", "bad:id", "bad:id", PASSWORD, "ocpp1.6"),
            ConnectRefusal::UnknownStation,
        ),
        (
            attempt("c", "CP1", "CP1", "wrong-password-1234", "ocpp1.6"),
            ConnectRefusal::BadCredentials,
        ),
        (
            attempt("c", "CP1", "CP9", PASSWORD, "ocpp1.6"),
            ConnectRefusal::BadCredentials,
        ),
        (
            attempt("c", "CP1", "CP1", "short", "ocpp1.6"),
            ConnectRefusal::BadCredentials,
        ),
        (
            attempt("c", "CP1", "CP1", PASSWORD, "ocpp2.1"),
            ConnectRefusal::NoCommonProtocol,
        ),
    ];
    for (a, expected) in cases {
        assert_eq!(
            connection::open(&services, a.clone()).await.unwrap(),
            Err(expected),
            "{a:?}"
        );
    }
    let anonymous = ConnectAttempt {
        credentials: None,
        ..attempt("c", "CP1", "CP1", PASSWORD, "ocpp1.6")
    };
    assert_eq!(
        connection::open(&services, anonymous).await.unwrap(),
        Err(ConnectRefusal::BadCredentials)
    );
}

#[tokio::test]
async fn a_new_connection_replaces_the_old_one_and_the_old_disconnect_keeps_the_station_online() {
    let (world, services) = world_with("CP1", Registration::Accepted).await;
    let id = StationId::parse("CP1").unwrap();
    let first = connection::open(&services, attempt("c1", "CP1", "CP1", PASSWORD, "ocpp2.0.1, ocpp1.6"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(first.protocol, ProtocolVersion::Ocpp201);
    connection::open(&services, attempt("c2", "CP1", "CP1", PASSWORD, "ocpp1.6"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(*world.channel.0.lock().unwrap(), vec!["c1".to_string()]);

    connection::close(&services, "c1", now()).await.unwrap();
    let station = services.stations.get(&id).await.unwrap().unwrap();
    assert!(station.online);
    assert_eq!(station.connection_id.as_deref(), Some("c2"));

    connection::close(&services, "c2", now()).await.unwrap();
    connection::close(&services, "c2", now()).await.unwrap();
    let station = services.stations.get(&id).await.unwrap().unwrap();
    assert!(!station.online);
}

#[tokio::test]
async fn boot_answers_from_the_registration_and_survives_reconnects() {
    for (registration, interval) in [
        (Registration::Accepted, 120),
        (Registration::Pending, 30),
        (Registration::Rejected, 30),
    ] {
        let (_, services) = world_with("CP1", registration).await;
        let conn = connection::open(&services, attempt("c1", "CP1", "CP1", PASSWORD, "ocpp1.6"))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(conn.boot, None);
        let report = BootReport {
            vendor: "V".into(),
            model: "M".into(),
            serial_number: Some("S".into()),
            firmware_version: None,
        };
        let decision = connection::boot(&services, &conn, report, now()).await.unwrap();
        assert_eq!((decision.status, decision.interval), (registration, interval));
        assert_eq!(
            services.connections.get("c1").await.unwrap().unwrap().boot,
            Some(registration)
        );
        // A reconnect without a new boot (API Gateway ends sockets every 2 h) keeps the boot status.
        let again = connection::open(&services, attempt("c2", "CP1", "CP1", PASSWORD, "ocpp1.6"))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(again.boot, Some(registration));
    }
}

#[tokio::test]
async fn heartbeats_write_last_seen_only_when_stale() {
    let (_, services) = world_with("CP1", Registration::Accepted).await;
    let conn = connection::open(&services, attempt("c1", "CP1", "CP1", PASSWORD, "ocpp1.6"))
        .await
        .unwrap()
        .unwrap();
    connection::seen(&services, &conn, now() + Duration::minutes(5))
        .await
        .unwrap();
    assert_eq!(
        services.connections.get("c1").await.unwrap().unwrap().last_seen_at,
        now()
    );
    connection::seen(&services, &conn, now() + Duration::minutes(10))
        .await
        .unwrap();
    assert_eq!(
        services.connections.get("c1").await.unwrap().unwrap().last_seen_at,
        now() + Duration::minutes(10)
    );
}
