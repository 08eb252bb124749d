//! In-memory doubles of the ports, for unit and handler tests. Same contracts as the adapters.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use crate::anomaly::Anomaly;
use crate::boot::BootPolicy;
use crate::command::{Command, CommandId, CommandRecord, CommandState, SlotHolder, SlotOutcome, StateKind};
use crate::connection::Connection;
use crate::credentials::PasswordHash;
use crate::id_token::{IdToken, TokenClaim, TokenRecord};
use crate::meter::{MeterSample, SampleKey};
use crate::page::{Page, PageRequest};
use crate::ports::*;
use crate::session::{Session, SessionCompleted, SessionEvent, SessionFilter, SessionSummary, TransactionKey};
use crate::station::{BootInfo, Registration, Station, StationId};
use crate::status::{Availability, Component, StatusReport};
use crate::transaction::{StartKey, Stop, Transaction, TransactionId};
use crate::transaction_event::{SeqNoLog, StationTransactionId};

#[derive(Default)]
pub struct MemoryStations(pub Mutex<BTreeMap<StationId, Station>>);

impl MemoryStations {
    fn live_connection(&self, id: &StationId) -> Result<Option<String>, StoreError> {
        Ok(self.0.lock().unwrap().get(id).and_then(|s| s.connection_id.clone()))
    }

    fn update(&self, id: &StationId, f: impl FnOnce(&mut Station)) -> Result<(), StoreError> {
        let mut map = self.0.lock().unwrap();
        f(map.get_mut(id).ok_or(StoreError::NotFound)?);
        Ok(())
    }
}

#[async_trait]
impl StationRepository for MemoryStations {
    async fn get(&self, id: &StationId) -> Result<Option<Station>, StoreError> {
        Ok(self.0.lock().unwrap().get(id).cloned())
    }
    async fn create(&self, station: &Station) -> Result<(), StoreError> {
        let mut map = self.0.lock().unwrap();
        if map.contains_key(&station.id) {
            return Err(StoreError::AlreadyExists);
        }
        map.insert(station.id.clone(), station.clone());
        Ok(())
    }
    async fn set_password_hash(&self, id: &StationId, hash: &PasswordHash) -> Result<Option<String>, StoreError> {
        self.update(id, |s| s.password_hash = hash.clone())?;
        self.live_connection(id)
    }
    async fn set_registration(&self, id: &StationId, registration: Registration) -> Result<Option<String>, StoreError> {
        self.update(id, |s| s.registration = registration)?;
        self.live_connection(id)
    }
    async fn update(&self, id: &StationId, changes: &StationChanges) -> Result<Option<String>, StoreError> {
        self.update(id, |s| changes.apply(s))?;
        self.live_connection(id)
    }
    async fn delete(&self, id: &StationId) -> Result<Option<Station>, StoreError> {
        Ok(self.0.lock().unwrap().remove(id))
    }
    async fn list(&self) -> Result<Vec<Station>, StoreError> {
        Ok(self.0.lock().unwrap().values().cloned().collect())
    }
    async fn list_by_organisation(&self, organisation: &str, page: &PageRequest) -> Result<Page<Station>, StoreError> {
        let theirs: Vec<Station> = {
            let stations = self.0.lock().unwrap();
            stations
                .values()
                .filter(|s| s.organisation.as_deref() == Some(organisation))
                .cloned()
                .collect()
        };
        Ok(Page::of_sorted(theirs, page, |s| s.id.to_string()))
    }
    async fn attach_connection(
        &self,
        id: &StationId,
        connection_id: &str,
        checked: CheckedAgainst<'_>,
    ) -> Result<Option<String>, StoreError> {
        let mut map = self.0.lock().unwrap();
        let station = map
            .get_mut(id)
            .filter(|s| &s.password_hash == checked.password_hash && s.registration == checked.registration)
            .ok_or(StoreError::NotFound)?;
        let previous = station.connection_id.replace(connection_id.to_owned());
        station.online = true;
        Ok(previous)
    }
    async fn detach_connection(&self, id: &StationId, connection_id: &str) -> Result<bool, StoreError> {
        let mut detached = false;
        self.update(id, |s| {
            if s.connection_id.as_deref() == Some(connection_id) {
                s.connection_id = None;
                s.online = false;
                detached = true;
            }
        })?;
        Ok(detached)
    }
    async fn record_boot(&self, id: &StationId, boot: &BootInfo) -> Result<(), StoreError> {
        self.update(id, |s| s.boot = Some(boot.clone()))
    }
}

