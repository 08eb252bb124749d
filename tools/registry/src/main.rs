//! `csms-registry`: the operator's tool for stations. It uses the same domain code and AWS
//! adapters as the functions; resource names come from the environment (`STATIONS_TABLE`, ...),
//! as `scripts/run.sh` writes them for the local stack and the CDK outputs name them in AWS.

use chrono::{DateTime, Utc};
use clap::{Parser, Subcommand};
use csms_domain::registry::{self, NewStation};
use csms_domain::{GeoPoint, Password, ProtocolVersion, Registration, Services, StationId};
use serde_json::json;
use std::process::ExitCode;

#[derive(Parser)]
#[command(name = "csms-registry", about = "Register and inspect charging stations", version)]
struct Cli {
    /// Print JSON instead of text.
    #[arg(long, global = true)]
    json: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Register a station. Prints its password once: only a hash is stored.
    Register {
        #[arg(long)]
        id: String,
        /// ocpp1.6 or ocpp2.0.1; repeat to allow both, in order of preference.
        #[arg(long = "protocol", required = true)]
        protocols: Vec<String>,
        #[arg(long)]
        site: Option<String>,
        #[arg(long, requires = "longitude", allow_negative_numbers = true)]
        latitude: Option<f64>,
        #[arg(long, requires = "latitude", allow_negative_numbers = true)]
        longitude: Option<f64>,
        /// 16-40 characters from a-z A-Z 0-9 *-_=:+|@. ; generated when left out.
        #[arg(long, env = "CSMS_STATION_PASSWORD", hide_env_values = true)]
        password: Option<String>,
        /// Accepted, Pending or Rejected: the answer to the station's BootNotification.
        #[arg(long, default_value = "Accepted")]
        registration: String,
    },
    /// Give a station a new password (generated unless given). Prints it once.
    RotatePassword {
        #[arg(long)]
        id: String,
        #[arg(long, env = "CSMS_STATION_PASSWORD", hide_env_values = true)]
        password: Option<String>,
    },
    /// Set the answer to the station's next BootNotification.
    SetRegistration {
        #[arg(long)]
        id: String,
        #[arg(long)]
        registration: String,
    },
    /// List stations with their connection and connector status.
    List,
    /// One station in detail, with its recent status history.
    Show {
        #[arg(long)]
        id: String,
        #[arg(long, default_value_t = 20)]
        history: usize,
    },
}

