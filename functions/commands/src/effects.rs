//! What a command's outcome means beyond its own record: the answers to SendLocalList and
//! GetLocalListVersion keep the CSMS's picture of the station's local authorization list true.
//! Failures here are logged, not raised: the command's outcome is already recorded, and a local
//! list that may be out of step is repaired by the next update going out in full.

use chrono::{DateTime, Utc};
use csms_aws::local_list::{reported_version, update_status};
use csms_domain::Services;
use csms_domain::command::{CommandRecord, CommandState};
use csms_domain::local_list;
use serde_json::Value;

pub async fn on_completed(services: &Services, record: &CommandRecord, now: DateTime<Utc>) {
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
