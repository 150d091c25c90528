//! Owns the SFU's forwarding state without any I/O: every peer and room of
//! one shard, the demultiplexing of datagrams to peers, str0m's timers, the
//! forwarding of publisher RTP to subscribers, keyframe requests back to
//! publishers, and the removal of dead peers. Time, datagrams and commands
//! come in as values; datagrams ([`Core::transmits`]), the next wake-up
//! ([`Core::poll_timeout`]) and events ([`Core::poll_event`]) go out. No
//! sockets, no tasks, no clock: [`crate::engine`] is the loop that owns
//! those, and the unit tests drive this with synthetic time and in-memory
//! datagrams.
//!
//! Why a returned batch rather than one `poll_transmit` per datagram: a
//! publisher packet fans out to every subscriber in one call, and the loop
//! hands the whole batch to `sendmmsg` at once (moved, never copied; the
//! queue keeps its capacity, so no allocation per packet beyond str0m's own
//! datagram buffers).
//!
//! Where issue 18 slots in:
//! - *Per-subscriber batching and GSO*: every transmit of one input is
//!   already in [`Transmits::shard`] when the call returns, so the loop
//!   can group them by destination and send equal-sized runs with
//!   `UDP_SEGMENT` instead of `sendmmsg`, without touching this module.
//! - *Simulcast layer choice*: [`Core::forward`] is the one place a
//!   publisher packet meets each subscriber. Today a publisher track keeps
//!   the first layer it sees ([`TrackIn::active`]); with simulcast, every
//!   layer is accepted and each subscriber's [`crate::peer::TrackOut`]
//!   holds its chosen layer (from its BWE, fed through the same
//!   `handle_datagram` path as RTCP) and skips the others; a switch waits
//!   for the target layer's keyframe, which [`crate::forward::Rebase`]
//!   already splices into one continuous stream.
//! - *Keyframe cache*: a per-publisher-track ring of the last keyframe and
//!   the packets since sits next to [`crate::keyframe::KeyframeThrottle`]
//!   on the publisher [`Peer`]; `on_connected` for a subscriber replays it
//!   through the same per-subscriber write as `forward` instead of (or
//!   before) asking the publisher.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap, VecDeque};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use str0m::change::{SdpAnswer, SdpPendingOffer};
use str0m::media::{KeyframeRequestKind, MediaKind, Mid};
use str0m::net::{DatagramRecv, Protocol, Receive};
use str0m::rtp::{RtpPacket, RtpWrite};
use str0m::{Input, Rtc};

use crate::forward::{Source, forwardable_extensions};
use crate::peer::{Note, Peer, Role, TrackIn, TrackOut};
use crate::sdp;
use crate::{DownReason, IceFragment, IcePatch, PeerId, SfuError, SfuEvent, SfuStats, SfuTuning};

#[cfg(test)]
mod tests;

/// Which socket a datagram came in on, or leaves from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Via {
    /// The shard's socket, shared by every peer but upstreams.
    Shard,
    /// An upstream's own socket.
    Upstream(PeerId),
}

/// Datagrams produced by the core, waiting for the loop to send them.
#[derive(Default)]
pub(crate) struct Transmits {
    /// For the shard's socket, in order: (destination, datagram).
    pub(crate) shard: Vec<(SocketAddr, Vec<u8>)>,
    /// For upstreams' own sockets: (upstream, destination, datagram).
    pub(crate) upstream: Vec<(PeerId, SocketAddr, Vec<u8>)>,
}

/// A peer prepared outside the core (Rtc built, SDP applied).
pub(crate) struct NewPeer {
    id: PeerId,
    room: String,
    role: Role,
    rtc: Rtc,
    pending_offer: Option<SdpPendingOffer>,
    mids: Vec<(Mid, MediaKind)>,
    /// The client's offer, when the peer was made from one.
    pub(crate) remote_offer: Option<String>,
    /// An upstream (its datagrams use its own socket, [`Via::Upstream`]).
    upstream: bool,
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
            upstream: false,
            relay: false,
        }
    }

    /// An upstream whose offer awaits the origin's answer: a publisher of
    /// the room here, receiving on `mids` through a socket of its own.
    pub(crate) fn upstream(
        id: PeerId,
        room: &str,
        rtc: Rtc,
        pending_offer: SdpPendingOffer,
        mids: Vec<(Mid, MediaKind)>,
    ) -> Self {
        Self {
            id,
            room: room.to_owned(),
            role: Role::Publisher,
            rtc,
            pending_offer: Some(pending_offer),
            mids,
            remote_offer: None,
            upstream: true,
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
            upstream: false,
            relay: false,
        }
    }
}

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

