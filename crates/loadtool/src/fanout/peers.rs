//! Owns the load tool's side of the fan-out benchmark: one publisher and
//! many subscribers, each a real str0m WebRTC peer (ICE, DTLS-SRTP) with its
//! own UDP socket, all driven by one single-threaded mio loop so the tool
//! stays cheap next to the SFU.
//!
//! The publisher writes RTP directly (str0m's RTP mode): a VP8-like video
//! stream at the configured bitrate (30 fps, ~1,150-byte payloads, a
//! keyframe every 2 s or on request) and Opus-sized audio every 20 ms. Its
//! RTP timestamps are the send instant on the media clock, counted from the
//! tool's epoch; the SFU keeps them, so a subscriber computes each packet's
//! forwarding delay from its timestamp and its arrival time.
//!
//! Subscribers let str0m handle ICE, DTLS and RTCP, but count RTP packets
//! straight off the socket without decrypting them (the header is in the
//! clear): packets, per-SSRC sequence gaps (loss) and delay.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use anyhow::Context;
use mio::net::UdpSocket;
use mio::{Events, Interest, Poll, Token};
use str0m::change::{SdpAnswer, SdpOffer};
use str0m::format::Codec;
use str0m::media::{Direction, MediaKind, Mid, Pt};
use str0m::net::{Protocol, Receive};
use str0m::rtp::RtpWrite;
use str0m::{Candidate, Event, Input, Output, Rtc};

use super::host::HostClient;

/// Largest RTP payload the publisher writes (a browser-like packet size).
const MAX_PAYLOAD: usize = 1_150;
/// Video frames per second.
const FPS: u32 = 30;
/// A keyframe every this many frames (2 s).
const KEYFRAME_EVERY: u64 = 60;
/// A keyframe is this many times the size of a delta frame.
const KEYFRAME_WEIGHT: usize = 6;
/// Opus payload per 20 ms (about 48 kbit/s).
const AUDIO_PAYLOAD: usize = 120;
const AUDIO_EVERY: Duration = Duration::from_millis(20);
/// Receive buffer asked for on every socket.
const SOCKET_BUFFER: usize = 4 << 20;

const PUBLISHER: usize = 0;

/// One str0m peer with its socket.
struct Endpoint {
    rtc: Rtc,
    socket: UdpSocket,
    addr: SocketAddr,
    next_timeout: Instant,
    connected: bool,
    failed: bool,
    /// The entry on the timer heap that is current, if any.
    scheduled: Option<Instant>,
}

impl Endpoint {
    fn new(now: Instant, rtp_mode: bool) -> anyhow::Result<Self> {
        let std_socket = std::net::UdpSocket::bind("127.0.0.1:0")?;
        std_socket.set_nonblocking(true)?;
        // A busy moment of the tool must not count as SFU loss.
        streamshare_sfu::grow_socket_buffers(&std_socket, SOCKET_BUFFER);
        let addr = std_socket.local_addr()?;
        let mut rtc = Rtc::builder().set_rtp_mode(rtp_mode).build(now);
        rtc.add_local_candidate(Candidate::host(addr, "udp")?);
        Ok(Self {
            rtc,
            socket: UdpSocket::from_std(std_socket),
            addr,
            next_timeout: now,
            connected: false,
            failed: false,
            scheduled: None,
        })
    }

    /// Drains str0m's output: sends transmits, hands events to `on_event`.
    fn drain(&mut self, mut on_event: impl FnMut(Event)) {
        while !self.failed {
            match self.rtc.poll_output() {
                Ok(Output::Timeout(t)) => {
                    self.next_timeout = t;
                    return;
                }
                Ok(Output::Transmit(t)) => {
                    let _ = self.socket.send_to(&t.contents, t.destination);
                }
                Ok(Output::Event(Event::Connected)) => self.connected = true,
                Ok(Output::Event(e)) => on_event(e),
                Err(_) => self.failed = true,
            }
        }
    }

    fn input(&mut self, now: Instant, source: SocketAddr, data: &[u8]) {
        let Ok(contents) = data.try_into() else {
            return;
        };
        let input = Input::Receive(
            now,
            Receive {
                proto: Protocol::Udp,
                source,
                destination: self.addr,
                contents,
            },
        );
        if self.rtc.handle_input(input).is_err() {
            self.failed = true;
        }
    }

    fn timeout(&mut self, now: Instant) {
        if self.rtc.handle_input(Input::Timeout(now)).is_err() {
            self.failed = true;
        }
    }
}

