//! JSON shapes of charging records and events, for SQS bodies and DynamoDB record attributes.
//! Domain types stay free of serde; these mirror them field by field.

//!
//! Meter values and energy are `Decimal`s, written as JSON strings ("1500.25") so that no
//! reader takes them for binary floats; numbers written before are read as well.

use chrono::{DateTime, Utc};
use csms_domain::meter::{Measurand, MeterSample, Phase, ReadingContext};
use csms_domain::seq_no::{Gap, SeqNos};
use csms_domain::session::{Completion, MeterSummary, Ordinal, SeenToken, SessionStart, SessionStop};
use csms_domain::transaction_event::{EventMark, SeqNoLog};
use csms_domain::*;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

#[derive(Debug, thiserror::Error)]
#[error("stored or queued record is malformed: {0}")]
pub struct WireError(pub String);

fn bad(what: impl std::fmt::Display) -> WireError {
    WireError(what.to_string())
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct IdTokenV1 {
    pub value: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
}

impl From<&IdToken> for IdTokenV1 {
    fn from(t: &IdToken) -> Self {
        Self {
            value: t.as_str().to_owned(),
            kind: t.kind().map(|k| k.as_str().to_owned()),
        }
    }
}

impl TryFrom<&IdTokenV1> for IdToken {
    type Error = WireError;
    fn try_from(t: &IdTokenV1) -> Result<Self, WireError> {
        match &t.kind {
            Some(kind) => {
                let kind = IdTokenType::parse(kind).ok_or_else(|| bad(format!("id token type {kind}")))?;
                IdToken::parse_201(&t.value, kind).map_err(bad)
            }
            None => IdToken::parse_16(&t.value).map_err(bad),
        }
    }
}

fn token(t: &Option<IdTokenV1>) -> Result<Option<IdToken>, WireError> {
    t.as_ref().map(IdToken::try_from).transpose()
}

/// `tx16#42` / `tx201#<id>`, as the domain prints it.
pub fn transaction_key(raw: &str) -> Result<TransactionKey, WireError> {
    if let Some(id) = raw.strip_prefix("tx16#") {
        let id = id
            .parse::<i64>()
            .ok()
            .and_then(TransactionId::new)
            .ok_or_else(|| bad(raw))?;
        return Ok(TransactionKey::Ocpp16(id));
    }
    if let Some(id) = raw.strip_prefix("tx201#") {
        return Ok(TransactionKey::Ocpp201(StationTransactionId::parse(id).map_err(bad)?));
    }
    Err(bad(format!("transaction key {raw}")))
}

fn station(raw: &str) -> Result<StationId, WireError> {
    StationId::parse(raw).map_err(bad)
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MeterSampleV1 {
    pub timestamp: DateTime<Utc>,
    pub measurand: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phase: Option<String>,
    pub context: String,
    pub value: Decimal,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit: Option<String>,
}

impl From<&MeterSample> for MeterSampleV1 {
    fn from(m: &MeterSample) -> Self {
        Self {
            timestamp: m.timestamp,
            measurand: m.measurand.as_str().to_owned(),
            phase: m.phase.map(|p| p.as_str().to_owned()),
            context: m.context.as_str().to_owned(),
            value: m.value,
            unit: m.unit.clone(),
        }
    }
}

impl TryFrom<&MeterSampleV1> for MeterSample {
    type Error = WireError;
    fn try_from(m: &MeterSampleV1) -> Result<Self, WireError> {
        // Already in base units: built field by field, not through MeterSample::new's
        // conversion, but held to the same bounds.
        if m.value.abs() > csms_domain::meter::MAX_MAGNITUDE || m.value.scale() > csms_domain::meter::DECIMALS {
            return Err(bad(format!("meter value {} out of range", m.value)));
        }
        Ok(MeterSample {
            timestamp: m.timestamp,
            measurand: Measurand::parse(Some(&m.measurand)),
            phase: m
                .phase
                .as_deref()
                .map(|p| Phase::parse(p).ok_or_else(|| bad(format!("phase {p}"))))
                .transpose()?,
            context: ReadingContext::parse(Some(&m.context)).ok_or_else(|| bad(format!("context {}", m.context)))?,
            value: m.value,
            unit: m.unit.clone(),
        })
    }
}

fn samples(list: &[MeterSampleV1]) -> Result<Vec<MeterSample>, WireError> {
    list.iter().map(MeterSample::try_from).collect()
}

/// Externally tagged, for the reason given on [`crate::events::DomainEvent`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum SessionEventKindV1 {
    #[serde(rename_all = "camelCase")]
    Started {
        meter_start_wh: Option<Decimal>,
        reason: Option<String>,
        remote_start_id: Option<i32>,
    },
    Updated,
    #[serde(rename_all = "camelCase")]
    Stopped {
        meter_stop_wh: Option<Decimal>,
        reason: String,
    },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SessionEventV1 {
    pub station_id: String,
    pub transaction: String,
    pub seq_no: Option<u32>,
    pub timestamp: DateTime<Utc>,
    pub offline: bool,
    pub evse: Option<u32>,
    pub connector: Option<u32>,
    pub id_token: Option<IdTokenV1>,
    pub event: SessionEventKindV1,
    pub samples: Vec<MeterSampleV1>,
}

impl From<&SessionEvent> for SessionEventV1 {
    fn from(e: &SessionEvent) -> Self {
        Self {
            station_id: e.station.to_string(),
            transaction: e.transaction.to_string(),
            seq_no: e.seq_no,
            timestamp: e.timestamp,
            offline: e.offline,
            evse: e.evse,
            connector: e.connector,
            id_token: e.id_token.as_ref().map(IdTokenV1::from),
            event: match &e.kind {
                SessionEventKind::Started {
                    meter_start_wh,
                    reason,
                    remote_start_id,
                } => SessionEventKindV1::Started {
                    meter_start_wh: *meter_start_wh,
                    reason: reason.clone(),
                    remote_start_id: *remote_start_id,
                },
                SessionEventKind::Updated => SessionEventKindV1::Updated,
                SessionEventKind::Stopped { meter_stop_wh, reason } => SessionEventKindV1::Stopped {
                    meter_stop_wh: *meter_stop_wh,
                    reason: reason.clone(),
                },
            },
            samples: e.samples.iter().map(MeterSampleV1::from).collect(),
        }
    }
}

impl TryFrom<&SessionEventV1> for SessionEvent {
    type Error = WireError;
    fn try_from(e: &SessionEventV1) -> Result<Self, WireError> {
        Ok(SessionEvent {
            station: station(&e.station_id)?,
            transaction: transaction_key(&e.transaction)?,
            seq_no: e.seq_no,
            timestamp: e.timestamp,
            offline: e.offline,
            evse: e.evse,
            connector: e.connector,
            id_token: token(&e.id_token)?,
            kind: match &e.event {
                SessionEventKindV1::Started {
                    meter_start_wh,
                    reason,
                    remote_start_id,
                } => SessionEventKind::Started {
                    meter_start_wh: *meter_start_wh,
                    reason: reason.clone(),
                    remote_start_id: *remote_start_id,
                },
                SessionEventKindV1::Updated => SessionEventKind::Updated,
                SessionEventKindV1::Stopped { meter_stop_wh, reason } => SessionEventKind::Stopped {
                    meter_stop_wh: *meter_stop_wh,
                    reason: reason.clone(),
                },
            },
            samples: samples(&e.samples)?,
        })
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SessionCompletedV1 {
    pub station_id: String,
    pub transaction: String,
    pub evse: Option<u32>,
    pub connector: Option<u32>,
    pub id_token: Option<IdTokenV1>,
    pub started_at: DateTime<Utc>,
    pub stopped_at: DateTime<Utc>,
    pub duration_seconds: i64,
    pub energy_wh: Option<Decimal>,
    pub stop_reason: String,
}

impl From<&SessionCompleted> for SessionCompletedV1 {
    fn from(c: &SessionCompleted) -> Self {
        Self {
            station_id: c.station.to_string(),
            transaction: c.transaction.to_string(),
            evse: c.evse,
            connector: c.connector,
            id_token: c.id_token.as_ref().map(IdTokenV1::from),
            started_at: c.started_at,
            stopped_at: c.stopped_at,
            duration_seconds: c.duration_seconds,
            energy_wh: c.energy_wh,
            stop_reason: c.stop_reason.clone(),
        }
    }
}

impl TryFrom<&SessionCompletedV1> for SessionCompleted {
    type Error = WireError;
    fn try_from(c: &SessionCompletedV1) -> Result<Self, WireError> {
        Ok(SessionCompleted {
            station: station(&c.station_id)?,
            transaction: transaction_key(&c.transaction)?,
            evse: c.evse,
            connector: c.connector,
            id_token: token(&c.id_token)?,
            started_at: c.started_at,
            stopped_at: c.stopped_at,
            duration_seconds: c.duration_seconds,
            energy_wh: c.energy_wh,
            stop_reason: c.stop_reason.clone(),
        })
    }
}

// ---------------------------------------------------------------------------------------------
// Stored records

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OrdinalV1 {
    pub seq_no: Option<u32>,
    pub timestamp: DateTime<Utc>,
}

impl From<&Ordinal> for OrdinalV1 {
    fn from(o: &Ordinal) -> Self {
        Self {
            seq_no: o.seq_no,
            timestamp: o.timestamp,
        }
    }
}

impl From<&OrdinalV1> for Ordinal {
    fn from(o: &OrdinalV1) -> Self {
        Ordinal {
            seq_no: o.seq_no,
            timestamp: o.timestamp,
        }
    }
}

/// Start: when, meterStart Wh, reason, remoteStartId.
type StartV1 = (OrdinalV1, Option<Decimal>, Option<String>, Option<i32>);
/// Stop: when, meterStop Wh, reason, the token that stopped it.
type StopV1 = (OrdinalV1, Option<Decimal>, String, Option<IdTokenV1>);
/// Completion: started, stopped, duration in seconds, energy Wh.
type CompletionV1 = (DateTime<Utc>, DateTime<Utc>, i64, Option<Decimal>);

/// [`MeterSummary`] as stored.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MeterSummaryV1 {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_register: Option<MeterSampleV1>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_register: Option<MeterSampleV1>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latest_power: Option<MeterSampleV1>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub earliest_at: Option<DateTime<Utc>>,
}

impl From<&MeterSummary> for MeterSummaryV1 {
    fn from(m: &MeterSummary) -> Self {
        Self {
            first_register: m.first_register.as_ref().map(MeterSampleV1::from),
            last_register: m.last_register.as_ref().map(MeterSampleV1::from),
            latest_power: m.latest_power.as_ref().map(MeterSampleV1::from),
            earliest_at: m.earliest_at,
        }
    }
}

impl TryFrom<&MeterSummaryV1> for MeterSummary {
    type Error = WireError;
    fn try_from(m: &MeterSummaryV1) -> Result<Self, WireError> {
        let sample = |s: &Option<MeterSampleV1>| s.as_ref().map(MeterSample::try_from).transpose();
        Ok(MeterSummary {
            first_register: sample(&m.first_register)?,
            last_register: sample(&m.last_register)?,
            latest_power: sample(&m.latest_power)?,
            earliest_at: m.earliest_at,
        })
    }
}

/// [`SeqNos`] as stored: the lowest and highest seen, the gaps between (first, last), and how
/// many missing numbers are no longer listed.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SeqNosV1 {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub range: Option<(u32, u32)>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub gaps: Vec<(u32, u32)>,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub forgotten: u64,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

impl From<&SeqNos> for SeqNosV1 {
    fn from(s: &SeqNos) -> Self {
        Self {
            range: s.range(),
            gaps: s.gaps().iter().map(|g| (g.first, g.last)).collect(),
            forgotten: s.forgotten(),
        }
    }
}

impl TryFrom<&SeqNosV1> for SeqNos {
    type Error = WireError;
    fn try_from(s: &SeqNosV1) -> Result<Self, WireError> {
        let gaps = s
            .gaps
            .iter()
            .map(|(first, last)| Gap {
                first: *first,
                last: *last,
            })
            .collect();
        SeqNos::from_parts(s.range, gaps, s.forgotten).ok_or_else(|| bad("seqNo ranges"))
    }
}

/// A session record as stored: bounded, whatever the session's length (its meter series is
/// stored apart, see `charging::Series`). Records written before kept the series inline
/// (`series`) and every seqNo (`seqNos`); those are still read, into the summary.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SessionV1 {
    pub evse: Option<u32>,
    pub connector: Option<u32>,
    pub id_token: Option<(OrdinalV1, IdTokenV1)>,
    pub start: Option<StartV1>,
    pub stop: Option<StopV1>,
    #[serde(default)]
    pub meter: MeterSummaryV1,
    #[serde(default)]
    pub seq: SeqNosV1,
    pub offline: bool,
    pub completion: Option<CompletionV1>,
    /// Absent in records from before announcements followed saves: those announced first.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub announced: Option<bool>,
    #[serde(default, skip_serializing)]
    pub series: Vec<MeterSampleV1>,
    #[serde(default, skip_serializing)]
    pub seq_nos: BTreeSet<u32>,
}

impl From<&Session> for SessionV1 {
    fn from(s: &Session) -> Self {
        Self {
            evse: s.evse,
            connector: s.connector,
            id_token: s.id_token.as_ref().map(|t| ((&t.at).into(), (&t.token).into())),
            start: s
                .start
                .as_ref()
                .map(|x| ((&x.at).into(), x.meter_start_wh, x.reason.clone(), x.remote_start_id)),
            stop: s.stop.as_ref().map(|x| {
                (
                    (&x.at).into(),
                    x.meter_stop_wh,
                    x.reason.clone(),
                    x.id_token.as_ref().map(IdTokenV1::from),
                )
            }),
            meter: (&s.meter).into(),
            seq: (&s.seq_nos).into(),
            offline: s.offline,
            completion: s
                .completion
                .as_ref()
                .map(|c| (c.started_at, c.stopped_at, c.duration_seconds, c.energy_wh)),
            announced: Some(s.announced),
            series: Vec::new(),
            seq_nos: BTreeSet::new(),
        }
    }
}

impl SessionV1 {
    pub fn into_session(self, station_id: &str, transaction: &str, version: u64) -> Result<Session, WireError> {
        let mut session = Session::new(station(station_id)?, transaction_key(transaction)?);
        session.version = version;
        session.evse = self.evse;
        session.connector = self.connector;
        session.id_token = match &self.id_token {
            Some((at, t)) => Some(SeenToken {
                at: at.into(),
                token: t.try_into()?,
            }),
            None => None,
        };
        session.start = self
            .start
            .as_ref()
            .map(|(at, meter_start_wh, reason, remote_start_id)| SessionStart {
                at: at.into(),
                meter_start_wh: *meter_start_wh,
                reason: reason.clone(),
                remote_start_id: *remote_start_id,
            });
        session.stop = match &self.stop {
            Some((at, meter_stop_wh, reason, t)) => Some(SessionStop {
                at: at.into(),
                meter_stop_wh: *meter_stop_wh,
                reason: reason.clone(),
                id_token: token(t)?,
            }),
            None => None,
        };
        session.meter = (&self.meter).try_into()?;
        for sample in samples(&self.series)? {
            session.meter.add(&sample);
        }
        session.seq_nos = (&self.seq).try_into()?;
        for n in self.seq_nos {
            session.seq_nos.insert(n);
        }
        session.offline = self.offline;
        session.announced = self.announced.unwrap_or(self.completion.is_some());
        session.completion = self
            .completion
            .map(|(started_at, stopped_at, duration_seconds, energy_wh)| Completion {
                started_at,
                stopped_at,
                duration_seconds,
                energy_wh,
            });
        Ok(session)
    }
}

/// What one event left in a seqNo log: its number, event type and station timestamp.
type MarkV1 = (u32, String, DateTime<Utc>);

/// A 2.0.1 transaction's [`SeqNoLog`] as stored in its tracker item (attribute `log`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SeqNoLogV1 {
    pub seen: SeqNosV1,
    pub marks: Vec<MarkV1>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub started: Option<MarkV1>,
}

fn mark_v1(n: u32, m: &EventMark) -> MarkV1 {
    (n, m.event_type.as_str().to_owned(), m.timestamp)
}

fn mark((n, kind, at): &MarkV1) -> Result<(u32, EventMark), WireError> {
    let event_type = TransactionEventType::parse(kind).ok_or_else(|| bad(format!("event type {kind}")))?;
    Ok((
        *n,
        EventMark {
            event_type,
            timestamp: *at,
        },
    ))
}

impl From<&SeqNoLog> for SeqNoLogV1 {
    fn from(log: &SeqNoLog) -> Self {
        Self {
            seen: (&log.seen).into(),
            marks: log.marks.iter().map(|(n, m)| mark_v1(*n, m)).collect(),
            started: log.started.as_ref().map(|(n, m)| mark_v1(*n, m)),
        }
    }
}

impl SeqNoLogV1 {
    pub fn into_log(self, version: u64) -> Result<SeqNoLog, WireError> {
        Ok(SeqNoLog {
            version,
            seen: (&self.seen).try_into()?,
            marks: self.marks.iter().map(mark).collect::<Result<_, _>>()?,
            started: self.started.as_ref().map(mark).transpose()?,
        })
    }
}

/// What the sessions indexes project of a session (attribute `summary`): the list view, without
/// the meter series. The station and transaction come from the item's keys.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SessionSummaryV1 {
    pub evse: Option<u32>,
    pub connector: Option<u32>,
    pub id_token: Option<IdTokenV1>,
    pub started_at: Option<DateTime<Utc>>,
    pub stopped_at: Option<DateTime<Utc>>,
    pub energy_wh: Option<Decimal>,
    pub stop_reason: Option<String>,
}

