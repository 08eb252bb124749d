//! Domain logic of the CSMS: stations and their credentials, registration and boot decisions,
//! connections, and connector status. It knows nothing of AWS, JSON, Lambda or OCPP-J framing;
//! storage and messaging are reached through the ports in [`ports`].
//!
//! Charging: id tokens and their registry ([`id_token`]), 1.6 transactions ([`transaction`]),
//! 2.0.1 transaction events ([`transaction_event`], their seqNos in [`seq_no`]), and the session
//! record they feed ([`session`]), exactly once under at-least-once delivery.
//!
//! Organisations and their operators ([`organisation`]): who operates for which organisation.
//!
//! Remote commands ([`command`]): CALLs the CSMS sends, one outstanding per station, completed by
//! the pile's answer or failed with a reason. What the domain asks of a station before it is
//! written in OCPP ([`order`]); starting and stopping charging from afar ([`remote_charging`]).
//!
//! Reservations ([`reservation`]): a driver holds a connector until they start, cancel, or time
//! runs out; its own ports ([`reservation::ReservationServices`]).
//!
//! A driver's data on request ([`privacy`]): export, and erasure that keeps billed sessions under
//! a pseudonym.

pub mod anomaly;
pub mod boot;
pub mod command;
pub mod connection;
pub mod credentials;
pub mod geo;
pub mod id_token;
pub mod limits;
pub mod local_list;
pub mod memory;
pub mod meter;
pub mod order;
pub mod organisation;
pub mod page;
pub mod ports;
pub mod privacy;
pub mod registry;
pub mod remote_charging;
pub mod reservation;
pub mod seq_no;
pub mod session;
pub mod station;
pub mod status;
pub mod token_registry;
pub mod transaction;
pub mod transaction_event;

pub use boot::{BootDecision, BootPolicy};
pub use command::{
    Answer, Command, CommandError, CommandId, CommandIdError, CommandPorts, CommandRecord, CommandState, DeadlineCheck,
    DispatchOutcome, FailureReason, SlotHolder, SlotOutcome, StateKind,
};
pub use connection::{Connection, choose_protocol};
pub use credentials::{Password, PasswordError, PasswordHash};
pub use organisation::{Membership, Organisation, OrganisationId, Subject};
pub use page::{Cursor, Page, PageRequest};
pub use ports::{CommandServices, Services, StationChanges, StoreError};
pub use station::{
    BootInfo, Connector, ConnectorError, ConnectorType, GeoPoint, ProtocolVersion, Registration, Station, StationId,
    StationIdError,
};
pub use status::{Availability, Component, StatusReport};

pub use anomaly::{Anomaly, AnomalyKind};
pub use id_token::{Authorization, AuthorizationStatus, IdToken, IdTokenError, IdTokenType, TokenClaim, TokenRecord};
pub use meter::{Measurand, MeterSample, Phase, ReadingContext};
pub use ports::TransactionPorts;
pub use seq_no::SeqNos;
pub use session::{
    Change, MeterSummary, Session, SessionCompleted, SessionError, SessionEvent, SessionEventKind, SessionFilter,
    SessionPorts, SessionState, SessionSummary, TransactionKey,
};
pub use transaction::TransactionId;
pub use transaction_event::{StationTransactionId, TransactionEventType};
