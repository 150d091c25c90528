//! Owns the services the server-side benchmarks run against: a SecantusDB
//! process and a `streamshare serve` process, each started on a free port
//! with fresh storage, the server pinned to its CPU, both killed when the
//! [`Services`] handle drops (and with the load tool, by `PR_SET_PDEATHSIG`).
//! Also the REST helpers the benchmarks share: register, create a live
//! room, pay, read a balance. `STREAMSHARE_LOAD_KEEP=1` keeps the temporary
//! folder (the server's and the database's logs) for a look afterwards.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use futures::StreamExt;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::report::cpu_count;

/// Where the server binary and the database come from, and the CPUs.
#[derive(clap::Args, Clone, Debug)]
pub struct ServerArgs {
    /// The `streamshare` server binary to start.
    #[arg(long, default_value = "target/release/streamshare")]
    pub server_bin: PathBuf,
    /// The SecantusDB server command.
    #[arg(long, default_value = "secantusd-py")]
    pub secantusd: String,
    /// CPU the server process is pinned to.
    #[arg(long, default_value_t = 0)]
    pub server_cpu: usize,
    /// CPU the load tool itself is pinned to (its clients and peers).
    #[arg(long, default_value_t = 1)]
    pub tool_cpu: usize,
}

impl ServerArgs {
    /// The parameters to put in a report.
    pub fn to_json(&self) -> Value {
        json!({
            "machineCpus": cpu_count(),
            "serverBin": self.server_bin.display().to_string(),
            "serverCpu": self.server_cpu,
            "toolCpu": self.tool_cpu,
        })
    }
}

/// Prepares the load tool process before its runtime starts: raises the
/// open-files limit (clients need one each; the server inherits it) and
/// pins the calling thread, hence the runtime's threads, to `--tool-cpu`.
pub fn prepare(args: &ServerArgs) -> anyhow::Result<()> {
    raise_nofile_limit();
    if args.tool_cpu < cpu_count() {
        crate::report::pin_to_cpu(args.tool_cpu)?;
    } else {
        tracing::warn!(
            cpu = args.tool_cpu,
            "no such CPU; the load tool runs unpinned"
        );
    }
    Ok(())
}

/// Raises the soft open-files limit to the hard one.
fn raise_nofile_limit() {
    // SAFETY: getrlimit/setrlimit read and write the struct we own.
    unsafe {
        let mut limit: libc::rlimit = std::mem::zeroed();
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) == 0 && limit.rlim_cur < limit.rlim_max
        {
            limit.rlim_cur = limit.rlim_max;
            if libc::setrlimit(libc::RLIMIT_NOFILE, &limit) != 0 {
                tracing::warn!("could not raise the open-files limit");
            }
        }
    }
}

/// The soft open-files limit now in force.
pub fn nofile_limit() -> u64 {
    // SAFETY: getrlimit writes the struct we own.
    unsafe {
        let mut limit: libc::rlimit = std::mem::zeroed();
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) == 0 {
            limit.rlim_cur
        } else {
            0
        }
    }
}

static COUNTER: AtomicU64 = AtomicU64::new(0);

/// A name unique to this process and call.
pub fn unique(prefix: &str) -> String {
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    format!("{prefix}{}_{n}", std::process::id() % 100_000)
}

fn free_port() -> anyhow::Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .context("finding a free port")?
        .port())
}

fn free_udp_port() -> anyhow::Result<u16> {
    Ok(std::net::UdpSocket::bind("127.0.0.1:0")
        .and_then(|s| s.local_addr())
        .context("finding a free UDP port")?
        .port())
}

/// `redis://host:port/0` or `host:port` to `host:port`.
pub fn redis_addr(url: &str) -> String {
    let rest = url
        .trim()
        .trim_start_matches("redis://")
        .rsplit('@')
        .next()
        .unwrap_or_default();
    let hostport = rest.split('/').next().unwrap_or_default();
    if hostport.contains(':') {
        hostport.to_owned()
    } else {
        format!("{hostport}:6379")
    }
}

