//! Model-based test of local authorization list synchronization.
//!
//! GIVEN a model pile that applies the SendLocalList updates it accepts, Full and Differential
//! (answering VersionMismatch, as both versions require, to a Differential update whose version is
//! not above its own), and otherwise answers Failed, VersionMismatch or NotSupported at random
//! WHEN the CSMS plans random changes (newer plans replacing pending ones), the commands are sent
//! in order or fail before being sent, and the answers are delivered, duplicated, delivered late
//! (after newer plans: stale), or lost (the command times out), while the pile's version is polled
//! THEN whenever the CSMS says it is in sync, its list and version are the pile's; the versions it
//! plans strictly increase, the believed version never decreases, and a pending update's result is
//! always its entries applied to the believed list; and in the end a Resync that the pile accepts
//! brings every station back in sync.

use chrono::{DateTime, Duration, Utc};
use proptest::prelude::*;
use std::collections::{BTreeMap, VecDeque};

use csms_domain::local_list::{
    self, Entries, ListChange, LocalListEntry, LocalListError, LocalListState, LocalListStore, MemoryLocalLists,
    PendingUpdate, UpdateStatus, UpdateType,
};
use csms_domain::memory::MemoryTokens;
use csms_domain::ports::TokenRepository;
use csms_domain::*;

fn now() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-03-01T10:00:00Z")
        .unwrap()
        .with_timezone(&Utc)
}

/// Registered tokens; index `POOL.len()` is a token the registry does not know.
const POOL: [&str; 6] = ["A", "B", "C", "D", "E", "F"];
const UNKNOWN: &str = "NOBODY";

fn token(i: usize) -> IdToken {
    let raw = POOL.get(i).copied().unwrap_or(UNKNOWN);
    // Half of them typed, as 2.0.1 registrations are.
    if i.is_multiple_of(2) {
        IdToken::parse_16(raw).unwrap()
    } else {
        IdToken::parse_201(raw, IdTokenType::Iso14443).unwrap()
    }
}

async fn registry() -> MemoryTokens {
    let tokens = MemoryTokens::default();
    for i in 0..POOL.len() {
        let status = match i % 3 {
            0 => AuthorizationStatus::Accepted,
            1 => AuthorizationStatus::Blocked,
            _ => AuthorizationStatus::Accepted,
        };
        let record = TokenRecord {
            token: token(i),
            status,
            expiry: (i == 2).then(|| now() + Duration::days(7)),
            group: (i == 3).then(|| token(0)),
            owner: None,
            organisation: None,
        };
        tokens.put(&record).await.unwrap();
    }
    tokens
}

#[derive(Debug, Clone, Copy)]
enum PileAnswer {
    Accept,
    Fail,
    Mismatch,
    NotSupported,
}

#[derive(Debug, Clone)]
enum Op {
    /// kind: 0 Replace, 1 Add, 2 Remove, 3 Resync; indices into the pool (or the unknown token).
    Plan { kind: u8, tokens: Vec<usize> },
    /// Plans again under the pending update's command (a redelivered request).
    Replan { kind: u8, tokens: Vec<usize> },
    /// The command mechanism sends the oldest unsent command; the pile handles it at once.
    Send(PileAnswer),
    /// The oldest unsent command fails before it is sent (pile offline).
    DropUnsent,
    /// An answer in flight reaches the CSMS; `keep`: it will be delivered again (duplicate).
    Deliver { index: usize, keep: bool },
    /// An answer in flight is lost: the command times out.
    Lose { index: usize },
    /// GetLocalListVersion.
    Report,
}

fn change(kind: u8, tokens: &[usize]) -> ListChange {
    let list = tokens.iter().map(|&i| token(i)).collect();
    match kind {
        0 => ListChange::Replace(list),
        1 => ListChange::Add(list),
        2 => ListChange::Remove(list),
        _ => ListChange::Resync,
    }
}

/// A pile's local list, written independently of the domain's code.
#[derive(Debug, Default)]
struct Pile {
    version: i32,
    list: Entries,
}

impl Pile {
    fn handle(&mut self, update: &PendingUpdate, answer: PileAnswer) -> UpdateStatus {
        match answer {
            PileAnswer::Accept => {
                if update.update_type == UpdateType::Differential && update.version <= self.version {
                    return UpdateStatus::VersionMismatch;
                }
                if update.update_type == UpdateType::Full {
                    self.list.clear();
                }
                for entry in &update.entries {
                    match &entry.authorization {
                        Some(_) => {
                            self.list.insert(entry.token.key(), entry.clone());
                        }
                        None => {
                            self.list.remove(&entry.token.key());
                        }
                    }
                }
                self.version = update.version;
                UpdateStatus::Accepted
            }
            PileAnswer::Fail => UpdateStatus::Failed,
            PileAnswer::Mismatch => UpdateStatus::VersionMismatch,
            PileAnswer::NotSupported => UpdateStatus::NotSupported,
        }
    }
}

