//! `/api/auth/*`: register, login, refresh (rotating httpOnly cookie), logout.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
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
use crate::routes::docs::{
    AccountSuspended, BadRequest, DatabaseUnavailable, InternalError, PayloadTooLarge, RateLimited,
    UnsupportedMediaType, ValidationFailed,
};
use crate::signup::{self, NewAccount};
use crate::state::AppState;
use crate::tokens::{random_token, token_hash};
use utoipa_axum::{router::OpenApiRouter, routes};

/// Name of the refresh cookie (scoped to `/api/auth`).
pub const REFRESH_COOKIE: &str = "ss_refresh";

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(register))
        .routes(routes!(login))
        .routes(routes!(refresh))
        .routes(routes!(logout))
        .routes(routes!(verify_email))
        .routes(routes!(resend_verification))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RegisterBody {
    username: String,
    email: String,
    password: String,
    display_name: Option<String>,
}

/// Create an account
///
/// Creates the account and signs the caller in. The new user starts with
/// the signup grant of coins (`STREAMSHARE_SIGNUP_COINS`, default 100).
/// The grant is recorded as a ledger entry of kind `grant`, written in
/// the same transaction as the user. No entry is written when the grant
/// is 0. The `email` is stored in lowercase, so uniqueness ignores case.
/// The response sets the `ss_refresh` cookie, which starts a new
/// refresh-token family.
///
/// What keeps sign-ups from minting coins (docs/security.md):
/// - Sign-ups are throttled per client address (`STREAMSHARE_SIGNUP_BURST_PER_IP`,
///   default 5 at once, then one per 10 minutes) and per network, an IPv4
///   /24 or IPv6 /64 (`STREAMSHARE_SIGNUP_BURST_PER_NETWORK`, default 20,
///   then one per 2 minutes): 429 `rate_limited`.
/// - At most `STREAMSHARE_SIGNUP_GRANTS_PER_DAY` grants (default 1,000)
///   are given per UTC day; later accounts start with 0 coins. `0`
///   gives none.
/// - Grant coins are counted in `bonusCoins`. They are spent first, but
///   not in the rooms of a creator who signed up from the same network
///   within `STREAMSHARE_SIGNUP_LINK_DAYS` (default 30): there only the
///   other coins count (402 `insufficient_funds` with `bonusCoinsExcluded`).
/// - With `STREAMSHARE_REQUIRE_EMAIL_VERIFICATION`, the account starts
///   with 0 coins and `grantPending: true`; the grant comes with
///   `POST /api/auth/verify-email` (the link e-mailed to the address).
///
/// A taken e-mail address is reported (409 `email_taken`): an accepted
/// trade-off, since the form must say why an account cannot be made,
/// and sign-ups are throttled per address and network.
///
/// Errors: 400 `malformed_json`; 409 `username_taken` / `email_taken`;
/// 413 `payload_too_large`; 415 `unsupported_media_type`;
/// 422 `validation_failed` with `field` one of `username`, `email`,
/// `password`, `displayName` or `body` (the body is not a JSON object);
/// 429 `rate_limited`; 503 `database_unavailable`.
#[utoipa::path(
    post,
    path = "/register",
    tag = "auth",
    operation_id = "register",
    security(),
    request_body(content = ref("#/components/schemas/RegisterRequest"), content_type = "application/json", example = json!({"username": "ann_1", "email": "ann@example.com", "password": "correct horse", "displayName": "Ann"})),
    responses(
        (status = 201, description = "Registered and signed in.", body = ref("#/components/schemas/AuthAnswer"), content_type = "application/json", headers(("Set-Cookie" = String, description = "`ss_refresh=<token>; HttpOnly; SameSite=Strict; Path=/api/auth; Max-Age=2592000`,\nfollowed by `; Secure` when the server is configured for HTTPS or the\nrequest came with `X-Forwarded-Proto: https`."))),
        (status = 400, response = BadRequest),
        (status = 409, description = "`username_taken` or `email_taken`.", body = ref("#/components/schemas/Error"), content_type = "application/json", examples(("username_taken" = (value = json!({"error": {"code": "username_taken", "message": "That username is taken."}}))), ("email_taken" = (value = json!({"error": {"code": "email_taken", "message": "An account with that e-mail address exists."}}))))),
        (status = 413, response = PayloadTooLarge),
        (status = 415, response = UnsupportedMediaType),
        (status = 422, response = ValidationFailed),
        (status = 429, response = RateLimited),
        (status = 500, response = InternalError),
        (status = 503, response = DatabaseUnavailable)
    )
)]
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

