//! `/api/auth/*`: register, login, refresh (rotating httpOnly cookie), logout.

use std::net::{IpAddr, SocketAddr};

use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::{Json, Router, routing::post};
use mongodb::bson::oid::ObjectId;
use mongodb::bson::{DateTime, doc};
use serde::Deserialize;
use serde_json::json;

use crate::auth::{REFRESH_TOKEN_SECS, hash_password, random_token, token_hash, verify_password};
use crate::domain::{Email, Password, Username, text_field};
use crate::error::{ApiError, Result, duplicate_key_index};
use crate::extract::ApiJson;
use crate::models::{KIND_GRANT, RefreshTokenDoc, TxDoc, User, UserDoc};
use crate::state::AppState;

/// Name of the refresh cookie (scoped to `/api/auth`).
pub const REFRESH_COOKIE: &str = "ss_refresh";

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/register", post(register))
        .route("/login", post(login))
        .route("/refresh", post(refresh))
        .route("/logout", post(logout))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RegisterBody {
    username: String,
    email: String,
    password: String,
    display_name: Option<String>,
}

#[tracing::instrument(skip_all, fields(username = %body.username))]
async fn register(
    State(state): State<AppState>,
    headers: HeaderMap,
    ApiJson(body): ApiJson<RegisterBody>,
) -> Result<Response> {
    let username = Username::parse(&body.username)?;
    let email = Email::parse(&body.email)?;
    let password = Password::parse(body.password)?;
    let display_name = match body.display_name.as_deref() {
        Some(name) if !name.trim().is_empty() => text_field(name, "displayName", 1, 64)?,
        _ => username.as_str().to_owned(),
    };
    let password_hash = hash_password(password.expose().to_owned()).await?;

    let now = DateTime::now();
    let signup_coins = state.settings.signup_coins.max(0);
    let user = UserDoc {
        id: ObjectId::new(),
        username: username.as_str().to_owned(),
        email: email.as_str().to_owned(),
        display_name,
        password_hash,
        coins: signup_coins,
        created_at: now,
    };
    let grant = TxDoc {
        id: ObjectId::new(),
        kind: KIND_GRANT.into(),
        from_user_id: None,
        to_user_id: user.id,
        room_id: None,
        room_title: None,
        live_session_id: None,
        amount: signup_coins,
        created_at: now,
    };
    // The user and its signup grant are written together or not at all.
    crate::transaction!(&state.db, |s| {
        state
            .db
            .users()
            .insert_one(&user)
            .session(&mut *s)
            .await
            .map_err(duplicate_account)?;
        if grant.amount > 0 {
            state
                .db
                .transactions()
                .insert_one(&grant)
                .session(&mut *s)
                .await?;
        }
        Ok(())
    })?;
    tracing::info!(user_id = %user.id, "registered");

    let access_token = state.tokens.issue(user.id, &user.username)?;
    let cookie = start_refresh_family(&state, user.id, &headers).await?;
    Ok((
        StatusCode::CREATED,
        [(header::SET_COOKIE, cookie)],
        Json(json!({ "user": User::from(&user), "accessToken": access_token })),
    )
        .into_response())
}

fn duplicate_account(err: mongodb::error::Error) -> ApiError {
    match duplicate_key_index(&err).as_deref() {
        Some(index) if index.contains("username") => {
            ApiError::conflict("username_taken", "That username is taken.")
        }
        Some(index) if index.contains("email") => {
            ApiError::conflict("email_taken", "An account with that e-mail address exists.")
        }
        _ => err.into(),
    }
}

#[derive(Deserialize)]
struct LoginBody {
    login: String,
    password: String,
}

#[tracing::instrument(skip_all)]
async fn login(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    ApiJson(body): ApiJson<LoginBody>,
) -> Result<Response> {
    let login = body.login.trim();
    // Before the (deliberately slow) password check: guessing is throttled
    // per address and per account name.
    let ip = client_ip(&state, &headers, peer);
    state
        .login_by_ip
        .check(ip)
        .and_then(|()| state.login_by_account.check(login.to_lowercase()))
        .map_err(too_many_attempts)?;
    let filter = if login.contains('@') {
        doc! { "email": login.to_lowercase() }
    } else {
        doc! { "username": login }
    };
    let user = if login.is_empty() || login.len() > 254 || body.password.len() > 1024 {
        None
    } else {
        state.db.users().find_one(filter).await?
    };
    let ok = verify_password(
        body.password,
        user.as_ref().map(|u| u.password_hash.clone()),
    )
    .await?;
    let user = match user {
        Some(user) if ok => user,
        _ => {
            return Err(ApiError::refused(
                StatusCode::UNAUTHORIZED,
                "invalid_credentials",
                "Wrong username, e-mail or password.",
            ));
        }
    };
    let access_token = state.tokens.issue(user.id, &user.username)?;
    let cookie = start_refresh_family(&state, user.id, &headers).await?;
    Ok((
        [(header::SET_COOKIE, cookie)],
        Json(json!({ "user": User::from(&user), "accessToken": access_token })),
    )
        .into_response())
}

