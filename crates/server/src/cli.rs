//! The `streamshare` command line: `serve` and the admin commands `grant`,
//! `users`, `rooms`, `ledger` and `payouts` (`suspend`/`unsuspend` are the
//! older names of `users ban`/`users unban`). An admin command works on the
//! database; running servers act on what it changed through their change
//! streams (a ban cuts the account off, an ended room's viewers are told).

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, Subcommand};
use futures::TryStreamExt;
use mongodb::bson::doc;
use serde_json::{Value, json};

use crate::config::{Settings, read_config_file};
use crate::db::Db;
use crate::models::{RoomDoc, STATUS_LIVE, rfc3339};
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
    /// Accounts: list them, ban or unban one.
    Users {
        #[command(subcommand)]
        action: UserAction,
        #[command(flatten)]
        settings: Settings,
    },
    /// Rooms: list them, end a live session.
    Rooms {
        #[command(subcommand)]
        action: RoomAction,
        #[command(flatten)]
        settings: Settings,
    },
    /// The coin ledger: check it against the balances.
    Ledger {
        #[command(subcommand)]
        action: LedgerAction,
        #[command(flatten)]
        settings: Settings,
    },
    /// Same as `users ban`: the account is signed out everywhere at once
    /// (sockets and media cut, live sessions ended) and refused at every
    /// door until `unsuspend`.
    Suspend {
        /// The user's username.
        username: String,
        #[command(flatten)]
        settings: Settings,
    },
    /// Same as `users unban`: lift an account's suspension.
    Unsuspend {
        /// The user's username.
        username: String,
        #[command(flatten)]
        settings: Settings,
    },
    /// Print the REST API's OpenAPI document (generated from the handlers;
    /// the same as `/api/openapi.yaml` and `/api/openapi.json`).
    Openapi {
        /// `yaml` or `json`.
        #[arg(long, default_value = "yaml", value_parser = ["yaml", "json"])]
        format: String,
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
pub enum UserAction {
    /// List accounts, oldest first: username, display name, coins, when
    /// created, whether banned.
    List {
        /// One JSON array instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Ban an account: it is signed out everywhere at once (sockets and
    /// media cut, live sessions ended) and refused at every door (sign-in
    /// included) until `unban`.
    Ban {
        /// The user's username.
        username: String,
    },
    /// Lift an account's ban.
    Unban {
        /// The user's username.
        username: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum RoomAction {
    /// List rooms, live ones first, newest first.
    List {
        /// Only rooms that are live now.
        #[arg(long)]
        live: bool,
        /// One JSON array instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// End a room's live session as its creator ending it would: viewers are
    /// told and their media closed, payments refunded under the refund
    /// rules. The running server that serves the room does it; this waits
    /// until the room is offline.
    End {
        /// The room's id.
        room_id: String,
        /// Seconds to wait for a running server to end it.
        #[arg(long, default_value_t = 15)]
        wait_secs: u64,
    },
}

#[derive(Debug, Subcommand)]
pub enum LedgerAction {
    /// Check the ledger's invariants against the balances; exits non-zero,
    /// naming each account that disagrees, when one is broken.
    Audit,
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
        Command::Openapi { format } => {
            let document = crate::startup::api_document();
            print!(
                "{}",
                if format == "json" {
                    &document.json
                } else {
                    &document.yaml
                }
            );
            Ok(())
        }
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
        Command::Users { action, settings } => {
            let db = admin_db(&settings).await?;
            match action {
                UserAction::List { json } => list_users(&db, json).await,
                UserAction::Ban { username } => ban(&db, &username, true).await,
                UserAction::Unban { username } => ban(&db, &username, false).await,
            }
        }
        Command::Rooms { action, settings } => {
            let db = admin_db(&settings).await?;
            match action {
                RoomAction::List { live, json } => list_rooms(&db, live, json).await,
                RoomAction::End { room_id, wait_secs } => {
                    end_room(&db, &room_id, Duration::from_secs(wait_secs)).await
                }
            }
        }
        Command::Ledger {
            action: LedgerAction::Audit,
            settings,
        } => audit_ledger(&admin_db(&settings).await?).await,
        Command::Suspend { username, settings } => {
            ban(&admin_db(&settings).await?, &username, true).await
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
            ban(&admin_db(&settings).await?, &username, false).await
        }
    }
}

/// `users ban|unban` (and `suspend|unsuspend`): the running servers cut the
/// account off (or let it back in) through their `users` change streams.
async fn ban(db: &Db, username: &str, banned: bool) -> anyhow::Result<()> {
    crate::accounts::set_suspended(db, username, banned)
        .await
        .map_err(admin_error)?;
    if banned {
        println!("banned {username}: signed out everywhere, refused until unbanned");
    } else {
        println!("unbanned {username}");
    }
    Ok(())
}

/// `users list`.
async fn list_users(db: &Db, json: bool) -> anyhow::Result<()> {
    let users: Vec<crate::models::UserDoc> = db
        .users()
        .find(doc! {})
        .sort(doc! { "createdAt": 1, "_id": 1 })
        .await?
        .try_collect()
        .await?;
    if json {
        let rows: Vec<Value> = users
            .iter()
            .map(|u| {
                json!({
                    "id": u.id.to_hex(),
                    "username": u.username,
                    "displayName": u.display_name,
                    "coins": u.coins,
                    "createdAt": rfc3339(u.created_at),
                    "suspended": u.suspended_at.is_some(),
                    "suspendedAt": u.suspended_at.map(rfc3339),
                })
            })
            .collect();
        println!("{}", serde_json::to_string_pretty(&rows)?);
        return Ok(());
    }
    println!(
        "{:<24}  {:<24}  {:>10}  {:<24}  BANNED",
        "USERNAME", "DISPLAY NAME", "COINS", "CREATED"
    );
    for u in &users {
        println!(
            "{:<24}  {:<24}  {:>10}  {:<24}  {}",
            u.username,
            u.display_name,
            u.coins,
            rfc3339(u.created_at),
            u.suspended_at
                .map(|t| format!("since {}", rfc3339(t)))
                .unwrap_or_else(|| "no".to_owned())
        );
    }
    println!("{} accounts", users.len());
    Ok(())
}

/// `rooms list`.
async fn list_rooms(db: &Db, live_only: bool, json: bool) -> anyhow::Result<()> {
    let filter = if live_only {
        doc! { "status": STATUS_LIVE }
    } else {
        doc! {}
    };
    let rooms: Vec<RoomDoc> = db
        .rooms()
        .find(filter)
        .sort(doc! { "liveRank": -1, "createdAt": -1, "_id": -1 })
        .await?
        .try_collect()
        .await?;
    if json {
        let rows: Vec<Value> = rooms
            .iter()
            .map(|r| {
                json!({
                    "id": r.id.to_hex(),
                    "title": r.title,
                    "creator": r.creator_username,
                    "status": r.status,
                    "price": r.price,
                    "viewerCount": r.viewer_count,
                    "startedAt": r.started_at.map(rfc3339),
                    "createdAt": rfc3339(r.created_at),
                })
            })
            .collect();
        println!("{}", serde_json::to_string_pretty(&rows)?);
        return Ok(());
    }
    println!(
        "{:<24}  {:<7}  {:<20}  {:>6}  {:>7}  {:<24}  TITLE",
        "ID", "STATUS", "CREATOR", "PRICE", "VIEWERS", "LIVE SINCE"
    );
    for r in &rooms {
        println!(
            "{:<24}  {:<7}  {:<20}  {:>6}  {:>7}  {:<24}  {}",
            r.id.to_hex(),
            r.status,
            r.creator_username,
            r.price,
            r.viewer_count,
            r.started_at.map(rfc3339).unwrap_or_else(|| "-".to_owned()),
            r.title
        );
    }
    println!("{} rooms", rooms.len());
    Ok(())
}

/// `rooms end`: asks the running servers to end the room's live session
/// (the request is a field on the room, which they see in their `rooms`
/// change streams, as they see a ban in `users`), then waits for the room
/// to go offline.
async fn end_room(db: &Db, raw_id: &str, wait: Duration) -> anyhow::Result<()> {
    let id = crate::ids::RoomId::parse(raw_id)
        .map_err(admin_error)?
        .get();
    let room = db
        .rooms()
        .find_one(doc! { "_id": id })
        .await?
        .ok_or_else(|| admin_error(crate::rooms::room_not_found()))?;
    let Some(session) = room.live_session_id.filter(|_| room.is_live()) else {
        anyhow::bail!("room {raw_id} ({}) is not live", room.title);
    };
    if !crate::rooms::request_end(db, id, session)
        .await
        .map_err(admin_error)?
    {
        println!("room {raw_id} ({}) ended meanwhile", room.title);
        return Ok(());
    }
    let deadline = tokio::time::Instant::now() + wait;
    loop {
        let now = db.rooms().find_one(doc! { "_id": id }).await?;
        if now.is_none_or(|r| r.live_session_id != Some(session)) {
            println!("ended the live session of room {raw_id} ({})", room.title);
            return Ok(());
        }
        if tokio::time::Instant::now() >= deadline {
            anyhow::bail!(
                "no running server ended room {raw_id} within {}s; the request stands: \
                 the server that serves the room ends it when it sees the request \
                 (is one running against this database?)",
                wait.as_secs()
            );
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// `ledger audit`: the summary; each broken invariant; non-zero when there
/// is one, naming the accounts that disagree.
async fn audit_ledger(db: &Db) -> anyhow::Result<()> {
    let report = crate::ledger::audit(db).await.map_err(admin_error)?;
    println!("{report}");
    if report.is_consistent() {
        println!("the ledger and the balances agree");
        return Ok(());
    }
    for problem in &report.problems {
        println!("MISMATCH {problem}");
    }
    let accounts: Vec<String> = report
        .mismatched_accounts()
        .iter()
        .map(ToString::to_string)
        .collect();
    if accounts.is_empty() {
        anyhow::bail!("{} ledger invariants broken", report.problems.len());
    }
    anyhow::bail!(
        "{} ledger invariants broken; accounts that disagree: {}",
        report.problems.len(),
        accounts.join(", ")
    )
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
