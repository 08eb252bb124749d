//! Section 4: charging sessions through the stand-in (csms-local). Many 1.6 piles at once each
//! boot, start a transaction, send MeterValues (energy + power) and stop it, one CALL in flight
//! per pile; then how long after the last stop the stand-in's sessions consumer (polling the
//! stack's session-events queue) has completed every session, read back from the stack's
//! sessions table.

use chrono::{DateTime, Duration as TimeDelta, SubsecRound, Utc};
use csms_domain::{Services, Session, StationId, TransactionId, TransactionKey, session};
use futures_util::{SinkExt, StreamExt};
use rust_decimal::Decimal;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::Barrier;
use tokio::task::JoinSet;
use tokio::time::timeout;
use tokio_tungstenite::tungstenite::Message;

use crate::BoxError;
use crate::cpu::{Meter, Watched};
use crate::frames::{self, Action, Reply, Start16, Version};
use crate::piles::{self, CALL_TIMEOUT};
use crate::stats::{Summary, ms};

/// How long to wait for the sessions consumer after the last stop.
const COMPLETION_TIMEOUT: Duration = Duration::from_secs(120);
/// How long to wait for another section's backlog before starting.
const SETTLE_TIMEOUT: Duration = Duration::from_secs(90);
/// Energy register step between two MeterValues, Wh.
const STEP_WH: i64 = 250;
const METER_START_WH: i64 = 10_000;

pub struct Plan<'a> {
    /// The bench's services: the stack's tables (the environment scripts/bench.sh exports).
    pub services: &'a Services,
    pub url: &'a str,
    pub prefix: &'a str,
    pub piles: usize,
    pub messages: usize,
    /// The stack's session-events queue (polled by csms-local), to read its backlog.
    pub session_queue: Option<String>,
    /// The stack's status queue: section 3 leaves a backlog there that csms-local works off
    /// while this section would run; waited for first.
    pub status_queue: Option<String>,
    pub sqs: aws_sdk_sqs::Client,
    pub watched: Vec<Watched>,
}

/// What a pile's session must look like once projected.
struct Expected {
    station: StationId,
    transaction: TransactionKey,
    energy_wh: Decimal,
    readings: usize,
}

#[derive(Default)]
struct Outcome {
    connect: Option<Duration>,
    round_trips: Vec<(Action, Duration)>,
    call_errors: Vec<String>,
    errors: Vec<String>,
    expected: Option<Expected>,
    stopped: Option<Instant>,
}

fn pile_id(prefix: &str, i: usize) -> String {
    format!("{prefix}-S{i:04}")
}

fn pile_password(i: usize) -> String {
    format!("bench-sess-pass-{i:06}")
}

