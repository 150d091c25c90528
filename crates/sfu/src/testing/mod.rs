//! Owns a small WebRTC client peer for tests (feature `testing`): a
//! frame-mode str0m `Rtc` driven by its own tokio task and UDP socket on
//! 127.0.0.1. It can publish generated media (Opus-like audio every 20 ms,
//! VP8-like video at 30 fps with a keyframe every 2 s or on request),
//! subscribe by answering the SFU's offer or by offering (WHEP style), count
//! what it receives, and close politely or vanish.
//!
//! The SDP-level constructors ([`TestPeer::publisher_offer`],
//! [`TestPeer::whep_offer`], [`TestPeer::answer`]) suit tests that go
//! through HTTP or Socket.IO; the `Sfu`-level helpers
//! ([`TestPeer::publish`], [`TestPeer::subscribe`],
//! [`TestPeer::subscribe_whep`]) suit this crate's tests. Every
//! constructor that starts a peer must run inside a tokio runtime.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use str0m::change::{SdpAnswer, SdpOffer, SdpPendingOffer};
use str0m::format::Codec;
use str0m::media::{Direction, Frequency, KeyframeRequestKind, MediaKind, MediaTime, Mid};
use str0m::net::{Protocol, Receive};
use str0m::{Candidate, Event, IceConnectionState, Input, Output, Rtc};
use tokio::net::UdpSocket;
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

use crate::sample::{opus_frame, vp8_frame};
use crate::{IceFragment, PeerId, Sfu, sdp};

mod turn;

use turn::Allocation;
pub use turn::TurnConfig;

/// Errors of the test peer: anything, as text.
pub type TestError = Box<dyn std::error::Error + Send + Sync>;

/// Audio frame interval (Opus' usual 20 ms).
const AUDIO_EVERY: Duration = Duration::from_millis(20);
/// Video frame interval (30 fps).
const VIDEO_EVERY: Duration = Duration::from_micros(33_333);
/// A keyframe at least this often.
const KEYFRAME_EVERY: u64 = 60;

/// A snapshot of what a test peer saw.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    /// ICE + DTLS connected at some point.
    pub connected: bool,
    /// The session ended (closed by either side, or failed).
    pub closed: bool,
    /// Audio frames received.
    pub audio_frames: u64,
    /// Video frames received.
    pub video_frames: u64,
    /// Video keyframes received.
    pub video_keyframes: u64,
    /// Keyframe requests (PLI/FIR) received while publishing.
    pub keyframe_requests: u64,
    /// Audio frames sent while publishing.
    pub audio_sent: u64,
    /// Video frames sent while publishing.
    pub video_sent: u64,
    /// Times ICE reached connected: once, plus once per ICE restart that
    /// succeeded (checks on the new credentials answered).
    pub ice_connects: u64,
}

#[derive(Default)]
struct Shared {
    connected: AtomicBool,
    closed: AtomicBool,
    audio_frames: AtomicU64,
    video_frames: AtomicU64,
    video_keyframes: AtomicU64,
    keyframe_requests: AtomicU64,
    audio_sent: AtomicU64,
    video_sent: AtomicU64,
    ice_connects: AtomicU64,
    /// A publisher holds its media (stays connected, sends no RTP).
    paused: std::sync::atomic::AtomicBool,
}

impl Shared {
    fn snapshot(&self) -> Counts {
        let get = |a: &AtomicU64| a.load(Ordering::Relaxed);
        Counts {
            connected: self.connected.load(Ordering::Relaxed),
            closed: self.closed.load(Ordering::Relaxed),
            audio_frames: get(&self.audio_frames),
            video_frames: get(&self.video_frames),
            video_keyframes: get(&self.video_keyframes),
            keyframe_requests: get(&self.keyframe_requests),
            audio_sent: get(&self.audio_sent),
            video_sent: get(&self.video_sent),
            ice_connects: get(&self.ice_connects),
        }
    }
}

enum Control {
    Close,
    RequestKeyframe,
    /// Restart ICE; with `true`, from a new UDP socket (a new network).
    RestartIce(bool, oneshot::Sender<Result<String, String>>),
    FinishIceRestart(String, oneshot::Sender<Result<(), String>>),
    RemoteSdp(String),
}

