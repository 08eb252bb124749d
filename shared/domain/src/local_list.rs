//! Local authorization lists (1.6 section 5.15 SendLocalList / 5.10 GetLocalListVersion, 2.0.1 D01 /
//! D02): the list of id tokens a pile may authorize by itself, offline included.
//!
//! The CSMS keeps, per station, the list it believes the pile holds and the version number of that
//! list, plans updates, and applies the pile's answers. Sending the SendLocalList CALL is the
//! remote command mechanism's job ([`crate::command`]): [`plan`] returns the update to send and
//! remembers it as pending under the command's id; [`update_answered`] / [`update_failed`] settle
//! it when the command ends.
//!
//! Rules implemented here:
//! - The version number of the list after an update is the one the update carries, for Full and
//!   Differential updates alike (both versions). 0 means "no list / empty". Versions we plan
//!   strictly increase, never reusing a number, even one whose update failed: a pile may have
//!   applied an update whose answer never came back, and must not hold two lists under one number.
//! - A Differential update is correct only on top of the list the pile holds, so one is sent only
//!   while the CSMS knows that list (in sync: no update pending, `needs_full` not set). Otherwise
//!   the update is escalated to Full, with the whole resulting list.
//! - The CSMS no longer knows the pile's list (`needs_full`) when: nothing is known yet about a
//!   station; the pile answered VersionMismatch; it answered Failed (1.6 section 5.15: after a failed
//!   Differential "the Central System SHOULD retry sending the full local authorization list", and a
//!   pile that failed half way through a Full replacement may hold neither list); a sent update got
//!   no answer (timeout, connection lost: it may or may not have been applied); a newer plan
//!   replaced a pending one (the replaced one may still reach the pile, or already have); the pile
//!   reported a version other than the believed one. Only an Accepted Full update brings it back.
//! - Commands reach a pile in the order they were planned (the command mechanism sends one CALL
//!   at a time per station, in order), so a replaced update is never applied after the Full update
//!   that replaced it.
//! - In a Differential update an entry without authorization removes the token (1.6 idTagInfo /
//!   2.0.1 idTokenInfo absent); Full updates carry authorizations only.
//! - Tokens are keyed by [`IdToken::key`] (case-insensitive, without type), so a list never holds
//!   a token twice (both versions require unique tokens in a list).

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use std::collections::BTreeMap;
use std::sync::Mutex;

use crate::id_token::{Authorization, IdToken};
use crate::ports::{StoreError, TokenRepository};
use crate::station::StationId;

/// The most entries a list may hold. 1.6 lets each pile set its own limit
/// (SendLocalListMaxLength / LocalAuthListMaxLength, 2.0.1 LocalAuthListCtrlr.Entries), which we
/// do not know here; the cap comes from storage: the state is one DynamoDB item (at most 400 KB)
/// holding the believed list and a pending update, up to 2 x 1000 entries of at most ~160 bytes.
pub const MAX_ENTRIES: usize = 1000;

/// How often a change is retried when another writer changed the state between read and write.
const ATTEMPTS: usize = 5;

/// The list, keyed by [`IdToken::key`].
pub type Entries = BTreeMap<String, LocalListEntry>;

/// One token of a list or of an update.
#[derive(Debug, Clone, PartialEq)]
pub struct LocalListEntry {
    pub token: IdToken,
    /// None removes the token; only in Differential updates.
    pub authorization: Option<Authorization>,
}

impl LocalListEntry {
    pub fn key(&self) -> String {
        self.token.key()
    }
}

/// 1.6 UpdateType, 2.0.1 UpdateEnumType.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum UpdateType {
    /// Replaces the pile's list.
    Full,
    /// Adds, updates and removes entries of the pile's list.
    Differential,
}

impl UpdateType {
    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "Full" => Some(Self::Full),
            "Differential" => Some(Self::Differential),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Full => "Full",
            Self::Differential => "Differential",
        }
    }
}

/// An update planned and not yet settled.
#[derive(Debug, Clone, PartialEq)]
pub struct PendingUpdate {
    /// The id of the SendLocalList command that carries it.
    pub command: String,
    pub version: i32,
    pub update_type: UpdateType,
    /// What is sent, one entry per token.
    pub entries: Vec<LocalListEntry>,
    /// The list once the pile has applied it.
    pub result: Entries,
}

