//! `streamshare-load`: StreamShare's load tool. Each subcommand is one
//! benchmark; it shows progress on stderr, ends with a short human summary
//! (stderr) and prints a JSON report (stdout, and `--out FILE`) that names
//! the machine and the command line. `smoke` runs every benchmark at a tiny
//! size, for CI. docs/benchmarks.md has the figures and how to reproduce
//! them.

mod chat;
mod fanout;
mod first_frame;
mod floor;
mod join_storm;
mod payments;
mod report;
mod server;
mod sio;
mod stats;

use std::path::PathBuf;

use clap::{Parser, Subcommand};

use crate::report::Report;

#[derive(Parser)]
#[command(name = "streamshare-load", version, about)]
struct Cli {
    /// Also write the JSON report to this file.
    #[arg(long, global = true)]
    out: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// SFU fan-out: one publisher, N real WebRTC subscribers; the SFU's CPU,
    /// loss, forwarding delay and memory per N.
    Fanout(fanout::Args),
    /// The floor: SRTP-protecting and sending one packet (batched sends).
    Floor(floor::Args),
    /// Time to first frame: `media:view` to the first keyframe, over joins.
    FirstFrame(first_frame::Args),
    /// Chat fan-out: M Socket.IO clients in one room.
    Chat(chat::Args),
    /// Payments: concurrent stream-joins per second, invariants checked.
    Payments(payments::Args),
    /// Join storm: N viewers join one live room at once; joins/s, latency,
    /// DB operations per join, exact counts and view history checked.
    JoinStorm(join_storm::Args),
    /// Every benchmark at a tiny size (CI keeps them working with this).
    Smoke(SmokeArgs),
    /// Internal: the SFU under test, run as its own process by `fanout`.
    #[command(hide = true)]
    SfuHost(fanout::HostArgs),
}

#[derive(clap::Args)]
struct SmokeArgs {
    #[command(flatten)]
    server: server::ServerArgs,
}

fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("STREAMSHARE_LOAD_LOG")
                .unwrap_or_else(|_| "warn".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    let out = cli.out.as_deref();
    match cli.command {
        Command::SfuHost(args) => fanout::host(args),
        Command::Fanout(args) => fanout::run(args)?.emit(out),
        Command::Floor(args) => floor::run(args)?.emit(out),
        Command::FirstFrame(args) => {
            server::prepare(&args.server)?;
            runtime()?.block_on(first_frame::run(args))?.emit(out)
        }
        Command::Chat(args) => {
            server::prepare(&args.server)?;
            runtime()?.block_on(chat::run(args))?.emit(out)
        }
        Command::Payments(args) => {
            server::prepare(&args.server)?;
            runtime()?.block_on(payments::run(args))?.emit(out)
        }
        Command::JoinStorm(args) => {
            server::prepare(&args.server)?;
            let (report, failure) = runtime()?.block_on(join_storm::run(args))?;
            report.emit(out)?;
            match failure {
                Some(why) => anyhow::bail!(why),
                None => Ok(()),
            }
        }
        Command::Smoke(args) => smoke(args, out),
    }
}

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?)
}

/// Runs each benchmark at its smoke size; fails if any fails.
fn smoke(args: SmokeArgs, out: Option<&std::path::Path>) -> anyhow::Result<()> {
    let mut reports: Vec<Report> = vec![
        floor::run(floor::Args::smoke())?,
        fanout::run(fanout::Args::smoke())?,
    ];
    // Pins this thread (so the runtime's) to --tool-cpu, raises open files.
    server::prepare(&args.server)?;
    let rt = runtime()?;
    reports.push(rt.block_on(first_frame::run(first_frame::Args::smoke(&args.server)))?);
    reports.push(rt.block_on(chat::run(chat::Args::smoke(&args.server)))?);
    reports.push(rt.block_on(payments::run(payments::Args::smoke(&args.server)))?);
    let (storm, storm_failure) =
        rt.block_on(join_storm::run(join_storm::Args::smoke(&args.server)))?;
    reports.push(storm);
    reports.push(rt.block_on(chat::run(chat::Args::smoke_cluster(&args.server)))?);
    let documents: Vec<_> = reports.iter().map(Report::document).collect();
    for report in &reports {
        report.print_summary();
    }
    let text = serde_json::to_string_pretty(&documents)?;
    println!("{text}");
    if let Some(path) = out {
        std::fs::write(path, format!("{text}\n"))?;
    }
    match storm_failure {
        Some(why) => anyhow::bail!(why),
        None => Ok(()),
    }
}
