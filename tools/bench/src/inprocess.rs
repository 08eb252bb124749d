//! Sections 1 and 2: the handlers called in this process, the way Lambda calls them, against
//! DynamoDB Local and LocalStack SQS, through SDK clients whose calls are counted.

use aws_lambda_events::encodings::Body;
use aws_sdk_sqs::types::{DeleteMessageBatchRequestEntry, MessageSystemAttributeName, QueueAttributeName};
use chrono::{DateTime, Duration as TimeDelta, SubsecRound, Utc};
use csms_domain::registry::{self, NewStation};
use csms_domain::{
    AuthorizationStatus, Connection, IdToken, IdTokenType, Password, ProtocolVersion, Registration, Services,
    StationId, TokenRecord, TransactionId, TransactionKey,
};
use serde_json::Value;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::BoxError;
use crate::count::{Calls, CountCalls, Counts};
use crate::cpu::{Meter, Watched};
use crate::frames::{self, Action, Reply, Start16, TxEvent, Version};
use crate::stats::{Summary, ms};

/// The organisation of the benchmark's stations, which issues their tokens.
const BENCH_ORGANISATION: &str = "bench-organisation";

/// A FIFO queue of the benchmark's own.
struct BenchQueue {
    url: String,
    arn: String,
}

impl BenchQueue {
    async fn create(admin: &aws_sdk_sqs::Client, name: &str) -> Result<Self, BoxError> {
        let url = admin
            .create_queue()
            .queue_name(name)
            .attributes(QueueAttributeName::FifoQueue, "true")
            .send()
            .await?
            .queue_url
            .ok_or("CreateQueue returned no URL")?;
        let arn = admin
            .get_queue_attributes()
            .queue_url(&url)
            .attribute_names(QueueAttributeName::QueueArn)
            .send()
            .await?
            .attributes
            .and_then(|mut a| a.remove(&QueueAttributeName::QueueArn))
            .ok_or("GetQueueAttributes returned no ARN")?;
        Ok(Self { url, arn })
    }
}

/// Which of the bench's queues.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Queue {
    Status,
    Sessions,
}

/// Everything the in-process sections share.
pub struct Rig {
    pub services: Services,
    pub reservations: csms_domain::reservation::ReservationServices,
    pub calls: Arc<Calls>,
    pub config: csms_aws::Config,
    /// Uncounted: for the benchmark's own queue handling (what Lambda's event source does).
    admin: aws_sdk_sqs::Client,
    status_queue: BenchQueue,
    session_queue: BenchQueue,
}

impl Rig {
    /// Counted clients, and status and session-event queues of the benchmark's own: the stand-in
    /// polls the stack's queues into the consumers, which would race the consumers measured here.
    /// Registers the sample events' id tokens as Accepted.
    pub async fn new(sdk: &aws_config::SdkConfig, prefix: &str) -> Result<Self, BoxError> {
        let calls = Arc::new(Calls::default());
        let dynamodb = aws_sdk_dynamodb::Client::from_conf(
            aws_sdk_dynamodb::config::Builder::from(sdk)
                .interceptor(CountCalls(calls.clone()))
                .build(),
        );
        let sqs = aws_sdk_sqs::Client::from_conf(
            aws_sdk_sqs::config::Builder::from(sdk)
                .interceptor(CountCalls(calls.clone()))
                .build(),
        );
        let admin = aws_sdk_sqs::Client::new(sdk);
        let mut config = csms_aws::Config::from_env()?;
        if config.status_queue_url.is_none() || config.session_events_queue_url.is_none() {
            return Err(
                "STATUS_QUEUE_URL and SESSION_EVENTS_QUEUE_URL must be set: run through scripts/bench.sh (after stack_up)".into(),
            );
        }
        let status_queue = BenchQueue::create(&admin, &format!("{prefix}-bench-status.fifo")).await?;
        let session_queue = BenchQueue::create(&admin, &format!("{prefix}-bench-sessions.fifo")).await?;
        config.status_queue_url = Some(status_queue.url.clone());
        config.session_events_queue_url = Some(session_queue.url.clone());
        let scheduler = aws_sdk_scheduler::Client::from_conf(
            aws_sdk_scheduler::config::Builder::from(sdk)
                .interceptor(CountCalls(calls.clone()))
                .build(),
        );
        let reservations = csms_aws::reservation_services(dynamodb.clone(), sqs.clone(), scheduler, &config);
        let services = csms_aws::services_with(sdk, dynamodb, sqs, &config);
        // The stations' organisation issues the tokens; another organisation issues the same values
        // (its registry is never read at these stations: still one token read per message).
        for organisation in [BENCH_ORGANISATION, "bench-other-organisation"] {
            for (token, kind) in [
                (IdToken::parse_16(frames::ID_TAG_16)?, None),
                (
                    IdToken::parse_201(frames::ID_TOKEN_201, IdTokenType::Iso14443)?,
                    Some(IdTokenType::Iso14443),
                ),
            ] {
                debug_assert_eq!(token.kind(), kind);
                let record = TokenRecord {
                    token,
                    status: AuthorizationStatus::Accepted,
                    expiry: None,
                    group: None,
                    owner: Some("csms-bench".into()),
                    organisation: Some(organisation.into()),
                };
                services.charging.tokens.put(&record).await?;
            }
        }
        calls.take();
        Ok(Self {
            services,
            reservations,
            calls,
            config,
            admin,
            status_queue,
            session_queue,
        })
    }

