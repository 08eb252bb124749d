//! The JSON shape of domain events on SQS, shared by producers and consumers.

use chrono::{DateTime, Utc};
use csms_domain::{Component, StationId, StatusReport};
use serde::{Deserialize, Serialize};

/// Externally tagged (`{"StatusReported": {...}}`): serde buffers internally tagged enums, and
/// with serde_json's `arbitrary_precision` (which rust-ocpp turns on) buffered numbers no longer
/// read back as numbers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum DomainEvent {
    StatusReported(StatusReportedV1),
    SessionEvent(crate::wire::SessionEventV1),
    SessionCompleted(crate::wire::SessionCompletedV1),
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct StatusReportedV1 {
    pub station_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub evse_id: Option<u32>,
    pub connector_id: u32,
    pub status: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_code: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub info: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vendor_error_code: Option<String>,
    pub timestamp: DateTime<Utc>,
    pub received_at: DateTime<Utc>,
}

#[derive(Debug, thiserror::Error)]
pub enum EventError {
    #[error("not a domain event: {0}")]
    Json(#[from] serde_json::Error),
    #[error("invalid station id in event: {0}")]
    StationId(#[from] csms_domain::StationIdError),
    #[error(transparent)]
    Wire(#[from] crate::wire::WireError),
    #[error("a {0} event on a queue that carries other events")]
    Unexpected(&'static str),
}

impl DomainEvent {
    pub fn parse(body: &str) -> Result<Self, EventError> {
        Ok(serde_json::from_str(body)?)
    }

    /// The event's type name, for logs and errors.
    pub fn kind(&self) -> &'static str {
        match self {
            DomainEvent::StatusReported(_) => "StatusReported",
            DomainEvent::SessionEvent(_) => "SessionEvent",
            DomainEvent::SessionCompleted(_) => "SessionCompleted",
        }
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("domain events always serialize")
    }
}

impl From<&StatusReport> for StatusReportedV1 {
    fn from(r: &StatusReport) -> Self {
        Self {
            station_id: r.station_id.to_string(),
            evse_id: r.component.evse,
            connector_id: r.component.connector,
            status: r.status.clone(),
            error_code: r.error_code.clone(),
            info: r.info.clone(),
            vendor_error_code: r.vendor_error_code.clone(),
            timestamp: r.timestamp,
            received_at: r.received_at,
        }
    }
}

impl TryFrom<StatusReportedV1> for StatusReport {
    type Error = EventError;

    fn try_from(e: StatusReportedV1) -> Result<Self, EventError> {
        Ok(StatusReport {
            station_id: StationId::parse(&e.station_id)?,
            component: Component {
                evse: e.evse_id,
                connector: e.connector_id,
            },
            status: e.status,
            error_code: e.error_code,
            info: e.info,
            vendor_error_code: e.vendor_error_code,
            timestamp: e.timestamp,
            received_at: e.received_at,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_events_round_trip_and_reject_unknown_shapes() {
        let json = r#"{"StatusReported":{"stationId":"CP1","evseId":1,"connectorId":2,"status":"Occupied","timestamp":"2026-01-01T00:00:00Z","receivedAt":"2026-01-01T00:00:01Z"}}"#;
        let DomainEvent::StatusReported(e) = DomainEvent::parse(json).unwrap() else {
            panic!("not a status event")
        };
        let report = StatusReport::try_from(e.clone()).unwrap();
        assert_eq!(
            report.component,
            Component {
                evse: Some(1),
                connector: 2
            }
        );
        assert_eq!(
            DomainEvent::parse(&DomainEvent::StatusReported(e.clone()).to_json()).unwrap(),
            DomainEvent::StatusReported(e)
        );
        assert!(DomainEvent::parse(r#"{"Nope":{}}"#).is_err());
        assert!(DomainEvent::parse("not json").is_err());
    }
}
