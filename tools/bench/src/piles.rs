//! Section 3: many piles at once over real WebSockets through the stand-in (csms-local).

use aws_sdk_sqs::types::QueueAttributeName;
use chrono::Utc;
use csms_domain::registry::{self, NewStation};
use csms_domain::{Password, ProtocolVersion, Registration, Services, StationId};
use futures_util::{SinkExt, StreamExt};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::net::TcpStream;
use tokio::sync::Barrier;
use tokio::task::JoinSet;
use tokio::time::timeout;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::http::header::{AUTHORIZATION, SEC_WEBSOCKET_PROTOCOL};
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use crate::BoxError;
use crate::cpu::{Meter, Watched};
use crate::frames::{self, Action, Reply, Version};
use crate::stats::{Summary, ms};

pub(crate) type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// No answer within this long counts as an error.
pub(crate) const CALL_TIMEOUT: Duration = Duration::from_secs(60);

pub struct Plan<'a> {
    pub services: &'a Services,
    pub url: &'a str,
    pub prefix: &'a str,
    pub piles: usize,
    pub messages: usize,
    /// The stack's status queue (polled by csms-local), to watch its backlog.
    pub stack_queue: Option<String>,
    pub sqs: aws_sdk_sqs::Client,
    pub watched: Vec<Watched>,
}

#[derive(Default)]
struct Outcome {
    connect: Option<Duration>,
    round_trips: Vec<(Action, Duration)>,
    call_errors: Vec<String>,
    errors: Vec<String>,
}

fn pile_id(prefix: &str, i: usize) -> String {
    format!("{prefix}-P{i:04}")
}

fn pile_password(i: usize) -> String {
    format!("bench-pile-pass-{i:06}")
}

/// Runs the section; Ok(false) when any CALL failed or any pile could not connect.
pub async fn section_round_trip(plan: Plan<'_>) -> Result<bool, BoxError> {
    let Plan {
        services,
        url,
        prefix,
        piles,
        messages,
        stack_queue,
        sqs,
        watched,
    } = plan;

    // Argon2id once here, for scale.
    let probe = Password::parse(&pile_password(0))?;
    let start = Instant::now();
    let hash = probe.hash()?;
    let hash_time = start.elapsed();
    let start = Instant::now();
    let verified = hash.verify(probe.expose());
    let verify_time = start.elapsed();
    if !verified {
        return Err("Argon2id probe did not verify".into());
    }

    let start = Instant::now();
    let meter = Meter::start(&watched);
    register_all(
        services,
        (0..piles).map(|i| (pile_id(prefix, i), pile_password(i))).collect(),
    )
    .await?;
    println!(
        "setup: {piles} piles registered in-process through csms_domain::registry::register in {:.1} s (one Argon2id hash each, \
         on the runtime's {} worker threads); Argon2id here (release): hash {} ms, verify {} ms.",
        start.elapsed().as_secs_f64(),
        std::thread::available_parallelism().map_or(1, |n| n.get()),
        ms(hash_time),
        ms(verify_time)
    );
    println!("  {}", meter.report());

    let barrier = Arc::new(Barrier::new(piles + 1));
    let connect_start = Instant::now();
    let meter = Meter::start(&watched);
    let mut running = JoinSet::new();
    for i in 0..piles {
        let barrier = barrier.clone();
        let (url, id, password) = (
            format!("{url}{}", pile_id(prefix, i)),
            pile_id(prefix, i),
            pile_password(i),
        );
        running.spawn(pile(url, id, password, messages, barrier));
    }
    barrier.wait().await;
    let connect_wall = connect_start.elapsed();
    let connect_cpu = meter.report();
    let run_start = Instant::now();
    let meter = Meter::start(&watched);
    let mut outcomes = Vec::with_capacity(piles);
    while let Some(joined) = running.join_next().await {
        outcomes.push(joined?);
    }
    let wall = run_start.elapsed();
    let run_cpu = meter.report();

    let connects: Vec<Duration> = outcomes.iter().filter_map(|o| o.connect).collect();
    let mut by_action: BTreeMap<Action, Vec<Duration>> = BTreeMap::new();
    for o in &outcomes {
        for (action, took) in &o.round_trips {
            by_action.entry(*action).or_default().push(*took);
        }
    }
    let call_errors: Vec<&String> = outcomes.iter().flat_map(|o| &o.call_errors).collect();
    let errors: Vec<&String> = outcomes.iter().flat_map(|o| &o.errors).collect();
    let answered: usize = by_action.values().map(Vec::len).sum();

    println!(
        "{:<24} {:>6} {:>9} {:>9} {:>9} {:>9} {:>9}",
        "round trip (ms)", "n", "p50", "p90", "p99", "max", "mean"
    );
    let row = |label: &str, s: &Summary| {
        println!(
            "{:<24} {:>6} {:>9} {:>9} {:>9} {:>9} {:>9}",
            label,
            s.n,
            ms(s.p50),
            ms(s.p90),
            ms(s.p99),
            ms(s.max),
            ms(s.mean)
        );
    };
    if let Some(s) = Summary::of(&connects) {
        row("connect (handshake)", &s);
    }
    for (action, took) in &by_action {
        if let Some(s) = Summary::of(took) {
            row(action.name(), &s);
        }
    }
    println!(
        "connected {}/{piles} piles in {:.2} s (all handshakes at once); then {answered} CALLs answered in {:.2} s = {:.0} messages/s; \
         CALLERROR: {}, other errors: {}",
        connects.len(),
        connect_wall.as_secs_f64(),
        wall.as_secs_f64(),
        answered as f64 / wall.as_secs_f64(),
        call_errors.len(),
        errors.len()
    );
    for e in call_errors.iter().chain(errors.iter()).take(5) {
        println!("  e.g. {e}");
    }
    println!("  connect phase {connect_cpu}");
    println!("  message phase {run_cpu}");
    if let Some(queue) = stack_queue {
        let meter = Meter::start(&watched);
        print_backlog(&sqs, &queue).await;
        println!("  {}", meter.report());
    }
    println!(
        "method: {piles} tokio-tungstenite clients in this process, each to CSMS_OCPP_URL<id> with subprotocol ocpp1.6 and Basic auth; \
         connect = TCP + HTTP upgrade, which csms-local answers after running $connect (station GetItem, Argon2id verify, connection \
         PutItem, station UpdateItem). Once all are connected (a barrier), each pile sends BootNotification, then {messages} x \
         (Heartbeat, StatusNotification), one CALL in flight per pile; round trip = frame sent -> matching CALLRESULT read. Wall time \
         and messages/s cover that phase. csms-local, DynamoDB Local, LocalStack (and csms-local's own status consumer polling the \
         stack's queue) and these clients all share the machine's cores."
    );
    Ok(call_errors.is_empty() && errors.is_empty() && connects.len() == piles)
}

