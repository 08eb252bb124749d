//! Which remote command started or stopped a session, joined when read (no write on the hot
//! path, no copy to keep in step). Only commands the pile accepted count.
//!
//! - 2.0.1 start: the session's `remoteStartId` equals the RequestStartTransaction's: exact.
//! - 1.6 start: 1.6 carries no such id, so the newest accepted RemoteStartTransaction for the
//!   session's id tag (and connector, when the command named one) whose session started at most
//!   10 minutes after the command (a pile's ConnectionTimeOut is typically 1-3 minutes), allowing
//!   2 minutes of clock skew between pile and CSMS.
//! - Stop, both versions: the accepted RemoteStopTransaction / RequestStopTransaction naming the
//!   session's transaction id.

use chrono::Duration;
use csms_domain::command::{CommandId, CommandRecord, CommandState};
use csms_domain::{Session, TransactionKey};
use serde_json::Value;

/// The commands a session answers to.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct SessionLinks {
    pub remote_start: Option<CommandId>,
    pub remote_stop: Option<CommandId>,
}

/// The request payload of an accepted command of `action`, if `record` is one.
fn accepted(record: &CommandRecord, action: &str) -> Option<Value> {
    if record.command.action != action {
        return None;
    }
    let CommandState::Answered { payload, .. } = &record.state else {
        return None;
    };
    let answer: Value = serde_json::from_str(payload).ok()?;
    (answer["status"] == "Accepted").then(|| serde_json::from_str(&record.command.payload).ok())?
}

/// `commands` are the station's, oldest first.
pub fn links(session: &Session, commands: &[CommandRecord]) -> SessionLinks {
    let newest = |matches: &dyn Fn(&CommandRecord, &Value) -> bool, action: &str| {
        commands
            .iter()
            .rev()
            .find(|r| accepted(r, action).is_some_and(|request| matches(r, &request)))
            .map(|r| r.command.id.clone())
    };
    let remote_start = match &session.transaction {
        TransactionKey::Ocpp201(_) => session.start.as_ref().and_then(|s| s.remote_start_id).and_then(|id| {
            newest(
                &|_, request| request["remoteStartId"] == i64::from(id),
                "RequestStartTransaction",
            )
        }),
        TransactionKey::Ocpp16(_) => match (&session.id_token, &session.start) {
            (Some(token), Some(start)) => {
                let started = start.at.timestamp;
                newest(
                    &|record, request| {
                        let created = record.command.created_at;
                        request["idTag"]
                            .as_str()
                            .is_some_and(|tag| tag.eq_ignore_ascii_case(token.token.as_str()))
                            && request
                                .get("connectorId")
                                .is_none_or(|c| c.as_u64() == session.connector.map(u64::from))
                            && started >= created - Duration::minutes(2)
                            && started <= created + Duration::minutes(10)
                    },
                    "RemoteStartTransaction",
                )
            }
            _ => None,
        },
    };
    let remote_stop = match &session.transaction {
        TransactionKey::Ocpp16(id) => newest(
            &|_, request| request["transactionId"] == i64::from(id.get()),
            "RemoteStopTransaction",
        ),
        TransactionKey::Ocpp201(id) => newest(
            &|_, request| request["transactionId"] == id.as_str(),
            "RequestStopTransaction",
        ),
    };
    SessionLinks {
        remote_start,
        remote_stop,
    }
}
