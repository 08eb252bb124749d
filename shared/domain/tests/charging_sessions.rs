//! GIVEN a token registry WHEN a driver authorizes, starts, charges (three meter values) and stops,
//! in 1.6 and in 2.0.1, THEN the session record shows the right energy and duration; and 1.6
//! transaction ids stay unique, and one per start, under concurrency.

use chrono::{DateTime, Duration, Utc};
use std::collections::BTreeSet;
use std::sync::Arc;

use csms_domain::id_token::authorize;
use csms_domain::memory::{MemoryCharging, MemoryStations};
use csms_domain::ports::{SessionRepository, TokenRepository};
use csms_domain::session::{self, Change, SessionEvent, TransactionKey};
use csms_domain::transaction::{self, MeterValues, StartTransaction, StopTransaction};
use csms_domain::transaction_event::{self, TransactionEvent, TransactionEventType};
use csms_domain::*;
use rust_decimal::Decimal;
use rust_decimal_macros::dec;

fn t(secs: i64) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-03-01T10:00:00Z")
        .unwrap()
        .with_timezone(&Utc)
        + Duration::seconds(secs)
}

fn energy(secs: i64, kwh: Decimal, context: ReadingContext) -> MeterSample {
    MeterSample::new(t(secs), Measurand::EnergyActiveImportRegister, kwh, Some("kWh"), 0)
        .unwrap()
        .with_context(context)
}

/// The sessions function's ports; these tests register no stations.
fn session_ports(world: &MemoryCharging) -> SessionPorts<'_> {
    static NO_STATIONS: std::sync::LazyLock<MemoryStations> = std::sync::LazyLock::new(MemoryStations::default);
    world.session_ports(&*NO_STATIONS)
}

async fn readings(world: &MemoryCharging, station: &StationId, key: &TransactionKey) -> usize {
    session::whole_series(&*world.series, station, key).await.unwrap().len()
}

async fn registry(world: &MemoryCharging, token: IdToken) {
    let record = TokenRecord {
        token,
        status: AuthorizationStatus::Accepted,
        expiry: Some(t(86_400)),
        group: None,
        owner: Some("driver-1".into()),
        organisation: None,
    };
    world.tokens.put(&record).await.unwrap();
}

/// Delivers everything published so far to the sessions function, twice, as SQS may.
async fn project_all(world: &MemoryCharging) -> usize {
    let events: Vec<SessionEvent> = world
        .session_events
        .0
        .lock()
        .unwrap()
        .iter()
        .map(|(_, e)| e.clone())
        .collect();
    let mut completed = 0;
    for event in events.iter().chain(events.iter()) {
        if let Change::Completed(_) = session::project(session_ports(world), event).await.unwrap() {
            completed += 1;
        }
    }
    completed
}

#[tokio::test]
async fn an_ocpp16_session_from_authorize_to_stop() {
    // GIVEN a registered tag
    let world = MemoryCharging::default();
    let ports = world.ports();
    let station = StationId::parse("CP16").unwrap();
    let tag = IdToken::parse_16("CAFE0001").unwrap();
    registry(&world, tag.clone()).await;

    // WHEN the driver authorizes, starts at 10 000 Wh, charges and stops at 17 500 Wh
    let auth = authorize(ports.tokens, None, &tag, t(0)).await.unwrap();
    assert_eq!(auth.status, AuthorizationStatus::Accepted);
    let start = StartTransaction {
        station: station.clone(),
        organisation: None,
        connector: 1,
        id_tag: tag.clone(),
        meter_start_wh: 10_000,
        timestamp: t(5),
        reservation_id: None,
    };
    let started = transaction::start_transaction(&ports, &start, t(5)).await.unwrap();
    assert_eq!(started.id_tag_info.status, AuthorizationStatus::Accepted);
    for (k, kwh) in [(1, dec!(12.5)), (2, dec!(15)), (3, dec!(17))] {
        let request = MeterValues {
            station: station.clone(),
            connector: 1,
            transaction_id: Some(started.transaction_id.get()),
            samples: vec![energy(5 + 600 * k, kwh, ReadingContext::SamplePeriodic)],
        };
        transaction::meter_values(&ports, &request, t(5 + 600 * k))
            .await
            .unwrap();
    }
    let stop = StopTransaction {
        station: station.clone(),
        organisation: None,
        transaction_id: started.transaction_id.get(),
        id_tag: Some(tag.clone()),
        meter_stop_wh: 17_500,
        timestamp: t(2405),
        reason: Some("EVDisconnected".into()),
        transaction_data: vec![energy(2405, dec!(17.5), ReadingContext::TransactionEnd)],
    };
    let stopped = transaction::stop_transaction(&ports, &stop, t(2405)).await.unwrap();
    assert_eq!(stopped.outcome, transaction::StopOutcome::Stopped);

    // THEN the session record shows 7 500 Wh over 40 minutes, completed once
    assert_eq!(project_all(&world).await, 1);
    let key = TransactionKey::Ocpp16(started.transaction_id);
    let session = world.sessions.get(&station, &key).await.unwrap().unwrap();
    let completion = session.completion.as_ref().unwrap();
    assert_eq!(completion.energy_wh, Some(dec!(7500)));
    assert_eq!(completion.duration_seconds, 2400);
    assert_eq!(readings(&world, &station, &key).await, 4);
    assert_eq!(session.stop.as_ref().unwrap().reason, "EVDisconnected");
    let completed = world.completions.0.lock().unwrap();
    assert_eq!(completed.len(), 1);
    assert_eq!(completed[0].1.id_token, Some(tag));
}