    pub async fn remove_queues(&self) {
        for queue in [&self.status_queue, &self.session_queue] {
            let _ = self.admin.delete_queue().queue_url(&queue.url).send().await;
        }
    }

    fn queue(&self, queue: Queue) -> &BenchQueue {
        match queue {
            Queue::Status => &self.status_queue,
            Queue::Sessions => &self.session_queue,
        }
    }

    pub async fn register(&self, station: &str, password: &str, version: Version) -> Result<(), BoxError> {
        let protocol = match version {
            Version::V16 => ProtocolVersion::Ocpp16,
            Version::V201 => ProtocolVersion::Ocpp201,
        };
        let new = NewStation {
            id: StationId::parse(station)?,
            protocols: vec![protocol],
            registration: Registration::Accepted,
            site: None,
            organisation: Some(BENCH_ORGANISATION.into()),
            location: None,
            connectors: Vec::new(),
            password: Some(Password::parse(password)?),
        };
        registry::register(&self.services, new, Utc::now()).await?;
        Ok(())
    }

    /// `$connect` as API Gateway invokes it.
    async fn connect(
        &self,
        connection_id: &str,
        station: &str,
        password: &str,
        version: Version,
    ) -> Result<(), BoxError> {
        let response = connect::handle(
            &self.services,
            frames::connect_event(connection_id, station, password, version),
        )
        .await?;
        if response.status_code != 200 {
            return Err(format!("$connect for {station} answered {}", response.status_code).into());
        }
        Ok(())
    }

    /// One `$default` invocation; Ok only for a CALLRESULT. Returns the time spent in the handler.
    async fn call(
        &self,
        connection_id: &str,
        version: Version,
        action: Action,
        id: &str,
        at: DateTime<Utc>,
        flip: bool,
    ) -> Result<Duration, BoxError> {
        let frame = frames::call(version, action, id, at, flip);
        let label = format!("{} {}", version.label(), action.name());
        Ok(self.call_frame(connection_id, &label, frame, id).await?.0)
    }

    /// One `$default` invocation of a prepared frame; Ok only for a CALLRESULT, with the time
    /// spent in the handler and the CALLRESULT's payload.
    async fn call_frame(
        &self,
        connection_id: &str,
        label: &str,
        frame: String,
        id: &str,
    ) -> Result<(Duration, Value), BoxError> {
        let event = frames::default_event(connection_id, frame);
        let start = Instant::now();
        let response = message::handle(&self.services, &self.reservations, event).await?;
        let took = start.elapsed();
        let body = match &response.body {
            Some(Body::Text(text)) => Some(text.as_str()),
            _ => None,
        };
        match frames::classify(body, id) {
            Reply::Result(payload) => Ok((took, payload)),
            Reply::CallError(frame) => Err(format!("{label}: CALLERROR {frame}").into()),
            Reply::Bad(why) => Err(format!("{label}: {why}").into()),
        }
    }

    /// Sets the stored `lastSeenAt` back, so the next request finds it stale.
    async fn age_last_seen(&self, connection_id: &str) -> Result<(), BoxError> {
        let past = Utc::now() - Connection::LAST_SEEN_PRECISION - TimeDelta::minutes(1);
        self.services.connections.touch(connection_id, past).await?;
        Ok(())
    }

    async fn receive(
        &self,
        queue: Queue,
        max: i32,
        wait_seconds: i32,
    ) -> Result<Vec<aws_sdk_sqs::types::Message>, BoxError> {
        let out = self
            .admin
            .receive_message()
            .queue_url(&self.queue(queue).url)
            .max_number_of_messages(max)
            .wait_time_seconds(wait_seconds)
            .message_system_attribute_names(MessageSystemAttributeName::All)
            .send()
            .await?;
        Ok(out.messages.unwrap_or_default())
    }

    /// The one message a handler call just queued.
    async fn receive_one(&self, queue: Queue, what: &str) -> Result<Vec<aws_sdk_sqs::types::Message>, BoxError> {
        let messages = self.receive(queue, 1, 5).await?;
        if messages.len() != 1 {
            return Err(format!("the {what}'s message did not arrive on the queue").into());
        }
        Ok(messages)
    }

