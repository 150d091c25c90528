//! Owns the payments benchmark: V registered viewers pay for live rooms
//! (`POST /api/transactions/stream-join`, C at a time, each with its own
//! Idempotency-Key, retried on 503/429); joins per second, latency and
//! refusals by code. Then duplicates: for D more viewers, concurrent joins
//! with one key twice and twice without, a replay of the key and a reuse of
//! the key for another body. Finally the money invariants, read back through
//! the API: no viewer charged twice (and each one told "paid" charged once),
//! each creator credited, and ledgered, for exactly the viewers charged.
//! A broken invariant, or an error (a 5xx, an answer the contract does not
//! allow), fails the command after the report is printed.

use std::collections::{BTreeMap, HashSet};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use anyhow::bail;
use futures::StreamExt;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::report::{Progress, Report, Samples, round3};
use crate::server::{Room, ServerArgs, Services, User};

#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub server: ServerArgs,
    /// Viewers that each pay once (registered before timing starts).
    #[arg(long, default_value_t = 200)]
    pub viewers: usize,
    /// Payments in flight at once.
    #[arg(long, default_value_t = 32)]
    pub concurrency: usize,
    /// Live rooms (one creator each); viewer i pays room i mod rooms.
    #[arg(long, default_value_t = 2)]
    pub rooms: usize,
    /// Room price, in coins.
    #[arg(long, default_value_t = 10)]
    pub price: i64,
    /// Coins a new user starts with.
    #[arg(long, default_value_t = 100)]
    pub signup_coins: i64,
    /// Extra viewers that fire duplicate and concurrent double joins.
    #[arg(long, default_value_t = 20)]
    pub duplicates: usize,
    /// Registrations in flight at once (Argon2id on the server).
    #[arg(long, default_value_t = 8)]
    pub register_concurrency: usize,
}

impl Args {
    pub fn smoke(server: &ServerArgs) -> Self {
        Self {
            server: server.clone(),
            viewers: 10,
            concurrency: 4,
            rooms: 2,
            price: 10,
            signup_coins: 100,
            duplicates: 3,
            register_concurrency: 4,
        }
    }
}

/// Attempts per payment before it counts as failed.
const ATTEMPTS: u32 = 6;

#[derive(Default)]
struct Stats {
    attempt_ms: Samples,
    join_ms: Samples,
    refusals: BTreeMap<String, u64>,
    retries: u64,
    failed: Vec<String>,
    anomalies: Vec<String>,
}

