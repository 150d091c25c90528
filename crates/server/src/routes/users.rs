//! `/api/users/*`: the caller's account, balance and view history.

use std::collections::HashMap;

use axum::extract::State;
use axum::{Json, Router, routing::get};
use mongodb::bson::doc;
use mongodb::bson::oid::ObjectId;
use serde_json::{Value, json};

use crate::auth::AuthUser;
use crate::error::Result;
use crate::extract::ApiQuery;
use crate::models::{User, UserDoc, ViewDoc, ViewEntry};
use crate::pagination::{ListPage, newest_first};
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/me", get(me))
        .route("/balance", get(balance))
        .route("/me/history", get(history))
        .route("/me/earnings", get(earnings))
        .route("/me/profile", axum::routing::put(put_profile))
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

async fn me(State(state): State<AppState>, user: AuthUser) -> Result<Json<User>> {
    Ok(Json(User::from(&load_user(&state, user.id).await?)))
}

async fn balance(State(state): State<AppState>, user: AuthUser) -> Result<Json<Value>> {
    let doc = load_user(&state, user.id).await?;
    Ok(Json(json!({ "coins": doc.coins })))
}

/// `GET /api/users/me/earnings?days=30`: see [`crate::earnings`].
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

/// View history, newest first.
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

/// `PUT /api/users/me/profile`: the caller's public page text; answers
/// `{schedule}` as stored (trimmed).
async fn put_profile(
    State(state): State<AppState>,
    user: AuthUser,
    crate::extract::ApiJson(body): crate::extract::ApiJson<ProfileBody>,
) -> Result<Json<Value>> {
    let schedule = crate::follows::set_schedule(&state, user.id, &body.schedule).await?;
    Ok(Json(json!({ "schedule": schedule })))
}
