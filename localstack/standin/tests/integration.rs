//! Against LocalStack (SQS) and DynamoDB Local: provisioning, the SQS event source mapping, and
//! the `csms-local` binary end to end. They need the emulators' endpoints in the standard AWS
//! environment (`AWS_ENDPOINT_URL_SQS`, `AWS_ENDPOINT_URL_DYNAMODB`, a region and dummy
//! credentials) and fail without them; skip them with `cargo test -p standin -- --skip integration_`.

use aws_lambda_events::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent};
use aws_sdk_sqs::types::QueueAttributeName;
use serde_json::{Value, json};
use standin::poller::{self, EventSource};
use standin::provision::provision;
use standin::routes::{BatchResult, QueueConsumer};
use standin::template::Plan;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, watch};
use tokio::time::timeout;

fn require_env(names: &[&str]) {
    let missing: Vec<&str> = names
        .iter()
        .copied()
        .filter(|n| std::env::var(n).map(|v| v.is_empty()).unwrap_or(true))
        .collect();
    assert!(
        missing.is_empty(),
        "integration tests need LocalStack and DynamoDB Local: set {missing:?} (plus AWS_REGION and dummy AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY), \
         or skip them with `cargo test -p standin -- --skip integration_`"
    );
}

async fn sdk() -> aws_config::SdkConfig {
    aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await
}

/// A prefix no other run uses.
fn unique_prefix() -> String {
    format!("it{}", &uuid::Uuid::new_v4().simple().to_string()[..10])
}

fn cdk_path(id: &str) -> Value {
    json!({"aws:cdk:path": format!("Csms/{id}/Resource")})
}

/// A template in the CDK's shape: the route functions, a FIFO queue with a DLQ, a consumer.
fn template(visibility_timeout: u32, max_receive_count: u32) -> Value {
    json!({"Resources": {
        "StationsTableAAAA0001": {
            "Type": "AWS::DynamoDB::Table",
            "Properties": {
                "KeySchema": [{"AttributeName": "stationId", "KeyType": "HASH"}],
                "AttributeDefinitions": [{"AttributeName": "stationId", "AttributeType": "S"}],
                "BillingMode": "PAY_PER_REQUEST"
            },
            "Metadata": cdk_path("StationsTable")
        },
        "ConnectionsTableAAAA0002": {
            "Type": "AWS::DynamoDB::Table",
            "Properties": {
                "KeySchema": [{"AttributeName": "connectionId", "KeyType": "HASH"}],
                "AttributeDefinitions": [{"AttributeName": "connectionId", "AttributeType": "S"}],
                "BillingMode": "PAY_PER_REQUEST",
                "TimeToLiveSpecification": {"AttributeName": "expiresAt", "Enabled": true}
            },
            "Metadata": cdk_path("ConnectionsTable")
        },
        "StatusDeadLetterQueueAAAA0003": {
            "Type": "AWS::SQS::Queue",
            "Properties": {"FifoQueue": true, "MessageRetentionPeriod": 1209600},
            "Metadata": cdk_path("StatusDeadLetterQueue")
        },
        "StatusQueueAAAA0004": {
            "Type": "AWS::SQS::Queue",
            "Properties": {
                "FifoQueue": true,
                "ContentBasedDeduplication": false,
                "VisibilityTimeout": visibility_timeout,
                "RedrivePolicy": {"deadLetterTargetArn": {"Fn::GetAtt": ["StatusDeadLetterQueueAAAA0003", "Arn"]}, "maxReceiveCount": max_receive_count}
            },
            "Metadata": cdk_path("StatusQueue")
        },
        "WebSocketApiAAAA0005": {"Type": "AWS::ApiGatewayV2::Api", "Properties": {}},
        "ConnectFunctionAAAA0006": {
            "Type": "AWS::Lambda::Function",
            "Properties": {"Timeout": 10, "Environment": {"Variables": {
                "STATIONS_TABLE": {"Ref": "StationsTableAAAA0001"},
                "CONNECTIONS_TABLE": {"Ref": "ConnectionsTableAAAA0002"},
                "CONNECTIONS_ENDPOINT": {"Fn::Join": ["", ["https://", {"Ref": "WebSocketApiAAAA0005"}, ".execute-api.", {"Ref": "AWS::Region"}, ".amazonaws.com/ocpp"]]}
            }}},
            "Metadata": cdk_path("ConnectFunction")
        },
        "MessageFunctionAAAA0007": {
            "Type": "AWS::Lambda::Function",
            "Properties": {"Timeout": 10, "Environment": {"Variables": {
                "STATIONS_TABLE": {"Ref": "StationsTableAAAA0001"},
                "STATUS_QUEUE_URL": {"Ref": "StatusQueueAAAA0004"},
                "HEARTBEAT_INTERVAL_SECONDS": "300"
            }}},
            "Metadata": cdk_path("MessageFunction")
        },
        "DisconnectFunctionAAAA0008": {
            "Type": "AWS::Lambda::Function",
            "Properties": {"Timeout": 10, "Environment": {"Variables": {"CONNECTIONS_TABLE": {"Ref": "ConnectionsTableAAAA0002"}}}},
            "Metadata": cdk_path("DisconnectFunction")
        },
        "StatusFunctionAAAA0009": {
            "Type": "AWS::Lambda::Function",
            "Properties": {"Timeout": 30, "Environment": {"Variables": {}}},
            "Metadata": cdk_path("StatusFunction")
        },
        "StatusFunctionSqsEventSourceAAAA0010": {
            "Type": "AWS::Lambda::EventSourceMapping",
            "Properties": {
                "EventSourceArn": {"Fn::GetAtt": ["StatusQueueAAAA0004", "Arn"]},
                "FunctionName": {"Ref": "StatusFunctionAAAA0009"},
                "BatchSize": 10,
                "FunctionResponseTypes": ["ReportBatchItemFailures"]
            }
        }
    }})
}

