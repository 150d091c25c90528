//! Never charge for a picture that isn't there (issue 25): a room whose
//! creator's media is gone is `away` and sells nothing until it returns;
//! a session that dies refunds, once, those who paid and saw (almost)
//! nothing, even across a crash.

use std::time::{Duration, Instant};

use mongodb::bson::{Document, doc};
use serde_json::json;
use streamshare_sfu::testing::TestPeer;

use crate::helpers::{TestApp, TestUser, shared_db_uri, spawn_app_with, spawn_process, unique};
use crate::media_plane::{publish, receives_media, view};
use crate::socket::Sio;

async fn room_of(app: &TestApp, room: &serde_json::Value) -> serde_json::Value {
    let id = room["id"].as_str().unwrap();
    app.get(&format!("/api/rooms/{id}"), None).await.body
}

/// A paying viewer in the room, watching; their socket and peer.
async fn watching_viewer(
    app: &TestApp,
    room: &serde_json::Value,
    prefix: &str,
) -> (TestUser, Sio, TestPeer) {
    let viewer = app.register(prefix).await;
    app.pay(&viewer, room, None).await.assert_ok(200);
    let mut sio = Sio::connect(app, &viewer).await;
    sio.ok("room:join", json!({ "roomId": room["id"] })).await;
    let peer = view(&mut sio, room).await;
    receives_media(&peer).await;
    (viewer, sio, peer)
}

#[tokio::test]
async fn a_room_whose_creator_left_is_away_and_sells_nothing_until_the_picture_is_back() {
    let app = spawn_app_with(&shared_db_uri(), |s| s.publisher_grace_secs = 60).await;
    let creator = app.register("host").await;
    let room = app.live_room(&creator, 5).await;
    let (mut studio, publisher) = publish(&app, &creator, &room).await;
    let (_viewer, viewer_sio, _peer) = watching_viewer(&app, &room, "vw").await;
    assert!(room_of(&app, &room).await["awayUntil"].is_null());

    // A newcomer at the pay gate follows the room without paying.
    let newcomer = app.register("new").await;
    let mut gate = Sio::connect(&app, &newcomer).await;
    let watched = gate.ok("room:watch", json!({ "roomId": room["id"] })).await;
    assert_eq!(watched["room"]["id"], room["id"]);

    // The creator's media goes: everyone hears it at once.
    let left = Instant::now();
    publisher.close().await;
    let away = viewer_sio.next("room:away").await;
    assert_eq!(away["roomId"], room["id"]);
    assert!(away["awayUntil"].is_string());
    gate.next("room:away").await;
    assert!(
        left.elapsed() < Duration::from_secs(5),
        "away took {:?}",
        left.elapsed()
    );
    assert!(room_of(&app, &room).await["awayUntil"].is_string());

    let refused = app.pay(&newcomer, &room, None).await;
    refused.assert_error(409, "publisher_away");
    let left = refused.body["error"]["graceSecondsLeft"].as_i64().unwrap();
    assert!((1..=60).contains(&left), "{left}");
    assert_eq!(app.balance(&newcomer).await, 100, "nothing was charged");

    // The creator comes back within the grace: payable again.
    let (pending, offer) = TestPeer::publisher_offer().unwrap();
    let ack = studio
        .ok(
            "media:publish",
            json!({ "roomId": room["id"], "sdp": offer }),
        )
        .await;
    let _back_publisher = pending.complete(ack["sdp"].as_str().unwrap()).unwrap();
    assert_eq!(gate.next("room:back").await["roomId"], room["id"]);
    viewer_sio.next("room:back").await;
    assert!(room_of(&app, &room).await["awayUntil"].is_null());
    app.pay(&newcomer, &room, None).await.assert_ok(200);
    gate.ok("room:join", json!({ "roomId": room["id"] })).await;
    let peer = view(&mut gate, &room).await;
    receives_media(&peer).await;
    app.assert_ledger_invariants().await;
}