/// The forwarding state of one shard.
pub(crate) struct Core {
    connect_timeout: Duration,
    tuning: SfuTuning,
    peers: HashMap<PeerId, Peer>,
    rooms: HashMap<String, Room>,
    /// Demux cache: which peer last accepted traffic from an address.
    by_addr: HashMap<SocketAddr, PeerId>,
    /// Notes from drained peers, waiting to be acted on.
    work: VecDeque<(PeerId, Note)>,
    /// Peers marked down since the last reap.
    dying: Vec<PeerId>,
    counters: Counters,
    /// Datagrams waiting for the loop.
    out: Transmits,
    /// Events waiting for the loop.
    events: VecDeque<SfuEvent>,
    /// Peers' next wake-ups, earliest first (entries a peer no longer has
    /// as `scheduled` are stale and skipped).
    timers: BinaryHeap<Reverse<(Instant, PeerId)>>,
    /// Scratch space for the entries due in one `handle_timeout` call.
    due: Vec<(Instant, PeerId)>,
}

impl Core {
    pub(crate) fn new(connect_timeout: Duration, tuning: SfuTuning) -> Self {
        Self {
            connect_timeout,
            tuning,
            peers: HashMap::new(),
            rooms: HashMap::new(),
            by_addr: HashMap::new(),
            work: VecDeque::new(),
            dying: Vec::new(),
            counters: Counters::default(),
            out: Transmits::default(),
            events: VecDeque::new(),
            timers: BinaryHeap::new(),
            due: Vec::new(),
        }
    }

    /// The datagrams produced so far; the loop sends and clears them.
    pub(crate) fn transmits(&mut self) -> &mut Transmits {
        &mut self.out
    }

    /// The next event for the control plane.
    pub(crate) fn poll_event(&mut self) -> Option<SfuEvent> {
        self.events.pop_front()
    }

    /// When [`Core::handle_timeout`] is next due (`None`: nothing
    /// scheduled). May be early (a stale entry); never late.
    pub(crate) fn poll_timeout(&self) -> Option<Instant> {
        self.timers.peek().map(|Reverse((at, _))| *at)
    }

    /// A datagram from `source` to `destination` (the local address it was
    /// sent to) arrived on `via` at `now`.
    pub(crate) fn handle_datagram(
        &mut self,
        now: Instant,
        via: Via,
        source: SocketAddr,
        destination: SocketAddr,
        data: &[u8],
    ) {
        let Ok(contents) = DatagramRecv::try_from(data) else {
            return;
        };
        let input = Input::Receive(
            now,
            Receive {
                proto: Protocol::Udp,
                source,
                destination,
                contents,
            },
        );
        let id = match via {
            // An upstream's own socket: it can only be that peer's.
            Via::Upstream(id) => {
                if !self
                    .peers
                    .get(&id)
                    .is_some_and(|p| p.down.is_none() && p.rtc.accepts(&input))
                {
                    tracing::trace!(peer = %id, %source, "upstream ignores a datagram");
                    return;
                }
                id
            }
            Via::Shard => match self.demux(source, &input) {
                Some(id) => id,
                None => {
                    tracing::trace!(%source, "no peer accepts datagram");
                    return;
                }
            },
        };
        let mut notes = Vec::new();
        if let Some(peer) = self.peers.get_mut(&id) {
            peer.last_heard = now;
            peer.last_from = Some(source);
            peer.handle_input(input, &mut self.out, &mut notes);
        }
        self.queue(id, notes);
        self.settle(now);
    }

    /// The peer a shard datagram belongs to: the one that last took
    /// traffic from its source, else the first that accepts it.
    fn demux(&mut self, source: SocketAddr, input: &Input<'_>) -> Option<PeerId> {
        let cached = self
            .by_addr
            .get(&source)
            .copied()
            .filter(|id| self.peers.get(id).is_some_and(|p| p.rtc.accepts(input)));
        if cached.is_some() {
            return cached;
        }
        let id = self
            .peers
            .values()
            .find(|p| p.down.is_none() && p.rtc.accepts(input))
            .map(|p| p.id)?;
        self.by_addr.insert(source, id);
        if let Some(peer) = self.peers.get_mut(&id)
            && !peer.addrs.contains(&source)
        {
            peer.addrs.push(source);
        }
        Some(id)
    }

