//! Limits on what one pile or one user may make the CSMS do: message and request budgets per
//! station or subject and window, and at most one pending remote command per driver.
//!
//! Budgets are counted where every instance of a function sees them (the [`Counters`] port; a
//! DynamoDB table in AWS) but not on every event: a [`Limiter`] counts in memory and adds its
//! count to the shared one every tenth of the budget. A station or user well within its budget
//! therefore costs no write at all; one that runs through it costs one write per tenth, and is
//! refused from memory once the shared count is spent. Across `k` warm instances the budget may
//! be overrun by up to `k` tenths before every instance knows: the limits are generous ceilings
//! against floods, not exact quotas.

use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

use crate::command::{CommandId, CommandRecord};
use crate::ports::{CommandStore, StoreError};
use crate::station::StationId;

/// At most `limit` events per `window` (fixed windows aligned to the epoch).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Budget {
    pub limit: u32,
    pub window: Duration,
}

impl Budget {
    pub fn per_minute(limit: u32) -> Self {
        Self {
            limit,
            window: Duration::minutes(1),
        }
    }

    /// Events counted in memory between two writes of the shared count.
    fn flush_every(self) -> u32 {
        (self.limit / 10).max(1)
    }

    /// The window `now` falls in, and when it ends.
    fn window_of(self, now: DateTime<Utc>) -> (i64, DateTime<Utc>) {
        let seconds = self.window.num_seconds().max(1);
        let index = now.timestamp().div_euclid(seconds);
        let end = DateTime::from_timestamp((index + 1) * seconds, 0).unwrap_or(now);
        (index, end)
    }
}

/// Counts shared by every instance.
#[async_trait]
pub trait Counters: Send + Sync {
    /// Adds `n` to the counter `key` and returns its new total. The counter may be forgotten
    /// after `expires_at`.
    async fn add(&self, key: &str, n: u32, expires_at: DateTime<Utc>) -> Result<u64, StoreError>;
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Allowed,
    /// Over budget until the window ends.
    Refused {
        retry_after: Duration,
    },
}

/// This instance's view of one key in one window.
#[derive(Debug, Clone, Copy)]
struct Tally {
    window: i64,
    /// Counted here, not yet added to the shared count.
    unflushed: u32,
    /// The shared count as of the last add.
    shared: u64,
}

/// Budgets per key (a station, a subject), counted in memory and shared every tenth.
pub struct Limiter {
    counters: Arc<dyn Counters>,
    tallies: Mutex<HashMap<String, Tally>>,
}

impl Limiter {
    /// Keys remembered before those of past windows are dropped.
    const MAX_KEYS: usize = 10_000;

    pub fn new(counters: Arc<dyn Counters>) -> Self {
        Self {
            counters,
            tallies: Mutex::new(HashMap::new()),
        }
    }

    /// Counts one event of `key` against `budget`. Refused without any store call once the
    /// shared count is known to be spent; otherwise one `add` every [`Budget::flush_every`]
    /// events. A store failure is returned; callers decide whether to let the event through.
    pub async fn count(&self, key: &str, budget: Budget, now: DateTime<Utc>) -> Result<Verdict, StoreError> {
        let (window, end) = budget.window_of(now);
        let refused = Verdict::Refused { retry_after: end - now };
        let to_flush = {
            let mut tallies = self.tallies.lock().unwrap();
            if tallies.len() >= Self::MAX_KEYS {
                tallies.retain(|_, t| t.window == window);
            }
            let tally = tallies.entry(key.to_owned()).or_insert(Tally {
                window,
                unflushed: 0,
                shared: 0,
            });
            if tally.window != window {
                *tally = Tally {
                    window,
                    unflushed: 0,
                    shared: 0,
                };
            }
            if tally.shared >= u64::from(budget.limit) {
                return Ok(refused);
            }
            tally.unflushed += 1;
            if tally.shared + u64::from(tally.unflushed) > u64::from(budget.limit) {
                // Over by this instance's own count alone.
                return Ok(refused);
            }
            if tally.unflushed < budget.flush_every() {
                return Ok(Verdict::Allowed);
            }
            std::mem::take(&mut tally.unflushed)
        };
        let counter = format!("{key}#{window}");
        let total = self
            .counters
            .add(&counter, to_flush, end + Duration::minutes(5))
            .await?;
        if let Some(tally) = self.tallies.lock().unwrap().get_mut(key)
            && tally.window == window
        {
            tally.shared = tally.shared.max(total);
        }
        Ok(if total > u64::from(budget.limit) {
            refused
        } else {
            Verdict::Allowed
        })
    }
}

/// In-memory shared counts, for tests.
#[derive(Default)]
pub struct MemoryCounters {
    pub counts: Mutex<BTreeMap<String, u64>>,
    /// How many `add` calls were made (the writes a store would pay for).
    pub adds: Mutex<u64>,
}

#[async_trait]
impl Counters for MemoryCounters {
    async fn add(&self, key: &str, n: u32, _expires_at: DateTime<Utc>) -> Result<u64, StoreError> {
        *self.adds.lock().unwrap() += 1;
        let mut counts = self.counts.lock().unwrap();
        let total = counts.entry(key.to_owned()).or_default();
        *total += u64::from(n);
        Ok(*total)
    }
}

// ---- One pending remote command per driver ----------------------------------------------------

/// The remote command a driver waits for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingCommand {
    pub station: StationId,
    pub id: CommandId,
    pub deadline: DateTime<Utc>,
}