impl PendingUpdate {
    /// An update and the list it leaves on a pile that holds `base` (for a Full update, `base`
    /// does not matter). The result of a pending update is always its entries applied to the
    /// believed list of the same state, so storage may keep the entries only and rebuild it.
    pub fn new(
        command: impl Into<String>,
        version: i32,
        update_type: UpdateType,
        entries: Vec<LocalListEntry>,
        base: &Entries,
    ) -> Self {
        let mut result = match update_type {
            UpdateType::Full => Entries::new(),
            UpdateType::Differential => base.clone(),
        };
        for entry in &entries {
            match entry.authorization {
                Some(_) => {
                    result.insert(entry.key(), entry.clone());
                }
                None => {
                    result.remove(&entry.key());
                }
            }
        }
        Self {
            command: command.into(),
            version,
            update_type,
            entries,
            result,
        }
    }
}

/// What the CSMS knows of a station's list.
#[derive(Debug, Clone, PartialEq)]
pub struct LocalListState {
    /// The version of the believed list; 0: empty, or nothing known.
    pub version: i32,
    /// The list the CSMS believes the pile holds (meaningful while `needs_full` is not set).
    pub entries: Entries,
    pub pending: Option<PendingUpdate>,
    /// The pile's list is not known: the next update must be Full.
    pub needs_full: bool,
    /// Whether the pile supports local lists: None until it says (GetLocalListVersion -1 or
    /// SendLocalList NotSupported: no).
    pub supported: Option<bool>,
    /// The highest version ever planned, so that no number is used twice.
    pub planned_version: i32,
    pub updated_at: Option<DateTime<Utc>>,
    /// Optimistic concurrency: set by the store, one more on every write.
    pub revision: u64,
}

impl Default for LocalListState {
    /// A station the CSMS has never planned for: whatever list the pile holds (from the factory
    /// or an earlier CSMS) is unknown, so the first update is Full. It costs nothing: with an
    /// empty believed list a Full update carries what a Differential one would.
    fn default() -> Self {
        Self {
            version: 0,
            entries: Entries::new(),
            pending: None,
            needs_full: true,
            supported: None,
            planned_version: 0,
            updated_at: None,
            revision: 0,
        }
    }
}

impl LocalListState {
    /// True when the CSMS knows the pile's list: it is `entries` at `version`.
    pub fn in_sync(&self) -> bool {
        !self.needs_full && self.pending.is_none()
    }
}

/// What the operator wants the list to become. Changes apply to the latest planned list (the
/// pending update's result, else the believed list), so consecutive changes accumulate.
#[derive(Debug, Clone, PartialEq)]
pub enum ListChange {
    /// Exactly these tokens (Full).
    Replace(Vec<IdToken>),
    /// Adds these tokens, or refreshes their authorization from the registry.
    Add(Vec<IdToken>),
    /// Removes these tokens; tokens not on the list are ignored.
    Remove(Vec<IdToken>),
    /// Sends the latest planned list again, as Full (after a VersionMismatch, or to repair a pile).
    Resync,
}

/// 1.6 UpdateStatus, 2.0.1 SendLocalListStatusEnumType (which has no NotSupported).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum UpdateStatus {
    Accepted,
    Failed,
    NotSupported,
    VersionMismatch,
}

impl UpdateStatus {
    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "Accepted" => Some(Self::Accepted),
            "Failed" => Some(Self::Failed),
            "NotSupported" => Some(Self::NotSupported),
            "VersionMismatch" => Some(Self::VersionMismatch),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Accepted => "Accepted",
            Self::Failed => "Failed",
            Self::NotSupported => "NotSupported",
            Self::VersionMismatch => "VersionMismatch",
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum LocalListError {
    #[error("id token {0} is not registered")]
    UnknownToken(String),
    #[error("a local list holds at most {max} entries")]
    TooManyEntries { max: usize },
    #[error("the list's version number cannot grow any further")]
    VersionExhausted,
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("the local list kept changing concurrently")]
    Conflict,
}

/// Each station's [`LocalListState`], with optimistic concurrency on its revision.
#[async_trait]
pub trait LocalListStore: Send + Sync {
    async fn get(&self, station: &StationId) -> Result<Option<LocalListState>, StoreError>;
    /// Stores `state` (with revision `expected_revision + 1`, or 1) only if the stored state has
    /// `expected_revision` (None: only if there is none). False when another writer got there first.
    async fn put_if_revision(
        &self,
        station: &StationId,
        expected_revision: Option<u64>,
        state: &LocalListState,
    ) -> Result<bool, StoreError>;
    /// Forgets what the CSMS believes of the station's list (a new registration of its id knows
    /// nothing of the list its pile holds).
    async fn clear(&self, station: &StationId) -> Result<(), StoreError>;
}

