//! Owns the chat fan-out benchmark: for each M, a fresh server, M Socket.IO
//! clients joined to one live room, a few of them sending chat messages at a
//! controlled total rate, each message stamped with its send time; every
//! client records when each `chat:message` arrives. Reports deliveries
//! (expected, received, missing), end-to-end latency, the server's CPU and
//! memory, and the memory one idle joined connection costs.
//!
//! Several instances (`--instances K`, or `--url a,b,c`): clients are spread
//! round-robin over them, each message carries its sender's instance, and
//! deliveries are counted as local (same instance) or crossing instances;
//! Redis's commands and publishes per chat message are read from `INFO`. A
//! server that does not report cluster mode cannot deliver across
//! instances: then only local deliveries are required.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use futures::StreamExt;
use serde_json::{Value, json};

use crate::report::{Progress, Report, Samples, parse_list, round3};
use crate::server::{ServerArgs, Services, TargetArgs};
use crate::sio::{self, Client};
use crate::stats::Probe;

/// A list of sizes, parsed from one comma-separated value.
pub type Sizes = Vec<usize>;

#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub server: ServerArgs,
    #[command(flatten)]
    pub target: TargetArgs,
    /// Connected clients per run, comma separated (a fresh server each).
    #[arg(long, value_parser = parse_list, default_value = "100,1000,5000")]
    pub clients: Sizes,
    /// Chat messages per second, all senders together.
    #[arg(long, default_value_t = 20.0)]
    pub rate: f64,
    /// Seconds of sending.
    #[arg(long, default_value_t = 5.0)]
    pub seconds: f64,
    /// Clients that send (the first ones; they receive too).
    #[arg(long, default_value_t = 4)]
    pub senders: usize,
    /// Socket.IO connections per registered user (registering is slow).
    #[arg(long, default_value_t = 250)]
    pub sockets_per_user: usize,
    /// Connections (and joins) opened at once.
    #[arg(long, default_value_t = 64)]
    pub connect_concurrency: usize,
    /// Fail when any delivery is missing.
    #[arg(long)]
    pub require_no_loss: bool,
}

impl Args {
    pub fn smoke(server: &ServerArgs) -> Self {
        Self {
            server: server.clone(),
            target: TargetArgs {
                instances: 1,
                redis_server: "redis-server".into(),
                ..TargetArgs::default()
            },
            clients: vec![20],
            rate: 20.0,
            seconds: 1.0,
            senders: 2,
            sockets_per_user: 10,
            connect_concurrency: 16,
            require_no_loss: true,
        }
    }

    /// CI size over two instances sharing one database and one Redis.
    pub fn smoke_cluster(server: &ServerArgs) -> Self {
        let mut args = Self::smoke(server);
        args.target.instances = 2;
        args
    }
}

/// What the clients received, shared by their connection tasks.
#[derive(Default)]
struct Tally {
    received: AtomicU64,
    /// Of `received`: sent from another instance than the receiver's.
    received_cross: AtomicU64,
    latency_ms: Mutex<Samples>,
    malformed: AtomicU64,
}