struct World {
    store: MemoryLocalLists,
    tokens: MemoryTokens,
    station: StationId,
    pile: Pile,
    /// Planned commands not yet sent, oldest first.
    outbox: VecDeque<PendingUpdate>,
    /// Answers on their way back: (command, status).
    answers: Vec<(String, UpdateStatus)>,
    commands: usize,
    last_planned: i32,
    last_believed: i32,
}

impl World {
    async fn state(&self) -> LocalListState {
        self.store.get(&self.station).await.unwrap().unwrap_or_default()
    }

    async fn plan(&mut self, change: ListChange) -> Result<PendingUpdate, LocalListError> {
        self.commands += 1;
        let command = format!("cmd-{}", self.commands);
        let result = local_list::plan(&self.store, &self.tokens, None, &self.station, change, &command, now()).await;
        if let Ok(update) = &result {
            self.outbox.push_back(update.clone());
        }
        result
    }

    async fn answer(&self, command: &str, status: UpdateStatus) {
        local_list::update_answered(&self.store, &self.station, command, status, now())
            .await
            .unwrap();
    }

    async fn step(&mut self, op: &Op) -> Result<(), TestCaseError> {
        match op {
            Op::Plan { kind, tokens } => {
                let before = self.state().await;
                match self.plan(change(*kind, tokens)).await {
                    Ok(update) => {
                        prop_assert!(update.version > self.last_planned, "planned versions strictly increase");
                        self.last_planned = update.version;
                        check_update(&update)?;
                    }
                    Err(LocalListError::UnknownToken(t)) => {
                        prop_assert_eq!(t, UNKNOWN);
                        prop_assert_eq!(self.state().await, before, "a refused plan leaves no trace");
                    }
                    Err(e) => prop_assert!(false, "unexpected error {e}"),
                }
            }
            Op::Replan { kind, tokens } => {
                let before = self.state().await;
                if let Some(pending) = &before.pending {
                    let again = local_list::plan(
                        &self.store,
                        &self.tokens,
                        None,
                        &self.station,
                        change(*kind, tokens).clone(),
                        &pending.command,
                        now(),
                    )
                    .await;
                    // An unknown token is refused before the state is read; anything else
                    // returns the pending update untouched.
                    if let Ok(again) = again {
                        prop_assert_eq!(&again, pending);
                    }
                    prop_assert_eq!(self.state().await, before);
                }
            }
            Op::Send(answer) => {
                if let Some(update) = self.outbox.pop_front() {
                    let status = self.pile.handle(&update, *answer);
                    self.answers.push((update.command, status));
                }
            }
            Op::DropUnsent => {
                if let Some(update) = self.outbox.pop_front() {
                    local_list::update_failed(&self.store, &self.station, &update.command, false, now())
                        .await
                        .unwrap();
                }
            }
            Op::Deliver { index, keep } => {
                if !self.answers.is_empty() {
                    let i = index % self.answers.len();
                    let (command, status) = if *keep {
                        self.answers[i].clone()
                    } else {
                        self.answers.remove(i)
                    };
                    self.answer(&command, status).await;
                }
            }
            Op::Lose { index } => {
                if !self.answers.is_empty() {
                    let (command, _) = self.answers.remove(index % self.answers.len());
                    local_list::update_failed(&self.store, &self.station, &command, true, now())
                        .await
                        .unwrap();
                }
            }
            Op::Report => {
                local_list::version_reported(&self.store, &self.station, self.pile.version, now())
                    .await
                    .unwrap();
            }
        }
        self.check().await
    }

    async fn check(&mut self) -> Result<(), TestCaseError> {
        let state = self.state().await;
        if state.in_sync() {
            prop_assert_eq!(state.version, self.pile.version, "in sync: the pile's version");
            prop_assert_eq!(&state.entries, &self.pile.list, "in sync: the pile's list");
        }
        prop_assert!(
            state.version >= self.last_believed,
            "the believed version never decreases"
        );
        self.last_believed = state.version;
        prop_assert!(state.version <= state.planned_version);
        if let Some(pending) = &state.pending {
            let rebuilt = PendingUpdate::new(
                pending.command.clone(),
                pending.version,
                pending.update_type,
                pending.entries.clone(),
                &state.entries,
            );
            prop_assert_eq!(
                &rebuilt,
                pending,
                "the result follows from the entries and the believed list"
            );
            prop_assert_eq!(pending.version, state.planned_version);
        }
        prop_assert!(state.entries.len() <= local_list::MAX_ENTRIES);
        Ok(())
    }
}

