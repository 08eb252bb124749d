//! Status consumer: projects StatusReported events from the status FIFO queue into the
//! availability view and the status history. Idempotent; reports partial batch failures and,
//! the queue being FIFO, fails everything after the first failure so that order holds.

use aws_lambda_events::sqs::{SqsBatchResponse, SqsEvent};
use csms_aws::events::{DomainEvent, EventError};
use csms_aws::lambda::fifo_batch;
use csms_domain::{Services, StatusReport, status};

pub async fn handle(services: &Services, event: SqsEvent) -> Result<SqsBatchResponse, lambda_runtime::Error> {
    Ok(fifo_batch(event, |record| async move {
        process(services, &record.body.unwrap_or_default()).await
    })
    .await)
}

async fn process(services: &Services, body: &str) -> Result<(), lambda_runtime::Error> {
    // A body that is not a status event can never succeed: after its retries the queue's
    // redrive policy moves it to the dead-letter queue, where it stays for an operator.
    let event = match DomainEvent::parse(body)? {
        DomainEvent::StatusReported(event) => event,
        other => return Err(EventError::Unexpected(other.kind()).into()),
    };
    let report = StatusReport::try_from(event)?;
    let ports = status::StatusPorts {
        stations: &*services.stations,
        anomalies: &*services.charging.anomalies,
        availability: &*services.availability,
        history: &*services.history,
    };
    let outcome = status::take(ports, &report, chrono::Utc::now()).await?;
    tracing::info!(station = %report.station_id, component = %report.component, status = %report.status, ?outcome, "status recorded");
    Ok(())
}
