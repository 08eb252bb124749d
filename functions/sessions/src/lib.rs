//! Sessions consumer: projects session events from the sessions FIFO queue (group = station id)
//! into charging session records, and announces each completed session once for billing.
//! Idempotent (a redelivered event changes nothing); reports partial batch failures and, the
//! queue being FIFO, fails everything after the first failure so that order holds.

use aws_lambda_events::sqs::{SqsBatchResponse, SqsEvent};
use csms_aws::events::{DomainEvent, EventError};
use csms_aws::lambda::fifo_batch;
use csms_domain::session::{self, Change};
use csms_domain::{Services, SessionEvent};

pub async fn handle(services: &Services, event: SqsEvent) -> Result<SqsBatchResponse, lambda_runtime::Error> {
    Ok(fifo_batch(event, |record| async move {
        process(services, &record.body.unwrap_or_default()).await
    })
    .await)
}

async fn process(services: &Services, body: &str) -> Result<(), lambda_runtime::Error> {
    // A body that is not a session event can never succeed: after its retries the queue's
    // redrive policy moves it to the dead-letter queue, where it stays for an operator.
    let event = match DomainEvent::parse(body)? {
        DomainEvent::SessionEvent(event) => event,
        other => return Err(EventError::Unexpected(other.kind()).into()),
    };
    let event = SessionEvent::try_from(&event)?;
    let ports = services.charging.session_ports(services.stations.as_ref());
    let change = session::project(ports, &event).await?;
    let (outcome, session) = match &change {
        Change::Unchanged => ("unchanged", None),
        Change::Updated(session) => ("updated", Some(session)),
        Change::Completed(session) => ("completed", Some(session)),
    };
    tracing::info!(
        station = %event.station,
        transaction = %event.transaction,
        seq_no = ?event.seq_no,
        outcome,
        version = session.map(|s| s.version),
        energy_wh = session.and_then(|s| s.energy_wh()).map(tracing::field::display),
        "session event projected"
    );
    Ok(())
}