/// The client's address: the connection's, or the first `X-Forwarded-For`
/// hop when the server is configured to trust its proxy.
pub fn client_ip(state: &AppState, headers: &HeaderMap, peer: SocketAddr) -> IpAddr {
    if state.settings.trust_forwarded_for
        && let Some(ip) = headers
            .get("x-forwarded-for")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(',').next())
            .and_then(|v| v.trim().parse().ok())
    {
        return ip;
    }
    peer.ip()
}

fn too_many_attempts(wait: std::time::Duration) -> ApiError {
    let secs = wait.as_secs() + 1;
    ApiError::refused(
        StatusCode::TOO_MANY_REQUESTS,
        "rate_limited",
        format!("Too many sign-in attempts; try again in {secs} s."),
    )
    .with("retryAfterSeconds", secs)
}

/// Refresh: the presented token is used up and a new one of the same family
/// is issued. Presenting a token that was already used (a stolen copy being
/// replayed, most likely) revokes the whole family: every device signs in anew.
#[tracing::instrument(skip_all)]
async fn refresh(State(state): State<AppState>, headers: HeaderMap) -> Result<Response> {
    let token = refresh_cookie(&headers)
        .ok_or_else(|| ApiError::unauthorized("No refresh token: sign in again."))?;
    let hash = token_hash(&token);
    let now = DateTime::now();
    let used = state
        .db
        .refresh_tokens()
        .find_one_and_update(
            doc! { "_id": &hash, "usedAt": null, "revoked": false, "expiresAt": { "$gt": now } },
            doc! { "$set": { "usedAt": now } },
        )
        .await?;
    let Some(used) = used else {
        if let Some(old) = state
            .db
            .refresh_tokens()
            .find_one(doc! { "_id": &hash })
            .await?
        {
            // A replay a few seconds later is most likely two tabs racing; the
            // family survives that, but not a later reuse.
            let racing = old
                .used_at
                .is_some_and(|t| now.timestamp_millis() - t.timestamp_millis() < 10_000);
            if old.used_at.is_some() && !racing {
                tracing::warn!(user_id = %old.user_id, "refresh token reused; revoking its family");
                revoke_family(&state, old.family_id).await?;
            }
        }
        return Err(ApiError::unauthorized(
            "The refresh token is no longer valid: sign in again.",
        ));
    };
    let user = state
        .db
        .users()
        .find_one(doc! { "_id": used.user_id })
        .await?
        .ok_or_else(|| ApiError::unauthorized("This account no longer exists."))?;
    let cookie = issue_refresh(&state, user.id, used.family_id, &headers).await?;
    let access_token = state.tokens.issue(user.id, &user.username)?;
    Ok((
        [(header::SET_COOKIE, cookie)],
        Json(json!({ "accessToken": access_token })),
    )
        .into_response())
}

#[tracing::instrument(skip_all)]
async fn logout(State(state): State<AppState>, headers: HeaderMap) -> Result<Response> {
    if let Some(token) = refresh_cookie(&headers)
        && let Some(doc) = state
            .db
            .refresh_tokens()
            .find_one(doc! { "_id": token_hash(&token) })
            .await?
    {
        revoke_family(&state, doc.family_id).await?;
    }
    let clear = cookie_header(&headers, &state, "", 0);
    Ok((StatusCode::NO_CONTENT, [(header::SET_COOKIE, clear)]).into_response())
}

async fn revoke_family(state: &AppState, family_id: ObjectId) -> Result<()> {
    state
        .db
        .refresh_tokens()
        .update_many(
            doc! { "familyId": family_id },
            doc! { "$set": { "revoked": true } },
        )
        .await?;
    Ok(())
}

async fn start_refresh_family(
    state: &AppState,
    user_id: ObjectId,
    headers: &HeaderMap,
) -> Result<HeaderValue> {
    issue_refresh(state, user_id, ObjectId::new(), headers).await
}

async fn issue_refresh(
    state: &AppState,
    user_id: ObjectId,
    family_id: ObjectId,
    headers: &HeaderMap,
) -> Result<HeaderValue> {
    let token = random_token(32);
    let now = DateTime::now();
    let doc = RefreshTokenDoc {
        hash: token_hash(&token),
        user_id,
        family_id,
        created_at: now,
        expires_at: DateTime::from_millis(
            now.timestamp_millis() + (REFRESH_TOKEN_SECS as i64) * 1000,
        ),
        used_at: None,
        revoked: false,
    };
    state.db.refresh_tokens().insert_one(&doc).await?;
    Ok(cookie_header(headers, state, &token, REFRESH_TOKEN_SECS))
}

/// The refresh cookie: `HttpOnly`, `SameSite=Strict`, path `/api/auth`, and
/// `Secure` when configured or when the request came over HTTPS.
fn cookie_header(headers: &HeaderMap, state: &AppState, value: &str, max_age: u64) -> HeaderValue {
    let https = state.settings.secure_cookies
        || headers
            .get("x-forwarded-proto")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.eq_ignore_ascii_case("https"));
    let secure = if https { "; Secure" } else { "" };
    let cookie = format!(
        "{REFRESH_COOKIE}={value}; HttpOnly; SameSite=Strict; Path=/api/auth; Max-Age={max_age}{secure}"
    );
    HeaderValue::from_str(&cookie).expect("cookie is ASCII")
}

fn refresh_cookie(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, value)| *name == REFRESH_COOKIE && !value.is_empty())
        .map(|(_, value)| value.to_owned())
}
