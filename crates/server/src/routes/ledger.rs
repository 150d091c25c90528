//! `/api/transactions/*`: the stream-join payment (one multi-document
//! transaction, idempotent) and the caller's ledger history. Also the admin
//! coin grant used by the `streamshare grant` command.

use std::collections::HashMap;

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::{Json, Router, routing::get, routing::post};
use futures::TryStreamExt;
use mongodb::bson::oid::ObjectId;
use mongodb::bson::{DateTime, doc};
use mongodb::options::ReturnDocument;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::accounts::Standing;
use crate::auth::AuthUser;
use crate::db::Db;
use crate::error::{ApiError, Result, duplicate_key_index};
use crate::extract::{ApiJson, ApiQuery};
use crate::models::{
    AccessDoc, IdempotencyDoc, KIND_GRANT, KIND_REFUND, KIND_STREAM_JOIN, Transaction, TxDoc,
};
use crate::pagination::{ListPage, finish_page, parse_limit};
use crate::routes::rooms::room_not_found;
use crate::signup;
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(list_transactions))
        .route("/stream-join", post(stream_join))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct StreamJoinBody {
    creator_id: String,
    room_id: String,
    amount: Value,
}

/// The answer to a stream-join, as stored for idempotent replays.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StreamJoinAnswer {
    pub transaction: Option<Transaction>,
    pub balance: i64,
    pub already_paid: bool,
}

fn idempotency_key(headers: &HeaderMap) -> Result<Option<String>> {
    let Some(raw) = headers.get("idempotency-key") else {
        return Ok(None);
    };
    let key = raw.to_str().unwrap_or("").trim();
    if key.is_empty() || key.len() > 255 || !key.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(ApiError::invalid(
            "Idempotency-Key",
            "Idempotency-Key is 1 to 255 visible ASCII characters.",
        ));
    }
    Ok(Some(key.to_owned()))
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
    let result = pay(&state, &user, &headers, body).await;
    state.metrics.payment(match &result {
        Ok(answer) if answer.transaction.is_some() => "paid",
        Ok(answer) if answer.already_paid => "already_paid",
        Ok(_) => "free",
        Err(err) => err.code(),
    });
    result.map(Json)
}

