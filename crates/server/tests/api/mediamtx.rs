//! MediaMTX as the media plane (issue 20, item 7; docs/mediamtx.md): the
//! per-ticket media tokens, the JWKS MediaMTX verifies them with
//! (`authMethod: jwt`), and the answers to MediaMTX's `authMethod: http`
//! request for every case. Real server, real database; MediaMTX itself is
//! not installed here, so its side is played by requests shaped exactly
//! like its own:
//!
//! - the HTTP authentication body is what `authenticateHTTP` in
//!   bluenviron/mediamtx `internal/auth/manager.go` marshals (`ip`, `user`,
//!   `password`, `token`, `action`, `path`, `protocol`, `id` (a UUID),
//!   `query`, `userAgent`), POSTed as `application/json` to
//!   `authHTTPAddress` verbatim (our secret in its query); any 2xx allows
//!   (docs/2-features/06-authentication.md, "External HTTP server");
//! - a WebRTC client's `Authorization: Bearer <jwt>` arrives as `token`
//!   (`internal/protocols/httpp/credentials.go`), and the path is the
//!   WHIP/WHEP URL's `/<path>/whip|whep` part (`internal/servers/webrtc/
//!   http_server.go`);
//! - with `authMethod: jwt` MediaMTX checks the token's signature against
//!   the keys at `authJWTJWKS`, its `exp` with no leeway (golang-jwt v5),
//!   and needs a `mediamtx_permissions` entry with the request's `action`
//!   and exactly its `path` (`matchesPermission`, `jwt_claims.go`): done
//!   below with `jsonwebtoken` and nothing but the served JWKS.

use std::time::Duration;

use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use reqwest::Method;
use serde_json::{Value, json};
use streamshare::config::MediaBackend;

use crate::helpers::{
    Reply, TestApp, TestUser, admin_command, shared_db_uri, spawn_app, test_settings,
};
use crate::socket::Sio;

/// MediaMTX's `authHTTPAddress` carries this in its query.
const SECRET: &str = "mediamtx-test-secret-0123456789abcdef";
/// The signing key (RFC 8410 §10.3's Ed25519 example, PKCS#8 PEM).
const KEY_PEM: &str = "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEINTuctv5E1hK1bbY8fdp+K06/nwoy/HU++CXqI9EdVhC\n-----END PRIVATE KEY-----\n";
const MEDIAMTX_URL: &str = "https://media.example.test:8889";

async fn mediamtx_app(token_secs: u64) -> TestApp {
    crate::helpers::spawn_app_with(&shared_db_uri(), |s| {
        s.mediamtx.media_backend = MediaBackend::Mediamtx;
        s.mediamtx.mediamtx_url = Some(format!("{MEDIAMTX_URL}/"));
        s.mediamtx.mediamtx_auth_secret = Some(SECRET.to_owned().into());
        s.mediamtx.mediamtx_signing_key = Some(KEY_PEM.to_owned().into());
        s.mediamtx.mediamtx_token_secs = token_secs;
    })
    .await
}

/// `POST /api/rooms/{id}/media-token`.
async fn media_token(app: &TestApp, user: &TestUser, room: &str, action: &str) -> Reply {
    app.post(
        &format!("/api/rooms/{room}/media-token"),
        Some(&user.token),
        json!({ "action": action }),
    )
    .await
}

/// A token the caller may have, with its path.
async fn ticket(app: &TestApp, user: &TestUser, room: &str, action: &str) -> (String, String) {
    let reply = media_token(app, user, room, action).await;
    let body = reply.assert_ok(200);
    (
        body["token"].as_str().unwrap().to_owned(),
        body["path"].as_str().unwrap().to_owned(),
    )
}

/// MediaMTX's authentication request body, every field as it sends them.
fn mediamtx_request(action: &str, path: &str, token: &str) -> Value {
    json!({
        "ip": "203.0.113.7",
        "user": "",
        "password": "",
        "token": token,
        "action": action,
        "path": path,
        "protocol": "webrtc",
        "id": "6f1c2a7e-3b9d-4f0a-9e51-2d8c7b6a5f40",
        "query": "",
        "userAgent": "Mozilla/5.0 (X11; Linux x86_64)",
    })
}

/// MediaMTX asks: `POST {authHTTPAddress}` with `secret` in the query.
async fn ask(app: &TestApp, secret: Option<&str>, body: Value) -> Reply {
    let url = match secret {
        Some(s) => app.url(&format!("/internal/mediamtx/auth?secret={s}")),
        None => app.url("/internal/mediamtx/auth"),
    };
    Reply::from(app.http.post(url).json(&body).send().await.unwrap()).await
}