    /// Adds a peer (replacing the room's publisher if it is one).
    pub(crate) fn add_peer(&mut self, now: Instant, new: NewPeer) {
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
        peer.upstream = upstream;
        peer.pending_offer = pending_offer;
        peer.set_remote_offer(remote_offer);
        if upstream {
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
        let replaced = match role {
            Role::Publisher => entry.publisher.replace(id),
            Role::Subscriber => {
                entry.subscribers.push(id);
                None
            }
        };
        if let Some(old) = replaced {
            self.fail(old, DownReason::Replaced);
        }
        tracing::debug!(peer = %id, room = %peer.room, ?role, "peer added");

        // Start the clock and collect what accepting the offer produced
        // (MediaAdded for the remote's m-lines).
        let mut notes = Vec::new();
        peer.handle_input(Input::Timeout(now), &mut self.out, &mut notes);
        self.peers.insert(id, peer);
        self.queue(id, notes);
        self.settle(now);
    }

    /// Completes a pending offer (a subscriber's, or an upstream's) with
    /// the remote's answer. A refused answer fails the peer.
    pub(crate) fn accept_answer(
        &mut self,
        now: Instant,
        id: PeerId,
        answer: SdpAnswer,
    ) -> Result<(), SfuError> {
        let peer = self
            .peers
            .get_mut(&id)
            .filter(|p| p.down.is_none())
            .ok_or(SfuError::UnknownPeer)?;
        let pending = peer.pending_offer.take().ok_or(SfuError::NoPendingOffer)?;
        let mut result = Ok(());
        let mut notes = Vec::new();
        peer.mutate(&mut self.out, &mut notes, |rtc| {
            result = rtc.sdp_api().accept_answer(pending, answer);
        });
        self.queue(id, notes);
        let result = result.map_err(|e| {
            // The pending offer is spent: this peer can't connect any more.
            self.fail(id, DownReason::Failed);
            sdp::unusable(e)
        });
        self.settle(now);
        result
    }

    /// Applies a client's trickle-ICE fragment (candidates, or a restart).
    pub(crate) fn patch_ice(
        &mut self,
        now: Instant,
        id: PeerId,
        fragment: IceFragment,
    ) -> Result<IcePatch, SfuError> {
        let peer = self
            .peers
            .get_mut(&id)
            .filter(|p| p.down.is_none())
            .ok_or(SfuError::UnknownPeer)?;
        let mut notes = Vec::new();
        let result = peer.patch_ice(fragment, &mut self.out, &mut notes);
        if matches!(result, Ok(IcePatch::Restarted(_))) {
            // The old pair is gone; the client's checks on the new
            // credentials re-nominate one (its address may differ).
            tracing::info!(peer = %id, "ICE restarted");
        }
        self.queue(id, notes);
        self.settle(now);
        result
    }

    /// Closes one peer (unknown peers are ignored).
    pub(crate) fn close_peer(&mut self, now: Instant, id: PeerId) {
        self.fail(id, DownReason::Closed);
        self.settle(now);
    }

    /// Closes every peer of a room.
    pub(crate) fn close_room(&mut self, now: Instant, room: &str) {
        let ids: Vec<PeerId> = self
            .peers
            .values()
            .filter(|p| p.room == room)
            .map(|p| p.id)
            .collect();
        for id in ids {
            self.fail(id, DownReason::Closed);
        }
        self.settle(now);
    }

    /// Closes every peer (the loop is stopping).
    pub(crate) fn close_all(&mut self, now: Instant) {
        let ids: Vec<PeerId> = self.peers.keys().copied().collect();
        for id in ids {
            self.fail(id, DownReason::Closed);
        }
        self.settle(now);
    }

    /// The counters (`send_drops` is the loop's to fill in).
    pub(crate) fn stats(&self) -> SfuStats {
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
            send_drops: 0,
        }
    }