async fn pay(
    state: &AppState,
    user: &AuthUser,
    headers: &HeaderMap,
    body: StreamJoinBody,
) -> Result<StreamJoinAnswer> {
    let amount = body
        .amount
        .as_i64()
        .ok_or_else(|| ApiError::invalid("amount", "amount is a whole number of coins."))?;
    let key = idempotency_key(headers)?;
    let room_id = ObjectId::parse_str(body.room_id.trim()).map_err(|_| room_not_found())?;
    let creator_id = ObjectId::parse_str(body.creator_id.trim()).ok();
    let request_hash = {
        let canonical = format!("{}|{}|{}", room_id.to_hex(), body.creator_id.trim(), amount);
        let digest = Sha256::digest(canonical.as_bytes());
        digest
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<String>()
    };

    let db = &state.db;
    let (answer, charged) = crate::transaction!(db, |s| {
        if let Some(key) = &key
            && let Some(saved) = db
                .idempotency()
                .find_one(doc! { "userId": user.id, "key": key })
                .session(&mut *s)
                .await?
        {
            if saved.request_hash != request_hash {
                return Err(ApiError::invalid(
                    "Idempotency-Key",
                    "This Idempotency-Key was used for a different request.",
                )
                .with_code("idempotency_key_reused"));
            }
            let answer: StreamJoinAnswer =
                mongodb::bson::from_document(saved.response).map_err(ApiError::internal)?;
            return Ok((answer, None));
        }

        let room = db
            .rooms()
            .find_one(doc! { "_id": room_id })
            .session(&mut *s)
            .await?
            .ok_or_else(room_not_found)?;
        // A room whose creator is gone (deleted, suspended) sells nothing.
        let creator = db
            .users()
            .find_one(doc! { "_id": room.creator_id })
            .session(&mut *s)
            .await?
            .filter(|c| Standing::of(c) == Standing::Active)
            .ok_or_else(room_not_found)?;
        if creator_id != Some(room.creator_id) {
            return Err(
                ApiError::invalid("creatorId", "creatorId is not this room's creator.")
                    .with_code("creator_mismatch"),
            );
        }
        if room.creator_id == user.id {
            return Err(ApiError::bad_request(
                "self_payment",
                "You watch your own room for free.",
            ));
        }
        let session_id = match room.live_session_id {
            Some(id) if room.is_live() => id,
            _ => {
                return Err(ApiError::conflict(
                    "room_not_live",
                    "This room is not live now.",
                ));
            }
        };
        // Nothing is sold while the creator's media is gone.
        if let Some(until) = room.away_until {
            let left = (until.timestamp_millis() - DateTime::now().timestamp_millis()).max(0);
            return Err(ApiError::conflict(
                "publisher_away",
                "The creator is reconnecting; you can pay when the picture is back.",
            )
            .with("awayUntil", crate::models::rfc3339(until))
            .with("graceSecondsLeft", (left + 999) / 1000));
        }
        if amount != room.price {
            return Err(ApiError::conflict(
                "price_mismatch",
                format!("The price is now {} coins.", room.price),
            )
            .with("price", room.price));
        }

        let already_paid = room.price > 0
            && db
                .access()
                .find_one(doc! { "viewerId": user.id, "liveSessionId": session_id })
                .session(&mut *s)
                .await?
                .is_some();
        let (answer, charged) = if room.price == 0 || already_paid {
            let viewer = db
                .users()
                .find_one(doc! { "_id": user.id })
                .session(&mut *s)
                .await?
                .ok_or_else(crate::accounts::account_closed)?;
            let answer = StreamJoinAnswer {
                transaction: None,
                balance: viewer.coins,
                already_paid,
            };
            (answer, None)
        } else {
            let viewer = db
                .users()
                .find_one(doc! { "_id": user.id })
                .session(&mut *s)
                .await?
                .ok_or_else(crate::accounts::account_closed)?;
            // Sign-up coins are spent first, except in a room of a creator
            // who signed up from the viewer's network: there they do not
            // count (puppet accounts cannot pay their maker).
            let linked = signup::linked(&viewer, &creator, &state.settings);
            let spendable = if linked {
                viewer.coins - viewer.bonus_coins
            } else {
                viewer.coins
            };
            if spendable < room.price {
                let mut refusal = ApiError::refused(
                    StatusCode::PAYMENT_REQUIRED,
                    "insufficient_funds",
                    format!(
                        "You need {} more coins to enter this room.",
                        room.price - spendable
                    ),
                )
                .with("balance", viewer.coins)
                .with("required", room.price);
                if linked && viewer.bonus_coins > 0 {
                    refusal = refusal.with("bonusCoinsExcluded", viewer.bonus_coins);
                }
                return Err(refusal);
            }
            let bonus_spent = if linked {
                0
            } else {
                viewer.bonus_coins.clamp(0, room.price)
            };
            // The filter holds the balance read above: a concurrent change
            // makes this match nothing, and the transaction runs again.
            let debited = db
                .users()
                .update_one(
                    doc! { "_id": user.id, "coins": viewer.coins },
                    doc! { "$inc": { "coins": -room.price, "bonusCoins": -bonus_spent } },
                )
                .session(&mut *s)
                .await?;
            if debited.matched_count != 1 {
                return Err(ApiError::Retry);
            }
            let credited = db
                .users()
                .update_one(
                    doc! { "_id": room.creator_id },
                    doc! { "$inc": { "coins": room.price } },
                )
                .session(&mut *s)
                .await?;
            if credited.matched_count != 1 {
                return Err(room_not_found());
            }
            let now = DateTime::now();
            let tx = TxDoc {
                id: ObjectId::new(),
                kind: KIND_STREAM_JOIN.into(),
                from_user_id: Some(user.id),
                to_user_id: room.creator_id,
                room_id: Some(room.id),
                room_title: Some(room.title.clone()),
                live_session_id: Some(session_id),
                amount: room.price,
                created_at: now,
                bonus_coins: bonus_spent,
                refund_of: None,
            };
            db.transactions().insert_one(&tx).session(&mut *s).await?;
            let access = AccessDoc {
                id: ObjectId::new(),
                viewer_id: user.id,
                room_id: room.id,
                live_session_id: session_id,
                transaction_id: tx.id,
                created_at: now,
                media_at: None,
                refunded_at: None,
            };
            // A concurrent payment for the same session that committed
            // first makes this a duplicate: run again and find it paid.
            db.access()
                .insert_one(&access)
                .session(&mut *s)
                .await
                .map_err(retry_on_duplicate)?;
            let answer = StreamJoinAnswer {
                transaction: Some(Transaction::from(&tx)),
                balance: viewer.coins - room.price,
                already_paid: false,
            };
            (answer, Some(room.creator_id))
        };

        if let Some(key) = &key {
            let saved = IdempotencyDoc {
                id: ObjectId::new(),
                user_id: user.id,
                key: key.clone(),
                request_hash: request_hash.clone(),
                response: mongodb::bson::to_document(&answer).map_err(ApiError::internal)?,
                created_at: DateTime::now(),
            };
            db.idempotency()
                .insert_one(&saved)
                .session(&mut *s)
                .await
                .map_err(retry_on_duplicate)?;
        }
        Ok((answer, charged))
    })?;

    if let Some(creator) = charged {
        tracing::info!(amount, %creator, "stream-join paid");
    }
    // The join that usually follows finds the entry in memory.
    if let Some(session) = answer
        .transaction
        .as_ref()
        .and_then(|t| t.live_session_id.as_deref())
        .and_then(|id| ObjectId::parse_str(id).ok())
    {
        state.entries.remember(user.id, session);
    }
    Ok(answer)
}

