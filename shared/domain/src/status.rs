//! Connector and EVSE availability, as stations report it.

use chrono::{DateTime, Utc};
use std::fmt;

use crate::station::StationId;

/// What a status is about: a 1.6 connector (0 = the whole station) or a 2.0.1 EVSE connector.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Component {
    pub evse: Option<u32>,
    pub connector: u32,
}

impl Component {
    /// The storage key, e.g. `connector#1` or `evse#1#connector#2`.
    pub fn key(&self) -> String {
        self.to_string()
    }

    pub fn parse_key(key: &str) -> Option<Self> {
        let parts: Vec<&str> = key.split('#').collect();
        match parts.as_slice() {
            ["connector", c] => Some(Self {
                evse: None,
                connector: c.parse().ok()?,
            }),
            ["evse", e, "connector", c] => Some(Self {
                evse: Some(e.parse().ok()?),
                connector: c.parse().ok()?,
            }),
            _ => None,
        }
    }
}

impl fmt::Display for Component {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.evse {
            Some(evse) => write!(f, "evse#{evse}#connector#{}", self.connector),
            None => write!(f, "connector#{}", self.connector),
        }
    }
}

/// One StatusNotification, version-neutral. `status` keeps the version's own word
/// (1.6: Available, Preparing, Charging, ...; 2.0.1: Available, Occupied, ...).
#[derive(Debug, Clone, PartialEq)]
pub struct StatusReport {
    pub station_id: StationId,
    pub component: Component,
    pub status: String,
    pub error_code: Option<String>,
    pub info: Option<String>,
    pub vendor_error_code: Option<String>,
    /// When the station says the status changed (it may be replayed from an offline queue).
    pub timestamp: DateTime<Utc>,
    pub received_at: DateTime<Utc>,
}

/// The current status of one component, and since when it has held.
#[derive(Debug, Clone, PartialEq)]
pub struct Availability {
    pub station_id: StationId,
    pub component: Component,
    pub status: String,
    pub error_code: Option<String>,
    pub since: DateTime<Utc>,
    /// Timestamp of the report this view was built from; older reports are ignored.
    pub reported_at: DateTime<Utc>,
}

