//! Black-box tests of the SFU with real str0m client peers over real UDP on
//! 127.0.0.1. Every wait is on a condition with a generous deadline; nothing
//! asserts on timing.

use std::time::Duration;

use streamshare_sfu::testing::{Counts, TestPeer, wait_until_async};
use streamshare_sfu::{
    DownReason, IceFragment, IcePatch, MAX_SDP_BYTES, PeerId, Sfu, SfuConfig, SfuError, SfuEvent,
    SfuStats, SfuTuning,
};
use tokio::sync::mpsc::UnboundedReceiver;

/// Deadline for anything that should happen "soon" on a busy machine.
const SOON: Duration = Duration::from_secs(10);

struct TestSfu {
    sfu: Sfu,
    events: UnboundedReceiver<SfuEvent>,
    /// Events received but not yet expected by the test.
    backlog: Vec<SfuEvent>,
}

async fn spawn_sfu() -> TestSfu {
    spawn_sfu_with(Duration::from_secs(10)).await
}

async fn spawn_sfu_with(connect_timeout: Duration) -> TestSfu {
    spawn_sharded(connect_timeout, 1).await
}

async fn spawn_sharded(connect_timeout: Duration, shards: usize) -> TestSfu {
    // RUST_LOG=streamshare_sfu=debug shows the SFU's side of a failure.
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_test_writer()
        .try_init();
    let config = SfuConfig {
        bind: "127.0.0.1:0".parse().unwrap(),
        public_ips: vec!["127.0.0.1".parse().unwrap()],
        connect_timeout,
    };
    let tuning = SfuTuning {
        ice_timeout: Duration::from_secs(4),
        shards,
        ..SfuTuning::default()
    };
    let (sfu, events) = Sfu::start_tuned(config, tuning).await.unwrap();
    TestSfu {
        sfu,
        events,
        backlog: Vec::new(),
    }
}

impl TestSfu {
    /// Waits for an event matching `wanted` (earlier unmatched events are
    /// kept for later calls).
    async fn expect(&mut self, what: &str, wanted: impl Fn(&SfuEvent) -> bool) -> SfuEvent {
        if let Some(i) = self.backlog.iter().position(&wanted) {
            return self.backlog.remove(i);
        }
        let deadline = tokio::time::Instant::now() + SOON;
        loop {
            match tokio::time::timeout_at(deadline, self.events.recv()).await {
                Ok(Some(event)) if wanted(&event) => return event,
                Ok(Some(event)) => self.backlog.push(event),
                Ok(None) => panic!("event channel closed while waiting for {what}"),
                Err(_) => panic!("no {what} within {SOON:?}; got {:?}", self.backlog),
            }
        }
    }

    async fn publisher_up(&mut self, peer: PeerId) {
        self.expect(
            "PublisherUp",
            |e| matches!(e, SfuEvent::PublisherUp { peer: p, .. } if *p == peer),
        )
        .await;
    }

    async fn subscriber_up(&mut self, peer: PeerId) {
        self.expect(
            "SubscriberUp",
            |e| matches!(e, SfuEvent::SubscriberUp { peer: p, .. } if *p == peer),
        )
        .await;
    }

    async fn publisher_down(&mut self, peer: PeerId) -> DownReason {
        match self
            .expect(
                "PublisherDown",
                |e| matches!(e, SfuEvent::PublisherDown { peer: p, .. } if *p == peer),
            )
            .await
        {
            SfuEvent::PublisherDown { reason, .. } => reason,
            other => unreachable!("{other:?}"),
        }
    }

    async fn subscriber_down(&mut self, peer: PeerId) -> DownReason {
        match self
            .expect(
                "SubscriberDown",
                |e| matches!(e, SfuEvent::SubscriberDown { peer: p, .. } if *p == peer),
            )
            .await
        {
            SfuEvent::SubscriberDown { reason, .. } => reason,
            other => unreachable!("{other:?}"),
        }
    }

    async fn publish(&mut self, room: &str) -> (PeerId, TestPeer) {
        let (id, peer) = TestPeer::publish(&self.sfu, room).await.unwrap();
        self.publisher_up(id).await;
        (id, peer)
    }

    async fn subscribe(&mut self, room: &str) -> (PeerId, TestPeer) {
        let (id, peer) = TestPeer::subscribe(&self.sfu, room).await.unwrap();
        self.subscriber_up(id).await;
        (id, peer)
    }

