//! Model-based replay of charging sessions under at-least-once delivery.
//!
//! GIVEN a realistic session (start, N meter values with rising energy, stop) in 1.6 or 2.0.1
//! WHEN the station's messages are retried after failed answers, duplicated, reordered and
//! replayed after reconnects (any prefix again), and the session events they publish are in
//! turn redelivered, reordered and replayed by the queue, with failing publishes on both sides
//! THEN there is one transaction id per start, the energy is counted once (meterStop -
//! meterStart), the session completes exactly once, the stop is never lost, and the meter
//! series holds every reading exactly once.

use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};
use proptest::prelude::*;
use std::collections::{BTreeSet, VecDeque};
use std::sync::Mutex;

use csms_domain::memory::{MemoryCharging, MemoryCompletions, MemorySessionEvents, MemoryStations};
use csms_domain::meter::{Measurand, MeterSample, Phase, ReadingContext, SampleKey};
use csms_domain::ports::{PublishError, SessionCompletedBus, SessionEventBus, SessionRepository};
use csms_domain::session::{self, Change, SessionCompleted, SessionEvent, TransactionKey};
use csms_domain::transaction::{self, MeterValues, StartTransaction, StopTransaction, TransactionId};
use csms_domain::transaction_event::{self, TransactionEvent, TransactionEventType};
use csms_domain::*;
use rust_decimal::Decimal;
use rust_decimal_macros::dec;

fn t0() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-03-01T10:00:00Z")
        .unwrap()
        .with_timezone(&Utc)
}

/// A session as the station lived it.
#[derive(Debug, Clone)]
struct Plan {
    ocpp16: bool,
    meter_start: i64,
    /// Energy added before each meter value (and before the stop, the last one).
    increments: Vec<u32>,
    three_phase: bool,
    /// Which 2.0.1 events were queued while offline.
    offline: Vec<bool>,
}

impl Plan {
    fn meter_values(&self) -> usize {
        self.increments.len() - 1
    }

    fn reading(&self, k: usize) -> i64 {
        self.meter_start + self.increments[..k].iter().map(|i| i64::from(*i)).sum::<i64>()
    }

    fn meter_stop(&self) -> i64 {
        self.reading(self.increments.len())
    }

    fn at(&self, k: usize) -> DateTime<Utc> {
        t0() + Duration::seconds(60 * k as i64)
    }

    /// The readings of meter value k (1..=N): energy, power, SoC, and per phase current and voltage.
    fn samples(&self, k: usize) -> Vec<MeterSample> {
        let at = self.at(k);
        let wh = Decimal::from(self.reading(k));
        let mut samples = vec![
            // Half of them in kWh, as stations do.
            if k.is_multiple_of(2) {
                MeterSample::new(
                    at,
                    Measurand::EnergyActiveImportRegister,
                    wh / dec!(1000),
                    Some("kWh"),
                    0,
                )
            } else {
                MeterSample::new(at, Measurand::EnergyActiveImportRegister, wh, Some("Wh"), 0)
            }
            .unwrap(),
            MeterSample::new(
                at,
                Measurand::PowerActiveImport,
                Decimal::from(self.increments[k - 1]) * dec!(60),
                Some("W"),
                0,
            )
            .unwrap(),
            MeterSample::new(at, Measurand::SoC, Decimal::from(20 + k), Some("Percent"), 0).unwrap(),
        ];
        if self.three_phase {
            for phase in [Phase::L1, Phase::L2, Phase::L3] {
                let current = MeterSample::new(at, Measurand::CurrentImport, dec!(16), Some("A"), 0).unwrap();
                samples.push(current.with_phase(Some(phase)));
            }
            let voltage = MeterSample::new(at, Measurand::Voltage, dec!(230), Some("V"), 0).unwrap();
            samples.push(voltage.with_phase(Some(Phase::L1N)));
        }
        samples
    }

    fn register(&self, k: usize, context: ReadingContext) -> MeterSample {
        MeterSample::new(
            self.at(k),
            Measurand::EnergyActiveImportRegister,
            Decimal::from(self.reading(k)),
            None,
            0,
        )
        .unwrap()
        .with_context(context)
    }

