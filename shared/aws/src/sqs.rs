//! The event bus on SQS FIFO queues: one message group per station keeps its events in order.

use async_trait::async_trait;
use csms_domain::StatusReport;
use csms_domain::ports::{EventBus, PublishError};
use sha2::{Digest, Sha256};

use crate::events::DomainEvent;

pub struct SqsBus {
    client: aws_sdk_sqs::Client,
    status_queue_url: Option<String>,
}

impl SqsBus {
    pub fn new(client: aws_sdk_sqs::Client, status_queue_url: Option<String>) -> Self {
        Self {
            client,
            status_queue_url,
        }
    }
}

/// Sends one message to a FIFO queue; `dedup_key` makes a retried send deliver once.
pub(crate) async fn send_fifo(
    client: &aws_sdk_sqs::Client,
    queue_url: Option<&str>,
    variable: &str,
    group: &str,
    dedup_key: &str,
    body: String,
) -> Result<(), PublishError> {
    let queue_url = queue_url.ok_or_else(|| PublishError(format!("{variable} is not set").into()))?;
    client
        .send_message()
        .queue_url(queue_url)
        .message_group_id(group)
        // At most 128 characters: a digest of the key.
        .message_deduplication_id(hex::encode(Sha256::digest(dedup_key.as_bytes())))
        .message_body(body)
        .send()
        .await
        .map_err(|e| PublishError(e.into()))?;
    Ok(())
}

#[async_trait]
impl EventBus for SqsBus {
    #[tracing::instrument(skip_all, fields(station = %report.station_id))]
    async fn status_reported(&self, report: &StatusReport, dedup_key: &str) -> Result<(), PublishError> {
        let body = DomainEvent::StatusReported(report.into()).to_json();
        let station = report.station_id.as_str();
        send_fifo(
            &self.client,
            self.status_queue_url.as_deref(),
            "STATUS_QUEUE_URL",
            station,
            dedup_key,
            body,
        )
        .await
    }
}
