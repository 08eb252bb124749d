//! The WebSocket API (what CloudFront + API Gateway do in AWS) and its `@connections`
//! management API.
//!
//! - `GET /ocpp/{stationId}` (WebSocket): the station id moves to `?stationId=` (the CloudFront
//!   function's rewrite, [`crate::pile_door`], which also answers 404 for any other path and 400
//!   for an id that cannot be one), `$connect` decides: a non-2xx status refuses the handshake with that
//!   status and body, 2xx accepts it with the handler's `Sec-WebSocket-Protocol` echoed.
//! - Each text message becomes a `$default` invocation, one at a time per connection, in order;
//!   a non-empty response body goes back as one text message (the route response).
//! - Whoever closes, `$disconnect` runs once the socket is gone.
//! - `POST|GET|DELETE /{stage}/@connections/{connectionId}` on the management port.

use crate::events::{self, Api, Connection};
use crate::pile_door;
use crate::routes::WebSocketRoutes;
use aws_lambda_events::encodings::Body as LambdaBody;
use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::ws::rejection::WebSocketUpgradeRejection;
use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket, WebSocketUpgrade};
use axum::extract::{ConnectInfo, Path, Query, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use chrono::{DateTime, SecondsFormat, Utc};
use futures_util::stream::SplitStream;
use futures_util::{SinkExt, StreamExt};
use serde_json::json;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::{mpsc, oneshot, watch};
use tokio::task::JoinHandle;
use tokio::time::{Instant, sleep_until, timeout};

/// API Gateway's WebSocket limits and the stage the stand-in plays.
#[derive(Debug, Clone)]
pub struct GatewayConfig {
    pub stage: String,
    pub api_id: String,
    /// A message (all its frames) larger than this closes the connection with 1009.
    pub max_message_bytes: usize,
    /// A frame larger than this closes the connection with 1009.
    pub max_frame_bytes: usize,
    /// No message from the client for this long closes the connection (1001).
    pub idle_timeout: Duration,
    /// Connections are closed (1001) after this long, however busy.
    pub max_connection_duration: Duration,
}

impl GatewayConfig {
    pub const MAX_MESSAGE_BYTES: usize = 128 * 1024;
    pub const MAX_FRAME_BYTES: usize = 32 * 1024;
    pub const IDLE_TIMEOUT: Duration = Duration::from_secs(10 * 60);
    pub const MAX_CONNECTION_DURATION: Duration = Duration::from_secs(2 * 60 * 60);
}

impl Default for GatewayConfig {
    fn default() -> Self {
        Self {
            stage: "local".into(),
            api_id: events::api_id(),
            max_message_bytes: Self::MAX_MESSAGE_BYTES,
            max_frame_bytes: Self::MAX_FRAME_BYTES,
            idle_timeout: Self::IDLE_TIMEOUT,
            max_connection_duration: Self::MAX_CONNECTION_DURATION,
        }
    }
}

/// Binds both listeners on 127.0.0.1 (port 0: any free port). Binding first lets the caller
/// know the `@connections` URL before it builds the handlers that need it.
pub async fn bind(ws_port: u16, management_port: u16) -> std::io::Result<(TcpListener, TcpListener)> {
    let ws = TcpListener::bind(("127.0.0.1", ws_port)).await?;
    let management = TcpListener::bind(("127.0.0.1", management_port)).await?;
    Ok((ws, management))
}

/// `http://127.0.0.1:<port>/<stage>`: the `CONNECTIONS_ENDPOINT` for a management listener.
pub fn connections_endpoint(management: &TcpListener, stage: &str) -> std::io::Result<String> {
    Ok(format!("http://{}/{stage}", management.local_addr()?))
}

enum Outbound {
    /// A frame; the sender learns whether it was written.
    Frame(Message, Option<oneshot::Sender<bool>>),
    /// Send this close frame (or, with None, finish the close the peer started) and stop.
    Close(Option<CloseFrame>),
}

struct Handle {
    connection: Connection,
    last_active_at: DateTime<Utc>,
    outbound: mpsc::UnboundedSender<Outbound>,
    close: watch::Sender<Option<(u16, String)>>,
}

struct Shared<R> {
    routes: Arc<R>,
    config: GatewayConfig,
    api: Api,
    connections: Mutex<HashMap<String, Handle>>,
    /// Connections between the start of `$connect` and the end of `$disconnect`.
    active: watch::Sender<usize>,
    closing: AtomicBool,
}

impl<R> Shared<R> {
    fn request_close(&self, connection_id: &str, code: u16, reason: &str) -> bool {
        let connections = self.connections.lock().unwrap();
        match connections.get(connection_id) {
            Some(handle) => {
                handle.close.send_replace(Some((code, reason.to_string())));
                true
            }
            None => false,
        }
    }

    fn touch(&self, connection_id: &str) {
        if let Some(handle) = self.connections.lock().unwrap().get_mut(connection_id) {
            handle.last_active_at = Utc::now();
        }
    }

    fn unregister(&self, connection_id: &str) {
        self.connections.lock().unwrap().remove(connection_id);
    }
}

/// Counts a connection as active until dropped.
struct ActiveGuard(watch::Sender<usize>);

impl ActiveGuard {
    fn new(active: &watch::Sender<usize>) -> Self {
        active.send_modify(|n| *n += 1);
        Self(active.clone())
    }
}

impl Drop for ActiveGuard {
    fn drop(&mut self) {
        self.0.send_modify(|n| *n -= 1);
    }
}

/// The running WebSocket and management servers.
pub struct Gateway<R: WebSocketRoutes> {
    shared: Arc<Shared<R>>,
    ws_addr: SocketAddr,
    management_addr: SocketAddr,
    stop: watch::Sender<bool>,
    servers: Vec<JoinHandle<std::io::Result<()>>>,
}

impl<R: WebSocketRoutes> Gateway<R> {
    /// Starts serving on the two listeners (see [`bind`]).
    pub fn start(
        routes: Arc<R>,
        config: GatewayConfig,
        ws: TcpListener,
        management: TcpListener,
    ) -> std::io::Result<Self> {
        let ws_addr = ws.local_addr()?;
        let management_addr = management.local_addr()?;
        let api = Api {
            api_id: config.api_id.clone(),
            stage: config.stage.clone(),
            domain_name: ws_addr.to_string(),
        };
        let shared = Arc::new(Shared {
            routes,
            config,
            api,
            connections: Mutex::new(HashMap::new()),
            active: watch::Sender::new(0),
            closing: AtomicBool::new(false),
        });
        let (stop, _) = watch::channel(false);

        // In AWS the CloudFront Function answers every path but /ocpp/<id> with 404 before
        // API Gateway sees it (crate::pile_door).
        let ws_app = Router::new()
            .route("/ocpp/{station_id}", get(handshake::<R>))
            .fallback(|| async { StatusCode::NOT_FOUND })
            .with_state(shared.clone());
        let management_app = Router::new()
            .route(
                "/{stage}/@connections/{connection_id}",
                get(get_connection::<R>)
                    .post(post_to_connection::<R>)
                    .delete(delete_connection::<R>),
            )
            .fallback(|| async { error_response(StatusCode::FORBIDDEN, "ForbiddenException", Some("Forbidden")) })
            .with_state(shared.clone());

        let stopped = |stop: &watch::Sender<bool>| {
            let mut rx = stop.subscribe();
            async move {
                let _ = rx.wait_for(|stopped| *stopped).await;
            }
        };
        let servers = vec![
            tokio::spawn(
                axum::serve(ws, ws_app.into_make_service_with_connect_info::<SocketAddr>())
                    .with_graceful_shutdown(stopped(&stop))
                    .into_future(),
            ),
            tokio::spawn(
                axum::serve(management, management_app)
                    .with_graceful_shutdown(stopped(&stop))
                    .into_future(),
            ),
        ];
        tracing::info!(%ws_addr, %management_addr, stage = %shared.config.stage, "WebSocket API started");
        Ok(Self {
            shared,
            ws_addr,
            management_addr,
            stop,
            servers,
        })
    }

    pub fn ws_addr(&self) -> SocketAddr {
        self.ws_addr
    }

    /// `ws://127.0.0.1:<port>/ocpp/`: piles append their station id.
    pub fn ocpp_url(&self) -> String {
        format!("ws://{}/ocpp/", self.ws_addr)
    }

    /// `http://127.0.0.1:<port>/<stage>`: the `@connections` callback URL.
    pub fn connections_endpoint(&self) -> String {
        format!("http://{}/{}", self.management_addr, self.shared.config.stage)
    }

    /// Connections from the start of `$connect` to the end of `$disconnect`.
    pub fn active_connections(&self) -> usize {
        *self.shared.active.borrow()
    }

    /// Refuses new connections, closes every open one with 1001 and waits (up to `grace`) for
    /// their `$disconnect`, then stops both servers.
    pub async fn shutdown(self, grace: Duration) {
        self.shared.closing.store(true, Ordering::SeqCst);
        let ids: Vec<String> = self.shared.connections.lock().unwrap().keys().cloned().collect();
        tracing::info!(open = ids.len(), "closing WebSocket connections");
        for id in ids {
            self.shared.request_close(&id, 1001, "Going away");
        }
        let mut active = self.shared.active.subscribe();
        if timeout(grace, active.wait_for(|n| *n == 0)).await.is_err() {
            tracing::warn!(
                left = *active.borrow(),
                "connections still closing after {grace:?}; stopping anyway"
            );
        }
        self.stop.send_replace(true);
        for server in self.servers {
            match server.await {
                Ok(Ok(())) => {}
                Ok(Err(e)) => tracing::warn!(error = %e, "server stopped with an error"),
                Err(e) => tracing::warn!(error = %e, "server task failed"),
            }
        }
        tracing::info!("WebSocket API stopped");
    }
}

// ---- WebSocket API -------------------------------------------------------------------------

/// Hop-by-hop headers API Gateway does not pass to the integration.
const HOP_BY_HOP: &[&str] = &[
    "connection",
    "upgrade",
    "keep-alive",
    "transfer-encoding",
    "te",
    "trailer",
    "proxy-connection",
];

async fn handshake<R: WebSocketRoutes>(
    State(shared): State<Arc<Shared<R>>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    uri: Uri,
    headers: HeaderMap,
    upgrade: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> Response {
    // What CloudFront's path rewrite does first: /ocpp/<id>?x=y -> ?x=y&stationId=<id>, or a
    // refusal before any function runs.
    let query: Vec<(String, String)> = Query::<Vec<(String, String)>>::try_from_uri(&uri)
        .map(|q| q.0)
        .unwrap_or_default();
    let (station_id, query) = match pile_door::rewrite(uri.path(), query) {
        pile_door::Rewrite::Connect { station_id, query } => (station_id, query),
        pile_door::Rewrite::Refuse(status) => {
            return StatusCode::from_u16(status)
                .unwrap_or(StatusCode::BAD_REQUEST)
                .into_response();
        }
    };
    let upgrade = match upgrade {
        Ok(upgrade) => upgrade,
        Err(rejection) => return rejection.into_response(),
    };
    if shared.closing.load(Ordering::SeqCst) {
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            axum::Json(json!({"message": "Service Unavailable"})),
        )
            .into_response();
    }
    let guard = ActiveGuard::new(&shared.active);

    let mut event_headers: Vec<(String, String)> = headers
        .iter()
        .filter(|(name, _)| !HOP_BY_HOP.contains(&name.as_str()))
        .map(|(name, value)| {
            (
                name.as_str().to_string(),
                String::from_utf8_lossy(value.as_bytes()).into_owned(),
            )
        })
        .collect();
    for (name, value) in [
        ("x-forwarded-for", peer.ip().to_string()),
        (
            "x-forwarded-port",
            shared
                .api
                .domain_name
                .rsplit(':')
                .next()
                .unwrap_or_default()
                .to_string(),
        ),
        ("x-forwarded-proto", "http".to_string()),
    ] {
        if !headers.contains_key(name) {
            event_headers.push((name.to_string(), value));
        }
    }

    let connection = Connection {
        id: events::aws_id(),
        connected_at: Utc::now(),
        source_ip: peer.ip().to_string(),
        user_agent: headers
            .get(header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string),
    };
    let span = tracing::info_span!("connection", station = %station_id, connection_id = %connection.id);
    let event = events::connect_event(&shared.api, &connection, &event_headers, &query);
    let invocation = shared.routes.connect(events::request(event));
    let response = match tracing::Instrument::instrument(invocation, span.clone()).await {
        Ok(response) => response,
        Err(error) => {
            tracing::warn!(parent: &span, %error, "$connect integration failed: refusing with 500");
            return (
                StatusCode::INTERNAL_SERVER_ERROR,
                axum::Json(json!({"message": "Internal server error"})),
            )
                .into_response();
        }
    };
    if !(200..300).contains(&response.status_code) {
        tracing::info!(parent: &span, status = response.status_code, "$connect refused the connection");
        return refusal(response);
    }
    if shared.closing.load(Ordering::SeqCst) {
        // Accepted by $connect while shutting down: end it the way a dropped connection ends.
        tokio::spawn(run_disconnect(
            shared.clone(),
            connection,
            1001,
            "Going away".into(),
            guard,
        ));
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            axum::Json(json!({"message": "Service Unavailable"})),
        )
            .into_response();
    }

    let mut upgrade = upgrade
        .max_message_size(shared.config.max_message_bytes)
        .max_frame_size(shared.config.max_frame_bytes);
    let protocol = response
        .headers
        .get(header::SEC_WEBSOCKET_PROTOCOL)
        .or_else(|| response.multi_value_headers.get(header::SEC_WEBSOCKET_PROTOCOL))
        .cloned();
    if let Some(protocol) = &protocol {
        upgrade.set_selected_protocol(protocol.clone());
    }

    // Register before the 101 goes out, so @connections finds the connection as soon as the
    // client can see it (frames posted early wait in the channel).
    let (outbound, outbound_rx) = mpsc::unbounded_channel();
    let (close, close_rx) = watch::channel(None);
    shared.connections.lock().unwrap().insert(
        connection.id.clone(),
        Handle {
            connection: connection.clone(),
            last_active_at: connection.connected_at,
            outbound: outbound.clone(),
            close,
        },
    );
    tracing::info!(parent: &span, protocol = ?protocol, "connected");

    let pending = Arc::new(Mutex::new(Some((
        shared.clone(),
        connection,
        outbound,
        outbound_rx,
        close_rx,
        guard,
    ))));
    let on_failure = pending.clone();
    upgrade
        .on_failed_upgrade(move |error: axum::Error| {
            if let Some((shared, connection, _, _, _, guard)) = on_failure.lock().unwrap().take() {
                tracing::warn!(connection_id = %connection.id, %error, "WebSocket upgrade failed");
                shared.unregister(&connection.id);
                tokio::spawn(run_disconnect(shared, connection, 1006, "Upgrade failed".into(), guard));
            }
        })
        .on_upgrade(move |socket| async move {
            let Some((shared, connection, outbound, outbound_rx, close_rx, guard)) = pending.lock().unwrap().take()
            else {
                return;
            };
            let span = tracing::info_span!("connection", station = %station_id, connection_id = %connection.id);
            tracing::Instrument::instrument(
                run_connection(shared, connection, socket, outbound, outbound_rx, close_rx, guard),
                span,
            )
            .await
        })
}

