//! GIVEN registered, connected stations WHEN the CSMS sends them commands and the piles answer,
//! go away or stay silent THEN each station has at most one outstanding CALL and every command
//! ends answered, refused or failed with a clear reason, through the in-memory ports.

use chrono::{DateTime, Duration, Utc};
use csms_domain::command::{self, Answer, Command, CommandId, CommandIdError, CommandRecord, CommandState};
use csms_domain::connection::{self, ConnectAttempt};
use csms_domain::memory::{MemoryCommands, MemoryWorld};
use csms_domain::ports::CommandStore;
use csms_domain::registry::{self, NewStation};
use csms_domain::*;
use std::sync::Arc;

const PASSWORD: &str = "s3cret-password-16";
const DEADLINE: i64 = 30;

fn now() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-03-01T10:00:00Z")
        .unwrap()
        .with_timezone(&Utc)
}

fn after(seconds: i64) -> DateTime<Utc> {
    now() + Duration::seconds(seconds)
}

fn station(id: &str) -> StationId {
    StationId::parse(id).unwrap()
}

struct Fixture {
    world: MemoryWorld,
    services: Services,
    store: Arc<MemoryCommands>,
}

/// GIVEN stations registered and connected, station `CPn` over connection `cn`.
async fn fixture(stations: &[(&str, &str)]) -> Fixture {
    let world = MemoryWorld::default();
    let services = world.services(BootPolicy {
        heartbeat_interval: 120,
        retry_interval: 30,
    });
    for (id, conn) in stations {
        let new = NewStation {
            id: station(id),
            protocols: vec![ProtocolVersion::Ocpp16],
            registration: Registration::Accepted,
            site: None,
            organisation: None,
            location: None,
            connectors: Vec::new(),
            password: Some(Password::parse(PASSWORD).unwrap()),
        };
        registry::register(&services, new, now()).await.unwrap();
        let attempt = ConnectAttempt {
            connection_id: conn,
            station_id: id,
            credentials: Some((id, PASSWORD)),
            offered_protocols: "ocpp1.6",
            now: now(),
        };
        connection::open(&services, attempt).await.unwrap().unwrap();
    }
    let store = world.commands.clone();
    Fixture { world, services, store }
}

impl Fixture {
    /// GIVEN a queued command `id` for `station`, due `DEADLINE` seconds from now.
    async fn queue(&self, id: &str, station_id: &str) -> CommandId {
        let record = CommandRecord::queued(Command {
            id: CommandId::parse(id).unwrap(),
            station: station(station_id),
            protocol: ProtocolVersion::Ocpp16,
            action: "Reset".into(),
            payload: r#"{"type":"Soft"}"#.into(),
            deadline: after(DEADLINE),
            created_at: now(),
            requested_by: None,
        });
        assert!(self.store.create(&record).await.unwrap());
        record.command.id
    }

