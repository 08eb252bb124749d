//! OCPP-J frames and API Gateway events built from the real-shaped samples in `events/`,
//! with a new message id, connection id and, for StatusNotification, a new status and time; the
//! charging frames (1.6 Authorize / StartTransaction / MeterValues / StopTransaction, 2.0.1
//! TransactionEvent) with the connector, transaction, times and meter readings of the run.

use aws_lambda_events::apigw::ApiGatewayWebsocketProxyRequest;
use aws_lambda_events::sqs::{SqsEvent, SqsMessage};
use base64::Engine;
use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{Value, json};

macro_rules! sample {
    ($name:literal) => {
        include_str!(concat!("../../../events/", $name))
    };
}

const CONNECT: &str = sample!("ws-connect.json");
const DEFAULT: &str = sample!("ws-default-heartbeat-1.6.json");

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Version {
    V16,
    V201,
}

impl Version {
    pub fn subprotocol(self) -> &'static str {
        match self {
            Version::V16 => "ocpp1.6",
            Version::V201 => "ocpp2.0.1",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Version::V16 => "1.6",
            Version::V201 => "2.0.1",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Action {
    BootNotification,
    Heartbeat,
    StatusNotification,
    StartTransaction,
    MeterValues,
    StopTransaction,
}

impl Action {
    pub fn name(self) -> &'static str {
        match self {
            Action::BootNotification => "BootNotification",
            Action::Heartbeat => "Heartbeat",
            Action::StatusNotification => "StatusNotification",
            Action::StartTransaction => "StartTransaction",
            Action::MeterValues => "MeterValues",
            Action::StopTransaction => "StopTransaction",
        }
    }
}

fn sample_body(version: Version, action: Action) -> String {
    let event = match (version, action) {
        (Version::V16, Action::BootNotification) => {
            sample!("ws-default-boot-notification-1.6.json")
        }
        (Version::V16, Action::Heartbeat) => sample!("ws-default-heartbeat-1.6.json"),
        (Version::V16, Action::StatusNotification) => {
            sample!("ws-default-status-notification-1.6.json")
        }
        (Version::V201, Action::BootNotification) => {
            sample!("ws-default-boot-notification-2.0.1.json")
        }
        // No 2.0.1 heartbeat sample: the frame is the same.
        (Version::V201, Action::Heartbeat) => sample!("ws-default-heartbeat-1.6.json"),
        (Version::V201, Action::StatusNotification) => {
            sample!("ws-default-status-notification-2.0.1.json")
        }
        (_, Action::StartTransaction) => sample!("ws-default-start-transaction-1.6.json"),
        (_, Action::MeterValues) => sample!("ws-default-meter-values-1.6.json"),
        (_, Action::StopTransaction) => sample!("ws-default-stop-transaction-1.6.json"),
    };
    // Parsed per frame, before the clock starts.
    serde_json::from_str::<Value>(event).expect("samples are JSON")["body"]
        .as_str()
        .expect("samples have a body")
        .to_owned()
}

/// A CALL frame: the sample's payload with `message_id`; a StatusNotification gets `timestamp`
/// and, alternating with `flip`, one of two statuses, so that consecutive reports differ.
pub fn call(version: Version, action: Action, message_id: &str, timestamp: DateTime<Utc>, flip: bool) -> String {
    let mut frame: Value = serde_json::from_str(&sample_body(version, action)).expect("sample bodies are JSON");
    frame[1] = json!(message_id);
    if action == Action::StatusNotification {
        let payload = &mut frame[3];
        payload["timestamp"] = json!(timestamp.to_rfc3339_opts(SecondsFormat::Millis, true));
        match version {
            Version::V16 => payload["status"] = json!(if flip { "Preparing" } else { "Available" }),
            Version::V201 => payload["connectorStatus"] = json!(if flip { "Occupied" } else { "Available" }),
        }
    }
    frame.to_string()
}

fn sample_frame(event: &str, message_id: &str) -> Value {
    let body = serde_json::from_str::<Value>(event).expect("samples are JSON")["body"]
        .as_str()
        .expect("samples have a body")
        .to_owned();
    let mut frame: Value = serde_json::from_str(&body).expect("sample bodies are JSON");
    frame[1] = json!(message_id);
    frame
}

fn stamp(at: DateTime<Utc>) -> Value {
    json!(at.to_rfc3339_opts(SecondsFormat::Millis, true))
}

/// The id tag of the 1.6 samples (registered by the bench as Accepted).
pub const ID_TAG_16: &str = "04E91C5A";
/// The ISO14443 id token of the 2.0.1 samples (registered by the bench as Accepted).
pub const ID_TOKEN_201: &str = "04A2B3C4D5E6F7";

/// A 1.6 StartTransaction's content; `at` and `connector` make its retry key (with the tag and
/// meterStart), so a new `at` is a new transaction and the same one a retried start.
#[derive(Debug, Clone, Copy)]
pub struct Start16 {
    pub connector: u32,
    pub at: DateTime<Utc>,
    pub meter_start_wh: i64,
}

/// 1.6 Authorize for the sample's tag.
pub fn authorize16(message_id: &str) -> String {
    sample_frame(sample!("ws-default-authorize-1.6.json"), message_id).to_string()
}

pub fn start16(message_id: &str, start: &Start16) -> String {
    let mut frame = sample_frame(sample!("ws-default-start-transaction-1.6.json"), message_id);
    let payload = &mut frame[3];
    payload["connectorId"] = json!(start.connector);
    payload["meterStart"] = json!(start.meter_start_wh);
    payload["timestamp"] = stamp(start.at);
    frame.to_string()
}

/// 1.6 MeterValues in a transaction: the energy register (kWh, as the sample) and the power;
/// with `all_measurands`, also the sample's currents, voltage and SoC (7 values in all).
pub fn meter16(
    message_id: &str,
    connector: u32,
    transaction_id: i64,
    at: DateTime<Utc>,
    energy_wh: i64,
    power_w: i64,
    all_measurands: bool,
) -> String {
    let mut frame = sample_frame(sample!("ws-default-meter-values-1.6.json"), message_id);
    let payload = &mut frame[3];
    payload["connectorId"] = json!(connector);
    payload["transactionId"] = json!(transaction_id);
    let meter_value = &mut payload["meterValue"][0];
    meter_value["timestamp"] = stamp(at);
    let sampled = meter_value["sampledValue"]
        .as_array_mut()
        .expect("the sample has sampledValue");
    sampled[0]["value"] = json!(format!("{:.3}", energy_wh as f64 / 1000.0));
    sampled[1]["value"] = json!(power_w.to_string());
    if !all_measurands {
        sampled.truncate(2);
    }
    frame.to_string()
}

/// 1.6 StopTransaction with the sample's tag, reason and Transaction.Begin / .End readings.
pub fn stop16(message_id: &str, transaction_id: i64, start: &Start16, at: DateTime<Utc>, meter_stop_wh: i64) -> String {
    let mut frame = sample_frame(sample!("ws-default-stop-transaction-1.6.json"), message_id);
    let payload = &mut frame[3];
    payload["transactionId"] = json!(transaction_id);
    payload["meterStop"] = json!(meter_stop_wh);
    payload["timestamp"] = stamp(at);
    let data = &mut payload["transactionData"];
    data[0]["timestamp"] = stamp(start.at);
    data[0]["sampledValue"][0]["value"] = json!(start.meter_start_wh.to_string());
    data[1]["timestamp"] = stamp(at);
    data[1]["sampledValue"][0]["value"] = json!(meter_stop_wh.to_string());
    frame.to_string()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TxEvent {
    Started,
    Updated,
    Ended,
}

impl TxEvent {
    pub fn name(self) -> &'static str {
        match self {
            TxEvent::Started => "Started",
            TxEvent::Updated => "Updated",
            TxEvent::Ended => "Ended",
        }
    }
}

/// 2.0.1 TransactionEvent from its sample (Started and Ended carry the sample's idToken, Updated
/// the sample's six readings), with the transaction id, seqNo, time and energy register of the run.
pub fn transaction_event201(
    message_id: &str,
    event: TxEvent,
    transaction_id: &str,
    seq_no: u32,
    at: DateTime<Utc>,
    energy_wh: i64,
) -> String {
    let sample = match event {
        TxEvent::Started => sample!("ws-default-transaction-event-started-2.0.1.json"),
        TxEvent::Updated => sample!("ws-default-transaction-event-updated-2.0.1.json"),
        TxEvent::Ended => sample!("ws-default-transaction-event-ended-2.0.1.json"),
    };
    let mut frame = sample_frame(sample, message_id);
    let payload = &mut frame[3];
    payload["transactionInfo"]["transactionId"] = json!(transaction_id);
    payload["seqNo"] = json!(seq_no);
    payload["timestamp"] = stamp(at);
    let meter_value = &mut payload["meterValue"][0];
    meter_value["timestamp"] = stamp(at);
    // Started sends Wh with multiplier 3 (i.e. kWh), the others kWh: the same number.
    meter_value["sampledValue"][0]["value"] = json!(energy_wh as f64 / 1000.0);
    frame.to_string()
}

/// What came back for a CALL.
#[derive(Debug, Clone, PartialEq)]
pub enum Reply {
    Result(Value),
    CallError(String),
    /// Not an answer to this CALL (or none at all).
    Bad(String),
}

pub fn classify(reply: Option<&str>, message_id: &str) -> Reply {
    let Some(text) = reply else {
        return Reply::Bad("no reply".into());
    };
    let Ok(Value::Array(frame)) = serde_json::from_str::<Value>(text) else {
        return Reply::Bad(format!("not a JSON array: {text}"));
    };
    if frame.get(1).and_then(Value::as_str) != Some(message_id) {
        return Reply::Bad(format!("answer to another message: {text}"));
    }
    match frame.first().and_then(Value::as_u64) {
        Some(3) => Reply::Result(frame.get(2).cloned().unwrap_or(Value::Null)),
        Some(4) => Reply::CallError(text.to_owned()),
        _ => Reply::Bad(format!("not a CALLRESULT or CALLERROR: {text}")),
    }
}

pub fn basic_auth(station_id: &str, password: &str) -> String {
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{station_id}:{password}"))
    )
}

