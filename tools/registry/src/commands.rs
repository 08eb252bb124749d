//! `csms-registry command` and `commands`: remote commands to stations, through the commands
//! queue like every other sender, and their outcome.

use ::commands::request::{self, RequestError};
use chrono::{Duration, Utc};
use csms_domain::command::{self, Command, CommandRecord, CommandState};
use csms_domain::local_list::{self, ListChange};
use csms_domain::{ProtocolVersion, Services, StationId};
use serde_json::{Value, json};

use crate::CliError;

impl From<RequestError> for CliError {
    fn from(e: RequestError) -> Self {
        CliError::Usage(e.to_string())
    }
}

pub struct CommandArgs {
    pub station: StationId,
    pub action: String,
    pub payload: String,
    pub timeout_seconds: i64,
    pub protocol: Option<ProtocolVersion>,
    pub wait: bool,
}

/// Submits a command; with `wait`, polls until it is answered, refused or failed (its deadline
/// bounds the wait) and prints the outcome. Exits non-zero when it failed.
pub async fn send(services: &Services, args: CommandArgs, as_json: bool) -> Result<(), CliError> {
    let payload: Value = serde_json::from_str(&args.payload)
        .map_err(|e| CliError::Usage(format!("payload is not JSON ({e}): {}", args.payload)))?;
    let station = services
        .stations
        .get(&args.station)
        .await?
        .ok_or_else(|| RequestError::UnknownStation(args.station.clone()))?;
    let protocol = match args.protocol {
        Some(p) => p,
        None => request::station_protocol(services, &args.station).await?,
    };
    let now = Utc::now();
    let command = request::new_command(
        args.station.clone(),
        protocol,
        &args.action,
        payload,
        Duration::seconds(args.timeout_seconds),
        now,
    )?;
    // The tool is not the token's driver either: its remote starts use service tokens.
    request::check_not_on_a_drivers_token(services, &station, &command).await?;
    submit(services, command, args.wait, as_json).await
}

/// `local-list`: plans the station's next local list update (full or differential, from the
/// token registry) and sends it as a SendLocalList command.
pub async fn local_list(
    services: &Services,
    station: StationId,
    change: ListChange,
    timeout_seconds: i64,
    wait: bool,
    as_json: bool,
) -> Result<(), CliError> {
    let (record, protocol) = request::target(services, &station).await?;
    let id = request::new_id();
    let now = Utc::now();
    let update = local_list::plan(
        &*services.commands.local_lists,
        &*services.charging.tokens,
        record.organisation.as_deref(),
        &station,
        change,
        id.as_str(),
        now,
    )
    .await
    .map_err(|e| CliError::Usage(e.to_string()))?;
    if !as_json {
        println!(
            "local list version {} ({}, {} entries)",
            update.version,
            update.update_type.as_str(),
            update.entries.len()
        );
    }
    let payload = csms_aws::local_list::send_local_list_payload(protocol, &update);
    let timeout = Duration::seconds(timeout_seconds);
    let command = request::new_command_with_id(id, station, protocol, "SendLocalList", payload, timeout, now)?;
    submit(services, command, wait, as_json).await
}

async fn submit(services: &Services, command: Command, wait: bool, as_json: bool) -> Result<(), CliError> {
    command::submit(&*services.commands.queue, &command)
        .await
        .map_err(|e| CliError::Usage(e.to_string()))?;
    follow(services, command, wait, as_json).await
}

/// `start`: a remote start for a registered token, by the same use case as the app API's (the
/// token must be Accepted; a connector reserved for another token is refused).
pub async fn start(
    services: &Services,
    reservations: &csms_domain::reservation::ReservationServices,
    station: StationId,
    token: &str,
    connector: Option<u32>,
    wait: bool,
    as_json: bool,
) -> Result<(), CliError> {
    use csms_domain::remote_charging::{self, StartCharging, StartPorts};
    let presented = csms_domain::IdToken::parse_201(token, csms_domain::IdTokenType::Central)
        .map_err(|e| CliError::Usage(format!("--token: {e}")))?;
    // The station's organisation's registry answers for the token, as at the pile.
    let organisation = services
        .stations
        .get(&station)
        .await?
        .ok_or_else(|| CliError::Usage(format!("no station {station}")))?
        .organisation;
    let record = services
        .charging
        .tokens
        .get(organisation.as_deref(), &presented)
        .await?
        .ok_or_else(|| {
            CliError::Usage(format!(
                "no id token {token} is registered for this station's organisation"
            ))
        })?;
    let orders = ::commands::orders::OcppOrders {
        queue: services.commands.queue.clone(),
    };
    let ports = StartPorts {
        stations: &*services.stations,
        connections: &*services.connections,
        reservations: &*reservations.store,
        orders: &orders,
    };
    let request = StartCharging {
        station: &station,
        token: &record,
        spot: connector,
        requested_by: None,
    };
    let command = remote_charging::start(ports, &request, Utc::now())
        .await
        .map_err(|e| CliError::Usage(e.to_string()))?;
    follow(services, command, wait, as_json).await
}

