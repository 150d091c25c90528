//! Media across instances (issue 14 item 5): real `streamshare serve`
//! processes sharing one database, a str0m publisher on instance A, str0m
//! viewers on B and C pulled through one upstream per edge, the internal
//! door closed to everyone but instances, the paywall at every door on
//! every instance, and the end of the session reaching the edges' viewers.

use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use mongodb::bson::{Document, doc, oid::ObjectId};
use secrecy::SecretString;
use serde_json::{Value, json};
use streamshare::cascade::InternalKeys;
use streamshare_sfu::testing::{TestPeer, wait_until_async};

use crate::helpers::{TEST_SECRET, TestApp, TestUser, free_port, serve_command, unique};
use crate::media_plane::{publish, receives_media, view};
use crate::socket::Sio;

const SOON: Duration = Duration::from_secs(20);
/// Longer than the SFU's keyframe-request throttle window.
const THROTTLE_GAP: Duration = Duration::from_millis(700);

/// One instance of the cluster: its process (killed on drop) and client.
struct Instance {
    child: Child,
    app: TestApp,
    id: String,
    log: std::path::PathBuf,
}

impl Drop for Instance {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts `streamshare serve` as instance `id` against `db_name`, its
/// internal URL pointing at itself, its media on a free UDP port.
async fn instance(db_name: &str, id: &str) -> Instance {
    let port = free_port();
    let log = std::env::temp_dir().join(unique(&format!("streamshare-{id}-")));
    let mut command = serve_command(port, db_name);
    command
        .env("STREAMSHARE_INSTANCE_ID", id)
        .env(
            "STREAMSHARE_INTERNAL_URL",
            format!("http://127.0.0.1:{port}"),
        )
        .env("STREAMSHARE_PUBLISHER_GRACE_SECS", "2")
        .env("STREAMSHARE_MEDIA_PEER_TIMEOUT_SECS", "5")
        .env("RUST_LOG", "info,streamshare=debug")
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap());
    let (child, app) = crate::helpers::start_process(command, port, db_name).await;
    Instance {
        child,
        app,
        id: id.to_owned(),
        log,
    }
}

