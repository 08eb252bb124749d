//! Lambda's SQS event source mapping: long-poll the queue, invoke the function with an
//! `SqsEvent`, delete what succeeded. Failed messages stay in the queue until their visibility
//! timeout ends; the queue's redrive policy moves them to the DLQ after `maxReceiveCount`.
//! One poller per mapping, one batch at a time (which also keeps FIFO groups in order).

use crate::routes::QueueConsumer;
use aws_lambda_events::sqs::{SqsBatchResponse, SqsEvent};
use aws_sdk_sqs::types::{DeleteMessageBatchRequestEntry, Message, MessageSystemAttributeName};
use base64::Engine;
use serde_json::{Map, Value, json};
use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;

/// One event source mapping, resolved to the local queue.
#[derive(Debug, Clone)]
pub struct EventSource {
    /// Construct id of the function (for logs).
    pub function: String,
    pub queue_url: String,
    pub queue_arn: String,
    pub region: String,
    /// Messages per ReceiveMessage: the mapping's BatchSize, at most 10.
    pub batch_size: i32,
    pub report_batch_item_failures: bool,
    /// Long-poll wait; short so that shutdown is quick.
    pub wait_time: Duration,
}

/// The event Lambda builds for a batch of received messages.
pub fn sqs_event(messages: &[Message], queue_arn: &str, region: &str) -> SqsEvent {
    let records: Vec<Value> = messages
        .iter()
        .map(|m| {
            let attributes: Map<String, Value> = m
                .attributes()
                .map(|a| a.iter().map(|(k, v)| (k.as_str().to_string(), json!(v))).collect())
                .unwrap_or_default();
            let b64 =
                |blob: &aws_sdk_sqs::primitives::Blob| base64::engine::general_purpose::STANDARD.encode(blob.as_ref());
            let message_attributes: Map<String, Value> = m
                .message_attributes()
                .map(|attrs| {
                    attrs
                        .iter()
                        .map(|(name, value)| {
                            let mut attribute = json!({
                                "stringListValues": value.string_list_values(),
                                "binaryListValues": value.binary_list_values().iter().map(b64).collect::<Vec<_>>(),
                                "dataType": value.data_type(),
                            });
                            if let Some(s) = value.string_value() {
                                attribute["stringValue"] = json!(s);
                            }
                            if let Some(b) = value.binary_value() {
                                attribute["binaryValue"] = json!(b64(b));
                            }
                            (name.clone(), attribute)
                        })
                        .collect()
                })
                .unwrap_or_default();
            let mut record = json!({
                "messageId": m.message_id(),
                "receiptHandle": m.receipt_handle(),
                "body": m.body(),
                "attributes": attributes,
                "messageAttributes": message_attributes,
                "md5OfBody": m.md5_of_body(),
                "eventSource": "aws:sqs",
                "eventSourceARN": queue_arn,
                "awsRegion": region,
            });
            if let Some(md5) = m.md5_of_message_attributes() {
                record["md5OfMessageAttributes"] = json!(md5);
            }
            record
        })
        .collect();
    serde_json::from_value(json!({ "Records": records }))
        .expect("the stand-in builds events that aws_lambda_events reads")
}

/// Which message ids of a batch are done (to delete), as Lambda decides it.
///
/// Without `ReportBatchItemFailures`: all of them when the invocation succeeded, none when it
/// failed. With it: all but the reported failures; a failure id that is empty or not in the
/// batch makes the whole batch a failure.
pub fn settled<'a>(
    batch: &[&'a str],
    outcome: Option<&SqsBatchResponse>,
    report_batch_item_failures: bool,
) -> Vec<&'a str> {
    let Some(response) = outcome else {
        return vec![];
    };
    if !report_batch_item_failures {
        return batch.to_vec();
    }
    let failed: HashSet<&str> = response
        .batch_item_failures
        .iter()
        .map(|f| f.item_identifier.as_str())
        .collect();
    if failed.iter().any(|id| id.is_empty() || !batch.contains(id)) {
        return vec![];
    }
    batch.iter().copied().filter(|id| !failed.contains(id)).collect()
}

/// Polls until `stop` turns true; a batch in progress is finished first.
pub async fn run<C: QueueConsumer>(
    client: aws_sdk_sqs::Client,
    source: EventSource,
    consumer: Arc<C>,
    mut stop: watch::Receiver<bool>,
) {
    tracing::info!(function = %source.function, queue = %source.queue_url, batch_size = source.batch_size, "polling");
    let mut failing_since: Option<tokio::time::Instant> = None;
    while !*stop.borrow() {
        let received = client
            .receive_message()
            .queue_url(&source.queue_url)
            .max_number_of_messages(source.batch_size.clamp(1, 10))
            .wait_time_seconds(source.wait_time.as_secs().clamp(0, 20) as i32)
            .message_system_attribute_names(MessageSystemAttributeName::All)
            .message_attribute_names("All")
            .send()
            .await;
        let messages = match received {
            Ok(output) => {
                if failing_since.take().is_some() {
                    tracing::info!(queue = %source.queue_url, "receiving again");
                }
                output.messages.unwrap_or_default()
            }
            Err(error) => {
                // Log the first failure, then quietly retry (LocalStack restarting, ...).
                if failing_since.is_none() {
                    tracing::warn!(queue = %source.queue_url, error = %aws_sdk_sqs::error::DisplayErrorContext(&error), "ReceiveMessage failed; retrying");
                    failing_since = Some(tokio::time::Instant::now());
                }
                let _ = tokio::time::timeout(Duration::from_secs(2), stop.wait_for(|s| *s)).await;
                continue;
            }
        };
        if messages.is_empty() {
            continue;
        }
        process_batch(&client, &source, consumer.as_ref(), &messages).await;
    }
    tracing::info!(function = %source.function, "poller stopped");
}