#[derive(Default)]
pub struct MemoryConnections(pub Mutex<HashMap<String, Connection>>);

#[async_trait]
impl ConnectionRepository for MemoryConnections {
    async fn put(&self, connection: &Connection) -> Result<(), StoreError> {
        self.0
            .lock()
            .unwrap()
            .insert(connection.connection_id.clone(), connection.clone());
        Ok(())
    }
    async fn get(&self, connection_id: &str) -> Result<Option<Connection>, StoreError> {
        Ok(self.0.lock().unwrap().get(connection_id).cloned())
    }
    async fn get_latest(&self, connection_id: &str) -> Result<Option<Connection>, StoreError> {
        self.get(connection_id).await
    }
    async fn get_many(&self, connection_ids: &[String]) -> Result<Vec<Connection>, StoreError> {
        let map = self.0.lock().unwrap();
        Ok(connection_ids.iter().filter_map(|id| map.get(id).cloned()).collect())
    }
    async fn delete(&self, connection_id: &str) -> Result<(), StoreError> {
        self.0.lock().unwrap().remove(connection_id);
        Ok(())
    }
    async fn set_boot(
        &self,
        connection_id: &str,
        boot: Registration,
        seen_at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let mut map = self.0.lock().unwrap();
        let c = map.get_mut(connection_id).ok_or(StoreError::NotFound)?;
        c.boot = Some(boot);
        c.last_seen_at = seen_at;
        Ok(())
    }
    async fn touch(&self, connection_id: &str, seen_at: DateTime<Utc>) -> Result<(), StoreError> {
        let mut map = self.0.lock().unwrap();
        map.get_mut(connection_id).ok_or(StoreError::NotFound)?.last_seen_at = seen_at;
        Ok(())
    }
}

#[derive(Default)]
pub struct MemoryAvailability(pub Mutex<BTreeMap<(StationId, Component), Availability>>);

#[async_trait]
impl AvailabilityRepository for MemoryAvailability {
    async fn get(&self, station: &StationId, component: Component) -> Result<Option<Availability>, StoreError> {
        Ok(self.0.lock().unwrap().get(&(station.clone(), component)).cloned())
    }
    async fn replace(&self, next: &Availability, expected: Option<DateTime<Utc>>) -> Result<bool, StoreError> {
        let mut map = self.0.lock().unwrap();
        let key = (next.station_id.clone(), next.component);
        if map.get(&key).map(|a| a.reported_at) != expected {
            return Ok(false);
        }
        map.insert(key, next.clone());
        Ok(true)
    }
    async fn list(&self, station: &StationId) -> Result<Vec<Availability>, StoreError> {
        Ok(self
            .0
            .lock()
            .unwrap()
            .values()
            .filter(|a| &a.station_id == station)
            .cloned()
            .collect())
    }
    async fn clear(&self, station: &StationId) -> Result<(), StoreError> {
        self.0.lock().unwrap().retain(|(s, _), _| s != station);
        Ok(())
    }
}

/// Keyed like the real table: station, the station's timestamp, component.
type HistoryKey = (StationId, DateTime<Utc>, Component);

#[derive(Default)]
pub struct MemoryHistory(pub Mutex<BTreeMap<HistoryKey, StatusReport>>);

#[async_trait]
impl StatusHistory for MemoryHistory {
    async fn append(&self, r: &StatusReport) -> Result<(), StoreError> {
        self.0
            .lock()
            .unwrap()
            .insert((r.station_id.clone(), r.timestamp, r.component), r.clone());
        Ok(())
    }
    async fn list(
        &self,
        station: &StationId,
        since: DateTime<Utc>,
        page: &PageRequest,
    ) -> Result<Page<StatusReport>, StoreError> {
        let newest_first: Vec<StatusReport> = {
            let map = self.0.lock().unwrap();
            map.values()
                .rev()
                .filter(|r| &r.station_id == station && r.received_at >= since)
                .cloned()
                .collect()
        };
        // Keyed like the table's sort key: the station's timestamp, then the component.
        let key = |r: &StatusReport| format!("{}#{}", r.timestamp.to_rfc3339(), r.component.key());
        Ok(newest_first_page(newest_first, page, key))
    }
}

/// Like [`Page::of_sorted`] for a list in descending key order (a query read backwards).
fn newest_first_page<T>(items: Vec<T>, request: &PageRequest, key: impl Fn(&T) -> String) -> Page<T> {
    let start = match &request.after {
        None => 0,
        Some(after) => items
            .iter()
            .position(|item| key(item).as_str() < after.as_str())
            .unwrap_or(items.len()),
    };
    let mut rest: Vec<T> = items.into_iter().skip(start).collect();
    let more = rest.len() > request.limit;
    rest.truncate(request.limit);
    let next = if more {
        rest.last().map(|item| crate::page::Cursor::new(key(item)))
    } else {
        None
    };
    Page { items: rest, next }
}