pub async fn run(args: Args) -> anyhow::Result<Report> {
    if args.viewers == 0 || args.rooms == 0 || args.concurrency == 0 {
        bail!("--viewers, --rooms and --concurrency must be above 0");
    }
    if args.price <= 0 || args.price > args.signup_coins {
        bail!("--price must be above 0 and at most --signup-coins");
    }
    let progress = Progress::new("payments");
    progress.say("starting the database and the server");
    let services = Services::start(&args.server, args.signup_coins, &[]).await?;

    progress.say(format!(
        "registering {} creators and {} viewers ({} at a time; not timed)",
        args.rooms,
        args.viewers + args.duplicates,
        args.register_concurrency
    ));
    let register_start = Instant::now();
    let creators = services
        .register_many("payc", args.rooms, args.register_concurrency)
        .await?;
    let viewers = services
        .register_many("payv", args.viewers, args.register_concurrency)
        .await?;
    let doublers = services
        .register_many("payd", args.duplicates, args.register_concurrency)
        .await?;
    let register_secs = register_start.elapsed().as_secs_f64();
    let mut rooms = Vec::new();
    for creator in &creators {
        rooms.push(services.create_live_room(creator, args.price).await?);
    }

    // Phase 1: every viewer pays once, C at a time.
    progress.say(format!(
        "{} viewers pay, {} at a time, over {} rooms",
        args.viewers, args.concurrency, args.rooms
    ));
    let stats = Mutex::new(Stats::default());
    let expected_balance = args.signup_coins - args.price;
    let server_cpu_before = services.server_cpu_seconds()?;
    let db_cpu_before = crate::report::cpu_seconds(services.db_pid).unwrap_or(0.0);
    let start = Instant::now();
    let mut paid: Vec<(usize, bool)> = futures::stream::iter(viewers.iter().enumerate())
        .map(|(i, viewer)| {
            let room = &rooms[i % rooms.len()];
            let key = format!("load-pay-{i}");
            let services = &services;
            let stats = &stats;
            async move {
                let begun = Instant::now();
                let answer = pay_with_retries(services, viewer, room, &key, stats).await;
                let mut stats = lock(stats);
                match answer {
                    Some(body) => {
                        stats.join_ms.push_duration_ms(begun.elapsed());
                        if body["alreadyPaid"] != Value::Bool(false)
                            || body["transaction"]["amount"].as_i64() != Some(room.price)
                            || body["balance"].as_i64() != Some(expected_balance)
                        {
                            stats
                                .anomalies
                                .push(format!("{}: unexpected answer {body}", viewer.username));
                        }
                        (i, true)
                    }
                    None => (i, false),
                }
            }
        })
        .buffer_unordered(args.concurrency)
        .collect()
        .await;
    paid.sort_unstable();
    let pay_secs = start.elapsed().as_secs_f64();
    let server_cpu = (services.server_cpu_seconds()? - server_cpu_before) / pay_secs.max(1e-9);
    let db_cpu = (crate::report::cpu_seconds(services.db_pid).unwrap_or(0.0) - db_cpu_before)
        / pay_secs.max(1e-9);
    let joined = paid.iter().filter(|(_, ok)| *ok).count();
    progress.say(format!(
        "{joined}/{} paid in {pay_secs:.2} s ({:.1} joins/s)",
        args.viewers,
        joined as f64 / pay_secs
    ));

    // Phase 2: duplicates and concurrent double joins.
    progress.say(format!(
        "{} viewers each fire 2 joins with one Idempotency-Key and 2 without, at once",
        args.duplicates
    ));
    // Errors: requests that failed or answered what the contract does not
    // allow (each fails the command, as a broken invariant does).
    let mut errors: Vec<String> = Vec::new();
    let mut doubled: Vec<(usize, bool)> = futures::stream::iter(doublers.iter().enumerate())
        .map(|(i, viewer)| {
            let room = &rooms[i % rooms.len()];
            let services = &services;
            async move { (i, double_join(services, viewer, room, i).await) }
        })
        .buffer_unordered(args.concurrency)
        .collect::<Vec<_>>()
        .await
        .into_iter()
        .map(|(i, result)| match result {
            Ok(()) => (i, true),
            Err(why) => {
                errors.push(why);
                (i, false)
            }
        })
        .collect();
    doubled.sort_unstable();

    // Invariants, read back through the API: every viewer was charged at
    // most once (and exactly once when told so), and each creator was
    // credited, and has a ledger entry, for exactly the viewers charged.
    progress.say("checking balances and ledgers");
    let everyone: Vec<(&User, usize, bool)> = viewers
        .iter()
        .zip(&paid)
        .enumerate()
        .map(|(i, (v, (_, ok)))| (v, i % rooms.len(), *ok))
        .chain(
            doublers
                .iter()
                .zip(&doubled)
                .enumerate()
                .map(|(i, (v, (_, ok)))| (v, i % rooms.len(), *ok)),
        )
        .collect();
    let balances: Vec<anyhow::Result<i64>> = futures::stream::iter(&everyone)
        .map(|(viewer, _, _)| services.balance(viewer))
        .buffered(args.concurrency)
        .collect()
        .await;
    let mut failures: Vec<String> = Vec::new();
    let mut charged_per_room = vec![HashSet::new(); rooms.len()];
    let mut uncharged = 0;
    for ((viewer, room, told_paid), balance) in everyone.iter().zip(balances) {
        match balance {
            Ok(b) if b == expected_balance => {
                charged_per_room[*room].insert(viewer.id.as_str());
            }
            Ok(b) if b == args.signup_coins && !told_paid => uncharged += 1,
            Ok(b) => failures.push(format!(
                "{} has {b} coins: expected {expected_balance}{}",
                viewer.username,
                if *told_paid {
                    String::new()
                } else {
                    format!(" or (not paid) {}", args.signup_coins)
                }
            )),
            Err(err) => failures.push(format!("{}: {err:#}", viewer.username)),
        }
    }
    for ((creator, room), charged) in creators.iter().zip(&rooms).zip(&charged_per_room) {
        let expected = args.signup_coins + charged.len() as i64 * room.price;
        let balance = services.balance(creator).await?;
        if balance != expected {
            failures.push(format!(
                "creator {} has {balance} coins, expected {expected} ({} viewers charged × {})",
                creator.username,
                charged.len(),
                room.price
            ));
        }
        let ledger = services.transactions(creator).await?;
        let joins: Vec<&str> = ledger
            .iter()
            .filter(|t| t["kind"] == "stream_join" && t["roomId"] == room.id.as_str())
            .filter_map(|t| t["fromUserId"].as_str())
            .collect();
        let from: HashSet<&str> = joins.iter().copied().collect();
        if joins.len() != charged.len() || from != *charged {
            failures.push(format!(
                "creator {}'s ledger has {} stream joins from {} viewers; {} viewers were charged",
                creator.username,
                joins.len(),
                from.len(),
                charged.len()
            ));
        }
    }

    let stats = stats.into_inner().unwrap_or_else(|p| p.into_inner());
    errors.extend(stats.failed.iter().cloned());
    errors.extend(stats.anomalies.iter().cloned());
    let passed = failures.is_empty();
    let results = json!({
        "registerSeconds": round3(register_secs),
        "joins": joined,
        "joinSeconds": round3(pay_secs),
        "joinsPerSecond": round3(joined as f64 / pay_secs.max(1e-9)),
        "joinLatencyMs": stats.join_ms.to_json(),
        "requestLatencyMs": stats.attempt_ms.to_json(),
        "retries": stats.retries,
        "serverCpuSecondsPerSecond": round3(server_cpu),
        "databaseCpuSecondsPerSecond": round3(db_cpu),
        "refusalsByCode": stats.refusals,
        "duplicateViewers": args.duplicates,
        "viewersNotCharged": uncharged,
        "invariants": {
            "passed": passed,
            "failures": failures.iter().take(20).collect::<Vec<_>>(),
            "failureCount": failures.len(),
        },
        "errors": {
            "count": errors.len(),
            "samples": errors.iter().take(20).collect::<Vec<_>>(),
        },
    });
    let summary = vec![
        format!(
            "{joined}/{} viewers paid in {pay_secs:.2} s: {:.1} joins/s at concurrency {} over {} rooms",
            args.viewers,
            joined as f64 / pay_secs.max(1e-9),
            args.concurrency,
            args.rooms
        ),
        format!(
            "join latency p50 {:.1} ms p99 {:.1} ms; {} retries; refusals {:?}",
            stats.join_ms.percentile(50.0),
            stats.join_ms.percentile(99.0),
            stats.retries,
            stats.refusals
        ),
        format!(
            "during the joins: server CPU {server_cpu:.2} s/s, database (SecantusDB) CPU {db_cpu:.2} s/s"
        ),
        format!(
            "money invariants ({} viewers, {} with duplicate/double joins, {} creators): {}",
            args.viewers + args.duplicates,
            args.duplicates,
            args.rooms,
            if passed {
                "PASS".to_owned()
            } else {
                format!("FAIL ({} failures: {})", failures.len(), failures[0])
            }
        ),
        match errors.first() {
            None => "errors: none (every request answered as the contract says)".to_owned(),
            Some(first) => format!(
                "errors: {} ({uncharged} viewers left uncharged), first: {first}",
                errors.len()
            ),
        },
    ];
    let report = Report {
        benchmark: "payments",
        params: json!({
            "viewers": args.viewers,
            "concurrency": args.concurrency,
            "rooms": args.rooms,
            "price": args.price,
            "signupCoins": args.signup_coins,
            "duplicates": args.duplicates,
            "server": args.server.to_json(),
        }),
        results,
        summary,
    };
    if !passed || !errors.is_empty() {
        report.emit(None)?;
        bail!(
            "payments: {} broken invariants, {} errors",
            failures.len(),
            errors.len()
        );
    }
    Ok(report)
}

