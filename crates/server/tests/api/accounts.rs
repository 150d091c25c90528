use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use mongodb::bson::doc;
use serde_json::json;

use crate::helpers::{Reply, TEST_SECRET, cookie_client, spawn_app, spawn_app_with, unique};

#[tokio::test]
async fn registering_returns_the_user_a_token_and_a_strict_refresh_cookie() {
    let app = spawn_app().await;
    let name = unique("ann");
    let resp = app
        .http
        .post(app.url("/api/auth/register"))
        .json(&json!({"username": name, "email": format!("{name}@Example.com"), "password": "hunter2hunter2"}))
        .send()
        .await
        .unwrap();
    let cookie = resp.headers()["set-cookie"].to_str().unwrap().to_owned();
    let reply = Reply::from(resp).await;
    let body = reply.assert_ok(201);
    assert_eq!(body["user"]["username"], name.as_str());
    assert_eq!(body["user"]["displayName"], name.as_str());
    assert_eq!(body["user"]["coins"], 100);
    assert!(body["user"]["createdAt"].as_str().unwrap().ends_with('Z'));
    assert!(body["user"].get("passwordHash").is_none() && body["user"].get("email").is_none());
    assert!(body["accessToken"].as_str().unwrap().split('.').count() == 3);
    for part in [
        "ss_refresh=",
        "HttpOnly",
        "SameSite=Strict",
        "Path=/api/auth",
    ] {
        assert!(cookie.contains(part), "{cookie} lacks {part}");
    }
    assert!(
        !cookie.contains("Secure"),
        "plain-HTTP runs must keep working: {cookie}"
    );
}

#[tokio::test]
async fn the_signup_grant_is_a_ledger_entry_and_configurable() {
    let app = spawn_app_with(&crate::helpers::shared_db_uri(), |s| s.signup_coins = 250).await;
    let user = app.register("rich").await;
    assert_eq!(app.balance(&user).await, 250);
    let grants = app.all("transactions").await;
    assert_eq!(grants.len(), 1);
    assert_eq!(grants[0].get_str("kind").unwrap(), "grant");
    assert_eq!(grants[0].get_i64("amount").unwrap(), 250);
    assert_eq!(grants[0].get_object_id("toUserId").unwrap(), user.oid());
    let listed = app.get("/api/transactions", Some(&user.token)).await;
    assert_eq!(listed.assert_ok(200)["items"][0]["kind"], "grant");
}

#[tokio::test]
async fn invalid_registrations_name_the_field() {
    let app = spawn_app().await;
    let cases = [
        (
            json!({"username": "ab", "email": "a@b.io", "password": "12345678"}),
            "username",
        ),
        (
            json!({"username": "Bad-Name", "email": "a@b.io", "password": "12345678"}),
            "username",
        ),
        (
            json!({"username": "okname", "email": "not-mail", "password": "12345678"}),
            "email",
        ),
        (
            json!({"username": "okname", "email": "a@b.io", "password": "short"}),
            "password",
        ),
        (json!({"username": "okname", "email": "a@b.io"}), "password"),
        (
            json!({"username": 5, "email": "a@b.io", "password": "12345678"}),
            "username",
        ),
    ];
    for (body, field) in cases {
        let reply = app.post("/api/auth/register", None, body.clone()).await;
        reply.assert_error(422, "validation_failed");
        assert_eq!(reply.body["error"]["field"], field, "{body}");
    }
    assert!(app.all("users").await.is_empty(), "nothing was written");
}

#[tokio::test]
async fn duplicate_usernames_and_emails_conflict() {
    let app = spawn_app().await;
    let user = app.register("dup").await;
    app.post(
        "/api/auth/register",
        None,
        json!({"username": user.username, "email": "other@example.com", "password": "12345678"}),
    )
    .await
    .assert_error(409, "username_taken");
    app.post(
        "/api/auth/register",
        None,
        json!({"username": unique("other"), "email": format!("{}@EXAMPLE.com", user.username.to_uppercase()), "password": "12345678"}),
    )
    .await
    .assert_error(409, "email_taken");
    assert_eq!(app.all("users").await.len(), 1);
    assert_eq!(
        app.all("transactions").await.len(),
        1,
        "no grant for a refused signup"
    );
}