/// A running test peer. Dropping it stops its task without closing (like
/// [`TestPeer::vanish`]).
pub struct TestPeer {
    shared: Arc<Shared>,
    control: mpsc::UnboundedSender<Control>,
    task: Option<JoinHandle<()>>,
    local_addr: SocketAddr,
}

/// A test peer whose offer awaits the SFU's answer.
pub struct PendingTestPeer {
    rtc: Rtc,
    socket: std::net::UdpSocket,
    pending: SdpPendingOffer,
    mode: Mode,
}

#[derive(Clone, Copy)]
enum Mode {
    Publisher { audio: Mid, video: Mid },
    Subscriber { video: Option<Mid> },
}

fn new_client() -> Result<(Rtc, std::net::UdpSocket), TestError> {
    let socket = std::net::UdpSocket::bind("127.0.0.1:0")?;
    let addr = socket.local_addr()?;
    let mut rtc = Rtc::builder().build(Instant::now());
    rtc.add_local_candidate(Candidate::host(addr, "udp")?);
    Ok((rtc, socket))
}

impl PendingTestPeer {
    /// Applies the SFU's answer and starts the peer.
    pub fn complete(mut self, answer_sdp: &str) -> Result<TestPeer, TestError> {
        let answer = SdpAnswer::from_sdp_string(answer_sdp)?;
        self.rtc.sdp_api().accept_answer(self.pending, answer)?;
        let peer = TestPeer::spawn(self.rtc, self.socket, self.mode)?;
        // Kept for ICE restarts, answered by fragment (RFC 9725 §4.3.3).
        let _ = peer.control.send(Control::RemoteSdp(answer_sdp.to_owned()));
        Ok(peer)
    }
}

impl TestPeer {
    /// A publisher's offer (sendonly audio + video); complete it with the
    /// SFU's answer.
    pub fn publisher_offer() -> Result<(PendingTestPeer, String), TestError> {
        let (mut rtc, socket) = new_client()?;
        let mut change = rtc.sdp_api();
        let stream = Some("test-publisher".to_owned());
        let audio = change.add_media(
            MediaKind::Audio,
            Direction::SendOnly,
            stream.clone(),
            None,
            None,
        );
        let video = change.add_media(MediaKind::Video, Direction::SendOnly, stream, None, None);
        let (offer, pending) = change.apply().ok_or("no offer")?;
        let peer = PendingTestPeer {
            rtc,
            socket,
            pending,
            mode: Mode::Publisher { audio, video },
        };
        Ok((peer, offer.to_sdp_string()))
    }

    /// A WHEP-style subscriber's offer (recvonly audio + video); complete it
    /// with the SFU's answer.
    pub fn whep_offer() -> Result<(PendingTestPeer, String), TestError> {
        let (mut rtc, socket) = new_client()?;
        let mut change = rtc.sdp_api();
        change.add_media(MediaKind::Audio, Direction::RecvOnly, None, None, None);
        let video = change.add_media(MediaKind::Video, Direction::RecvOnly, None, None, None);
        let (offer, pending) = change.apply().ok_or("no offer")?;
        let peer = PendingTestPeer {
            rtc,
            socket,
            pending,
            mode: Mode::Subscriber { video: Some(video) },
        };
        Ok((peer, offer.to_sdp_string()))
    }

    /// A subscriber answering the SFU's offer; returns the running peer and
    /// the answer to hand to the SFU.
    pub fn answer(offer_sdp: &str) -> Result<(TestPeer, String), TestError> {
        let (mut rtc, socket) = new_client()?;
        let offer = SdpOffer::from_sdp_string(offer_sdp)?;
        let answer = rtc.sdp_api().accept_offer(offer)?;
        let peer = TestPeer::spawn(rtc, socket, Mode::Subscriber { video: None })?;
        Ok((peer, answer.to_sdp_string()))
    }

    /// Publishes generated media to `room` through `sfu`.
    pub async fn publish(sfu: &Sfu, room: &str) -> Result<(PeerId, TestPeer), TestError> {
        let (pending, offer) = Self::publisher_offer()?;
        let (id, answer) = sfu.publish(room, &offer).await?;
        Ok((id, pending.complete(&answer)?))
    }

