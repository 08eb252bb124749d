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
//! - The meter series keeps one reading per (timestamp, measurand, phase, context).
//! - Energy is meterStop - meterStart in Wh (1.6 sections 6.45 and 6.49). Without a meterStart
//!   (2.0.1 has none) the earliest energy register reading stands in, without a meterStop the
//!   latest one taken before the stop.
//! - A session completes once both its start and its stop are known. Completion flips once, and
//!   freezes the start, the stop and the energy: what billing was told does not change. Later
//!   readings still join the series.

use chrono::{DateTime, Utc};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use crate::id_token::IdToken;
use crate::meter::{Measurand, MeterSample, SampleKey};
use crate::ports::{
    PublishError, SessionCompletedBus, SessionRepository, StationRepository, StoreError, TokenRepository,
};
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
        meter_start_wh: Option<f64>,
        /// 2.0.1 triggerReason of the Started event; 1.6 gives none.
        reason: Option<String>,
        remote_start_id: Option<i32>,
    },
    /// Meter readings or other news during the transaction.
    Updated,
    Stopped {
        meter_stop_wh: Option<f64>,
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
}

fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, b| {
        (hash ^ u64::from(*b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

#[derive(Debug, Clone, PartialEq)]
pub struct SessionStart {
    pub at: Ordinal,
    pub meter_start_wh: Option<f64>,
    pub reason: Option<String>,
    pub remote_start_id: Option<i32>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct SessionStop {
    pub at: Ordinal,
    pub meter_stop_wh: Option<f64>,
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
    pub energy_wh: Option<f64>,
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
    pub series: BTreeMap<SampleKey, MeterSample>,
    pub seq_nos: BTreeSet<u32>,
    /// Some event happened while the station was offline.
    pub offline: bool,
    pub completion: Option<Completion>,
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
            series: BTreeMap::new(),
            seq_nos: BTreeSet::new(),
            offline: false,
            completion: None,
            owner: None,
            organisation: None,
        }
    }

    /// Applies one event to the session (None: no record yet). Pure, idempotent, and the result
    /// does not depend on the order events arrive in, up to completion (see the module rules).
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
            next.series.entry(sample.key()).or_insert_with(|| sample.clone());
        }
        next.seq_nos.extend(event.seq_no);
        next.offline |= event.offline;

        if next.completion.is_none()
            && let (Some(start), Some(stop)) = (&next.start, &next.stop)
        {
            next.completion = Some(Completion {
                started_at: start.at.timestamp,
                stopped_at: stop.at.timestamp,
                duration_seconds: (stop.at.timestamp - start.at.timestamp).num_seconds(),
                energy_wh: next.measured_energy(),
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
    pub fn energy_wh(&self) -> Option<f64> {
        match &self.completion {
            Some(c) => c.energy_wh,
            None => self.measured_energy(),
        }
    }

    fn measured_energy(&self) -> Option<f64> {
        let registers = || self.series.values().filter(|s| s.is_energy_register());
        let stop_bound = self.stop.as_ref().map(|s| s.at.timestamp);
        let start = self
            .start
            .as_ref()
            .and_then(|s| s.meter_start_wh)
            // The series is ordered by timestamp: the first register is the earliest.
            .or_else(|| registers().next().map(|s| s.value))?;
        let stop = self.stop.as_ref().and_then(|s| s.meter_stop_wh).or_else(|| {
            registers()
                .rfind(|s| stop_bound.is_none_or(|bound| s.timestamp <= bound))
                .map(|s| s.value)
        })?;
        Some(((stop - start) * 1e6).round() / 1e6)
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
            self.series.values().map(|s| s.timestamp).min(),
        ]
        .into_iter()
        .flatten()
        .min()
    }

    /// The newest power reading (W), if the station sends any.
    pub fn latest_power_w(&self) -> Option<f64> {
        self.series
            .values()
            .filter(|s| s.measurand == Measurand::PowerActiveImport && s.phase.is_none())
            .max_by_key(|s| s.timestamp)
            .map(|s| s.value)
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

    /// seqNos not received between the lowest and the highest received (2.0.1).
    pub fn missing_seq_nos(&self) -> Vec<u32> {
        match (self.seq_nos.first(), self.seq_nos.last()) {
            (Some(&lo), Some(&hi)) => (lo..hi).filter(|n| !self.seq_nos.contains(n)).collect(),
            _ => Vec::new(),
        }
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
    pub energy_wh: Option<f64>,
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

/// A completed session, announced once for billing.
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
    pub energy_wh: Option<f64>,
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

/// Where a session's owner and organisation come from.
#[derive(Clone, Copy)]
pub struct Parties<'a> {
    pub tokens: &'a dyn TokenRepository,
    pub stations: &'a dyn StationRepository,
}

impl Parties<'_> {
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
}

/// The sessions function's use case: applies one delivered event to its session record, fills
/// in whose it is, and announces the completion. Idempotent: a redelivered event changes nothing
/// (and reads nothing but the record). Concurrent writers are resolved by the record's version.
///
/// The completion is published before the completed record is saved, so a record that says
/// "completed" has always been announced; a failure between the two makes the redelivery
/// announce again under the same dedup key, never lose it.
pub async fn project(
    sessions: &dyn SessionRepository,
    completions: &dyn SessionCompletedBus,
    parties: Parties<'_>,
    event: &SessionEvent,
) -> Result<Change, SessionError> {
    for _ in 0..5 {
        let current = sessions.get(&event.station, &event.transaction).await?;
        let expected = current.as_ref().map(|c| c.version);
        let change = Session::apply(current.as_ref(), event);
        let next = match &change {
            Change::Unchanged => return Ok(change),
            Change::Updated(next) | Change::Completed(next) => next,
        };
        let mut next = next.clone();
        next.version = expected.map_or(1, |v| v + 1);
        parties.resolve(current.as_ref(), &mut next).await?;
        if let Change::Completed(_) = change
            && let Some(done) = SessionCompleted::of(&next)
        {
            completions.session_completed(&done, &done.dedup_key()).await?;
        }
        if sessions.save(&next, expected).await? {
            return Ok(match change {
                Change::Completed(_) => Change::Completed(next),
                _ => Change::Updated(next),
            });
        }
    }
    Err(SessionError::Contention)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::memory::{MemoryCompletions, MemorySessions, MemoryStations, MemoryTokens};
    use crate::meter::ReadingContext;
    use chrono::Duration;

    fn t(secs: i64) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-03-01T10:00:00Z")
            .unwrap()
            .with_timezone(&Utc)
            + Duration::seconds(secs)
    }

    fn energy(secs: i64, wh: f64) -> MeterSample {
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

    fn started(meter: f64) -> SessionEvent {
        let kind = SessionEventKind::Started {
            meter_start_wh: Some(meter),
            reason: None,
            remote_start_id: None,
        };
        event(kind, 0, vec![])
    }

    fn stopped(meter: Option<f64>, secs: i64) -> SessionEvent {
        let kind = SessionEventKind::Stopped {
            meter_stop_wh: meter,
            reason: "Local".into(),
        };
        event(kind, secs, vec![])
    }

    fn updated(secs: i64, wh: f64) -> SessionEvent {
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
            started(1000.0),
            updated(60, 2000.0),
            updated(120, 3000.0),
            stopped(Some(4500.0), 180),
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
            assert_eq!(session.energy_wh(), Some(3500.0));
            assert_eq!(completions, 1);
            assert_eq!(session.series.len(), 2);
            let completion = session.completion.unwrap();
            assert_eq!(completion.duration_seconds, 180);
            assert_eq!(completion.started_at, t(0));
        }
    }

    #[test]
    fn redelivery_changes_nothing() {
        let (s, _) = fold(&[&started(0.0), &updated(60, 10.0)]);
        let s = s.unwrap();
        assert_eq!(Session::apply(Some(&s), &updated(60, 10.0)), Change::Unchanged);
        assert_eq!(Session::apply(Some(&s), &started(0.0)), Change::Unchanged);
    }

    #[test]
    fn without_a_meter_stop_the_last_register_reading_before_the_stop_counts() {
        // GIVEN a 2.0.1-like session: no meter start or stop, only readings
        let mut start = started(0.0);
        start.kind = SessionEventKind::Started {
            meter_start_wh: None,
            reason: Some("Authorized".into()),
            remote_start_id: None,
        };
        start.samples = vec![energy(0, 500.0).with_context(ReadingContext::TransactionBegin)];
        let late = updated(999, 9999.0);
        // WHEN it stops without a meterStop THEN the readings bound the energy
        let (s, _) = fold(&[&start, &updated(60, 700.0), &late, &stopped(None, 120)]);
        assert_eq!(s.unwrap().energy_wh(), Some(200.0));
    }

    #[test]
    fn completion_freezes_what_billing_was_told() {
        let (s, _) = fold(&[&started(100.0), &stopped(Some(300.0), 60)]);
        let s = s.unwrap();
        // A second, earlier stop after completion changes neither the stop nor the energy.
        let Change::Unchanged = Session::apply(Some(&s), &stopped(Some(200.0), 30)) else {
            panic!("a completed session's stop is fixed");
        };
        // Late readings still join the series.
        let Change::Updated(later) = Session::apply(Some(&s), &updated(45, 250.0)) else {
            panic!("late readings are kept");
        };
        assert_eq!(later.energy_wh(), Some(200.0));
        assert_eq!(later.series.len(), 1);
    }

    #[test]
    fn the_earliest_token_authorizes_the_stop_token_is_kept_apart() {
        let mut stop = stopped(Some(10.0), 60);
        stop.id_token = Some(IdToken::parse_16("OTHER").unwrap());
        let (s, _) = fold(&[&stop, &started(0.0)]);
        let s = s.unwrap();
        assert_eq!(s.id_token.unwrap().token.as_str(), "TAG");
        assert_eq!(s.stop.unwrap().id_token.unwrap().as_str(), "OTHER");
    }

    #[test]
    fn missing_seq_nos_are_those_between_the_lowest_and_highest() {
        let mut s = Session::new(StationId::parse("CP1").unwrap(), started(0.0).transaction);
        s.seq_nos.extend([0, 1, 4, 6]);
        assert_eq!(s.missing_seq_nos(), vec![2, 3, 5]);
    }

    #[test]
    fn dedup_keys_follow_content() {
        let a = updated(60, 10.0);
        assert_eq!(a.dedup_key(), updated(60, 10.0).dedup_key());
        assert_ne!(a.dedup_key(), updated(60, 11.0).dedup_key());
        assert!(a.dedup_key().starts_with("CP1#tx16#7#"));
        assert!(a.dedup_key().len() <= 128);
    }

    #[tokio::test]
    async fn projection_announces_a_completion_once() {
        // GIVEN empty session and completion stores
        let sessions = MemorySessions::default();
        let completions = MemoryCompletions::default();
        let events = [started(1000.0), updated(60, 1500.0), stopped(Some(2000.0), 120)];
        // WHEN every event is delivered twice
        let (tokens, stations) = (MemoryTokens::default(), MemoryStations::default());
        let parties = Parties {
            tokens: &tokens,
            stations: &stations,
        };
        for e in events.iter().chain(events.iter()) {
            project(&sessions, &completions, parties, e).await.unwrap();
        }
        // THEN one record, completed once, with the energy counted once
        let session = sessions
            .get(&events[0].station, &events[0].transaction)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(session.version, 3);
        assert_eq!(session.energy_wh(), Some(1000.0));
        let published = completions.0.lock().unwrap();
        assert_eq!(published.len(), 1);
        assert_eq!(published[0].1.energy_wh, Some(1000.0));
        assert_eq!(published[0].0, "CP1#tx16#7#completed");
    }
}