#[tokio::test]
async fn login_works_with_username_or_email_and_refuses_wrong_passwords() {
    let app = spawn_app().await;
    let user = app.register("log").await;
    for login in [
        user.username.clone(),
        format!("{}@example.com", user.username),
    ] {
        let reply = app
            .post(
                "/api/auth/login",
                None,
                json!({"login": login, "password": user.password}),
            )
            .await;
        assert_eq!(reply.assert_ok(200)["user"]["id"], user.id.as_str());
        let token = reply.body["accessToken"].as_str().unwrap();
        app.get("/api/users/me", Some(token)).await.assert_ok(200);
    }
    app.post(
        "/api/auth/login",
        None,
        json!({"login": user.username, "password": "wrong password"}),
    )
    .await
    .assert_error(401, "invalid_credentials");
    app.post(
        "/api/auth/login",
        None,
        json!({"login": "nobody_here", "password": "whatever1"}),
    )
    .await
    .assert_error(401, "invalid_credentials");
}

#[tokio::test]
async fn me_and_balance_answer_for_the_caller() {
    let app = spawn_app().await;
    let user = app.register("me").await;
    let me = app.get("/api/users/me", Some(&user.token)).await;
    assert_eq!(me.assert_ok(200)["username"], user.username.as_str());
    assert_eq!(me.body["coins"], 100);
    assert_eq!(app.balance(&user).await, 100);
}

async fn refresh(app: &crate::helpers::TestApp, client: &reqwest::Client) -> Reply {
    Reply::from(
        client
            .post(app.url("/api/auth/refresh"))
            .send()
            .await
            .unwrap(),
    )
    .await
}

#[tokio::test]
async fn refresh_rotates_and_a_rotated_out_token_is_refused() {
    let app = spawn_app().await;
    let user = app.register("rot").await;
    let first_cookie = user
        .client
        .post(app.url("/api/auth/refresh"))
        .send()
        .await
        .unwrap();
    assert_eq!(first_cookie.status(), 200);
    let new_cookie = first_cookie.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .to_owned();
    let body: serde_json::Value = first_cookie.json().await.unwrap();
    let token = body["accessToken"].as_str().unwrap();
    assert_eq!(
        app.get("/api/users/me", Some(token)).await.assert_ok(200)["id"],
        user.id.as_str()
    );

    // The cookie jar now holds the rotated token: refreshing again works.
    refresh(&app, &user.client).await.assert_ok(200);

    // Replaying the original cookie (from registration) is refused.
    let stored = app.all("refresh_tokens").await;
    assert_eq!(stored.len(), 3, "one token per issue, stored hashed");
    assert!(stored.iter().all(|t| t.get_str("_id").unwrap().len() == 64));
    let old_value = new_cookie.split(';').next().unwrap().to_owned();
    let replay = Reply::from(
        app.http
            .post(app.url("/api/auth/refresh"))
            .header("cookie", &old_value)
            .send()
            .await
            .unwrap(),
    )
    .await;
    replay.assert_error(401, "unauthorized");
}

#[tokio::test]
async fn a_replayed_refresh_token_later_revokes_the_whole_family() {
    let app = spawn_app().await;
    let user = app.register("fam").await;
    // Steal the current cookie value, then let the real client rotate it.
    let resp = user
        .client
        .post(app.url("/api/auth/refresh"))
        .send()
        .await
        .unwrap();
    let stolen = resp.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    refresh(&app, &user.client).await.assert_ok(200);
    // Age the use past the two-tabs grace period, then replay the stolen one.
    app.db
        .collection::<mongodb::bson::Document>("refresh_tokens")
        .update_many(
            doc! { "usedAt": { "$ne": null } },
            doc! { "$set": { "usedAt": mongodb::bson::DateTime::from_millis(0) } },
        )
        .await
        .unwrap();
    let replay = Reply::from(
        app.http
            .post(app.url("/api/auth/refresh"))
            .header("cookie", &stolen)
            .send()
            .await
            .unwrap(),
    )
    .await;
    replay.assert_error(401, "unauthorized");
    // The legitimate client is signed out too.
    refresh(&app, &user.client)
        .await
        .assert_error(401, "unauthorized");
}

