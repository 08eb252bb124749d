//! The template resolver, on a small template in CDK's shape written here (not on infra's
//! output, which changes on its own).

use serde_json::{Value, json};
use standin::app::{function_environment, local_values};
use standin::template::{Expr, Plan, Provisioned, Pseudo, QueueInfo, TableInfo, TemplateError};

fn cdk_path(id: &str) -> Value {
    json!({"aws:cdk:path": format!("Csms/{id}/Resource")})
}

fn template() -> Value {
    json!({
        "Resources": {
            "StationsTable0A1B2C3D": {
                "Type": "AWS::DynamoDB::Table",
                "Properties": {
                    "KeySchema": [{"AttributeName": "stationId", "KeyType": "HASH"}],
                    "AttributeDefinitions": [{"AttributeName": "stationId", "AttributeType": "S"}, {"AttributeName": "owner", "AttributeType": "S"}],
                    "BillingMode": "PAY_PER_REQUEST",
                    "GlobalSecondaryIndexes": [{
                        "IndexName": "byOwner",
                        "KeySchema": [{"AttributeName": "owner", "KeyType": "HASH"}],
                        "Projection": {"ProjectionType": "INCLUDE", "NonKeyAttributes": ["stationId"]}
                    }],
                    "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": true},
                    "SSESpecification": {"SSEEnabled": true}
                },
                "UpdateReplacePolicy": "Retain",
                "DeletionPolicy": "Retain",
                "Metadata": cdk_path("StationsTable")
            },
            "StatusHistoryTable11223344": {
                "Type": "AWS::DynamoDB::Table",
                "Properties": {
                    "KeySchema": [{"AttributeName": "stationId", "KeyType": "HASH"}, {"AttributeName": "entry", "KeyType": "RANGE"}],
                    "AttributeDefinitions": [{"AttributeName": "stationId", "AttributeType": "S"}, {"AttributeName": "entry", "AttributeType": "S"}],
                    "TimeToLiveSpecification": {"AttributeName": "expiresAt", "Enabled": true}
                },
                "Metadata": cdk_path("StatusHistoryTable")
            },
            "StatusDeadLetterQueueAABBCCDD": {
                "Type": "AWS::SQS::Queue",
                "Properties": {"FifoQueue": true, "MessageRetentionPeriod": 1209600, "SqsManagedSseEnabled": true},
                "Metadata": cdk_path("StatusDeadLetterQueue")
            },
            "StatusQueue99887766": {
                "Type": "AWS::SQS::Queue",
                "Properties": {
                    "FifoQueue": true,
                    "ContentBasedDeduplication": false,
                    "VisibilityTimeout": 180,
                    "RedrivePolicy": {
                        "deadLetterTargetArn": {"Fn::GetAtt": ["StatusDeadLetterQueueAABBCCDD", "Arn"]},
                        "maxReceiveCount": 5
                    }
                },
                "Metadata": cdk_path("StatusQueue")
            },
            "StatusQueuePolicy12345678": {
                "Type": "AWS::SQS::QueuePolicy",
                "Properties": {"Queues": [{"Ref": "StatusQueue99887766"}]}
            },
            "WebSocketApi34E2F1A0": {"Type": "AWS::ApiGatewayV2::Api", "Properties": {"ProtocolType": "WEBSOCKET"}},
            "ConnectFunctionAAAA1111": {
                "Type": "AWS::Lambda::Function",
                "Properties": {
                    "Timeout": 10,
                    "Environment": {"Variables": {
                        "STATIONS_TABLE": {"Ref": "StationsTable0A1B2C3D"},
                        "CONNECTIONS_ENDPOINT": {"Fn::Join": ["", [
                            "https://", {"Ref": "WebSocketApi34E2F1A0"}, ".execute-api.", {"Ref": "AWS::Region"}, ".", {"Ref": "AWS::URLSuffix"}, "/ocpp"
                        ]]}
                    }}
                },
                "Metadata": cdk_path("ConnectFunction")
            },
            "MessageFunctionBBBB2222": {
                "Type": "AWS::Lambda::Function",
                "Properties": {
                    "Environment": {"Variables": {
                        "STATIONS_TABLE": {"Ref": "StationsTable0A1B2C3D"},
                        "STATUS_QUEUE_URL": {"Ref": "StatusQueue99887766"},
                        "STATUS_QUEUE_ARN": {"Fn::GetAtt": ["StatusQueue99887766", "Arn"]},
                        "STATUS_QUEUE_NAME": {"Fn::GetAtt": "StatusQueue99887766.QueueName"},
                        "STATIONS_TABLE_ARN": {"Fn::GetAtt": ["StationsTable0A1B2C3D", "Arn"]},
                        "HEARTBEAT_INTERVAL_SECONDS": "300",
                        "REGIONAL": {"Fn::Join": ["-", ["csms", {"Ref": "AWS::Region"}]]},
                        "CONNECTIONS_ENDPOINT": {"Fn::Join": ["", [
                            "https://", {"Ref": "WebSocketApi34E2F1A0"}, ".execute-api.", {"Ref": "AWS::Region"}, ".", {"Ref": "AWS::URLSuffix"}, "/ocpp"
                        ]]}
                    }}
                },
                "Metadata": cdk_path("MessageFunction")
            },
            "StatusFunctionCCCC3333": {
                "Type": "AWS::Lambda::Function",
                "Properties": {
                    "Timeout": 30,
                    "Environment": {"Variables": {"STATUS_HISTORY_TABLE": {"Ref": "StatusHistoryTable11223344"}}}
                },
                "Metadata": cdk_path("StatusFunction")
            },
            "StatusFunctionSqsEventSourceCsmsStatusQueueDDDD4444": {
                "Type": "AWS::Lambda::EventSourceMapping",
                "Properties": {
                    "EventSourceArn": {"Fn::GetAtt": ["StatusQueue99887766", "Arn"]},
                    "FunctionName": {"Ref": "StatusFunctionCCCC3333"},
                    "BatchSize": 10,
                    "FunctionResponseTypes": ["ReportBatchItemFailures"]
                },
                "Metadata": {"aws:cdk:path": "Csms/StatusFunction/SqsEventSource:CsmsStatusQueue/Resource"}
            }
        }
    })
}

