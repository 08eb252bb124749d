//! OCPP-J frames and API Gateway events built from the real-shaped samples in `events/`,
//! with a new message id, connection id and, for StatusNotification, a new status and time.

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
}

impl Action {
    pub fn name(self) -> &'static str {
        match self {
            Action::BootNotification => "BootNotification",
            Action::Heartbeat => "Heartbeat",
            Action::StatusNotification => "StatusNotification",
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
