//! What a command's outcome means beyond its own record: the answers to SendLocalList and
//! GetLocalListVersion keep the CSMS's picture of the station's local authorization list true;
//! the outcomes of ReserveNow and CancelReservation, and configuration answers that say whether
//! the station reserves any connector, go to the reservations queue.
//! Failures here are logged, not raised: the command's outcome is already recorded, a local
//! list that may be out of step is repaired by the next update going out in full, and a
//! reservation outcome is passed on again by the command's deadline check ([`reservation_signal`]).

use chrono::{DateTime, Utc};
use csms_aws::local_list::{reported_version, update_status};
use csms_domain::Services;
use csms_domain::command::{CommandRecord, CommandState};
use csms_domain::local_list;
use csms_domain::ports::PublishError;
use csms_domain::reservation::{Outcome, ReservationAction, ReservationId, ReservationSignals, Signal};
use serde_json::Value;

use crate::request::ocpp_version;

pub async fn on_completed(
    services: &Services,
    signals: &dyn ReservationSignals,
    record: &CommandRecord,
    now: DateTime<Utc>,
) {
    if let Some(signal) = reservation_signal(record) {
        if let Err(e) = signals.publish(&signal).await {
            tracing::warn!(station = %record.command.station, command = %record.command.id, error = %e, "could not pass the outcome on to reservations; the deadline check will");
        }
        return;
    }
    let (store, c) = (&*services.commands.local_lists, &record.command);
    let (station, id) = (&c.station, c.id.as_str());
    let result = match (c.action.as_str(), &record.state) {
        ("SendLocalList", CommandState::Answered { payload, .. }) => {
            match serde_json::from_str::<Value>(payload)
                .ok()
                .as_ref()
                .and_then(update_status)
            {
                Some(status) => local_list::update_answered(store, station, id, status, now).await,
                None => local_list::update_failed(store, station, id, true, now).await,
            }
        }
        // A CALLERROR: the pile did not apply it.
        ("SendLocalList", CommandState::Refused { .. }) => {
            local_list::update_failed(store, station, id, false, now).await
        }
        ("SendLocalList", CommandState::Failed { .. }) => local_list::command_failed(store, record, now).await,
        ("GetLocalListVersion", CommandState::Answered { payload, .. }) => {
            match serde_json::from_str::<Value>(payload)
                .ok()
                .and_then(|answer| reported_version(c.protocol, &answer))
            {
                Some(version) => local_list::version_reported(store, station, version, now).await,
                None => Ok(false),
            }
        }
        _ => Ok(false),
    };
    match result {
        Ok(true) => tracing::info!(station = %station, command = id, action = %c.action, "local list state updated"),
        Ok(false) => {}
        Err(e) => {
            tracing::warn!(station = %station, command = id, action = %c.action, error = %e, "could not update the local list state")
        }
    }
}

/// What an ended command tells reservations, if anything: the outcome of a ReserveNow or
/// CancelReservation, or whether a configuration answer says the station reserves any connector.
pub fn reservation_signal(record: &CommandRecord) -> Option<Signal> {
    let c = &record.command;
    let v = ocpp_version(c.protocol);
    if let CommandState::Answered { payload, .. } = &record.state
        && let Some(supported) = serde_json::from_str::<Value>(payload)
            .ok()
            .and_then(|answer| csms_ocpp::outgoing::reserves_any_connector(v, &c.action, &answer))
    {
        return Some(Signal::AnyConnector {
            station: c.station.clone(),
            supported,
        });
    }
    let action = ReservationAction::parse(&c.action)?;
    let request: Value = serde_json::from_str(&c.payload).ok()?;
    let id = ReservationId::new(csms_ocpp::outgoing::reservation_id(v, &c.action, &request)?.into())?;
    let outcome = match &record.state {
        CommandState::Answered { payload, .. } => {
            let answer: Value = serde_json::from_str(payload).ok()?;
            // The answer passed the response schema, so it has its status.
            Outcome::Status(csms_ocpp::outgoing::answer_status(v, &c.action, &answer)?)
        }
        CommandState::Refused { code, description, .. } => Outcome::Refused {
            code: code.clone(),
            description: description.clone(),
        },
        CommandState::Failed { reason, .. } => Outcome::Failed(*reason),
        CommandState::Queued | CommandState::Sent { .. } => return None,
    };
    Some(Signal::Answered {
        station: c.station.clone(),
        id,
        action,
        outcome,
    })
}

/// Passes a reservation command's outcome on (again); an error is for the caller to retry.
pub async fn pass_on(signals: &dyn ReservationSignals, record: &CommandRecord) -> Result<(), PublishError> {
    match reservation_signal(record) {
        Some(signal) => signals.publish(&signal).await,
        None => Ok(()),
    }
}
