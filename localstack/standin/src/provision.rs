//! Creates the template's tables (DynamoDB Local) and queues (LocalStack), idempotently: what
//! exists is reused (queue attributes are brought in line with the template).

use crate::template::{Plan, Provisioned, QueueInfo, QueueSpec, TableInfo, TableSpec};
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, GlobalSecondaryIndex, KeySchemaElement, KeyType, LocalSecondaryIndex, Projection,
    ProjectionType, ScalarAttributeType, TableDescription, TableStatus, TimeToLiveSpecification, TimeToLiveStatus,
};
use aws_sdk_sqs::types::QueueAttributeName;
use std::collections::HashMap;
use std::time::Duration;

#[derive(Debug, thiserror::Error)]
pub enum ProvisionError {
    #[error("table {table}: {action} failed: {message}")]
    Table {
        table: String,
        action: &'static str,
        message: String,
    },
    #[error("queue {queue}: {action} failed: {message}")]
    Queue {
        queue: String,
        action: &'static str,
        message: String,
    },
}

fn table_error<E: std::error::Error + 'static>(table: &str, action: &'static str, error: E) -> ProvisionError {
    ProvisionError::Table {
        table: table.to_string(),
        action,
        message: aws_sdk_dynamodb::error::DisplayErrorContext(error).to_string(),
    }
}

fn queue_error<E: std::error::Error + 'static>(queue: &str, action: &'static str, error: E) -> ProvisionError {
    ProvisionError::Queue {
        queue: queue.to_string(),
        action,
        message: aws_sdk_sqs::error::DisplayErrorContext(error).to_string(),
    }
}

/// Creates (or finds) every table and queue of the plan.
pub async fn provision(
    dynamodb: &aws_sdk_dynamodb::Client,
    sqs: &aws_sdk_sqs::Client,
    plan: &Plan,
) -> Result<Provisioned, ProvisionError> {
    let mut provisioned = Provisioned::default();
    for table in &plan.tables {
        let info = ensure_table(dynamodb, table).await?;
        provisioned.tables.insert(table.logical_id.clone(), info);
    }
    for queue in &plan.queues {
        let info = ensure_queue(sqs, queue).await?;
        provisioned.queues.insert(queue.logical_id.clone(), info);
    }
    // Redrive policies once every dead-letter queue exists.
    for queue in &plan.queues {
        let Some(redrive) = &queue.redrive else {
            continue;
        };
        let target = &provisioned.queues[&redrive.dead_letter_queue];
        let url = &provisioned.queues[&queue.logical_id].url;
        let policy =
            serde_json::json!({"deadLetterTargetArn": target.arn, "maxReceiveCount": redrive.max_receive_count})
                .to_string();
        sqs.set_queue_attributes()
            .queue_url(url)
            .attributes(QueueAttributeName::RedrivePolicy, policy)
            .send()
            .await
            .map_err(|e| queue_error(&queue.name, "SetQueueAttributes(RedrivePolicy)", e))?;
        tracing::info!(queue = %queue.name, dead_letter_queue = %target.name, max_receive_count = redrive.max_receive_count, "redrive policy set");
    }
    // Served by the stand-in's own scheduler; roles exist only as names.
    for group in &plan.schedule_groups {
        provisioned
            .schedule_groups
            .insert(group.logical_id.clone(), group.name.clone());
    }
    for role in &plan.roles {
        provisioned.roles.insert(role.logical_id.clone(), role.name.clone());
    }
    Ok(provisioned)
}

fn key_schema(keys: &[(String, String)]) -> Vec<KeySchemaElement> {
    keys.iter()
        .map(|(name, key_type)| {
            KeySchemaElement::builder()
                .attribute_name(name)
                .key_type(KeyType::from(key_type.as_str()))
                .build()
                .expect("name and key type are set")
        })
        .collect()
}

