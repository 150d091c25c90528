//! The doors an outside probe found open (issue 24), each shown shut:
//! sign-up coin farming, the metrics label blow-up, slow headers and idle
//! connections, connections per address, oversized WebSocket messages,
//! deleted and suspended accounts, parser internals in error messages, the
//! per-account sign-in limit, the version and metrics on the public port,
//! a room whose creator is gone, and `X-Forwarded-For` from the right.

use std::time::{Duration, Instant};

use mongodb::bson::doc;
use reqwest::Method;
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::helpers::{
    Reply, TestApp, TestUser, admin_command, cookie_client, shared_db_uri, spawn_app_with, unique,
};
use crate::socket::Sio;

/// Registers a user as a client at `addr` (behind a trusted proxy).
async fn register_from(app: &TestApp, prefix: &str, addr: &str) -> Reply {
    let username = unique(prefix);
    let resp = app
        .http
        .post(app.url("/api/auth/register"))
        .header("x-forwarded-for", addr)
        .json(&json!({
            "username": username,
            "email": format!("{username}@example.com"),
            "password": "correct horse battery",
        }))
        .send()
        .await
        .unwrap();
    Reply::from(resp).await
}

fn user_of(reply: &Reply) -> TestUser {
    let body = reply.assert_ok(201);
    TestUser {
        id: body["user"]["id"].as_str().unwrap().to_owned(),
        username: body["user"]["username"].as_str().unwrap().to_owned(),
        password: "correct horse battery".into(),
        token: body["accessToken"].as_str().unwrap().to_owned(),
        client: cookie_client(),
    }
}

/// Behind a proxy on loopback, with the production sign-up defaults.
async fn proxied_app(tweak: impl FnOnce(&mut streamshare::config::Settings)) -> TestApp {
    spawn_app_with(&shared_db_uri(), |s| {
        s.trusted_proxies = vec!["127.0.0.1/32".parse().unwrap()];
        s.signup_burst_per_ip = 5;
        s.signup_burst_per_network = 20;
        tweak(s);
    })
    .await
}

#[tokio::test]
async fn farming_sign_up_coins_with_puppet_accounts_fails() {
    let app = proxied_app(|_| {}).await;
    // The attacker's own account, then puppets from the same address.
    let attacker = user_of(&register_from(&app, "maker", "203.0.113.10").await);
    let room = app.live_room(&attacker, 50).await;
    let mut puppets = Vec::new();
    for _ in 0..4 {
        puppets.push(user_of(&register_from(&app, "pup", "203.0.113.10").await));
    }
    let refused = register_from(&app, "pup", "203.0.113.10").await;
    refused.assert_error(429, "rate_limited");
    assert!(refused.body["error"]["retryAfterSeconds"].as_u64().unwrap() > 60);

    // Moving to the next addresses of the block runs into the network's cap.
    let mut accepted = 0;
    for host in 11..40 {
        let reply = register_from(&app, "pup", &format!("203.0.113.{host}")).await;
        if reply.status == 201 {
            puppets.push(user_of(&reply));
            accepted += 1;
        } else {
            reply.assert_error(429, "rate_limited");
        }
    }
    assert_eq!(
        accepted, 15,
        "the /24 takes 20 sign-ups at once, 5 were the first address's"
    );

    // Not one puppet can pay the maker's room with its sign-up coins.
    for puppet in &puppets {
        let reply = app.pay(puppet, &room, None).await;
        reply.assert_error(402, "insufficient_funds");
        assert_eq!(reply.body["error"]["bonusCoinsExcluded"], 100);
        assert_eq!(reply.body["error"]["balance"], 100);
    }
    assert_eq!(
        app.balance(&attacker).await,
        100,
        "the maker earned nothing"
    );

    // The same puppets' coins work in a stranger's room, and a stranger
    // from another network pays the maker's room as any viewer would.
    let stranger = user_of(&register_from(&app, "str", "198.51.100.7").await);
    let other_room = app.live_room(&stranger, 50).await;
    app.pay(&puppets[0], &other_room, None).await.assert_ok(200);
    app.pay(&stranger, &room, None).await.assert_ok(200);
    assert_eq!(app.balance(&attacker).await, 150);
    app.assert_ledger_invariants().await;
}

