//! OCPP 2.0.1 transactions: TransactionEvent Started / Updated / Ended, keyed by the station's
//! own transactionId, exactly once under at-least-once delivery.
//!
//! Rules implemented here (OCPP 2.0.1 part 2, functional block E):
//! - The station generates the transactionId (identifierString, at most 36 characters, unique
//!   for the station, E01.FR.08); the CSMS keys the transaction by (station, transactionId).
//! - Every TransactionEvent carries a seqNo that the station increases by one per event and
//!   SHOULD restart at 0 for each transaction (E01.FR.07, "sequence numbers" in the block's
//!   introduction), so the CSMS can check that it received every number between the Started and
//!   the Ended event. Here: a seqNo already seen with the same event (type and timestamp) is a
//!   duplicate: accepted, answered the same, reported to nobody. A seqNo above every one seen
//!   that leaves numbers missing below it, back to the Started event's, is a gap: reported as an
//!   anomaly, and the event is still applied (a TransactionEvent cannot be refused). A seqNo seen
//!   before with a different event is a restarted counter (a station that rebooted, or restarts
//!   at 0): accepted and applied, and reported.
//! - Events queued while offline arrive late with `offline` set and past timestamps (E11, E12);
//!   they are accepted as they come and the session projection orders them by seqNo (see
//!   [`crate::session`]), not by arrival.
//! - When the event carries an idToken, the CSMS checks it and answers idTokenInfo (E01.FR.11,
//!   E01.FR.12; C01 for the statuses).
//! - The start energy is the energy register in the Started event's meterValue (context
//!   Transaction.Begin, E01.FR.09), the stop energy the one in the Ended event (context
//!   Transaction.End); a stoppedReason may only be omitted when it is Local (TransactionType).

use chrono::{DateTime, Utc};
use std::collections::BTreeMap;
use std::fmt;

use crate::anomaly::AnomalyKind;
use crate::id_token::{Authorization, IdToken, authorize};
use crate::meter::{MeterSample, ReadingContext, energy_register};
use crate::ports::TransactionPorts;
use crate::seq_no::{Seen, SeqNos};
use crate::session::{self, SessionError, SessionEvent, SessionEventKind, TransactionKey};
use crate::station::StationId;
use crate::transaction::record_anomaly;

/// The transactionId a 2.0.1 station generates: 1 to 36 printable ASCII characters. The
/// specification's identifierString is narrower; accepting any printable id loses no transaction
/// to a station's odd choice.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct StationTransactionId(String);

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum StationTransactionIdError {
    #[error("transaction id is empty")]
    Empty,
    #[error("transaction id is longer than 36 characters")]
    TooLong,
    #[error("transaction id may only contain printable ASCII")]
    InvalidCharacter,
}

impl StationTransactionId {
    pub const MAX_LEN: usize = 36;

