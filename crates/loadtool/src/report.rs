//! Owns what every benchmark shares: the JSON report (with the machine it
//! ran on and the command that reproduces it), the human summary, progress
//! lines, latency percentiles, and reading a process's CPU time and memory
//! from /proc.

use std::path::Path;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::{Value, json};

/// One benchmark's outcome.
pub struct Report {
    /// Benchmark name (`fanout`, `floor`, `first-frame`, `chat`, `payments`).
    pub benchmark: &'static str,
    /// The parameters it ran with.
    pub params: Value,
    /// Its figures (machine-readable).
    pub results: Value,
    /// A few lines for humans.
    pub summary: Vec<String>,
}

impl Report {
    /// The JSON document: the figures with the machine and the command.
    pub fn document(&self) -> Value {
        json!({
            "benchmark": self.benchmark,
            "command": std::env::args().collect::<Vec<_>>().join(" "),
            "unixTime": SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0),
            "machine": machine(),
            "params": self.params,
            "results": self.results,
        })
    }

    /// Prints the human summary on stderr and the JSON document on stdout
    /// (and into `out` when given).
    pub fn emit(&self, out: Option<&Path>) -> anyhow::Result<()> {
        self.print_summary();
        let text = serde_json::to_string_pretty(&self.document())?;
        println!("{text}");
        if let Some(path) = out {
            std::fs::write(path, format!("{text}\n"))?;
        }
        Ok(())
    }

    /// The human summary, on stderr.
    pub fn print_summary(&self) {
        eprintln!("== {} ==", self.benchmark);
        for line in &self.summary {
            eprintln!("  {line}");
        }
    }
}

/// Progress lines on stderr, stamped with the time since the start.
#[derive(Clone)]
pub struct Progress {
    name: &'static str,
    start: Instant,
}

impl Progress {
    pub fn new(name: &'static str) -> Self {
        Self {
            name,
            start: Instant::now(),
        }
    }

    pub fn say(&self, message: impl AsRef<str>) {
        eprintln!(
            "[{} {:>7.1}s] {}",
            self.name,
            self.start.elapsed().as_secs_f64(),
            message.as_ref()
        );
    }
}

/// Collected samples (milliseconds, or any unit) and their percentiles.
#[derive(Default, Clone)]
pub struct Samples(Vec<f64>);

impl Samples {
    pub fn with_capacity(n: usize) -> Self {
        Self(Vec::with_capacity(n))
    }

    pub fn push(&mut self, value: f64) {
        self.0.push(value);
    }

    pub fn push_duration_ms(&mut self, d: Duration) {
        self.0.push(d.as_secs_f64() * 1e3);
    }