fn retry_on_duplicate(err: mongodb::error::Error) -> ApiError {
    if duplicate_key_index(&err).is_some() {
        ApiError::Retry
    } else {
        err.into()
    }
}

#[derive(Serialize, Deserialize)]
struct IdPosition {
    id: ObjectId,
}

/// The caller's ledger, newest first: entries they paid or were paid.
/// Filters: `kind`, `roomId`, `liveSessionId`.
async fn list_transactions(
    State(state): State<AppState>,
    user: AuthUser,
    ApiQuery(query): ApiQuery<HashMap<String, String>>,
) -> Result<Json<ListPage<Transaction>>> {
    let limit = parse_limit(query.get("limit").map(String::as_str))?;
    let mut filter = doc! { "$or": [ { "fromUserId": user.id }, { "toUserId": user.id } ] };
    match query.get("kind").map(|k| k.trim()) {
        None | Some("") => {}
        Some(kind @ (KIND_STREAM_JOIN | KIND_GRANT | KIND_REFUND)) => {
            filter.insert("kind", kind);
        }
        Some(_) => {
            return Err(ApiError::invalid(
                "kind",
                "kind is `stream_join`, `grant` or `refund`.",
            ));
        }
    }
    for field in ["roomId", "liveSessionId"] {
        if let Some(raw) = query.get(field) {
            let id = ObjectId::parse_str(raw.trim())
                .map_err(|_| ApiError::invalid(field, format!("{field} is not a valid id.")))?;
            filter.insert(field, id);
        }
    }
    if let Some(cursor) = query.get("cursor") {
        let position: IdPosition = state.cursors.decode(cursor)?;
        filter.insert("_id", doc! { "$lt": position.id });
    }
    let rows: Vec<TxDoc> = state
        .db
        .transactions()
        .find(filter)
        .sort(doc! { "_id": -1 })
        .limit(limit + 1)
        .await?
        .try_collect()
        .await?;
    Ok(Json(finish_page(
        rows,
        limit,
        &state.cursors,
        |t| json!(IdPosition { id: t.id }),
        |t| Transaction::from(t),
    )))
}

/// Grants coins to a user by username: one `grant` ledger entry and the
/// balance change in one transaction. Returns the new balance.
pub async fn grant_coins(db: &Db, username: &str, amount: i64) -> Result<(ObjectId, i64)> {
    if amount <= 0 {
        return Err(ApiError::invalid(
            "coins",
            "Grant a positive number of coins.",
        ));
    }
    crate::transaction!(db, |s| {
        let user = db
            .users()
            .find_one_and_update(
                doc! { "username": username },
                doc! { "$inc": { "coins": amount } },
            )
            .return_document(ReturnDocument::After)
            .session(&mut *s)
            .await?
            .ok_or_else(|| {
                ApiError::not_found("user_not_found", format!("No user is called {username}."))
            })?;
        let tx = TxDoc {
            id: ObjectId::new(),
            kind: KIND_GRANT.into(),
            from_user_id: None,
            to_user_id: user.id,
            room_id: None,
            room_title: None,
            live_session_id: None,
            amount,
            created_at: DateTime::now(),
            bonus_coins: 0,
            refund_of: None,
        };
        db.transactions().insert_one(&tx).session(&mut *s).await?;
        Ok((user.id, user.coins))
    })
}
