//! Go-live alerts: a followed creator going live stores a notification for
//! each follower and pushes it to their personal channel; marking read.

use std::time::Duration;

use reqwest::Method;
use serde_json::json;

use crate::helpers::{TestApp, TestUser, spawn_app};
use crate::socket::Sio;

async fn follow(app: &TestApp, fan: &TestUser, creator: &TestUser) {
    app.send(
        Method::PUT,
        &format!("/api/creators/{}/follow", creator.username),
        Some(&fan.token),
        None,
    )
    .await
    .assert_ok(200);
}

#[tokio::test]
async fn a_followed_creator_going_live_alerts_the_follower_live_and_on_reload() {
    let app = spawn_app().await;
    let creator = app.register("cr").await;
    let fan = app.register("fan").await;
    let bystander = app.register("by").await;
    follow(&app, &fan, &creator).await;
    let fan_tab = Sio::connect(&app, &fan).await;
    let bystander_tab = Sio::connect(&app, &bystander).await;

    let room = app.live_room(&creator, 0).await;
    let pushed = fan_tab.next("notification:new").await;
    assert_eq!(pushed["unreadCount"], 1);
    let n = &pushed["notification"];
    assert_eq!(n["kind"], "live");
    assert_eq!(n["roomId"], room["id"]);
    assert_eq!(n["roomTitle"], room["title"]);
    assert_eq!(n["creator"]["username"], creator.username.as_str());
    assert_eq!(n["read"], false);
    bystander_tab
        .none("notification:new", Duration::from_millis(300))
        .await;

    // Stored: a reload finds it.
    let list = app.get("/api/notifications", Some(&fan.token)).await;
    let body = list.assert_ok(200);
    assert_eq!(body["unreadCount"], 1);
    assert_eq!(body["items"][0]["id"], n["id"]);
    assert!(body["nextCursor"].is_null());
    let empty = app.get("/api/notifications", Some(&bystander.token)).await;
    assert_eq!(empty.assert_ok(200)["items"], json!([]));

    // Going live again while live starts no session and alerts nobody.
    let id = room["id"].as_str().unwrap();
    app.post(
        &format!("/api/rooms/{id}/live"),
        Some(&creator.token),
        json!({}),
    )
    .await
    .assert_ok(200);
    fan_tab
        .none("notification:new", Duration::from_millis(300))
        .await;

    // Someone else's id changes nothing; then the fan marks theirs read.
    let other = app
        .post(
            "/api/notifications/read",
            Some(&bystander.token),
            json!({ "ids": [n["id"]] }),
        )
        .await;
    assert_eq!(other.assert_ok(200)["unreadCount"], 0);
    let read = app
        .post(
            "/api/notifications/read",
            Some(&fan.token),
            json!({ "ids": [n["id"]] }),
        )
        .await;
    assert_eq!(read.assert_ok(200)["unreadCount"], 0);
    assert_eq!(fan_tab.next("notification:read").await["unreadCount"], 0);
    let after = app.get("/api/notifications", Some(&fan.token)).await;
    assert_eq!(after.assert_ok(200)["items"][0]["read"], true);
    assert_eq!(after.body["unreadCount"], 0);
}

#[tokio::test]
async fn marking_all_read_and_bad_input() {
    let app = spawn_app().await;
    let creator = app.register("cr").await;
    let fan = app.register("fan").await;
    follow(&app, &fan, &creator).await;
    let fan_tab = Sio::connect(&app, &fan).await;
    let room = app.live_room(&creator, 0).await;
    let id = room["id"].as_str().unwrap();
    assert_eq!(fan_tab.next("notification:new").await["unreadCount"], 1);
    // Alerts are written just after the session starts.
    let mut unread = 0;
    for _ in 0..50 {
        unread = app.get("/api/notifications", Some(&fan.token)).await.body["unreadCount"]
            .as_i64()
            .unwrap();
        if unread == 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(unread, 1);
    app.send(
        Method::DELETE,
        &format!("/api/rooms/{id}/live"),
        Some(&creator.token),
        None,
    )
    .await
    .assert_ok(200);
    app.post(
        &format!("/api/rooms/{id}/live"),
        Some(&creator.token),
        json!({}),
    )
    .await
    .assert_ok(200);
    for _ in 0..50 {
        unread = app.get("/api/notifications", Some(&fan.token)).await.body["unreadCount"]
            .as_i64()
            .unwrap();
        if unread == 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(unread, 2, "each new session alerts again");
    // The push counts both unread alerts.
    assert_eq!(fan_tab.next("notification:new").await["unreadCount"], 2);

    let all = app
        .post("/api/notifications/read", Some(&fan.token), json!({}))
        .await;
    assert_eq!(all.assert_ok(200)["unreadCount"], 0);

    let bad = app
        .post(
            "/api/notifications/read",
            Some(&fan.token),
            json!({ "ids": ["nope"] }),
        )
        .await;
    bad.assert_error(422, "validation_failed");
    assert_eq!(bad.body["error"]["field"], "ids");
    app.get("/api/notifications", None)
        .await
        .assert_error(401, "unauthorized");
    app.get("/api/notifications?limit=0", Some(&fan.token))
        .await
        .assert_error(422, "validation_failed");
}

#[tokio::test]
async fn the_alert_and_the_lobby_reach_sockets_on_another_instance() {
    use crate::helpers::{RedisServer, shared_db_uri, spawn_app_with, unique};
    let redis = RedisServer::start();
    let db_name = unique("t_alerts_");
    let mut apps = Vec::new();
    for i in 0..2 {
        let db_name = db_name.clone();
        let url = redis.url();
        apps.push(
            spawn_app_with(&shared_db_uri(), move |s| {
                s.db_name = db_name;
                s.redis_url = Some(url);
                s.instance_id = Some(format!("n{i}"));
            })
            .await,
        );
    }
    let (a, b) = (&apps[0], &apps[1]);
    let creator = a.register("cr").await;
    let fan = a.register("fan").await;
    follow(a, &fan, &creator).await;
    // The fan's tab and a guest's home page are on B; the creator goes live through A.
    let fan_tab = Sio::connect(b, &fan).await;
    let mut guest = Sio::try_connect(b, Some("guest"))
        .await
        .expect("guests connect");
    guest.ok("lobby:join", json!({})).await;
    let room = a.live_room(&creator, 0).await;
    assert_eq!(
        fan_tab.next("notification:new").await["notification"]["roomId"],
        room["id"]
    );
    assert_eq!(guest.next("room:live").await["room"]["id"], room["id"]);
}
