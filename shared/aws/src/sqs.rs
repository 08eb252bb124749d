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

#[async_trait]
impl EventBus for SqsBus {
    #[tracing::instrument(skip_all, fields(station = %report.station_id))]
    async fn status_reported(&self, report: &StatusReport, dedup_key: &str) -> Result<(), PublishError> {
        let queue_url = self
            .status_queue_url
            .as_deref()
            .ok_or_else(|| PublishError("STATUS_QUEUE_URL is not set".into()))?;
        let body = DomainEvent::StatusReported(report.into()).to_json();
        self.client
            .send_message()
            .queue_url(queue_url)
            .message_group_id(report.station_id.as_str())
            // At most 128 characters: a digest of the key.
            .message_deduplication_id(hex::encode(Sha256::digest(dedup_key.as_bytes())))
            .message_body(body)
            .send()
            .await
            .map_err(|e| PublishError(e.into()))?;
        Ok(())
    }
}
