//! The commands function's handler on the sample events in `events/` (CommandsQueue and
//! CommandDeadlinesQueue), against in-memory ports: a command is recorded once and sent on the
//! station's live socket; a body that is no command fails (its retries end in the dead-letter
//! queue); a busy station hands the message back with a growing delay; a deadline check that comes
//! early is retried; a request that breaks its schema fails `InvalidRequest` unsent; and a refused
//! or unanswered SendLocalList changes what the CSMS believes the pile's list is.

use aws_lambda_events::sqs::{SqsBatchResponse, SqsEvent};
use chrono::{DateTime, Duration, SecondsFormat, Utc};
use csms_domain::command::{self, Answer, CommandId, CommandState, FailureReason, SlotOutcome, StateKind};
use csms_domain::connection::{self, ConnectAttempt};
use csms_domain::local_list::{self, ListChange};
use csms_domain::memory::MemoryWorld;
use csms_domain::registry::{self, NewStation};
use csms_domain::*;
use serde_json::{Value, json};

const COMMANDS: &str = include_str!("../../../events/sqs-commands.json");
const DEADLINES: &str = include_str!("../../../events/sqs-command-deadlines.json");
const CONNECTION: &str = "Vq1bYcT0IAMCJxw=";

fn station() -> StationId {
    StationId::parse("CP-DEMO-1").unwrap()
}

fn sample_id() -> CommandId {
    let event: Value = serde_json::from_str(COMMANDS).unwrap();
    let body: Value = serde_json::from_str(event["Records"][0]["body"].as_str().unwrap()).unwrap();
    CommandId::parse(body["Submitted"]["commandId"].as_str().unwrap()).unwrap()
}

/// CP-DEMO-1, registered for both versions and connected (1.6).
async fn connected() -> (MemoryWorld, Services) {
    let world = MemoryWorld::default();
    let services = world.services(BootPolicy::default());
    let new = NewStation {
        id: station(),
        protocols: ProtocolVersion::ALL.to_vec(),
        registration: Registration::Accepted,
        site: None,
        organisation: None,
        location: None,
        connectors: Vec::new(),
        password: Some(Password::parse("demo-password-1234").unwrap()),
    };
    registry::register(&services, new, Utc::now()).await.unwrap();
    let attempt = ConnectAttempt {
        connection_id: CONNECTION,
        station_id: "CP-DEMO-1",
        credentials: Some(("CP-DEMO-1", "demo-password-1234")),
        offered_protocols: "ocpp1.6",
        now: Utc::now(),
    };
    connection::open(&services, attempt).await.unwrap().unwrap();
    (world, services)
}

fn rfc3339(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// The sample CommandsQueue event with its command changed by `edit` (the body's `Submitted`
/// object) and its deadline moved to `timeout` from now, received for the `receives`th time.
fn submitted(timeout: Duration, receives: u32, edit: impl FnOnce(&mut Value)) -> SqsEvent {
    let mut event: Value = serde_json::from_str(COMMANDS).unwrap();
    let record = &mut event["Records"][0];
    let mut body: Value = serde_json::from_str(record["body"].as_str().unwrap()).unwrap();
    let now = Utc::now();
    body["Submitted"]["createdAt"] = json!(rfc3339(now));
    body["Submitted"]["deadline"] = json!(rfc3339(now + timeout));
    edit(&mut body["Submitted"]);
    record["body"] = json!(body.to_string());
    record["attributes"]["ApproximateReceiveCount"] = json!(receives.to_string());
    serde_json::from_value(event).unwrap()
}

fn deadline_check(command: &CommandId) -> SqsEvent {
    let mut event: Value = serde_json::from_str(DEADLINES).unwrap();
    let body = json!({"DeadlineCheck": {"stationId": "CP-DEMO-1", "commandId": command.as_str()}});
    event["Records"][0]["body"] = json!(body.to_string());
    serde_json::from_value(event).unwrap()
}

fn failed_ids(response: &SqsBatchResponse) -> Vec<String> {
    response
        .batch_item_failures
        .iter()
        .map(|f| f.item_identifier.clone())
        .collect()
}

async fn state(services: &Services, id: &CommandId) -> CommandState {
    services
        .commands
        .store
        .get(&station(), id)
        .await
        .unwrap()
        .unwrap()
        .state
}

#[tokio::test]
async fn a_command_is_recorded_once_sent_on_the_live_socket_and_checked_at_its_deadline() {
    let (world, services) = connected().await;
    let event = submitted(Duration::seconds(30), 1, |_| {});

    let response = commands::handle(&services, &no_reservations(), event.clone())
        .await
        .unwrap();
    assert!(failed_ids(&response).is_empty());
    let sent = world.channel.sent();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].0, CONNECTION);
    let frame: Value = serde_json::from_str(&sent[0].1).unwrap();
    assert_eq!(frame, json!([2, sample_id().as_str(), "Reset", {"type": "Soft"}]));
    assert!(matches!(
        state(&services, &sample_id()).await,
        CommandState::Sent { .. }
    ));
    assert_eq!(world.command_queue.deadline_checks.lock().unwrap().len(), 1);

    // A redelivery sends nothing again.
    let again = commands::handle(&services, &no_reservations(), event).await.unwrap();
    assert!(failed_ids(&again).is_empty());
    assert_eq!(world.channel.sent().len(), 1);
}

