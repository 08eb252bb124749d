//! In-memory doubles of the reservation ports, with the adapters' contracts.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};

use super::model::*;
use super::ports::*;
use crate::command::{Command, CommandId};
use crate::order::{Envelope, Order, OrderError, Orders};
use crate::page::{Page, PageRequest};
use crate::ports::{PublishError, StoreError};
use crate::station::StationId;

#[derive(Default)]
struct Tables {
    counters: BTreeMap<StationId, i64>,
    reservations: BTreeMap<(StationId, ReservationId), Reservation>,
    holds: BTreeMap<(StationId, Spot), Hold>,
    /// driver -> (station, reservation, expiry)
    drivers: BTreeMap<String, (StationId, ReservationId, DateTime<Utc>)>,
    leftovers: BTreeMap<(StationId, ReservationId), Leftover>,
    any_connector: BTreeMap<StationId, bool>,
}

#[derive(Default)]
pub struct MemoryReservations(Mutex<Tables>);

impl MemoryReservations {
    pub fn all(&self) -> Vec<Reservation> {
        self.0.lock().unwrap().reservations.values().cloned().collect()
    }
}

fn newest_first(mut items: Vec<Reservation>, page: &PageRequest) -> Page<Reservation> {
    let key = |r: &Reservation| {
        format!(
            "{:020}#{}#{:010}",
            i64::MAX - r.created_at.timestamp_micros(),
            r.station,
            r.id.get()
        )
    };
    items.sort_by_key(key);
    Page::of_sorted(items, page, key)
}

#[async_trait]
impl ReservationStore for MemoryReservations {
    async fn next_id(&self, station: &StationId) -> Result<ReservationId, StoreError> {
        let mut t = self.0.lock().unwrap();
        let n = t.counters.entry(station.clone()).or_default();
        *n += 1;
        ReservationId::new(*n).ok_or_else(|| StoreError::Backend("reservation ids exhausted".into()))
    }

    async fn create(
        &self,
        r: &Reservation,
        one_per_driver: bool,
        now: DateTime<Utc>,
    ) -> Result<Result<(), Conflict>, StoreError> {
        let mut t = self.0.lock().unwrap();
        if t.holds
            .get(&(r.station.clone(), r.spot))
            .is_some_and(|h| h.is_live(now))
        {
            return Ok(Err(Conflict::SpotHeld));
        }
        if one_per_driver
            && let Some((station, id, expiry)) = t.drivers.get(&r.driver)
            && now < *expiry
        {
            return Ok(Err(Conflict::DriverHasOne {
                station: station.clone(),
                id: *id,
            }));
        }
        if t.reservations.contains_key(&(r.station.clone(), r.id)) {
            return Err(StoreError::AlreadyExists);
        }
        t.holds.insert((r.station.clone(), r.spot), r.hold());
        if one_per_driver {
            t.drivers.insert(r.driver.clone(), (r.station.clone(), r.id, r.expiry));
        }
        t.reservations.insert((r.station.clone(), r.id), r.clone());
        Ok(Ok(()))
    }

    async fn get(&self, station: &StationId, id: ReservationId) -> Result<Option<Reservation>, StoreError> {
        Ok(self.0.lock().unwrap().reservations.get(&(station.clone(), id)).cloned())
    }

    async fn transition(
        &self,
        station: &StationId,
        id: ReservationId,
        from: &[State],
        change: &Change,
    ) -> Result<Option<Reservation>, StoreError> {
        let mut t = self.0.lock().unwrap();
        let Some(r) = t.reservations.get_mut(&(station.clone(), id)) else {
            return Ok(None);
        };
        if !from.contains(&r.state) {
            return Ok(None);
        }
        r.state = change.state;
        r.history.push(change.clone());
        Ok(Some(r.clone()))
    }

    async fn release(&self, r: &Reservation) -> Result<(), StoreError> {
        let mut t = self.0.lock().unwrap();
        let key = (r.station.clone(), r.spot);
        if t.holds.get(&key).is_some_and(|h| h.reservation == r.id) {
            t.holds.remove(&key);
        }
        if t.drivers
            .get(&r.driver)
            .is_some_and(|(s, id, _)| s == &r.station && *id == r.id)
        {
            t.drivers.remove(&r.driver);
        }
        Ok(())
    }

    async fn holds(&self, station: &StationId) -> Result<Vec<Hold>, StoreError> {
        let t = self.0.lock().unwrap();
        Ok(t.holds.values().filter(|h| &h.station == station).cloned().collect())
    }

    async fn hold(&self, station: &StationId, spot: Spot) -> Result<Option<Hold>, StoreError> {
        Ok(self.0.lock().unwrap().holds.get(&(station.clone(), spot)).cloned())
    }

    async fn list_by_driver(
        &self,
        driver: &str,
        filter: &ReservationFilter,
        page: &PageRequest,
    ) -> Result<Page<Reservation>, StoreError> {
        let mine = self
            .all()
            .into_iter()
            .filter(|r| r.driver == driver && filter.matches(r))
            .collect();
        Ok(newest_first(mine, page))
    }

    async fn list_by_organisation(
        &self,
        organisation: &str,
        filter: &ReservationFilter,
        page: &PageRequest,
    ) -> Result<Page<Reservation>, StoreError> {
        let theirs = self
            .all()
            .into_iter()
            .filter(|r| r.organisation.as_deref() == Some(organisation) && filter.matches(r))
            .collect();
        Ok(newest_first(theirs, page))
    }

