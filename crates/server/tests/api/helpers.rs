//! Test harness: a real SecantusDB process (MongoDB wire protocol), the real
//! server on port 0 with a fresh database per test, and typed helpers.

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use futures::TryStreamExt;
use mongodb::bson::{Document, doc, oid::ObjectId};
use reqwest::StatusCode;
use serde_json::{Value, json};
use streamshare::config::Settings;
use streamshare::startup::Application;

/// The JWT secret every test server uses, so tests can mint tokens.
pub const TEST_SECRET: &str = "test-secret-test-secret-test-secret-0123";

static COUNTER: AtomicU64 = AtomicU64::new(0);

pub fn unique(prefix: &str) -> String {
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    format!("{prefix}{}_{n}", std::process::id() % 100_000)
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// A SecantusDB server process on loopback.
pub struct DbServer {
    pub port: u16,
    pub dir: PathBuf,
    durable: bool,
    child: Option<Child>,
}

impl DbServer {
    /// Starts a server with its own storage folder.
    pub fn start() -> Self {
        Self::start_on(free_port())
    }

    /// Starts a server on a given port with its own storage folder.
    pub fn start_on(port: u16) -> Self {
        let dir = std::env::temp_dir().join(unique("streamshare-db-"));
        let mut server = Self {
            port,
            dir,
            durable: false,
            child: None,
        };
        server.restart();
        server
    }

    /// Like `start`, but every commit is synced to disk before it is
    /// acknowledged, so a killed process loses nothing it acknowledged.
    pub fn start_durable() -> Self {
        let mut server = Self {
            port: free_port(),
            dir: std::env::temp_dir().join(unique("streamshare-db-")),
            durable: true,
            child: None,
        };
        server.restart();
        server
    }

    /// The driver URI for this server.
    pub fn uri(&self) -> String {
        format!("mongodb://127.0.0.1:{}", self.port)
    }

    /// Starts (again) on the same port and storage.
    pub fn restart(&mut self) {
        assert!(self.child.is_none(), "already running");
        std::fs::create_dir_all(&self.dir).unwrap();
        let mut cmd = Command::new(secantus_binary());
        cmd.args(["--host", "127.0.0.1", "--port"])
            .arg(self.port.to_string())
            .arg("--storage-path")
            .arg(&self.dir)
            .args(["--log-level", "WARNING"])
            .args(if self.durable {
                &["--sync-on-commit"][..]
            } else {
                &[]
            })
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        die_with_parent(&mut cmd);
        let child = cmd
            .spawn()
            .expect("start secantusd-py (scripts/test.sh installs it: pip install SecantusDB)");
        self.child = Some(child);
        wait_for_port(self.port, Duration::from_secs(60));
    }

    /// Kills the process at once, as a crash would.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for DbServer {
    fn drop(&mut self) {
        self.kill();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn secantus_binary() -> String {
    std::env::var("STREAMSHARE_TEST_SECANTUSD").unwrap_or_else(|_| "secantusd-py".into())
}

/// A `redis-server` process on loopback (no persistence), for cluster mode.
pub struct RedisServer {
    pub port: u16,
    child: Option<Child>,
}

impl RedisServer {
    pub fn start() -> Self {
        let mut server = Self {
            port: free_port(),
            child: None,
        };
        server.restart();
        server
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// Stops it hard (`kill -9`): everything it held is gone.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts it (again) on the same port, empty.
    pub fn restart(&mut self) {
        self.kill();
        let mut command = Command::new("redis-server");
        command
            .args(["--port", &self.port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no"])
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        die_with_parent(&mut command);
        self.child = Some(
            command
                .spawn()
                .expect("redis-server runs (scripts/test.sh installs it)"),
        );
        wait_for_port(self.port, Duration::from_secs(10));
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.kill();
    }
}

/// The child dies with the test process even if the test is killed.
pub fn die_with_parent(cmd: &mut Command) {
    use std::os::unix::process::CommandExt;
    // SAFETY: prctl is async-signal-safe; nothing else runs between fork and exec.
    unsafe {
        cmd.pre_exec(|| {
            libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
            Ok(())
        });
    }
}

fn wait_for_port(port: u16, limit: Duration) {
    let start = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(start.elapsed() < limit, "database did not start on {port}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// One database server shared by the tests of this binary (each test gets
/// its own database in it), or `STREAMSHARE_TEST_MONGODB_URI` if given.
pub fn shared_db_uri() -> String {
    static URI: OnceLock<String> = OnceLock::new();
    URI.get_or_init(|| {
        if let Ok(uri) = std::env::var("STREAMSHARE_TEST_MONGODB_URI") {
            return uri;
        }
        // The server is started from a thread that lives as long as the
        // process, so PDEATHSIG fires only when the whole test binary ends.
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let server = DbServer::start();
            tx.send(server.uri()).unwrap();
            loop {
                std::thread::park();
            }
        });
        rx.recv().expect("shared database started")
    })
    .clone()
}

pub fn test_settings(uri: &str) -> Settings {
    Settings {
        http_addr: "127.0.0.1:0".parse().unwrap(),
        mongodb_uri: Some(uri.to_owned()),
        db_name: unique("t_"),
        jwt_secret: Some(TEST_SECRET.to_owned().into()),
        data_dir: std::env::temp_dir().join(unique("streamshare-data-")),
        signup_coins: 100,
        web_dir: std::env::temp_dir().join("streamshare-no-web"),
        secure_cookies: false,
        media_udp_port: 0,
        // Two forwarding loops, so every media test crosses shards.
        media_shards: 2,
        media_public_ip: vec!["127.0.0.1".into()],
        publisher_grace_secs: 2,
        private_period_secs: 60,
        private_request_secs: 60,
        private_grace_secs: 20,
        private_warn_secs: 30,
        refund_window_secs: 300,
        refund_min_media_secs: 30,
        login_burst_per_account: 10,
        login_burst_per_ip: 1000,
        trust_forwarded_for: false,
        trusted_proxies: vec![],
        // Every test registers its people from loopback; the sign-up
        // throttles and caps have tests of their own.
        signup_burst_per_ip: 100_000,
        signup_burst_per_network: 100_000,
        signup_grants_per_day: 1_000_000,
        signup_link_days: 30,
        require_email_verification: false,
        public_url: None,
        mail_outbox: None,
        header_timeout_secs: 10,
        max_connections_per_ip: 0,
        metrics_addr: None,
        media_peer_timeout_secs: 6,
        media_stall_secs: 2,
        max_sockets_per_user: 16,
        max_views_per_room: 3,
        max_sdp_bytes: 32 * 1024,
        chat_burst: 5,
        chat_interval_ms: 1000,
        chat_link_domains: vec!["github.com".into(), "wikipedia.org".into()],
        turn_urls: vec![],
        turn_secret: None,
        db_timeout_secs: 2,
        media_allowed_origins: vec!["*".into()],
        redis_url: None,
        instance_id: None,
        lease_secs: 10,
        internal_url: None,
        presence_crowd: 100,
        coin_packs: streamshare::config::CoinPacks::parse(streamshare::config::DEFAULT_COIN_PACKS)
            .unwrap(),
        stripe_secret_key: None,
        stripe_webhook_secret: None,
        stripe_api_base: "https://api.stripe.invalid".into(),
        test_payments: false,
        payout_min: 1000,
        tip_max: None,
        mediamtx: Default::default(),
    }
}

/// A running server and a handle on its database.
pub struct TestApp {
    pub base: String,
    /// The internal listener, when `metrics_addr` is set.
    pub metrics_base: Option<String>,
    pub db: mongodb::Database,
    pub db_name: String,
    pub http: reqwest::Client,
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(&shared_db_uri(), |_| {}).await
}

/// Starts the server against `uri` with settings adjusted by `tweak`, and
/// waits for its indexes when the database is up.
pub async fn spawn_app_with(uri: &str, tweak: impl FnOnce(&mut Settings)) -> TestApp {
    let mut settings = test_settings(uri);
    tweak(&mut settings);
    let db_name = settings.db_name.clone();
    let app = Application::build(settings).await.expect("app builds");
    let port = app.port();
    let metrics_port = app.metrics_port();
    let state = app.state();
    tokio::spawn(app.run_until_stopped(std::future::pending()));
    let client = mongodb::Client::with_uri_str(uri).await.unwrap();
    let start = Instant::now();
    while !state.indexes_ready() && start.elapsed() < Duration::from_secs(3) {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    TestApp {
        base: format!("http://127.0.0.1:{port}"),
        metrics_base: metrics_port.map(|p| format!("http://127.0.0.1:{p}")),
        db: client.database(&db_name),
        db_name,
        http: reqwest::Client::new(),
    }
}

/// `streamshare serve` on `port` against `db_name` in the shared database,
/// with JSON logs and the test secret; the caller decides the output.
pub fn serve_command(port: u16, db_name: &str) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_streamshare"));
    command
        .arg("serve")
        .env("STREAMSHARE_HTTP_ADDR", format!("127.0.0.1:{port}"))
        .env("STREAMSHARE_MONGODB_URI", shared_db_uri())
        .env("STREAMSHARE_DB_NAME", db_name)
        .env("STREAMSHARE_JWT_SECRET", TEST_SECRET)
        .env("STREAMSHARE_MEDIA_UDP_PORT", "0")
        .env("STREAMSHARE_MEDIA_PUBLIC_IP", "127.0.0.1")
        .env(
            "STREAMSHARE_DATA_DIR",
            std::env::temp_dir().join(unique("streamshare-data-")),
        )
        .env("STREAMSHARE_LOG_FORMAT", "json");
    command
}

/// Runs an admin command (`grant`, `suspend`, ...) against `db_name` in the
/// shared database, off the async threads.
pub async fn admin_command(args: &[&str], db_name: &str) -> std::process::Output {
    let args: Vec<String> = args.iter().map(|a| (*a).to_owned()).collect();
    let db_name = db_name.to_owned();
    tokio::task::spawn_blocking(move || {
        Command::new(env!("CARGO_BIN_EXE_streamshare"))
            .args(&args)
            .env("STREAMSHARE_MONGODB_URI", shared_db_uri())
            .env("STREAMSHARE_DB_NAME", db_name)
            .output()
            .unwrap()
    })
    .await
    .unwrap()
}

/// The `streamshare serve` binary as its own process (for signals and
/// `kill -9`), on a free port, against `db_name` in the shared database,
/// with extra `STREAMSHARE_*` settings; ready when this returns.
pub async fn spawn_process(db_name: &str, extra: &[(&str, &str)]) -> (Child, TestApp) {
    let port = free_port();
    let mut command = serve_command(port, db_name);
    command.stdout(Stdio::null()).stderr(Stdio::null());
    for (key, value) in extra {
        command.env(key, value);
    }
    start_process(command, port, db_name).await
}

/// Starts a `streamshare serve` command made by [`serve_command`] for
/// `port` (the caller sets its output and extra settings); ready when this
/// returns.
pub async fn start_process(mut command: Command, port: u16, db_name: &str) -> (Child, TestApp) {
    die_with_parent(&mut command);
    let child = command.spawn().unwrap();
    let client = mongodb::Client::with_uri_str(shared_db_uri())
        .await
        .unwrap();
    let app = TestApp {
        base: format!("http://127.0.0.1:{port}"),
        metrics_base: None,
        db: client.database(db_name),
        db_name: db_name.to_owned(),
        http: reqwest::Client::new(),
    };
    let started = Instant::now();
    while app
        .http
        .get(app.url("/api/health/ready"))
        .send()
        .await
        .map(|r| r.status() != 200)
        .unwrap_or(true)
    {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "the server did not start"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    (child, app)
}

/// A response as the tests look at it.
#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub body: Value,
}

impl Reply {
    pub async fn from(resp: reqwest::Response) -> Self {
        let status = resp.status();
        let bytes = resp.bytes().await.unwrap();
        let body = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes)
                .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()))
        };
        Self { status, body }
    }

    pub fn code(&self) -> &str {
        self.body["error"]["code"].as_str().unwrap_or("")
    }

    /// Asserts a refusal: its status, its code, and the contract's shape.
    #[track_caller]
    pub fn assert_error(&self, status: u16, code: &str) {
        assert_eq!(self.status.as_u16(), status, "{:?}", self.body);
        assert_eq!(self.code(), code, "{:?}", self.body);
        assert!(
            self.body["error"]["message"]
                .as_str()
                .is_some_and(|m| !m.is_empty()),
            "error has a message: {:?}",
            self.body
        );
    }

    #[track_caller]
    pub fn assert_ok(&self, status: u16) -> &Value {
        assert_eq!(self.status.as_u16(), status, "{:?}", self.body);
        &self.body
    }
}

/// A registered user with their own cookie jar.
#[derive(Clone)]
pub struct TestUser {
    pub id: String,
    pub username: String,
    pub password: String,
    pub token: String,
    pub client: reqwest::Client,
}

impl TestUser {
    pub fn oid(&self) -> ObjectId {
        ObjectId::parse_str(&self.id).unwrap()
    }
}

pub fn cookie_client() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .build()
        .unwrap()
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub async fn get(&self, path: &str, token: Option<&str>) -> Reply {
        self.send(reqwest::Method::GET, path, token, None).await
    }

    pub async fn post(&self, path: &str, token: Option<&str>, body: Value) -> Reply {
        self.send(reqwest::Method::POST, path, token, Some(body))
            .await
    }

    pub async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> Reply {
        let mut req = self.http.request(method.clone(), self.url(path));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        let reply = Reply::from(req.send().await.unwrap()).await;
        crate::documented::check(&method, path, reply.status.as_u16(), &reply.body);
        reply
    }

    pub async fn register(&self, prefix: &str) -> TestUser {
        let username = unique(prefix);
        let password = "correct horse battery".to_owned();
        let client = cookie_client();
        let resp = client
            .post(self.url("/api/auth/register"))
            .json(&json!({
                "username": username,
                "email": format!("{username}@example.com"),
                "password": password,
            }))
            .send()
            .await
            .unwrap();
        let reply = Reply::from(resp).await;
        let body = reply.assert_ok(201);
        TestUser {
            id: body["user"]["id"].as_str().unwrap().to_owned(),
            username,
            password,
            token: body["accessToken"].as_str().unwrap().to_owned(),
            client,
        }
    }

    pub async fn balance(&self, user: &TestUser) -> i64 {
        self.get("/api/users/balance", Some(&user.token))
            .await
            .assert_ok(200)["coins"]
            .as_i64()
            .unwrap()
    }

    /// Creates a room priced `price` and takes it live; returns the room JSON.
    pub async fn live_room(&self, creator: &TestUser, price: i64) -> Value {
        let room = self
            .post(
                "/api/rooms",
                Some(&creator.token),
                json!({ "title": unique("Room "), "price": price }),
            )
            .await;
        let id = room.assert_ok(201)["id"].as_str().unwrap().to_owned();
        self.post(
            &format!("/api/rooms/{id}/live"),
            Some(&creator.token),
            json!({}),
        )
        .await
        .assert_ok(200)
        .clone()
    }

    pub async fn pay(&self, viewer: &TestUser, room: &Value, key: Option<&str>) -> Reply {
        self.pay_amount(viewer, room, room["price"].as_i64().unwrap(), key)
            .await
    }

    pub async fn pay_amount(
        &self,
        viewer: &TestUser,
        room: &Value,
        amount: i64,
        key: Option<&str>,
    ) -> Reply {
        let mut req = self
            .http
            .post(self.url("/api/transactions/stream-join"))
            .bearer_auth(&viewer.token)
            .json(&json!({
                "creatorId": room["creator"]["id"],
                "roomId": room["id"],
                "amount": amount,
            }));
        if let Some(k) = key {
            req = req.header("Idempotency-Key", k);
        }
        Reply::from(req.send().await.unwrap()).await
    }

    pub async fn all(&self, collection: &str) -> Vec<Document> {
        self.db
            .collection::<Document>(collection)
            .find(doc! {})
            .await
            .unwrap()
            .try_collect()
            .await
            .unwrap()
    }

    /// Checks the ledger's invariants straight from the database with the
    /// domain's audit (`streamshare ledger audit` runs the same check; the
    /// rules are in `streamshare::ledger::audit`).
    pub async fn assert_ledger_invariants(&self) {
        let db = streamshare::db::Db::from_database(self.db.clone());
        let report = streamshare::ledger::audit(&db)
            .await
            .expect("the audit reads the database");
        let problems: Vec<String> = report.problems.iter().map(ToString::to_string).collect();
        assert!(
            problems.is_empty(),
            "ledger invariants broken ({report}):\n{}",
            problems.join("\n")
        );
    }
}
