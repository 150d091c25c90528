//! Owns the SFU loop's I/O: the shard's UDP socket, upstreams' own
//! sockets and their readers, the command channel from [`crate::Sfu`]
//! handles, the event channel to the control plane, the clock, and the
//! outbox that sends in `sendmmsg` batches. Everything else (peers, rooms,
//! forwarding, timers) is the sans-IO [`Core`], which this loop feeds with
//! the time, datagrams and commands and drains after every input.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use str0m::change::SdpAnswer;
use tokio::net::UdpSocket;
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

use crate::core::{Core, NewPeer, Via};
use crate::outbox::Outbox;
use crate::{IceFragment, IcePatch, PeerId, SfuError, SfuEvent, SfuStats, SfuTuning};

/// Largest datagram read from the socket (WebRTC stays under ~1500).
const RECV_BUF: usize = 2048;
/// Datagrams handled per wake-up before timers get their turn.
const RECV_BATCH: usize = 64;
/// The loop wakes at least this often, whatever the peers say.
const MAX_SLEEP: Duration = Duration::from_secs(1);

/// A request from an [`crate::Sfu`] handle to the loop.
pub(crate) enum Command {
    /// Adds a peer whose SDP was already handled by the caller; an
    /// upstream comes with its own socket and that socket's candidates.
    AddPeer {
        peer: Box<NewPeer>,
        socket: Option<(UdpSocket, Vec<SocketAddr>)>,
        reply: oneshot::Sender<()>,
    },
    /// Completes a pending offer with the remote's answer.
    AcceptAnswer {
        peer: PeerId,
        answer: SdpAnswer,
        reply: oneshot::Sender<Result<(), SfuError>>,
    },
    /// Applies a client's trickle-ICE fragment (candidates, or an ICE
    /// restart).
    PatchIce {
        peer: PeerId,
        fragment: IceFragment,
        reply: oneshot::Sender<Result<IcePatch, SfuError>>,
    },
    /// Closes one peer.
    ClosePeer {
        peer: PeerId,
        reply: oneshot::Sender<()>,
    },
    /// Closes every peer of a room.
    CloseRoom {
        room: String,
        reply: oneshot::Sender<()>,
    },
    /// Reads the counters.
    Stats { reply: oneshot::Sender<SfuStats> },
}

/// A datagram that arrived on an upstream's own socket.
struct Inbound {
    peer: PeerId,
    source: SocketAddr,
    destination: SocketAddr,
    data: Vec<u8>,
}

/// Datagrams waiting between upstream sockets' readers and the loop.
const INBOUND_QUEUE: usize = 1024;

/// An upstream's socket and the task reading it.
struct UpstreamIo {
    socket: Arc<UdpSocket>,
    reader: JoinHandle<()>,
}

/// Spawns the loop on the current runtime.
pub(crate) fn spawn(
    socket: UdpSocket,
    candidates: Vec<SocketAddr>,
    connect_timeout: Duration,
    tuning: SfuTuning,
    commands: mpsc::UnboundedReceiver<Command>,
    events: mpsc::UnboundedSender<SfuEvent>,
) {
    let local = socket.local_addr().ok();
    let (inbound, inbound_rx) = mpsc::channel(INBOUND_QUEUE);
    let engine = Engine {
        core: Core::new(connect_timeout, tuning),
        inbound,
        socket,
        local,
        candidates,
        upstreams: HashMap::new(),
        events,
        outbox: Outbox::default(),
    };
    tokio::spawn(engine.run(commands, inbound_rx));
}

struct Engine {
    core: Core,
    /// Where upstream sockets' readers hand their datagrams.
    inbound: mpsc::Sender<Inbound>,
    socket: UdpSocket,
    local: Option<SocketAddr>,
    candidates: Vec<SocketAddr>,
    upstreams: HashMap<PeerId, UpstreamIo>,
    events: mpsc::UnboundedSender<SfuEvent>,
    /// Sends the core's datagrams in batches.
    outbox: Outbox,
}

/// What woke the loop.
enum Wake {
    Command(Option<Command>),
    Datagram(std::io::Result<(usize, SocketAddr)>),
    Upstream(Inbound),
    Timer,
}

impl Engine {
    async fn run(
        mut self,
        mut commands: mpsc::UnboundedReceiver<Command>,
        mut inbound: mpsc::Receiver<Inbound>,
    ) {
        let mut buf = vec![0u8; RECV_BUF];
        loop {
            let latest = Instant::now() + MAX_SLEEP;
            let deadline = self.core.poll_timeout().map_or(latest, |at| at.min(latest));
            let wake = tokio::select! {
                command = commands.recv() => Wake::Command(command),
                received = self.socket.recv_from(&mut buf) => Wake::Datagram(received),
                // The loop holds a sender, so this never ends.
                Some(datagram) = inbound.recv() => Wake::Upstream(datagram),
                () = tokio::time::sleep_until(deadline.into()) => Wake::Timer,
            };
            match wake {
                Wake::Command(Some(command)) => self.on_command(command),
                Wake::Command(None) => break,
                Wake::Datagram(received) => {
                    self.on_received(received, &buf);
                    // Take what is already queued before the timer scan.
                    for _ in 0..RECV_BATCH {
                        match self.socket.try_recv_from(&mut buf) {
                            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => break,
                            received => self.on_received(received, &buf),
                        }
                    }
                }
                Wake::Upstream(datagram) => {
                    self.core.handle_datagram(
                        Instant::now(),
                        Via::Upstream(datagram.peer),
                        datagram.source,
                        datagram.destination,
                        &datagram.data,
                    );
                    self.drain();
                }
                Wake::Timer => {}
            }
            self.core.handle_timeout(Instant::now());
            self.drain();
        }
        // Every handle is gone: hang up on everyone, politely.
        self.core.close_all(Instant::now());
        self.drain();
        tracing::debug!("sfu loop stopped");
    }