#[derive(Debug, thiserror::Error)]
enum CliError {
    #[error("{0}")]
    Usage(String),
    #[error(transparent)]
    Registry(#[from] registry::RegistryError),
    #[error("storage: {0}")]
    Store(#[from] csms_domain::StoreError),
    #[error("configuration: {0}")]
    Config(#[from] csms_aws::config::ConfigError),
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            let mut message = e.to_string();
            let mut source = std::error::Error::source(&e);
            while let Some(s) = source {
                message.push_str(&format!(": {s}"));
                source = s.source();
            }
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> Result<(), CliError> {
    let services = csms_aws::services_from_env().await?;
    match cli.command {
        Command::Register {
            id,
            protocols,
            site,
            latitude,
            longitude,
            password,
            registration,
        } => {
            let new = NewStation {
                id: station_id(&id)?,
                protocols: protocols.iter().map(|p| protocol(p)).collect::<Result<_, _>>()?,
                registration: registration_status(&registration)?,
                site,
                location: match (latitude, longitude) {
                    (Some(lat), Some(lon)) => Some(
                        GeoPoint::new(lat, lon)
                            .ok_or_else(|| usage("latitude must be -90..90 and longitude -180..180"))?,
                    ),
                    _ => None,
                },
                password: password
                    .as_deref()
                    .map(Password::parse)
                    .transpose()
                    .map_err(registry::RegistryError::from)?,
            };
            let password = registry::register(&services, new, Utc::now()).await?;
            print_password(cli.json, &id, &password);
        }
        Command::RotatePassword { id, password } => {
            let password = password
                .as_deref()
                .map(Password::parse)
                .transpose()
                .map_err(registry::RegistryError::from)?;
            let password = registry::rotate_password(&services, &station_id(&id)?, password).await?;
            print_password(cli.json, &id, &password);
        }
        Command::SetRegistration { id, registration } => {
            registry::set_registration(&services, &station_id(&id)?, registration_status(&registration)?).await?;
            if !cli.json {
                println!("{id}: registration {registration}");
            }
        }
        Command::List => list(&services, cli.json).await?,
        Command::Show { id, history } => show(&services, &station_id(&id)?, history, cli.json).await?,
    }
    Ok(())
}

fn usage(message: &str) -> CliError {
    CliError::Usage(message.to_owned())
}

fn station_id(raw: &str) -> Result<StationId, CliError> {
    StationId::parse(raw).map_err(|e| CliError::Usage(format!("station id {raw:?}: {e}")))
}

fn protocol(raw: &str) -> Result<ProtocolVersion, CliError> {
    ProtocolVersion::parse(raw).ok_or_else(|| CliError::Usage(format!("protocol {raw:?}: use ocpp1.6 or ocpp2.0.1")))
}

fn registration_status(raw: &str) -> Result<Registration, CliError> {
    Registration::parse(raw)
        .ok_or_else(|| CliError::Usage(format!("registration {raw:?}: use Accepted, Pending or Rejected")))
}

fn print_password(as_json: bool, id: &str, password: &Password) {
    if as_json {
        println!("{}", json!({ "stationId": id, "password": password.expose() }));
    } else {
        println!("station:  {id}");
        println!(
            "password: {}   (shown once; only its hash is stored)",
            password.expose()
        );
    }
}

fn time(t: Option<DateTime<Utc>>) -> String {
    t.map(|t| t.format("%Y-%m-%d %H:%M:%S").to_string())
        .unwrap_or_else(|| "-".into())
}

async fn list(services: &Services, as_json: bool) -> Result<(), CliError> {
    let stations = services.stations.list().await?;
    let connection_ids: Vec<String> = stations.iter().filter_map(|s| s.connection_id.clone()).collect();
    let connections = services.connections.get_many(&connection_ids).await?;
    let mut rows = Vec::new();
    for station in &stations {
        let connection = connections
            .iter()
            .find(|c| Some(&c.connection_id) == station.connection_id.as_ref());
        let mut connectors = services.availability.list(&station.id).await?;
        connectors.sort_by_key(|a| a.component);
        rows.push(json!({
            "stationId": station.id.as_str(),
            "registration": station.registration.as_str(),
            "online": station.online,
            "protocol": connection.map(|c| c.protocol.as_str()),
            "connectedAt": connection.map(|c| c.connected_at),
            "lastSeenAt": connection.map(|c| c.last_seen_at),
            "boot": station.boot.as_ref().map(|b| json!({"status": b.status.as_str(), "vendor": b.vendor, "model": b.model, "at": b.at})),
            "site": station.site,
            "connectors": connectors.iter().map(|a| json!({
                "component": a.component.key(), "status": a.status, "errorCode": a.error_code, "since": a.since,
            })).collect::<Vec<_>>(),
        }));
        if !as_json {
            let status = if station.online { "online" } else { "offline" };
            let connectors = connectors
                .iter()
                .map(|a| format!("{}={}", a.component, a.status))
                .collect::<Vec<_>>()
                .join(" ");
            println!(
                "{:<20} {:<8} {:<10} {:<10} seen {:<20} {}",
                station.id.as_str(),
                status,
                connection.map(|c| c.protocol.as_str()).unwrap_or("-"),
                station.boot.as_ref().map(|b| b.status.as_str()).unwrap_or("not booted"),
                time(connection.map(|c| c.last_seen_at)),
                if connectors.is_empty() {
                    "no connector status yet".into()
                } else {
                    connectors
                },
            );
        }
    }
    if as_json {
        println!("{}", serde_json::Value::Array(rows));
    } else if stations.is_empty() {
        println!("no stations registered");
    }
    Ok(())
}

async fn show(services: &Services, id: &StationId, history: usize, as_json: bool) -> Result<(), CliError> {
    let station = services
        .stations
        .get(id)
        .await?
        .ok_or(registry::RegistryError::UnknownStation)?;
    let reports = services.history.list(id, history).await?;
    if as_json {
        println!(
            "{}",
            json!({
                "stationId": id.as_str(),
                "protocols": station.protocols.iter().map(|p| p.as_str()).collect::<Vec<_>>(),
                "registration": station.registration.as_str(),
                "online": station.online,
                "site": station.site,
                "location": station.location.map(|l| json!({"latitude": l.latitude(), "longitude": l.longitude()})),
                "boot": station.boot.as_ref().map(|b| json!({"status": b.status.as_str(), "vendor": b.vendor, "model": b.model,
                    "serialNumber": b.serial_number, "firmwareVersion": b.firmware_version, "at": b.at})),
                "history": reports.iter().map(|r| json!({"component": r.component.key(), "status": r.status,
                    "errorCode": r.error_code, "timestamp": r.timestamp})).collect::<Vec<_>>(),
            })
        );
        return Ok(());
    }
    println!("station:      {id}");
    println!(
        "protocols:    {}",
        station
            .protocols
            .iter()
            .map(|p| p.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    );
    println!("registration: {}", station.registration.as_str());
    println!("online:       {}", station.online);
    if let Some(boot) = &station.boot {
        println!(
            "boot:         {} {} {} (fw {}) at {}",
            boot.status.as_str(),
            boot.vendor,
            boot.model,
            boot.firmware_version.as_deref().unwrap_or("-"),
            time(Some(boot.at))
        );
    }
    println!("history (newest first):");
    for r in reports {
        println!(
            "  {}  {:<22} {}",
            time(Some(r.timestamp)),
            r.component.to_string(),
            r.status
        );
    }
    Ok(())
}
