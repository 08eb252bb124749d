//! Remote commands on AWS: the pending-call store (CommandsTable) and the commands queues.
//!
//! CommandsTable is keyed by `stationId` and `entry`: a command is `command#<id>`, the station's
//! outstanding-call slot is `slot`. One partition per station, so the answer path reads a
//! command by station and message id, and listing a station's commands is one query.
//!
//! Queues: CommandsQueue (FIFO, group = station) carries new commands in order per station;
//! CommandDeadlinesQueue (standard, because FIFO queues cannot delay single messages) carries
//! each sent command's deadline check, delayed until its deadline.

use async_trait::async_trait;
use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
use aws_sdk_dynamodb::types::{AttributeValue, ReturnValue, ReturnValuesOnConditionCheckFailure};
use chrono::{DateTime, Duration, Utc};
use csms_domain::command::{
    Command, CommandId, CommandRecord, CommandState, FailureReason, SlotHolder, SlotOutcome, StateKind,
};
use csms_domain::ports::{CommandQueue, CommandStore, StoreError};
use csms_domain::{Page, PageRequest, ProtocolVersion, StationId};
use serde::{Deserialize, Serialize};

use crate::attributes::*;
use crate::dynamo::{Table, backend, condition_failed};
use crate::sqs::send_fifo;
use crate::wire::WireError;

/// How long command records are kept (DynamoDB TTL).
const RETENTION: Duration = Duration::days(90);
const SLOT: &str = "slot";
/// The table's key, which a page cursor must name.
const COMMAND_KEY: &[&str] = &["stationId", "entry"];

fn entry(id: &CommandId) -> String {
    format!("command#{id}")
}

fn malformed(what: impl std::fmt::Display) -> StoreError {
    StoreError::Backend(Box::new(WireError(what.to_string())))
}

pub struct Commands(pub Table);

fn command_item(c: &Command) -> Item {
    let mut item = Item::from([
        ("stationId".into(), s(c.station.as_str())),
        ("entry".into(), s(entry(&c.id))),
        ("commandId".into(), s(c.id.as_str())),
        ("protocol".into(), s(c.protocol.as_str())),
        ("action".into(), s(&c.action)),
        ("payload".into(), s(&c.payload)),
        ("deadline".into(), time(c.deadline)),
        ("createdAt".into(), time(c.created_at)),
        ("state".into(), s(StateKind::Queued.as_str())),
        ("expiresAt".into(), n((c.created_at + RETENTION).timestamp())),
    ]);
    put_opt(&mut item, "requestedBy", c.requested_by.clone().map(s));
    item
}

/// The attributes a state writes, besides `state` itself.
fn state_attributes(state: &CommandState) -> Vec<(&'static str, AttributeValue)> {
    match state {
        CommandState::Queued => vec![],
        CommandState::Sent { at } => vec![("sentAt", time(*at))],
        CommandState::Answered { at, payload } => vec![("completedAt", time(*at)), ("answer", s(payload))],
        CommandState::Refused { at, code, description } => vec![
            ("completedAt", time(*at)),
            ("errorCode", s(code)),
            ("errorDescription", s(description)),
        ],
        CommandState::Failed { at, reason } => vec![("completedAt", time(*at)), ("failure", s(reason.as_str()))],
    }
}

fn record_from_item(item: &Item) -> Result<CommandRecord, StoreError> {
    let text = |name: &'static str| get_s(item, name).map_err(backend);
    let at = |name: &'static str| get_time(item, name).map_err(backend);
    let command = Command {
        id: CommandId::parse(&text("commandId")?).map_err(malformed)?,
        station: StationId::parse(&text("stationId")?).map_err(malformed)?,
        protocol: ProtocolVersion::parse(&text("protocol")?).ok_or_else(|| malformed("protocol"))?,
        action: text("action")?,
        payload: text("payload")?,
        deadline: at("deadline")?,
        created_at: at("createdAt")?,
        requested_by: opt_s(item, "requestedBy"),
    };
    let state = match text("state")?.as_str() {
        "Queued" => CommandState::Queued,
        "Sent" => CommandState::Sent { at: at("sentAt")? },
        "Answered" => CommandState::Answered {
            at: at("completedAt")?,
            payload: text("answer")?,
        },
        "Refused" => CommandState::Refused {
            at: at("completedAt")?,
            code: text("errorCode")?,
            description: opt_s(item, "errorDescription").unwrap_or_default(),
        },
        "Failed" => CommandState::Failed {
            at: at("completedAt")?,
            reason: FailureReason::parse(&text("failure")?).ok_or_else(|| malformed("failure"))?,
        },
        other => return Err(malformed(format!("unknown command state {other:?}"))),
    };
    Ok(CommandRecord { command, state })
}

