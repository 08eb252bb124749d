//! CALLRESULT and CALLERROR frames: a pile's answers to the CSMS's remote commands. Each completes
//! the pending command it names; a duplicate, late or unknown answer changes nothing. A CALLRESULT
//! is checked against its action's response schema, and one that does not fit is recorded as a
//! refusal with the violation, never as a success. Piles get no reply to their answers.

use chrono::{DateTime, Utc};
use csms_domain::command::{self, Answer, Command};
use csms_domain::reservation::ReservationServices;
use csms_domain::{Connection, Services};
use csms_ocpp::{Frame, OcppVersion};

pub async fn on_answer(
    services: &Services,
    reservations: &ReservationServices,
    connection: &Connection,
    version: OcppVersion,
    frame: Frame,
    now: DateTime<Utc>,
) {
    let station = &connection.station_id;
    let (message_id, error) = match frame {
        Frame::CallResult { message_id, payload } => (message_id, Err(payload)),
        Frame::CallError {
            message_id,
            code,
            description,
            ..
        } => (message_id, Ok(Answer::Error { code, description })),
        Frame::Call(_) => return,
    };
    // A CALLERROR is taken as sent; a CALLRESULT is checked against the command's action.
    let classify = move |command: &Command| {
        error.unwrap_or_else(|mut payload| {
            match csms_ocpp::validate_command_response(version, &command.action, &mut payload) {
                Ok(()) => Answer::Result(payload.to_string()),
                Err(violation) => Answer::Error {
                    code: violation.code_str(version).into(),
                    description: format!("invalid CALLRESULT: {violation}"),
                },
            }
        })
    };
    match command::answered(&*services.commands.store, station, &message_id, classify, now).await {
        Ok(Some(record)) => {
            tracing::info!(station = %station, command = %message_id, action = %record.command.action, state = record.state.kind().as_str(), "command answered");
            commands::effects::on_completed(services, &*reservations.signals, &record, now).await;
        }
        Ok(None) => {}
        Err(e) => {
            // The command stays pending; its deadline check fails it if nothing else completes it.
            tracing::error!(station = %station, command = %message_id, error = %e, "could not record the answer");
        }
    }
}
