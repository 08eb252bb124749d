//! The `$default` handler on the charging sample events in `events/`, against in-memory ports:
//! Authorize, 1.6 StartTransaction / MeterValues / StopTransaction and 2.0.1 TransactionEvent /
//! MeterValues get the answers their versions define, and the session events they publish make
//! the right session record.

mod common;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use common::*;
use csms_domain::memory::MemoryWorld;
use csms_domain::ports::{PublishError, SessionEventBus, SessionRepository, TokenRepository};
use csms_domain::session::{self, Change};
use csms_domain::*;
use rust_decimal_macros::dec;
use serde_json::{Value, json};
use std::sync::Arc;

fn at(raw: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(raw).unwrap().with_timezone(&Utc)
}

fn station() -> StationId {
    StationId::parse("CP-DEMO-1").unwrap()
}

async fn register(world: &MemoryWorld, token: IdToken, status: AuthorizationStatus, expiry: Option<&str>) {
    let record = TokenRecord {
        token,
        status,
        expiry: expiry.map(at),
        group: Some(IdToken::parse_16("FLEET-7").unwrap()),
        owner: Some("driver-42".into()),
        organisation: None,
    };
    world.charging.tokens.put(&record).await.unwrap();
}

/// A booted station on `protocol` whose registry knows the sample events' tokens.
async fn booted(protocol: &str) -> (MemoryWorld, Services) {
    let (world, services) = connected(protocol, Registration::Accepted).await;
    let boot = match protocol {
        "ocpp1.6" => event!("ws-default-boot-notification-1.6.json"),
        _ => event!("ws-default-boot-notification-2.0.1.json"),
    };
    assert_eq!(send(&services, boot).await.unwrap()[2]["status"], "Accepted");
    let tag = IdToken::parse_16("04E91C5A").unwrap();
    register(&world, tag, AuthorizationStatus::Accepted, Some("2027-01-01T00:00:00Z")).await;
    let card = IdToken::parse_201("04A2B3C4D5E6F7", IdTokenType::Iso14443).unwrap();
    register(&world, card, AuthorizationStatus::Accepted, None).await;
    let blocked = IdToken::parse_16("BLOCKED-1").unwrap();
    register(&world, blocked, AuthorizationStatus::Blocked, None).await;
    let old = IdToken::parse_16("EXPIRED-1").unwrap();
    register(&world, old, AuthorizationStatus::Accepted, Some("2020-01-01T00:00:00Z")).await;
    (world, services)
}

fn published(world: &MemoryWorld) -> Vec<SessionEvent> {
    let events = world.charging.session_events.0.lock().unwrap();
    events.iter().map(|(_, e)| e.clone()).collect()
}

fn anomalies(world: &MemoryWorld) -> Vec<AnomalyKind> {
    let anomalies = world.charging.anomalies.0.lock().unwrap();
    anomalies.values().map(|a| a.kind.clone()).collect()
}

/// Runs the sessions function's use case on everything published so far, twice, as SQS may.
async fn project_all(world: &MemoryWorld) -> usize {
    let events = published(world);
    let mut completed = 0;
    for event in events.iter().chain(events.iter()) {
        let ports = world.charging.session_ports(&*world.stations);
        let change = session::project(ports, event).await.unwrap();
        completed += usize::from(matches!(change, Change::Completed(_)));
    }
    completed
}

fn sample<'a>(event: &'a SessionEvent, measurand: &str, phase: Option<Phase>) -> &'a MeterSample {
    event
        .samples
        .iter()
        .find(|s| s.measurand.as_str() == measurand && s.phase == phase)
        .unwrap_or_else(|| panic!("no {measurand} {phase:?} sample in {event:?}"))
}