    /// Waits until the stats satisfy `condition`.
    async fn stats_until(&self, condition: impl Fn(&SfuStats) -> bool) -> SfuStats {
        let sfu = self.sfu.clone();
        let (ok, stats) = wait_until_async(SOON, || {
            let sfu = sfu.clone();
            let condition = &condition;
            async move {
                let stats = sfu.stats().await;
                (condition(&stats), stats)
            }
        })
        .await;
        assert!(ok, "stats never matched: {stats:?}");
        stats
    }
}

/// Waits until the peer received at least `audio` audio frames, `video`
/// video frames and `keyframes` keyframes more than in `since`.
async fn receives(peer: &TestPeer, since: Counts, audio: u64, video: u64, keyframes: u64) {
    let (ok, counts) = peer
        .wait_for(SOON, |c| {
            c.audio_frames >= since.audio_frames + audio
                && c.video_frames >= since.video_frames + video
                && c.video_keyframes >= since.video_keyframes + keyframes
        })
        .await;
    assert!(
        ok,
        "peer did not receive media: since {since:?}, now {counts:?}"
    );
}

#[tokio::test]
async fn three_subscribers_receive_audio_and_video_and_the_publisher_is_asked_for_keyframes() {
    let mut t = spawn_sfu().await;
    let (_pub_id, publisher) = t.publish("room-1").await;
    let mut subscribers = Vec::new();
    for _ in 0..3 {
        subscribers.push(t.subscribe("room-1").await);
    }

    for (_, sub) in &subscribers {
        receives(sub, Counts::default(), 20, 20, 1).await;
    }
    let (ok, counts) = publisher.wait_for(SOON, |c| c.keyframe_requests >= 1).await;
    assert!(ok, "publisher got no keyframe request: {counts:?}");

    // A viewer's own PLI reaches the publisher (throttled, never dropped).
    let before = publisher.counts().keyframe_requests;
    subscribers[1].1.request_keyframe();
    let (ok, counts) = publisher
        .wait_for(SOON, |c| c.keyframe_requests > before)
        .await;
    assert!(ok, "viewer's PLI not forwarded: {counts:?}");

    let stats = t
        .stats_until(|s| s.packets_in > 100 && s.packets_out > 3 * 100)
        .await;
    assert_eq!(
        (stats.peers, stats.publishers, stats.subscribers),
        (4, 1, 3),
        "{stats:?}"
    );
    assert!(stats.bytes_out > 0, "{stats:?}");
}

#[tokio::test]
async fn leaving_subscribers_are_reported_and_cleaned_up_while_the_others_keep_receiving() {
    let mut t = spawn_sfu().await;
    let (_pub_id, _publisher) = t.publish("room-2").await;
    let (closed_id, closed) = t.subscribe("room-2").await;
    let (hangup_id, hangup) = t.subscribe("room-2").await;
    let (vanish_id, vanish) = t.subscribe("room-2").await;
    let (_stay_id, stay) = t.subscribe("room-2").await;
    receives(&stay, Counts::default(), 10, 10, 1).await;

    // The control plane closes one: the SFU hangs up on it politely.
    t.sfu.close_peer(closed_id).await;
    assert_eq!(t.subscriber_down(closed_id).await, DownReason::Closed);
    let (ok, counts) = closed.wait_for(SOON, |c| c.closed).await;
    assert!(ok, "closed subscriber never saw the hang-up: {counts:?}");

    // One hangs up itself (DTLS close_notify).
    hangup.close().await;
    assert_eq!(t.subscriber_down(hangup_id).await, DownReason::DtlsClosed);

    // One vanishes without a word: ICE timeout.
    vanish.vanish();
    assert_eq!(t.subscriber_down(vanish_id).await, DownReason::IceTimeout);

    let stats = t.stats_until(|s| s.peers == 2).await;
    assert_eq!((stats.publishers, stats.subscribers), (1, 1), "{stats:?}");

    let since = stay.counts();
    receives(&stay, since, 25, 25, 0).await;

    // Closing an unknown (or already closed) peer is harmless.
    t.sfu.close_peer(closed_id).await;
    t.sfu.close_peer(PeerId(9_999)).await;
}