    async fn add_leftover(&self, leftover: &Leftover, _now: DateTime<Utc>) -> Result<(), StoreError> {
        self.0
            .lock()
            .unwrap()
            .leftovers
            .insert((leftover.station.clone(), leftover.reservation), leftover.clone());
        Ok(())
    }

    async fn leftovers(&self, station: &StationId) -> Result<Vec<Leftover>, StoreError> {
        let t = self.0.lock().unwrap();
        Ok(t.leftovers
            .values()
            .filter(|l| &l.station == station)
            .cloned()
            .collect())
    }

    async fn remove_leftover(&self, station: &StationId, id: ReservationId) -> Result<(), StoreError> {
        self.0.lock().unwrap().leftovers.remove(&(station.clone(), id));
        Ok(())
    }

    async fn any_connector(&self, station: &StationId) -> Result<Option<bool>, StoreError> {
        Ok(self.0.lock().unwrap().any_connector.get(station).copied())
    }

    async fn set_any_connector(&self, station: &StationId, supported: bool) -> Result<(), StoreError> {
        self.0.lock().unwrap().any_connector.insert(station.clone(), supported);
        Ok(())
    }
}

/// Scheduled expiries, by (station, reservation).
#[derive(Default)]
pub struct MemorySchedules(pub Mutex<BTreeMap<(StationId, ReservationId), DateTime<Utc>>>);

#[async_trait]
impl ExpirySchedules for MemorySchedules {
    async fn schedule(&self, r: &Reservation) -> Result<(), StoreError> {
        self.0.lock().unwrap().insert((r.station.clone(), r.id), r.expiry);
        Ok(())
    }
    async fn unschedule(&self, station: &StationId, id: ReservationId) -> Result<(), StoreError> {
        self.0.lock().unwrap().remove(&(station.clone(), id));
        Ok(())
    }
}

/// Published signals, in order.
#[derive(Default)]
pub struct MemorySignals(pub Mutex<Vec<Signal>>);

impl MemorySignals {
    pub fn take(&self) -> Vec<Signal> {
        std::mem::take(&mut *self.0.lock().unwrap())
    }
}

#[async_trait]
impl ReservationSignals for MemorySignals {
    async fn publish(&self, signal: &Signal) -> Result<(), PublishError> {
        self.0.lock().unwrap().push(signal.clone());
        Ok(())
    }
}

/// Prices told, in order.
#[derive(Default)]
pub struct MemoryFees(pub Mutex<Vec<ReservationUsage>>);

#[async_trait]
impl ReservationFees for MemoryFees {
    async fn ended(&self, usage: &ReservationUsage) -> Result<(), PublishError> {
        self.0.lock().unwrap().push(usage.clone());
        Ok(())
    }
}

/// An order as the double recorded it.
#[derive(Debug, Clone, PartialEq)]
pub struct SentOrder {
    pub action: &'static str,
    pub envelope: Envelope,
    /// The reservation it is about (ReserveNow, CancelReservation).
    pub reservation: Option<ReservationId>,
    /// The connector or EVSE it names.
    pub spot: Option<u32>,
    pub token: Option<String>,
}

/// Orders sent, in order; [`Orders::send`] answers a command with an empty payload.
#[derive(Default)]
pub struct MemoryOrders(pub Mutex<Vec<SentOrder>>);

impl MemoryOrders {
    pub fn take(&self) -> Vec<SentOrder> {
        std::mem::take(&mut *self.0.lock().unwrap())
    }
}

#[async_trait]
impl Orders for MemoryOrders {
    async fn send(&self, order: &Order<'_>, envelope: Envelope) -> Result<Command, OrderError> {
        let action = order.action(envelope.protocol);
        let (reservation, spot, token) = match order {
            Order::RemoteStart { token, spot, .. } => (None, *spot, Some(token.to_string())),
            Order::RemoteStop { .. } => (None, None, None),
            Order::ReserveNow(r) => (Some(r.id), r.spot.number(), Some(r.token.to_string())),
            Order::CancelReservation(id) => (Some(*id), None, None),
        };
        let id = envelope
            .id
            .clone()
            .unwrap_or_else(|| CommandId::parse(&format!("order-{}", self.0.lock().unwrap().len())).unwrap());
        let command = Command {
            id,
            station: envelope.station.clone(),
            protocol: envelope.protocol,
            action: action.to_owned(),
            payload: String::new(),
            deadline: envelope.now + envelope.timeout,
            created_at: envelope.now,
            requested_by: envelope.requested_by.clone(),
        };
        self.0.lock().unwrap().push(SentOrder {
            action,
            envelope,
            reservation,
            spot,
            token,
        });
        Ok(command)
    }
}

/// Every reservation port in memory, and the services bundle over them.
#[derive(Default, Clone)]
pub struct MemoryReservationWorld {
    pub store: Arc<MemoryReservations>,
    pub schedules: Arc<MemorySchedules>,
    pub signals: Arc<MemorySignals>,
    pub fees: Arc<MemoryFees>,
}

impl MemoryReservationWorld {
    pub fn services(&self, settings: ReservationSettings) -> ReservationServices {
        ReservationServices {
            store: self.store.clone(),
            schedules: self.schedules.clone(),
            signals: self.signals.clone(),
            fees: self.fees.clone(),
            settings,
        }
    }

    pub fn scheduled(&self) -> BTreeSet<(StationId, ReservationId)> {
        self.schedules.0.lock().unwrap().keys().cloned().collect()
    }
}