    async fn delete(&self, queue: Queue, messages: &[aws_sdk_sqs::types::Message]) -> Result<(), BoxError> {
        if messages.is_empty() {
            return Ok(());
        }
        let entries = messages
            .iter()
            .enumerate()
            .map(|(i, m)| {
                DeleteMessageBatchRequestEntry::builder()
                    .id(i.to_string())
                    .receipt_handle(m.receipt_handle().unwrap_or_default())
                    .build()
            })
            .collect::<Result<Vec<_>, _>>()?;
        self.admin
            .delete_message_batch()
            .queue_url(&self.queue(queue).url)
            .set_entries(Some(entries))
            .send()
            .await?;
        Ok(())
    }

    async fn drain(&self, queue: Queue) -> Result<(), BoxError> {
        loop {
            let batch = self.receive(queue, 10, 0).await?;
            if batch.is_empty() {
                return Ok(());
            }
            self.delete(queue, &batch).await?;
        }
    }

    /// The sessions function on a batch, as the event source mapping invokes it.
    async fn consume_sessions(&self, messages: &[aws_sdk_sqs::types::Message]) -> Result<Duration, BoxError> {
        let event = frames::sqs_event(messages, &self.session_queue.arn);
        let start = Instant::now();
        let response = sessions::handle(&self.services, event).await?;
        let took = start.elapsed();
        if !response.batch_item_failures.is_empty() {
            return Err(format!(
                "sessions consumer reported {} failed records",
                response.batch_item_failures.len()
            )
            .into());
        }
        Ok(took)
    }

    /// The status function on a batch, as the event source mapping invokes it.
    async fn consume(&self, messages: &[aws_sdk_sqs::types::Message]) -> Result<Duration, BoxError> {
        let event = frames::sqs_event(messages, &self.status_queue.arn);
        let start = Instant::now();
        let response = status::handle(&self.services, event).await?;
        let took = start.elapsed();
        if !response.batch_item_failures.is_empty() {
            return Err(format!(
                "status consumer reported {} failed records",
                response.batch_item_failures.len()
            )
            .into());
        }
        Ok(took)
    }
}

/// One row of the call-count table: the counts of each repetition.
pub struct OpsRow {
    pub label: String,
    pub samples: Vec<Counts>,
    pub lambda: &'static str,
}

impl OpsRow {
    pub fn new(label: impl Into<String>, lambda: &'static str) -> Self {
        Self {
            label: label.into(),
            samples: Vec::new(),
            lambda,
        }
    }

    /// Mean operations of one kind per sample, and whether the samples disagreed.
    pub fn mean(&self, key: &(String, String)) -> (f64, bool) {
        let values: Vec<u64> = self
            .samples
            .iter()
            .map(|s| s.get(key).map_or(0, |t| t.operations))
            .collect();
        let varied = values.iter().any(|v| *v != values[0]);
        (values.iter().sum::<u64>() as f64 / values.len().max(1) as f64, varied)
    }

    pub fn mean_total(&self, service: &str) -> f64 {
        let total: u64 = self
            .samples
            .iter()
            .flat_map(|s| s.iter())
            .filter(|((svc, _), _)| svc == service)
            .map(|(_, t)| t.operations)
            .sum();
        total as f64 / self.samples.len().max(1) as f64
    }
}

/// A connection opened in-process, for the timing section.
pub struct Opened {
    pub connection_id: String,
    pub version: Version,
}

/// Status timestamps strictly increase, so that each report is new to the consumer and to the
/// queue's deduplication; statuses alternate.
struct Clock {
    base: DateTime<Utc>,
    seq: i64,
}

impl Clock {
    fn next(&mut self) -> (String, DateTime<Utc>, bool) {
        self.seq += 1;
        (
            format!("b{}", self.seq),
            self.base + TimeDelta::milliseconds(self.seq),
            self.seq % 2 == 1,
        )
    }
}

const DDB: &str = "DynamoDB";

