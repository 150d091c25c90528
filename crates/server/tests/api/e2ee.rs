//! End-to-end encrypted rooms: the setting, the doors that must refuse
//! plain media, and the key relay that reaches only viewers with access.

use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{TestApp, TestUser, spawn_app, unique};
use crate::socket::Sio;

const QUIET: Duration = Duration::from_millis(400);

fn id(room: &Value) -> &str {
    room["id"].as_str().unwrap()
}

fn join(room: &Value) -> Value {
    json!({ "roomId": room["id"] })
}

/// A public key of the right shape (the server relays it, never uses it).
fn public_key(seed: u8) -> String {
    let mut raw = vec![seed; 65];
    raw[0] = 0x04;
    URL_SAFE_NO_PAD.encode(raw)
}

fn wrapped() -> String {
    URL_SAFE_NO_PAD.encode([7u8; 60])
}

async fn encrypted_room(app: &TestApp, creator: &TestUser, price: i64) -> Value {
    let room = app
        .post(
            "/api/rooms",
            Some(&creator.token),
            json!({ "title": unique("Sealed "), "price": price, "e2ee": true }),
        )
        .await;
    assert_eq!(room.assert_ok(201)["e2ee"], true);
    let path = format!("/api/rooms/{}/live", id(&room.body));
    app.post(&path, Some(&creator.token), json!({}))
        .await
        .assert_ok(200)
        .clone()
}

/// The creator's studio in the room, and a paid viewer in it too.
async fn studio_and_viewer(
    app: &TestApp,
    room: &Value,
    creator: &TestUser,
) -> (Sio, TestUser, Sio) {
    let mut studio = Sio::connect(app, creator).await;
    studio.ok("room:join", join(room)).await;
    let viewer = app.register("sealedvw").await;
    app.pay(&viewer, room, None).await.assert_ok(200);
    let mut page = Sio::connect(app, &viewer).await;
    page.ok("room:join", join(room)).await;
    (studio, viewer, page)
}

#[tokio::test]
async fn encryption_is_a_room_setting_that_changes_only_offline() {
    let app = spawn_app().await;
    let creator = app.register("sealcr").await;
    let plain = app
        .post(
            "/api/rooms",
            Some(&creator.token),
            json!({ "title": "Plain", "price": 0 }),
        )
        .await;
    assert_eq!(plain.assert_ok(201)["e2ee"], false);
    let path = format!("/api/rooms/{}", id(&plain.body));
    let patched = app
        .send(
            Method::PATCH,
            &path,
            Some(&creator.token),
            Some(json!({ "e2ee": true })),
        )
        .await;
    assert_eq!(patched.assert_ok(200)["e2ee"], true);
    app.send(
        Method::PATCH,
        &path,
        Some(&creator.token),
        Some(json!({ "e2ee": "yes" })),
    )
    .await
    .assert_error(422, "validation_failed");

    let live = encrypted_room(&app, &creator, 10).await;
    let path = format!("/api/rooms/{}", id(&live));
    app.send(
        Method::PATCH,
        &path,
        Some(&creator.token),
        Some(json!({ "e2ee": false })),
    )
    .await
    .assert_error(409, "room_live");
    // Other edits still work while live, and the setting stays.
    let renamed = app
        .send(
            Method::PATCH,
            &path,
            Some(&creator.token),
            Some(json!({ "title": "Renamed", "e2ee": true })),
        )
        .await;
    assert_eq!(renamed.assert_ok(200)["title"], "Renamed");
    assert_eq!(app.get(&path, None).await.body["e2ee"], true);
}

#[tokio::test]
async fn whip_ingest_into_an_encrypted_room_is_refused_and_the_room_stays_offline() {
    let app = spawn_app().await;
    let creator = app.register("sealobs").await;
    let room = app
        .post(
            "/api/rooms",
            Some(&creator.token),
            json!({ "title": "Sealed", "price": 5, "e2ee": true }),
        )
        .await;
    let room_id = id(&room.body).to_owned();
    let resp = reqwest::Client::new()
        .post(app.url(&format!("/api/media/whip/{room_id}")))
        .bearer_auth(&creator.token)
        .header("content-type", "application/sdp")
        .body("v=0\r\n")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 409);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["error"]["code"], "e2ee_browser_only");
    let after = app.get(&format!("/api/rooms/{room_id}"), None).await;
    assert_eq!(after.body["status"], "offline");
}