/// Runs the section; Ok(false) when any CALL failed, any pile could not connect, or any session
/// was not completed as sent.
pub async fn section_meter_values(plan: Plan<'_>) -> Result<bool, BoxError> {
    let Plan {
        services,
        url,
        prefix,
        piles,
        messages,
        session_queue,
        status_queue,
        sqs,
        watched,
    } = plan;

    if let Some(queue) = &status_queue {
        let start = Instant::now();
        let initial = piles::backlog(&sqs, queue).await.unwrap_or(0);
        let mut left = initial;
        while left > 0 && start.elapsed() < SETTLE_TIMEOUT {
            tokio::time::sleep(Duration::from_millis(250)).await;
            left = piles::backlog(&sqs, queue).await.unwrap_or(left);
        }
        if initial > 0 {
            println!(
                "before: {initial} StatusReported events (section 3's backlog) on the stack's status queue; waited {:.1} s for \
                 csms-local to work them off, {left} left.",
                start.elapsed().as_secs_f64()
            );
        }
    }

    let start = Instant::now();
    piles::register_all(
        services,
        (0..piles).map(|i| (pile_id(prefix, i), pile_password(i))).collect(),
    )
    .await?;
    println!(
        "setup: {piles} piles registered in {:.1} s (Argon2id each); tag {} registered Accepted.",
        start.elapsed().as_secs_f64(),
        frames::ID_TAG_16
    );

    let barrier = Arc::new(Barrier::new(piles + 1));
    let connect_start = Instant::now();
    let mut running = JoinSet::new();
    for i in 0..piles {
        let barrier = barrier.clone();
        let id = pile_id(prefix, i);
        let url = format!("{url}{id}");
        running.spawn(pile(url, id, pile_password(i), messages, barrier));
    }
    barrier.wait().await;
    let connect_wall = connect_start.elapsed();
    let run_start = Instant::now();
    let meter = Meter::start(&watched);
    let mut outcomes = Vec::with_capacity(piles);
    while let Some(joined) = running.join_next().await {
        outcomes.push(joined?);
    }
    let wall = run_start.elapsed();
    let run_cpu = meter.report();
    let last_stop = outcomes.iter().filter_map(|o| o.stopped).max();

    // The sessions consumer: what was still queued at the last stop, then every session read
    // back until completed.
    let queued = match &session_queue {
        Some(queue) => piles::backlog(&sqs, queue).await,
        None => None,
    };
    let meter = Meter::start(&watched);
    let expected: Vec<&Expected> = outcomes.iter().filter_map(|o| o.expected.as_ref()).collect();
    let completion = wait_for_sessions(services, &expected, last_stop).await?;
    let wait_cpu = meter.report();

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
    let metered = by_action.get(&Action::MeterValues).map_or(0, Vec::len);

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
    let seconds = wall.as_secs_f64();
    println!(
        "connected {}/{piles} piles in {:.2} s; then {answered} CALLs answered in {seconds:.2} s = {:.0} messages/s, of which \
         {metered} MeterValues = {:.0} MeterValues/s; CALLERROR: {}, other errors: {}",
        connects.len(),
        connect_wall.as_secs_f64(),
        answered as f64 / seconds,
        metered as f64 / seconds,
        call_errors.len(),
        errors.len()
    );
    for e in call_errors.iter().chain(errors.iter()).take(5) {
        println!("  e.g. {e}");
    }
    let events = expected.len() * (messages + 2);
    let queued = queued.map_or("?".to_owned(), |q| q.to_string());
    match completion.all_done {
        Some(after) => println!(
            "sessions consumer (csms-local polling the stack's session-events queue, one batch of <= 10 at a time): {queued} of the \
             {events} session events still queued at the last StopTransaction answer; all {} sessions completed {:.2} s after it \
             ({:.0} session events/s over the whole run, first start to last completion)",
            expected.len(),
            after.as_secs_f64(),
            events as f64 / (seconds + after.as_secs_f64())
        ),
        None => println!(
            "sessions consumer: {queued} session events still queued at the last StopTransaction answer; only {}/{} sessions \
             completed within {} s",
            expected.len() - completion.pending,
            expected.len(),
            COMPLETION_TIMEOUT.as_secs()
        ),
    }
    println!(
        "  sessions read back complete with the energy and the readings sent (meterStop - meterStart = {} Wh, 2 x {messages} \
         + 2 readings): {}/{}",
        (messages as i64 + 1) * STEP_WH,
        completion.as_sent,
        expected.len()
    );
    for e in completion.mismatches.iter().take(5) {
        println!("  e.g. {e}");
    }
    if let Some(bytes) = completion.record_bytes {
        println!(
            "  a completed session's stored record (SessionV1 JSON): {bytes} bytes, the same for any length of session (the meter \
             series is stored apart, one item per instant); each session event reads it with a consistent GetItem and rewrites \
             it with PutItem: ~{} WCU for the write ({:.1} KB), ~{} RCU for the read.",
            bytes.div_ceil(1024),
            bytes as f64 / 1024.0,
            bytes.div_ceil(4096)
        );
    }
    println!("  message phase {run_cpu}");
    println!("  completion wait {wait_cpu}");
    println!(
        "method: {piles} tokio-tungstenite clients (ocpp1.6, Basic auth) connect at once; after a barrier each sends BootNotification, \
         StartTransaction (tag {}, meterStart {METER_START_WH} Wh), {messages} x MeterValues (Energy.Active.Import.Register + \
         Power.Active.Import, station times 1 min apart) and StopTransaction (with Transaction.Begin/End readings), one CALL in \
         flight per pile; round trip = frame sent -> matching CALLRESULT. MeterValues/s = all MeterValues answered / wall time \
         of that phase. Completion: every pile's session read through the bench's SessionRepository (the stack's SESSIONS_TABLE) \
         until completed, in pile order, each sweep (every 100 ms) stopping at the first still incomplete; the time is from the \
         last StopTransaction answer to the read that found the last one completed.",
        frames::ID_TAG_16
    );
    Ok(call_errors.is_empty()
        && errors.is_empty()
        && connects.len() == piles
        && expected.len() == piles
        && completion.all_done.is_some()
        && completion.as_sent == piles)
}