/// Prints a submitted command; with `wait`, its outcome once it has one.
async fn follow(services: &Services, command: Command, wait: bool, as_json: bool) -> Result<(), CliError> {
    let station = command.station.clone();
    if !wait {
        if as_json {
            println!(
                "{}",
                json!({"commandId": command.id.as_str(), "stationId": station.as_str(), "state": "Submitted"})
            );
        } else {
            println!("command {} ({}) submitted to {}", command.id, command.action, station);
        }
        return Ok(());
    }
    // The deadline check runs at the deadline; allow the queues a little time on top.
    let give_up = command.deadline + Duration::seconds(10);
    loop {
        let record = services.commands.store.get(&station, &command.id).await?;
        if let Some(record) = record.filter(|r| r.state.is_final()) {
            print_record(&record, as_json);
            return match record.state {
                CommandState::Failed { reason, .. } => {
                    Err(CliError::Usage(format!("command {} failed: {reason}", command.id)))
                }
                _ => Ok(()),
            };
        }
        if Utc::now() > give_up {
            return Err(CliError::Usage(format!(
                "command {} has no outcome yet; see `csms-registry commands --id {}`",
                command.id, station
            )));
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
}

pub async fn list(services: &Services, station: &StationId, as_json: bool) -> Result<(), CliError> {
    let records = services.commands.store.list(station).await?;
    if as_json {
        let list: Vec<Value> = records.iter().map(record_json).collect();
        println!("{}", json!({"stationId": station.as_str(), "commands": list}));
        return Ok(());
    }
    if records.is_empty() {
        println!("{station}: no commands");
    }
    for record in &records {
        print_record(record, false);
    }
    Ok(())
}

fn print_record(record: &CommandRecord, as_json: bool) {
    if as_json {
        println!("{}", record_json(record));
        return;
    }
    let c = &record.command;
    let outcome = match &record.state {
        CommandState::Queued => "queued".to_owned(),
        CommandState::Sent { .. } => "sent, awaiting the answer".to_owned(),
        CommandState::Answered { payload, .. } => format!("answered {payload}"),
        CommandState::Refused { code, description, .. } => format!("refused {code}: {description}"),
        CommandState::Failed { reason, .. } => format!("failed: {reason}"),
    };
    println!(
        "{} {} {:<24} {}",
        c.created_at.format("%Y-%m-%d %H:%M:%S"),
        c.id,
        c.action,
        outcome
    );
}

pub fn record_json(record: &CommandRecord) -> Value {
    let c = &record.command;
    let mut v = json!({
        "commandId": c.id.as_str(),
        "stationId": c.station.as_str(),
        "protocol": c.protocol.as_str(),
        "action": c.action,
        "request": serde_json::from_str::<Value>(&c.payload).unwrap_or(Value::Null),
        "createdAt": c.created_at,
        "deadline": c.deadline,
        "state": record.state.kind().as_str(),
    });
    match &record.state {
        CommandState::Queued => {}
        CommandState::Sent { at } => v["sentAt"] = json!(at),
        CommandState::Answered { at, payload } => {
            v["completedAt"] = json!(at);
            v["answer"] = serde_json::from_str(payload).unwrap_or(Value::Null);
        }
        CommandState::Refused { at, code, description } => {
            v["completedAt"] = json!(at);
            v["error"] = json!({"code": code, "description": description});
        }
        CommandState::Failed { at, reason } => {
            v["completedAt"] = json!(at);
            v["failure"] = json!({"reason": reason.as_str(), "description": reason.describe()});
        }
    }
    v
}
