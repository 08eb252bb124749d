//! AWS adapters for the domain's ports, and the wiring that builds them once per process.
//! Endpoints come from the standard AWS environment (`AWS_ENDPOINT_URL_DYNAMODB`, ...), so the
//! same code runs against AWS, LocalStack and DynamoDB Local.

mod attributes;
pub mod channel;
pub mod config;
pub mod dynamo;
pub mod events;
pub mod lambda;
pub mod sqs;

pub use config::Config;

use csms_domain::{BootPolicy, Services};
use std::sync::Arc;

/// Loads the SDK configuration from the environment and builds every adapter.
pub async fn services_from_env() -> Result<Services, config::ConfigError> {
    let config = Config::from_env()?;
    let sdk = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
    Ok(services(&sdk, &config))
}

pub fn services(sdk: &aws_config::SdkConfig, config: &Config) -> Services {
    services_with(
        sdk,
        aws_sdk_dynamodb::Client::new(sdk),
        aws_sdk_sqs::Client::new(sdk),
        config,
    )
}

/// Like [`services`], with clients built by the caller (e.g. with an interceptor that counts calls).
pub fn services_with(
    sdk: &aws_config::SdkConfig,
    dynamodb: aws_sdk_dynamodb::Client,
    sqs: aws_sdk_sqs::Client,
    config: &Config,
) -> Services {
    let table = |name: &Option<String>, var: &'static str| dynamo::Table::new(dynamodb.clone(), name.clone(), var);
    Services {
        stations: Arc::new(dynamo::Stations(table(&config.stations_table, "STATIONS_TABLE"))),
        connections: Arc::new(dynamo::Connections(table(
            &config.connections_table,
            "CONNECTIONS_TABLE",
        ))),
        availability: Arc::new(dynamo::AvailabilityView(table(
            &config.availability_table,
            "AVAILABILITY_TABLE",
        ))),
        history: Arc::new(dynamo::History(table(
            &config.status_history_table,
            "STATUS_HISTORY_TABLE",
        ))),
        station_events: Arc::new(dynamo::EventLog(table(
            &config.station_events_table,
            "STATION_EVENTS_TABLE",
        ))),
        bus: Arc::new(sqs::SqsBus::new(sqs, config.status_queue_url.clone())),
        channel: Arc::new(channel::ApiGatewayChannel::new(
            sdk,
            config.connections_endpoint.clone(),
        )),
        boot_policy: BootPolicy {
            heartbeat_interval: config.heartbeat_interval,
            ..BootPolicy::default()
        },
    }
}
