//! `csms-local`: provision from the template, serve the WebSocket API and `@connections`, poll
//! the queues into their functions, stop cleanly on SIGINT/SIGTERM.

use crate::gateway::{self, Gateway, GatewayConfig};
use crate::http_api;
use crate::poller::{self, EventSource};
use crate::provision;
use crate::routes::{Function, LambdaConsumer, LambdaRoutes};
use crate::scheduler::LocalScheduler;
use crate::sign_in::AppOrigins;
use crate::template::{Plan, Pseudo, ResolvedEnvironment};
use crate::web;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

/// Local stand-in for API Gateway's WebSocket API, Lambda's SQS event source mappings and
/// EventBridge Scheduler.
#[derive(Debug, Clone, clap::Parser)]
#[command(name = "csms-local", version)]
pub struct Args {
    /// The synthesized CDK template to provision from.
    #[arg(long, default_value = "infra/cdk.out/Csms.template.json")]
    pub template: PathBuf,
    /// Local resource names are <prefix>-<ConstructId> (.fifo for FIFO queues).
    #[arg(long, default_value = "csms")]
    pub prefix: String,
    /// WebSocket port on 127.0.0.1 (0: any free port).
    #[arg(long, default_value_t = 0)]
    pub ws_port: u16,
    /// @connections management API port on 127.0.0.1 (0: any free port).
    #[arg(long, default_value_t = 0)]
    pub management_port: u16,
    /// HTTP API (the app door) and development issuer port on 127.0.0.1 (0: any free port).
    #[arg(long, default_value_t = 0)]
    pub api_port: u16,
    /// EventBridge Scheduler endpoint port on 127.0.0.1 (0: any free port).
    #[arg(long, default_value_t = 0)]
    pub scheduler_port: u16,
    /// Write shell `export` lines (CSMS_OCPP_URL, CONNECTIONS_ENDPOINT, the functions'
    /// resolved environment) here once everything runs; removed on exit.
    #[arg(long)]
    pub state_file: Option<PathBuf>,
    /// Close a connection with no message from the client for this long (API Gateway: 10 min).
    #[arg(long, default_value_t = 600)]
    pub idle_timeout_seconds: u64,
    /// Close every connection after this long (API Gateway: 2 h).
    #[arg(long, default_value_t = 7200)]
    pub max_connection_seconds: u64,
    /// Close with 1009 on a message larger than this (API Gateway: 128 KB).
    #[arg(long, default_value_t = GatewayConfig::MAX_MESSAGE_BYTES)]
    pub max_message_bytes: usize,
    /// Close with 1009 on a frame larger than this (API Gateway: 32 KB).
    #[arg(long, default_value_t = GatewayConfig::MAX_FRAME_BYTES)]
    pub max_frame_bytes: usize,
    /// Serve the built web apps of this directory (its `dist/` and `security-headers.json`),
    /// as CloudFront does in AWS.
    #[arg(long)]
    pub web: Option<PathBuf>,
    /// The web door's port on 127.0.0.1 (0: any free port).
    #[arg(long, default_value_t = 0)]
    pub web_port: u16,
    /// Another browser origin the apps are served from (e.g. Vite's dev server,
    /// http://localhost:5173): allowed by CORS and as a sign-in redirect. Repeatable.
    #[arg(long = "cors-origin")]
    pub cors_origins: Vec<String>,
    /// The map's raster tiles, `{z}/{x}/{y}` (the tile provider is the operator's choice).
    #[arg(long, default_value = "https://tile.openstreetmap.org/{z}/{x}/{y}.png")]
    pub tile_url: String,
    #[arg(long, default_value = "© OpenStreetMap contributors")]
    pub tile_attribution: String,
    /// Where the driver's map starts without the browser's position: latitude,longitude.
    #[arg(long, default_value = "52.3702,4.8952", value_parser = parse_center)]
    pub map_center: (f64, f64),
}

fn parse_center(raw: &str) -> Result<(f64, f64), String> {
    let parsed = raw
        .split_once(',')
        .and_then(|(lat, lon)| Some((lat.trim().parse::<f64>().ok()?, lon.trim().parse::<f64>().ok()?)));
    match parsed {
        Some((lat, lon)) if (-90.0..=90.0).contains(&lat) && (-180.0..=180.0).contains(&lon) => Ok((lat, lon)),
        _ => Err(format!("expected latitude,longitude, got {raw:?}")),
    }
}

