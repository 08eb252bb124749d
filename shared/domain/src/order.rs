//! Orders: what the domain asks a station to do, before it is written in an OCPP version. The
//! [`Orders`] port writes an order in the station's version and queues it as a remote command
//! (the protocol layer and the commands queue do that); use cases say only what they want.

use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};

use crate::command::{Command, CommandError, CommandId};
use crate::id_token::IdToken;
use crate::reservation::{Reservation, ReservationId};
use crate::session::TransactionKey;
use crate::station::{ProtocolVersion, StationId};

/// How long a station has to answer an order the CSMS sends on its own or on a driver's behalf.
pub const ANSWER_WITHIN: Duration = Duration::seconds(30);

#[derive(Debug, Clone, PartialEq)]
pub enum Order<'a> {
    /// Start charging with `token` (1.6 RemoteStartTransaction, 2.0.1 RequestStartTransaction).
    RemoteStart {
        token: &'a IdToken,
        group: Option<&'a IdToken>,
        /// 1.6: the connector; 2.0.1: the EVSE. None: the station picks.
        spot: Option<u32>,
    },
    /// Stop a transaction (1.6 RemoteStopTransaction, 2.0.1 RequestStopTransaction).
    RemoteStop {
        transaction: &'a TransactionKey,
    },
    ReserveNow(&'a Reservation),
    CancelReservation(ReservationId),
}

impl Order<'_> {
    /// The OCPP action the order becomes in `protocol`.
    pub fn action(&self, protocol: ProtocolVersion) -> &'static str {
        match (self, protocol) {
            (Order::RemoteStart { .. }, ProtocolVersion::Ocpp16) => "RemoteStartTransaction",
            (Order::RemoteStart { .. }, ProtocolVersion::Ocpp201) => "RequestStartTransaction",
            (Order::RemoteStop { .. }, ProtocolVersion::Ocpp16) => "RemoteStopTransaction",
            (Order::RemoteStop { .. }, ProtocolVersion::Ocpp201) => "RequestStopTransaction",
            (Order::ReserveNow(_), _) => "ReserveNow",
            (Order::CancelReservation(_), _) => "CancelReservation",
        }
    }
}

/// Who sends an order, under which id, and how long the station has to answer.
#[derive(Debug, Clone, PartialEq)]
pub struct Envelope {
    pub station: StationId,
    pub protocol: ProtocolVersion,
    /// The command id; a new one when None. A fixed id makes sending again harmless: the commands
    /// queue and the command store deduplicate by it.
    pub id: Option<CommandId>,
    /// The person it is for (a driver sees the commands they asked for); None for the CSMS itself.
    pub requested_by: Option<String>,
    pub now: DateTime<Utc>,
    pub timeout: Duration,
}

impl Envelope {
    pub fn new(station: &StationId, protocol: ProtocolVersion, now: DateTime<Utc>) -> Self {
        Self {
            station: station.clone(),
            protocol,
            id: None,
            requested_by: None,
            now,
            timeout: ANSWER_WITHIN,
        }
    }

    pub fn with_id(self, id: CommandId) -> Self {
        Self { id: Some(id), ..self }
    }

    pub fn for_person(self, subject: impl Into<String>) -> Self {
        Self {
            requested_by: Some(subject.into()),
            ..self
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum OrderError {
    /// The order cannot be written in the station's version (a value the version cannot carry).
    #[error("the order cannot be sent: {0}")]
    Unwritable(String),
    #[error(transparent)]
    Command(#[from] CommandError),
    /// The requester's earlier command is still pending: a driver has one at a time (the
    /// limits' rule), so this order was not sent.
    #[error("your command {} to station {} is still pending (until {} at the latest)", .0.id, .0.station, .0.deadline.to_rfc3339())]
    Pending(crate::limits::PendingCommand),
}

/// Writes orders in OCPP and queues them as remote commands.
#[async_trait]
pub trait Orders: Send + Sync {
    /// Queues `order` for the station; returns the command as submitted.
    async fn send(&self, order: &Order<'_>, envelope: Envelope) -> Result<Command, OrderError>;
}
