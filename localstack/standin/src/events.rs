//! API Gateway WebSocket events, built as the JSON API Gateway sends to Lambda and then read into
//! `aws_lambda_events` types by the same serde code the Lambda runtime uses.

use aws_lambda_events::apigw::ApiGatewayWebsocketProxyRequest;
use base64::Engine;
use chrono::{DateTime, Utc};
use serde_json::{Map, Value, json};

/// The API as seen in every event's `requestContext`.
#[derive(Debug, Clone)]
pub struct Api {
    pub api_id: String,
    pub stage: String,
    pub domain_name: String,
}

/// What the events of one connection share.
#[derive(Debug, Clone)]
pub struct Connection {
    pub id: String,
    pub connected_at: DateTime<Utc>,
    pub source_ip: String,
    pub user_agent: Option<String>,
}

/// An id shaped like API Gateway's connection, request and message ids: 16 characters of
/// base64 (URL-safe alphabet here, so it needs no escaping in a path) ending in `=`.
pub fn aws_id() -> String {
    let mut bytes = [0u8; 11];
    getrandom::fill(&mut bytes).expect("the OS random source works");
    base64::engine::general_purpose::URL_SAFE.encode(bytes)
}

/// A 10-character lowercase API id, like `a1b2c3d4e5`.
pub fn api_id() -> String {
    let mut bytes = [0u8; 10];
    getrandom::fill(&mut bytes).expect("the OS random source works");
    const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
    bytes
        .iter()
        .map(|b| ALPHABET[*b as usize % ALPHABET.len()] as char)
        .collect()
}

fn request_time(now: DateTime<Utc>) -> String {
    now.format("%d/%b/%Y:%H:%M:%S %z").to_string()
}

fn request_context(
    api: &Api,
    connection: &Connection,
    route_key: &str,
    event_type: &str,
    now: DateTime<Utc>,
) -> Map<String, Value> {
    let mut identity = Map::new();
    if let Some(agent) = &connection.user_agent {
        identity.insert("userAgent".into(), json!(agent));
    }
    identity.insert("sourceIp".into(), json!(connection.source_ip));
    let Value::Object(context) = json!({
        "routeKey": route_key,
        "eventType": event_type,
        "extendedRequestId": aws_id(),
        "requestTime": request_time(now),
        "messageDirection": "IN",
        "stage": api.stage,
        "connectedAt": connection.connected_at.timestamp_millis(),
        "requestTimeEpoch": now.timestamp_millis(),
        "identity": identity,
        "requestId": aws_id(),
        "domainName": api.domain_name,
        "connectionId": connection.id,
        "apiId": api.api_id,
    }) else {
        unreachable!("json! of an object literal is an object")
    };
    context
}

/// `Sec-WebSocket-Protocol`, `X-Forwarded-For`, ...: the spelling clients and API Gateway use.
/// (Handlers see a case-insensitive `HeaderMap`; this only makes the JSON look like AWS's.)
pub fn canonical_header_name(name: &str) -> String {
    name.split('-')
        .map(|word| match word.to_ascii_lowercase().as_str() {
            "websocket" => "WebSocket".to_string(),
            lower => {
                let mut chars = lower.chars();
                chars
                    .next()
                    .map(|c| c.to_ascii_uppercase().to_string() + chars.as_str())
                    .unwrap_or_default()
            }
        })
        .collect::<Vec<_>>()
        .join("-")
}

fn header_maps(headers: &[(String, String)]) -> (Map<String, Value>, Map<String, Value>) {
    let mut single = Map::new();
    let mut multi: Map<String, Value> = Map::new();
    for (name, value) in headers {
        let name = canonical_header_name(name);
        single.insert(name.clone(), json!(value));
        match multi.get_mut(&name) {
            Some(Value::Array(values)) => values.push(json!(value)),
            _ => {
                multi.insert(name, json!([value]));
            }
        }
    }
    (single, multi)
}

/// The `$connect` event. `headers` are the handshake's headers as the client sent them (less the
/// hop-by-hop ones), `query` the query string after the CloudFront path rewrite.
pub fn connect_event(
    api: &Api,
    connection: &Connection,
    headers: &[(String, String)],
    query: &[(String, String)],
) -> Value {
    let now = Utc::now();
    let (headers, multi_value_headers) = header_maps(headers);
    let mut event = json!({
        "headers": headers,
        "multiValueHeaders": multi_value_headers,
        "requestContext": request_context(api, connection, "$connect", "CONNECT", now),
        "isBase64Encoded": false,
    });
    if !query.is_empty() {
        let mut single = Map::new();
        let mut multi: Map<String, Value> = Map::new();
        for (name, value) in query {
            single.insert(name.clone(), json!(value));
            match multi.get_mut(name) {
                Some(Value::Array(values)) => values.push(json!(value)),
                _ => {
                    multi.insert(name.clone(), json!([value]));
                }
            }
        }
        event["queryStringParameters"] = Value::Object(single);
        event["multiValueQueryStringParameters"] = Value::Object(multi);
    }
    event
}

/// A `$default` event for one text message.
pub fn message_event(api: &Api, connection: &Connection, body: &str) -> Value {
    let now = Utc::now();
    let mut context = request_context(api, connection, "$default", "MESSAGE", now);
    context.insert("messageId".into(), json!(aws_id()));
    json!({
        "requestContext": context,
        "body": body,
        "isBase64Encoded": false,
    })
}