/// Fails every message whose body is "fail"; reports every batch.
struct Recorder {
    batches: mpsc::UnboundedSender<SqsEvent>,
}

impl QueueConsumer for Recorder {
    async fn consume(&self, event: SqsEvent) -> BatchResult {
        let mut response = SqsBatchResponse::default();
        for record in &event.records {
            if record.body.as_deref() == Some("fail") {
                let mut failure = BatchItemFailure::default();
                failure.item_identifier = record.message_id.clone().unwrap();
                response.batch_item_failures.push(failure);
            }
        }
        self.batches.send(event).unwrap();
        Ok(response)
    }
}

async fn send(sqs: &aws_sdk_sqs::Client, url: &str, group: &str, body: &str) {
    sqs.send_message()
        .queue_url(url)
        .message_group_id(group)
        .message_deduplication_id(uuid::Uuid::new_v4().to_string())
        .message_body(body)
        .send()
        .await
        .unwrap();
}

async fn messages_in(sqs: &aws_sdk_sqs::Client, url: &str) -> (u64, u64) {
    let attributes = sqs
        .get_queue_attributes()
        .queue_url(url)
        .attribute_names(QueueAttributeName::ApproximateNumberOfMessages)
        .attribute_names(QueueAttributeName::ApproximateNumberOfMessagesNotVisible)
        .send()
        .await
        .unwrap()
        .attributes
        .unwrap_or_default();
    let get = |name: QueueAttributeName| attributes.get(&name).and_then(|v| v.parse().ok()).unwrap_or(0);
    (
        get(QueueAttributeName::ApproximateNumberOfMessages),
        get(QueueAttributeName::ApproximateNumberOfMessagesNotVisible),
    )
}