#[tokio::test]
async fn a_frozen_camera_makes_the_room_away_until_its_media_flows_again() {
    let app = spawn_app_with(&shared_db_uri(), |s| s.publisher_grace_secs = 60).await;
    let creator = app.register("host").await;
    let room = app.live_room(&creator, 5).await;
    let (_studio, publisher) = publish(&app, &creator, &room).await;
    let (_viewer, viewer_sio, _peer) = watching_viewer(&app, &room, "vw").await;
    let newcomer = app.register("new").await;

    // Still connected, no media: away after the stall time.
    publisher.pause_media(true);
    viewer_sio.next("room:away").await;
    app.pay(&newcomer, &room, None)
        .await
        .assert_error(409, "publisher_away");

    // Media again: back, and payable.
    publisher.pause_media(false);
    viewer_sio.next("room:back").await;
    app.pay(&newcomer, &room, None).await.assert_ok(200);
    assert_eq!(room_of(&app, &room).await["status"], "live");
}

fn balance_of(users: &[Document], user: &TestUser) -> i64 {
    users
        .iter()
        .find(|u| u.get_object_id("_id").ok() == Some(user.oid()))
        .and_then(|u| u.get_i64("coins").ok())
        .unwrap()
}

#[tokio::test]
async fn a_dead_session_refunds_who_saw_nothing_once_even_across_a_crash() {
    let db_name = unique("t_");
    let settings = [
        ("STREAMSHARE_PUBLISHER_GRACE_SECS", "5"),
        ("STREAMSHARE_REFUND_MIN_MEDIA_SECS", "2"),
    ];
    let (mut first, app) = spawn_process(&db_name, &settings).await;
    let creator = app.register("host").await;
    let room = app.live_room(&creator, 5).await;
    let (_studio, publisher) = publish(&app, &creator, &room).await;
    // One viewer watches long enough; one pays and never gets a picture;
    // one paid long before the end (outside the refund window).
    let (watcher, _watcher_sio, _peer) = watching_viewer(&app, &room, "saw").await;
    let blind = app.register("blind").await;
    app.pay(&blind, &room, None).await.assert_ok(200);
    let early = app.register("early").await;
    app.pay(&early, &room, None).await.assert_ok(200);
    app.db
        .collection::<Document>("room_access")
        .update_one(
            doc! { "viewerId": early.oid() },
            doc! { "$set": { "createdAt": mongodb::bson::DateTime::from_millis(
            mongodb::bson::DateTime::now().timestamp_millis() - 3_600_000) } },
        )
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(2500)).await;

    // The creator's media goes, and the server dies before the grace ends.
    publisher.close().await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    first.kill().unwrap();
    first.wait().unwrap();

    // The next server finds the live room without a publisher: it ends
    // after the grace, and the blind payment comes back.
    let (mut second, app) = spawn_process(&db_name, &settings).await;
    let blind_sio = Sio::connect(&app, &blind).await;
    let refunded = blind_sio.next("payment:refunded").await;
    assert_eq!(refunded["amount"], 5);
    assert_eq!(refunded["roomId"], room["id"]);
    assert_eq!(room_of(&app, &room).await["status"], "offline");
    second.kill().unwrap();
    second.wait().unwrap();

    // A third start settles nothing twice.
    let (mut third, app) = spawn_process(&db_name, &settings).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let users = app.all("users").await;
    assert_eq!(balance_of(&users, &blind), 100, "refunded once");
    assert_eq!(balance_of(&users, &watcher), 95, "watched: no refund");
    assert_eq!(
        balance_of(&users, &early),
        95,
        "outside the window: no refund"
    );
    assert_eq!(balance_of(&users, &creator), 110);
    let refunds = app
        .db
        .collection::<Document>("transactions")
        .count_documents(doc! { "kind": "refund" })
        .await
        .unwrap();
    assert_eq!(refunds, 1);
    let listed = app
        .get("/api/transactions?kind=refund", Some(&blind.token))
        .await;
    assert_eq!(listed.assert_ok(200)["items"][0]["amount"], 5);
    assert!(listed.body["items"][0]["refundOf"].is_string());
    app.assert_ledger_invariants().await;
    third.kill().unwrap();
    third.wait().unwrap();
}