    /// Subscribes to `room` the server-offers way.
    pub async fn subscribe(sfu: &Sfu, room: &str) -> Result<(PeerId, TestPeer), TestError> {
        let (id, offer) = sfu.subscribe(room).await?;
        let (peer, answer) = Self::answer(&offer)?;
        sfu.accept_answer(id, &answer).await?;
        Ok((id, peer))
    }

    /// Subscribes to `room` the WHEP way (client offers).
    pub async fn subscribe_whep(sfu: &Sfu, room: &str) -> Result<(PeerId, TestPeer), TestError> {
        let (pending, offer) = Self::whep_offer()?;
        let (id, answer) = sfu.subscribe_with_offer(room, &offer).await?;
        Ok((id, pending.complete(&answer)?))
    }

    /// A subscriber answering the SFU's offer with a relay candidate only:
    /// every packet goes through the TURN server (as a browser with
    /// `iceTransportPolicy: "relay"` would).
    pub async fn answer_via_turn(
        offer_sdp: &str,
        turn: &TurnConfig,
    ) -> Result<(TestPeer, String), TestError> {
        let socket = UdpSocket::bind("127.0.0.1:0").await?;
        let local_addr = socket.local_addr()?;
        let sfu_ip = offer_sdp
            .lines()
            .filter_map(|l| l.strip_prefix("a=candidate:"))
            .filter_map(|l| l.split_whitespace().nth(4)?.parse().ok())
            .next()
            .ok_or("the offer has no candidate")?;
        let relay = turn::allocate(&socket, turn, sfu_ip).await?;
        let mut rtc = Rtc::builder().build(Instant::now());
        rtc.add_local_candidate(Candidate::relayed(relay.relayed, local_addr, "udp")?);
        let offer = SdpOffer::from_sdp_string(offer_sdp)?;
        let answer = rtc.sdp_api().accept_offer(offer)?;
        let peer = TestPeer::start(
            rtc,
            socket,
            local_addr,
            Mode::Subscriber { video: None },
            Some(relay),
        );
        Ok((peer, answer.to_sdp_string()))
    }

    fn spawn(rtc: Rtc, socket: std::net::UdpSocket, mode: Mode) -> Result<TestPeer, TestError> {
        socket.set_nonblocking(true)?;
        let local_addr = socket.local_addr()?;
        let socket = UdpSocket::from_std(socket)?;
        Ok(TestPeer::start(rtc, socket, local_addr, mode, None))
    }

    fn start(
        rtc: Rtc,
        socket: UdpSocket,
        local_addr: SocketAddr,
        mode: Mode,
        relay: Option<Allocation>,
    ) -> TestPeer {
        let shared = Arc::new(Shared::default());
        let (control, control_rx) = mpsc::unbounded_channel();
        let driver = Driver {
            rtc,
            socket,
            local_addr,
            relay,
            mode,
            shared: shared.clone(),
            frame: 0,
            force_keyframe: false,
            remote_sdp: None,
            restart: None,
            ice_up: false,
            moved: false,
        };
        let task = tokio::spawn(driver.run(control_rx));
        TestPeer {
            shared,
            control,
            task: Some(task),
            local_addr,
        }
    }

    /// What the peer saw so far.
    pub fn counts(&self) -> Counts {
        self.shared.snapshot()
    }

    /// The peer's UDP address.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// Waits until `condition` holds for the counts, or `within` passes.
    /// Returns the last counts and whether the condition held.
    pub async fn wait_for(
        &self,
        within: Duration,
        condition: impl Fn(&Counts) -> bool,
    ) -> (bool, Counts) {
        let shared = self.shared.clone();
        wait_until(within, move || {
            let counts = shared.snapshot();
            (condition(&counts), counts)
        })
        .await
    }

    /// As a publisher, stops sending media while staying connected (STUN
    /// and RTCP go on), like a frozen camera; `false` resumes.
    pub fn pause_media(&self, paused: bool) {
        self.shared.paused.store(paused, Ordering::Relaxed);
    }

    /// As a subscriber, sends a PLI for the video track.
    pub fn request_keyframe(&self) {
        let _ = self.control.send(Control::RequestKeyframe);
    }