/// Construct ids of the WebSocket route functions.
pub const CONNECT_FUNCTION: &str = "ConnectFunction";
pub const MESSAGE_FUNCTION: &str = "MessageFunction";
pub const DISCONNECT_FUNCTION: &str = "DisconnectFunction";
/// Construct id of the app API function, behind the HTTP API.
pub const API_FUNCTION: &str = "ApiFunction";
/// Functions the stand-in does not run because its local door does their job (none today: the
/// Cognito trigger that copied `custom:org` into tokens is gone with the claim).
pub const NOT_RUN_LOCALLY: &[&str] = &[];

/// The CDK's own custom resource handlers (the web apps' upload): they run at deploy time only.
pub fn deploy_time_only(construct_id: &str) -> bool {
    construct_id.starts_with("Custom::")
}
pub const CONNECTIONS_ENDPOINT: &str = "CONNECTIONS_ENDPOINT";
/// The standard variable that points Scheduler clients at an endpoint (here: the stand-in's).
pub const SCHEDULER_ENDPOINT: &str = "AWS_ENDPOINT_URL_SCHEDULER";

type BoxError = Box<dyn std::error::Error + Send + Sync>;

pub fn check_prefix(prefix: &str) -> Result<(), String> {
    if prefix.is_empty()
        || prefix.len() > 40
        || !prefix
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        return Err(format!(
            "--prefix must be 1-40 characters of A-Z a-z 0-9 - _, got {prefix:?}"
        ));
    }
    Ok(())
}

/// A function's environment as the stand-in gives it: what resolved from the template, plus the
/// local counterparts of what names AWS-only resources (`local`: CONNECTIONS_ENDPOINT, our own
/// `@connections` URL; AUTH_ISSUER and AUTH_AUDIENCE, the development issuer and its app client
/// instead of the Cognito user pool and its client) when the function declares them.
pub fn function_environment(
    resolved: &ResolvedEnvironment,
    construct_id: &str,
    local: &BTreeMap<&str, String>,
) -> BTreeMap<String, String> {
    let mut env = resolved.functions.get(construct_id).cloned().unwrap_or_default();
    for name in resolved.unresolved.get(construct_id).into_iter().flatten() {
        match local.get(name.as_str()) {
            Some(value) => {
                env.insert(name.clone(), value.clone());
            }
            None => {
                tracing::warn!(function = construct_id, variable = %name, "environment variable has no local value; left unset")
            }
        }
    }
    env
}

/// The local values of the variables that name AWS-only resources in the template.
pub fn local_values(connections_endpoint: &str, issuer_url: &str) -> BTreeMap<&'static str, String> {
    BTreeMap::from([
        (CONNECTIONS_ENDPOINT, connections_endpoint.to_owned()),
        (http_api::AUTH_ISSUER, issuer_url.to_owned()),
        (http_api::AUTH_AUDIENCE, http_api::AUDIENCE.to_owned()),
    ])
}

/// `export NAME='value'` lines, sorted by name.
pub fn state_file_contents(variables: &BTreeMap<String, String>) -> String {
    variables
        .iter()
        .map(|(name, value)| format!("export {name}={}\n", shell_quote(value)))
        .collect()
}

fn shell_quote(value: &str) -> String {
    format!("'{}'", value.replace('\'', r"'\''"))
}

fn write_atomically(path: &Path, contents: &str) -> std::io::Result<()> {
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    std::fs::write(&tmp, contents)?;
    std::fs::rename(&tmp, path)
}

/// The clients a function is built with; the scheduler's points at the stand-in's scheduler.
struct Clients<'a> {
    sdk: &'a aws_config::SdkConfig,
    scheduler: aws_sdk_scheduler::Client,
}

