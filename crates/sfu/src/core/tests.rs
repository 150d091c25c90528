//! The core on synthetic time: str0m client peers (frame mode, full ICE,
//! like a browser) and one or two cores exchange datagrams in memory
//! through a zero-latency network, and a fake clock advances in 1 ms
//! steps. No sockets, no sleeping: every run is deterministic, so the
//! keyframe throttle and the timeouts are checked to the millisecond.

use std::collections::{HashMap, VecDeque};

use str0m::format::Codec;
use str0m::media::{Direction, Frequency, MediaTime};
use str0m::{Candidate, Event, Output};

use super::*;
use crate::sample::{opus_frame, vp8_frame};

const STEP: Duration = Duration::from_millis(1);
const AUDIO_EVERY: Duration = Duration::from_millis(20);
const VIDEO_EVERY: Duration = Duration::from_micros(33_333);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
const ICE_TIMEOUT: Duration = Duration::from_secs(4);
const THROTTLE: Duration = Duration::from_millis(500);

fn tuning() -> SfuTuning {
    SfuTuning {
        ice_timeout: ICE_TIMEOUT,
        keyframe_throttle: THROTTLE,
        ..SfuTuning::default()
    }
}

/// Where a datagram sent to an address lands.
#[derive(Clone, Copy)]
enum Node {
    Client(usize),
    Core(usize, Via),
}

#[derive(Clone, Copy)]
enum ClientRole {
    /// Sends audio and video on these m-lines.
    Publisher { audio: Mid, video: Mid },
    /// Receives; asks for keyframes on its video m-line once known.
    Subscriber { video: Option<Mid> },
}

/// A client peer, as a browser tab would be.
struct Client {
    rtc: Rtc,
    role: ClientRole,
    /// Still driven and reachable (false: it vanished).
    alive: bool,
    connected: bool,
    audio_frames: u64,
    video_frames: u64,
    keyframes: u64,
    /// Keyframe requests received while publishing.
    keyframe_requests: u64,
    /// When it last sent a datagram.
    last_sent: Option<Instant>,
    force_keyframe: bool,
    frames_sent: u64,
    audio_sent: u64,
    next_audio: Option<Instant>,
    next_video: Option<Instant>,
}

struct Net {
    now: Instant,
    cores: Vec<Core>,
    /// Every event each core reported, in order.
    events: Vec<Vec<SfuEvent>>,
    clients: Vec<Client>,
    nodes: HashMap<SocketAddr, Node>,
    upstream_addrs: HashMap<PeerId, SocketAddr>,
    /// Datagrams in flight: (from, to, data).
    wire: VecDeque<(SocketAddr, SocketAddr, Vec<u8>)>,
    next_peer: u64,
}

fn shard_addr(core: usize) -> SocketAddr {
    SocketAddr::from(([10, 0, core as u8, 1], 3478))
}

impl Net {
    fn new(cores: usize) -> Self {
        let mut nodes = HashMap::new();
        for c in 0..cores {
            nodes.insert(shard_addr(c), Node::Core(c, Via::Shard));
        }
        Self {
            now: Instant::now(),
            cores: (0..cores)
                .map(|_| Core::new(CONNECT_TIMEOUT, tuning()))
                .collect(),
            events: vec![Vec::new(); cores],
            clients: Vec::new(),
            nodes,
            upstream_addrs: HashMap::new(),
            wire: VecDeque::new(),
            next_peer: 1,
        }
    }

    fn peer_id(&mut self) -> PeerId {
        self.next_peer += 1;
        PeerId(self.next_peer)
    }

    /// A client Rtc on a fresh address, not yet in the network.
    fn client_rtc(&mut self) -> (Rtc, SocketAddr) {
        let n = self.clients.len() as u16;
        let addr = SocketAddr::from(([10, 9, 0, 2], 5000 + n));
        let mut rtc = Rtc::builder().build(self.now);
        rtc.add_local_candidate(Candidate::host(addr, "udp").unwrap());
        (rtc, addr)
    }