#[tokio::test]
async fn sign_up_grants_stop_at_the_daily_cap_and_zero_turns_them_off() {
    let app = spawn_app_with(&shared_db_uri(), |s| s.signup_grants_per_day = 2).await;
    let mut coins = Vec::new();
    for _ in 0..3 {
        let user = app.register("cap").await;
        coins.push(app.balance(&user).await);
    }
    assert_eq!(coins, [100, 100, 0]);
    let grants = app.db.collection::<mongodb::bson::Document>("transactions");
    assert_eq!(
        grants
            .count_documents(doc! { "kind": "grant" })
            .await
            .unwrap(),
        2
    );
    app.assert_ledger_invariants().await;

    let off = spawn_app_with(&shared_db_uri(), |s| s.signup_grants_per_day = 0).await;
    let user = off.register("none").await;
    assert_eq!(off.balance(&user).await, 0);
    assert!(off.all("transactions").await.is_empty());
}

#[tokio::test]
async fn with_verification_required_the_grant_waits_for_the_e_mailed_link() {
    let outbox = std::env::temp_dir().join(unique("ss-outbox-"));
    let dir = outbox.clone();
    let app = spawn_app_with(&shared_db_uri(), move |s| {
        s.require_email_verification = true;
        s.mail_outbox = Some(dir);
        s.public_url = Some("https://stream.example".into());
    })
    .await;
    let user = app.register("mail").await;
    let me = app.get("/api/users/me", Some(&user.token)).await;
    assert_eq!(me.body["coins"], 0);
    assert_eq!(me.body["grantPending"], true);
    assert_eq!(me.body["emailVerified"], false);

    let mail = std::fs::read_dir(&outbox)
        .unwrap()
        .map(|e| std::fs::read_to_string(e.unwrap().path()).unwrap())
        .find(|m| m.contains(&format!("{}@example.com", user.username)))
        .expect("a verification e-mail was written");
    let link = mail
        .lines()
        .find(|l| l.starts_with("https://stream.example/verify-email?token="))
        .expect("the link is in the mail");
    let token = link.split("token=").nth(1).unwrap().trim();

    app.post("/api/auth/verify-email", None, json!({ "token": "forged" }))
        .await
        .assert_error(422, "invalid_verification_token");
    let verified = app
        .post("/api/auth/verify-email", None, json!({ "token": token }))
        .await;
    assert_eq!(verified.assert_ok(200)["user"]["coins"], 100);
    assert_eq!(verified.body["user"]["emailVerified"], true);
    // A used link gives nothing more.
    app.post("/api/auth/verify-email", None, json!({ "token": token }))
        .await
        .assert_error(422, "invalid_verification_token");
    app.post(
        "/api/auth/verify-email/resend",
        Some(&user.token),
        json!({}),
    )
    .await
    .assert_error(409, "already_verified");
    assert_eq!(app.balance(&user).await, 100);
    app.assert_ledger_invariants().await;
}

#[tokio::test]
async fn made_up_http_methods_do_not_grow_the_metrics() {
    let app = spawn_app_with(&shared_db_uri(), |_| {}).await;
    let before = app.http.get(app.url("/metrics")).send().await.unwrap();
    let before = before.text().await.unwrap().len();
    for n in 0..300 {
        let method = Method::from_bytes(format!("X{n:04}{}", "Y".repeat(2000)).as_bytes()).unwrap();
        let resp = app
            .http
            .request(method, app.url("/api/rooms"))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 405);
    }
    let text = app
        .http
        .get(app.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!text.contains("YYYY"), "a made-up method became a label");
    assert!(text.contains("method=\"OTHER\""), "{text}");
    assert!(
        text.len() < before + 4096,
        "metrics grew from {before} to {} bytes",
        text.len()
    );
}