/// The `$connect` event API Gateway sends for a pile's handshake.
pub fn connect_event(
    connection_id: &str,
    station_id: &str,
    password: &str,
    version: Version,
) -> ApiGatewayWebsocketProxyRequest {
    let mut event: Value = serde_json::from_str(CONNECT).expect("sample is JSON");
    let auth = basic_auth(station_id, password);
    for (name, value) in [
        ("Authorization", auth.as_str()),
        ("Sec-WebSocket-Protocol", version.subprotocol()),
    ] {
        event["headers"][name] = json!(value);
        event["multiValueHeaders"][name] = json!([value]);
    }
    event["queryStringParameters"]["stationId"] = json!(station_id);
    event["multiValueQueryStringParameters"]["stationId"] = json!([station_id]);
    event["requestContext"]["connectionId"] = json!(connection_id);
    serde_json::from_value(event).expect("the sample event stays an API Gateway event")
}

/// The `$default` event API Gateway sends for one frame.
pub fn default_event(connection_id: &str, body: String) -> ApiGatewayWebsocketProxyRequest {
    let mut event: Value = serde_json::from_str(DEFAULT).expect("sample is JSON");
    event["requestContext"]["connectionId"] = json!(connection_id);
    event["body"] = json!(body);
    serde_json::from_value(event).expect("the sample event stays an API Gateway event")
}

