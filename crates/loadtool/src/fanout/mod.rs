//! Owns the SFU fan-out benchmark: the SFU runs as its own process
//! (`sfu-host`, pinned to one CPU), the load tool (pinned to another) runs
//! one publisher and N real WebRTC subscribers. Subscribers are added in
//! steps (N = 50, 200, 500, 1000 by default, then on with `--until-loss`);
//! each step measures a window: the SFU's CPU (its own CPU-seconds per
//! second from /proc, and the whole CPU's busy share, which includes the
//! kernel's softirq work), CPU per forwarded packet, packets lost, packets
//! late (forwarded after `--late-ms`, useless to a live viewer), forwarding
//! delay p50/p99 and the SFU's memory. `--until-loss` goes on until lost
//! plus late packets pass `--loss-threshold` percent.

mod host;
mod peers;

use std::time::{Duration, Instant};

use serde_json::{Value, json};

pub use host::{HostArgs, host};

use crate::report::{self, Progress, Report, Samples, round3};

/// Arguments of `fanout`.
#[derive(clap::Args)]
pub struct Args {
    /// Subscriber counts to measure, in increasing order.
    #[arg(long, value_delimiter = ',', default_value = "50,200,500,1000")]
    viewers: Vec<usize>,
    /// Keep adding `--step` subscribers after the list until loss appears.
    #[arg(long)]
    until_loss: bool,
    /// Subscribers added per step with `--until-loss`.
    #[arg(long, default_value_t = 250)]
    step: usize,
    /// Share (percent) of packets lost or late that counts as "loss
    /// appeared".
    #[arg(long, default_value_t = 0.1)]
    loss_threshold: f64,
    /// A packet forwarded later than this (milliseconds) is as good as
    /// lost to a live viewer's jitter buffer: it counts as late.
    #[arg(long, default_value_t = 250.0)]
    late_ms: f64,
    /// Largest subscriber count tried.
    #[arg(long, default_value_t = 4000)]
    max_viewers: usize,
    /// Seconds measured per step (after a settling second).
    #[arg(long, default_value_t = 10.0)]
    seconds: f64,
    /// Video bitrate of the publisher, bits per second.
    #[arg(long, default_value_t = 2_500_000)]
    bitrate: u64,
    /// CPU for the SFU process.
    #[arg(long, default_value_t = 0)]
    sfu_cpu: usize,
    /// CPU for the load tool.
    #[arg(long, default_value_t = 1)]
    tool_cpu: usize,
}

impl Args {
    /// A tiny run for CI.
    pub fn smoke() -> Self {
        Self {
            viewers: vec![3],
            until_loss: false,
            step: 1,
            loss_threshold: 100.0,
            late_ms: 250.0,
            max_viewers: 3,
            seconds: 1.0,
            bitrate: 500_000,
            sfu_cpu: 0,
            tool_cpu: 1,
        }
    }
}

/// Busy and total jiffies of one CPU, from /proc/stat.
fn cpu_jiffies(cpu: usize) -> Option<(u64, u64)> {
    let stat = std::fs::read_to_string("/proc/stat").ok()?;
    let label = format!("cpu{cpu} ");
    let line = stat.lines().find(|l| l.starts_with(&label))?;
    let v: Vec<u64> = line
        .split_whitespace()
        .skip(1)
        .filter_map(|x| x.parse().ok())
        .collect();
    let total: u64 = v.iter().take(8).sum();
    let idle = v.get(3).copied().unwrap_or(0) + v.get(4).copied().unwrap_or(0);
    Some((total - idle, total))
}

/// UDP receive/send buffer errors so far, from /proc/net/snmp.
fn udp_buffer_errors() -> (u64, u64) {
    let snmp = std::fs::read_to_string("/proc/net/snmp").unwrap_or_default();
    let mut lines = snmp.lines().filter(|l| l.starts_with("Udp:"));
    let (Some(names), Some(values)) = (lines.next(), lines.next()) else {
        return (0, 0);
    };
    let get = |name: &str| {
        names
            .split_whitespace()
            .position(|n| n == name)
            .and_then(|i| values.split_whitespace().nth(i))
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    };
    (get("RcvbufErrors"), get("SndbufErrors"))
}