fn provisioned() -> Provisioned {
    let mut p = Provisioned::default();
    p.tables.insert(
        "StationsTable0A1B2C3D".into(),
        TableInfo {
            name: "t-StationsTable".into(),
            arn: "arn:aws:dynamodb:ddblocal:000000000000:table/t-StationsTable".into(),
        },
    );
    p.tables.insert(
        "StatusHistoryTable11223344".into(),
        TableInfo {
            name: "t-StatusHistoryTable".into(),
            arn: "arn:history".into(),
        },
    );
    for (logical, name) in [
        ("StatusQueue99887766", "t-StatusQueue.fifo"),
        ("StatusDeadLetterQueueAABBCCDD", "t-StatusDeadLetterQueue.fifo"),
    ] {
        p.queues.insert(
            logical.into(),
            QueueInfo {
                name: name.into(),
                url: format!("http://localhost:4566/000000000000/{name}"),
                arn: format!("arn:aws:sqs:eu-west-1:000000000000:{name}"),
            },
        );
    }
    p
}

fn pseudo() -> Pseudo {
    Pseudo {
        region: "eu-west-1".into(),
        account_id: "000000000000".into(),
    }
}

#[test]
fn tables_come_from_the_template() {
    let plan = Plan::from_value(&template(), "t").unwrap();
    assert_eq!(plan.tables.len(), 2);
    let stations = plan.tables.iter().find(|t| t.construct_id == "StationsTable").unwrap();
    assert_eq!(stations.name, "t-StationsTable");
    assert_eq!(stations.logical_id, "StationsTable0A1B2C3D");
    assert_eq!(stations.key_schema, vec![("stationId".to_string(), "HASH".to_string())]);
    assert_eq!(stations.attribute_definitions.len(), 2);
    assert_eq!(stations.ttl_attribute, None);
    let gsi = &stations.global_secondary_indexes[0];
    assert_eq!(gsi.name, "byOwner");
    assert_eq!(gsi.projection_type, "INCLUDE");
    assert_eq!(gsi.non_key_attributes, vec!["stationId".to_string()]);
    let history = plan
        .tables
        .iter()
        .find(|t| t.construct_id == "StatusHistoryTable")
        .unwrap();
    assert_eq!(history.key_schema[1], ("entry".to_string(), "RANGE".to_string()));
    assert_eq!(history.ttl_attribute.as_deref(), Some("expiresAt"));
}

#[test]
fn queues_come_from_the_template() {
    let plan = Plan::from_value(&template(), "t").unwrap();
    assert_eq!(plan.queues.len(), 2, "the queue policy is not a queue");
    let queue = plan.queues.iter().find(|q| q.construct_id == "StatusQueue").unwrap();
    assert_eq!(queue.name, "t-StatusQueue.fifo");
    assert!(queue.fifo);
    assert_eq!(queue.attributes["FifoQueue"], "true");
    assert_eq!(queue.attributes["ContentBasedDeduplication"], "false");
    assert_eq!(queue.attributes["VisibilityTimeout"], "180");
    let redrive = queue.redrive.as_ref().unwrap();
    assert_eq!(redrive.dead_letter_queue, "StatusDeadLetterQueueAABBCCDD");
    assert_eq!(redrive.max_receive_count, 5);
    let dlq = plan
        .queues
        .iter()
        .find(|q| q.construct_id == "StatusDeadLetterQueue")
        .unwrap();
    assert_eq!(dlq.name, "t-StatusDeadLetterQueue.fifo");
    assert_eq!(dlq.attributes["MessageRetentionPeriod"], "1209600");
    assert!(!dlq.attributes.contains_key("SqsManagedSseEnabled"));
    assert_eq!(dlq.redrive, None);
}