/// Pays once, retrying transient refusals (503, 429) and transport errors
/// with the same key; the successful answer, or `None`.
async fn pay_with_retries(
    services: &Services,
    viewer: &User,
    room: &Room,
    key: &str,
    stats: &Mutex<Stats>,
) -> Option<Value> {
    // Kept locally, merged into `stats` once (no lock across an await).
    let mut attempts = Samples::default();
    let mut refusals: Vec<String> = Vec::new();
    let mut outcome: Result<Value, String> = Err(format!(
        "{} gave up after {ATTEMPTS} attempts",
        viewer.username
    ));
    for attempt in 1..=ATTEMPTS {
        let begun = Instant::now();
        let result = services
            .stream_join(viewer, room, room.price, Some(key))
            .await;
        attempts.push_duration_ms(begun.elapsed());
        match result {
            Ok((StatusCode::OK, body)) => {
                outcome = Ok(body);
                break;
            }
            Ok((status, body)) => {
                let code = body["error"]["code"]
                    .as_str()
                    .map(str::to_owned)
                    .unwrap_or_else(|| format!("http_{}", status.as_u16()));
                refusals.push(format!("{} {code}", status.as_u16()));
                if !(status == StatusCode::SERVICE_UNAVAILABLE
                    || status == StatusCode::TOO_MANY_REQUESTS)
                {
                    outcome = Err(format!("{} refused: {status} {body}", viewer.username));
                    break;
                }
            }
            Err(err) => {
                tracing::debug!(error = %format!("{err:#}"), "payment request failed");
                refusals.push("transport".into());
            }
        }
        if attempt < ATTEMPTS {
            tokio::time::sleep(Duration::from_millis(50 * u64::from(attempt))).await;
        }
    }
    let mut s = lock(stats);
    s.attempt_ms.extend(&attempts);
    s.retries += attempts.len() as u64 - 1;
    for code in refusals {
        *s.refusals.entry(code).or_default() += 1;
    }
    match outcome {
        Ok(body) => Some(body),
        Err(why) => {
            s.failed.push(why);
            None
        }
    }
}

