//! Owns the SFU loop: the one UDP socket, every peer and room, the command
//! channel from [`crate::Sfu`] handles and the event channel to the control
//! plane. It demultiplexes datagrams to peers, drives str0m's timers,
//! forwards publisher RTP to subscribers, routes keyframe requests to
//! publishers, and removes dead peers. Nothing a peer does can stop it.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap, VecDeque};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use str0m::change::{SdpAnswer, SdpPendingOffer};
use str0m::media::{KeyframeRequestKind, MediaKind, Mid};
use str0m::net::{DatagramRecv, Protocol, Receive};
use str0m::rtp::{RtpPacket, RtpWrite};
use str0m::{Input, Rtc};
use tokio::net::UdpSocket;
use tokio::sync::{mpsc, oneshot};

use crate::forward::{Source, forwardable_extensions};
use crate::outbox::Outbox;
use crate::peer::{Note, Peer, Role, TrackIn, TrackOut};
use crate::sdp;
use crate::{DownReason, IceFragment, IcePatch, PeerId, SfuError, SfuEvent, SfuStats, SfuTuning};

/// Largest datagram read from the socket (WebRTC stays under ~1500).
const RECV_BUF: usize = 2048;
/// Datagrams handled per wake-up before timers get their turn.
const RECV_BATCH: usize = 64;
/// The loop wakes at least this often, whatever the peers say.
const MAX_SLEEP: Duration = Duration::from_secs(1);

/// A request from an [`crate::Sfu`] handle to the loop.
pub(crate) enum Command {
    /// Adds a peer whose SDP was already handled by the caller.
    AddPeer {
        peer: Box<NewPeer>,
        reply: oneshot::Sender<()>,
    },
    /// Completes a subscriber's negotiation with its answer.
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

/// A peer prepared outside the loop (Rtc built, SDP applied).
pub(crate) struct NewPeer {
    id: PeerId,
    room: String,
    role: Role,
    rtc: Rtc,
    pending_offer: Option<SdpPendingOffer>,
    mids: Vec<(Mid, MediaKind)>,
    /// The client's offer, when the peer was made from one.
    pub(crate) remote_offer: Option<String>,
    /// An upstream's own socket and its host candidates.
    upstream: Option<(UdpSocket, Vec<SocketAddr>)>,
    /// A subscriber that is another SFU's upstream (it asks for keyframes
    /// when its own viewers need them).
    pub(crate) relay: bool,
}

impl NewPeer {
    /// The peer's id.
    pub(crate) fn id(&self) -> PeerId {
        self.id
    }

    /// A publisher whose offer was accepted.
    pub(crate) fn publisher(id: PeerId, room: &str, rtc: Rtc) -> Self {
        Self {
            id,
            room: room.to_owned(),
            role: Role::Publisher,
            rtc,
            pending_offer: None,
            mids: Vec::new(),
            remote_offer: None,
            upstream: None,
            relay: false,
        }
    }

    /// An upstream whose offer awaits the origin's answer: a publisher of
    /// the room here, receiving on `mids` through its own `socket`.
    pub(crate) fn upstream(
        id: PeerId,
        room: &str,
        rtc: Rtc,
        pending_offer: SdpPendingOffer,
        mids: Vec<(Mid, MediaKind)>,
        socket: UdpSocket,
        candidates: Vec<SocketAddr>,
    ) -> Self {
        Self {
            id,
            room: room.to_owned(),
            role: Role::Publisher,
            rtc,
            pending_offer: Some(pending_offer),
            mids,
            remote_offer: None,
            upstream: Some((socket, candidates)),
            relay: false,
        }
    }

