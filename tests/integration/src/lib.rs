//! Shared set-up for the integration tests: fresh tables and queues, created from the synthesized
//! CDK template (the same definition AWS gets), under a prefix unique to each test.

use csms_aws::Config;
use csms_domain::reservation::ReservationServices;
use csms_domain::{BootPolicy, Services};
use standin::template::{Plan, Pseudo};
use std::path::PathBuf;

pub struct Stack {
    pub services: Services,
    /// The reservation ports (their schedules reach whatever AWS_ENDPOINT_URL_SCHEDULER names;
    /// these tests do not schedule).
    pub reservations: ReservationServices,
    pub config: Config,
    pub sqs: aws_sdk_sqs::Client,
    pub dynamodb: aws_sdk_dynamodb::Client,
}

/// Provisions a fresh copy of every table and queue and builds the adapters on it.
/// Needs DynamoDB Local and LocalStack (`scripts/test.sh` starts them).
pub async fn fresh_stack() -> Stack {
    for var in ["AWS_ENDPOINT_URL_DYNAMODB", "AWS_ENDPOINT_URL_SQS"] {
        assert!(
            std::env::var(var).is_ok(),
            "{var} is not set: run the integration tests through scripts/test.sh"
        );
    }
    let sdk = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
    let dynamodb = aws_sdk_dynamodb::Client::new(&sdk);
    let sqs = aws_sdk_sqs::Client::new(&sdk);
    let template = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../infra/cdk.out/Csms.template.json");
    let prefix = format!("it{}", &uuid::Uuid::new_v4().simple().to_string()[..10]);
    let plan = Plan::from_file(&template, &prefix).expect("run `npm run synth` in infra/ first");
    let provisioned = standin::provision::provision(&dynamodb, &sqs, &plan)
        .await
        .expect("provisioning");
    let pseudo = Pseudo {
        region: sdk
            .region()
            .map(|r| r.to_string())
            .unwrap_or_else(|| "us-east-1".into()),
        account_id: "000000000000".into(),
    };
    let env = plan.resolve_environment(&provisioned, &pseudo).expect("environment");
    let config = Config::from_lookup(|name| env.shared.get(name).cloned()).expect("config");
    let services = csms_aws::services_with(&sdk, dynamodb.clone(), sqs.clone(), &config);
    let reservations = csms_aws::reservation_services(
        dynamodb.clone(),
        sqs.clone(),
        aws_sdk_scheduler::Client::new(&sdk),
        &config,
    );
    Stack {
        services: Services {
            boot_policy: BootPolicy::default(),
            ..services
        },
        reservations,
        config,
        sqs,
        dynamodb,
    }
}