/// Which command each requester waits for.
#[async_trait]
pub trait PendingCommands: Send + Sync {
    async fn get(&self, requester: &str) -> Result<Option<PendingCommand>, StoreError>;
    /// Makes `next` the requester's pending command if the stored one is still `expected` (None:
    /// none stored), in one conditional write. False when another request got there first.
    async fn replace(
        &self,
        requester: &str,
        next: &PendingCommand,
        expected: Option<&CommandId>,
    ) -> Result<bool, StoreError>;
}

/// Claims the requester's one pending command for `next`: free when they have none, or the one
/// they have ended (answered, refused or failed) or is past its deadline. Otherwise the pending
/// one comes back, and `next` must not be submitted. Costs one read, and a second (the command)
/// when a pending one is recorded, plus one conditional write.
pub async fn claim_pending(
    pending: &dyn PendingCommands,
    commands: &dyn CommandStore,
    requester: &str,
    next: &PendingCommand,
    now: DateTime<Utc>,
) -> Result<Result<(), PendingCommand>, StoreError> {
    let current = pending.get(requester).await?;
    if let Some(current) = &current
        && current.deadline > now
    {
        // Not recorded yet means submitted a moment ago: still pending.
        let record = commands.get(&current.station, &current.id).await?;
        if !record.as_ref().is_some_and(|r: &CommandRecord| r.state.is_final()) {
            return Ok(Err(current.clone()));
        }
    }
    if pending
        .replace(requester, next, current.as_ref().map(|c| &c.id))
        .await?
    {
        return Ok(Ok(()));
    }
    // Another request of theirs won the race: that one is pending now.
    Ok(Err(pending.get(requester).await?.unwrap_or_else(|| next.clone())))
}

#[derive(Default)]
pub struct MemoryPendingCommands(pub Mutex<BTreeMap<String, PendingCommand>>);

#[async_trait]
impl PendingCommands for MemoryPendingCommands {
    async fn get(&self, requester: &str) -> Result<Option<PendingCommand>, StoreError> {
        Ok(self.0.lock().unwrap().get(requester).cloned())
    }

    async fn replace(
        &self,
        requester: &str,
        next: &PendingCommand,
        expected: Option<&CommandId>,
    ) -> Result<bool, StoreError> {
        let mut map = self.0.lock().unwrap();
        if map.get(requester).map(|c| &c.id) != expected {
            return Ok(false);
        }
        map.insert(requester.to_owned(), next.clone());
        Ok(true)
    }
}

/// The ports of the limits, built once per process.
#[derive(Clone)]
pub struct LimitPorts {
    pub counters: Arc<dyn Counters>,
    pub pending: Arc<dyn PendingCommands>,
}

impl LimitPorts {
    /// In-memory ports, for tests.
    pub fn memory() -> Self {
        Self {
            counters: Arc::new(MemoryCounters::default()),
            pending: Arc::new(MemoryPendingCommands::default()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(seconds: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000 + seconds, 0).unwrap()
    }

    #[tokio::test]
    async fn within_a_tenth_of_the_budget_nothing_is_written() {
        let counters = Arc::new(MemoryCounters::default());
        let limiter = Limiter::new(counters.clone());
        let budget = Budget::per_minute(600);
        for i in 0..59 {
            assert_eq!(limiter.count("CP1", budget, at(i)).await.unwrap(), Verdict::Allowed);
        }
        assert_eq!(*counters.adds.lock().unwrap(), 0);
    }

    #[tokio::test]
    async fn a_flood_is_refused_from_memory_once_the_shared_count_is_spent() {
        let counters = Arc::new(MemoryCounters::default());
        let limiter = Limiter::new(counters.clone());
        let budget = Budget::per_minute(100);
        let start = at(0) - Duration::seconds(at(0).timestamp() % 60);
        let mut allowed = 0;
        for _ in 0..1_000 {
            if limiter.count("CP1", budget, start).await.unwrap() == Verdict::Allowed {
                allowed += 1;
            }
        }
        assert_eq!(allowed, 100);
        // One write per tenth, then none: refusals come from memory.
        assert_eq!(*counters.adds.lock().unwrap(), 10);
        assert_eq!(
            limiter
                .count("CP1", budget, start + Duration::seconds(15))
                .await
                .unwrap(),
            Verdict::Refused {
                retry_after: Duration::seconds(45)
            }
        );
        // Another key, and the next window, start afresh.
        assert_eq!(limiter.count("CP2", budget, start).await.unwrap(), Verdict::Allowed);
        assert_eq!(
            limiter
                .count("CP1", budget, start + Duration::seconds(60))
                .await
                .unwrap(),
            Verdict::Allowed
        );
    }

    #[tokio::test]
    async fn instances_share_the_count() {
        let counters = Arc::new(MemoryCounters::default());
        let (a, b) = (Limiter::new(counters.clone()), Limiter::new(counters.clone()));
        let budget = Budget::per_minute(20);
        let start = at(0) - Duration::seconds(at(0).timestamp() % 60);
        let mut allowed = 0;
        for i in 0..100 {
            let limiter = if i % 2 == 0 { &a } else { &b };
            if limiter.count("CP1", budget, start).await.unwrap() == Verdict::Allowed {
                allowed += 1;
            }
        }
        // At most one tenth over per instance.
        assert!((20..=24).contains(&allowed), "{allowed}");
    }
}