fn holder_from_item(item: &Item) -> Result<SlotHolder, StoreError> {
    Ok(SlotHolder {
        command: CommandId::parse(&get_s(item, "commandId").map_err(backend)?).map_err(malformed)?,
        deadline: get_time(item, "deadline").map_err(backend)?,
    })
}

impl Commands {
    async fn get_item(&self, station: &StationId, entry: String) -> Result<Option<Item>, StoreError> {
        let out = self
            .0
            .client
            .get_item()
            .table_name(self.0.name()?)
            .key("stationId", s(station.as_str()))
            .key("entry", s(entry))
            // The answer may follow the send within milliseconds.
            .consistent_read(true)
            .send()
            .await
            .map_err(backend)?;
        Ok(out.item)
    }
}

#[async_trait]
impl CommandStore for Commands {
    async fn create(&self, record: &CommandRecord) -> Result<bool, StoreError> {
        let mut item = command_item(&record.command);
        item.insert("state".into(), s(record.state.kind().as_str()));
        for (name, value) in state_attributes(&record.state) {
            item.insert(name.into(), value);
        }
        self.0.put_if(item, "stationId", None).await
    }

    async fn get(&self, station: &StationId, id: &CommandId) -> Result<Option<CommandRecord>, StoreError> {
        self.get_item(station, entry(id))
            .await?
            .as_ref()
            .map(record_from_item)
            .transpose()
    }

    async fn list(&self, station: &StationId) -> Result<Vec<CommandRecord>, StoreError> {
        let mut records = self
            .0
            .query_station(station)
            .await?
            .iter()
            .filter(|item| opt_s(item, "entry").is_some_and(|e| e.starts_with("command#")))
            .map(record_from_item)
            .collect::<Result<Vec<_>, _>>()?;
        records.sort_by(|a, b| (a.command.created_at, &a.command.id).cmp(&(b.command.created_at, &b.command.id)));
        Ok(records)
    }

    async fn list_newest(
        &self,
        station: &StationId,
        since: DateTime<Utc>,
        page: &PageRequest,
    ) -> Result<Page<CommandRecord>, StoreError> {
        // Only command items (not the slot or the local list) made from `since` on: UUIDv7 ids
        // sort by time, so the registration is a bound on the key, and backwards is newest first.
        let from = format!("command#{}", CommandId::lowest_made_at(since));
        let to = "command#~";
        // A cursor of this station's other lists (its status history shares the key names), or
        // of an earlier registration's, would fall outside the key condition, which DynamoDB
        // answers with a ValidationException.
        if let Some(cursor) = &page.after {
            let start = crate::page::decode(cursor, COMMAND_KEY, "stationId", station.as_str())?;
            if !start
                .get("entry")
                .and_then(|e| e.as_s().ok())
                .is_some_and(|e| e.starts_with("command#") && e.as_str() >= from.as_str())
            {
                return Err(StoreError::InvalidCursor);
            }
        }
        crate::page::query_page(
            &self.0.client,
            self.0.name()?,
            COMMAND_KEY,
            "stationId",
            station.as_str(),
            page,
            |query| {
                query
                    .key_condition_expression("#pk = :pk AND #entry BETWEEN :from AND :to")
                    .expression_attribute_names("#entry", "entry")
                    .expression_attribute_values(":from", s(&from))
                    .expression_attribute_values(":to", s(to))
                    .scan_index_forward(false)
            },
            record_from_item,
        )
        .await
    }

    async fn clear_slot(&self, station: &StationId) -> Result<(), StoreError> {
        self.0
            .delete(Item::from([
                ("stationId".into(), s(station.as_str())),
                ("entry".into(), s(SLOT)),
            ]))
            .await
    }