/// Registers 1.6 piles (id, password) as Accepted, concurrently, through the registry's use case.
pub(crate) async fn register_all(services: &Services, piles: Vec<(String, String)>) -> Result<(), BoxError> {
    let mut registering = JoinSet::new();
    for (id, password) in piles {
        let services = services.clone();
        registering.spawn(async move {
            let new = NewStation {
                id: StationId::parse(&id)?,
                protocols: vec![ProtocolVersion::Ocpp16],
                registration: Registration::Accepted,
                site: None,
                organisation: None,
                location: None,
                connectors: Vec::new(),
                password: Some(Password::parse(&password)?),
            };
            registry::register(&services, new, Utc::now()).await?;
            Ok::<_, BoxError>(())
        });
    }
    while let Some(joined) = registering.join_next().await {
        joined??;
    }
    Ok(())
}

/// Messages in a queue, visible or in flight (approximate counts); None when unreadable.
pub(crate) async fn backlog(sqs: &aws_sdk_sqs::Client, queue: &str) -> Option<u64> {
    let out = sqs
        .get_queue_attributes()
        .queue_url(queue)
        .attribute_names(QueueAttributeName::ApproximateNumberOfMessages)
        .attribute_names(QueueAttributeName::ApproximateNumberOfMessagesNotVisible)
        .send()
        .await
        .ok()?;
    let attributes = out.attributes?;
    let count = |name: &QueueAttributeName| attributes.get(name).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0);
    Some(
        count(&QueueAttributeName::ApproximateNumberOfMessages)
            + count(&QueueAttributeName::ApproximateNumberOfMessagesNotVisible),
    )
}