#[derive(Default)]
pub struct MemoryEventLog(pub Mutex<BTreeMap<(StationId, String), String>>);

#[async_trait]
impl StationEventLog for MemoryEventLog {
    async fn store(
        &self,
        station: &StationId,
        entry: &str,
        body: &str,
        _received_at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        self.0
            .lock()
            .unwrap()
            .insert((station.clone(), entry.to_owned()), body.to_owned());
        Ok(())
    }
}

/// Keeps published events, once per dedup key, as a FIFO queue's deduplication would.
#[derive(Default)]
pub struct MemoryBus(pub Mutex<Vec<(String, StatusReport)>>);

#[async_trait]
impl EventBus for MemoryBus {
    async fn status_reported(&self, report: &StatusReport, dedup_key: &str) -> Result<(), PublishError> {
        let mut events = self.0.lock().unwrap();
        if !events.iter().any(|(k, _)| k == dedup_key) {
            events.push((dedup_key.to_owned(), report.clone()));
        }
        Ok(())
    }
}

/// Records which connections were closed (`.0`) and the frames sent (`.1`). Every connection
/// counts as open for `close`; `send` finds a closed connection, or one marked gone, gone (410).
#[derive(Default)]
pub struct MemoryChannel(pub Mutex<Vec<String>>, pub Mutex<MemoryOutbox>);

/// What [`MemoryChannel::send`] delivered, and which connections it treats as gone.
#[derive(Debug, Default)]
pub struct MemoryOutbox {
    /// (connection id, frame), in sending order.
    pub sent: Vec<(String, String)>,
    /// Connections that answer 410 Gone.
    pub gone: BTreeSet<String>,
}

impl MemoryChannel {
    /// Makes the connection answer 410 Gone from now on.
    pub fn set_gone(&self, connection_id: &str) {
        self.1.lock().unwrap().gone.insert(connection_id.to_owned());
    }

    /// The frames delivered so far, as (connection id, frame).
    pub fn sent(&self) -> Vec<(String, String)> {
        self.1.lock().unwrap().sent.clone()
    }
}

#[async_trait]
impl StationChannel for MemoryChannel {
    async fn close(&self, connection_id: &str) -> Result<bool, ChannelError> {
        self.0.lock().unwrap().push(connection_id.to_owned());
        Ok(true)
    }

    async fn send(&self, connection_id: &str, text: &str) -> Result<bool, ChannelError> {
        let closed = self.0.lock().unwrap().iter().any(|c| c == connection_id);
        let mut outbox = self.1.lock().unwrap();
        if closed || outbox.gone.contains(connection_id) {
            return Ok(false);
        }
        outbox.sent.push((connection_id.to_owned(), text.to_owned()));
        Ok(true)
    }
}

/// A complete set of in-memory services, with handles to inspect what the code under test did.
#[derive(Clone, Default)]
pub struct MemoryWorld {
    pub stations: Arc<MemoryStations>,
    pub connections: Arc<MemoryConnections>,
    pub availability: Arc<MemoryAvailability>,
    pub history: Arc<MemoryHistory>,
    pub station_events: Arc<MemoryEventLog>,
    pub bus: Arc<MemoryBus>,
    pub channel: Arc<MemoryChannel>,
    pub charging: MemoryCharging,
    pub commands: Arc<MemoryCommands>,
    pub command_queue: Arc<MemoryCommandQueue>,
    pub local_lists: Arc<crate::local_list::MemoryLocalLists>,
    pub organisations: Arc<crate::organisation::MemoryOrganisations>,
}

impl MemoryWorld {
    pub fn services(&self, boot_policy: BootPolicy) -> Services {
        Services {
            stations: self.stations.clone(),
            locator: self.stations.clone(),
            connections: self.connections.clone(),
            availability: self.availability.clone(),
            history: self.history.clone(),
            station_events: self.station_events.clone(),
            bus: self.bus.clone(),
            channel: self.channel.clone(),
            boot_policy,
            charging: self.charging.services(),
            commands: CommandServices {
                store: self.commands.clone(),
                queue: self.command_queue.clone(),
                local_lists: self.local_lists.clone(),
            },
            organisations: self.organisations.clone(),
        }
    }
}

/// Keyed like the real table: the issuing organisation's registry, then the token's registry key.
#[derive(Default)]
pub struct MemoryTokens(pub Mutex<TokenBook>);