fn projection(projection_type: &str, non_key_attributes: &[String]) -> Projection {
    Projection::builder()
        .projection_type(ProjectionType::from(projection_type))
        .set_non_key_attributes((!non_key_attributes.is_empty()).then(|| non_key_attributes.to_vec()))
        .build()
}

async fn ensure_table(client: &aws_sdk_dynamodb::Client, spec: &TableSpec) -> Result<TableInfo, ProvisionError> {
    let existing = match client.describe_table().table_name(&spec.name).send().await {
        Ok(output) => output.table,
        Err(e)
            if e.as_service_error()
                .is_some_and(|e| e.is_resource_not_found_exception()) =>
        {
            None
        }
        Err(e) => return Err(table_error(&spec.name, "DescribeTable", e)),
    };
    let mut description = match existing {
        Some(table) => {
            let keys: Vec<(String, String)> = table
                .key_schema()
                .iter()
                .map(|k| (k.attribute_name().to_string(), k.key_type().as_str().to_string()))
                .collect();
            if keys != spec.key_schema {
                tracing::warn!(table = %spec.name, existing = ?keys, template = ?spec.key_schema, "existing table has another key schema; delete it to recreate");
            }
            tracing::info!(table = %spec.name, "table exists");
            table
        }
        None => {
            let attributes = spec
                .attribute_definitions
                .iter()
                .map(|(name, t)| {
                    AttributeDefinition::builder()
                        .attribute_name(name)
                        .attribute_type(ScalarAttributeType::from(t.as_str()))
                        .build()
                        .expect("name and type are set")
                })
                .collect();
            let gsis: Vec<GlobalSecondaryIndex> = spec
                .global_secondary_indexes
                .iter()
                .map(|index| {
                    GlobalSecondaryIndex::builder()
                        .index_name(&index.name)
                        .set_key_schema(Some(key_schema(&index.key_schema)))
                        .projection(projection(&index.projection_type, &index.non_key_attributes))
                        .build()
                        .expect("name, keys and projection are set")
                })
                .collect();
            let lsis: Vec<LocalSecondaryIndex> = spec
                .local_secondary_indexes
                .iter()
                .map(|index| {
                    LocalSecondaryIndex::builder()
                        .index_name(&index.name)
                        .set_key_schema(Some(key_schema(&index.key_schema)))
                        .projection(projection(&index.projection_type, &index.non_key_attributes))
                        .build()
                        .expect("name, keys and projection are set")
                })
                .collect();
            let created = client
                .create_table()
                .table_name(&spec.name)
                .set_key_schema(Some(key_schema(&spec.key_schema)))
                .set_attribute_definitions(Some(attributes))
                .set_global_secondary_indexes((!gsis.is_empty()).then_some(gsis))
                .set_local_secondary_indexes((!lsis.is_empty()).then_some(lsis))
                .billing_mode(BillingMode::PayPerRequest)
                .send()
                .await;
            match created {
                Ok(output) => {
                    tracing::info!(table = %spec.name, "table created");
                    output.table_description.ok_or_else(|| ProvisionError::Table {
                        table: spec.name.clone(),
                        action: "CreateTable",
                        message: "no table description in the answer".into(),
                    })?
                }
                // Someone else created it meanwhile.
                Err(e) if e.as_service_error().is_some_and(|e| e.is_resource_in_use_exception()) => {
                    describe(client, &spec.name).await?
                }
                Err(e) => return Err(table_error(&spec.name, "CreateTable", e)),
            }
        }
    };
    // DynamoDB Local is ACTIVE at once; DynamoDB takes a few seconds.
    for _ in 0..60 {
        if description.table_status() == Some(&TableStatus::Active) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
        description = describe(client, &spec.name).await?;
    }
    if let Some(attribute) = &spec.ttl_attribute {
        ensure_ttl(client, &spec.name, attribute).await;
    }
    let arn = description
        .table_arn()
        .map(str::to_string)
        .unwrap_or_else(|| format!("arn:aws:dynamodb:ddblocal:000000000000:table/{}", spec.name));
    Ok(TableInfo {
        name: spec.name.clone(),
        arn,
    })
}

