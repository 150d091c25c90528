//! Cluster mode: real `redis-server`s, several real server instances sharing
//! one database, official Socket.IO clients on different instances.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::helpers::{
    RedisServer, TestApp, TestUser, shared_db_uri, spawn_app_with, spawn_process, unique,
};
use crate::socket::{Crowd, Sio};

fn join(room: &Value) -> Value {
    json!({ "roomId": room["id"] })
}

/// `count` instances (in this process) of one cluster: one database, one
/// Redis, each its own instance id.
async fn cluster(redis: &RedisServer, count: usize, lease_secs: u64) -> Vec<TestApp> {
    let db_name = unique("t_cluster_");
    let mut apps = Vec::new();
    for i in 0..count {
        let db_name = db_name.clone();
        let url = redis.url();
        apps.push(
            spawn_app_with(&shared_db_uri(), move |s| {
                s.db_name = db_name;
                s.redis_url = Some(url);
                s.instance_id = Some(format!("i{i}"));
                s.lease_secs = lease_secs;
            })
            .await,
        );
    }
    apps
}

async fn viewer_count(app: &TestApp, room: &Value) -> i64 {
    app.get(
        &format!("/api/rooms/{}", room["id"].as_str().unwrap()),
        None,
    )
    .await
    .body["viewerCount"]
        .as_i64()
        .unwrap()
}