async fn ask_for(app: &TestApp, action: &str, path: &str, token: &str) -> Reply {
    ask(app, Some(SECRET), mediamtx_request(action, path, token)).await
}

fn id(room: &Value) -> String {
    room["id"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn only_the_creator_publishes_and_only_paying_viewers_read_through_mediamtx() {
    let app = mediamtx_app(60).await;
    let creator = app.register("mcr").await;
    let room = app.live_room(&creator, 10).await;
    let rid = id(&room);

    // The creator publishes: the token names the room's path and the WHIP
    // endpoint on MediaMTX, and MediaMTX's request for it is allowed.
    let reply = media_token(&app, &creator, &rid, "publish").await;
    let body = reply.assert_ok(200).clone();
    let path = format!("streamshare/{rid}");
    assert_eq!(body["path"], path.as_str());
    assert_eq!(body["url"], format!("{MEDIAMTX_URL}/{path}/whip").as_str());
    assert!(body["expiresAt"].as_str().is_some_and(|t| t.ends_with('Z')));
    let publish = body["token"].as_str().unwrap().to_owned();
    let allowed = ask_for(&app, "publish", &path, &publish).await;
    assert_eq!(allowed.assert_ok(200)["userId"], creator.id.as_str());
    // The creator reads their own room too.
    let (own, _) = ticket(&app, &creator, &rid, "read").await;
    ask_for(&app, "read", &path, &own).await.assert_ok(200);

    // Anyone else: no publish token, and a read token only after paying.
    let viewer = app.register("mvw").await;
    media_token(&app, &viewer, &rid, "publish")
        .await
        .assert_error(403, "forbidden");
    let unpaid = media_token(&app, &viewer, &rid, "read").await;
    unpaid.assert_error(403, "payment_required");
    assert_eq!(unpaid.body["error"]["price"], 10);
    app.pay(&viewer, &room, None).await.assert_ok(200);
    let reply = media_token(&app, &viewer, &rid, "read").await;
    let body = reply.assert_ok(200).clone();
    assert_eq!(body["url"], format!("{MEDIAMTX_URL}/{path}/whep").as_str());
    let read = body["token"].as_str().unwrap().to_owned();
    let allowed = ask_for(&app, "read", &path, &read).await;
    assert_eq!(allowed.assert_ok(200)["userId"], viewer.id.as_str());

    // A read token does not publish, nor open another room's path; a
    // token's holder cannot swap the path MediaMTX asks about.
    ask_for(&app, "publish", &path, &read)
        .await
        .assert_error(403, "media_token_mismatch");
    let other = app.live_room(&creator, 0).await;
    let other_path = format!("streamshare/{}", id(&other));
    ask_for(&app, "read", &other_path, &read)
        .await
        .assert_error(403, "media_token_mismatch");
    ask_for(&app, "read", &format!("{path}/x"), &read)
        .await
        .assert_error(403, "media_token_mismatch");

    // MediaMTX's other actions are never granted, whatever the token.
    for action in ["playback", "api", "metrics", "pprof"] {
        ask_for(&app, action, &path, &publish)
            .await
            .assert_error(403, "action_not_allowed");
    }

    // No token, a token typed as the password (a browser's credential
    // dialog), and tokens that are not ours.
    ask_for(&app, "read", &path, "")
        .await
        .assert_error(401, "unauthorized");
    let mut as_password = mediamtx_request("read", &path, "");
    as_password["user"] = json!("anything");
    as_password["password"] = json!(read);
    ask(&app, Some(SECRET), as_password).await.assert_ok(200);
    ask_for(&app, "read", &path, "not-a-jwt")
        .await
        .assert_error(401, "unauthorized");
    // An access token of ours is not a media token.
    ask_for(&app, "read", &path, &viewer.token)
        .await
        .assert_error(401, "unauthorized");
    let foreign = forge(&read, b"some other key entirely, 32 bytes!");
    ask_for(&app, "read", &path, &foreign)
        .await
        .assert_error(401, "unauthorized");

    // The creator ends the session: a still-valid read token opens nothing.
    app.send(
        Method::DELETE,
        &format!("/api/rooms/{rid}/live"),
        Some(&creator.token),
        None,
    )
    .await
    .assert_ok(200);
    ask_for(&app, "read", &path, &read)
        .await
        .assert_error(409, "room_not_live");
    media_token(&app, &viewer, &rid, "read")
        .await
        .assert_error(409, "room_not_live");
    // Publishing stays the creator's, live or not (going live is
    // `POST /api/rooms/{id}/live`).
    ask_for(&app, "publish", &path, &publish)
        .await
        .assert_ok(200);
}

/// A token with the same claims, signed with an HMAC key of someone else's.
fn forge(token: &str, key: &[u8]) -> String {
    use base64::Engine;
    let payload = token.split('.').nth(1).unwrap();
    let claims: Value = serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(payload)
            .unwrap(),
    )
    .unwrap();
    jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &claims,
        &EncodingKey::from_secret(key),
    )
    .unwrap()
}