/// A gauge's value on an instance's `/metrics`, summed over its series
/// (the media figures have one per SFU shard).
async fn gauge(app: &TestApp, name: &str) -> i64 {
    let text = app
        .http
        .get(app.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    crate::metrics::samples(&text, name)
        .iter()
        .map(|(_, v)| *v as i64)
        .reduce(|a, b| a + b)
        .unwrap_or_else(|| panic!("no {name} in the metrics"))
}

async fn upstreams(i: &Instance) -> i64 {
    gauge(&i.app, "streamshare_cascade_upstreams").await
}

/// Waits until the instance holds `n` upstreams.
async fn upstreams_become(i: &Instance, n: i64) {
    let (ok, seen) = wait_until_async(SOON, || async {
        let seen = upstreams(i).await;
        (seen == n, seen)
    })
    .await;
    assert!(
        ok,
        "instance {} holds {seen} upstreams, not {n} (log: {})",
        i.id,
        i.log.display()
    );
}

async fn room_doc(app: &TestApp, room: &Value) -> Document {
    let id = ObjectId::parse_str(room["id"].as_str().unwrap()).unwrap();
    app.db
        .collection::<Document>("rooms")
        .find_one(doc! { "_id": id })
        .await
        .unwrap()
        .unwrap()
}

/// A WHEP play on `app`: the HTTP status, and the player when it was let in.
async fn whep(app: &TestApp, viewer: &TestUser, room: &Value) -> (u16, Option<TestPeer>) {
    let (pending, offer) = TestPeer::whep_offer().unwrap();
    let resp = app
        .http
        .post(app.url(&format!("/api/media/whep/{}", room["id"].as_str().unwrap())))
        .bearer_auth(&viewer.token)
        .header("content-type", "application/sdp")
        .body(offer)
        .send()
        .await
        .unwrap();
    let status = resp.status().as_u16();
    if status != 201 {
        return (status, None);
    }
    let answer = resp.text().await.unwrap();
    (status, Some(pending.complete(&answer).unwrap()))
}

/// Time from asking to view (Socket.IO `media:view`) to the first keyframe.
async fn first_keyframe(sio: &mut Sio, room: &Value) -> (TestPeer, Duration) {
    let asked = Instant::now();
    let peer = view(sio, room).await;
    let (ok, counts) = peer.wait_for(SOON, |c| c.video_keyframes > 0).await;
    assert!(ok, "no keyframe: {counts:?}");
    (peer, asked.elapsed())
}

async fn paying_viewer(app: &TestApp, room: &Value, prefix: &str) -> (TestUser, Sio) {
    let viewer = app.register(prefix).await;
    app.pay(&viewer, room, None).await.assert_ok(200);
    let sio = Sio::connect(app, &viewer).await;
    (viewer, sio)
}

#[tokio::test]
async fn media_published_on_one_instance_reaches_viewers_on_two_others_through_one_upstream_each() {
    let db = unique("t_cascade_");
    let a = instance(&db, "inst-a").await;
    let b = instance(&db, "inst-b").await;
    let c = instance(&db, "inst-c").await;

    // The creator publishes on A: A is the room's media home.
    let creator = a.app.register("cr").await;
    let room = a.app.live_room(&creator, 10).await;
    let (_creator_sio, publisher) = publish(&a.app, &creator, &room).await;
    let (homed, home) = wait_until_async(SOON, || async {
        let doc = room_doc(&a.app, &room).await;
        let home = doc.get_document("mediaHome").ok().cloned();
        (home.is_some(), home)
    })
    .await;
    assert!(homed, "no media home recorded");
    let home = home.unwrap();
    assert_eq!(home.get_str("instanceId").unwrap(), "inst-a");
    assert_eq!(home.get_str("url").unwrap(), a.app.base);
    // Never in the public room JSON.
    let public = b
        .app
        .get(
            &format!("/api/rooms/{}", room["id"].as_str().unwrap()),
            None,
        )
        .await;
    assert!(public.body.get("mediaHome").is_none(), "{:?}", public.body);

    // A viewer on the home, then the first (cold) viewer on edge C: the
    // difference is the first-frame cost of one cascade hop.
    // Joins are spaced past the SFU's keyframe-request throttle (500 ms per
    // publisher track, shared by every instance's requests), as the
    // first-frame benchmark spaces them.
    let (_hv, mut home_sio) = paying_viewer(&a.app, &room, "vh").await;
    tokio::time::sleep(THROTTLE_GAP).await;
    let (home_peer, on_home) = first_keyframe(&mut home_sio, &room).await;
    let (c_viewer, mut c_sio) = paying_viewer(&c.app, &room, "vc").await;
    c_sio.ok("room:join", json!({"roomId": room["id"]})).await;
    tokio::time::sleep(THROTTLE_GAP).await;
    let (c_peer, on_edge) = first_keyframe(&mut c_sio, &room).await;
    println!(
        "cascade first keyframe: home {} ms, cold edge {} ms (one hop: +{} ms)",
        on_home.as_millis(),
        on_edge.as_millis(),
        on_edge.as_millis() as i64 - on_home.as_millis() as i64
    );
    receives_media(&home_peer).await;
    receives_media(&c_peer).await;

    // Several viewers join edge B at once, over both doors: one upstream.
    let mut joins = Vec::new();
    for i in 0..3 {
        let b_app = &b.app;
        let room = &room;
        joins.push(async move {
            let (viewer, mut sio) = paying_viewer(b_app, room, &format!("vb{i}")).await;
            if i == 0 {
                let (status, player) = whep(b_app, &viewer, room).await;
                assert_eq!(status, 201);
                (sio, player.unwrap())
            } else {
                let peer = view(&mut sio, room).await;
                (sio, peer)
            }
        });
    }
    let b_viewers = futures::future::join_all(joins).await;
    for (_, peer) in &b_viewers {
        receives_media(peer).await;
    }
    // And a second viewer on C rides the same upstream.
    let (_cv2, mut c_sio2) = paying_viewer(&c.app, &room, "vc2").await;
    tokio::time::sleep(THROTTLE_GAP).await;
    let (c_peer2, warm_edge) = first_keyframe(&mut c_sio2, &room).await;
    println!(
        "cascade first keyframe: warm edge {} ms",
        warm_edge.as_millis()
    );
    receives_media(&c_peer2).await;
    assert_eq!(upstreams(&c).await, 1, "exactly one upstream on C");
    assert_eq!(upstreams(&b).await, 1, "exactly one upstream on B");
    assert_eq!(upstreams(&a).await, 0, "the home pulls from nobody");
    assert_eq!(gauge(&a.app, "streamshare_media_publishers").await, 1);

    // A viewer's keyframe request on an edge reaches the publisher on A.
    let before = publisher.counts().keyframe_requests;
    b_viewers[1].1.request_keyframe();
    let (asked, counts) = publisher
        .wait_for(SOON, |c| c.keyframe_requests > before)
        .await;
    assert!(
        asked,
        "an edge viewer's PLI never reached the publisher: {counts:?}"
    );

    // The paywall holds on the edges, at both doors.
    let stranger = b.app.register("st").await;
    let mut stranger_sio = Sio::connect(&b.app, &stranger).await;
    stranger_sio
        .refused(
            "media:view",
            json!({"roomId": room["id"]}),
            "payment_required",
        )
        .await;
    let (status, _) = whep(&b.app, &stranger, &room).await;
    assert_eq!(status, 403, "WHEP on an edge without paying");

    // The internal door: user tokens and no token are refused, a
    // credential for another room too, and only the home answers.
    let door = |app: &TestApp, room_id: &str| app.url(&format!("/internal/cascade/{room_id}"));
    let room_id = room["id"].as_str().unwrap();
    let (_pending, offer) = TestPeer::whep_offer().unwrap();
    for token in [
        Some(creator.token.as_str()),
        Some(stranger.token.as_str()),
        None,
    ] {
        let mut req = a
            .app
            .http
            .post(door(&a.app, room_id))
            .header("content-type", "application/sdp")
            .body(offer.clone());
        if let Some(token) = token {
            req = req.bearer_auth(token);
        }
        let status = req.send().await.unwrap().status().as_u16();
        assert_eq!(status, 401, "a user token (or none) at the internal door");
    }
    let keys = InternalKeys::new(&SecretString::from(TEST_SECRET.to_owned()));
    let room_oid = ObjectId::parse_str(room_id).unwrap();
    let other_room = keys.issue("inst-b", ObjectId::new()).unwrap();
    let status = a
        .app
        .http
        .post(door(&a.app, room_id))
        .bearer_auth(&other_room)
        .header("content-type", "application/sdp")
        .body(offer.clone())
        .send()
        .await
        .unwrap()
        .status()
        .as_u16();
    assert_eq!(status, 403, "a credential for another room");
    let good = keys.issue("inst-c", room_oid).unwrap();
    let not_home = b
        .app
        .http
        .post(door(&c.app, room_id))
        .bearer_auth(&good)
        .header("content-type", "application/sdp")
        .body(offer.clone())
        .send()
        .await
        .unwrap()
        .status()
        .as_u16();
    assert_eq!(not_home, 409, "only the home answers");
    // An internal credential is no user token either.
    let as_user = a.app.get("/api/users/balance", Some(&good)).await;
    assert_eq!(as_user.status.as_u16(), 401);

    // C's viewers leave: its upstream goes after the linger; B keeps its.
    for (sio, peer) in b_viewers {
        peer.close().await;
        sio.close().await;
    }
    upstreams_become(&b, 0).await;
    assert_eq!(upstreams(&c).await, 1);
    // The home saw C's pull go: its subscribers are its own viewer and B.
    let (gone, subscribers) = wait_until_async(SOON, || async {
        let n = gauge(&a.app, "streamshare_media_subscribers").await;
        (n == 2, n)
    })
    .await;
    assert!(gone, "the home still has {subscribers} subscribers");
    // Viewers on an edge got media: their payments count as delivered.
    let access = a
        .app
        .db
        .collection::<Document>("room_access")
        .find_one(doc! { "viewerId": c_viewer.oid() })
        .await
        .unwrap()
        .unwrap();
    assert!(
        access.get_datetime("mediaAt").is_ok(),
        "an edge viewer's first picture was not recorded: {access:?}"
    );

    // The creator ends the session on A: the viewers on C are told and
    // their media ends; B's upstream goes.
    a.app
        .send(
            reqwest::Method::DELETE,
            &format!("/api/rooms/{room_id}/live"),
            Some(&creator.token),
            None,
        )
        .await
        .assert_ok(200);
    let ended = c_sio.next("room:ended").await;
    assert_eq!(ended["roomId"], room["id"]);
    for peer in [&c_peer, &c_peer2] {
        let (closed, counts) = peer.wait_for(SOON, |c| c.closed).await;
        assert!(closed, "an edge viewer's media did not end: {counts:?}");
    }
    upstreams_become(&c, 0).await;
    let doc = room_doc(&a.app, &room).await;
    assert!(
        matches!(doc.get("mediaHome"), None | Some(mongodb::bson::Bson::Null)),
        "{doc:?}"
    );
    drop(publisher);
}

#[tokio::test]
async fn when_the_home_dies_viewers_on_an_edge_see_the_room_away_then_ended() {
    let db = unique("t_cascade_");
    let mut a = instance(&db, "home-a").await;
    let b = instance(&db, "edge-b").await;
    let creator = a.app.register("cr").await;
    let room = a.app.live_room(&creator, 10).await;
    let (_creator_sio, publisher) = publish(&a.app, &creator, &room).await;
    let (_v, mut sio) = paying_viewer(&b.app, &room, "vb").await;
    sio.ok("room:join", json!({"roomId": room["id"]})).await;
    let (peer, _) = first_keyframe(&mut sio, &room).await;
    receives_media(&peer).await;

    // The home is killed (no goodbye): B's upstream times out, B finds
    // the home unreachable, the room is away, then ends after the grace.
    let _ = a.child.kill();
    let _ = a.child.wait();
    drop(publisher);
    let away = sio.next("room:away").await;
    assert_eq!(away["roomId"], room["id"]);
    sio.next("room:ended").await;
    let (closed, counts) = peer.wait_for(SOON, |c| c.closed).await;
    assert!(closed, "the edge viewer's media did not end: {counts:?}");
    let doc = room_doc(&b.app, &room).await;
    assert_eq!(doc.get_str("status").unwrap(), "offline");
    upstreams_become(&b, 0).await;
}

#[tokio::test]
async fn when_the_publisher_moves_to_another_instance_edge_viewers_follow_it() {
    let db = unique("t_cascade_");
    let a = instance(&db, "first-a").await;
    let b = instance(&db, "edge-b").await;
    let c = instance(&db, "second-c").await;
    let creator = a.app.register("cr").await;
    let room = a.app.live_room(&creator, 10).await;
    let (_studio_a, first) = publish(&a.app, &creator, &room).await;
    let (_v, mut sio) = paying_viewer(&b.app, &room, "vb").await;
    sio.ok("room:join", json!({"roomId": room["id"]})).await;
    let (peer, _) = first_keyframe(&mut sio, &room).await;
    receives_media(&peer).await;

    // The creator's media now goes through C (another network, a new
    // tab); the old publisher on A hangs up afterwards.
    let (_studio_c, second) = publish(&c.app, &creator, &room).await;
    let (moved, home) = wait_until_async(SOON, || async {
        let doc = room_doc(&a.app, &room).await;
        let home = doc
            .get_document("mediaHome")
            .ok()
            .and_then(|h| h.get_str("instanceId").ok().map(str::to_owned));
        (home.as_deref() == Some("second-c"), home)
    })
    .await;
    assert!(moved, "the home did not move to C: {home:?}");
    first.close().await;

    // B's viewer keeps receiving, now from C, through one upstream; the
    // room is not away (the publisher did not leave, it moved).
    let before = peer.counts();
    let (ok, counts) = peer
        .wait_for(SOON, |c| {
            c.video_frames > before.video_frames + 30 && c.video_keyframes > before.video_keyframes
        })
        .await;
    assert!(
        ok,
        "the edge viewer froze after the move: {before:?} -> {counts:?}"
    );
    assert!(second.counts().video_sent > 0);
    assert_eq!(upstreams(&b).await, 1);
    sio.none("room:away", Duration::from_millis(500)).await;
    let doc = room_doc(&b.app, &room).await;
    assert_eq!(doc.get_str("status").unwrap(), "live");
    assert!(
        matches!(doc.get("awayUntil"), None | Some(mongodb::bson::Bson::Null)),
        "{doc:?}"
    );
}