#[test]
fn functions_and_mappings_come_from_the_template() {
    let plan = Plan::from_value(&template(), "t").unwrap();
    assert_eq!(plan.functions.len(), 3);
    assert_eq!(plan.function("ConnectFunction").unwrap().timeout_seconds, 10);
    assert_eq!(
        plan.function("MessageFunction").unwrap().timeout_seconds,
        3,
        "Lambda's default"
    );
    assert_eq!(
        plan.function("MessageFunction").unwrap().environment["STATUS_QUEUE_URL"],
        Expr::Ref("StatusQueue99887766".into())
    );
    assert_eq!(plan.mappings.len(), 1);
    let mapping = &plan.mappings[0];
    assert_eq!(mapping.queue, "StatusQueue99887766");
    assert_eq!(
        plan.function_by_logical_id(&mapping.function).unwrap().construct_id,
        "StatusFunction"
    );
    assert_eq!(mapping.batch_size, 10);
    assert!(mapping.report_batch_item_failures);
    assert!(mapping.enabled);
}

#[test]
fn mappings_through_a_live_alias_reach_the_function() {
    // What CDK writes for `alias.addEventSource(...)`: the mapping names the alias as
    // `<function name>:live`, cut out of the alias' ARN.
    let mut t = template();
    t["Resources"]["StatusFunctionCurrentVersionEEEE5555"] = json!({
        "Type": "AWS::Lambda::Version",
        "Properties": {"FunctionName": {"Ref": "StatusFunctionCCCC3333"}}
    });
    t["Resources"]["StatusFunctionLiveFFFF6666"] = json!({
        "Type": "AWS::Lambda::Alias",
        "Properties": {
            "FunctionName": {"Ref": "StatusFunctionCCCC3333"},
            "FunctionVersion": {"Fn::GetAtt": ["StatusFunctionCurrentVersionEEEE5555", "Version"]},
            "Name": "live"
        }
    });
    t["Resources"]["StatusFunctionSqsEventSourceCsmsStatusQueueDDDD4444"]["Properties"]["FunctionName"] = json!({
        "Fn::Join": ["", [
            {"Fn::Select": [6, {"Fn::Split": [":", {"Ref": "StatusFunctionLiveFFFF6666"}]}]},
            ":live"
        ]]
    });
    let plan = Plan::from_value(&t, "t").unwrap();
    assert_eq!(plan.functions.len(), 3, "versions and aliases are not functions");
    assert_eq!(
        plan.function_by_logical_id(&plan.mappings[0].function)
            .unwrap()
            .construct_id,
        "StatusFunction"
    );

    // A mapping to an alias of nothing in the template is refused before anything is created.
    t["Resources"]["StatusFunctionLiveFFFF6666"]["Properties"]["FunctionName"] = json!({"Ref": "NoSuchFunction"});
    let error = Plan::from_value(&t, "t").unwrap_err();
    assert!(error.to_string().contains("NoSuchFunction"), "{error}");
}

