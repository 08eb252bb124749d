//! The WebSocket front and `@connections`, with test routes in place of the Lambda handlers,
//! driven by an independent WebSocket client (tokio-tungstenite) and the real
//! `aws-sdk-apigatewaymanagement` client.

use aws_lambda_events::apigw::{ApiGatewayProxyResponse, ApiGatewayWebsocketProxyRequest};
use aws_lambda_events::encodings::Body;
use aws_sdk_apigatewaymanagement::config::{BehaviorVersion, Credentials, Region};
use aws_sdk_apigatewaymanagement::operation::delete_connection::DeleteConnectionError;
use aws_sdk_apigatewaymanagement::operation::get_connection::GetConnectionError;
use aws_sdk_apigatewaymanagement::operation::post_to_connection::PostToConnectionError;
use aws_sdk_apigatewaymanagement::primitives::Blob;
use futures_util::{SinkExt, StreamExt};
use standin::gateway::{self, Gateway, GatewayConfig};
use standin::routes::{RouteResult, WebSocketRoutes};
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpStream;
use tokio::sync::{Mutex, mpsc};
use tokio::time::timeout;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::protocol::frame::Frame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::{CloseCode, Data, OpCode};
use tokio_tungstenite::tungstenite::{self, Message};
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

type Client = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// Routes that decide by station id and message body, and report every event.
struct TestRoutes {
    events: mpsc::UnboundedSender<ApiGatewayWebsocketProxyRequest>,
}

fn response(status: i64, body: Option<&str>) -> ApiGatewayProxyResponse {
    let mut response = ApiGatewayProxyResponse::default();
    response.status_code = status;
    response.body = body.map(|b| Body::Text(b.to_string()));
    response
}