/// The `$disconnect` event; `status_code` is the close code (1005 when the close frame had none,
/// 1006 when the connection dropped without one).
pub fn disconnect_event(api: &Api, connection: &Connection, status_code: u16, reason: &str) -> Value {
    let now = Utc::now();
    let mut context = request_context(api, connection, "$disconnect", "DISCONNECT", now);
    context.insert("disconnectStatusCode".into(), json!(status_code));
    context.insert("disconnectReason".into(), json!(reason));
    json!({
        "headers": {
            "Host": api.domain_name,
            "x-api-key": "",
            "X-Forwarded-For": "",
            "x-restapi": "",
        },
        "multiValueHeaders": {
            "Host": [api.domain_name],
            "x-api-key": [""],
            "X-Forwarded-For": [""],
            "x-restapi": [""],
        },
        "requestContext": context,
        "isBase64Encoded": false,
    })
}

/// Reads an event into the type the handlers take.
pub fn request(event: Value) -> ApiGatewayWebsocketProxyRequest {
    serde_json::from_value(event).expect("the stand-in builds events that aws_lambda_events reads")
}

/// `requestContext.requestId` of an event built here.
pub fn request_id(event: &Value) -> String {
    event["requestContext"]["requestId"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture() -> (Api, Connection) {
        let api = Api {
            api_id: "abcde12345".into(),
            stage: "local".into(),
            domain_name: "127.0.0.1:9000".into(),
        };
        let connection = Connection {
            id: aws_id(),
            connected_at: Utc::now(),
            source_ip: "127.0.0.1".into(),
            user_agent: Some("test".into()),
        };
        (api, connection)
    }

    #[test]
    fn ids_look_like_api_gateway_ids() {
        for _ in 0..100 {
            let id = aws_id();
            assert_eq!(id.len(), 16, "{id}");
            assert!(id.ends_with('='), "{id}");
            assert!(
                id[..15]
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'),
                "{id}"
            );
        }
        let api = api_id();
        assert_eq!(api.len(), 10);
        assert!(api.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit()));
    }

    #[test]
    fn header_names_are_spelled_as_clients_send_them() {
        assert_eq!(
            canonical_header_name("sec-websocket-protocol"),
            "Sec-WebSocket-Protocol"
        );
        assert_eq!(canonical_header_name("authorization"), "Authorization");
        assert_eq!(canonical_header_name("x-forwarded-for"), "X-Forwarded-For");
    }

    #[test]
    fn connect_event_reads_into_the_lambda_type() {
        let (api, connection) = fixture();
        let headers = vec![
            ("host".to_string(), "127.0.0.1:9000".to_string()),
            ("authorization".to_string(), "Basic Q1AxOnNlY3JldA==".to_string()),
            ("sec-websocket-protocol".to_string(), "ocpp2.0.1, ocpp1.6".to_string()),
        ];
        let event = connect_event(&api, &connection, &headers, &[("stationId".into(), "CP1".into())]);
        assert_eq!(event["headers"]["Sec-WebSocket-Protocol"], "ocpp2.0.1, ocpp1.6");
        assert_eq!(event["multiValueHeaders"]["Authorization"][0], "Basic Q1AxOnNlY3JldA==");
        let request = request(event);
        assert_eq!(request.query_string_parameters.first("stationId"), Some("CP1"));
        assert_eq!(request.headers.get("authorization").unwrap(), "Basic Q1AxOnNlY3JldA==");
        let ctx = &request.request_context;
        assert_eq!(ctx.route_key.as_deref(), Some("$connect"));
        assert_eq!(ctx.event_type.as_deref(), Some("CONNECT"));
        assert_eq!(ctx.message_direction.as_deref(), Some("IN"));
        assert_eq!(ctx.connection_id.as_deref(), Some(connection.id.as_str()));
        assert_eq!(ctx.connected_at, connection.connected_at.timestamp_millis());
        assert!(ctx.request_time_epoch >= ctx.connected_at);
        assert_eq!(ctx.stage.as_deref(), Some("local"));
        assert_eq!(ctx.apiid.as_deref(), Some("abcde12345"));
        assert_eq!(ctx.identity.source_ip.as_deref(), Some("127.0.0.1"));
        assert_eq!(ctx.identity.user_agent.as_deref(), Some("test"));
        assert!(ctx.message_id.is_none());
    }

    #[test]
    fn message_and_disconnect_events() {
        let (api, connection) = fixture();
        let message = request(message_event(&api, &connection, "[2,\"1\",\"Heartbeat\",{}]"));
        assert_eq!(message.body.as_deref(), Some("[2,\"1\",\"Heartbeat\",{}]"));
        assert_eq!(message.request_context.route_key.as_deref(), Some("$default"));
        assert_eq!(message.request_context.event_type.as_deref(), Some("MESSAGE"));
        assert_eq!(message.request_context.message_id.as_ref().map(String::len), Some(16));
        let gone = request(disconnect_event(&api, &connection, 1000, "bye"));
        assert_eq!(gone.request_context.route_key.as_deref(), Some("$disconnect"));
        assert_eq!(gone.request_context.event_type.as_deref(), Some("DISCONNECT"));
        assert_eq!(gone.request_context.disconnect_status_code, Some(1000));
    }
}
