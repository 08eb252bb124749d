//! Ports: what the domain needs from storage, messaging and the pile channel. Adapters for AWS
//! live in `csms-aws`; in-memory doubles for tests live in [`crate::memory`].

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use std::sync::Arc;

use crate::anomaly::Anomaly;
use crate::boot::BootPolicy;
use crate::command::{Command, CommandId, CommandRecord, CommandState, SlotHolder, SlotOutcome, StateKind};
use crate::connection::Connection;
use crate::credentials::PasswordHash;
use crate::id_token::{IdToken, TokenClaim, TokenRecord};
use crate::meter::MeterSample;
use crate::page::{Page, PageRequest};
use crate::session::{Session, SessionCompleted, SessionEvent, SessionFilter, SessionSummary, TransactionKey};
use crate::station::{BootInfo, Connector, GeoPoint, ProtocolVersion, Registration, Station, StationId};
use crate::status::{Availability, Component, StatusReport};
use crate::transaction::{StartKey, Stop, Transaction, TransactionId};
use crate::transaction_event::{SeqNoLog, StationTransactionId};

pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("not found")]
    NotFound,
    #[error("already exists")]
    AlreadyExists,
    /// A page cursor the store did not make for this list (a client's fault).
    #[error("the page cursor is not valid for this list")]
    InvalidCursor,
    #[error("storage failure")]
    Backend(#[source] BoxError),
}

#[derive(Debug, thiserror::Error)]
#[error("could not publish the event")]
pub struct PublishError(#[source] pub BoxError);

#[derive(Debug, thiserror::Error)]
#[error("the connection could not be reached")]
pub struct ChannelError(#[source] pub BoxError);

/// What an operator changes on a station; None leaves a field as it is.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StationChanges {
    pub protocols: Option<Vec<ProtocolVersion>>,
    pub registration: Option<Registration>,
    /// Some(None) removes the site.
    pub site: Option<Option<String>>,
    /// Some(None) removes the location (and the station from searches by place).
    pub location: Option<Option<GeoPoint>>,
    pub connectors: Option<Vec<Connector>>,
}

impl StationChanges {
    pub fn is_empty(&self) -> bool {
        self == &Self::default()
    }

    /// The station with the changes applied (what the store does, for the in-memory double).
    pub fn apply(&self, station: &mut Station) {
        if let Some(p) = &self.protocols {
            station.protocols = p.clone();
        }
        if let Some(r) = self.registration {
            station.registration = r;
        }
        if let Some(site) = &self.site {
            station.site = site.clone();
        }
        if let Some(location) = self.location {
            station.location = location;
        }
        if let Some(c) = &self.connectors {
            station.connectors = c.clone();
        }
    }
}

/// What `$connect` checked of a station, which must still hold when it attaches the connection:
/// a password rotated or a registration changed in between refuses the handshake, so that a
/// revocation cannot be outrun by a pile connecting at that moment.
#[derive(Debug, Clone, Copy)]
pub struct CheckedAgainst<'a> {
    pub password_hash: &'a PasswordHash,
    pub registration: Registration,
}

#[async_trait]
pub trait StationRepository: Send + Sync {
    async fn get(&self, id: &StationId) -> Result<Option<Station>, StoreError>;
    /// Fails with `AlreadyExists` when the id is taken.
    async fn create(&self, station: &Station) -> Result<(), StoreError>;
    /// These three change an existing station (`NotFound` otherwise) and return its live
    /// connection as the write left it (strongly consistent), so that the caller can close it.
    async fn set_password_hash(&self, id: &StationId, hash: &PasswordHash) -> Result<Option<String>, StoreError>;
    async fn set_registration(&self, id: &StationId, registration: Registration) -> Result<Option<String>, StoreError>;
    /// Applies the operator's changes.
    async fn update(&self, id: &StationId, changes: &StationChanges) -> Result<Option<String>, StoreError>;
    /// Deletes the station's record and returns it as it was; None when there was none.
    async fn delete(&self, id: &StationId) -> Result<Option<Station>, StoreError>;
    async fn list(&self) -> Result<Vec<Station>, StoreError>;
    /// One page of an organisation's stations, by station id, from an index on the organisation.
    async fn list_by_organisation(&self, organisation: &str, page: &PageRequest) -> Result<Page<Station>, StoreError>;
    /// Makes `connection_id` the station's live connection if the station still has the password
    /// hash and registration `$connect` checked (`NotFound` otherwise, also when it is gone);
    /// returns the connection it replaced.
    async fn attach_connection(
        &self,
        id: &StationId,
        connection_id: &str,
        checked: CheckedAgainst<'_>,
    ) -> Result<Option<String>, StoreError>;
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
    /// Forgets the station's live status (a new registration of its id starts without one).
    async fn clear(&self, station: &StationId) -> Result<(), StoreError>;
}