/// Verify the e-mail address (follow the e-mailed link)
///
/// The web app's `/verify-email?token=...` page posts the link's token
/// here. The address is marked verified and, when the sign-up grant was
/// waiting for it (`grantPending`), the grant is given (today's cap
/// permitting) in the same transaction. A link works once, for 24 hours.
///
/// Errors: 422 `invalid_verification_token` (`field: token`): unknown,
/// used or expired; 503 `database_unavailable`.
#[utoipa::path(
    post,
    path = "/verify-email",
    tag = "auth",
    operation_id = "verifyEmail",
    security(),
    request_body(content = ref("#/components/schemas/VerifyEmailRequest"), content_type = "application/json"),
    responses(
        (status = 200, description = "Verified.", body = ref("#/components/schemas/VerifyEmailAnswer"), content_type = "application/json"),
        (status = 400, response = BadRequest),
        (status = 422, response = ValidationFailed),
        (status = 503, response = DatabaseUnavailable)
    )
)]
// Follows an e-mail verification link (the web app's `/verify-email` page
// posts its token here).
async fn verify_email(
    State(state): State<AppState>,
    ApiJson(body): ApiJson<VerifyBody>,
) -> Result<Json<Value>> {
    let user = signup::verify_email(&state, &body.token).await?;
    Ok(Json(json!({ "user": User::from(&user) })))
}

/// E-mail a new verification link
///
/// Three at once, then one per five minutes (429 `rate_limited`).
/// 409 `already_verified` when the address is verified.
#[utoipa::path(
    post,
    path = "/verify-email/resend",
    tag = "auth",
    operation_id = "resendVerification",
    responses(
        (status = 202, description = "A new link is on its way."),
        (status = 409, description = "`already_verified`.", body = ref("#/components/schemas/Error"), content_type = "application/json"),
        (status = 429, response = RateLimited),
        (status = 503, response = DatabaseUnavailable)
    )
)]
// Sends the signed-in user a new verification link.
async fn resend_verification(State(state): State<AppState>, user: AuthUser) -> Result<StatusCode> {
    signup::resend_verification(&state, user.id).await?;
    Ok(StatusCode::ACCEPTED)
}

#[derive(Deserialize)]
struct LoginBody {
    login: String,
    password: String,
}

/// Sign in
///
/// `login` is a username or an e-mail address. Any value with an `@` is
/// looked up as an e-mail address, case-insensitively. Anything else must
/// match a username exactly. A wrong login and a wrong password both give
/// the same 401 `invalid_credentials` and take the same time, so the
/// answer does not reveal which usernames exist. Every login starts a new
/// refresh-token family in the `ss_refresh` cookie. The caller's other
/// sessions are not affected.
///
/// Errors: 429 `rate_limited` (too many attempts for this account name
/// or address; `Retry-After` says when to try again);
/// 400 `malformed_json`; 401 `invalid_credentials`;
/// 413 `payload_too_large`; 415 `unsupported_media_type`;
/// 422 `validation_failed` (`login` or `password` missing or not a
/// string, or `body`); 503 `database_unavailable`.
#[utoipa::path(
    post,
    path = "/login",
    tag = "auth",
    operation_id = "login",
    security(),
    request_body(content = ref("#/components/schemas/LoginRequest"), content_type = "application/json", example = json!({"login": "ann_1", "password": "correct horse"})),
    responses(
        (status = 200, description = "Signed in.", body = ref("#/components/schemas/AuthAnswer"), content_type = "application/json", headers(("Set-Cookie" = String, description = "`ss_refresh=<token>; HttpOnly; SameSite=Strict; Path=/api/auth; Max-Age=2592000`,\nfollowed by `; Secure` when the server is configured for HTTPS or the\nrequest came with `X-Forwarded-Proto: https`."))),
        (status = 400, response = BadRequest),
        (status = 401, description = "`invalid_credentials`: no such user, or the wrong password.", body = ref("#/components/schemas/Error"), content_type = "application/json", example = json!({"error": {"code": "invalid_credentials", "message": "Wrong username, e-mail or password."}})),
        (status = 403, response = AccountSuspended),
        (status = 413, response = PayloadTooLarge),
        (status = 415, response = UnsupportedMediaType),
        (status = 422, response = ValidationFailed),
        (status = 429, response = RateLimited),
        (status = 500, response = InternalError),
        (status = 503, response = DatabaseUnavailable)
    )
)]
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