    fn add_client(&mut self, rtc: Rtc, addr: SocketAddr, role: ClientRole) -> usize {
        let i = self.clients.len();
        self.clients.push(Client {
            rtc,
            role,
            alive: true,
            connected: false,
            audio_frames: 0,
            video_frames: 0,
            keyframes: 0,
            keyframe_requests: 0,
            last_sent: None,
            force_keyframe: false,
            frames_sent: 0,
            audio_sent: 0,
            next_audio: None,
            next_video: None,
        });
        self.nodes.insert(addr, Node::Client(i));
        i
    }

    /// A publisher offering sendonly audio and video to `core`'s `room`.
    fn publish(&mut self, core: usize, room: &str) -> (PeerId, usize) {
        let (mut rtc, addr) = self.client_rtc();
        let mut change = rtc.sdp_api();
        let audio = change.add_media(MediaKind::Audio, Direction::SendOnly, None, None, None);
        let video = change.add_media(MediaKind::Video, Direction::SendOnly, None, None, None);
        let (offer, pending) = change.apply().unwrap();
        let offer = offer.to_sdp_string();
        let (sfu_rtc, answer) =
            sdp::accept_client_offer(&[shard_addr(core)], &offer, self.now).unwrap();
        let id = self.peer_id();
        let mut new = NewPeer::publisher(id, room, sfu_rtc);
        new.remote_offer = Some(offer);
        self.cores[core].add_peer(self.now, new);
        let answer = sdp::parse_answer(&answer).unwrap();
        rtc.sdp_api().accept_answer(pending, answer).unwrap();
        let i = self.add_client(rtc, addr, ClientRole::Publisher { audio, video });
        self.collect(core);
        (id, i)
    }

    /// A subscriber answering `core`'s offer for `room`.
    fn subscribe(&mut self, core: usize, room: &str) -> (PeerId, usize) {
        let (id, offer) = self.offer_subscriber(core, room);
        let (mut rtc, addr) = self.client_rtc();
        let answer = rtc
            .sdp_api()
            .accept_offer(sdp::parse_offer(&offer).unwrap())
            .unwrap();
        let answer = sdp::parse_answer(&answer.to_sdp_string()).unwrap();
        self.cores[core]
            .accept_answer(self.now, id, answer)
            .unwrap();
        self.collect(core);
        let i = self.add_client(rtc, addr, ClientRole::Subscriber { video: None });
        (id, i)
    }

    /// The core's offer to a new subscriber of `room` (the peer exists,
    /// waiting for an answer).
    fn offer_subscriber(&mut self, core: usize, room: &str) -> (PeerId, String) {
        let mut rtc = sdp::new_rtc(&[shard_addr(core)], self.now);
        let sdp::SubscriberOffer {
            offer,
            pending,
            mids,
        } = sdp::subscriber_offer(&mut rtc).unwrap();
        let id = self.peer_id();
        self.cores[core].add_peer(
            self.now,
            NewPeer::subscriber(id, room, rtc, Some(pending), mids),
        );
        self.collect(core);
        (id, offer.to_sdp_string())
    }

    /// An upstream on `edge` pulling `room` from `origin` (which answers
    /// with a relay subscriber), on a socket address of its own.
    fn open_upstream(&mut self, edge: usize, origin: usize, room: &str) -> (PeerId, PeerId) {
        let id = self.peer_id();
        let addr = SocketAddr::from(([10, 0, edge as u8, 1], 40_000 + id.0 as u16));
        let mut rtc = sdp::new_upstream_rtc(&[addr], self.now);
        let sdp::SubscriberOffer {
            offer,
            pending,
            mids,
        } = sdp::upstream_offer(&mut rtc).unwrap();
        self.cores[edge].add_peer(self.now, NewPeer::upstream(id, room, rtc, pending, mids));
        self.nodes.insert(addr, Node::Core(edge, Via::Upstream(id)));
        self.upstream_addrs.insert(id, addr);
        let offer = offer.to_sdp_string();
        let (origin_rtc, answer) =
            sdp::accept_client_offer(&[shard_addr(origin)], &offer, self.now).unwrap();
        let relay = self.peer_id();
        let mut new = NewPeer::subscriber(relay, room, origin_rtc, None, Vec::new());
        new.relay = true;
        new.remote_offer = Some(offer);
        self.cores[origin].add_peer(self.now, new);
        let answer = sdp::parse_answer(&answer).unwrap();
        self.cores[edge]
            .accept_answer(self.now, id, answer)
            .unwrap();
        self.collect(origin);
        self.collect(edge);
        (id, relay)
    }