    /// Every reading the station sent, once.
    fn expected_series(&self) -> BTreeSet<SampleKey> {
        let mut keys: BTreeSet<SampleKey> = (1..=self.meter_values())
            .flat_map(|k| self.samples(k))
            .map(|s| s.key())
            .collect();
        keys.insert(
            self.register(self.increments.len(), ReadingContext::TransactionEnd)
                .key(),
        );
        if !self.ocpp16 {
            keys.insert(self.register(0, ReadingContext::TransactionBegin).key());
        }
        keys
    }
}

fn station() -> StationId {
    StationId::parse("CP-REPLAY").unwrap()
}

fn tag() -> IdToken {
    IdToken::parse_16("04A1B2C3").unwrap()
}

/// One message the station sends. 1.6 messages after the start need the id it answered.
#[derive(Debug, Clone)]
enum Message {
    Start16(StartTransaction),
    Meter16(Vec<MeterSample>),
    Stop16(Vec<MeterSample>),
    Event201(TransactionEvent),
}

fn messages(plan: &Plan) -> Vec<Message> {
    let n = plan.meter_values();
    if plan.ocpp16 {
        let start = StartTransaction {
            station: station(),
            organisation: None,
            connector: 2,
            id_tag: tag(),
            meter_start_wh: plan.meter_start,
            timestamp: plan.at(0),
            reservation_id: None,
        };
        let mut out = vec![Message::Start16(start)];
        out.extend((1..=n).map(|k| Message::Meter16(plan.samples(k))));
        out.push(Message::Stop16(vec![
            plan.register(n + 1, ReadingContext::TransactionEnd),
        ]));
        return out;
    }
    let transaction_id = StationTransactionId::parse("0b6f5a0e-52c3-4c3e-9d0e-2f7d3c0a9b11").unwrap();
    (0..=n + 1)
        .map(|k| {
            let (event_type, meter_values) = match k {
                0 => (
                    TransactionEventType::Started,
                    vec![plan.register(0, ReadingContext::TransactionBegin)],
                ),
                k if k == n + 1 => (
                    TransactionEventType::Ended,
                    vec![plan.register(k, ReadingContext::TransactionEnd)],
                ),
                k => (TransactionEventType::Updated, plan.samples(k)),
            };
            Message::Event201(TransactionEvent {
                station: station(),
                organisation: None,
                event_type,
                transaction_id: transaction_id.clone(),
                seq_no: k as u32,
                timestamp: plan.at(k),
                trigger_reason: if k == 0 { "Authorized" } else { "MeterValuePeriodic" }.into(),
                offline: plan.offline[k % plan.offline.len()],
                evse: (k == 0).then_some(1),
                connector: (k == 0).then_some(2),
                id_token: (k == 0).then(|| IdToken::parse_201("04a1b2c3", IdTokenType::Iso14443).unwrap()),
                stopped_reason: (event_type == TransactionEventType::Ended).then(|| "EVDisconnected".into()),
                remote_start_id: None,
                meter_values,
            })
        })
        .collect()
}

/// How a delivery order is disturbed: 0 duplicates an element, 1 swaps two, 2 replays a prefix
/// (a reconnect that sends everything unacknowledged again).
type Disturbance = (u8, usize, usize);

/// Every index in 0..n at least once, disturbed.
fn schedule(n: usize, disturbances: &[Disturbance]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..n).collect();
    if n == 0 {
        return order;
    }
    for &(kind, a, b) in disturbances {
        let len = order.len();
        match kind {
            0 => {
                let item = order[a % len];
                order.insert(b % (len + 1), item);
            }
            1 => order.swap(a % len, b % len),
            _ => {
                let prefix: Vec<usize> = (0..=a % n).collect();
                let at = b % (len + 1);
                order.splice(at..at, prefix);
            }
        }
    }
    order
}

/// Fails the publishes it is told to, then delegates.
struct FlakyEvents<'a> {
    inner: &'a MemorySessionEvents,
    failures: Mutex<VecDeque<bool>>,
}

#[async_trait]
impl SessionEventBus for FlakyEvents<'_> {
    async fn session_event(&self, event: &SessionEvent, dedup_key: &str) -> Result<(), PublishError> {
        if self.failures.lock().unwrap().pop_front() == Some(true) {
            return Err(PublishError("queue unavailable".into()));
        }
        self.inner.session_event(event, dedup_key).await
    }
}

/// Fails the announcements it is told to, and counts the ones that went out.
struct FlakyCompletions<'a> {
    inner: &'a MemoryCompletions,
    failures: Mutex<VecDeque<bool>>,
    sent: Mutex<usize>,
}