/// CPU seconds of the spawned processes at one instant.
#[derive(Clone, Debug)]
pub struct CpuSnapshot {
    pub servers: Vec<Option<f64>>,
    pub db: Option<f64>,
    pub redis: Option<f64>,
}

impl CpuSnapshot {
    /// What each used between `before` and `self` over `secs` seconds, as
    /// JSON: CPU seconds and CPU seconds per second (null when unknown).
    pub fn since(&self, before: &CpuSnapshot, secs: f64) -> Value {
        let diff = |a: Option<f64>, b: Option<f64>| match (a, b) {
            (Some(a), Some(b)) => Some(a - b),
            _ => None,
        };
        let per_instance: Vec<Option<f64>> = self
            .servers
            .iter()
            .zip(&before.servers)
            .map(|(a, b)| diff(*a, *b))
            .collect();
        let servers: Option<f64> = per_instance.iter().copied().sum();
        let rate = |x: Option<f64>| x.map(|v| crate::report::round3(v / secs.max(1e-9)));
        let r3 = |x: Option<f64>| x.map(crate::report::round3);
        let db = diff(self.db, before.db);
        let redis = diff(self.redis, before.redis);
        json!({
            "serverCpuSeconds": r3(servers),
            "serverCpuSecondsPerSecond": rate(servers),
            "perInstanceCpuSeconds": per_instance.into_iter().map(r3).collect::<Vec<_>>(),
            "dbCpuSeconds": r3(db),
            "dbCpuSecondsPerSecond": rate(db),
            "redisCpuSeconds": r3(redis),
        })
    }
}

/// The child dies with the load tool (SIGKILL when its parent thread ends),
/// and is optionally pinned to one CPU.
fn child_setup(cmd: &mut Command, cpu: Option<usize>) {
    use std::os::unix::process::CommandExt;
    // SAFETY: prctl and sched_setaffinity are async-signal-safe system
    // calls; nothing else runs between fork and exec.
    unsafe {
        cmd.pre_exec(move || {
            libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
            if let Some(cpu) = cpu {
                let mut set: libc::cpu_set_t = std::mem::zeroed();
                libc::CPU_SET(cpu, &mut set);
                if libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &set) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
            }
            Ok(())
        });
    }
}

/// The SecantusDB command: as given, else the repository's tool folder's
/// copy when the default name is not on `PATH`.
fn secantusd_command(given: &str) -> String {
    if given != "secantusd-py" {
        return given.to_owned();
    }
    let on_path = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).any(|d| d.join(given).is_file()))
        .unwrap_or(false);
    let local = Path::new(".tools/venv/bin/secantusd-py");
    if !on_path && local.is_file() {
        return local.display().to_string();
    }
    given.to_owned()
}

/// A registered user.
#[derive(Clone, Debug)]
pub struct User {
    pub id: String,
    pub username: String,
    pub token: String,
}

/// A room (live once [`Services::create_live_room`] returns it).
#[derive(Clone, Debug)]
pub struct Room {
    pub id: String,
    pub creator_id: String,
    pub price: i64,
}

/// One `streamshare serve` process (spawned) or a running server (`--url`).
pub struct Instance {
    /// `http://127.0.0.1:PORT`
    pub base: String,
    /// `ws://127.0.0.1:PORT/socket.io/?EIO=4&transport=websocket`
    pub socket_url: String,
    /// The process id when the tool spawned it (else 0).
    pub pid: u32,
    child: Option<Child>,
    env: Vec<(String, String)>,
    log: String,
}