#[tokio::test]
async fn a_new_publisher_takes_over_and_viewers_resume_without_renegotiation() {
    let mut t = spawn_sfu().await;
    let (first_id, first) = t.publish("room-3").await;
    let (_a_id, a) = t.subscribe("room-3").await;
    let (_b_id, b) = t.subscribe("room-3").await;
    receives(&a, Counts::default(), 10, 10, 1).await;
    receives(&b, Counts::default(), 10, 10, 1).await;

    // The publisher leaves; viewers stay connected, waiting.
    first.close().await;
    assert_eq!(t.publisher_down(first_id).await, DownReason::DtlsClosed);

    // A new publisher comes: the same peer connections receive it.
    let (second_id, _second) = t.publish("room-3").await;
    let (since_a, since_b) = (a.counts(), b.counts());
    receives(&a, since_a, 25, 25, 1).await;
    receives(&b, since_b, 25, 25, 1).await;

    // Another one replaces it while it is live.
    let (third_id, third) = t.publish("room-3").await;
    assert_eq!(t.publisher_down(second_id).await, DownReason::Replaced);
    let (since_a, since_b) = (a.counts(), b.counts());
    receives(&a, since_a, 25, 25, 1).await;
    receives(&b, since_b, 25, 25, 1).await;
    let (ok, counts) = third.wait_for(SOON, |c| c.keyframe_requests >= 1).await;
    assert!(
        ok,
        "replacing publisher was not asked for a keyframe: {counts:?}"
    );
    let _ = third_id;

    let stats = t.stats_until(|s| s.peers == 3).await;
    assert_eq!((stats.publishers, stats.subscribers), (1, 2), "{stats:?}");
}

#[tokio::test]
async fn a_publisher_silent_while_connected_is_reported_stalled_then_resumed() {
    let mut t = spawn_sfu().await;
    let (id, publisher) = t.publish("room-stall").await;
    let (_viewer_id, viewer) = t.subscribe("room-stall").await;
    receives(&viewer, Counts::default(), 10, 10, 1).await;

    // A frozen camera: connected (STUN, RTCP), no RTP.
    publisher.pause_media(true);
    let stalled = t
        .expect(
            "the publisher stalled",
            |e| matches!(e, SfuEvent::PublisherStalled { peer, .. } if *peer == id),
        )
        .await;
    assert!(matches!(stalled, SfuEvent::PublisherStalled { ref room, .. } if room == "room-stall"));

    // Media again: resumed, and the viewer receives.
    publisher.pause_media(false);
    t.expect(
        "the publisher resumed",
        |e| matches!(e, SfuEvent::PublisherResumed { peer, .. } if *peer == id),
    )
    .await;
    let since = viewer.counts();
    receives(&viewer, since, 10, 10, 0).await;
    let stats = t.stats_until(|s| s.peers == 2).await;
    assert_eq!(stats.publishers, 1, "still connected throughout: {stats:?}");
}

#[tokio::test]
async fn bad_sdp_is_refused_and_the_sfu_keeps_serving_including_a_whep_viewer() {
    let mut t = spawn_sfu().await;
    let sfu = t.sfu.clone();

    let garbage = "this is not SDP\r\nm=nonsense\r\n";
    assert!(matches!(
        sfu.publish("room-4", garbage).await,
        Err(SfuError::InvalidSdp(_))
    ));
    assert!(matches!(
        sfu.subscribe_with_offer("room-4", garbage).await,
        Err(SfuError::InvalidSdp(_))
    ));
    let huge = format!("v=0\r\n{}", "a=x\r\n".repeat(MAX_SDP_BYTES / 5 + 1));
    assert!(matches!(
        sfu.publish("room-4", &huge).await,
        Err(SfuError::SdpTooLarge)
    ));
    assert!(matches!(
        sfu.accept_answer(PeerId(424_242), "v=0").await,
        Err(SfuError::UnknownPeer | SfuError::InvalidSdp(_))
    ));

    // Well-formed SDP that can't be accepted: no fingerprint.
    let (_pending, offer) = TestPeer::publisher_offer().unwrap();
    let no_fingerprint: String = offer
        .lines()
        .filter(|l| !l.starts_with("a=fingerprint"))
        .map(|l| format!("{l}\r\n"))
        .collect();
    assert!(matches!(
        sfu.publish("room-4", &no_fingerprint).await,
        Err(SfuError::InvalidSdp(_))
    ));

    // A garbage answer to a real offer is refused; the offer stays usable.
    let (sub_id, offer) = sfu.subscribe("room-4").await.unwrap();
    assert!(matches!(
        sfu.accept_answer(sub_id, garbage).await,
        Err(SfuError::InvalidSdp(_))
    ));
    assert!(matches!(
        sfu.accept_answer(sub_id, &huge).await,
        Err(SfuError::SdpTooLarge)
    ));
    let (late, answer) = TestPeer::answer(&offer).unwrap();
    sfu.accept_answer(sub_id, &answer).await.unwrap();
    t.subscriber_up(sub_id).await;
    // Answering twice is an error, not a crash.
    assert!(matches!(
        sfu.accept_answer(sub_id, &answer).await,
        Err(SfuError::NoPendingOffer)
    ));

    // Good peers are served: a publisher and a WHEP viewer (client offers).
    let (_pub_id, _publisher) = t.publish("room-4").await;
    let (whep_id, whep) = TestPeer::subscribe_whep(&sfu, "room-4").await.unwrap();
    t.subscriber_up(whep_id).await;
    receives(&whep, Counts::default(), 20, 20, 1).await;
    receives(&late, Counts::default(), 20, 20, 1).await;
}

