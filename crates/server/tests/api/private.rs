//! One-to-one private sessions: requests and answers, media both ways for
//! the two parties only, and billing by the period that stays exact
//! through endings, lost connections and a `kill -9`.

use std::time::Duration;

use mongodb::bson::{Document, doc};
use serde_json::{Value, json};
use streamshare_sfu::testing::TestPeer;

use crate::helpers::{
    RedisServer, TestApp, TestUser, free_port, serve_command, shared_db_uri, spawn_app,
    spawn_app_with, spawn_process, start_process, unique,
};
use crate::media_plane::receives_media;
use crate::socket::Sio;

/// Billing tests run on a short period: 2 s stands for a minute.
const PERIOD: u64 = 2;

async fn quick_app(grace: u64, request_secs: u64) -> TestApp {
    spawn_app_with(&shared_db_uri(), |s| {
        s.private_period_secs = PERIOD;
        s.private_grace_secs = grace;
        s.private_warn_secs = 1;
        s.private_request_secs = request_secs;
    })
    .await
}

async fn offer(app: &TestApp, creator: &TestUser, price: i64) {
    let reply = app
        .send(
            reqwest::Method::PUT,
            "/api/private/offer",
            Some(&creator.token),
            Some(json!({ "pricePerMinute": price, "accepting": true, "pauseRoom": true })),
        )
        .await;
    assert_eq!(reply.assert_ok(200)["pricePerMinute"], price);
}

async fn request(app: &TestApp, viewer: &TestUser, creator: &TestUser) -> Value {
    let reply = app
        .post(
            "/api/private/sessions",
            Some(&viewer.token),
            json!({ "creatorId": creator.id }),
        )
        .await;
    reply.assert_ok(201).clone()
}

fn path(session: &Value, action: &str) -> String {
    format!(
        "/api/private/sessions/{}/{action}",
        session["id"].as_str().unwrap()
    )
}

async fn session_of(app: &TestApp, user: &TestUser, session: &Value) -> Value {
    let url = format!("/api/private/sessions/{}", session["id"].as_str().unwrap());
    app.get(&url, Some(&user.token))
        .await
        .assert_ok(200)
        .clone()
}

/// Both parties' pages of an accepted session, joined (present).
async fn both_join(
    app: &TestApp,
    creator: &TestUser,
    viewer: &TestUser,
    session: &Value,
) -> (Sio, Sio) {
    let mut a = Sio::connect(app, creator).await;
    let mut b = Sio::connect(app, viewer).await;
    let join = json!({ "sessionId": session["id"] });
    a.ok("private:join", join.clone()).await;
    b.ok("private:join", join).await;
    (a, b)
}

/// The creator accepts with both parties' pages open (a browser's are),
/// and both pages join (present).
async fn accept_with_pages(
    app: &TestApp,
    creator: &TestUser,
    viewer: &TestUser,
    session: &Value,
) -> (Sio, Sio) {
    let mut a = Sio::connect(app, creator).await;
    let mut b = Sio::connect(app, viewer).await;
    let accepted = app
        .post(&path(session, "accept"), Some(&creator.token), json!({}))
        .await;
    assert_eq!(accepted.assert_ok(200)["state"], "active");
    let join = json!({ "sessionId": session["id"] });
    a.ok("private:join", join.clone()).await;
    b.ok("private:join", join).await;
    (a, b)
}

/// Each party publishes a camera and watches the other's; both receive
/// audio and video. The publishing peers, to close at the end.
async fn both_see_each_other(a: &mut Sio, b: &mut Sio, session: &Value) -> Vec<TestPeer> {
    let mut publishers = vec![];
    for sio in [&mut *a, &mut *b] {
        let (pending, offer) = TestPeer::publisher_offer().unwrap();
        let ack = sio
            .ok(
                "private:publish",
                json!({ "sessionId": session["id"], "sdp": offer }),
            )
            .await;
        publishers.push(pending.complete(ack["sdp"].as_str().unwrap()).unwrap());
    }
    let mut watchers = vec![];
    for sio in [&mut *a, &mut *b] {
        let ack = sio
            .ok("private:view", json!({ "sessionId": session["id"] }))
            .await;
        let (peer, answer) = TestPeer::answer(ack["sdp"].as_str().unwrap()).unwrap();
        sio.ok(
            "private:answer",
            json!({ "sessionId": session["id"], "sdp": answer }),
        )
        .await;
        watchers.push(peer);
    }
    for peer in &watchers {
        receives_media(peer).await;
    }
    publishers
}

