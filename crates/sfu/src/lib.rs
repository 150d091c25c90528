//! StreamShare's media plane: a selective forwarding unit (SFU) on
//! [`str0m`], the sans-IO WebRTC library.
//!
//! The SFU knows rooms (opaque strings), one publisher per room and any
//! number of subscribers; it knows nothing of users, coins or tokens. The
//! control plane checks access first and then asks the SFU, through the
//! cloneable [`Sfu`] handle, to accept a publisher offer or to create a
//! subscriber. The SFU reports peers coming up and going down as
//! [`SfuEvent`]s on a channel.
//!
//! One tokio task (per shard, see [`SfuTuning::shards`]) owns a UDP socket
//! and every [`str0m::Rtc`] of its rooms
//! (ICE-lite, host candidates for the configured public IPs). Media is
//! forwarded as RTP without depacketizing (str0m's RTP mode): the publisher's
//! payload types are mapped by codec to each subscriber's negotiated ones,
//! and sequence numbers and timestamps are rebased per subscriber only when
//! the source changes (a replaced publisher), so viewers keep one continuous
//! stream without renegotiation. Keyframe requests (a new viewer, or a
//! viewer's own PLI/FIR) go back to the publisher, throttled per video track
//! without ever being dropped.
//!
//! ICE after the offer/answer: [`Sfu::patch_ice`] takes a client's RFC
//! 8840 trickle fragment ([`IceFragment`]) for a peer made from its offer.
//! Candidates for the current ICE credentials are added; new credentials
//! are an ICE restart (a client that changed networks), done the way str0m
//! does one, by applying the client's offer again with only its ICE lines
//! changed: str0m then restarts ICE with fresh local credentials, media
//! and DTLS stay, and the SFU's new credentials go back to the client.
//!
//! Upstreams (a cascade between SFUs): [`Sfu::open_upstream`] makes a
//! peer that pulls a room's media from another SFU (the room's origin)
//! the way a WHEP viewer would, with this SFU as the offerer: recvonly
//! audio and video, full ICE (the origin is ICE-lite, and two ICE-lite
//! agents cannot meet), and a UDP socket of its own, because two
//! connections between the same two SFU sockets would share one 5-tuple
//! and could not be told apart. Once connected, the upstream is the
//! room's publisher inside this SFU: its packets are forwarded to the
//! room's subscribers and their keyframe requests go up to the origin. It
//! is reported with its own events ([`SfuEvent::UpstreamUp`],
//! [`SfuEvent::UpstreamDown`]), never as a publisher, and a local
//! publisher of the room replaces it. At the origin, the upstream is a
//! subscriber made with [`Sfu::subscribe_relay`], which asks the publisher
//! for no keyframe when it connects: the upstream asks (at once, to the
//! stream the origin's answer declared) when its own viewers need one. How the offer reaches the origin
//! (HTTP, credentials) is the caller's business.
//!
//! Crypto: str0m's `aws-lc-rs` backend. str0m 0.25's `rust-crypto` feature
//! needs `str0m-rust-crypto` 0.7, which the crates.io registry does not
//! have (only 0.6, built for str0m 0.24); aws-lc-sys builds with the C
//! compiler only (no cmake), about four minutes once on two cores.
//!
//! Sans-IO inside, I/O at the edge: `core` holds a shard's peers and
//! rooms and does all the forwarding with time, datagrams and commands
//! passed in as values (no sockets, no clock, no tasks), and gives back
//! datagrams, its next wake-up and events; `engine` is the thin tokio loop
//! around it that owns the sockets, the clock, the command and event
//! channels and the outbox. The core's unit tests run str0m peers against
//! it on synthetic time, without UDP.
//!
//! Modules: `core` forwards (sans-IO), `engine` runs the loop, `peer`
//! wraps one `Rtc`, `forward` rewrites RTP for one subscriber track,
//! `keyframe` throttles keyframe requests, `outbox` sends the core's
//! datagrams in batches (`sendmmsg`), `sdp` bounds and parses SDP (all
//! private), and `testing` (feature `testing`) is a str0m-based client
//! peer for tests.

#![warn(missing_docs)]

mod core;
mod engine;
mod forward;
mod keyframe;
mod outbox;
mod peer;

pub use outbox::grow_socket_buffers;
mod sdp;

#[cfg(any(test, feature = "testing"))]
mod sample;

#[cfg(feature = "testing")]
pub mod testing;