/// Reads until the server closes the connection; how long that took.
async fn closed_within(stream: &mut TcpStream, limit: Duration) -> Option<Duration> {
    let start = Instant::now();
    let mut buf = [0u8; 4096];
    loop {
        match tokio::time::timeout(limit.saturating_sub(start.elapsed()), stream.read(&mut buf))
            .await
        {
            Ok(Ok(0)) | Ok(Err(_)) => return Some(start.elapsed()),
            Ok(Ok(_)) => continue,
            Err(_) => return None,
        }
    }
}

#[tokio::test]
async fn slow_headers_and_idle_connections_are_cut_off() {
    let app = spawn_app_with(&shared_db_uri(), |s| s.header_timeout_secs = 1).await;
    let addr = app.base.trim_start_matches("http://").to_owned();

    // Headers that never end.
    let mut slow = TcpStream::connect(&addr).await.unwrap();
    slow.write_all(b"GET /api/health/live HTTP/1.1\r\nHost: x\r\nX-Slow: 1\r\n")
        .await
        .unwrap();
    let took = closed_within(&mut slow, Duration::from_secs(15)).await;
    assert!(
        took.is_some(),
        "a request without its final blank line stays open"
    );

    // A kept-alive connection that sends nothing more.
    let mut idle = TcpStream::connect(&addr).await.unwrap();
    idle.write_all(b"GET /api/health/live HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let took = closed_within(&mut idle, Duration::from_secs(15)).await;
    assert!(took.is_some(), "an idle keep-alive connection stays open");

    // A prompt client is served.
    let reply = app.get("/api/health/live", None).await;
    assert_eq!(reply.status, 200);
}

#[tokio::test]
async fn one_address_holds_a_bounded_number_of_connections() {
    let app = spawn_app_with(&shared_db_uri(), |s| s.max_connections_per_ip = 3).await;
    let addr = app.base.trim_start_matches("http://").to_owned();
    let mut held = Vec::new();
    for _ in 0..3 {
        held.push(TcpStream::connect(&addr).await.unwrap());
    }
    let mut extra = TcpStream::connect(&addr).await.unwrap();
    extra
        .write_all(b"GET /api/health/live HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .ok();
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(5), extra.read_to_end(&mut answer)).await;
    assert!(answer.is_empty(), "a fourth connection was served");
    // One closes: a new one is served.
    drop(held.pop());
    let mut reply = None;
    for _ in 0..50 {
        if let Ok(resp) = reqwest::get(app.url("/api/health/live")).await {
            reply = Some(resp.status());
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(reply, Some(reqwest::StatusCode::OK));
}

#[tokio::test]
async fn an_oversized_websocket_message_closes_the_socket() {
    let app = spawn_app_with(&shared_db_uri(), |_| {}).await;
    let user = app.register("ws").await;
    let creator = app.register("wsc").await;
    let room = app.live_room(&creator, 0).await;
    let mut sio = Sio::connect(&app, &user).await;
    sio.ok("room:join", json!({ "roomId": room["id"] })).await;
    // Just under the 256 KiB bound: read, and refused for its length.
    sio.refused(
        "chat:send",
        json!({ "roomId": room["id"], "text": "a".repeat(250 * 1024) }),
        "validation_failed",
    )
    .await;
    // Past it: the connection is closed before the message is read whole.
    sio.fire(
        "chat:send",
        json!({ "roomId": room["id"], "text": "a".repeat(1024 * 1024) }),
    )
    .await;
    let reason = sio.disconnected().await;
    assert!(reason.contains("transport"), "{reason}");
}

#[tokio::test]
async fn a_suspended_account_is_cut_off_at_once_and_a_deleted_one_too() {
    let app = spawn_app_with(&shared_db_uri(), |_| {}).await;
    let creator = app.register("host").await;
    let room = app.live_room(&creator, 5).await;
    let (_creator_sio, _publisher) = crate::media_plane::publish(&app, &creator, &room).await;
    let viewer = app.register("gone").await;
    app.pay(&viewer, &room, None).await.assert_ok(200);
    let mut sio = Sio::connect(&app, &viewer).await;
    sio.ok("room:join", json!({ "roomId": room["id"] })).await;
    let peer = crate::media_plane::view(&mut sio, &room).await;
    crate::media_plane::receives_media(&peer).await;

    let out = admin_command(&["suspend", &viewer.username], &app.db_name).await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // Its socket and its media are cut, and every door refuses it.
    sio.disconnected().await;
    let (closed, _) = peer.wait_for(Duration::from_secs(20), |c| c.closed).await;
    assert!(closed, "a suspended viewer's media stops");
    app.get("/api/transactions", Some(&viewer.token))
        .await
        .assert_error(403, "account_suspended");
    app.pay(&viewer, &room, None)
        .await
        .assert_error(403, "account_suspended");
    let refused = Sio::try_connect(&app, Some(&viewer.token)).await.err();
    assert!(
        refused
            .as_deref()
            .is_some_and(|m| m.starts_with("account_suspended")),
        "{refused:?}"
    );
    let whep = app
        .http
        .post(app.url(&format!("/api/media/whep/{}", room["id"].as_str().unwrap())))
        .bearer_auth(&viewer.token)
        .header("content-type", "application/sdp")
        .body("v=0\r\n")
        .send()
        .await
        .unwrap();
    Reply::from(whep)
        .await
        .assert_error(403, "account_suspended");
    let login = app
        .post(
            "/api/auth/login",
            None,
            json!({ "login": viewer.username, "password": viewer.password }),
        )
        .await;
    login.assert_error(403, "account_suspended");

    // Lifted: the door opens again.
    let out = admin_command(&["unsuspend", &viewer.username], &app.db_name).await;
    assert!(out.status.success());
    let mut back = None;
    for _ in 0..100 {
        let reply = app.get("/api/transactions", Some(&viewer.token)).await;
        if reply.status == 200 {
            back = Some(reply);
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(back.is_some(), "an unsuspended account is let in again");

    // Deleted from the database by an operator: gone everywhere.
    let sio = Sio::connect(&app, &viewer).await;
    app.db
        .collection::<mongodb::bson::Document>("users")
        .delete_one(doc! { "_id": viewer.oid() })
        .await
        .unwrap();
    sio.disconnected().await;
    app.get("/api/transactions", Some(&viewer.token))
        .await
        .assert_error(401, "account_closed");
    assert!(Sio::try_connect(&app, Some(&viewer.token)).await.is_err());
}

#[tokio::test]
async fn a_room_whose_creator_is_gone_is_not_found_and_its_session_ends() {
    let app = spawn_app_with(&shared_db_uri(), |_| {}).await;
    let creator = app.register("vanish").await;
    let room = app.live_room(&creator, 5).await;
    let viewer = app.register("late").await;
    app.db
        .collection::<mongodb::bson::Document>("users")
        .delete_one(doc! { "_id": creator.oid() })
        .await
        .unwrap();
    // Paid at once (before or after the session ends): never a 500.
    let reply = app.pay(&viewer, &room, None).await;
    assert!(
        reply.code() == "room_not_found" || reply.code() == "room_not_live",
        "{reply:?}"
    );
    let id = room["id"].as_str().unwrap();
    let mut offline = false;
    for _ in 0..100 {
        let now = app.get(&format!("/api/rooms/{id}"), None).await;
        if now.body["status"] == "offline" {
            offline = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(offline, "the deleted creator's live session ended");
    app.pay(&viewer, &room, None)
        .await
        .assert_error(404, "room_not_found");
    assert_eq!(app.balance(&viewer).await, 100);
}

#[tokio::test]
async fn a_malformed_sdp_is_refused_in_our_own_words() {
    let app = spawn_app_with(&shared_db_uri(), |_| {}).await;
    let creator = app.register("sdp").await;
    let room = app.live_room(&creator, 0).await;
    let id = room["id"].as_str().unwrap();
    for (door, garbage) in [
        ("whep", "v=0\r\no=- 0 0 IN IP4 127.0.0.1\r\nm=video x y\r\n"),
        ("whep", "hello\r\n"),
        ("whip", "v=0\r\n%%%\r\n"),
    ] {
        let resp = app
            .http
            .post(app.url(&format!("/api/media/{door}/{id}")))
            .bearer_auth(&creator.token)
            .header("content-type", "application/sdp")
            .body(garbage)
            .send()
            .await
            .unwrap();
        let reply = Reply::from(resp).await;
        reply.assert_error(422, "validation_failed");
        let message = reply.body["error"]["message"].as_str().unwrap();
        for leak in ["Pointer", "0x", "Offset", "Errors {", "Unexpected("] {
            assert!(!message.contains(leak), "{door}: {message}");
        }
    }
}

#[tokio::test]
async fn the_sign_in_limit_counts_an_account_whatever_name_is_typed() {
    let app = spawn_app_with(&shared_db_uri(), |s| s.login_burst_per_account = 4).await;
    let user = app.register("who").await;
    let email = format!("{}@example.com", user.username);
    let mut codes = Vec::new();
    for login in [&user.username, &email, &user.username, &email, &email] {
        let reply = app
            .post(
                "/api/auth/login",
                None,
                json!({ "login": login, "password": "wrong password" }),
            )
            .await;
        codes.push(reply.code().to_owned());
    }
    assert_eq!(
        codes,
        [
            "invalid_credentials",
            "invalid_credentials",
            "invalid_credentials",
            "invalid_credentials",
            "rate_limited"
        ]
    );
}

#[tokio::test]
async fn the_version_and_metrics_stay_off_the_public_port() {
    let app = spawn_app_with(&shared_db_uri(), |s| {
        s.metrics_addr = Some("127.0.0.1:0".parse().unwrap())
    })
    .await;
    let health = app.get("/api/health", None).await;
    assert_eq!(health.status, 200);
    assert!(health.body.get("version").is_none(), "{:?}", health.body);
    app.get("/metrics", None)
        .await
        .assert_error(404, "not_found");
    let internal = app.metrics_base.clone().unwrap();
    let text = reqwest::get(format!("{internal}/metrics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        text.contains(&format!(
            "streamshare_build_info{{version=\"{}\"}}",
            env!("CARGO_PKG_VERSION")
        )),
        "{text}"
    );

    // Without an internal listener: local callers only, never through a proxy.
    let local = spawn_app_with(&shared_db_uri(), |_| {}).await;
    assert_eq!(
        local
            .http
            .get(local.url("/metrics"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    let proxied = local
        .http
        .get(local.url("/metrics"))
        .header("x-forwarded-for", "198.51.100.9")
        .send()
        .await
        .unwrap();
    assert_eq!(proxied.status(), 404);
}

#[tokio::test]
async fn the_client_address_is_read_from_the_right_past_trusted_proxies() {
    // One sign-up per address, so a second from the same client is a 429.
    let setup = |s: &mut streamshare::config::Settings| {
        s.signup_burst_per_ip = 1;
        s.signup_burst_per_network = 100;
    };
    // Not behind a trusted proxy: the header is ignored.
    let direct = spawn_app_with(&shared_db_uri(), setup).await;
    register_from(&direct, "xff", "198.51.100.1")
        .await
        .assert_ok(201);
    register_from(&direct, "xff", "198.51.100.2")
        .await
        .assert_error(429, "rate_limited");

    // Behind one: a forged leftmost entry changes nothing.
    let proxied = proxied_app(setup).await;
    register_from(&proxied, "xff", "6.6.6.1, 198.51.100.1")
        .await
        .assert_ok(201);
    register_from(&proxied, "xff", "6.6.6.2, 198.51.100.1")
        .await
        .assert_error(429, "rate_limited");
    register_from(&proxied, "xff", "198.51.100.2")
        .await
        .assert_ok(201);
}
