//! `csms-bench`: what one OCPP message costs in this CSMS, and how the local stack holds up
//! under a few hundred piles. Run through `scripts/bench.sh`, which starts the local stack and
//! exports the environment this needs; prints a report to stdout.
//!
//! 1. AWS calls per message, counted by SDK interceptors around the real handlers.
//! 2. Warm handler time per message, in-process, against DynamoDB Local and LocalStack.
//! 3. Round trips through csms-local with many concurrent piles over WebSockets.
//! 4. Charging sessions through csms-local: MeterValues throughput, and how soon the stand-in's
//!    sessions consumer has completed every session.
//!
//! Sections 1 and 2 cover BootNotification, Heartbeat and StatusNotification, then the charging
//! messages (1.6 Authorize / StartTransaction / MeterValues / StopTransaction, 2.0.1
//! TransactionEvent) and the status and sessions consumers.

mod commanding;
mod count;
mod cpu;
mod frames;
mod inprocess;
mod metering;
mod piles;
mod stats;

use clap::Parser;
use std::process::ExitCode;
use std::time::Instant;

pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

#[derive(Debug, Parser)]
#[command(
    name = "csms-bench",
    about = "Counts AWS calls per OCPP message, times the handlers, and drives concurrent piles through csms-local"
)]
struct Args {
    /// Concurrent piles in the round-trip section (P).
    #[arg(long, default_value_t = 300)]
    piles: usize,
    /// Heartbeat and StatusNotification frames each pile sends after its BootNotification, M of each (M).
    #[arg(long, default_value_t = 20)]
    messages: usize,
    /// Timed sequential handler calls per action in the handler-time section (N).
    #[arg(long, default_value_t = 300)]
    iterations: usize,
    /// Untimed calls before them.
    #[arg(long, default_value_t = 30)]
    warmup: usize,
    /// Repetitions behind each row of the call-count table.
    #[arg(long, default_value_t = 5)]
    repeats: usize,
    /// The stand-in's WebSocket URL prefix; the station id is appended.
    #[arg(long, env = "CSMS_OCPP_URL")]
    ocpp_url: String,
    /// Concurrent piles in the MeterValues section (section 4).
    #[arg(long, default_value_t = 100)]
    mv_piles: usize,
    /// MeterValues each pile sends in its transaction in section 4.
    #[arg(long, default_value_t = 30)]
    mv_messages: usize,
    /// Skip section 1 (AWS calls per message).
    #[arg(long)]
    no_calls: bool,
    /// Skip section 2 (warm handler time).
    #[arg(long)]
    no_handler_time: bool,
    /// Skip section 3 (round trips with concurrent piles).
    #[arg(long)]
    no_round_trip: bool,
    /// Skip section 4 (MeterValues throughput and session completion through csms-local).
    #[arg(long)]
    no_meter_values: bool,
    /// Skip section 5 (AWS calls per remote command).
    #[arg(long)]
    no_commands: bool,
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = Args::parse();
    match run(args).await {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => {
            println!(
                "\nFAILED: some CALLs were not answered with a CALLRESULT, or some sessions were not completed as sent (see above)."
            );
            ExitCode::FAILURE
        }
        Err(e) => {
            eprintln!("csms-bench: {e}");
            let mut source = e.source();
            while let Some(s) = source {
                eprintln!("  caused by: {s}");
                source = s.source();
            }
            ExitCode::FAILURE
        }
    }
}

