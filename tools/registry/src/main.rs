//! `csms-registry`: the operator's tool for stations, id tokens and charging sessions. It uses the same domain code and AWS
//! adapters as the functions; resource names come from the environment (`STATIONS_TABLE`, ...),
//! as `scripts/run.sh` writes them for the local stack and the CDK outputs name them in AWS.

mod commands;
mod drivers;
mod organisations;

use chrono::{DateTime, SecondsFormat, Utc};
use clap::{Parser, Subcommand};
use csms_domain::command::CommandRecord;
use csms_domain::local_list::ListChange;
use csms_domain::registry::{self, NewStation};
use csms_domain::session;
use csms_domain::token_registry;
use csms_domain::{
    AuthorizationStatus, Connector, ConnectorType, GeoPoint, IdToken, IdTokenType, OrganisationId, PageRequest,
    Password, ProtocolVersion, Registration, Services, Session, StationChanges, StationId, TokenRecord, TransactionKey,
};
use serde_json::json;
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "csms-registry",
    about = "Register and inspect charging stations, id tokens, charging sessions and organisations",
    version
)]
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
        /// The organisation that operates it: its operators see and act on it through the app API.
        #[arg(long)]
        organisation: Option<String>,
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
        /// A connector as `[EVSE/]CONNECTOR:TYPE:WATTS`, e.g. `1/1:cCCS2:150000` (2.0.1) or
        /// `1:cType2:22000` (1.6); TYPE in OCPP 2.0.1 ConnectorEnumType words. Repeat per connector.
        #[arg(long = "connector", value_name = "SPEC")]
        connectors: Vec<String>,
    },
    /// Change a station: protocols, registration, site, location, connectors. Options left out
    /// leave things as they are.
    Update {
        #[arg(long)]
        id: String,
        /// ocpp1.6 or ocpp2.0.1; repeat to allow both, in order of preference.
        #[arg(long = "protocol")]
        protocols: Vec<String>,
        #[arg(long)]
        registration: Option<String>,
        #[arg(long, conflicts_with = "clear_site")]
        site: Option<String>,
        #[arg(long)]
        clear_site: bool,
        #[arg(
            long,
            requires = "longitude",
            allow_negative_numbers = true,
            conflicts_with = "clear_location"
        )]
        latitude: Option<f64>,
        #[arg(long, requires = "latitude", allow_negative_numbers = true)]
        longitude: Option<f64>,
        #[arg(long)]
        clear_location: bool,
        /// Replaces the declared connectors: `[EVSE/]CONNECTOR:TYPE:WATTS`, repeated.
        #[arg(long = "connector", value_name = "SPEC", conflicts_with = "clear_connectors")]
        connectors: Vec<String>,
        #[arg(long)]
        clear_connectors: bool,
    },
    /// Set the protocols a station may connect with (from its next connect).
    SetProtocols {
        #[arg(long)]
        id: String,
        #[arg(long = "protocol", required = true)]
        protocols: Vec<String>,
    },
    /// Take a station out of service: its record goes and its live connection is closed; its
    /// sessions, history and commands stay, and the id may be registered again.
    Decommission {
        #[arg(long)]
        id: String,
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
    /// The id token registry that answers Authorize and the idTagInfo / idTokenInfo of transactions.
    Token {
        #[command(subcommand)]
        command: TokenCommand,
    },
    /// Organisations: `org add|list|show`.
    Org {
        #[command(subcommand)]
        command: organisations::OrgCommand,
    },
    /// Who operates for which organisation: `operator add|remove|list`.
    Operator {
        #[command(subcommand)]
        command: organisations::OperatorCommand,
    },
    /// A driver's data on request: `driver export|erase --subject <sub>`.
    Driver {
        #[command(subcommand)]
        command: drivers::DriverCommand,
    },
    /// A station's charging sessions, oldest first.
    Sessions {
        #[arg(long)]
        id: String,
    },
    /// What a station sent that needs an operator: stops for unknown transactions, seqNo gaps, ...
    Anomalies {
        #[arg(long)]
        id: String,
    },
    /// Send a remote command (a CALL) to a station, e.g.
    /// `command --id CP-1 RemoteStartTransaction '{"idTag":"ABC"}' --wait`.
    #[allow(clippy::enum_variant_names)] // `csms-registry command` reads best.
    Command {
        #[arg(long)]
        id: String,
        /// The OCPP action: 1.6 RemoteStartTransaction, RemoteStopTransaction, Reset, UnlockConnector,
        /// ChangeAvailability, ChangeConfiguration, GetConfiguration, ClearCache, TriggerMessage,
        /// DataTransfer, SendLocalList, GetLocalListVersion, ReserveNow, CancelReservation; 2.0.1
        /// RequestStartTransaction, RequestStopTransaction, Reset, UnlockConnector, ChangeAvailability,
        /// SetVariables, GetVariables, GetBaseReport, TriggerMessage, ClearCache, SendLocalList,
        /// GetLocalListVersion, ReserveNow, CancelReservation. (Reservations are best made through
        /// the app API, which holds the connector and expires them.)
        action: String,
        /// The request payload as JSON, checked against the action's schema before it is queued.
        #[arg(default_value = "{}")]
        payload: String,
        /// Seconds the station has to answer (1-900).
        #[arg(long, default_value_t = 30)]
        timeout: i64,
        /// ocpp1.6 or ocpp2.0.1; by default the version of the station's live connection.
        #[arg(long)]
        protocol: Option<String>,
        /// Wait for the answer and print it; exit non-zero if the command failed.
        #[arg(long)]
        wait: bool,
    },
    /// Start charging with a registered token (the station's remote start), by the app API's
    /// rules: the token must be Accepted, and a connector reserved for another token is refused.
    Start {
        #[arg(long)]
        id: String,
        #[arg(long)]
        token: String,
        /// 1.6: the connector; 2.0.1: the EVSE. Left out: the token's reserved one, else the
        /// station picks.
        #[arg(long)]
        connector: Option<u32>,
        /// Wait for the station's answer and print it.
        #[arg(long)]
        wait: bool,
    },
    /// A station's remote commands and their outcome, oldest first.
    Commands {
        #[arg(long)]
        id: String,
    },
    /// Update a station's local authorization list (SendLocalList): the entries carry each
    /// token's status, expiry and group from the registry. Differential when the CSMS knows the
    /// pile's list, else full.
    LocalList {
        #[arg(long)]
        id: String,
        /// Exactly these tokens (a full update).
        #[arg(long, num_args = 0.., conflicts_with_all = ["add", "remove", "resync"])]
        set: Option<Vec<String>>,
        /// Add these tokens, or refresh their authorization from the registry.
        #[arg(long, num_args = 1.., conflicts_with_all = ["remove", "resync"])]
        add: Option<Vec<String>>,
        /// Remove these tokens.
        #[arg(long, num_args = 1.., conflicts_with = "resync")]
        remove: Option<Vec<String>>,
        /// Send the whole list again (after a VersionMismatch, or to repair a pile).
        #[arg(long)]
        resync: bool,
        #[arg(long, default_value_t = 30)]
        timeout: i64,
        #[arg(long)]
        wait: bool,
    },
}