/// Where a benchmark's clients go: servers the tool starts itself (one, or
/// several sharing one database and one Redis), or running ones (`--url`).
#[derive(clap::Args, Clone, Debug, Default)]
pub struct TargetArgs {
    /// Target running servers instead of starting one: base URLs, comma
    /// separated (`http://a:8080,http://b:8080`); clients are spread over
    /// them round-robin. Their rate limits must allow the load.
    #[arg(long, value_delimiter = ',')]
    pub url: Vec<String>,
    /// Server processes to start, sharing one database; more than one also
    /// starts a `redis-server` (cluster mode, `STREAMSHARE_REDIS_URL`).
    #[arg(long, default_value_t = 1)]
    pub instances: usize,
    /// Start Redis and cluster settings even for one instance (a fair
    /// baseline for 2 and 3).
    #[arg(long)]
    pub redis: bool,
    /// The Redis server command (cluster runs).
    #[arg(long, default_value = "redis-server")]
    pub redis_server: String,
    /// With `--url`: the database's MongoDB URI, to read its operation
    /// counters (`serverStatus`) before and after.
    #[arg(long)]
    pub mongodb_uri: Option<String>,
    /// With `--url`: the cluster's Redis (`redis://host:port` or
    /// `host:port`), to read its counters (`INFO`) before and after.
    #[arg(long)]
    pub redis_url: Option<String>,
}

impl TargetArgs {
    pub fn to_json(&self) -> Value {
        json!({
            "urls": self.url,
            "instances": if self.url.is_empty() { self.instances } else { self.url.len() },
            "redis": self.uses_redis() || self.redis_url.is_some(),
        })
    }

    /// Whether spawned servers run in cluster mode.
    pub fn uses_redis(&self) -> bool {
        self.url.is_empty() && (self.redis || self.instances > 1)
    }
}

/// A running database and server(s).
pub struct Services {
    /// The first instance's `http://127.0.0.1:PORT`.
    pub base: String,
    /// The first instance's Socket.IO URL.
    pub socket_url: String,
    /// The first server's process id (for CPU and memory readings).
    pub server_pid: u32,
    /// SecantusDB's process id (its CPU matters to payments); 0 with `--url`.
    pub db_pid: u32,
    /// Redis's process id when the tool started one (else 0).
    pub redis_pid: u32,
    /// Whether the server process is pinned to `--server-cpu`.
    pub server_pinned: bool,
    /// The database's URI when known (spawned, or `--mongodb-uri`).
    pub mongodb_uri: Option<String>,
    /// Redis's `host:port` when in use and known.
    pub redis_addr: Option<String>,
    pub http: reqwest::Client,
    /// Every server, the first one being `base`.
    pub instances: Vec<Instance>,
    db: Option<Child>,
    redis: Option<Child>,
    server_bin: PathBuf,
    server_pin: Option<usize>,
    dir: PathBuf,
    spawned: bool,
}

impl Services {
    /// Starts SecantusDB and the server with benchmark settings
    /// (`settings` are extra `STREAMSHARE_*` variables that win over them).
    pub async fn start(
        args: &ServerArgs,
        signup_coins: i64,
        settings: &[(&str, String)],
    ) -> anyhow::Result<Self> {
        Self::start_cluster(args, 1, false, "redis-server", signup_coins, settings).await
    }

    /// Spawns what `target` asks for, or connects to the servers it names.
    pub async fn launch(
        args: &ServerArgs,
        target: &TargetArgs,
        signup_coins: i64,
        settings: &[(&str, String)],
    ) -> anyhow::Result<Self> {
        if target.url.is_empty() {
            Self::start_cluster(
                args,
                target.instances,
                target.uses_redis(),
                &target.redis_server,
                signup_coins,
                settings,
            )
            .await
        } else {
            Self::external(target)
        }
    }

    fn http_client() -> anyhow::Result<reqwest::Client> {
        reqwest::Client::builder()
            .pool_max_idle_per_host(256)
            .timeout(Duration::from_secs(60))
            .build()
            .context("building the HTTP client")
    }

    /// Running servers (`--url`): nothing to start or stop.
    fn external(target: &TargetArgs) -> anyhow::Result<Self> {
        let instances: Vec<Instance> = target
            .url
            .iter()
            .map(|url| {
                let base = url.trim().trim_end_matches('/').to_owned();
                let ws = if let Some(rest) = base.strip_prefix("https://") {
                    format!("wss://{rest}")
                } else if let Some(rest) = base.strip_prefix("http://") {
                    format!("ws://{rest}")
                } else {
                    bail!("--url {base}: expected http:// or https://");
                };
                Ok(Instance {
                    socket_url: format!("{ws}/socket.io/?EIO=4&transport=websocket"),
                    base,
                    pid: 0,
                    child: None,
                    env: Vec::new(),
                    log: String::new(),
                })
            })
            .collect::<anyhow::Result<_>>()?;
        Ok(Self {
            base: instances[0].base.clone(),
            socket_url: instances[0].socket_url.clone(),
            server_pid: 0,
            db_pid: 0,
            redis_pid: 0,
            server_pinned: false,
            mongodb_uri: target.mongodb_uri.clone(),
            redis_addr: target.redis_url.as_deref().map(redis_addr),
            http: Self::http_client()?,
            instances,
            db: None,
            redis: None,
            server_bin: PathBuf::new(),
            server_pin: None,
            dir: PathBuf::new(),
            spawned: false,
        })
    }

