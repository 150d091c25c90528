//! `/api/auth/*`: register, login, refresh (rotating httpOnly cookie), logout.

use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::{Json, Router, routing::post};
use mongodb::bson::oid::ObjectId;
use mongodb::bson::{DateTime, doc};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::accounts::Standing;
use crate::auth::{AuthUser, REFRESH_TOKEN_SECS, verify_password};
use crate::client::ClientIp;
use crate::domain::{Email, Password, Username, text_field};
use crate::error::{ApiError, Result};
use crate::extract::ApiJson;
use crate::models::{RefreshTokenDoc, User};
use crate::ratelimit::too_many;
use crate::signup::{self, NewAccount};
use crate::state::AppState;
use crate::tokens::{random_token, token_hash};

/// Name of the refresh cookie (scoped to `/api/auth`).
pub const REFRESH_COOKIE: &str = "ss_refresh";

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/register", post(register))
        .route("/login", post(login))
        .route("/refresh", post(refresh))
        .route("/logout", post(logout))
        .route("/verify-email", post(verify_email))
        .route("/verify-email/resend", post(resend_verification))
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
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    ApiJson(body): ApiJson<RegisterBody>,
) -> Result<Response> {
    let username = Username::parse(&body.username)?;
    let display_name = match body.display_name.as_deref() {
        Some(name) if !name.trim().is_empty() => text_field(name, "displayName", 1, 64)?,
        _ => username.as_str().to_owned(),
    };
    let account = NewAccount {
        username,
        email: Email::parse(&body.email)?,
        password: Password::parse(body.password)?,
        display_name,
    };
    let user = signup::register(&state, account, ip).await?;
    let access_token = state.tokens.issue(user.id, &user.username)?;
    let cookie = start_refresh_family(&state, user.id, &headers).await?;
    Ok((
        StatusCode::CREATED,
        [(header::SET_COOKIE, cookie)],
        Json(json!({ "user": User::from(&user), "accessToken": access_token })),
    )
        .into_response())
}

#[derive(Deserialize)]
struct VerifyBody {
    token: String,
}

/// Follows an e-mail verification link (the web app's `/verify-email` page
/// posts its token here).
async fn verify_email(
    State(state): State<AppState>,
    ApiJson(body): ApiJson<VerifyBody>,
) -> Result<Json<Value>> {
    let user = signup::verify_email(&state, &body.token).await?;
    Ok(Json(json!({ "user": User::from(&user) })))
}

/// Sends the signed-in user a new verification link.
async fn resend_verification(State(state): State<AppState>, user: AuthUser) -> Result<StatusCode> {
    signup::resend_verification(&state, user.id).await?;
    Ok(StatusCode::ACCEPTED)
}

#[derive(Deserialize)]
struct LoginBody {
    login: String,
    password: String,
}

#[tracing::instrument(skip_all)]
async fn login(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    ApiJson(body): ApiJson<LoginBody>,
) -> Result<Response> {
    let login = body.login.trim();
    // Before the (deliberately slow) password check: guessing is throttled
    // per address, then per account, whichever name or address was typed
    // (or per typed value when no account has it), so typing the username
    // and the e-mail in turn does not double an attacker's tries.
    state
        .login_by_ip
        .check(ip)
        .await
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
    // Usernames are lowercase: a typed name in another case that matches
    // no account still counts against the account it spells.
    let account_key = match &user {
        Some(user) => user.username.clone(),
        None => login.to_lowercase(),
    };
    state
        .login_by_account
        .check(account_key)
        .await
        .map_err(too_many_attempts)?;
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
    Standing::of(&user).check()?;
    let access_token = state.tokens.issue(user.id, &user.username)?;
    let cookie = start_refresh_family(&state, user.id, &headers).await?;
    Ok((
        [(header::SET_COOKIE, cookie)],
        Json(json!({ "user": User::from(&user), "accessToken": access_token })),
    )
        .into_response())
}

fn too_many_attempts(wait: std::time::Duration) -> ApiError {
    too_many("Too many sign-in attempts", wait)
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
        .ok_or_else(crate::accounts::account_closed)?;
    Standing::of(&user).check()?;
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
