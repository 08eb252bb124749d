//! Status consumer: projects StatusReported events from the status FIFO queue into the
//! availability view and the status history. Idempotent; reports partial batch failures and,
//! the queue being FIFO, fails everything after the first failure so that order holds.

use aws_lambda_events::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent};
use csms_aws::events::{DomainEvent, EventError};
use csms_domain::{Services, StatusReport, status};

pub async fn handle(services: &Services, event: SqsEvent) -> Result<SqsBatchResponse, lambda_runtime::Error> {
    let mut response = SqsBatchResponse::default();
    let mut failed = false;
    for record in event.records {
        let id = record.message_id.clone().unwrap_or_default();
        if !failed {
            let span = tracing::info_span!("status_event", message = %id);
            let _enter = span.enter();
            if let Err(e) = process(services, record.body.as_deref().unwrap_or_default()).await {
                tracing::error!(error = %e, "status event failed; it and the rest of its batch will be retried");
                failed = true;
            }
        }
        if failed {
            let mut failure = BatchItemFailure::default();
            failure.item_identifier = id;
            response.batch_item_failures.push(failure);
        }
    }
    Ok(response)
}

async fn process(services: &Services, body: &str) -> Result<(), lambda_runtime::Error> {
    // A body that is not a status event can never succeed: after its retries the queue's
    // redrive policy moves it to the dead-letter queue, where it stays for an operator.
    let event = match DomainEvent::parse(body)? {
        DomainEvent::StatusReported(event) => event,
        other => return Err(EventError::Unexpected(other.kind()).into()),
    };
    let report = StatusReport::try_from(event)?;
    let outcome = status::record(services.availability.as_ref(), services.history.as_ref(), &report).await?;
    tracing::info!(station = %report.station_id, component = %report.component, status = %report.status, ?outcome, "status recorded");
    Ok(())
}