    /// Starts SecantusDB, optionally one `redis-server`, and `instances`
    /// servers sharing the database (each with its own HTTP and media UDP
    /// port and instance id; with Redis, `STREAMSHARE_REDIS_URL` set).
    pub async fn start_cluster(
        args: &ServerArgs,
        instances: usize,
        with_redis: bool,
        redis_server: &str,
        signup_coins: i64,
        settings: &[(&str, String)],
    ) -> anyhow::Result<Self> {
        let instances = instances.max(1);
        let dir = std::env::temp_dir().join(unique("streamshare-load-"));
        std::fs::create_dir_all(dir.join("db"))
            .with_context(|| format!("creating {}", dir.display()))?;
        let mut services = Self {
            base: String::new(),
            socket_url: String::new(),
            server_pid: 0,
            db_pid: 0,
            redis_pid: 0,
            server_pinned: false,
            mongodb_uri: None,
            redis_addr: None,
            http: Self::http_client()?,
            instances: Vec::new(),
            db: None,
            redis: None,
            server_bin: args.server_bin.clone(),
            server_pin: None,
            dir,
            spawned: true,
        };

        let db_port = free_port()?;
        let secantusd = secantusd_command(&args.secantusd);
        let mut cmd = Command::new(&secantusd);
        cmd.args(["--host", "127.0.0.1", "--port"])
            .arg(db_port.to_string())
            .arg("--storage-path")
            .arg(services.dir.join("db"))
            .args(["--log-level", "WARNING"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log_file(&services.dir, "db.log")?);
        child_setup(&mut cmd, None);
        let db = cmd.spawn().with_context(|| {
            format!("starting {secantusd} (pip install SecantusDB, or pass --secantusd)")
        })?;
        services.db_pid = db.id();
        services.db = Some(db);
        wait_for_port(db_port, Duration::from_secs(60), &mut services.db)
            .await
            .with_context(|| format!("SecantusDB did not start; see {}", services.dir.display()))?;
        let mongodb_uri = format!("mongodb://127.0.0.1:{db_port}");
        services.mongodb_uri = Some(mongodb_uri.clone());

        let mut cluster: Vec<(&str, String)> = Vec::new();
        if with_redis {
            let port = free_port()?;
            let mut cmd = Command::new(redis_server);
            cmd.args(["--bind", "127.0.0.1", "--port"])
                .arg(port.to_string())
                .args(["--save", "", "--appendonly", "no", "--daemonize", "no"])
                .arg("--dir")
                .arg(&services.dir)
                .stdin(Stdio::null())
                .stdout(log_file(&services.dir, "redis.log")?)
                .stderr(log_file(&services.dir, "redis.log")?);
            child_setup(&mut cmd, None);
            let redis = cmd.spawn().with_context(|| {
                format!(
                    "starting {redis_server} (apt-get install redis-server, or pass --redis-server)"
                )
            })?;
            services.redis_pid = redis.id();
            services.redis = Some(redis);
            wait_for_port(port, Duration::from_secs(30), &mut services.redis)
                .await
                .with_context(|| format!("Redis did not start; see {}", services.dir.display()))?;
            services.redis_addr = Some(format!("127.0.0.1:{port}"));
            cluster.push(("STREAMSHARE_REDIS_URL", format!("redis://127.0.0.1:{port}")));
        }

        let pin = (args.server_cpu < cpu_count()).then_some(args.server_cpu);
        services.server_pinned = pin.is_some();
        services.server_pin = pin;
        let db_name = unique("load_");
        let jwt_secret = unique("load-secret-0123456789abcdef-");
        for i in 0..instances {
            let http_port = free_port()?;
            let udp_port = free_udp_port()?;
            let mut defaults: Vec<(&str, String)> = vec![
                ("STREAMSHARE_HTTP_ADDR", format!("127.0.0.1:{http_port}")),
                ("STREAMSHARE_MONGODB_URI", mongodb_uri.clone()),
                ("STREAMSHARE_DB_NAME", db_name.clone()),
                ("STREAMSHARE_JWT_SECRET", jwt_secret.clone()),
                (
                    "STREAMSHARE_DATA_DIR",
                    services.dir.join(format!("data{i}")).display().to_string(),
                ),
                (
                    "STREAMSHARE_WEB_DIR",
                    services.dir.join("no-web").display().to_string(),
                ),
                ("STREAMSHARE_SIGNUP_COINS", signup_coins.to_string()),
                (
                    "STREAMSHARE_MEDIA_UDP_PORT",
                    if instances == 1 && !with_redis {
                        "0".into()
                    } else {
                        udp_port.to_string()
                    },
                ),
                ("STREAMSHARE_MEDIA_PUBLIC_IP", "127.0.0.1".into()),
                ("STREAMSHARE_MAX_SOCKETS_PER_USER", "100000".into()),
                ("STREAMSHARE_MAX_VIEWS_PER_ROOM", "1000".into()),
                ("STREAMSHARE_CHAT_BURST", "100000".into()),
                ("STREAMSHARE_CHAT_INTERVAL_MS", "1".into()),
                ("STREAMSHARE_LOGIN_BURST_PER_IP", "100000".into()),
                // Every simulated person comes from loopback.
                ("STREAMSHARE_SIGNUP_BURST_PER_IP", "1000000".into()),
                ("STREAMSHARE_SIGNUP_BURST_PER_NETWORK", "1000000".into()),
                ("STREAMSHARE_SIGNUP_GRANTS_PER_DAY", "100000000".into()),
                ("STREAMSHARE_MAX_CONNECTIONS_PER_IP", "0".into()),
                ("STREAMSHARE_DB_TIMEOUT_SECS", "10".into()),
                ("RUST_LOG", "warn".into()),
            ];
            if with_redis {
                defaults.extend(cluster.iter().cloned());
                defaults.push(("STREAMSHARE_INSTANCE_ID", format!("load-{}", i + 1)));
                defaults.push((
                    "STREAMSHARE_INTERNAL_URL",
                    format!("http://127.0.0.1:{http_port}"),
                ));
            }
            let env = defaults
                .iter()
                .chain(settings)
                .map(|(k, v)| ((*k).to_owned(), v.clone()))
                .collect();
            services.instances.push(Instance {
                base: format!("http://127.0.0.1:{http_port}"),
                socket_url: format!(
                    "ws://127.0.0.1:{http_port}/socket.io/?EIO=4&transport=websocket"
                ),
                pid: 0,
                child: None,
                env,
                log: if instances == 1 {
                    "server.log".into()
                } else {
                    format!("server{}.log", i + 1)
                },
            });
        }
        services.base = services.instances[0].base.clone();
        services.socket_url = services.instances[0].socket_url.clone();
        for i in 0..instances {
            services.spawn_server(i).await?;
        }
        Ok(services)
    }

    /// Whether the first server says it runs in cluster mode: its
    /// `/api/health/ready` answer names Redis (issue 14). Servers from
    /// before cluster mode accept the settings but share no broadcasts.
    pub async fn cluster_aware(&self) -> bool {
        let url = format!("{}/api/health/ready", self.base);
        match self.call(self.http.get(url)).await {
            Ok((_, body)) => body.get("redis").is_some(),
            Err(_) => false,
        }
    }

    /// The Socket.IO URL client `i` uses (round-robin over the instances).
    pub fn socket_url_for(&self, i: usize) -> &str {
        &self.instances[i % self.instances.len()].socket_url
    }

    /// The base URL request `i` uses (round-robin over the instances).
    pub fn base_for(&self, i: usize) -> &str {
        &self.instances[i % self.instances.len()].base
    }

    /// Starts server process `i` (with the settings chosen at start) and
    /// waits until it is ready.
    async fn spawn_server(&mut self, i: usize) -> anyhow::Result<()> {
        let mut cmd = Command::new(&self.server_bin);
        cmd.arg("serve");
        for (key, _) in std::env::vars_os() {
            if key.to_string_lossy().starts_with("STREAMSHARE_") {
                cmd.env_remove(key);
            }
        }
        for (key, value) in &self.instances[i].env {
            cmd.env(key, value);
        }
        let log = self.instances[i].log.clone();
        cmd.stdin(Stdio::null())
            .stdout(log_file(&self.dir, &log)?)
            .stderr(log_file(&self.dir, &log)?);
        child_setup(&mut cmd, self.server_pin);
        let child = cmd.spawn().with_context(|| {
            format!(
                "starting {} (build it: cargo build --release -p streamshare)",
                self.server_bin.display()
            )
        })?;
        self.instances[i].pid = child.id();
        self.instances[i].child = Some(child);
        if i == 0 {
            self.server_pid = self.instances[0].pid;
        }
        self.wait_ready(i).await
    }

    /// Kills the server process and starts a fresh one on the same port and
    /// database (tokens stay valid: same JWT secret). Used after
    /// registering users: Argon2id's 19 MiB buffers stay in the allocator's
    /// arenas and would inflate (and be reused by) later memory readings.
    /// Every instance is restarted; nothing happens with `--url`.
    pub async fn restart_server(&mut self) -> anyhow::Result<()> {
        if !self.spawned {
            return Ok(());
        }
        for i in 0..self.instances.len() {
            if let Some(mut child) = self.instances[i].child.take() {
                let _ = child.kill();
                let _ = child.wait();
            }
            self.spawn_server(i).await?;
        }
        Ok(())
    }

    /// Waits until `/api/health/ready` answers 200 (database up, indexes
    /// made), or fails with the server's log.
    async fn wait_ready(&mut self, i: usize) -> anyhow::Result<()> {
        let start = Instant::now();
        let url = format!("{}/api/health/ready", self.instances[i].base);
        loop {
            if let Some(child) = self.instances[i].child.as_mut()
                && let Ok(Some(status)) = child.try_wait()
            {
                bail!(
                    "the server exited ({status}) while starting:\n{}",
                    self.server_log_tail(i)
                );
            }
            if let Ok(resp) = self.http.get(&url).send().await
                && resp.status() == StatusCode::OK
            {
                return Ok(());
            }
            if start.elapsed() > Duration::from_secs(60) {
                bail!(
                    "the server did not become ready within 60 s:\n{}",
                    self.server_log_tail(i)
                );
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    fn server_log_tail(&self, i: usize) -> String {
        let text =
            std::fs::read_to_string(self.dir.join(&self.instances[i].log)).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(20)..].join("\n")
    }

    /// The server's CPU time so far, in seconds.
    pub fn server_cpu_seconds(&self) -> anyhow::Result<f64> {
        crate::report::cpu_seconds(self.server_pid)
    }

    /// CPU seconds so far of every spawned process: each server, the
    /// database, Redis (empty with `--url`).
    pub fn cpu_snapshot(&self) -> CpuSnapshot {
        let read = |pid: u32| {
            (pid != 0)
                .then(|| crate::report::cpu_seconds(pid).ok())
                .flatten()
        };
        CpuSnapshot {
            servers: self.instances.iter().map(|i| read(i.pid)).collect(),
            db: read(self.db_pid),
            redis: read(self.redis_pid),
        }
    }

    /// Resident memory of every spawned server together, in bytes (None
    /// with `--url`).
    pub fn servers_rss(&self) -> Option<u64> {
        if !self.spawned {
            return None;
        }
        self.instances
            .iter()
            .map(|i| crate::report::rss_bytes(i.pid).ok())
            .sum()
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Registers one user (Argon2id on the server: slow on purpose).
    pub async fn register(&self, prefix: &str) -> anyhow::Result<User> {
        let username = unique(prefix);
        let (status, body) = self
            .call(self.http.post(self.url("/api/auth/register")).json(&json!({
                "username": username,
                "email": format!("{username}@load.test"),
                "password": "load-test-password",
            })))
            .await?;
        if status != StatusCode::CREATED {
            bail!("register {username}: {status} {body}");
        }
        Ok(User {
            id: str_field(&body["user"]["id"], "user.id")?,
            username,
            token: str_field(&body["accessToken"], "accessToken")?,
        })
    }

    /// Registers `n` users, `concurrency` at a time.
    pub async fn register_many(
        &self,
        prefix: &str,
        n: usize,
        concurrency: usize,
    ) -> anyhow::Result<Vec<User>> {
        futures::stream::iter(0..n)
            .map(|_| self.register(prefix))
            .buffered(concurrency.max(1))
            .collect::<Vec<_>>()
            .await
            .into_iter()
            .collect()
    }

    /// Creates a room priced `price` and takes it live.
    pub async fn create_live_room(&self, creator: &User, price: i64) -> anyhow::Result<Room> {
        let (status, body) = self
            .call(
                self.http
                    .post(self.url("/api/rooms"))
                    .bearer_auth(&creator.token)
                    .json(&json!({ "title": unique("Load room "), "price": price })),
            )
            .await?;
        if status != StatusCode::CREATED {
            bail!("create room: {status} {body}");
        }
        let id = str_field(&body["id"], "id")?;
        self.go_live(creator, &id).await?;
        Ok(Room {
            id,
            creator_id: creator.id.clone(),
            price,
        })
    }

    /// Takes a room live (keeps a running session).
    pub async fn go_live(&self, creator: &User, room: &str) -> anyhow::Result<()> {
        let (status, body) = self
            .call(
                self.http
                    .post(self.url(&format!("/api/rooms/{room}/live")))
                    .bearer_auth(&creator.token),
            )
            .await?;
        if status != StatusCode::OK {
            bail!("go live: {status} {body}");
        }
        Ok(())
    }

    /// `POST /api/transactions/stream-join` for `room`: the status and body.
    pub async fn stream_join(
        &self,
        viewer: &User,
        room: &Room,
        amount: i64,
        idempotency_key: Option<&str>,
    ) -> anyhow::Result<(StatusCode, Value)> {
        let mut request = self
            .http
            .post(self.url("/api/transactions/stream-join"))
            .bearer_auth(&viewer.token)
            .json(&json!({ "creatorId": room.creator_id, "roomId": room.id, "amount": amount }));
        if let Some(key) = idempotency_key {
            request = request.header("Idempotency-Key", key);
        }
        self.call(request).await
    }

    /// The user's coins.
    pub async fn balance(&self, user: &User) -> anyhow::Result<i64> {
        let (status, body) = self
            .call(
                self.http
                    .get(self.url("/api/users/balance"))
                    .bearer_auth(&user.token),
            )
            .await?;
        if status != StatusCode::OK {
            bail!("balance of {}: {status} {body}", user.username);
        }
        body["coins"]
            .as_i64()
            .with_context(|| format!("balance of {}: no coins in {body}", user.username))
    }

    /// Every ledger entry of the user (`GET /api/transactions`, all pages).
    pub async fn transactions(&self, user: &User) -> anyhow::Result<Vec<Value>> {
        let mut items = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let mut url = self.url("/api/transactions?limit=100");
            if let Some(c) = &cursor {
                url.push_str("&cursor=");
                url.push_str(c);
            }
            let (status, body) = self
                .call(self.http.get(url).bearer_auth(&user.token))
                .await?;
            if status != StatusCode::OK {
                bail!("transactions of {}: {status} {body}", user.username);
            }
            if let Some(page) = body["items"].as_array() {
                items.extend(page.iter().cloned());
            }
            match body["nextCursor"].as_str() {
                Some(next) if !next.is_empty() => cursor = Some(next.to_owned()),
                _ => return Ok(items),
            }
        }
    }

    /// Publishes over WHIP as the room's creator: the server's SDP answer.
    pub async fn whip(&self, creator: &User, room: &str, offer: String) -> anyhow::Result<String> {
        let resp = self
            .http
            .post(self.url(&format!("/api/media/whip/{room}")))
            .bearer_auth(&creator.token)
            .header("Content-Type", "application/sdp")
            .body(offer)
            .send()
            .await
            .context("WHIP request")?;
        let status = resp.status();
        let text = resp.text().await.context("WHIP answer")?;
        if status != StatusCode::CREATED {
            bail!("WHIP publish: {status} {text}");
        }
        Ok(text)
    }

    /// Sends a request; the status and the JSON body (`null` when empty,
    /// a string when not JSON).
    pub async fn call(
        &self,
        request: reqwest::RequestBuilder,
    ) -> anyhow::Result<(StatusCode, Value)> {
        let resp = request.send().await.context("HTTP request")?;
        let status = resp.status();
        let bytes = resp.bytes().await.context("HTTP body")?;
        let body = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes)
                .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()))
        };
        Ok((status, body))
    }
}