use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use str0m::Rtc;
use tokio::sync::{mpsc, oneshot};

use crate::core::NewPeer;
use crate::engine::Command;

/// Runs an SDP offer through what `publish` does with it (size bound,
/// parse, negotiation with the SFU's codecs) without a socket: for fuzzing
/// and for callers that want to check an offer early. Returns the answer.
pub fn answer_offer_offline(offer_sdp: &str) -> Result<String, SfuError> {
    let candidates = [SocketAddr::from(([127, 0, 0, 1], 9))];
    sdp::accept_client_offer(&candidates, offer_sdp, Instant::now()).map(|(_, answer)| answer)
}

/// Largest SDP (offer or answer) the SFU accepts, in bytes.
pub const MAX_SDP_BYTES: usize = 32 * 1024;

/// Where the SFU listens and what it announces.
#[derive(Debug, Clone)]
pub struct SfuConfig {
    /// Address the UDP socket binds to (port 0 picks a free port; shard i
    /// binds this port + i).
    pub bind: SocketAddr,
    /// IPs announced as host candidates (with the socket's port). When
    /// empty, the bind IP is announced (it must then not be unspecified).
    pub public_ips: Vec<IpAddr>,
    /// A peer that is not connected (ICE + DTLS) this long after it was
    /// created is dropped with [`DownReason::Timeout`].
    pub connect_timeout: Duration,
}

/// Knobs with sensible defaults; tests shorten them.
#[derive(Debug, Clone)]
pub struct SfuTuning {
    /// A connected peer from which nothing (STUN, RTP, RTCP) arrived for
    /// this long is dropped with [`DownReason::IceTimeout`]. Browsers send
    /// consent checks every few seconds; str0m's own ICE-lite timeout is 15 s.
    pub ice_timeout: Duration,
    /// Minimum interval between two keyframe requests sent to one publisher
    /// video track. A request inside the window is sent when it ends.
    pub keyframe_throttle: Duration,
    /// Forwarding loops, each with its own UDP socket (consecutive ports)
    /// and task; rooms are spread over them by name. One loop forwards on
    /// one core at a time, so a machine whose rooms outgrow a core wants
    /// about one shard per core.
    pub shards: usize,
    /// A connected publisher that sent media and then none for this long is
    /// reported stalled ([`SfuEvent::PublisherStalled`]); its next packet
    /// reports it resumed.
    pub media_stall: Duration,
}

impl Default for SfuTuning {
    fn default() -> Self {
        Self {
            ice_timeout: Duration::from_secs(15),
            keyframe_throttle: Duration::from_millis(500),
            shards: 1,
            media_stall: Duration::from_secs(3),
        }
    }
}

/// Identifies one peer connection (publisher or subscriber) in the SFU.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PeerId(pub u64);

impl fmt::Display for PeerId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "peer-{}", self.0)
    }
}

/// What the SFU tells the control plane.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SfuEvent {
    /// A publisher's ICE and DTLS are connected; media may flow.
    PublisherUp {
        /// The room it publishes to.
        room: String,
        /// The publisher's peer.
        peer: PeerId,
    },
    /// A publisher is gone (reported once per publisher, whether or not it
    /// ever came up).
    PublisherDown {
        /// The room it published to.
        room: String,
        /// The publisher's peer.
        peer: PeerId,
        /// Why it went down.
        reason: DownReason,
    },
    /// A connected publisher sent no RTP for [`SfuTuning::media_stall`]
    /// (a frozen camera, a tab in the background, a network going bad):
    /// it is still connected, but viewers see nothing.
    PublisherStalled {
        /// The room it publishes to.
        room: String,
        /// The publisher's peer.
        peer: PeerId,
    },
    /// A stalled publisher's media flows again.
    PublisherResumed {
        /// The room it publishes to.
        room: String,
        /// The publisher's peer.
        peer: PeerId,
    },
    /// An upstream ([`Sfu::open_upstream`]) is connected to its origin;
    /// the origin's media flows into the room.
    UpstreamUp {
        /// The room it feeds.
        room: String,
        /// The upstream's peer.
        peer: PeerId,
    },
    /// An upstream is gone (reported once per upstream, whether or not it
    /// ever came up): the origin hung up or went silent, the control plane
    /// closed it, or a local publisher replaced it.
    UpstreamDown {
        /// The room it fed.
        room: String,
        /// The upstream's peer.
        peer: PeerId,
        /// Why it went down.
        reason: DownReason,
    },
    /// A subscriber's ICE and DTLS are connected.
    SubscriberUp {
        /// The room it watches.
        room: String,
        /// The subscriber's peer.
        peer: PeerId,
    },
    /// A subscriber is gone (reported once per subscriber, whether or not
    /// it ever came up).
    SubscriberDown {
        /// The room it watched.
        room: String,
        /// The subscriber's peer.
        peer: PeerId,
        /// Why it went down.
        reason: DownReason,
    },
}

