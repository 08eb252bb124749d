//! AWS adapters for the domain's ports, and the wiring that builds them once per process.
//! Endpoints come from the standard AWS environment (`AWS_ENDPOINT_URL_DYNAMODB`, ...), so the
//! same code runs against AWS, LocalStack and DynamoDB Local.

mod attributes;
pub mod channel;
pub mod charging;
pub mod commands;
pub mod config;
pub mod dynamo;
pub mod events;
pub mod geo;
pub mod lambda;
pub mod limits;
pub mod local_list;
pub mod organisations;
mod page;
pub mod reservations;
pub mod series;
pub mod sqs;
pub mod wire;

pub use config::Config;

use csms_domain::ports::{ChargingServices, CommandServices};
use csms_domain::reservation::{NoFees, ReservationServices};
use csms_domain::{BootPolicy, Services};
use std::sync::Arc;

/// Loads the SDK configuration from the environment and builds every adapter.
pub async fn services_from_env() -> Result<Services, config::ConfigError> {
    let (sdk, config) = environment().await?;
    Ok(services(&sdk, &config))
}

/// The SDK configuration and the resource names, from the environment.
pub async fn environment() -> Result<(aws_config::SdkConfig, Config), config::ConfigError> {
    let config = Config::from_env()?;
    let sdk = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
    Ok((sdk, config))
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
        locator: Arc::new(geo::GeoIndex(table(&config.stations_table, "STATIONS_TABLE"))),
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
        bus: Arc::new(sqs::SqsBus::new(sqs.clone(), config.status_queue_url.clone())),
        channel: Arc::new(channel::ApiGatewayChannel::new(
            sdk,
            config.connections_endpoint.clone(),
        )),
        boot_policy: BootPolicy {
            heartbeat_interval: config.heartbeat_interval,
            ..BootPolicy::default()
        },
        charging: charging_services(&dynamodb, &sqs, config),
        commands: CommandServices {
            store: Arc::new(commands::Commands(table(&config.commands_table, "COMMANDS_TABLE"))),
            queue: Arc::new(commands::CommandQueues {
                client: sqs.clone(),
                commands_url: config.commands_queue_url.clone(),
                deadlines_url: config.command_deadlines_queue_url.clone(),
            }),
            local_lists: Arc::new(local_list::LocalLists(table(&config.commands_table, "COMMANDS_TABLE"))),
        },
        organisations: Arc::new(organisations::Organisations(table(
            &config.organisations_table,
            "ORGANISATIONS_TABLE",
        ))),
    }
}

/// The limits' ports (`LIMITS_TABLE`): shared rate counts and drivers' pending commands.
pub fn limit_ports(sdk: &aws_config::SdkConfig, config: &Config) -> csms_domain::limits::LimitPorts {
    limit_ports_with(&aws_sdk_dynamodb::Client::new(sdk), config)
}

/// Like [`limit_ports`], with a client built by the caller.
pub fn limit_ports_with(dynamodb: &aws_sdk_dynamodb::Client, config: &Config) -> csms_domain::limits::LimitPorts {
    let table = Arc::new(limits::Limits(dynamo::Table::new(
        dynamodb.clone(),
        config.limits_table.clone(),
        "LIMITS_TABLE",
    )));
    csms_domain::limits::LimitPorts {
        counters: table.clone(),
        pending: table,
    }
}

/// Loads the SDK configuration from the environment and builds the reservation adapters.
pub async fn reservation_services_from_env() -> Result<ReservationServices, config::ConfigError> {
    let (sdk, config) = environment().await?;
    Ok(reservation_services_for(&sdk, &config))
}

/// The reservation adapters for a loaded SDK configuration.
pub fn reservation_services_for(sdk: &aws_config::SdkConfig, config: &Config) -> ReservationServices {
    reservation_services(
        aws_sdk_dynamodb::Client::new(sdk),
        aws_sdk_sqs::Client::new(sdk),
        aws_sdk_scheduler::Client::new(sdk),
        config,
    )
}

/// The reservation adapters, with clients built by the caller (the stand-in points the
/// scheduler client at its own scheduler).
pub fn reservation_services(
    dynamodb: aws_sdk_dynamodb::Client,
    sqs: aws_sdk_sqs::Client,
    scheduler: aws_sdk_scheduler::Client,
    config: &Config,
) -> ReservationServices {
    ReservationServices {
        store: Arc::new(reservations::Reservations(dynamo::Table::new(
            dynamodb,
            config.reservations_table.clone(),
            "RESERVATIONS_TABLE",
        ))),
        schedules: Arc::new(reservations::Schedules {
            client: scheduler,
            target: config.reservation_schedules.clone(),
        }),
        signals: Arc::new(reservations::ReservationQueue {
            client: sqs,
            url: config.reservation_events_queue_url.clone(),
        }),
        // Billing (issue 11) plugs in here to price reservations and no-shows.
        fees: Arc::new(NoFees),
        settings: config.reservation_settings,
    }
}

fn charging_services(
    dynamodb: &aws_sdk_dynamodb::Client,
    sqs: &aws_sdk_sqs::Client,
    config: &Config,
) -> ChargingServices {
    let table = |name: &Option<String>, var: &'static str| dynamo::Table::new(dynamodb.clone(), name.clone(), var);
    let transactions = Arc::new(charging::Transactions(table(
        &config.transactions_table,
        "TRANSACTIONS_TABLE",
    )));
    let queues = Arc::new(charging::SessionQueues {
        client: sqs.clone(),
        events_url: config.session_events_queue_url.clone(),
        completed_url: config.session_completed_queue_url.clone(),
    });
    ChargingServices {
        tokens: Arc::new(charging::Tokens(table(&config.tokens_table, "TOKENS_TABLE"))),
        transaction_ids: transactions.clone(),
        start_claims: transactions.clone(),
        transactions: transactions.clone(),
        seq_nos: transactions,
        anomalies: Arc::new(charging::Anomalies(table(&config.anomalies_table, "ANOMALIES_TABLE"))),
        session_events: queues.clone(),
        sessions: Arc::new(charging::Sessions(table(&config.sessions_table, "SESSIONS_TABLE"))),
        series: Arc::new(series::Series(table(&config.meter_series_table, "METER_SERIES_TABLE"))),
        session_completed: queues,
    }
}