/// Runs the benchmark.
pub fn run(args: Args) -> anyhow::Result<Report> {
    let progress = Progress::new("fanout");
    let mut steps: Vec<usize> = args.viewers.clone();
    steps.retain(|n| *n <= args.max_viewers);
    steps.sort_unstable();
    steps.dedup();
    anyhow::ensure!(!steps.is_empty(), "no subscriber count to measure");

    // The SFU process first (it inherits nothing of our pinning), then us.
    let mut host = host::HostClient::start(Some(args.sfu_cpu))?;
    report::pin_to_cpu(args.tool_cpu)?;
    let room = "bench";
    let mut peers = peers::Peers::start(&mut host, room, args.bitrate)?;
    progress.say(format!(
        "publisher up ({} kbit/s video + audio); SFU pid {} on CPU {}, tool on CPU {}",
        args.bitrate / 1000,
        host.pid(),
        args.sfu_cpu,
        args.tool_cpu
    ));
    peers.run_for(Duration::from_secs(1));
    let base_rss = report::rss_bytes(host.pid())?;

    let mut rows = Vec::new();
    let mut summary = Vec::new();
    let mut n_index = 0;
    let mut target = steps[0];
    loop {
        let have = peers.connected();
        anyhow::ensure!(
            peers.failed() * 10 <= target.max(10),
            "{} subscribers failed; the SFU is not keeping up",
            peers.failed()
        );
        if target > have {
            progress.say(format!("connecting subscribers {have} → {target}"));
            peers.add_subscribers(&mut host, room, target - have)?;
        }
        peers.run_for(Duration::from_secs(1)); // Settle: keyframes, RTCP.
        let row = measure(&mut peers, &mut host, &args, target, base_rss)?;
        let loss_pct = row["lossPercent"].as_f64().unwrap_or(0.0);
        let late_pct = row["latePercent"].as_f64().unwrap_or(0.0);
        let silent = row["silentSubscribers"].as_u64().unwrap_or(0);
        progress.say(format!(
            "N={target}: {} pkts/s out, SFU CPU {} s/s, {} µs/pkt, loss {loss_pct}%, late {late_pct}%, delay p50 {} ms p99 {} ms",
            row["packetsOutPerSecond"], row["sfuCpuPerSecond"], row["sfuCpuMicrosPerPacket"],
            row["delayMs"]["p50"], row["delayMs"]["p99"]
        ));
        summary.push(format!(
            "N={target:>5}: {:>8} pkts/s out, SFU {:>5} CPU-s/s ({} µs/pkt; core busy {}), loss {loss_pct}%, late {late_pct}%, delay p50/p99 {}/{} ms, RSS {} MiB",
            row["packetsOutPerSecond"], row["sfuCpuPerSecond"], row["sfuCpuMicrosPerPacket"],
            row["cpuBusyShare"], row["delayMs"]["p50"], row["delayMs"]["p99"], row["sfuRssMiB"]
        ));
        rows.push(row);
        n_index += 1;
        target = if n_index < steps.len() {
            steps[n_index]
        } else if args.until_loss && silent == 0 && loss_pct + late_pct <= args.loss_threshold {
            target + args.step
        } else {
            break;
        };
        if target > args.max_viewers {
            break;
        }
    }
    Ok(Report {
        benchmark: "fanout",
        params: json!({
            "viewers": steps,
            "untilLoss": args.until_loss,
            "lossThresholdPercent": args.loss_threshold,
            "lateMs": args.late_ms,
            "secondsPerStep": args.seconds,
            "videoBitrate": args.bitrate,
            "sfuCpu": args.sfu_cpu,
            "toolCpu": args.tool_cpu,
        }),
        results: json!({ "steps": rows }),
        summary,
    })
}

/// One measurement window at the current subscriber count.
fn measure(
    peers: &mut peers::Peers,
    host: &mut host::HostClient,
    args: &Args,
    n: usize,
    base_rss: u64,
) -> anyhow::Result<Value> {
    let pid = host.pid();
    let tool_pid = std::process::id();
    let stats0 = host.stats()?;
    let cpu0 = report::cpu_seconds(pid)?;
    let tool0 = report::cpu_seconds(tool_pid)?;
    let core0 = cpu_jiffies(args.sfu_cpu);
    let (rcv0, snd0) = udp_buffer_errors();
    let published0 = peers.published();
    let start = Instant::now();
    peers.begin_window();
    peers.run_for(Duration::from_secs_f64(args.seconds));
    let counts = peers.end_window();
    let elapsed = start.elapsed().as_secs_f64();
    let cpu = report::cpu_seconds(pid)? - cpu0;
    let tool = report::cpu_seconds(tool_pid)? - tool0;
    let stats = host.stats()?;
    let (rcv1, snd1) = udp_buffer_errors();
    let busy = match (core0, cpu_jiffies(args.sfu_cpu)) {
        (Some((b0, t0)), Some((b1, t1))) if t1 > t0 => {
            Some(round3((b1 - b0) as f64 / (t1 - t0) as f64))
        }
        _ => None,
    };
    let rss = report::rss_bytes(pid)?;
    let out = stats.packets_out - stats0.packets_out;
    let lost = counts.expected.saturating_sub(counts.received);
    let loss_pct = if counts.expected == 0 {
        0.0
    } else {
        lost as f64 * 100.0 / counts.expected as f64
    };
    let mut delays = Samples::with_capacity(counts.delays_us.len());
    let mut late = 0u64;
    for d in &counts.delays_us {
        let ms = f64::from(*d) / 1000.0;
        if ms > args.late_ms {
            late += 1;
        }
        delays.push(ms);
    }
    let late_pct = if counts.expected == 0 {
        0.0
    } else {
        late as f64 * 100.0 / counts.expected as f64
    };
    Ok(json!({
        "subscribers": n,
        "failedSubscribers": peers.failed(),
        "silentSubscribers": counts.silent,
        "seconds": round3(elapsed),
        "packetsInPerSecond": ((stats.packets_in - stats0.packets_in) as f64 / elapsed).round(),
        "publishedPerSecond": ((peers.published() - published0) as f64 / elapsed).round(),
        "packetsOutPerSecond": (out as f64 / elapsed).round(),
        "bitsOutPerSecond": (((stats.bytes_out - stats0.bytes_out) * 8) as f64 / elapsed).round(),
        "sfuCpuPerSecond": round3(cpu / elapsed),
        "cpuBusyShare": busy,
        "sfuCpuMicrosPerPacket": if out == 0 { None } else { Some(round3(cpu * 1e6 / out as f64)) },
        "toolCpuPerSecond": round3(tool / elapsed),
        "received": counts.received,
        "expected": counts.expected,
        "lost": lost,
        "lossPercent": round3(loss_pct),
        "late": late,
        "latePercent": round3(late_pct),
        "sfuSendDrops": stats.send_drops - stats0.send_drops,
        "udpRcvbufErrors": rcv1 - rcv0,
        "udpSndbufErrors": snd1 - snd0,
        "delayMs": delays.to_json(),
        "sfuRssMiB": round3(rss as f64 / (1 << 20) as f64),
        "sfuRssPerSubscriberKiB": round3(rss.saturating_sub(base_rss) as f64 / 1024.0 / n.max(1) as f64),
    }))
}