async fn process_batch<C: QueueConsumer>(
    client: &aws_sdk_sqs::Client,
    source: &EventSource,
    consumer: &C,
    messages: &[Message],
) {
    let ids: Vec<&str> = messages.iter().filter_map(|m| m.message_id()).collect();
    let event = sqs_event(messages, &source.queue_arn, &source.region);
    let outcome = consumer.consume(event).await;
    let done = match &outcome {
        Ok(response) => {
            let done = settled(&ids, Some(response), source.report_batch_item_failures);
            if done.len() < ids.len() {
                tracing::info!(function = %source.function, batch = ids.len(), failed = ids.len() - done.len(), "batch item failures: left for retry");
            }
            done
        }
        Err(error) => {
            tracing::warn!(function = %source.function, batch = ids.len(), %error, "invocation failed: batch left for retry");
            vec![]
        }
    };
    if done.is_empty() {
        return;
    }
    let entries: Vec<DeleteMessageBatchRequestEntry> = messages
        .iter()
        .enumerate()
        .filter(|(_, m)| m.message_id().is_some_and(|id| done.contains(&id)))
        .filter_map(|(i, m)| {
            DeleteMessageBatchRequestEntry::builder()
                .id(i.to_string())
                .set_receipt_handle(m.receipt_handle.clone())
                .build()
                .ok()
        })
        .collect();
    match client
        .delete_message_batch()
        .queue_url(&source.queue_url)
        .set_entries(Some(entries))
        .send()
        .await
    {
        Ok(output) => {
            for failure in output.failed() {
                tracing::warn!(function = %source.function, entry = failure.id(), code = failure.code(), message = ?failure.message(), "DeleteMessage failed");
            }
        }
        Err(error) => {
            tracing::warn!(function = %source.function, error = %aws_sdk_sqs::error::DisplayErrorContext(&error), "DeleteMessageBatch failed")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_lambda_events::sqs::BatchItemFailure;
    use aws_sdk_sqs::types::MessageAttributeValue;

    fn failures(ids: &[&str]) -> SqsBatchResponse {
        let mut response = SqsBatchResponse::default();
        for id in ids {
            let mut failure = BatchItemFailure::default();
            failure.item_identifier = id.to_string();
            response.batch_item_failures.push(failure);
        }
        response
    }

    #[test]
    fn settles_like_lambda() {
        let batch = ["a", "b", "c"];
        assert_eq!(settled(&batch, Some(&failures(&[])), true), vec!["a", "b", "c"]);
        assert_eq!(settled(&batch, Some(&failures(&["b"])), true), vec!["a", "c"]);
        assert!(
            settled(&batch, Some(&failures(&["x"])), true).is_empty(),
            "unknown id fails the batch"
        );
        assert!(
            settled(&batch, Some(&failures(&[""])), true).is_empty(),
            "empty id fails the batch"
        );
        assert!(settled(&batch, None, true).is_empty());
        assert!(settled(&batch, None, false).is_empty());
        // Without ReportBatchItemFailures a response's failures mean nothing.
        assert_eq!(settled(&batch, Some(&failures(&["b"])), false), vec!["a", "b", "c"]);
    }

    #[test]
    fn builds_lambdas_sqs_event() {
        let message = Message::builder()
            .message_id("m1")
            .receipt_handle("r1")
            .body("{\"x\":1}")
            .md5_of_body("abc")
            .attributes(MessageSystemAttributeName::MessageGroupId, "CP1")
            .attributes(MessageSystemAttributeName::ApproximateReceiveCount, "2")
            .message_attributes(
                "kind",
                MessageAttributeValue::builder()
                    .data_type("String")
                    .string_value("status")
                    .build()
                    .unwrap(),
            )
            .build();
        let event = sqs_event(&[message], "arn:aws:sqs:us-east-1:000000000000:q.fifo", "us-east-1");
        let record = &event.records[0];
        assert_eq!(record.message_id.as_deref(), Some("m1"));
        assert_eq!(record.receipt_handle.as_deref(), Some("r1"));
        assert_eq!(record.body.as_deref(), Some("{\"x\":1}"));
        assert_eq!(record.md5_of_body.as_deref(), Some("abc"));
        assert_eq!(record.attributes["MessageGroupId"], "CP1");
        assert_eq!(record.attributes["ApproximateReceiveCount"], "2");
        assert_eq!(
            record.message_attributes["kind"].string_value.as_deref(),
            Some("status")
        );
        assert_eq!(record.message_attributes["kind"].data_type.as_deref(), Some("String"));
        assert_eq!(record.event_source.as_deref(), Some("aws:sqs"));
        assert_eq!(
            record.event_source_arn.as_deref(),
            Some("arn:aws:sqs:us-east-1:000000000000:q.fifo")
        );
        assert_eq!(record.aws_region.as_deref(), Some("us-east-1"));
        let json = serde_json::to_value(&event).unwrap();
        assert_eq!(
            json["Records"][0]["eventSourceARN"],
            "arn:aws:sqs:us-east-1:000000000000:q.fifo"
        );
    }
}