/// Section 1: SDK calls per message, counted.
pub async fn section_calls(rig: &Rig, prefix: &str, reps: usize) -> Result<Vec<Opened>, BoxError> {
    let mut clock = Clock {
        base: Utc::now(),
        seq: 0,
    };
    let mut rows = Vec::new();
    let mut opened = Vec::new();
    let password = "bench-password-0001";
    for version in [Version::V16, Version::V201] {
        let v = version.label();
        let station = format!("{prefix}-OPS{}", v.replace('.', ""));
        let cid = format!("{station}-conn=");
        rig.register(&station, password, version).await?;
        rig.calls.take();
        rig.connect(&cid, &station, password, version).await?;
        let mut row = OpsRow::new(format!("{v} $connect (the handshake, not a frame)"), "1");
        row.samples.push(rig.calls.take());
        rows.push(row);

        let cases: &[(Action, bool, &str)] = match version {
            Version::V16 => &[
                (Action::BootNotification, false, "BootNotification"),
                (Action::Heartbeat, false, "Heartbeat, lastSeenAt < 9 min old"),
                (Action::Heartbeat, true, "Heartbeat, lastSeenAt >= 9 min old"),
                (
                    Action::StatusNotification,
                    false,
                    "StatusNotification, lastSeenAt < 9 min",
                ),
                (
                    Action::StatusNotification,
                    true,
                    "StatusNotification, lastSeenAt >= 9 min",
                ),
            ],
            Version::V201 => &[
                (Action::BootNotification, false, "BootNotification"),
                (Action::Heartbeat, false, "Heartbeat, lastSeenAt < 9 min old"),
                (
                    Action::StatusNotification,
                    false,
                    "StatusNotification, lastSeenAt < 9 min",
                ),
            ],
        };
        for &(action, stale, label) in cases {
            let lambda = if action == Action::StatusNotification {
                "1 + 1/b"
            } else {
                "1"
            };
            let mut row = OpsRow::new(format!("{v} {label}"), lambda);
            for _ in 0..reps {
                if stale {
                    rig.age_last_seen(&cid).await?;
                }
                let (id, at, flip) = clock.next();
                rig.calls.take();
                rig.call(&cid, version, action, &id, at, flip).await?;
                row.samples.push(rig.calls.take());
            }
            rows.push(row);
        }
        opened.push(Opened {
            connection_id: cid,
            version,
        });
    }

    // The status consumer, on the message the $default handler put on the queue.
    rig.drain(Queue::Status).await?;
    let cid = &opened[0].connection_id;
    let mut first = OpsRow::new("status consumer: first report for a connector", "1/b");
    let mut change = OpsRow::new("status consumer: newer report (status changed)", "1/b");
    let mut redelivery = OpsRow::new("status consumer: redelivery of the same message", "1/b");
    let mut last = Vec::new();
    for i in 0..=reps {
        let (id, at, flip) = clock.next();
        rig.call(cid, Version::V16, Action::StatusNotification, &id, at, flip)
            .await?;
        let messages = rig.receive_one(Queue::Status, "StatusNotification").await?;
        rig.calls.take();
        rig.consume(&messages).await?;
        let row = if i == 0 { &mut first } else { &mut change };
        row.samples.push(rig.calls.take());
        rig.delete(Queue::Status, &messages).await?;
        last = messages;
    }
    rig.consume(&last).await?;
    redelivery.samples.push(rig.calls.take());
    rows.extend([first, change, redelivery]);

    print_calls(&rows);
    print_heartbeat_hour(rig, &rows);
    Ok(opened)
}

/// The table: one column per operation seen in any row; a footnote when repetitions differed or
/// the SDK retried.
pub fn print_table(rows: &[OpsRow]) {
    let mut keys: Vec<(String, String)> = rows
        .iter()
        .flat_map(|r| r.samples.iter().flat_map(|s| s.keys().cloned()))
        .collect();
    keys.sort_by_key(|(service, op)| (service != DDB, service.clone(), op.clone()));
    keys.dedup();
    let width = rows.iter().map(|r| r.label.len()).max().unwrap_or(0).max(50);
    let mut header = format!("{:<width$}", "per message");
    for (_, op) in &keys {
        header.push_str(&format!(" {:>12}", op));
    }
    header.push_str(&format!(" {:>9} {:>12}", "DDB total", "Lambda inv."));
    println!("{header}");
    let mut varied_any = false;
    for row in rows {
        let mut line = format!("{:<width$}", row.label);
        for key in &keys {
            let (mean, varied) = row.mean(key);
            varied_any |= varied;
            let cell = if mean == 0.0 {
                "-".to_owned()
            } else {
                format!("{}{}", num(mean), if varied { "*" } else { "" })
            };
            line.push_str(&format!(" {:>12}", cell));
        }
        line.push_str(&format!(" {:>9} {:>12}", num(row.mean_total(DDB)), row.lambda));
        println!("{line}");
    }
    let retried: Vec<String> = rows
        .iter()
        .flat_map(|r| r.samples.iter().flat_map(|s| s.iter()))
        .filter(|(_, t)| t.attempts != t.operations)
        .map(|((svc, op), t)| format!("{svc} {op}: {} ops, {} attempts", t.operations, t.attempts))
        .collect();
    if varied_any {
        println!("  * the repetitions of this row did not all make the same calls.");
    }
    match retried.is_empty() {
        true => println!("  HTTP attempts = operations for every call (no SDK retries)."),
        false => println!("  SDK retries seen: {}", retried.join("; ")),
    }
}

fn print_calls(rows: &[OpsRow]) {
    print_table(rows);
    let reps = rows.iter().map(|r| r.samples.len()).max().unwrap_or(0);
    println!(
        "method: SDK interceptor (read_before_serialization, operation name from the config bag's Metadata) on the DynamoDB and SQS \
         clients given to csms_aws::services_with; each row is the mean of up to {reps} calls of message::handle / connect::handle / \
         status::handle on real-shaped events from events/, against DynamoDB Local and a LocalStack FIFO queue of the bench's own."
    );
    println!(
        "  Lambda inv.: $default is one invocation per frame. A StatusNotification adds the status consumer, invoked by the SQS \
         event source with batches of b = 1..10 messages (BatchSize 10, infra/lib/csms-stack.ts), so 1/b per message: +0.1 when \
         the queue has 10 or more waiting, +1 when a lone report arrives on an idle queue."
    );
}