#[tokio::test]
async fn an_ocpp201_session_replayed_from_an_offline_queue() {
    // GIVEN a registered card
    let world = MemoryCharging::default();
    let ports = world.ports();
    let station = StationId::parse("CS201").unwrap();
    let card = IdToken::parse_201("AABBCCDD", IdTokenType::Iso14443).unwrap();
    registry(&world, card.clone()).await;
    let transaction_id = StationTransactionId::parse("tx-0001").unwrap();
    let event = |seq_no: u32, event_type, meter_values| TransactionEvent {
        station: station.clone(),
        organisation: None,
        event_type,
        transaction_id: transaction_id.clone(),
        seq_no,
        timestamp: t(i64::from(seq_no) * 600),
        trigger_reason: "MeterValuePeriodic".into(),
        // The station lost its connection after the start and queued the rest.
        offline: seq_no > 0,
        evse: (seq_no == 0).then_some(1),
        connector: (seq_no == 0).then_some(1),
        id_token: (seq_no == 0).then(|| card.clone()),
        stopped_reason: None,
        remote_start_id: None,
        meter_values,
    };

    // WHEN the start arrives live and the rest hours later, the last two swapped by a retry
    let answer = transaction_event::transaction_event(
        &ports,
        &event(
            0,
            TransactionEventType::Started,
            vec![energy(0, dec!(2), ReadingContext::TransactionBegin)],
        ),
        t(1),
    )
    .await
    .unwrap();
    assert_eq!(answer.id_token_info.unwrap().status, AuthorizationStatus::Accepted);
    let later = t(4 * 3600);
    let queued = [
        event(
            1,
            TransactionEventType::Updated,
            vec![energy(600, dec!(3), ReadingContext::SamplePeriodic)],
        ),
        event(
            2,
            TransactionEventType::Updated,
            vec![energy(1200, dec!(4), ReadingContext::SamplePeriodic)],
        ),
        event(
            4,
            TransactionEventType::Ended,
            vec![energy(2400, dec!(6.25), ReadingContext::TransactionEnd)],
        ),
        event(
            3,
            TransactionEventType::Updated,
            vec![energy(1800, dec!(5), ReadingContext::SamplePeriodic)],
        ),
    ];
    for e in &queued {
        transaction_event::transaction_event(&ports, e, later).await.unwrap();
    }

    // THEN the session shows 4 250 Wh over 40 minutes, offline, nothing missing
    assert_eq!(project_all(&world).await, 1);
    let key = TransactionKey::Ocpp201(transaction_id.clone());
    let session = world.sessions.get(&station, &key).await.unwrap().unwrap();
    assert_eq!(session.energy_wh(), Some(dec!(4250)));
    assert_eq!(session.completion.as_ref().unwrap().duration_seconds, 2400);
    assert_eq!(session.stop.as_ref().unwrap().reason, "Local");
    assert!(session.offline);
    assert!(session.missing_seq_nos(10).is_empty());
    assert_eq!(readings(&world, &station, &key).await, 5);
    // AND the swap showed as a gap for the operator while it lasted
    let anomalies = world.anomalies.0.lock().unwrap();
    assert_eq!(anomalies.len(), 1);
    let anomaly = anomalies.values().next().unwrap();
    assert!(matches!(&anomaly.kind, AnomalyKind::SeqNoGap { missing, .. } if missing == &vec![3]));
}

fn start(n: u32) -> StartTransaction {
    StartTransaction {
        station: StationId::parse(&format!("CP{}", n % 4)).unwrap(),
        organisation: None,
        connector: n % 2 + 1,
        id_tag: IdToken::parse_16(&format!("TAG{n}")).unwrap(),
        meter_start_wh: i64::from(n),
        timestamp: t(i64::from(n)),
        reservation_id: None,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_starts_get_unique_ids_and_retries_share_one() {
    // GIVEN shared stores
    let world = Arc::new(MemoryCharging::default());
    // WHEN 64 different starts and 16 copies of one start run at once
    let mut tasks = Vec::new();
    for n in (0..64).chain(std::iter::repeat_n(1000, 16)) {
        let world = world.clone();
        tasks.push(tokio::spawn(async move {
            let answer = transaction::start_transaction(&world.ports(), &start(n), t(0))
                .await
                .unwrap();
            (n, answer.transaction_id)
        }));
    }
    let mut results = Vec::new();
    for task in tasks {
        results.push(task.await.unwrap());
    }
    // THEN the different starts have different ids, and the copies one id
    let distinct: BTreeSet<TransactionId> = results.iter().filter(|(n, _)| *n < 1000).map(|(_, id)| *id).collect();
    assert_eq!(distinct.len(), 64);
    let copies: BTreeSet<TransactionId> = results.iter().filter(|(n, _)| *n == 1000).map(|(_, id)| *id).collect();
    assert_eq!(copies.len(), 1);
    assert!(distinct.is_disjoint(&copies));
    assert_eq!(world.transactions.0.lock().unwrap().len(), 65);
}