#[tokio::test]
async fn a_viewer_waiting_before_the_publisher_receives_once_it_comes() {
    let mut t = spawn_sfu().await;
    let (_sub_id, early) = t.subscribe("room-5").await;
    let (_whep_id, early_whep) = TestPeer::subscribe_whep(&t.sfu, "room-5").await.unwrap();
    t.subscriber_up(_whep_id).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(early.counts().video_frames, 0);

    let (_pub_id, _publisher) = t.publish("room-5").await;
    receives(&early, Counts::default(), 20, 20, 1).await;
    receives(&early_whep, Counts::default(), 20, 20, 1).await;
}

#[tokio::test]
async fn a_peer_that_never_connects_is_dropped() {
    let mut t = spawn_sfu_with(Duration::from_millis(1500)).await;

    // An offer nobody answers, and a publisher answer never applied.
    let (silent, _offer) = t.sfu.subscribe("room-6").await.unwrap();
    let (_pending, offer) = TestPeer::publisher_offer().unwrap();
    let (ghost, _answer) = t.sfu.publish("room-6", &offer).await.unwrap();
    assert_eq!(t.subscriber_down(silent).await, DownReason::Timeout);
    assert_eq!(t.publisher_down(ghost).await, DownReason::Timeout);
    t.stats_until(|s| s.peers == 0).await;
}

#[tokio::test]
async fn closing_a_room_drops_everyone_in_it() {
    let mut t = spawn_sfu().await;
    let (other_pub, _other) = t.publish("room-8").await;
    let (pub_id, _publisher) = t.publish("room-7").await;
    let (sub_id, _sub) = t.subscribe("room-7").await;
    t.sfu.close_room("room-7").await;
    assert_eq!(t.publisher_down(pub_id).await, DownReason::Closed);
    assert_eq!(t.subscriber_down(sub_id).await, DownReason::Closed);
    let stats = t.stats_until(|s| s.peers == 1).await;
    assert_eq!(stats.publishers, 1, "{stats:?}");
    t.sfu.close_peer(other_pub).await;
    assert_eq!(t.publisher_down(other_pub).await, DownReason::Closed);
}

#[tokio::test]
async fn offers_are_checked_offline_as_publish_would() {
    let (_pending, offer) = streamshare_sfu::testing::TestPeer::publisher_offer().unwrap();
    let answer = streamshare_sfu::answer_offer_offline(&offer).unwrap();
    assert!(
        answer.contains("a=setup:") && answer.contains("VP8"),
        "{answer}"
    );
    assert!(streamshare_sfu::answer_offer_offline("v=0\r\ngarbage").is_err());
    let huge = "a".repeat(streamshare_sfu::MAX_SDP_BYTES + 1);
    assert!(matches!(
        streamshare_sfu::answer_offer_offline(&huge),
        Err(streamshare_sfu::SfuError::SdpTooLarge)
    ));
}

