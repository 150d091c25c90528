//! The media plane through the control plane's doors: Socket.IO signaling,
//! WHIP and WHEP, with real WebRTC peers (str0m) over UDP on loopback.

use std::time::Duration;

use reqwest::Method;
use serde_json::{Value, json};
use streamshare_sfu::testing::TestPeer;

use crate::helpers::{Reply, TestApp, TestUser, spawn_app};
use crate::socket::Sio;

const MEDIA_WAIT: Duration = Duration::from_secs(20);

fn room_id(room: &Value) -> &str {
    room["id"].as_str().unwrap()
}

/// The creator publishes through `media:publish`; returns the publishing peer.
pub(crate) async fn publish(app: &TestApp, creator: &TestUser, room: &Value) -> (Sio, TestPeer) {
    let mut sio = Sio::connect(app, creator).await;
    let (pending, offer) = TestPeer::publisher_offer().unwrap();
    let ack = sio
        .ok("media:publish", json!({"roomId": room["id"], "sdp": offer}))
        .await;
    let publisher = pending.complete(ack["sdp"].as_str().unwrap()).unwrap();
    (sio, publisher)
}

/// A viewer asks for the stream with `media:view` and answers the SFU's offer.
pub(crate) async fn view(sio: &mut Sio, room: &Value) -> TestPeer {
    let ack = sio.ok("media:view", json!({"roomId": room["id"]})).await;
    let (peer, answer) = TestPeer::answer(ack["sdp"].as_str().unwrap()).unwrap();
    sio.ok("media:answer", json!({"roomId": room["id"], "sdp": answer}))
        .await;
    peer
}

pub(crate) async fn receives_media(peer: &TestPeer) {
    let (ok, counts) = peer
        .wait_for(MEDIA_WAIT, |c| {
            c.audio_frames > 5 && c.video_frames > 5 && c.video_keyframes > 0
        })
        .await;
    assert!(ok, "no audio and video arrived: {counts:?}");
}

#[tokio::test]
async fn a_paying_viewer_receives_the_creators_audio_and_video() {
    let app = spawn_app().await;
    let creator = app.register("cr").await;
    let room = app.live_room(&creator, 20).await;
    let (_creator_sio, publisher) = publish(&app, &creator, &room).await;

    let mut viewers = Vec::new();
    for i in 0..2 {
        let viewer = app.register(&format!("vw{i}")).await;
        app.pay(&viewer, &room, None).await.assert_ok(200);
        let mut sio = Sio::connect(&app, &viewer).await;
        let peer = view(&mut sio, &room).await;
        viewers.push((sio, peer));
    }
    for (_, peer) in &viewers {
        receives_media(peer).await;
    }
    let (asked, counts) = publisher
        .wait_for(MEDIA_WAIT, |c| c.keyframe_requests > 0)
        .await;
    assert!(
        asked,
        "the publisher was never asked for a keyframe: {counts:?}"
    );
}

#[tokio::test]
async fn the_media_doors_refuse_what_they_must_and_keep_serving() {
    let app = spawn_app().await;
    let creator = app.register("cr").await;
    let room = app.live_room(&creator, 20).await;
    let stranger = app.register("st").await;
    let mut sio = Sio::connect(&app, &stranger).await;

    // No payment: nothing at the Socket.IO door.
    sio.refused(
        "media:view",
        json!({"roomId": room["id"]}),
        "payment_required",
    )
    .await;
    sio.refused(
        "media:answer",
        json!({"roomId": room["id"], "sdp": "v=0"}),
        "no_media_session",
    )
    .await;
    // Someone else's room: no publishing into it.
    let (_pending, offer) = TestPeer::publisher_offer().unwrap();
    sio.refused(
        "media:publish",
        json!({"roomId": room["id"], "sdp": offer}),
        "forbidden",
    )
    .await;

    // Garbage and oversized SDP from the creator: a clear error.
    let mut creator_sio = Sio::connect(&app, &creator).await;
    let bad = creator_sio
        .refused(
            "media:publish",
            json!({"roomId": room["id"], "sdp": "v=0\r\nthis is not sdp"}),
            "validation_failed",
        )
        .await;
    assert_eq!(bad["error"]["field"], "sdp");
    let huge = format!("v=0\r\n{}", "a=x\r\n".repeat(10_000));
    creator_sio
        .refused(
            "media:publish",
            json!({"roomId": room["id"], "sdp": huge}),
            "validation_failed",
        )
        .await;
    creator_sio
        .refused(
            "media:publish",
            json!({"roomId": room["id"]}),
            "validation_failed",
        )
        .await;

    // The server and the media plane still work.
    let (_sio, publisher) = publish(&app, &creator, &room).await;
    let viewer = app.register("vw").await;
    app.pay(&viewer, &room, None).await.assert_ok(200);
    let mut viewer_sio = Sio::connect(&app, &viewer).await;
    let peer = view(&mut viewer_sio, &room).await;
    receives_media(&peer).await;
    drop(publisher);
}