#[async_trait]
pub trait StatusHistory: Send + Sync {
    /// Idempotent: the same report appended twice is one entry.
    async fn append(&self, report: &StatusReport) -> Result<(), StoreError>;
    /// One page of the station's history received from `since` on (its registration: what came
    /// before belongs to an earlier registration of the id), newest first.
    async fn list(
        &self,
        station: &StationId,
        since: DateTime<Utc>,
        page: &PageRequest,
    ) -> Result<Page<StatusReport>, StoreError>;
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

    /// Sends a text frame to a pile's WebSocket (`@connections` POST). Ok(false) when the
    /// connection is gone (410 Gone): the frame was not delivered.
    async fn send(&self, connection_id: &str, text: &str) -> Result<bool, ChannelError> {
        let _ = (connection_id, text);
        Err(ChannelError("sending is not supported by this channel".into()))
    }
}

/// Everything a handler may use, built once per process.
#[derive(Clone)]
pub struct Services {
    pub stations: Arc<dyn StationRepository>,
    /// Stations by place (the geohash index over the stations).
    pub locator: Arc<dyn crate::geo::StationLocator>,
    pub connections: Arc<dyn ConnectionRepository>,
    pub availability: Arc<dyn AvailabilityRepository>,
    pub history: Arc<dyn StatusHistory>,
    pub station_events: Arc<dyn StationEventLog>,
    pub bus: Arc<dyn EventBus>,
    pub channel: Arc<dyn StationChannel>,
    pub boot_policy: BootPolicy,
    pub charging: ChargingServices,
    pub commands: CommandServices,
    /// Organisations and who operates for them.
    pub organisations: Arc<dyn crate::organisation::OrganisationStore>,
}

/// The ports of remote commands.
#[derive(Clone)]
pub struct CommandServices {
    pub store: Arc<dyn CommandStore>,
    pub queue: Arc<dyn CommandQueue>,
    /// What the CSMS believes each station's local authorization list is.
    pub local_lists: Arc<dyn crate::local_list::LocalListStore>,
}

impl Services {
    /// What a driver's export and erasure take.
    pub fn privacy_ports(&self) -> crate::privacy::PrivacyPorts<'_> {
        crate::privacy::PrivacyPorts {
            tokens: &*self.charging.tokens,
            sessions: &*self.charging.sessions,
            organisations: &*self.organisations,
        }
    }

    /// What the command use cases take.
    pub fn command_ports(&self) -> crate::command::CommandPorts<'_> {
        crate::command::CommandPorts {
            store: &*self.commands.store,
            queue: &*self.commands.queue,
            stations: &*self.stations,
            connections: &*self.connections,
            channel: &*self.channel,
        }
    }
}

/// The ports of charging sessions: id tokens, transactions and the session records.
#[derive(Clone)]
pub struct ChargingServices {
    pub tokens: Arc<dyn TokenRepository>,
    pub transaction_ids: Arc<dyn TransactionIdAllocator>,
    pub start_claims: Arc<dyn StartClaims>,
    pub transactions: Arc<dyn TransactionRepository>,
    pub seq_nos: Arc<dyn SeqNoTracker>,
    pub anomalies: Arc<dyn AnomalyLog>,
    pub session_events: Arc<dyn SessionEventBus>,
    pub sessions: Arc<dyn SessionRepository>,
    /// The sessions' meter series, stored apart from their records.
    pub series: Arc<dyn MeterSeries>,
    pub session_completed: Arc<dyn SessionCompletedBus>,
}