#[tokio::test]
async fn rooms_spread_over_shards_each_with_its_own_port_and_all_forward() {
    let mut t = spawn_sharded(Duration::from_secs(10), 2).await;
    let ports: Vec<u16> = t.sfu.local_addrs().iter().map(|a| a.port()).collect();
    assert_eq!(ports.len(), 2);
    assert_ne!(ports[0], ports[1]);

    // Enough rooms that both shards get some (the spread is by name).
    let rooms: Vec<String> = (0..6).map(|i| format!("shard-room-{i}")).collect();
    let mut used_ports = std::collections::BTreeSet::new();
    let mut running = Vec::new();
    for room in &rooms {
        let (_, publisher) = t.publish(room).await;
        let (viewer_id, viewer) = t.subscribe(room).await;
        running.push((room, publisher, viewer_id, viewer));
    }
    for (_, _, _, viewer) in &running {
        receives(viewer, Counts::default(), 10, 10, 1).await;
    }
    // Each room's offers name its shard's port.
    for room in &rooms {
        let (_, offer) = t.sfu.subscribe(room).await.unwrap();
        let port = ports
            .iter()
            .find(|p| offer.contains(&format!(" {p} typ host")))
            .copied()
            .expect("the offer's candidate is one of the shards' ports");
        used_ports.insert(port);
    }
    assert_eq!(used_ports.len(), 2, "all rooms landed on one shard");

    // Ids route to the right shard: closing one viewer leaves the others.
    let (_, _, closed_id, closed) = running.remove(0);
    t.sfu.close_peer(closed_id).await;
    assert_eq!(t.subscriber_down(closed_id).await, DownReason::Closed);
    let (ok, _) = closed.wait_for(SOON, |c| c.closed).await;
    assert!(ok, "the closed viewer's session did not end");
    for (_, _, _, viewer) in &running {
        receives(viewer, viewer.counts(), 5, 5, 0).await;
    }
    let stats = t.stats_until(|s| s.publishers == 6).await;
    assert_eq!(stats.subscribers, 5 + 6, "{stats:?}"); // 5 viewers + 6 offers pending
}

/// The `a=ice-ufrag` of an SDP.
fn ufrag(sdp: &str) -> String {
    sdp.lines()
        .find_map(|l| l.strip_prefix("a=ice-ufrag:"))
        .unwrap()
        .trim()
        .to_owned()
}

/// Restarts ICE on a running client peer through the SFU and checks the
/// SFU answered with new credentials of its own.
async fn restart(sfu: &Sfu, id: PeerId, peer: &TestPeer, old_sfu_ufrag: &str) -> String {
    let fragment = IceFragment::parse(&peer.restart_ice().await.unwrap()).unwrap();
    let IcePatch::Restarted(answer) = sfu.patch_ice(id, fragment.clone()).await.unwrap() else {
        panic!("new client credentials must restart ICE");
    };
    assert_ne!(answer.ufrag, old_sfu_ufrag, "the SFU's credentials change");
    assert!(!answer.candidates.is_empty() && answer.end_of_candidates);
    let connects = peer.counts().ice_connects;
    peer.finish_ice_restart(&answer.to_sdpfrag()).await.unwrap();
    // ICE connects again: the SFU answered checks on the new credentials.
    let (ok, counts) = peer.wait_for(SOON, |c| c.ice_connects > connects).await;
    assert!(ok, "ICE did not reconnect after the restart: {counts:?}");
    // The same fragment again is trickle for the new generation, not
    // another restart.
    assert_eq!(
        sfu.patch_ice(id, fragment).await.unwrap(),
        IcePatch::Trickled
    );
    answer.ufrag
}