#[tokio::test]
async fn integration_provisioning_is_idempotent() {
    require_env(&["AWS_ENDPOINT_URL_SQS", "AWS_ENDPOINT_URL_DYNAMODB"]);
    let sdk = sdk().await;
    let (dynamodb, sqs) = (aws_sdk_dynamodb::Client::new(&sdk), aws_sdk_sqs::Client::new(&sdk));
    let prefix = unique_prefix();
    let plan = Plan::from_value(&template(30, 5), &prefix).unwrap();
    let first = provision(&dynamodb, &sqs, &plan).await.unwrap();
    let second = provision(&dynamodb, &sqs, &plan).await.unwrap();
    assert_eq!(first, second);

    let stations = &first.tables["StationsTableAAAA0001"];
    assert_eq!(stations.name, format!("{prefix}-StationsTable"));
    let table = dynamodb
        .describe_table()
        .table_name(&stations.name)
        .send()
        .await
        .unwrap()
        .table
        .unwrap();
    assert_eq!(table.key_schema()[0].attribute_name(), "stationId");
    let ttl = dynamodb
        .describe_time_to_live()
        .table_name(format!("{prefix}-ConnectionsTable"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        ttl.time_to_live_description().and_then(|d| d.attribute_name()),
        Some("expiresAt")
    );

    let queue = &first.queues["StatusQueueAAAA0004"];
    let dlq = &first.queues["StatusDeadLetterQueueAAAA0003"];
    assert_eq!(queue.name, format!("{prefix}-StatusQueue.fifo"));
    let attributes = sqs
        .get_queue_attributes()
        .queue_url(&queue.url)
        .attribute_names(QueueAttributeName::All)
        .send()
        .await
        .unwrap()
        .attributes
        .unwrap();
    assert_eq!(attributes[&QueueAttributeName::FifoQueue], "true");
    assert_eq!(attributes[&QueueAttributeName::VisibilityTimeout], "30");
    let redrive: Value = serde_json::from_str(&attributes[&QueueAttributeName::RedrivePolicy]).unwrap();
    assert_eq!(redrive["deadLetterTargetArn"], dlq.arn);
    assert_eq!(redrive["maxReceiveCount"].to_string().trim_matches('"'), "5");

    // A changed template updates the existing queue.
    let plan = Plan::from_value(&template(45, 5), &prefix).unwrap();
    provision(&dynamodb, &sqs, &plan).await.unwrap();
    let visibility = sqs
        .get_queue_attributes()
        .queue_url(&queue.url)
        .attribute_names(QueueAttributeName::VisibilityTimeout)
        .send()
        .await
        .unwrap()
        .attributes
        .unwrap()[&QueueAttributeName::VisibilityTimeout]
        .clone();
    assert_eq!(visibility, "45");
}

#[tokio::test]
async fn integration_sqs_poller_honours_partial_batch_failures() {
    require_env(&["AWS_ENDPOINT_URL_SQS", "AWS_ENDPOINT_URL_DYNAMODB"]);
    let sdk = sdk().await;
    let (dynamodb, sqs) = (aws_sdk_dynamodb::Client::new(&sdk), aws_sdk_sqs::Client::new(&sdk));
    // Visibility 1 s and 2 receives before the DLQ keep the test short.
    let plan = Plan::from_value(&template(1, 2), &unique_prefix()).unwrap();
    let provisioned = provision(&dynamodb, &sqs, &plan).await.unwrap();
    let queue = provisioned.queues["StatusQueueAAAA0004"].clone();
    let dlq = provisioned.queues["StatusDeadLetterQueueAAAA0003"].clone();

    send(&sqs, &queue.url, "CP1", "a").await;
    send(&sqs, &queue.url, "CP1", "b").await;
    send(&sqs, &queue.url, "CP2", "fail").await;

    let (tx, mut batches) = mpsc::unbounded_channel();
    let (stop, stop_rx) = watch::channel(false);
    let source = EventSource {
        function: "StatusFunction".into(),
        queue_url: queue.url.clone(),
        queue_arn: queue.arn.clone(),
        region: sdk.region().unwrap().to_string(),
        batch_size: 10,
        report_batch_item_failures: true,
        wait_time: Duration::from_secs(1),
    };
    let poller = tokio::spawn(poller::run(
        sqs.clone(),
        source,
        Arc::new(Recorder { batches: tx }),
        stop_rx,
    ));

    // Every delivery of every message, in order.
    let mut deliveries: HashMap<String, Vec<u32>> = HashMap::new();
    let mut order_cp1 = vec![];
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while deliveries.get("fail").map(Vec::len).unwrap_or(0) < 2 || order_cp1.len() < 2 {
        let event = timeout(deadline - tokio::time::Instant::now(), batches.recv())
            .await
            .expect("deliveries within 30 s")
            .unwrap();
        for record in event.records {
            assert_eq!(record.event_source.as_deref(), Some("aws:sqs"));
            assert_eq!(record.event_source_arn.as_deref(), Some(queue.arn.as_str()));
            assert!(record.aws_region.is_some());
            assert!(record.receipt_handle.is_some() && record.md5_of_body.is_some());
            assert!(
                record.attributes.contains_key("SentTimestamp"),
                "{:?}",
                record.attributes
            );
            let body = record.body.unwrap();
            let group = record.attributes["MessageGroupId"].clone();
            assert_eq!(group, if body == "fail" { "CP2" } else { "CP1" });
            if group == "CP1" {
                order_cp1.push(body.clone());
            }
            deliveries
                .entry(body)
                .or_default()
                .push(record.attributes["ApproximateReceiveCount"].parse().unwrap());
        }
    }
    // Succeeded messages were deleted: delivered once, in order.
    assert_eq!(order_cp1, vec!["a", "b"]);
    assert_eq!(deliveries["a"], vec![1]);
    assert_eq!(deliveries["fail"], vec![1, 2]);

    // After maxReceiveCount the queue's redrive policy moves the failure to the DLQ.
    let mut moved = None;
    for _ in 0..20 {
        let received = sqs
            .receive_message()
            .queue_url(&dlq.url)
            .wait_time_seconds(1)
            .send()
            .await
            .unwrap();
        if let Some(message) = received.messages.unwrap_or_default().into_iter().next() {
            moved = message.body;
            break;
        }
    }
    assert_eq!(moved.as_deref(), Some("fail"));
    assert_eq!(messages_in(&sqs, &queue.url).await, (0, 0));

    // Stopping is quick (one long poll at most).
    stop.send_replace(true);
    timeout(Duration::from_secs(5), poller)
        .await
        .expect("poller stops within 5 s")
        .unwrap();
}

#[tokio::test]
async fn integration_csms_local_runs_and_stops_cleanly() {
    require_env(&["AWS_ENDPOINT_URL_SQS", "AWS_ENDPOINT_URL_DYNAMODB"]);
    let dir = std::env::temp_dir().join(unique_prefix());
    std::fs::create_dir_all(&dir).unwrap();
    let template_path = dir.join("Csms.template.json");
    std::fs::write(&template_path, template(30, 5).to_string()).unwrap();
    let state_path = dir.join("state.env");
    let prefix = unique_prefix();

    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_csms-local"))
        .arg("--template")
        .arg(&template_path)
        .args(["--prefix", &prefix])
        .arg("--state-file")
        .arg(&state_path)
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let first_line = tokio::task::spawn_blocking(move || {
        let mut line = String::new();
        std::io::BufRead::read_line(&mut std::io::BufReader::new(stdout), &mut line).map(|_| line)
    });
    let url = match timeout(Duration::from_secs(60), first_line).await {
        Ok(line) => line.unwrap().unwrap().trim().to_string(),
        Err(_) => {
            child.kill().ok();
            panic!("no OCPP URL within 60 s");
        }
    };
    assert!(url.starts_with("ws://127.0.0.1:") && url.ends_with("/ocpp/"), "{url}");

    let state = std::fs::read_to_string(&state_path).unwrap();
    let vars: HashMap<&str, &str> = state
        .lines()
        .map(|line| {
            let (name, value) = line.strip_prefix("export ").unwrap().split_once('=').unwrap();
            (name, value.trim_matches('\''))
        })
        .collect();
    assert_eq!(vars["CSMS_OCPP_URL"], url);
    assert_eq!(vars["STATIONS_TABLE"], format!("{prefix}-StationsTable"));
    assert_eq!(vars["CONNECTIONS_TABLE"], format!("{prefix}-ConnectionsTable"));
    assert!(
        vars["STATUS_QUEUE_URL"].ends_with(&format!("{prefix}-StatusQueue.fifo")),
        "{}",
        vars["STATUS_QUEUE_URL"]
    );
    assert_eq!(vars["HEARTBEAT_INTERVAL_SECONDS"], "300");
    let endpoint = vars["CONNECTIONS_ENDPOINT"];
    assert!(
        endpoint.starts_with("http://127.0.0.1:") && endpoint.ends_with("/local"),
        "{endpoint}"
    );

    // The real handlers answer the handshake (whatever they decide, the stand-in answers).
    let attempt = tokio_tungstenite::connect_async(format!("{url}CP1")).await;
    match attempt {
        Ok((mut socket, _)) => {
            socket.close(None).await.ok();
        }
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
            assert!(response.status().is_client_error(), "{response:?}")
        }
        Err(other) => panic!("handshake failed: {other}"),
    }

    let pid = child.id().to_string();
    let killed = std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap();
    assert!(killed.success());
    let mut status = None;
    for _ in 0..600 {
        if let Some(s) = child.try_wait().unwrap() {
            status = Some(s);
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let Some(status) = status else {
        child.kill().ok();
        panic!("csms-local did not exit within 60 s of SIGTERM");
    };
    assert!(status.success(), "{status:?}");
    assert!(!state_path.exists(), "the state file is removed on exit");
    std::fs::remove_dir_all(&dir).ok();
}