#[test]
fn environments_resolve_to_local_names() {
    let plan = Plan::from_value(&template(), "t").unwrap();
    let resolved = plan.resolve_environment(&provisioned(), &pseudo()).unwrap();
    let message = &resolved.functions["MessageFunction"];
    assert_eq!(message["STATIONS_TABLE"], "t-StationsTable");
    assert_eq!(
        message["STATUS_QUEUE_URL"],
        "http://localhost:4566/000000000000/t-StatusQueue.fifo"
    );
    assert_eq!(
        message["STATUS_QUEUE_ARN"],
        "arn:aws:sqs:eu-west-1:000000000000:t-StatusQueue.fifo"
    );
    assert_eq!(message["STATUS_QUEUE_NAME"], "t-StatusQueue.fifo");
    assert_eq!(
        message["STATIONS_TABLE_ARN"],
        "arn:aws:dynamodb:ddblocal:000000000000:table/t-StationsTable"
    );
    assert_eq!(message["HEARTBEAT_INTERVAL_SECONDS"], "300");
    assert_eq!(message["REGIONAL"], "csms-eu-west-1");
    // The callback URL is built from the WebSocket API's id: left for the stand-in.
    assert!(!message.contains_key("CONNECTIONS_ENDPOINT"));
    assert_eq!(
        resolved.unresolved["MessageFunction"],
        vec!["CONNECTIONS_ENDPOINT".to_string()]
    );
    assert_eq!(
        resolved.functions["StatusFunction"]["STATUS_HISTORY_TABLE"],
        "t-StatusHistoryTable"
    );
    assert!(!resolved.unresolved.contains_key("StatusFunction"));
    // Everything resolved, once, for the state file.
    assert_eq!(resolved.shared["STATIONS_TABLE"], "t-StationsTable");
    assert_eq!(resolved.shared["STATUS_HISTORY_TABLE"], "t-StatusHistoryTable");
    assert!(!resolved.shared.contains_key("CONNECTIONS_ENDPOINT"));

    // Functions that declare CONNECTIONS_ENDPOINT get the stand-in's own; others do not.
    let endpoint = "http://127.0.0.1:4510/local";
    let local = local_values(endpoint, "http://127.0.0.1:4511/local-issuer");
    assert_eq!(
        function_environment(&resolved, "ConnectFunction", &local)["CONNECTIONS_ENDPOINT"],
        endpoint
    );
    let status = function_environment(&resolved, "StatusFunction", &local);
    assert!(!status.contains_key("CONNECTIONS_ENDPOINT") && !status.contains_key("AUTH_ISSUER"));
}

#[test]
fn a_variable_must_mean_the_same_in_every_function() {
    let mut t = template();
    t["Resources"]["StatusFunctionCCCC3333"]["Properties"]["Environment"]["Variables"]["STATIONS_TABLE"] =
        json!({"Ref": "StatusHistoryTable11223344"});
    let plan = Plan::from_value(&t, "t").unwrap();
    let error = plan.resolve_environment(&provisioned(), &pseudo()).unwrap_err();
    assert!(
        matches!(&error, TemplateError::ConflictingEnvironment { name, .. } if name == "STATIONS_TABLE"),
        "{error}"
    );

    let mut t = template();
    t["Resources"]["StatusFunctionCCCC3333"]["Properties"]["Environment"]["Variables"]["HEARTBEAT_INTERVAL_SECONDS"] =
        json!("60");
    let plan = Plan::from_value(&t, "t").unwrap();
    assert!(plan.resolve_environment(&provisioned(), &pseudo()).is_err());
}

#[test]
fn construct_ids_fall_back_to_logical_ids_without_metadata() {
    let mut t = template();
    for resource in t["Resources"].as_object_mut().unwrap().values_mut() {
        resource.as_object_mut().unwrap().remove("Metadata");
    }
    let plan = Plan::from_value(&t, "csms").unwrap();
    let names: Vec<&str> = plan.tables.iter().map(|t| t.name.as_str()).collect();
    assert!(names.contains(&"csms-StationsTable"), "{names:?}");
    assert!(plan.function("StatusFunction").is_some());
    assert!(plan.queues.iter().any(|q| q.name == "csms-StatusQueue.fifo"));
}

#[test]
fn bad_templates_fail_before_anything_is_created() {
    assert!(matches!(Plan::from_json("{}", "t"), Err(TemplateError::NoResources)));
    assert!(matches!(Plan::from_json("not json", "t"), Err(TemplateError::Json(_))));

    let mut t = template();
    t["Resources"]["StatusFunctionSqsEventSourceCsmsStatusQueueDDDD4444"]["Properties"]["EventSourceArn"] =
        json!({"Fn::GetAtt": ["NoSuchQueue", "Arn"]});
    let error = Plan::from_value(&t, "t").unwrap_err();
    assert!(error.to_string().contains("NoSuchQueue"), "{error}");

    let mut t = template();
    t["Resources"]["StatusQueue99887766"]["Properties"]["RedrivePolicy"]["deadLetterTargetArn"] =
        json!("arn:aws:sqs:x");
    assert!(Plan::from_value(&t, "t").is_err());

    let mut t = template();
    t["Resources"]["StationsTable0A1B2C3D"]["Properties"]
        .as_object_mut()
        .unwrap()
        .remove("KeySchema");
    let error = Plan::from_value(&t, "t").unwrap_err();
    assert!(error.to_string().contains("KeySchema"), "{error}");

    let mut t = template();
    t["Resources"]["OtherTable"] = t["Resources"]["StationsTable0A1B2C3D"].clone();
    assert!(matches!(
        Plan::from_value(&t, "t"),
        Err(TemplateError::DuplicateConstructId { .. })
    ));
}