impl WebSocketRoutes for TestRoutes {
    async fn connect(&self, event: ApiGatewayWebsocketProxyRequest) -> RouteResult {
        let station = event
            .query_string_parameters
            .first("stationId")
            .unwrap_or_default()
            .to_string();
        let offered = event
            .headers
            .get("sec-websocket-protocol")
            .and_then(|v| v.to_str().ok())
            .map(|v| v.split(',').map(|p| p.trim().to_string()).collect::<Vec<_>>())
            .unwrap_or_default();
        self.events.send(event).unwrap();
        match station.as_str() {
            "unknown" => Ok(response(404, Some(r#"{"message":"unknown station"}"#))),
            "badpass" => Ok(response(401, None)),
            "boom" => Err("connect exploded".into()),
            _ => {
                let mut ok = response(200, None);
                // The handler's choice, not the first offered (to show it is echoed as is).
                if let Some(protocol) = offered.last() {
                    ok.headers.insert("Sec-WebSocket-Protocol", protocol.parse().unwrap());
                }
                Ok(ok)
            }
        }
    }

    async fn message(&self, event: ApiGatewayWebsocketProxyRequest) -> RouteResult {
        let body = event.body.clone().unwrap_or_default();
        self.events.send(event).unwrap();
        if let Some(rest) = body.strip_prefix("slow:") {
            // Later messages finish first unless the gateway keeps them in order.
            let (delay, text) = rest.split_once(':').unwrap();
            tokio::time::sleep(Duration::from_millis(delay.parse().unwrap())).await;
            return Ok(response(200, Some(text)));
        }
        match body.as_str() {
            "silent" => Ok(response(200, None)),
            "fail" => Err("message exploded".into()),
            _ => Ok(response(200, Some(&format!("echo:{}", body.len())))),
        }
    }

    async fn disconnect(&self, event: ApiGatewayWebsocketProxyRequest) -> RouteResult {
        self.events.send(event).unwrap();
        Ok(response(200, None))
    }
}

struct Harness {
    gateway: Gateway<TestRoutes>,
    events: Mutex<mpsc::UnboundedReceiver<ApiGatewayWebsocketProxyRequest>>,
    management: aws_sdk_apigatewaymanagement::Client,
}

async fn start(config: GatewayConfig) -> Harness {
    let (tx, rx) = mpsc::unbounded_channel();
    let (ws, management) = gateway::bind(0, 0).await.unwrap();
    let gateway = Gateway::start(Arc::new(TestRoutes { events: tx }), config, ws, management).unwrap();
    let sdk_config = aws_sdk_apigatewaymanagement::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new("test", "test", None, None, "test"))
        .endpoint_url(gateway.connections_endpoint())
        .build();
    Harness {
        gateway,
        events: Mutex::new(rx),
        management: aws_sdk_apigatewaymanagement::Client::from_conf(sdk_config),
    }
}

impl Harness {
    async fn event(&self, route: &str) -> ApiGatewayWebsocketProxyRequest {
        let event = timeout(Duration::from_secs(10), self.events.lock().await.recv())
            .await
            .unwrap_or_else(|_| panic!("no {route} event within 10 s"))
            .unwrap();
        assert_eq!(event.request_context.route_key.as_deref(), Some(route), "{event:?}");
        event
    }

    async fn no_event(&self) {
        let next = timeout(Duration::from_millis(300), self.events.lock().await.recv()).await;
        assert!(next.is_err(), "unexpected event {next:?}");
    }

    fn url(&self, station: &str) -> String {
        format!("{}{station}", self.gateway.ocpp_url())
    }

    async fn connect(
        &self,
        station: &str,
        protocols: Option<&str>,
    ) -> Result<(Client, tungstenite::handshake::client::Response), tungstenite::Error> {
        let mut request = self.url(station).into_client_request().unwrap();
        request.headers_mut().insert(
            "Authorization",
            "Basic Q1AxOnNlY3JldHNlY3JldHNlY3JldA==".parse().unwrap(),
        );
        if let Some(protocols) = protocols {
            request
                .headers_mut()
                .insert("Sec-WebSocket-Protocol", protocols.parse().unwrap());
        }
        tokio_tungstenite::connect_async(request).await
    }

    /// Connects a station that $connect accepts; returns the client and its connection id.
    async fn open(&self, station: &str) -> (Client, String) {
        let (client, _) = self.connect(station, Some("ocpp1.6")).await.unwrap();
        let event = self.event("$connect").await;
        (client, event.request_context.connection_id.unwrap())
    }
}

async fn next_message(client: &mut Client) -> Message {
    loop {
        let message = timeout(Duration::from_secs(10), client.next())
            .await
            .expect("a message within 10 s")
            .expect("open")
            .expect("no error");
        if !matches!(message, Message::Ping(_) | Message::Pong(_)) {
            return message;
        }
    }
}

async fn next_text(client: &mut Client) -> String {
    match next_message(client).await {
        Message::Text(text) => text.to_string(),
        other => panic!("expected text, got {other:?}"),
    }
}

async fn expect_close(client: &mut Client, code: CloseCode) {
    match next_message(client).await {
        Message::Close(Some(frame)) => assert_eq!(frame.code, code, "{frame:?}"),
        other => panic!("expected close {code:?}, got {other:?}"),
    }
}

fn http_status(error: tungstenite::Error) -> (u16, String) {
    match error {
        tungstenite::Error::Http(response) => {
            let body = response
                .body()
                .as_ref()
                .map(|b| String::from_utf8_lossy(b).into_owned())
                .unwrap_or_default();
            (response.status().as_u16(), body)
        }
        other => panic!("expected an HTTP refusal, got {other:?}"),
    }
}

#[tokio::test]
async fn connect_event_has_api_gateways_shape() {
    let h = start(GatewayConfig::default()).await;
    let (_client, _) = h
        .connect("CP-1?foo=bar&stationId=spoofed", Some("ocpp2.0.1, ocpp1.6"))
        .await
        .unwrap();
    let event = h.event("$connect").await;
    assert_eq!(
        event.query_string_parameters.first("stationId"),
        Some("CP-1"),
        "the path wins over a query parameter"
    );
    assert_eq!(event.query_string_parameters.first("foo"), Some("bar"));
    assert_eq!(event.headers["authorization"], "Basic Q1AxOnNlY3JldHNlY3JldHNlY3JldA==");
    assert_eq!(event.headers["sec-websocket-protocol"], "ocpp2.0.1, ocpp1.6");
    assert_eq!(event.headers["host"], h.gateway.ws_addr().to_string());
    assert_eq!(event.headers["x-forwarded-for"], "127.0.0.1");
    assert!(event.headers.get("connection").is_none());
    let ctx = &event.request_context;
    assert_eq!(ctx.event_type.as_deref(), Some("CONNECT"));
    assert_eq!(ctx.message_direction.as_deref(), Some("IN"));
    assert_eq!(ctx.stage.as_deref(), Some("local"));
    assert_eq!(ctx.identity.source_ip.as_deref(), Some("127.0.0.1"));
    assert_eq!(
        ctx.domain_name.as_deref(),
        Some(h.gateway.ws_addr().to_string().as_str())
    );
    let id = ctx.connection_id.clone().unwrap();
    assert_eq!(id.len(), 16);
    assert!(id.ends_with('='));
    assert!(ctx.connected_at > 0 && ctx.request_time_epoch >= ctx.connected_at);
    assert_eq!(ctx.apiid.as_ref().map(String::len), Some(10));
}

#[tokio::test]
async fn connect_refusals_carry_the_handlers_status() {
    let h = start(GatewayConfig::default()).await;
    let (status, body) = http_status(h.connect("unknown", Some("ocpp1.6")).await.unwrap_err());
    assert_eq!(status, 404);
    assert_eq!(body, r#"{"message":"unknown station"}"#);
    h.event("$connect").await;
    let (status, _) = http_status(h.connect("badpass", Some("ocpp1.6")).await.unwrap_err());
    assert_eq!(status, 401);
    h.event("$connect").await;
    // An integration failure is API Gateway's 500.
    let (status, body) = http_status(h.connect("boom", Some("ocpp1.6")).await.unwrap_err());
    assert_eq!(status, 500);
    assert!(body.contains("Internal server error"), "{body}");
    h.event("$connect").await;
    // A refused connection never existed: no $disconnect.
    h.no_event().await;
    assert_eq!(h.gateway.active_connections(), 0);
}

/// As the CloudFront Function does in AWS (crate::pile_door): a path that is no station's is 404, an
/// id that cannot be a station id 400, both before any function runs.
#[tokio::test]
async fn the_door_refuses_bad_paths_before_connect_runs() {
    let h = start(GatewayConfig::default()).await;
    for (station, expected) in [
        ("CP:1", 400),
        ("CP%3A1", 400),
        (&"x".repeat(49), 400),
        ("CP-1/extra", 404),
        ("", 404),
    ] {
        let (status, _) = http_status(h.connect(station, Some("ocpp1.6")).await.unwrap_err());
        assert_eq!(status, expected, "{station}");
    }
    h.no_event().await;
    // A percent-encoded id reaches $connect decoded.
    let (_client, _) = h.connect("CP%2B1", Some("ocpp1.6")).await.unwrap();
    let event = h.event("$connect").await;
    assert_eq!(event.query_string_parameters.first("stationId"), Some("CP+1"));
}

#[tokio::test]
async fn subprotocol_is_exactly_the_handlers() {
    let h = start(GatewayConfig::default()).await;
    let (_client, response) = h.connect("CP1", Some("ocpp2.0.1, ocpp1.6")).await.unwrap();
    assert_eq!(response.headers()["sec-websocket-protocol"], "ocpp1.6");
    h.event("$connect").await;
    // Nothing offered, nothing chosen: no header.
    let (_client, response) = h.connect("CP2", None).await.unwrap();
    assert!(response.headers().get("sec-websocket-protocol").is_none());
    h.event("$connect").await;
}

#[tokio::test]
async fn messages_get_route_responses_in_order() {
    let h = start(GatewayConfig::default()).await;
    let (mut client, id) = h.open("CP1").await;

    client.send(Message::text("hello")).await.unwrap();
    assert_eq!(next_text(&mut client).await, "echo:5");
    let event = h.event("$default").await;
    assert_eq!(event.body.as_deref(), Some("hello"));
    assert_eq!(event.request_context.event_type.as_deref(), Some("MESSAGE"));
    assert_eq!(event.request_context.connection_id.as_deref(), Some(id.as_str()));
    assert_eq!(event.request_context.message_id.as_ref().map(String::len), Some(16));

    // No body, no frame; binary frames are not answered and keep the connection.
    client.send(Message::text("silent")).await.unwrap();
    client.send(Message::binary(vec![1u8, 2, 3])).await.unwrap();
    client.send(Message::text("abc")).await.unwrap();
    assert_eq!(next_text(&mut client).await, "echo:3");
    h.event("$default").await;
    h.event("$default").await;

    // One at a time, in order, however long each takes.
    for i in 0..10 {
        client
            .send(Message::text(format!("slow:{}:{i}", (10 - i) * 15)))
            .await
            .unwrap();
    }
    for i in 0..10 {
        assert_eq!(next_text(&mut client).await, i.to_string());
        h.event("$default").await;
    }
}

#[tokio::test]
async fn failed_integrations_answer_internal_server_error() {
    let h = start(GatewayConfig::default()).await;
    let (mut client, id) = h.open("CP1").await;
    client.send(Message::text("fail")).await.unwrap();
    let event = h.event("$default").await;
    let request_id = event.request_context.request_id.unwrap();
    assert_eq!(
        next_text(&mut client).await,
        format!(r#"{{"message": "Internal server error", "connectionId":"{id}", "requestId":"{request_id}"}}"#)
    );
    // The connection stays.
    client.send(Message::text("ok")).await.unwrap();
    assert_eq!(next_text(&mut client).await, "echo:2");
}

#[tokio::test]
async fn disconnect_runs_when_the_client_closes() {
    let h = start(GatewayConfig::default()).await;
    let (mut client, id) = h.open("CP1").await;
    client
        .close(Some(CloseFrame {
            code: CloseCode::Normal,
            reason: "bye".into(),
        }))
        .await
        .unwrap();
    let event = h.event("$disconnect").await;
    assert_eq!(event.request_context.connection_id.as_deref(), Some(id.as_str()));
    assert_eq!(event.request_context.event_type.as_deref(), Some("DISCONNECT"));
    assert_eq!(event.request_context.disconnect_status_code, Some(1000));
    // Gone for @connections.
    let error = h
        .management
        .post_to_connection()
        .connection_id(&id)
        .data(Blob::new("x"))
        .send()
        .await
        .unwrap_err();
    assert!(
        matches!(error.as_service_error(), Some(PostToConnectionError::GoneException(_))),
        "{error:?}"
    );
}

#[tokio::test]
async fn disconnect_runs_when_the_client_vanishes() {
    let h = start(GatewayConfig::default()).await;
    let (client, _) = h.open("CP1").await;
    drop(client);
    let event = h.event("$disconnect").await;
    assert_eq!(event.request_context.disconnect_status_code, Some(1006));
}

#[tokio::test]
async fn connections_api_through_the_sdk() {
    let h = start(GatewayConfig::default()).await;
    let (mut client, id) = h.open("CP1").await;

    h.management
        .post_to_connection()
        .connection_id(&id)
        .data(Blob::new(r#"[2,"42","Reset",{}]"#))
        .send()
        .await
        .unwrap();
    assert_eq!(next_text(&mut client).await, r#"[2,"42","Reset",{}]"#);

    let info = h.management.get_connection().connection_id(&id).send().await.unwrap();
    assert_eq!(info.identity().and_then(|i| i.source_ip()), Some("127.0.0.1"));
    let connected_at = info.connected_at().unwrap();
    let last_active_at = info.last_active_at().unwrap();
    assert!(last_active_at >= connected_at);

    let too_big = "x".repeat(GatewayConfig::MAX_MESSAGE_BYTES + 1);
    let error = h
        .management
        .post_to_connection()
        .connection_id(&id)
        .data(Blob::new(too_big))
        .send()
        .await
        .unwrap_err();
    assert!(
        matches!(
            error.as_service_error(),
            Some(PostToConnectionError::PayloadTooLargeException(_))
        ),
        "{error:?}"
    );

    // DELETE closes the socket; $disconnect follows.
    h.management
        .delete_connection()
        .connection_id(&id)
        .send()
        .await
        .unwrap();
    expect_close(&mut client, CloseCode::Normal).await;
    let event = h.event("$disconnect").await;
    assert_eq!(event.request_context.connection_id.as_deref(), Some(id.as_str()));

    let error = h
        .management
        .post_to_connection()
        .connection_id(&id)
        .data(Blob::new("x"))
        .send()
        .await
        .unwrap_err();
    assert!(
        matches!(error.as_service_error(), Some(PostToConnectionError::GoneException(_))),
        "{error:?}"
    );
    let error = h
        .management
        .get_connection()
        .connection_id(&id)
        .send()
        .await
        .unwrap_err();
    assert!(
        matches!(error.as_service_error(), Some(GetConnectionError::GoneException(_))),
        "{error:?}"
    );
    let error = h
        .management
        .delete_connection()
        .connection_id(&id)
        .send()
        .await
        .unwrap_err();
    assert!(
        matches!(error.as_service_error(), Some(DeleteConnectionError::GoneException(_))),
        "{error:?}"
    );
    let error = h
        .management
        .delete_connection()
        .connection_id("never+existed/=")
        .send()
        .await
        .unwrap_err();
    assert!(
        matches!(error.as_service_error(), Some(DeleteConnectionError::GoneException(_))),
        "{error:?}"
    );
}

#[tokio::test]
async fn another_stage_is_forbidden() {
    let h = start(GatewayConfig::default()).await;
    let (_client, id) = h.open("CP1").await;
    let endpoint = h.gateway.connections_endpoint().replace("/local", "/prod");
    let config = h.management.config().to_builder().endpoint_url(endpoint).build();
    let other = aws_sdk_apigatewaymanagement::Client::from_conf(config);
    let error = other.get_connection().connection_id(&id).send().await.unwrap_err();
    assert!(
        matches!(
            error.as_service_error(),
            Some(GetConnectionError::ForbiddenException(_))
        ),
        "{error:?}"
    );
}

fn frame(payload: Vec<u8>, opcode: OpCode, is_final: bool) -> Message {
    Message::Frame(Frame::message(payload, opcode, is_final))
}

#[tokio::test]
async fn messages_up_to_128_kb_in_32_kb_frames_pass() {
    let h = start(GatewayConfig::default()).await;
    let (mut client, _) = h.open("CP1").await;
    let total = GatewayConfig::MAX_MESSAGE_BYTES;
    let chunk = GatewayConfig::MAX_FRAME_BYTES;
    let chunks = total / chunk;
    for i in 0..chunks {
        let opcode = if i == 0 {
            OpCode::Data(Data::Text)
        } else {
            OpCode::Data(Data::Continue)
        };
        client
            .send(frame(vec![b'a'; chunk], opcode, i == chunks - 1))
            .await
            .unwrap();
    }
    assert_eq!(next_text(&mut client).await, format!("echo:{total}"));
}

#[tokio::test]
async fn a_message_over_128_kb_closes_with_1009() {
    let h = start(GatewayConfig::default()).await;
    let (mut client, id) = h.open("CP1").await;
    let chunk = GatewayConfig::MAX_FRAME_BYTES;
    for i in 0..5 {
        let opcode = if i == 0 {
            OpCode::Data(Data::Text)
        } else {
            OpCode::Data(Data::Continue)
        };
        if client.send(frame(vec![b'a'; chunk], opcode, i == 4)).await.is_err() {
            break;
        }
    }
    expect_close(&mut client, CloseCode::Size).await;
    let event = h.event("$disconnect").await;
    assert_eq!(event.request_context.connection_id.as_deref(), Some(id.as_str()));
    assert_eq!(event.request_context.disconnect_status_code, Some(1009));
    h.no_event().await;
}

#[tokio::test]
async fn a_frame_over_32_kb_closes_with_1009() {
    let h = start(GatewayConfig::default()).await;
    let (mut client, _) = h.open("CP1").await;
    let _ = client
        .send(Message::text("a".repeat(GatewayConfig::MAX_FRAME_BYTES + 1)))
        .await;
    expect_close(&mut client, CloseCode::Size).await;
    let event = h.event("$disconnect").await;
    assert_eq!(event.request_context.disconnect_status_code, Some(1009));
}

#[tokio::test]
async fn idle_connections_are_closed() {
    let config = GatewayConfig {
        idle_timeout: Duration::from_millis(1500),
        ..GatewayConfig::default()
    };
    let h = start(config).await;
    let (mut client, _) = h.open("CP1").await;
    // Activity keeps it open past the idle timeout...
    for _ in 0..5 {
        tokio::time::sleep(Duration::from_millis(400)).await;
        client.send(Message::text("silent")).await.unwrap();
        h.event("$default").await;
    }
    // ...silence does not.
    expect_close(&mut client, CloseCode::Away).await;
    let event = h.event("$disconnect").await;
    assert_eq!(event.request_context.disconnect_status_code, Some(1001));
}

#[tokio::test]
async fn connections_end_at_their_maximum_duration() {
    let config = GatewayConfig {
        max_connection_duration: Duration::from_millis(700),
        ..GatewayConfig::default()
    };
    let h = start(config).await;
    let (mut client, _) = h.open("CP1").await;
    let started = std::time::Instant::now();
    expect_close(&mut client, CloseCode::Away).await;
    assert!(started.elapsed() >= Duration::from_millis(500));
    h.event("$disconnect").await;
}

#[tokio::test]
async fn shutdown_closes_every_connection_and_runs_disconnect() {
    let h = start(GatewayConfig::default()).await;
    let (mut a, id_a) = h.open("CP1").await;
    let (mut b, id_b) = h.open("CP2").await;
    let Harness { gateway, events, .. } = h;
    let reader = tokio::spawn(async move {
        expect_close(&mut a, CloseCode::Away).await;
        expect_close(&mut b, CloseCode::Away).await;
    });
    gateway.shutdown(Duration::from_secs(10)).await;
    reader.await.unwrap();
    // Both $disconnects ran before shutdown returned.
    let mut events = events.into_inner();
    let mut ids = vec![];
    while let Ok(event) = events.try_recv() {
        assert_eq!(event.request_context.route_key.as_deref(), Some("$disconnect"));
        ids.push(event.request_context.connection_id.unwrap());
    }
    ids.sort();
    let mut expected = vec![id_a, id_b];
    expected.sort();
    assert_eq!(ids, expected);
}
