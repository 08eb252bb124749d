//! Remote commands: CALLs the CSMS sends to a pile (RemoteStartTransaction, Reset, ...), and the
//! pending-call store that matches the pile's CALLRESULT / CALLERROR to them.
//!
//! One CALL may be outstanding per station (OCPP allows one in flight per direction): a command
//! holds the station's slot from dispatch until it is answered, refused, or failed. A command
//! ends failed with a reason when the pile is offline, goes away before answering (410 Gone,
//! `$disconnect`), or does not answer before the deadline; it is never re-sent blindly. The
//! request payload is opaque here: the protocol layer encodes it and builds the frame.

use chrono::{DateTime, Duration, Utc};

use crate::connection::Connection;
use std::fmt;

use crate::ports::{
    ChannelError, CommandQueue, CommandStore, ConnectionRepository, StationChannel, StationRepository, StoreError,
};
use crate::station::{ProtocolVersion, StationId};

/// A command's id, which is also the OCPP message id of its CALL: 1 to 36 printable ASCII
/// characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CommandId(String);

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum CommandIdError {
    #[error("command id is empty")]
    Empty,
    #[error("command id is longer than 36 characters")]
    TooLong,
    #[error("command id may only contain printable ASCII characters")]
    InvalidCharacter,
}

impl CommandId {
    /// The longest OCPP-J message id.
    pub const MAX_LEN: usize = 36;

    pub fn parse(raw: &str) -> Result<Self, CommandIdError> {
        if raw.is_empty() {
            return Err(CommandIdError::Empty);
        }
        if raw.len() > Self::MAX_LEN {
            return Err(CommandIdError::TooLong);
        }
        if !raw.chars().all(|c| c.is_ascii_graphic()) {
            return Err(CommandIdError::InvalidCharacter);
        }
        Ok(Self(raw.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The lowest id a UUIDv7 made at `at` (to the millisecond) or later can have, as text: the
    /// CSMS's command ids are UUIDv7 (lower case), whose first 48 bits are the Unix time in ms,
    /// so ids compare like the times they were made.
    pub fn lowest_made_at(at: DateTime<Utc>) -> String {
        let ms = at.timestamp_millis().max(0);
        format!("{:08x}-{:04x}-0000-0000-000000000000", ms >> 16, ms & 0xffff)
    }

    /// When a UUIDv7 id was made, in Unix ms; None for an id that is no UUIDv7.
    pub fn created_millis(&self) -> Option<i64> {
        let id = self.0.as_bytes();
        let uuid_v7 = id.len() == 36 && id[8] == b'-' && id[13] == b'-' && id[14] == b'7';
        if !uuid_v7 {
            return None;
        }
        let hex = format!("{}{}", &self.0[..8], &self.0[9..13]);
        i64::from_str_radix(&hex, 16).ok()
    }
}

impl fmt::Display for CommandId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A CALL the CSMS wants a station to execute.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Command {
    pub id: CommandId,
    pub station: StationId,
    /// The OCPP version the payload was written for; the pile must still speak it when it is sent.
    pub protocol: ProtocolVersion,
    /// The OCPP action, e.g. `RemoteStartTransaction`.
    pub action: String,
    /// The request payload as the protocol layer encoded it.
    pub payload: String,
    /// The pile must have answered by then; afterwards the command fails `DeadlineExpired`.
    pub deadline: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
    /// Who asked for it: the person's subject when it came through the app API (a driver may only
    /// see the commands they asked for), None from the operator's command-line tool.
    pub requested_by: Option<String>,
}

/// Why a command failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FailureReason {
    /// The station had no live connection when the command was to be sent.
    StationOffline,
    /// The pile went away before answering (410 Gone on send, or `$disconnect`).
    Disconnected,
    /// The pile did not answer before the command's deadline.
    DeadlineExpired,
    /// The pile reconnected speaking another OCPP version than the command was written for.
    ProtocolChanged,
    /// The request does not fit its action's schema, so it was not sent.
    InvalidRequest,
}

impl FailureReason {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::StationOffline => "StationOffline",
            Self::Disconnected => "Disconnected",
            Self::DeadlineExpired => "DeadlineExpired",
            Self::ProtocolChanged => "ProtocolChanged",
            Self::InvalidRequest => "InvalidRequest",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "StationOffline" => Some(Self::StationOffline),
            "Disconnected" => Some(Self::Disconnected),
            "DeadlineExpired" => Some(Self::DeadlineExpired),
            "ProtocolChanged" => Some(Self::ProtocolChanged),
            "InvalidRequest" => Some(Self::InvalidRequest),
            _ => None,
        }
    }