/// Why a peer went down.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DownReason {
    /// The control plane closed it ([`Sfu::close_peer`] or [`Sfu::close_room`]).
    Closed,
    /// A new publisher took over the room.
    Replaced,
    /// ICE disconnected: nothing heard from the peer for too long.
    IceTimeout,
    /// The peer closed DTLS (it hung up).
    DtlsClosed,
    /// It never connected within [`SfuConfig::connect_timeout`].
    Timeout,
    /// str0m reported an error for this peer.
    Failed,
}

/// Errors of the [`Sfu`] handle's calls.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SfuError {
    /// The SDP could not be parsed or was refused (the text says why).
    #[error("invalid SDP: {0}")]
    InvalidSdp(String),
    /// The SDP is larger than [`MAX_SDP_BYTES`].
    #[error("SDP larger than {MAX_SDP_BYTES} bytes")]
    SdpTooLarge,
    /// No such peer (never existed, or already gone).
    #[error("unknown peer")]
    UnknownPeer,
    /// The peer exists but expects no answer now (not a subscriber with an
    /// offer outstanding).
    #[error("no offer is pending for this peer")]
    NoPendingOffer,
    /// The peer was not made from a client's offer (WHIP, WHEP or a
    /// publish), so there is no offer to restart ICE against.
    #[error("this peer cannot restart ICE")]
    NoRemoteOffer,
    /// The SFU loop has stopped.
    #[error("the SFU has stopped")]
    Stopped,
    /// A socket for an upstream could not be opened.
    #[error("no socket for the upstream: {0}")]
    Socket(String),
}

/// An RFC 8840 `application/trickle-ice-sdpfrag` body: what WHIP and WHEP
/// clients send in a `PATCH` (RFC 9725 §4.3) and what the SFU answers to
/// an ICE restart. Only the ICE parts matter: with BUNDLE every m-line
/// shares one transport, so candidates of all m-lines are taken together.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IceFragment {
    /// `a=ice-ufrag`: the ICE generation the candidates belong to.
    pub ufrag: String,
    /// `a=ice-pwd`.
    pub pwd: String,
    /// The first m-line's media type and `a=mid`, under which the
    /// candidates are written (RFC 8840 §9).
    pub media: Option<(String, String)>,
    /// Candidate attributes without the `a=` (`candidate:...`).
    pub candidates: Vec<String>,
    /// `a=end-of-candidates` was present: no more candidates follow.
    pub end_of_candidates: bool,
}

/// What [`Sfu::patch_ice`] did with a client's fragment.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IcePatch {
    /// The fragment carries the peer's current credentials: its candidates
    /// were added (trickle ICE, RFC 8838).
    Trickled,
    /// The fragment carries new credentials: ICE restarted with them, media
    /// and DTLS kept. Holds the SFU's new credentials and candidates for
    /// the client.
    Restarted(IceFragment),
}

/// Counters for metrics and benchmarks.
#[derive(Debug, Clone, Default)]
pub struct SfuStats {
    /// Peers alive (publishers + subscribers).
    pub peers: usize,
    /// Publishers alive.
    pub publishers: usize,
    /// Subscribers alive.
    pub subscribers: usize,
    /// Upstreams alive (pulling a room from another SFU; not counted as
    /// publishers).
    pub upstreams: usize,
    /// RTP packets received from publishers since start.
    pub packets_in: u64,
    /// RTP packets forwarded to subscribers since start.
    pub packets_out: u64,
    /// RTP payload bytes forwarded to subscribers since start.
    pub bytes_out: u64,
    /// Outgoing datagrams the kernel refused (full send buffer, unreachable
    /// destination) since start.
    pub send_drops: u64,
}

/// Handle to a running SFU; cheap to clone. The loops stop when the last
/// handle is dropped.
#[derive(Clone)]
pub struct Sfu {
    inner: Arc<Shared>,
}

/// What every handle shares: the shards and peer id allocation.
struct Shared {
    shards: Vec<Shard>,
    next_peer: AtomicU64,
}

