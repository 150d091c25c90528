//! The bad-input catalogue: every REST endpoint and every Socket.IO event
//! gets malformed JSON, wrong types, missing and extra fields, huge strings,
//! bad amounts, bad and unknown ids, forged / expired / `alg: none` tokens,
//! oversized bodies, garbage and oversized SDP, events for rooms never
//! joined and a flood of events. Each must be answered in the contract's
//! error shape and status: never a 500, never a panic, never a hang; and the
//! server keeps serving everyone else afterwards.
//!
//! Table-driven: every case runs, every mismatch is collected, and the test
//! fails once at the end listing them all.

use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use mongodb::bson::oid::ObjectId;
use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{TEST_SECRET, TestApp, TestUser, spawn_app, unique};
use crate::socket::Sio;

/// How long an acknowledgement may take before the case counts as a hang.
const ACK_WITHIN: Duration = Duration::from_secs(3);

// ---------------------------------------------------------------- REST table

enum Body {
    None,
    /// Serialized as JSON, sent as `application/json` unless overridden.
    Json(Value),
    /// Sent as is, with the case's content type (if any).
    Raw(Vec<u8>),
}

type Check = fn(&Value) -> Result<(), String>;

struct Case {
    name: String,
    method: Method,
    path: String,
    token: Option<String>,
    headers: Vec<(&'static str, Vec<u8>)>,
    body: Body,
    content_type: Option<String>,
    expect_status: u16,
    /// `Some(code)`: an error in the contract's shape with this code.
    /// `None`: a success (its body is checked by `check`, if any).
    expect_code: Option<&'static str>,
    expect_field: Option<&'static str>,
    check: Option<Check>,
}

fn case(name: &str, method: Method, path: impl Into<String>) -> Case {
    Case {
        name: name.to_owned(),
        method,
        path: path.into(),
        token: None,
        headers: Vec::new(),
        body: Body::None,
        content_type: None,
        expect_status: 0,
        expect_code: None,
        expect_field: None,
        check: None,
    }
}

impl Case {
    fn token(mut self, token: &str) -> Self {
        self.token = Some(token.to_owned());
        self
    }

    fn header(mut self, name: &'static str, value: impl Into<Vec<u8>>) -> Self {
        self.headers.push((name, value.into()));
        self
    }

    fn json(mut self, body: Value) -> Self {
        self.body = Body::Json(body);
        self.content_type = Some("application/json".into());
        self
    }

    fn raw(mut self, content_type: &str, body: impl Into<Vec<u8>>) -> Self {
        self.body = Body::Raw(body.into());
        self.content_type = Some(content_type.to_owned());
        self
    }

    fn err(mut self, status: u16, code: &'static str) -> Self {
        self.expect_status = status;
        self.expect_code = Some(code);
        self
    }

    fn field(mut self, field: &'static str) -> Self {
        self.expect_field = Some(field);
        self
    }

    fn ok(mut self, status: u16) -> Self {
        self.expect_status = status;
        self.expect_code = None;
        self
    }

