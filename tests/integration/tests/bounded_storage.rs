//! What a long session leaves in DynamoDB Local stays bounded (issue 10, items 1 and 2): the
//! session record does not grow with its meter series, and the 2.0.1 seqNo tracker does not grow
//! with the transaction's events and expires. Driven through the sessions function's handler and
//! the TransactionEvent use case, so that only the stores' real limits decide.

use aws_lambda_events::sqs::{SqsEvent, SqsMessage};
use aws_sdk_dynamodb::types::AttributeValue;
use chrono::{DateTime, Duration, SubsecRound, Utc};
use csms_domain::transaction_event::{self, TransactionEvent, TransactionEventType};
use csms_domain::*;
use integration_tests::fresh_stack;
use serde_json::{Value, json};
use std::collections::HashMap;

/// An item's size as DynamoDB counts it, near enough: names and values in bytes.
fn item_bytes(item: &HashMap<String, AttributeValue>) -> usize {
    fn value(v: &AttributeValue) -> usize {
        match v {
            AttributeValue::S(s) | AttributeValue::N(s) => s.len(),
            AttributeValue::Bool(_) | AttributeValue::Null(_) => 1,
            AttributeValue::L(l) => 3 + l.iter().map(|v| 1 + value(v)).sum::<usize>(),
            AttributeValue::M(m) => 3 + m.iter().map(|(k, v)| 1 + k.len() + value(v)).sum::<usize>(),
            _ => 0,
        }
    }
    item.iter().map(|(k, v)| k.len() + value(v)).sum()
}

async fn raw_item(
    stack: &integration_tests::Stack,
    table: &str,
    key: &[(&str, &str)],
) -> HashMap<String, AttributeValue> {
    let mut get = stack.dynamodb.get_item().table_name(table).consistent_read(true);
    for (name, value) in key {
        get = get.key(*name, AttributeValue::S((*value).to_owned()));
    }
    get.send().await.unwrap().item.expect("the item exists")
}

