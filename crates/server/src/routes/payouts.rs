//! `/api/payouts`: a creator's payout requests (see [`crate::payouts`]).

use std::collections::HashMap;

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use mongodb::bson::doc;
use serde::Deserialize;
use serde_json::Value;

use crate::auth::AuthUser;
use crate::error::Result;
use crate::extract::{ApiJson, ApiQuery};
use crate::models::{Payout, PayoutDoc};
use crate::pagination::{ListPage, newest_first};
use crate::routes::docs::{
    IdempotencyKeyHeader, InvalidPageParameter, PageParams, ValidationFailed,
};
use crate::state::AppState;
use utoipa_axum::{router::OpenApiRouter, routes};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list, request))
}

#[derive(Deserialize)]
struct RequestBody {
    coins: Value,
}

/// Ask to cash earned coins out
///
/// Holds the coins at once (a `payout_hold` entry): they can be neither
/// spent nor requested twice. An admin settles the request with
/// `streamshare payouts approve|reject` (a rejection gives the coins
/// back: `payout_release`); the creator hears `payout:update`.
///
/// Errors: 401; 402 `insufficient_funds` (`balance`, `required`,
/// `payable`); 409 `payout_pending` (another request is open); 422
/// `validation_failed` (`coins` below `payoutMin`).
#[utoipa::path(
    post,
    path = "/",
    tag = "payouts",
    operation_id = "requestPayout",
    params(IdempotencyKeyHeader),
    request_body(content = ref("#/components/schemas/RequestPayoutRequest"), content_type = "application/json"),
    responses(
        (status = 201, description = "The request.", body = ref("#/components/schemas/Payout"), content_type = "application/json"),
        (status = 402, description = "`insufficient_funds`: more than is payable.", body = ref("#/components/schemas/Error"), content_type = "application/json"),
        (status = 409, description = "`payout_pending`.", body = ref("#/components/schemas/Error"), content_type = "application/json"),
        (status = 422, response = ValidationFailed)
    )
)]
async fn request(
    State(state): State<AppState>,
    user: AuthUser,
    headers: HeaderMap,
    ApiJson(body): ApiJson<RequestBody>,
) -> Result<(StatusCode, Json<Payout>)> {
    let payout = crate::payouts::request(&state, &user, &headers, &body.coins).await?;
    Ok((StatusCode::CREATED, Json(payout)))
}

/// The caller's payout requests
///
/// Newest first.
#[utoipa::path(
    get,
    path = "/",
    tag = "payouts",
    operation_id = "listPayouts",
    params(PageParams),
    responses(
        (status = 200, description = "A page of payouts.", body = ref("#/components/schemas/ListPayoutsAnswer"), content_type = "application/json"),
        (status = 422, response = InvalidPageParameter)
    )
)]
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