type RegistryKey = (Option<String>, String);

#[derive(Default)]
pub struct TokenBook {
    pub records: BTreeMap<RegistryKey, TokenRecord>,
    /// Claims by digest, and each token's current claim digest.
    pub claims: BTreeMap<String, TokenClaim>,
    pub current_claim: BTreeMap<RegistryKey, String>,
}

fn registry_key(organisation: Option<&str>, token: &IdToken) -> RegistryKey {
    (organisation.map(str::to_owned), token.key())
}

#[async_trait]
impl TokenRepository for MemoryTokens {
    async fn get(&self, organisation: Option<&str>, token: &IdToken) -> Result<Option<TokenRecord>, StoreError> {
        Ok(self
            .0
            .lock()
            .unwrap()
            .records
            .get(&registry_key(organisation, token))
            .cloned())
    }
    async fn put(&self, record: &TokenRecord) -> Result<(), StoreError> {
        let key = registry_key(record.organisation.as_deref(), &record.token);
        self.0.lock().unwrap().records.insert(key, record.clone());
        Ok(())
    }
    async fn register(&self, record: &TokenRecord) -> Result<Option<TokenRecord>, StoreError> {
        let key = registry_key(record.organisation.as_deref(), &record.token);
        let mut book = self.0.lock().unwrap();
        let previous = book.records.get(&key).cloned();
        let owner = previous.as_ref().and_then(|p| p.owner.clone());
        book.records.insert(
            key,
            TokenRecord {
                owner,
                ..record.clone()
            },
        );
        Ok(previous)
    }
    async fn release(&self, organisation: Option<&str>, token: &IdToken) -> Result<(), StoreError> {
        let mut book = self.0.lock().unwrap();
        let record = book
            .records
            .get_mut(&registry_key(organisation, token))
            .ok_or(StoreError::NotFound)?;
        record.owner = None;
        Ok(())
    }
    async fn delete(&self, organisation: Option<&str>, token: &IdToken) -> Result<(), StoreError> {
        let key = registry_key(organisation, token);
        let mut book = self.0.lock().unwrap();
        book.current_claim.remove(&key);
        book.records.remove(&key).map(|_| ()).ok_or(StoreError::NotFound)
    }
    async fn list(&self) -> Result<Vec<TokenRecord>, StoreError> {
        Ok(self.0.lock().unwrap().records.values().cloned().collect())
    }
    async fn list_by_owner(&self, owner: &str, page: &PageRequest) -> Result<Page<TokenRecord>, StoreError> {
        let mut mine: Vec<TokenRecord> = {
            let book = self.0.lock().unwrap();
            book.records
                .values()
                .filter(|r| r.owner.as_deref() == Some(owner))
                .cloned()
                .collect()
        };
        mine.sort_by_key(|r| (r.token.key(), r.organisation.clone()));
        Ok(Page::of_sorted(mine, page, |r| {
            format!("{}#{}", r.token.key(), r.organisation.as_deref().unwrap_or(""))
        }))
    }
    async fn list_by_organisation(
        &self,
        organisation: &str,
        page: &PageRequest,
    ) -> Result<Page<TokenRecord>, StoreError> {
        let theirs: Vec<TokenRecord> = {
            let book = self.0.lock().unwrap();
            book.records
                .values()
                .filter(|r| r.organisation.as_deref() == Some(organisation))
                .cloned()
                .collect()
        };
        Ok(Page::of_sorted(theirs, page, |r| r.token.key()))
    }
    async fn offer_claim(&self, claim: &TokenClaim) -> Result<(), StoreError> {
        let key = registry_key(claim.organisation.as_deref(), &claim.token);
        let mut book = self.0.lock().unwrap();
        if !book.records.contains_key(&key) {
            return Err(StoreError::NotFound);
        }
        book.current_claim.insert(key, claim.digest.clone());
        book.claims.insert(claim.digest.clone(), claim.clone());
        Ok(())
    }
    async fn redeem_claim(
        &self,
        digest: &str,
        owner: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<TokenRecord>, StoreError> {
        let mut book = self.0.lock().unwrap();
        let Some(claim) = book.claims.get(digest).filter(|c| c.expires_at > now).cloned() else {
            return Ok(None);
        };
        let key = registry_key(claim.organisation.as_deref(), &claim.token);
        if book.current_claim.get(&key).map(String::as_str) != Some(digest) {
            return Ok(None);
        }
        let Some(record) = book.records.get_mut(&key) else {
            return Ok(None);
        };
        record.owner = Some(owner.to_owned());
        let record = record.clone();
        book.current_claim.remove(&key);
        book.claims.remove(digest);
        Ok(Some(record))
    }
    async fn delete_owned(&self, organisation: Option<&str>, token: &IdToken, owner: &str) -> Result<bool, StoreError> {
        let key = registry_key(organisation, token);
        let mut book = self.0.lock().unwrap();
        let owned = book
            .records
            .get(&key)
            .is_some_and(|r| r.owner.as_deref() == Some(owner));
        if owned {
            book.records.remove(&key);
            book.current_claim.remove(&key);
        }
        Ok(owned)
    }
}

/// The last number handed out (0: none yet).
#[derive(Default)]
pub struct MemoryTransactionIds(pub AtomicU64);

impl MemoryTransactionIds {
    /// Makes `last` the last number handed out, e.g. to test the end of the range.
    pub fn set(&self, last: u64) {
        self.0.store(last, Ordering::SeqCst);
    }
}

#[async_trait]
impl TransactionIdAllocator for MemoryTransactionIds {
    async fn next(&self) -> Result<u64, StoreError> {
        Ok(self.0.fetch_add(1, Ordering::SeqCst) + 1)
    }
}

#[derive(Default)]
pub struct MemoryStartClaims(pub Mutex<HashMap<StartKey, TransactionId>>);

#[async_trait]
impl StartClaims for MemoryStartClaims {
    async fn claim(&self, key: &StartKey, id: TransactionId) -> Result<TransactionId, StoreError> {
        Ok(*self.0.lock().unwrap().entry(key.clone()).or_insert(id))
    }
}

#[derive(Default)]
pub struct MemoryTransactions(pub Mutex<BTreeMap<(StationId, TransactionId), Transaction>>);

#[async_trait]
impl TransactionRepository for MemoryTransactions {
    async fn create(&self, transaction: &Transaction) -> Result<bool, StoreError> {
        let mut map = self.0.lock().unwrap();
        let key = (transaction.station.clone(), transaction.id);
        if map.contains_key(&key) {
            return Ok(false);
        }
        map.insert(key, transaction.clone());
        Ok(true)
    }
    async fn get(&self, station: &StationId, id: TransactionId) -> Result<Option<Transaction>, StoreError> {
        Ok(self.0.lock().unwrap().get(&(station.clone(), id)).cloned())
    }
    async fn stop(
        &self,
        station: &StationId,
        id: TransactionId,
        stop: &Stop,
    ) -> Result<Option<Transaction>, StoreError> {
        let mut map = self.0.lock().unwrap();
        let Some(transaction) = map.get_mut(&(station.clone(), id)) else {
            return Ok(None);
        };
        let before = transaction.clone();
        if transaction.stop.is_none() {
            transaction.stop = Some(stop.clone());
        }
        Ok(Some(before))
    }
}

#[derive(Default)]
pub struct MemorySeqNos(pub Mutex<BTreeMap<(StationId, StationTransactionId), SeqNoLog>>);

#[async_trait]
impl SeqNoTracker for MemorySeqNos {
    async fn get(
        &self,
        station: &StationId,
        transaction: &StationTransactionId,
    ) -> Result<Option<SeqNoLog>, StoreError> {
        Ok(self
            .0
            .lock()
            .unwrap()
            .get(&(station.clone(), transaction.clone()))
            .cloned())
    }
    async fn save(
        &self,
        station: &StationId,
        transaction: &StationTransactionId,
        log: &SeqNoLog,
        expected_version: Option<u64>,
    ) -> Result<bool, StoreError> {
        let mut map = self.0.lock().unwrap();
        let key = (station.clone(), transaction.clone());
        if map.get(&key).map(|l| l.version) != expected_version {
            return Ok(false);
        }
        map.insert(key, log.clone());
        Ok(true)
    }
}

/// Keyed by [`Anomaly::key`].
#[derive(Default)]
pub struct MemoryAnomalies(pub Mutex<BTreeMap<String, Anomaly>>);

#[async_trait]
impl AnomalyLog for MemoryAnomalies {
    async fn record(&self, anomaly: &Anomaly) -> Result<(), StoreError> {
        self.0
            .lock()
            .unwrap()
            .entry(anomaly.key())
            .or_insert_with(|| anomaly.clone());
        Ok(())
    }
    async fn list(&self, station: &StationId) -> Result<Vec<Anomaly>, StoreError> {
        let map = self.0.lock().unwrap();
        Ok(map.values().filter(|a| &a.station == station).cloned().collect())
    }
}

/// Keeps published session events, once per dedup key, as a FIFO queue's deduplication would.
#[derive(Default)]
pub struct MemorySessionEvents(pub Mutex<Vec<(String, SessionEvent)>>);

#[async_trait]
impl SessionEventBus for MemorySessionEvents {
    async fn session_event(&self, event: &SessionEvent, dedup_key: &str) -> Result<(), PublishError> {
        let mut events = self.0.lock().unwrap();
        if !events.iter().any(|(k, _)| k == dedup_key) {
            events.push((dedup_key.to_owned(), event.clone()));
        }
        Ok(())
    }
}

#[derive(Default)]
pub struct MemorySessions(pub Mutex<BTreeMap<(StationId, TransactionKey), Session>>);

#[async_trait]
impl SessionRepository for MemorySessions {
    async fn get(&self, station: &StationId, transaction: &TransactionKey) -> Result<Option<Session>, StoreError> {
        Ok(self
            .0
            .lock()
            .unwrap()
            .get(&(station.clone(), transaction.clone()))
            .cloned())
    }
    async fn save(&self, session: &Session, expected_version: Option<u64>) -> Result<bool, StoreError> {
        let mut map = self.0.lock().unwrap();
        let key = (session.station.clone(), session.transaction.clone());
        if map.get(&key).map(|s| s.version) != expected_version {
            return Ok(false);
        }
        map.insert(key, session.clone());
        Ok(true)
    }
    async fn list(&self, station: &StationId) -> Result<Vec<Session>, StoreError> {
        let map = self.0.lock().unwrap();
        Ok(map.values().filter(|s| &s.station == station).cloned().collect())
    }
    async fn list_by_owner(
        &self,
        owner: &str,
        filter: &SessionFilter,
        page: &PageRequest,
    ) -> Result<Page<SessionSummary>, StoreError> {
        Ok(self.page_of(|s| s.owner.as_deref() == Some(owner), filter, page))
    }
    async fn list_by_organisation(
        &self,
        organisation: &str,
        filter: &SessionFilter,
        page: &PageRequest,
    ) -> Result<Page<SessionSummary>, StoreError> {
        Ok(self.page_of(|s| s.organisation.as_deref() == Some(organisation), filter, page))
    }
}

impl MemorySessions {
    /// Newest start first, as the store's indexes sort; the key inverts the start time so that it
    /// grows along the list, as `Page::of_sorted` needs.
    fn page_of(
        &self,
        partition: impl Fn(&Session) -> bool,
        filter: &SessionFilter,
        page: &PageRequest,
    ) -> Page<SessionSummary> {
        let key = |s: &SessionSummary| {
            let micros = s.started_at.map_or(0, |t| t.timestamp_micros().max(0));
            format!("{:020}#{}#{}", i64::MAX - micros, s.station, s.transaction)
        };
        let mut listed: Vec<SessionSummary> = {
            let map = self.0.lock().unwrap();
            map.values()
                .filter(|s| partition(s))
                .map(Session::summary)
                .filter(|s| filter.matches(s))
                .collect()
        };
        listed.sort_by_key(key);
        Page::of_sorted(listed, page, key)
    }
}

type Series = BTreeMap<(StationId, TransactionKey), BTreeMap<SampleKey, MeterSample>>;

/// Meter series by session; pages by instant like the store.
#[derive(Default)]
pub struct MemorySeries(pub Mutex<Series>);

impl MemorySeries {
    /// A page's cursor: the last instant it holds.
    fn instant(at: &DateTime<Utc>) -> String {
        at.to_rfc3339_opts(chrono::SecondsFormat::Nanos, true)
    }
}

#[async_trait]
impl MeterSeries for MemorySeries {
    async fn add(
        &self,
        station: &StationId,
        transaction: &TransactionKey,
        samples: &[MeterSample],
    ) -> Result<(), StoreError> {
        let mut map = self.0.lock().unwrap();
        let series = map.entry((station.clone(), transaction.clone())).or_default();
        for sample in samples {
            series.entry(sample.key()).or_insert_with(|| sample.clone());
        }
        Ok(())
    }