    /// Feeds due timeouts and enforces the SFU's own deadlines, for the
    /// peers whose wake-up on the timer heap has come (no scan of all peers).
    pub(crate) fn handle_timeout(&mut self, now: Instant) {
        let connect_timeout = self.connect_timeout;
        let ice_timeout = self.tuning.ice_timeout;
        let media_stall = self.tuning.media_stall;
        // Take the due entries first: what they reschedule (possibly for
        // `now` again) waits for the next call, so the loop reads the clock
        // and serves the socket in between.
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
                peer.handle_input(Input::Timeout(now), &mut self.out, &mut notes);
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
                    self.events.push_back(SfuEvent::PublisherStalled {
                        room: peer.room.clone(),
                        peer: id,
                    });
                }
            }
            self.queue(id, notes);
            self.send_due_keyframe_requests(id, now);
        }
        self.due = due;
        self.settle(now);
    }

    /// Marks a peer to be removed (the first reason wins).
    fn fail(&mut self, id: PeerId, reason: DownReason) {
        if let Some(peer) = self.peers.get_mut(&id) {
            peer.fail(reason);
            self.dying.push(id);
        }
    }

    /// Acts on queued notes and removes dead peers until nothing is left.
    fn settle(&mut self, now: Instant) {
        loop {
            self.process_work(now);
            if !self.reap() {
                break;
            }
        }
    }

    /// Files a drained peer's notes and its next wake-up (or its removal).
    fn queue(&mut self, id: PeerId, notes: Vec<Note>) {
        self.work.extend(notes.into_iter().map(|n| (id, n)));
        self.schedule(id);
    }

    /// Puts the peer's next wake-up on the timer heap, unless an earlier
    /// one is already there (that one will reschedule it when it fires).
    /// A peer found down is filed for removal instead.
    fn schedule(&mut self, id: PeerId) {
        let Some(peer) = self.peers.get_mut(&id) else {
            return;
        };
        if peer.down.is_some() {
            self.dying.push(id);
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

    fn process_work(&mut self, now: Instant) {
        while let Some((id, note)) = self.work.pop_front() {
            match note {
                Note::Connected => self.on_connected(id, now),
                Note::MediaAdded { mid, kind } => self.on_media_added(id, mid, kind),
                Note::Rtp(packet) => self.forward(id, *packet, now),
                Note::KeyframeRequest(req) => self.on_keyframe_request(id, req.mid, now),
            }
        }
    }

    fn on_connected(&mut self, id: PeerId, now: Instant) {
        let Some(peer) = self.peers.get(&id) else {
            return;
        };
        let room = peer.room.clone();
        let role = peer.role;
        let upstream = peer.upstream;
        let relay = peer.relay;
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
        self.events.push_back(event);
        match role {
            // A new viewer needs a keyframe to start decoding.
            // (Another SFU's upstream asks itself, once its viewers are
            // there: a request now would only use up the throttle window
            // that their request then waits for.)
            Role::Subscriber if !relay => self.request_keyframe(&room, MediaKind::Video, now),
            Role::Subscriber => {}
            // A (replacing) publisher: viewers already waiting need one.
            Role::Publisher => {
                let watching = self.rooms.get(&room).is_some_and(|r| {
                    r.subscribers
                        .iter()
                        .any(|s| self.peers.get(s).is_some_and(|p| p.connected))
                });
                if watching {
                    self.request_keyframe(&room, MediaKind::Video, now);
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
    fn on_keyframe_request(&mut self, id: PeerId, mid: Mid, now: Instant) {
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
        self.request_keyframe(&room, kind, now);
    }

    /// Asks the room's publisher for a keyframe on its `kind` track,
    /// throttled; a request inside the window is sent when it ends.
    fn request_keyframe(&mut self, room: &str, kind: MediaKind, now: Instant) {
        if !kind.is_video() {
            return;
        }
        let Some(publisher) = self.rooms.get(room).and_then(|r| r.publisher) else {
            return;
        };
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
        peer.mutate(&mut self.out, &mut notes, |rtc| {
            if let Some(stream) = rtc.direct_api().stream_rx(&ssrc) {
                stream.request_keyframe(KeyframeRequestKind::Pli);
            }
        });
        self.queue(id, notes);
    }

    /// Forwards one publisher packet to every connected subscriber of its room.
    fn forward(&mut self, id: PeerId, packet: RtpPacket, now: Instant) {
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
                self.events.push_back(SfuEvent::PublisherResumed {
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
            self.send_due_keyframe_requests(id, now);
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
            sub.mutate(&mut self.out, &mut notes, |rtc| {
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
        }
        if let Some(room_entry) = self.rooms.get_mut(&room) {
            // Nothing adds subscribers while forwarding, but keep any that did.
            let added = std::mem::replace(&mut room_entry.subscribers, subscribers);
            room_entry.subscribers.extend(added);
        }
    }

    /// Removes the peers marked down and reports them. Returns whether any
    /// went.
    fn reap(&mut self) -> bool {
        if self.dying.is_empty() {
            return false;
        }
        let mut any = false;
        let dying = std::mem::take(&mut self.dying);
        for id in &dying {
            // Only peers marked down are filed; one filed twice is gone
            // the second time.
            let Some(mut peer) = self.peers.remove(id) else {
                continue;
            };
            debug_assert!(peer.down.is_some());
            any = true;
            let reason = peer.down.unwrap_or(DownReason::Failed);
            if matches!(
                reason,
                DownReason::Closed | DownReason::Replaced | DownReason::Timeout
            ) {
                peer.close(&mut self.out);
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
            self.events.push_back(event);
        }
        if any {
            self.work.retain(|(id, _)| self.peers.contains_key(id));
        }
        // Nothing above files more; keep the vector's capacity.
        let mut dying = dying;
        dying.clear();
        self.dying = dying;
        any
    }
}