/// Plans the update that makes the station's list follow `change`, and remembers it as pending
/// under `command`, replacing any pending update. Authorizations come from the registry of the
/// station's `organisation` as of `now`: a list holds only tokens the station would accept. Planning again with the pending update's command returns that update unchanged (a
/// redelivered request).
pub async fn plan(
    store: &dyn LocalListStore,
    tokens: &dyn TokenRepository,
    organisation: Option<&str>,
    station: &StationId,
    change: ListChange,
    command: &str,
    now: DateTime<Utc>,
) -> Result<PendingUpdate, LocalListError> {
    let change = resolve(tokens, organisation, change, now).await?;
    let (update, _) = modify(store, station, now, |state| {
        if let Some(pending) = &state.pending
            && pending.command == command
        {
            return Ok(pending.clone());
        }
        let update = next_update(state, &change, command)?;
        if state.pending.is_some() {
            // The replaced update may have reached the pile, or may still: its list is unknown.
            state.needs_full = true;
        }
        state.planned_version = update.version;
        state.pending = Some(update.clone());
        Ok(update)
    })
    .await?;
    Ok(update)
}

/// Settles the pending update with the pile's SendLocalList answer, if `command` carried it.
/// A duplicate or stale answer changes nothing. Returns whether the state changed.
pub async fn update_answered(
    store: &dyn LocalListStore,
    station: &StationId,
    command: &str,
    status: UpdateStatus,
    now: DateTime<Utc>,
) -> Result<bool, LocalListError> {
    let (_, changed) = modify(store, station, now, |state| {
        let Some(pending) = state.pending.take_if(|p| p.command == command) else {
            return Ok(());
        };
        match status {
            UpdateStatus::Accepted => {
                state.version = pending.version;
                state.entries = pending.result;
                // Only a Full update makes the list known; a Differential one is only ever sent
                // while it is known.
                if pending.update_type == UpdateType::Full {
                    state.needs_full = false;
                }
                state.supported = Some(true);
            }
            UpdateStatus::VersionMismatch => {
                tracing::info!(%station, command, "local list version mismatch: the next update is Full");
                state.needs_full = true;
                state.supported = Some(true);
            }
            UpdateStatus::Failed => {
                tracing::info!(%station, command, "local list update failed: the next update is Full");
                state.needs_full = true;
            }
            UpdateStatus::NotSupported => state.supported = Some(false),
        }
        Ok(())
    })
    .await?;
    Ok(changed)
}

/// Settles the pending update when its command ended without an answer (pile offline, timeout,
/// CALLERROR), if `command` carried it. `maybe_applied`: the CALL had been sent, so the pile may
/// have applied it; then the next update is Full. Returns whether the state changed.
pub async fn update_failed(
    store: &dyn LocalListStore,
    station: &StationId,
    command: &str,
    maybe_applied: bool,
    now: DateTime<Utc>,
) -> Result<bool, LocalListError> {
    let (_, changed) = modify(store, station, now, |state| {
        if state.pending.take_if(|p| p.command == command).is_some() && maybe_applied {
            state.needs_full = true;
        }
        Ok(())
    })
    .await?;
    Ok(changed)
}

/// A SendLocalList command failed: a pile that was sent it and went silent or away may or may not
/// have applied it; one never sent did not. Other commands are not local list updates: no change.
pub async fn command_failed(
    store: &dyn LocalListStore,
    record: &crate::command::CommandRecord,
    now: DateTime<Utc>,
) -> Result<bool, LocalListError> {
    use crate::command::{CommandState, FailureReason};
    let CommandState::Failed { reason, .. } = record.state else {
        return Ok(false);
    };
    if record.command.action != "SendLocalList" {
        return Ok(false);
    }
    let maybe_applied = matches!(reason, FailureReason::Disconnected | FailureReason::DeadlineExpired);
    update_failed(
        store,
        &record.command.station,
        record.command.id.as_str(),
        maybe_applied,
        now,
    )
    .await
}

/// Records the pile's GetLocalListVersion answer. -1: the pile does not support local lists
/// (1.6 section 5.10). Another version than the believed one, with no update pending (whose
/// outcome would explain it), means the pile's list is not the believed one. Returns whether the
/// state changed.
pub async fn version_reported(
    store: &dyn LocalListStore,
    station: &StationId,
    pile_version: i32,
    now: DateTime<Utc>,
) -> Result<bool, LocalListError> {
    let (_, changed) = modify(store, station, now, |state| {
        if pile_version == -1 {
            state.supported = Some(false);
            return Ok(());
        }
        state.supported = Some(true);
        if state.pending.is_none() && pile_version != state.version {
            if !state.needs_full {
                tracing::info!(%station, pile_version, believed = state.version, "local list out of sync");
            }
            state.needs_full = true;
        }
        Ok(())
    })
    .await?;
    Ok(changed)
}

