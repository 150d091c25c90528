//! `/api/payouts`: a creator's payout requests (see [`crate::payouts`]).

use std::collections::HashMap;

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::{Json, Router, routing::get};
use mongodb::bson::oid::ObjectId;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::auth::AuthUser;
use crate::error::Result;
use crate::extract::{ApiJson, ApiQuery};
use crate::models::Payout;
use crate::pagination::{ListPage, finish_page, parse_limit};
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

#[derive(Serialize, Deserialize)]
struct IdPosition {
    id: ObjectId,
}

async fn list(
    State(state): State<AppState>,
    user: AuthUser,
    ApiQuery(query): ApiQuery<HashMap<String, String>>,
) -> Result<Json<ListPage<Payout>>> {
    let limit = parse_limit(query.get("limit").map(String::as_str))?;
    let before = match query.get("cursor") {
        Some(cursor) => Some(state.cursors.decode::<IdPosition>(cursor)?.id),
        None => None,
    };
    let rows = crate::payouts::list_for(&state.db, user.id, before, limit + 1).await?;
    Ok(Json(finish_page(
        rows,
        limit,
        &state.cursors,
        |p| json!(IdPosition { id: p.id }),
        |p| Payout::from(p),
    )))
}