fn function(
    plan: &Plan,
    clients: &Clients,
    env: &BTreeMap<String, String>,
    construct_id: &str,
) -> Result<Function, BoxError> {
    let spec = plan
        .function(construct_id)
        .ok_or_else(|| format!("the template has no {construct_id} (AWS::Lambda::Function)"))?;
    let config =
        csms_aws::Config::from_lookup(|name| env.get(name).cloned()).map_err(|e| format!("{construct_id}: {e}"))?;
    let sdk = clients.sdk;
    Ok(Function {
        name: construct_id.to_string(),
        services: csms_aws::services(sdk, &config),
        reservations: csms_aws::reservation_services(
            aws_sdk_dynamodb::Client::new(sdk),
            aws_sdk_sqs::Client::new(sdk),
            clients.scheduler.clone(),
            &config,
        ),
        timeout: Duration::from_secs(spec.timeout_seconds.max(1)),
    })
}

async fn shutdown_signal() -> &'static str {
    let mut terminate = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
        Ok(signal) => signal,
        Err(e) => {
            tracing::warn!(error = %e, "cannot listen for SIGTERM; only SIGINT stops csms-local");
            let _ = tokio::signal::ctrl_c().await;
            return "SIGINT";
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => "SIGINT",
        _ = terminate.recv() => "SIGTERM",
    }
}