    /// Advances the clock by `duration`, 1 ms at a time.
    fn run(&mut self, duration: Duration) {
        let end = self.now + duration;
        while self.now < end {
            self.now += STEP;
            self.tick();
        }
    }

    /// Runs until `condition` holds (checked every step), at most `limit`.
    /// Returns how long it took.
    fn run_until(&mut self, limit: Duration, condition: impl Fn(&Net) -> bool) -> Duration {
        let start = self.now;
        while !condition(self) {
            assert!(
                self.now - start < limit,
                "not within {limit:?}: {:?}",
                self.events
            );
            self.now += STEP;
            self.tick();
        }
        self.now - start
    }

    fn tick(&mut self) {
        let now = self.now;
        for i in 0..self.clients.len() {
            if !self.clients[i].alive {
                continue;
            }
            self.send_media(i);
            let _ = self.clients[i].rtc.handle_input(Input::Timeout(now));
            self.drain_client(i);
        }
        for c in 0..self.cores.len() {
            self.cores[c].handle_timeout(now);
            self.collect(c);
        }
        self.deliver();
    }

    /// Delivers datagrams (and whatever they produce) until none are left.
    fn deliver(&mut self) {
        let now = self.now;
        let mut budget = 100_000;
        while let Some((from, to, data)) = self.wire.pop_front() {
            budget -= 1;
            assert!(budget > 0, "datagrams ping-pong forever");
            match self.nodes.get(&to).copied() {
                Some(Node::Client(i)) if self.clients[i].alive => {
                    let Ok(contents) = data.as_slice().try_into() else {
                        continue;
                    };
                    let input = Input::Receive(
                        now,
                        Receive {
                            proto: Protocol::Udp,
                            source: from,
                            destination: to,
                            contents,
                        },
                    );
                    let _ = self.clients[i].rtc.handle_input(input);
                    self.drain_client(i);
                }
                Some(Node::Core(c, via)) => {
                    self.cores[c].handle_datagram(now, via, from, to, &data);
                    self.collect(c);
                }
                _ => {} // Nobody there (any more).
            }
        }
    }

    /// Puts a core's datagrams on the wire and files its events.
    fn collect(&mut self, c: usize) {
        let out = self.cores[c].transmits();
        for (to, data) in out.shard.drain(..) {
            self.wire.push_back((shard_addr(c), to, data));
        }
        for (peer, to, data) in out.upstream.drain(..) {
            self.wire.push_back((self.upstream_addrs[&peer], to, data));
        }
        while let Some(event) = self.cores[c].poll_event() {
            self.events[c].push(event);
        }
    }

    fn drain_client(&mut self, i: usize) {
        loop {
            let client = &mut self.clients[i];
            if !client.rtc.is_alive() {
                return;
            }
            match client.rtc.poll_output() {
                Ok(Output::Timeout(_)) | Err(_) => return,
                Ok(Output::Transmit(t)) => {
                    client.last_sent = Some(self.now);
                    self.wire
                        .push_back((t.source, t.destination, t.contents.into()));
                }
                Ok(Output::Event(event)) => on_client_event(client, event),
            }
        }
    }