/// A change with the registry's answers filled in.
enum Resolved {
    Replace(Entries),
    Add(Entries),
    Remove(Vec<String>),
    Resync,
}

async fn resolve(
    tokens: &dyn TokenRepository,
    organisation: Option<&str>,
    change: ListChange,
    now: DateTime<Utc>,
) -> Result<Resolved, LocalListError> {
    Ok(match change {
        ListChange::Replace(list) => Resolved::Replace(registered(tokens, organisation, list, now).await?),
        ListChange::Add(list) => Resolved::Add(registered(tokens, organisation, list, now).await?),
        ListChange::Remove(list) => Resolved::Remove(list.iter().map(IdToken::key).collect()),
        ListChange::Resync => Resolved::Resync,
    })
}

/// The registry's entry for each token (once per key), as registered: with the registered type,
/// which 2.0.1 lists carry.
async fn registered(
    tokens: &dyn TokenRepository,
    organisation: Option<&str>,
    list: Vec<IdToken>,
    now: DateTime<Utc>,
) -> Result<Entries, LocalListError> {
    let wanted: BTreeMap<String, IdToken> = list.into_iter().map(|t| (t.key(), t)).collect();
    if wanted.len() > MAX_ENTRIES {
        return Err(LocalListError::TooManyEntries { max: MAX_ENTRIES });
    }
    let mut entries = Entries::new();
    for (key, token) in wanted {
        let record = tokens
            .get(organisation, &token)
            .await?
            .ok_or_else(|| LocalListError::UnknownToken(token.to_string()))?;
        let authorization = record.authorization(&record.token, now);
        entries.insert(
            key,
            LocalListEntry {
                token: record.token,
                authorization: Some(authorization),
            },
        );
    }
    Ok(entries)
}

fn next_update(state: &LocalListState, change: &Resolved, command: &str) -> Result<PendingUpdate, LocalListError> {
    let highest = state
        .planned_version
        .max(state.version)
        .max(state.pending.as_ref().map_or(0, |p| p.version));
    let version = highest.checked_add(1).ok_or(LocalListError::VersionExhausted)?;
    let latest = state.pending.as_ref().map_or(&state.entries, |p| &p.result);
    let (result, differential) = match change {
        Resolved::Replace(entries) => (entries.clone(), None),
        Resolved::Resync => (latest.clone(), None),
        Resolved::Add(entries) => {
            let mut result = latest.clone();
            result.extend(entries.clone());
            (result, Some(entries.values().cloned().collect::<Vec<_>>()))
        }
        Resolved::Remove(keys) => {
            let mut result = latest.clone();
            let removed = keys
                .iter()
                .filter_map(|key| result.remove(key))
                .map(|e| LocalListEntry {
                    token: e.token,
                    authorization: None,
                })
                .collect();
            (result, Some(removed))
        }
    };
    if result.len() > MAX_ENTRIES {
        return Err(LocalListError::TooManyEntries { max: MAX_ENTRIES });
    }
    let (update_type, entries) = match differential {
        // In sync, so nothing is pending and `latest` is the believed list the pile holds.
        Some(diff) if state.in_sync() => (UpdateType::Differential, diff),
        _ => (UpdateType::Full, result.values().cloned().collect()),
    };
    let update = PendingUpdate::new(command, version, update_type, entries, &state.entries);
    debug_assert_eq!(update.result, result);
    Ok(update)
}

/// Reads the state (a default one when there is none), lets `change` edit it, and writes it back
/// if it changed, conditionally on its revision; retried from the read when another writer got
/// there first. Returns `change`'s value and whether anything was written.
async fn modify<T>(
    store: &dyn LocalListStore,
    station: &StationId,
    now: DateTime<Utc>,
    mut change: impl FnMut(&mut LocalListState) -> Result<T, LocalListError>,
) -> Result<(T, bool), LocalListError> {
    for _ in 0..ATTEMPTS {
        let stored = store.get(station).await?;
        let expected = stored.as_ref().map(|s| s.revision);
        let before = stored.unwrap_or_default();
        let mut state = before.clone();
        let value = change(&mut state)?;
        if state == before {
            return Ok((value, false));
        }
        state.updated_at = Some(now);
        if store.put_if_revision(station, expected, &state).await? {
            return Ok((value, true));
        }
        tracing::debug!(%station, "local list changed concurrently; retrying");
    }
    Err(LocalListError::Conflict)
}

/// In-memory [`LocalListStore`], for tests. Same contract as the adapter.
#[derive(Default)]
pub struct MemoryLocalLists(pub Mutex<BTreeMap<StationId, LocalListState>>);