#[tokio::test]
async fn ocpp16_authorize_answers_from_the_registry() {
    // GIVEN a booted 1.6 station and a registry with accepted, blocked and expired tags
    let (_, services) = booted("ocpp1.6").await;
    let authorize = |tag: &'static str| {
        let services = services.clone();
        async move {
            let event = with_payload(event!("ws-default-authorize-1.6.json"), |p| p["idTag"] = json!(tag));
            send(&services, &event).await.unwrap()
        }
    };

    // WHEN the sample tag is presented THEN it is accepted with its expiry and group
    let known = send(&services, event!("ws-default-authorize-1.6.json")).await.unwrap();
    assert_eq!(
        known,
        json!([3, "19223204", {"idTagInfo": {
            "status": "Accepted", "expiryDate": "2027-01-01T00:00:00Z", "parentIdTag": "FLEET-7"
        }}])
    );
    // AND tags compare without case; the others get their registry status
    assert_eq!(authorize("04e91c5a").await[2]["idTagInfo"]["status"], "Accepted");
    assert_eq!(
        authorize("NOBODY").await[2],
        json!({"idTagInfo": {"status": "Invalid"}})
    );
    assert_eq!(authorize("BLOCKED-1").await[2]["idTagInfo"]["status"], "Blocked");
    assert_eq!(authorize("EXPIRED-1").await[2]["idTagInfo"]["status"], "Expired");
    // AND a tag the schema admits but the domain cannot hold is Invalid, not a CALLERROR
    assert_eq!(
        authorize("").await,
        json!([3, "19223204", {"idTagInfo": {"status": "Invalid"}}])
    );
}

#[tokio::test]
async fn ocpp16_session_from_start_to_stop() {
    // GIVEN a booted 1.6 station and an accepted tag
    let (world, services) = booted("ocpp1.6").await;

    // WHEN it starts a transaction, and retries the start (the answer was lost)
    let started = send(&services, event!("ws-default-start-transaction-1.6.json"))
        .await
        .unwrap();
    let retried = send(&services, event!("ws-default-start-transaction-1.6.json"))
        .await
        .unwrap();

    // THEN both get the same transaction id and the tag's info, and one start is published
    assert_eq!(
        started,
        json!([3, "19223205", {"transactionId": 1, "idTagInfo": {
            "status": "Accepted", "expiryDate": "2027-01-01T00:00:00Z", "parentIdTag": "FLEET-7"
        }}])
    );
    assert_eq!(retried, started);
    let events = published(&world);
    assert_eq!(events.len(), 1);
    let start = &events[0];
    assert_eq!(
        start.transaction,
        TransactionKey::Ocpp16(TransactionId::new(1).unwrap())
    );
    assert_eq!(start.station, station());
    assert_eq!(start.connector, Some(1));
    assert_eq!(start.timestamp, at("2026-11-24T05:01:00Z"));
    assert_eq!(start.id_token.as_ref().unwrap().as_str(), "04E91C5A");
    assert!(matches!(
        start.kind,
        SessionEventKind::Started {
            meter_start_wh: Some(wh),
            ..
        } if wh == dec!(12000)
    ));

    // WHEN it sends meter values THEN they are answered and published in base units
    assert_eq!(
        send(&services, event!("ws-default-meter-values-1.6.json"))
            .await
            .unwrap(),
        json!([3, "19223206", {}])
    );
    let events = published(&world);
    assert_eq!(events.len(), 2);
    let meter = &events[1];
    assert_eq!(meter.kind, SessionEventKind::Updated);
    assert_eq!(meter.timestamp, at("2026-11-24T05:16:00Z"));
    assert_eq!(meter.samples.len(), 7);
    let energy = sample(meter, "Energy.Active.Import.Register", None);
    assert_eq!((energy.value, energy.unit.as_deref()), (dec!(14750), Some("Wh")));
    assert_eq!(energy.context, ReadingContext::SamplePeriodic);
    assert_eq!(energy.timestamp, at("2026-11-24T05:16:00Z"));
    assert_eq!(sample(meter, "Power.Active.Import", None).value, dec!(11040));
    assert_eq!(sample(meter, "Current.Import", Some(Phase::L2)).value, dec!(16.1));
    let voltage = sample(meter, "Voltage", Some(Phase::L1N));
    assert_eq!((voltage.value, voltage.unit.as_deref()), (dec!(230.4), Some("V")));
    assert_eq!(sample(meter, "SoC", None).unit.as_deref(), Some("Percent"));

    // WHEN it stops, twice (a retry)
    let stopped = send(&services, event!("ws-default-stop-transaction-1.6.json"))
        .await
        .unwrap();
    let again = send(&services, event!("ws-default-stop-transaction-1.6.json"))
        .await
        .unwrap();

    // THEN both are answered with the tag's info, and one stop is published
    assert_eq!(stopped[2]["idTagInfo"]["status"], "Accepted");
    assert_eq!(again, stopped);
    let events = published(&world);
    assert_eq!(events.len(), 3);
    let stop = &events[2];
    assert_eq!(
        stop.kind,
        SessionEventKind::Stopped {
            meter_stop_wh: Some(dec!(19750)),
            reason: "EVDisconnected".into()
        }
    );
    assert_eq!(stop.samples.len(), 2);
    assert_eq!(stop.samples[1].context, ReadingContext::TransactionEnd);
    assert!(anomalies(&world).is_empty());

    // AND the sessions function makes a 7 750 Wh, 40 minute session of them, completed once
    assert_eq!(project_all(&world).await, 1);
    let session = world
        .charging
        .sessions
        .get(&station(), &start.transaction)
        .await
        .unwrap()
        .unwrap();
    let completion = session.completion.as_ref().unwrap();
    assert_eq!(completion.energy_wh, Some(dec!(7750)));
    assert_eq!(completion.duration_seconds, 2400);
    assert_eq!(world.charging.completions.0.lock().unwrap().len(), 1);
}

