//! WebSocket connections of stations.

use chrono::{DateTime, Duration, Utc};

use crate::station::{ProtocolVersion, Registration, StationId};

/// One open WebSocket, as API Gateway knows it by its connection id.
#[derive(Debug, Clone, PartialEq)]
pub struct Connection {
    pub connection_id: String,
    pub station_id: StationId,
    pub protocol: ProtocolVersion,
    /// The station's boot status, copied at connect time and updated by BootNotification, so
    /// that every message can be gated without reading the station.
    pub boot: Option<Registration>,
    /// The station's organisation, copied at connect time: its token registry answers the
    /// station's Authorize without another read. (A station's organisation never changes while
    /// it is registered.)
    pub organisation: Option<String>,
    pub connected_at: DateTime<Utc>,
    pub last_seen_at: DateTime<Utc>,
}

impl Connection {
    /// API Gateway ends every WebSocket after 2 hours; a record older than this is stale even if
    /// `$disconnect` never ran.
    pub const MAX_LIFETIME: Duration = Duration::hours(3);

    /// `last_seen_at` is written at most once per this period: a heartbeat pays a DynamoDB write
    /// only when the stored value is this old (usually every other heartbeat at 300 s).
    pub const LAST_SEEN_PRECISION: Duration = Duration::minutes(9);

    pub fn expires_at(&self) -> DateTime<Utc> {
        self.connected_at + Self::MAX_LIFETIME
    }

    pub fn last_seen_is_stale(&self, now: DateTime<Utc>) -> bool {
        now - self.last_seen_at >= Self::LAST_SEEN_PRECISION
    }
}

/// The station's live connection: the one its record names, if that record exists and has not
/// outlived API Gateway's limit. Read strongly consistent: the pile may have connected a moment ago.
pub async fn live(
    connections: &dyn crate::ports::ConnectionRepository,
    station: &crate::station::Station,
    now: DateTime<Utc>,
) -> Result<Option<Connection>, crate::ports::StoreError> {
    let Some(connection_id) = &station.connection_id else {
        return Ok(None);
    };
    Ok(connections
        .get_latest(connection_id)
        .await?
        .filter(|c| c.station_id == station.id && now < c.expires_at()))
}

/// Picks the subprotocol: the first the pile offers (its order of preference) that the
/// station is registered for. None means the handshake must be refused.
pub fn choose_protocol(offered: &str, allowed: &[ProtocolVersion]) -> Option<ProtocolVersion> {
    offered
        .split(',')
        .map(str::trim)
        .filter_map(ProtocolVersion::parse)
        .find(|p| allowed.contains(p))
}

#[cfg(test)]
mod tests {
    use super::*;
    use ProtocolVersion::*;

    #[test]
    fn chooses_the_piles_first_allowed_protocol() {
        assert_eq!(choose_protocol("ocpp2.0.1, ocpp1.6", &[Ocpp16, Ocpp201]), Some(Ocpp201));
        assert_eq!(choose_protocol("ocpp1.6,ocpp2.0.1", &[Ocpp201]), Some(Ocpp201));
        assert_eq!(choose_protocol("ocpp1.6", &[Ocpp201]), None);
        assert_eq!(choose_protocol("ocpp2.1, ocpp1.5", &[Ocpp16, Ocpp201]), None);
        assert_eq!(choose_protocol("", &[Ocpp16]), None);
    }

    #[test]
    fn last_seen_is_written_only_when_stale() {
        let t0 = DateTime::parse_from_rfc3339("2026-01-01T00:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let c = Connection {
            connection_id: "c".into(),
            station_id: StationId::parse("CP1").unwrap(),
            protocol: Ocpp16,
            boot: None,
            organisation: None,
            connected_at: t0,
            last_seen_at: t0,
        };
        assert!(!c.last_seen_is_stale(t0 + Duration::minutes(5)));
        assert!(c.last_seen_is_stale(t0 + Duration::minutes(10)));
        assert_eq!(c.expires_at(), t0 + Duration::hours(3));
    }
}

use crate::boot::BootDecision;
use crate::credentials::Password;
use crate::ports::{CheckedAgainst, Services, StoreError};
use crate::station::{BootInfo, Station};

/// The boot status a new connection starts with: the answer to the station's last
/// BootNotification (piles reconnect without booting again), except that a station the operator
/// has Rejected since must boot again, whatever it was told before.
fn boot_status(station: &Station) -> Option<Registration> {
    station.boot.as_ref().map(|b| match station.registration {
        Registration::Rejected => Registration::Rejected,
        _ => b.status,
    })
}

/// A WebSocket handshake as the `$connect` route sees it.
#[derive(Debug, Clone)]
pub struct ConnectAttempt<'a> {
    pub connection_id: &'a str,
    pub station_id: &'a str,
    /// Basic-auth user and password; None when the pile sent no credentials.
    pub credentials: Option<(&'a str, &'a str)>,
    /// The `Sec-WebSocket-Protocol` header as offered by the pile.
    pub offered_protocols: &'a str,
    pub now: DateTime<Utc>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConnectRefusal {
    /// No station is registered under that id (HTTP 404).
    UnknownStation,
    /// Missing credentials, a user other than the station id, or a wrong password (HTTP 401).
    BadCredentials,
    /// None of the offered subprotocols is one the station may use.
    NoCommonProtocol,
}

