//! Socket.IO: the official client against the running server.

use std::time::Duration;

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{TEST_SECRET, TestApp, TestUser, shared_db_uri, spawn_app};
use crate::socket::Sio;

const QUIET: Duration = Duration::from_millis(400);

fn join(room: &Value) -> Value {
    json!({ "roomId": room["id"] })
}

/// The room's stored viewer count, once the presence batch that follows a
/// change (every 250 ms) is written.
async fn viewer_count(app: &TestApp, room: &Value) -> i64 {
    tokio::time::sleep(Duration::from_millis(400)).await;
    app.get(
        &format!("/api/rooms/{}", room["id"].as_str().unwrap()),
        None,
    )
    .await
    .body["viewerCount"]
        .as_i64()
        .unwrap()
}

/// A paid viewer, joined, with the creator watching joins.
async fn paid_viewer_in(app: &TestApp, room: &Value, prefix: &str) -> (TestUser, Sio) {
    let viewer = app.register(prefix).await;
    app.pay(&viewer, room, None).await.assert_ok(200);
    let mut sio = Sio::connect(app, &viewer).await;
    sio.ok("room:join", join(room)).await;
    (viewer, sio)
}

#[tokio::test]
async fn connecting_without_a_good_token_is_refused_with_the_reason() {
    let app = spawn_app().await;
    let missing = Sio::try_connect(&app, None).await.err().expect("refused");
    assert!(missing.starts_with("unauthorized"), "{missing}");
    let garbage = Sio::try_connect(&app, Some("not-a-token"))
        .await
        .err()
        .expect("refused");
    assert!(garbage.starts_with("unauthorized"), "{garbage}");

    let user = app.register("sock").await;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let expired = jsonwebtoken::encode(
        &jsonwebtoken::Header::default(),
        &json!({"sub": user.id, "name": user.username, "iat": now - 2000, "exp": now - 1000}),
        &jsonwebtoken::EncodingKey::from_secret(TEST_SECRET.as_bytes()),
    )
    .unwrap();
    let old = Sio::try_connect(&app, Some(&expired))
        .await
        .err()
        .expect("refused");
    assert!(old.starts_with("token_expired"), "{old}");
    Sio::connect(&app, &user).await.close().await;
}

#[tokio::test]
async fn joining_needs_a_payment_for_the_current_session() {
    let app = spawn_app().await;
    let creator = app.register("cr").await;
    let viewer = app.register("vw").await;
    let room = app.live_room(&creator, 30).await;
    let mut sio = Sio::connect(&app, &viewer).await;

    let refused = sio
        .refused("room:join", join(&room), "payment_required")
        .await;
    assert_eq!(refused["error"]["price"], 30);
    sio.refused(
        "room:join",
        json!({"roomId": "5f0000000000000000000000"}),
        "room_not_found",
    )
    .await;
    sio.refused("room:join", json!({"nope": 1}), "validation_failed")
        .await;
    sio.refused("room:join", json!("just a string"), "validation_failed")
        .await;
    sio.refused(
        "chat:send",
        json!({"roomId": room["id"], "text": "hi"}),
        "not_in_room",
    )
    .await;

    app.pay(&viewer, &room, None).await.assert_ok(200);
    let ack = sio.ok("room:join", join(&room)).await;
    assert_eq!(ack["role"], "viewer");
    assert_eq!(ack["viewerCount"], 1);
    assert_eq!(ack["messages"], json!([]));

    let offline = app
        .post(
            "/api/rooms",
            Some(&creator.token),
            json!({"title": "Later", "price": 0}),
        )
        .await;
    sio.refused(
        "room:join",
        json!({"roomId": offline.body["id"]}),
        "room_not_live",
    )
    .await;
    let unknown = sio.emit("room:explode", json!({})).await;
    assert_eq!(unknown["error"]["code"], "unknown_event");
}