#[tokio::test]
async fn ocpp16_stops_are_answered_even_for_unknown_transactions() {
    // GIVEN a booted 1.6 station that never started a transaction
    let (world, services) = booted("ocpp1.6").await;

    // WHEN it stops transaction 1 with a tag, and -1 without one
    let unknown = send(&services, event!("ws-default-stop-transaction-1.6.json"))
        .await
        .unwrap();
    let never_started = with_payload(event!("ws-default-stop-transaction-1.6.json"), |p| {
        p["transactionId"] = json!(-1);
        p.as_object_mut().unwrap().remove("idTag");
    });
    let without_tag = send(&services, &never_started).await.unwrap();

    // THEN both get a CALLRESULT, with idTagInfo only when a tag was sent
    assert_eq!(unknown[0], 3);
    assert_eq!(unknown[2]["idTagInfo"]["status"], "Accepted");
    assert_eq!(without_tag, json!([3, "19223207", {}]));
    // AND nothing reaches the sessions; the operator sees both stops
    assert!(published(&world).is_empty());
    let mut seen = anomalies(&world);
    seen.sort_by_key(|a| format!("{a:?}"));
    assert_eq!(
        seen,
        vec![
            AnomalyKind::StopForUnknownTransaction {
                transaction_id: -1,
                meter_stop_wh: 19750,
                id_tag: None
            },
            AnomalyKind::StopForUnknownTransaction {
                transaction_id: 1,
                meter_stop_wh: 19750,
                id_tag: Some("04E91C5A".into())
            },
        ]
    );

    // AND a stop with a tag the domain cannot hold is answered Invalid
    let odd_tag = with_payload(event!("ws-default-stop-transaction-1.6.json"), |p| {
        p["idTag"] = json!("")
    });
    let answer = send(&services, &odd_tag).await.unwrap();
    assert_eq!(answer[2], json!({"idTagInfo": {"status": "Invalid"}}));
}

#[tokio::test]
async fn ocpp16_meter_values_outside_a_transaction_are_accepted() {
    let (world, services) = booted("ocpp1.6").await;
    let station_meter = with_payload(event!("ws-default-meter-values-1.6.json"), |p| {
        p.as_object_mut().unwrap().remove("transactionId");
        p["connectorId"] = json!(0);
        // A value that is no number is left out; the message is still accepted.
        p["meterValue"][0]["sampledValue"][0]["value"] = json!("n/a");
    });
    assert_eq!(
        send(&services, &station_meter).await.unwrap(),
        json!([3, "19223206", {}])
    );
    assert!(published(&world).is_empty());
}

#[tokio::test]
async fn ocpp16_start_with_a_tag_the_domain_cannot_hold_is_answered_invalid() {
    let (world, services) = booted("ocpp1.6").await;
    let odd_tag = with_payload(event!("ws-default-start-transaction-1.6.json"), |p| {
        p["idTag"] = json!("")
    });
    assert_eq!(
        send(&services, &odd_tag).await.unwrap(),
        json!([3, "19223205", {"transactionId": 0, "idTagInfo": {"status": "Invalid"}}])
    );
    assert!(published(&world).is_empty());
    assert!(world.charging.transactions.0.lock().unwrap().is_empty());
}