    /// A sentence for the operator.
    pub fn describe(self) -> &'static str {
        match self {
            Self::StationOffline => "the station is offline: it has no live connection, so the command was not sent",
            Self::Disconnected => "the station disconnected before answering; the command may or may not have run",
            Self::DeadlineExpired => "the station did not answer before the command's deadline",
            Self::ProtocolChanged => {
                "the station now speaks another OCPP version than the command was written for, so it was not sent"
            }
            Self::InvalidRequest => "the request does not match its action's schema, so it was not sent",
        }
    }
}

impl fmt::Display for FailureReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.describe())
    }
}

/// Where a command stands. `Answered`, `Refused` and `Failed` are final.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CommandState {
    Queued,
    Sent {
        at: DateTime<Utc>,
    },
    /// The pile's CALLRESULT, its payload as received.
    Answered {
        at: DateTime<Utc>,
        payload: String,
    },
    /// The pile's CALLERROR.
    Refused {
        at: DateTime<Utc>,
        code: String,
        description: String,
    },
    Failed {
        at: DateTime<Utc>,
        reason: FailureReason,
    },
}

/// The states without their data, for conditional transitions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StateKind {
    Queued,
    Sent,
    Answered,
    Refused,
    Failed,
}

impl StateKind {
    /// Queued or Sent: the command may still be answered.
    pub const PENDING: &'static [StateKind] = &[StateKind::Queued, StateKind::Sent];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Queued => "Queued",
            Self::Sent => "Sent",
            Self::Answered => "Answered",
            Self::Refused => "Refused",
            Self::Failed => "Failed",
        }
    }

    pub fn is_final(self) -> bool {
        !Self::PENDING.contains(&self)
    }
}

impl CommandState {
    pub fn kind(&self) -> StateKind {
        match self {
            Self::Queued => StateKind::Queued,
            Self::Sent { .. } => StateKind::Sent,
            Self::Answered { .. } => StateKind::Answered,
            Self::Refused { .. } => StateKind::Refused,
            Self::Failed { .. } => StateKind::Failed,
        }
    }