    /// Restarts ICE with new credentials (keeping DTLS and media); returns
    /// the client's `application/trickle-ice-sdpfrag` for the SFU (RFC 9725
    /// §4.3.3). Media stops until [`TestPeer::finish_ice_restart`].
    pub async fn restart_ice(&self) -> Result<String, TestError> {
        self.restart_ice_on(false).await
    }

    /// Like [`TestPeer::restart_ice`], from a new UDP socket: the old one
    /// is closed at once, as when a phone leaves Wi-Fi for mobile data.
    /// Everything received afterwards came to the new address.
    pub async fn restart_ice_from_new_address(&self) -> Result<String, TestError> {
        self.restart_ice_on(true).await
    }

    async fn restart_ice_on(&self, new_address: bool) -> Result<String, TestError> {
        let (reply, rx) = oneshot::channel();
        self.control
            .send(Control::RestartIce(new_address, reply))
            .map_err(|_| "the peer has stopped")?;
        Ok(rx.await.map_err(|_| "the peer has stopped")??)
    }

    /// Completes an ICE restart with the SFU's fragment.
    pub async fn finish_ice_restart(&self, fragment: &str) -> Result<(), TestError> {
        let (reply, rx) = oneshot::channel();
        self.control
            .send(Control::FinishIceRestart(fragment.to_owned(), reply))
            .map_err(|_| "the peer has stopped")?;
        Ok(rx.await.map_err(|_| "the peer has stopped")??)
    }

    /// Closes politely (RTCP BYE, DTLS close_notify) and stops.
    pub async fn close(mut self) {
        let _ = self.control.send(Control::Close);
        if let Some(task) = self.task.take() {
            let _ = tokio::time::timeout(Duration::from_secs(5), task).await;
        }
    }

    /// Stops the task at once without a word to the SFU, like a browser
    /// tab that crashed or lost its network.
    pub fn vanish(self) {
        drop(self);
    }
}