#[tokio::test]
async fn the_creator_sees_distinct_viewers_come_and_go_across_tabs() {
    let app = spawn_app().await;
    let creator = app.register("cr").await;
    let room = app.live_room(&creator, 0).await;
    let mut studio = Sio::connect(&app, &creator).await;
    let ack = studio.ok("room:join", join(&room)).await;
    assert_eq!(
        (ack["role"].as_str(), ack["viewerCount"].as_i64()),
        (Some("creator"), Some(0))
    );

    let viewer = app.register("vw").await;
    let mut tab1 = Sio::connect(&app, &viewer).await;
    assert_eq!(tab1.ok("room:join", join(&room)).await["viewerCount"], 1);
    let joined = studio.next("room:viewer_joined").await;
    assert_eq!(joined["user"]["username"], viewer.username.as_str());
    assert_eq!(joined["user"]["id"], viewer.id.as_str());
    assert_eq!(joined["viewerCount"], 1);
    assert_eq!(joined["roomId"], room["id"]);

    let mut tab2 = Sio::connect(&app, &viewer).await;
    assert_eq!(
        tab2.ok("room:join", join(&room)).await["viewerCount"],
        1,
        "a second tab is not a new viewer"
    );
    studio.none("room:viewer_joined", QUIET).await;
    assert_eq!(viewer_count(&app, &room).await, 1);

    let other = app.register("vw2").await;
    let mut other_sio = Sio::connect(&app, &other).await;
    other_sio.ok("room:join", join(&room)).await;
    assert_eq!(studio.next("room:viewer_joined").await["viewerCount"], 2);
    assert_eq!(
        tab1.next("room:viewer_joined").await["viewerCount"],
        1,
        "its own arrival"
    );
    assert_eq!(
        tab1.next("room:viewer_joined").await["viewerCount"],
        2,
        "everyone in the room hears it"
    );

    tab1.close().await;
    studio.none("room:viewer_left", QUIET).await;
    assert_eq!(
        viewer_count(&app, &room).await,
        2,
        "closing one of two tabs is not a departure"
    );

    tab2.close().await;
    let left = studio.next("room:viewer_left").await;
    assert_eq!(left["user"]["id"], viewer.id.as_str());
    assert_eq!(left["viewerCount"], 1);
    assert_eq!(viewer_count(&app, &room).await, 1);

    other_sio.ok("room:leave", join(&room)).await;
    assert_eq!(studio.next("room:viewer_left").await["viewerCount"], 0);
    other_sio
        .refused("room:leave", join(&room), "not_in_room")
        .await;

    let history = app.get("/api/users/me/history", Some(&viewer.token)).await;
    let stay = &history.assert_ok(200)["items"][0];
    assert_eq!(stay["roomId"], room["id"]);
    assert!(
        stay["joinedAt"].is_string() && stay["leftAt"].is_string(),
        "{stay}"
    );
    assert_eq!(
        history.body["items"].as_array().unwrap().len(),
        1,
        "one stay for two tabs"
    );
}