struct Completion {
    /// Time from the last stop until every session was complete; None on timeout.
    all_done: Option<Duration>,
    pending: usize,
    /// Completed with the expected energy and readings.
    as_sent: usize,
    mismatches: Vec<String>,
    record_bytes: Option<usize>,
}

async fn wait_for_sessions(
    services: &Services,
    expected: &[&Expected],
    last_stop: Option<Instant>,
) -> Result<Completion, BoxError> {
    let since = last_stop.unwrap_or_else(Instant::now);
    let pending: Vec<&Expected> = expected.to_vec();
    let mut done = Completion {
        all_done: None,
        pending: pending.len(),
        as_sent: 0,
        mismatches: Vec::new(),
        record_bytes: None,
    };
    let sessions = &services.charging.sessions;
    // In order, stopping at the first incomplete session: about one consistent read per sweep
    // while the consumer works, so that the reading does not slow down what it measures.
    let mut next = 0;
    loop {
        while let Some(e) = pending.get(next) {
            match sessions.get(&e.station, &e.transaction).await? {
                Some(session) if session.is_completed() => {
                    check(services, e, &session, &mut done).await?;
                    next += 1;
                }
                _ => break,
            }
        }
        done.pending = pending.len() - next;
        if done.pending == 0 {
            done.all_done = Some(since.elapsed());
            return Ok(done);
        }
        if since.elapsed() > COMPLETION_TIMEOUT {
            for e in &pending[next..] {
                done.mismatches
                    .push(format!("{} {}: not completed", e.station, e.transaction));
            }
            return Ok(done);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn check(services: &Services, e: &Expected, session: &Session, done: &mut Completion) -> Result<(), BoxError> {
    let energy = session.energy_wh();
    let readings = session::whole_series(&*services.charging.series, &e.station, &e.transaction)
        .await?
        .len();
    if energy == Some(e.energy_wh) && readings == e.readings {
        done.as_sent += 1;
    } else {
        done.mismatches.push(format!(
            "{} {}: {energy:?} Wh and {readings} readings, expected {} Wh and {}",
            e.station, e.transaction, e.energy_wh, e.readings
        ));
    }
    if done.record_bytes.is_none() {
        let record = csms_aws::wire::SessionV1::from(session);
        done.record_bytes = serde_json::to_string(&record).ok().map(|json| json.len());
    }
    Ok(())
}

/// Sends one CALL and waits for its answer. Ok(Some(payload)) for a CALLRESULT, Ok(None) for a
/// CALLERROR (recorded); Err ends the pile's run.
async fn exchange(
    socket: &mut piles::Socket,
    outcome: &mut Outcome,
    id: &str,
    action: Action,
    message_id: &str,
    frame: String,
) -> Result<Option<serde_json::Value>, ()> {
    let start = Instant::now();
    if let Err(e) = socket.send(Message::text(frame)).await {
        outcome.errors.push(format!("{id}: send {}: {e}", action.name()));
        return Err(());
    }
    let reply = match timeout(CALL_TIMEOUT, piles::next_text(socket)).await {
        Ok(reply) => reply,
        Err(_) => {
            let after = CALL_TIMEOUT.as_secs();
            outcome
                .errors
                .push(format!("{id}: {} unanswered after {after} s", action.name()));
            return Err(());
        }
    };
    let took = start.elapsed();
    match frames::classify(reply.as_deref(), message_id) {
        Reply::Result(payload) => {
            outcome.round_trips.push((action, took));
            Ok(Some(payload))
        }
        Reply::CallError(frame) => {
            outcome.call_errors.push(format!("{id}: {}: {frame}", action.name()));
            Ok(None)
        }
        Reply::Bad(why) => {
            outcome.errors.push(format!("{id}: {}: {why}", action.name()));
            Err(())
        }
    }
}

async fn pile(url: String, id: String, password: String, messages: usize, barrier: Arc<Barrier>) -> Outcome {
    let mut outcome = Outcome::default();
    let start = Instant::now();
    let socket = match piles::handshake(&url, &id, &password).await {
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
    let _ = run_session(&mut socket, &mut outcome, &id, messages).await;
    let _ = socket.close(None).await;
    let _ = timeout(Duration::from_secs(5), async { while socket.next().await.is_some() {} }).await;
    outcome
}

/// Boot, start, M MeterValues, stop; Err(()) once the pile cannot go on (recorded in `outcome`).
async fn run_session(socket: &mut piles::Socket, outcome: &mut Outcome, id: &str, messages: usize) -> Result<(), ()> {
    let mut seq = 0usize;
    let mut next_id = || {
        seq += 1;
        seq.to_string()
    };
    let minute = |k: usize| TimeDelta::minutes(k as i64);
    // Station times in the past, one minute apart, ending now.
    let t0: DateTime<Utc> = Utc::now().trunc_subsecs(3) - minute(messages + 1);

    let m = next_id();
    let boot = frames::call(Version::V16, Action::BootNotification, &m, Utc::now(), false);
    let payload = exchange(socket, outcome, id, Action::BootNotification, &m, boot).await?;
    if let Some(p) = payload
        && p["status"] != "Accepted"
    {
        outcome.errors.push(format!("{id}: BootNotification answered {p}"));
        return Err(());
    }

    let start = Start16 {
        connector: 1,
        at: t0,
        meter_start_wh: METER_START_WH,
    };
    let m = next_id();
    let frame = frames::start16(&m, &start);
    let Some(payload) = exchange(socket, outcome, id, Action::StartTransaction, &m, frame).await? else {
        return Err(());
    };
    let Some(tx) = payload["transactionId"].as_i64() else {
        outcome
            .errors
            .push(format!("{id}: StartTransaction answered {payload}"));
        return Err(());
    };

    for k in 1..=messages {
        let m = next_id();
        let energy = METER_START_WH + k as i64 * STEP_WH;
        let frame = frames::meter16(&m, 1, tx, t0 + minute(k), energy, 11_000 + k as i64, false);
        exchange(socket, outcome, id, Action::MeterValues, &m, frame).await?;
    }

    let m = next_id();
    let stop_wh = METER_START_WH + (messages as i64 + 1) * STEP_WH;
    let frame = frames::stop16(&m, tx, &start, t0 + minute(messages + 1), stop_wh);
    if exchange(socket, outcome, id, Action::StopTransaction, &m, frame)
        .await?
        .is_some()
    {
        outcome.stopped = Some(Instant::now());
    }
    let (Ok(station), Some(tx)) = (StationId::parse(id), TransactionId::new(tx)) else {
        outcome
            .errors
            .push(format!("{id}: transaction {tx} cannot be read back"));
        return Err(());
    };
    outcome.expected = Some(Expected {
        station,
        transaction: TransactionKey::Ocpp16(tx),
        energy_wh: Decimal::from(stop_wh - METER_START_WH),
        readings: 2 * messages + 2,
    });
    Ok(())
}
