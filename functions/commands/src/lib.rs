//! Commands consumer: sends the CALLs the CSMS has for piles, and fails those left unanswered.
//!
//! - CommandsQueue (FIFO, group = station): a submitted command is recorded once and sent to the
//!   pile when it holds the station's single outstanding-call slot. While another command holds
//!   the slot, the message is handed back with a short, growing delay, and being FIFO it holds
//!   back the station's later commands, so they go out in the order they were submitted.
//! - CommandDeadlinesQueue: each sent command's check, delayed until its deadline, fails it if
//!   the pile stayed silent.
//!
//! Idempotent: a redelivered message never sends a command twice. Partial batch failures.

use aws_lambda_events::sqs::{SqsBatchResponse, SqsEvent, SqsMessage};
use chrono::{Duration, Utc};
use csms_aws::commands::CommandMessage;
use csms_aws::lambda::fifo_batch;
use csms_domain::command::{self, Command, CommandId, DeadlineCheck, DispatchOutcome, FailureReason};
use csms_domain::reservation::ReservationServices;
use csms_domain::{Services, StationId};

pub mod effects;
pub mod links;
pub mod orders;
pub mod request;

use request::call_frame;

#[derive(Debug, thiserror::Error)]
enum Retry {
    #[error("station busy with command {holder} until {until}; retrying in {delay} s")]
    Busy {
        holder: CommandId,
        until: chrono::DateTime<Utc>,
        delay: i64,
    },
    #[error("deadline check came early; the deadline is {0}")]
    Early(chrono::DateTime<Utc>),
}

pub async fn handle(
    services: &Services,
    reservations: &ReservationServices,
    event: SqsEvent,
) -> Result<SqsBatchResponse, lambda_runtime::Error> {
    Ok(fifo_batch(
        event,
        |record| async move { process(services, reservations, record).await },
    )
    .await)
}

async fn process(
    services: &Services,
    reservations: &ReservationServices,
    record: SqsMessage,
) -> Result<(), lambda_runtime::Error> {
    let signals = &*reservations.signals;
    let body = record.body.as_deref().unwrap_or_default();
    // A body that is not a command message can never succeed: after its retries the redrive
    // policy moves it to the dead-letter queue, where it stays for an operator.
    let message: CommandMessage =
        serde_json::from_str(body).map_err(|e| format!("not a command message ({e}): {body:.200}"))?;
    match message {
        CommandMessage::Submitted(wire) => {
            let command = Command::try_from(&wire)?;
            submitted(services, signals, command, &record).await
        }
        CommandMessage::DeadlineCheck { station_id, command_id } => {
            let station = StationId::parse(&station_id)?;
            let id = CommandId::parse(&command_id)?;
            match command::check_deadline(&*services.commands.store, &station, &id, Utc::now()).await? {
                DeadlineCheck::Done(failed) => {
                    if let Some(record) = failed {
                        tracing::info!(station = %station, command = %id, action = %record.command.action, "command failed: no answer before its deadline");
                        effects::on_completed(services, signals, &record, Utc::now()).await;
                    }
                    Ok(())
                }
                // Ended in time: its outcome may not have reached reservations (the answer's
                // path has no retry), so it is passed on again; a failure here is retried.
                DeadlineCheck::Ended(record) => Ok(effects::pass_on(signals, &record).await?),
                DeadlineCheck::Early(deadline) => Err(Retry::Early(deadline).into()),
            }
        }
    }
}

async fn submitted(
    services: &Services,
    signals: &dyn csms_domain::reservation::ReservationSignals,
    command: Command,
    record: &SqsMessage,
) -> Result<(), lambda_runtime::Error> {
    let (station, id, action) = (command.station.clone(), command.id.clone(), command.action.clone());
    let now = Utc::now();
    let outcome = match call_frame(&command) {
        Ok(frame) => command::accept(services.command_ports(), command, &frame, now).await?,
        Err(why) => {
            tracing::warn!(station = %station, command = %id, %action, %why, "command not sent: invalid request");
            command::fail_unsent(&*services.commands.store, command, FailureReason::InvalidRequest, now).await?
        }
    };
    match outcome {
        DispatchOutcome::Busy { holder, until } => {
            let delay = backoff(receive_count(record), until - now);
            if let Some(receipt) = record.receipt_handle.as_deref() {
                services.commands.queue.redeliver_after(receipt, delay).await?;
            }
            Err(Retry::Busy {
                holder,
                until,
                delay: delay.num_seconds(),
            }
            .into())
        }
        outcome => {
            tracing::info!(station = %station, command = %id, %action, outcome = ?outcome, "command dispatched");
            if let DispatchOutcome::Failed(_) = outcome
                && let Some(record) = services.commands.store.get(&station, &id).await?
            {
                effects::on_completed(services, signals, &record, now).await;
            }
            Ok(())
        }
    }
}

fn receive_count(record: &SqsMessage) -> u32 {
    record
        .attributes
        .get("ApproximateReceiveCount")
        .and_then(|n| n.parse().ok())
        .unwrap_or(1)
}

/// 1, 2, 4, ... 32 s with each receive, never past the holder's deadline (the slot frees then at
/// the latest) and at least 1 s. The queue's maxReceiveCount is set for the longest timeout.
fn backoff(receives: u32, until_holder_deadline: Duration) -> Duration {
    let exponential = Duration::seconds(1 << receives.saturating_sub(1).min(5));
    exponential.min(until_holder_deadline).max(Duration::seconds(1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_and_stops_at_the_holders_deadline() {
        let far = Duration::minutes(10);
        let seconds: Vec<_> = (1..=8).map(|n| backoff(n, far).num_seconds()).collect();
        assert_eq!(seconds, [1, 2, 4, 8, 16, 32, 32, 32]);
        assert_eq!(backoff(6, Duration::seconds(3)).num_seconds(), 3);
        assert_eq!(backoff(1, Duration::seconds(-5)).num_seconds(), 1);
    }
}
