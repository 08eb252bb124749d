//! OCPP 1.6 transactions: StartTransaction, MeterValues and StopTransaction, exactly once under
//! at-least-once delivery.
//!
//! Rules implemented here (OCPP 1.6 edition 2 and its errata):
//! - StartTransaction.conf MUST carry a transactionId and an IdTagInfo, and the CSMS MUST check
//!   the idTag, which the station may have authorized with stale data (section 4.8). A Blocked,
//!   Expired or Invalid tag still gets its transaction id: the station decides what to do
//!   (StopTransactionOnInvalidId), and sanity checks SHOULD NOT keep the CSMS from answering.
//! - Transaction ids are 1..=2^31-1 (an int32 on the wire), unique across the system, drawn from
//!   one atomic counter. 0 and negatives are never handed out, so the -1 a station uses when it
//!   never got its StartTransaction.conf (errata 3.18) matches nothing.
//! - Transaction-related messages are retried until answered and replayed from offline queues
//!   (section 3.7), so a StartTransaction arrives more than once: the same (station, connector,
//!   idTag, timestamp, meterStart) gets the same transaction id.
//! - The CSMS cannot prevent a transaction from stopping (section 4.10): every StopTransaction is
//!   answered. One for an unknown transaction, or for one already stopped with other data, is
//!   recorded as an anomaly for the operator; a repeated stop changes nothing. An absent reason
//!   means Local (section 4.10). The answer's IdTagInfo is given when an idTag was sent.
//! - MeterValues with a transactionId belong to that transaction's session; without one they
//!   are the station's own readings (section 4.7).
//!
//! Every accepted message publishes its session event again when retried: the first publish may
//! have failed after the store was written, and the queue's deduplication and the idempotent
//! projection absorb the repetition. That is what keeps a retried stop from being lost.

use chrono::{DateTime, SecondsFormat, Utc};
use rust_decimal::Decimal;

use crate::anomaly::{Anomaly, AnomalyKind};
use crate::id_token::{Authorization, IdToken, authorize};
use crate::meter::MeterSample;
use crate::ports::TransactionPorts;
use crate::session::{self, SessionError, SessionEvent, SessionEventKind, TransactionKey};
use crate::station::StationId;

/// A transaction id the CSMS hands out in StartTransaction.conf: 1..=2^31-1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TransactionId(i32);

impl TransactionId {
    pub fn new(raw: i64) -> Option<Self> {
        i32::try_from(raw).ok().filter(|id| *id > 0).map(Self)
    }