    pub fn parse(raw: &str) -> Result<Self, StationTransactionIdError> {
        if raw.is_empty() {
            return Err(StationTransactionIdError::Empty);
        }
        if !raw.chars().all(|c| c.is_ascii_graphic()) {
            return Err(StationTransactionIdError::InvalidCharacter);
        }
        if raw.len() > Self::MAX_LEN {
            return Err(StationTransactionIdError::TooLong);
        }
        Ok(Self(raw.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for StationTransactionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TransactionEventType {
    Started,
    Updated,
    Ended,
}

impl TransactionEventType {
    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "Started" => Some(Self::Started),
            "Updated" => Some(Self::Updated),
            "Ended" => Some(Self::Ended),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Started => "Started",
            Self::Updated => "Updated",
            Self::Ended => "Ended",
        }
    }
}

/// A TransactionEventRequest, version-neutral where it can be.
#[derive(Debug, Clone, PartialEq)]
pub struct TransactionEvent {
    pub station: StationId,
    /// The station's organisation: its token registry answers the id token.
    pub organisation: Option<String>,
    pub event_type: TransactionEventType,
    pub transaction_id: StationTransactionId,
    pub seq_no: u32,
    pub timestamp: DateTime<Utc>,
    pub trigger_reason: String,
    pub offline: bool,
    /// Sent with the first event of a transaction only (E01.FR.16).
    pub evse: Option<u32>,
    pub connector: Option<u32>,
    pub id_token: Option<IdToken>,
    pub stopped_reason: Option<String>,
    pub remote_start_id: Option<i32>,
    pub meter_values: Vec<MeterSample>,
}

/// What the seqNo tracker remembers of each event: enough to tell a redelivery from a new event
/// that reuses the number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EventMark {
    pub event_type: TransactionEventType,
    pub timestamp: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SeqVerdict {
    New,
    /// The same event again (or a number seen so long ago that its event is no longer known:
    /// taken as a retry).
    Duplicate,
    /// A number seen before with another event: the station restarted its counter.
    Reused,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeqCheck {
    pub verdict: SeqVerdict,
    /// How many numbers this event skipped above the highest seen before it (0 for an event
    /// that is not the highest yet): the gap it opened.
    pub missing_count: u64,
    /// The first of them, at most [`SeqNoLog::MISSING_LISTED`].
    pub missing: Vec<u32>,
}

/// What the CSMS keeps of one transaction's seqNos to classify the next event, in bounded
/// space whatever the station sends: the numbers seen ([`SeqNos`]: lowest, highest, gaps), the
/// marks of the latest few, and the Started event's. Stored as one item per transaction (the
/// seqNo tracker), read and written once per TransactionEvent.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SeqNoLog {
    /// Optimistic concurrency: the version this log was saved as (0: never saved).
    pub version: u64,
    pub seen: SeqNos,
    /// The marks of the highest numbers seen, at most [`Self::MARKS`]: retries come soon.
    pub marks: BTreeMap<u32, EventMark>,
    /// The Started event's number and mark, kept so that a counter restarted at it is noticed.
    pub started: Option<(u32, EventMark)>,
}

impl SeqNoLog {
    pub const MARKS: usize = 8;
    /// Missing numbers listed in an anomaly; the rest are counted.
    pub const MISSING_LISTED: usize = 20;

    /// Classifies event `seq_no` (`mark`) against the events seen before it and notes it: a
    /// number keeps its first mark. Pure.
    pub fn observe(&mut self, seq_no: u32, mark: &EventMark) -> SeqCheck {
        let check = |verdict, missing_count, missing| SeqCheck {
            verdict,
            missing_count,
            missing,
        };
        let known = self
            .marks
            .get(&seq_no)
            .or(self.started.as_ref().filter(|(n, _)| *n == seq_no).map(|(_, m)| m));
        if let Some(seen) = known {
            let verdict = if seen == mark {
                SeqVerdict::Duplicate
            } else {
                SeqVerdict::Reused
            };
            return check(verdict, 0, Vec::new());
        }
        let opened = match self.seen.insert(seq_no) {
            Seen::Known => return check(SeqVerdict::Duplicate, 0, Vec::new()),
            Seen::New { opened } => opened,
        };
        self.marks.insert(seq_no, *mark);
        while self.marks.len() > Self::MARKS {
            self.marks.pop_first();
        }
        if mark.event_type == TransactionEventType::Started && self.started.is_none() {
            self.started = Some((seq_no, *mark));
        }
        match opened {
            Some(gap) => check(
                SeqVerdict::New,
                gap.count(),
                (gap.first..=gap.last).take(Self::MISSING_LISTED).collect(),
            ),
            None => check(SeqVerdict::New, 0, Vec::new()),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct TransactionEventAnswer {
    /// Present when the event carried an idToken.
    pub id_token_info: Option<Authorization>,
    pub seq: SeqCheck,
}

impl TransactionEvent {
    pub fn mark(&self) -> EventMark {
        EventMark {
            event_type: self.event_type,
            timestamp: self.timestamp,
        }
    }

    pub fn session_event(&self) -> SessionEvent {
        let kind = match self.event_type {
            TransactionEventType::Started => SessionEventKind::Started {
                meter_start_wh: energy_register(&self.meter_values, ReadingContext::TransactionBegin),
                reason: Some(self.trigger_reason.clone()),
                remote_start_id: self.remote_start_id,
            },
            TransactionEventType::Updated => SessionEventKind::Updated,
            TransactionEventType::Ended => SessionEventKind::Stopped {
                meter_stop_wh: energy_register(&self.meter_values, ReadingContext::TransactionEnd),
                reason: self.stopped_reason.clone().unwrap_or_else(|| "Local".to_owned()),
            },
        };
        SessionEvent {
            station: self.station.clone(),
            transaction: TransactionKey::Ocpp201(self.transaction_id.clone()),
            seq_no: Some(self.seq_no),
            timestamp: self.timestamp,
            offline: self.offline,
            evse: self.evse,
            connector: self.connector,
            id_token: self.id_token.clone(),
            kind,
            samples: self.meter_values.clone(),
        }
    }
}

/// Answers a TransactionEvent. Never refuses; duplicates get the same answer and change nothing.
///
/// The session event is published on every attempt, duplicates included: an event whose
/// publish failed is published again by the station's retry, and the queue's deduplication and
/// the idempotent projection absorb the repetition. The seqNo log decides only what the
/// operator is told. Costs a token read (with an idToken), a read and a conditional write of
/// the log, and a publish; anomalies add a write.
pub async fn transaction_event(
    ports: &TransactionPorts<'_>,
    event: &TransactionEvent,
    now: DateTime<Utc>,
) -> Result<TransactionEventAnswer, SessionError> {
    let id_token_info = match &event.id_token {
        Some(token) => Some(authorize(ports.tokens, event.organisation.as_deref(), token, now).await?),
        None => None,
    };
    let seq = observe(ports, event).await?;
    session::publish(ports.session_events, event.session_event()).await?;
    let anomaly = match seq.verdict {
        SeqVerdict::Reused => Some(AnomalyKind::SeqNoReused {
            transaction_id: event.transaction_id.clone(),
            seq_no: event.seq_no,
        }),
        SeqVerdict::New if seq.missing_count > 0 => Some(AnomalyKind::SeqNoGap {
            transaction_id: event.transaction_id.clone(),
            seq_no: event.seq_no,
            missing_count: seq.missing_count,
            missing: seq.missing.clone(),
        }),
        _ => None,
    };
    if let Some(kind) = anomaly {
        record_anomaly(ports, &event.station, kind, event.timestamp, now).await?;
    }
    Ok(TransactionEventAnswer { id_token_info, seq })
}

/// Notes the event in its transaction's seqNo log: read, classify, conditional write, again if
/// another event of the transaction got there first.
async fn observe(ports: &TransactionPorts<'_>, event: &TransactionEvent) -> Result<SeqCheck, SessionError> {
    for _ in 0..5 {
        let current = ports.seq_nos.get(&event.station, &event.transaction_id).await?;
        let expected = current.as_ref().map(|log| log.version);
        let mut log = current.unwrap_or_default();
        let before = log.clone();
        let check = log.observe(event.seq_no, &event.mark());
        if log == before {
            return Ok(check);
        }
        log.version = expected.map_or(1, |v| v + 1);
        if ports
            .seq_nos
            .save(&event.station, &event.transaction_id, &log, expected)
            .await?
        {
            return Ok(check);
        }
    }
    Err(SessionError::Contention)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::id_token::{AuthorizationStatus, IdTokenType};
    use crate::memory::MemoryCharging;
    use crate::meter::Measurand;
    use chrono::Duration;
    use rust_decimal_macros::dec;

    fn t(secs: i64) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-03-01T10:00:00Z")
            .unwrap()
            .with_timezone(&Utc)
            + Duration::seconds(secs)
    }

    fn mark(event_type: TransactionEventType, secs: i64) -> EventMark {
        EventMark {
            event_type,
            timestamp: t(secs),
        }
    }

    fn event(event_type: TransactionEventType, seq_no: u32) -> TransactionEvent {
        TransactionEvent {
            station: StationId::parse("CS1").unwrap(),
            organisation: None,
            event_type,
            transaction_id: StationTransactionId::parse("f81d4fae-7dec-11d0-a765-00a0c91e6bf6").unwrap(),
            seq_no,
            timestamp: t(i64::from(seq_no) * 60),
            trigger_reason: "Authorized".into(),
            offline: false,
            evse: Some(1),
            connector: Some(1),
            id_token: None,
            stopped_reason: None,
            remote_start_id: None,
            meter_values: vec![],
        }
    }

    #[test]
    fn transaction_ids_are_short_printable_strings() {
        assert!(StationTransactionId::parse("f81d4fae-7dec-11d0-a765-00a0c91e6bf6").is_ok());
        assert_eq!(StationTransactionId::parse(""), Err(StationTransactionIdError::Empty));
        assert_eq!(
            StationTransactionId::parse(&"x".repeat(37)),
            Err(StationTransactionIdError::TooLong)
        );
        assert_eq!(
            StationTransactionId::parse("a b"),
            Err(StationTransactionIdError::InvalidCharacter)
        );
    }

    fn log_of(seen: &[(u32, EventMark)]) -> SeqNoLog {
        let mut log = SeqNoLog::default();
        for (n, m) in seen {
            log.observe(*n, m);
        }
        log
    }

    #[test]
    fn seq_nos_are_classified() {
        use TransactionEventType::*;
        let seen = log_of(&[(0, mark(Started, 0)), (1, mark(Updated, 60))]);
        let check = |n, m| seen.clone().observe(n, &m);
        // The next number: new, nothing missing.
        assert_eq!(check(2, mark(Updated, 120)).verdict, SeqVerdict::New);
        assert!(check(2, mark(Updated, 120)).missing.is_empty());
        // The same event again: a duplicate.
        assert_eq!(check(1, mark(Updated, 60)).verdict, SeqVerdict::Duplicate);
        // A jump: new, with the skipped numbers missing.
        let jump = check(4, mark(Ended, 240));
        assert_eq!((jump.missing, jump.missing_count), (vec![2, 3], 2));
        // A known number with another event: the counter restarted.
        assert_eq!(check(0, mark(Updated, 300)).verdict, SeqVerdict::Reused);
        // A late event filling a hole reports nothing.
        let mut holey = log_of(&[(0, mark(Started, 0)), (3, mark(Updated, 180))]);
        assert_eq!(
            holey.observe(1, &mark(Updated, 60)),
            SeqCheck {
                verdict: SeqVerdict::New,
                missing_count: 0,
                missing: vec![]
            }
        );
        // Counting starts at the first number seen, which need not be 0.
        let continuous = log_of(&[(57, mark(Started, 0))]);
        assert_eq!(continuous.clone().observe(60, &mark(Updated, 60)).missing, vec![58, 59]);
        // The first event seen has nothing to miss.
        assert!(SeqNoLog::default().observe(5, &mark(Updated, 60)).missing.is_empty());
    }

    #[test]
    fn a_gap_of_billions_is_counted_not_listed() {
        use TransactionEventType::*;
        // GIVEN seqNo 0, WHEN the next event says 2^31-1 (or a few hundred thousand)
        for jump in [100_000, i32::MAX as u32] {
            let mut log = log_of(&[(0, mark(Started, 0))]);
            let check = log.observe(jump, &mark(Updated, 60));
            // THEN the gap is counted, its first numbers listed, nothing allocated per number
            assert_eq!(check.missing_count, u64::from(jump) - 1);
            assert_eq!(check.missing, (1..=SeqNoLog::MISSING_LISTED as u32).collect::<Vec<_>>());
            assert!(format!("{log:?}").len() < 1000);
        }
    }

    #[test]
    fn the_log_stays_small_however_many_events() {
        use TransactionEventType::*;
        // GIVEN a transaction with 20,000 events, every tenth one lost
        let mut log = SeqNoLog::default();
        log.observe(0, &mark(Started, 0));
        for n in 1..20_000u32 {
            if n % 10 != 0 {
                assert_eq!(log.observe(n, &mark(Updated, i64::from(n))).verdict, SeqVerdict::New);
            }
        }
        // THEN what is kept is bounded, and retries of the latest events are still told apart
        assert!(log.marks.len() <= SeqNoLog::MARKS);
        assert!(log.seen.gaps().len() <= SeqNos::MAX_GAPS);
        assert_eq!(log.seen.missing_count(), 1999);
        assert_eq!(
            log.clone().observe(19_999, &mark(Updated, 19_999)).verdict,
            SeqVerdict::Duplicate
        );
        assert_eq!(
            log.clone().observe(19_999, &mark(Updated, 7)).verdict,
            SeqVerdict::Reused
        );
        // AND a counter restarted at the Started number is noticed long after
        assert_eq!(
            log.clone().observe(0, &mark(Started, 99_999)).verdict,
            SeqVerdict::Reused
        );
        assert!(format!("{log:?}").len() < 4000);
    }

    #[test]
    fn started_and_ended_carry_the_transaction_meter_readings() {
        let energy = |secs, wh, ctx| {
            MeterSample::new(t(secs), Measurand::EnergyActiveImportRegister, wh, Some("kWh"), 0)
                .unwrap()
                .with_context(ctx)
        };
        let mut started = event(TransactionEventType::Started, 0);
        started.meter_values = vec![energy(0, dec!(1.25), ReadingContext::TransactionBegin)];
        let SessionEventKind::Started {
            meter_start_wh, reason, ..
        } = started.session_event().kind
        else {
            panic!("a Started event starts");
        };
        assert_eq!(
            (meter_start_wh, reason.as_deref()),
            (Some(dec!(1250)), Some("Authorized"))
        );
        let mut ended = event(TransactionEventType::Ended, 5);
        ended.meter_values = vec![energy(300, dec!(3.5), ReadingContext::TransactionEnd)];
        assert_eq!(
            ended.session_event().kind,
            SessionEventKind::Stopped {
                meter_stop_wh: Some(dec!(3500)),
                reason: "Local".into()
            }
        );
    }

    #[tokio::test]
    async fn duplicates_are_ignored_gaps_and_restarts_reported() {
        // GIVEN a station that sends Started (0), then Updated (3), then repeats 3, then reuses 0
        let world = MemoryCharging::default();
        let ports = world.ports();
        let mut restart = event(TransactionEventType::Updated, 0);
        restart.timestamp = t(999);
        for e in [
            event(TransactionEventType::Started, 0),
            event(TransactionEventType::Updated, 3),
            event(TransactionEventType::Updated, 3),
            restart,
        ] {
            transaction_event(&ports, &e, t(1000)).await.unwrap();
        }
        // THEN the gap and the restart are anomalies, the duplicate is not
        let anomalies: Vec<AnomalyKind> = world
            .anomalies
            .0
            .lock()
            .unwrap()
            .values()
            .map(|a| a.kind.clone())
            .collect();
        assert_eq!(anomalies.len(), 2);
        assert!(
            anomalies
                .iter()
                .any(|a| matches!(a, AnomalyKind::SeqNoGap { missing, .. } if missing == &vec![1, 2]))
        );
        assert!(
            anomalies
                .iter()
                .any(|a| matches!(a, AnomalyKind::SeqNoReused { seq_no: 0, .. }))
        );
        // AND every event reached the session queue once, the restarted one included
        assert_eq!(world.session_events.0.lock().unwrap().len(), 3);
    }

    #[tokio::test]
    async fn a_jump_in_seq_nos_is_reported_by_its_count_and_first_numbers() {
        // GIVEN a Started event with seqNo 0
        let world = MemoryCharging::default();
        let ports = world.ports();
        transaction_event(&ports, &event(TransactionEventType::Started, 0), t(1))
            .await
            .unwrap();
        // WHEN the next event says 100,000
        let mut jump = event(TransactionEventType::Updated, 100_000);
        jump.timestamp = t(60);
        transaction_event(&ports, &jump, t(61)).await.unwrap();
        // THEN one gap anomaly, listing a handful of the missing numbers, not all 99,999
        let anomalies = world.anomalies.0.lock().unwrap();
        let gaps: Vec<&AnomalyKind> = anomalies
            .values()
            .map(|a| &a.kind)
            .filter(|k| matches!(k, AnomalyKind::SeqNoGap { .. }))
            .collect();
        assert_eq!(gaps.len(), 1);
        let AnomalyKind::SeqNoGap { missing, .. } = gaps[0] else {
            unreachable!()
        };
        assert!(missing.len() <= 20, "{} missing numbers listed", missing.len());
        assert_eq!(missing[..3], [1, 2, 3]);
    }

    #[tokio::test]
    async fn the_answer_carries_id_token_info_when_a_token_is_sent() {
        let world = MemoryCharging::default();
        let mut e = event(TransactionEventType::Started, 0);
        assert_eq!(
            transaction_event(&world.ports(), &e, t(1)).await.unwrap().id_token_info,
            None
        );
        e.id_token = Some(IdToken::parse_201("unknown", IdTokenType::Iso14443).unwrap());
        let answer = transaction_event(&world.ports(), &e, t(1)).await.unwrap();
        assert_eq!(answer.id_token_info.unwrap().status, AuthorizationStatus::Invalid);
        assert_eq!(
            answer.seq.verdict,
            SeqVerdict::Duplicate,
            "the token does not change the event's mark"
        );
    }
}