fn print_heartbeat_hour(rig: &Rig, rows: &[OpsRow]) {
    let find = |label: &str| {
        rows.iter()
            .find(|r| r.label == label)
            .map(|r| r.mean_total(DDB))
            .unwrap_or(f64::NAN)
    };
    let fresh = find("1.6 Heartbeat, lastSeenAt < 9 min old");
    let stale = find("1.6 Heartbeat, lastSeenAt >= 9 min old");
    let interval = i64::from(rig.config.heartbeat_interval);
    let beats = 3600 / interval;
    // The rule of connection::seen, on simulated times: BootNotification wrote lastSeenAt at t0.
    let t0 = DateTime::<Utc>::UNIX_EPOCH;
    let mut connection = Connection {
        connection_id: "sim".into(),
        station_id: StationId::parse("SIM").expect("valid id"),
        protocol: ProtocolVersion::Ocpp16,
        boot: Some(Registration::Accepted),
        organisation: None,
        connected_at: t0,
        last_seen_at: t0,
    };
    let mut writes = 0;
    for k in 1..=beats {
        let now = t0 + TimeDelta::seconds(k * interval);
        if connection.last_seen_is_stale(now) {
            writes += 1;
            connection.last_seen_at = now;
        }
    }
    let total = beats as f64 * fresh + writes as f64 * (stale - fresh);
    println!(
        "Heartbeat over an hour at HEARTBEAT_INTERVAL_SECONDS={interval}: {beats} heartbeats, of which {writes} find lastSeenAt >= {} min old \
         and write it (Connection::last_seen_is_stale applied to simulated times, lastSeenAt written by BootNotification at t0, no other \
         frames) -> {} DynamoDB ops/hour = {beats} x {} + {writes} x {} extra, {} per heartbeat on average.",
        Connection::LAST_SEEN_PRECISION.num_minutes(),
        num(total),
        num(fresh),
        num(stale - fresh),
        num(total / beats as f64)
    );
}

/// 1, 1.5, 0.33.
fn num(x: f64) -> String {
    if x.fract() == 0.0 {
        format!("{x:.0}")
    } else {
        format!("{x:.2}").trim_end_matches('0').to_owned()
    }
}

/// Unique message ids, and strictly increasing station times (1 ms apart), for charging frames:
/// each start gets a new retry key, each event a new place in its session.
struct Ticker {
    base: DateTime<Utc>,
    seq: i64,
}

impl Ticker {
    fn new() -> Self {
        Self {
            base: Utc::now().trunc_subsecs(3),
            seq: 0,
        }
    }

    fn id(&mut self) -> String {
        self.seq += 1;
        format!("c{}", self.seq)
    }

    fn at(&mut self) -> DateTime<Utc> {
        self.seq += 1;
        self.base + TimeDelta::milliseconds(self.seq)
    }
}

/// 1.6 charging calls on one connection, each checked and answered with a CALLRESULT.
impl Rig {
    /// A StartTransaction; Ok with the transaction id, only if the tag was Accepted.
    async fn start16(&self, cid: &str, start: &Start16, t: &mut Ticker) -> Result<(Duration, i64), BoxError> {
        let id = t.id();
        let frame = frames::start16(&id, start);
        let (took, payload) = self.call_frame(cid, "1.6 StartTransaction", frame, &id).await?;
        let tx = payload["transactionId"]
            .as_i64()
            .ok_or("StartTransaction answered no transactionId")?;
        if payload["idTagInfo"]["status"] != "Accepted" {
            return Err(format!("StartTransaction answered {payload}").into());
        }
        Ok((took, tx))
    }

    /// A MeterValues with all seven readings of the sample.
    async fn meter16(&self, cid: &str, tx: i64, energy_wh: i64, t: &mut Ticker) -> Result<Duration, BoxError> {
        let (id, at) = (t.id(), t.at());
        let frame = frames::meter16(&id, 1, tx, at, energy_wh, 11040, true);
        Ok(self.call_frame(cid, "1.6 MeterValues", frame, &id).await?.0)
    }

    async fn stop16(
        &self,
        cid: &str,
        tx: i64,
        start: &Start16,
        at: DateTime<Utc>,
        meter_stop_wh: i64,
        t: &mut Ticker,
    ) -> Result<Duration, BoxError> {
        let id = t.id();
        let frame = frames::stop16(&id, tx, start, at, meter_stop_wh);
        let (took, payload) = self.call_frame(cid, "1.6 StopTransaction", frame, &id).await?;
        if payload["idTagInfo"]["status"] != "Accepted" {
            return Err(format!("StopTransaction answered {payload}").into());
        }
        Ok(took)
    }
}

