//! The status consumer (in progress).

use aws_lambda_events::sqs::{SqsBatchResponse, SqsEvent};
use csms_domain::Services;

pub async fn handle(_services: &Services, _event: SqsEvent) -> Result<SqsBatchResponse, lambda_runtime::Error> {
    Ok(SqsBatchResponse::default())
}