/// One loop: its socket's address, its candidates and its command channel.
/// A room lives on one shard (chosen by hashing its name), so all of a
/// room's forwarding happens in one loop and rooms spread over cores.
struct Shard {
    commands: mpsc::UnboundedSender<Command>,
    local_addr: SocketAddr,
    candidates: Vec<SocketAddr>,
}

impl fmt::Debug for Sfu {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sfu")
            .field("local_addrs", &self.local_addrs())
            .finish_non_exhaustive()
    }
}

impl Sfu {
    /// Binds the UDP socket and spawns the loop on the current tokio runtime
    /// (one task owns the socket and every `Rtc`).
    pub async fn start(
        config: SfuConfig,
    ) -> std::io::Result<(Sfu, mpsc::UnboundedReceiver<SfuEvent>)> {
        Self::start_tuned(config, SfuTuning::default()).await
    }

    /// [`Sfu::start`] with non-default [`SfuTuning`]: with
    /// [`SfuTuning::shards`] above one, one loop (task, UDP socket) per
    /// shard, on consecutive ports from the bind port (any free ports when
    /// it is 0).
    pub async fn start_tuned(
        config: SfuConfig,
        tuning: SfuTuning,
    ) -> std::io::Result<(Sfu, mpsc::UnboundedReceiver<SfuEvent>)> {
        let (events, event_rx) = mpsc::unbounded_channel();
        let count = tuning.shards.max(1);
        let mut shards = Vec::with_capacity(count);
        for i in 0..count {
            let mut bind = config.bind;
            if bind.port() != 0 {
                let port = u16::try_from(usize::from(bind.port()) + i).map_err(|_| {
                    std::io::Error::new(
                        std::io::ErrorKind::InvalidInput,
                        "not enough UDP ports above the bind port for every shard",
                    )
                })?;
                bind.set_port(port);
            }
            let socket = tokio::net::UdpSocket::bind(bind).await?;
            grow_socket_buffers(&socket, outbox::SOCKET_BUFFER);
            let local_addr = socket.local_addr()?;
            let candidates = candidate_addrs(&config, local_addr)?;
            let (commands, command_rx) = mpsc::unbounded_channel();
            engine::spawn(
                socket,
                candidates.clone(),
                config.connect_timeout,
                tuning.clone(),
                command_rx,
                events.clone(),
            );
            shards.push(Shard {
                commands,
                local_addr,
                candidates,
            });
        }
        let sfu = Sfu {
            inner: Arc::new(Shared {
                shards,
                next_peer: AtomicU64::new(1),
            }),
        };
        Ok((sfu, event_rx))
    }

    /// The first shard's UDP socket address.
    pub fn local_addr(&self) -> SocketAddr {
        self.inner.shards[0].local_addr
    }

    /// Every shard's UDP socket address.
    pub fn local_addrs(&self) -> Vec<SocketAddr> {
        self.inner.shards.iter().map(|s| s.local_addr).collect()
    }

    /// Publisher: client offer in, answer out. Replaces an existing
    /// publisher of the room (reported Down with [`DownReason::Replaced`]).
    pub async fn publish(&self, room: &str, offer_sdp: &str) -> Result<(PeerId, String), SfuError> {
        self.answer_client(room, offer_sdp, |peer, rtc| {
            NewPeer::publisher(peer, room, rtc)
        })
        .await
    }

    /// Subscriber, server-offers flavour (Socket.IO `media:view`): returns
    /// the SFU's offer (one sendonly audio and one sendonly video m-line).
    pub async fn subscribe(&self, room: &str) -> Result<(PeerId, String), SfuError> {
        let shard = self.shard_for(room);
        let mut rtc = sdp::new_rtc(&self.inner.shards[shard].candidates, Instant::now());
        let sdp::SubscriberOffer {
            offer,
            pending,
            mids,
        } = sdp::subscriber_offer(&mut rtc)?;
        let peer = self.next_peer_id(shard);
        self.add_peer(
            NewPeer::subscriber(peer, room, rtc, Some(pending), mids),
            None,
        )
        .await?;
        Ok((peer, offer.to_sdp_string()))
    }

    /// The subscriber's answer to [`Sfu::subscribe`]'s offer.
    pub async fn accept_answer(&self, peer: PeerId, answer_sdp: &str) -> Result<(), SfuError> {
        let answer = sdp::parse_answer(answer_sdp)?;
        let (reply, rx) = oneshot::channel();
        self.send(
            self.shard_of(peer),
            Command::AcceptAnswer {
                peer,
                answer,
                reply,
            },
        )?;
        rx.await.map_err(|_| SfuError::Stopped)?
    }