/// What goes on the wire is a valid update: unique tokens, authorizations in Full updates.
fn check_update(update: &PendingUpdate) -> Result<(), TestCaseError> {
    let mut seen = BTreeMap::new();
    for entry in &update.entries {
        prop_assert!(seen.insert(entry.token.key(), ()).is_none(), "token sent twice");
        if update.update_type == UpdateType::Full {
            prop_assert!(entry.authorization.is_some(), "a Full update lists authorizations");
        }
    }
    prop_assert!(update.version > 0);
    Ok(())
}

async fn run(ops: &[Op]) -> Result<(), TestCaseError> {
    let mut world = World {
        store: MemoryLocalLists::default(),
        tokens: registry().await,
        station: StationId::parse("CP-LL").unwrap(),
        pile: Pile::default(),
        outbox: VecDeque::new(),
        answers: Vec::new(),
        commands: 0,
        last_planned: 0,
        last_believed: 0,
    };
    for op in ops {
        world.step(op).await?;
    }

    // Liveness: once everything in flight has landed (answers possibly lost), a Resync that the
    // pile accepts brings the CSMS back in sync.
    while !world.outbox.is_empty() {
        world.step(&Op::Send(PileAnswer::Accept)).await?;
    }
    while !world.answers.is_empty() {
        world.step(&Op::Lose { index: 0 }).await?;
    }
    let desired = world.state().await.entries;
    world
        .step(&Op::Plan {
            kind: 3,
            tokens: vec![],
        })
        .await?;
    world.step(&Op::Send(PileAnswer::Accept)).await?;
    world.step(&Op::Deliver { index: 0, keep: false }).await?;
    let state = world.state().await;
    prop_assert!(state.in_sync());
    prop_assert_eq!(&state.entries, &desired);
    prop_assert_eq!(&world.pile.list, &desired);
    Ok(())
}

fn op() -> impl Strategy<Value = Op> {
    let tokens = || prop::collection::vec(prop::sample::select((0..=POOL.len()).collect::<Vec<_>>()), 0..4);
    let answer = prop_oneof![
        6 => Just(PileAnswer::Accept),
        1 => Just(PileAnswer::Fail),
        1 => Just(PileAnswer::Mismatch),
        1 => Just(PileAnswer::NotSupported),
    ];
    prop_oneof![
        4 => (0u8..4, tokens()).prop_map(|(kind, tokens)| Op::Plan { kind, tokens }),
        1 => (0u8..4, tokens()).prop_map(|(kind, tokens)| Op::Replan { kind, tokens }),
        4 => answer.prop_map(Op::Send),
        1 => Just(Op::DropUnsent),
        4 => (any::<usize>(), prop::bool::weighted(0.25)).prop_map(|(index, keep)| Op::Deliver { index, keep }),
        1 => any::<usize>().prop_map(|index| Op::Lose { index }),
        1 => Just(Op::Report),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(500))]

    #[test]
    fn the_csms_knows_the_piles_list_whenever_it_says_so(ops in prop::collection::vec(op(), 0..60)) {
        let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
        runtime.block_on(run(&ops))?;
    }
}

/// The scenario the property is most about, spelled out: an update is applied by the pile but
/// its answer arrives only after a newer plan replaced it.
#[tokio::test]
async fn a_late_answer_for_a_replaced_update_does_not_fake_sync() {
    let ops = [
        Op::Plan {
            kind: 1,
            tokens: vec![0],
        },
        Op::Send(PileAnswer::Accept),
        Op::Deliver { index: 0, keep: false },
        // Differential +B reaches the pile; its answer is still on the way...
        Op::Plan {
            kind: 1,
            tokens: vec![1],
        },
        Op::Send(PileAnswer::Accept),
        // ...when the operator removes A: this plan replaces the pending one.
        Op::Plan {
            kind: 2,
            tokens: vec![0],
        },
        Op::Deliver { index: 0, keep: false },
        // The newer one never reaches the pile (it went offline).
        Op::DropUnsent,
    ];
    run(&ops).await.unwrap();
}

#[tokio::test]
async fn entries_rebuild_their_result() {
    // A Differential update on a believed list, as storage rebuilds it.
    let a = LocalListEntry {
        token: token(0),
        authorization: Some(Authorization::invalid()),
    };
    let base: Entries = [(a.token.key(), a.clone())].into();
    let remove = LocalListEntry {
        token: token(0),
        authorization: None,
    };
    let update = PendingUpdate::new("c", 2, UpdateType::Differential, vec![remove], &base);
    assert!(update.result.is_empty());
    let full = PendingUpdate::new("c", 3, UpdateType::Full, vec![a.clone()], &Entries::new());
    assert_eq!(full.result, base);
}
