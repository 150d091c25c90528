//! `/api/transactions/*`: the stream-join payment (one multi-document
//! transaction, idempotent), tips, and the caller's ledger history. Coins
//! move through [`crate::ledger`].

use std::collections::HashMap;

use axum::Json;
use axum::extract::State;
use axum::http::HeaderMap;
use mongodb::bson::doc;

use crate::auth::AuthUser;
use crate::error::{ApiError, Result};
use crate::extract::{ApiJson, ApiQuery};
use crate::models::{LEDGER_KINDS, Transaction, TxDoc};
use crate::pagination::{ListPage, newest_first};
use crate::routes::docs::{
    DatabaseUnavailable, IdempotencyKeyHeader, InternalError, PageParams, PayloadTooLarge,
    RateLimited, RoomNotFound, UnsupportedMediaType, ValidationFailed,
};
use crate::state::AppState;
use crate::stream_join::{StreamJoinAnswer, StreamJoinBody};
use utoipa_axum::{router::OpenApiRouter, routes};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_transactions))
        .routes(routes!(stream_join))
        .routes(routes!(tip))
}

/// Tip a room's creator
///
/// One transaction: the tipper's coins go to the creator (a `tip`
/// entry, with the message), the tip's chat message is stored, and the
/// answer is kept under the `Idempotency-Key`. Everyone in the room then
/// gets `chat:message` with `kind: "tip"` and `tip: {amount}`. The room
/// must be live and the tipper must have access to its session (free,
/// or paid). Rate-limited: 5 at once, then one per 2 s.
///
/// Errors: 400 `self_payment`; 401; 402 `insufficient_funds`
/// (`balance`, `required`); 403 `forbidden` (banned),
/// `payment_required`, or `timed_out` (a message while timed out of the
/// chat; a tip without a message goes through); 404 `room_not_found`; 409 `room_not_live`; 422
/// `validation_failed` (`amount`, `message`, `Idempotency-Key`),
/// `idempotency_key_reused`; 429 `rate_limited`.
#[utoipa::path(
    post,
    path = "/tip",
    tag = "transactions",
    operation_id = "tip",
    params(IdempotencyKeyHeader),
    request_body(content = ref("#/components/schemas/TipRequest"), content_type = "application/json"),
    responses(
        (status = 200, description = "The tip's ledger entry and the tipper's new balance.", body = ref("#/components/schemas/TipAnswer"), content_type = "application/json"),
        (status = 400, description = "`self_payment`.", body = ref("#/components/schemas/Error"), content_type = "application/json"),
        (status = 402, description = "`insufficient_funds` with `balance` and `required`.", body = ref("#/components/schemas/Error"), content_type = "application/json"),
        (status = 403, description = "`forbidden` (banned from the room), `payment_required` (not paid for this session) or `timed_out` (a message while timed out of the chat).", body = ref("#/components/schemas/Error"), content_type = "application/json"),
        (status = 404, response = RoomNotFound),
        (status = 409, description = "`room_not_live`.", body = ref("#/components/schemas/Error"), content_type = "application/json"),
        (status = 422, response = ValidationFailed),
        (status = 429, response = RateLimited)
    )
)]
// `POST /api/transactions/tip`: see [`crate::tips`].
async fn tip(
    State(state): State<AppState>,
    user: AuthUser,
    headers: HeaderMap,
    ApiJson(body): ApiJson<crate::tips::TipRequest>,
) -> Result<Json<crate::tips::TipAnswer>> {
    crate::tips::tip(&state, &user, &headers, body)
        .await
        .map(Json)
}

