//! Reservations: a driver on the way holds a connector (1.6) or EVSE (2.0.1); the reservation ends
//! when they start charging there, when someone cancels it, or when it expires.
//!
//! Rules implemented here (OCPP 1.6 sections 5.3, 5.13, 6.41; OCPP 2.0.1 functional block H):
//! - The reservation id is the OCPP reservationId: unique per station and never reused (a counter
//!   per station), so a late answer or status update about an old reservation never touches a
//!   newer one.
//! - Exactly one reservation holds a spot at a time: the hold is one item per (station, spot),
//!   written with the reservation in one conditional transaction, so of two drivers racing for
//!   the last free connector exactly one wins. At most one active reservation per driver (a
//!   setting) is a second conditional item in the same transaction.
//! - No reservation on an offline station, nor on a connector the station reports Faulted,
//!   Unavailable or occupied (1.6 ReservationStatus Faulted / Unavailable / Occupied are what the
//!   pile would answer). Any connector of the station (1.6 connectorId 0, 2.0.1 without evseId)
//!   only where the station says it supports that (1.6 `ReserveConnectorZeroSupported`, 2.0.1
//!   `ReservationCtrlr.NonEvseSpecific`, learnt from its configuration answers).
//! - A reservation ends Consumed when a transaction starts for it: a StartTransaction /
//!   TransactionEvent naming its reservationId, or (1.6 section 5.13) a 1.6 start on its connector
//!   by its idTag or an idTag of its parentIdTag's group. It ends Expired at its expiry by the
//!   CSMS's own clock (a one-time schedule), whatever the pile's clock says and whether or not the
//!   pile is online; a pile that still holds it afterwards is sent CancelReservation when it is
//!   back and shows it holds it (it reports the connector Reserved). 2.0.1 ReservationStatusUpdate
//!   Expired / Removed end it too (H04).
//! - Every consumer is idempotent: each transition is conditional on the state it leaves.

mod lifecycle;
pub mod memory;
mod model;
mod ports;
mod reserve;

pub use lifecycle::{LifecycleError, LifecyclePorts, StartSeen, on_signal, start_seen};
pub use model::*;
pub use ports::*;
pub use reserve::{CancelError, Canceller, ReserveError, ReservePorts, ReserveRequest, SpotRequest, cancel, reserve};