    async fn page(
        &self,
        station: &StationId,
        transaction: &TransactionKey,
        page: &PageRequest,
    ) -> Result<Page<MeterSample>, StoreError> {
        let after = match &page.after {
            Some(cursor) => Some(
                DateTime::parse_from_rfc3339(cursor.as_str())
                    .map_err(|_| StoreError::InvalidCursor)?
                    .with_timezone(&Utc),
            ),
            None => None,
        };
        let map = self.0.lock().unwrap();
        let Some(series) = map.get(&(station.clone(), transaction.clone())) else {
            return Ok(Page {
                items: Vec::new(),
                next: None,
            });
        };
        let instants: BTreeSet<DateTime<Utc>> = series
            .keys()
            .map(|k| k.timestamp)
            .filter(|at| after.is_none_or(|after| *at > after))
            .collect();
        let more = instants.len() > page.limit;
        let kept: BTreeSet<DateTime<Utc>> = instants.into_iter().take(page.limit).collect();
        let items = series
            .values()
            .filter(|s| kept.contains(&s.timestamp))
            .cloned()
            .collect();
        let next = more.then(|| crate::Cursor::new(Self::instant(kept.last().expect("a full page"))));
        Ok(Page { items, next })
    }

    async fn energy_register_at(
        &self,
        station: &StationId,
        transaction: &TransactionKey,
        at: DateTime<Utc>,
    ) -> Result<Option<MeterSample>, StoreError> {
        let map = self.0.lock().unwrap();
        Ok(map.get(&(station.clone(), transaction.clone())).and_then(|series| {
            series
                .values()
                .filter(|s| s.is_energy_register() && s.timestamp <= at)
                .max_by(|a, b| a.key().cmp(&b.key()))
                .cloned()
        }))
    }
}

/// Keeps announced completions, once per dedup key.
#[derive(Default)]
pub struct MemoryCompletions(pub Mutex<Vec<(String, SessionCompleted)>>);

#[async_trait]
impl SessionCompletedBus for MemoryCompletions {
    async fn session_completed(&self, completed: &SessionCompleted, dedup_key: &str) -> Result<(), PublishError> {
        let mut published = self.0.lock().unwrap();
        if !published.iter().any(|(k, _)| k == dedup_key) {
            published.push((dedup_key.to_owned(), completed.clone()));
        }
        Ok(())
    }
}

/// In-memory doubles of every port charging sessions use, with handles to inspect them.
#[derive(Clone, Default)]
pub struct MemoryCharging {
    pub tokens: Arc<MemoryTokens>,
    pub transaction_ids: Arc<MemoryTransactionIds>,
    pub start_claims: Arc<MemoryStartClaims>,
    pub transactions: Arc<MemoryTransactions>,
    pub seq_nos: Arc<MemorySeqNos>,
    pub anomalies: Arc<MemoryAnomalies>,
    pub session_events: Arc<MemorySessionEvents>,
    pub sessions: Arc<MemorySessions>,
    pub series: Arc<MemorySeries>,
    pub completions: Arc<MemoryCompletions>,
}

impl MemoryCharging {
    pub fn services(&self) -> ChargingServices {
        ChargingServices {
            tokens: self.tokens.clone(),
            transaction_ids: self.transaction_ids.clone(),
            start_claims: self.start_claims.clone(),
            transactions: self.transactions.clone(),
            seq_nos: self.seq_nos.clone(),
            anomalies: self.anomalies.clone(),
            session_events: self.session_events.clone(),
            sessions: self.sessions.clone(),
            series: self.series.clone(),
            session_completed: self.completions.clone(),
        }
    }