#[tokio::test]
async fn transaction_messages_need_an_accepted_boot() {
    let (world, services) = connected("ocpp1.6", Registration::Pending).await;
    let answer = send(&services, event!("ws-default-start-transaction-1.6.json"))
        .await
        .unwrap();
    assert_eq!(answer[2], "SecurityError");
    assert!(world.charging.transactions.0.lock().unwrap().is_empty());
}

/// A session event bus that is down.
struct DownBus;

#[async_trait]
impl SessionEventBus for DownBus {
    async fn session_event(&self, _: &SessionEvent, _: &str) -> Result<(), PublishError> {
        Err(PublishError("queue unavailable".into()))
    }
}

#[tokio::test]
async fn a_failed_publish_is_an_internal_error_and_the_retry_gets_the_same_id() {
    // GIVEN a booted station whose session queue is down
    let (world, mut services) = booted("ocpp1.6").await;
    services.charging.session_events = Arc::new(DownBus);

    // WHEN it starts a transaction THEN it gets an InternalError to retry on
    let answer = send(&services, event!("ws-default-start-transaction-1.6.json"))
        .await
        .unwrap();
    assert_eq!(
        answer.as_array().unwrap()[..3],
        [json!(4), json!("19223205"), json!("InternalError")]
    );

    // WHEN the queue is back and the station retries THEN the start gets the id it was given
    services.charging.session_events = world.charging.session_events.clone();
    let retried = send(&services, event!("ws-default-start-transaction-1.6.json"))
        .await
        .unwrap();
    assert_eq!(retried[2]["transactionId"], 1);
    assert_eq!(published(&world).len(), 1);
}

#[tokio::test]
async fn ocpp201_authorize_answers_from_the_registry() {
    // GIVEN a booted 2.0.1 station and a registry with an ISO 14443 card
    let (_, services) = booted("ocpp2.0.1").await;
    let authorize = |token: &'static str, kind: &'static str| {
        let services = services.clone();
        async move {
            let event = with_payload(event!("ws-default-authorize-2.0.1.json"), |p| {
                p["idToken"] = json!({"idToken": token, "type": kind})
            });
            send(&services, &event).await.unwrap()[2].clone()
        }
    };

    // WHEN the sample card is presented THEN it is accepted with its group
    let known = send(&services, event!("ws-default-authorize-2.0.1.json"))
        .await
        .unwrap();
    assert_eq!(
        known,
        json!([3, "a7b1e0c2-7f54-4c1e-9a0e-000000000005", {"idTokenInfo": {
            "status": "Accepted", "groupIdToken": {"idToken": "FLEET-7", "type": "Central"}
        }}])
    );
    // AND the same value of another type, an unknown card and a blocked tag are not
    assert_eq!(
        authorize("04A2B3C4D5E6F7", "KeyCode").await["idTokenInfo"]["status"],
        "Invalid"
    );
    assert_eq!(
        authorize("NOBODY", "ISO14443").await["idTokenInfo"]["status"],
        "Invalid"
    );
    assert_eq!(
        authorize("blocked-1", "Central").await["idTokenInfo"]["status"],
        "Blocked"
    );
    let expired = authorize("EXPIRED-1", "Local").await;
    assert_eq!(expired["idTokenInfo"]["status"], "Expired");
    assert_eq!(
        expired["idTokenInfo"]["cacheExpiryDateTime"],
        "2020-01-01T00:00:00.000Z"
    );
    // AND a station without a reader may charge; an empty card is Invalid, not a CALLERROR
    assert_eq!(
        authorize("", "NoAuthorization").await,
        json!({"idTokenInfo": {"status": "Accepted"}})
    );
    assert_eq!(
        authorize("", "ISO14443").await,
        json!({"idTokenInfo": {"status": "Invalid"}})
    );
}