    async fn acquire_slot(
        &self,
        station: &StationId,
        id: &CommandId,
        deadline: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<SlotOutcome, StoreError> {
        // Deadlines are fixed-width RFC 3339 strings, so string order is time order.
        let out = self
            .0
            .client
            .update_item()
            .table_name(self.0.name()?)
            .key("stationId", s(station.as_str()))
            .key("entry", s(SLOT))
            .update_expression("SET commandId = :id, deadline = :deadline, expiresAt = :expires")
            .condition_expression("attribute_not_exists(stationId) OR commandId = :id OR deadline <= :now")
            .expression_attribute_values(":id", s(id.as_str()))
            .expression_attribute_values(":deadline", time(deadline))
            .expression_attribute_values(":expires", n((deadline + Duration::days(1)).timestamp()))
            .expression_attribute_values(":now", time(now))
            .return_values(ReturnValue::AllOld)
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
            .await;
        match out {
            Ok(out) => {
                let previous = out.attributes.filter(|a| !a.is_empty());
                let displaced = previous
                    .as_ref()
                    .map(holder_from_item)
                    .transpose()?
                    .map(|h| h.command)
                    .filter(|old| old != id);
                Ok(SlotOutcome::Acquired { displaced })
            }
            Err(e) if condition_failed(&e) => {
                let item = match e.into_service_error() {
                    UpdateItemError::ConditionalCheckFailedException(failed) => failed.item,
                    _ => None,
                }
                .ok_or_else(|| malformed("slot condition failed without the holder"))?;
                let holder = holder_from_item(&item)?;
                Ok(SlotOutcome::Busy {
                    holder: holder.command,
                    deadline: holder.deadline,
                })
            }
            Err(e) => Err(backend(e)),
        }
    }

    async fn release_slot(&self, station: &StationId, id: &CommandId) -> Result<bool, StoreError> {
        let out = self
            .0
            .client
            .delete_item()
            .table_name(self.0.name()?)
            .key("stationId", s(station.as_str()))
            .key("entry", s(SLOT))
            .condition_expression("commandId = :id")
            .expression_attribute_values(":id", s(id.as_str()))
            .send()
            .await;
        match out {
            Ok(_) => Ok(true),
            Err(e) if condition_failed(&e) => Ok(false),
            Err(e) => Err(backend(e)),
        }
    }

    async fn holder(&self, station: &StationId) -> Result<Option<SlotHolder>, StoreError> {
        self.get_item(station, SLOT.into())
            .await?
            .as_ref()
            .map(holder_from_item)
            .transpose()
    }

    async fn transition(
        &self,
        station: &StationId,
        id: &CommandId,
        allowed: &[StateKind],
        next: &CommandState,
    ) -> Result<Option<CommandRecord>, StoreError> {
        let attributes = state_attributes(next);
        let mut set = vec!["#state = :next".to_owned()];
        set.extend(attributes.iter().map(|(name, _)| format!("{name} = :{name}")));
        let allowed_values: Vec<String> = (0..allowed.len()).map(|i| format!(":allowed{i}")).collect();
        let mut update = self
            .0
            .client
            .update_item()
            .table_name(self.0.name()?)
            .key("stationId", s(station.as_str()))
            .key("entry", s(entry(id)))
            .update_expression(format!("SET {}", set.join(", ")))
            .condition_expression(format!("#state IN ({})", allowed_values.join(", ")))
            .expression_attribute_names("#state", "state")
            .expression_attribute_values(":next", s(next.kind().as_str()))
            .return_values(ReturnValue::AllNew);
        for (placeholder, kind) in allowed_values.iter().zip(allowed) {
            update = update.expression_attribute_values(placeholder, s(kind.as_str()));
        }
        for (name, value) in attributes {
            update = update.expression_attribute_values(format!(":{name}"), value);
        }
        match update.send().await {
            Ok(out) => out.attributes.as_ref().map(record_from_item).transpose(),
            Err(e) if condition_failed(&e) => Ok(None),
            Err(e) => Err(backend(e)),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Queues

/// A message on the commands queues.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum CommandMessage {
    /// A new command to record and send (CommandsQueue).
    Submitted(CommandV1),
    /// Check whether the command is still unanswered at its deadline (CommandDeadlinesQueue).
    DeadlineCheck {
        #[serde(rename = "stationId")]
        station_id: String,
        #[serde(rename = "commandId")]
        command_id: String,
    },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CommandV1 {
    pub command_id: String,
    pub station_id: String,
    pub protocol: String,
    pub action: String,
    /// The request payload, as JSON text.
    pub payload: String,
    pub deadline: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requested_by: Option<String>,
}

impl From<&Command> for CommandV1 {
    fn from(c: &Command) -> Self {
        Self {
            command_id: c.id.to_string(),
            station_id: c.station.to_string(),
            protocol: c.protocol.as_str().into(),
            action: c.action.clone(),
            payload: c.payload.clone(),
            deadline: c.deadline,
            created_at: c.created_at,
            requested_by: c.requested_by.clone(),
        }
    }
}

impl TryFrom<&CommandV1> for Command {
    type Error = WireError;
    fn try_from(c: &CommandV1) -> Result<Self, WireError> {
        Ok(Self {
            id: CommandId::parse(&c.command_id).map_err(|e| WireError(format!("commandId: {e}")))?,
            station: StationId::parse(&c.station_id).map_err(|e| WireError(format!("stationId: {e}")))?,
            protocol: ProtocolVersion::parse(&c.protocol)
                .ok_or_else(|| WireError(format!("protocol: unknown {:?}", c.protocol)))?,
            action: c.action.clone(),
            payload: c.payload.clone(),
            deadline: c.deadline,
            created_at: c.created_at,
            requested_by: c.requested_by.clone(),
        })
    }
}

impl CommandMessage {
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("messages always serialize")
    }
}

pub struct CommandQueues {
    pub client: aws_sdk_sqs::Client,
    pub commands_url: Option<String>,
    pub deadlines_url: Option<String>,
}

/// SQS delays a message by at most 15 minutes.
const MAX_DELAY_SECONDS: i64 = 900;

#[async_trait]
impl CommandQueue for CommandQueues {
    async fn submit(&self, command: &Command) -> Result<(), StoreError> {
        let body = CommandMessage::Submitted(command.into()).to_json();
        send_fifo(
            &self.client,
            self.commands_url.as_deref(),
            "COMMANDS_QUEUE_URL",
            command.station.as_str(),
            command.id.as_str(),
            body,
        )
        .await
        .map_err(|e| StoreError::Backend(e.into()))
    }

    async fn check_at_deadline(&self, command: &Command) -> Result<(), StoreError> {
        let url = self
            .deadlines_url
            .as_deref()
            .ok_or_else(|| StoreError::Backend("COMMAND_DEADLINES_QUEUE_URL is not set".into()))?;
        // Whole seconds, rounded up, so the check never comes before the deadline.
        let remaining = command.deadline - Utc::now();
        let delay = (remaining.num_milliseconds() + 999)
            .div_euclid(1000)
            .clamp(0, MAX_DELAY_SECONDS);
        let body = CommandMessage::DeadlineCheck {
            station_id: command.station.to_string(),
            command_id: command.id.to_string(),
        }
        .to_json();
        self.client
            .send_message()
            .queue_url(url)
            .delay_seconds(delay as i32)
            .message_body(body)
            .send()
            .await
            .map_err(|e| StoreError::Backend(Box::new(e)))?;
        Ok(())
    }

    async fn redeliver_after(&self, receipt_handle: &str, delay: Duration) -> Result<(), StoreError> {
        let url = self
            .commands_url
            .as_deref()
            .ok_or_else(|| StoreError::Backend("COMMANDS_QUEUE_URL is not set".into()))?;
        self.client
            .change_message_visibility()
            .queue_url(url)
            .receipt_handle(receipt_handle)
            .visibility_timeout(delay.num_seconds().clamp(0, MAX_DELAY_SECONDS) as i32)
            .send()
            .await
            .map_err(|e| StoreError::Backend(Box::new(e)))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_round_trip() {
        let at = DateTime::parse_from_rfc3339("2026-03-01T10:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let command = Command {
            id: CommandId::parse("0190f3c2-0000-7000-8000-000000000001").unwrap(),
            station: StationId::parse("CP-1").unwrap(),
            protocol: ProtocolVersion::Ocpp201,
            action: "Reset".into(),
            payload: r#"{"type":"Immediate"}"#.into(),
            deadline: at + Duration::seconds(30),
            created_at: at,
            requested_by: Some("driver-1".into()),
        };
        let json = CommandMessage::Submitted((&command).into()).to_json();
        let CommandMessage::Submitted(back) = serde_json::from_str(&json).unwrap() else {
            panic!("{json}")
        };
        assert_eq!(Command::try_from(&back).unwrap(), command);
        let check: CommandMessage =
            serde_json::from_str(r#"{"DeadlineCheck":{"stationId":"CP-1","commandId":"x"}}"#).unwrap();
        assert!(matches!(check, CommandMessage::DeadlineCheck { ref command_id, .. } if command_id == "x"));
    }
}