    /// What the sessions function's use case takes; `stations` for the sessions' organisations.
    pub fn session_ports<'a>(&'a self, stations: &'a dyn StationRepository) -> crate::session::SessionPorts<'a> {
        crate::session::SessionPorts {
            sessions: &*self.sessions,
            series: &*self.series,
            completions: &*self.completions,
            tokens: &*self.tokens,
            stations,
        }
    }

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

/// Commands by id, and each station's slot holder.
#[derive(Default)]
pub struct MemoryCommands {
    pub records: Mutex<BTreeMap<CommandId, CommandRecord>>,
    pub slots: Mutex<BTreeMap<StationId, SlotHolder>>,
}

#[async_trait]
impl CommandStore for MemoryCommands {
    async fn create(&self, record: &CommandRecord) -> Result<bool, StoreError> {
        let mut map = self.records.lock().unwrap();
        if map.contains_key(&record.command.id) {
            return Ok(false);
        }
        map.insert(record.command.id.clone(), record.clone());
        Ok(true)
    }
    async fn get(&self, station: &StationId, id: &CommandId) -> Result<Option<CommandRecord>, StoreError> {
        let map = self.records.lock().unwrap();
        Ok(map.get(id).filter(|r| &r.command.station == station).cloned())
    }
    async fn list(&self, station: &StationId) -> Result<Vec<CommandRecord>, StoreError> {
        let map = self.records.lock().unwrap();
        let mut list: Vec<_> = map
            .values()
            .filter(|r| &r.command.station == station)
            .cloned()
            .collect();
        list.sort_by(|a, b| (a.command.created_at, &a.command.id).cmp(&(b.command.created_at, &b.command.id)));
        Ok(list)
    }
    async fn list_newest(
        &self,
        station: &StationId,
        since: DateTime<Utc>,
        page: &PageRequest,
    ) -> Result<Page<CommandRecord>, StoreError> {
        // Like the table: by the time in the UUIDv7 id, to the millisecond.
        let since = since.timestamp_millis();
        let newest_first: Vec<CommandRecord> = {
            let map = self.records.lock().unwrap();
            map.values()
                .rev()
                .filter(|r| &r.command.station == station && r.command.id.created_millis() >= Some(since))
                .cloned()
                .collect()
        };
        Ok(newest_first_page(newest_first, page, |r| r.command.id.to_string()))
    }
    async fn acquire_slot(
        &self,
        station: &StationId,
        id: &CommandId,
        deadline: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<SlotOutcome, StoreError> {
        let mut slots = self.slots.lock().unwrap();
        let displaced = match slots.get(station) {
            Some(h) if &h.command == id => None,
            Some(h) if h.deadline <= now => Some(h.command.clone()),
            Some(h) => {
                return Ok(SlotOutcome::Busy {
                    holder: h.command.clone(),
                    deadline: h.deadline,
                });
            }
            None => None,
        };
        slots.insert(
            station.clone(),
            SlotHolder {
                command: id.clone(),
                deadline,
            },
        );
        Ok(SlotOutcome::Acquired { displaced })
    }
    async fn release_slot(&self, station: &StationId, id: &CommandId) -> Result<bool, StoreError> {
        let mut slots = self.slots.lock().unwrap();
        if slots.get(station).is_some_and(|h| &h.command == id) {
            slots.remove(station);
            return Ok(true);
        }
        Ok(false)
    }
    async fn holder(&self, station: &StationId) -> Result<Option<SlotHolder>, StoreError> {
        Ok(self.slots.lock().unwrap().get(station).cloned())
    }
    async fn clear_slot(&self, station: &StationId) -> Result<(), StoreError> {
        self.slots.lock().unwrap().remove(station);
        Ok(())
    }
    async fn transition(
        &self,
        station: &StationId,
        id: &CommandId,
        allowed: &[StateKind],
        next: &CommandState,
    ) -> Result<Option<CommandRecord>, StoreError> {
        let mut map = self.records.lock().unwrap();
        let Some(record) = map.get_mut(id).filter(|r| &r.command.station == station) else {
            return Ok(None);
        };
        if !allowed.contains(&record.state.kind()) {
            return Ok(None);
        }
        record.state = next.clone();
        Ok(Some(record.clone()))
    }
}

/// Records what was submitted and which deadline checks were asked for.
#[derive(Default)]
pub struct MemoryCommandQueue {
    pub submitted: Mutex<Vec<Command>>,
    pub deadline_checks: Mutex<Vec<(StationId, CommandId, DateTime<Utc>)>>,
    pub redeliveries: Mutex<Vec<(String, chrono::Duration)>>,
}

#[async_trait]
impl CommandQueue for MemoryCommandQueue {
    async fn submit(&self, command: &Command) -> Result<(), StoreError> {
        let mut submitted = self.submitted.lock().unwrap();
        if !submitted.iter().any(|c| c.id == command.id) {
            submitted.push(command.clone());
        }
        Ok(())
    }
    async fn check_at_deadline(&self, command: &Command) -> Result<(), StoreError> {
        let check = (command.station.clone(), command.id.clone(), command.deadline);
        self.deadline_checks.lock().unwrap().push(check);
        Ok(())
    }
    async fn redeliver_after(&self, receipt_handle: &str, delay: chrono::Duration) -> Result<(), StoreError> {
        self.redeliveries
            .lock()
            .unwrap()
            .push((receipt_handle.to_owned(), delay));
        Ok(())
    }
}

/// The stations' geohash index, as the table's index would hold it.
#[async_trait]
impl crate::geo::StationLocator for MemoryStations {
    async fn in_cell(&self, cell: &str) -> Result<Vec<(StationId, crate::station::GeoPoint)>, StoreError> {
        let stations = self.0.lock().unwrap();
        Ok(stations
            .values()
            .filter_map(|s| s.location.map(|l| (s.id.clone(), l)))
            .filter(|(_, l)| crate::geo::index_keys(*l).0 == cell)
            .collect())
    }
}
