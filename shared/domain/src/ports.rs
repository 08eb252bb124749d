//! Ports: what the domain needs from storage, messaging and the pile channel. Adapters for AWS
//! live in `csms-aws`; in-memory doubles for tests live in [`crate::memory`].

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use std::sync::Arc;

use crate::boot::BootPolicy;
use crate::connection::Connection;
use crate::credentials::PasswordHash;
use crate::station::{BootInfo, Registration, Station, StationId};
use crate::status::{Availability, Component, StatusReport};

pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("not found")]
    NotFound,
    #[error("already exists")]
    AlreadyExists,
    #[error("storage failure")]
    Backend(#[source] BoxError),
}

#[derive(Debug, thiserror::Error)]
#[error("could not publish the event")]
pub struct PublishError(#[source] pub BoxError);

#[derive(Debug, thiserror::Error)]
#[error("the connection could not be reached")]
pub struct ChannelError(#[source] pub BoxError);

#[async_trait]
pub trait StationRepository: Send + Sync {
    async fn get(&self, id: &StationId) -> Result<Option<Station>, StoreError>;
    /// Fails with `AlreadyExists` when the id is taken.
    async fn create(&self, station: &Station) -> Result<(), StoreError>;
    async fn set_password_hash(&self, id: &StationId, hash: &PasswordHash) -> Result<(), StoreError>;
    async fn set_registration(&self, id: &StationId, registration: Registration) -> Result<(), StoreError>;
    async fn list(&self) -> Result<Vec<Station>, StoreError>;
    /// Makes `connection_id` the station's live connection; returns the one it replaced.
    async fn attach_connection(&self, id: &StationId, connection_id: &str) -> Result<Option<String>, StoreError>;
    /// Marks the station offline if `connection_id` is still its live connection; true if it was.
    async fn detach_connection(&self, id: &StationId, connection_id: &str) -> Result<bool, StoreError>;
    async fn record_boot(&self, id: &StationId, boot: &BootInfo) -> Result<(), StoreError>;
}

#[async_trait]
pub trait ConnectionRepository: Send + Sync {
    async fn put(&self, connection: &Connection) -> Result<(), StoreError>;
    /// An eventually consistent read: half the price, but it may miss a write of the last second.
    async fn get(&self, connection_id: &str) -> Result<Option<Connection>, StoreError>;
    /// A strongly consistent read: sees every write that completed before it.
    async fn get_latest(&self, connection_id: &str) -> Result<Option<Connection>, StoreError>;
    async fn get_many(&self, connection_ids: &[String]) -> Result<Vec<Connection>, StoreError>;
    async fn delete(&self, connection_id: &str) -> Result<(), StoreError>;
    /// Records the answer to a BootNotification on the connection; also counts as being seen.
    async fn set_boot(&self, connection_id: &str, boot: Registration, seen_at: DateTime<Utc>)
    -> Result<(), StoreError>;
    async fn touch(&self, connection_id: &str, seen_at: DateTime<Utc>) -> Result<(), StoreError>;
}

#[async_trait]
pub trait AvailabilityRepository: Send + Sync {
    async fn get(&self, station: &StationId, component: Component) -> Result<Option<Availability>, StoreError>;
    /// Stores `next` only if the stored view was built from `expected_reported_at` (None: no view
    /// yet). False when another writer got there first.
    async fn replace(
        &self,
        next: &Availability,
        expected_reported_at: Option<DateTime<Utc>>,
    ) -> Result<bool, StoreError>;
    async fn list(&self, station: &StationId) -> Result<Vec<Availability>, StoreError>;
}

#[async_trait]
pub trait StatusHistory: Send + Sync {
    /// Idempotent: the same report appended twice is one entry.
    async fn append(&self, report: &StatusReport) -> Result<(), StoreError>;
    /// Newest first.
    async fn list(&self, station: &StationId, limit: usize) -> Result<Vec<StatusReport>, StoreError>;
}

/// Reports and events a station sends (2.0.1 NotifyReport, NotifyEvent), kept as the station sent them.
#[async_trait]
pub trait StationEventLog: Send + Sync {
    /// `entry` identifies the record, so a redelivered message overwrites itself.
    async fn store(
        &self,
        station: &StationId,
        entry: &str,
        body: &str,
        received_at: DateTime<Utc>,
    ) -> Result<(), StoreError>;
}

#[async_trait]
pub trait EventBus: Send + Sync {
    /// Publishes a status report for the status function. `dedup_key` identifies the message,
    /// so a retried publish is delivered once.
    async fn status_reported(&self, report: &StatusReport, dedup_key: &str) -> Result<(), PublishError>;
}

#[async_trait]
pub trait StationChannel: Send + Sync {
    /// Closes a pile's WebSocket. Ok(false) when it was already gone.
    async fn close(&self, connection_id: &str) -> Result<bool, ChannelError>;
}

/// Everything a handler may use, built once per process.
#[derive(Clone)]
pub struct Services {
    pub stations: Arc<dyn StationRepository>,
    pub connections: Arc<dyn ConnectionRepository>,
    pub availability: Arc<dyn AvailabilityRepository>,
    pub history: Arc<dyn StatusHistory>,
    pub station_events: Arc<dyn StationEventLog>,
    pub bus: Arc<dyn EventBus>,
    pub channel: Arc<dyn StationChannel>,
    pub boot_policy: BootPolicy,
}