#[async_trait]
impl LocalListStore for MemoryLocalLists {
    async fn get(&self, station: &StationId) -> Result<Option<LocalListState>, StoreError> {
        Ok(self.0.lock().unwrap().get(station).cloned())
    }

    async fn put_if_revision(
        &self,
        station: &StationId,
        expected_revision: Option<u64>,
        state: &LocalListState,
    ) -> Result<bool, StoreError> {
        let mut map = self.0.lock().unwrap();
        if map.get(station).map(|s| s.revision) != expected_revision {
            return Ok(false);
        }
        let mut stored = state.clone();
        stored.revision = expected_revision.map_or(1, |r| r + 1);
        map.insert(station.clone(), stored);
        Ok(true)
    }

    async fn clear(&self, station: &StationId) -> Result<(), StoreError> {
        self.0.lock().unwrap().remove(station);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::id_token::{AuthorizationStatus, IdTokenType, TokenRecord};
    use crate::memory::MemoryTokens;
    use crate::ports::TokenRepository;
    use chrono::Duration;
    use std::sync::atomic::{AtomicUsize, Ordering};

    fn now() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-03-01T10:00:00Z")
            .unwrap()
            .with_timezone(&Utc)
    }

    fn station() -> StationId {
        StationId::parse("CP-LL-1").unwrap()
    }

    fn tag(raw: &str) -> IdToken {
        IdToken::parse_16(raw).unwrap()
    }

    fn keys(entries: &Entries) -> Vec<&str> {
        entries.keys().map(String::as_str).collect()
    }

    fn sent(update: &PendingUpdate) -> Vec<(String, bool)> {
        update
            .entries
            .iter()
            .map(|e| (e.key(), e.authorization.is_some()))
            .collect()
    }

    /// A registry with A, B, C (accepted), BLOCKED, OLD (expired) and a typed CARD.
    async fn registry() -> MemoryTokens {
        let tokens = MemoryTokens::default();
        let record = |token: IdToken, status, expiry| TokenRecord {
            token,
            status,
            expiry,
            group: None,
            owner: None,
            organisation: None,
        };
        for r in [
            record(
                tag("A"),
                AuthorizationStatus::Accepted,
                Some(now() + Duration::days(30)),
            ),
            record(tag("B"), AuthorizationStatus::Accepted, None),
            record(tag("C"), AuthorizationStatus::Accepted, None),
            record(tag("BLOCKED"), AuthorizationStatus::Blocked, None),
            record(tag("OLD"), AuthorizationStatus::Accepted, Some(now())),
            record(
                IdToken::parse_201("CARD", IdTokenType::Iso14443).unwrap(),
                AuthorizationStatus::Accepted,
                None,
            ),
        ] {
            tokens.put(&r).await.unwrap();
        }
        tokens
    }

    struct World {
        store: MemoryLocalLists,
        tokens: MemoryTokens,
    }

    impl World {
        async fn new() -> Self {
            Self {
                store: MemoryLocalLists::default(),
                tokens: registry().await,
            }
        }

        async fn plan(&self, change: ListChange, command: &str) -> Result<PendingUpdate, LocalListError> {
            plan(&self.store, &self.tokens, None, &station(), change, command, now()).await
        }

        async fn answer(&self, command: &str, status: UpdateStatus) -> bool {
            update_answered(&self.store, &station(), command, status, now())
                .await
                .unwrap()
        }

        async fn state(&self) -> LocalListState {
            self.store.get(&station()).await.unwrap().unwrap_or_default()
        }

        /// Plans `change` and has it accepted.
        async fn accepted(&self, change: ListChange, command: &str) -> PendingUpdate {
            let update = self.plan(change, command).await.unwrap();
            assert!(self.answer(command, UpdateStatus::Accepted).await);
            update
        }
    }