#[tokio::test]
async fn a_price_change_and_a_ban_take_effect_at_mediamtx_at_once() {
    let app = mediamtx_app(60).await;
    let creator = app.register("mcr").await;
    let room = app.live_room(&creator, 0).await;
    let rid = id(&room);
    let (fan, banned) = (app.register("mfan").await, app.register("mban").await);
    let (fan_read, path) = ticket(&app, &fan, &rid, "read").await;
    let (banned_read, _) = ticket(&app, &banned, &rid, "read").await;
    ask_for(&app, "read", &path, &fan_read).await.assert_ok(200);
    ask_for(&app, "read", &path, &banned_read)
        .await
        .assert_ok(200);

    // The room now costs coins: a token taken while it was free does not
    // open it for someone who has not paid.
    app.send(
        Method::PATCH,
        &format!("/api/rooms/{rid}"),
        Some(&creator.token),
        Some(json!({ "price": 5 })),
    )
    .await
    .assert_ok(200);
    ask_for(&app, "read", &path, &fan_read)
        .await
        .assert_error(403, "payment_required");
    let room = app
        .get(&format!("/api/rooms/{rid}"), Some(&fan.token))
        .await
        .body;
    app.pay(&fan, &room, None).await.assert_ok(200);
    ask_for(&app, "read", &path, &fan_read).await.assert_ok(200);

    // A ban: the banned viewer's token is refused, the room still plays
    // for the others.
    app.pay(&banned, &room, None).await.assert_ok(200);
    let mut studio = Sio::connect(&app, &creator).await;
    studio.ok("room:join", json!({ "roomId": rid })).await;
    studio
        .ok("chat:ban", json!({ "roomId": rid, "userId": banned.id }))
        .await;
    ask_for(&app, "read", &path, &banned_read)
        .await
        .assert_error(403, "banned");
    media_token(&app, &banned, &rid, "read")
        .await
        .assert_error(403, "banned");
    ask_for(&app, "read", &path, &fan_read).await.assert_ok(200);
    studio.close().await;
}

#[tokio::test]
async fn a_suspended_account_holds_a_token_that_opens_nothing() {
    let app = mediamtx_app(60).await;
    let creator = app.register("mcr").await;
    let room = app.live_room(&creator, 0).await;
    let rid = id(&room);
    let viewer = app.register("msus").await;
    let (read, path) = ticket(&app, &viewer, &rid, "read").await;
    let (publish, _) = ticket(&app, &creator, &rid, "publish").await;
    ask_for(&app, "read", &path, &read).await.assert_ok(200);

    let out = admin_command(&["suspend", &viewer.username], &app.db_name).await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let refused = eventually(|| ask_for(&app, "read", &path, &read)).await;
    refused.assert_error(403, "account_suspended");

    // A suspended creator neither publishes nor shows the room.
    let fan = app.register("mfan").await;
    let (fan_read, _) = ticket(&app, &fan, &rid, "read").await;
    let out = admin_command(&["suspend", &creator.username], &app.db_name).await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let refused = eventually(|| ask_for(&app, "publish", &path, &publish)).await;
    refused.assert_error(403, "account_suspended");
    ask_for(&app, "read", &path, &fan_read)
        .await
        .assert_error(409, "room_not_live");
}