#[async_trait]
impl SessionCompletedBus for FlakyCompletions<'_> {
    async fn session_completed(&self, completed: &SessionCompleted, dedup_key: &str) -> Result<(), PublishError> {
        if self.failures.lock().unwrap().pop_front() == Some(true) {
            return Err(PublishError("queue unavailable".into()));
        }
        *self.sent.lock().unwrap() += 1;
        self.inner.session_completed(completed, dedup_key).await
    }
}

struct Faults {
    station: Vec<Disturbance>,
    station_failures: Vec<bool>,
    queue: Vec<Disturbance>,
    queue_failures: Vec<bool>,
}

async fn replay(plan: &Plan, faults: &Faults) -> Result<(), TestCaseError> {
    let world = MemoryCharging::default();
    let flaky = FlakyEvents {
        inner: &world.session_events,
        failures: Mutex::new(faults.station_failures.iter().copied().collect()),
    };
    let ports = TransactionPorts {
        session_events: &flaky,
        ..world.ports()
    };
    let msgs = messages(plan);
    let now = t0() + Duration::hours(1);

    // The station: a 1.6 station sends nothing of a transaction before its start is answered.
    let mut order = schedule(msgs.len(), &faults.station);
    if plan.ocpp16 {
        let first = order.iter().position(|i| *i == 0).unwrap();
        let start = order.remove(first);
        order.insert(0, start);
    }
    let mut ids: Vec<TransactionId> = Vec::new();
    let mut queue: VecDeque<usize> = order.into();
    let mut attempts = 0;
    while let Some(i) = queue.pop_front() {
        attempts += 1;
        prop_assert!(attempts < 10_000, "the station never got its answers");
        let id = ids.first().copied();
        let answered = match &msgs[i] {
            Message::Start16(start) => match transaction::start_transaction(&ports, start, now).await {
                Ok(answer) => {
                    prop_assert_eq!(answer.id_tag_info.status, AuthorizationStatus::Invalid);
                    ids.push(answer.transaction_id);
                    true
                }
                Err(_) => false,
            },
            Message::Meter16(samples) => {
                let request = MeterValues {
                    station: station(),
                    connector: 2,
                    transaction_id: id.map(TransactionId::get),
                    samples: samples.clone(),
                };
                transaction::meter_values(&ports, &request, now).await.is_ok()
            }
            Message::Stop16(data) => {
                let request = StopTransaction {
                    station: station(),
                    organisation: None,
                    transaction_id: id.unwrap().get(),
                    id_tag: Some(tag()),
                    meter_stop_wh: plan.meter_stop(),
                    timestamp: plan.at(plan.meter_values() + 1),
                    reason: None,
                    transaction_data: data.clone(),
                };
                transaction::stop_transaction(&ports, &request, now).await.is_ok()
            }
            Message::Event201(event) => transaction_event::transaction_event(&ports, event, now).await.is_ok(),
        };
        if !answered {
            // No answer: the station sends the same message again, first thing.
            queue.push_front(i);
        }
    }

    // One transaction id per start key, however often the start was answered.
    if plan.ocpp16 {
        prop_assert!(ids.iter().all(|id| *id == ids[0]), "ids: {:?}", ids);
        prop_assert_eq!(world.transactions.0.lock().unwrap().len(), 1);
        prop_assert_eq!(world.start_claims.0.lock().unwrap().len(), 1);
    }
    // Identical retries are never anomalies; only reordering may show 2.0.1 gaps for a while.
    for anomaly in world.anomalies.0.lock().unwrap().values() {
        prop_assert!(
            matches!(anomaly.kind, AnomalyKind::SeqNoGap { .. }),
            "unexpected anomaly {:?}",
            anomaly
        );
    }

    // The queue: at least once, in any order, with replays; the projection may fail to announce.
    let published: Vec<SessionEvent> = world
        .session_events
        .0
        .lock()
        .unwrap()
        .iter()
        .map(|(_, e)| e.clone())
        .collect();
    let completions = FlakyCompletions {
        inner: &world.completions,
        failures: Mutex::new(faults.queue_failures.iter().copied().collect()),
        sent: Mutex::new(0),
    };
    let stations = MemoryStations::default();
    let ports = SessionPorts {
        completions: &completions,
        ..world.session_ports(&stations)
    };
    let mut deliveries: VecDeque<usize> = schedule(published.len(), &faults.queue).into();
    let mut completed = 0;
    while let Some(i) = deliveries.pop_front() {
        match session::project(ports, &published[i]).await {
            Ok(Change::Completed(_)) => completed += 1,
            Ok(_) => {}
            // A failed message goes back to the queue and comes again later.
            Err(_) => deliveries.push_back(i),
        }
    }

    let key = match &published[0].transaction {
        key @ TransactionKey::Ocpp16(id) => {
            prop_assert_eq!(Some(*id), ids.first().copied());
            key.clone()
        }
        key => key.clone(),
    };
    let sessions = world.sessions.list(&station()).await.unwrap();
    prop_assert_eq!(sessions.len(), 1);
    let session = world.sessions.get(&station(), &key).await.unwrap().unwrap();

    // Exactly one completion, announced once (the redelivery that announces after a failed
    // announcement finds the session completed already, so it reports no completion itself).
    prop_assert!(completed <= 1);
    prop_assert!(session.is_completed() && session.announced);
    prop_assert_eq!(*completions.sent.lock().unwrap(), 1);
    prop_assert_eq!(world.completions.0.lock().unwrap().len(), 1);
    // No lost stop.
    let stop = session.stop.as_ref().expect("the stop arrived");
    prop_assert_eq!(stop.meter_stop_wh, Some(Decimal::from(plan.meter_stop())));
    // Energy counted once.
    let energy = Decimal::from(plan.meter_stop() - plan.meter_start);
    prop_assert_eq!(session.energy_wh(), Some(energy));
    prop_assert_eq!(world.completions.0.lock().unwrap()[0].1.energy_wh, Some(energy));
    let duration = 60 * (plan.meter_values() as i64 + 1);
    prop_assert_eq!(session.completion.as_ref().unwrap().duration_seconds, duration);
    // Every reading once, none twice (the series is keyed; its size tells).
    let series = session::whole_series(&*world.series, &station(), &key).await.unwrap();
    let keys: BTreeSet<SampleKey> = series.iter().map(MeterSample::key).collect();
    prop_assert_eq!(keys.len(), series.len());
    prop_assert_eq!(keys, plan.expected_series());
    // Who, where, and in 2.0.1 that no seqNo is missing in the end.
    prop_assert_eq!(session.id_token.as_ref().map(|t| t.token.key()), Some(tag().key()));
    prop_assert_eq!(session.connector, Some(2));
    if !plan.ocpp16 {
        prop_assert_eq!(session.evse, Some(1));
        prop_assert!(session.missing_seq_nos(10).is_empty());
        prop_assert_eq!(
            session.offline,
            plan.offline.iter().take(plan.meter_values() + 2).any(|o| *o)
        );
        prop_assert_eq!(stop.reason.as_str(), "EVDisconnected");
    } else {
        prop_assert_eq!(stop.reason.as_str(), "Local");
    }
    Ok(())
}