    fn check(mut self, check: Check) -> Self {
        self.check = Some(check);
        self
    }
}

/// A message holding `Debug` output of a library error (a parser's
/// positions, memory addresses) instead of our own words.
fn leaks_internals(message: &str) -> bool {
    [
        "Pointer",
        "Offset(",
        "Errors {",
        "Unexpected(",
        "0x7f",
        "0x5",
    ]
    .iter()
    .any(|sign| message.contains(sign))
}

/// Runs one REST case; returns what did not match.
async fn run_case(app: &TestApp, c: &Case) -> Vec<String> {
    let mut req = app.http.request(c.method.clone(), app.url(&c.path));
    if let Some(token) = &c.token {
        req = req.header("authorization", format!("Bearer {token}"));
    }
    for (name, value) in &c.headers {
        match reqwest::header::HeaderValue::from_bytes(value) {
            Ok(v) => req = req.header(*name, v),
            Err(e) => return vec![format!("the test's header {name} is not sendable: {e}")],
        }
    }
    if let Some(ct) = &c.content_type {
        req = req.header("content-type", ct.as_str());
    }
    req = match &c.body {
        Body::None => req,
        Body::Json(v) => req.body(serde_json::to_vec(v).unwrap()),
        Body::Raw(bytes) => req.body(bytes.clone()),
    };
    let resp = match tokio::time::timeout(Duration::from_secs(10), req.send()).await {
        Err(_) => return vec!["no answer within 10 s (hang)".into()],
        Ok(Err(e)) => return vec![format!("transport error: {e}")],
        Ok(Ok(resp)) => resp,
    };
    let status = resp.status().as_u16();
    let content_type = resp
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    let bytes = resp.bytes().await.unwrap_or_default();
    let body: Option<Value> = serde_json::from_slice(&bytes).ok();
    let shown = body.clone().unwrap_or_else(|| {
        let text = String::from_utf8_lossy(&bytes);
        Value::String(text.chars().take(200).collect())
    });

    let mut problems = Vec::new();
    if status >= 500 {
        problems.push(format!("server error {status}"));
    }
    if status != c.expect_status {
        problems.push(format!("status {status}, expected {}", c.expect_status));
    }
    match c.expect_code {
        Some(code) => {
            if !content_type.starts_with("application/json") {
                problems.push(format!("content-type {content_type:?}, expected JSON"));
            }
            match &body {
                None => problems.push("body is not JSON".into()),
                Some(b) => {
                    let got = b["error"]["code"].as_str();
                    if got != Some(code) {
                        problems.push(format!("code {got:?}, expected {code:?}"));
                    }
                    if b["error"]["message"].as_str().is_none_or(str::is_empty) {
                        problems.push("no error.message".into());
                    }
                    if let Some(message) = b["error"]["message"].as_str()
                        && leaks_internals(message)
                    {
                        problems.push(format!("message shows a library's internals: {message}"));
                    }
                    if let Some(field) = c.expect_field
                        && b["error"]["field"].as_str() != Some(field)
                    {
                        problems.push(format!(
                            "field {:?}, expected {field:?}",
                            b["error"]["field"]
                        ));
                    }
                }
            }
        }
        None => {
            if status >= 400 {
                problems.push("expected a success".into());
            }
            if let Some(check) = c.check {
                match &body {
                    Some(b) => {
                        if let Err(e) = check(b) {
                            problems.push(e);
                        }
                    }
                    None => problems.push("success body is not JSON".into()),
                }
            }
        }
    }
    if !problems.is_empty() {
        problems.push(format!("got body: {shown}"));
    }
    problems
}

// -------------------------------------------------------------------- tokens

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

fn sign(claims: &Value, secret: &[u8]) -> String {
    jsonwebtoken::encode(
        &jsonwebtoken::Header::default(),
        claims,
        &jsonwebtoken::EncodingKey::from_secret(secret),
    )
    .unwrap()
}

/// The tokens a client should never get past the door with.
struct BadTokens {
    expired: String,
    forged: String,
    alg_none: String,
    tampered: String,
    /// Properly signed, for an account that does not exist.
    ghost: String,
    /// Properly signed, with a `sub` that is not an ObjectId.
    bad_sub: String,
}

fn bad_tokens(user: &TestUser) -> BadTokens {
    let t = now();
    let claims = |sub: &str, exp: u64| json!({"sub": sub, "name": "x", "iat": t - 10, "exp": exp});
    let secret = TEST_SECRET.as_bytes();
    let header = URL_SAFE_NO_PAD.encode(r#"{"alg":"none","typ":"JWT"}"#);
    let payload = URL_SAFE_NO_PAD.encode(claims(&user.id, t + 600).to_string());
    let mut parts: Vec<String> = user.token.split('.').map(str::to_owned).collect();
    parts[1] = URL_SAFE_NO_PAD.encode(claims(&ObjectId::new().to_hex(), t + 6000).to_string());
    BadTokens {
        expired: sign(&claims(&user.id, t - 3600), secret),
        forged: sign(
            &claims(&user.id, t + 600),
            b"not-the-servers-secret-not-the-servers-secret",
        ),
        alg_none: format!("{header}.{payload}."),
        tampered: parts.join("."),
        ghost: sign(&claims(&ObjectId::new().to_hex(), t + 600), secret),
        bad_sub: sign(&claims("not-an-object-id", t + 600), secret),
    }
}

// ------------------------------------------------------------------ fixtures

fn png(len: usize) -> Vec<u8> {
    let mut bytes = vec![0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A];
    bytes.resize(len, 0);
    bytes
}

fn jpeg(len: usize) -> Vec<u8> {
    let mut bytes = vec![0xFF, 0xD8, 0xFF, 0xE0];
    bytes.resize(len, 0);
    bytes
}

fn oversized_sdp() -> String {
    format!("v=0\r\n{}", "a=x-padding\r\n".repeat(4_000))
}

fn no_extra_coins(b: &Value) -> Result<(), String> {
    if b["user"]["coins"] == 100 && b["accessToken"].is_string() {
        Ok(())
    } else {
        Err(format!("extra fields leaked into the account: {b}"))
    }
}

fn is_room_list(b: &Value) -> Result<(), String> {
    if b["items"].is_array() {
        Ok(())
    } else {
        Err(format!("not a list: {b}"))
    }
}

#[allow(clippy::too_many_lines)]
fn rest_cases(
    creator: &TestUser,
    viewer: &TestUser,
    stranger: &TestUser,
    live: &Value,
    offline: &Value,
    bad: &BadTokens,
) -> Vec<Case> {
    use Method as M;
    let unknown = ObjectId::new().to_hex();
    let live_id = live["id"].as_str().unwrap().to_owned();
    let off_id = offline["id"].as_str().unwrap().to_owned();
    let creator_id = creator.id.clone();
    let ct = creator.token.as_str();
    let vt = viewer.token.as_str();
    let st = stranger.token.as_str();
    let huge = "x".repeat(100_000);
    let nested = format!(
        "{{\"username\": {}1{}}}",
        "[".repeat(10_000),
        "]".repeat(10_000)
    );
    let pay = |amount: Value| json!({"creatorId": creator_id, "roomId": live_id, "amount": amount});
    let fresh = unique("bi_extra");

    vec![
        // --- POST /api/auth/register
        case("register: malformed JSON", M::POST, "/api/auth/register")
            .raw("application/json", "{\"username\": ")
            .err(400, "malformed_json"),
        case("register: empty JSON body", M::POST, "/api/auth/register")
            .raw("application/json", "")
            .err(400, "malformed_json"),
        case("register: body not UTF-8", M::POST, "/api/auth/register")
            .raw("application/json", vec![b'{', 0xFF, 0xFE, b'}'])
            .err(400, "malformed_json"),
        case("register: 10k-deep nesting", M::POST, "/api/auth/register")
            .raw("application/json", nested)
            .err(400, "malformed_json"),
        case("register: body is an array", M::POST, "/api/auth/register")
            .json(json!(["a", "b"]))
            .err(422, "validation_failed")
            .field("body"),
        case("register: body is null", M::POST, "/api/auth/register")
            .json(Value::Null)
            .err(422, "validation_failed")
            .field("body"),
        case("register: username is a number", M::POST, "/api/auth/register")
            .json(json!({"username": 12345, "email": "n@example.com", "password": "long enough pw"}))
            .err(422, "validation_failed")
            .field("username"),
        case("register: password missing", M::POST, "/api/auth/register")
            .json(json!({"username": unique("bi"), "email": "m@example.com"}))
            .err(422, "validation_failed")
            .field("password"),
        case("register: email is an object", M::POST, "/api/auth/register")
            .json(json!({"username": unique("bi"), "email": {"$ne": null}, "password": "long enough pw"}))
            .err(422, "validation_failed")
            .field("email"),
        case("register: 100k-char username", M::POST, "/api/auth/register")
            .json(json!({"username": huge, "email": "h@example.com", "password": "long enough pw"}))
            .err(422, "validation_failed")
            .field("username"),
        case("register: NUL in username", M::POST, "/api/auth/register")
            .json(json!({"username": "ab\u{0}cd", "email": "z@example.com", "password": "long enough pw"}))
            .err(422, "validation_failed")
            .field("username"),
        case("register: control characters in displayName", M::POST, "/api/auth/register")
            .json(json!({"username": unique("bi"), "email": "d@example.com", "password": "long enough pw", "displayName": "a\u{1b}[31mred"}))
            .err(422, "validation_failed")
            .field("displayName"),
        case("register: displayName is an array", M::POST, "/api/auth/register")
            .json(json!({"username": unique("bi"), "email": "e@example.com", "password": "long enough pw", "displayName": ["x"]}))
            .err(422, "validation_failed")
            .field("displayName"),
        case("register: 100k-char password", M::POST, "/api/auth/register")
            .json(json!({"username": unique("bi"), "email": "p@example.com", "password": huge}))
            .err(422, "validation_failed")
            .field("password"),
        case("register: text/plain", M::POST, "/api/auth/register")
            .raw("text/plain", "{}")
            .err(415, "unsupported_media_type"),
        case("register: body over 1 MiB", M::POST, "/api/auth/register")
            .json(json!({"username": "x".repeat(1024 * 1024 + 16), "email": "b@example.com", "password": "long enough pw"}))
            .err(413, "payload_too_large"),
        case("register: extra fields are ignored", M::POST, "/api/auth/register")
            .json(json!({
                "username": fresh,
                "email": format!("{fresh}@example.com"),
                "password": "long enough pw",
                "coins": 1_000_000,
                "id": unknown,
                "isAdmin": true,
            }))
            .ok(201)
            .check(no_extra_coins),
        // --- POST /api/auth/login
        case("login: login is an array", M::POST, "/api/auth/login")
            .json(json!({"login": ["a"], "password": "long enough pw"}))
            .err(422, "validation_failed")
            .field("login"),
        case("login: password missing", M::POST, "/api/auth/login")
            .json(json!({"login": viewer.username}))
            .err(422, "validation_failed")
            .field("password"),
        case("login: form-encoded", M::POST, "/api/auth/login")
            .raw("application/x-www-form-urlencoded", "login=a&password=b")
            .err(415, "unsupported_media_type"),
        case("login: 100k-char login", M::POST, "/api/auth/login")
            .json(json!({"login": huge, "password": "long enough pw"}))
            .err(401, "invalid_credentials"),
        // --- POST /api/auth/refresh, /logout
        case("refresh: no cookie", M::POST, "/api/auth/refresh").err(401, "unauthorized"),
        case("refresh: garbage cookie", M::POST, "/api/auth/refresh")
            .header("cookie", "ss_refresh=garbage%00garbage")
            .err(401, "unauthorized"),
        case("refresh: 8 KiB cookie", M::POST, "/api/auth/refresh")
            .header("cookie", format!("ss_refresh={}", "A".repeat(8 * 1024)))
            .err(401, "unauthorized"),
        case("logout: garbage cookie is still 204", M::POST, "/api/auth/logout")
            .header("cookie", "ss_refresh=garbage")
            .ok(204),
        // --- /api/users
        case("me: no token", M::GET, "/api/users/me").err(401, "unauthorized"),
        case("me: expired token", M::GET, "/api/users/me")
            .token(&bad.expired)
            .err(401, "token_expired"),
        case("me: forged signature", M::GET, "/api/users/me")
            .token(&bad.forged)
            .err(401, "unauthorized"),
        case("me: alg none", M::GET, "/api/users/me")
            .token(&bad.alg_none)
            .err(401, "unauthorized"),
        case("me: tampered payload", M::GET, "/api/users/me")
            .token(&bad.tampered)
            .err(401, "unauthorized"),
        case("me: signed token of an unknown user", M::GET, "/api/users/me")
            .token(&bad.ghost)
            .err(401, "account_closed"),
        case("balance: signed token of an unknown user", M::GET, "/api/users/balance")
            .token(&bad.ghost)
            .err(401, "account_closed"),
        case("balance: signed token, sub not an ObjectId", M::GET, "/api/users/balance")
            .token(&bad.bad_sub)
            .err(401, "unauthorized"),
        case("balance: Basic scheme", M::GET, "/api/users/balance")
            .header("authorization", format!("Basic {vt}"))
            .err(401, "unauthorized"),
        case("balance: non-ASCII Authorization", M::GET, "/api/users/balance")
            .header("authorization", b"Bearer \xe9\xe9".to_vec())
            .err(401, "unauthorized"),
        case("history: limit=0", M::GET, "/api/users/me/history?limit=0")
            .token(vt)
            .err(422, "validation_failed")
            .field("limit"),
        case("history: limit=abc", M::GET, "/api/users/me/history?limit=abc")
            .token(vt)
            .err(422, "validation_failed")
            .field("limit"),
        case("history: limit=1.5", M::GET, "/api/users/me/history?limit=1.5")
            .token(vt)
            .err(422, "validation_failed")
            .field("limit"),
        case("history: forged cursor", M::GET, "/api/users/me/history?cursor=ZZZZ.not-ours")
            .token(vt)
            .err(422, "validation_failed")
            .field("cursor"),
        // --- POST /api/rooms
        case("create room: no token", M::POST, "/api/rooms")
            .json(json!({"title": "t", "price": 1}))
            .err(401, "unauthorized"),
        case("create room: price is a string", M::POST, "/api/rooms")
            .token(ct)
            .json(json!({"title": "t", "price": "10"}))
            .err(422, "validation_failed")
            .field("price"),
        case("create room: fractional price", M::POST, "/api/rooms")
            .token(ct)
            .json(json!({"title": "t", "price": 1.5}))
            .err(422, "validation_failed")
            .field("price"),
        case("create room: negative price", M::POST, "/api/rooms")
            .token(ct)
            .json(json!({"title": "t", "price": -1}))
            .err(422, "validation_failed")
            .field("price"),
        case("create room: price over 1,000,000", M::POST, "/api/rooms")
            .token(ct)
            .json(json!({"title": "t", "price": 1_000_001}))
            .err(422, "validation_failed")
            .field("price"),
        case("create room: price 1e300", M::POST, "/api/rooms")
            .token(ct)
            .raw("application/json", r#"{"title": "t", "price": 1e300}"#)
            .err(422, "validation_failed")
            .field("price"),
        case("create room: price missing", M::POST, "/api/rooms")
            .token(ct)
            .json(json!({"title": "t"}))
            .err(422, "validation_failed")
            .field("price"),
        case("create room: title missing", M::POST, "/api/rooms")
            .token(ct)
            .json(json!({"price": 1}))
            .err(422, "validation_failed")
            .field("title"),
        case("create room: blank title", M::POST, "/api/rooms")
            .token(ct)
            .json(json!({"title": "   \t ", "price": 1}))
            .err(422, "validation_failed")
            .field("title"),
        case("create room: 100k-char title", M::POST, "/api/rooms")
            .token(ct)
            .json(json!({"title": huge, "price": 1}))
            .err(422, "validation_failed")
            .field("title"),
        case("create room: description is a number", M::POST, "/api/rooms")
            .token(ct)
            .json(json!({"title": "t", "description": 7, "price": 1}))
            .err(422, "validation_failed")
            .field("description"),
        case("create room: 33-char category", M::POST, "/api/rooms")
            .token(ct)
            .json(json!({"title": "t", "category": "c".repeat(33), "price": 1}))
            .err(422, "validation_failed")
            .field("category"),
        // --- GET /api/rooms
        case("list rooms: status=bogus", M::GET, "/api/rooms?status=bogus")
            .err(422, "validation_failed")
            .field("status"),
        case("list rooms: creatorId not an id", M::GET, "/api/rooms?creatorId=nope")
            .err(422, "validation_failed")
            .field("creatorId"),
        case("list rooms: 101-char q", M::GET, format!("/api/rooms?q={}", "q".repeat(101)))
            .err(422, "validation_failed")
            .field("q"),
        case("list rooms: regex in q is literal", M::GET, "/api/rooms?q=(a%2B)%2B%24.*%5B")
            .ok(200)
            .check(is_room_list),
        case("list rooms: limit=-5", M::GET, "/api/rooms?limit=-5")
            .err(422, "validation_failed")
            .field("limit"),
        case("list rooms: forged cursor", M::GET, "/api/rooms?cursor=eyJ4IjoxfQ")
            .err(422, "validation_failed")
            .field("cursor"),
        // --- GET / PATCH /api/rooms/{id}
        case("get room: id not an ObjectId", M::GET, "/api/rooms/not-an-id")
            .err(404, "room_not_found"),
        case("get room: unknown id", M::GET, format!("/api/rooms/{unknown}"))
            .err(404, "room_not_found"),
        // A path segment that is not UTF-8 once decoded is a malformed URL.
        case("get room: id not UTF-8", M::GET, "/api/rooms/%FF%FE")
            .err(400, "bad_request"),
        case("thumbnail get: id not UTF-8", M::GET, "/api/rooms/%C0%AF/thumbnail")
            .err(400, "bad_request"),
        case("whip: id not UTF-8", M::POST, "/api/media/whip/%FF")
            .token(ct)
            .raw("application/sdp", "v=0\r\n")
            .err(400, "bad_request"),
        case("whep delete: session not UTF-8", M::DELETE, format!("/api/media/whep/{live_id}/%FF"))
            .token(vt)
            .err(400, "bad_request"),
        case("unknown path, not UTF-8", M::GET, "/api/%FF%FE/x").err(404, "not_found"),
        case("get room: 10k-char id", M::GET, format!("/api/rooms/{}", "a".repeat(10_000)))
            .err(404, "room_not_found"),
        case("get room: expired token", M::GET, format!("/api/rooms/{live_id}"))
            .token(&bad.expired)
            .err(401, "token_expired"),
        case("patch room: not the creator", M::PATCH, format!("/api/rooms/{live_id}"))
            .token(vt)
            .json(json!({"title": "mine now"}))
            .err(403, "forbidden"),
        case("patch room: fractional price", M::PATCH, format!("/api/rooms/{off_id}"))
            .token(ct)
            .json(json!({"price": 9.99}))
            .err(422, "validation_failed")
            .field("price"),
        case("patch room: title is a number", M::PATCH, format!("/api/rooms/{off_id}"))
            .token(ct)
            .json(json!({"title": 42}))
            .err(422, "validation_failed")
            .field("title"),
        case("patch room: body is a string", M::PATCH, format!("/api/rooms/{off_id}"))
            .token(ct)
            .json(json!("title"))
            .err(422, "validation_failed")
            .field("body"),
        case("patch room: malformed JSON", M::PATCH, format!("/api/rooms/{off_id}"))
            .token(ct)
            .raw("application/json", "{\"title\": 'single quotes'}")
            .err(400, "malformed_json"),
        case("patch room: unknown id", M::PATCH, format!("/api/rooms/{unknown}"))
            .token(ct)
            .json(json!({"title": "x"}))
            .err(404, "room_not_found"),
        // --- /api/rooms/{id}/live
        case("go live: unknown id", M::POST, format!("/api/rooms/{unknown}/live"))
            .token(ct)
            .err(404, "room_not_found"),
        case("go live: not the creator", M::POST, format!("/api/rooms/{off_id}/live"))
            .token(vt)
            .err(403, "forbidden"),
        case("end live: id not an ObjectId", M::DELETE, "/api/rooms/zzz/live")
            .token(ct)
            .err(404, "room_not_found"),
        case("end live: no token", M::DELETE, format!("/api/rooms/{live_id}/live"))
            .err(401, "unauthorized"),
        // --- /api/rooms/{id}/thumbnail
        case("thumbnail put: image/gif", M::PUT, format!("/api/rooms/{off_id}/thumbnail"))
            .token(ct)
            .raw("image/gif", "GIF89a")
            .err(415, "unsupported_media_type"),
        case("thumbnail put: JPEG bytes sent as PNG", M::PUT, format!("/api/rooms/{off_id}/thumbnail"))
            .token(ct)
            .raw("image/png", jpeg(1024))
            .err(422, "validation_failed")
            .field("body"),
        case("thumbnail put: empty PNG", M::PUT, format!("/api/rooms/{off_id}/thumbnail"))
            .token(ct)
            .raw("image/png", Vec::new())
            .err(422, "validation_failed")
            .field("body"),
        case("thumbnail put: over 512 KiB", M::PUT, format!("/api/rooms/{off_id}/thumbnail"))
            .token(ct)
            .raw("image/png", png(512 * 1024 + 1))
            .err(413, "payload_too_large"),
        case("thumbnail put: over 1 MiB", M::PUT, format!("/api/rooms/{off_id}/thumbnail"))
            .token(ct)
            .raw("image/png", png(1024 * 1024 + 1))
            .err(413, "payload_too_large"),
        case("thumbnail put: not the creator", M::PUT, format!("/api/rooms/{off_id}/thumbnail"))
            .token(vt)
            .raw("image/png", png(64))
            .err(403, "forbidden"),
        case("thumbnail put: no token", M::PUT, format!("/api/rooms/{off_id}/thumbnail"))
            .raw("image/png", png(64))
            .err(401, "unauthorized"),
        case("thumbnail get: unknown room", M::GET, format!("/api/rooms/{unknown}/thumbnail"))
            .err(404, "thumbnail_not_found"),
        case("thumbnail get: id not an ObjectId", M::GET, "/api/rooms/..%2F..%2Fetc/thumbnail")
            .err(404, "room_not_found"),
        case("thumbnail get: room without one, ?v=-1", M::GET, format!("/api/rooms/{live_id}/thumbnail?v=-1"))
            .err(404, "thumbnail_not_found"),
        // --- stream key
        case("stream key: not the creator", M::GET, format!("/api/rooms/{live_id}/stream-key"))
            .token(vt)
            .err(403, "forbidden"),
        case("stream key: unknown id", M::GET, format!("/api/rooms/{unknown}/stream-key"))
            .token(ct)
            .err(404, "room_not_found"),
        case("stream key rotate: no token", M::POST, format!("/api/rooms/{live_id}/stream-key/rotate"))
            .err(401, "unauthorized"),
        case("stream key rotate: id not an ObjectId", M::POST, "/api/rooms/nope/stream-key/rotate")
            .token(ct)
            .err(404, "room_not_found"),
        // --- POST /api/transactions/stream-join
        case("pay: no token", M::POST, "/api/transactions/stream-join")
            .json(pay(json!(10)))
            .err(401, "unauthorized"),
        case("pay: alg none token", M::POST, "/api/transactions/stream-join")
            .token(&bad.alg_none)
            .json(pay(json!(10)))
            .err(401, "unauthorized"),
        case("pay: signed token of an unknown user", M::POST, "/api/transactions/stream-join")
            .token(&bad.ghost)
            .json(pay(json!(10)))
            .err(401, "account_closed"),
        case("pay: negative amount", M::POST, "/api/transactions/stream-join")
            .token(vt)
            .json(pay(json!(-10)))
            .err(409, "price_mismatch"),
        case("pay: zero amount", M::POST, "/api/transactions/stream-join")
            .token(vt)
            .json(pay(json!(0)))
            .err(409, "price_mismatch"),
        case("pay: i64::MAX amount", M::POST, "/api/transactions/stream-join")
            .token(vt)
            .json(pay(json!(i64::MAX)))
            .err(409, "price_mismatch"),
        case("pay: u64::MAX amount", M::POST, "/api/transactions/stream-join")
            .token(vt)
            .json(pay(json!(u64::MAX)))
            .err(422, "validation_failed")
            .field("amount"),
        case("pay: fractional amount", M::POST, "/api/transactions/stream-join")
            .token(vt)
            .json(pay(json!(10.5)))
            .err(422, "validation_failed")
            .field("amount"),
        case("pay: amount 1e30", M::POST, "/api/transactions/stream-join")
            .token(vt)
            .raw(
                "application/json",
                format!(r#"{{"creatorId": "{creator_id}", "roomId": "{live_id}", "amount": 1e30}}"#),
            )
            .err(422, "validation_failed")
            .field("amount"),
        case("pay: amount is a string", M::POST, "/api/transactions/stream-join")
            .token(vt)
            .json(pay(json!("10")))
            .err(422, "validation_failed")
            .field("amount"),
        case("pay: amount missing", M::POST, "/api/transactions/stream-join")
            .token(vt)
            .json(json!({"creatorId": creator_id, "roomId": live_id}))
            .err(422, "validation_failed")
            .field("amount"),
        case("pay: roomId is a number", M::POST, "/api/transactions/stream-join")
            .token(vt)
            .json(json!({"creatorId": creator_id, "roomId": 5, "amount": 10}))
            .err(422, "validation_failed")
            .field("roomId"),
        case("pay: roomId not an ObjectId", M::POST, "/api/transactions/stream-join")
            .token(vt)
            .json(json!({"creatorId": creator_id, "roomId": "room-1", "amount": 10}))
            .err(404, "room_not_found"),
        case("pay: unknown roomId", M::POST, "/api/transactions/stream-join")
            .token(vt)
            .json(json!({"creatorId": creator_id, "roomId": unknown, "amount": 10}))
            .err(404, "room_not_found"),
        case("pay: unknown creatorId", M::POST, "/api/transactions/stream-join")
            .token(vt)
            .json(json!({"creatorId": unknown, "roomId": live_id, "amount": 10}))
            .err(422, "creator_mismatch")
            .field("creatorId"),
        case("pay: creatorId garbage", M::POST, "/api/transactions/stream-join")
            .token(vt)
            .json(json!({"creatorId": "'; drop table users; --", "roomId": live_id, "amount": 10}))
            .err(422, "creator_mismatch")
            .field("creatorId"),
        case("pay: creator pays own room", M::POST, "/api/transactions/stream-join")
            .token(ct)
            .json(pay(json!(10)))
            .err(400, "self_payment"),
        case("pay: offline room", M::POST, "/api/transactions/stream-join")
            .token(vt)
            .json(json!({"creatorId": creator_id, "roomId": off_id, "amount": 10}))
            .err(409, "room_not_live"),
        case("pay: 300-char Idempotency-Key", M::POST, "/api/transactions/stream-join")
            .token(vt)
            .header("idempotency-key", "k".repeat(300))
            .json(pay(json!(10)))
            .err(422, "validation_failed")
            .field("Idempotency-Key"),
        case("pay: Idempotency-Key with a space", M::POST, "/api/transactions/stream-join")
            .token(vt)
            .header("idempotency-key", "a b")
            .json(pay(json!(10)))
            .err(422, "validation_failed")
            .field("Idempotency-Key"),
        case("pay: malformed JSON", M::POST, "/api/transactions/stream-join")
            .token(vt)
            .raw("application/json", "{\"amount\": 10,,}")
            .err(400, "malformed_json"),
        // --- GET /api/transactions
        case("ledger: kind=bogus", M::GET, "/api/transactions?kind=bogus")
            .token(vt)
            .err(422, "validation_failed")
            .field("kind"),
        case("ledger: roomId not an id", M::GET, "/api/transactions?roomId=xyz")
            .token(vt)
            .err(422, "validation_failed")
            .field("roomId"),
        case("ledger: liveSessionId not an id", M::GET, "/api/transactions?liveSessionId=%00")
            .token(vt)
            .err(422, "validation_failed")
            .field("liveSessionId"),
        case("ledger: limit=1e3", M::GET, "/api/transactions?limit=1e3")
            .token(vt)
            .err(422, "validation_failed")
            .field("limit"),
        case("ledger: forged token", M::GET, "/api/transactions")
            .token(&bad.forged)
            .err(401, "unauthorized"),
        // --- media
        case("ice servers: no token", M::GET, "/api/media/ice-servers").err(401, "unauthorized"),
        case("ice servers: expired token", M::GET, "/api/media/ice-servers")
            .token(&bad.expired)
            .err(401, "token_expired"),
        case("whip: id not an ObjectId", M::POST, "/api/media/whip/nope")
            .token(ct)
            .raw("application/sdp", "v=0\r\n")
            .err(404, "room_not_found"),
        case("whip: unknown room", M::POST, format!("/api/media/whip/{unknown}"))
            .token(ct)
            .raw("application/sdp", "v=0\r\n")
            .err(404, "room_not_found"),
        case("whip: no Authorization", M::POST, format!("/api/media/whip/{live_id}"))
            .raw("application/sdp", "v=0\r\n")
            .err(401, "unauthorized"),
        case("whip: wrong stream key", M::POST, format!("/api/media/whip/{live_id}"))
            .token("sk_not_the_key")
            .raw("application/sdp", "v=0\r\n")
            .err(401, "unauthorized"),
        case("whip: alg none token", M::POST, format!("/api/media/whip/{live_id}"))
            .token(&bad.alg_none)
            .raw("application/sdp", "v=0\r\n")
            .err(401, "unauthorized"),
        case("whip: not the creator", M::POST, format!("/api/media/whip/{live_id}"))
            .token(vt)
            .raw("application/sdp", "v=0\r\n")
            .err(403, "forbidden"),
        case("whip: JSON instead of SDP", M::POST, format!("/api/media/whip/{live_id}"))
            .token(ct)
            .json(json!({"sdp": "v=0"}))
            .err(415, "unsupported_media_type"),
        case("whip: empty SDP", M::POST, format!("/api/media/whip/{live_id}"))
            .token(ct)
            .raw("application/sdp", "")
            .err(422, "validation_failed")
            .field("sdp"),
        case("whip: garbage SDP", M::POST, format!("/api/media/whip/{live_id}"))
            .token(ct)
            .raw("application/sdp", "v=0\r\nthis is not sdp\r\n")
            .err(422, "validation_failed")
            .field("sdp"),
        case("whip: SDP not UTF-8", M::POST, format!("/api/media/whip/{live_id}"))
            .token(ct)
            .raw("application/sdp", vec![b'v', b'=', b'0', 0xFF, 0xFE])
            .err(422, "validation_failed")
            .field("sdp"),
        case("whip: oversized SDP", M::POST, format!("/api/media/whip/{live_id}"))
            .token(ct)
            .raw("application/sdp", oversized_sdp())
            .err(422, "validation_failed")
            .field("sdp"),
        case("whip: PATCH (no trickle)", M::PATCH, format!("/api/media/whip/{live_id}"))
            .token(ct)
            .raw("application/trickle-ice-sdpfrag", "a=candidate:1")
            .err(405, "method_not_allowed"),
        case("whip delete: unknown session", M::DELETE, format!("/api/media/whip/{live_id}/987654321"))
            .token(ct)
            .err(404, "session_not_found"),
        case("whip delete: session not a number", M::DELETE, format!("/api/media/whip/{live_id}/abc"))
            .token(ct)
            .err(404, "session_not_found"),
        case("whip delete: no Authorization", M::DELETE, format!("/api/media/whip/{live_id}/1"))
            .err(401, "unauthorized"),
        case("whep: locked room", M::POST, format!("/api/media/whep/{live_id}"))
            .token(st)
            .raw("application/sdp", "v=0\r\n")
            .err(403, "payment_required"),
        case("whep: offline room", M::POST, format!("/api/media/whep/{off_id}"))
            .token(vt)
            .raw("application/sdp", "v=0\r\n")
            .err(409, "room_not_live"),
        case("whep: no token", M::POST, format!("/api/media/whep/{live_id}"))
            .raw("application/sdp", "v=0\r\n")
            .err(401, "unauthorized"),
        case("whep: id not an ObjectId", M::POST, "/api/media/whep/0x1234")
            .token(vt)
            .raw("application/sdp", "v=0\r\n")
            .err(404, "room_not_found"),
        case("whep: garbage SDP from the creator", M::POST, format!("/api/media/whep/{live_id}"))
            .token(ct)
            .raw("application/sdp", "hello, I am not an offer")
            .err(422, "validation_failed")
            .field("sdp"),
        case("whep: an m-line the parser chokes on", M::POST, format!("/api/media/whep/{live_id}"))
            .token(ct)
            .raw("application/sdp", "v=0\r\no=- 0 0 IN IP4 127.0.0.1\r\nm=video x y\r\n")
            .err(422, "validation_failed")
            .field("sdp"),
        case("whep delete: unknown session", M::DELETE, format!("/api/media/whep/{live_id}/424242"))
            .token(vt)
            .err(404, "session_not_found"),
        case("whep delete: forged token", M::DELETE, format!("/api/media/whep/{live_id}/1"))
            .token(&bad.forged)
            .err(401, "unauthorized"),
        // --- unknown paths and methods
        case("unknown path", M::GET, "/api/definitely/not/here").err(404, "not_found"),
        case("unknown sub-resource", M::GET, format!("/api/rooms/{live_id}/secrets"))
            .err(404, "not_found"),
        case("unknown path, POST with a body", M::POST, "/api/admin/grant")
            .token(ct)
            .json(json!({"coins": 1_000_000}))
            .err(404, "not_found"),
        case("wrong method: PUT /api/rooms", M::PUT, "/api/rooms")
            .token(ct)
            .json(json!({}))
            .err(405, "method_not_allowed"),
        case("wrong method: DELETE /api/users/me", M::DELETE, "/api/users/me")
            .token(vt)
            .err(405, "method_not_allowed"),
        case("wrong method: GET /api/auth/login", M::GET, "/api/auth/login")
            .err(405, "method_not_allowed"),
        // --- money in and out (issue 16)
        case("checkout: packId is a number", M::POST, "/api/coins/checkout")
            .token(vt)
            .json(json!({"packId": 5}))
            .err(422, "validation_failed")
            .field("packId"),
        case("checkout: unknown pack", M::POST, "/api/coins/checkout")
            .token(vt)
            .json(json!({"packId": huge}))
            .err(422, "validation_failed")
            .field("packId"),
        case("checkout: no token", M::POST, "/api/coins/checkout")
            .json(json!({"packId": "small"}))
            .err(401, "unauthorized"),
        case("purchase: not an id", M::GET, "/api/coins/purchases/nope")
            .token(vt)
            .err(404, "purchase_not_found"),
        case("purchases: bad cursor", M::GET, "/api/coins/purchases?cursor=zzz")
            .token(vt)
            .err(422, "validation_failed")
            .field("cursor"),
        case("test-confirm: no test provider", M::POST, format!("/api/coins/purchases/{unknown}/test-confirm"))
            .token(vt)
            .json(json!({}))
            .err(404, "not_found"),
        case("tip: amount is a string", M::POST, "/api/transactions/tip")
            .token(vt)
            .json(json!({"roomId": live_id, "amount": "5"}))
            .err(422, "validation_failed")
            .field("amount"),
        case("tip: u64::MAX amount", M::POST, "/api/transactions/tip")
            .token(vt)
            .json(json!({"roomId": live_id, "amount": u64::MAX}))
            .err(422, "validation_failed")
            .field("amount"),
        case("tip: 100k-char message", M::POST, "/api/transactions/tip")
            .token(vt)
            .json(json!({"roomId": live_id, "amount": 1, "message": huge}))
            .err(422, "validation_failed")
            .field("message"),
        case("tip: roomId is an object", M::POST, "/api/transactions/tip")
            .token(vt)
            .json(json!({"roomId": {}, "amount": 1}))
            .err(422, "validation_failed")
            .field("roomId"),
        case("tip: offline room", M::POST, "/api/transactions/tip")
            .token(vt)
            .json(json!({"roomId": off_id, "amount": 1}))
            .err(409, "room_not_live"),
        case("earnings: days is text", M::GET, "/api/users/me/earnings?days=abc")
            .token(vt)
            .err(422, "validation_failed")
            .field("days"),
        case("earnings: 100000 days", M::GET, "/api/users/me/earnings?days=100000")
            .token(vt)
            .err(422, "validation_failed")
            .field("days"),
        case("payout: coins is a string", M::POST, "/api/payouts")
            .token(ct)
            .json(json!({"coins": "1000"}))
            .err(422, "validation_failed")
            .field("coins"),
        case("payout: negative coins", M::POST, "/api/payouts")
            .token(ct)
            .json(json!({"coins": -1}))
            .err(422, "validation_failed")
            .field("coins"),
        case("payout: more than payable", M::POST, "/api/payouts")
            .token(ct)
            .json(json!({"coins": i64::MAX}))
            .err(402, "insufficient_funds"),
        // A made-up 4 KB method: refused, and never a metrics label.
        case(
            "made-up 4 KB method",
            M::from_bytes(&[b'Z'; 4096]).unwrap(),
            "/api/rooms",
        )
        .err(405, "method_not_allowed"),
    ]
}

// -------------------------------------------------------------- socket table

#[derive(Clone, Copy, Debug, PartialEq)]
enum Who {
    /// The live room's creator (joined to it).
    Creator,
    /// A paying viewer, joined to the live room.
    Viewer,
    /// Signed in, paid nothing, joined nothing.
    Stranger,
}

struct SockCase {
    name: &'static str,
    who: Who,
    event: &'static str,
    data: Value,
    /// `None`: `{ok: true}`; `Some(code)`: a refusal with that code.
    expect: Option<&'static str>,
    field: Option<&'static str>,
}

fn sock(
    name: &'static str,
    who: Who,
    event: &'static str,
    data: Value,
    expect: Option<&'static str>,
) -> SockCase {
    SockCase {
        name,
        who,
        event,
        data,
        expect,
        field: None,
    }
}

impl SockCase {
    fn field(mut self, field: &'static str) -> Self {
        self.field = Some(field);
        self
    }
}

#[allow(clippy::too_many_lines)]
fn socket_cases(live: &Value, offline: &Value, creator: &TestUser) -> Vec<SockCase> {
    use Who::{Creator, Stranger, Viewer};
    let live_id = live["id"].clone();
    let off_id = offline["id"].clone();
    let unknown = ObjectId::new().to_hex();
    let sdp_huge = oversized_sdp();
    let vf = Some("validation_failed");
    vec![
        // room:join
        sock(
            "room:join with no payload",
            Stranger,
            "room:join",
            Value::Null,
            vf,
        )
        .field("payload"),
        sock(
            "room:join with a string payload",
            Stranger,
            "room:join",
            json!("room"),
            vf,
        )
        .field("payload"),
        sock(
            "room:join with an array payload",
            Stranger,
            "room:join",
            json!([live_id]),
            vf,
        )
        .field("payload"),
        sock(
            "room:join roomId is a number",
            Stranger,
            "room:join",
            json!({"roomId": 1}),
            vf,
        )
        .field("roomId"),
        sock(
            "room:join roomId not an ObjectId",
            Stranger,
            "room:join",
            json!({"roomId": "lobby"}),
            Some("room_not_found"),
        ),
        sock(
            "room:join 100k-char roomId",
            Stranger,
            "room:join",
            json!({"roomId": "r".repeat(100_000)}),
            Some("room_not_found"),
        ),
        sock(
            "room:join unknown room",
            Stranger,
            "room:join",
            json!({"roomId": unknown}),
            Some("room_not_found"),
        ),
        sock(
            "room:join offline room",
            Stranger,
            "room:join",
            json!({"roomId": off_id}),
            Some("room_not_live"),
        ),
        sock(
            "room:join unpaid",
            Stranger,
            "room:join",
            json!({"roomId": live_id}),
            Some("payment_required"),
        ),
        // room:leave
        sock(
            "room:leave never joined",
            Stranger,
            "room:leave",
            json!({"roomId": live_id}),
            Some("not_in_room"),
        ),
        sock(
            "room:leave roomId missing",
            Viewer,
            "room:leave",
            json!({"room": live_id}),
            vf,
        )
        .field("roomId"),
        // chat:send
        sock(
            "chat:send never joined",
            Stranger,
            "chat:send",
            json!({"roomId": live_id, "text": "hi"}),
            Some("not_in_room"),
        ),
        sock(
            "chat:send unknown room",
            Viewer,
            "chat:send",
            json!({"roomId": unknown, "text": "hi"}),
            Some("not_in_room"),
        ),
        sock(
            "chat:send text is a number",
            Viewer,
            "chat:send",
            json!({"roomId": live_id, "text": 5}),
            vf,
        )
        .field("text"),
        sock(
            "chat:send text missing",
            Viewer,
            "chat:send",
            json!({"roomId": live_id}),
            vf,
        )
        .field("text"),
        sock(
            "chat:send 10k-char text",
            Viewer,
            "chat:send",
            json!({"roomId": live_id, "text": "y".repeat(10_000)}),
            vf,
        )
        .field("text"),
        sock(
            "chat:send whitespace text",
            Viewer,
            "chat:send",
            json!({"roomId": live_id, "text": " \n\t "}),
            vf,
        )
        .field("text"),
        // chat:delete
        sock(
            "chat:delete never joined",
            Stranger,
            "chat:delete",
            json!({"roomId": live_id, "messageId": unknown}),
            Some("not_in_room"),
        ),
        sock(
            "chat:delete messageId garbage",
            Viewer,
            "chat:delete",
            json!({"roomId": live_id, "messageId": "{$gt: ''}"}),
            Some("message_not_found"),
        ),
        sock(
            "chat:delete unknown message",
            Creator,
            "chat:delete",
            json!({"roomId": live_id, "messageId": unknown}),
            Some("message_not_found"),
        ),
        sock(
            "chat:delete messageId is an object",
            Viewer,
            "chat:delete",
            json!({"roomId": live_id, "messageId": {"$ne": null}}),
            vf,
        )
        .field("messageId"),
        // chat:timeout
        sock(
            "chat:timeout by a viewer",
            Viewer,
            "chat:timeout",
            json!({"roomId": live_id, "userId": creator.id}),
            Some("forbidden"),
        ),
        sock(
            "chat:timeout negative seconds",
            Creator,
            "chat:timeout",
            json!({"roomId": live_id, "userId": unknown, "seconds": -5}),
            vf,
        )
        .field("seconds"),
        sock(
            "chat:timeout zero seconds",
            Creator,
            "chat:timeout",
            json!({"roomId": live_id, "userId": unknown, "seconds": 0}),
            vf,
        )
        .field("seconds"),
        sock(
            "chat:timeout fractional seconds",
            Creator,
            "chat:timeout",
            json!({"roomId": live_id, "userId": unknown, "seconds": 1.5}),
            vf,
        )
        .field("seconds"),
        sock(
            "chat:timeout huge seconds",
            Creator,
            "chat:timeout",
            json!({"roomId": live_id, "userId": unknown, "seconds": 1e15}),
            vf,
        )
        .field("seconds"),
        sock(
            "chat:timeout seconds is a string",
            Creator,
            "chat:timeout",
            json!({"roomId": live_id, "userId": unknown, "seconds": "300"}),
            vf,
        )
        .field("seconds"),
        sock(
            "chat:timeout unknown user",
            Creator,
            "chat:timeout",
            json!({"roomId": live_id, "userId": unknown}),
            Some("user_not_found"),
        ),
        // chat:ban / chat:unban
        sock(
            "chat:ban userId garbage",
            Creator,
            "chat:ban",
            json!({"roomId": live_id, "userId": "everyone"}),
            Some("user_not_found"),
        ),
        sock(
            "chat:ban yourself",
            Creator,
            "chat:ban",
            json!({"roomId": live_id, "userId": creator.id}),
            vf,
        )
        .field("userId"),
        sock(
            "chat:ban unknown room",
            Creator,
            "chat:ban",
            json!({"roomId": unknown, "userId": unknown}),
            Some("room_not_found"),
        ),
        sock(
            "chat:ban userId missing",
            Creator,
            "chat:ban",
            json!({"roomId": live_id}),
            vf,
        )
        .field("userId"),
        sock(
            "chat:unban by a stranger",
            Stranger,
            "chat:unban",
            json!({"roomId": live_id, "userId": creator.id}),
            Some("forbidden"),
        ),
        // media:publish
        sock(
            "media:publish sdp missing",
            Creator,
            "media:publish",
            json!({"roomId": live_id}),
            vf,
        )
        .field("sdp"),
        sock(
            "media:publish sdp is a number",
            Creator,
            "media:publish",
            json!({"roomId": live_id, "sdp": 0}),
            vf,
        )
        .field("sdp"),
        sock(
            "media:publish empty sdp",
            Creator,
            "media:publish",
            json!({"roomId": live_id, "sdp": ""}),
            vf,
        )
        .field("sdp"),
        sock(
            "media:publish garbage sdp",
            Creator,
            "media:publish",
            json!({"roomId": live_id, "sdp": "v=0\r\nm=garbage\r\n"}),
            vf,
        )
        .field("sdp"),
        sock(
            "media:publish oversized sdp",
            Creator,
            "media:publish",
            json!({"roomId": live_id, "sdp": sdp_huge}),
            vf,
        )
        .field("sdp"),
        sock(
            "media:publish offline room",
            Creator,
            "media:publish",
            json!({"roomId": off_id, "sdp": "v=0\r\n"}),
            Some("room_not_live"),
        ),
        sock(
            "media:publish someone else's room",
            Stranger,
            "media:publish",
            json!({"roomId": live_id, "sdp": "v=0\r\n"}),
            Some("forbidden"),
        ),
        sock(
            "media:publish unknown room",
            Creator,
            "media:publish",
            json!({"roomId": unknown, "sdp": "v=0\r\n"}),
            Some("room_not_found"),
        ),
        // media:view
        sock(
            "media:view unknown room",
            Stranger,
            "media:view",
            json!({"roomId": unknown}),
            Some("room_not_found"),
        ),
        sock(
            "media:view roomId not an ObjectId",
            Stranger,
            "media:view",
            json!({"roomId": "../x"}),
            Some("room_not_found"),
        ),
        sock(
            "media:view unpaid",
            Stranger,
            "media:view",
            json!({"roomId": live_id}),
            Some("payment_required"),
        ),
        sock(
            "media:view offline room",
            Stranger,
            "media:view",
            json!({"roomId": off_id}),
            Some("room_not_live"),
        ),
        sock(
            "media:view no payload",
            Viewer,
            "media:view",
            Value::Null,
            vf,
        )
        .field("payload"),
        // media:answer
        sock(
            "media:answer without media:view",
            Viewer,
            "media:answer",
            json!({"roomId": live_id, "sdp": "v=0\r\n"}),
            Some("no_media_session"),
        ),
        sock(
            "media:answer oversized sdp",
            Viewer,
            "media:answer",
            json!({"roomId": live_id, "sdp": oversized_sdp()}),
            vf,
        )
        .field("sdp"),
        sock(
            "media:answer sdp is an array",
            Viewer,
            "media:answer",
            json!({"roomId": live_id, "sdp": ["v=0"]}),
            vf,
        )
        .field("sdp"),
        // media:ice
        sock(
            "media:ice roomId missing",
            Viewer,
            "media:ice",
            json!({"candidate": "x"}),
            vf,
        )
        .field("roomId"),
        sock(
            "media:ice garbage candidate is accepted",
            Viewer,
            "media:ice",
            json!({"roomId": live_id, "candidate": {"junk": [1, 2, 3]}}),
            None,
        ),
        // unknown events
        sock(
            "unknown event",
            Viewer,
            "admin:grant",
            json!({"coins": 1_000_000}),
            Some("unknown_event"),
        ),
        sock(
            "unknown event, no payload",
            Stranger,
            "__proto__",
            Value::Null,
            Some("unknown_event"),
        ),
    ]
}

/// Emits and waits at most `ACK_WITHIN`; a missing ack is a hang.
async fn emit_within(sio: &mut Sio, event: &str, data: Value) -> Result<Value, String> {
    tokio::time::timeout(ACK_WITHIN, sio.emit(event, data))
        .await
        .map_err(|_| format!("no ack within {ACK_WITHIN:?} (hang)"))
}

fn check_ack(ack: &Value, expect: Option<&str>, field: Option<&str>) -> Vec<String> {
    let mut problems = Vec::new();
    match expect {
        None => {
            if ack["ok"] != true {
                problems.push(format!("expected ok: {ack}"));
            }
        }
        Some(code) => {
            if ack["ok"] != false {
                problems.push("expected ok: false".into());
            }
            if ack["error"]["code"].as_str() != Some(code) {
                problems.push(format!(
                    "code {:?}, expected {code:?}",
                    ack["error"]["code"]
                ));
            }
            if ack["error"]["message"].as_str().is_none_or(str::is_empty) {
                problems.push("no error.message".into());
            }
            if let Some(field) = field
                && ack["error"]["field"].as_str() != Some(field)
            {
                problems.push(format!(
                    "field {:?}, expected {field:?}",
                    ack["error"]["field"]
                ));
            }
            if !problems.is_empty() {
                let mut shown = ack.to_string();
                shown.truncate(300);
                problems.push(format!("got ack: {shown}"));
            }
        }
    }
    problems
}

// ---------------------------------------------------------------------- test

#[tokio::test]
#[allow(clippy::too_many_lines)]
async fn every_endpoint_and_event_refuses_bad_input_in_the_contracts_shape() {
    let started = std::time::Instant::now();
    let app = spawn_app().await;
    let creator = app.register("bi_cr").await;
    let viewer = app.register("bi_vw").await;
    let stranger = app.register("bi_st").await;
    let live = app.live_room(&creator, 10).await;
    let offline = app
        .post(
            "/api/rooms",
            Some(&creator.token),
            json!({"title": unique("Offline "), "price": 10}),
        )
        .await
        .assert_ok(201)
        .clone();
    app.pay(&viewer, &live, None).await.assert_ok(200);
    let bad = bad_tokens(&viewer);

    let mut mismatches: Vec<String> = Vec::new();
    let mut cases = 0usize;

    // ---- REST
    for c in rest_cases(&creator, &viewer, &stranger, &live, &offline, &bad) {
        cases += 1;
        let problems = run_case(&app, &c).await;
        if !problems.is_empty() {
            mismatches.push(format!(
                "REST [{}] {} {}: {}",
                c.name,
                c.method,
                shorten(&c.path),
                problems.join("; ")
            ));
        }
    }
    let rest_cases_run = cases;

    // ---- Socket.IO: connecting with bad tokens is refused with the reason.
    let connects: [(&str, Option<&str>, &str); 7] = [
        ("connect without a token", None, "unauthorized"),
        ("connect with garbage", Some("garbage"), "unauthorized"),
        (
            "connect with a forged token",
            Some(bad.forged.as_str()),
            "unauthorized",
        ),
        (
            "connect with alg none",
            Some(bad.alg_none.as_str()),
            "unauthorized",
        ),
        (
            "connect with a tampered token",
            Some(bad.tampered.as_str()),
            "unauthorized",
        ),
        (
            "connect with sub not an ObjectId",
            Some(bad.bad_sub.as_str()),
            "unauthorized",
        ),
        (
            "connect with an expired token",
            Some(bad.expired.as_str()),
            "token_expired",
        ),
    ];
    for (name, token, code) in connects {
        cases += 1;
        match tokio::time::timeout(Duration::from_secs(10), Sio::try_connect(&app, token)).await {
            Err(_) => mismatches.push(format!("SOCKET [{name}]: no answer (hang)")),
            Ok(Ok(sio)) => {
                mismatches.push(format!("SOCKET [{name}]: connected, expected {code}"));
                sio.close().await;
            }
            Ok(Err(message)) => {
                if !message.starts_with(&format!("{code}:")) {
                    mismatches.push(format!(
                        "SOCKET [{name}]: refused with {message:?}, expected {code}"
                    ));
                }
            }
        }
    }

    // ---- Socket.IO: every event with bad input.
    let mut creator_sio = Sio::connect(&app, &creator).await;
    let mut viewer_sio = Sio::connect(&app, &viewer).await;
    let mut stranger_sio = Sio::connect(&app, &stranger).await;
    let join = json!({"roomId": live["id"]});
    creator_sio.ok("room:join", join.clone()).await;
    viewer_sio.ok("room:join", join.clone()).await;

    for c in socket_cases(&live, &offline, &creator) {
        cases += 1;
        let sio = match c.who {
            Who::Creator => &mut creator_sio,
            Who::Viewer => &mut viewer_sio,
            Who::Stranger => &mut stranger_sio,
        };
        match emit_within(sio, c.event, c.data).await {
            Err(e) => mismatches.push(format!("SOCKET [{}] {}: {e}", c.name, c.event)),
            Ok(ack) => {
                let problems = check_ack(&ack, c.expect, c.field);
                if !problems.is_empty() {
                    mismatches.push(format!(
                        "SOCKET [{}] {} as {:?}: {}",
                        c.name,
                        c.event,
                        c.who,
                        problems.join("; ")
                    ));
                }
            }
        }
    }

    // ---- Socket.IO: a frame over the transport's limit (256 KiB) on a
    // throwaway connection: refused or dropped, never a crash.
    cases += 1;
    {
        let mut sio = Sio::connect(&app, &stranger).await;
        let big = json!({"roomId": live["id"], "text": "z".repeat(300 * 1024)});
        let outcome = tokio::spawn(async move {
            let ack = tokio::time::timeout(ACK_WITHIN, sio.emit("chat:send", big)).await;
            drop(sio);
            ack
        })
        .await;
        match outcome {
            // Dropped by the transport (the driver reports a failed ack) or
            // never acknowledged: both are acceptable for an oversized frame.
            Err(_) | Ok(Err(_)) => {}
            Ok(Ok(ack)) => {
                if ack["ok"] != false || !ack["error"]["code"].is_string() {
                    mismatches.push(format!(
                        "SOCKET [oversized frame]: expected a refusal or a drop, got {ack}"
                    ));
                }
            }
        }
    }

    // ---- Socket.IO: a flood of chat messages, as fast as the client sends.
    cases += 1;
    let flood = 200;
    let (mut sent, mut limited, mut other) = (0usize, 0usize, Vec::new());
    let mut hung = false;
    let flood_started = std::time::Instant::now();
    for i in 0..flood {
        let data = json!({"roomId": live["id"], "text": format!("flood {i}")});
        match emit_within(&mut viewer_sio, "chat:send", data).await {
            Err(_) => {
                hung = true;
                break;
            }
            Ok(ack) if ack["ok"] == true => sent += 1,
            Ok(ack) if ack["error"]["code"] == "rate_limited" => {
                limited += 1;
                if !ack["error"]["retryAfterMs"].is_u64() {
                    other.push(format!("rate_limited without retryAfterMs: {ack}"));
                }
            }
            Ok(ack) => other.push(ack.to_string()),
        }
    }
    // A burst of 5, then 1 per second: what the limiter may let through.
    let allowed = 5 + flood_started.elapsed().as_secs() as usize + 1;
    if hung || sent + limited != flood || limited == 0 || sent > allowed || !other.is_empty() {
        mismatches.push(format!(
            "SOCKET [flood of {flood} chat:send]: hung={hung} sent={sent} rate_limited={limited} \
             other={other:?} (expected every one acknowledged, at most the burst accepted, \
             the rest rate_limited)"
        ));
    }
    // A flood of garbage events of every kind, all acknowledged.
    cases += 1;
    let events = [
        "room:join",
        "room:leave",
        "chat:send",
        "chat:delete",
        "chat:timeout",
        "chat:ban",
        "chat:unban",
        "media:publish",
        "media:view",
        "media:answer",
        "media:ice",
        "no:such:event",
    ];
    let mut unacked = Vec::new();
    for i in 0..120 {
        let event = events[i % events.len()];
        let data = match i % 3 {
            0 => Value::Null,
            1 => json!({"roomId": i, "text": [i], "sdp": {"x": i}}),
            _ => {
                json!({"roomId": ObjectId::new().to_hex(), "userId": "x", "messageId": "y", "sdp": "v=0"})
            }
        };
        match emit_within(&mut stranger_sio, event, data).await {
            Err(e) => {
                unacked.push(format!("{event}: {e}"));
                break;
            }
            Ok(ack) => {
                if ack["ok"] != false || !ack["error"]["code"].is_string() {
                    unacked.push(format!("{event}: {ack}"));
                }
            }
        }
    }
    if !unacked.is_empty() {
        mismatches.push(format!(
            "SOCKET [flood of garbage events]: expected every one refused in shape: {unacked:?}"
        ));
    }

    // ---- Everyone else is still served.
    let mut alive = Vec::new();
    if app.get("/api/health", None).await.status != 200 {
        alive.push("health is not 200".to_owned());
    }
    // The flooding viewer's socket still works once the limiter refills.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let ack = emit_within(
        &mut viewer_sio,
        "chat:send",
        json!({"roomId": live["id"], "text": "still here"}),
    )
    .await;
    if !ack.as_ref().is_ok_and(|a| a["ok"] == true) {
        alive.push(format!(
            "the flooding viewer cannot chat after the flood: {ack:?}"
        ));
    }
    // The creator was never limited by someone else's flood.
    let ack = emit_within(
        &mut creator_sio,
        "chat:send",
        json!({"roomId": live["id"], "text": "creator here"}),
    )
    .await;
    if !ack.as_ref().is_ok_and(|a| a["ok"] == true) {
        alive.push(format!("the creator cannot chat: {ack:?}"));
    }
    // A fresh user registers, pays, connects and joins.
    let fresh = app.register("bi_fresh").await;
    let paid = app.pay(&fresh, &live, None).await;
    if paid.status != 200 || paid.body["balance"] != 90 {
        alive.push(format!("a fresh user cannot pay: {paid:?}"));
    }
    match tokio::time::timeout(
        Duration::from_secs(10),
        Sio::try_connect(&app, Some(&fresh.token)),
    )
    .await
    {
        Ok(Ok(mut sio)) => {
            let ack = emit_within(&mut sio, "room:join", join.clone()).await;
            if !ack
                .as_ref()
                .is_ok_and(|a| a["ok"] == true && a["role"] == "viewer")
            {
                alive.push(format!("a fresh user cannot join: {ack:?}"));
            }
            sio.close().await;
        }
        other => alive.push(format!(
            "a fresh user cannot connect: {:?}",
            other.map(|r| r.err())
        )),
    }
    if app.get("/api/users/me", Some(&creator.token)).await.status != 200 {
        alive.push("the creator's session broke".to_owned());
    }
    if app.balance(&viewer).await != 90 {
        alive.push("the viewer's balance changed under bad input".to_owned());
    }
    app.assert_ledger_invariants().await;
    for a in alive {
        mismatches.push(format!("STILL SERVING: {a}"));
    }
    creator_sio.close().await;
    viewer_sio.close().await;
    stranger_sio.close().await;

    eprintln!(
        "bad-input catalogue: {cases} cases ({rest_cases_run} REST, {} Socket.IO) in {:?}",
        cases - rest_cases_run,
        started.elapsed()
    );
    assert!(cases >= 60, "only {cases} cases");
    assert!(
        mismatches.is_empty(),
        "{} of {cases} bad-input cases were mishandled:\n  {}",
        mismatches.len(),
        mismatches.join("\n  ")
    );
}

fn shorten(path: &str) -> String {
    if path.len() > 80 {
        format!("{}…", &path[..80])
    } else {
        path.to_owned()
    }
}
