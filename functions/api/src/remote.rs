//! Remote commands as the API shows and submits them.

use chrono::{DateTime, Duration, Utc};
use commands::request::{self, RequestError};
use csms_domain::command::{self, CommandRecord, CommandState};
use csms_domain::{ProtocolVersion, Services, Station, StationId};
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

use crate::App;
use crate::problem::Problem;
use async_trait::async_trait;
use commands::orders::OcppOrders;
use csms_domain::limits::{self, PendingCommand};
use csms_domain::order::{Envelope, Order, OrderError, Orders};

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CommandView {
    pub command_id: String,
    pub station_id: String,
    pub action: String,
    /// The request payload as sent to the station.
    #[schema(value_type = Object)]
    pub request: Value,
    /// Submitted (not recorded yet), Queued, Sent, Answered, Refused or Failed.
    pub state: String,
    pub created_at: DateTime<Utc>,
    pub deadline: DateTime<Utc>,
    /// The station's CALLRESULT payload, once Answered.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub answer: Option<Value>,
    /// The CALLERROR code (Refused) or the failure reason (Failed).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_code: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_description: Option<String>,
}

impl CommandView {
    pub fn of(record: &CommandRecord) -> Self {
        let c = &record.command;
        let (answer, error_code, error_description) = match &record.state {
            CommandState::Answered { payload, .. } => (serde_json::from_str(payload).ok(), None, None),
            CommandState::Refused { code, description, .. } => (None, Some(code.clone()), Some(description.clone())),
            CommandState::Failed { reason, .. } => (
                None,
                Some(reason.as_str().to_owned()),
                Some(reason.describe().to_owned()),
            ),
            _ => (None, None, None),
        };
        Self {
            command_id: c.id.to_string(),
            station_id: c.station.to_string(),
            action: c.action.clone(),
            request: serde_json::from_str(&c.payload).unwrap_or(Value::Null),
            state: record.state.kind().as_str().to_owned(),
            created_at: c.created_at,
            deadline: c.deadline,
            answer,
            error_code,
            error_description,
        }
    }

    pub(crate) fn submitted(command: &command::Command) -> Self {
        Self {
            command_id: command.id.to_string(),
            station_id: command.station.to_string(),
            action: command.action.clone(),
            request: serde_json::from_str(&command.payload).unwrap_or(Value::Null),
            state: "Submitted".into(),
            created_at: command.created_at,
            deadline: command.deadline,
            answer: None,
            error_code: None,
            error_description: None,
        }
    }
}

fn request_problem(e: RequestError) -> Problem {
    match e {
        RequestError::UnknownStation(id) => Problem::not_found(format!("no station {id}")),
        RequestError::NotAServiceToken(e) => Problem::forbidden(e.to_string()),
        RequestError::Store(e) => Problem::internal(&e),
        other => Problem::bad_request(other.to_string()),
    }
}

/// The OCPP version a command for the station is written in (404 for an unknown station).
pub async fn protocol_of(services: &Services, station: &StationId) -> Result<ProtocolVersion, Problem> {
    request::station_protocol(services, station)
        .await
        .map_err(request_problem)
}

/// The station a command goes to (404 for an unknown station), and the version to write it in.
pub async fn target(services: &Services, station: &StationId) -> Result<(Station, ProtocolVersion), Problem> {
    request::target(services, station).await.map_err(request_problem)
}

/// A command checked against its action's schema, on behalf of `requested_by`.
pub fn prepare(
    station: StationId,
    protocol: ProtocolVersion,
    action: &str,
    payload: Value,
    timeout_seconds: i64,
    requested_by: &str,
) -> Result<command::Command, Problem> {
    // chrono panics on a number of seconds it cannot hold; anything out of range is the caller's error.
    let timeout = Duration::try_seconds(timeout_seconds)
        .ok_or_else(|| Problem::bad_request("timeoutSeconds must be between 1 and 900"))?;
    let mut command =
        request::new_command(station, protocol, action, payload, timeout, Utc::now()).map_err(request_problem)?;
    command.requested_by = Some(requested_by.to_owned());
    Ok(command)
}

/// Orders sent on a driver's behalf, at most one pending at a time (`OrderError::Pending`
/// otherwise), so a driver cannot queue up commands at a station. The command's id and deadline
/// are fixed first and claimed as the driver's pending command; then the order is sent under
/// that id. Orders for nobody in particular (the CSMS's own) pass straight through.
pub struct DriverOrders<'a> {
    pub app: &'a App,
    pub orders: OcppOrders,
}

#[async_trait]
impl Orders for DriverOrders<'_> {
    async fn send(&self, order: &Order<'_>, envelope: Envelope) -> Result<command::Command, OrderError> {
        let Some(driver) = envelope.requested_by.clone() else {
            return self.orders.send(order, envelope).await;
        };
        let id = envelope.id.clone().unwrap_or_else(request::new_id);
        let next = PendingCommand {
            station: envelope.station.clone(),
            id: id.clone(),
            deadline: envelope.now + envelope.timeout,
        };
        let claimed = limits::claim_pending(
            &*self.app.limits.ports.pending,
            &*self.app.services.commands.store,
            &driver,
            &next,
            envelope.now,
        )
        .await
        .map_err(|e| OrderError::Command(e.into()))?;
        if let Err(pending) = claimed {
            return Err(OrderError::Pending(pending));
        }
        self.orders.send(order, envelope.with_id(id)).await
    }
}

/// Refuses an operator's remote start on a token that is not their organisation's own unbound
/// one (403): only a driver starts charging on their token.
pub async fn check_not_on_a_drivers_token(
    services: &Services,
    station: &Station,
    command: &command::Command,
) -> Result<(), Problem> {
    request::check_not_on_a_drivers_token(services, station, command)
        .await
        .map_err(request_problem)
}

/// Submits a prepared command to the commands queue.
pub async fn send(services: &Services, command: command::Command) -> Result<CommandView, Problem> {
    command::submit(&*services.commands.queue, &command)
        .await
        .map_err(|e| Problem::internal(&e))?;
    Ok(CommandView::submitted(&command))
}
