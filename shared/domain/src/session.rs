//! The charging session record: what the sessions function builds from session events, and the
//! session-completed announcement billing consumes.
//!
//! Session events are version-neutral: 1.6 StartTransaction / MeterValues / StopTransaction and
//! 2.0.1 TransactionEvent Started / Updated / Ended all become [`SessionEvent`]s. They travel
//! through a queue that delivers at least once and, across retries, not always in order, so
//! [`Session::apply`] is idempotent and order-tolerant. Rules:
//! - Events are ordered by the station's seqNo (2.0.1) and then its timestamp, never by arrival
//!   (2.0.1 E "sequence numbers"; offline-queued messages carry old timestamps, 1.6 section 3.7
//!   and 2.0.1 E12). The start is the earliest Started event, the stop the earliest Stopped one,
//!   the session's token the earliest token sent with a non-Stopped event (2.0.1 may authorize
//!   after the start, E02).
//! - The meter series is stored apart from the record ([`MeterSeries`]: one small write per
//!   event, one reading per (timestamp, measurand, phase, context)); the record keeps a bounded
//!   [`MeterSummary`] of it, so its size and its write cost do not grow with the session.
//! - Energy is meterStop - meterStart in Wh (1.6 sections 6.45 and 6.49). Without a meterStart
//!   (2.0.1 has none) the earliest energy register reading stands in, without a meterStop the
//!   latest one taken before the stop.
//! - A session completes once both its start and its stop are known. Completion flips once, and
//!   freezes the start, the stop and the energy: what billing was told does not change. Later
//!   readings still join the series.
//! - A session is saved before its completion is announced, and announced until the record says
//!   it was ([`Session::announced`]): a failure between the two announces again, never loses it.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use std::fmt;

use crate::id_token::IdToken;
use crate::meter::{Measurand, MeterSample};
use crate::ports::{
    MeterSeries, PublishError, SessionCompletedBus, SessionEventBus, SessionRepository, StationRepository, StoreError,
    TokenRepository,
};
use crate::seq_no::SeqNos;
use crate::station::StationId;
use crate::transaction::TransactionId;
use crate::transaction_event::StationTransactionId;

#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Publish(#[from] PublishError),
    #[error("every transaction id up to 2^31-1 has been handed out")]
    IdsExhausted,
    #[error("the session record kept changing under us")]
    Contention,
}

/// A transaction as a station knows it: the id the CSMS gave (1.6) or the one the station made (2.0.1).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum TransactionKey {
    Ocpp16(TransactionId),
    Ocpp201(StationTransactionId),
}

impl fmt::Display for TransactionKey {
    /// The storage key, e.g. `tx16#42` or `tx201#<station's id>`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Ocpp16(id) => write!(f, "tx16#{}", id.get()),
            Self::Ocpp201(id) => write!(f, "tx201#{id}"),
        }
    }
}

