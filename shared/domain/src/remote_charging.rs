//! Starting and stopping charging from afar, as the app API (for a driver), the operator's tool
//! and reservations do it: one use case each, so every caller honours the same rules.
//!
//! - Only an Accepted token starts (the pile would ask the CSMS anyway, 1.6 section 5.11 /
//!   2.0.1 F01.FR.01; refusing here tells the driver why).
//! - A connector (1.6) or EVSE (2.0.1) reserved for someone else is refused; the holder's token
//!   (or one of its group) starts on it, and a holder who names no connector starts on the one
//!   reserved for them (1.6 section 5.13, 2.0.1 H01: the pile matches the reservation by token).

use chrono::{DateTime, Utc};

use crate::command::Command;
use crate::id_token::{AuthorizationStatus, TokenRecord};
use crate::order::{Envelope, Order, OrderError, Orders};
use crate::ports::{ConnectionRepository, StationRepository, StoreError};
use crate::reservation::{ReservationStore, Spot};
use crate::session::TransactionKey;
use crate::station::{ProtocolVersion, StationId};

#[derive(Clone, Copy)]
pub struct StartPorts<'a> {
    pub stations: &'a dyn StationRepository,
    pub connections: &'a dyn ConnectionRepository,
    pub reservations: &'a dyn ReservationStore,
    pub orders: &'a dyn Orders,
}

#[derive(Debug, Clone, PartialEq)]
pub struct StartCharging<'a> {
    pub station: &'a StationId,
    /// The registered token to start with.
    pub token: &'a TokenRecord,
    /// 1.6: the connector; 2.0.1: the EVSE. None: the holder's reserved one, else the station picks.
    pub spot: Option<u32>,
    /// The person it is for (a driver's subject); None from the operator's tool.
    pub requested_by: Option<&'a str>,
}

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("id token {token} is {}", .status.as_str())]
    TokenNotAccepted { token: String, status: AuthorizationStatus },
    #[error("no station {0}")]
    UnknownStation(StationId),
    #[error("station {station} may speak {allowed}; it is not connected, so its version is not known")]
    AmbiguousProtocol { station: StationId, allowed: String },
    #[error("{spot} of station {station} is reserved for someone else until {until}")]
    Reserved {
        station: StationId,
        spot: Spot,
        until: DateTime<Utc>,
    },
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Order(#[from] OrderError),
}

/// Sends the station a remote start for the token; returns the command as submitted.
pub async fn start(
    ports: StartPorts<'_>,
    request: &StartCharging<'_>,
    now: DateTime<Utc>,
) -> Result<Command, StartError> {
    let token = request.token;
    let authorization = token.authorization(&token.token, now);
    if authorization.status != AuthorizationStatus::Accepted {
        return Err(StartError::TokenNotAccepted {
            token: token.token.to_string(),
            status: authorization.status,
        });
    }
    let station = ports
        .stations
        .get(request.station)
        .await?
        .ok_or_else(|| StartError::UnknownStation(request.station.clone()))?;
    let protocol = match crate::connection::live(ports.connections, &station, now).await? {
        Some(connection) => connection.protocol,
        None => match station.protocols.as_slice() {
            [only] => *only,
            many => {
                return Err(StartError::AmbiguousProtocol {
                    station: station.id.clone(),
                    allowed: many.iter().map(|p| p.as_str()).collect::<Vec<_>>().join(", "),
                });
            }
        },
    };
    let holds: Vec<_> = ports
        .reservations
        .holds(&station.id)
        .await?
        .into_iter()
        .filter(|h| h.is_live(now))
        .collect();
    let group = authorization.group.as_ref();
    let spot = match request.spot {
        Some(n) => {
            let spot = Spot::numbered(protocol, n);
            if let Some(other) = holds.iter().find(|h| h.spot == spot && !h.is_for(&token.token, group)) {
                return Err(StartError::Reserved {
                    station: station.id.clone(),
                    spot,
                    until: other.expiry,
                });
            }
            Some(n)
        }
        None => holds
            .iter()
            .find(|h| h.is_for(&token.token, group))
            .and_then(|h| h.spot.number()),
    };
    let mut envelope = Envelope::new(&station.id, protocol, now);
    envelope.requested_by = request.requested_by.map(str::to_owned);
    let order = Order::RemoteStart {
        token: &token.token,
        group,
        spot,
    };
    Ok(ports.orders.send(&order, envelope).await?)
}

/// Sends the station a remote stop for a transaction, in the transaction's own version.
pub async fn stop(
    orders: &dyn Orders,
    station: &StationId,
    transaction: &TransactionKey,
    requested_by: Option<&str>,
    now: DateTime<Utc>,
) -> Result<Command, OrderError> {
    let protocol = match transaction {
        TransactionKey::Ocpp16(_) => ProtocolVersion::Ocpp16,
        TransactionKey::Ocpp201(_) => ProtocolVersion::Ocpp201,
    };
    let mut envelope = Envelope::new(station, protocol, now);
    envelope.requested_by = requested_by.map(str::to_owned);
    orders.send(&Order::RemoteStop { transaction }, envelope).await
}
