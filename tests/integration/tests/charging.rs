//! The charging adapters (tokens, transaction ids, start claims, transactions, seqNos, anomalies,
//! session records, session queues) on DynamoDB Local and LocalStack, driven by the domain's use
//! cases: a 1.6 session from start to stop, delivered twice to the projection.

use chrono::{DateTime, Duration, SubsecRound, Utc};
use csms_aws::events::DomainEvent;
use csms_domain::id_token::authorize;
use csms_domain::session::{self, Change};
use csms_domain::transaction::{self, MeterValues, StartTransaction, StopOutcome, StopTransaction};
use csms_domain::transaction_event::{EventMark, SeqNoLog, SeqVerdict};
use csms_domain::*;
use integration_tests::fresh_stack;
use rust_decimal::Decimal;

fn t(secs: i64) -> DateTime<Utc> {
    Utc::now().trunc_subsecs(3) + Duration::seconds(secs)
}

fn energy(at: DateTime<Utc>, kwh: Decimal, context: ReadingContext) -> MeterSample {
    MeterSample::new(at, Measurand::EnergyActiveImportRegister, kwh, Some("kWh"), 0)
        .unwrap()
        .with_context(context)
}

async fn received_session_events(stack: &integration_tests::Stack, expected: usize) -> Vec<SessionEvent> {
    let url = stack.config.session_events_queue_url.clone().unwrap();
    let mut events = Vec::new();
    for _ in 0..20 {
        let out = stack
            .sqs
            .receive_message()
            .queue_url(&url)
            .max_number_of_messages(10)
            .wait_time_seconds(1)
            .send()
            .await;
        for m in out.unwrap().messages() {
            let DomainEvent::SessionEvent(e) = DomainEvent::parse(m.body().unwrap()).unwrap() else {
                panic!("not a session event")
            };
            events.push(SessionEvent::try_from(&e).unwrap());
            stack
                .sqs
                .delete_message()
                .queue_url(&url)
                .receipt_handle(m.receipt_handle().unwrap())
                .send()
                .await
                .unwrap();
        }
        if events.len() >= expected {
            break;
        }
    }
    events
}

