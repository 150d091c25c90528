//! `/api/users/*`: the caller's account, balance and view history.

use std::collections::HashMap;

use axum::Json;
use axum::extract::State;
use mongodb::bson::doc;
use mongodb::bson::oid::ObjectId;
use serde_json::{Value, json};

use crate::auth::AuthUser;
use crate::error::Result;
use crate::extract::ApiQuery;
use crate::models::{User, UserDoc, ViewDoc, ViewEntry};
use crate::pagination::{ListPage, newest_first};
use crate::routes::docs::{
    BadRequest, DatabaseUnavailable, InternalError, InvalidPageParameter, PageParams,
    ValidationFailed,
};
use crate::state::AppState;
use utoipa_axum::{router::OpenApiRouter, routes};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(me))
        .routes(routes!(balance))
        .routes(routes!(history))
        .routes(routes!(earnings))
        .routes(routes!(put_profile))
}

/// The caller's account document; a token for a deleted account is a 401.
pub async fn load_user(state: &AppState, id: ObjectId) -> Result<UserDoc> {
    state
        .db
        .users()
        .find_one(doc! { "_id": id })
        .await?
        .ok_or_else(crate::accounts::account_closed)
}

/// The caller's account
///
/// Errors: 401 `unauthorized` / `token_expired` (also when the token's
/// account no longer exists); 503 `database_unavailable`.
#[utoipa::path(
    get,
    path = "/me",
    tag = "users",
    operation_id = "getMe",
    responses(
        (status = 200, description = "The caller.", body = ref("#/components/schemas/User"), content_type = "application/json"),
        (status = 500, response = InternalError),
        (status = 503, response = DatabaseUnavailable)
    )
)]
async fn me(State(state): State<AppState>, user: AuthUser) -> Result<Json<User>> {
    Ok(Json(User::from(&load_user(&state, user.id).await?)))
}

/// The caller's coin balance
///
/// Errors: 401 `unauthorized` / `token_expired`; 503 `database_unavailable`.
#[utoipa::path(
    get,
    path = "/balance",
    tag = "users",
    operation_id = "getBalance",
    responses(
        (status = 200, description = "The balance.", body = ref("#/components/schemas/Balance"), content_type = "application/json", example = json!({"coins": 70})),
        (status = 500, response = InternalError),
        (status = 503, response = DatabaseUnavailable)
    )
)]
async fn balance(State(state): State<AppState>, user: AuthUser) -> Result<Json<Value>> {
    let doc = load_user(&state, user.id).await?;
    Ok(Json(json!({ "coins": doc.coins })))
}

/// The caller's earnings by day and source, and what is payable
///
/// Coins received for stream joins and tips (`private`: private sessions,
/// later) per UTC day over the last `days` days (oldest first, every
/// day), their totals, and the payout standing: `payable` = earned coins
/// (joins and tips received, less the sign-up coins viewers spent on
/// them and less refunded joins) − `paidOut` − `held`, never above the
/// balance. Bought and granted coins are never payable.
#[utoipa::path(
    get,
    path = "/me/earnings",
    tag = "payouts",
    operation_id = "getEarnings",
    params(("days" = Option<i64>, Query)),
    responses(
        (status = 200, description = "The earnings.", body = ref("#/components/schemas/Earnings"), content_type = "application/json"),
        (status = 422, response = ValidationFailed)
    )
)]
// `GET /api/users/me/earnings?days=30`: see [`crate::earnings`].
async fn earnings(
    State(state): State<AppState>,
    user: AuthUser,
    ApiQuery(query): ApiQuery<HashMap<String, String>>,
) -> Result<Json<crate::earnings::Earnings>> {
    let days = match query.get("days").map(|d| d.trim()) {
        None | Some("") => 30,
        Some(raw) => raw.parse::<i64>().map_err(|_| {
            crate::error::ApiError::invalid("days", "days is a whole number from 1 to 366.")
        })?,
    };
    crate::earnings::earnings(&state.db, user.id, days, state.settings.payout_min)
        .await
        .map(Json)
}

/// The caller's view history
///
/// Returns the caller's stays in rooms, newest first. Each stay runs from
/// joining a room over Socket.IO (`room:join`) to leaving it. The
/// real-time layer writes these entries. `leftAt` is `null` while the
/// stay goes on.
///
/// Errors: 401 `unauthorized` / `token_expired`; 422 `validation_failed`
/// (`field`: `limit` or `cursor`); 503 `database_unavailable`.
#[utoipa::path(
    get,
    path = "/me/history",
    tag = "users",
    operation_id = "getViewHistory",
    params(PageParams),
    responses(
        (status = 200, description = "A page of view-history entries.", body = ref("#/components/schemas/ViewEntryPage"), content_type = "application/json"),
        (status = 422, response = InvalidPageParameter),
        (status = 500, response = InternalError),
        (status = 503, response = DatabaseUnavailable)
    )
)]
// View history, newest first.
async fn history(
    State(state): State<AppState>,
    user: AuthUser,
    ApiQuery(query): ApiQuery<HashMap<String, String>>,
) -> Result<Json<ListPage<ViewEntry>>> {
    let page = newest_first(
        state.db.views(),
        doc! { "userId": user.id },
        &query,
        &state.cursors,
        |v: &ViewDoc| v.id,
        |v: &ViewDoc| ViewEntry::from(v),
    )
    .await?;
    Ok(Json(page))
}

#[derive(serde::Deserialize)]
struct ProfileBody {
    /// When the creator usually streams (free text, at most 500 characters).
    schedule: String,
}

/// Set the caller's public page text (schedule)
///
/// `schedule` is free text (at most 500 characters, trimmed; empty
/// clears it), shown on `/u/{username}`.
///
/// Errors: 400 `malformed_json`; 401; 422 `validation_failed`
/// (`schedule`).
#[utoipa::path(
    put,
    path = "/me/profile",
    tag = "community",
    operation_id = "putMyProfile",
    request_body(content = ref("#/components/schemas/PutMyProfileRequest"), content_type = "application/json", example = json!({"schedule": "Weeknights 8–11 pm CET"})),
    responses(
        (status = 200, description = "The schedule as stored.", body = ref("#/components/schemas/PutMyProfileAnswer"), content_type = "application/json"),
        (status = 400, response = BadRequest),
        (status = 422, response = ValidationFailed)
    )
)]
// `PUT /api/users/me/profile`: the caller's public page text; answers
// `{schedule}` as stored (trimmed).
async fn put_profile(
    State(state): State<AppState>,
    user: AuthUser,
    crate::extract::ApiJson(body): crate::extract::ApiJson<ProfileBody>,
) -> Result<Json<Value>> {
    let schedule = crate::follows::set_schedule(&state, user.id, &body.schedule).await?;
    Ok(Json(json!({ "schedule": schedule })))
}