fn plan() -> impl Strategy<Value = Plan> {
    (
        any::<bool>(),
        0i64..10_000_000,
        prop::collection::vec(1u32..5_000, 1..8),
        any::<bool>(),
        prop::collection::vec(any::<bool>(), 1..4),
    )
        .prop_map(|(ocpp16, meter_start, increments, three_phase, offline)| Plan {
            ocpp16,
            meter_start,
            increments,
            three_phase,
            offline,
        })
}

fn disturbances() -> impl Strategy<Value = Vec<Disturbance>> {
    prop::collection::vec((0u8..3, any::<usize>(), any::<usize>()), 0..12)
}

fn failures() -> impl Strategy<Value = Vec<bool>> {
    prop::collection::vec(prop::bool::weighted(0.3), 0..12)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn sessions_survive_duplicates_reorderings_and_reconnects(
        plan in plan(),
        station in disturbances(),
        station_failures in failures(),
        queue in disturbances(),
        queue_failures in failures(),
    ) {
        let faults = Faults { station, station_failures, queue, queue_failures };
        let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
        runtime.block_on(replay(&plan, &faults))?;
    }
}

#[test]
fn the_schedule_delivers_everything_at_least_once() {
    let order = schedule(4, &[(0, 1, 0), (1, 0, 3), (2, 2, 1)]);
    for i in 0..4 {
        assert!(order.contains(&i));
    }
    assert_eq!(order.len(), 4 + 1 + 3);
}