/// A non-2xx `$connect` response as the handshake's HTTP response.
fn refusal(response: aws_lambda_events::apigw::ApiGatewayProxyResponse) -> Response {
    let status = u16::try_from(response.status_code)
        .ok()
        .and_then(|s| StatusCode::from_u16(s).ok())
        .unwrap_or(StatusCode::BAD_GATEWAY);
    let body = match response.body {
        Some(LambdaBody::Text(text)) => Body::from(text),
        Some(LambdaBody::Binary(bytes)) => Body::from(bytes),
        _ => Body::empty(),
    };
    let mut http = Response::new(body);
    *http.status_mut() = status;
    for (name, value) in response.multi_value_headers.iter().chain(response.headers.iter()) {
        if !HOP_BY_HOP.contains(&name.as_str()) && name != header::CONTENT_LENGTH {
            http.headers_mut().insert(name.clone(), value.clone());
        }
    }
    http
}

/// Why a connection ended.
enum End {
    /// The client sent a close frame.
    ByPeer(u16, String),
    /// The TCP connection went away without a close frame, or the protocol broke.
    Dropped(String),
    /// The gateway closes: @connections DELETE, idle, max lifetime, shutdown.
    ByUs(u16, String),
    /// A frame or message over the limits.
    TooBig,
}