async fn run(args: Args) -> Result<bool, BoxError> {
    let started = Instant::now();
    let prefix = format!("BENCH{}", chrono::Utc::now().timestamp());
    print_context(&args);

    let sdk = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
    let rig = inprocess::Rig::new(&sdk, &prefix).await?;
    let watched = cpu::watched_from_env();

    let in_process = async {
        let mut opened = Vec::new();
        if !args.no_calls {
            heading("1. AWS calls per message (counted, in-process handlers)");
            opened = inprocess::section_calls(&rig, &prefix, args.repeats).await?;
            println!("\nCharging sessions:\n");
            inprocess::section_charging_calls(&rig, &opened, args.repeats).await?;
        }
        if !args.no_handler_time {
            heading("2. Warm handler time per message (in-process, sequential)");
            if opened.is_empty() {
                opened = inprocess::open(&rig, &prefix).await?;
            }
            inprocess::section_time(&rig, &opened, args.warmup, args.iterations, &watched).await?;
        }
        Ok::<_, BoxError>(())
    };
    let done = in_process.await;
    rig.remove_queues().await;
    done?;

    let mut ok = true;
    if !args.no_round_trip {
        heading(&format!(
            "3. Round trips through csms-local: {} concurrent piles, OCPP 1.6, 1 + 2 x {} CALLs each",
            args.piles, args.messages
        ));
        ok &= piles::section_round_trip(piles::Plan {
            services: &rig.services,
            url: &args.ocpp_url,
            prefix: &prefix,
            piles: args.piles,
            messages: args.messages,
            stack_queue: std::env::var("STATUS_QUEUE_URL").ok(),
            sqs: aws_sdk_sqs::Client::new(&sdk),
            watched: watched.clone(),
        })
        .await?;
    }
    if !args.no_meter_values {
        heading(&format!(
            "4. Charging sessions through csms-local: {} concurrent piles, OCPP 1.6, boot + start + {} MeterValues + stop each",
            args.mv_piles, args.mv_messages
        ));
        ok &= metering::section_meter_values(metering::Plan {
            services: &rig.services,
            url: &args.ocpp_url,
            prefix: &prefix,
            piles: args.mv_piles,
            messages: args.mv_messages,
            session_queue: std::env::var("SESSION_EVENTS_QUEUE_URL").ok(),
            status_queue: std::env::var("STATUS_QUEUE_URL").ok(),
            sqs: aws_sdk_sqs::Client::new(&sdk),
            watched,
        })
        .await?;
    }
    if !args.no_commands {
        heading(
            "5. Remote commands: AWS calls per command (counted, in-process consumer and $default, a real pile socket)",
        );
        commanding::section_command_calls(&rig, &args.ocpp_url, &prefix, args.repeats).await?;
    }
    println!("\ncsms-bench finished in {:.1} s", started.elapsed().as_secs_f64());
    Ok(ok)
}

fn heading(title: &str) {
    println!("\n## {title}\n");
}

fn print_context(args: &Args) {
    let command = |program: &str, arg: &str| {
        std::process::Command::new(program)
            .arg(arg)
            .output()
            .ok()
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
            .unwrap_or_else(|| "?".into())
    };
    let proc_field = |file: &str, key: &str| {
        std::fs::read_to_string(file)
            .ok()
            .and_then(|text| {
                text.lines()
                    .find(|l| l.starts_with(key))
                    .and_then(|l| l.split_once(':'))
                    .map(|(_, v)| v.trim().to_owned())
            })
            .unwrap_or_else(|| "?".into())
    };
    println!("# csms-bench report");
    println!();
    println!(
        "machine: {} cores, {} ({}), {} RAM, kernel {}",
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        command("uname", "-m"),
        proc_field("/proc/cpuinfo", "model name"),
        proc_field("/proc/meminfo", "MemTotal"),
        command("uname", "-r"),
    );
    println!(
        "date:    {}",
        chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
    );
    println!(
        "build:   csms-bench {} ({}); csms-local: {}",
        if cfg!(debug_assertions) { "debug" } else { "release" },
        env!("CARGO_PKG_VERSION"),
        std::env::var("CSMS_LOCAL_BUILD").unwrap_or_else(|_| "?".into())
    );
    println!(
        "stack:   DynamoDB Local at {}, LocalStack SQS at {}, csms-local at {}",
        std::env::var("AWS_ENDPOINT_URL_DYNAMODB").unwrap_or_else(|_| "?".into()),
        std::env::var("AWS_ENDPOINT_URL_SQS").unwrap_or_else(|_| "?".into()),
        args.ocpp_url
    );
    println!(
        "run:     P={} piles, M={} Heartbeat + M StatusNotification per pile, N={} timed calls per action after {} warm-up, {} repetitions per count row; \
         section 4: {} piles x {} MeterValues",
        args.piles, args.messages, args.iterations, args.warmup, args.repeats, args.mv_piles, args.mv_messages
    );
    let skipped: Vec<&str> = [
        (args.no_calls, "1"),
        (args.no_handler_time, "2"),
        (args.no_round_trip, "3"),
        (args.no_meter_values, "4"),
        (args.no_commands, "5"),
    ]
    .iter()
    .filter(|(skip, _)| *skip)
    .map(|(_, n)| *n)
    .collect();
    if !skipped.is_empty() {
        println!("skipped: section {}", skipped.join(", "));
    }
}