/// Get a new access token (rotates the refresh token)
///
/// Takes the `ss_refresh` cookie and no body. A valid refresh token (not
/// used yet, not revoked, not expired) is used up. The answer carries a
/// new access token, and a new refresh token of the same family replaces
/// the cookie. Each refresh token works only once.
///
/// **Reuse detection.** Suppose a token that was already rotated out is
/// presented again more than 10 seconds after its rotation. That is most
/// likely a stolen copy, so the server revokes the whole family: every
/// refresh token from the same original login stops working, including
/// the newest one, and that device must sign in again. A repeat within 10
/// seconds of the rotation is treated as two tabs racing. It gets a 401,
/// but the family is kept.
///
/// Errors: 401 `unauthorized`. This covers no cookie and a token that
/// is unknown, already used, revoked or expired. 401 `account_closed`:
/// the account no longer exists; 403 `account_suspended`.
/// 503 `database_unavailable`.
#[utoipa::path(
    post,
    path = "/refresh",
    tag = "auth",
    operation_id = "refresh",
    security(("refreshCookie" = [])),
    responses(
        (status = 200, description = "A new access token. The refresh cookie was rotated.", body = ref("#/components/schemas/AccessTokenAnswer"), content_type = "application/json", headers(("Set-Cookie" = String, description = "`ss_refresh=<token>; HttpOnly; SameSite=Strict; Path=/api/auth; Max-Age=2592000`,\nfollowed by `; Secure` when the server is configured for HTTPS or the\nrequest came with `X-Forwarded-Proto: https`."))),
        (status = 401, description = "`unauthorized`: no usable refresh token. Sign in again.", body = ref("#/components/schemas/Error"), content_type = "application/json", example = json!({"error": {"code": "unauthorized", "message": "The refresh token is no longer valid: sign in again."}})),
        (status = 500, response = InternalError),
        (status = 503, response = DatabaseUnavailable)
    )
)]
// Refresh: the presented token is used up and a new one of the same family
// is issued. Presenting a token that was already used (a stolen copy being
// replayed, most likely) revokes the whole family: every device signs in anew.
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

/// Sign out
///
/// Revokes the refresh-token family of the presented `ss_refresh` cookie
/// and clears the cookie (`Max-Age=0`). The answer is 204 even without a
/// cookie or with an unknown one. No access token is needed. The caller's
/// other sessions, which belong to other families, stay signed in.
/// Access tokens that were already issued stay valid until they expire
/// (at most 15 minutes).
#[utoipa::path(
    post,
    path = "/logout",
    tag = "auth",
    operation_id = "logout",
    security((), ("refreshCookie" = [])),
    responses(
        (status = 204, description = "Signed out. The cookie is cleared.", headers(("Set-Cookie" = String, description = "`ss_refresh=; HttpOnly; SameSite=Strict; Path=/api/auth; Max-Age=0` (plus `; Secure` over HTTPS)."))),
        (status = 500, response = InternalError),
        (status = 503, response = DatabaseUnavailable)
    )
)]
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