/// Pay to watch a room's current live session
///
/// The payment runs as one MongoDB multi-document transaction. It checks
/// the viewer's balance and takes the coins off it, adds them to the
/// creator, and writes the ledger entry (`stream_join`), the viewer's
/// access to this live session and, when an `Idempotency-Key` was sent,
/// the stored answer. Either all of it happens or none of it does.
/// Transient transaction errors are retried. The price is the server's:
/// `amount` must equal the room's current price.
///
/// Outcomes, checked in this order after authentication and body
/// parsing:
/// 1. 404 `room_not_found`. `roomId` is unknown or is not an ObjectId.
/// 2. 422 `creator_mismatch` (`field: "creatorId"`). `creatorId` is not
///    the room's creator.
/// 3. 400 `self_payment`. The caller is the room's creator; a creator
///    watches their own room free.
/// 4. 409 `room_not_live`. The room has no running live session. This
///    applies to free rooms too.
/// 5. 409 `publisher_away`. The creator's media is gone (the room's
///    `awayUntil` is set): nothing is sold until it is back. The body
///    carries `awayUntil` and `graceSecondsLeft`.
/// 6. 409 `price_mismatch`. `amount` is not the current price. The body
///    carries `price`.
/// 7. The room is free (price 0). The answer is 200 with
///    `transaction: null` and `alreadyPaid: false`, and no ledger entry
///    is written.
/// 8. The caller already paid for this session. The answer is 200 with
///    `transaction: null` and `alreadyPaid: true`, and nothing is
///    charged.
/// 9. 402 `insufficient_funds`. The body carries `balance` (the caller's
///    coins) and `required` (the price). Sign-up coins (`bonusCoins`) do
///    not count in the room of a creator who signed up from the caller's
///    network within `STREAMSHARE_SIGNUP_LINK_DAYS`; the body then also
///    carries `bonusCoinsExcluded`.
/// 10. Otherwise the payment goes through: 200 with the new
///    `Transaction`, `alreadyPaid: false`, and the caller's new
///    `balance`. The payer and the creator both get the Socket.IO event
///    `balance:update`.
///
/// Two concurrent payments for the same session charge only once.
///
/// **Idempotency-Key.** The key is optional, scoped to the caller (two
/// users may use the same key), and currently kept without expiry (the
/// contract promises at least 24 hours). Only a successful (200) answer
/// is stored, and it is written in the same transaction as the payment it
/// describes. A replay of the key with the same `roomId`, `creatorId`
/// and `amount` returns the first answer unchanged, including its
/// `balance` at that time, before any of the checks above. The same key
/// with a different body is 422 `idempotency_key_reused`
/// (`field: "Idempotency-Key"`). A request that failed stored nothing, so
/// retrying it with the same key runs the checks again.
///
/// Other errors: 400 `malformed_json`; 401 `unauthorized` /
/// `token_expired`; 413 `payload_too_large`; 415 `unsupported_media_type`;
/// 422 `validation_failed`. `field` is `creatorId` or `roomId` (missing
/// or not a string), `amount` (missing or not a whole number),
/// `Idempotency-Key` (not 1–255 visible ASCII characters) or `body`.
/// 503 `database_unavailable`.
#[utoipa::path(
    post,
    path = "/stream-join",
    tag = "transactions",
    operation_id = "streamJoin",
    params(IdempotencyKeyHeader),
    request_body(content = ref("#/components/schemas/StreamJoinRequest"), content_type = "application/json", example = json!({"creatorId": "665f1c2ab1e4d3a9c8f01234", "roomId": "665f1c5eb1e4d3a9c8f01240", "amount": 30})),
    responses(
        (status = 200, description = "Paid, already paid, or free.", body = ref("#/components/schemas/StreamJoinAnswer"), content_type = "application/json", examples(("paid" = (summary = "A new payment", value = json!({"transaction": {"id": "665f1d10b1e4d3a9c8f01250", "kind": "stream_join", "fromUserId": "665f1c80b1e4d3a9c8f01244", "toUserId": "665f1c2ab1e4d3a9c8f01234", "roomId": "665f1c5eb1e4d3a9c8f01240", "roomTitle": "Late-night synthwave", "liveSessionId": "665f1cf0b1e4d3a9c8f0124c", "amount": 30, "createdAt": "2024-06-04T13:37:20.512Z"}, "balance": 70, "alreadyPaid": false}))), ("alreadyPaid" = (summary = "This session was paid for already", value = json!({"transaction": null, "balance": 70, "alreadyPaid": true}))), ("free" = (summary = "A free room", value = json!({"transaction": null, "balance": 100, "alreadyPaid": false}))))),
        (status = 400, description = "`self_payment` (the caller is the room's creator), or `malformed_json` / `bad_request` (the body could not be read).", body = ref("#/components/schemas/Error"), content_type = "application/json", examples(("self_payment" = (value = json!({"error": {"code": "self_payment", "message": "You watch your own room for free."}}))), ("malformed_json" = (value = json!({"error": {"code": "malformed_json", "message": "The body is not valid JSON: expected value at line 1 column 1"}}))))),
        (status = 402, description = "`insufficient_funds`, with `balance` (the caller's coins) and `required` (the price).", body = ref("#/components/schemas/Error"), content_type = "application/json", example = json!({"error": {"code": "insufficient_funds", "message": "You need 10 more coins to enter this room.", "balance": 20, "required": 30}})),
        (status = 404, response = RoomNotFound),
        (status = 409, description = "`room_not_live`, or `price_mismatch` with the current `price`.", body = ref("#/components/schemas/Error"), content_type = "application/json", examples(("room_not_live" = (value = json!({"error": {"code": "room_not_live", "message": "This room is not live now."}}))), ("price_mismatch" = (value = json!({"error": {"code": "price_mismatch", "message": "The price is now 50 coins.", "price": 50}}))))),
        (status = 413, response = PayloadTooLarge),
        (status = 415, response = UnsupportedMediaType),
        (status = 422, description = "`creator_mismatch` (`field: \"creatorId\"`); `idempotency_key_reused`\n(`field: \"Idempotency-Key\"`); or `validation_failed` (`field`:\n`creatorId`, `roomId`, `amount`, `Idempotency-Key` or `body`).", body = ref("#/components/schemas/Error"), content_type = "application/json", examples(("creator_mismatch" = (value = json!({"error": {"code": "creator_mismatch", "message": "creatorId is not this room's creator.", "field": "creatorId"}}))), ("idempotency_key_reused" = (value = json!({"error": {"code": "idempotency_key_reused", "message": "This Idempotency-Key was used for a different request.", "field": "Idempotency-Key"}}))), ("validation_failed" = (value = json!({"error": {"code": "validation_failed", "message": "amount is a whole number of coins.", "field": "amount"}}))))),
        (status = 500, response = InternalError),
        (status = 503, response = DatabaseUnavailable)
    )
)]
// Pays for the room's current live session. Checks in the contract's order,
// then debits the viewer (the balance check is in the update's filter),
// credits the creator, writes the ledger entry, the access record and the
// idempotent answer: all in one transaction.
#[tracing::instrument(skip_all, fields(user_id = %user.id, room_id = %body.room_id))]
async fn stream_join(
    State(state): State<AppState>,
    user: AuthUser,
    headers: HeaderMap,
    ApiJson(body): ApiJson<StreamJoinBody>,
) -> Result<Json<StreamJoinAnswer>> {
    let result = crate::stream_join::pay(&state, &user, &headers, body).await;
    state.metrics.payment(match &result {
        Ok(answer) if answer.transaction.is_some() => "paid",
        Ok(answer) if answer.already_paid => "already_paid",
        Ok(_) => "free",
        Err(err) => err.code(),
    });
    result.map(Json)
}