/// Two joins with one key and two without, at once; then a replay of the
/// key and its reuse for another body. Exactly one may charge.
async fn double_join(
    services: &Services,
    viewer: &User,
    room: &Room,
    i: usize,
) -> Result<(), String> {
    let who = &viewer.username;
    let key = format!("load-double-{i}");
    let (a, b, c, d) = tokio::join!(
        services.stream_join(viewer, room, room.price, Some(&key)),
        services.stream_join(viewer, room, room.price, Some(&key)),
        services.stream_join(viewer, room, room.price, None),
        services.stream_join(viewer, room, room.price, None),
    );
    let mut answers = Vec::new();
    for result in [a, b, c, d] {
        match result {
            Ok((StatusCode::OK, body)) => answers.push(body),
            Ok((status, body)) => return Err(format!("{who}: a double join got {status} {body}")),
            Err(err) => return Err(format!("{who}: a double join failed: {err:#}")),
        }
    }
    let charged: HashSet<&str> = answers
        .iter()
        .filter_map(|a| a["transaction"]["id"].as_str())
        .collect();
    let fresh = answers
        .iter()
        .filter(|a| a["alreadyPaid"] == Value::Bool(false))
        .count();
    if charged.len() != 1 {
        return Err(format!(
            "{who}: {} distinct charges from 4 concurrent joins",
            charged.len()
        ));
    }
    // The two keyed answers are one stored answer (a charge, or "already paid").
    if answers[0] != answers[1] {
        return Err(format!(
            "{who}: one Idempotency-Key, two answers: {} vs {}",
            answers[0], answers[1]
        ));
    }
    if fresh == 0 {
        return Err(format!("{who}: no join reports the charge"));
    }
    match services
        .stream_join(viewer, room, room.price, Some(&key))
        .await
    {
        Ok((StatusCode::OK, body)) if body == answers[0] => {}
        Ok((status, body)) => {
            return Err(format!(
                "{who}: the key's replay answered {status} {body}, not {}",
                answers[0]
            ));
        }
        Err(err) => return Err(format!("{who}: replay failed: {err:#}")),
    }
    match services
        .stream_join(viewer, room, room.price + 1, Some(&key))
        .await
    {
        Ok((StatusCode::UNPROCESSABLE_ENTITY, body))
            if body["error"]["code"] == "idempotency_key_reused" => {}
        Ok((status, body)) => {
            return Err(format!(
                "{who}: the key reused for another body answered {status} {body}"
            ));
        }
        Err(err) => return Err(format!("{who}: key reuse failed: {err:#}")),
    }
    Ok(())
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}