fn too_big(error: &axum::Error) -> bool {
    std::error::Error::source(error)
        .and_then(|e| e.downcast_ref::<tungstenite::Error>())
        .is_some_and(|e| matches!(e, tungstenite::Error::Capacity(_)))
}

async fn run_connection<R: WebSocketRoutes>(
    shared: Arc<Shared<R>>,
    connection: Connection,
    socket: WebSocket,
    outbound: mpsc::UnboundedSender<Outbound>,
    outbound_rx: mpsc::UnboundedReceiver<Outbound>,
    mut close_rx: watch::Receiver<Option<(u16, String)>>,
    guard: ActiveGuard,
) {
    let (sink, mut stream) = socket.split();
    let writer = tokio::spawn(write_loop(sink, outbound_rx));
    let started = Instant::now();
    let lifetime_ends = started + shared.config.max_connection_duration;
    let mut idle_ends = started + shared.config.idle_timeout;

    let end = loop {
        tokio::select! {
            biased;
            changed = close_rx.changed() => {
                let request = close_rx.borrow_and_update().clone();
                break match (changed, request) {
                    (Ok(()), Some((code, reason))) => End::ByUs(code, reason),
                    _ => End::ByUs(1001, "Going away".into()),
                };
            }
            _ = sleep_until(lifetime_ends) => {
                tracing::info!("maximum connection duration reached");
                break End::ByUs(1001, "Going away".into());
            }
            _ = sleep_until(idle_ends) => {
                tracing::info!("idle timeout");
                break End::ByUs(1001, "Going away".into());
            }
            next = stream.next() => match next {
                None => break End::Dropped("Connection closed without a close frame".into()),
                Some(Err(error)) if too_big(&error) => {
                    tracing::info!(%error, "frame or message too big");
                    break End::TooBig;
                }
                Some(Err(error)) => break End::Dropped(error.to_string()),
                Some(Ok(message)) => {
                    shared.touch(&connection.id);
                    idle_ends = Instant::now() + shared.config.idle_timeout;
                    match message {
                        Message::Text(text) => on_text(&shared, &connection, &outbound, text.as_str()).await,
                        // API Gateway would pass binary frames base64-encoded; OCPP-J is text only.
                        Message::Binary(data) => tracing::debug!(bytes = data.len(), "binary frame ignored"),
                        Message::Ping(_) | Message::Pong(_) => {}
                        Message::Close(frame) => {
                            break match frame {
                                Some(frame) => End::ByPeer(frame.code, frame.reason.as_str().to_string()),
                                None => End::ByPeer(1005, String::new()),
                            };
                        }
                    }
                }
            }
        }
    };

    // From here on @connections answers 410.
    shared.unregister(&connection.id);
    let (code, reason) = match &end {
        End::ByPeer(code, reason) => (
            *code,
            format!("Client-side close frame status code '{code}' - reason: {reason}"),
        ),
        End::Dropped(why) => (1006, format!("Connection dropped: {why}")),
        End::ByUs(code, reason) => (
            *code,
            format!("Server-side close frame status code '{code}' - reason: {reason}"),
        ),
        End::TooBig => (1009, "Message too big".to_string()),
    };
    match &end {
        End::ByUs(code, reason) => {
            let frame = CloseFrame {
                code: *code,
                reason: Utf8Bytes::from(reason.clone()),
            };
            let _ = outbound.send(Outbound::Close(Some(frame)));
            drain_until_closed(&mut stream).await;
        }
        End::TooBig => {
            let frame = CloseFrame {
                code: 1009,
                reason: Utf8Bytes::from_static("Message too big"),
            };
            let _ = outbound.send(Outbound::Close(Some(frame)));
        }
        End::ByPeer(..) | End::Dropped(_) => {
            let _ = outbound.send(Outbound::Close(None));
        }
    }
    drop(outbound);
    if timeout(Duration::from_secs(5), writer).await.is_err() {
        tracing::warn!("close handshake did not finish in 5 s");
    }
    if matches!(end, End::TooBig) {
        // The rest of the oversized frame is still unread: give the client a moment to read the
        // close frame before the socket goes (an early close could reset the connection).
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    drop(stream);
    tracing::info!(code, %reason, "disconnected");
    run_disconnect(shared, connection, code, reason, guard).await;
}

/// After our close frame: read until the client's close frame (or the end), at most 2 s.
async fn drain_until_closed(stream: &mut SplitStream<WebSocket>) {
    let _ = timeout(Duration::from_secs(2), async {
        while let Some(Ok(message)) = stream.next().await {
            if matches!(message, Message::Close(_)) {
                break;
            }
        }
    })
    .await;
}

async fn run_disconnect<R: WebSocketRoutes>(
    shared: Arc<Shared<R>>,
    connection: Connection,
    code: u16,
    reason: String,
    guard: ActiveGuard,
) {
    let event = events::disconnect_event(&shared.api, &connection, code, &reason);
    match shared.routes.disconnect(events::request(event)).await {
        Ok(response) if !(200..300).contains(&response.status_code) => {
            tracing::info!(connection_id = %connection.id, status = response.status_code, "$disconnect answered non-2xx (ignored, as API Gateway does)")
        }
        Ok(_) => {}
        Err(error) => {
            tracing::warn!(connection_id = %connection.id, %error, "$disconnect integration failed")
        }
    }
    drop(guard);
}

/// One `$default` invocation; its response body (if any) goes back on the connection.
async fn on_text<R: WebSocketRoutes>(
    shared: &Shared<R>,
    connection: &Connection,
    outbound: &mpsc::UnboundedSender<Outbound>,
    text: &str,
) {
    let event = events::message_event(&shared.api, connection, text);
    let request_id = events::request_id(&event);
    let reply = match shared.routes.message(events::request(event)).await {
        Ok(response) => match response.body {
            Some(LambdaBody::Text(body)) if !body.is_empty() => Some(Message::Text(body.into())),
            Some(LambdaBody::Binary(body)) if !body.is_empty() => Some(Message::Binary(body.into())),
            _ => None,
        },
        Err(error) => {
            tracing::warn!(%error, "$default integration failed");
            // API Gateway's answer when the integration fails.
            Some(Message::Text(
                format!(
                    r#"{{"message": "Internal server error", "connectionId":"{}", "requestId":"{request_id}"}}"#,
                    connection.id
                )
                .into(),
            ))
        }
    };
    if let Some(reply) = reply {
        let _ = outbound.send(Outbound::Frame(reply, None));
    }
}

async fn write_loop(
    mut sink: futures_util::stream::SplitSink<WebSocket, Message>,
    mut rx: mpsc::UnboundedReceiver<Outbound>,
) {
    while let Some(item) = rx.recv().await {
        match item {
            Outbound::Frame(message, ack) => {
                let written = sink.send(message).await.is_ok();
                if let Some(ack) = ack {
                    let _ = ack.send(written);
                }
                if !written {
                    break;
                }
            }
            Outbound::Close(frame) => {
                if let Some(frame) = frame {
                    let _ = sink.send(Message::Close(Some(frame))).await;
                }
                let _ = sink.close().await;
                break;
            }
        }
    }
    // Anything still queued was not delivered.
    rx.close();
    while let Ok(item) = rx.try_recv() {
        if let Outbound::Frame(_, Some(ack)) = item {
            let _ = ack.send(false);
        }
    }
}

// ---- @connections ----------------------------------------------------------------------------

fn request_id_header() -> (HeaderName, HeaderValue) {
    (
        HeaderName::from_static("x-amzn-requestid"),
        HeaderValue::from_str(&uuid::Uuid::new_v4().to_string()).expect("a uuid is a valid header value"),
    )
}

/// An error the way the management API sends it: the type in `x-amzn-ErrorType`, JSON body.
fn error_response(status: StatusCode, error_type: &'static str, message: Option<&str>) -> Response {
    let (name, value) = request_id_header();
    (
        status,
        [
            (name, value),
            (
                HeaderName::from_static("x-amzn-errortype"),
                HeaderValue::from_static(error_type),
            ),
        ],
        axum::Json(json!({ "message": message })),
    )
        .into_response()
}

fn gone() -> Response {
    error_response(StatusCode::GONE, "GoneException", None)
}

fn ok(status: StatusCode) -> Response {
    (status, [request_id_header()]).into_response()
}

/// Another stage's URL: API Gateway answers 403.
fn wrong_stage<R>(shared: &Shared<R>, stage: &str) -> Option<Response> {
    (stage != shared.config.stage)
        .then(|| error_response(StatusCode::FORBIDDEN, "ForbiddenException", Some("Forbidden")))
}

async fn post_to_connection<R: WebSocketRoutes>(
    State(shared): State<Arc<Shared<R>>>,
    Path((stage, connection_id)): Path<(String, String)>,
    body: Bytes,
) -> Response {
    if let Some(response) = wrong_stage(&shared, &stage) {
        return response;
    }
    if body.len() > shared.config.max_message_bytes {
        return error_response(
            StatusCode::PAYLOAD_TOO_LARGE,
            "PayloadTooLargeException",
            Some("Message too long"),
        );
    }
    let Some(outbound) = shared
        .connections
        .lock()
        .unwrap()
        .get(&connection_id)
        .map(|h| h.outbound.clone())
    else {
        tracing::debug!(%connection_id, "PostToConnection: gone");
        return gone();
    };
    let message = match String::from_utf8(body.to_vec()) {
        Ok(text) => Message::Text(text.into()),
        Err(e) => Message::Binary(e.into_bytes().into()),
    };
    let (ack, written) = oneshot::channel();
    if outbound.send(Outbound::Frame(message, Some(ack))).is_err() {
        return gone();
    }
    match written.await {
        Ok(true) => ok(StatusCode::OK),
        _ => gone(),
    }
}

async fn get_connection<R: WebSocketRoutes>(
    State(shared): State<Arc<Shared<R>>>,
    Path((stage, connection_id)): Path<(String, String)>,
) -> Response {
    if let Some(response) = wrong_stage(&shared, &stage) {
        return response;
    }
    let connections = shared.connections.lock().unwrap();
    let Some(handle) = connections.get(&connection_id) else {
        return gone();
    };
    let time = |t: DateTime<Utc>| t.to_rfc3339_opts(SecondsFormat::Millis, true);
    let mut identity = json!({ "sourceIp": handle.connection.source_ip });
    if let Some(agent) = &handle.connection.user_agent {
        identity["userAgent"] = json!(agent);
    }
    let body = json!({
        "connectedAt": time(handle.connection.connected_at),
        "identity": identity,
        "lastActiveAt": time(handle.last_active_at),
    });
    (StatusCode::OK, [request_id_header()], axum::Json(body)).into_response()
}

async fn delete_connection<R: WebSocketRoutes>(
    State(shared): State<Arc<Shared<R>>>,
    Path((stage, connection_id)): Path<(String, String)>,
) -> Response {
    if let Some(response) = wrong_stage(&shared, &stage) {
        return response;
    }
    if shared.request_close(&connection_id, 1000, "") {
        tracing::info!(%connection_id, "DeleteConnection");
        ok(StatusCode::NO_CONTENT)
    } else {
        gone()
    }
}
