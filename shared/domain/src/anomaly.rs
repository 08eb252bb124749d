//! Things a station sent that the CSMS accepted (it must) but the operator should look at.

use chrono::{DateTime, SecondsFormat, Utc};

use crate::station::StationId;
use crate::status::Component;
use crate::transaction::TransactionId;
use crate::transaction_event::StationTransactionId;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AnomalyKind {
    /// 1.6 StopTransaction for an id this station was never given (1.6 errata 3.18's -1 included:
    /// the station never received its StartTransaction.conf).
    /// What the stop said is kept, so the operator can settle it by hand.
    StopForUnknownTransaction {
        transaction_id: i32,
        meter_stop_wh: i64,
        id_tag: Option<String>,
    },
    /// 1.6 StopTransaction for a transaction already stopped with other data; the first stop stands.
    StopForStoppedTransaction { transaction_id: TransactionId },
    /// 1.6 MeterValues with a transactionId outside 1..2^31-1, which the CSMS never hands out.
    MeterValuesForUnknownTransaction { transaction_id: i32 },
    /// 2.0.1 seqNos that have not arrived although a later one has (2.0.1 E "sequence numbers":
    /// every number between the Started and the Ended event should arrive).
    SeqNoGap {
        transaction_id: StationTransactionId,
        seq_no: u32,
        /// How many numbers this event skipped.
        missing_count: u64,
        /// The first of them (at most 20: a station may skip billions).
        missing: Vec<u32>,
    },
    /// 2.0.1 a seqNo already seen with a different event (a station that restarted its counter).
    SeqNoReused {
        transaction_id: StationTransactionId,
        seq_no: u32,
    },
    /// A status for a connector or EVSE the station has not declared
    /// ([`status::may_report`](crate::status::may_report)); no live status is kept for it.
    UndeclaredComponent { component: Component },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Anomaly {
    pub station: StationId,
    pub kind: AnomalyKind,
    /// The station's timestamp of the message (it may be replayed from an offline queue).
    pub timestamp: DateTime<Utc>,
    pub detected_at: DateTime<Utc>,
}

impl Anomaly {
    /// Identifies the anomaly without the detection time, so a redelivered message records it once.
    pub fn key(&self) -> String {
        let what = match &self.kind {
            AnomalyKind::StopForUnknownTransaction { transaction_id, .. } => format!("stop-unknown#{transaction_id}"),
            AnomalyKind::StopForStoppedTransaction { transaction_id } => {
                format!("stop-stopped#{}", transaction_id.get())
            }
            AnomalyKind::MeterValuesForUnknownTransaction { transaction_id } => {
                format!("meter-unknown#{transaction_id}")
            }
            AnomalyKind::SeqNoGap {
                transaction_id, seq_no, ..
            } => format!("seq-gap#{transaction_id}#{seq_no}"),
            AnomalyKind::SeqNoReused { transaction_id, seq_no } => format!("seq-reused#{transaction_id}#{seq_no}"),
            AnomalyKind::UndeclaredComponent { component } => format!("undeclared#{component}"),
        };
        let at = self.timestamp.to_rfc3339_opts(SecondsFormat::Millis, true);
        format!("{}#{what}#{at}", self.station)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_ignore_the_detection_time() {
        let at = DateTime::parse_from_rfc3339("2026-03-01T10:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let a = Anomaly {
            station: StationId::parse("CP1").unwrap(),
            kind: AnomalyKind::StopForUnknownTransaction {
                transaction_id: -1,
                meter_stop_wh: 5,
                id_tag: None,
            },
            timestamp: at,
            detected_at: at,
        };
        let mut b = a.clone();
        b.detected_at = at + chrono::Duration::minutes(5);
        assert_eq!(a.key(), b.key());
        assert_eq!(a.key(), "CP1#stop-unknown#-1#2026-03-01T10:00:00.000Z");
    }
}
