//! What reservations need from storage, the scheduler and the reservations queue, and the seam
//! where billing prices them.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use std::sync::Arc;

use super::model::*;
use crate::page::{Page, PageRequest};
use crate::ports::{PublishError, StoreError};
use crate::station::StationId;

/// Why a new reservation was not recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Conflict {
    /// Another live reservation holds the spot.
    SpotHeld,
    /// The driver already has this active reservation (at this or another station).
    DriverHasOne { station: StationId, id: ReservationId },
}

#[async_trait]
pub trait ReservationStore: Send + Sync {
    /// A reservation id the station never had before (an atomic counter per station).
    async fn next_id(&self, station: &StationId) -> Result<ReservationId, StoreError>;
    /// Records a new reservation with its hold on its spot and, when `one_per_driver`, the
    /// driver's lock, in one conditional transaction: all of it, or nothing and the conflict. A
    /// hold or lock whose reservation's expiry has passed counts as free.
    async fn create(
        &self,
        reservation: &Reservation,
        one_per_driver: bool,
        now: DateTime<Utc>,
    ) -> Result<Result<(), Conflict>, StoreError>;
    async fn get(&self, station: &StationId, id: ReservationId) -> Result<Option<Reservation>, StoreError>;
    /// Moves the reservation to `change.state` if its state is one of `from`, appending `change`
    /// to its history, in one conditional write. The updated record; None when it is unknown or
    /// in another state.
    async fn transition(
        &self,
        station: &StationId,
        id: ReservationId,
        from: &[State],
        change: &Change,
    ) -> Result<Option<Reservation>, StoreError>;
    /// Frees the reservation's hold and the driver's lock, each only if it is still this
    /// reservation's. Idempotent.
    async fn release(&self, reservation: &Reservation) -> Result<(), StoreError>;
    /// The station's holds (lapsed ones included: callers check [`Hold::is_live`]).
    async fn holds(&self, station: &StationId) -> Result<Vec<Hold>, StoreError>;
    /// The hold on one spot, if any.
    async fn hold(&self, station: &StationId, spot: Spot) -> Result<Option<Hold>, StoreError>;
    /// One page of a driver's reservations, newest first.
    async fn list_by_driver(
        &self,
        driver: &str,
        filter: &ReservationFilter,
        page: &PageRequest,
    ) -> Result<Page<Reservation>, StoreError>;
    /// One page of the reservations at an organisation's stations, newest first.
    async fn list_by_organisation(
        &self,
        organisation: &str,
        filter: &ReservationFilter,
        page: &PageRequest,
    ) -> Result<Page<Reservation>, StoreError>;
    /// Notes that the pile may still hold a reservation that ended here. Idempotent.
    async fn add_leftover(&self, leftover: &Leftover, now: DateTime<Utc>) -> Result<(), StoreError>;
    async fn leftovers(&self, station: &StationId) -> Result<Vec<Leftover>, StoreError>;
    async fn remove_leftover(&self, station: &StationId, id: ReservationId) -> Result<(), StoreError>;
    /// Whether the station reserves any connector (None: it never said).
    async fn any_connector(&self, station: &StationId) -> Result<Option<bool>, StoreError>;
    async fn set_any_connector(&self, station: &StationId, supported: bool) -> Result<(), StoreError>;
}

/// One-time schedules that signal [`Signal::ExpiryDue`] at a reservation's expiry.
#[async_trait]
pub trait ExpirySchedules: Send + Sync {
    /// Creates the reservation's schedule; creating it again is harmless.
    async fn schedule(&self, reservation: &Reservation) -> Result<(), StoreError>;
    /// Deletes it; deleting one that fired or never existed is harmless.
    async fn unschedule(&self, station: &StationId, id: ReservationId) -> Result<(), StoreError>;
}

/// The reservations queue (FIFO, one group per station).
#[async_trait]
pub trait ReservationSignals: Send + Sync {
    async fn publish(&self, signal: &Signal) -> Result<(), PublishError>;
}

/// Where a reservation the pile held is priced (billing, issue 11: the tariff dimension
/// `reservation`, and a no-show fee). Told once per reservation, when it ends.
#[async_trait]
pub trait ReservationFees: Send + Sync {
    async fn ended(&self, usage: &ReservationUsage) -> Result<(), PublishError>;
}

/// No pricing: reservations are free until billing takes [`ReservationUsage`].
pub struct NoFees;

#[async_trait]
impl ReservationFees for NoFees {
    async fn ended(&self, usage: &ReservationUsage) -> Result<(), PublishError> {
        tracing::debug!(station = %usage.station, reservation = %usage.reservation, no_show = usage.no_show(), "reservation ended; no pricing configured");
        Ok(())
    }
}

/// The ports of reservations, built once per process.
#[derive(Clone)]
pub struct ReservationServices {
    pub store: Arc<dyn ReservationStore>,
    pub schedules: Arc<dyn ExpirySchedules>,
    pub signals: Arc<dyn ReservationSignals>,
    pub fees: Arc<dyn ReservationFees>,
    pub settings: ReservationSettings,
}