#[tokio::test]
async fn a_body_that_is_no_command_fails_itself_and_the_rest_of_its_fifo_batch() {
    let (world, services) = connected().await;
    let mut event = submitted(Duration::seconds(30), 1, |_| {});
    let mut malformed = event.records[0].clone();
    malformed.message_id = Some("malformed-1".into());
    malformed.body = Some(r#"{"Submitted":{"commandId":"x"}}"#.into());
    event.records.insert(0, malformed);

    // Reported failed on every receive: after the queue's maxReceiveCount the redrive policy moves
    // it to the dead-letter queue. The command behind it in the group waits (FIFO order).
    for _ in 0..3 {
        let response = commands::handle(&services, &no_reservations(), event.clone())
            .await
            .unwrap();
        let expected = ["malformed-1".to_owned(), event.records[1].message_id.clone().unwrap()];
        assert_eq!(failed_ids(&response), expected);
    }
    assert!(world.channel.sent().is_empty());
    assert!(
        services
            .commands
            .store
            .get(&station(), &sample_id())
            .await
            .unwrap()
            .is_none()
    );
}

#[tokio::test]
async fn a_busy_station_hands_the_command_back_with_a_growing_delay() {
    let (world, services) = connected().await;
    // GIVEN another command holding the station's slot for two more minutes
    let holder = CommandId::parse("01a20bf5-0000-7000-8000-000000000001").unwrap();
    let held = services
        .commands
        .store
        .acquire_slot(&station(), &holder, Utc::now() + Duration::minutes(2), Utc::now())
        .await
        .unwrap();
    assert!(matches!(held, SlotOutcome::Acquired { .. }));

    // WHEN the command arrives, for the 1st, 3rd and 9th time
    for (receives, delay) in [(1, 1), (3, 4), (9, 32)] {
        let response = commands::handle(
            &services,
            &no_reservations(),
            submitted(Duration::seconds(300), receives, |_| {}),
        )
        .await
        .unwrap();
        // THEN it stays queued, is reported failed, and comes back after 1, 4, 32 s
        assert_eq!(failed_ids(&response).len(), 1);
        let last = world
            .command_queue
            .redeliveries
            .lock()
            .unwrap()
            .last()
            .cloned()
            .unwrap();
        assert_eq!(
            last,
            (
                "AQEBzWwaftRI0KuVm4tP+/7q1rGgNqicHq1".to_owned(),
                Duration::seconds(delay)
            )
        );
    }
    assert!(matches!(state(&services, &sample_id()).await, CommandState::Queued));
    assert!(world.channel.sent().is_empty());

    // AND never later than the holder's deadline
    services.commands.store.release_slot(&station(), &holder).await.unwrap();
    services
        .commands
        .store
        .acquire_slot(&station(), &holder, Utc::now() + Duration::seconds(3), Utc::now())
        .await
        .unwrap();
    commands::handle(
        &services,
        &no_reservations(),
        submitted(Duration::seconds(300), 9, |_| {}),
    )
    .await
    .unwrap();
    let (_, delay) = world
        .command_queue
        .redeliveries
        .lock()
        .unwrap()
        .last()
        .cloned()
        .unwrap();
    assert!(
        delay <= Duration::seconds(3) && delay >= Duration::seconds(1),
        "{delay}"
    );
}

#[tokio::test]
async fn a_deadline_check_that_comes_early_is_retried_and_one_on_time_fails_the_command() {
    let (world, services) = connected().await;
    commands::handle(
        &services,
        &no_reservations(),
        submitted(Duration::seconds(2), 1, |_| {}),
    )
    .await
    .unwrap();
    assert_eq!(world.channel.sent().len(), 1);

    // Early: reported failed, so the queue delivers it again; the command stays sent.
    let early = commands::handle(&services, &no_reservations(), deadline_check(&sample_id()))
        .await
        .unwrap();
    assert_eq!(failed_ids(&early).len(), 1);
    assert!(matches!(
        state(&services, &sample_id()).await,
        CommandState::Sent { .. }
    ));

    // On time: the silent pile's command fails DeadlineExpired, the slot is free, once.
    tokio::time::sleep(std::time::Duration::from_millis(2100)).await;
    for _ in 0..2 {
        let on_time = commands::handle(&services, &no_reservations(), deadline_check(&sample_id()))
            .await
            .unwrap();
        assert!(failed_ids(&on_time).is_empty());
    }
    assert!(matches!(
        state(&services, &sample_id()).await,
        CommandState::Failed {
            reason: FailureReason::DeadlineExpired,
            ..
        }
    ));
    assert!(services.commands.store.holder(&station()).await.unwrap().is_none());
}

#[tokio::test]
async fn a_request_that_breaks_its_schema_fails_invalid_request_unsent() {
    let (world, services) = connected().await;
    // Whatever queued it: the queue is an interface, and the payload is checked again before sending.
    let event = submitted(Duration::seconds(30), 1, |c| {
        c["payload"] = json!(r#"{"type":"Sideways"}"#)
    });

    let response = commands::handle(&services, &no_reservations(), event).await.unwrap();

    assert!(failed_ids(&response).is_empty(), "nothing to retry");
    assert!(world.channel.sent().is_empty());
    assert!(matches!(
        state(&services, &sample_id()).await,
        CommandState::Failed {
            reason: FailureReason::InvalidRequest,
            ..
        }
    ));
}

/// A SendLocalList planned from the registry and submitted like the tool does it.
async fn send_local_list(world: &MemoryWorld, services: &Services, timeout: Duration) -> CommandId {
    let card = IdToken::parse_16("04E91C5A").unwrap();
    let record = TokenRecord {
        token: card.clone(),
        status: AuthorizationStatus::Accepted,
        expiry: None,
        group: None,
        owner: None,
        organisation: None,
    };
    services.charging.tokens.put(&record).await.unwrap();
    let id = commands::request::new_id();
    let update = local_list::plan(
        &*services.commands.local_lists,
        &*services.charging.tokens,
        None,
        &station(),
        ListChange::Add(vec![card]),
        id.as_str(),
        Utc::now(),
    )
    .await
    .unwrap();
    let payload = csms_aws::local_list::send_local_list_payload(ProtocolVersion::Ocpp16, &update);
    let event = submitted(timeout, 1, |c| {
        c["commandId"] = json!(id.as_str());
        c["action"] = json!("SendLocalList");
        c["payload"] = json!(payload.to_string());
    });
    assert!(failed_ids(&commands::handle(services, &no_reservations(), event).await.unwrap()).is_empty());
    assert_eq!(world.channel.sent().len(), 1);
    id
}

/// Makes the belief certain: as if an earlier Full update had been accepted.
async fn in_sync(services: &Services) {
    let store = &*services.commands.local_lists;
    let mut state = store.get(&station()).await.unwrap().unwrap_or_default();
    let revision = (state.revision > 0).then_some(state.revision);
    state.needs_full = false;
    state.pending = None;
    assert!(store.put_if_revision(&station(), revision, &state).await.unwrap());
}

#[tokio::test]
async fn an_unanswered_send_local_list_makes_the_next_update_full() {
    let (world, services) = connected().await;
    in_sync(&services).await;
    let id = send_local_list(&world, &services, Duration::seconds(1)).await;
    let before = services.commands.local_lists.get(&station()).await.unwrap().unwrap();
    assert!(before.pending.is_some() && !before.needs_full);

    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    commands::handle(&services, &no_reservations(), deadline_check(&id))
        .await
        .unwrap();

    // The pile may or may not have applied it: the list is no longer known.
    let after = services.commands.local_lists.get(&station()).await.unwrap().unwrap();
    assert!(after.pending.is_none());
    assert!(after.needs_full, "an unanswered update makes the next one Full");
}

#[tokio::test]
async fn a_refused_send_local_list_was_not_applied_and_keeps_the_list_known() {
    let (world, services) = connected().await;
    in_sync(&services).await;
    let id = send_local_list(&world, &services, Duration::seconds(30)).await;

    // The pile's CALLERROR, as `$default` records it, then the effects the commands library applies.
    let record = command::answered(
        &*services.commands.store,
        &station(),
        id.as_str(),
        |_| Answer::Error {
            code: "InternalError".into(),
            description: "flash full".into(),
        },
        Utc::now(),
    )
    .await
    .unwrap()
    .unwrap();
    assert_eq!(record.state.kind(), StateKind::Refused);
    commands::effects::on_completed(&services, &*no_reservations().signals, &record, Utc::now()).await;

    let after = services.commands.local_lists.get(&station()).await.unwrap().unwrap();
    assert!(after.pending.is_none(), "the refused update is settled");
    assert!(
        !after.needs_full,
        "a CALLERROR means the pile did not apply it: the list is still known"
    );
    assert_eq!(after.version, 0);
}

/// The reservation ports, with no reservations: these commands are none of theirs.
fn no_reservations() -> csms_domain::reservation::ReservationServices {
    csms_domain::reservation::memory::MemoryReservationWorld::default()
        .services(csms_domain::reservation::ReservationSettings::default())
}