#[tokio::test]
async fn ocpp201_transaction_started_updated_ended() {
    // GIVEN a booted 2.0.1 station and an accepted card
    let (world, services) = booted("ocpp2.0.1").await;

    // WHEN it starts a transaction THEN the answer carries the card's info
    let started = send(&services, event!("ws-default-transaction-event-started-2.0.1.json"))
        .await
        .unwrap();
    assert_eq!(
        started,
        json!([3, "a7b1e0c2-7f54-4c1e-9a0e-000000000006", {"idTokenInfo": {
            "status": "Accepted", "groupIdToken": {"idToken": "FLEET-7", "type": "Central"}
        }}])
    );

    // WHEN it sends an update, and the same update again (a retry) THEN both are answered
    // without idTokenInfo, and the duplicate changes nothing
    let updated = send(&services, event!("ws-default-transaction-event-updated-2.0.1.json"))
        .await
        .unwrap();
    assert_eq!(updated[2], json!({}));
    let duplicate = send(&services, event!("ws-default-transaction-event-updated-2.0.1.json"))
        .await
        .unwrap();
    assert_eq!(duplicate, updated);
    assert_eq!(published(&world).len(), 2);

    // WHEN it ends the transaction with the card THEN the answer carries the card's info
    let ended = send(&services, event!("ws-default-transaction-event-ended-2.0.1.json"))
        .await
        .unwrap();
    assert_eq!(ended[2]["idTokenInfo"]["status"], "Accepted");

    // AND three session events were published, with the readings in base units
    let events = published(&world);
    assert_eq!(events.len(), 3);
    let key = TransactionKey::Ocpp201(StationTransactionId::parse("b7f3c2a0-5d1e-4c8a-9f64-1e2d3c4b5a69").unwrap());
    assert!(events.iter().all(|e| e.transaction == key && e.station == station()));
    assert_eq!(
        events.iter().map(|e| e.seq_no).collect::<Vec<_>>(),
        vec![Some(0), Some(1), Some(2)]
    );
    let (start, update, end) = (&events[0], &events[1], &events[2]);
    assert_eq!((start.evse, start.connector), (Some(1), Some(1)));
    assert_eq!(start.id_token.as_ref().unwrap().kind(), Some(IdTokenType::Iso14443));
    assert_eq!(
        start.kind,
        SessionEventKind::Started {
            meter_start_wh: Some(dec!(1500)),
            reason: Some("Authorized".into()),
            remote_start_id: None
        }
    );
    assert_eq!(start.samples[0].context, ReadingContext::TransactionBegin);
    assert_eq!(update.kind, SessionEventKind::Updated);
    assert_eq!(update.samples.len(), 6);
    assert_eq!(sample(update, "Energy.Active.Import.Register", None).value, dec!(4250));
    let power = sample(update, "Power.Active.Import", None);
    assert_eq!((power.value, power.unit.as_deref()), (dec!(11040), Some("W")));
    assert_eq!(sample(update, "Current.Import", Some(Phase::L3)).value, dec!(15.9));
    assert_eq!(
        end.kind,
        SessionEventKind::Stopped {
            meter_stop_wh: Some(dec!(9500)),
            reason: "Local".into()
        }
    );
    assert!(anomalies(&world).is_empty(), "a duplicate is no anomaly");

    // AND the sessions function makes an 8 000 Wh, 40 minute session of them
    assert_eq!(project_all(&world).await, 1);
    let session = world.charging.sessions.get(&station(), &key).await.unwrap().unwrap();
    let completion = session.completion.as_ref().unwrap();
    assert_eq!(completion.energy_wh, Some(dec!(8000)));
    assert_eq!(completion.duration_seconds, 2400);
    assert!(session.missing_seq_nos(10).is_empty());
}

#[tokio::test]
async fn ocpp201_offline_events_gaps_and_odd_tokens() {
    let (world, services) = booted("ocpp2.0.1").await;
    // GIVEN a started transaction
    send(&services, event!("ws-default-transaction-event-started-2.0.1.json"))
        .await
        .unwrap();
    // WHEN an update replayed from the offline queue skips a number, and the end carries a token
    // the domain cannot hold
    let late = with_payload(event!("ws-default-transaction-event-updated-2.0.1.json"), |p| {
        p["seqNo"] = json!(3);
        p["offline"] = json!(true);
    });
    assert_eq!(send(&services, &late).await.unwrap()[2], json!({}));
    let odd = with_payload(event!("ws-default-transaction-event-ended-2.0.1.json"), |p| {
        p["seqNo"] = json!(4);
        p["idToken"] = json!({"idToken": "", "type": "ISO14443"});
    });
    let ended = send(&services, &odd).await.unwrap();

    // THEN the end is answered Invalid, the gap reported, and the offline flag published
    assert_eq!(ended[2], json!({"idTokenInfo": {"status": "Invalid"}}));
    assert!(
        anomalies(&world)
            .iter()
            .any(|a| matches!(a, AnomalyKind::SeqNoGap { missing, .. } if missing == &vec![1, 2]))
    );
    let events = published(&world);
    assert!(events[1].offline);
    assert_eq!(events[2].id_token, None);
}