    fn on_received(&mut self, received: std::io::Result<(usize, SocketAddr)>, buf: &[u8]) {
        match received {
            Ok((n, source)) => {
                if let Some(data) = buf.get(..n) {
                    let destination = local_address(&self.candidates, self.local, source);
                    self.core.handle_datagram(
                        Instant::now(),
                        Via::Shard,
                        source,
                        destination,
                        data,
                    );
                    // What this datagram produced goes out now, not after
                    // the rest of the batch.
                    self.drain();
                }
            }
            // ICMP errors (a vanished peer's closed port) surface here on
            // Linux; they say nothing about the socket itself.
            Err(e) => tracing::trace!(error = %e, "udp receive error"),
        }
    }

    /// Sends what the core produced, then passes its events on (an
    /// upstream reported down loses its socket only after its last
    /// datagrams left).
    fn drain(&mut self) {
        let out = self.core.transmits();
        self.outbox.flush(&self.socket, &mut out.shard);
        for (peer, destination, data) in out.upstream.drain(..) {
            // Best effort, like every UDP send.
            let Some(io) = self.upstreams.get(&peer) else {
                continue;
            };
            if let Err(e) = io.socket.try_send_to(&data, destination) {
                tracing::trace!(%peer, error = %e, "upstream send dropped");
            }
        }
        while let Some(event) = self.core.poll_event() {
            if let SfuEvent::UpstreamDown { peer, .. } = &event
                && let Some(io) = self.upstreams.remove(peer)
            {
                io.reader.abort();
            }
            let _ = self.events.send(event);
        }
    }

    fn on_command(&mut self, command: Command) {
        let now = Instant::now();
        match command {
            Command::AddPeer {
                peer,
                socket,
                reply,
            } => {
                let id = peer.id();
                if let Some((socket, candidates)) = socket {
                    let socket = Arc::new(socket);
                    let reader = tokio::spawn(read_upstream(
                        id,
                        socket.clone(),
                        candidates,
                        self.inbound.clone(),
                    ));
                    self.upstreams.insert(id, UpstreamIo { socket, reader });
                }
                self.core.add_peer(now, *peer);
                self.drain();
                let _ = reply.send(());
            }
            Command::AcceptAnswer {
                peer,
                answer,
                reply,
            } => {
                let result = self.core.accept_answer(now, peer, answer);
                self.drain();
                let _ = reply.send(result);
            }
            Command::PatchIce {
                peer,
                fragment,
                reply,
            } => {
                let result = self.core.patch_ice(now, peer, fragment);
                self.drain();
                let _ = reply.send(result);
            }
            Command::ClosePeer { peer, reply } => {
                self.core.close_peer(now, peer);
                self.drain();
                let _ = reply.send(());
            }
            Command::CloseRoom { room, reply } => {
                self.core.close_room(now, &room);
                self.drain();
                let _ = reply.send(());
            }
            Command::Stats { reply } => {
                let mut stats = self.core.stats();
                stats.send_drops = self.outbox.dropped;
                let _ = reply.send(stats);
            }
        }
    }
}

/// The local address a datagram from `source` was sent to: the announced
/// candidate of its address family (the socket may be bound to a wildcard
/// or sit behind a 1:1 NAT), else the socket's own address.
fn local_address(
    candidates: &[SocketAddr],
    local: Option<SocketAddr>,
    source: SocketAddr,
) -> SocketAddr {
    candidates
        .iter()
        .find(|c| c.is_ipv4() == source.is_ipv4())
        .or(candidates.first())
        .copied()
        .or(local)
        .unwrap_or(source)
}

/// Reads an upstream's own socket into the loop until the peer goes (the
/// task is aborted) or the loop stops.
async fn read_upstream(
    peer: PeerId,
    socket: Arc<UdpSocket>,
    candidates: Vec<SocketAddr>,
    inbound: mpsc::Sender<Inbound>,
) {
    let local = socket.local_addr().ok();
    let mut buf = vec![0u8; RECV_BUF];
    loop {
        let (n, source) = match socket.recv_from(&mut buf).await {
            Ok(received) => received,
            // ICMP errors (the origin's port closed) say nothing about us.
            Err(e) => {
                tracing::trace!(%peer, error = %e, "upstream receive error");
                continue;
            }
        };
        let Some(data) = buf.get(..n) else { continue };
        let datagram = Inbound {
            peer,
            source,
            destination: local_address(&candidates, local, source),
            data: data.to_vec(),
        };
        if inbound.send(datagram).await.is_err() {
            return;
        }
    }
}