    /// A connected publisher writes an audio frame every 20 ms and a video
    /// frame at 30 fps; a keyframe first and whenever asked, never else.
    fn send_media(&mut self, i: usize) {
        let now = self.now;
        let client = &mut self.clients[i];
        let ClientRole::Publisher { audio, video } = client.role else {
            return;
        };
        // Not yet connected, or hung up on (a replaced publisher).
        if !client.connected || !client.rtc.is_alive() {
            return;
        }
        if client.next_audio.is_none_or(|t| now >= t) {
            let n = client.audio_sent;
            client.audio_sent += 1;
            let time = MediaTime::new(n * 960, Frequency::FORTY_EIGHT_KHZ);
            write(
                &mut client.rtc,
                audio,
                Codec::Opus,
                now,
                time,
                opus_frame(n),
            );
            client.next_audio = Some(client.next_audio.unwrap_or(now) + AUDIO_EVERY);
        }
        if client.next_video.is_none_or(|t| now >= t) {
            let n = client.frames_sent;
            client.frames_sent += 1;
            let key = n == 0 || std::mem::take(&mut client.force_keyframe);
            let time = MediaTime::new(n * 3000, Frequency::NINETY_KHZ);
            write(
                &mut client.rtc,
                video,
                Codec::Vp8,
                now,
                time,
                vp8_frame(key, n),
            );
            client.next_video = Some(client.next_video.unwrap_or(now) + VIDEO_EVERY);
        }
    }

    /// A subscriber sends a PLI for its video track.
    fn request_keyframe(&mut self, i: usize) {
        let client = &mut self.clients[i];
        let ClientRole::Subscriber { video: Some(mid) } = client.role else {
            panic!("client {i} has no video to ask for");
        };
        client
            .rtc
            .writer(mid)
            .unwrap()
            .request_keyframe(None, KeyframeRequestKind::Pli)
            .unwrap();
        self.drain_client(i);
        self.deliver();
    }

    fn client(&self, i: usize) -> &Client {
        &self.clients[i]
    }

    fn has_event(&self, core: usize, wanted: impl Fn(&SfuEvent) -> bool) -> bool {
        self.events[core].iter().any(wanted)
    }
}

fn write(rtc: &mut Rtc, mid: Mid, codec: Codec, now: Instant, time: MediaTime, data: Vec<u8>) {
    let writer = rtc.writer(mid).unwrap();
    let pt = writer
        .payload_params()
        .find(|p| p.spec().codec == codec)
        .map(|p| p.pt())
        .unwrap();
    writer.write(pt, now, time, data).unwrap();
}

fn on_client_event(client: &mut Client, event: Event) {
    match event {
        Event::Connected => client.connected = true,
        Event::MediaAdded(added) => {
            if let ClientRole::Subscriber { video: None } = client.role
                && added.kind == MediaKind::Video
            {
                client.role = ClientRole::Subscriber {
                    video: Some(added.mid),
                };
            }
        }
        Event::MediaData(data) => match client.rtc.media(data.mid).map(|m| m.kind()) {
            Some(MediaKind::Audio) => client.audio_frames += 1,
            Some(MediaKind::Video) => {
                client.video_frames += 1;
                if data.is_keyframe() {
                    client.keyframes += 1;
                }
            }
            None => {}
        },
        Event::KeyframeRequest(_) => {
            client.keyframe_requests += 1;
            client.force_keyframe = true;
        }
        _ => {}
    }
}

fn up(peer: PeerId) -> impl Fn(&SfuEvent) -> bool {
    move |e| {
        matches!(e,
            SfuEvent::PublisherUp { peer: p, .. }
            | SfuEvent::SubscriberUp { peer: p, .. }
            | SfuEvent::UpstreamUp { peer: p, .. } if *p == peer)
    }
}

fn down(peer: PeerId) -> impl Fn(&SfuEvent) -> Option<DownReason> {
    move |e| match e {
        SfuEvent::PublisherDown {
            peer: p, reason, ..
        }
        | SfuEvent::SubscriberDown {
            peer: p, reason, ..
        }
        | SfuEvent::UpstreamDown {
            peer: p, reason, ..
        } if *p == peer => Some(*reason),
        _ => None,
    }
}

fn down_reason(net: &Net, core: usize, peer: PeerId) -> Option<DownReason> {
    net.events[core].iter().find_map(down(peer))
}