    #[tokio::test]
    async fn the_first_update_is_full_with_the_registrys_authorizations() {
        // GIVEN a station the CSMS has never planned for
        let w = World::new().await;
        assert!(w.state().await.needs_full);

        // WHEN tokens are added (one twice, in another case, one typed by the registry)
        let tokens = vec![tag("a"), tag("A"), tag("BLOCKED"), tag("OLD"), tag("card")];
        let update = w.plan(ListChange::Add(tokens), "cmd-1").await.unwrap();

        // THEN the update is Full, version 1, one entry per token, as the registry has them
        assert_eq!(update.update_type, UpdateType::Full);
        assert_eq!(update.version, 1);
        assert_eq!(keys(&update.result), ["A", "BLOCKED", "CARD", "OLD"]);
        let auth = |key: &str| update.result[key].authorization.clone().unwrap();
        assert_eq!(auth("A").status, AuthorizationStatus::Accepted);
        assert_eq!(auth("A").expiry, Some(now() + Duration::days(30)));
        assert_eq!(auth("BLOCKED").status, AuthorizationStatus::Blocked);
        assert_eq!(auth("OLD").status, AuthorizationStatus::Expired);
        assert_eq!(update.result["CARD"].token.kind(), Some(IdTokenType::Iso14443));
        assert_eq!(update.entries.len(), 4);
        // AND it is pending; the believed list is unchanged until the pile accepts
        let state = w.state().await;
        assert_eq!(state.pending, Some(update.clone()));
        assert_eq!(state.version, 0);
        assert!(state.entries.is_empty());
        assert_eq!(state.revision, 1);
        assert_eq!(state.updated_at, Some(now()));

        // WHEN the pile accepts THEN the list is known
        assert!(w.answer("cmd-1", UpdateStatus::Accepted).await);
        let state = w.state().await;
        assert!(state.in_sync());
        assert_eq!(state.version, 1);
        assert_eq!(state.entries, update.result);
        assert_eq!(state.supported, Some(true));
    }

    #[tokio::test]
    async fn in_sync_changes_are_differential() {
        // GIVEN a pile in sync with A, B at version 1
        let w = World::new().await;
        w.accepted(ListChange::Replace(vec![tag("A"), tag("B")]), "c1").await;

        // WHEN C is added THEN only C is sent, as version 2
        let add = w.plan(ListChange::Add(vec![tag("C")]), "c2").await.unwrap();
        assert_eq!(add.update_type, UpdateType::Differential);
        assert_eq!(add.version, 2);
        assert_eq!(sent(&add), [("C".to_owned(), true)]);
        assert_eq!(keys(&add.result), ["A", "B", "C"]);
        assert!(w.answer("c2", UpdateStatus::Accepted).await);

        // WHEN A and an unlisted token are removed THEN only A's removal is sent
        let remove = w
            .plan(ListChange::Remove(vec![tag("a"), tag("NOPE")]), "c3")
            .await
            .unwrap();
        assert_eq!(remove.update_type, UpdateType::Differential);
        assert_eq!(remove.version, 3);
        assert_eq!(sent(&remove), [("A".to_owned(), false)]);
        assert!(w.answer("c3", UpdateStatus::Accepted).await);
        let state = w.state().await;
        assert_eq!(keys(&state.entries), ["B", "C"]);
        assert_eq!(state.version, 3);
        assert!(state.in_sync());

        // WHEN the operator resyncs THEN the whole list goes as Full
        let resync = w.plan(ListChange::Resync, "c4").await.unwrap();
        assert_eq!(resync.update_type, UpdateType::Full);
        assert_eq!(resync.version, 4);
        assert_eq!(sent(&resync), [("B".to_owned(), true), ("C".to_owned(), true)]);
    }

    #[tokio::test]
    async fn unknown_tokens_and_oversized_lists_are_refused_without_a_trace() {
        let w = World::new().await;
        let err = w.plan(ListChange::Add(vec![tag("A"), tag("NOBODY")]), "c1").await;
        assert!(matches!(err, Err(LocalListError::UnknownToken(t)) if t == "NOBODY"));

        // More distinct tokens than a list holds: refused before any registry read.
        let many = (0..=MAX_ENTRIES).map(|i| tag(&format!("T{i}"))).collect();
        let err = w.plan(ListChange::Replace(many), "c2").await;
        assert!(matches!(err, Err(LocalListError::TooManyEntries { max: 1000 })));
        assert!(w.store.get(&station()).await.unwrap().is_none(), "nothing stored");

        // A list that would grow past the cap.
        for i in 0..MAX_ENTRIES {
            let token = tag(&format!("T{i}"));
            let record = TokenRecord {
                token,
                status: AuthorizationStatus::Accepted,
                expiry: None,
                group: None,
                owner: None,
                organisation: None,
            };
            w.tokens.put(&record).await.unwrap();
        }
        let all = (0..MAX_ENTRIES).map(|i| tag(&format!("T{i}"))).collect();
        w.accepted(ListChange::Replace(all), "c3").await;
        let err = w.plan(ListChange::Add(vec![tag("A")]), "c4").await;
        assert!(matches!(err, Err(LocalListError::TooManyEntries { max: 1000 })));
        assert!(w.state().await.in_sync());
    }