pub async fn run(args: Args) -> anyhow::Result<Report> {
    if args.clients.is_empty() || args.clients.contains(&0) {
        bail!("--clients needs sizes above 0");
    }
    if !(args.rate > 0.0 && args.seconds > 0.0) {
        bail!("--rate and --seconds must be above 0");
    }
    let progress = Progress::new("chat");
    let mut runs = Vec::new();
    let mut summary = vec![format!(
        "rate {} msg/s for {} s from {} senders",
        args.rate, args.seconds, args.senders
    )];
    let mut lossless = true;
    for &m in &args.clients {
        let result = run_one(&args, m, &progress)
            .await
            .with_context(|| format!("chat with {m} clients"))?;
        let missing = result["deliveries"]["missingRequired"]
            .as_u64()
            .unwrap_or(0);
        lossless &= missing == 0;
        summary.push(format!(
            "M={m}: {} msgs, {}/{} delivered ({} missing), {:.0} deliveries/s, latency p50 {} ms p99 {} ms max {} ms, server CPU {:.2} s/s (tool {:.2}), RSS {:.1} MiB, {:.1} KiB per idle connection",
            result["messagesSent"],
            result["deliveries"]["received"],
            result["deliveries"]["expected"],
            missing,
            result["deliveriesPerSecond"].as_f64().unwrap_or(0.0),
            result["latencyMs"]["p50"],
            result["latencyMs"]["p99"],
            result["latencyMs"]["max"],
            result["serverCpuSecondsPerSecond"].as_f64().unwrap_or(0.0),
            result["toolCpuSecondsPerSecond"].as_f64().unwrap_or(0.0),
            result["serverRssBytes"].as_f64().unwrap_or(0.0) / 1048576.0,
            result["memoryPerIdleConnectionBytes"].as_f64().unwrap_or(0.0) / 1024.0,
        ));
        if result["instances"].as_u64().unwrap_or(1) > 1 {
            summary.push(format!(
                "  {} instances{}: {} deliveries crossed instances, Redis {} commands / {} publishes per chat message",
                result["instances"],
                if result["clusterAware"] == Value::Bool(true) {
                    " (cluster mode)"
                } else {
                    " (the server does not report cluster mode: only local deliveries required)"
                },
                result["deliveries"]["receivedCrossInstance"],
                result["counters"]["redis"]["commandsPerUnit"],
                result["counters"]["redis"]["publishesPerUnit"],
            ));
        }
        runs.push(result);
    }
    let report = Report {
        benchmark: "chat",
        params: json!({
            "clients": args.clients,
            "ratePerSecond": args.rate,
            "seconds": args.seconds,
            "senders": args.senders,
            "socketsPerUser": args.sockets_per_user,
            "target": args.target.to_json(),
            "openFilesLimit": crate::server::nofile_limit(),
            "server": args.server.to_json(),
        }),
        results: json!({ "runs": runs }),
        summary,
    };
    if args.require_no_loss && !lossless {
        report.emit(None)?;
        bail!("chat: some deliveries are missing (see the report)");
    }
    Ok(report)
}