/// Where an event stands in its transaction: by seqNo (2.0.1), then by the station's timestamp.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Ordinal {
    pub seq_no: Option<u32>,
    pub timestamp: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum SessionEventKind {
    Started {
        meter_start_wh: Option<Decimal>,
        /// 2.0.1 triggerReason of the Started event; 1.6 gives none.
        reason: Option<String>,
        remote_start_id: Option<i32>,
    },
    /// Meter readings or other news during the transaction.
    Updated,
    Stopped {
        meter_stop_wh: Option<Decimal>,
        /// The version's own word (1.6 Reason, 2.0.1 stoppedReason); "Local" when the station
        /// gave none, as both versions prescribe.
        reason: String,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub struct SessionEvent {
    pub station: StationId,
    pub transaction: TransactionKey,
    /// The station's seqNo (2.0.1); 1.6 numbers nothing.
    pub seq_no: Option<u32>,
    /// The station's time of the event.
    pub timestamp: DateTime<Utc>,
    /// The event happened while the station was offline (2.0.1 `offline`).
    pub offline: bool,
    pub evse: Option<u32>,
    pub connector: Option<u32>,
    /// The token that authorized the session, or for a Stopped event the one that stopped it.
    pub id_token: Option<IdToken>,
    pub kind: SessionEventKind,
    pub samples: Vec<MeterSample>,
}

impl SessionEvent {
    /// The most readings one event carries: a message with more is published as several events
    /// ([`SessionEvent::split`]). The queue takes 256 KiB a message; the adapter's test measures
    /// the largest reading a validated message can carry (under 300 bytes as an event), so 500
    /// of them stay under 150 KiB, whatever the wire's 10x growth from a bare `{"value":"1"}`.
    pub const MAX_SAMPLES: usize = 500;

    pub fn ordinal(&self) -> Ordinal {
        Ordinal {
            seq_no: self.seq_no,
            timestamp: self.timestamp,
        }
    }

    /// Identifies the event by its content, so a retried publish of the same event is delivered
    /// once, while two different events (even with a reused seqNo) never share a key. At most
    /// 48 + 41 + 18 characters: within SQS's 128.
    pub fn dedup_key(&self) -> String {
        // Debug output is stable for one build, which is all a 5-minute deduplication window needs.
        format!(
            "{}#{}#{:016x}",
            self.station,
            self.transaction,
            fnv1a(format!("{self:?}").as_bytes())
        )
    }

    /// The event as events of at most [`Self::MAX_SAMPLES`] readings each, in the order to
    /// publish them: readings first (as Updated events), the event itself last with the rest,
    /// so that a stop completes its session after its transaction data is in the series. The
    /// event's own values (meterStart, meterStop) were taken from all its readings before.
    pub fn split(self) -> Vec<SessionEvent> {
        if self.samples.len() <= Self::MAX_SAMPLES {
            return vec![self];
        }
        let mut chunks: Vec<Vec<MeterSample>> = self.samples.chunks(Self::MAX_SAMPLES).map(<[_]>::to_vec).collect();
        let last = chunks.pop().unwrap_or_default();
        let mut events: Vec<SessionEvent> = chunks
            .into_iter()
            .map(|samples| SessionEvent {
                kind: SessionEventKind::Updated,
                id_token: None,
                samples,
                ..self.clone()
            })
            .collect();
        events.push(SessionEvent { samples: last, ..self });
        events
    }
}

/// Publishes an event for the sessions function, split so that no message outgrows the queue
/// ([`SessionEvent::split`]); each part under its own content-based dedup key.
pub async fn publish(bus: &dyn SessionEventBus, event: SessionEvent) -> Result<(), PublishError> {
    for part in event.split() {
        bus.session_event(&part, &part.dedup_key()).await?;
    }
    Ok(())
}

fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, b| {
        (hash ^ u64::from(*b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

#[derive(Debug, Clone, PartialEq)]
pub struct SessionStart {
    pub at: Ordinal,
    pub meter_start_wh: Option<Decimal>,
    pub reason: Option<String>,
    pub remote_start_id: Option<i32>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct SessionStop {
    pub at: Ordinal,
    pub meter_stop_wh: Option<Decimal>,
    pub reason: String,
    pub id_token: Option<IdToken>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct SeenToken {
    pub at: Ordinal,
    pub token: IdToken,
}

/// Fixed when the session completes.
#[derive(Debug, Clone, PartialEq)]
pub struct Completion {
    pub started_at: DateTime<Utc>,
    pub stopped_at: DateTime<Utc>,
    pub duration_seconds: i64,
    /// None when the station reported no energy register at all.
    pub energy_wh: Option<Decimal>,
}

/// What the record keeps of its meter series: bounded, and the same whatever order the readings
/// arrive in (each field is the least or greatest reading by [`crate::meter::SampleKey`]).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MeterSummary {
    /// The earliest total energy register reading (no phase).
    pub first_register: Option<MeterSample>,
    /// The latest total energy register reading.
    pub last_register: Option<MeterSample>,
    /// The newest total active import power reading (no phase).
    pub latest_power: Option<MeterSample>,
    /// When the earliest reading of any kind was taken.
    pub earliest_at: Option<DateTime<Utc>>,
}

impl MeterSummary {
    pub fn add(&mut self, sample: &MeterSample) {
        let earlier = |kept: &Option<MeterSample>| kept.as_ref().is_none_or(|k| sample.key() < k.key());
        let later = |kept: &Option<MeterSample>| kept.as_ref().is_none_or(|k| sample.key() > k.key());
        if sample.is_energy_register() {
            if earlier(&self.first_register) {
                self.first_register = Some(sample.clone());
            }
            if later(&self.last_register) {
                self.last_register = Some(sample.clone());
            }
        }
        if sample.measurand == Measurand::PowerActiveImport && sample.phase.is_none() && later(&self.latest_power) {
            self.latest_power = Some(sample.clone());
        }
        if self.earliest_at.is_none_or(|at| sample.timestamp < at) {
            self.earliest_at = Some(sample.timestamp);
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Session {
    pub station: StationId,
    pub transaction: TransactionKey,
    /// Optimistic concurrency: the version this record was saved as (0: never saved).
    pub version: u64,
    pub evse: Option<u32>,
    pub connector: Option<u32>,
    pub id_token: Option<SeenToken>,
    pub start: Option<SessionStart>,
    pub stop: Option<SessionStop>,
    /// What the meter series holds, in summary; the series itself is in [`MeterSeries`].
    pub meter: MeterSummary,
    /// The seqNos of the events applied (2.0.1).
    pub seq_nos: SeqNos,
    /// Some event happened while the station was offline.
    pub offline: bool,
    pub completion: Option<Completion>,
    /// The completion has been published for billing.
    pub announced: bool,
    /// The driver (subject) owning the session's token, resolved when the token is learnt.
    pub owner: Option<String>,
    /// The station's organisation, resolved when the record is created.
    pub organisation: Option<String>,
}

/// What an event did to a session.
#[derive(Debug, Clone, PartialEq)]
pub enum Change {
    /// A redelivery, or news already known: nothing to save.
    Unchanged,
    Updated(Session),
    /// The session completed with this event: announce it. Happens once per session.
    Completed(Session),
}

impl Session {
    pub fn new(station: StationId, transaction: TransactionKey) -> Self {
        Self {
            station,
            transaction,
            version: 0,
            evse: None,
            connector: None,
            id_token: None,
            start: None,
            stop: None,
            meter: MeterSummary::default(),
            seq_nos: SeqNos::default(),
            offline: false,
            completion: None,
            announced: false,
            owner: None,
            organisation: None,
        }
    }

    /// Applies one event to the session (None: no record yet). Pure, idempotent, and the result
    /// does not depend on the order events arrive in, up to completion (see the module rules).
    /// The event's readings only update the summary: [`project`] stores them in the series.
    pub fn apply(current: Option<&Session>, event: &SessionEvent) -> Change {
        let mut next = current
            .cloned()
            .unwrap_or_else(|| Session::new(event.station.clone(), event.transaction.clone()));
        let at = event.ordinal();
        if next.completion.is_none() {
            next.evse = next.evse.or(event.evse);
            next.connector = next.connector.or(event.connector);
            match &event.kind {
                SessionEventKind::Started {
                    meter_start_wh,
                    reason,
                    remote_start_id,
                } if next.start.as_ref().is_none_or(|s| at < s.at) => {
                    next.start = Some(SessionStart {
                        at,
                        meter_start_wh: *meter_start_wh,
                        reason: reason.clone(),
                        remote_start_id: *remote_start_id,
                    });
                }
                SessionEventKind::Stopped { meter_stop_wh, reason } if next.stop.as_ref().is_none_or(|s| at < s.at) => {
                    next.stop = Some(SessionStop {
                        at,
                        meter_stop_wh: *meter_stop_wh,
                        reason: reason.clone(),
                        id_token: event.id_token.clone(),
                    });
                }
                _ => {}
            }
            let authorizes = !matches!(event.kind, SessionEventKind::Stopped { .. });
            if authorizes
                && let Some(token) = &event.id_token
                && next.id_token.as_ref().is_none_or(|t| at < t.at)
            {
                next.id_token = Some(SeenToken {
                    at,
                    token: token.clone(),
                });
            }
        }
        for sample in &event.samples {
            next.meter.add(sample);
        }
        if let Some(n) = event.seq_no {
            next.seq_nos.insert(n);
        }
        next.offline |= event.offline;

        if next.completion.is_none()
            && let (Some(start), Some(stop)) = (&next.start, &next.stop)
        {
            next.completion = Some(Completion {
                started_at: start.at.timestamp,
                stopped_at: stop.at.timestamp,
                duration_seconds: (stop.at.timestamp - start.at.timestamp).num_seconds(),
                energy_wh: next.measured_energy(None),
            });
            return Change::Completed(next);
        }
        if current == Some(&next) {
            Change::Unchanged
        } else {
            Change::Updated(next)
        }
    }

    pub fn is_completed(&self) -> bool {
        self.completion.is_some()
    }

    /// The energy charged so far, or as billed once completed, in Wh.
    pub fn energy_wh(&self) -> Option<Decimal> {
        match &self.completion {
            Some(c) => c.energy_wh,
            None => self.measured_energy(None),
        }
    }

    /// When the stop gave no meterStop and a register reading later than the stop is known, the
    /// summary cannot tell which reading was the last before the stop: the series must be asked
    /// (see [`project`]). The time to ask for, in that case.
    pub fn stop_register_needed(&self) -> Option<DateTime<Utc>> {
        let stop = self.stop.as_ref().filter(|s| s.meter_stop_wh.is_none())?;
        let last = self.meter.last_register.as_ref()?;
        (last.timestamp > stop.at.timestamp).then_some(stop.at.timestamp)
    }

    /// meterStop (or the last register before the stop: `stop_register` when the series was
    /// asked) minus meterStart (or the first register).
    fn measured_energy(&self, stop_register: Option<&MeterSample>) -> Option<Decimal> {
        let start = self
            .start
            .as_ref()
            .and_then(|s| s.meter_start_wh)
            .or_else(|| self.meter.first_register.as_ref().map(|s| s.value))?;
        let stop = match &self.stop {
            Some(SessionStop {
                meter_stop_wh: Some(wh),
                ..
            }) => *wh,
            Some(stop) => match stop_register {
                Some(register) => register.value,
                None => {
                    self.meter
                        .last_register
                        .as_ref()
                        .filter(|r| r.timestamp <= stop.at.timestamp)?
                        .value
                }
            },
            None => self.meter.last_register.as_ref()?.value,
        };
        Some((stop - start).normalize())
    }

    /// Settles a completion's energy with the register the series found at the stop (after
    /// [`Session::stop_register_needed`]).
    pub fn settle_stop_register(&mut self, register: Option<&MeterSample>) {
        let energy = register.and_then(|r| self.measured_energy(Some(r)));
        if let Some(completion) = &mut self.completion {
            completion.energy_wh = energy;
        }
    }

    /// When the session started, or until the start is known the earliest time it has seen:
    /// what lists sort by. None only for a record that has seen no time at all.
    pub fn started_at(&self) -> Option<DateTime<Utc>> {
        if let Some(start) = &self.start {
            return Some(start.at.timestamp);
        }
        [
            self.id_token.as_ref().map(|t| t.at.timestamp),
            self.stop.as_ref().map(|s| s.at.timestamp),
            self.meter.earliest_at,
        ]
        .into_iter()
        .flatten()
        .min()
    }

    /// The newest power reading (W), if the station sends any.
    pub fn latest_power_w(&self) -> Option<Decimal> {
        self.meter.latest_power.as_ref().map(|s| s.value)
    }

    /// What a list shows of the session.
    pub fn summary(&self) -> SessionSummary {
        SessionSummary {
            station: self.station.clone(),
            transaction: self.transaction.clone(),
            evse: self.evse,
            connector: self.connector,
            id_token: self.id_token.as_ref().map(|t| t.token.clone()),
            started_at: self.started_at(),
            stopped_at: self.stop.as_ref().map(|s| s.at.timestamp),
            completed: self.is_completed(),
            energy_wh: self.energy_wh(),
            stop_reason: self.stop.as_ref().map(|s| s.reason.clone()),
        }
    }

    /// The first `limit` seqNos not received between the lowest and the highest received
    /// (2.0.1); [`SeqNos::missing_count`] counts them all.
    pub fn missing_seq_nos(&self, limit: usize) -> Vec<u32> {
        self.seq_nos.missing(limit)
    }
}

/// A session as lists show it (the sessions indexes project only this, not the meter series).
#[derive(Debug, Clone, PartialEq)]
pub struct SessionSummary {
    pub station: StationId,
    pub transaction: TransactionKey,
    pub evse: Option<u32>,
    pub connector: Option<u32>,
    pub id_token: Option<IdToken>,
    pub started_at: Option<DateTime<Utc>>,
    pub stopped_at: Option<DateTime<Utc>>,
    pub completed: bool,
    /// So far, or as billed once completed.
    pub energy_wh: Option<Decimal>,
    pub stop_reason: Option<String>,
}

/// Active: not completed yet (no stop, or the start still unknown); completed: both known.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionState {
    Active,
    Completed,
}

/// Which of an owner's or organisation's sessions to list. Start times are inclusive bounds.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SessionFilter {
    pub station: Option<StationId>,
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
    pub state: Option<SessionState>,
}

impl SessionFilter {
    pub fn matches(&self, session: &SessionSummary) -> bool {
        let Some(started_at) = session.started_at else {
            return false;
        };
        self.station.as_ref().is_none_or(|s| s == &session.station)
            && self.from.is_none_or(|from| started_at >= from)
            && self.to.is_none_or(|to| started_at <= to)
            && self
                .state
                .is_none_or(|state| (state == SessionState::Completed) == session.completed)
    }
}

/// A completed session, announced once for billing (and again only after a failure: billing
/// keeps one per [`SessionCompleted::dedup_key`]).
#[derive(Debug, Clone, PartialEq)]
pub struct SessionCompleted {
    pub station: StationId,
    pub transaction: TransactionKey,
    pub evse: Option<u32>,
    pub connector: Option<u32>,
    pub id_token: Option<IdToken>,
    pub started_at: DateTime<Utc>,
    pub stopped_at: DateTime<Utc>,
    pub duration_seconds: i64,
    pub energy_wh: Option<Decimal>,
    pub stop_reason: String,
}

impl SessionCompleted {
    /// None until the session has completed.
    pub fn of(session: &Session) -> Option<Self> {
        let completion = session.completion.as_ref()?;
        Some(Self {
            station: session.station.clone(),
            transaction: session.transaction.clone(),
            evse: session.evse,
            connector: session.connector,
            id_token: session.id_token.as_ref().map(|t| t.token.clone()),
            started_at: completion.started_at,
            stopped_at: completion.stopped_at,
            duration_seconds: completion.duration_seconds,
            energy_wh: completion.energy_wh,
            stop_reason: session.stop.as_ref().map(|s| s.reason.clone())?,
        })
    }

    /// One per session: billing and the queue see every repetition as the same announcement.
    pub fn dedup_key(&self) -> String {
        format!("{}#{}#completed", self.station, self.transaction)
    }
}

/// What the sessions function's use case works with.
#[derive(Clone, Copy)]
pub struct SessionPorts<'a> {
    pub sessions: &'a dyn SessionRepository,
    pub series: &'a dyn MeterSeries,
    pub completions: &'a dyn SessionCompletedBus,
    /// Where a session's owner and organisation come from.
    pub tokens: &'a dyn TokenRepository,
    pub stations: &'a dyn StationRepository,
}

impl SessionPorts<'_> {
    /// Fills in who the session belongs to, reading only what changed since `current`: the
    /// station's organisation when the record is new, the token's owner when the session's token
    /// is new (first learnt, possibly after the start, or replaced by an earlier one). The owner
    /// comes from the station's organisation's registry only: another organisation's token is
    /// unknown at the station, and its driver is not made to own the session.
    async fn resolve(&self, current: Option<&Session>, next: &mut Session) -> Result<(), StoreError> {
        if current.is_none() {
            next.organisation = self.stations.get(&next.station).await?.and_then(|s| s.organisation);
        }
        let token = next.id_token.as_ref().map(|t| &t.token);
        if token != current.and_then(|c| c.id_token.as_ref()).map(|t| &t.token) {
            next.owner = match token {
                Some(token) => self
                    .tokens
                    .get(next.organisation.as_deref(), token)
                    .await?
                    .and_then(|r| r.owner),
                None => None,
            };
        }
        Ok(())
    }

    /// Publishes the completion of a saved session that has not been announced yet, then notes
    /// on the record that it was: one more write per session. A lost race on that note leaves
    /// it unnoted, so a later event announces again under the same dedup key, which the queue
    /// and billing ignore.
    async fn announce_if_due(&self, session: Session) -> Result<Session, SessionError> {
        let Some(done) = SessionCompleted::of(&session).filter(|_| !session.announced) else {
            return Ok(session);
        };
        self.completions.session_completed(&done, &done.dedup_key()).await?;
        let mut noted = session.clone();
        noted.announced = true;
        noted.version += 1;
        Ok(if self.sessions.save(&noted, Some(session.version)).await? {
            noted
        } else {
            session
        })
    }
}

/// The sessions function's use case: stores one delivered event's readings in the series,
/// applies the event to its session record, fills in whose it is, saves it and then announces
/// the completion. Idempotent: a redelivered event changes nothing (and reads nothing but the
/// record; the series write repeats harmlessly). Concurrent writers are resolved by the
/// record's version.
pub async fn project(ports: SessionPorts<'_>, event: &SessionEvent) -> Result<Change, SessionError> {
    // First the readings: the completion below may need the series as it is with them.
    ports
        .series
        .add(&event.station, &event.transaction, &event.samples)
        .await?;
    for _ in 0..5 {
        let current = ports.sessions.get(&event.station, &event.transaction).await?;
        let expected = current.as_ref().map(|c| c.version);
        let change = Session::apply(current.as_ref(), event);
        let mut next = match &change {
            Change::Unchanged => {
                // Saved before, but its announcement may have failed after.
                if let Some(session) = current {
                    ports.announce_if_due(session).await?;
                }
                return Ok(Change::Unchanged);
            }
            Change::Updated(next) | Change::Completed(next) => next.clone(),
        };
        next.version = expected.map_or(1, |v| v + 1);
        if let Change::Completed(_) = change
            && let Some(at) = next.stop_register_needed()
        {
            let register = ports
                .series
                .energy_register_at(&next.station, &next.transaction, at)
                .await?;
            next.settle_stop_register(register.as_ref());
        }
        ports.resolve(current.as_ref(), &mut next).await?;
        if !ports.sessions.save(&next, expected).await? {
            continue;
        }
        let next = ports.announce_if_due(next).await?;
        return Ok(match change {
            Change::Completed(_) => Change::Completed(next),
            _ => Change::Updated(next),
        });
    }
    Err(SessionError::Contention)
}

/// Every reading of a session's series, in time order, a page at a time (for tools and tests;
/// billing pages through [`MeterSeries::page`] itself).
pub async fn whole_series(
    series: &dyn MeterSeries,
    station: &StationId,
    transaction: &TransactionKey,
) -> Result<Vec<MeterSample>, StoreError> {
    let mut request = crate::page::PageRequest::first(crate::page::MAX_LIMIT);
    let mut all = Vec::new();
    loop {
        let page = series.page(station, transaction, &request).await?;
        all.extend(page.items);
        match page.next {
            Some(next) => request = request.after(Some(next)),
            None => return Ok(all),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::memory::{MemoryCharging, MemorySessions, MemoryStations};
    use crate::meter::ReadingContext;
    use async_trait::async_trait;
    use chrono::Duration;
    use rust_decimal_macros::dec;
    use std::sync::Mutex;

    fn t(secs: i64) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-03-01T10:00:00Z")
            .unwrap()
            .with_timezone(&Utc)
            + Duration::seconds(secs)
    }

    fn energy(secs: i64, wh: Decimal) -> MeterSample {
        MeterSample::new(t(secs), Measurand::EnergyActiveImportRegister, wh, Some("Wh"), 0).unwrap()
    }

    fn event(kind: SessionEventKind, secs: i64, samples: Vec<MeterSample>) -> SessionEvent {
        SessionEvent {
            station: StationId::parse("CP1").unwrap(),
            transaction: TransactionKey::Ocpp16(TransactionId::new(7).unwrap()),
            seq_no: None,
            timestamp: t(secs),
            offline: false,
            evse: None,
            connector: Some(1),
            id_token: Some(IdToken::parse_16("TAG").unwrap()),
            kind,
            samples,
        }
    }

    fn started(meter: Decimal) -> SessionEvent {
        let kind = SessionEventKind::Started {
            meter_start_wh: Some(meter),
            reason: None,
            remote_start_id: None,
        };
        event(kind, 0, vec![])
    }

    fn stopped(meter: Option<Decimal>, secs: i64) -> SessionEvent {
        let kind = SessionEventKind::Stopped {
            meter_stop_wh: meter,
            reason: "Local".into(),
        };
        event(kind, secs, vec![])
    }

    fn updated(secs: i64, wh: Decimal) -> SessionEvent {
        event(SessionEventKind::Updated, secs, vec![energy(secs, wh)])
    }

    fn fold(events: &[&SessionEvent]) -> (Option<Session>, usize) {
        let mut session = None;
        let mut completions = 0;
        for e in events {
            match Session::apply(session.as_ref(), e) {
                Change::Unchanged => {}
                Change::Updated(s) => session = Some(s),
                Change::Completed(s) => {
                    completions += 1;
                    session = Some(s)
                }
            }
        }
        (session, completions)
    }

    #[test]
    fn energy_is_meter_stop_minus_meter_start_whatever_the_order() {
        // GIVEN a start at 1000 Wh, two readings and a stop at 4500 Wh
        let (a, b, c, d) = (
            started(dec!(1000)),
            updated(60, dec!(2000)),
            updated(120, dec!(3000)),
            stopped(Some(dec!(4500)), 180),
        );
        // WHEN they arrive in order, reversed, or with duplicates
        for order in [
            vec![&a, &b, &c, &d],
            vec![&d, &c, &b, &a],
            vec![&b, &a, &a, &d, &c, &d, &b],
        ] {
            let (session, completions) = fold(&order);
            let session = session.unwrap();
            // THEN the energy is counted once and the session completes once
            assert_eq!(session.energy_wh(), Some(dec!(3500)));
            assert_eq!(completions, 1);
            assert_eq!(session.meter.first_register, Some(energy(60, dec!(2000))));
            assert_eq!(session.meter.last_register, Some(energy(120, dec!(3000))));
            let completion = session.completion.unwrap();
            assert_eq!(completion.duration_seconds, 180);
            assert_eq!(completion.started_at, t(0));
        }
    }

    #[test]
    fn redelivery_changes_nothing() {
        let (s, _) = fold(&[&started(dec!(0)), &updated(60, dec!(10))]);
        let s = s.unwrap();
        assert_eq!(Session::apply(Some(&s), &updated(60, dec!(10))), Change::Unchanged);
        assert_eq!(Session::apply(Some(&s), &started(dec!(0))), Change::Unchanged);
    }

    #[test]
    fn without_a_meter_stop_the_last_register_reading_before_the_stop_counts() {
        // GIVEN a 2.0.1-like session: no meter start or stop, only readings
        let mut start = started(dec!(0));
        start.kind = SessionEventKind::Started {
            meter_start_wh: None,
            reason: Some("Authorized".into()),
            remote_start_id: None,
        };
        start.samples = vec![energy(0, dec!(500)).with_context(ReadingContext::TransactionBegin)];
        // WHEN it stops without a meterStop THEN the readings bound the energy
        let (s, _) = fold(&[&start, &updated(60, dec!(700)), &stopped(None, 120)]);
        let s = s.unwrap();
        assert_eq!((s.energy_wh(), s.stop_register_needed()), (Some(dec!(200)), None));
        // AND a reading after the stop, known before the stop, leaves it to the series to say
        let late = updated(999, dec!(9999));
        let (s, _) = fold(&[&start, &updated(60, dec!(700)), &late, &stopped(None, 120)]);
        let mut s = s.unwrap();
        assert_eq!((s.energy_wh(), s.stop_register_needed()), (None, Some(t(120))));
        s.settle_stop_register(Some(&energy(60, dec!(700))));
        assert_eq!(s.energy_wh(), Some(dec!(200)));
    }

    #[test]
    fn completion_freezes_what_billing_was_told() {
        let (s, _) = fold(&[&started(dec!(100)), &stopped(Some(dec!(300)), 60)]);
        let s = s.unwrap();
        // A second, earlier stop after completion changes neither the stop nor the energy.
        let Change::Unchanged = Session::apply(Some(&s), &stopped(Some(dec!(200)), 30)) else {
            panic!("a completed session's stop is fixed");
        };
        // Late readings still join the summary.
        let Change::Updated(later) = Session::apply(Some(&s), &updated(45, dec!(250))) else {
            panic!("late readings are kept");
        };
        assert_eq!(later.energy_wh(), Some(dec!(200)));
        assert_eq!(later.meter.last_register, Some(energy(45, dec!(250))));
    }

    #[test]
    fn the_earliest_token_authorizes_the_stop_token_is_kept_apart() {
        let mut stop = stopped(Some(dec!(10)), 60);
        stop.id_token = Some(IdToken::parse_16("OTHER").unwrap());
        let (s, _) = fold(&[&stop, &started(dec!(0))]);
        let s = s.unwrap();
        assert_eq!(s.id_token.unwrap().token.as_str(), "TAG");
        assert_eq!(s.stop.unwrap().id_token.unwrap().as_str(), "OTHER");
    }

    #[test]
    fn missing_seq_nos_are_those_between_the_lowest_and_highest() {
        let mut s = Session::new(StationId::parse("CP1").unwrap(), started(dec!(0)).transaction);
        for n in [0, 1, 4, 6] {
            s.seq_nos.insert(n);
        }
        assert_eq!(s.missing_seq_nos(10), vec![2, 3, 5]);
        assert_eq!(s.missing_seq_nos(1), vec![2]);
    }

    #[test]
    fn the_record_stays_the_same_size_however_long_the_session() {
        // GIVEN a session that has seen ten readings, and one that has seen a day of them
        let readings = |n: i64| -> Vec<SessionEvent> {
            (1..=n)
                .map(|k| {
                    let mut e = updated(10 * k, Decimal::from(k * 3));
                    e.seq_no = Some(k as u32);
                    e.samples.push(
                        MeterSample::new(t(10 * k), Measurand::PowerActiveImport, dec!(11000), Some("W"), 0).unwrap(),
                    );
                    e
                })
                .collect()
        };
        let short = readings(10);
        let long = readings(8640);
        let fold_all = |events: &[SessionEvent]| fold(&events.iter().collect::<Vec<_>>()).0.unwrap();
        let (short, long) = (fold_all(&short), fold_all(&long));
        // THEN the records differ in their values (a few digits), not in what they hold
        assert_eq!(short.meter.first_register, long.meter.first_register);
        assert_eq!(long.meter.last_register, Some(energy(86_400, dec!(25920))));
        assert_eq!(long.latest_power_w(), Some(dec!(11000)));
        assert_eq!(long.seq_nos.gaps().len(), 0);
        assert!(format!("{long:?}").len() <= format!("{short:?}").len() + 16);
    }

    #[test]
    fn dedup_keys_follow_content() {
        let a = updated(60, dec!(10));
        assert_eq!(a.dedup_key(), updated(60, dec!(10)).dedup_key());
        assert_ne!(a.dedup_key(), updated(60, dec!(11)).dedup_key());
        assert!(a.dedup_key().starts_with("CP1#tx16#7#"));
        assert!(a.dedup_key().len() <= 128);
    }

    #[test]
    fn a_large_event_is_split_readings_first() {
        // GIVEN a stop carrying 1,201 readings
        let mut stop = stopped(Some(dec!(5000)), 60_000);
        stop.samples = (0..1201).map(|k| energy(k, Decimal::from(k))).collect();
        // WHEN it is split
        let parts = stop.clone().split();
        // THEN three parts, none over the bound, the stop last, every reading once in order
        assert_eq!(
            parts.iter().map(|p| p.samples.len()).collect::<Vec<_>>(),
            vec![500, 500, 201]
        );
        assert!(
            parts[..2]
                .iter()
                .all(|p| p.kind == SessionEventKind::Updated && p.id_token.is_none())
        );
        assert_eq!(parts[2].kind, stop.kind);
        assert_eq!(parts[2].id_token, stop.id_token);
        let all: Vec<MeterSample> = parts.iter().flat_map(|p| p.samples.clone()).collect();
        assert_eq!(all, stop.samples);
        // AND a small event is left whole
        assert_eq!(updated(1, dec!(1)).split(), vec![updated(1, dec!(1))]);
    }

    fn ports<'a>(world: &'a MemoryCharging, stations: &'a MemoryStations) -> SessionPorts<'a> {
        world.session_ports(stations)
    }

    #[tokio::test]
    async fn projection_announces_a_completion_once() {
        // GIVEN empty session and completion stores
        let (world, stations) = (MemoryCharging::default(), MemoryStations::default());
        let events = [
            started(dec!(1000)),
            updated(60, dec!(1500)),
            stopped(Some(dec!(2000)), 120),
        ];
        // WHEN every event is delivered twice
        for e in events.iter().chain(events.iter()) {
            project(ports(&world, &stations), e).await.unwrap();
        }
        // THEN one record, completed once and noted as announced, with the energy counted once
        let session = world
            .sessions
            .get(&events[0].station, &events[0].transaction)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(session.version, 4);
        assert!(session.announced);
        assert_eq!(session.energy_wh(), Some(dec!(1000)));
        let published = world.completions.0.lock().unwrap().clone();
        assert_eq!(published.len(), 1);
        assert_eq!(published[0].1.energy_wh, Some(dec!(1000)));
        assert_eq!(published[0].0, "CP1#tx16#7#completed");
        // AND the readings are in the series, once
        let series = whole_series(&*world.series, &events[0].station, &events[0].transaction)
            .await
            .unwrap();
        assert_eq!(series, vec![energy(60, dec!(1500))]);
    }

    #[tokio::test]
    async fn the_series_settles_a_stop_without_a_meter_stop() {
        // GIVEN readings up to after the stop, the stop without a meterStop arriving last
        let (world, stations) = (MemoryCharging::default(), MemoryStations::default());
        for e in [
            started(dec!(100)),
            updated(60, dec!(400)),
            updated(90, dec!(600)),
            updated(300, dec!(900)),
            stopped(None, 120),
        ] {
            project(ports(&world, &stations), &e).await.unwrap();
        }
        // THEN the last register before the stop counts, found in the series
        let published = world.completions.0.lock().unwrap();
        assert_eq!(published[0].1.energy_wh, Some(dec!(500)));
    }

    /// Counts every announcement, as a queue past its deduplication window would deliver them,
    /// failing the first `fail` publishes.
    #[derive(Default)]
    struct Billing {
        received: Mutex<Vec<SessionCompleted>>,
        fail: Mutex<usize>,
    }

    #[async_trait]
    impl SessionCompletedBus for Billing {
        async fn session_completed(&self, completed: &SessionCompleted, _: &str) -> Result<(), PublishError> {
            let mut fail = self.fail.lock().unwrap();
            if *fail > 0 {
                *fail -= 1;
                return Err(PublishError("queue unavailable".into()));
            }
            self.received.lock().unwrap().push(completed.clone());
            Ok(())
        }
    }

    /// Fails the first `fail` saves, then delegates.
    struct FlakySessions<'a> {
        inner: &'a MemorySessions,
        fail: Mutex<usize>,
    }

    #[async_trait]
    impl SessionRepository for FlakySessions<'_> {
        async fn get(&self, station: &StationId, transaction: &TransactionKey) -> Result<Option<Session>, StoreError> {
            self.inner.get(station, transaction).await
        }
        async fn save(&self, session: &Session, expected: Option<u64>) -> Result<bool, StoreError> {
            let failing = {
                let mut fail = self.fail.lock().unwrap();
                let failing = *fail > 0;
                *fail = fail.saturating_sub(1);
                failing
            };
            if failing {
                return Err(StoreError::Backend("throttled".into()));
            }
            self.inner.save(session, expected).await
        }
        async fn list(&self, station: &StationId) -> Result<Vec<Session>, StoreError> {
            self.inner.list(station).await
        }
        async fn list_by_owner(
            &self,
            owner: &str,
            filter: &SessionFilter,
            page: &crate::PageRequest,
        ) -> Result<crate::Page<SessionSummary>, StoreError> {
            self.inner.list_by_owner(owner, filter, page).await
        }
        async fn list_by_organisation(
            &self,
            organisation: &str,
            filter: &SessionFilter,
            page: &crate::PageRequest,
        ) -> Result<crate::Page<SessionSummary>, StoreError> {
            self.inner.list_by_organisation(organisation, filter, page).await
        }
    }

    #[tokio::test]
    async fn a_completion_reaches_billing_once_whatever_fails_between_save_and_publish() {
        for (failing_saves, failing_publishes) in [(0, 0), (1, 0), (0, 1), (1, 2), (3, 3)] {
            // GIVEN a started session, and stores that fail the completing event's first tries
            let (world, stations) = (MemoryCharging::default(), MemoryStations::default());
            project(ports(&world, &stations), &started(dec!(0))).await.unwrap();
            let sessions = FlakySessions {
                inner: &world.sessions,
                fail: Mutex::new(failing_saves),
            };
            let billing = Billing {
                fail: Mutex::new(failing_publishes),
                ..Billing::default()
            };
            let ports = SessionPorts {
                sessions: &sessions,
                completions: &billing,
                ..ports(&world, &stations)
            };
            // WHEN the stop is redelivered until it succeeds, and once more after
            let stop = stopped(Some(dec!(10)), 60);
            let mut tries = 0;
            while project(ports, &stop).await.is_err() {
                tries += 1;
                assert!(tries < 10);
            }
            project(ports, &stop).await.unwrap();
            // THEN billing heard of it exactly once, with no deduplication to help
            let received = billing.received.lock().unwrap().clone();
            assert_eq!(
                received.len(),
                1,
                "{failing_saves} failing saves, {failing_publishes} failing publishes"
            );
            assert_eq!(received[0].energy_wh, Some(dec!(10)));
            let saved = world
                .sessions
                .get(&stop.station, &stop.transaction)
                .await
                .unwrap()
                .unwrap();
            assert!(saved.is_completed() && saved.announced);
        }
    }

    #[tokio::test]
    async fn publishing_splits_what_would_outgrow_the_queue() {
        let world = MemoryCharging::default();
        let mut stop = stopped(Some(dec!(1)), 100_000);
        stop.samples = (0..1800).map(|k| energy(k, Decimal::from(k))).collect();
        publish(&*world.session_events, stop).await.unwrap();
        let sent = world.session_events.0.lock().unwrap();
        assert_eq!(sent.len(), 4);
        assert!(sent.iter().all(|(_, e)| e.samples.len() <= SessionEvent::MAX_SAMPLES));
    }
}