/// The event Lambda's SQS event source builds for received messages (what the status function reads).
pub fn sqs_event(messages: &[aws_sdk_sqs::types::Message], queue_arn: &str) -> SqsEvent {
    let mut event = SqsEvent::default();
    event.records = messages
        .iter()
        .map(|m| {
            let mut record = SqsMessage::default();
            record.message_id = m.message_id().map(str::to_owned);
            record.receipt_handle = m.receipt_handle().map(str::to_owned);
            record.body = m.body().map(str::to_owned);
            record.md5_of_body = m.md5_of_body().map(str::to_owned);
            record.attributes = m
                .attributes()
                .map(|a| a.iter().map(|(k, v)| (k.as_str().to_owned(), v.clone())).collect())
                .unwrap_or_default();
            record.event_source = Some("aws:sqs".into());
            record.event_source_arn = Some(queue_arn.to_owned());
            record
        })
        .collect();
    event
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_and_events_keep_the_sample_shape() {
        let at = DateTime::parse_from_rfc3339("2026-01-01T00:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let frame: Value =
            serde_json::from_str(&call(Version::V16, Action::StatusNotification, "m1", at, true)).unwrap();
        assert_eq!(frame[1], "m1");
        assert_eq!(frame[3]["status"], "Preparing");
        assert_eq!(frame[3]["timestamp"], "2026-01-01T00:00:00.000Z");
        let frame: Value =
            serde_json::from_str(&call(Version::V201, Action::StatusNotification, "m2", at, false)).unwrap();
        assert_eq!(frame[3]["connectorStatus"], "Available");
        let boot: Value =
            serde_json::from_str(&call(Version::V201, Action::BootNotification, "m3", at, false)).unwrap();
        assert_eq!(boot[2], "BootNotification");

        let event = connect_event("c1", "CP1", "0123456789abcdef", Version::V16);
        assert_eq!(event.request_context.connection_id.as_deref(), Some("c1"));
        assert_eq!(event.headers.get("sec-websocket-protocol").unwrap(), "ocpp1.6");
        assert_eq!(event.query_string_parameters.first("stationId"), Some("CP1"));
        let event = default_event("c2", "[2,\"x\",\"Heartbeat\",{}]".into());
        assert_eq!(event.body.as_deref(), Some("[2,\"x\",\"Heartbeat\",{}]"));
    }

    #[test]
    fn charging_frames_keep_the_sample_shape() {
        let at = |s: &str| DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc);
        let start = Start16 {
            connector: 2,
            at: at("2026-01-01T00:00:00Z"),
            meter_start_wh: 1000,
        };
        let frame: Value = serde_json::from_str(&start16("s1", &start)).unwrap();
        assert_eq!(frame[2], "StartTransaction");
        assert_eq!(frame[3]["connectorId"], 2);
        assert_eq!(frame[3]["meterStart"], 1000);
        assert_eq!(frame[3]["idTag"], ID_TAG_16);
        assert_eq!(frame[3]["timestamp"], "2026-01-01T00:00:00.000Z");

        let t = at("2026-01-01T00:01:00Z");
        let frame: Value = serde_json::from_str(&meter16("m1", 2, 7, t, 1250, 11000, false)).unwrap();
        let sampled = &frame[3]["meterValue"][0]["sampledValue"];
        assert_eq!(frame[3]["transactionId"], 7);
        assert_eq!(sampled.as_array().unwrap().len(), 2);
        assert_eq!(sampled[0]["value"], "1.250");
        assert_eq!(sampled[0]["measurand"], "Energy.Active.Import.Register");
        assert_eq!(sampled[1]["value"], "11000");
        assert_eq!(sampled[1]["measurand"], "Power.Active.Import");
        let frame: Value = serde_json::from_str(&meter16("m2", 2, 7, t, 1250, 11000, true)).unwrap();
        assert_eq!(frame[3]["meterValue"][0]["sampledValue"].as_array().unwrap().len(), 7);

        let frame: Value = serde_json::from_str(&stop16("x1", 7, &start, t, 2000)).unwrap();
        assert_eq!(frame[3]["transactionId"], 7);
        assert_eq!(frame[3]["meterStop"], 2000);
        assert_eq!(frame[3]["transactionData"][0]["sampledValue"][0]["value"], "1000");
        assert_eq!(frame[3]["transactionData"][1]["timestamp"], "2026-01-01T00:01:00.000Z");

        for (event, seq) in [(TxEvent::Started, 0), (TxEvent::Updated, 1), (TxEvent::Ended, 2)] {
            let frame: Value = serde_json::from_str(&transaction_event201("e", event, "TX-1", seq, t, 4500)).unwrap();
            assert_eq!(frame[3]["eventType"], event.name());
            assert_eq!(frame[3]["seqNo"], seq);
            assert_eq!(frame[3]["transactionInfo"]["transactionId"], "TX-1");
            assert_eq!(frame[3]["meterValue"][0]["sampledValue"][0]["value"].to_string(), "4.5");
        }
    }

    #[test]
    fn classifies_replies() {
        assert_eq!(classify(Some(r#"[3,"a",{}]"#), "a"), Reply::Result(json!({})));
        assert!(matches!(
            classify(Some(r#"[4,"a","InternalError","",{}]"#), "a"),
            Reply::CallError(_)
        ));
        assert!(matches!(classify(Some(r#"[3,"b",{}]"#), "a"), Reply::Bad(_)));
        assert!(matches!(classify(None, "a"), Reply::Bad(_)));
    }
}