impl Drop for TestPeer {
    fn drop(&mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}

/// Polls `probe` every 20 ms until it reports true or `within` passes.
pub async fn wait_until<T>(within: Duration, mut probe: impl FnMut() -> (bool, T)) -> (bool, T) {
    let deadline = tokio::time::Instant::now() + within;
    loop {
        let (done, value) = probe();
        if done || tokio::time::Instant::now() >= deadline {
            return (done, value);
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Like [`wait_until`] for an async probe.
pub async fn wait_until_async<T, F: Future<Output = (bool, T)>>(
    within: Duration,
    mut probe: impl FnMut() -> F,
) -> (bool, T) {
    let deadline = tokio::time::Instant::now() + within;
    loop {
        let (done, value) = probe().await;
        if done || tokio::time::Instant::now() >= deadline {
            return (done, value);
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

struct Driver {
    rtc: Rtc,
    socket: UdpSocket,
    local_addr: SocketAddr,
    /// Through a TURN server when set.
    relay: Option<Allocation>,
    mode: Mode,
    shared: Arc<Shared>,
    frame: u64,
    force_keyframe: bool,
    /// The SFU's answer as last applied.
    remote_sdp: Option<String>,
    /// An ICE restart offered, waiting for the SFU's fragment.
    restart: Option<SdpPendingOffer>,
    /// ICE is connected (or completed) now.
    ice_up: bool,
    /// A restart moved to a new socket; its candidate is added once the
    /// restart completes.
    moved: bool,
}

impl Driver {
    async fn run(mut self, mut control: mpsc::UnboundedReceiver<Control>) {
        let mut buf = vec![0u8; 2048];
        let start = Instant::now();
        let mut next_audio = start;
        let mut next_video = start;
        let mut closing_since: Option<Instant> = None;
        while let Some(timeout) = self.drain() {
            if closing_since.is_some_and(|t| t.elapsed() > Duration::from_secs(2)) {
                break;
            }
            let publishing = matches!(self.mode, Mode::Publisher { .. })
                && self.shared.connected.load(Ordering::Relaxed)
                && !self.shared.paused.load(Ordering::Relaxed)
                && closing_since.is_none();
            let mut wake = timeout.min(Instant::now() + Duration::from_millis(100));
            if publishing {
                wake = wake.min(next_audio).min(next_video);
            }
            tokio::select! {
                c = control.recv() => match c {
                    Some(Control::Close) => {
                        if self.rtc.close().is_err() {
                            break;
                        }
                        closing_since = Some(Instant::now());
                    }
                    Some(Control::RequestKeyframe) => self.request_keyframe(),
                    Some(Control::RemoteSdp(sdp)) => self.remote_sdp = Some(sdp),
                    Some(Control::RestartIce(new_address, reply)) => {
                        let _ = reply.send(self.restart_ice(new_address).map_err(|e| e.to_string()));
                    }
                    Some(Control::FinishIceRestart(fragment, reply)) => {
                        let _ = reply.send(self.finish_ice_restart(&fragment).map_err(|e| e.to_string()));
                    }
                    None => break,
                },
                r = self.socket.recv_from(&mut buf) => {
                    if let Ok((n, source)) = r {
                        let Some(data) = buf.get(..n) else { continue };
                        let (source, destination, data) = match &self.relay {
                            Some(relay) if source == relay.server => {
                                let Some((peer, data)) = turn::data_indication(data) else { continue };
                                (peer, relay.relayed, data)
                            }
                            Some(_) => continue,
                            None => (source, self.local_addr, data.to_vec()),
                        };
                        let Ok(contents) = data.as_slice().try_into() else { continue };
                        let input = Input::Receive(Instant::now(), Receive {
                            proto: Protocol::Udp,
                            source,
                            destination,
                            contents,
                        });
                        if self.rtc.handle_input(input).is_err() {
                            break;
                        }
                    }
                }
                () = tokio::time::sleep_until(wake.into()) => {
                    let now = Instant::now();
                    if publishing && now >= next_audio {
                        self.send_audio(now);
                        next_audio += AUDIO_EVERY;
                        if self.drain().is_none() { break; }
                    }
                    if publishing && now >= next_video {
                        self.send_video(now);
                        next_video += VIDEO_EVERY;
                        if self.drain().is_none() { break; }
                    }
                    if !publishing {
                        next_audio = now;
                        next_video = now;
                    }
                    if self.rtc.handle_input(Input::Timeout(now)).is_err() {
                        break;
                    }
                }
            }
        }
        self.shared.closed.store(true, Ordering::Relaxed);
    }

    /// Drains the `Rtc`; `None` when it is no longer alive or failed.
    fn drain(&mut self) -> Option<Instant> {
        loop {
            if !self.rtc.is_alive() {
                return None;
            }
            match self.rtc.poll_output().ok()? {
                Output::Timeout(t) => return Some(t),
                Output::Transmit(t) => match &self.relay {
                    Some(relay) => {
                        let wrapped = turn::send_indication(t.destination, &t.contents);
                        let _ = self.socket.try_send_to(&wrapped, relay.server);
                    }
                    None => {
                        let _ = self.socket.try_send_to(&t.contents, t.destination);
                    }
                },
                Output::Event(e) => self.on_event(e),
            }
        }
    }

    fn on_event(&mut self, event: Event) {
        match event {
            Event::Connected => self.shared.connected.store(true, Ordering::Relaxed),
            Event::IceConnectionStateChange(state) => {
                let up = matches!(
                    state,
                    IceConnectionState::Connected | IceConnectionState::Completed
                );
                if up && !self.ice_up {
                    self.shared.ice_connects.fetch_add(1, Ordering::Relaxed);
                }
                self.ice_up = up;
            }
            Event::Closed => self.shared.closed.store(true, Ordering::Relaxed),
            Event::MediaAdded(added) => {
                if let Mode::Subscriber { video: None } = self.mode
                    && added.kind == MediaKind::Video
                {
                    self.mode = Mode::Subscriber {
                        video: Some(added.mid),
                    };
                }
            }
            Event::MediaData(data) => {
                let kind = self.rtc.media(data.mid).map(|m| m.kind());
                match kind {
                    Some(MediaKind::Audio) => {
                        self.shared.audio_frames.fetch_add(1, Ordering::Relaxed);
                    }
                    Some(MediaKind::Video) => {
                        self.shared.video_frames.fetch_add(1, Ordering::Relaxed);
                        if data.is_keyframe() {
                            self.shared.video_keyframes.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                    None => {}
                }
            }
            Event::KeyframeRequest(_) => {
                self.shared
                    .keyframe_requests
                    .fetch_add(1, Ordering::Relaxed);
                self.force_keyframe = true;
            }
            _ => {}
        }
    }

    /// New ICE credentials (as `RTCPeerConnection.restartIce()` makes),
    /// optionally on a new socket; returns them with the peer's candidates
    /// as a trickle-ICE fragment.
    fn restart_ice(&mut self, new_address: bool) -> Result<String, TestError> {
        let mut change = self.rtc.sdp_api();
        let creds = change.ice_restart(!new_address);
        let (offer, pending) = change.apply().ok_or("no restart offer")?;
        self.restart = Some(pending);
        let offer = offer.to_sdp_string();
        let candidates = if new_address {
            let socket = std::net::UdpSocket::bind("127.0.0.1:0")?;
            socket.set_nonblocking(true)?;
            self.local_addr = socket.local_addr()?;
            // The old socket closes here: nothing reaches the old address.
            self.socket = UdpSocket::from_std(socket)?;
            self.moved = true;
            vec![Candidate::host(self.local_addr, "udp")?.to_sdp_string()]
        } else {
            sdp::candidates(&offer)
        };
        let fragment = IceFragment {
            ufrag: creds.ufrag,
            pwd: creds.pass,
            media: sdp::first_media(&offer),
            candidates,
            end_of_candidates: true,
        };
        Ok(fragment.to_sdpfrag())
    }

    /// Applies the SFU's fragment to the last answer, as WHIP clients do:
    /// new credentials and candidates, everything else as negotiated.
    fn finish_ice_restart(&mut self, fragment: &str) -> Result<(), TestError> {
        let fragment = IceFragment::parse(fragment)?;
        let pending = self.restart.take().ok_or("no ICE restart pending")?;
        let remote = self.remote_sdp.as_deref().ok_or("no answer to update")?;
        let mut answer = sdp::with_ice(remote, &fragment.ufrag, &fragment.pwd);
        for c in &fragment.candidates {
            answer.push_str(&format!("a={c}\r\n"));
        }
        self.rtc
            .sdp_api()
            .accept_answer(pending, SdpAnswer::from_sdp_string(&answer)?)?;
        if std::mem::take(&mut self.moved) {
            // The restart dropped the old local candidate: the new one.
            self.rtc
                .add_local_candidate(Candidate::host(self.local_addr, "udp")?);
        }
        self.remote_sdp = Some(answer);
        Ok(())
    }

    fn request_keyframe(&mut self) {
        let Mode::Subscriber { video: Some(mid) } = self.mode else {
            return;
        };
        if let Some(mut writer) = self.rtc.writer(mid) {
            let _ = writer.request_keyframe(None, KeyframeRequestKind::Pli);
        }
    }

    fn write(&mut self, mid: Mid, codec: Codec, now: Instant, time: MediaTime, data: Vec<u8>) {
        let Some(writer) = self.rtc.writer(mid) else {
            return;
        };
        let Some(pt) = writer
            .payload_params()
            .find(|p| p.spec().codec == codec)
            .map(|p| p.pt())
        else {
            return;
        };
        let _ = writer.write(pt, now, time, data);
    }

    fn send_audio(&mut self, now: Instant) {
        let Mode::Publisher { audio, .. } = self.mode else {
            return;
        };
        let n = self.shared.audio_sent.fetch_add(1, Ordering::Relaxed);
        let time = MediaTime::new(n * 960, Frequency::FORTY_EIGHT_KHZ);
        self.write(audio, Codec::Opus, now, time, opus_frame(n));
    }

    fn send_video(&mut self, now: Instant) {
        let Mode::Publisher { video, .. } = self.mode else {
            return;
        };
        let n = self.frame;
        self.frame += 1;
        let key = self.force_keyframe || n.is_multiple_of(KEYFRAME_EVERY);
        self.force_keyframe = false;
        self.shared.video_sent.fetch_add(1, Ordering::Relaxed);
        let time = MediaTime::new(n * 3000, Frequency::NINETY_KHZ);
        self.write(video, Codec::Vp8, now, time, vp8_frame(key, n));
    }
}
