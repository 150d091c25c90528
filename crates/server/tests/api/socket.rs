//! A real Socket.IO client for the tests: the official `socket.io-client`
//! under Node (tests/socket-driver), driven over JSON lines.

use std::collections::{HashMap, VecDeque};
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::process::{Child, ChildStdin, Command};

use crate::helpers::{TestApp, TestUser};

const DRIVER: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/socket-driver/driver.mjs"
);
const WAIT: Duration = Duration::from_secs(20);

#[derive(Default)]
struct Inbox {
    acks: HashMap<u64, Value>,
    events: VecDeque<(String, Value)>,
    lifecycle: Vec<Value>,
}

pub struct Sio {
    child: Child,
    stdin: ChildStdin,
    next_id: u64,
    inbox: Arc<Mutex<Inbox>>,
}

impl Sio {
    /// Connects as `user`; panics if refused.
    pub async fn connect(app: &TestApp, user: &TestUser) -> Self {
        Self::try_connect(app, Some(&user.token))
            .await
            .unwrap_or_else(|e| panic!("refused: {e}"))
    }

    /// Connects with a token (or none); `Err` carries the `connect_error` message.
    pub async fn try_connect(app: &TestApp, token: Option<&str>) -> Result<Self, String> {
        let mut child = Command::new("node")
            .arg(DRIVER)
            .arg(&app.base)
            .arg(token.unwrap_or("-"))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .expect("node runs (scripts/test.sh installs the socket driver)");
        let stdin = child.stdin.take().unwrap();
        let stdout = child.stdout.take().unwrap();
        let inbox: Arc<Mutex<Inbox>> = Arc::default();
        let sink = inbox.clone();
        tokio::spawn(async move {
            let mut lines = BufReader::new(stdout).lines();
            while let Ok(Some(line)) = lines.next_line().await {
                let Ok(msg) = serde_json::from_str::<Value>(&line) else {
                    continue;
                };
                let mut inbox = sink.lock().unwrap();
                match msg["type"].as_str() {
                    Some("ack") => {
                        let id = msg["id"].as_u64().unwrap();
                        inbox.acks.insert(id, msg);
                    }
                    Some("event") => {
                        let name = msg["event"].as_str().unwrap_or_default().to_owned();
                        inbox.events.push_back((name, msg["data"].clone()));
                    }
                    _ => inbox.lifecycle.push(msg),
                }
            }
        });
        let sio = Self {
            child,
            stdin,
            next_id: 0,
            inbox,
        };
        let first = sio.wait(|inbox| inbox.lifecycle.first().cloned()).await;
        match first["type"].as_str() {
            Some("connect") => Ok(sio),
            _ => Err(first["message"].as_str().unwrap_or("no message").to_owned()),
        }
    }