#[test]
fn media_reaches_every_subscriber_and_each_one_gets_a_keyframe() {
    let mut net = Net::new(1);
    let (publisher, p) = net.publish(0, "room");
    let subs: Vec<_> = (0..3).map(|_| net.subscribe(0, "room")).collect();
    net.run_until(Duration::from_secs(2), |n| {
        n.has_event(0, up(publisher)) && subs.iter().all(|(id, _)| n.has_event(0, up(*id)))
    });
    net.run(Duration::from_secs(2));

    for (_, s) in &subs {
        let c = net.client(*s);
        assert!(c.video_frames >= 50, "video frames: {}", c.video_frames);
        assert!(c.audio_frames >= 80, "audio frames: {}", c.audio_frames);
        assert!(c.keyframes >= 1, "no keyframe");
    }
    // All three connected together: one request covered them (throttle).
    let requests = net.client(p).keyframe_requests;
    assert!((1..=2).contains(&requests), "requests: {requests}");
    let stats = net.cores[0].stats();
    assert_eq!((stats.publishers, stats.subscribers), (1, 3));
    assert!(
        stats.packets_out >= 3 * 150,
        "forwarded {}",
        stats.packets_out
    );
}

#[test]
fn a_subscribers_pli_reaches_the_publisher_at_most_once_per_window() {
    let mut net = Net::new(1);
    let (_, p) = net.publish(0, "room");
    let (viewer, s) = net.subscribe(0, "room");
    net.run_until(Duration::from_secs(2), |n| n.has_event(0, up(viewer)));
    net.run(Duration::from_secs(1)); // Past the join's window.
    let before = net.client(p).keyframe_requests;
    let keyframes = net.client(s).keyframes;

    // Outside the window: goes out at once, and a keyframe comes back.
    net.request_keyframe(s);
    net.run(Duration::from_millis(100));
    assert_eq!(net.client(p).keyframe_requests, before + 1);
    assert!(net.client(s).keyframes > keyframes);

    // Two more inside the window: held back until it ends, then one.
    net.request_keyframe(s);
    net.run(Duration::from_millis(100));
    net.request_keyframe(s);
    net.run(Duration::from_millis(280)); // 480 ms after the first one.
    assert_eq!(net.client(p).keyframe_requests, before + 1, "too early");
    net.run(Duration::from_millis(40));
    assert_eq!(net.client(p).keyframe_requests, before + 2, "not sent");
    net.run(Duration::from_secs(1));
    assert_eq!(net.client(p).keyframe_requests, before + 2, "coalesced");
}

#[test]
fn a_silent_subscriber_is_dropped_at_the_ice_timeout_and_the_others_keep_receiving() {
    let mut net = Net::new(1);
    net.publish(0, "room");
    let (gone, g) = net.subscribe(0, "room");
    let (stays, s) = net.subscribe(0, "room");
    net.run_until(Duration::from_secs(2), |n| {
        n.has_event(0, up(gone)) && n.has_event(0, up(stays))
    });
    net.run(Duration::from_millis(500));
    net.clients[g].alive = false; // Its tab crashed: not a word more.
    let last_heard = net.client(g).last_sent.unwrap();

    net.run_until(ICE_TIMEOUT + Duration::from_secs(1), |n| {
        down_reason(n, 0, gone).is_some()
    });
    assert_eq!(down_reason(&net, 0, gone), Some(DownReason::IceTimeout));
    let silent = net.now - last_heard;
    assert!(
        silent >= ICE_TIMEOUT && silent <= ICE_TIMEOUT + 2 * STEP,
        "dropped after {silent:?} of silence"
    );

    let frames = net.client(s).video_frames;
    net.run(Duration::from_secs(1));
    assert!(net.client(s).video_frames >= frames + 25);
    assert_eq!(down_reason(&net, 0, stays), None);
    assert_eq!(net.cores[0].stats().subscribers, 1);
}