/// Opens (registers, connects, boots) one station per version without counting, for section 2
/// when section 1 is skipped.
pub async fn open(rig: &Rig, prefix: &str) -> Result<Vec<Opened>, BoxError> {
    let password = "bench-password-0002";
    let mut opened = Vec::new();
    for version in [Version::V16, Version::V201] {
        let station = format!("{prefix}-TIME{}", version.label().replace('.', ""));
        let cid = format!("{station}-conn=");
        rig.register(&station, password, version).await?;
        rig.connect(&cid, &station, password, version).await?;
        rig.call(&cid, version, Action::BootNotification, "boot", Utc::now(), false)
            .await?;
        opened.push(Opened {
            connection_id: cid,
            version,
        });
    }
    rig.calls.take();
    Ok(opened)
}

/// Section 1, charging: SDK calls per 1.6 charging message, 2.0.1 TransactionEvent and session
/// event, counted. Uses the connections section 1 opened and booted.
pub async fn section_charging_calls(rig: &Rig, opened: &[Opened], reps: usize) -> Result<(), BoxError> {
    let find = |version| {
        opened
            .iter()
            .find(|o| o.version == version)
            .map(|o| o.connection_id.clone())
            .ok_or("no connection opened for a version")
    };
    let (cid16, cid201) = (find(Version::V16)?, find(Version::V201)?);
    let mut t = Ticker::new();
    let calls = &rig.calls;
    let queued = "1 + 1/b";
    let mut authorize = OpsRow::new("1.6 Authorize (known tag)", "1");
    let mut start_first = OpsRow::new("1.6 StartTransaction (new)", queued);
    let mut start_retry = OpsRow::new("1.6 StartTransaction, retried (same content)", queued);
    let mut meter = OpsRow::new("1.6 MeterValues in a transaction (7 values)", queued);
    let mut stop_first = OpsRow::new("1.6 StopTransaction (first)", queued);
    let mut stop_retry = OpsRow::new("1.6 StopTransaction, retried (same content)", queued);
    for _ in 0..reps {
        let id = t.id();
        calls.take();
        let (_, payload) = rig
            .call_frame(&cid16, "1.6 Authorize", frames::authorize16(&id), &id)
            .await?;
        authorize.samples.push(calls.take());
        if payload["idTagInfo"]["status"] != "Accepted" {
            return Err(format!("Authorize answered {payload}").into());
        }
        let start = Start16 {
            connector: 1,
            at: t.at(),
            meter_start_wh: 1000,
        };
        let (_, tx) = rig.start16(&cid16, &start, &mut t).await?;
        start_first.samples.push(calls.take());
        let (_, again) = rig.start16(&cid16, &start, &mut t).await?;
        start_retry.samples.push(calls.take());
        if again != tx {
            return Err(format!("a retried StartTransaction got transaction {again}, the first {tx}").into());
        }
        rig.meter16(&cid16, tx, 1500, &mut t).await?;
        meter.samples.push(calls.take());
        let stop_at = t.at();
        rig.stop16(&cid16, tx, &start, stop_at, 2000, &mut t).await?;
        stop_first.samples.push(calls.take());
        rig.stop16(&cid16, tx, &start, stop_at, 2000, &mut t).await?;
        stop_retry.samples.push(calls.take());
    }
    let mut rows = vec![authorize, start_first, start_retry, meter, stop_first, stop_retry];

    let mut events = [
        (
            TxEvent::Started,
            OpsRow::new("2.0.1 TransactionEvent Started (idToken)", queued),
        ),
        (
            TxEvent::Updated,
            OpsRow::new("2.0.1 TransactionEvent Updated (6 values)", queued),
        ),
        (
            TxEvent::Ended,
            OpsRow::new("2.0.1 TransactionEvent Ended (idToken)", queued),
        ),
    ];
    for r in 0..reps {
        let transaction = format!("bench-tx-{r}-{}", t.id());
        for (seq_no, (event, row)) in (0u32..).zip(events.iter_mut()) {
            let id = t.id();
            let frame = frames::transaction_event201(
                &id,
                *event,
                &transaction,
                seq_no,
                t.at(),
                1500 + 1000 * i64::from(seq_no),
            );
            calls.take();
            let label = format!("2.0.1 TransactionEvent {}", event.name());
            rig.call_frame(&cid201, &label, frame, &id).await?;
            row.samples.push(calls.take());
        }
    }
    rows.extend(events.into_iter().map(|(_, row)| row));

    // The sessions consumer, on each message a 1.6 transaction's $default calls queue.
    rig.drain(Queue::Sessions).await?;
    let mut first = OpsRow::new("sessions consumer: first event (start, no record)", "1/b");
    let mut again = OpsRow::new("sessions consumer: redelivery of the same message", "1/b");
    let mut update = OpsRow::new("sessions consumer: MeterValues (record exists)", "1/b");
    let mut completing = OpsRow::new("sessions consumer: the completing stop", "1/b");
    let mut again_stop = OpsRow::new("sessions consumer: redelivery of the completing stop", "1/b");
    for _ in 0..reps {
        let start = Start16 {
            connector: 1,
            at: t.at(),
            meter_start_wh: 1000,
        };
        let (_, tx) = rig.start16(&cid16, &start, &mut t).await?;
        let messages = rig.receive_one(Queue::Sessions, "StartTransaction").await?;
        calls.take();
        rig.consume_sessions(&messages).await?;
        first.samples.push(calls.take());
        rig.consume_sessions(&messages).await?;
        again.samples.push(calls.take());
        rig.delete(Queue::Sessions, &messages).await?;

        rig.meter16(&cid16, tx, 1500, &mut t).await?;
        let messages = rig.receive_one(Queue::Sessions, "MeterValues").await?;
        calls.take();
        rig.consume_sessions(&messages).await?;
        update.samples.push(calls.take());
        rig.delete(Queue::Sessions, &messages).await?;

        let at = t.at();
        rig.stop16(&cid16, tx, &start, at, 2000, &mut t).await?;
        let messages = rig.receive_one(Queue::Sessions, "StopTransaction").await?;
        calls.take();
        rig.consume_sessions(&messages).await?;
        completing.samples.push(calls.take());
        rig.consume_sessions(&messages).await?;
        again_stop.samples.push(calls.take());
        rig.delete(Queue::Sessions, &messages).await?;
        let key = TransactionKey::Ocpp16(TransactionId::new(tx).ok_or("transaction id out of range")?);
        let station = rig
            .services
            .connections
            .get(&cid16)
            .await?
            .ok_or("connection gone")?
            .station_id;
        let session = rig.services.charging.sessions.get(&station, &key).await?;
        if !session
            .as_ref()
            .is_some_and(|s| s.is_completed() && s.energy_wh() == Some(rust_decimal::Decimal::from(1000)))
        {
            return Err(format!("session {key} was not completed with 1000 Wh: {session:?}").into());
        }
    }
    calls.take();
    rows.extend([first, again, update, completing, again_stop]);

    print_table(&rows);
    println!(
        "method: as above; 1.6 on the 1.6 connection of section 1 (tag {} registered Accepted, so each authorization reads it), each \
         repetition a new transaction with times 1 ms apart; a retry repeats the frame's content under a new message id. 2.0.1: a new \
         transactionId per repetition, seqNo 0, 1, 2 (token {} ISO14443 registered). Sessions consumer: sessions::handle on the one \
         message the $default call just queued on the bench's session-events FIFO queue, the same batch again for a redelivery; each \
         session checked completed with 1000 Wh afterwards.",
        frames::ID_TAG_16,
        frames::ID_TOKEN_201
    );
    println!(
        "  Lambda inv.: a frame that queues a session event adds the sessions consumer (BatchSize 10), 1/b per message as above. \
         A retried start or stop is sent again with the same content-based deduplication id, so SQS FIFO drops it within its \
         5-minute window (the SendMessage still counts); the consumer sees it only as a redelivery."
    );
    Ok(())
}