#[tokio::test]
async fn logout_revokes_the_refresh_token() {
    let app = spawn_app().await;
    let user = app.register("out").await;
    let resp = user
        .client
        .post(app.url("/api/auth/logout"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 204);
    assert!(
        resp.headers()["set-cookie"]
            .to_str()
            .unwrap()
            .contains("Max-Age=0")
    );
    // Even a client that kept the cookie cannot use it.
    let stored = app.all("refresh_tokens").await;
    assert!(stored.iter().all(|t| t.get_bool("revoked").unwrap()));
    refresh(&app, &user.client)
        .await
        .assert_error(401, "unauthorized");
    refresh(&app, &cookie_client())
        .await
        .assert_error(401, "unauthorized");
}

#[tokio::test]
async fn bad_tokens_get_401() {
    let app = spawn_app().await;
    let user = app.register("tok").await;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let claims =
        |exp: u64| json!({"sub": user.id, "name": user.username, "iat": now - 10, "exp": exp});
    let key = jsonwebtoken::EncodingKey::from_secret(TEST_SECRET.as_bytes());
    let expired =
        jsonwebtoken::encode(&jsonwebtoken::Header::default(), &claims(now - 3600), &key).unwrap();
    let foreign = jsonwebtoken::encode(
        &jsonwebtoken::Header::default(),
        &claims(now + 600),
        &jsonwebtoken::EncodingKey::from_secret(b"another-secret-another-secret-0123456"),
    )
    .unwrap();
    let header = URL_SAFE_NO_PAD.encode(r#"{"alg":"none","typ":"JWT"}"#);
    let payload = URL_SAFE_NO_PAD.encode(claims(now + 600).to_string());
    let unsigned = format!("{header}.{payload}.");
    let mut parts: Vec<String> = user.token.split('.').map(str::to_owned).collect();
    parts[1] = payload.clone();
    let tampered = parts.join(".");

    let expired_reply = app.get("/api/users/me", Some(&expired)).await;
    expired_reply.assert_error(401, "token_expired");
    for token in [
        foreign.as_str(),
        unsigned.as_str(),
        tampered.as_str(),
        "garbage",
        "a.b.c",
    ] {
        app.get("/api/users/me", Some(token))
            .await
            .assert_error(401, "unauthorized");
    }
    app.get("/api/users/balance", None)
        .await
        .assert_error(401, "unauthorized");
    let wrong_scheme = Reply::from(
        app.http
            .get(app.url("/api/users/me"))
            .header("authorization", format!("Basic {}", user.token))
            .send()
            .await
            .unwrap(),
    )
    .await;
    wrong_scheme.assert_error(401, "unauthorized");
}

#[tokio::test]
async fn guessing_passwords_is_throttled_per_account_with_retry_after() {
    let app = crate::helpers::spawn_app_with(&crate::helpers::shared_db_uri(), |s| {
        s.login_burst_per_account = 3;
    })
    .await;
    let user = app.register("guess").await;
    for _ in 0..3 {
        app.post(
            "/api/auth/login",
            None,
            json!({"login": user.username, "password": "wrong guess"}),
        )
        .await
        .assert_error(401, "invalid_credentials");
    }
    let resp = app
        .http
        .post(app.url("/api/auth/login"))
        .json(&json!({"login": user.username.to_uppercase(), "password": user.password}))
        .send()
        .await
        .unwrap();
    let retry_after: u64 = resp.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&retry_after));
    let reply = Reply::from(resp).await;
    reply.assert_error(429, "rate_limited");
    assert_eq!(reply.body["error"]["retryAfterSeconds"], retry_after);
    // Another account from the same address is not held back.
    let other = app.register("other").await;
    app.post(
        "/api/auth/login",
        None,
        json!({"login": other.username, "password": other.password}),
    )
    .await
    .assert_ok(200);
}