/// How the stand-in's status consumer keeps up: the stack queue's backlog after the last answer.
async fn print_backlog(sqs: &aws_sdk_sqs::Client, queue: &str) {
    let start = Instant::now();
    let Some(initial) = backlog(sqs, queue).await else {
        println!("status queue backlog: could not be read");
        return;
    };
    let limit = Duration::from_secs(10);
    let mut left = initial;
    while left > 0 && start.elapsed() < limit {
        tokio::time::sleep(Duration::from_millis(250)).await;
        left = backlog(sqs, queue).await.unwrap_or(left);
    }
    match left {
        0 => println!(
            "status consumer (csms-local polling the stack's queue): {initial} StatusReported events still queued at the last answer, \
             drained {:.1} s later",
            start.elapsed().as_secs_f64()
        ),
        _ => println!(
            "status consumer (csms-local polling the stack's queue): {initial} StatusReported events queued at the last answer, \
             {left} still queued {:.0} s later (approximate counts)",
            start.elapsed().as_secs_f64()
        ),
    }
}

pub(crate) async fn handshake(url: &str, id: &str, password: &str) -> Result<Socket, BoxError> {
    let mut request = url.into_client_request()?;
    let headers = request.headers_mut();
    headers.insert(SEC_WEBSOCKET_PROTOCOL, HeaderValue::from_static("ocpp1.6"));
    headers.insert(AUTHORIZATION, HeaderValue::from_str(&frames::basic_auth(id, password))?);
    let (socket, response) = tokio_tungstenite::connect_async(request).await?;
    match response
        .headers()
        .get(SEC_WEBSOCKET_PROTOCOL)
        .and_then(|v| v.to_str().ok())
    {
        Some("ocpp1.6") => Ok(socket),
        other => Err(format!("subprotocol {other:?} instead of ocpp1.6").into()),
    }
}

/// The next text frame; None when the socket closed or failed.
pub(crate) async fn next_text(socket: &mut Socket) -> Option<String> {
    while let Some(message) = socket.next().await {
        match message {
            Ok(Message::Text(text)) => return Some(text.to_string()),
            Ok(Message::Close(_)) | Err(_) => return None,
            Ok(_) => continue,
        }
    }
    None
}

async fn pile(url: String, id: String, password: String, messages: usize, barrier: Arc<Barrier>) -> Outcome {
    let mut outcome = Outcome::default();
    let start = Instant::now();
    let socket = match handshake(&url, &id, &password).await {
        Ok(socket) => {
            outcome.connect = Some(start.elapsed());
            Some(socket)
        }
        Err(e) => {
            outcome.errors.push(format!("{id}: connect: {e}"));
            None
        }
    };
    barrier.wait().await;
    let Some(mut socket) = socket else {
        return outcome;
    };
    let actions = std::iter::once(Action::BootNotification)
        .chain((0..messages).flat_map(|_| [Action::Heartbeat, Action::StatusNotification]));
    for (seq, action) in actions.enumerate() {
        let message_id = seq.to_string();
        let frame = frames::call(Version::V16, action, &message_id, Utc::now(), seq % 4 == 0);
        let start = Instant::now();
        if let Err(e) = socket.send(Message::text(frame)).await {
            outcome.errors.push(format!("{id}: send {}: {e}", action.name()));
            break;
        }
        let reply = timeout(CALL_TIMEOUT, next_text(&mut socket)).await;
        let took = start.elapsed();
        let reply = match reply {
            Ok(reply) => reply,
            Err(_) => {
                outcome.errors.push(format!(
                    "{id}: {} unanswered after {} s",
                    action.name(),
                    CALL_TIMEOUT.as_secs()
                ));
                break;
            }
        };
        match frames::classify(reply.as_deref(), &message_id) {
            Reply::Result(payload) => {
                if action == Action::BootNotification && payload["status"] != "Accepted" {
                    outcome
                        .errors
                        .push(format!("{id}: BootNotification answered {payload}"));
                }
                outcome.round_trips.push((action, took));
            }
            Reply::CallError(frame) => outcome.call_errors.push(format!("{id}: {}: {frame}", action.name())),
            Reply::Bad(why) => {
                outcome.errors.push(format!("{id}: {}: {why}", action.name()));
                break;
            }
        }
    }
    let _ = socket.close(None).await;
    let _ = timeout(Duration::from_secs(5), async { while socket.next().await.is_some() {} }).await;
    outcome
}