impl Drop for Services {
    fn drop(&mut self) {
        let servers = self.instances.iter_mut().filter_map(|i| i.child.take());
        let others = [self.db.take(), self.redis.take()].into_iter().flatten();
        for mut child in servers.collect::<Vec<_>>().into_iter().chain(others) {
            let _ = child.kill();
            let _ = child.wait();
        }
        if !self.spawned {
            return;
        }
        if std::env::var_os("STREAMSHARE_LOAD_KEEP").is_some() {
            eprintln!("kept the logs and data in {}", self.dir.display());
        } else {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

fn str_field(value: &Value, name: &str) -> anyhow::Result<String> {
    value
        .as_str()
        .map(str::to_owned)
        .with_context(|| format!("the answer has no {name}"))
}

fn log_file(dir: &Path, name: &str) -> anyhow::Result<std::fs::File> {
    let path = dir.join(name);
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .with_context(|| format!("opening {}", path.display()))
}

async fn wait_for_port(
    port: u16,
    limit: Duration,
    child: &mut Option<Child>,
) -> anyhow::Result<()> {
    let start = Instant::now();
    loop {
        if tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_ok()
        {
            return Ok(());
        }
        if let Some(c) = child.as_mut()
            && let Ok(Some(status)) = c.try_wait()
        {
            bail!("the process exited ({status})");
        }
        if start.elapsed() > limit {
            bail!("nothing listens on port {port} after {limit:?}");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_become_instances_round_robin() {
        let target = TargetArgs {
            url: vec!["http://a:8080/".into(), "https://b.example".into()],
            mongodb_uri: Some("mongodb://db:27017".into()),
            redis_url: Some("redis://r:6380/0".into()),
            ..TargetArgs::default()
        };
        let services = Services::external(&target).unwrap();
        assert_eq!(services.instances.len(), 2);
        assert_eq!(services.base, "http://a:8080");
        assert_eq!(
            services.socket_url_for(0),
            "ws://a:8080/socket.io/?EIO=4&transport=websocket"
        );
        assert_eq!(
            services.socket_url_for(3),
            "wss://b.example/socket.io/?EIO=4&transport=websocket"
        );
        assert_eq!(services.base_for(2), "http://a:8080");
        assert_eq!(services.redis_addr.as_deref(), Some("r:6380"));
        assert!(services.cpu_snapshot().servers.iter().all(Option::is_none));
        assert!(services.servers_rss().is_none());
        assert!(!target.uses_redis());
        let bad = TargetArgs {
            url: vec!["ftp://x".into()],
            ..TargetArgs::default()
        };
        assert!(Services::external(&bad).is_err());
    }

    #[test]
    fn cluster_runs_use_redis() {
        let mut target = TargetArgs {
            instances: 1,
            ..TargetArgs::default()
        };
        assert!(!target.uses_redis());
        target.instances = 2;
        assert!(target.uses_redis());
        target.instances = 1;
        target.redis = true;
        assert!(target.uses_redis());
    }
}