/// Section 2: warm handler time, sequential.
pub async fn section_time(
    rig: &Rig,
    opened: &[Opened],
    warmup: usize,
    n: usize,
    watched: &[Watched],
) -> Result<(), BoxError> {
    let meter = Meter::start(watched);
    let mut clock = Clock {
        base: Utc::now() + TimeDelta::minutes(1),
        seq: 0,
    };
    println!(
        "{:<32} {:>5} {:>8} {:>8} {:>8} {:>8} {:>8} {:>11}",
        "handler call (ms)", "n", "p50", "p90", "p99", "mean", "max", "DDB ops/msg"
    );
    let row = |label: &str, s: &Summary, ops: f64| {
        println!(
            "{:<32} {:>5} {:>8} {:>8} {:>8} {:>8} {:>8} {:>11}",
            label,
            s.n,
            ms(s.p50),
            ms(s.p90),
            ms(s.p99),
            ms(s.mean),
            ms(s.max),
            num((ops * 100.0).round() / 100.0)
        );
    };
    rig.drain(Queue::Status).await?;
    rig.drain(Queue::Sessions).await?;
    for o in opened {
        for action in [Action::BootNotification, Action::Heartbeat, Action::StatusNotification] {
            let mut took = Vec::with_capacity(n);
            for i in 0..warmup + n {
                if i == warmup {
                    rig.calls.take();
                }
                let (id, at, flip) = clock.next();
                let t = rig.call(&o.connection_id, o.version, action, &id, at, flip).await?;
                if i >= warmup {
                    took.push(t);
                }
            }
            let ops: u64 = rig
                .calls
                .take()
                .iter()
                .filter(|((svc, _), _)| svc == DDB)
                .map(|(_, t)| t.operations)
                .sum();
            if let Some(s) = Summary::of(&took) {
                row(
                    &format!("{} {}", o.version.label(), action.name()),
                    &s,
                    ops as f64 / n as f64,
                );
            }
        }
    }
    // 1.6 charging: warmup + n transactions, started, metered once and stopped, one action at a
    // time so that each row times one action.
    let mut default_calls = opened.len() * 3 * (warmup + n);
    if let Some(o) = opened.iter().find(|o| o.version == Version::V16) {
        let cid = &o.connection_id;
        let mut t = Ticker::new();
        let total = warmup + n;
        let ops = |calls: &Calls| -> f64 {
            let ops: u64 = calls
                .take()
                .iter()
                .filter(|((svc, _), _)| svc == DDB)
                .map(|(_, t)| t.operations)
                .sum();
            ops as f64 / n as f64
        };
        let mut started = Vec::with_capacity(total);
        let mut took = Vec::with_capacity(n);
        for i in 0..total {
            if i == warmup {
                rig.calls.take();
            }
            let start = Start16 {
                connector: 1,
                at: t.at(),
                meter_start_wh: 1000,
            };
            let (d, tx) = rig.start16(cid, &start, &mut t).await?;
            if i >= warmup {
                took.push(d);
            }
            started.push((start, tx));
        }
        if let Some(s) = Summary::of(&took) {
            row("1.6 StartTransaction (new)", &s, ops(&rig.calls));
        }
        let mut took = Vec::with_capacity(n);
        for (i, (_, tx)) in started.iter().enumerate() {
            if i == warmup {
                rig.calls.take();
            }
            let d = rig.meter16(cid, *tx, 1500, &mut t).await?;
            if i >= warmup {
                took.push(d);
            }
        }
        if let Some(s) = Summary::of(&took) {
            row("1.6 MeterValues (7 values)", &s, ops(&rig.calls));
        }
        let mut took = Vec::with_capacity(n);
        for (i, (start, tx)) in started.iter().enumerate() {
            if i == warmup {
                rig.calls.take();
            }
            let at = t.at();
            let d = rig.stop16(cid, *tx, start, at, 2000, &mut t).await?;
            if i >= warmup {
                took.push(d);
            }
        }
        if let Some(s) = Summary::of(&took) {
            row("1.6 StopTransaction (first)", &s, ops(&rig.calls));
        }
        default_calls += 3 * total;
    }

    // The consumers on what the calls above queued, in batches of up to 10.
    let mut batches_all = 0;
    for (queue, name) in [(Queue::Status, "status"), (Queue::Sessions, "sessions")] {
        let mut took = Vec::new();
        let (mut messages, mut batches) = (0usize, 0usize);
        rig.calls.take();
        loop {
            let batch = rig.receive(queue, 10, 1).await?;
            if batch.is_empty() {
                break;
            }
            // The first batches warm the consumer's path (the GetItem with ConsistentRead).
            let t = match queue {
                Queue::Status => rig.consume(&batch).await?,
                Queue::Sessions => rig.consume_sessions(&batch).await?,
            };
            if batches >= 2 {
                took.push(t);
            }
            messages += batch.len();
            batches += 1;
            rig.delete(queue, &batch).await?;
        }
        let ops: u64 = rig
            .calls
            .take()
            .iter()
            .filter(|((svc, _), _)| svc == DDB)
            .map(|(_, t)| t.operations)
            .sum();
        if let Some(s) = Summary::of(&took) {
            let per = messages as f64 / batches as f64;
            row(
                &format!("{name} consumer, batch of ~{}", num((per * 10.0).round() / 10.0)),
                &s,
                ops as f64 / messages as f64,
            );
            println!("{:<32}       mean {} ms per message", "", ms(s.mean.div_f64(per)));
        }
        batches_all += batches;
    }
    println!(
        "{}, for {default_calls} $default calls and {batches_all} consumer batches",
        meter.report(),
    );
    println!(
        "method: after {warmup} warm-up calls, {n} sequential calls per action of message::handle (one connection per version, its own \
         station) timed around the handler only (event built before, reply checked after). 1.6 charging: {w} transactions started \
         (each a new connector time, so never the retry path), then one MeterValues each (the sample's 7 values), then each stopped \
         once. The consumers: status::handle / sessions::handle on batches received from the bench's queues (what the calls above \
         queued: the session events come as all starts, then all MeterValues, then all stops, one FIFO group), first 2 batches \
         untimed. Release build, in this process.",
        w = warmup + n
    );
    println!(
        "  NOT DynamoDB's latency: DynamoDB Local (Java, on this loopback) and LocalStack SQS stand in for the services, and share the 2 \
         cores with this process; the figure is our code + the SDK + the local emulators. In AWS each call is instead a network round \
         trip inside the region (DynamoDB states single-digit ms), and Lambda adds its own invocation overhead."
    );
    Ok(())
}