    async fn dispatch(&self, id: &CommandId, at: DateTime<Utc>) -> DispatchOutcome {
        let frame = format!(r#"[2,"{id}","Reset",{{"type":"Soft"}}]"#);
        command::dispatch(self.services.command_ports(), &self.station_of(id), id, &frame, at)
            .await
            .unwrap()
    }

    async fn answer(&self, station_id: &str, id: &str, answer: Answer, at: DateTime<Utc>) -> Option<CommandRecord> {
        command::answered(&*self.store, &station(station_id), id, |_| answer, at)
            .await
            .unwrap()
    }

    /// The station a command was queued for (ids are unique across stations in these tests).
    fn station_of(&self, id: &CommandId) -> StationId {
        let records = self.store.records.lock().unwrap();
        records
            .get(id)
            .map_or_else(|| station("CP1"), |r| r.command.station.clone())
    }

    async fn state(&self, id: &CommandId) -> CommandState {
        self.store.get(&self.station_of(id), id).await.unwrap().unwrap().state
    }

    async fn holder(&self, station_id: &str) -> Option<CommandId> {
        self.store
            .holder(&station(station_id))
            .await
            .unwrap()
            .map(|h| h.command)
    }

    fn sent(&self) -> Vec<(String, String)> {
        self.world.channel.sent()
    }
}

fn accepted() -> Answer {
    Answer::Result(r#"{"status":"Accepted"}"#.into())
}

#[tokio::test]
async fn one_outstanding_call_per_station_and_the_next_goes_after_the_answer() {
    let f = fixture(&[("CP1", "c1"), ("CP2", "c2")]).await;
    let a = f.queue("a", "CP1").await;
    let b = f.queue("b", "CP1").await;
    let c = f.queue("c", "CP2").await;

    // WHEN a is sent THEN b waits for it, while another station is not held up.
    assert_eq!(f.dispatch(&a, now()).await, DispatchOutcome::Sent);
    assert_eq!(
        f.dispatch(&b, after(1)).await,
        DispatchOutcome::Busy {
            holder: a.clone(),
            until: after(DEADLINE)
        }
    );
    assert_eq!(f.state(&b).await, CommandState::Queued);
    assert_eq!(f.dispatch(&c, after(1)).await, DispatchOutcome::Sent);
    assert_eq!(
        f.sent().iter().map(|(conn, _)| conn.as_str()).collect::<Vec<_>>(),
        ["c1", "c2"]
    );
    assert_eq!(f.sent()[0].1, r#"[2,"a","Reset",{"type":"Soft"}]"#);

    // WHEN the pile answers a THEN a is answered, the slot is free and b goes out.
    let done = f.answer("CP1", "a", accepted(), after(2)).await.unwrap();
    assert_eq!(
        done.state,
        CommandState::Answered {
            at: after(2),
            payload: r#"{"status":"Accepted"}"#.into()
        }
    );
    assert_eq!(f.holder("CP1").await, None);
    assert_eq!(f.dispatch(&b, after(3)).await, DispatchOutcome::Sent);
    assert_eq!(f.holder("CP1").await, Some(b.clone()));
    assert_eq!(f.state(&b).await, CommandState::Sent { at: after(3) });

    // THEN a CALLERROR completes a command too, as refused.
    let refused = f
        .answer(
            "CP1",
            "b",
            Answer::Error {
                code: "NotSupported".into(),
                description: "no".into(),
            },
            after(4),
        )
        .await
        .unwrap();
    assert!(matches!(refused.state, CommandState::Refused { ref code, .. } if code == "NotSupported"));
    assert_eq!(f.holder("CP1").await, None);
}

#[tokio::test]
async fn duplicate_late_foreign_and_unknown_answers_change_nothing() {
    let f = fixture(&[("CP1", "c1"), ("CP2", "c2")]).await;
    let a = f.queue("a", "CP1").await;
    f.dispatch(&a, now()).await;

    // WHEN another station answers CP1's message id, or an unknown or invalid id arrives THEN it is ignored.
    assert_eq!(f.answer("CP2", "a", accepted(), after(1)).await, None);
    assert_eq!(f.answer("CP1", "nope", accepted(), after(1)).await, None);
    assert_eq!(f.answer("CP1", "", accepted(), after(1)).await, None);
    assert_eq!(f.state(&a).await, CommandState::Sent { at: now() });
    assert_eq!(f.holder("CP1").await, Some(a.clone()));

    // WHEN the answer arrives twice, then a CALLERROR for the same id THEN the first one stands.
    assert!(f.answer("CP1", "a", accepted(), after(2)).await.is_some());
    assert_eq!(f.answer("CP1", "a", Answer::Result("{}".into()), after(3)).await, None);
    let error = Answer::Error {
        code: "InternalError".into(),
        description: String::new(),
    };
    assert_eq!(f.answer("CP1", "a", error, after(4)).await, None);
    assert_eq!(
        f.state(&a).await,
        CommandState::Answered {
            at: after(2),
            payload: r#"{"status":"Accepted"}"#.into()
        }
    );

    // WHEN a command failed its deadline and the answer comes late THEN it stays failed.
    let b = f.queue("b", "CP1").await;
    f.dispatch(&b, after(5)).await;
    let expired = command::expire(&*f.store, &station("CP1"), after(DEADLINE))
        .await
        .unwrap();
    assert!(expired.is_some());
    assert_eq!(f.answer("CP1", "b", accepted(), after(DEADLINE + 1)).await, None);
    assert!(matches!(
        f.state(&b).await,
        CommandState::Failed {
            reason: FailureReason::DeadlineExpired,
            ..
        }
    ));
}

#[tokio::test]
async fn gone_on_send_fails_the_command_disconnected_and_frees_the_slot() {
    let f = fixture(&[("CP1", "c1")]).await;
    let a = f.queue("a", "CP1").await;
    // GIVEN the pile's socket answers 410 Gone.
    f.world.channel.set_gone("c1");

    // WHEN the command is dispatched THEN it fails Disconnected, nothing is retried.
    assert_eq!(
        f.dispatch(&a, now()).await,
        DispatchOutcome::Failed(FailureReason::Disconnected)
    );
    let state = f.state(&a).await;
    assert_eq!(
        state,
        CommandState::Failed {
            at: now(),
            reason: FailureReason::Disconnected
        }
    );
    assert!(
        FailureReason::Disconnected
            .to_string()
            .contains("disconnected before answering")
    );
    assert_eq!(f.holder("CP1").await, None);
    assert!(f.sent().is_empty());

    // WHEN the request is redelivered THEN it is not sent again.
    assert_eq!(f.dispatch(&a, after(1)).await, DispatchOutcome::AlreadyFinal(state));
    assert!(f.sent().is_empty());
}

#[tokio::test]
async fn a_disconnect_fails_the_pending_command_and_later_ones_find_the_station_offline() {
    let f = fixture(&[("CP1", "c1")]).await;
    let a = f.queue("a", "CP1").await;
    f.dispatch(&a, now()).await;

    // WHEN the pile hangs up before answering.
    connection::close(&f.services, "c1", after(5)).await.unwrap();

    // THEN the pending command fails Disconnected and the slot is free.
    assert_eq!(
        f.state(&a).await,
        CommandState::Failed {
            at: after(5),
            reason: FailureReason::Disconnected
        }
    );
    assert_eq!(f.holder("CP1").await, None);
    assert_eq!(
        command::disconnected(&*f.store, &station("CP1"), after(6))
            .await
            .unwrap(),
        None
    );

    // WHEN another command is dispatched to the offline station THEN it fails, unsent.
    let b = f.queue("b", "CP1").await;
    assert_eq!(
        f.dispatch(&b, after(7)).await,
        DispatchOutcome::Failed(FailureReason::StationOffline)
    );
    assert_eq!(f.sent().len(), 1);
    assert_eq!(f.holder("CP1").await, None);
}

#[tokio::test]
async fn a_disconnect_that_overtakes_the_sent_mark_fails_the_command() {
    // GIVEN a command that holds the slot and went out on the socket, but is not marked Sent yet
    // (the dispatcher is still scheduling its deadline check when the pile hangs up)
    let f = fixture(&[("CP1", "c1")]).await;
    let a = f.queue("a", "CP1").await;
    let taken = f
        .store
        .acquire_slot(&station("CP1"), &a, after(DEADLINE), now())
        .await
        .unwrap();
    assert!(matches!(taken, SlotOutcome::Acquired { .. }));

    // WHEN the station's live connection closes
    connection::close(&f.services, "c1", after(1)).await.unwrap();

    // THEN the command fails Disconnected at once (not at its deadline) and the slot is free
    assert_eq!(
        f.state(&a).await,
        CommandState::Failed {
            at: after(1),
            reason: FailureReason::Disconnected
        }
    );
    assert_eq!(f.holder("CP1").await, None);
    // and the dispatcher, catching up, finds it final
    assert!(matches!(
        f.dispatch(&a, after(2)).await,
        DispatchOutcome::AlreadyFinal(_)
    ));
}

#[tokio::test]
async fn a_reconnect_fails_the_command_sent_on_the_old_socket() {
    let f = fixture(&[("CP1", "c1")]).await;
    let a = f.queue("a", "CP1").await;
    f.dispatch(&a, now()).await;

    // WHEN the pile reconnects without the old socket's $disconnect having run.
    let attempt = ConnectAttempt {
        connection_id: "c1-again",
        station_id: "CP1",
        credentials: Some(("CP1", PASSWORD)),
        offered_protocols: "ocpp1.6",
        now: after(3),
    };
    connection::open(&f.services, attempt).await.unwrap().unwrap();

    // THEN the command can no longer be answered: it failed, and the slot is free for the next.
    assert_eq!(
        f.state(&a).await,
        CommandState::Failed {
            at: after(3),
            reason: FailureReason::Disconnected
        }
    );
    assert_eq!(f.holder("CP1").await, None);
    let b = f.queue("b", "CP1").await;
    assert_eq!(f.dispatch(&b, after(4)).await, DispatchOutcome::Sent);
    assert_eq!(f.sent().last().unwrap().0, "c1-again");
}

#[tokio::test]
async fn a_silent_pile_fails_the_command_at_its_deadline() {
    let f = fixture(&[("CP1", "c1")]).await;
    let a = f.queue("a", "CP1").await;
    f.dispatch(&a, now()).await;

    // WHEN checked before the deadline THEN nothing happens.
    assert_eq!(
        command::expire(&*f.store, &station("CP1"), after(DEADLINE - 1))
            .await
            .unwrap(),
        None
    );
    assert_eq!(f.holder("CP1").await, Some(a.clone()));

    // WHEN checked at the deadline THEN the command fails DeadlineExpired and the slot is free.
    let failed = command::expire(&*f.store, &station("CP1"), after(DEADLINE))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        failed.state,
        CommandState::Failed {
            at: after(DEADLINE),
            reason: FailureReason::DeadlineExpired
        }
    );
    assert_eq!(f.holder("CP1").await, None);
}

#[tokio::test]
async fn an_expired_holder_is_displaced_by_the_next_command() {
    let f = fixture(&[("CP1", "c1")]).await;
    let a = f.queue("a", "CP1").await;
    f.dispatch(&a, now()).await;

    // WHEN the next command comes after a's deadline, with no expiry run in between.
    let b = CommandRecord::queued(Command {
        id: CommandId::parse("b").unwrap(),
        station: station("CP1"),
        protocol: ProtocolVersion::Ocpp16,
        action: "ClearCache".into(),
        payload: "{}".into(),
        deadline: after(DEADLINE + 60),
        created_at: after(DEADLINE + 1),
        requested_by: None,
    });
    f.store.create(&b).await.unwrap();
    let b = b.command.id;

    // THEN b takes the slot and a fails DeadlineExpired.
    assert_eq!(f.dispatch(&b, after(DEADLINE + 1)).await, DispatchOutcome::Sent);
    assert_eq!(f.holder("CP1").await, Some(b.clone()));
    assert!(matches!(
        f.state(&a).await,
        CommandState::Failed {
            reason: FailureReason::DeadlineExpired,
            ..
        }
    ));

    // WHEN a queued command is dispatched only after its deadline THEN it fails unsent.
    let c = f.queue("c", "CP1").await;
    assert_eq!(
        f.dispatch(&c, after(DEADLINE)).await,
        DispatchOutcome::Failed(FailureReason::DeadlineExpired)
    );
    assert_eq!(f.sent().len(), 2);
    let listed: Vec<_> = f
        .store
        .list(&station("CP1"))
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.command.id)
        .collect();
    assert_eq!(listed, [a, c, b]);
}

#[tokio::test]
async fn a_redelivered_request_is_created_and_sent_once() {
    let f = fixture(&[("CP1", "c1")]).await;
    let a = f.queue("a", "CP1").await;
    let again = f.store.get(&station("CP1"), &a).await.unwrap().unwrap();

    // WHEN the same request is created and dispatched twice.
    assert!(!f.store.create(&again).await.unwrap());
    assert_eq!(f.dispatch(&a, now()).await, DispatchOutcome::Sent);
    assert_eq!(f.dispatch(&a, after(1)).await, DispatchOutcome::Sent);

    // THEN the frame went out once; after the answer a redelivery reports the final state.
    assert_eq!(f.sent().len(), 1);
    let done = f.answer("CP1", "a", accepted(), after(2)).await.unwrap();
    assert_eq!(
        f.dispatch(&a, after(3)).await,
        DispatchOutcome::AlreadyFinal(done.state)
    );
    assert_eq!(f.sent().len(), 1);
}

#[tokio::test]
async fn an_unknown_command_is_an_error() {
    let f = fixture(&[("CP1", "c1")]).await;
    let id = CommandId::parse("missing").unwrap();
    let result = command::dispatch(f.services.command_ports(), &station("CP1"), &id, "[]", now()).await;
    assert!(matches!(result, Err(CommandError::UnknownCommand(ref missing)) if missing == &id));
}

#[tokio::test]
async fn a_sent_command_is_checked_at_its_deadline_and_the_check_is_idempotent() {
    let f = fixture(&[("CP1", "c1")]).await;
    let a = f.queue("a", "CP1").await;
    f.dispatch(&a, now()).await;

    // THEN sending asked for a check at the deadline.
    let checks = f.world.command_queue.deadline_checks.lock().unwrap().clone();
    assert_eq!(checks, [(station("CP1"), a.clone(), after(DEADLINE))]);

    // WHEN the check comes early THEN it says when to come back and changes nothing.
    let early = command::check_deadline(&*f.store, &station("CP1"), &a, after(DEADLINE - 1))
        .await
        .unwrap();
    assert_eq!(early, DeadlineCheck::Early(after(DEADLINE)));
    assert_eq!(f.holder("CP1").await, Some(a.clone()));

    // WHEN it comes at the deadline, twice THEN the command fails once and the slot is free.
    let first = command::check_deadline(&*f.store, &station("CP1"), &a, after(DEADLINE))
        .await
        .unwrap();
    assert!(
        matches!(first, DeadlineCheck::Done(Some(ref r)) if matches!(r.state, CommandState::Failed { reason: FailureReason::DeadlineExpired, .. }))
    );
    let again = command::check_deadline(&*f.store, &station("CP1"), &a, after(DEADLINE + 1))
        .await
        .unwrap();
    assert!(matches!(again, DeadlineCheck::Ended(_)));
    assert_eq!(f.holder("CP1").await, None);

    // WHEN a command was answered in time THEN its check changes nothing.
    let f = fixture(&[("CP1", "c1")]).await;
    let b = f.queue("b", "CP1").await;
    f.dispatch(&b, now()).await;
    f.answer("CP1", "b", accepted(), after(1)).await.unwrap();
    let late = command::check_deadline(&*f.store, &station("CP1"), &b, after(DEADLINE))
        .await
        .unwrap();
    assert!(matches!(late, DeadlineCheck::Ended(_)));
    assert!(matches!(f.state(&b).await, CommandState::Answered { .. }));
}

#[tokio::test]
async fn a_command_for_another_protocol_version_is_not_sent() {
    let f = fixture(&[("CP1", "c1")]).await;
    // GIVEN a command written for 2.0.1 while the pile speaks 1.6.
    let command = Command {
        id: CommandId::parse("v2").unwrap(),
        station: station("CP1"),
        protocol: ProtocolVersion::Ocpp201,
        action: "Reset".into(),
        payload: r#"{"type":"Immediate"}"#.into(),
        deadline: after(DEADLINE),
        created_at: now(),
        requested_by: None,
    };
    // WHEN it is accepted from the queue THEN it fails with a reason and nothing is sent.
    let outcome = command::accept(f.services.command_ports(), command, "[]", now())
        .await
        .unwrap();
    assert_eq!(outcome, DispatchOutcome::Failed(FailureReason::ProtocolChanged));
    assert!(f.sent().is_empty());
    assert_eq!(f.holder("CP1").await, None);
}

#[tokio::test]
async fn submitting_checks_the_timeout_and_deduplicates() {
    let f = fixture(&[("CP1", "c1")]).await;
    let command = |id: &str, timeout: i64| Command {
        id: CommandId::parse(id).unwrap(),
        station: station("CP1"),
        protocol: ProtocolVersion::Ocpp16,
        action: "ClearCache".into(),
        payload: "{}".into(),
        deadline: after(timeout),
        created_at: now(),
        requested_by: None,
    };
    let queue = &*f.services.commands.queue;
    command::submit(queue, &command("ok", 60)).await.unwrap();
    command::submit(queue, &command("ok", 60)).await.unwrap();
    for bad in [0, 15 * 60 + 1] {
        let err = command::submit(queue, &command("bad", bad)).await.unwrap_err();
        assert!(err.to_string().contains("timeout"), "{err}");
    }
    assert_eq!(f.world.command_queue.submitted.lock().unwrap().len(), 1);
}

#[test]
fn command_ids_are_ocpp_message_ids() {
    assert!(CommandId::parse(&"x".repeat(36)).is_ok());
    assert_eq!(CommandId::parse(&"x".repeat(37)), Err(CommandIdError::TooLong));
    assert_eq!(CommandId::parse(""), Err(CommandIdError::Empty));
    assert_eq!(CommandId::parse("a b"), Err(CommandIdError::InvalidCharacter));
    assert_eq!(
        CommandId::parse("0b9f7c1e-4f0a-4d5e-9c8a-2f1e3d4c5b6a")
            .unwrap()
            .as_str(),
        "0b9f7c1e-4f0a-4d5e-9c8a-2f1e3d4c5b6a"
    );
}

#[tokio::test]
async fn a_local_list_update_lost_with_the_connection_makes_the_next_update_full() {
    use csms_domain::local_list::{self, ListChange};
    let f = fixture(&[("CP1", "c1")]).await;
    let card = IdToken::parse_16("CARD-1").unwrap();
    let record = TokenRecord {
        token: card.clone(),
        status: AuthorizationStatus::Accepted,
        expiry: None,
        group: None,
        owner: None,
        organisation: None,
    };
    f.services.charging.tokens.put(&record).await.unwrap();
    let lists = &*f.services.commands.local_lists;
    let tokens = &*f.services.charging.tokens;

    // GIVEN the pile accepted a first, full list.
    let first = local_list::plan(
        lists,
        tokens,
        None,
        &station("CP1"),
        ListChange::Replace(vec![card.clone()]),
        "l1",
        now(),
    )
    .await
    .unwrap();
    local_list::update_answered(lists, &station("CP1"), "l1", local_list::UpdateStatus::Accepted, now())
        .await
        .unwrap();
    assert_eq!(first.version, 1);

    // WHEN the next (differential) update is sent and the pile hangs up before answering.
    let second = local_list::plan(
        lists,
        tokens,
        None,
        &station("CP1"),
        ListChange::Remove(vec![card.clone()]),
        "l2",
        after(1),
    )
    .await
    .unwrap();
    assert_eq!(second.update_type, local_list::UpdateType::Differential);
    let command = Command {
        id: CommandId::parse("l2").unwrap(),
        station: station("CP1"),
        protocol: ProtocolVersion::Ocpp16,
        action: "SendLocalList".into(),
        payload: "{}".into(),
        deadline: after(DEADLINE),
        created_at: after(1),
        requested_by: None,
    };
    command::accept(f.services.command_ports(), command, "[]", after(1))
        .await
        .unwrap();
    connection::close(&f.services, "c1", after(2)).await.unwrap();

    // THEN the pile may or may not have applied it: the next update is full.
    let state = lists.get(&station("CP1")).await.unwrap().unwrap();
    assert!(state.pending.is_none() && state.needs_full, "{state:?}");
    let third = local_list::plan(
        lists,
        tokens,
        None,
        &station("CP1"),
        ListChange::Add(vec![card]),
        "l3",
        after(3),
    )
    .await
    .unwrap();
    assert_eq!(third.update_type, local_list::UpdateType::Full);
}