#[tokio::test]
async fn ocpp201_transaction_ids_and_seq_nos_the_domain_cannot_hold_are_refused() {
    let (world, services) = booted("ocpp2.0.1").await;
    let spaced = with_payload(event!("ws-default-transaction-event-started-2.0.1.json"), |p| {
        p["transactionInfo"]["transactionId"] = json!("tx 1")
    });
    let answer = send(&services, &spaced).await.unwrap();
    assert_eq!(answer[0], 4);
    assert_eq!(answer[2], "PropertyConstraintViolation");
    let negative = with_payload(event!("ws-default-transaction-event-started-2.0.1.json"), |p| {
        p["seqNo"] = json!(-1)
    });
    assert_eq!(
        send(&services, &negative).await.unwrap()[2],
        "PropertyConstraintViolation"
    );
    assert!(published(&world).is_empty());
}

#[tokio::test]
async fn ocpp201_meter_values_outside_a_transaction_are_accepted() {
    let (world, services) = booted("ocpp2.0.1").await;
    let answer: Value = send(&services, event!("ws-default-meter-values-2.0.1.json"))
        .await
        .unwrap();
    assert_eq!(answer, json!([3, "a7b1e0c2-7f54-4c1e-9a0e-000000000009", {}]));
    assert!(published(&world).is_empty());
}

/// Keeps every session event as the SQS adapter would send it: its JSON body.
#[derive(Default)]
struct QueueBodies(std::sync::Mutex<Vec<String>>);

#[async_trait]
impl SessionEventBus for QueueBodies {
    async fn session_event(&self, event: &SessionEvent, _: &str) -> Result<(), PublishError> {
        let body = csms_aws::events::DomainEvent::SessionEvent(event.into()).to_json();
        self.0.lock().unwrap().push(body);
        Ok(())
    }
}

#[tokio::test]
async fn a_stop_with_huge_transaction_data_fits_the_session_queue() {
    // GIVEN a started 1.6 transaction
    let (_, mut services) = booted("ocpp1.6").await;
    send(&services, event!("ws-default-start-transaction-1.6.json")).await;
    let bodies = Arc::new(QueueBodies::default());
    services.charging.session_events = bodies.clone();

    // WHEN the stop carries 8,000 bare readings (a ~110 KB frame, under API Gateway's 128 KB)
    let readings = 8_000;
    let stop = with_payload(event!("ws-default-stop-transaction-1.6.json"), |p| {
        p["transactionData"] = json!([{
            "timestamp": "2026-11-24T05:40:00.000Z",
            "sampledValue": vec![json!({"value": "1"}); readings],
        }]);
    });
    let frame: Value = serde_json::from_str(&stop).unwrap();
    assert!(frame["body"].as_str().unwrap().len() < 128 * 1024);
    let answer = send(&services, &stop).await.unwrap();

    // THEN it is answered, and no message for the queue exceeds SQS's 256 KiB; every reading
    // is published, the stop last
    assert_eq!(answer[0], 3, "{answer}");
    let bodies = bodies.0.lock().unwrap();
    let largest = bodies.iter().map(String::len).max().unwrap();
    assert!(largest <= 256 * 1024, "a session event of {largest} bytes");
    let events: Vec<Value> = bodies.iter().map(|b| serde_json::from_str(b).unwrap()).collect();
    let carried: usize = events
        .iter()
        .map(|e| e["SessionEvent"]["samples"].as_array().unwrap().len())
        .sum();
    assert_eq!(carried, readings);
    assert!(events.last().unwrap()["SessionEvent"]["event"]["Stopped"].is_object());
}
