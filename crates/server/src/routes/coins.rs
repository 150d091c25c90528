//! `/api/coins/*`: coin packs, checkout, the caller's purchases and the
//! test provider's confirm/cancel. The work is in [`crate::purchases`].

use std::collections::HashMap;

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use mongodb::bson::doc;
use serde::Deserialize;
use serde_json::Value;

use crate::auth::AuthUser;
use crate::error::Result;
use crate::extract::{ApiJson, ApiPath, ApiQuery};
use crate::models::{Purchase, PurchaseDoc};
use crate::pagination::{ListPage, newest_first};
use crate::purchases::{self, CheckoutAnswer};
use crate::routes::docs::{
    DatabaseUnavailable, IdempotencyKeyHeader, InvalidPageParameter, PageParams, ValidationFailed,
};
use crate::state::AppState;
use utoipa_axum::{router::OpenApiRouter, routes};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(packs))
        .routes(routes!(checkout))
        .routes(routes!(list))
        .routes(routes!(one))
        .routes(routes!(test_confirm))
        .routes(routes!(test_cancel))
}

/// The coin packs on sale
///
/// The packs of `STREAMSHARE_COIN_PACKS` and the payment provider:
/// `stripe`, `test` (the labelled test provider; test money) or `null`
/// (purchases are not set up on this server). No sign-in needed.
#[utoipa::path(
    get,
    path = "/packs",
    tag = "coins",
    operation_id = "listCoinPacks",
    security(),
    responses(
        (status = 200, description = "The packs.", body = ref("#/components/schemas/ListCoinPacksAnswer"), content_type = "application/json", example = json!({"items": [{"id": "small", "coins": 100, "price": 199, "currency": "usd"}], "provider": "stripe"}))
    )
)]
async fn packs(State(state): State<AppState>) -> Json<Value> {
    Json(purchases::packs(&state))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CheckoutBody {
    pack_id: String,
}

/// Start buying a pack
///
/// Creates a `pending` purchase and the provider's checkout: a Stripe
/// Checkout Session (`client_reference_id` and `metadata.purchase_id` =
/// the purchase id; Stripe's `Idempotency-Key` = the purchase id), or the
/// test provider's page `{publicUrl}/wallet/test-checkout/{id}`. The
/// coins are credited when the provider says the purchase was paid (the
/// webhook, or the test provider's confirm). The same `Idempotency-Key`
/// answers the same purchase.
///
/// Errors: 401; 422 `validation_failed` (`packId`, or
/// `Idempotency-Key`), `idempotency_key_reused`; 502
/// `payment_provider_error` (Stripe refused or is unreachable; without a
/// key the purchase ends `expired`); 503 `payments_not_configured`.
#[utoipa::path(
    post,
    path = "/checkout",
    tag = "coins",
    operation_id = "startCheckout",
    params(IdempotencyKeyHeader),
    request_body(content = ref("#/components/schemas/StartCheckoutRequest"), content_type = "application/json"),
    responses(
        (status = 201, description = "The pending purchase and where to pay.", body = ref("#/components/schemas/StartCheckoutAnswer"), content_type = "application/json"),
        (status = 422, response = ValidationFailed),
        (status = 502, description = "`payment_provider_error`: the provider could not start the checkout.", body = ref("#/components/schemas/Error"), content_type = "application/json"),
        (status = 503, description = "`payments_not_configured` (no provider on this server) or `database_unavailable`.", body = ref("#/components/schemas/Error"), content_type = "application/json")
    )
)]
async fn checkout(
    State(state): State<AppState>,
    user: AuthUser,
    headers: HeaderMap,
    ApiJson(body): ApiJson<CheckoutBody>,
) -> Result<(StatusCode, Json<CheckoutAnswer>)> {
    let answer = purchases::checkout(&state, &user, &headers, &body.pack_id).await?;
    Ok((StatusCode::CREATED, Json(answer)))
}

/// The caller's purchases
///
/// Newest first.
#[utoipa::path(
    get,
    path = "/purchases",
    tag = "coins",
    operation_id = "listPurchases",
    params(PageParams),
    responses(
        (status = 200, description = "A page of purchases.", body = ref("#/components/schemas/ListPurchasesAnswer"), content_type = "application/json"),
        (status = 422, response = InvalidPageParameter),
        (status = 503, response = DatabaseUnavailable)
    )
)]
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

/// One of the caller's purchases
///
/// Errors: 401; 404 `purchase_not_found` (no such purchase, or someone else's).
#[utoipa::path(
    get,
    path = "/purchases/{id}",
    tag = "coins",
    operation_id = "getPurchase",
    params(("id" = String, Path)),
    responses(
        (status = 200, description = "The purchase.", body = ref("#/components/schemas/Purchase"), content_type = "application/json"),
        (status = 404, description = "`purchase_not_found`.", body = ref("#/components/schemas/Error"), content_type = "application/json")
    )
)]
async fn one(
    State(state): State<AppState>,
    user: AuthUser,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<Purchase>> {
    let purchase = purchases::get(&state, user.id, &id).await?;
    Ok(Json(Purchase::from(&purchase)))
}

/// Pay a purchase with the test provider (test money)
///
/// Only while the server runs the labelled test provider
/// (`STREAMSHARE_TEST_PAYMENTS`, never with Stripe configured): credits
/// the purchase exactly like a paid Stripe checkout, marked `test`.
/// Confirming again changes nothing.
///
/// Errors: 401; 404 `not_found` (no test provider) or
/// `purchase_not_found`; 409 `purchase_expired` (it was cancelled).
#[utoipa::path(
    post,
    path = "/purchases/{id}/test-confirm",
    tag = "coins",
    operation_id = "confirmTestPurchase",
    params(("id" = String, Path)),
    responses(
        (status = 200, description = "The paid purchase and the new balance.", body = ref("#/components/schemas/ConfirmTestPurchaseAnswer"), content_type = "application/json"),
        (status = 404, description = "`not_found` (the test provider is off) or `purchase_not_found`.", body = ref("#/components/schemas/Error"), content_type = "application/json"),
        (status = 409, description = "`purchase_expired`.", body = ref("#/components/schemas/Error"), content_type = "application/json")
    )
)]
async fn test_confirm(
    State(state): State<AppState>,
    user: AuthUser,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<Value>> {
    purchases::test_confirm(&state, user.id, &id)
        .await
        .map(Json)
}

/// Cancel a test provider purchase
///
/// Only with the test provider: a pending purchase ends `expired`.
/// Errors: 401; 404 as for test-confirm; 409 `purchase_paid`.
#[utoipa::path(
    post,
    path = "/purchases/{id}/test-cancel",
    tag = "coins",
    operation_id = "cancelTestPurchase",
    params(("id" = String, Path)),
    responses(
        (status = 200, description = "The expired purchase.", body = ref("#/components/schemas/CancelTestPurchaseAnswer"), content_type = "application/json"),
        (status = 404, description = "`not_found` or `purchase_not_found`.", body = ref("#/components/schemas/Error"), content_type = "application/json"),
        (status = 409, description = "`purchase_paid`.", body = ref("#/components/schemas/Error"), content_type = "application/json")
    )
)]
async fn test_cancel(
    State(state): State<AppState>,
    user: AuthUser,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<Value>> {
    purchases::test_cancel(&state, user.id, &id).await.map(Json)
}