    async fn wait<T>(&self, mut found: impl FnMut(&mut Inbox) -> Option<T>) -> T {
        let start = Instant::now();
        loop {
            if let Some(v) = found(&mut self.inbox.lock().unwrap()) {
                return v;
            }
            assert!(start.elapsed() < WAIT, "timed out waiting on the socket");
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    /// Emits an event and returns its acknowledgement.
    pub async fn emit(&mut self, event: &str, data: Value) -> Value {
        self.next_id += 1;
        let id = self.next_id;
        let line = json!({ "id": id, "event": event, "data": data }).to_string() + "\n";
        self.stdin.write_all(line.as_bytes()).await.unwrap();
        let ack = self.wait(|inbox| inbox.acks.remove(&id)).await;
        assert!(ack.get("error").is_none(), "no ack for {event}: {ack}");
        ack["data"].clone()
    }

    /// Emits without waiting for an acknowledgement.
    pub async fn fire(&mut self, event: &str, data: Value) {
        self.next_id += 1;
        let line = json!({ "id": self.next_id, "event": event, "data": data }).to_string() + "\n";
        self.stdin.write_all(line.as_bytes()).await.unwrap();
    }

    /// Waits until the server closes the connection; the client's reason.
    pub async fn disconnected(&self) -> String {
        self.wait(|inbox| {
            inbox
                .lifecycle
                .iter()
                .find(|m| m["type"] == "disconnect")
                .map(|m| m["reason"].as_str().unwrap_or_default().to_owned())
        })
        .await
    }

    /// Emits and asserts `{ok: false}` with `code`.
    pub async fn refused(&mut self, event: &str, data: Value, code: &str) -> Value {
        let ack = self.emit(event, data).await;
        assert_eq!(ack["ok"], false, "{event} should be refused: {ack}");
        assert_eq!(ack["error"]["code"], code, "{ack}");
        assert!(
            ack["error"]["message"]
                .as_str()
                .is_some_and(|m| !m.is_empty())
        );
        ack
    }

    /// Emits and asserts `{ok: true}`.
    pub async fn ok(&mut self, event: &str, data: Value) -> Value {
        let ack = self.emit(event, data).await;
        assert_eq!(ack["ok"], true, "{event} refused: {ack}");
        ack
    }

    /// The next `event` received (earlier ones of other names are kept).
    pub async fn next(&self, event: &str) -> Value {
        self.wait(|inbox| {
            let pos = inbox.events.iter().position(|(name, _)| name == event)?;
            inbox.events.remove(pos).map(|(_, data)| data)
        })
        .await
    }

    /// Asserts no `event` arrives within `within`.
    pub async fn none(&self, event: &str, within: Duration) {
        tokio::time::sleep(within).await;
        let inbox = self.inbox.lock().unwrap();
        let seen: Vec<_> = inbox
            .events
            .iter()
            .filter(|(name, _)| name == event)
            .collect();
        assert!(seen.is_empty(), "unexpected {event}: {seen:?}");
    }

    /// Closes the connection as a closed tab would.
    pub async fn close(mut self) {
        let _ = self.stdin.write_all(b"{\"op\":\"close\"}\n").await;
        let _ = tokio::time::timeout(Duration::from_secs(5), self.child.wait()).await;
    }
}

const CROWD: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/socket-driver/crowd.mjs");

/// Many official clients in one Node process (tests/socket-driver/crowd.mjs):
/// viewers with one or more tabs, each tab on the instance given for it.
pub struct Crowd {
    child: Child,
    stdin: ChildStdin,
    lines: tokio::io::Lines<BufReader<tokio::process::ChildStdout>>,
    _plan: tempfile_path::TempPath,
}

/// A plan file removed when the crowd goes.
mod tempfile_path {
    pub struct TempPath(pub std::path::PathBuf);
    impl Drop for TempPath {
        fn drop(&mut self) {
            let _ = std::fs::remove_file(&self.0);
        }
    }
}

impl Crowd {
    /// Connects every tab: `viewers[i]` is (user, one base URL per tab).
    pub async fn connect(room: &Value, viewers: &[(&TestUser, Vec<String>)]) -> Self {
        let plan = json!({
            "roomId": room["id"],
            "viewers": viewers.iter().map(|(user, urls)| json!({ "token": user.token, "urls": urls })).collect::<Vec<_>>(),
        });
        let path = std::env::temp_dir().join(crate::helpers::unique("crowd-plan-") + ".json");
        std::fs::write(&path, plan.to_string()).unwrap();
        let mut child = Command::new("node")
            .arg(CROWD)
            .arg(&path)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .expect("node runs");
        let stdin = child.stdin.take().unwrap();
        let lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let mut crowd = Self {
            child,
            stdin,
            lines,
            _plan: tempfile_path::TempPath(path),
        };
        let connected = crowd.answer().await;
        assert_eq!(connected["type"], "connected", "{connected}");
        crowd
    }

    async fn answer(&mut self) -> Value {
        let line = tokio::time::timeout(Duration::from_secs(60), self.lines.next_line())
            .await
            .expect("the crowd answers within a minute")
            .unwrap()
            .expect("the crowd is running");
        serde_json::from_str(&line).unwrap()
    }

    async fn command(&mut self, cmd: Value) -> Value {
        let line = cmd.to_string() + "\n";
        self.stdin.write_all(line.as_bytes()).await.unwrap();
        self.answer().await
    }

    /// Every tab sends `room:join` at once; the number of joins that
    /// succeeded (and the first refusals).
    pub async fn join(&mut self) -> Value {
        self.command(json!({ "op": "join" })).await
    }

    /// Closes these tabs (viewer index, tab index).
    pub async fn close(&mut self, tabs: &[(usize, usize)]) {
        self.command(json!({ "op": "close", "tabs": tabs })).await;
    }

    pub async fn close_all(mut self) {
        self.command(json!({ "op": "close_all" })).await;
        let _ = self.child.kill().await;
    }
}
