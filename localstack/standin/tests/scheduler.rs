//! The stand-in's EventBridge Scheduler through the real SDK client, firing into a LocalStack SQS
//! FIFO queue: create, fire at the time with the target's input and message group, delete after
//! firing; delete before firing; the API's errors. Needs LocalStack (AWS_ENDPOINT_URL_SQS, a region
//! and dummy credentials); skip with `cargo test -p standin -- --skip integration_`.

use aws_sdk_scheduler::types::{
    ActionAfterCompletion, DeadLetterConfig, FlexibleTimeWindow, FlexibleTimeWindowMode, SqsParameters, Target,
};
use aws_sdk_sqs::types::QueueAttributeName;
use chrono::{SecondsFormat, Utc};
use standin::scheduler::LocalScheduler;
use std::collections::HashMap;
use std::time::Duration;

#[tokio::test]
async fn integration_the_local_scheduler_fires_one_time_schedules_into_sqs() {
    assert!(
        std::env::var("AWS_ENDPOINT_URL_SQS").is_ok_and(|v| !v.is_empty()),
        "needs LocalStack: set AWS_ENDPOINT_URL_SQS, or skip with --skip integration_"
    );
    let sdk = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
    let sqs = aws_sdk_sqs::Client::new(&sdk);
    let name = format!("sched{}.fifo", &uuid::Uuid::new_v4().simple().to_string()[..10]);
    let url = sqs
        .create_queue()
        .queue_name(&name)
        .attributes(QueueAttributeName::FifoQueue, "true")
        .attributes(QueueAttributeName::ContentBasedDeduplication, "true")
        .send()
        .await
        .unwrap()
        .queue_url
        .unwrap();
    let arn = format!("arn:aws:sqs:us-east-1:000000000000:{name}");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let local = LocalScheduler::start(
        listener,
        ["reservations".to_owned()],
        HashMap::from([(arn.clone(), url.clone())]),
        sqs.clone(),
        "us-east-1".into(),
        "000000000000".into(),
    )
    .unwrap();
    let client = aws_sdk_scheduler::Client::from_conf(
        aws_sdk_scheduler::config::Builder::from(&sdk)
            .endpoint_url(&local.url)
            .build(),
    );
    let at = |seconds: i64| {
        let t = (Utc::now() + chrono::Duration::seconds(seconds)).to_rfc3339_opts(SecondsFormat::Secs, true);
        format!("at({})", t.trim_end_matches('Z'))
    };
    let target = |input: &str| {
        Target::builder()
            .arn(&arn)
            .role_arn("arn:aws:iam::000000000000:role/scheduler")
            .input(input)
            .sqs_parameters(SqsParameters::builder().message_group_id("CP-1").build())
            .dead_letter_config(
                DeadLetterConfig::builder()
                    .arn("arn:aws:sqs:us-east-1:000000000000:none")
                    .build(),
            )
            .build()
            .unwrap()
    };
    let window = || {
        FlexibleTimeWindow::builder()
            .mode(FlexibleTimeWindowMode::Off)
            .build()
            .unwrap()
    };
    let create = |name: &str, expression: String, input: &str, group: &str| {
        client
            .create_schedule()
            .name(name)
            .group_name(group)
            .schedule_expression(expression)
            .schedule_expression_timezone("UTC")
            .flexible_time_window(window())
            .target(target(input))
            .action_after_completion(ActionAfterCompletion::Delete)
            .send()
    };

    // One due in 2 s, one due later that is deleted first.
    create("fires", at(2), r#"{"ExpiryDue":1}"#, "reservations")
        .await
        .unwrap();
    create("deleted", at(3), r#"{"ExpiryDue":2}"#, "reservations")
        .await
        .unwrap();
    client
        .get_schedule()
        .name("fires")
        .group_name("reservations")
        .send()
        .await
        .unwrap();
    client
        .delete_schedule()
        .name("deleted")
        .group_name("reservations")
        .send()
        .await
        .unwrap();
    // The scheduler's errors, as the SDK reads them.
    let again = create("fires", at(60), "{}", "reservations").await.unwrap_err();
    assert!(again.as_service_error().unwrap().is_conflict_exception(), "{again:?}");
    let no_group = create("x", at(60), "{}", "nope").await.unwrap_err();
    assert!(
        no_group.as_service_error().unwrap().is_resource_not_found_exception(),
        "{no_group:?}"
    );
    let recurring = create("y", "rate(1 minute)".into(), "{}", "reservations")
        .await
        .unwrap_err();
    assert!(
        recurring.as_service_error().unwrap().is_validation_exception(),
        "{recurring:?}"
    );
    let gone = client
        .delete_schedule()
        .name("never")
        .group_name("reservations")
        .send()
        .await
        .unwrap_err();
    assert!(gone.as_service_error().unwrap().is_resource_not_found_exception());

    // At its time, the input arrives in the target queue with the message group; only that one.
    let mut bodies = Vec::new();
    for _ in 0..10 {
        let out = sqs
            .receive_message()
            .queue_url(&url)
            .wait_time_seconds(1)
            .max_number_of_messages(10)
            .message_system_attribute_names(aws_sdk_sqs::types::MessageSystemAttributeName::MessageGroupId)
            .send()
            .await
            .unwrap();
        for m in out.messages() {
            let group = m
                .attributes()
                .and_then(|a| a.get(&aws_sdk_sqs::types::MessageSystemAttributeName::MessageGroupId))
                .cloned();
            bodies.push((m.body().unwrap_or_default().to_owned(), group));
        }
        if !bodies.is_empty() {
            tokio::time::sleep(Duration::from_secs(2)).await;
            let rest = sqs
                .receive_message()
                .queue_url(&url)
                .wait_time_seconds(1)
                .send()
                .await
                .unwrap();
            assert!(rest.messages().is_empty(), "the deleted schedule did not fire");
            break;
        }
    }
    assert_eq!(bodies, vec![(r#"{"ExpiryDue":1}"#.to_owned(), Some("CP-1".to_owned()))]);
    // Deleted after firing.
    assert_eq!(local.pending(), 0);
    local.stop();
    let _ = sqs.delete_queue().queue_url(&url).send().await;
}