#[derive(Subcommand)]
enum TokenCommand {
    /// Register a token, replacing any with the same value (tokens ignore case).
    Add {
        /// The 1.6 idTag or 2.0.1 idToken: up to 20 printable ASCII characters without --type,
        /// up to 36 with it.
        #[arg(long)]
        token: String,
        /// Central, eMAID, ISO14443, ISO15693, KeyCode, Local, MacAddress or NoAuthorization. A
        /// typed token only answers that type; an untyped one answers any.
        #[arg(long = "type", value_name = "TYPE")]
        kind: Option<String>,
        /// Accepted, Blocked, Expired or Invalid.
        #[arg(long, default_value = "Accepted")]
        status: String,
        /// RFC 3339, e.g. 2027-01-01T00:00:00Z; an Accepted token is Expired from then on.
        #[arg(long)]
        expiry: Option<String>,
        /// The group (1.6 parentIdTag, 2.0.1 groupIdToken). Up to 20 characters it is sent to
        /// both versions; a longer one (up to 36) is a Central token that only 2.0.1 receives.
        #[arg(long)]
        group: Option<String>,
        /// The organisation that issues it: its stations accept it and its operators manage it
        /// through the app API. Without one, it works at stations registered without one. A
        /// token is a driver's only when they redeem a claim code (`token claim-code`).
        #[arg(long)]
        organisation: Option<String>,
    },
    /// Make a claim code for a token: the driver who redeems it in the app
    /// (`POST /v1/me/tokens`) owns the token. A newer code replaces the earlier one.
    ClaimCode {
        #[arg(long)]
        token: String,
        /// The organisation that issued it (none: a token registered without one).
        #[arg(long)]
        organisation: Option<String>,
    },
    /// List the registered tokens.
    List,
}

