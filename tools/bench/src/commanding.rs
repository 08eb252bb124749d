//! Section 5: what a remote command costs. A real pile socket through csms-local receives the
//! CALL; the commands consumer, the pile's answer on `$default` and the deadline check run
//! in-process on the counted clients, so every DynamoDB and SQS call they make is counted.

use aws_lambda_events::sqs::{SqsEvent, SqsMessage};
use chrono::{Duration, Utc};
use commands::request;
use csms_aws::commands::{CommandMessage, CommandV1};
use csms_domain::command::CommandState;
use csms_domain::{ProtocolVersion, StationId};
use futures_util::SinkExt;
use serde_json::{Value, json};
use std::collections::HashMap;
use tokio_tungstenite::tungstenite::Message;

use crate::frames::{self, Version};
use crate::inprocess::{OpsRow, Rig, print_table};
use crate::piles::{handshake, next_text};

type BoxError = Box<dyn std::error::Error + Send + Sync>;

fn sqs_event(body: String) -> SqsEvent {
    let mut record = SqsMessage::default();
    record.message_id = Some(uuid_like());
    // Not a real receipt: a busy station would hand the message back; this one never is busy.
    record.receipt_handle = Some("bench".into());
    record.body = Some(body);
    record.attributes = HashMap::from([("ApproximateReceiveCount".to_owned(), "1".to_owned())]);
    let mut event = SqsEvent::default();
    event.records = vec![record];
    event
}

fn uuid_like() -> String {
    format!("bench-{}", Utc::now().timestamp_nanos_opt().unwrap_or_default())
}

pub async fn section_command_calls(rig: &Rig, url: &str, prefix: &str, reps: usize) -> Result<(), BoxError> {
    let station = format!("{prefix}-CMD");
    let password = "bench-password-0001";
    rig.register(&station, password, Version::V16).await?;
    let mut socket = handshake(&format!("{url}{station}"), &station, password).await?;
    // A booted pile, as in production: $default then reads its connection once per frame.
    let boot = json!([2, "boot", "BootNotification", {"chargePointVendor": "Bench", "chargePointModel": "Bench"}]);
    socket.send(Message::text(boot.to_string())).await?;
    let booted = next_text(&mut socket).await.ok_or("the pile's socket closed")?;
    if !booted.contains("Accepted") {
        return Err(format!("BootNotification answered {booted}").into());
    }
    let station_id = StationId::parse(&station)?;
    let connection_id = rig
        .services
        .stations
        .get(&station_id)
        .await?
        .and_then(|s| s.connection_id)
        .ok_or("the bench pile has no live connection")?;
    let calls = &rig.calls;
    let mut dispatch = OpsRow::new("command: consumer records and sends it (ClearCache, booted pile)", "1");
    let mut answer = OpsRow::new("command: the pile's CALLRESULT on $default", "1");
    let mut duplicate = OpsRow::new("command: the same CALLRESULT again", "1");
    let mut deadline = OpsRow::new("command: its deadline check (answered)", "1");
    for _ in 0..reps {
        let command = request::new_command(
            station_id.clone(),
            ProtocolVersion::Ocpp16,
            "ClearCache",
            json!({}),
            Duration::seconds(30),
            Utc::now(),
        )?;
        let id = command.id.clone();
        let submitted = CommandMessage::Submitted(CommandV1::from(&command)).to_json();
        calls.take();
        let response = commands::handle(&rig.services, &rig.reservations, sqs_event(submitted)).await?;
        dispatch.samples.push(calls.take());
        if !response.batch_item_failures.is_empty() {
            return Err("the commands consumer failed the message".into());
        }
        let received = tokio::time::timeout(std::time::Duration::from_secs(10), next_text(&mut socket))
            .await?
            .ok_or("the pile's socket closed")?;
        let frame: Value = serde_json::from_str(&received)?;
        if frame[1] != id.as_str() || frame[2] != "ClearCache" {
            return Err(format!("the pile received {received}, not command {id}").into());
        }
        let reply = json!([3, id.as_str(), {"status": "Accepted"}]).to_string();
        calls.take();
        message::handle(
            &rig.services,
            &rig.reservations,
            frames::default_event(&connection_id, reply.clone()),
        )
        .await?;
        answer.samples.push(calls.take());
        message::handle(
            &rig.services,
            &rig.reservations,
            frames::default_event(&connection_id, reply),
        )
        .await?;
        duplicate.samples.push(calls.take());
        let check = CommandMessage::DeadlineCheck {
            station_id: station.clone(),
            command_id: id.to_string(),
        }
        .to_json();
        commands::handle(&rig.services, &rig.reservations, sqs_event(check)).await?;
        deadline.samples.push(calls.take());
        let record = rig.services.commands.store.get(&station_id, &id).await?;
        if !matches!(record.map(|r| r.state), Some(CommandState::Answered { .. })) {
            return Err(format!("command {id} was not recorded as answered").into());
        }
    }
    calls.take();
    print_table(&[dispatch, answer, duplicate, deadline]);
    println!(
        "method: {reps} ClearCache commands to one 1.6 pile connected through csms-local (a real WebSocket, which receives each \
         CALL: one @connections PostToConnection per command, not in the table because the management API client is not \
         counted). commands::handle on the Submitted message as the SQS event source delivers it; message::handle on the \
         pile's CALLRESULT (and once more, as a duplicate); commands::handle on the DeadlineCheck message. SendMessage is the \
         delayed deadline check. Not counted: the registry's or API's SendMessage that submits the command (1 per command)."
    );
    Ok(())
}