impl From<&SessionSummary> for SessionSummaryV1 {
    fn from(s: &SessionSummary) -> Self {
        Self {
            evse: s.evse,
            connector: s.connector,
            id_token: s.id_token.as_ref().map(IdTokenV1::from),
            started_at: s.started_at,
            stopped_at: s.stopped_at,
            energy_wh: s.energy_wh,
            stop_reason: s.stop_reason.clone(),
        }
    }
}

impl SessionSummaryV1 {
    pub fn into_summary(
        self,
        station_id: &str,
        transaction: &str,
        completed: bool,
    ) -> Result<SessionSummary, WireError> {
        Ok(SessionSummary {
            station: station(station_id)?,
            transaction: transaction_key(transaction)?,
            evse: self.evse,
            connector: self.connector,
            id_token: token(&self.id_token)?,
            started_at: self.started_at,
            stopped_at: self.stopped_at,
            completed,
            energy_wh: self.energy_wh,
            stop_reason: self.stop_reason,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::events::DomainEvent;
    use chrono::SubsecRound;

    /// SQS's limit on one message.
    const SQS_MAX_BYTES: usize = 256 * 1024;

    fn at() -> DateTime<Utc> {
        // Nanoseconds: the longest timestamp a station can send.
        DateTime::parse_from_rfc3339("2026-03-01T10:00:00.123456789Z")
            .unwrap()
            .with_timezone(&Utc)
    }

    /// The largest reading a validated message can carry: the longest measurand, phase and
    /// context the schemas allow (with room), a 20-character 2.0.1 unit, the widest value.
    fn widest_sample() -> MeterSample {
        let value = -(csms_domain::meter::MAX_MAGNITUDE - Decimal::new(1, csms_domain::meter::DECIMALS));
        MeterSample::new(at(), Measurand::Other("M".repeat(40)), value, Some(&"u".repeat(20)), 0)
            .unwrap()
            .with_phase(Some(Phase::L1N))
            .with_context(ReadingContext::InterruptionBegin)
    }

    fn widest_event(samples: usize) -> SessionEvent {
        SessionEvent {
            station: StationId::parse(&"S".repeat(48)).unwrap(),
            transaction: TransactionKey::Ocpp201(StationTransactionId::parse(&"t".repeat(36)).unwrap()),
            seq_no: Some(u32::MAX),
            timestamp: at(),
            offline: true,
            evse: Some(u32::MAX),
            connector: Some(u32::MAX),
            id_token: Some(IdToken::parse_201(&"i".repeat(36), IdTokenType::Iso14443).unwrap()),
            kind: SessionEventKind::Stopped {
                meter_stop_wh: Some(widest_sample().value),
                reason: "ImmediateReset".repeat(3),
            },
            samples: vec![widest_sample(); samples],
        }
    }

    fn json(event: &SessionEvent) -> String {
        DomainEvent::SessionEvent(event.into()).to_json()
    }

    #[test]
    fn a_split_event_always_fits_a_queue_message() {
        // The growth from the wire: a bare 1.6 reading is 13 bytes in a frame.
        let bare = MeterSample::new(at().trunc_subsecs(0), Measurand::parse(None), Decimal::ONE, None, 0).unwrap();
        let one = json(&widest_event(1)).len() - json(&widest_event(0)).len();
        let bare_grown = {
            let mut e = widest_event(0);
            e.samples = vec![bare; 2];
            (json(&e).len() - json(&widest_event(0)).len()) / 2
        };
        assert!(
            bare_grown >= 10 * r#"{"value":"1"}"#.len(),
            "a bare reading grows to {bare_grown} bytes"
        );
        // The widest reading, and a whole event of the most readings an event carries.
        assert!(one < 300, "the widest reading takes {one} bytes");
        let full = json(&widest_event(SessionEvent::MAX_SAMPLES)).len();
        assert!(full < 150 * 1024, "{full} bytes");
        assert!(full < SQS_MAX_BYTES);
        // What publishing makes of more: parts that each fit.
        for part in widest_event(3 * SessionEvent::MAX_SAMPLES + 1).split() {
            assert!(json(&part).len() < SQS_MAX_BYTES);
        }
    }

    #[test]
    fn records_and_events_round_trip() {
        let event = widest_event(3);
        let DomainEvent::SessionEvent(wire) = DomainEvent::parse(&json(&event)).unwrap() else {
            panic!("not a session event");
        };
        assert_eq!(SessionEvent::try_from(&wire).unwrap(), event);

        let mut session = Session::new(event.station.clone(), event.transaction.clone());
        for sample in &event.samples {
            session.meter.add(sample);
        }
        for n in [0, 5, 9, 100] {
            session.seq_nos.insert(n);
        }
        session.announced = true;
        let stored = serde_json::to_string(&SessionV1::from(&session)).unwrap();
        let read: SessionV1 = serde_json::from_str(&stored).unwrap();
        let back = read
            .into_session(event.station.as_str(), &event.transaction.to_string(), 0)
            .unwrap();
        assert_eq!(back, session);
    }

    #[test]
    fn records_from_before_the_series_moved_out_are_read() {
        // A record as the previous version wrote it: the series inline, every seqNo, numbers as
        // JSON numbers, no announcement flag (it announced before it saved).
        let old = r#"{"evse":null,"connector":1,"idToken":null,
            "start":[{"seqNo":null,"timestamp":"2026-03-01T10:00:00Z"},1000.0,null,null],
            "stop":[{"seqNo":null,"timestamp":"2026-03-01T11:00:00Z"},4500.5,"Local",null],
            "series":[{"timestamp":"2026-03-01T10:30:00Z","measurand":"Energy.Active.Import.Register",
                       "context":"Sample.Periodic","value":2500.25,"unit":"Wh"}],
            "seqNos":[0,1,3],"offline":false,
            "completion":["2026-03-01T10:00:00Z","2026-03-01T11:00:00Z",3600,3500.5]}"#;
        let session = serde_json::from_str::<SessionV1>(old)
            .unwrap()
            .into_session("CP1", "tx16#7", 3)
            .unwrap();
        assert!(session.announced);
        assert_eq!(session.energy_wh(), Some(Decimal::new(35005, 1)));
        assert_eq!(session.meter.last_register.unwrap().value, Decimal::new(250025, 2));
        assert_eq!(session.seq_nos.missing(10), vec![2]);
    }

    #[test]
    fn out_of_range_values_on_the_queue_are_refused() {
        let mut wire = MeterSampleV1::from(&widest_sample());
        wire.value = Decimal::from(10i64.pow(13));
        assert!(MeterSample::try_from(&wire).is_err());
        wire.value = Decimal::new(1, 7);
        assert!(MeterSample::try_from(&wire).is_err());
    }
}