/// The first refusal within a few seconds (a suspension reaches the
/// server's account cache through the database's change stream).
async fn eventually<F, Fut>(mut ask: F) -> Reply
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Reply>,
{
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let reply = ask().await;
        if !reply.status.is_success() || tokio::time::Instant::now() > deadline {
            return reply;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn mediamtx_requests_without_the_secret_or_with_a_bad_body_are_refused_clearly() {
    let app = mediamtx_app(60).await;
    let creator = app.register("mcr").await;
    let room = app.live_room(&creator, 0).await;
    let (publish, path) = ticket(&app, &creator, &id(&room), "publish").await;
    let good = mediamtx_request("publish", &path, &publish);

    ask(&app, None, good.clone())
        .await
        .assert_error(403, "mediamtx_secret_mismatch");
    ask(&app, Some("wrong-secret"), good.clone())
        .await
        .assert_error(403, "mediamtx_secret_mismatch");
    ask(&app, Some(SECRET), good.clone()).await.assert_ok(200);

    let raw = |body: &'static str, content_type: &'static str| {
        let request = app
            .http
            .post(app.url(&format!("/internal/mediamtx/auth?secret={SECRET}")))
            .header("content-type", content_type)
            .body(body);
        async move { Reply::from(request.send().await.unwrap()).await }
    };
    raw("{not json", "application/json")
        .await
        .assert_error(400, "malformed_json");
    raw("", "application/json")
        .await
        .assert_error(400, "malformed_json");
    raw("[1, 2]", "application/json")
        .await
        .assert_error(422, "validation_failed");
    let missing = raw(r#"{"path": "x", "token": "y"}"#, "application/json").await;
    missing.assert_error(422, "validation_failed");
    assert_eq!(missing.body["error"]["field"], "action");
    let wrong_type = raw(r#"{"action": 5}"#, "application/json").await;
    wrong_type.assert_error(422, "validation_failed");
    raw("action=read", "application/x-www-form-urlencoded")
        .await
        .assert_error(415, "unsupported_media_type");
    // A path that is not one of our rooms: refused.
    ask_for(&app, "read", "streamshare/not-a-room", &publish)
        .await
        .assert_error(403, "media_token_mismatch");
}

#[tokio::test]
async fn media_tokens_verify_with_nothing_but_the_served_jwks_as_mediamtx_does() {
    let app = mediamtx_app(60).await;
    let creator = app.register("mcr").await;
    let room = app.live_room(&creator, 3).await;
    let rid = id(&room);
    let viewer = app.register("mvw").await;
    app.pay(&viewer, &room, None).await.assert_ok(200);
    let (read, path) = ticket(&app, &viewer, &rid, "read").await;

    // Anyone may fetch the JWKS (MediaMTX does, without credentials).
    let raw = app.get("/api/mediamtx/jwks.json", None).await;
    let raw = raw.assert_ok(200).clone();
    let jwks: JwkSet = serde_json::from_value(raw.clone()).unwrap();
    assert_eq!(jwks.keys.len(), 1);
    assert_eq!(raw["keys"][0]["kty"], "OKP");
    assert_eq!(raw["keys"][0]["crv"], "Ed25519");
    assert!(
        raw["keys"][0].get("d").is_none(),
        "the JWKS holds no private part"
    );

    let header = jsonwebtoken::decode_header(&read).unwrap();
    assert_eq!(header.alg, Algorithm::EdDSA);
    let kid = header.kid.expect("tokens name their key");
    let jwk = jwks.find(&kid).expect("the token's key is in the JWKS");
    let key = DecodingKey::from_jwk(jwk).unwrap();
    let mut validation = Validation::new(Algorithm::EdDSA);
    validation.leeway = 0;
    validation.set_audience(&["mediamtx"]);
    validation.set_issuer(&["streamshare"]);
    let claims = jsonwebtoken::decode::<Value>(&read, &key, &validation)
        .unwrap()
        .claims;
    assert_eq!(
        claims["mediamtx_permissions"],
        json!([{ "action": "read", "path": path }]),
        "exactly one permission: reading this room's path"
    );
    assert_eq!(claims["sub"], viewer.id.as_str());
    let lifetime = claims["exp"].as_u64().unwrap() - claims["iat"].as_u64().unwrap();
    assert_eq!(lifetime, 60);

    // A token changed on the way, or signed by anyone else, does not verify.
    let mut parts: Vec<String> = read.split('.').map(str::to_owned).collect();
    let mut forged = claims.clone();
    forged["mediamtx_permissions"] = json!([{ "action": "publish", "path": "" }]);
    parts[1] = base64_url(&serde_json::to_vec(&forged).unwrap());
    assert!(jsonwebtoken::decode::<Value>(&parts.join("."), &key, &validation).is_err());
    let other = jsonwebtoken::encode(
        &Header::new(Algorithm::EdDSA),
        &forged,
        &EncodingKey::from_ed_der(&OTHER_PKCS8),
    )
    .unwrap();
    assert!(jsonwebtoken::decode::<Value>(&other, &key, &validation).is_err());

    // Every instance with the same key serves the same JWKS and accepts
    // the others' tokens (a cluster shares STREAMSHARE_MEDIAMTX_SIGNING_KEY).
    let twin = mediamtx_app(60).await;
    let twin_jwks = twin.get("/api/mediamtx/jwks.json", None).await;
    assert_eq!(twin_jwks.assert_ok(200), &raw);
}

/// Another Ed25519 key (PKCS#8 of the seed 0x01 * 32).
const OTHER_PKCS8: [u8; 48] = {
    let mut der = [1u8; 48];
    let prefix = [
        0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04,
        0x20,
    ];
    let mut i = 0;
    while i < 16 {
        der[i] = prefix[i];
        i += 1;
    }
    der
};

fn base64_url(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

#[tokio::test]
async fn an_expired_media_token_is_refused_by_us_and_by_the_jwks() {
    let app = mediamtx_app(1).await;
    let creator = app.register("mcr").await;
    let room = app.live_room(&creator, 0).await;
    let (publish, path) = ticket(&app, &creator, &id(&room), "publish").await;
    let jwks: JwkSet =
        serde_json::from_value(app.get("/api/mediamtx/jwks.json", None).await.body).unwrap();
    tokio::time::sleep(Duration::from_millis(2_500)).await;

    ask_for(&app, "publish", &path, &publish)
        .await
        .assert_error(401, "token_expired");
    let mut validation = Validation::new(Algorithm::EdDSA);
    validation.leeway = 0;
    validation.set_audience(&["mediamtx"]);
    let key = DecodingKey::from_jwk(&jwks.keys[0]).unwrap();
    let err = jsonwebtoken::decode::<Value>(&publish, &key, &validation).unwrap_err();
    assert_eq!(
        err.kind(),
        &jsonwebtoken::errors::ErrorKind::ExpiredSignature
    );
    // A new one works again.
    let (fresh, _) = ticket(&app, &creator, &id(&room), "publish").await;
    ask_for(&app, "publish", &path, &fresh).await.assert_ok(200);
}

#[tokio::test]
async fn the_builtin_media_plane_answers_the_mediamtx_doors_with_mediamtx_off() {
    let app = spawn_app().await;
    let creator = app.register("bcr").await;
    let room = app.live_room(&creator, 0).await;
    media_token(&app, &creator, &id(&room), "publish")
        .await
        .assert_error(404, "mediamtx_off");
    app.get("/api/mediamtx/jwks.json", None)
        .await
        .assert_error(404, "mediamtx_off");
    ask(&app, Some(SECRET), mediamtx_request("read", "x", "y"))
        .await
        .assert_error(404, "mediamtx_off");
    // The web app learns the media plane where it gets its ICE servers.
    let ice = app
        .get("/api/media/ice-servers", Some(&creator.token))
        .await;
    assert_eq!(ice.assert_ok(200)["mediaBackend"], "builtin");

    let mediamtx = mediamtx_app(60).await;
    let user = mediamtx.register("mcr").await;
    let ice = mediamtx
        .get("/api/media/ice-servers", Some(&user.token))
        .await;
    assert_eq!(ice.assert_ok(200)["mediaBackend"], "mediamtx");
    // Its pages may connect to MediaMTX (CSP `connect-src`); builtin
    // pages connect to their own origin only.
    let csp = |app: &TestApp| {
        let url = app.url("/studio");
        async move {
            let resp = reqwest::get(url).await.unwrap();
            resp.headers()["content-security-policy"]
                .to_str()
                .unwrap()
                .to_owned()
        }
    };
    assert!(
        csp(&mediamtx)
            .await
            .contains(&format!("connect-src 'self' {MEDIAMTX_URL} ws: wss:")),
        "MediaMTX's origin is allowed"
    );
    assert!(csp(&app).await.contains("connect-src 'self' ws: wss:;"));
    // A body that is not a publish/read request is a 422 naming `action`.
    let room = mediamtx.live_room(&user, 0).await;
    let bad = media_token(&mediamtx, &user, &id(&room), "playback").await;
    bad.assert_error(422, "validation_failed");
    assert_eq!(bad.body["error"]["field"], "action");
}

#[tokio::test]
async fn mediamtx_mode_refuses_to_start_without_its_address_or_with_a_short_secret() {
    let mut settings = test_settings(&shared_db_uri());
    settings.mediamtx.media_backend = MediaBackend::Mediamtx;
    let err = streamshare::startup::Application::build(settings.clone())
        .await
        .err()
        .expect("no MediaMTX URL: no start")
        .to_string();
    assert!(err.contains("STREAMSHARE_MEDIAMTX_URL"), "{err}");

    settings.mediamtx.mediamtx_url = Some(MEDIAMTX_URL.into());
    settings.mediamtx.mediamtx_auth_secret = Some("short".to_owned().into());
    let err = streamshare::startup::Application::build(settings)
        .await
        .err()
        .expect("a short secret: no start")
        .to_string();
    assert!(err.contains("STREAMSHARE_MEDIAMTX_AUTH_SECRET"), "{err}");
}