impl ChargingServices {
    /// What the sessions function's use case takes; `stations` for the sessions' organisations.
    pub fn session_ports<'a>(&'a self, stations: &'a dyn StationRepository) -> crate::session::SessionPorts<'a> {
        crate::session::SessionPorts {
            sessions: &*self.sessions,
            series: &*self.series,
            completions: &*self.session_completed,
            tokens: &*self.tokens,
            stations,
        }
    }

    /// What the transaction use cases take.
    pub fn ports(&self) -> TransactionPorts<'_> {
        TransactionPorts {
            tokens: &*self.tokens,
            transaction_ids: &*self.transaction_ids,
            start_claims: &*self.start_claims,
            transactions: &*self.transactions,
            seq_nos: &*self.seq_nos,
            anomalies: &*self.anomalies,
            session_events: &*self.session_events,
        }
    }
}

/// The registries of id tags / id tokens: one per issuing organisation (and one for tokens
/// registered without an organisation), so that the same value may be issued by several.
#[async_trait]
pub trait TokenRepository: Send + Sync {
    /// Looks a token up in `organisation`'s registry by its registry key ([`IdToken::key`]: the
    /// value without case or type); None: the registry of tokens without organisation.
    async fn get(&self, organisation: Option<&str>, token: &IdToken) -> Result<Option<TokenRecord>, StoreError>;
    /// Stores the record as it is, owner included, in its organisation's registry, replacing any
    /// under the same key (tools and tests; operators go through [`Self::register`]).
    async fn put(&self, record: &TokenRecord) -> Result<(), StoreError>;
    /// Registers what the issuing organisation decides about a token (its type and case, status,
    /// expiry, group), replacing those of a record under the same key but keeping its owner and
    /// its pending claim: only the driver binds a token to themselves. Returns the record it
    /// replaced; None when the token is new.
    async fn register(&self, record: &TokenRecord) -> Result<Option<TokenRecord>, StoreError>;
    /// Unbinds the token from its owner; `NotFound` when the registry has no such token.
    async fn release(&self, organisation: Option<&str>, token: &IdToken) -> Result<(), StoreError>;
    /// Deletes the token from `organisation`'s registry; `NotFound` when it has no such token.
    async fn delete(&self, organisation: Option<&str>, token: &IdToken) -> Result<(), StoreError>;
    /// Every registry's tokens (the command-line tool).
    async fn list(&self) -> Result<Vec<TokenRecord>, StoreError>;
    /// One page of an owner's (a driver's subject's) tokens, by token key, from an index on the owner.
    async fn list_by_owner(&self, owner: &str, page: &PageRequest) -> Result<Page<TokenRecord>, StoreError>;
    /// One page of an organisation's registry, by token key.
    async fn list_by_organisation(
        &self,
        organisation: &str,
        page: &PageRequest,
    ) -> Result<Page<TokenRecord>, StoreError>;
    /// Records the claim and makes it the token's only redeemable one (an earlier code no longer
    /// binds); `NotFound` when the registry has no such token.
    async fn offer_claim(&self, claim: &TokenClaim) -> Result<(), StoreError>;
    /// Binds the token of the claim whose code has `digest` to `owner`, and spends the claim, in
    /// one transaction, if the claim is the token's current one and unexpired at `now`. Returns the
    /// token as stored after; None when there is no such redeemable claim.
    async fn redeem_claim(
        &self,
        digest: &str,
        owner: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<TokenRecord>, StoreError>;
    /// Deletes the token from `organisation`'s registry if `owner` still owns it (a driver's
    /// erasure), with any claim it has; true if it did.
    async fn delete_owned(&self, organisation: Option<&str>, token: &IdToken, owner: &str) -> Result<bool, StoreError>;
}

/// Hands out 1.6 transaction ids.
#[async_trait]
pub trait TransactionIdAllocator: Send + Sync {
    /// A number never returned before, counting from 1: an atomic counter (DynamoDB `ADD` on a
    /// counter item), so concurrent callers never get the same number.
    async fn next(&self) -> Result<u64, StoreError>;
}

/// Remembers which transaction id each 1.6 start got, so a retried start gets it again.
#[async_trait]
pub trait StartClaims: Send + Sync {
    /// Binds `key` to `id` unless the key is bound already, in one conditional write, and returns
    /// the id bound to it: `id` for the first caller, the first caller's id for everyone after.
    async fn claim(&self, key: &StartKey, id: TransactionId) -> Result<TransactionId, StoreError>;
}

/// 1.6 transactions by (station, transaction id).
#[async_trait]
pub trait TransactionRepository: Send + Sync {
    /// Stores the transaction unless its (station, id) exists; true when stored.
    async fn create(&self, transaction: &Transaction) -> Result<bool, StoreError>;
    async fn get(&self, station: &StationId, id: TransactionId) -> Result<Option<Transaction>, StoreError>;
    /// Sets the stop if the transaction has none, in one conditional write. Returns the
    /// transaction as it was before the call; None when the station has no such transaction.
    async fn stop(
        &self,
        station: &StationId,
        id: TransactionId,
        stop: &Stop,
    ) -> Result<Option<Transaction>, StoreError>;
}

/// The seqNo log of each 2.0.1 transaction ([`SeqNoLog`]: bounded), kept while the
/// transaction may still send (the store expires it some months after its last event).
#[async_trait]
pub trait SeqNoTracker: Send + Sync {
    /// The transaction's log, with the version it was saved as; None before its first event.
    async fn get(
        &self,
        station: &StationId,
        transaction: &StationTransactionId,
    ) -> Result<Option<SeqNoLog>, StoreError>;
    /// Stores `log` only if the stored log's version is `expected_version` (None: no log yet).
    /// False when another writer got there first.
    async fn save(
        &self,
        station: &StationId,
        transaction: &StationTransactionId,
        log: &SeqNoLog,
        expected_version: Option<u64>,
    ) -> Result<bool, StoreError>;
}

/// What the operator should look at.
#[async_trait]
pub trait AnomalyLog: Send + Sync {
    /// Idempotent: the same [`Anomaly::key`] recorded twice is one entry.
    async fn record(&self, anomaly: &Anomaly) -> Result<(), StoreError>;
    async fn list(&self, station: &StationId) -> Result<Vec<Anomaly>, StoreError>;
}

#[async_trait]
pub trait SessionEventBus: Send + Sync {
    /// Publishes a session event for the sessions function (FIFO, group = station id).
    /// `dedup_key` identifies the event, so a retried publish is delivered once.
    async fn session_event(&self, event: &SessionEvent, dedup_key: &str) -> Result<(), PublishError>;
}

/// Charging session records, with optimistic concurrency on [`Session::version`].
#[async_trait]
pub trait SessionRepository: Send + Sync {
    async fn get(&self, station: &StationId, transaction: &TransactionKey) -> Result<Option<Session>, StoreError>;
    /// Stores `session` only if the stored record's version is `expected_version` (None: no
    /// record yet). False when another writer got there first.
    async fn save(&self, session: &Session, expected_version: Option<u64>) -> Result<bool, StoreError>;
    async fn list(&self, station: &StationId) -> Result<Vec<Session>, StoreError>;
    /// One page of a driver's sessions (by the owner of their token), newest start first.
    async fn list_by_owner(
        &self,
        owner: &str,
        filter: &SessionFilter,
        page: &PageRequest,
    ) -> Result<Page<SessionSummary>, StoreError>;
    /// One page of the sessions at an organisation's stations, newest start first.
    async fn list_by_organisation(
        &self,
        organisation: &str,
        filter: &SessionFilter,
        page: &PageRequest,
    ) -> Result<Page<SessionSummary>, StoreError>;
}

/// The meter series of charging sessions, apart from their records: what a session measured,
/// reading by reading, for the live view and for billing.
#[async_trait]
pub trait MeterSeries: Send + Sync {
    /// Adds readings to the session's series. A reading whose key
    /// ([`crate::meter::SampleKey`]) is there already keeps its first value: idempotent, so a
    /// redelivered event adds nothing.
    async fn add(
        &self,
        station: &StationId,
        transaction: &TransactionKey,
        samples: &[MeterSample],
    ) -> Result<(), StoreError>;
    /// One page of the series in time order (at one time: by measurand, phase and context).
    /// A page holds every reading of up to `page.limit` instants (distinct timestamps).
    async fn page(
        &self,
        station: &StationId,
        transaction: &TransactionKey,
        page: &PageRequest,
    ) -> Result<Page<MeterSample>, StoreError>;
    /// The latest total energy register reading (no phase) taken at or before `at`.
    async fn energy_register_at(
        &self,
        station: &StationId,
        transaction: &TransactionKey,
        at: DateTime<Utc>,
    ) -> Result<Option<MeterSample>, StoreError>;
}

#[async_trait]
pub trait SessionCompletedBus: Send + Sync {
    /// Announces a completed session (for billing); `dedup_key` is one per session.
    async fn session_completed(&self, completed: &SessionCompleted, dedup_key: &str) -> Result<(), PublishError>;
}

/// The ports the transaction use cases take, borrowed from whatever a handler holds.
#[derive(Clone, Copy)]
pub struct TransactionPorts<'a> {
    pub tokens: &'a dyn TokenRepository,
    pub transaction_ids: &'a dyn TransactionIdAllocator,
    pub start_claims: &'a dyn StartClaims,
    pub transactions: &'a dyn TransactionRepository,
    pub seq_nos: &'a dyn SeqNoTracker,
    pub anomalies: &'a dyn AnomalyLog,
    pub session_events: &'a dyn SessionEventBus,
}