/// Authenticates a pile and records its connection. A new connection replaces the station's
/// previous one, which is closed.
pub async fn open(
    services: &Services,
    attempt: ConnectAttempt<'_>,
) -> Result<Result<Connection, ConnectRefusal>, StoreError> {
    let Ok(station_id) = StationId::parse(attempt.station_id) else {
        return Ok(Err(ConnectRefusal::UnknownStation));
    };
    let Some(station) = services.stations.get(&station_id).await? else {
        return Ok(Err(ConnectRefusal::UnknownStation));
    };
    let authentic = match attempt.credentials {
        // Parse first: a password outside the OCPP rules cannot be right, and skips the slow hash.
        Some((user, password)) => {
            user == station_id.as_str() && Password::parse(password).is_ok() && station.password_hash.verify(password)
        }
        None => false,
    };
    if !authentic {
        return Ok(Err(ConnectRefusal::BadCredentials));
    }
    let Some(protocol) = choose_protocol(attempt.offered_protocols, &station.protocols) else {
        return Ok(Err(ConnectRefusal::NoCommonProtocol));
    };
    let connection = Connection {
        connection_id: attempt.connection_id.to_owned(),
        station_id: station_id.clone(),
        protocol,
        boot: boot_status(&station),
        organisation: station.organisation.clone(),
        connected_at: attempt.now,
        last_seen_at: attempt.now,
    };
    services.connections.put(&connection).await?;
    let checked = CheckedAgainst {
        password_hash: &station.password_hash,
        registration: station.registration,
    };
    let previous = match services
        .stations
        .attach_connection(&station_id, attempt.connection_id, checked)
        .await
    {
        Ok(previous) => previous,
        // The password or registration changed (or the station went) since it was read: what
        // was checked no longer holds. The connection item goes with its TTL if this fails.
        Err(StoreError::NotFound) => {
            if let Err(e) = services.connections.delete(attempt.connection_id).await {
                tracing::warn!(station = %station_id, error = %e, "could not delete the refused connection");
            }
            return Ok(Err(ConnectRefusal::BadCredentials));
        }
        Err(e) => return Err(e),
    };
    if let Some(previous) = previous.filter(|p| p != attempt.connection_id) {
        // The old socket's own $disconnect finds itself replaced and leaves the station online.
        // A failed close only means the old socket lingers until API Gateway drops it.
        if let Err(e) = services.channel.close(&previous).await {
            tracing::warn!(station = %station_id, connection = %previous, error = %e, "could not close the replaced connection");
        }
        // A CALL sent on the old socket will not be answered on this one.
        fail_sent_command(services, &station_id, attempt.now).await;
    }
    Ok(Ok(connection))
}

/// The station's live socket is gone: the command it was sent, if any, fails `Disconnected`. A
/// failure here is only logged: the command's deadline check fails it later instead.
async fn fail_sent_command(services: &Services, station: &StationId, now: DateTime<Utc>) {
    match crate::command::disconnected(&*services.commands.store, station, now).await {
        Ok(Some(failed)) => {
            if let Err(e) = crate::local_list::command_failed(&*services.commands.local_lists, &failed, now).await {
                tracing::warn!(station = %station, error = %e, "could not record the failed local list update");
            }
        }
        Ok(None) => {}
        Err(e) => {
            tracing::warn!(station = %station, error = %e, "could not fail the command sent on the closed connection")
        }
    }
}

/// Ends a connection: the station goes offline unless a newer connection already replaced it,
/// and a command awaiting the pile's answer fails. Idempotent: a second call for the same
/// connection does nothing.
pub async fn close(
    services: &Services,
    connection_id: &str,
    now: DateTime<Utc>,
) -> Result<Option<Connection>, StoreError> {
    // Strongly consistent: a pile may hang up a moment after it connected.
    let Some(connection) = services.connections.get_latest(connection_id).await? else {
        return Ok(None);
    };
    let offline = services
        .stations
        .detach_connection(&connection.station_id, connection_id)
        .await?;
    services.connections.delete(connection_id).await?;
    if offline {
        fail_sent_command(services, &connection.station_id, now).await;
    }
    Ok(Some(connection))
}

/// What a station tells about itself in BootNotification.
#[derive(Debug, Clone, PartialEq)]
pub struct BootReport {
    pub vendor: String,
    pub model: String,
    pub serial_number: Option<String>,
    pub firmware_version: Option<String>,
}

/// Answers a BootNotification from the operator's registration and records it on the station
/// and on the connection.
pub async fn boot(
    services: &Services,
    connection: &Connection,
    report: BootReport,
    now: DateTime<Utc>,
) -> Result<BootDecision, StoreError> {
    let station = services.stations.get(&connection.station_id).await?;
    // A station deregistered while connected is rejected.
    let registration = station.as_ref().map_or(Registration::Rejected, |s| s.registration);
    let decision = services.boot_policy.decide(registration);
    let info = BootInfo {
        vendor: report.vendor,
        model: report.model,
        serial_number: report.serial_number,
        firmware_version: report.firmware_version,
        status: decision.status,
        at: now,
    };
    if station.is_some() {
        services.stations.record_boot(&connection.station_id, &info).await?;
    }
    services
        .connections
        .set_boot(&connection.connection_id, decision.status, now)
        .await?;
    Ok(decision)
}

/// Notes that the station is alive; writes only when the stored time is stale.
pub async fn seen(services: &Services, connection: &Connection, now: DateTime<Utc>) -> Result<(), StoreError> {
    if connection.last_seen_is_stale(now) {
        services.connections.touch(&connection.connection_id, now).await?;
    }
    Ok(())
}