async fn run_one(args: &Args, m: usize, progress: &Progress) -> anyhow::Result<Value> {
    progress.say(format!("M={m}: starting the database and the server"));
    let mut services = Services::launch(&args.server, &args.target, 100, &[]).await?;
    let k = services.instances.len();
    let cluster_aware = services.cluster_aware().await;
    let per_user = args.sockets_per_user.max(1);
    let users_needed = m.div_ceil(per_user);
    progress.say(format!(
        "M={m}: registering 1 creator + {users_needed} viewers"
    ));
    let creator = services.register("chatc").await?;
    let viewers = services.register_many("chatv", users_needed, 4).await?;
    // A fresh server process, so registration's memory is not in the readings.
    services.restart_server().await?;
    let room = services.create_live_room(&creator, 0).await?;

    tokio::time::sleep(Duration::from_millis(500)).await;
    let rss_before = services.servers_rss();

    // Every client stamps arrivals against this instant; senders stamp sends.
    let epoch = Instant::now();
    let tally = Arc::new(Tally::default());
    let handlers: Vec<sio::Handler> = (0..k)
        .map(|instance| {
            let tally = tally.clone();
            Arc::new(move |event: sio::Event| {
                if event.name != "chat:message" {
                    return;
                }
                match sent_at(&event.data) {
                    Some(nanos) => {
                        if sender_instance(&event.data).is_some_and(|i| i != instance) {
                            tally.received_cross.fetch_add(1, Ordering::Relaxed);
                        }
                        let sent = epoch + Duration::from_nanos(nanos);
                        let latency = event.at.saturating_duration_since(sent);
                        tally.received.fetch_add(1, Ordering::Relaxed);
                        if let Ok(mut samples) = tally.latency_ms.lock() {
                            samples.push(latency.as_secs_f64() * 1e3);
                        }
                    }
                    None => {
                        tally.malformed.fetch_add(1, Ordering::Relaxed);
                    }
                }
            }) as sio::Handler
        })
        .collect();

    progress.say(format!("M={m}: connecting and joining {m} clients"));
    let connect_start = Instant::now();
    let room_id = room.id.clone();
    let done = AtomicU64::new(0);
    // Joined out of order; kept in client order, so client i is on
    // instance i mod k (senders tag their messages with it).
    let mut indexed: Vec<(usize, Client)> = futures::stream::iter(0..m)
        .map(|i| {
            let viewer = &viewers[i / per_user];
            let handler = handlers[i % k].clone();
            let services = &services;
            let room_id = &room_id;
            let done = &done;
            async move {
                let client = Client::connect(services.socket_url_for(i), &viewer.token, handler)
                    .await
                    .with_context(|| format!("client {i}"))?;
                client
                    .request("room:join", &json!({ "roomId": room_id }))
                    .await
                    .with_context(|| format!("client {i} joining"))?;
                let n = done.fetch_add(1, Ordering::Relaxed) + 1;
                if n.is_multiple_of(1000) {
                    progress.say(format!("M={m}: {n} joined"));
                }
                anyhow::Ok((i, client))
            }
        })
        .buffer_unordered(args.connect_concurrency.max(1))
        .collect::<Vec<_>>()
        .await
        .into_iter()
        .collect::<anyhow::Result<_>>()?;
    indexed.sort_by_key(|(i, _)| *i);
    let clients: Vec<Client> = indexed.into_iter().map(|(_, c)| c).collect();
    let connect_secs = connect_start.elapsed().as_secs_f64();
    progress.say(format!(
        "M={m}: all joined in {connect_secs:.1} s; idling 2 s"
    ));
    tokio::time::sleep(Duration::from_secs(2)).await;
    let rss_idle = services.servers_rss();
    let per_idle = match (rss_idle, rss_before) {
        (Some(idle), Some(before)) => Some(((idle as f64 - before as f64) / m as f64).round()),
        _ => None,
    };

    // Sending: `senders` clients, each at rate/senders, staggered.
    let senders = args.senders.clamp(1, m);
    let total = (args.rate * args.seconds).round().max(1.0) as u64;
    let interval = Duration::from_secs_f64(1.0 / args.rate);
    progress.say(format!(
        "M={m}: sending {total} messages at {} msg/s from {senders} senders",
        args.rate
    ));
    let acked = AtomicU64::new(0);
    // Messages acknowledged per sender instance (for local deliveries).
    let acked_on: Vec<AtomicU64> = (0..k).map(|_| AtomicU64::new(0)).collect();
    let mut probe = Probe::new(
        services.mongodb_uri.as_deref(),
        services.redis_addr.as_deref(),
    )
    .await;
    probe.start().await;
    let refused = Mutex::new(Vec::<Value>::new());
    let cpu_before = services.cpu_snapshot();
    let tool_cpu_before = crate::report::cpu_seconds(std::process::id())?;
    let send_start = Instant::now();
    let sends = (0..total).map(|seq| {
        let sender = (seq as usize) % senders;
        let client = &clients[sender];
        let room_id = &room_id;
        let acked = &acked;
        let acked_on = &acked_on[sender % k];
        let refused = &refused;
        async move {
            let due = send_start + interval.mul_f64(seq as f64);
            tokio::time::sleep_until(due.into()).await;
            let stamp = epoch.elapsed().as_nanos();
            let text = format!("t={stamp} s={seq} i={}", sender % k);
            match client
                .emit_ack("chat:send", &json!({ "roomId": room_id, "text": text }))
                .await
            {
                Ok(answer) if answer["ok"] == Value::Bool(true) => {
                    acked.fetch_add(1, Ordering::Relaxed);
                    acked_on.fetch_add(1, Ordering::Relaxed);
                }
                Ok(answer) => lock(refused).push(answer),
                Err(err) => lock(refused).push(json!(format!("{err:#}"))),
            }
        }
    });
    futures::future::join_all(sends).await;
    let send_secs = send_start.elapsed().as_secs_f64();
    let sent = acked.load(Ordering::Relaxed);
    let expected = sent * m as u64;
    // Deliveries to clients on the sender's own instance.
    let on_instance = |j: usize| (0..m).filter(|i| i % k == j).count() as u64;
    let expected_local: u64 = (0..k)
        .map(|j| acked_on[j].load(Ordering::Relaxed) * on_instance(j))
        .sum();
    let required = if k == 1 || cluster_aware {
        expected
    } else {
        expected_local
    };

    // Drain: until everything expected arrived, or 10 s without progress.
    let mut last = tally.received.load(Ordering::Relaxed);
    let mut last_change = Instant::now();
    while tally.received.load(Ordering::Relaxed) < required
        && last_change.elapsed() < Duration::from_secs(10)
    {
        tokio::time::sleep(Duration::from_millis(20)).await;
        let now = tally.received.load(Ordering::Relaxed);
        if now != last {
            last = now;
            last_change = Instant::now();
        }
    }
    let delivery_secs = send_start.elapsed().as_secs_f64();
    let cpu = services.cpu_snapshot().since(&cpu_before, delivery_secs);
    let counters = probe.finish(sent).await;
    let tool_cpu_secs = crate::report::cpu_seconds(std::process::id())? - tool_cpu_before;
    let rss_after = services.servers_rss();
    let received = tally.received.load(Ordering::Relaxed);
    let latency = lock(&tally.latency_ms).clone();
    let refused = lock(&refused).clone();
    progress.say(format!(
        "M={m}: {received}/{expected} delivered; p99 {:.1} ms",
        latency.percentile(99.0)
    ));

    for client in &clients {
        client.close();
    }
    drop(clients);

    Ok(json!({
        "clients": m,
        "instances": k,
        "clusterAware": cluster_aware,
        "users": users_needed,
        "connectAndJoinSeconds": round3(connect_secs),
        "messagesPlanned": total,
        "messagesSent": sent,
        "messagesRefused": refused.len(),
        "refusals": refused.into_iter().take(5).collect::<Vec<_>>(),
        "sendSeconds": round3(send_secs),
        "deliveries": {
            "expected": expected,
            "received": received,
            "missing": expected.saturating_sub(received),
            "expectedLocal": expected_local,
            "receivedCrossInstance": tally.received_cross.load(Ordering::Relaxed),
            "required": required,
            "missingRequired": required.saturating_sub(received),
            "malformed": tally.malformed.load(Ordering::Relaxed),
        },
        "deliveriesPerSecond": round3(received as f64 / delivery_secs.max(1e-9)),
        "latencyMs": latency.to_json(),
        "serverCpuSecondsPerSecond": cpu["serverCpuSecondsPerSecond"],
        "cpu": cpu,
        "counters": counters,
        // Near 1.0 means the load tool's own CPU may add to the latency.
        "toolCpuSecondsPerSecond": round3(tool_cpu_secs / delivery_secs.max(1e-9)),
        "serverRssBeforeClientsBytes": rss_before,
        "serverRssIdleBytes": rss_idle,
        "serverRssBytes": rss_after,
        "memoryPerIdleConnectionBytes": per_idle,
    }))
}

/// The sender's instance (`i=`) in a chat message's text.
fn sender_instance(message: &Value) -> Option<usize> {
    let text = message["text"].as_str()?;
    text.split(' ')
        .find_map(|w| w.strip_prefix("i="))?
        .parse()
        .ok()
}

/// The send stamp (nanoseconds after the epoch) in a chat message's text.
fn sent_at(message: &Value) -> Option<u64> {
    let text = message["text"].as_str()?;
    text.strip_prefix("t=")?.split(' ').next()?.parse().ok()
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stamps_parse() {
        assert_eq!(sent_at(&json!({"text": "t=123 s=4"})), Some(123));
        assert_eq!(sent_at(&json!({"text": "hello"})), None);
        assert_eq!(sent_at(&json!({})), None);
        assert_eq!(sender_instance(&json!({"text": "t=1 s=2 i=1"})), Some(1));
        assert_eq!(sender_instance(&json!({"text": "t=1 s=2"})), None);
    }
}