async fn post_sdp(app: &TestApp, path: &str, bearer: &str, sdp: &str) -> reqwest::Response {
    app.http
        .post(app.url(path))
        .bearer_auth(bearer)
        .header("content-type", "application/sdp")
        .body(sdp.to_owned())
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn obs_publishes_with_whip_and_a_viewer_plays_with_whep() {
    let app = spawn_app().await;
    let creator = app.register("obs").await;
    let room = app
        .post(
            "/api/rooms",
            Some(&creator.token),
            json!({"title": "OBS show", "price": 15}),
        )
        .await
        .assert_ok(201)
        .clone();
    let id = room_id(&room);
    let key = app
        .get(&format!("/api/rooms/{id}/stream-key"), Some(&creator.token))
        .await
        .body["streamKey"]
        .as_str()
        .unwrap()
        .to_owned();
    let whip = format!("/api/media/whip/{id}");

    let (_pending, offer) = TestPeer::publisher_offer().unwrap();
    let wrong = Reply::from(post_sdp(&app, &whip, "sk_wrong", &offer).await).await;
    wrong.assert_error(401, "unauthorized");
    let stranger = app.register("st").await;
    Reply::from(post_sdp(&app, &whip, &stranger.token, &offer).await)
        .await
        .assert_error(403, "forbidden");

    // Start Streaming: the room goes live with the stream key.
    let (pending, offer) = TestPeer::publisher_offer().unwrap();
    let resp = post_sdp(&app, &whip, &key, &offer).await;
    assert_eq!(resp.status(), 201);
    assert_eq!(resp.headers()["content-type"], "application/sdp");
    let location = resp.headers()["location"].to_str().unwrap().to_owned();
    assert!(location.starts_with(&format!("{whip}/")), "{location}");
    let publisher = pending.complete(&resp.text().await.unwrap()).unwrap();
    let live = app.get(&format!("/api/rooms/{id}"), None).await;
    assert_eq!(live.body["status"], "live");
    let room = live.body.clone();

    // WHEP: refused before paying, plays after.
    let viewer = app.register("vw").await;
    let whep = format!("/api/media/whep/{id}");
    let (_p, whep_offer) = TestPeer::whep_offer().unwrap();
    Reply::from(post_sdp(&app, &whep, &viewer.token, &whep_offer).await)
        .await
        .assert_error(403, "payment_required");
    app.pay(&viewer, &room, None).await.assert_ok(200);
    let (pending, whep_offer) = TestPeer::whep_offer().unwrap();
    let resp = post_sdp(&app, &whep, &viewer.token, &whep_offer).await;
    assert_eq!(resp.status(), 201);
    let whep_location = resp.headers()["location"].to_str().unwrap().to_owned();
    let player = pending.complete(&resp.text().await.unwrap()).unwrap();
    receives_media(&player).await;
    assert!(publisher.counts().keyframe_requests > 0);

    // Only its owner ends a WHEP session (PATCH: whip_whep.rs).
    let other = app.register("ot").await;
    app.send(Method::DELETE, &whep_location, Some(&other.token), None)
        .await
        .assert_error(403, "forbidden");
    assert_eq!(
        app.send(Method::DELETE, &whep_location, Some(&viewer.token), None)
            .await
            .status,
        200
    );
    let (closed, _) = player.wait_for(MEDIA_WAIT, |c| c.closed).await;
    assert!(closed, "the WHEP session ended");

    // Stop Streaming: after the grace period the session ends for everyone.
    let mut sio = Sio::connect(&app, &viewer).await;
    app.pay(&viewer, &room, None).await.assert_ok(200);
    sio.ok("room:join", json!({"roomId": id})).await;
    assert_eq!(
        app.send(Method::DELETE, &location, Some(&key), None)
            .await
            .status,
        200
    );
    assert_eq!(sio.next("room:ended").await["roomId"], id);
    assert_eq!(
        app.get(&format!("/api/rooms/{id}"), None).await.body["status"],
        "offline"
    );
}

#[tokio::test]
async fn a_viewers_media_stops_when_their_access_ends() {
    let app = spawn_app().await;
    let creator = app.register("cr").await;
    let room = app.live_room(&creator, 5).await;
    let (mut creator_sio, _publisher) = publish(&app, &creator, &room).await;
    creator_sio
        .ok("room:join", json!({"roomId": room["id"]}))
        .await;

    let banned = app.register("bad").await;
    app.pay(&banned, &room, None).await.assert_ok(200);
    let mut banned_sio = Sio::connect(&app, &banned).await;
    banned_sio
        .ok("room:join", json!({"roomId": room["id"]}))
        .await;
    let banned_peer = view(&mut banned_sio, &room).await;
    receives_media(&banned_peer).await;

    let good = app.register("good").await;
    app.pay(&good, &room, None).await.assert_ok(200);
    let mut good_sio = Sio::connect(&app, &good).await;
    let good_peer = view(&mut good_sio, &room).await;
    receives_media(&good_peer).await;

    creator_sio
        .ok(
            "chat:ban",
            json!({"roomId": room["id"], "userId": banned.id}),
        )
        .await;
    let (closed, _) = banned_peer.wait_for(MEDIA_WAIT, |c| c.closed).await;
    assert!(closed, "a banned viewer's media stops");
    banned_sio
        .refused("media:view", json!({"roomId": room["id"]}), "banned")
        .await;
    assert!(!good_peer.counts().closed);

    // The session ends: every viewer's media stops.
    let id = room_id(&room);
    app.send(
        Method::DELETE,
        &format!("/api/rooms/{id}/live"),
        Some(&creator.token),
        None,
    )
    .await
    .assert_ok(200);
    let (closed, _) = good_peer.wait_for(MEDIA_WAIT, |c| c.closed).await;
    assert!(closed, "media stops when the session ends");
    good_sio
        .refused("media:view", json!({"roomId": room["id"]}), "room_not_live")
        .await;
}

#[tokio::test]
async fn one_user_holds_a_bounded_number_of_streams_per_room() {
    let app = spawn_app().await;
    let creator = app.register("cr").await;
    let room = app.live_room(&creator, 0).await;
    let viewer = app.register("vw").await;
    let mut tabs = Vec::new();
    for _ in 0..3 {
        let mut sio = Sio::connect(&app, &viewer).await;
        sio.ok("media:view", json!({"roomId": room["id"]})).await;
        // Viewing again from the same tab replaces its stream: still one.
        sio.ok("media:view", json!({"roomId": room["id"]})).await;
        tabs.push(sio);
    }
    let mut fourth = Sio::connect(&app, &viewer).await;
    fourth
        .refused(
            "media:view",
            json!({"roomId": room["id"]}),
            "too_many_streams",
        )
        .await;
    // Closing a tab frees its place.
    tabs.pop().unwrap().close().await;
    let mut freed = false;
    for _ in 0..50 {
        if fourth
            .emit("media:view", json!({"roomId": room["id"]}))
            .await["ok"]
            == true
        {
            freed = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(freed, "a closed tab's stream no longer counts");
}

#[tokio::test]
async fn a_vanished_publisher_ends_the_session_after_the_grace_period() {
    let app = spawn_app().await;
    let creator = app.register("cr").await;
    let room = app.live_room(&creator, 0).await;
    let (_creator_sio, publisher) = publish(&app, &creator, &room).await;
    let viewer = app.register("vw").await;
    let mut sio = Sio::connect(&app, &viewer).await;
    sio.ok("room:join", json!({"roomId": room["id"]})).await;
    let peer = view(&mut sio, &room).await;
    receives_media(&peer).await;

    // The creator's machine drops off the network: no goodbye at all.
    publisher.vanish();
    assert_eq!(sio.next("room:ended").await["roomId"], room["id"]);
    let id = room_id(&room);
    assert_eq!(
        app.get(&format!("/api/rooms/{id}"), None).await.body["status"],
        "offline"
    );
    let (closed, _) = peer.wait_for(MEDIA_WAIT, |c| c.closed).await;
    assert!(closed, "the viewer's media ends with the session");
}