#[test]
fn a_peer_that_never_answers_is_dropped_at_the_connect_timeout() {
    let mut net = Net::new(1);
    let (id, _offer) = net.offer_subscriber(0, "room");
    net.run(CONNECT_TIMEOUT - Duration::from_millis(10));
    assert_eq!(down_reason(&net, 0, id), None);
    net.run(Duration::from_millis(20));
    assert_eq!(down_reason(&net, 0, id), Some(DownReason::Timeout));
    assert_eq!(net.cores[0].stats().peers, 0);
}

#[test]
fn a_late_subscriber_gets_a_keyframe_through_a_request_at_once() {
    let mut net = Net::new(1);
    let (_, p) = net.publish(0, "room");
    let (first, _) = net.subscribe(0, "room");
    net.run_until(Duration::from_secs(2), |n| n.has_event(0, up(first)));
    net.run(Duration::from_secs(3)); // No keyframe unless asked.
    let before = net.client(p).keyframe_requests;

    let (late, l) = net.subscribe(0, "room");
    net.run_until(Duration::from_secs(1), |n| n.has_event(0, up(late)));
    let took = net.run_until(Duration::from_millis(200), |n| n.client(l).keyframes >= 1);
    assert!(
        took <= Duration::from_millis(100),
        "first keyframe after {took:?}"
    );
    assert_eq!(net.client(p).keyframe_requests, before + 1);
}

#[test]
fn a_replacing_publisher_keeps_viewers_receiving_without_renegotiation() {
    let mut net = Net::new(1);
    let (old, _) = net.publish(0, "room");
    let (viewer, s) = net.subscribe(0, "room");
    net.run_until(Duration::from_secs(2), |n| n.has_event(0, up(viewer)));
    net.run(Duration::from_secs(1));
    let (new, p2) = net.publish(0, "room");
    net.run_until(Duration::from_secs(2), |n| n.has_event(0, up(new)));
    assert_eq!(down_reason(&net, 0, old), Some(DownReason::Replaced));
    let (frames, keyframes) = (net.client(s).video_frames, net.client(s).keyframes);
    net.run(Duration::from_secs(1));
    // The new publisher was asked for a keyframe for the waiting viewer.
    assert!(net.client(p2).keyframe_requests >= 1);
    assert!(net.client(s).keyframes > keyframes);
    assert!(net.client(s).video_frames >= frames + 25);
}

#[test]
fn an_upstream_carries_the_origin_room_to_edge_viewers_and_their_requests_back() {
    let mut net = Net::new(2);
    let (_, p) = net.publish(0, "room");
    let (upstream, relay) = net.open_upstream(1, 0, "room");
    net.run_until(Duration::from_secs(2), |n| {
        n.has_event(1, up(upstream)) && n.has_event(0, up(relay))
    });
    // The relay asked nothing when it connected: no viewer wanted it yet.
    assert_eq!(net.client(p).keyframe_requests, 0);

    let (viewer, s) = net.subscribe(1, "room");
    net.run_until(Duration::from_secs(2), |n| n.has_event(1, up(viewer)));
    let took = net.run_until(Duration::from_millis(500), |n| n.client(s).keyframes >= 1);
    assert!(
        took <= Duration::from_millis(100),
        "first keyframe after {took:?}"
    );
    assert_eq!(net.client(p).keyframe_requests, 1);
    net.run(Duration::from_secs(1));
    assert!(net.client(s).video_frames >= 25);
    assert!(net.client(s).audio_frames >= 40);

    // The edge viewer's own PLI goes up to the origin's publisher.
    net.request_keyframe(s);
    net.run(Duration::from_millis(100));
    assert_eq!(net.client(p).keyframe_requests, 2);

    // The origin closes the relay: the edge reports its upstream down.
    net.cores[0].close_peer(net.now, relay);
    net.collect(0);
    net.run_until(Duration::from_secs(6), |n| {
        down_reason(n, 1, upstream).is_some()
    });
    let stats = net.cores[1].stats();
    assert_eq!((stats.upstreams, stats.subscribers), (0, 1));
}