    pub fn extend(&mut self, other: &Samples) {
        self.0.extend_from_slice(&other.0);
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The `p`-th percentile (0..=100), nearest rank; NaN when empty.
    pub fn percentile(&self, p: f64) -> f64 {
        if self.0.is_empty() {
            return f64::NAN;
        }
        let mut sorted = self.0.clone();
        sorted.sort_by(f64::total_cmp);
        let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
        sorted[rank.clamp(1, sorted.len()) - 1]
    }

    /// `{count, p50, p99, max, mean}` rounded to three decimals (null when empty).
    pub fn to_json(&self) -> Value {
        if self.0.is_empty() {
            return json!({"count": 0, "p50": null, "p99": null, "max": null, "mean": null});
        }
        let mean = self.0.iter().sum::<f64>() / self.0.len() as f64;
        json!({
            "count": self.0.len(),
            "p50": round3(self.percentile(50.0)),
            "p99": round3(self.percentile(99.0)),
            "max": round3(self.percentile(100.0)),
            "mean": round3(mean),
        })
    }
}

/// Rounds to three decimals (for readable JSON).
pub fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

/// The machine the benchmark ran on.
pub fn machine() -> Value {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpuinfo
        .lines()
        .find_map(|l| l.strip_prefix("model name"))
        .and_then(|l| l.split_once(':'))
        .map(|(_, v)| v.trim().to_owned());
    let mem_kib = std::fs::read_to_string("/proc/meminfo")
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("MemTotal:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok());
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease")
        .map(|s| s.trim().to_owned())
        .ok();
    // Other work on the machine skews timings: the load averages when the
    // report was written say how busy it was.
    let load = std::fs::read_to_string("/proc/loadavg")
        .ok()
        .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "));
    json!({
        "loadAverage": load,
        "cpuModel": model,
        "cpus": cpu_count(),
        "memoryMiB": mem_kib.map(|k| k / 1024),
        "kernel": kernel,
    })
}

/// The number of CPUs of the machine (not this thread's affinity mask).
pub fn cpu_count() -> usize {
    // SAFETY: sysconf has no preconditions.
    let n = unsafe { libc::sysconf(libc::_SC_NPROCESSORS_ONLN) };
    usize::try_from(n).unwrap_or(1).max(1)
}

/// CPU time (user + system) a process has used so far, in seconds.
pub fn cpu_seconds(pid: u32) -> anyhow::Result<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
    // Fields after the command name (which may contain spaces) start at ')'.
    let rest = stat
        .rsplit_once(')')
        .map(|(_, r)| r)
        .ok_or_else(|| anyhow::anyhow!("unexpected /proc/{pid}/stat"))?;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // utime and stime are fields 14 and 15 (1-based) of the whole line,
    // i.e. 12 and 13 after the state field at index 0 here.
    let utime: f64 = fields.get(11).and_then(|v| v.parse().ok()).unwrap_or(0.0);
    let stime: f64 = fields.get(12).and_then(|v| v.parse().ok()).unwrap_or(0.0);
    // SAFETY: sysconf has no preconditions.
    let ticks = unsafe { libc::sysconf(libc::_SC_CLK_TCK) }.max(1) as f64;
    Ok((utime + stime) / ticks)
}

/// Resident memory of a process, in bytes.
pub fn rss_bytes(pid: u32) -> anyhow::Result<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    let kib = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .ok_or_else(|| anyhow::anyhow!("no VmRSS for {pid}"))?;
    Ok(kib * 1024)
}

/// Pins the calling thread (and the threads it starts later) to one CPU.
pub fn pin_to_cpu(cpu: usize) -> anyhow::Result<()> {
    // SAFETY: a zeroed cpu_set_t is valid; CPU_SET writes inside it; the
    // call reads it for this thread only.
    unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        libc::CPU_SET(cpu, &mut set);
        if libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &set) != 0 {
            anyhow::bail!(
                "cannot pin to CPU {cpu}: {}",
                std::io::Error::last_os_error()
            );
        }
    }
    Ok(())
}

/// Parses `"50,200,500"` into numbers.
pub fn parse_list(text: &str) -> Result<Vec<usize>, String> {
    text.split(',')
        .map(|s| s.trim().parse::<usize>().map_err(|e| format!("{s:?}: {e}")))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_use_nearest_rank() {
        let mut s = Samples::default();
        for v in 1..=100 {
            s.push(f64::from(v));
        }
        assert_eq!(s.percentile(50.0), 50.0);
        assert_eq!(s.percentile(99.0), 99.0);
        assert_eq!(s.percentile(100.0), 100.0);
        assert!(Samples::default().percentile(50.0).is_nan());
    }

    #[test]
    fn own_cpu_and_memory_are_readable() {
        let pid = std::process::id();
        let before = cpu_seconds(pid).unwrap();
        let start = Instant::now();
        let mut x = 0u64;
        while start.elapsed() < Duration::from_millis(300) {
            x = x.wrapping_add(std::hint::black_box(1));
        }
        assert!(x > 0);
        assert!(cpu_seconds(pid).unwrap() > before);
        assert!(rss_bytes(pid).unwrap() > 1024 * 1024);
    }

    #[test]
    fn lists_parse() {
        assert_eq!(parse_list("50, 200,500").unwrap(), vec![50, 200, 500]);
        assert!(parse_list("50,x").is_err());
    }
}