#[tokio::test]
async fn chat_goes_round_trip_with_limits() {
    let app = spawn_app().await;
    let creator = app.register("cr").await;
    let room = app.live_room(&creator, 10).await;
    let mut studio = Sio::connect(&app, &creator).await;
    studio.ok("room:join", join(&room)).await;
    let (viewer, mut sio) = paid_viewer_in(&app, &room, "vw").await;
    // Set up before the first message, so the burst below is not refilled
    // while a sign-up and a socket start.
    let stranger = app.register("st").await;
    app.pay(&stranger, &room, None).await.assert_ok(200);
    let mut stranger_sio = Sio::connect(&app, &stranger).await;

    let ack = sio
        .ok(
            "chat:send",
            json!({"roomId": room["id"], "text": "  hello there  "}),
        )
        .await;
    assert_eq!(ack["message"]["text"], "hello there");
    let heard = studio.next("chat:message").await;
    assert_eq!(heard["text"], "hello there");
    assert_eq!(heard["user"]["username"], viewer.username.as_str());
    assert_eq!(heard["roomId"], room["id"]);
    assert!(heard["id"].is_string() && heard["sentAt"].is_string());

    studio
        .ok(
            "chat:send",
            json!({"roomId": room["id"], "text": "welcome!"}),
        )
        .await;
    assert_eq!(sio.next("chat:message").await["text"], "hello there");
    assert_eq!(sio.next("chat:message").await["text"], "welcome!");

    let bad = sio
        .refused(
            "chat:send",
            json!({"roomId": room["id"], "text": "   "}),
            "validation_failed",
        )
        .await;
    assert_eq!(bad["error"]["field"], "text");
    sio.refused(
        "chat:send",
        json!({"roomId": room["id"], "text": "x".repeat(501)}),
        "validation_failed",
    )
    .await;
    sio.ok(
        "chat:send",
        json!({"roomId": room["id"], "text": "é".repeat(500)}),
    )
    .await;

    // A paying stranger who has not joined cannot talk into the room.
    stranger_sio
        .refused(
            "chat:send",
            json!({"roomId": room["id"], "text": "hi"}),
            "not_in_room",
        )
        .await;

    // Burst then refusal: 2 sent above, 3 more pass, then slow down.
    for i in 0..3 {
        sio.ok(
            "chat:send",
            json!({"roomId": room["id"], "text": format!("msg {i}")}),
        )
        .await;
    }
    let slow = sio
        .refused(
            "chat:send",
            json!({"roomId": room["id"], "text": "too fast"}),
            "rate_limited",
        )
        .await;
    assert!(
        slow["error"]["message"]
            .as_str()
            .unwrap()
            .contains("slow down")
    );
    assert!(slow["error"]["retryAfterMs"].as_u64().unwrap() <= 1000);
    tokio::time::sleep(Duration::from_millis(1100)).await;
    sio.ok(
        "chat:send",
        json!({"roomId": room["id"], "text": "patient now"}),
    )
    .await;

    // A later visitor gets the history, oldest first.
    let ack = stranger_sio.ok("room:join", join(&room)).await;
    let texts: Vec<&str> = ack["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["text"].as_str().unwrap())
        .collect();
    assert_eq!(texts.first(), Some(&"hello there"));
    assert_eq!(texts.last(), Some(&"patient now"));
    assert!(!texts.contains(&"too fast"));
}

#[tokio::test]
async fn balance_updates_reach_every_connection_of_both_sides() {
    let app = spawn_app().await;
    let creator = app.register("cr").await;
    let viewer = app.register("vw").await;
    let room = app.live_room(&creator, 30).await;
    let creator_sio = Sio::connect(&app, &creator).await;
    let tab1 = Sio::connect(&app, &viewer).await;
    let tab2 = Sio::connect(&app, &viewer).await;
    let bystander = app.register("by").await;
    let bystander_sio = Sio::connect(&app, &bystander).await;

    app.pay(&viewer, &room, None).await.assert_ok(200);
    assert_eq!(tab1.next("balance:update").await, json!({"coins": 70}));
    assert_eq!(tab2.next("balance:update").await, json!({"coins": 70}));
    assert_eq!(
        creator_sio.next("balance:update").await,
        json!({"coins": 130})
    );
    bystander_sio.none("balance:update", QUIET).await;

    // An admin grant from the command line is pushed too.
    let db_name = app.db_name.clone();
    let username = viewer.username.clone();
    let out = tokio::task::spawn_blocking(move || {
        std::process::Command::new(env!("CARGO_BIN_EXE_streamshare"))
            .args(["grant", &username, "25"])
            .env("STREAMSHARE_MONGODB_URI", shared_db_uri())
            .env("STREAMSHARE_DB_NAME", db_name)
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    assert!(out.status.success());
    assert_eq!(tab1.next("balance:update").await, json!({"coins": 95}));
}

#[tokio::test]
async fn ending_the_session_tells_the_room_and_closes_the_door() {
    let app = spawn_app().await;
    let creator = app.register("cr").await;
    let room = app.live_room(&creator, 10).await;
    let mut studio = Sio::connect(&app, &creator).await;
    studio.ok("room:join", join(&room)).await;
    let (_viewer, mut sio) = paid_viewer_in(&app, &room, "vw").await;
    assert_eq!(viewer_count(&app, &room).await, 1);

    let id = room["id"].as_str().unwrap();
    app.send(
        Method::DELETE,
        &format!("/api/rooms/{id}/live"),
        Some(&creator.token),
        None,
    )
    .await
    .assert_ok(200);
    assert_eq!(sio.next("room:ended").await, json!({"roomId": id}));
    assert_eq!(studio.next("room:ended").await, json!({"roomId": id}));
    sio.refused(
        "chat:send",
        json!({"roomId": id, "text": "still here?"}),
        "not_in_room",
    )
    .await;
    sio.refused("room:join", join(&room), "room_not_live").await;
    assert_eq!(viewer_count(&app, &room).await, 0);

    // Going live again: the old payment does not open the new session.
    app.post(
        &format!("/api/rooms/{id}/live"),
        Some(&creator.token),
        json!({}),
    )
    .await
    .assert_ok(200);
    sio.refused("room:join", join(&room), "payment_required")
        .await;
}

#[tokio::test]
async fn the_creator_moderates_the_chat() {
    let app = spawn_app().await;
    let creator = app.register("cr").await;
    let room = app.live_room(&creator, 10).await;
    let mut studio = Sio::connect(&app, &creator).await;
    studio.ok("room:join", join(&room)).await;
    let (viewer, mut sio) = paid_viewer_in(&app, &room, "vw").await;
    let (other, mut other_sio) = paid_viewer_in(&app, &room, "ot").await;
    let rid = room["id"].clone();

    // Delete: the creator removes a message, everyone's view updates.
    let rude = sio
        .ok("chat:send", json!({"roomId": rid, "text": "rude"}))
        .await["message"]["id"]
        .clone();
    let mine = studio
        .ok("chat:send", json!({"roomId": rid, "text": "house rules"}))
        .await["message"]["id"]
        .clone();
    other_sio
        .refused(
            "chat:delete",
            json!({"roomId": rid, "messageId": rude}),
            "forbidden",
        )
        .await;
    sio.refused(
        "chat:delete",
        json!({"roomId": rid, "messageId": mine}),
        "forbidden",
    )
    .await;
    studio
        .ok("chat:delete", json!({"roomId": rid, "messageId": rude}))
        .await;
    for s in [&sio, &other_sio, &studio] {
        assert_eq!(
            s.next("chat:deleted").await,
            json!({"roomId": rid, "messageId": rude})
        );
    }
    studio
        .refused(
            "chat:delete",
            json!({"roomId": rid, "messageId": rude}),
            "message_not_found",
        )
        .await;

    // Timeout: the viewer's chat is refused until it passes; the room hears it.
    other_sio
        .refused(
            "chat:timeout",
            json!({"roomId": rid, "userId": viewer.id}),
            "forbidden",
        )
        .await;
    studio
        .refused(
            "chat:timeout",
            json!({"roomId": rid, "userId": viewer.id, "seconds": 0}),
            "validation_failed",
        )
        .await;
    studio
        .ok(
            "chat:timeout",
            json!({"roomId": rid, "userId": viewer.id, "seconds": 1}),
        )
        .await;
    let heard = other_sio.next("chat:timeout").await;
    assert_eq!(
        (heard["user"]["id"].as_str(), heard["seconds"].as_i64()),
        (Some(viewer.id.as_str()), Some(1))
    );
    sio.refused(
        "chat:send",
        json!({"roomId": rid, "text": "let me talk"}),
        "timed_out",
    )
    .await;
    tokio::time::sleep(Duration::from_millis(1200)).await;
    sio.ok("chat:send", json!({"roomId": rid, "text": "sorry"}))
        .await;

    // Ban: the user is taken out of the room and cannot come back.
    studio
        .ok("chat:ban", json!({"roomId": rid, "userId": viewer.id}))
        .await;
    assert_eq!(sio.next("chat:ban").await["user"]["id"], viewer.id.as_str());
    let left = studio.next("room:viewer_left").await;
    assert_eq!(
        (left["user"]["id"].as_str(), left["viewerCount"].as_i64()),
        (Some(viewer.id.as_str()), Some(1))
    );
    sio.refused(
        "chat:send",
        json!({"roomId": rid, "text": "hello?"}),
        "not_in_room",
    )
    .await;
    let refused = sio.refused("room:join", join(&room), "banned").await;
    assert!(
        refused["error"]["message"]
            .as_str()
            .unwrap()
            .contains("banned")
    );
    assert_eq!(viewer_count(&app, &room).await, 1);

    // Unban lets them back in.
    studio
        .ok("chat:unban", json!({"roomId": rid, "userId": viewer.id}))
        .await;
    sio.ok("room:join", join(&room)).await;
    studio
        .refused(
            "chat:ban",
            json!({"roomId": rid, "userId": creator.id}),
            "validation_failed",
        )
        .await;
    let _ = other;
}

#[tokio::test]
async fn one_user_holds_a_bounded_number_of_connections() {
    let app =
        crate::helpers::spawn_app_with(&shared_db_uri(), |s| s.max_sockets_per_user = 2).await;
    let user = app.register("tabs").await;
    let first = Sio::connect(&app, &user).await;
    let _second = Sio::connect(&app, &user).await;
    let refused = Sio::try_connect(&app, Some(&user.token))
        .await
        .err()
        .expect("refused");
    assert!(refused.starts_with("too_many_connections"), "{refused}");
    // Another user is not held back, and a closed tab frees its place.
    let other = app.register("other").await;
    Sio::connect(&app, &other).await.close().await;
    first.close().await;
    let mut connected = false;
    for _ in 0..50 {
        if Sio::try_connect(&app, Some(&user.token)).await.is_ok() {
            connected = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(connected, "a closed connection no longer counts");
}
