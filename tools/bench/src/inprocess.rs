//! Sections 1 and 2: the handlers called in this process, the way Lambda calls them, against
//! DynamoDB Local and LocalStack SQS, through SDK clients whose calls are counted.

use aws_lambda_events::encodings::Body;
use aws_sdk_sqs::types::{DeleteMessageBatchRequestEntry, MessageSystemAttributeName, QueueAttributeName};
use chrono::{DateTime, Duration as TimeDelta, Utc};
use csms_domain::registry::{self, NewStation};
use csms_domain::{Connection, Password, ProtocolVersion, Registration, Services, StationId};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::BoxError;
use crate::count::{Calls, CountCalls, Counts};
use crate::cpu::{Meter, Watched};
use crate::frames::{self, Action, Reply, Version};
use crate::stats::{Summary, ms};

/// Everything the in-process sections share.
pub struct Rig {
    pub services: Services,
    pub calls: Arc<Calls>,
    pub config: csms_aws::Config,
    /// Uncounted: for the benchmark's own queue handling (what Lambda's event source does).
    admin: aws_sdk_sqs::Client,
    queue_url: String,
    queue_arn: String,
}

impl Rig {
    /// Counted clients, and a status queue of the benchmark's own: the stand-in polls the stack's
    /// queue into the status consumer, which would race the consumer measured here.
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
        let queue_url = admin
            .create_queue()
            .queue_name(format!("{prefix}-bench-status.fifo"))
            .attributes(QueueAttributeName::FifoQueue, "true")
            .send()
            .await?
            .queue_url
            .ok_or("CreateQueue returned no URL")?;
        let queue_arn = admin
            .get_queue_attributes()
            .queue_url(&queue_url)
            .attribute_names(QueueAttributeName::QueueArn)
            .send()
            .await?
            .attributes
            .and_then(|mut a| a.remove(&QueueAttributeName::QueueArn))
            .ok_or("GetQueueAttributes returned no ARN")?;
        let mut config = csms_aws::Config::from_env()?;
        let stack_queue = config.status_queue_url.replace(queue_url.clone());
        if stack_queue.is_none() {
            return Err("STATUS_QUEUE_URL is not set: run through scripts/bench.sh (after stack_up)".into());
        }
        let services = csms_aws::services_with(sdk, dynamodb, sqs, &config);
        calls.take();
        Ok(Self {
            services,
            calls,
            config,
            admin,
            queue_url,
            queue_arn,
        })
    }

    pub async fn remove_queue(&self) {
        let _ = self.admin.delete_queue().queue_url(&self.queue_url).send().await;
    }

    async fn register(&self, station: &str, password: &str, version: Version) -> Result<(), BoxError> {
        let protocol = match version {
            Version::V16 => ProtocolVersion::Ocpp16,
            Version::V201 => ProtocolVersion::Ocpp201,
        };
        let new = NewStation {
            id: StationId::parse(station)?,
            protocols: vec![protocol],
            registration: Registration::Accepted,
            site: None,
            location: None,
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
        let event = frames::default_event(connection_id, frames::call(version, action, id, at, flip));
        let start = Instant::now();
        let response = message::handle(&self.services, event).await?;
        let took = start.elapsed();
        let body = match &response.body {
            Some(Body::Text(text)) => Some(text.as_str()),
            _ => None,
        };
        match frames::classify(body, id) {
            Reply::Result(_) => Ok(took),
            Reply::CallError(frame) => Err(format!("{} {}: CALLERROR {frame}", version.label(), action.name()).into()),
            Reply::Bad(why) => Err(format!("{} {}: {why}", version.label(), action.name()).into()),
        }
    }

    /// Sets the stored `lastSeenAt` back, so the next request finds it stale.
    async fn age_last_seen(&self, connection_id: &str) -> Result<(), BoxError> {
        let past = Utc::now() - Connection::LAST_SEEN_PRECISION - TimeDelta::minutes(1);
        self.services.connections.touch(connection_id, past).await?;
        Ok(())
    }

    async fn receive(&self, max: i32, wait_seconds: i32) -> Result<Vec<aws_sdk_sqs::types::Message>, BoxError> {
        let out = self
            .admin
            .receive_message()
            .queue_url(&self.queue_url)
            .max_number_of_messages(max)
            .wait_time_seconds(wait_seconds)
            .message_system_attribute_names(MessageSystemAttributeName::All)
            .send()
            .await?;
        Ok(out.messages.unwrap_or_default())
    }

    async fn delete(&self, messages: &[aws_sdk_sqs::types::Message]) -> Result<(), BoxError> {
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
            .queue_url(&self.queue_url)
            .set_entries(Some(entries))
            .send()
            .await?;
        Ok(())
    }

    async fn drain(&self) -> Result<(), BoxError> {
        loop {
            let batch = self.receive(10, 0).await?;
            if batch.is_empty() {
                return Ok(());
            }
            self.delete(&batch).await?;
        }
    }

    /// The status function on a batch, as the event source mapping invokes it.
    async fn consume(&self, messages: &[aws_sdk_sqs::types::Message]) -> Result<Duration, BoxError> {
        let event = frames::sqs_event(messages, &self.queue_arn);
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
    fn new(label: impl Into<String>, lambda: &'static str) -> Self {
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
    rig.drain().await?;
    let cid = &opened[0].connection_id;
    let mut first = OpsRow::new("status consumer: first report for a connector", "1/b");
    let mut change = OpsRow::new("status consumer: newer report (status changed)", "1/b");
    let mut redelivery = OpsRow::new("status consumer: redelivery of the same message", "1/b");
    let mut last = Vec::new();
    for i in 0..=reps {
        let (id, at, flip) = clock.next();
        rig.call(cid, Version::V16, Action::StatusNotification, &id, at, flip)
            .await?;
        let messages = rig.receive(1, 5).await?;
        if messages.len() != 1 {
            return Err("the StatusNotification's message did not arrive on the queue".into());
        }
        rig.calls.take();
        rig.consume(&messages).await?;
        let row = if i == 0 { &mut first } else { &mut change };
        row.samples.push(rig.calls.take());
        rig.delete(&messages).await?;
        last = messages;
    }
    rig.consume(&last).await?;
    redelivery.samples.push(rig.calls.take());
    rows.extend([first, change, redelivery]);

    print_calls(&rows);
    print_heartbeat_hour(rig, &rows);
    Ok(opened)
}

fn print_calls(rows: &[OpsRow]) {
    let mut keys: Vec<(String, String)> = rows
        .iter()
        .flat_map(|r| r.samples.iter().flat_map(|s| s.keys().cloned()))
        .collect();
    keys.sort_by_key(|(service, op)| (service != DDB, service.clone(), op.clone()));
    keys.dedup();
    let width = 50;
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
    let reps = rows.iter().map(|r| r.samples.len()).max().unwrap_or(0);
    println!(
        "method: SDK interceptor (read_before_serialization, operation name from the config bag's Metadata) on the DynamoDB and SQS \
         clients given to csms_aws::services_with; each row is the mean of up to {reps} calls of message::handle / connect::handle / \
         status::handle on real-shaped events from events/, against DynamoDB Local and a LocalStack FIFO queue of the bench's own."
    );
    if varied_any {
        println!("  * the repetitions of this row did not all make the same calls.");
    }
    match retried.is_empty() {
        true => println!("  HTTP attempts = operations for every call (no SDK retries)."),
        false => println!("  SDK retries seen: {}", retried.join("; ")),
    }
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
    rig.drain().await?;
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
    // The status consumer on what the StatusNotifications above queued, in batches of up to 10.
    let mut took = Vec::new();
    let (mut messages, mut batches) = (0usize, 0usize);
    rig.calls.take();
    loop {
        let batch = rig.receive(10, 1).await?;
        if batch.is_empty() {
            break;
        }
        // The first batches warm the consumer's path (the availability GetItem with ConsistentRead).
        let t = rig.consume(&batch).await?;
        if batches >= 2 {
            took.push(t);
        }
        messages += batch.len();
        batches += 1;
        rig.delete(&batch).await?;
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
            &format!("status consumer, batch of ~{}", num((per * 10.0).round() / 10.0)),
            &s,
            ops as f64 / messages as f64,
        );
        println!("{:<32}       mean {} ms per message", "", ms(s.mean.div_f64(per)));
    }
    println!(
        "{}, for {} $default calls and {batches} consumer batches",
        meter.report(),
        opened.len() * 3 * (warmup + n)
    );
    println!(
        "method: after {warmup} warm-up calls, {n} sequential calls per action of message::handle (one connection per version, its own \
         station) timed around the handler only (event built before, reply checked after); the consumer: status::handle on batches \
         received from the bench's queue (what the StatusNotifications queued), first 2 batches untimed. Release build, in this process."
    );
    println!(
        "  NOT DynamoDB's latency: DynamoDB Local (Java, on this loopback) and LocalStack SQS stand in for the services, and share the 2 \
         cores with this process; the figure is our code + the SDK + the local emulators. In AWS each call is instead a network round \
         trip inside the region (DynamoDB states single-digit ms), and Lambda adds its own invocation overhead."
    );
    Ok(())
}