fn time(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// A 1.6 session event as the message function puts it on the queue.
fn body(station: &str, tx: i64, at: DateTime<Utc>, event: Value, samples: Vec<Value>) -> String {
    json!({"SessionEvent": {
        "stationId": station, "transaction": format!("tx16#{tx}"), "seqNo": null, "timestamp": time(at),
        "offline": false, "evse": null, "connector": 1, "idToken": {"value": "LONG-TAG"},
        "event": event, "samples": samples,
    }})
    .to_string()
}

/// Eight readings at `at`: the energy register, power, three currents, three voltages.
fn readings(at: DateTime<Utc>, wh: i64) -> Vec<Value> {
    let reading = |measurand: &str, phase: Option<&str>, value: i64, unit: &str| {
        let mut r = json!({"timestamp": time(at), "measurand": measurand, "context": "Sample.Periodic",
                           "value": value, "unit": unit});
        if let Some(phase) = phase {
            r["phase"] = json!(phase);
        }
        r
    };
    let mut all = vec![
        reading("Energy.Active.Import.Register", None, wh, "Wh"),
        reading("Power.Active.Import", None, 11_000, "W"),
    ];
    for (l, ln) in [("L1", "L1-N"), ("L2", "L2-N"), ("L3", "L3-N")] {
        all.push(reading("Current.Import", Some(l), 16, "A"));
        all.push(reading("Voltage", Some(ln), 230, "V"));
    }
    all
}

fn batch(bodies: &[String], first_id: usize) -> SqsEvent {
    let mut event = SqsEvent::default();
    event.records = bodies
        .iter()
        .enumerate()
        .map(|(i, body)| {
            let mut message = SqsMessage::default();
            message.message_id = Some(format!("m{}", first_id + i));
            message.body = Some(body.clone());
            message
        })
        .collect();
    event
}

#[tokio::test]
async fn a_session_record_does_not_grow_with_its_meter_series() {
    // GIVEN a started 1.6 session
    let stack = fresh_stack().await;
    let (station, tx) = ("CP-IT-LONG", 4242);
    let t0 = Utc::now().trunc_subsecs(0) - Duration::hours(2);
    let started = json!({"Started": {"meterStartWh": 1000, "reason": null, "remoteStartId": null}});
    let mut bodies = vec![body(station, tx, t0, started, vec![])];
    // WHEN 400 MeterValues of 8 readings each arrive (3,200 readings: past the ~3,000 that
    // filled the record's 400 KB when the series lived inside it), then the stop
    for k in 1..=400i64 {
        let at = t0 + Duration::seconds(10 * k);
        bodies.push(body(station, tx, at, json!("Updated"), readings(at, 1000 + 30 * k)));
    }
    let stop_at = t0 + Duration::seconds(4010);
    let stopped = json!({"Stopped": {"meterStopWh": 13_000, "reason": "Local"}});
    bodies.push(body(station, tx, stop_at, stopped, vec![]));
    for (i, chunk) in bodies.chunks(10).enumerate() {
        let response = sessions::handle(&stack.services, batch(chunk, 10 * i)).await.unwrap();
        // THEN every event is projected
        assert!(response.batch_item_failures.is_empty(), "batch {i} failed");
    }
    // AND the record is small, completed with meterStop - meterStart
    let table = stack.config.sessions_table.clone().unwrap();
    let record = raw_item(&stack, &table, &[("stationId", station), ("transaction", "tx16#4242")]).await;
    let bytes = item_bytes(&record);
    assert!(bytes < 4096, "the session record holds {bytes} bytes");
    let key = TransactionKey::Ocpp16(TransactionId::new(tx).unwrap());
    let session = stack
        .services
        .charging
        .sessions
        .get(&StationId::parse(station).unwrap(), &key)
        .await;
    let session = session.unwrap().unwrap();
    assert!(session.is_completed());
    assert_eq!(session.energy_wh().map(|e| e.to_string()), Some("12000".into()));
}

#[tokio::test]
async fn the_seq_no_tracker_stays_small_and_expires() {
    // GIVEN a 2.0.1 transaction
    let stack = fresh_stack().await;
    let ports = stack.services.charging.ports();
    let station = StationId::parse("CP-IT-SEQ").unwrap();
    let transaction_id = StationTransactionId::parse("tx-long-1").unwrap();
    let t0 = Utc::now().trunc_subsecs(0) - Duration::hours(1);
    // WHEN it sends 300 TransactionEvents, every tenth one lost on the way
    for seq_no in (0..300u32).filter(|n| n % 10 != 9) {
        let event = TransactionEvent {
            station: station.clone(),
            organisation: None,
            event_type: if seq_no == 0 {
                TransactionEventType::Started
            } else {
                TransactionEventType::Updated
            },
            transaction_id: transaction_id.clone(),
            seq_no,
            timestamp: t0 + Duration::seconds(10 * i64::from(seq_no)),
            trigger_reason: "MeterValuePeriodic".into(),
            offline: false,
            evse: None,
            connector: None,
            id_token: None,
            stopped_reason: None,
            remote_start_id: None,
            meter_values: vec![],
        };
        transaction_event::transaction_event(&ports, &event, Utc::now())
            .await
            .unwrap();
    }
    // THEN the tracker's item is small and expires some months after the last event
    let table = stack.config.transactions_table.clone().unwrap();
    let pk = format!("seq#{station}#{transaction_id}");
    let item = raw_item(&stack, &table, &[("pk", &pk)]).await;
    let bytes = item_bytes(&item);
    assert!(bytes < 2048, "the tracker holds {bytes} bytes");
    let expires = item.get("expiresAt").and_then(|v| v.as_n().ok()).expect("a TTL");
    let days = (expires.parse::<i64>().unwrap() - Utc::now().timestamp()) / 86_400;
    assert!((60..=120).contains(&days), "expires in {days} days");
}