#[tokio::test]
async fn ice_restarts_keep_a_publisher_and_a_whep_viewer_without_a_new_session() {
    let mut t = spawn_sfu().await;
    let sfu = t.sfu.clone();
    let (pending, offer) = TestPeer::publisher_offer().unwrap();
    let (pub_id, answer) = sfu.publish("room-ice", &offer).await.unwrap();
    let publisher = pending.complete(&answer).unwrap();
    t.publisher_up(pub_id).await;
    let pub_ufrag = ufrag(&answer);
    let (pending, offer) = TestPeer::whep_offer().unwrap();
    let (sub_id, answer) = sfu.subscribe_with_offer("room-ice", &offer).await.unwrap();
    let viewer = pending.complete(&answer).unwrap();
    t.subscriber_up(sub_id).await;
    receives(&viewer, Counts::default(), 10, 10, 1).await;

    // The viewer restarts ICE: media resumes on the same peer, twice in a
    // row.
    let first = restart(&sfu, sub_id, &viewer, &ufrag(&answer)).await;
    receives(&viewer, viewer.counts(), 10, 10, 0).await;
    let second = restart(&sfu, sub_id, &viewer, &first).await;
    receives(&viewer, viewer.counts(), 10, 10, 0).await;
    // So does the publisher; its viewer keeps receiving.
    let pub_ufrag = restart(&sfu, pub_id, &publisher, &pub_ufrag).await;
    receives(&viewer, viewer.counts(), 10, 10, 0).await;

    // A new network: the viewer's and then the publisher's old sockets
    // close; what arrives afterwards came over the restarted ICE.
    for (id, peer, old) in [(sub_id, &viewer, &second), (pub_id, &publisher, &pub_ufrag)] {
        let fragment =
            IceFragment::parse(&peer.restart_ice_from_new_address().await.unwrap()).unwrap();
        let IcePatch::Restarted(answer) = sfu.patch_ice(id, fragment).await.unwrap() else {
            panic!("new credentials restart ICE");
        };
        assert_ne!(&answer.ufrag, old);
        let connects = peer.counts().ice_connects;
        peer.finish_ice_restart(&answer.to_sdpfrag()).await.unwrap();
        let (ok, counts) = peer.wait_for(SOON, |c| c.ice_connects > connects).await;
        assert!(ok, "ICE reconnects from the new address: {counts:?}");
        receives(&viewer, viewer.counts(), 10, 10, 0).await;
    }

    // Past the SFU's ICE timeout (4 s here) both are still served: only
    // checks on the new credentials can have kept them alive.
    tokio::time::sleep(Duration::from_secs(6)).await;
    receives(&viewer, viewer.counts(), 10, 10, 0).await;
    assert!(
        !t.backlog.iter().any(|e| matches!(
            e,
            SfuEvent::SubscriberDown { .. } | SfuEvent::PublisherDown { .. }
        )),
        "{:?}",
        t.backlog
    );
    assert!(
        t.events.try_recv().is_err(),
        "no peer went down or came up again"
    );
    let stats = sfu.stats().await;
    assert_eq!((stats.publishers, stats.subscribers), (1, 1));
}

#[tokio::test]
async fn trickled_candidates_are_taken_and_bad_ice_patches_are_refused() {
    let mut t = spawn_sfu().await;
    let sfu = t.sfu.clone();
    let (_pub_id, _publisher) = t.publish("room-trickle").await;
    let (pending, offer) = TestPeer::whep_offer().unwrap();
    let (sub_id, answer) = sfu
        .subscribe_with_offer("room-trickle", &offer)
        .await
        .unwrap();
    let viewer = pending.complete(&answer).unwrap();
    t.subscriber_up(sub_id).await;

    // Trickle with the client's current credentials: candidates taken,
    // including ones the SFU can't use (an mDNS name), without a restart.
    let pwd = offer
        .lines()
        .find_map(|l| l.strip_prefix("a=ice-pwd:"))
        .unwrap()
        .trim();
    let trickle = format!(
        "a=ice-ufrag:{}\r\na=ice-pwd:{pwd}\r\nm=audio 9 UDP/TLS/RTP/SAVPF 0\r\na=mid:0\r\n\
         a=candidate:1 1 udp 2122260223 127.0.0.1 9 typ host\r\n\
         a=candidate:2 1 udp 2122260223 3f1c2b1e-5d1a-4b1a-9f1a-1a2b3c4d5e6f.local 9 typ host\r\n\
         a=end-of-candidates\r\n",
        ufrag(&offer)
    );
    let trickle = IceFragment::parse(&trickle).unwrap();
    assert_eq!(
        sfu.patch_ice(sub_id, trickle.clone()).await.unwrap(),
        IcePatch::Trickled
    );
    receives(&viewer, Counts::default(), 10, 10, 1).await;

    // Unknown peers, and peers that were not made from a client offer
    // (the SFU offered), can't be patched.
    assert!(matches!(
        sfu.patch_ice(PeerId(424_242), trickle.clone()).await,
        Err(SfuError::UnknownPeer)
    ));
    let (sio_id, _sio_viewer) = t.subscribe("room-trickle").await;
    let mut other = trickle.clone();
    other.ufrag = "fresh".into();
    assert!(matches!(
        sfu.patch_ice(sio_id, other).await,
        Err(SfuError::NoRemoteOffer)
    ));
    receives(&viewer, viewer.counts(), 10, 10, 0).await;
}

