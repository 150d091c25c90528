//! `/api/coins/*`: coin packs, checkout, the caller's purchases and the
//! test provider's confirm/cancel. The work is in [`crate::purchases`].

use std::collections::HashMap;

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::{Json, Router, routing::get, routing::post};
use mongodb::bson::doc;
use serde::Deserialize;
use serde_json::Value;

use crate::auth::AuthUser;
use crate::error::Result;
use crate::extract::{ApiJson, ApiPath, ApiQuery};
use crate::models::{Purchase, PurchaseDoc};
use crate::pagination::{ListPage, newest_first};
use crate::purchases::{self, CheckoutAnswer};
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/packs", get(packs))
        .route("/checkout", post(checkout))
        .route("/purchases", get(list))
        .route("/purchases/{id}", get(one))
        .route("/purchases/{id}/test-confirm", post(test_confirm))
        .route("/purchases/{id}/test-cancel", post(test_cancel))
}

async fn packs(State(state): State<AppState>) -> Json<Value> {
    Json(purchases::packs(&state))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CheckoutBody {
    pack_id: String,
}

async fn checkout(
    State(state): State<AppState>,
    user: AuthUser,
    headers: HeaderMap,
    ApiJson(body): ApiJson<CheckoutBody>,
) -> Result<(StatusCode, Json<CheckoutAnswer>)> {
    let answer = purchases::checkout(&state, &user, &headers, &body.pack_id).await?;
    Ok((StatusCode::CREATED, Json(answer)))
}

async fn list(
    State(state): State<AppState>,
    user: AuthUser,
    ApiQuery(query): ApiQuery<HashMap<String, String>>,
) -> Result<Json<ListPage<Purchase>>> {
    let page = newest_first(
        state.db.purchases(),
        doc! { "userId": user.id },
        &query,
        &state.cursors,
        |p: &PurchaseDoc| p.id,
        |p: &PurchaseDoc| Purchase::from(p),
    )
    .await?;
    Ok(Json(page))
}

async fn one(
    State(state): State<AppState>,
    user: AuthUser,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<Purchase>> {
    let purchase = purchases::get(&state, user.id, &id).await?;
    Ok(Json(Purchase::from(&purchase)))
}

async fn test_confirm(
    State(state): State<AppState>,
    user: AuthUser,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<Value>> {
    purchases::test_confirm(&state, user.id, &id)
        .await
        .map(Json)
}

async fn test_cancel(
    State(state): State<AppState>,
    user: AuthUser,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<Value>> {
    purchases::test_cancel(&state, user.id, &id).await.map(Json)
}
