//! The `streamshare` command line: `serve` and the admin commands `grant`,
//! `suspend`, `unsuspend` and `payouts`.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, Subcommand};

use crate::config::{Settings, read_config_file};
use crate::db::Db;
use crate::startup::{Application, shutdown_signal};

/// StreamShare: pay-per-room live streaming.
///
/// Every setting is a flag and a `STREAMSHARE_*` environment variable; a
/// config file of `STREAMSHARE_NAME=value` lines may add settings the
/// environment does not set.
#[derive(Debug, Parser)]
#[command(name = "streamshare", version, about, long_about)]
pub struct Cli {
    /// A config file of `STREAMSHARE_NAME=value` lines; the environment and
    /// flags win over it.
    #[arg(long, env = "STREAMSHARE_CONFIG", global = true)]
    pub config: Option<PathBuf>,

    /// Log format: `text` for people, `json` (one object a line) for log
    /// collectors. The level filter is `RUST_LOG` (default `info`).
    #[arg(long, env = "STREAMSHARE_LOG_FORMAT", global = true, default_value = "text", value_parser = ["text", "json"])]
    pub log_format: String,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the server: HTTP API, Socket.IO and the web app.
    Serve(Settings),
    /// Grant coins to a user (a `grant` entry in the ledger).
    Grant {
        /// The user's username.
        username: String,
        /// How many coins to add (a positive whole number).
        coins: i64,
        #[command(flatten)]
        settings: Settings,
    },
    /// Suspend an account: it is signed out everywhere at once (sockets and
    /// media cut, live sessions ended) and refused at every door until
    /// `unsuspend`.
    Suspend {
        /// The user's username.
        username: String,
        #[command(flatten)]
        settings: Settings,
    },
    /// Lift an account's suspension.
    Unsuspend {
        /// The user's username.
        username: String,
        #[command(flatten)]
        settings: Settings,
    },
    /// Creators' payout requests: list them, approve (paid outside
    /// StreamShare) or reject (the held coins go back).
    Payouts {
        #[command(subcommand)]
        action: PayoutAction,
        #[command(flatten)]
        settings: Settings,
    },
}

#[derive(Debug, Subcommand)]
pub enum PayoutAction {
    /// List payouts, oldest first.
    List {
        /// Only those in this state: requested, paid or rejected.
        #[arg(long)]
        state: Option<String>,
    },
    /// Mark a requested payout as paid (you paid the creator).
    Approve {
        /// The payout's id.
        id: String,
        /// A note the creator sees.
        #[arg(long)]
        note: Option<String>,
    },
    /// Reject a requested payout: its coins go back to the creator.
    Reject {
        /// The payout's id.
        id: String,
        /// A note the creator sees (why).
        #[arg(long)]
        note: Option<String>,
    },
}

/// Parses the command line (twice when a config file adds settings), starts
/// the runtime and runs the command.
pub fn main_entry() -> ExitCode {
    let mut cli = Cli::parse();
    if let Some(path) = cli.config.clone() {
        match read_config_file(&path) {
            Ok(pairs) => {
                for (key, value) in pairs {
                    if std::env::var_os(&key).is_none() {
                        // SAFETY: no other thread exists yet: the runtime is
                        // built below, after the environment is settled.
                        unsafe { std::env::set_var(key, value) };
                    }
                }
                cli = Cli::parse();
            }
            Err(err) => {
                eprintln!("error: {err:#}");
                return ExitCode::from(2);
            }
        }
    }
    init_tracing(&cli.log_format);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(err) => {
            eprintln!("error: starting the runtime: {err}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli.command)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}

fn init_tracing(format: &str) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let logs = tracing_subscriber::fmt().with_env_filter(filter);
    if format == "json" {
        logs.json().with_current_span(true).init();
    } else {
        logs.init();
    }
}

async fn run(command: Command) -> anyhow::Result<()> {
    match command {
        Command::Serve(settings) => {
            let app = Application::build(settings).await?;
            app.run_until_stopped(shutdown_signal()).await?;
            Ok(())
        }
        Command::Grant {
            username,
            coins,
            settings,
        } => {
            let db = admin_db(&settings).await?;
            let (_, balance) = crate::ledger::grant_coins(&db, &username, coins)
                .await
                .map_err(admin_error)?;
            println!("granted {coins} coins to {username}; balance now {balance}");
            Ok(())
        }
        Command::Suspend { username, settings } => {
            let db = admin_db(&settings).await?;
            crate::accounts::set_suspended(&db, &username, true)
                .await
                .map_err(admin_error)?;
            println!("suspended {username}");
            Ok(())
        }
        Command::Payouts { action, settings } => {
            let db = admin_db(&settings).await?;
            match action {
                PayoutAction::List { state } => {
                    let payouts = crate::payouts::list_all(&db, state.as_deref())
                        .await
                        .map_err(admin_error)?;
                    if payouts.is_empty() {
                        println!("no payouts");
                    }
                    for p in payouts {
                        println!(
                            "{}  {:<9}  {:>8} coins  {:<20}  requested {}{}",
                            p.id.to_hex(),
                            p.state,
                            p.coins,
                            p.username,
                            crate::models::rfc3339(p.created_at),
                            p.note.map(|n| format!("  note: {n}")).unwrap_or_default()
                        );
                    }
                }
                PayoutAction::Approve { id, note } => {
                    let p = crate::payouts::settle(&db, &id, true, note)
                        .await
                        .map_err(admin_error)?;
                    println!(
                        "payout {id}: {} coins to {} marked paid",
                        p.coins, p.username
                    );
                }
                PayoutAction::Reject { id, note } => {
                    let p = crate::payouts::settle(&db, &id, false, note)
                        .await
                        .map_err(admin_error)?;
                    println!(
                        "payout {id} rejected: {} coins back to {}",
                        p.coins, p.username
                    );
                }
            }
            Ok(())
        }
        Command::Unsuspend { username, settings } => {
            let db = admin_db(&settings).await?;
            crate::accounts::set_suspended(&db, &username, false)
                .await
                .map_err(admin_error)?;
            println!("lifted the suspension of {username}");
            Ok(())
        }
    }
}

/// The database an admin command works on (the server's settings).
async fn admin_db(settings: &Settings) -> anyhow::Result<Db> {
    Db::new(
        settings.mongodb_uri()?,
        &settings.db_name,
        Duration::from_secs(settings.db_timeout_secs.max(1)),
    )
    .await
}

/// An admin command's refusal, in its own words.
fn admin_error(err: crate::error::ApiError) -> anyhow::Error {
    anyhow::anyhow!(
        "{}",
        err.body()["error"]["message"].as_str().unwrap_or("failed")
    )
}