impl Availability {
    /// Applies a report to the current view. None when the report changes nothing: it is older
    /// than the view (a replay or a reordering) or a redelivery of the report the view holds.
    pub fn apply(current: Option<&Availability>, report: &StatusReport) -> Option<Availability> {
        let since = match current {
            Some(cur) if report.timestamp < cur.reported_at => return None,
            Some(cur)
                if report.timestamp == cur.reported_at
                    && cur.status == report.status
                    && cur.error_code == report.error_code =>
            {
                return None;
            }
            Some(cur) if cur.status == report.status => cur.since,
            _ => report.timestamp,
        };
        Some(Availability {
            station_id: report.station_id.clone(),
            component: report.component,
            status: report.status.clone(),
            error_code: report.error_code.clone(),
            since,
            reported_at: report.timestamp,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn report(status: &str, ts: &str) -> StatusReport {
        StatusReport {
            station_id: StationId::parse("CP1").unwrap(),
            component: Component {
                evse: None,
                connector: 1,
            },
            status: status.into(),
            error_code: Some("NoError".into()),
            info: None,
            vendor_error_code: None,
            timestamp: at(ts),
            received_at: at(ts),
        }
    }

    #[test]
    fn component_keys_round_trip() {
        for c in [
            Component {
                evse: None,
                connector: 0,
            },
            Component {
                evse: Some(2),
                connector: 1,
            },
        ] {
            assert_eq!(Component::parse_key(&c.key()), Some(c));
        }
        assert_eq!(Component::parse_key("evse#x#connector#1"), None);
        assert_eq!(Component::parse_key("bogus"), None);
    }

    #[test]
    fn first_report_sets_since() {
        let view = Availability::apply(None, &report("Available", "2026-01-01T00:00:00Z")).unwrap();
        assert_eq!(view.since, at("2026-01-01T00:00:00Z"));
    }

    #[test]
    fn same_status_keeps_since_new_status_moves_it() {
        let v1 = Availability::apply(None, &report("Available", "2026-01-01T00:00:00Z")).unwrap();
        let v2 = Availability::apply(Some(&v1), &report("Available", "2026-01-01T00:05:00Z")).unwrap();
        assert_eq!(v2.since, v1.since);
        assert_eq!(v2.reported_at, at("2026-01-01T00:05:00Z"));
        let v3 = Availability::apply(Some(&v2), &report("Charging", "2026-01-01T00:06:00Z")).unwrap();
        assert_eq!(v3.since, at("2026-01-01T00:06:00Z"));
    }

    #[test]
    fn older_reports_and_redeliveries_change_nothing() {
        let v1 = Availability::apply(None, &report("Charging", "2026-01-01T00:10:00Z")).unwrap();
        assert_eq!(
            Availability::apply(Some(&v1), &report("Available", "2026-01-01T00:09:00Z")),
            None
        );
        assert_eq!(
            Availability::apply(Some(&v1), &report("Charging", "2026-01-01T00:10:00Z")),
            None
        );
    }
}

use crate::anomaly::{Anomaly, AnomalyKind};
use crate::ports::{AnomalyLog, AvailabilityRepository, StationRepository, StatusHistory, StoreError};
use crate::station::Connector;

/// Connector and EVSE ids up to this may be reported by a station that declares no connectors.
pub const UNDECLARED_MAX_ID: u32 = 8;

/// Whether a station that declared `declared` may have a live status for `component`: a declared
/// connector, or the station as a whole (connector 0, 1.6's way; 2.0.1 has no such report but
/// EVSE 0 means the same). A station that declares nothing may use ids up to
/// [`UNDECLARED_MAX_ID`]. Either way a pile cannot make up availability items without bound,
/// and every station view reads them all.
pub fn may_report(declared: &[Connector], component: Component) -> bool {
    if component.connector == 0 && component.evse.unwrap_or(0) == 0 {
        return true;
    }
    if declared.is_empty() {
        return component.connector <= UNDECLARED_MAX_ID && component.evse.unwrap_or(0) <= UNDECLARED_MAX_ID;
    }
    declared.iter().any(|c| c.component() == component)
}

/// The ports the status consumer uses.
#[derive(Clone, Copy)]
pub struct StatusPorts<'a> {
    pub stations: &'a dyn StationRepository,
    pub anomalies: &'a dyn AnomalyLog,
    pub availability: &'a dyn AvailabilityRepository,
    pub history: &'a dyn StatusHistory,
}

/// What became of a report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Taken {
    Recorded(Recorded),
    /// For a component the station has not declared: kept as an anomaly only.
    Undeclared,
}

/// Takes a status report from the queue: recorded ([`record`]) if the station may report that
/// component ([`may_report`]; one station read), otherwise kept as an anomaly. Idempotent.
/// A station no longer registered has no declared connectors.
pub async fn take(ports: StatusPorts<'_>, report: &StatusReport, now: DateTime<Utc>) -> Result<Taken, StoreError> {
    let declared = ports
        .stations
        .get(&report.station_id)
        .await?
        .map(|s| s.connectors)
        .unwrap_or_default();
    if may_report(&declared, report.component) {
        return Ok(Taken::Recorded(
            record(ports.availability, ports.history, report).await?,
        ));
    }
    let anomaly = Anomaly {
        station: report.station_id.clone(),
        kind: AnomalyKind::UndeclaredComponent {
            component: report.component,
        },
        timestamp: report.timestamp,
        detected_at: now,
    };
    ports.anomalies.record(&anomaly).await?;
    Ok(Taken::Undeclared)
}

/// Outcome of recording a status report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Recorded {
    /// The availability view changed.
    Updated,
    /// The report was older than the view or already applied; only the history holds it.
    Unchanged,
}

/// Projects a report into the availability view and the history. Idempotent: applying the same
/// report again, or an older one, leaves the view as it is. Concurrent writers are resolved by
/// an optimistic check on the view's `reported_at`.
pub async fn record(
    availability: &dyn AvailabilityRepository,
    history: &dyn StatusHistory,
    report: &StatusReport,
) -> Result<Recorded, StoreError> {
    history.append(report).await?;
    for _ in 0..3 {
        let current = availability.get(&report.station_id, report.component).await?;
        let Some(next) = Availability::apply(current.as_ref(), report) else {
            return Ok(Recorded::Unchanged);
        };
        if availability.replace(&next, current.map(|c| c.reported_at)).await? {
            return Ok(Recorded::Updated);
        }
    }
    Err(StoreError::Backend(
        "the availability view kept changing under us".into(),
    ))
}