    #[tokio::test]
    async fn a_version_mismatch_makes_the_next_update_full() {
        // GIVEN A at version 1
        let w = World::new().await;
        w.accepted(ListChange::Add(vec![tag("A")]), "c1").await;
        // WHEN a differential update meets VersionMismatch
        let add = w.plan(ListChange::Add(vec![tag("B")]), "c2").await.unwrap();
        assert_eq!(add.update_type, UpdateType::Differential);
        assert!(w.answer("c2", UpdateStatus::VersionMismatch).await);
        let state = w.state().await;
        assert!(state.needs_full);
        assert_eq!((state.version, keys(&state.entries)), (1, vec!["A"]));

        // THEN the next change goes as Full, with a version never used before
        let add = w.plan(ListChange::Add(vec![tag("C")]), "c3").await.unwrap();
        assert_eq!(add.update_type, UpdateType::Full);
        assert_eq!(add.version, 3);
        assert_eq!(keys(&add.result), ["A", "C"]);
        assert!(w.answer("c3", UpdateStatus::Accepted).await);
        assert!(w.state().await.in_sync());
    }

    #[tokio::test]
    async fn failed_and_not_supported_keep_the_list() {
        let w = World::new().await;
        w.accepted(ListChange::Add(vec![tag("A")]), "c1").await;

        w.plan(ListChange::Add(vec![tag("B")]), "c2").await.unwrap();
        assert!(w.answer("c2", UpdateStatus::NotSupported).await);
        let state = w.state().await;
        assert!(
            state.in_sync(),
            "a pile that applied nothing still holds the believed list"
        );
        assert_eq!(state.supported, Some(false));
        assert_eq!(keys(&state.entries), ["A"]);

        w.plan(ListChange::Add(vec![tag("B")]), "c3").await.unwrap();
        assert!(w.answer("c3", UpdateStatus::Failed).await);
        let state = w.state().await;
        assert_eq!((state.version, keys(&state.entries)), (1, vec!["A"]));
        assert!(state.pending.is_none());
        assert!(
            state.needs_full,
            "1.6 5.15: after Failed the CSMS retries with a Full list"
        );
    }

    #[tokio::test]
    async fn answers_are_idempotent_and_stale_ones_are_ignored() {
        // GIVEN an update c1 replaced by c2 before any answer
        let w = World::new().await;
        w.accepted(ListChange::Add(vec![tag("A")]), "c0").await;
        let first = w.plan(ListChange::Add(vec![tag("B")]), "c1").await.unwrap();
        assert_eq!(first.update_type, UpdateType::Differential);
        let second = w.plan(ListChange::Add(vec![tag("C")]), "c2").await.unwrap();

        // THEN the newer one builds on the older one, as Full, and the list is unknown until it lands
        assert_eq!(second.update_type, UpdateType::Full);
        assert_eq!(second.version, 3);
        assert_eq!(keys(&second.result), ["A", "B", "C"]);
        assert!(w.state().await.needs_full);

        // WHEN the replaced one is answered THEN nothing changes
        assert!(!w.answer("c1", UpdateStatus::Accepted).await);
        assert!(
            !update_failed(&w.store, &station(), "c1", true, now()).await.unwrap(),
            "a failure of a replaced command changes nothing"
        );
        // WHEN the newer one is accepted, twice THEN the second answer changes nothing
        assert!(w.answer("c2", UpdateStatus::Accepted).await);
        let state = w.state().await;
        assert!(!w.answer("c2", UpdateStatus::Accepted).await);
        assert!(!w.answer("c2", UpdateStatus::Failed).await);
        assert_eq!(w.state().await, state);
        assert!(state.in_sync());
        assert_eq!((state.version, keys(&state.entries)), (3, vec!["A", "B", "C"]));
    }

    #[tokio::test]
    async fn a_redelivered_plan_returns_the_pending_update() {
        let w = World::new().await;
        let first = w.plan(ListChange::Add(vec![tag("A")]), "c1").await.unwrap();
        let again = w.plan(ListChange::Add(vec![tag("A")]), "c1").await.unwrap();
        assert_eq!(first, again);
        let state = w.state().await;
        assert_eq!(state.revision, 1, "not written again");
        assert_eq!(state.planned_version, 1);
    }