#[derive(Debug, thiserror::Error)]
pub(crate) enum CliError {
    #[error("{0}")]
    Usage(String),
    #[error(transparent)]
    Registry(#[from] registry::RegistryError),
    #[error(transparent)]
    Tokens(#[from] token_registry::TokenRegistryError),
    #[error("storage: {0}")]
    Store(#[from] csms_domain::StoreError),
    #[error("configuration: {0}")]
    Config(#[from] csms_aws::config::ConfigError),
    #[error(transparent)]
    Organisation(#[from] csms_domain::organisation::OrganisationError),
    #[error(transparent)]
    Privacy(#[from] csms_domain::privacy::PrivacyError),
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
            organisation,
            latitude,
            longitude,
            password,
            registration,
            connectors,
        } => {
            let new = NewStation {
                id: station_id(&id)?,
                protocols: protocols.iter().map(|p| protocol(p)).collect::<Result<_, _>>()?,
                registration: registration_status(&registration)?,
                site,
                organisation: organisation
                    .as_deref()
                    .map(organisation_id)
                    .transpose()?
                    .map(|o| o.as_str().to_owned()),
                location: match (latitude, longitude) {
                    (Some(lat), Some(lon)) => Some(
                        GeoPoint::new(lat, lon)
                            .ok_or_else(|| usage("latitude must be -90..90 and longitude -180..180"))?,
                    ),
                    _ => None,
                },
                connectors: connectors.iter().map(|c| connector(c)).collect::<Result<_, _>>()?,
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
        Command::Update {
            id,
            protocols,
            registration,
            site,
            clear_site,
            latitude,
            longitude,
            clear_location,
            connectors,
            clear_connectors,
        } => {
            let changes = StationChanges {
                protocols: (!protocols.is_empty())
                    .then(|| protocols.iter().map(|p| protocol(p)).collect::<Result<Vec<_>, _>>())
                    .transpose()?,
                registration: registration.as_deref().map(registration_status).transpose()?,
                site: if clear_site { Some(None) } else { site.map(Some) },
                location: match (latitude, longitude, clear_location) {
                    (_, _, true) => Some(None),
                    (Some(lat), Some(lon), _) => {
                        Some(Some(GeoPoint::new(lat, lon).ok_or_else(|| {
                            usage("latitude must be -90..90 and longitude -180..180")
                        })?))
                    }
                    _ => None,
                },
                connectors: if clear_connectors {
                    Some(Vec::new())
                } else {
                    (!connectors.is_empty())
                        .then(|| connectors.iter().map(|c| connector(c)).collect::<Result<Vec<_>, _>>())
                        .transpose()?
                },
            };
            registry::update(&services, &station_id(&id)?, changes).await?;
            if !cli.json {
                println!("{id}: updated");
            }
        }
        Command::SetProtocols { id, protocols } => {
            let changes = StationChanges {
                protocols: Some(protocols.iter().map(|p| protocol(p)).collect::<Result<_, _>>()?),
                ..StationChanges::default()
            };
            registry::update(&services, &station_id(&id)?, changes).await?;
            if !cli.json {
                println!("{id}: protocols {}", protocols.join(", "));
            }
        }
        Command::Decommission { id } => {
            let station = registry::decommission(&services, &station_id(&id)?).await?;
            if cli.json {
                println!(
                    "{}",
                    json!({"stationId": id, "decommissioned": true, "wasOnline": station.online})
                );
            } else {
                println!("{id}: decommissioned");
            }
        }
        Command::List => list(&services, cli.json).await?,
        Command::Show { id, history } => show(&services, &station_id(&id)?, history, cli.json).await?,
        Command::Token {
            command:
                TokenCommand::Add {
                    token,
                    kind,
                    status,
                    expiry,
                    group,
                    organisation,
                },
        } => {
            let organisation = organisation.as_deref().map(organisation_id).transpose()?;
            let record = TokenRecord {
                token: id_token(&token, kind.as_deref())?,
                status: AuthorizationStatus::parse(&status).ok_or_else(|| {
                    CliError::Usage(format!("status {status:?}: use Accepted, Blocked, Expired or Invalid"))
                })?,
                expiry: expiry.as_deref().map(rfc3339).transpose()?,
                group: group.as_deref().map(group_token).transpose()?,
                owner: None,
                organisation: None,
            };
            let organisation = organisation.as_ref().map(OrganisationId::as_str);
            let (record, _) = token_registry::put(&*services.charging.tokens, organisation, record).await?;
            if cli.json {
                println!("{}", token_json(&record, Utc::now()));
            } else {
                println!("token {}: {}", record.token, record.status.as_str());
            }
        }
        Command::Token {
            command: TokenCommand::ClaimCode { token, organisation },
        } => {
            let organisation = organisation.as_deref().map(organisation_id).transpose()?;
            let organisation = organisation.as_ref().map(OrganisationId::as_str);
            let token = id_token(&token, None)?;
            let (code, expires_at) =
                token_registry::offer(&*services.charging.tokens, organisation, &token, Utc::now()).await?;
            if cli.json {
                let at = expires_at.to_rfc3339_opts(SecondsFormat::Secs, true);
                println!(
                    "{}",
                    json!({"token": token.as_str(), "claimCode": code.expose(), "expiresAt": at})
                );
            } else {
                println!("token {token}: claim code {} (until {expires_at})", code.expose());
            }
        }
        Command::Token {
            command: TokenCommand::List,
        } => tokens(&services, cli.json).await?,
        Command::Org { command } => organisations::org(&services, command, cli.json).await?,
        Command::Operator { command } => organisations::operator(&services, command, cli.json).await?,
        Command::Driver { command } => drivers::driver(&services, command, cli.json).await?,
        Command::Sessions { id } => sessions(&services, &station_id(&id)?, cli.json).await?,
        Command::Anomalies { id } => anomalies(&services, &station_id(&id)?, cli.json).await?,
        Command::Command {
            id,
            action,
            payload,
            timeout,
            protocol: version,
            wait,
        } => {
            let args = commands::CommandArgs {
                station: station_id(&id)?,
                action,
                payload,
                timeout_seconds: timeout,
                protocol: version.as_deref().map(protocol).transpose()?,
                wait,
            };
            commands::send(&services, args, cli.json).await?
        }
        Command::Start {
            id,
            token,
            connector,
            wait,
        } => {
            let reservations = csms_aws::reservation_services_from_env().await?;
            let station = station_id(&id)?;
            commands::start(&services, &reservations, station, &token, connector, wait, cli.json).await?
        }
        Command::Commands { id } => commands::list(&services, &station_id(&id)?, cli.json).await?,
        Command::LocalList {
            id,
            set,
            add,
            remove,
            resync,
            timeout,
            wait,
        } => {
            let tokens = |list: Vec<String>| list.iter().map(|t| id_token(t, None)).collect::<Result<Vec<_>, _>>();
            let change = match (set, add, remove, resync) {
                (Some(set), None, None, false) => ListChange::Replace(tokens(set)?),
                (None, Some(add), None, false) => ListChange::Add(tokens(add)?),
                (None, None, Some(remove), false) => ListChange::Remove(tokens(remove)?),
                (None, None, None, true) => ListChange::Resync,
                _ => return Err(usage("say one of --set, --add, --remove or --resync")),
            };
            commands::local_list(&services, station_id(&id)?, change, timeout, wait, cli.json).await?
        }
    }
    Ok(())
}

fn usage(message: &str) -> CliError {
    CliError::Usage(message.to_owned())
}

/// An organisation's id: the key of its token registry, so checked like the app API's.
fn organisation_id(raw: &str) -> Result<OrganisationId, CliError> {
    OrganisationId::parse(raw).map_err(|e| CliError::Usage(format!("organisation {raw:?}: {e}")))
}

fn station_id(raw: &str) -> Result<StationId, CliError> {
    StationId::parse(raw).map_err(|e| CliError::Usage(format!("station id {raw:?}: {e}")))
}

/// `[EVSE/]CONNECTOR:TYPE:WATTS`, e.g. `1/2:cCCS2:150000` or `1:cType2:22000`.
fn connector(raw: &str) -> Result<Connector, CliError> {
    let bad = || {
        CliError::Usage(format!(
            "connector {raw:?}: use [EVSE/]CONNECTOR:TYPE:WATTS, e.g. 1/1:cCCS2:150000"
        ))
    };
    let [place, kind, watts] = raw.split(':').collect::<Vec<_>>()[..] else {
        return Err(bad());
    };
    let (evse_id, connector_id) = match place.split_once('/') {
        Some((evse, connector)) => (
            Some(evse.parse().map_err(|_| bad())?),
            connector.parse().map_err(|_| bad())?,
        ),
        None => (None, place.parse().map_err(|_| bad())?),
    };
    let kind = ConnectorType::parse(kind).ok_or_else(|| {
        let words = ConnectorType::ALL.map(ConnectorType::as_str).join(", ");
        CliError::Usage(format!("connector type {kind:?}: use one of {words}"))
    })?;
    Ok(Connector {
        evse_id,
        connector_id,
        kind,
        max_power_w: watts.parse().map_err(|_| bad())?,
    })
}

fn protocol(raw: &str) -> Result<ProtocolVersion, CliError> {
    ProtocolVersion::parse(raw).ok_or_else(|| CliError::Usage(format!("protocol {raw:?}: use ocpp1.6 or ocpp2.0.1")))
}

fn registration_status(raw: &str) -> Result<Registration, CliError> {
    Registration::parse(raw)
        .ok_or_else(|| CliError::Usage(format!("registration {raw:?}: use Accepted, Pending or Rejected")))
}

fn id_token(raw: &str, kind: Option<&str>) -> Result<IdToken, CliError> {
    let token = match kind {
        None => IdToken::parse_16(raw),
        Some(kind) => {
            let types = IdTokenType::ALL.map(IdTokenType::as_str).join(", ");
            let kind =
                IdTokenType::parse(kind).ok_or_else(|| CliError::Usage(format!("type {kind:?}: use {types}")))?;
            IdToken::parse_201(raw, kind)
        }
    };
    token.map_err(|e| CliError::Usage(format!("token {raw:?}: {e}")))
}

/// Untyped when a 1.6 parentIdTag can carry it, else a Central (CSMS-made) 2.0.1 token.
fn group_token(raw: &str) -> Result<IdToken, CliError> {
    IdToken::parse_16(raw)
        .or_else(|_| IdToken::parse_201(raw, IdTokenType::Central))
        .map_err(|e| CliError::Usage(format!("group {raw:?}: {e}")))
}

fn rfc3339(raw: &str) -> Result<DateTime<Utc>, CliError> {
    DateTime::parse_from_rfc3339(raw)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| CliError::Usage(format!("expiry {raw:?}: {e} (use RFC 3339, e.g. 2027-01-01T00:00:00Z)")))
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
            "organisation": station.organisation,
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
    let reports = services
        .history
        .list(id, station.created_at, &PageRequest::first(history))
        .await?
        .items;
    if as_json {
        println!(
            "{}",
            json!({
                "stationId": id.as_str(),
                "protocols": station.protocols.iter().map(|p| p.as_str()).collect::<Vec<_>>(),
                "registration": station.registration.as_str(),
                "online": station.online,
                "site": station.site,
                "organisation": station.organisation,
                "location": station.location.map(|l| json!({"latitude": l.latitude(), "longitude": l.longitude()})),
                "connectors": station.connectors.iter().map(|c| json!({"evseId": c.evse_id, "connectorId": c.connector_id,
                    "type": c.kind.as_str(), "maxPowerW": c.max_power_w})).collect::<Vec<_>>(),
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

/// A token record, with the status Authorize would answer for it now.
pub(crate) fn token_json(record: &TokenRecord, now: DateTime<Utc>) -> serde_json::Value {
    json!({
        "token": record.token.as_str(),
        "type": record.token.kind().map(IdTokenType::as_str),
        "status": record.status.as_str(),
        "answeredNow": record.authorization(&record.token, now).status.as_str(),
        "expiry": record.expiry,
        "group": record.group.as_ref().map(IdToken::as_str),
        "owner": record.owner,
        "organisation": record.organisation,
    })
}

async fn tokens(services: &Services, as_json: bool) -> Result<(), CliError> {
    let mut records = services.charging.tokens.list().await?;
    records.sort_by_key(|r| r.token.key());
    let now = Utc::now();
    if as_json {
        let rows: Vec<_> = records.iter().map(|r| token_json(r, now)).collect();
        println!("{}", serde_json::Value::Array(rows));
        return Ok(());
    }
    if records.is_empty() {
        println!("no tokens registered");
    }
    for r in &records {
        let answered = r.authorization(&r.token, now).status;
        let status = if answered == r.status {
            r.status.as_str().to_owned()
        } else {
            format!("{} (answered {})", r.status.as_str(), answered.as_str())
        };
        let line = format!(
            "{:<36} {:<15} {:<28} expiry {:<20} group {:<20} {}",
            r.token.as_str(),
            r.token.kind().map(IdTokenType::as_str).unwrap_or("any type"),
            status,
            time(r.expiry),
            r.group.as_ref().map(IdToken::as_str).unwrap_or("-"),
            r.owner.as_deref().unwrap_or(""),
        );
        println!("{}", line.trim_end());
    }
    Ok(())
}

/// The transaction as the station knows it, and the OCPP version it came by.
fn transaction(key: &TransactionKey) -> (String, &'static str) {
    match key {
        TransactionKey::Ocpp16(id) => (id.get().to_string(), "ocpp1.6"),
        TransactionKey::Ocpp201(id) => (id.to_string(), "ocpp2.0.1"),
    }
}

/// An exact decimal as a JSON number (serde_json keeps its digits: `arbitrary_precision`).
pub(crate) fn number(value: Option<rust_decimal::Decimal>) -> serde_json::Value {
    value
        .and_then(|d| d.normalize().to_string().parse().ok())
        .map_or(serde_json::Value::Null, serde_json::Value::Number)
}

/// Missing seqNos listed in the registry's output; the rest are counted.
const MISSING_SHOWN: usize = 20;

pub(crate) fn session_json(s: &Session, readings: usize, commands: &[CommandRecord]) -> serde_json::Value {
    let (transaction_id, protocol) = transaction(&s.transaction);
    let links = ::commands::links::links(s, commands);
    json!({
        "remoteStartCommand": links.remote_start.as_ref().map(|c| c.as_str()),
        "remoteStopCommand": links.remote_stop.as_ref().map(|c| c.as_str()),
        "transactionId": transaction_id,
        "protocol": protocol,
        "evse": s.evse,
        "connector": s.connector,
        "idToken": s.id_token.as_ref().map(|t| t.token.as_str()),
        "owner": s.owner,
        "organisation": s.organisation,
        "startedAt": s.start.as_ref().map(|x| x.at.timestamp),
        "meterStartWh": number(s.start.as_ref().and_then(|x| x.meter_start_wh)),
        "startReason": s.start.as_ref().and_then(|x| x.reason.as_deref()),
        "remoteStartId": s.start.as_ref().and_then(|x| x.remote_start_id),
        "stoppedAt": s.stop.as_ref().map(|x| x.at.timestamp),
        "meterStopWh": number(s.stop.as_ref().and_then(|x| x.meter_stop_wh)),
        "stopReason": s.stop.as_ref().map(|x| x.reason.as_str()),
        "stoppedBy": s.stop.as_ref().and_then(|x| x.id_token.as_ref()).map(IdToken::as_str),
        "energyWh": number(s.energy_wh()),
        "durationSeconds": s.completion.as_ref().map(|c| c.duration_seconds),
        "completed": s.is_completed(),
        "offline": s.offline,
        "readings": readings,
        "missingSeqNos": s.missing_seq_nos(MISSING_SHOWN),
        "missingSeqNoCount": s.seq_nos.missing_count(),
    })
}

async fn sessions(services: &Services, id: &StationId, as_json: bool) -> Result<(), CliError> {
    let mut sessions = services.charging.sessions.list(id).await?;
    sessions.sort_by_key(|s| (s.start.as_ref().map(|x| x.at.timestamp), s.transaction.clone()));
    if as_json {
        let commands = services.commands.store.list(id).await?;
        let mut rows = Vec::with_capacity(sessions.len());
        for s in &sessions {
            // The series is paged through to count it: a tool's cost, not the API's.
            let readings = session::whole_series(&*services.charging.series, &s.station, &s.transaction).await?;
            rows.push(session_json(s, readings.len(), &commands));
        }
        println!("{}", json!({ "stationId": id.as_str(), "sessions": rows }));
        return Ok(());
    }
    if sessions.is_empty() {
        println!("{id}: no charging sessions");
    }
    for s in &sessions {
        let (transaction_id, protocol) = transaction(&s.transaction);
        let missing = s.missing_seq_nos(MISSING_SHOWN);
        println!(
            "{:<36} {:<9} token {:<20} start {:<19} stop {:<19} {:>12} {:>8} {:<10} {}{}{}",
            transaction_id,
            protocol,
            s.id_token.as_ref().map(|t| t.token.as_str()).unwrap_or("-"),
            time(s.start.as_ref().map(|x| x.at.timestamp)),
            time(s.stop.as_ref().map(|x| x.at.timestamp)),
            s.energy_wh()
                .map(|wh| format!("{wh} Wh"))
                .unwrap_or_else(|| "- Wh".into()),
            s.completion
                .as_ref()
                .map(|c| format!("{} min", c.duration_seconds / 60))
                .unwrap_or_default(),
            if s.is_completed() { "completed" } else { "open" },
            s.stop.as_ref().map(|x| x.reason.as_str()).unwrap_or(""),
            if s.offline { " offline" } else { "" },
            if missing.is_empty() {
                String::new()
            } else {
                format!(" missing {} seqNos: {missing:?}", s.seq_nos.missing_count())
            },
        );
    }
    Ok(())
}

async fn anomalies(services: &Services, id: &StationId, as_json: bool) -> Result<(), CliError> {
    let mut found = services.charging.anomalies.list(id).await?;
    found.sort_by_key(|a| a.timestamp);
    if as_json {
        let rows: Vec<_> = found
            .iter()
            .map(|a| json!({"timestamp": a.timestamp, "detectedAt": a.detected_at, "anomaly": format!("{:?}", a.kind)}))
            .collect();
        println!("{}", json!({ "stationId": id.as_str(), "anomalies": rows }));
        return Ok(());
    }
    if found.is_empty() {
        println!("{id}: no anomalies");
    }
    for a in &found {
        println!("{}  {:?}", time(Some(a.timestamp)), a.kind);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_commands_parse() {
        let cli = Cli::try_parse_from([
            "csms-registry",
            "token",
            "add",
            "--token",
            "04A2B3C4D5E6F7",
            "--type",
            "ISO14443",
            "--status",
            "Blocked",
            "--expiry",
            "2027-01-01T00:00:00Z",
            "--group",
            "FLEET-7",
            "--organisation",
            "acme",
            "--json",
        ])
        .unwrap();
        assert!(cli.json);
        let Command::Token {
            command: TokenCommand::Add { kind, status, .. },
        } = cli.command
        else {
            panic!("token add");
        };
        assert_eq!((kind.as_deref(), status.as_str()), (Some("ISO14443"), "Blocked"));
        let cli = Cli::try_parse_from(["csms-registry", "sessions", "--id", "CP-DEMO-1"]).unwrap();
        assert!(matches!(cli.command, Command::Sessions { id } if id == "CP-DEMO-1"));
        assert!(Cli::try_parse_from(["csms-registry", "token", "add"]).is_err());
        // Only the driver binds a token to themselves (a claim code), never the tool.
        assert!(
            Cli::try_parse_from(["csms-registry", "token", "add", "--token", "T1", "--owner", "driver-42"]).is_err()
        );
    }

    #[test]
    fn tokens_groups_and_expiries_follow_the_domain_rules() {
        let untyped = id_token("04e91c5a", None).unwrap();
        assert_eq!((untyped.as_str(), untyped.kind()), ("04e91c5a", None));
        let card = id_token(&"A".repeat(36), Some("eMAID")).unwrap();
        assert_eq!(card.kind(), Some(IdTokenType::EMaid));
        assert!(matches!(id_token(&"A".repeat(21), None), Err(CliError::Usage(_))));
        assert!(matches!(id_token("X", Some("RFID")), Err(CliError::Usage(m)) if m.contains("ISO14443")));
        assert_eq!(group_token("FLEET-7").unwrap().kind(), None);
        assert_eq!(group_token(&"G".repeat(30)).unwrap().kind(), Some(IdTokenType::Central));
        assert_eq!(
            rfc3339("2027-01-01T01:00:00+01:00").unwrap(),
            DateTime::parse_from_rfc3339("2027-01-01T00:00:00Z").unwrap()
        );
        assert!(rfc3339("2027-01-01").is_err());
    }

    #[tokio::test]
    async fn tokens_and_sessions_list_from_the_stores() {
        use csms_domain::memory::MemoryWorld;
        use csms_domain::ports::TokenRepository;
        use csms_domain::session::{SessionEvent, SessionEventKind};
        use csms_domain::transaction::TransactionId;

        let world = MemoryWorld::default();
        let services = world.services(Default::default());
        let record = TokenRecord {
            token: id_token("04E91C5A", None).unwrap(),
            status: AuthorizationStatus::Accepted,
            expiry: Some(rfc3339("2020-01-01T00:00:00Z").unwrap()),
            group: None,
            owner: None,
            organisation: None,
        };
        world.charging.tokens.put(&record).await.unwrap();
        assert_eq!(token_json(&record, Utc::now())["answeredNow"], "Expired");
        let station = station_id("CP-DEMO-1").unwrap();
        let started = SessionEvent {
            station: station.clone(),
            transaction: TransactionKey::Ocpp16(TransactionId::new(7).unwrap()),
            seq_no: None,
            timestamp: rfc3339("2026-11-24T05:01:00Z").unwrap(),
            offline: false,
            evse: None,
            connector: Some(1),
            id_token: Some(record.token.clone()),
            kind: SessionEventKind::Started {
                meter_start_wh: Some(rust_decimal::Decimal::from(12000)),
                reason: None,
                remote_start_id: None,
            },
            samples: vec![],
        };
        let mut stopped = started.clone();
        stopped.timestamp = rfc3339("2026-11-24T05:41:00Z").unwrap();
        stopped.kind = SessionEventKind::Stopped {
            meter_stop_wh: Some(rust_decimal::Decimal::from(19750)),
            reason: "EVDisconnected".into(),
        };
        for event in [&started, &stopped] {
            let ports = services.charging.session_ports(services.stations.as_ref());
            session::project(ports, event).await.unwrap();
        }
        let listed = services.charging.sessions.list(&station).await.unwrap();
        let row = session_json(&listed[0], 0, &[]);
        assert_eq!(row["transactionId"], "7");
        assert_eq!(row["energyWh"], 7750.0);
        assert_eq!(row["durationSeconds"], 2400);
        assert_eq!(row["completed"], true);
        for as_json in [false, true] {
            tokens(&services, as_json).await.unwrap();
            sessions(&services, &station, as_json).await.unwrap();
        }
    }
}