/// Waits (up to `limit`) until the room's stored count is `want`.
async fn count_becomes(app: &TestApp, room: &Value, want: i64, limit: Duration) {
    let start = Instant::now();
    loop {
        let count = viewer_count(app, room).await;
        if count == want {
            return;
        }
        assert!(
            start.elapsed() < limit,
            "viewerCount stayed {count}, wanted {want}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The room's view history entries.
async fn room_views(app: &TestApp, room: &Value) -> Vec<mongodb::bson::Document> {
    app.all("view_history")
        .await
        .into_iter()
        .filter(|v| {
            v.get_object_id("roomId")
                .map(|id| id.to_hex())
                .ok()
                .as_deref()
                == room["id"].as_str()
        })
        .collect()
}

async fn open_views(app: &TestApp, room: &Value) -> usize {
    room_views(app, room)
        .await
        .iter()
        .filter(|v| v.get("leftAt").is_none_or(|l| l.as_null().is_some()))
        .count()
}

/// Waits (up to 5 s) until the room has `want` open views: closes are
/// written in batches.
async fn open_views_become(app: &TestApp, room: &Value, want: usize) {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let open = open_views(app, room).await;
        if open == want {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{open} open views, wanted {want}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn views(app: &TestApp, room: &Value) -> usize {
    room_views(app, room).await.len()
}

#[tokio::test]
async fn creator_and_viewer_on_different_instances_see_each_other() {
    let redis = RedisServer::start();
    let apps = cluster(&redis, 2, 10).await;
    let (a, b) = (&apps[0], &apps[1]);
    let ready = b.get("/api/health/ready", None).await;
    assert_eq!(ready.body["redis"], "up", "{:?}", ready.body);
    assert_eq!(ready.body["instance"], "i1");
    let answer = b.http.get(b.url("/api/rooms")).send().await.unwrap();
    assert_eq!(answer.headers()["x-streamshare-instance"], "i1");

    let creator = a.register("cc").await;
    let viewer = b.register("cv").await;
    let room = a.live_room(&creator, 10).await;
    let mut host = Sio::connect(a, &creator).await;
    host.ok("room:join", join(&room)).await;
    let mut guest = Sio::connect(b, &viewer).await;

    // A payment through A reaches the viewer's socket on B.
    a.pay(&viewer, &room, None).await.assert_ok(200);
    let balance = guest.next("balance:update").await;
    assert_eq!(balance["coins"], 90);

    // Joining on B is announced to the creator on A.
    let joined = guest.ok("room:join", join(&room)).await;
    assert_eq!(joined["viewerCount"], 1);
    let seen = host.next("room:viewer_joined").await;
    assert_eq!(seen["user"]["id"], viewer.id.as_str());
    assert_eq!(seen["viewerCount"], 1);
    count_becomes(a, &room, 1, Duration::from_secs(3)).await;

    // Chat both ways.
    host.ok(
        "chat:send",
        json!({ "roomId": room["id"], "text": "hello from A" }),
    )
    .await;
    assert_eq!(guest.next("chat:message").await["text"], "hello from A");
    guest
        .ok(
            "chat:send",
            json!({ "roomId": room["id"], "text": "hi from B" }),
        )
        .await;
    // Everyone in the room hears a message, its sender too.
    assert_eq!(host.next("chat:message").await["text"], "hello from A");
    assert_eq!(host.next("chat:message").await["text"], "hi from B");

    // A second viewer joining on A gets the history written through B.
    let late = a.register("cl").await;
    a.pay(&late, &room, None).await.assert_ok(200);
    let mut late_sio = Sio::connect(a, &late).await;
    let history = late_sio.ok("room:join", join(&room)).await;
    let texts: Vec<_> = history["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["text"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(texts, ["hello from A", "hi from B"]);
    late_sio.close().await;
    host.next("room:viewer_left").await;

    // A ban issued on A takes the viewer's socket on B out at once.
    host.ok(
        "chat:ban",
        json!({ "roomId": room["id"], "userId": viewer.id }),
    )
    .await;
    guest.next("chat:ban").await;
    let left = host.next("room:viewer_left").await;
    assert_eq!(left["user"]["id"], viewer.id.as_str());
    assert_eq!(left["viewerCount"], 0);
    let refused = guest
        .emit(
            "chat:send",
            json!({ "roomId": room["id"], "text": "still here?" }),
        )
        .await;
    assert_eq!(refused["ok"], false, "{refused}");
    guest.refused("room:join", join(&room), "banned").await;
    count_becomes(b, &room, 0, Duration::from_secs(3)).await;

    // The end of the session, on A, reaches B.
    let other = b.register("co").await;
    b.pay(&other, &room, None).await.assert_ok(200);
    let mut other_sio = Sio::connect(b, &other).await;
    other_sio.ok("room:join", join(&room)).await;
    a.send(
        reqwest::Method::DELETE,
        &format!("/api/rooms/{}/live", room["id"].as_str().unwrap()),
        Some(&creator.token),
        None,
    )
    .await
    .assert_ok(200);
    assert_eq!(other_sio.next("room:ended").await["roomId"], room["id"]);
    open_views_become(b, &room, 0).await;
}

#[tokio::test]
async fn the_chat_rate_limit_is_one_budget_across_instances() {
    let redis = RedisServer::start();
    let apps = cluster(&redis, 2, 10).await;
    let creator = apps[0].register("rc").await;
    let room = apps[0].live_room(&creator, 0).await;
    let viewer = apps[0].register("rv").await;
    let mut on_a = Sio::connect(&apps[0], &viewer).await;
    let mut on_b = Sio::connect(&apps[1], &viewer).await;
    on_a.ok("room:join", join(&room)).await;
    on_b.ok("room:join", join(&room)).await;
    // The burst is 5 for the user, wherever the messages go.
    for n in 0..5 {
        let tab = if n % 2 == 0 { &mut on_a } else { &mut on_b };
        tab.ok(
            "chat:send",
            json!({ "roomId": room["id"], "text": format!("m{n}") }),
        )
        .await;
    }
    on_b.refused(
        "chat:send",
        json!({ "roomId": room["id"], "text": "one too many" }),
        "rate_limited",
    )
    .await;
    on_a.refused(
        "chat:send",
        json!({ "roomId": room["id"], "text": "one too many" }),
        "rate_limited",
    )
    .await;
}

#[tokio::test]
async fn a_killed_instance_is_reaped_within_its_lease() {
    let redis = RedisServer::start();
    let apps = cluster(&redis, 1, 2).await;
    let a = &apps[0];
    let (mut b_process, b) = spawn_process(
        &a.db_name,
        &[
            ("STREAMSHARE_REDIS_URL", &redis.url()),
            ("STREAMSHARE_INSTANCE_ID", "doomed"),
            ("STREAMSHARE_LEASE_SECS", "2"),
        ],
    )
    .await;
    let creator = a.register("kc").await;
    let room = a.live_room(&creator, 0).await;
    let mut host = Sio::connect(a, &creator).await;
    host.ok("room:join", join(&room)).await;
    let viewers = [b.register("kv").await, b.register("kw").await];
    let mut socks = Vec::new();
    for viewer in &viewers {
        let mut sio = Sio::connect(&b, viewer).await;
        sio.ok("room:join", join(&room)).await;
        host.next("room:viewer_joined").await;
        socks.push(sio);
    }
    count_becomes(a, &room, 2, Duration::from_secs(3)).await;
    open_views_become(a, &room, 2).await;

    // kill -9: no goodbye. The survivor notices the lease is gone.
    b_process.kill().unwrap();
    b_process.wait().unwrap();
    let killed = Instant::now();
    let mut left = Vec::new();
    for _ in &viewers {
        left.push(host.next("room:viewer_left").await["user"]["id"].clone());
    }
    let took = killed.elapsed();
    // Lease 2 s, heartbeats and reaping every third of it.
    assert!(took < Duration::from_secs(6), "reaped after {took:?}");
    left.sort_by_key(|v| v.to_string());
    let mut want: Vec<Value> = viewers.iter().map(|v| json!(v.id)).collect();
    want.sort_by_key(|v| v.to_string());
    assert_eq!(left, want);
    count_becomes(a, &room, 0, Duration::from_secs(3)).await;
    open_views_become(a, &room, 0).await;
    assert_eq!(views(a, &room).await, 2, "the views stay in the history");
    a.assert_ledger_invariants().await;
}

#[tokio::test]
async fn without_redis_the_cluster_says_so_and_recovers_when_it_is_back() {
    let mut redis = RedisServer::start();
    let apps = cluster(&redis, 1, 10).await;
    let a = &apps[0];
    let creator = a.register("dc").await;
    let room = a.live_room(&creator, 0).await;
    let viewer = a.register("dv").await;
    let mut sio = Sio::connect(a, &viewer).await;

    redis.kill();
    let ready = a.get("/api/health/ready", None).await;
    ready.assert_error(503, "cluster_unavailable");
    let refused = sio.emit("room:join", join(&room)).await;
    assert_eq!(refused["ok"], false, "{refused}");
    assert_eq!(refused["error"]["code"], "cluster_unavailable", "{refused}");
    // The REST API that needs only the database keeps working.
    a.get(
        &format!("/api/rooms/{}", room["id"].as_str().unwrap()),
        None,
    )
    .await
    .assert_ok(200);

    redis.restart();
    let start = Instant::now();
    loop {
        let ready = a.get("/api/health/ready", None).await;
        if ready.status == 200 {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(15),
            "no recovery: {:?}",
            ready.body
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let start = Instant::now();
    loop {
        let ack = sio.emit("room:join", join(&room)).await;
        if ack["ok"] == true {
            assert_eq!(ack["viewerCount"], 1);
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(15),
            "join still refused: {ack}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// A storm of joins (a third of the viewers with two tabs, on two
/// instances when clustered), then tabs closing: the creator's list and
/// the counts stay exact.
async fn storm(apps: &[TestApp], viewers: usize) {
    let a = &apps[0];
    let creator = a.register("sc").await;
    let room = a.live_room(&creator, 0).await;
    let mut host = Sio::connect(a, &creator).await;
    host.ok("room:join", join(&room)).await;
    let mut users: Vec<TestUser> = Vec::new();
    for n in 0..viewers {
        users.push(apps[n % apps.len()].register("sv").await);
    }
    let plan: Vec<(&TestUser, Vec<String>)> = users
        .iter()
        .enumerate()
        .map(|(n, user)| {
            let tabs = if n % 3 == 0 { 2 } else { 1 };
            let urls = (0..tabs)
                .map(|t| apps[(n + t) % apps.len()].base.clone())
                .collect();
            (user, urls)
        })
        .collect();
    let mut crowd = Crowd::connect(&room, &plan).await;
    let joined = crowd.join().await;
    let tabs: usize = plan.iter().map(|(_, urls)| urls.len()).sum();
    assert_eq!(joined["ok"], tabs, "{joined}");

    // The creator hears each viewer once, however many tabs.
    let mut seen = std::collections::HashSet::new();
    while seen.len() < viewers {
        let event = host.next("room:viewer_joined").await;
        assert!(
            seen.insert(event["user"]["id"].as_str().unwrap().to_owned()),
            "twice: {event}"
        );
    }
    host.none("room:viewer_joined", Duration::from_millis(300))
        .await;
    count_becomes(a, &room, viewers as i64, Duration::from_secs(5)).await;
    open_views_become(a, &room, viewers).await;

    // Second tabs close: nobody leaves.
    let seconds: Vec<(usize, usize)> = (0..viewers)
        .filter(|n| n % 3 == 0)
        .map(|n| (n, 1))
        .collect();
    crowd.close(&seconds).await;
    host.none("room:viewer_left", Duration::from_millis(500))
        .await;
    count_becomes(a, &room, viewers as i64, Duration::from_secs(2)).await;

    // Half the viewers close their last tab: exactly they leave.
    let gone: Vec<(usize, usize)> = (0..viewers)
        .filter(|n| n % 2 == 0)
        .map(|n| (n, 0))
        .collect();
    crowd.close(&gone).await;
    let mut left = std::collections::HashSet::new();
    while left.len() < gone.len() {
        let event = host.next("room:viewer_left").await;
        assert!(
            left.insert(event["user"]["id"].as_str().unwrap().to_owned()),
            "twice: {event}"
        );
    }
    let stay = viewers - gone.len();
    count_becomes(a, &room, stay as i64, Duration::from_secs(5)).await;
    open_views_become(a, &room, stay).await;

    crowd.close_all().await;
    count_becomes(a, &room, 0, Duration::from_secs(5)).await;
    open_views_become(a, &room, 0).await;
    assert_eq!(views(a, &room).await, viewers, "one view per viewer");
}

#[tokio::test]
async fn a_join_storm_keeps_counts_exact_alone() {
    let app = spawn_app_with(&shared_db_uri(), |s| s.max_connections_per_ip = 0).await;
    storm(std::slice::from_ref(&app), 150).await;
}

#[tokio::test]
async fn a_join_storm_keeps_counts_exact_across_instances() {
    let redis = RedisServer::start();
    let apps = cluster(&redis, 2, 10).await;
    storm(&apps, 150).await;
}