    #[tokio::test]
    async fn failed_commands_clear_the_pending_update() {
        let w = World::new().await;
        w.accepted(ListChange::Add(vec![tag("A")]), "c0").await;

        // Never sent: the pile still holds the believed list.
        w.plan(ListChange::Add(vec![tag("B")]), "c1").await.unwrap();
        assert!(
            !update_failed(&w.store, &station(), "other", false, now())
                .await
                .unwrap()
        );
        assert!(update_failed(&w.store, &station(), "c1", false, now()).await.unwrap());
        let state = w.state().await;
        assert!(state.in_sync());
        assert_eq!(state.planned_version, 2);

        // Sent, never answered: it may have been applied.
        let next = w.plan(ListChange::Add(vec![tag("B")]), "c2").await.unwrap();
        assert_eq!(next.version, 3, "version 2 is never reused");
        assert_eq!(next.update_type, UpdateType::Differential);
        assert!(update_failed(&w.store, &station(), "c2", true, now()).await.unwrap());
        let state = w.state().await;
        assert!(state.needs_full && state.pending.is_none());
        assert!(!update_failed(&w.store, &station(), "c2", true, now()).await.unwrap());
        let full = w.plan(ListChange::Remove(vec![tag("A")]), "c3").await.unwrap();
        assert_eq!(full.update_type, UpdateType::Full);
        assert!(full.entries.is_empty(), "the whole list is now empty");
    }

    #[tokio::test]
    async fn reported_versions_reveal_unsupported_and_out_of_sync_piles() {
        let w = World::new().await;
        let report = async |v| version_reported(&w.store, &station(), v, now()).await.unwrap();
        assert!(report(-1).await);
        assert_eq!(w.state().await.supported, Some(false));
        assert!(!report(-1).await, "unchanged");

        w.accepted(ListChange::Add(vec![tag("A")]), "c1").await;
        assert!(!report(1).await, "the believed version");
        assert!(w.state().await.in_sync());

        w.plan(ListChange::Add(vec![tag("B")]), "c2").await.unwrap();
        assert!(
            !report(2).await,
            "an update is pending: its outcome explains any version"
        );
        assert!(w.answer("c2", UpdateStatus::Accepted).await);

        assert!(report(7).await);
        let state = w.state().await;
        assert!(state.needs_full);
        assert_eq!(state.version, 2);
        let next = w.plan(ListChange::Add(vec![tag("C")]), "c3").await.unwrap();
        assert_eq!(next.update_type, UpdateType::Full);
    }

    /// Fails the first `conflicts` writes, as if another writer had just changed the state.
    struct Contended {
        inner: MemoryLocalLists,
        conflicts: AtomicUsize,
    }

    #[async_trait]
    impl LocalListStore for Contended {
        async fn get(&self, station: &StationId) -> Result<Option<LocalListState>, StoreError> {
            self.inner.get(station).await
        }
        async fn put_if_revision(
            &self,
            station: &StationId,
            expected: Option<u64>,
            state: &LocalListState,
        ) -> Result<bool, StoreError> {
            if self
                .conflicts
                .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
                .is_ok()
            {
                return Ok(false);
            }
            self.inner.put_if_revision(station, expected, state).await
        }
        async fn clear(&self, station: &StationId) -> Result<(), StoreError> {
            self.inner.clear(station).await
        }
    }

    #[tokio::test]
    async fn concurrent_changes_are_retried_then_reported() {
        let tokens = registry().await;
        let store = Contended {
            inner: MemoryLocalLists::default(),
            conflicts: AtomicUsize::new(ATTEMPTS - 1),
        };
        let update = plan(
            &store,
            &tokens,
            None,
            &station(),
            ListChange::Add(vec![tag("A")]),
            "c1",
            now(),
        )
        .await
        .unwrap();
        assert_eq!(update.version, 1);

        store.conflicts.store(ATTEMPTS, Ordering::SeqCst);
        let err = update_answered(&store, &station(), "c1", UpdateStatus::Accepted, now()).await;
        assert!(matches!(err, Err(LocalListError::Conflict)));
        assert!(store.inner.get(&station()).await.unwrap().unwrap().pending.is_some());
    }

    #[tokio::test]
    async fn the_memory_store_checks_revisions() {
        let store = MemoryLocalLists::default();
        let state = LocalListState::default();
        assert!(!store.put_if_revision(&station(), Some(0), &state).await.unwrap());
        assert!(store.put_if_revision(&station(), None, &state).await.unwrap());
        assert!(!store.put_if_revision(&station(), None, &state).await.unwrap());
        assert!(store.put_if_revision(&station(), Some(1), &state).await.unwrap());
        assert_eq!(store.get(&station()).await.unwrap().unwrap().revision, 2);
    }

    #[test]
    fn enums_round_trip() {
        for s in [
            UpdateStatus::Accepted,
            UpdateStatus::Failed,
            UpdateStatus::NotSupported,
            UpdateStatus::VersionMismatch,
        ] {
            assert_eq!(UpdateStatus::parse(s.as_str()), Some(s));
        }
        for t in [UpdateType::Full, UpdateType::Differential] {
            assert_eq!(UpdateType::parse(t.as_str()), Some(t));
        }
        assert_eq!(UpdateStatus::parse("accepted"), None);
    }
}