struct Publisher {
    ep: Endpoint,
    audio: Mid,
    video: Mid,
    /// (audio pt, video pt) once connected.
    pts: Option<(Pt, Pt)>,
    audio_seq: u64,
    video_seq: u64,
    frame: u64,
    force_keyframe: bool,
    next_audio: Instant,
    next_video: Instant,
    delta_bytes: usize,
    packets_sent: u64,
    keyframe_requests: u64,
}

impl Publisher {
    fn negotiated_pts(&self) -> Option<(Pt, Pt)> {
        let find = |mid: Mid, codec: Codec| {
            let allowed = self.ep.rtc.media(mid)?.remote_pts();
            self.ep
                .rtc
                .codec_config()
                .params()
                .iter()
                .find(|p| p.spec().codec == codec && allowed.contains(&p.pt()))
                .map(|p| p.pt())
        };
        Some((
            find(self.audio, Codec::Opus)?,
            find(self.video, Codec::Vp8)?,
        ))
    }

    /// Sends whatever media is due at `now`.
    fn send_due(&mut self, now: Instant, epoch: Instant) {
        if !self.ep.connected || self.ep.failed {
            self.next_audio = now;
            self.next_video = now;
            return;
        }
        if self.pts.is_none() {
            self.pts = self.negotiated_pts();
        }
        let Some((audio_pt, video_pt)) = self.pts else {
            return;
        };
        let since = now.saturating_duration_since(epoch).as_secs_f64();
        if now >= self.next_audio {
            let ts = (since * 48_000.0) as u32;
            let mut payload = vec![0u8; AUDIO_PAYLOAD];
            payload[0] = 0xfc; // Opus TOC: CELT FB 20 ms.
            self.write(self.audio, audio_pt, self.audio_seq, ts, now, true, payload);
            self.audio_seq += 1;
            self.next_audio += AUDIO_EVERY;
            if self.next_audio < now {
                self.next_audio = now + AUDIO_EVERY;
            }
        }
        if now >= self.next_video {
            let ts = (since * 90_000.0) as u32;
            let key = self.force_keyframe || self.frame.is_multiple_of(KEYFRAME_EVERY);
            self.force_keyframe = false;
            let size = if key {
                self.delta_bytes * KEYFRAME_WEIGHT
            } else {
                self.delta_bytes
            };
            let packets = size.div_ceil(MAX_PAYLOAD - 1).max(1);
            for i in 0..packets {
                let mut payload = vec![0u8; MAX_PAYLOAD.min(size - i * (MAX_PAYLOAD - 1) + 1)];
                if i == 0 {
                    payload[0] = 0x10; // VP8 descriptor: start of partition 0.
                    if key {
                        // Frame tag (keyframe, shown), start code, 640x360.
                        let header = [0x10, 0x02, 0x00, 0x9d, 0x01, 0x2a, 0x80, 0x02, 0x68, 0x01];
                        let n = header.len().min(payload.len() - 1);
                        payload[1..=n].copy_from_slice(&header[..n]);
                    } else if payload.len() > 3 {
                        payload[1] = 0x11; // Interframe, shown.
                    }
                }
                let last = i + 1 == packets;
                self.write(self.video, video_pt, self.video_seq, ts, now, last, payload);
                self.video_seq += 1;
            }
            self.frame += 1;
            self.next_video += Duration::from_secs(1) / FPS;
            if self.next_video < now {
                self.next_video = now + Duration::from_secs(1) / FPS;
            }
        }
        let mut requests = 0;
        self.ep.drain(|e| {
            if matches!(e, Event::KeyframeRequest(_)) {
                requests += 1;
            }
        });
        if requests > 0 {
            self.force_keyframe = true;
            self.keyframe_requests += requests;
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn write(
        &mut self,
        mid: Mid,
        pt: Pt,
        seq: u64,
        ts: u32,
        now: Instant,
        marker: bool,
        payload: Vec<u8>,
    ) {
        let mut api = self.ep.rtc.direct_api();
        let Some(stream) = api.stream_tx_by_mid(mid, None) else {
            return;
        };
        let write = RtpWrite::new(pt, seq.into(), ts, now, payload)
            .marker(marker)
            .nackable(true);
        stream.write_rtp(write);
        self.packets_sent += 1;
    }
}

/// Per-SSRC receive state of one subscriber.
struct TrackCount {
    ssrc: u32,
    clock: f64,
    /// Highest extended sequence number seen.
    highest: u64,
    /// First extended sequence number of the current window.
    first: Option<u64>,
    received: u64,
}

struct Subscriber {
    ep: Endpoint,
    /// RTP packets received in the current window.
    window_received: u64,
    /// Payload type → media clock rate.
    clocks: Vec<(u8, f64)>,
    tracks: Vec<TrackCount>,
}

impl Subscriber {
    fn clock_of(&self, pt: u8) -> f64 {
        self.clocks
            .iter()
            .find(|(p, _)| *p == pt)
            .map_or(90_000.0, |(_, c)| *c)
    }
}

/// What the subscribers saw in one measurement window.
#[derive(Default)]
pub struct WindowCounts {
    pub received: u64,
    pub expected: u64,
    /// Connected subscribers that received no RTP at all in the window.
    pub silent: usize,
    /// Forwarding delays, microseconds.
    pub delays_us: Vec<u32>,
}

/// The publisher, the subscribers and the loop that drives them.
pub struct Peers {
    poll: Poll,
    events: Events,
    epoch: Instant,
    publisher: Publisher,
    subs: Vec<Subscriber>,
    timers: BinaryHeap<Reverse<(Instant, usize)>>,
    buf: Vec<u8>,
    delays_us: Vec<u32>,
    received: u64,
}

fn token_of(index: usize) -> Token {
    Token(index)
}

impl Peers {
    /// Connects the publisher of `room` through the host.
    pub fn start(host: &mut HostClient, room: &str, bitrate: u64) -> anyhow::Result<Self> {
        let now = Instant::now();
        let mut ep = Endpoint::new(now, true)?;
        let mut change = ep.rtc.sdp_api();
        let stream = Some("load".to_owned());
        let audio = change.add_media(
            MediaKind::Audio,
            Direction::SendOnly,
            stream.clone(),
            None,
            None,
        );
        let video = change.add_media(MediaKind::Video, Direction::SendOnly, stream, None, None);
        let (offer, pending) = change.apply().context("publisher offer")?;
        let (_, answer) = host.publish(room, offer.to_sdp_string())?;
        ep.rtc
            .sdp_api()
            .accept_answer(pending, SdpAnswer::from_sdp_string(&answer)?)?;
        let poll = Poll::new()?;
        poll.registry()
            .register(&mut ep.socket, token_of(PUBLISHER), Interest::READABLE)?;
        // Average frame size for the bitrate, with the keyframes' share.
        let per_frame = (bitrate / 8 / u64::from(FPS)) as usize;
        let frames = KEYFRAME_EVERY as usize;
        let delta_bytes = per_frame * frames / (frames - 1 + KEYFRAME_WEIGHT);
        let mut peers = Self {
            poll,
            events: Events::with_capacity(1024),
            epoch: now,
            publisher: Publisher {
                ep,
                audio,
                video,
                pts: None,
                audio_seq: 1,
                video_seq: 1,
                frame: 0,
                force_keyframe: false,
                next_audio: now,
                next_video: now,
                delta_bytes,
                packets_sent: 0,
                keyframe_requests: 0,
            },
            subs: Vec::new(),
            timers: BinaryHeap::new(),
            buf: vec![0u8; 2048],
            delays_us: Vec::new(),
            received: 0,
        };
        peers.after_drain(PUBLISHER);
        let deadline = Instant::now() + Duration::from_secs(20);
        while !peers.publisher.ep.connected {
            anyhow::ensure!(Instant::now() < deadline, "the publisher did not connect");
            anyhow::ensure!(!peers.publisher.ep.failed, "the publisher failed");
            peers.run_for(Duration::from_millis(20));
        }
        Ok(peers)
    }

    /// Packets the publisher has written so far.
    pub fn published(&self) -> u64 {
        self.publisher.packets_sent
    }

    /// Subscribers whose session failed (str0m error, or the SFU hung up).
    pub fn failed(&self) -> usize {
        self.subs.iter().filter(|s| s.ep.failed).count()
    }

    /// Subscribers connected and alive.
    pub fn connected(&self) -> usize {
        self.subs
            .iter()
            .filter(|s| s.ep.connected && !s.ep.failed)
            .count()
    }

    /// Adds `count` subscribers in batches, keeping media flowing, until
    /// they are connected.
    pub fn add_subscribers(
        &mut self,
        host: &mut HostClient,
        room: &str,
        count: usize,
    ) -> anyhow::Result<()> {
        const BATCH: usize = 25;
        let target = self.subs.len() + count;
        while self.subs.len() < target {
            let batch = BATCH.min(target - self.subs.len());
            for _ in 0..batch {
                self.add_subscriber(host, room)?;
            }
            let deadline = Instant::now() + Duration::from_secs(30);
            while self.subs.iter().any(|s| !s.ep.connected && !s.ep.failed) {
                anyhow::ensure!(
                    Instant::now() < deadline,
                    "subscribers did not connect within 30 s"
                );
                self.run_for(Duration::from_millis(5));
            }
        }
        Ok(())
    }

    fn add_subscriber(&mut self, host: &mut HostClient, room: &str) -> anyhow::Result<()> {
        let now = Instant::now();
        let mut ep = Endpoint::new(now, false)?;
        let (peer, offer) = host.subscribe(room)?;
        let answer = ep
            .rtc
            .sdp_api()
            .accept_offer(SdpOffer::from_sdp_string(&offer)?)?;
        host.answer(peer, answer.to_sdp_string())?;
        let clocks = ep
            .rtc
            .codec_config()
            .params()
            .iter()
            .map(|p| (*p.pt(), f64::from(p.spec().clock_rate.get())))
            .collect();
        let index = self.subs.len() + 1;
        self.poll
            .registry()
            .register(&mut ep.socket, token_of(index), Interest::READABLE)?;
        self.subs.push(Subscriber {
            ep,
            window_received: 0,
            clocks,
            tracks: Vec::new(),
        });
        self.endpoint(index).timeout(now);
        self.after_drain(index);
        Ok(())
    }

    fn endpoint(&mut self, index: usize) -> &mut Endpoint {
        if index == PUBLISHER {
            &mut self.publisher.ep
        } else {
            &mut self.subs[index - 1].ep
        }
    }

    /// Drains an endpoint and files its next timer.
    fn after_drain(&mut self, index: usize) {
        let mut requests = 0;
        let ep = self.endpoint(index);
        ep.drain(|e| {
            if matches!(e, Event::KeyframeRequest(_)) {
                requests += 1;
            }
        });
        if index == PUBLISHER && requests > 0 {
            self.publisher.force_keyframe = true;
            self.publisher.keyframe_requests += requests;
        }
        self.schedule(index);
    }

    /// Files the endpoint's next timeout on the heap unless it is there.
    fn schedule(&mut self, index: usize) {
        let ep = self.endpoint(index);
        let next = ep.next_timeout;
        if ep.scheduled != Some(next) {
            ep.scheduled = Some(next);
            self.timers.push(Reverse((next, index)));
        }
    }

    /// Starts a measurement window: counters from zero; each known track
    /// expects the packet after the last one it saw (so a gap across the
    /// window's start, or a track that falls silent, counts as loss).
    pub fn begin_window(&mut self) {
        self.received = 0;
        self.delays_us.clear();
        for sub in &mut self.subs {
            sub.window_received = 0;
            for track in &mut sub.tracks {
                track.first = Some(track.highest + 1);
                track.received = 0;
            }
        }
    }

    /// Ends the window: what arrived and what should have. Packets lost
    /// after a track's last arrival look like packets still in flight and
    /// are not counted; subscribers that received nothing are counted apart.
    pub fn end_window(&mut self) -> WindowCounts {
        let mut expected = 0;
        let mut silent = 0;
        for sub in self.subs.iter().filter(|s| s.ep.connected && !s.ep.failed) {
            if sub.window_received == 0 {
                silent += 1;
            }
            for track in &sub.tracks {
                if let Some(first) = track.first {
                    expected += (track.highest + 1).saturating_sub(first);
                }
            }
        }
        WindowCounts {
            received: self.received,
            expected,
            silent,
            delays_us: std::mem::take(&mut self.delays_us),
        }
    }

    /// Runs the loop for `duration`.
    pub fn run_for(&mut self, duration: Duration) {
        let end = Instant::now() + duration;
        loop {
            let now = Instant::now();
            self.fire_timers(now);
            self.publisher.send_due(now, self.epoch);
            self.schedule(PUBLISHER);
            if now >= end {
                return;
            }
            let mut wake = end
                .min(self.publisher.next_audio)
                .min(self.publisher.next_video);
            if let Some(Reverse((t, _))) = self.timers.peek() {
                wake = wake.min(*t);
            }
            let timeout = wake.saturating_duration_since(Instant::now());
            if self.poll.poll(&mut self.events, Some(timeout)).is_err() {
                continue;
            }
            let ready: Vec<usize> = self.events.iter().map(|e| e.token().0).collect();
            for index in ready {
                self.read_socket(index);
            }
        }
    }

    fn fire_timers(&mut self, now: Instant) {
        // Due entries first: what they reschedule waits for the next turn.
        let mut due = Vec::new();
        while let Some(Reverse(entry)) = self.timers.peek().copied() {
            if entry.0 > now {
                break;
            }
            self.timers.pop();
            due.push(entry);
        }
        for (t, index) in due {
            let ep = self.endpoint(index);
            if ep.failed || ep.scheduled != Some(t) {
                continue; // Stale entry.
            }
            ep.scheduled = None;
            ep.timeout(now);
            self.after_drain(index);
        }
    }

    /// Reads everything queued on one socket.
    fn read_socket(&mut self, index: usize) {
        let mut buf = std::mem::take(&mut self.buf);
        let mut needs_drain = false;
        loop {
            let ep = self.endpoint(index);
            let (n, source) = match ep.socket.recv_from(&mut buf) {
                Ok(r) => r,
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => break,
                Err(_) => continue,
            };
            let data = &buf[..n];
            let now = Instant::now();
            if index != PUBLISHER && is_rtp(data) {
                self.count_rtp(index - 1, data, now);
            } else {
                self.endpoint(index).input(now, source, data);
                needs_drain = true;
            }
        }
        self.buf = buf;
        if needs_drain {
            self.after_drain(index);
        }
    }

    fn count_rtp(&mut self, sub: usize, data: &[u8], now: Instant) {
        let pt = data[1] & 0x7f;
        let seq = u16::from_be_bytes([data[2], data[3]]);
        let ts = u32::from_be_bytes([data[4], data[5], data[6], data[7]]);
        let ssrc = u32::from_be_bytes([data[8], data[9], data[10], data[11]]);
        let clock = self.subs[sub].clock_of(pt);
        let sub = &mut self.subs[sub];
        let track = match sub.tracks.iter().position(|t| t.ssrc == ssrc) {
            Some(i) => &mut sub.tracks[i],
            None => {
                sub.tracks.push(TrackCount {
                    ssrc,
                    clock,
                    highest: u64::from(seq),
                    first: None,
                    received: 0,
                });
                let last = sub.tracks.len() - 1;
                &mut sub.tracks[last]
            }
        };
        let ext = extend_seq(track.highest, seq);
        track.highest = track.highest.max(ext);
        if track.first.is_none_or(|f| ext < f) {
            track.first = Some(ext);
        }
        track.received += 1;
        sub.window_received += 1;
        self.received += 1;
        let sent = f64::from(ts) / track.clock;
        let arrived = now.saturating_duration_since(self.epoch).as_secs_f64();
        let delay_us = ((arrived - sent) * 1e6).max(0.0);
        self.delays_us.push(delay_us as u32);
    }
}

/// RTP, not RTCP (RFC 5761 demux), not STUN or DTLS.
fn is_rtp(data: &[u8]) -> bool {
    data.len() >= 12 && data[0] >> 6 == 2 && !(192..=223).contains(&data[1])
}

/// The extended sequence number of `seq` closest to `highest`.
fn extend_seq(highest: u64, seq: u16) -> u64 {
    let roc = highest >> 16;
    let candidates = [roc.wrapping_sub(1), roc, roc + 1].map(|r| (r << 16) | u64::from(seq));
    candidates
        .into_iter()
        .filter(|c| *c < (1 << 48))
        .min_by_key(|c| c.abs_diff(highest))
        .unwrap_or(u64::from(seq))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sequence_numbers_extend_across_wraps() {
        assert_eq!(extend_seq(65_535, 0), 65_536);
        assert_eq!(extend_seq(65_536, 65_535), 65_535);
        assert_eq!(extend_seq(10, 12), 12);
        assert_eq!(extend_seq(3, 65_534), 65_534);
    }

    #[test]
    fn rtp_is_told_from_rtcp_stun_and_dtls() {
        let mut rtp = [0u8; 12];
        rtp[0] = 0x80;
        rtp[1] = 96 | 0x80;
        assert!(is_rtp(&rtp));
        rtp[1] = 200; // Sender report.
        assert!(!is_rtp(&rtp));
        assert!(!is_rtp(&[0x00, 0x01, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0])); // STUN
        assert!(!is_rtp(&[22, 0xfe, 0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0])); // DTLS
    }
}
