//! Owns the SFU under test as its own process (`streamshare-load sfu-host`),
//! so its CPU time and memory can be read from /proc and it can be pinned
//! to a core of its own. It runs the same `streamshare_sfu::Sfu` the server
//! embeds, on a current-thread runtime, and takes JSON-line requests on
//! stdin (one reply line each on stdout).

use std::io::{BufRead, BufReader, Write};
use std::net::SocketAddr;
use std::os::unix::process::CommandExt;
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::time::Duration;

use anyhow::{Context, bail};
use serde::{Deserialize, Serialize};
use streamshare_sfu::{PeerId, Sfu, SfuConfig};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt};

use crate::report::pin_to_cpu;

/// Arguments of the hidden `sfu-host` subcommand.
#[derive(clap::Args)]
pub struct HostArgs {
    /// CPU to pin the SFU process to.
    #[arg(long)]
    cpu: Option<usize>,
}

#[derive(Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "camelCase")]
enum Request {
    Publish { room: String, sdp: String },
    Subscribe { room: String },
    Answer { peer: u64, sdp: String },
    Stats,
}

/// One reply line.
#[derive(Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct Reply {
    #[serde(default)]
    pub peer: Option<u64>,
    #[serde(default)]
    pub sdp: Option<String>,
    #[serde(default)]
    pub error: Option<String>,
    #[serde(default)]
    pub stats: Option<Stats>,
}

/// The SFU's counters, as the host reports them.
#[derive(Serialize, Deserialize, Default, Clone, Copy, Debug)]
#[serde(rename_all = "camelCase")]
pub struct Stats {
    pub peers: usize,
    pub subscribers: usize,
    pub packets_in: u64,
    pub packets_out: u64,
    pub bytes_out: u64,
    pub send_drops: u64,
}

/// Runs the SFU process until stdin closes.
pub fn host(args: HostArgs) -> anyhow::Result<()> {
    if let Some(cpu) = args.cpu {
        pin_to_cpu(cpu)?;
    }
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    rt.block_on(async {
        let config = SfuConfig {
            bind: SocketAddr::from(([127, 0, 0, 1], 0)),
            public_ips: Vec::new(),
            connect_timeout: Duration::from_secs(60),
        };
        let (sfu, mut events) = Sfu::start(config).await?;
        tokio::spawn(async move { while events.recv().await.is_some() {} });
        let mut lines = tokio::io::BufReader::new(tokio::io::stdin()).lines();
        let mut stdout = tokio::io::stdout();
        while let Some(line) = lines.next_line().await? {
            let reply = match serde_json::from_str::<Request>(&line) {
                Ok(request) => handle(&sfu, request).await,
                Err(e) => Reply {
                    error: Some(format!("bad request: {e}")),
                    ..Reply::default()
                },
            };
            let mut text = serde_json::to_string(&reply)?;
            text.push('\n');
            stdout.write_all(text.as_bytes()).await?;
            stdout.flush().await?;
        }
        Ok(())
    })
}

async fn handle(sfu: &Sfu, request: Request) -> Reply {
    let peer_sdp = |r: Result<(PeerId, String), streamshare_sfu::SfuError>| match r {
        Ok((peer, sdp)) => Reply {
            peer: Some(peer.0),
            sdp: Some(sdp),
            ..Reply::default()
        },
        Err(e) => Reply {
            error: Some(e.to_string()),
            ..Reply::default()
        },
    };
    match request {
        Request::Publish { room, sdp } => peer_sdp(sfu.publish(&room, &sdp).await),
        Request::Subscribe { room } => peer_sdp(sfu.subscribe(&room).await),
        Request::Answer { peer, sdp } => match sfu.accept_answer(PeerId(peer), &sdp).await {
            Ok(()) => Reply::default(),
            Err(e) => Reply {
                error: Some(e.to_string()),
                ..Reply::default()
            },
        },
        Request::Stats => {
            let s = sfu.stats().await;
            Reply {
                stats: Some(Stats {
                    peers: s.peers,
                    subscribers: s.subscribers,
                    packets_in: s.packets_in,
                    packets_out: s.packets_out,
                    bytes_out: s.bytes_out,
                    send_drops: s.send_drops,
                }),
                ..Reply::default()
            }
        }
    }
}

/// The load tool's side of the host process.
pub struct HostClient {
    child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
}

impl HostClient {
    /// Starts `streamshare-load sfu-host` (this same executable).
    pub fn start(cpu: Option<usize>) -> anyhow::Result<Self> {
        let exe = std::env::current_exe().context("own executable")?;
        let mut cmd = Command::new(exe);
        cmd.arg("sfu-host");
        if let Some(cpu) = cpu {
            cmd.arg("--cpu").arg(cpu.to_string());
        }
        cmd.stdin(Stdio::piped()).stdout(Stdio::piped());
        // SAFETY: prctl is async-signal-safe; the host dies with the tool.
        unsafe {
            cmd.pre_exec(|| {
                libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
                Ok(())
            });
        }
        let mut child = cmd.spawn().context("start the SFU host process")?;
        let stdin = child.stdin.take().context("host stdin")?;
        let stdout = BufReader::new(child.stdout.take().context("host stdout")?);
        Ok(Self {
            child,
            stdin,
            stdout,
        })
    }

    /// The host's process id (for /proc readings).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    fn call(&mut self, request: &Request) -> anyhow::Result<Reply> {
        let mut line = serde_json::to_string(request)?;
        line.push('\n');
        self.stdin.write_all(line.as_bytes())?;
        self.stdin.flush()?;
        let mut reply = String::new();
        if self.stdout.read_line(&mut reply)? == 0 {
            bail!("the SFU host process exited");
        }
        let reply: Reply = serde_json::from_str(&reply).context("host reply")?;
        if let Some(error) = reply.error {
            bail!("SFU: {error}");
        }
        Ok(reply)
    }

    fn peer_and_sdp(reply: Reply) -> anyhow::Result<(u64, String)> {
        Ok((
            reply.peer.context("no peer in reply")?,
            reply.sdp.context("no SDP in reply")?,
        ))
    }

    /// Publisher offer in, (peer, answer) out.
    pub fn publish(&mut self, room: &str, sdp: String) -> anyhow::Result<(u64, String)> {
        let room = room.to_owned();
        Self::peer_and_sdp(self.call(&Request::Publish { room, sdp })?)
    }

    /// A new subscriber: (peer, the SFU's offer).
    pub fn subscribe(&mut self, room: &str) -> anyhow::Result<(u64, String)> {
        let room = room.to_owned();
        Self::peer_and_sdp(self.call(&Request::Subscribe { room })?)
    }

    /// A subscriber's answer.
    pub fn answer(&mut self, peer: u64, sdp: String) -> anyhow::Result<()> {
        self.call(&Request::Answer { peer, sdp }).map(|_| ())
    }

    /// The SFU's counters.
    pub fn stats(&mut self) -> anyhow::Result<Stats> {
        self.call(&Request::Stats)?
            .stats
            .context("no stats in reply")
    }
}

impl Drop for HostClient {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