#[tokio::test]
async fn an_ocpp16_session_through_the_real_adapters() {
    let stack = fresh_stack().await;
    let charging = &stack.services.charging;
    let ports = charging.ports();
    let station = StationId::parse("CP-IT-16").unwrap();
    let tag = IdToken::parse_16("CAFE0001").unwrap();
    let record = TokenRecord {
        token: tag.clone(),
        status: AuthorizationStatus::Accepted,
        expiry: Some(t(86_400)),
        group: None,
        owner: Some("driver".into()),
        organisation: None,
    };
    charging.tokens.put(&record).await.unwrap();
    assert_eq!(charging.tokens.list().await.unwrap(), vec![record]);
    assert_eq!(
        authorize(ports.tokens, None, &IdToken::parse_16("cafe0001").unwrap(), t(0))
            .await
            .unwrap()
            .status,
        AuthorizationStatus::Accepted
    );
    assert_eq!(
        authorize(ports.tokens, None, &IdToken::parse_16("UNKNOWN").unwrap(), t(0))
            .await
            .unwrap()
            .status,
        AuthorizationStatus::Invalid
    );

    let start = StartTransaction {
        station: station.clone(),
        organisation: None,
        connector: 1,
        id_tag: tag.clone(),
        meter_start_wh: 10_000,
        timestamp: t(0),
        reservation_id: None,
    };
    let first = transaction::start_transaction(&ports, &start, t(0)).await.unwrap();
    let retried = transaction::start_transaction(&ports, &start, t(1)).await.unwrap();
    assert_eq!(
        first.transaction_id, retried.transaction_id,
        "a retried start gets its first id"
    );
    let other = StartTransaction {
        connector: 2,
        ..start.clone()
    };
    assert_ne!(
        transaction::start_transaction(&ports, &other, t(0))
            .await
            .unwrap()
            .transaction_id,
        first.transaction_id
    );

    let meter = MeterValues {
        station: station.clone(),
        connector: 1,
        transaction_id: Some(first.transaction_id.get()),
        samples: vec![energy(t(600), Decimal::new(125, 1), ReadingContext::SamplePeriodic)],
    };
    transaction::meter_values(&ports, &meter, t(600)).await.unwrap();
    let stop = StopTransaction {
        station: station.clone(),
        organisation: None,
        transaction_id: first.transaction_id.get(),
        id_tag: Some(tag.clone()),
        meter_stop_wh: 17_500,
        timestamp: t(1200),
        reason: Some("EVDisconnected".into()),
        transaction_data: vec![],
    };
    assert_eq!(
        transaction::stop_transaction(&ports, &stop, t(1200))
            .await
            .unwrap()
            .outcome,
        StopOutcome::Stopped
    );
    assert_eq!(
        transaction::stop_transaction(&ports, &stop, t(1201))
            .await
            .unwrap()
            .outcome,
        StopOutcome::Duplicate
    );
    let unknown = StopTransaction {
        transaction_id: 999_999,
        ..stop.clone()
    };
    assert_eq!(
        transaction::stop_transaction(&ports, &unknown, t(1202))
            .await
            .unwrap()
            .outcome,
        StopOutcome::UnknownTransaction
    );
    assert_eq!(charging.anomalies.list(&station).await.unwrap().len(), 1);

    // The queue carries the events; the projection applied twice (a redelivery) completes once.
    let events = received_session_events(&stack, 4).await;
    assert!(events.len() >= 4, "got {} session events", events.len());
    let mut completions = 0;
    for event in events.iter().chain(events.iter()) {
        let ports = charging.session_ports(&*stack.services.stations);
        if let Change::Completed(_) = session::project(ports, event).await.unwrap() {
            completions += 1;
        }
    }
    assert_eq!(completions, 1);
    let key = TransactionKey::Ocpp16(first.transaction_id);
    let session = charging.sessions.get(&station, &key).await.unwrap().unwrap();
    let completion = session.completion.unwrap();
    assert_eq!(
        (completion.energy_wh, completion.duration_seconds),
        (Some(Decimal::from(7500)), 1200)
    );
    assert_eq!(charging.sessions.list(&station).await.unwrap().len(), 2);
}

#[tokio::test]
async fn seq_numbers_keep_their_first_mark() {
    let stack = fresh_stack().await;
    let seq = &stack.services.charging.seq_nos;
    let station = StationId::parse("CP-IT-201").unwrap();
    let tx = StationTransactionId::parse("tx-1").unwrap();
    let started = EventMark {
        event_type: TransactionEventType::Started,
        timestamp: t(0),
    };
    let updated = EventMark {
        event_type: TransactionEventType::Updated,
        timestamp: t(60),
    };
    assert!(seq.get(&station, &tx).await.unwrap().is_none());
    let mut log = SeqNoLog::default();
    log.observe(0, &started);
    log.observe(2, &updated);
    log.version = 1;
    assert!(seq.save(&station, &tx, &log, None).await.unwrap());
    // A second writer that read nothing, or an older version, loses.
    assert!(!seq.save(&station, &tx, &log, None).await.unwrap());
    let stored = seq.get(&station, &tx).await.unwrap().unwrap();
    assert_eq!(stored, log);
    assert_eq!(stored.clone().observe(0, &updated).verdict, SeqVerdict::Reused);
    assert_eq!(stored.seen.missing(10), vec![1]);
    let mut next = stored.clone();
    next.observe(3, &updated);
    next.version = 2;
    assert!(seq.save(&station, &tx, &next, Some(1)).await.unwrap());
    assert!(!seq.save(&station, &tx, &next, Some(1)).await.unwrap());
}