impl TestSfu {
    /// Pulls `room` from `origin` through an upstream; returns the
    /// upstream's peer here and the subscriber it is at the origin.
    async fn pull_from(&mut self, origin: &mut TestSfu, room: &str) -> (PeerId, PeerId) {
        let (upstream, offer) = self.sfu.open_upstream(room).await.unwrap();
        assert!(offer.contains("a=recvonly"), "{offer}");
        assert!(
            !offer.contains("a=ice-lite"),
            "an upstream is a full ICE agent"
        );
        let (at_origin, answer) = origin.sfu.subscribe_relay(room, &offer).await.unwrap();
        self.sfu.upstream_answer(upstream, &answer).await.unwrap();
        self.expect(
            "UpstreamUp",
            |e| matches!(e, SfuEvent::UpstreamUp { peer: p, .. } if *p == upstream),
        )
        .await;
        origin.subscriber_up(at_origin).await;
        (upstream, at_origin)
    }

    async fn upstream_down(&mut self, peer: PeerId) -> DownReason {
        match self
            .expect(
                "UpstreamDown",
                |e| matches!(e, SfuEvent::UpstreamDown { peer: p, .. } if *p == peer),
            )
            .await
        {
            SfuEvent::UpstreamDown { reason, .. } => reason,
            other => unreachable!("{other:?}"),
        }
    }
}

#[tokio::test]
async fn an_upstream_feeds_an_edge_sfu_whose_viewers_get_media_and_reach_the_publisher() {
    let mut origin = spawn_sfu().await;
    let mut edge = spawn_sfu().await;
    let (_pub_id, publisher) = origin.publish("cascade-1").await;
    // Two rooms from the same origin: each upstream has its own socket, so
    // the origin tells them apart.
    let (_other_pub, _other) = origin.publish("cascade-2").await;
    let (upstream, at_origin) = edge.pull_from(&mut origin, "cascade-1").await;
    let (upstream2, _) = edge.pull_from(&mut origin, "cascade-2").await;

    let mut viewers = Vec::new();
    for _ in 0..2 {
        viewers.push(edge.subscribe("cascade-1").await);
    }
    let (_, viewer2) = edge.subscribe("cascade-2").await;
    for (_, viewer) in &viewers {
        receives(viewer, Counts::default(), 20, 20, 1).await;
    }
    receives(&viewer2, Counts::default(), 10, 10, 1).await;

    // A viewer's PLI on the edge goes up to the publisher at the origin.
    let before = publisher.counts().keyframe_requests;
    viewers[0].1.request_keyframe();
    let (ok, counts) = publisher
        .wait_for(SOON, |c| c.keyframe_requests > before)
        .await;
    assert!(ok, "edge viewer's PLI not forwarded upstream: {counts:?}");

    let stats = edge.stats_until(|s| s.packets_out > 100).await;
    assert_eq!(
        (stats.publishers, stats.upstreams, stats.subscribers),
        (0, 2, 3),
        "{stats:?}"
    );
    let at = origin.stats_until(|s| s.subscribers == 2).await;
    assert_eq!((at.publishers, at.upstreams), (2, 0), "{at:?}");

    // The origin ends its side: the upstream is reported down, its
    // viewers stay (the control plane decides what happens to them).
    origin.sfu.close_peer(at_origin).await;
    let reason = edge.upstream_down(upstream).await;
    assert!(
        matches!(reason, DownReason::DtlsClosed | DownReason::IceTimeout),
        "{reason:?}"
    );
    let stats = edge.stats_until(|s| s.upstreams == 1).await;
    assert_eq!(stats.subscribers, 3, "{stats:?}");

    // A local publisher of the room replaces an upstream.
    let (_local, _local_pub) = edge.publish("cascade-2").await;
    assert_eq!(edge.upstream_down(upstream2).await, DownReason::Replaced);
}

#[tokio::test]
async fn an_unusable_upstream_answer_is_refused_and_the_upstream_dropped() {
    let mut edge = spawn_sfu().await;
    let (upstream, _offer) = edge.sfu.open_upstream("cascade-3").await.unwrap();
    assert!(matches!(
        edge.sfu.upstream_answer(upstream, "garbage").await,
        Err(SfuError::InvalidSdp(_))
    ));
    edge.sfu.close_peer(upstream).await;
    assert_eq!(edge.upstream_down(upstream).await, DownReason::Closed);
    edge.stats_until(|s| s.peers == 0 && s.upstreams == 0).await;
}