    /// Subscriber, client-offers flavour (WHEP): client offer (recvonly
    /// audio and video) in, answer out.
    pub async fn subscribe_with_offer(
        &self,
        room: &str,
        offer_sdp: &str,
    ) -> Result<(PeerId, String), SfuError> {
        self.answer_client(room, offer_sdp, |peer, rtc| {
            NewPeer::subscriber(peer, room, rtc, None, Vec::new())
        })
        .await
    }

    /// Upstream: a peer that pulls `room` from another SFU (its origin),
    /// with this SFU as the offerer. Returns the offer (recvonly audio and
    /// video, full ICE, host candidates on a UDP socket of the upstream's
    /// own); hand it to the origin (for this SFU, [`Sfu::subscribe_relay`],
    /// or any WHEP-style answerer) and complete it with
    /// [`Sfu::upstream_answer`]. The upstream becomes the room's publisher
    /// here, replacing any other; a later local publisher replaces it.
    pub async fn open_upstream(&self, room: &str) -> Result<(PeerId, String), SfuError> {
        let shard = self.shard_for(room);
        let shard_addr = self.inner.shards[shard].local_addr;
        let bind = SocketAddr::new(shard_addr.ip(), 0);
        let socket = tokio::net::UdpSocket::bind(bind)
            .await
            .map_err(|e| SfuError::Socket(e.to_string()))?;
        let port = socket
            .local_addr()
            .map_err(|e| SfuError::Socket(e.to_string()))?
            .port();
        let candidates: Vec<SocketAddr> = self.inner.shards[shard]
            .candidates
            .iter()
            .map(|c| SocketAddr::new(c.ip(), port))
            .collect();
        let mut rtc = sdp::new_upstream_rtc(&candidates, Instant::now());
        let sdp::SubscriberOffer {
            offer,
            pending,
            mids,
        } = sdp::upstream_offer(&mut rtc)?;
        let peer = self.next_peer_id(shard);
        self.add_peer(
            NewPeer::upstream(peer, room, rtc, pending, mids),
            Some((socket, candidates)),
        )
        .await?;
        Ok((peer, offer.to_sdp_string()))
    }

    /// The origin's answer to [`Sfu::open_upstream`]'s offer. A refused
    /// answer closes the upstream (reported down).
    pub async fn upstream_answer(&self, peer: PeerId, answer_sdp: &str) -> Result<(), SfuError> {
        self.accept_answer(peer, answer_sdp).await
    }

    /// Subscriber for another SFU's upstream ([`Sfu::open_upstream`] there):
    /// its offer in, the answer out, like [`Sfu::subscribe_with_offer`],
    /// except that its connecting asks the publisher for no keyframe (the
    /// other SFU asks when its own viewers need one; an early request
    /// would only use up the throttle window theirs then waits for).
    pub async fn subscribe_relay(
        &self,
        room: &str,
        offer_sdp: &str,
    ) -> Result<(PeerId, String), SfuError> {
        self.answer_client(room, offer_sdp, |peer, rtc| {
            let mut new = NewPeer::subscriber(peer, room, rtc, None, Vec::new());
            new.relay = true;
            new
        })
        .await
    }

    /// A client's offer accepted on the room's shard: the new peer (made
    /// by `make`) is added and the SFU's answer returned.
    async fn answer_client(
        &self,
        room: &str,
        offer_sdp: &str,
        make: impl FnOnce(PeerId, Rtc) -> NewPeer,
    ) -> Result<(PeerId, String), SfuError> {
        let shard = self.shard_for(room);
        let candidates = &self.inner.shards[shard].candidates;
        let (rtc, answer) = sdp::accept_client_offer(candidates, offer_sdp, Instant::now())?;
        let peer = self.next_peer_id(shard);
        let mut new = make(peer, rtc);
        // Kept for ICE restarts, which are answered as a re-offer.
        new.remote_offer = Some(offer_sdp.to_owned());
        self.add_peer(new, None).await?;
        Ok((peer, answer))
    }