/// The caller's ledger
///
/// Returns ledger entries in which the caller paid (`fromUserId`) or was
/// paid (`toUserId`), newest first. This includes the caller's `grant`
/// entries. Filters combine with AND. An empty `kind` is the same as
/// leaving it out.
///
/// Errors: 401 `unauthorized` / `token_expired`; 422 `validation_failed`
/// (`field`: `kind`, `roomId`, `liveSessionId`, `limit` or `cursor`);
/// 503 `database_unavailable`.
#[utoipa::path(
    get,
    path = "/",
    tag = "transactions",
    operation_id = "listTransactions",
    params(PageParams, ("kind" = Option<String>, Query, description = "Only entries of this kind. Any other value is 422 naming `kind`."), ("roomId" = Option<String>, Query, description = "Only entries for this room. A value that is not an id is 422 naming `roomId`."), ("liveSessionId" = Option<String>, Query, description = "Only entries for this live session. A value that is not an id is 422 naming `liveSessionId`.")),
    responses(
        (status = 200, description = "A page of ledger entries.", body = ref("#/components/schemas/TransactionPage"), content_type = "application/json"),
        (status = 422, response = ValidationFailed),
        (status = 500, response = InternalError),
        (status = 503, response = DatabaseUnavailable)
    )
)]
// The caller's ledger, newest first: entries they paid or were paid.
// Filters: `kind`, `roomId`, `liveSessionId`.
async fn list_transactions(
    State(state): State<AppState>,
    user: AuthUser,
    ApiQuery(query): ApiQuery<HashMap<String, String>>,
) -> Result<Json<ListPage<Transaction>>> {
    let mut filter = doc! { "$or": [ { "fromUserId": user.id }, { "toUserId": user.id } ] };
    match query.get("kind").map(|k| k.trim()) {
        None | Some("") => {}
        Some(kind) if LEDGER_KINDS.contains(&kind) => {
            filter.insert("kind", kind);
        }
        Some(_) => {
            return Err(ApiError::invalid(
                "kind",
                format!("kind is one of {}.", LEDGER_KINDS.join(", ")),
            ));
        }
    }
    for field in ["roomId", "liveSessionId"] {
        if let Some(raw) = query.get(field) {
            let id = crate::ids::filter_id(raw, field)?;
            filter.insert(field, id);
        }
    }
    let page = newest_first(
        state.db.transactions(),
        filter,
        &query,
        &state.cursors,
        |t: &TxDoc| t.id,
        |t: &TxDoc| Transaction::from(t),
    )
    .await?;
    Ok(Json(page))
}