#[tokio::test]
async fn a_paid_viewers_key_request_reaches_the_studio_and_the_wrapped_key_only_that_page() {
    let app = spawn_app().await;
    let creator = app.register("sealcr").await;
    let room = encrypted_room(&app, &creator, 10).await;
    let (mut studio, viewer, mut page) = studio_and_viewer(&app, &room, &creator).await;
    // A second paid viewer, whose page must not get the first one's key.
    let other = app.register("sealother").await;
    app.pay(&other, &room, None).await.assert_ok(200);
    let mut other_page = Sio::connect(&app, &other).await;
    other_page.ok("room:join", join(&room)).await;

    page.ok(
        "e2ee:hello",
        json!({ "roomId": room["id"], "publicKey": public_key(1) }),
    )
    .await;
    let request = studio.next("e2ee:request").await;
    assert_eq!(request["viewer"]["id"], viewer.id.as_str());
    assert_eq!(request["viewer"]["username"], viewer.username.as_str());
    assert_eq!(request["publicKey"], public_key(1));
    let socket_id = request["socketId"].as_str().unwrap().to_owned();
    // Viewers never see each other's requests.
    other_page.none("e2ee:request", QUIET).await;

    studio
        .ok(
            "e2ee:key",
            json!({
                "roomId": room["id"], "viewerId": viewer.id, "socketId": socket_id,
                "keyId": 3, "publicKey": public_key(9), "wrapped": wrapped(),
            }),
        )
        .await;
    let key = page.next("e2ee:key").await;
    assert_eq!(key["keyId"], 3);
    assert_eq!(key["socketId"], socket_id.as_str());
    assert_eq!(key["publicKey"], public_key(9));
    assert_eq!(key["wrapped"], wrapped());
    other_page.none("e2ee:key", QUIET).await;

    // The studio announcing a new key pair makes every page ask again.
    studio
        .ok(
            "e2ee:ready",
            json!({ "roomId": room["id"], "publicKey": public_key(5) }),
        )
        .await;
    assert_eq!(page.next("e2ee:ready").await["publicKey"], public_key(5));
    assert_eq!(
        other_page.next("e2ee:ready").await["publicKey"],
        public_key(5)
    );
}

#[tokio::test]
async fn keys_are_refused_to_those_without_access_and_hand_outs_only_from_the_creator() {
    let app = spawn_app().await;
    let creator = app.register("sealcr").await;
    let room = encrypted_room(&app, &creator, 10).await;
    let (mut studio, viewer, mut page) = studio_and_viewer(&app, &room, &creator).await;

    // Not in the room (did not pay, so could not join): refused, nothing relayed.
    let stranger = app.register("sealstr").await;
    let mut outside = Sio::connect(&app, &stranger).await;
    outside
        .refused("room:join", join(&room), "payment_required")
        .await;
    outside
        .refused(
            "e2ee:hello",
            json!({ "roomId": room["id"], "publicKey": public_key(2) }),
            "not_in_room",
        )
        .await;
    studio.none("e2ee:request", QUIET).await;

    // A malformed key is refused, naming the field.
    let bad = page
        .refused(
            "e2ee:hello",
            json!({ "roomId": room["id"], "publicKey": "not a key" }),
            "validation_failed",
        )
        .await;
    assert_eq!(bad["error"]["field"], "publicKey");
    page.refused(
        "e2ee:hello",
        json!({ "roomId": room["id"], "publicKey": URL_SAFE_NO_PAD.encode([4u8; 33]) }),
        "validation_failed",
    )
    .await;

    // Only the creator hands out keys or announces a key pair.
    let hand_out = json!({
        "roomId": room["id"], "viewerId": viewer.id, "socketId": "AAAAAAAAAAAAAAAA",
        "keyId": 1, "publicKey": public_key(9), "wrapped": wrapped(),
    });
    page.refused("e2ee:key", hand_out.clone(), "forbidden")
        .await;
    page.refused(
        "e2ee:ready",
        json!({ "roomId": room["id"], "publicKey": public_key(9) }),
        "forbidden",
    )
    .await;

    // The creator cannot hand the key to someone who has not paid.
    let mut to_stranger = hand_out.clone();
    to_stranger["viewerId"] = json!(stranger.id);
    studio
        .refused("e2ee:key", to_stranger, "payment_required")
        .await;

    // A plain room has no keys to ask for.
    let plain = app.live_room(&creator, 0).await;
    page.ok("room:join", join(&plain)).await;
    page.refused(
        "e2ee:hello",
        json!({ "roomId": plain["id"], "publicKey": public_key(1) }),
        "e2ee_off",
    )
    .await;
}

#[tokio::test]
async fn a_ban_tells_the_studio_to_rotate_and_stops_keys_for_the_banned_user() {
    let app = spawn_app().await;
    let creator = app.register("sealcr").await;
    let room = encrypted_room(&app, &creator, 10).await;
    let (mut studio, viewer, mut page) = studio_and_viewer(&app, &room, &creator).await;
    page.ok(
        "e2ee:hello",
        json!({ "roomId": room["id"], "publicKey": public_key(1) }),
    )
    .await;
    let socket_id = studio.next("e2ee:request").await["socketId"].clone();

    studio
        .ok(
            "chat:ban",
            json!({ "roomId": room["id"], "userId": viewer.id }),
        )
        .await;
    let revoke = studio.next("e2ee:revoke").await;
    assert_eq!(revoke["userId"], viewer.id.as_str());
    assert_eq!(revoke["roomId"], room["id"]);

    // The request was genuine, but the ban came in between.
    studio
        .refused(
            "e2ee:key",
            json!({
                "roomId": room["id"], "viewerId": viewer.id, "socketId": socket_id,
                "keyId": 2, "publicKey": public_key(9), "wrapped": wrapped(),
            }),
            "banned",
        )
        .await;
    page.none("e2ee:key", QUIET).await;
}