    pub fn get(self) -> i32 {
        self.0
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct StartTransaction {
    pub station: StationId,
    /// The station's organisation: its token registry answers the id token.
    pub organisation: Option<String>,
    pub connector: u32,
    pub id_tag: IdToken,
    pub meter_start_wh: i64,
    pub timestamp: DateTime<Utc>,
    pub reservation_id: Option<i32>,
}

/// What makes two StartTransactions the same start (the design brief's business key).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct StartKey {
    pub station: StationId,
    /// `connector#IDTAG#timestamp#meterStart`, the idTag case-folded and the timestamp in
    /// milliseconds, so equal starts have equal keys.
    pub key: String,
}

impl StartTransaction {
    pub fn start_key(&self) -> StartKey {
        let at = self.timestamp.to_rfc3339_opts(SecondsFormat::Millis, true);
        StartKey {
            station: self.station.clone(),
            key: format!("{}#{}#{at}#{}", self.connector, self.id_tag.key(), self.meter_start_wh),
        }
    }
}

/// A 1.6 transaction as the CSMS records it.
#[derive(Debug, Clone, PartialEq)]
pub struct Transaction {
    pub station: StationId,
    pub id: TransactionId,
    pub connector: u32,
    pub id_tag: IdToken,
    pub meter_start_wh: i64,
    pub started_at: DateTime<Utc>,
    pub reservation_id: Option<i32>,
    pub stop: Option<Stop>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Stop {
    pub meter_stop_wh: i64,
    pub timestamp: DateTime<Utc>,
    pub reason: String,
    pub id_tag: Option<IdToken>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct StartAnswer {
    pub transaction_id: TransactionId,
    pub id_tag_info: Authorization,
}

/// Answers a StartTransaction: the same transaction id for every retry of the same start.
///
/// Costs a token read, a counter increment, a conditional claim, a conditional create and a
/// publish. A retry burns a counter value (2^31 of them are plenty) rather than paying a read
/// on every first attempt.
pub async fn start_transaction(
    ports: &TransactionPorts<'_>,
    request: &StartTransaction,
    now: DateTime<Utc>,
) -> Result<StartAnswer, SessionError> {
    let id_tag_info = authorize(ports.tokens, request.organisation.as_deref(), &request.id_tag, now).await?;
    let candidate = ports.transaction_ids.next().await?;
    let candidate =
        TransactionId::new(i64::try_from(candidate).unwrap_or(i64::MAX)).ok_or(SessionError::IdsExhausted)?;
    let id = ports.start_claims.claim(&request.start_key(), candidate).await?;
    let transaction = Transaction {
        station: request.station.clone(),
        id,
        connector: request.connector,
        id_tag: request.id_tag.clone(),
        meter_start_wh: request.meter_start_wh,
        started_at: request.timestamp,
        reservation_id: request.reservation_id,
        stop: None,
    };
    // Also on a retry: the first attempt may have died between the claim and the create.
    ports.transactions.create(&transaction).await?;
    let event = SessionEvent {
        station: request.station.clone(),
        transaction: TransactionKey::Ocpp16(id),
        seq_no: None,
        timestamp: request.timestamp,
        offline: false,
        evse: None,
        connector: Some(request.connector),
        id_token: Some(request.id_tag.clone()),
        kind: SessionEventKind::Started {
            meter_start_wh: Some(Decimal::from(request.meter_start_wh)),
            reason: None,
            remote_start_id: None,
        },
        samples: Vec::new(),
    };
    session::publish(ports.session_events, event).await?;
    Ok(StartAnswer {
        transaction_id: id,
        id_tag_info,
    })
}

#[derive(Debug, Clone, PartialEq)]
pub struct MeterValues {
    pub station: StationId,
    pub connector: u32,
    pub transaction_id: Option<i32>,
    pub samples: Vec<MeterSample>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MeterValuesOutcome {
    /// Published to the transaction's session.
    InTransaction(TransactionId),
    /// The station's own readings (no transaction, or one that cannot exist): the caller may keep
    /// them as station metering.
    OutsideTransaction,
}

/// Takes a MeterValues. Within a transaction the readings go to its session; no store is read,
/// so a MeterValues costs one publish.
pub async fn meter_values(
    ports: &TransactionPorts<'_>,
    request: &MeterValues,
    now: DateTime<Utc>,
) -> Result<MeterValuesOutcome, SessionError> {
    let Some(raw) = request.transaction_id else {
        return Ok(MeterValuesOutcome::OutsideTransaction);
    };
    let timestamp = request.samples.iter().map(|s| s.timestamp).max().unwrap_or(now);
    let Some(id) = TransactionId::new(raw.into()) else {
        let kind = AnomalyKind::MeterValuesForUnknownTransaction { transaction_id: raw };
        record_anomaly(ports, &request.station, kind, timestamp, now).await?;
        return Ok(MeterValuesOutcome::OutsideTransaction);
    };
    if request.samples.is_empty() {
        return Ok(MeterValuesOutcome::InTransaction(id));
    }
    let event = SessionEvent {
        station: request.station.clone(),
        transaction: TransactionKey::Ocpp16(id),
        seq_no: None,
        timestamp,
        offline: false,
        evse: None,
        connector: Some(request.connector),
        id_token: None,
        kind: SessionEventKind::Updated,
        samples: request.samples.clone(),
    };
    session::publish(ports.session_events, event).await?;
    Ok(MeterValuesOutcome::InTransaction(id))
}

#[derive(Debug, Clone, PartialEq)]
pub struct StopTransaction {
    pub station: StationId,
    /// The station's organisation: its token registry answers the id token.
    pub organisation: Option<String>,
    pub transaction_id: i32,
    pub id_tag: Option<IdToken>,
    pub meter_stop_wh: i64,
    pub timestamp: DateTime<Utc>,
    /// The 1.6 Reason; None means Local.
    pub reason: Option<String>,
    pub transaction_data: Vec<MeterSample>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StopOutcome {
    Stopped,
    /// The same stop again (a retry): nothing changed.
    Duplicate,
    /// Stopped before with other data; recorded as an anomaly, the first stop stands.
    AlreadyStopped,
    /// No such transaction for this station; recorded as an anomaly.
    UnknownTransaction,
}

#[derive(Debug, Clone, PartialEq)]
pub struct StopAnswer {
    /// Present when the request carried an idTag.
    pub id_tag_info: Option<Authorization>,
    pub outcome: StopOutcome,
}

/// Answers a StopTransaction. Never refuses: whatever the outcome, the caller sends a CALLRESULT.
pub async fn stop_transaction(
    ports: &TransactionPorts<'_>,
    request: &StopTransaction,
    now: DateTime<Utc>,
) -> Result<StopAnswer, SessionError> {
    let id_tag_info = match &request.id_tag {
        Some(tag) => Some(authorize(ports.tokens, request.organisation.as_deref(), tag, now).await?),
        None => None,
    };
    let answer = |outcome| StopAnswer {
        id_tag_info: id_tag_info.clone(),
        outcome,
    };
    let unknown = AnomalyKind::StopForUnknownTransaction {
        transaction_id: request.transaction_id,
        meter_stop_wh: request.meter_stop_wh,
        id_tag: request.id_tag.as_ref().map(|t| t.as_str().to_owned()),
    };
    let Some(id) = TransactionId::new(request.transaction_id.into()) else {
        record_anomaly(ports, &request.station, unknown, request.timestamp, now).await?;
        return Ok(answer(StopOutcome::UnknownTransaction));
    };
    let stop = Stop {
        meter_stop_wh: request.meter_stop_wh,
        timestamp: request.timestamp,
        reason: request.reason.clone().unwrap_or_else(|| "Local".to_owned()),
        id_tag: request.id_tag.clone(),
    };
    let outcome = match ports.transactions.stop(&request.station, id, &stop).await? {
        None => StopOutcome::UnknownTransaction,
        Some(before) => match before.stop {
            None => StopOutcome::Stopped,
            Some(first) if first == stop => StopOutcome::Duplicate,
            Some(_) => StopOutcome::AlreadyStopped,
        },
    };
    match outcome {
        StopOutcome::Stopped | StopOutcome::Duplicate => {
            let event = SessionEvent {
                station: request.station.clone(),
                transaction: TransactionKey::Ocpp16(id),
                seq_no: None,
                timestamp: request.timestamp,
                offline: false,
                evse: None,
                connector: None,
                id_token: request.id_tag.clone(),
                kind: SessionEventKind::Stopped {
                    meter_stop_wh: Some(Decimal::from(request.meter_stop_wh)),
                    reason: stop.reason.clone(),
                },
                samples: request.transaction_data.clone(),
            };
            session::publish(ports.session_events, event).await?;
        }
        StopOutcome::AlreadyStopped => {
            let kind = AnomalyKind::StopForStoppedTransaction { transaction_id: id };
            record_anomaly(ports, &request.station, kind, request.timestamp, now).await?;
        }
        StopOutcome::UnknownTransaction => {
            record_anomaly(ports, &request.station, unknown, request.timestamp, now).await?;
        }
    }
    Ok(answer(outcome))
}

pub(crate) async fn record_anomaly(
    ports: &TransactionPorts<'_>,
    station: &StationId,
    kind: AnomalyKind,
    timestamp: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<(), SessionError> {
    let anomaly = Anomaly {
        station: station.clone(),
        kind,
        timestamp,
        detected_at: now,
    };
    // The key names the anomaly; its details (an idTag among them) stay out of the log.
    tracing::warn!(station = %station, anomaly = %anomaly.key(), "transaction anomaly");
    Ok(ports.anomalies.record(&anomaly).await?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::id_token::{AuthorizationStatus, TokenRecord};
    use crate::memory::MemoryCharging;
    use crate::meter::Measurand;
    use crate::ports::TokenRepository;
    use chrono::Duration;
    use rust_decimal_macros::dec;

    fn t(secs: i64) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-03-01T10:00:00Z")
            .unwrap()
            .with_timezone(&Utc)
            + Duration::seconds(secs)
    }

    fn cp1() -> StationId {
        StationId::parse("CP1").unwrap()
    }

    fn start(tag: &str, meter: i64) -> StartTransaction {
        StartTransaction {
            station: cp1(),
            organisation: None,
            connector: 1,
            id_tag: IdToken::parse_16(tag).unwrap(),
            meter_start_wh: meter,
            timestamp: t(0),
            reservation_id: None,
        }
    }

    fn stop(id: i32, meter: i64) -> StopTransaction {
        StopTransaction {
            station: cp1(),
            organisation: None,
            transaction_id: id,
            id_tag: None,
            meter_stop_wh: meter,
            timestamp: t(600),
            reason: None,
            transaction_data: vec![],
        }
    }

    async fn world() -> MemoryCharging {
        let world = MemoryCharging::default();
        let record = TokenRecord {
            token: IdToken::parse_16("GOOD").unwrap(),
            status: AuthorizationStatus::Accepted,
            expiry: None,
            group: None,
            owner: None,
            organisation: None,
        };
        world.tokens.put(&record).await.unwrap();
        world
    }

    #[test]
    fn transaction_ids_are_positive_int32() {
        assert_eq!(TransactionId::new(1).map(TransactionId::get), Some(1));
        assert!(TransactionId::new(i32::MAX.into()).is_some());
        for bad in [0, -1, i64::from(i32::MAX) + 1] {
            assert_eq!(TransactionId::new(bad), None, "{bad}");
        }
    }

    #[test]
    fn start_keys_ignore_the_case_of_the_tag() {
        assert_eq!(start("abc", 5).start_key(), start("ABC", 5).start_key());
        assert_ne!(start("abc", 5).start_key(), start("abc", 6).start_key());
        assert_eq!(start("abc", 5).start_key().key, "1#ABC#2026-03-01T10:00:00.000Z#5");
    }

    #[tokio::test]
    async fn a_retried_start_gets_the_same_id_and_a_new_start_another() {
        // GIVEN a registry with one accepted tag
        let world = world().await;
        // WHEN the same start arrives twice, and then another start
        let first = start_transaction(&world.ports(), &start("good", 1000), t(1))
            .await
            .unwrap();
        let retry = start_transaction(&world.ports(), &start("GOOD", 1000), t(31))
            .await
            .unwrap();
        let other = start_transaction(&world.ports(), &start("GOOD", 2000), t(61))
            .await
            .unwrap();
        // THEN the retry gets the first id, the other start a new one
        assert_eq!(first.transaction_id, retry.transaction_id);
        assert_ne!(first.transaction_id, other.transaction_id);
        assert_eq!(first.id_tag_info.status, AuthorizationStatus::Accepted);
        let stored = world.transactions.0.lock().unwrap();
        assert_eq!(stored.len(), 2);
    }

    #[tokio::test]
    async fn an_unknown_tag_still_gets_a_transaction() {
        let world = world().await;
        let answer = start_transaction(&world.ports(), &start("STRANGER", 0), t(1))
            .await
            .unwrap();
        assert_eq!(answer.id_tag_info.status, AuthorizationStatus::Invalid);
        assert_eq!(answer.transaction_id.get(), 1);
    }

    #[tokio::test]
    async fn ids_run_out_at_two_to_the_thirty_one() {
        let world = world().await;
        world.transaction_ids.set(u64::try_from(i32::MAX).unwrap());
        let result = start_transaction(&world.ports(), &start("GOOD", 0), t(1)).await;
        assert!(matches!(result, Err(SessionError::IdsExhausted)));
    }

    #[tokio::test]
    async fn stops_are_always_answered_and_anomalies_recorded() {
        // GIVEN a started transaction
        let world = world().await;
        let id = start_transaction(&world.ports(), &start("GOOD", 1000), t(1))
            .await
            .unwrap()
            .transaction_id
            .get();
        let ports = world.ports();
        // WHEN it is stopped, stopped again identically, and stopped with other data
        let first = stop_transaction(&ports, &stop(id, 5000), t(601)).await.unwrap();
        let again = stop_transaction(&ports, &stop(id, 5000), t(631)).await.unwrap();
        let other = stop_transaction(&ports, &stop(id, 6000), t(661)).await.unwrap();
        // AND stops arrive for transactions that do not exist
        let unknown = stop_transaction(&ports, &stop(id + 1, 1), t(700)).await.unwrap();
        let never_started = stop_transaction(&ports, &stop(-1, 1), t(700)).await.unwrap();
        // THEN every stop is answered, and only the odd ones are anomalies
        assert_eq!(first.outcome, StopOutcome::Stopped);
        assert_eq!(again.outcome, StopOutcome::Duplicate);
        assert_eq!(other.outcome, StopOutcome::AlreadyStopped);
        assert_eq!(unknown.outcome, StopOutcome::UnknownTransaction);
        assert_eq!(never_started.outcome, StopOutcome::UnknownTransaction);
        let anomalies: Vec<AnomalyKind> = world
            .anomalies
            .0
            .lock()
            .unwrap()
            .values()
            .map(|a| a.kind.clone())
            .collect();
        assert_eq!(anomalies.len(), 3);
        assert!(
            anomalies
                .iter()
                .any(|a| matches!(a, AnomalyKind::StopForUnknownTransaction { transaction_id: -1, .. }))
        );
        // AND the first stop stands
        let transactions = world.transactions.0.lock().unwrap();
        let stored = transactions.values().next().unwrap();
        assert_eq!(stored.stop.as_ref().unwrap().meter_stop_wh, 5000);
        assert_eq!(stored.stop.as_ref().unwrap().reason, "Local");
    }

    #[tokio::test]
    async fn the_stop_answer_carries_the_tag_status_when_a_tag_is_sent() {
        let world = world().await;
        let mut request = stop(1, 10);
        assert_eq!(
            stop_transaction(&world.ports(), &request, t(1))
                .await
                .unwrap()
                .id_tag_info,
            None
        );
        request.id_tag = Some(IdToken::parse_16("GOOD").unwrap());
        let answer = stop_transaction(&world.ports(), &request, t(1)).await.unwrap();
        assert_eq!(answer.id_tag_info.unwrap().status, AuthorizationStatus::Accepted);
    }

    #[tokio::test]
    async fn meter_values_go_to_the_session_or_stay_the_stations() {
        let world = world().await;
        let ports = world.ports();
        let sample = MeterSample::new(t(60), Measurand::EnergyActiveImportRegister, dec!(1.5), Some("kWh"), 0).unwrap();
        let mut request = MeterValues {
            station: cp1(),
            connector: 1,
            transaction_id: None,
            samples: vec![sample],
        };
        assert_eq!(
            meter_values(&ports, &request, t(61)).await.unwrap(),
            MeterValuesOutcome::OutsideTransaction
        );
        request.transaction_id = Some(-1);
        assert_eq!(
            meter_values(&ports, &request, t(61)).await.unwrap(),
            MeterValuesOutcome::OutsideTransaction
        );
        request.transaction_id = Some(3);
        let outcome = meter_values(&ports, &request, t(61)).await.unwrap();
        assert_eq!(
            outcome,
            MeterValuesOutcome::InTransaction(TransactionId::new(3).unwrap())
        );
        let published = world.session_events.0.lock().unwrap();
        assert_eq!(published.len(), 1);
        assert_eq!(published[0].1.kind, SessionEventKind::Updated);
        assert_eq!(published[0].1.samples[0].value, dec!(1500));
        assert_eq!(world.anomalies.0.lock().unwrap().len(), 1);
    }
}