    /// A subscriber: either with the SFU's offer pending and its mids, or
    /// (WHEP) with the client's offer already accepted.
    pub(crate) fn subscriber(
        id: PeerId,
        room: &str,
        rtc: Rtc,
        pending_offer: Option<SdpPendingOffer>,
        mids: Vec<(Mid, MediaKind)>,
    ) -> Self {
        Self {
            id,
            room: room.to_owned(),
            role: Role::Subscriber,
            rtc,
            pending_offer,
            mids,
            remote_offer: None,
            upstream: None,
            relay: false,
        }
    }
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

/// The peers of one room.
#[derive(Default)]
struct Room {
    publisher: Option<PeerId>,
    subscribers: Vec<PeerId>,
}

/// Monotonic counters.
#[derive(Default)]
struct Counters {
    packets_in: u64,
    packets_out: u64,
    bytes_out: u64,
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
        inbound,
        socket,
        local,
        candidates,
        connect_timeout,
        tuning,
        peers: HashMap::new(),
        rooms: HashMap::new(),
        by_addr: HashMap::new(),
        events,
        work: VecDeque::new(),
        counters: Counters::default(),
        outbox: Outbox::default(),
        timers: BinaryHeap::new(),
        due: Vec::new(),
    };
    tokio::spawn(engine.run(commands, inbound_rx));
}

struct Engine {
    /// Where upstream sockets' readers hand their datagrams.
    inbound: mpsc::Sender<Inbound>,
    socket: UdpSocket,
    local: Option<SocketAddr>,
    candidates: Vec<SocketAddr>,
    connect_timeout: Duration,
    tuning: SfuTuning,
    peers: HashMap<PeerId, Peer>,
    rooms: HashMap<String, Room>,
    /// Demux cache: which peer last accepted traffic from an address.
    by_addr: HashMap<SocketAddr, PeerId>,
    events: mpsc::UnboundedSender<SfuEvent>,
    /// Notes from drained peers, waiting to be acted on.
    work: VecDeque<(PeerId, Note)>,
    counters: Counters,
    /// Datagrams waiting for the next batched send.
    outbox: Outbox,
    /// Peers' next wake-ups, earliest first (entries a peer no longer has
    /// as `scheduled` are stale and skipped).
    timers: BinaryHeap<Reverse<(Instant, PeerId)>>,
    /// Scratch space for the entries due in one `on_timers` call.
    due: Vec<(Instant, PeerId)>,
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
            let deadline = self.next_deadline(Instant::now());
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
                Wake::Upstream(datagram) => self.on_upstream_datagram(datagram),
                Wake::Timer => {}
            }
            self.on_timers(Instant::now());
            self.settle();
            self.outbox.flush(&self.socket);
        }
        // Every handle is gone: hang up on everyone, politely.
        let ids: Vec<PeerId> = self.peers.keys().copied().collect();
        for id in ids {
            if let Some(peer) = self.peers.get_mut(&id) {
                peer.fail(DownReason::Closed);
            }
        }
        self.reap();
        self.outbox.flush(&self.socket);
        tracing::debug!("sfu loop stopped");
    }

    /// Acts on queued notes and removes dead peers until nothing is left.
    fn settle(&mut self) {
        loop {
            self.process_work();
            if !self.reap() {
                break;
            }
        }
    }

    fn on_received(&mut self, received: std::io::Result<(usize, SocketAddr)>, buf: &[u8]) {
        match received {
            Ok((n, source)) => {
                if let Some(data) = buf.get(..n) {
                    self.on_datagram(data, source);
                    // What this datagram produced goes out now, not after
                    // the rest of the batch.
                    self.outbox.flush(&self.socket);
                }
            }
            // ICMP errors (a vanished peer's closed port) surface here on
            // Linux; they say nothing about the socket itself.
            Err(e) => tracing::trace!(error = %e, "udp receive error"),
        }
    }

    fn destination_for(&self, source: SocketAddr) -> SocketAddr {
        self.candidates
            .iter()
            .find(|c| c.is_ipv4() == source.is_ipv4())
            .or(self.candidates.first())
            .copied()
            .or(self.local)
            .unwrap_or(source)
    }

    fn on_datagram(&mut self, data: &[u8], source: SocketAddr) {
        let Ok(contents) = DatagramRecv::try_from(data) else {
            return;
        };
        let now = Instant::now();
        let input = Input::Receive(
            now,
            Receive {
                proto: Protocol::Udp,
                source,
                destination: self.destination_for(source),
                contents,
            },
        );
        let cached = self
            .by_addr
            .get(&source)
            .copied()
            .filter(|id| self.peers.get(id).is_some_and(|p| p.rtc.accepts(&input)));
        let id = match cached {
            Some(id) => id,
            None => {
                let Some(id) = self
                    .peers
                    .values()
                    .find(|p| p.down.is_none() && p.rtc.accepts(&input))
                    .map(|p| p.id)
                else {
                    tracing::trace!(%source, "no peer accepts datagram");
                    return;
                };
                self.by_addr.insert(source, id);
                if let Some(peer) = self.peers.get_mut(&id)
                    && !peer.addrs.contains(&source)
                {
                    peer.addrs.push(source);
                }
                id
            }
        };
        let mut notes = Vec::new();
        if let Some(peer) = self.peers.get_mut(&id) {
            peer.last_heard = now;
            peer.last_from = Some(source);
            peer.handle_input(input, &mut self.outbox, &mut notes);
        }
        self.queue(id, notes);
        self.process_work();
    }

    /// A datagram on an upstream's own socket: it can only be that peer's.
    fn on_upstream_datagram(&mut self, datagram: Inbound) {
        let Inbound {
            peer: id,
            source,
            destination,
            data,
        } = datagram;
        let Ok(contents) = DatagramRecv::try_from(data.as_slice()) else {
            return;
        };
        let now = Instant::now();
        let input = Input::Receive(
            now,
            Receive {
                proto: Protocol::Udp,
                source,
                destination,
                contents,
            },
        );
        let mut notes = Vec::new();
        if let Some(peer) = self.peers.get_mut(&id).filter(|p| p.down.is_none()) {
            if !peer.rtc.accepts(&input) {
                tracing::trace!(peer = %id, %source, "upstream ignores a datagram");
                return;
            }
            peer.last_heard = now;
            peer.last_from = Some(source);
            peer.handle_input(input, &mut self.outbox, &mut notes);
        }
        self.queue(id, notes);
        self.process_work();
    }

    /// Files a drained peer's notes and its next wake-up.
    fn queue(&mut self, id: PeerId, notes: Vec<Note>) {
        self.work.extend(notes.into_iter().map(|n| (id, n)));
        self.schedule(id);
    }

    /// Puts the peer's next wake-up on the timer heap, unless an earlier
    /// one is already there (that one will reschedule it when it fires).
    fn schedule(&mut self, id: PeerId) {
        let Some(peer) = self.peers.get_mut(&id) else {
            return;
        };
        if peer.down.is_some() {
            return;
        }
        let mut wake = peer.next_timeout;
        if peer.connected {
            wake = wake.min(peer.last_heard + self.tuning.ice_timeout);
            if let Some(last) = peer.last_media.filter(|_| !peer.stalled) {
                wake = wake.min(last + self.tuning.media_stall);
            }
        } else {
            wake = wake.min(peer.created + self.connect_timeout);
        }
        if peer.keyframes.is_pending() && peer.keyframe_ssrc().is_some() {
            let due = peer.keyframes.due(self.tuning.keyframe_throttle);
            wake = wake.min(due.unwrap_or(peer.next_timeout));
        }
        if peer.scheduled.is_none_or(|at| wake < at) {
            peer.scheduled = Some(wake);
            self.timers.push(Reverse((wake, id)));
        }
    }

    fn on_command(&mut self, command: Command) {
        match command {
            Command::AddPeer { peer, reply } => {
                self.add_peer(*peer);
                let _ = reply.send(());
            }
            Command::AcceptAnswer {
                peer,
                answer,
                reply,
            } => {
                let result = self.accept_answer(peer, answer);
                let _ = reply.send(result);
            }
            Command::PatchIce {
                peer,
                fragment,
                reply,
            } => {
                let result = self.patch_ice(peer, fragment);
                let _ = reply.send(result);
            }
            Command::ClosePeer { peer, reply } => {
                if let Some(p) = self.peers.get_mut(&peer) {
                    p.fail(DownReason::Closed);
                }
                self.settle();
                let _ = reply.send(());
            }
            Command::CloseRoom { room, reply } => {
                for peer in self.peers.values_mut().filter(|p| p.room == room) {
                    peer.fail(DownReason::Closed);
                }
                self.settle();
                let _ = reply.send(());
            }
            Command::Stats { reply } => {
                let _ = reply.send(self.stats());
            }
        }
    }

    fn stats(&self) -> SfuStats {
        let upstreams = self.peers.values().filter(|p| p.upstream).count();
        let publishers = self
            .peers
            .values()
            .filter(|p| p.role == Role::Publisher && !p.upstream)
            .count();
        SfuStats {
            peers: self.peers.len(),
            publishers,
            subscribers: self.peers.len() - publishers - upstreams,
            upstreams,
            packets_in: self.counters.packets_in,
            packets_out: self.counters.packets_out,
            bytes_out: self.counters.bytes_out,
            send_drops: self.outbox.dropped,
        }
    }

    fn add_peer(&mut self, new: NewPeer) {
        let now = Instant::now();
        let NewPeer {
            id,
            room,
            role,
            rtc,
            pending_offer,
            mids,
            remote_offer,
            upstream,
            relay,
        } = new;
        let mut peer = Peer::new(id, room.clone(), role, rtc, now);
        peer.relay = relay;
        peer.pending_offer = pending_offer;
        peer.set_remote_offer(remote_offer);
        if let Some((socket, candidates)) = upstream {
            let socket = std::sync::Arc::new(socket);
            peer.upstream = true;
            peer.reader = Some(tokio::spawn(read_upstream(
                id,
                socket.clone(),
                candidates,
                self.inbound.clone(),
            )));
            peer.own_socket = Some(socket);
            peer.tracks_in = mids
                .into_iter()
                .map(|(mid, kind)| TrackIn {
                    mid,
                    kind,
                    active: None,
                })
                .collect();
        } else {
            peer.tracks_out = mids
                .into_iter()
                .map(|(mid, kind)| TrackOut::new(mid, kind))
                .collect();
        }

        let entry = self.rooms.entry(room).or_default();
        match role {
            Role::Publisher => {
                if let Some(old) = entry.publisher.replace(id)
                    && let Some(old) = self.peers.get_mut(&old)
                {
                    old.fail(DownReason::Replaced);
                }
            }
            Role::Subscriber => entry.subscribers.push(id),
        }
        tracing::debug!(peer = %id, room = %peer.room, ?role, "peer added");

        // Start the clock and collect what accepting the offer produced
        // (MediaAdded for the remote's m-lines).
        let mut notes = Vec::new();
        peer.handle_input(Input::Timeout(now), &mut self.outbox, &mut notes);
        self.peers.insert(id, peer);
        self.queue(id, notes);
        self.settle();
    }

    fn accept_answer(&mut self, id: PeerId, answer: SdpAnswer) -> Result<(), SfuError> {
        let peer = self
            .peers
            .get_mut(&id)
            .filter(|p| p.down.is_none())
            .ok_or(SfuError::UnknownPeer)?;
        let pending = peer.pending_offer.take().ok_or(SfuError::NoPendingOffer)?;
        let mut result = Ok(());
        let mut notes = Vec::new();
        peer.mutate(&mut self.outbox, &mut notes, |rtc| {
            result = rtc.sdp_api().accept_answer(pending, answer);
        });
        self.queue(id, notes);
        let result = result.map_err(|e| {
            // The pending offer is spent: this peer can't connect any more.
            if let Some(peer) = self.peers.get_mut(&id) {
                peer.fail(DownReason::Failed);
            }
            sdp::unusable(e)
        });
        self.settle();
        result
    }

    fn patch_ice(&mut self, id: PeerId, fragment: IceFragment) -> Result<IcePatch, SfuError> {
        let peer = self
            .peers
            .get_mut(&id)
            .filter(|p| p.down.is_none())
            .ok_or(SfuError::UnknownPeer)?;
        let mut notes = Vec::new();
        let result = peer.patch_ice(fragment, &mut self.outbox, &mut notes);
        if matches!(result, Ok(IcePatch::Restarted(_))) {
            // The old pair is gone; the client's checks on the new
            // credentials re-nominate one (its address may differ).
            tracing::info!(peer = %id, "ICE restarted");
        }
        self.queue(id, notes);
        self.settle();
        result
    }

    /// Feeds due timeouts and enforces the SFU's own deadlines, for the
    /// peers whose wake-up on the timer heap has come (no scan of all peers).
    fn on_timers(&mut self, now: Instant) {
        let connect_timeout = self.connect_timeout;
        let ice_timeout = self.tuning.ice_timeout;
        let media_stall = self.tuning.media_stall;
        // Take the due entries first: what they reschedule (possibly for
        // `now` again) waits for the next turn of the loop, which reads the
        // clock and serves the socket in between.
        let mut due = std::mem::take(&mut self.due);
        while let Some(&Reverse(entry)) = self.timers.peek() {
            if entry.0 > now {
                break;
            }
            self.timers.pop();
            due.push(entry);
        }
        for (at, id) in due.drain(..) {
            let Some(peer) = self.peers.get_mut(&id) else {
                continue;
            };
            if peer.down.is_some() || peer.scheduled != Some(at) {
                continue; // Gone, or a stale entry (rescheduled earlier).
            }
            peer.scheduled = None;
            let mut notes = Vec::new();
            if now >= peer.next_timeout {
                peer.handle_input(Input::Timeout(now), &mut self.outbox, &mut notes);
            }
            if !peer.connected && now >= peer.created + connect_timeout {
                tracing::info!(peer = %id, "peer never connected");
                peer.fail(DownReason::Timeout);
            } else if peer.connected && now >= peer.last_heard + ice_timeout {
                tracing::info!(peer = %id, "nothing heard from peer; ICE timeout");
                peer.fail(DownReason::IceTimeout);
            } else if peer.connected
                && !peer.stalled
                && peer.last_media.is_some_and(|t| now >= t + media_stall)
            {
                tracing::info!(peer = %id, "no media from the publisher; stalled");
                peer.stalled = true;
                // An upstream's silence is its origin's publisher's: the
                // origin reports that one; here it is only logged.
                if !peer.upstream {
                    let _ = self.events.send(SfuEvent::PublisherStalled {
                        room: peer.room.clone(),
                        peer: id,
                    });
                }
            }
            self.queue(id, notes);
            self.send_due_keyframe_requests(id, now);
        }
        self.due = due;
        self.process_work();
    }

    /// The earliest moment the loop must wake up without I/O.
    fn next_deadline(&self, now: Instant) -> Instant {
        let latest = now + MAX_SLEEP;
        self.timers
            .peek()
            .map_or(latest, |Reverse((at, _))| (*at).min(latest))
    }

    fn process_work(&mut self) {
        while let Some((id, note)) = self.work.pop_front() {
            match note {
                Note::Connected => self.on_connected(id),
                Note::MediaAdded { mid, kind } => self.on_media_added(id, mid, kind),
                Note::Rtp(packet) => self.forward(id, *packet),
                Note::KeyframeRequest(req) => self.on_keyframe_request(id, req.mid),
            }
        }
    }

    fn on_connected(&mut self, id: PeerId) {
        let Some(peer) = self.peers.get(&id) else {
            return;
        };
        let room = peer.room.clone();
        let role = peer.role;
        let upstream = peer.upstream;
        tracing::info!(peer = %id, %room, ?role, upstream, "peer connected");
        let event = match role {
            Role::Publisher if upstream => SfuEvent::UpstreamUp {
                room: room.clone(),
                peer: id,
            },
            Role::Publisher => SfuEvent::PublisherUp {
                room: room.clone(),
                peer: id,
            },
            Role::Subscriber => SfuEvent::SubscriberUp {
                room: room.clone(),
                peer: id,
            },
        };
        let _ = self.events.send(event);
        match role {
            // A new viewer needs a keyframe to start decoding.
            // (Another SFU's upstream asks itself, once its viewers are
            // there: a request now would only use up the throttle window
            // that their request then waits for.)
            Role::Subscriber if !self.peers.get(&id).is_some_and(|p| p.relay) => {
                self.request_keyframe(&room, MediaKind::Video)
            }
            Role::Subscriber => {}
            // A (replacing) publisher: viewers already waiting need one.
            Role::Publisher => {
                let watching = self.rooms.get(&room).is_some_and(|r| {
                    r.subscribers
                        .iter()
                        .any(|s| self.peers.get(s).is_some_and(|p| p.connected))
                });
                if watching {
                    self.request_keyframe(&room, MediaKind::Video);
                }
            }
        }
    }

    fn on_media_added(&mut self, id: PeerId, mid: Mid, kind: MediaKind) {
        tracing::debug!(peer = %id, ?mid, ?kind, "media added");
        let Some(peer) = self.peers.get_mut(&id) else {
            return;
        };
        let Some(direction) = peer.rtc.media(mid).map(|m| m.direction()) else {
            return;
        };
        match peer.role {
            Role::Publisher
                if direction.is_receiving() && !peer.tracks_in.iter().any(|t| t.mid == mid) =>
            {
                peer.tracks_in.push(TrackIn {
                    mid,
                    kind,
                    active: None,
                });
            }
            // WHEP: the client's recvonly lines; one per kind is used.
            Role::Subscriber
                if direction.is_sending() && !peer.tracks_out.iter().any(|t| t.kind == kind) =>
            {
                peer.tracks_out.push(TrackOut::new(mid, kind));
            }
            _ => {}
        }
    }

    /// A subscriber's PLI/FIR goes to the room's publisher.
    fn on_keyframe_request(&mut self, id: PeerId, mid: Mid) {
        let Some(peer) = self.peers.get(&id) else {
            return;
        };
        if peer.role != Role::Subscriber {
            return;
        }
        let Some(kind) = peer
            .tracks_out
            .iter()
            .find(|t| t.mid == mid)
            .map(|t| t.kind)
        else {
            return;
        };
        let room = peer.room.clone();
        self.request_keyframe(&room, kind);
    }

    /// Asks the room's publisher for a keyframe on its `kind` track,
    /// throttled; a request inside the window is sent when it ends.
    fn request_keyframe(&mut self, room: &str, kind: MediaKind) {
        if !kind.is_video() {
            return;
        }
        let Some(publisher) = self.rooms.get(room).and_then(|r| r.publisher) else {
            return;
        };
        let now = Instant::now();
        let window = self.tuning.keyframe_throttle;
        let Some(peer) = self.peers.get_mut(&publisher) else {
            return;
        };
        let ready = peer.keyframes.request(now, window);
        tracing::debug!(peer = %publisher, ready, "keyframe wanted");
        self.send_due_keyframe_requests(publisher, now);
        // A request inside the window waits: wake up when it ends.
        self.schedule(publisher);
    }

    /// Sends a publisher's pending keyframe request once its window has
    /// passed and its video stream is known (packets arrived).
    fn send_due_keyframe_requests(&mut self, id: PeerId, now: Instant) {
        let window = self.tuning.keyframe_throttle;
        let Some(peer) = self.peers.get_mut(&id) else {
            return;
        };
        if peer.role != Role::Publisher || peer.down.is_some() {
            return;
        }
        let Some(ssrc) = peer.keyframe_ssrc().or_else(|| peer.declared_video_ssrc()) else {
            return; // Kept pending until the video stream's packets arrive.
        };
        if !peer.keyframes.ready(now, window) {
            return;
        }
        peer.keyframes.sent(now);
        tracing::debug!(peer = %id, ?ssrc, "requesting keyframe");
        let mut notes = Vec::new();
        peer.mutate(&mut self.outbox, &mut notes, |rtc| {
            if let Some(stream) = rtc.direct_api().stream_rx(&ssrc) {
                stream.request_keyframe(KeyframeRequestKind::Pli);
            }
        });
        self.queue(id, notes);
    }

    /// Forwards one publisher packet to every connected subscriber of its room.
    fn forward(&mut self, id: PeerId, packet: RtpPacket) {
        let Some(publisher) = self.peers.get_mut(&id) else {
            return;
        };
        if publisher.role != Role::Publisher || publisher.down.is_some() {
            return;
        }
        publisher.last_media = Some(packet.timestamp);
        if publisher.stalled {
            publisher.stalled = false;
            tracing::info!(peer = %id, "the publisher's media resumed");
            if !publisher.upstream {
                let _ = self.events.send(SfuEvent::PublisherResumed {
                    room: publisher.room.clone(),
                    peer: id,
                });
            }
        }
        self.counters.packets_in += 1;
        let header = &packet.header;
        let ssrc = header.ssrc;
        let Some((mid, rid)) = publisher
            .rtc
            .direct_api()
            .stream_rx(&ssrc)
            .map(|s| (s.mid(), s.rid()))
        else {
            return;
        };
        let Some(params) = publisher
            .rtc
            .codec_config()
            .params()
            .iter()
            .find(|p| p.pt() == header.payload_type)
            .copied()
        else {
            return;
        };
        let Some(kind) = publisher
            .tracks_in
            .iter()
            .find(|t| t.mid == mid)
            .map(|t| t.kind)
        else {
            return;
        };
        let Some(track) = publisher.primary_in(kind) else {
            return;
        };
        if track.mid != mid {
            return; // Only the first track of each kind is forwarded.
        }
        match track.active {
            None => track.active = Some((ssrc, rid)),
            Some((active, _)) if active == ssrc => {}
            // Same layer on a new SSRC: the sender restarted it.
            Some((_, active_rid)) if active_rid == rid => track.active = Some((ssrc, rid)),
            // Another simulcast layer: only the first one seen is forwarded.
            Some(_) => return,
        }
        let room = publisher.room.clone();
        if publisher.keyframes.is_pending() {
            // The video stream may just have become known.
            self.send_due_keyframe_requests(id, Instant::now());
            self.schedule(id);
        }

        let clock_rate = params.spec().clock_rate.get(); // No G.722 here: wire clock = codec clock.
        let source = Source { peer: id, ssrc };
        let ext = forwardable_extensions(&header.ext_vals);
        let csrc_count = header.csrc_count.min(header.csrc.len());
        let csrc = &header.csrc[..csrc_count];
        let nackable = kind.is_video();
        // str0m hands the payload over shared: every write clones the Arc.
        let payload = packet.payload;

        let Some(room_entry) = self.rooms.get_mut(&room) else {
            return;
        };
        // Taken out while forwarding: forwarding only touches peers; notes
        // that could change rooms are queued, not acted on here.
        let subscribers = std::mem::take(&mut room_entry.subscribers);
        for sub_id in &subscribers {
            let Some(sub) = self.peers.get_mut(sub_id) else {
                continue;
            };
            if !sub.connected || sub.down.is_some() {
                continue;
            }
            let Some((out_mid, pt)) = sub.out_pt(kind, &params) else {
                continue;
            };
            let Some(track) = sub.out_track(kind) else {
                continue;
            };
            let Some((seq, ts)) = track.rebase.map(
                source,
                packet.seq_no,
                header.timestamp,
                packet.timestamp,
                clock_rate,
            ) else {
                continue;
            };
            let write = RtpWrite::new(pt, seq, ts, packet.timestamp, payload.clone())
                .marker(header.marker)
                .ext_vals(ext.clone())
                .nackable(nackable)
                .csrc(csrc);
            let mut written = false;
            let mut notes = Vec::new();
            sub.mutate(&mut self.outbox, &mut notes, |rtc| {
                if let Some(stream) = rtc.direct_api().stream_tx_by_mid(out_mid, None) {
                    stream.write_rtp(write);
                    written = true;
                }
            });
            if written {
                self.counters.packets_out += 1;
                self.counters.bytes_out += payload.len() as u64;
            }
            self.queue(*sub_id, notes);
            if self.outbox.is_full() {
                self.outbox.flush(&self.socket);
            }
        }
        if let Some(room_entry) = self.rooms.get_mut(&room) {
            // Nothing adds subscribers while forwarding, but keep any that did.
            let added = std::mem::replace(&mut room_entry.subscribers, subscribers);
            room_entry.subscribers.extend(added);
        }
    }

    /// Removes peers marked down and reports them. Returns whether any went.
    fn reap(&mut self) -> bool {
        let dead: Vec<PeerId> = self
            .peers
            .values()
            .filter(|p| p.down.is_some())
            .map(|p| p.id)
            .collect();
        for id in &dead {
            let Some(mut peer) = self.peers.remove(id) else {
                continue;
            };
            let reason = peer.down.unwrap_or(DownReason::Failed);
            if let Some(reader) = peer.reader.take() {
                reader.abort();
            }
            if matches!(
                reason,
                DownReason::Closed | DownReason::Replaced | DownReason::Timeout
            ) {
                peer.close(&mut self.outbox);
            }
            for addr in &peer.addrs {
                if self.by_addr.get(addr) == Some(id) {
                    self.by_addr.remove(addr);
                }
            }
            if let Some(room) = self.rooms.get_mut(&peer.room) {
                if room.publisher == Some(*id) {
                    room.publisher = None;
                }
                room.subscribers.retain(|s| s != id);
                if room.publisher.is_none() && room.subscribers.is_empty() {
                    self.rooms.remove(&peer.room);
                }
            }
            tracing::info!(peer = %id, room = %peer.room, ?reason, "peer down");
            let room = peer.room;
            let event = match peer.role {
                Role::Publisher if peer.upstream => SfuEvent::UpstreamDown {
                    room,
                    peer: *id,
                    reason,
                },
                Role::Publisher => SfuEvent::PublisherDown {
                    room,
                    peer: *id,
                    reason,
                },
                Role::Subscriber => SfuEvent::SubscriberDown {
                    room,
                    peer: *id,
                    reason,
                },
            };
            let _ = self.events.send(event);
        }
        self.work.retain(|(id, _)| self.peers.contains_key(id));
        !dead.is_empty()
    }
}

/// Reads an upstream's own socket into the loop until the peer goes (the
/// task is aborted) or the loop stops. The destination of each datagram is
/// the upstream's host candidate of the sender's address family.
async fn read_upstream(
    peer: PeerId,
    socket: std::sync::Arc<UdpSocket>,
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
        let destination = candidates
            .iter()
            .find(|c| c.is_ipv4() == source.is_ipv4())
            .or(candidates.first())
            .copied()
            .or(local)
            .unwrap_or(source);
        let datagram = Inbound {
            peer,
            source,
            destination,
            data: data.to_vec(),
        };
        if inbound.send(datagram).await.is_err() {
            return;
        }
    }
}