async fn describe(client: &aws_sdk_dynamodb::Client, table: &str) -> Result<TableDescription, ProvisionError> {
    client
        .describe_table()
        .table_name(table)
        .send()
        .await
        .map_err(|e| table_error(table, "DescribeTable", e))?
        .table
        .ok_or_else(|| ProvisionError::Table {
            table: table.to_string(),
            action: "DescribeTable",
            message: "no table in the answer".into(),
        })
}

/// TTL is best effort: DynamoDB Local accepts the setting; a failure is logged, not fatal.
async fn ensure_ttl(client: &aws_sdk_dynamodb::Client, table: &str, attribute: &str) {
    if let Ok(output) = client.describe_time_to_live().table_name(table).send().await
        && let Some(description) = output.time_to_live_description()
        && matches!(
            description.time_to_live_status(),
            Some(TimeToLiveStatus::Enabled | TimeToLiveStatus::Enabling)
        )
    {
        if description.attribute_name() != Some(attribute) {
            tracing::warn!(table, existing = ?description.attribute_name(), template = attribute, "TTL is on another attribute");
        }
        return;
    }
    let spec = TimeToLiveSpecification::builder()
        .enabled(true)
        .attribute_name(attribute)
        .build()
        .expect("enabled and name are set");
    match client
        .update_time_to_live()
        .table_name(table)
        .time_to_live_specification(spec)
        .send()
        .await
    {
        Ok(_) => tracing::info!(table, attribute, "TTL enabled"),
        Err(e) => {
            tracing::warn!(table, attribute, error = %aws_sdk_dynamodb::error::DisplayErrorContext(&e), "could not enable TTL")
        }
    }
}

async fn ensure_queue(client: &aws_sdk_sqs::Client, spec: &QueueSpec) -> Result<QueueInfo, ProvisionError> {
    let attributes: HashMap<QueueAttributeName, String> = spec
        .attributes
        .iter()
        .map(|(k, v)| (QueueAttributeName::from(k.as_str()), v.clone()))
        .collect();
    let url = match client.get_queue_url().queue_name(&spec.name).send().await {
        Ok(output) => {
            let url = output.queue_url.unwrap_or_default();
            // FifoQueue cannot change (and is implied by the name); the rest follows the template.
            let mutable: HashMap<QueueAttributeName, String> = attributes
                .iter()
                .filter(|(k, _)| **k != QueueAttributeName::FifoQueue)
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            if !mutable.is_empty() {
                client
                    .set_queue_attributes()
                    .queue_url(&url)
                    .set_attributes(Some(mutable))
                    .send()
                    .await
                    .map_err(|e| queue_error(&spec.name, "SetQueueAttributes", e))?;
            }
            tracing::info!(queue = %spec.name, "queue exists");
            url
        }
        Err(e) if e.as_service_error().is_some_and(|e| e.is_queue_does_not_exist()) => {
            let output = client
                .create_queue()
                .queue_name(&spec.name)
                .set_attributes(Some(attributes))
                .send()
                .await
                .map_err(|e| queue_error(&spec.name, "CreateQueue", e))?;
            tracing::info!(queue = %spec.name, "queue created");
            output.queue_url.unwrap_or_default()
        }
        Err(e) => return Err(queue_error(&spec.name, "GetQueueUrl", e)),
    };
    let arn = client
        .get_queue_attributes()
        .queue_url(&url)
        .attribute_names(QueueAttributeName::QueueArn)
        .send()
        .await
        .map_err(|e| queue_error(&spec.name, "GetQueueAttributes", e))?
        .attributes
        .and_then(|mut a| a.remove(&QueueAttributeName::QueueArn))
        .ok_or_else(|| ProvisionError::Queue {
            queue: spec.name.clone(),
            action: "GetQueueAttributes",
            message: "no QueueArn".into(),
        })?;
    Ok(QueueInfo {
        name: spec.name.clone(),
        url,
        arn,
    })
}