    /// Applies a client's trickle-ICE fragment to a peer made from its
    /// offer: the same credentials add candidates; new ones restart ICE
    /// (the SFU answers with new credentials of its own, as an answerer
    /// does to an ICE-restart offer, RFC 8839 §4.4.1.1.1), so a client that
    /// changed networks reconnects without a new session.
    pub async fn patch_ice(
        &self,
        peer: PeerId,
        fragment: IceFragment,
    ) -> Result<IcePatch, SfuError> {
        let (reply, rx) = oneshot::channel();
        self.send(
            self.shard_of(peer),
            Command::PatchIce {
                peer,
                fragment,
                reply,
            },
        )?;
        rx.await.map_err(|_| SfuError::Stopped)?
    }

    /// Closes one peer (reported as Down with reason [`DownReason::Closed`]).
    /// Unknown peers are ignored.
    pub async fn close_peer(&self, peer: PeerId) {
        let (reply, rx) = oneshot::channel();
        if self
            .send(self.shard_of(peer), Command::ClosePeer { peer, reply })
            .is_ok()
        {
            let _ = rx.await;
        }
    }

    /// Closes every peer of a room (session ended), each reported Down with
    /// reason [`DownReason::Closed`].
    pub async fn close_room(&self, room: &str) {
        let (reply, rx) = oneshot::channel();
        let shard = self.shard_for(room);
        let room = room.to_owned();
        if self.send(shard, Command::CloseRoom { room, reply }).is_ok() {
            let _ = rx.await;
        }
    }

    /// Current counters, summed over the shards; all zero once the loops
    /// have stopped.
    pub async fn stats(&self) -> SfuStats {
        let mut total = SfuStats::default();
        for s in self.shard_stats().await {
            total.peers += s.peers;
            total.publishers += s.publishers;
            total.subscribers += s.subscribers;
            total.upstreams += s.upstreams;
            total.packets_in += s.packets_in;
            total.packets_out += s.packets_out;
            total.bytes_out += s.bytes_out;
            total.send_drops += s.send_drops;
        }
        total
    }

    /// Current counters of each shard, in shard order (index = shard); a
    /// stopped loop's are all zero.
    pub async fn shard_stats(&self) -> Vec<SfuStats> {
        let mut all = Vec::with_capacity(self.inner.shards.len());
        for shard in 0..self.inner.shards.len() {
            let (reply, rx) = oneshot::channel();
            let answer = match self.send(shard, Command::Stats { reply }) {
                Ok(()) => rx.await.ok(),
                Err(_) => None,
            };
            all.push(answer.unwrap_or_default());
        }
        all
    }

    /// The shard that owns `room`.
    fn shard_for(&self, room: &str) -> usize {
        let count = self.inner.shards.len();
        if count == 1 {
            return 0;
        }
        // FNV-1a: stable and cheap; rooms only need spreading.
        let hash = room.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
        });
        (hash % count as u64) as usize
    }

    /// The shard a peer lives on (encoded in its id).
    fn shard_of(&self, peer: PeerId) -> usize {
        (peer.0 % self.inner.shards.len() as u64) as usize
    }

    fn next_peer_id(&self, shard: usize) -> PeerId {
        let n = self.inner.next_peer.fetch_add(1, Ordering::Relaxed);
        PeerId(n * self.inner.shards.len() as u64 + shard as u64)
    }

    /// Hands a prepared peer to its shard's loop (an upstream with its
    /// own socket and that socket's candidates).
    async fn add_peer(
        &self,
        peer: NewPeer,
        socket: Option<(tokio::net::UdpSocket, Vec<SocketAddr>)>,
    ) -> Result<(), SfuError> {
        let shard = self.shard_of(peer.id());
        let (reply, rx) = oneshot::channel();
        self.send(
            shard,
            Command::AddPeer {
                peer: Box::new(peer),
                socket,
                reply,
            },
        )?;
        rx.await.map_err(|_| SfuError::Stopped)
    }

    fn send(&self, shard: usize, command: Command) -> Result<(), SfuError> {
        self.inner.shards[shard]
            .commands
            .send(command)
            .map_err(|_| SfuError::Stopped)
    }
}

/// The host candidates: every public IP with the socket's port, or the bind
/// address itself when no public IP is configured.
fn candidate_addrs(config: &SfuConfig, local: SocketAddr) -> std::io::Result<Vec<SocketAddr>> {
    if config.public_ips.is_empty() {
        if local.ip().is_unspecified() {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                "the SFU binds an unspecified address: configure at least one public IP",
            ));
        }
        return Ok(vec![local]);
    }
    Ok(config
        .public_ips
        .iter()
        .map(|ip| SocketAddr::new(*ip, local.port()))
        .collect())
}