pub async fn run(args: Args) -> Result<(), BoxError> {
    check_prefix(&args.prefix)?;
    let plan = Plan::from_file(&args.template, &args.prefix)?;
    tracing::info!(
        template = %args.template.display(),
        tables = plan.tables.len(),
        queues = plan.queues.len(),
        functions = plan.functions.len(),
        mappings = plan.mappings.len(),
        "template read"
    );

    let sdk = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
    let dynamodb = aws_sdk_dynamodb::Client::new(&sdk);
    let sqs = aws_sdk_sqs::Client::new(&sdk);
    let provisioned = provision::provision(&dynamodb, &sqs, &plan).await?;
    let region = sdk
        .region()
        .map(|r| r.to_string())
        .unwrap_or_else(|| "us-east-1".into());
    let resolved = plan.resolve_environment(
        &provisioned,
        &Pseudo {
            region: region.clone(),
            account_id: "000000000000".into(),
        },
    )?;

    let config = GatewayConfig {
        idle_timeout: Duration::from_secs(args.idle_timeout_seconds),
        max_connection_duration: Duration::from_secs(args.max_connection_seconds),
        max_message_bytes: args.max_message_bytes,
        max_frame_bytes: args.max_frame_bytes,
        ..GatewayConfig::default()
    };
    // The scheduler: this stack's groups, sending to its queues.
    let scheduler_listener = tokio::net::TcpListener::bind(("127.0.0.1", args.scheduler_port)).await?;
    let queue_urls = provisioned
        .queues
        .values()
        .map(|q| (q.arn.clone(), q.url.clone()))
        .collect();
    let scheduler = LocalScheduler::start(
        scheduler_listener,
        plan.schedule_groups.iter().map(|g| g.name.clone()),
        queue_urls,
        sqs.clone(),
        region.clone(),
        "000000000000".into(),
    )?;
    let clients = Clients {
        sdk: &sdk,
        scheduler: aws_sdk_scheduler::Client::from_conf(
            aws_sdk_scheduler::config::Builder::from(&sdk)
                .endpoint_url(&scheduler.url)
                .build(),
        ),
    };

    let (ws_listener, management_listener) = gateway::bind(args.ws_port, args.management_port).await?;
    let endpoint = gateway::connections_endpoint(&management_listener, &config.stage)?;
    // The app door: the development issuer always, the API when the template has its function.
    let api_listener = tokio::net::TcpListener::bind(("127.0.0.1", args.api_port)).await?;
    let api_url = format!("http://{}", api_listener.local_addr()?);
    let issuer = csms_auth::DevIssuer::generate(format!("{api_url}{}", http_api::ISSUER_PATH));
    let local = local_values(&endpoint, issuer.issuer());
    let env_of = |construct_id: &str| function_environment(&resolved, construct_id, &local);

    let routes = LambdaRoutes {
        connect: function(&plan, &clients, &env_of(CONNECT_FUNCTION), CONNECT_FUNCTION)?,
        message: function(&plan, &clients, &env_of(MESSAGE_FUNCTION), MESSAGE_FUNCTION)?,
        disconnect: function(&plan, &clients, &env_of(DISCONNECT_FUNCTION), DISCONNECT_FUNCTION)?,
    };

    // Build every consumer before starting anything, so a template the stand-in cannot run
    // fails before it listens.
    let mut sources = vec![];
    for mapping in &plan.mappings {
        let target = plan
            .function_by_logical_id(&mapping.function)
            .expect("checked when the template was read");
        if !mapping.enabled {
            tracing::info!(function = %target.construct_id, "event source mapping disabled in the template; not polling");
            continue;
        }
        let consumer = LambdaConsumer::for_function(
            &target.construct_id,
            function(&plan, &clients, &env_of(&target.construct_id), &target.construct_id)?,
        )
        .ok_or_else(|| {
            format!(
                "{} is the target of an SQS event source mapping, but the stand-in does not link its handler (it knows {:?})",
                target.construct_id,
                LambdaConsumer::FUNCTIONS
            )
        })?;
        let queue = &provisioned.queues[&mapping.queue];
        let source = EventSource {
            function: target.construct_id.clone(),
            queue_url: queue.url.clone(),
            queue_arn: queue.arn.clone(),
            region: region.clone(),
            batch_size: mapping.batch_size.min(10) as i32,
            report_batch_item_failures: mapping.report_batch_item_failures,
            wait_time: Duration::from_secs(1),
        };
        sources.push((source, consumer));
    }
    let api_app = match plan.function(API_FUNCTION) {
        Some(_) => {
            let env = env_of(API_FUNCTION);
            let config = csms_aws::Config::from_lookup(|name| env.get(name).cloned())
                .map_err(|e| format!("{API_FUNCTION}: {e}"))?;
            let limits = api::Limits::from_lookup(csms_aws::limit_ports(&sdk, &config), |name| env.get(name).cloned())
                .map_err(|e| format!("{API_FUNCTION}: {e}"))?;
            let api = function(&plan, &clients, &env, API_FUNCTION)?;
            Some(Arc::new(api::App {
                services: api.services,
                reservations: api.reservations,
                // As the function's main does it (`Verifier::from_env`): its AUTH_* settings, the
                // issuer's keys over HTTP.
                verifier: http_api::function_verifier(&env).map_err(|e| format!("{API_FUNCTION}: {e}"))?,
                limits,
            }))
        }
        None => {
            tracing::warn!("the template has no {API_FUNCTION}: serving only the development issuer");
            None
        }
    };
    let issuer_url = issuer.issuer().to_owned();
    // The web door: its origin is one the API and sign-in serve browsers from.
    let web_door = match &args.web {
        Some(dir) => {
            let listener = tokio::net::TcpListener::bind(("127.0.0.1", args.web_port)).await?;
            let url = format!("http://{}", listener.local_addr()?);
            let config = web::WebConfig {
                api_url: api_url.clone(),
                ocpp_url: format!("ws://{}/ocpp/", ws_listener.local_addr()?),
                issuer_url: issuer_url.clone(),
                client_id: http_api::AUDIENCE.into(),
                tile_url: args.tile_url.clone(),
                tile_attribution: args.tile_attribution.clone(),
                map_center: args.map_center,
            };
            Some((listener, url, web::router(dir, &config)?))
        }
        None => None,
    };
    let origins = AppOrigins::new(
        web_door
            .iter()
            .map(|(_, url, _)| url.clone())
            .chain(args.cors_origins.iter().cloned()),
    );
    let (stop_api, api_stopped) = tokio::sync::watch::channel(false);
    let api_router = http_api::router(issuer, api_app, origins);
    let mut api_stopped_rx = api_stopped.clone();
    let api_server = tokio::spawn(async move {
        axum::serve(api_listener, api_router)
            .with_graceful_shutdown(async move {
                let _ = api_stopped_rx.wait_for(|stop| *stop).await;
            })
            .await
    });
    let web_url = web_door.as_ref().map(|(_, url, _)| url.clone());
    let web_server = web_door.map(|(listener, _, router)| {
        let mut stopped = api_stopped.clone();
        tokio::spawn(async move {
            axum::serve(listener, router)
                .with_graceful_shutdown(async move {
                    let _ = stopped.wait_for(|stop| *stop).await;
                })
                .await
        })
    });

    let known: Vec<&str> = [CONNECT_FUNCTION, MESSAGE_FUNCTION, DISCONNECT_FUNCTION, API_FUNCTION]
        .into_iter()
        .chain(LambdaConsumer::FUNCTIONS.iter().copied())
        .chain(NOT_RUN_LOCALLY.iter().copied())
        .collect();
    for function in &plan.functions {
        if !known.contains(&function.construct_id.as_str()) && !deploy_time_only(&function.construct_id) {
            tracing::warn!(function = %function.construct_id, "function is not run by the stand-in");
        }
    }

    let gateway = Gateway::start(Arc::new(routes), config, ws_listener, management_listener)?;
    let (stop_pollers, stop_rx) = tokio::sync::watch::channel(false);
    let pollers: Vec<_> = sources
        .into_iter()
        .map(|(source, consumer)| tokio::spawn(poller::run(sqs.clone(), source, Arc::new(consumer), stop_rx.clone())))
        .collect();

    let mut state = resolved.shared.clone();
    state.insert(CONNECTIONS_ENDPOINT.into(), gateway.connections_endpoint());
    state.insert("CSMS_OCPP_URL".into(), gateway.ocpp_url());
    state.insert("CSMS_LOCAL_PID".into(), std::process::id().to_string());
    state.insert("CSMS_API_URL".into(), api_url.clone());
    state.insert("CSMS_ISSUER_URL".into(), issuer_url);
    state.insert("CSMS_API_AUDIENCE".into(), http_api::AUDIENCE.into());
    // Tools and tests that source the state file reach the same scheduler.
    state.insert(SCHEDULER_ENDPOINT.into(), scheduler.url.clone());
    if let Some(url) = &web_url {
        state.insert("CSMS_WEB_URL".into(), url.clone());
        state.insert("CSMS_DRIVER_URL".into(), format!("{url}/"));
        state.insert("CSMS_CONSOLE_URL".into(), format!("{url}/console/"));
    }
    if let Some(path) = &args.state_file {
        write_atomically(path, &state_file_contents(&state))?;
        tracing::info!(path = %path.display(), "state file written");
    }
    println!("{}", gateway.ocpp_url());
    tracing::info!(ocpp_url = %gateway.ocpp_url(), connections_endpoint = %gateway.connections_endpoint(), "csms-local is running");

    let signal = shutdown_signal().await;
    tracing::info!(signal, "shutting down");
    gateway.shutdown(Duration::from_secs(30)).await;
    stop_api.send_replace(true);
    if tokio::time::timeout(Duration::from_secs(10), api_server).await.is_err() {
        tracing::warn!("the HTTP API did not stop in time");
    }
    let pending = scheduler.pending();
    if pending > 0 {
        tracing::info!(pending, "schedules that had not fired are dropped with the stand-in");
    }
    scheduler.stop();
    if let Some(server) = web_server
        && tokio::time::timeout(Duration::from_secs(10), server).await.is_err()
    {
        tracing::warn!("the web door did not stop in time");
    }
    stop_pollers.send_replace(true);
    for poller in pollers {
        if tokio::time::timeout(Duration::from_secs(40), poller).await.is_err() {
            tracing::warn!("a poller did not stop in time");
        }
    }
    if let Some(path) = &args.state_file
        && let Err(e) = std::fs::remove_file(path)
    {
        tracing::warn!(path = %path.display(), error = %e, "could not remove the state file");
    }
    tracing::info!("stopped");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn state_file_is_sourceable() {
        let mut vars = BTreeMap::new();
        vars.insert("B".to_string(), "it's".to_string());
        vars.insert("A".to_string(), "http://x/y".to_string());
        assert_eq!(
            state_file_contents(&vars),
            "export A='http://x/y'\nexport B='it'\\''s'\n"
        );
    }

    #[test]
    fn map_centres_are_checked() {
        assert_eq!(parse_center("52.37, 4.89"), Ok((52.37, 4.89)));
        assert!(parse_center("91,0").is_err());
        assert!(parse_center("52.37").is_err());
    }

    #[test]
    fn prefixes_are_checked() {
        assert!(check_prefix("csms").is_ok());
        assert!(check_prefix("t-1_x").is_ok());
        assert!(check_prefix("").is_err());
        assert!(check_prefix("a b").is_err());
        assert!(check_prefix("a.b").is_err());
    }
}