async fn wait_state(app: &TestApp, user: &TestUser, session: &Value, state: &str) -> Value {
    for _ in 0..200 {
        let now = session_of(app, user, session).await;
        if now["state"] == state {
            return now;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!(
        "the session never became {state}: {}",
        session_of(app, user, session).await
    );
}

fn kinds(txs: &[Document], kind: &str) -> Vec<i64> {
    txs.iter()
        .filter(|t| t.get_str("kind").unwrap() == kind)
        .map(|t| t.get_i64("amount").unwrap())
        .collect()
}

#[tokio::test]
async fn requests_are_refused_when_they_cannot_be_honoured() {
    let app = spawn_app().await;
    let creator = app.register("pcr").await;
    let viewer = app.register("pvw").await;
    let post = |who: &TestUser, body: Value| {
        let token = who.token.clone();
        let app = &app;
        async move { app.post("/api/private/sessions", Some(&token), body).await }
    };
    post(&viewer, json!({ "creatorId": creator.id }))
        .await
        .assert_error(409, "not_accepting");
    // Accepting needs a price.
    app.send(
        reqwest::Method::PUT,
        "/api/private/offer",
        Some(&creator.token),
        Some(json!({ "pricePerMinute": 0, "accepting": true })),
    )
    .await
    .assert_error(422, "validation_failed");
    offer(&app, &creator, 150).await;
    let public = app
        .get(&format!("/api/private/offers/{}", creator.id), None)
        .await;
    assert_eq!(public.assert_ok(200)["accepting"], true);
    assert_eq!(public.body["pricePerMinute"], 150);

    // 100 sign-up coins do not pay a 150-coin minute.
    let short = post(&viewer, json!({ "creatorId": creator.id })).await;
    short.assert_error(402, "insufficient_funds");
    assert_eq!(short.body["error"]["required"], 150);
    post(&creator, json!({ "creatorId": creator.id }))
        .await
        .assert_error(400, "self_payment");
    post(&viewer, json!({ "creatorId": "nope" }))
        .await
        .assert_error(404, "user_not_found");

    offer(&app, &creator, 10).await;
    request(&app, &viewer, &creator).await;
    post(&viewer, json!({ "creatorId": creator.id }))
        .await
        .assert_error(409, "request_pending");
}

#[tokio::test]
async fn declined_cancelled_and_expired_requests_charge_nothing() {
    let app = quick_app(20, 4).await;
    let creator = app.register("pcr").await;
    offer(&app, &creator, 10).await;
    let studio = Sio::connect(&app, &creator).await;
    let viewer = app.register("pvw").await;
    let viewer_sio = Sio::connect(&app, &viewer).await;

    let first = request(&app, &viewer, &creator).await;
    let heard = studio.next("private:request").await;
    assert_eq!(
        heard["session"]["viewer"]["username"],
        viewer.username.as_str()
    );
    assert_eq!(heard["session"]["pricePerMinute"], 10);
    // Nobody but the parties sees it.
    let stranger = app.register("pst").await;
    let url = format!("/api/private/sessions/{}", first["id"].as_str().unwrap());
    app.get(&url, Some(&stranger.token))
        .await
        .assert_error(404, "not_found");
    app.post(&path(&first, "accept"), Some(&stranger.token), json!({}))
        .await
        .assert_error(404, "not_found");

    let declined = app
        .post(&path(&first, "decline"), Some(&creator.token), json!({}))
        .await;
    assert_eq!(declined.assert_ok(200)["state"], "declined");
    assert_eq!(
        viewer_sio.next("private:update").await["session"]["state"],
        "declined"
    );
    app.post(&path(&first, "accept"), Some(&creator.token), json!({}))
        .await
        .assert_error(409, "request_closed");

    let second = request(&app, &viewer, &creator).await;
    let cancelled = app
        .post(&path(&second, "cancel"), Some(&viewer.token), json!({}))
        .await;
    assert_eq!(cancelled.assert_ok(200)["state"], "cancelled");

    let third = request(&app, &viewer, &creator).await;
    wait_state(&app, &viewer, &third, "expired").await;
    app.post(&path(&third, "accept"), Some(&creator.token), json!({}))
        .await
        .assert_error(409, "request_closed");

    assert_eq!(app.balance(&viewer).await, 100);
    assert_eq!(app.balance(&creator).await, 100);
    let history = app.get("/api/private/sessions", Some(&viewer.token)).await;
    let states: Vec<&str> = history.assert_ok(200)["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["state"].as_str().unwrap())
        .collect();
    assert_eq!(states, ["expired", "cancelled", "declined"]);
    app.assert_ledger_invariants().await;
}

#[tokio::test]
async fn both_parties_see_and_hear_each_other_and_nobody_else_can_watch() {
    let app = spawn_app().await;
    let creator = app.register("pcr").await;
    let viewer = app.register("pvw").await;
    offer(&app, &creator, 5).await;
    // The creator is live in a room they pause for private sessions.
    let room = app.live_room(&creator, 3).await;
    let room_url = format!("/api/rooms/{}", room["id"].as_str().unwrap());
    let session = request(&app, &viewer, &creator).await;
    let (mut a, mut b) = accept_with_pages(&app, &creator, &viewer, &session).await;
    assert_eq!(app.get(&room_url, None).await.body["inPrivate"], true);
    let fan = app.register("pfan").await;
    app.pay(&fan, &room, None)
        .await
        .assert_error(409, "creator_in_private");

    let publishers = both_see_each_other(&mut a, &mut b, &session).await;

    // A third user is refused at every door: Socket.IO and WHEP.
    let stranger = app.register("pst").await;
    let mut outside = Sio::connect(&app, &stranger).await;
    for event in ["private:join", "private:view"] {
        outside
            .refused(event, json!({ "sessionId": session["id"] }), "not_found")
            .await;
    }
    let whep = reqwest::Client::new()
        .post(app.url(&format!(
            "/api/media/whep/{}",
            session["id"].as_str().unwrap()
        )))
        .bearer_auth(&stranger.token)
        .header("content-type", "application/sdp")
        .body("v=0\r\n")
        .send()
        .await
        .unwrap();
    assert_eq!(whep.status(), 404);

    // Ending it stops the media and settles: one started period of 5 coins.
    let ended = app
        .post(&path(&session, "end"), Some(&viewer.token), json!({}))
        .await;
    assert_eq!(ended.assert_ok(200)["state"], "ended");
    assert_eq!(ended.body["endReason"], "viewer");
    // The room runs again, and sells again.
    assert_eq!(app.get(&room_url, None).await.body["inPrivate"], false);
    app.pay(&fan, &room, None).await.assert_ok(200);
    a.refused(
        "private:view",
        json!({ "sessionId": session["id"] }),
        "session_not_active",
    )
    .await;
    app.assert_ledger_invariants().await;
    for p in publishers {
        p.close().await;
    }
}

#[tokio::test]
async fn periods_are_charged_on_the_servers_clock_and_the_last_one_to_the_second() {
    let app = quick_app(20, 30).await;
    let creator = app.register("pcr").await;
    let viewer = app.register("pvw").await;
    offer(&app, &creator, 10).await;
    let session = request(&app, &viewer, &creator).await;
    let (_a, b) = accept_with_pages(&app, &creator, &viewer, &session).await;
    assert_eq!(app.balance(&viewer).await, 90, "the first period is held");
    assert_eq!(app.balance(&creator).await, 100, "held, not paid yet");

    // Two periods pass: each is charged and the next held.
    let mut charged = 0;
    while charged < 20 {
        charged = b.next("private:update").await["session"]["coins"]
            .as_i64()
            .unwrap();
    }
    tokio::time::sleep(Duration::from_millis(PERIOD * 1000 / 2)).await;
    let ended = app
        .post(&path(&session, "end"), Some(&creator.token), json!({}))
        .await;
    let ended = ended.assert_ok(200).clone();
    assert_eq!(ended["endReason"], "creator");
    let coins = ended["coins"].as_i64().unwrap();
    let seconds = ended["seconds"].as_i64().unwrap();
    // Two whole periods and part of a third, rounded up to a coin.
    assert!((21..=30).contains(&coins), "{ended}");
    assert!((4..=5).contains(&seconds), "{ended}");
    assert_eq!(app.balance(&viewer).await, 100 - coins);
    assert_eq!(app.balance(&creator).await, 100 + coins);
    let txs = app.all("transactions").await;
    let holds = kinds(&txs, "private_hold");
    let charges: i64 = kinds(&txs, "private_charge").iter().sum();
    let releases: i64 = kinds(&txs, "private_release").iter().sum();
    assert!(
        holds.len() >= 3 && holds.iter().all(|h| *h == 10),
        "{holds:?}"
    );
    assert_eq!(charges, coins);
    assert_eq!(holds.iter().sum::<i64>(), charges + releases);
    // The creator's earnings count it as private-session income.
    let earnings = app
        .get("/api/users/me/earnings", Some(&creator.token))
        .await;
    assert_eq!(earnings.assert_ok(200)["totals"]["private"], coins);
    // Both see the same history.
    for who in [&creator, &viewer] {
        let history = app.get("/api/private/sessions", Some(&who.token)).await;
        assert_eq!(history.assert_ok(200)["items"][0]["coins"], coins);
    }
    app.assert_ledger_invariants().await;
}

#[tokio::test]
async fn running_out_of_coins_warns_both_and_ends_the_session_cleanly() {
    let app = quick_app(20, 30).await;
    let creator = app.register("pcr").await;
    let viewer = app.register("pvw").await;
    // 100 coins pay three periods of 30 and not a fourth.
    offer(&app, &creator, 30).await;
    let session = request(&app, &viewer, &creator).await;
    let (a, b) = accept_with_pages(&app, &creator, &viewer, &session).await;
    let warned = b.next("private:warning").await;
    assert_eq!(warned["sessionId"], session["id"]);
    a.next("private:warning").await;
    let ended = wait_state(&app, &viewer, &session, "ended").await;
    assert_eq!(ended["endReason"], "funds");
    assert_eq!(ended["coins"], 90);
    assert_eq!(app.balance(&viewer).await, 10);
    assert_eq!(app.balance(&creator).await, 190);
    app.assert_ledger_invariants().await;
}

#[tokio::test]
async fn a_party_gone_past_the_grace_ends_it_billed_until_both_were_there() {
    let app = quick_app(2, 30).await;
    let creator = app.register("pcr").await;
    let viewer = app.register("pvw").await;
    offer(&app, &creator, 10).await;
    let session = request(&app, &viewer, &creator).await;
    // The pages are open before the accept (a browser's are).
    let mut a = Sio::connect(&app, &creator).await;
    let mut b = Sio::connect(&app, &viewer).await;
    app.post(&path(&session, "accept"), Some(&creator.token), json!({}))
        .await
        .assert_ok(200);
    let join = json!({ "sessionId": session["id"] });
    a.ok("private:join", join.clone()).await;
    b.ok("private:join", join).await;
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let left = mongodb::bson::DateTime::now().timestamp_millis();
    b.close().await;
    let ended = wait_state(&app, &creator, &session, "ended").await;
    assert_eq!(ended["endReason"], "connection");
    // Billed up to the viewer's departure (within the second the presence
    // is written in), not through the grace.
    let ended_at = chrono_ms(ended["endedAt"].as_str().unwrap());
    assert!(
        (left - 1500..=left + 300).contains(&ended_at),
        "ended at {ended_at}, the viewer left at {left}: {ended}"
    );
    let coins = ended["coins"].as_i64().unwrap();
    assert!(coins > 0, "{ended}");
    assert_eq!(app.balance(&viewer).await, 100 - coins);
    assert_eq!(app.balance(&creator).await, 100 + coins);
    app.assert_ledger_invariants().await;
    drop(a);
}

#[tokio::test]
async fn a_crash_mid_session_settles_exactly_once_from_what_was_recorded() {
    let db_name = unique("t_");
    let settings = [
        ("STREAMSHARE_PRIVATE_PERIOD_SECS", "2"),
        ("STREAMSHARE_PRIVATE_GRACE_SECS", "3"),
    ];
    let (mut first, app) = spawn_process(&db_name, &settings).await;
    let creator = app.register("pcr").await;
    let viewer = app.register("pvw").await;
    offer(&app, &creator, 10).await;
    let session = request(&app, &viewer, &creator).await;
    let (a, b) = accept_with_pages(&app, &creator, &viewer, &session).await;
    // A period is charged, then the server dies (SIGKILL) mid-period.
    while b.next("private:update").await["session"]["coins"] != 10 {}
    tokio::time::sleep(Duration::from_millis(700)).await;
    let seen_before = app
        .db
        .collection::<Document>("private_sessions")
        .find_one(doc! {})
        .await
        .unwrap()
        .unwrap();
    first.kill().unwrap();
    first.wait().unwrap();
    drop((a, b));

    // The next server finds nobody there and settles at the last moment
    // both were seen: nothing free beyond it, nothing charged twice.
    let (mut second, app) = spawn_process(&db_name, &settings).await;
    let ended = wait_state(&app, &viewer, &session, "ended").await;
    assert_eq!(ended["endReason"], "connection");
    let seen = seen_before
        .get_datetime("bothSeenAt")
        .unwrap()
        .timestamp_millis();
    let ended_at = chrono_ms(ended["endedAt"].as_str().unwrap());
    assert!(
        (ended_at - seen).abs() <= 1000,
        "ended at {ended_at}, last seen {seen}"
    );
    let coins = ended["coins"].as_i64().unwrap();
    assert!((10..=20).contains(&coins), "{ended}");
    second.kill().unwrap();
    second.wait().unwrap();

    let (mut third, app) = spawn_process(&db_name, &settings).await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(session_of(&app, &viewer, &session).await["coins"], coins);
    assert_eq!(app.balance(&viewer).await, 100 - coins);
    assert_eq!(app.balance(&creator).await, 100 + coins);
    app.assert_ledger_invariants().await;
    third.kill().unwrap();
    third.wait().unwrap();
}

fn chrono_ms(rfc3339: &str) -> i64 {
    mongodb::bson::DateTime::parse_rfc3339_str(rfc3339)
        .unwrap()
        .timestamp_millis()
}

#[tokio::test]
async fn concurrent_sessions_keep_every_coin_accounted_for() {
    let app = quick_app(20, 30).await;
    let mut running = vec![];
    for i in 0..4 {
        let creator = app.register(&format!("pcr{i}")).await;
        let viewer = app.register(&format!("pvw{i}")).await;
        offer(&app, &creator, 7).await;
        let session = request(&app, &viewer, &creator).await;
        running.push((creator, viewer, session));
    }
    let accepts = running.iter().map(|(creator, _, session)| {
        let app = &app;
        async move {
            app.post(&path(session, "accept"), Some(&creator.token), json!({}))
                .await
                .assert_ok(200)
                .clone()
        }
    });
    futures::future::join_all(accepts).await;
    let mut pages = vec![];
    for (creator, viewer, session) in &running {
        pages.push(both_join(&app, creator, viewer, session).await);
    }
    tokio::time::sleep(Duration::from_millis(PERIOD * 1000 + 700)).await;
    let ends = running.iter().map(|(_, viewer, session)| {
        let app = &app;
        async move {
            app.post(&path(session, "end"), Some(&viewer.token), json!({}))
                .await
                .assert_ok(200)
                .clone()
        }
    });
    for ended in futures::future::join_all(ends).await {
        assert!(ended["coins"].as_i64().unwrap() >= 7, "{ended}");
    }
    app.assert_ledger_invariants().await;
}

/// One instance of a cluster as its own process, reachable by the others.
async fn cluster_instance(
    db_name: &str,
    redis: &RedisServer,
    id: &str,
) -> (std::process::Child, TestApp) {
    let port = free_port();
    let mut command = serve_command(port, db_name);
    command
        .env("STREAMSHARE_REDIS_URL", redis.url())
        .env("STREAMSHARE_INSTANCE_ID", id)
        .env(
            "STREAMSHARE_INTERNAL_URL",
            format!("http://127.0.0.1:{port}"),
        )
        .env("STREAMSHARE_PRIVATE_PERIOD_SECS", PERIOD.to_string())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null());
    start_process(command, port, db_name).await
}

#[tokio::test]
async fn across_instances_the_parties_meet_on_one_media_server_and_are_billed_once() {
    let redis = RedisServer::start();
    let db_name = unique("t_");
    let (mut a_process, a) = cluster_instance(&db_name, &redis, "pa").await;
    let (mut b_process, b) = cluster_instance(&db_name, &redis, "pb").await;
    let creator = a.register("pcr").await;
    let viewer = b.register("pvw").await;
    offer(&a, &creator, 10).await;
    let mut studio = Sio::connect(&a, &creator).await;
    let mut page = Sio::connect(&b, &viewer).await;

    // Asked on B, heard on A; accepted on A, which holds the media.
    let session = request(&b, &viewer, &creator).await;
    assert_eq!(
        studio.next("private:request").await["session"]["id"],
        session["id"]
    );
    a.post(&path(&session, "accept"), Some(&creator.token), json!({}))
        .await
        .assert_ok(200);
    let join = json!({ "sessionId": session["id"] });
    studio.ok("private:join", join.clone()).await;
    page.ok("private:join", join).await;

    let publishers = both_see_each_other(&mut studio, &mut page, &session).await;
    // Both pages count as present across instances: the clock runs.
    while page.next("private:update").await["session"]["coins"] != 10 {}
    let ended = b
        .post(&path(&session, "end"), Some(&viewer.token), json!({}))
        .await;
    let coins = ended.assert_ok(200)["coins"].as_i64().unwrap();
    assert!((11..=20).contains(&coins), "{}", ended.body);
    assert_eq!(a.balance(&viewer).await, 100 - coins);
    assert_eq!(a.balance(&creator).await, 100 + coins);
    a.assert_ledger_invariants().await;
    for p in publishers {
        p.close().await;
    }
    for process in [&mut a_process, &mut b_process] {
        process.kill().unwrap();
        process.wait().unwrap();
    }
}

#[tokio::test]
async fn a_room_left_for_a_private_session_waits_for_its_creator_until_it_ends() {
    // The test settings give a vanished publisher 2 s of grace.
    let app = spawn_app().await;
    let creator = app.register("pcr").await;
    let viewer = app.register("pvw").await;
    offer(&app, &creator, 5).await;
    let room = app.live_room(&creator, 0).await;
    let room_url = format!("/api/rooms/{}", room["id"].as_str().unwrap());
    let (_studio, publisher) = crate::media_plane::publish(&app, &creator, &room).await;
    let session = request(&app, &viewer, &creator).await;
    let (_a, _b) = accept_with_pages(&app, &creator, &viewer, &session).await;
    // The creator leaves the room's studio for the session: away, paused.
    publisher.close().await;
    tokio::time::sleep(Duration::from_secs(5)).await;
    let paused = app.get(&room_url, None).await;
    assert_eq!(paused.body["status"], "live", "{}", paused.body);
    assert_eq!(paused.body["inPrivate"], true);
    // After the session the grace runs again, from its end.
    app.post(&path(&session, "end"), Some(&creator.token), json!({}))
        .await
        .assert_ok(200);
    let resumed = app.get(&room_url, None).await;
    assert_eq!(resumed.body["status"], "live");
    assert_eq!(resumed.body["inPrivate"], false);
    assert!(resumed.body["awayUntil"].is_string(), "{}", resumed.body);
    for _ in 0..100 {
        if app.get(&room_url, None).await.body["status"] == "offline" {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the room outlived its grace after the session");
}