    pub fn is_final(&self) -> bool {
        self.kind().is_final()
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommandRecord {
    pub command: Command,
    pub state: CommandState,
}

impl CommandRecord {
    /// A new command, not sent yet.
    pub fn queued(command: Command) -> Self {
        Self {
            command,
            state: CommandState::Queued,
        }
    }
}

/// The command that holds a station's slot, and until when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SlotHolder {
    pub command: CommandId,
    pub deadline: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SlotOutcome {
    /// The caller holds the slot; `displaced` is a holder whose deadline had passed.
    Acquired { displaced: Option<CommandId> },
    /// Another command is outstanding until `deadline`.
    Busy { holder: CommandId, deadline: DateTime<Utc> },
}

/// The pile's reply to a CALL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    /// CALLRESULT, with its payload as received.
    Result(String),
    /// CALLERROR.
    Error { code: String, description: String },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DispatchOutcome {
    /// The frame went to the pile (now or by an earlier delivery of the same request).
    Sent,
    /// The command was already answered, refused or failed: nothing was sent.
    AlreadyFinal(CommandState),
    /// Another command is outstanding until `until`: retry later (nothing was sent).
    Busy { holder: CommandId, until: DateTime<Utc> },
    /// The command failed now, for this reason.
    Failed(FailureReason),
}

#[derive(Debug, thiserror::Error)]
pub enum CommandError {
    #[error("no command {0}")]
    UnknownCommand(CommandId),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Channel(#[from] ChannelError),
    #[error(transparent)]
    Submit(#[from] SubmitError),
}

/// The longest a command may wait for its answer. A deadline check is one delayed SQS message,
/// and SQS delays messages by at most 15 minutes.
pub const MAX_TIMEOUT: Duration = Duration::minutes(15);

/// What the command use cases take.
#[derive(Clone, Copy)]
pub struct CommandPorts<'a> {
    pub store: &'a dyn CommandStore,
    pub queue: &'a dyn CommandQueue,
    pub stations: &'a dyn StationRepository,
    pub connections: &'a dyn ConnectionRepository,
    pub channel: &'a dyn StationChannel,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SubmitError {
    #[error("the timeout must be between 1 second and {} minutes", MAX_TIMEOUT.num_minutes())]
    Timeout,
}

/// Hands a new command to the commands queue, which creates and sends it in order with the
/// station's other commands. Submitting the same command twice is harmless: its id deduplicates.
pub async fn submit(queue: &dyn CommandQueue, command: &Command) -> Result<(), CommandError> {
    let timeout = command.deadline - command.created_at;
    if timeout < Duration::seconds(1) || timeout > MAX_TIMEOUT {
        return Err(CommandError::Submit(SubmitError::Timeout));
    }
    queue.submit(command).await?;
    Ok(())
}

/// Records a submitted command (once, however often the request is delivered) and sends it.
pub async fn accept(
    ports: CommandPorts<'_>,
    command: Command,
    frame: &str,
    now: DateTime<Utc>,
) -> Result<DispatchOutcome, CommandError> {
    let (station, id) = (command.station.clone(), command.id.clone());
    ports.store.create(&CommandRecord::queued(command)).await?;
    dispatch(ports, &station, &id, frame, now).await
}

/// Records a submitted command that cannot be sent (e.g. its payload is invalid) as failed, once.
pub async fn fail_unsent(
    store: &dyn CommandStore,
    command: Command,
    reason: FailureReason,
    now: DateTime<Utc>,
) -> Result<DispatchOutcome, CommandError> {
    store.create(&CommandRecord::queued(command.clone())).await?;
    finish(store, &command, reason, now).await
}

/// The station's live connection, if any.
async fn live_connection(
    ports: CommandPorts<'_>,
    station: &StationId,
    now: DateTime<Utc>,
) -> Result<Option<Connection>, StoreError> {
    match ports.stations.get(station).await? {
        Some(record) => crate::connection::live(ports.connections, &record, now).await,
        None => Ok(None),
    }
}

/// Fails a pending command (Queued or Sent) and frees its slot. Returns the failed record, None
/// when the command was no longer pending.
async fn fail(
    store: &dyn CommandStore,
    station: &StationId,
    id: &CommandId,
    reason: FailureReason,
    now: DateTime<Utc>,
) -> Result<Option<CommandRecord>, StoreError> {
    let failed = store
        .transition(
            station,
            id,
            StateKind::PENDING,
            &CommandState::Failed { at: now, reason },
        )
        .await?;
    if let Some(record) = &failed {
        tracing::info!(station = %station, command = %id, action = %record.command.action, reason = reason.as_str(), "command failed");
    }
    store.release_slot(station, id).await?;
    Ok(failed)
}

/// Sends a queued command's frame to its station. Idempotent: a redelivered request never sends
/// a command that was sent, answered or failed. The frame is sent only while the command holds
/// the station's slot; a holder past its deadline is failed `DeadlineExpired` and displaced.
/// Once sent, a check is scheduled for the deadline, so a pile that stays silent does not hold
/// the command (or the slot) open.
///
/// A channel error leaves the command queued and holding its slot: a redelivery sends the same
/// message id again, and if none comes the deadline frees the slot.
pub async fn dispatch(
    ports: CommandPorts<'_>,
    station: &StationId,
    id: &CommandId,
    frame: &str,
    now: DateTime<Utc>,
) -> Result<DispatchOutcome, CommandError> {
    let store = ports.store;
    let record = store
        .get(station, id)
        .await?
        .ok_or_else(|| CommandError::UnknownCommand(id.clone()))?;
    let command = &record.command;
    match record.state {
        CommandState::Queued => {}
        CommandState::Sent { .. } => return Ok(DispatchOutcome::Sent),
        state => return Ok(DispatchOutcome::AlreadyFinal(state)),
    }
    if now >= command.deadline {
        return finish(store, command, FailureReason::DeadlineExpired, now).await;
    }
    let Some(connection) = live_connection(ports, station, now).await? else {
        return finish(store, command, FailureReason::StationOffline, now).await;
    };
    if connection.protocol != command.protocol {
        return finish(store, command, FailureReason::ProtocolChanged, now).await;
    }
    match store.acquire_slot(station, id, command.deadline, now).await? {
        SlotOutcome::Busy { holder, deadline } => {
            return Ok(DispatchOutcome::Busy {
                holder,
                until: deadline,
            });
        }
        SlotOutcome::Acquired { displaced: Some(old) } if &old != id => {
            // The slot is ours now; releasing it on the old holder's behalf does nothing.
            let expired = CommandState::Failed {
                at: now,
                reason: FailureReason::DeadlineExpired,
            };
            if store
                .transition(station, &old, StateKind::PENDING, &expired)
                .await?
                .is_some()
            {
                tracing::info!(station = %station, command = %old, "command displaced after its deadline");
            }
        }
        SlotOutcome::Acquired { .. } => {}
    }
    if !ports.channel.send(&connection.connection_id, frame).await? {
        return finish(store, command, FailureReason::Disconnected, now).await;
    }
    ports.queue.check_at_deadline(command).await?;
    match store
        .transition(station, id, &[StateKind::Queued], &CommandState::Sent { at: now })
        .await?
    {
        Some(_) => Ok(DispatchOutcome::Sent),
        // The answer (or a failure) overtook us.
        None => current(store, station, id).await,
    }
}

/// Fails the command and reports it, or reports the state that got there first.
async fn finish(
    store: &dyn CommandStore,
    command: &Command,
    reason: FailureReason,
    now: DateTime<Utc>,
) -> Result<DispatchOutcome, CommandError> {
    match fail(store, &command.station, &command.id, reason, now).await? {
        Some(_) => Ok(DispatchOutcome::Failed(reason)),
        None => current(store, &command.station, &command.id).await,
    }
}

async fn current(
    store: &dyn CommandStore,
    station: &StationId,
    id: &CommandId,
) -> Result<DispatchOutcome, CommandError> {
    let record = store
        .get(station, id)
        .await?
        .ok_or_else(|| CommandError::UnknownCommand(id.clone()))?;
    Ok(match record.state {
        CommandState::Queued | CommandState::Sent { .. } => DispatchOutcome::Sent,
        state => DispatchOutcome::AlreadyFinal(state),
    })
}

/// Completes the station's pending command `message_id` with the pile's CALLRESULT or CALLERROR
/// and frees the slot. `classify` turns the reply into an [`Answer`] knowing the command (to check
/// a CALLRESULT against its action's schema). Returns the completed record; None for an id that
/// is not a pending command of this station (unknown, or already final: a duplicate or late
/// answer changes nothing). A Queued command is completed too: the answer may overtake the write
/// that marks the command sent.
pub async fn answered(
    store: &dyn CommandStore,
    station: &StationId,
    message_id: &str,
    classify: impl FnOnce(&Command) -> Answer + Send,
    now: DateTime<Utc>,
) -> Result<Option<CommandRecord>, StoreError> {
    let Ok(id) = CommandId::parse(message_id) else {
        return Ok(None);
    };
    let Some(record) = store.get(station, &id).await? else {
        tracing::info!(station = %station, message = message_id, "answer to no command of this station ignored");
        return Ok(None);
    };
    if record.state.is_final() {
        tracing::info!(station = %station, command = %id, state = record.state.kind().as_str(), "late or duplicate answer ignored");
        // Frees a slot an interrupted earlier call left held.
        store.release_slot(station, &id).await?;
        return Ok(None);
    }
    let next = match classify(&record.command) {
        Answer::Result(payload) => CommandState::Answered { at: now, payload },
        Answer::Error { code, description } => CommandState::Refused {
            at: now,
            code,
            description,
        },
    };
    let completed = store.transition(station, &id, StateKind::PENDING, &next).await?;
    store.release_slot(station, &id).await?;
    Ok(completed)
}

/// The station went offline (its live connection ended): the command it was sent, if any, can
/// no longer be answered and fails `Disconnected`. Call it only when the station's live
/// connection closed, not when a replaced socket does. Returns the failed record.
///
/// The slot's holder fails whether it is marked Sent or still Queued: the dispatcher marks a
/// command Sent only after the frame went out and its deadline check is scheduled, and a pile
/// that hangs up in between must not leave it waiting for its deadline. A holder not sent yet
/// cannot be sent any more either (the socket it was meant for is gone).
pub async fn disconnected(
    store: &dyn CommandStore,
    station: &StationId,
    now: DateTime<Utc>,
) -> Result<Option<CommandRecord>, StoreError> {
    let Some(holder) = store.holder(station).await? else {
        return Ok(None);
    };
    let failed = store
        .transition(
            station,
            &holder.command,
            StateKind::PENDING,
            &CommandState::Failed {
                at: now,
                reason: FailureReason::Disconnected,
            },
        )
        .await?;
    let stale = match &failed {
        Some(_) => true,
        // A final holder is left over from an interrupted call: free its slot.
        None => store
            .get(station, &holder.command)
            .await?
            .is_some_and(|r| r.state.is_final()),
    };
    if stale {
        store.release_slot(station, &holder.command).await?;
    }
    Ok(failed)
}

/// The deadline check of one command: fails it `DeadlineExpired` if it is still pending and its
/// deadline has passed. Idempotent; a check for an ended command changes nothing and returns it.
pub async fn check_deadline(
    store: &dyn CommandStore,
    station: &StationId,
    id: &CommandId,
    now: DateTime<Utc>,
) -> Result<DeadlineCheck, StoreError> {
    let Some(record) = store.get(station, id).await? else {
        return Ok(DeadlineCheck::Done(None));
    };
    if record.state.is_final() {
        return Ok(DeadlineCheck::Ended(Box::new(record)));
    }
    if now < record.command.deadline {
        return Ok(DeadlineCheck::Early(record.command.deadline));
    }
    Ok(DeadlineCheck::Done(
        fail(store, station, id, FailureReason::DeadlineExpired, now)
            .await?
            .map(Box::new),
    ))
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeadlineCheck {
    /// Checked: the command it failed, if it was still pending.
    Done(Option<Box<CommandRecord>>),
    /// The command had ended before its deadline (answered, refused or failed): nothing to do,
    /// but its outcome can be passed on again.
    Ended(Box<CommandRecord>),
    /// The deadline is still ahead (the check came early): check again then.
    Early(DateTime<Utc>),
}

/// Fails the station's outstanding command if its deadline has passed, and frees the slot.
/// Returns the failed record.
pub async fn expire(
    store: &dyn CommandStore,
    station: &StationId,
    now: DateTime<Utc>,
) -> Result<Option<CommandRecord>, StoreError> {
    match store.holder(station).await? {
        Some(holder) if holder.deadline <= now => {
            fail(store, station, &holder.command, FailureReason::DeadlineExpired, now).await
        }
        _ => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uuid_v7_command_ids_compare_like_their_times() {
        // A UUIDv7 made at 2026-12-04T20:49:11.014Z.
        let id = CommandId::parse("01a242d1-6d66-76c5-8078-f93afbca30ea").unwrap();
        let made = DateTime::from_timestamp_millis(1_796_417_351_014).unwrap();
        assert_eq!(id.created_millis(), Some(made.timestamp_millis()));
        assert!(CommandId::lowest_made_at(made).as_str() <= id.as_str());
        let later = made + Duration::milliseconds(1);
        assert!(CommandId::lowest_made_at(later).as_str() > id.as_str());
        assert_eq!(CommandId::parse("cmd-1").unwrap().created_millis(), None);
    }
}
