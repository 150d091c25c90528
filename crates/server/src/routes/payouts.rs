//! `/api/payouts`: a creator's payout requests (see [`crate::payouts`]).

use std::collections::HashMap;

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::{Json, Router, routing::get};
use mongodb::bson::doc;
use serde::Deserialize;
use serde_json::Value;

use crate::auth::AuthUser;
use crate::error::Result;
use crate::extract::{ApiJson, ApiQuery};
use crate::models::{Payout, PayoutDoc};
use crate::pagination::{ListPage, newest_first};
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new().route("/", get(list).post(request))
}

#[derive(Deserialize)]
struct RequestBody {
    coins: Value,
}

async fn request(
    State(state): State<AppState>,
    user: AuthUser,
    headers: HeaderMap,
    ApiJson(body): ApiJson<RequestBody>,
) -> Result<(StatusCode, Json<Payout>)> {
    let payout = crate::payouts::request(&state, &user, &headers, &body.coins).await?;
    Ok((StatusCode::CREATED, Json(payout)))
}

async fn list(
    State(state): State<AppState>,
    user: AuthUser,
    ApiQuery(query): ApiQuery<HashMap<String, String>>,
) -> Result<Json<ListPage<Payout>>> {
    let page = newest_first(
        state.db.payouts(),
        doc! { "userId": user.id },
        &query,
        &state.cursors,
        |p: &PayoutDoc| p.id,
        |p: &PayoutDoc| Payout::from(p),
    )
    .await?;
    Ok(Json(page))
}