/// Remote commands (CSMS-initiated CALLs) and the per-station slot that allows one outstanding
/// CALL per station.
#[async_trait]
pub trait CommandStore: Send + Sync {
    /// Stores the record unless a command with its id exists; true when stored. Idempotent: a
    /// redelivered request does not create the command twice.
    async fn create(&self, record: &CommandRecord) -> Result<bool, StoreError>;
    async fn get(&self, station: &StationId, id: &CommandId) -> Result<Option<CommandRecord>, StoreError>;
    /// The station's commands, oldest first.
    async fn list(&self, station: &StationId) -> Result<Vec<CommandRecord>, StoreError>;
    /// One page of the station's commands created from `since` on (its registration: earlier ones
    /// were for an earlier registration of the id), newest first. Command ids are UUIDv7, so
    /// `since` is a bound on the key.
    async fn list_newest(
        &self,
        station: &StationId,
        since: DateTime<Utc>,
        page: &PageRequest,
    ) -> Result<Page<CommandRecord>, StoreError>;
    /// Frees the station's slot whoever holds it (a new registration of its id starts with none).
    async fn clear_slot(&self, station: &StationId) -> Result<(), StoreError>;
    /// Makes `id` the station's outstanding command, in one conditional write, if the slot is
    /// free, already held by `id` (re-entrant, for a redelivered dispatch), or held by a command
    /// whose deadline is not after `now` (that holder is displaced and reported, so the caller
    /// can fail it). Otherwise `Busy` with the live holder.
    async fn acquire_slot(
        &self,
        station: &StationId,
        id: &CommandId,
        deadline: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<SlotOutcome, StoreError>;
    /// Frees the station's slot if `id` holds it; true if it did.
    async fn release_slot(&self, station: &StationId, id: &CommandId) -> Result<bool, StoreError>;
    /// The command that holds the station's slot, if any.
    async fn holder(&self, station: &StationId) -> Result<Option<SlotHolder>, StoreError>;
    /// Sets the command's state to `next` only if its current state is one of `allowed`, in one
    /// conditional write, so a late or duplicate answer never overwrites a final state. Returns
    /// the updated record; None when the command is unknown or in another state.
    async fn transition(
        &self,
        station: &StationId,
        id: &CommandId,
        allowed: &[StateKind],
        next: &CommandState,
    ) -> Result<Option<CommandRecord>, StoreError>;
}

/// Where commands wait to be sent, in order per station, and their deadline checks.
#[async_trait]
pub trait CommandQueue: Send + Sync {
    /// Enqueues a new command (deduplicated by its id).
    async fn submit(&self, command: &Command) -> Result<(), StoreError>;
    /// Asks for `command::check_deadline` to run for this command at its deadline.
    async fn check_at_deadline(&self, command: &Command) -> Result<(), StoreError>;
    /// Has a received command message delivered again after `delay` rather than after the
    /// queue's visibility timeout: the station was busy, and its answer usually comes in a second.
    async fn redeliver_after(&self, receipt_handle: &str, delay: chrono::Duration) -> Result<(), StoreError>;
}
