//! `/api/transactions/*`: the stream-join payment (one multi-document
//! transaction, idempotent), tips, and the caller's ledger history. Coins
//! move through [`crate::ledger`].

use std::collections::HashMap;

use axum::extract::State;
use axum::http::HeaderMap;
use axum::{Json, Router, routing::get, routing::post};
use mongodb::bson::doc;

use crate::auth::AuthUser;
use crate::error::{ApiError, Result};
use crate::extract::{ApiJson, ApiQuery};
use crate::models::{LEDGER_KINDS, Transaction, TxDoc};
use crate::pagination::{ListPage, newest_first};
use crate::state::AppState;
use crate::stream_join::{StreamJoinAnswer, StreamJoinBody};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(list_transactions))
        .route("/stream-join", post(stream_join))
        .route("/tip", post(tip))
}

/// `POST /api/transactions/tip`: see [`crate::tips`].
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

/// Pays for the room's current live session. Checks in the contract's order,
/// then debits the viewer (the balance check is in the update's filter),
/// credits the creator, writes the ledger entry, the access record and the
/// idempotent answer: all in one transaction.
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

/// The caller's ledger, newest first: entries they paid or were paid.
/// Filters: `kind`, `roomId`, `liveSessionId`.
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
