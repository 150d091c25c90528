//! The stream-join payment: a viewer pays for the room's current live
//! session, in one transaction ([`crate::ledger::transfer`] with a balance
//! guard, the access record, the idempotent answer).

use axum::http::HeaderMap;
use mongodb::bson::oid::ObjectId;
use mongodb::bson::{DateTime, doc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::accounts::Standing;
use crate::auth::AuthUser;
use crate::error::{ApiError, Result};
use crate::ledger::{self, Bonus, Guard, Keyed};
use crate::models::{AccessDoc, KIND_STREAM_JOIN, Transaction, TxDoc};
use crate::rooms::room_not_found;
use crate::state::AppState;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StreamJoinBody {
    creator_id: String,
    pub room_id: String,
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

/// Checks in the contract's order, then debits the viewer (the balance
/// check is in the update's filter), credits the creator, writes the ledger
/// entry, the access record and the idempotent answer: all in one
/// transaction.
pub async fn pay(
    state: &AppState,
    user: &AuthUser,
    headers: &HeaderMap,
    body: StreamJoinBody,
) -> Result<StreamJoinAnswer> {
    let amount = body
        .amount
        .as_i64()
        .ok_or_else(|| ApiError::invalid("amount", "amount is a whole number of coins."))?;
    let room_id = crate::ids::RoomId::parse(&body.room_id)?.get();
    let creator_id = ObjectId::parse_str(body.creator_id.trim()).ok();
    // The stream-join's canonical form predates the other keyed requests
    // (kept, so stored keys still replay).
    let keyed = Keyed::new(
        user.id,
        headers,
        &format!("{}|{}|{}", room_id.to_hex(), body.creator_id.trim(), amount),
    )?;

    let db = &state.db;
    let (answer, charged) = crate::transaction!(db, |s| {
        if let Some(answer) = keyed.replay::<StreamJoinAnswer>(db, s).await? {
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
        // Nor while the creator is away in a private session.
        if room.in_private {
            return Err(ApiError::conflict(
                "creator_in_private",
                "The creator is in a private session; the room is paused until it ends.",
            ));
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
            let bonus_spent = ledger::spendable(
                &state.settings,
                &viewer,
                &creator,
                room.price,
                "to enter this room",
            )?;
            let now = DateTime::now();
            let tx = TxDoc {
                room_id: Some(room.id),
                room_title: Some(room.title.clone()),
                live_session_id: Some(session_id),
                bonus_coins: bonus_spent,
                created_at: now,
                ..TxDoc::new(
                    KIND_STREAM_JOIN,
                    Some(user.id),
                    Some(room.creator_id),
                    room.price,
                )
            };
            ledger::transfer(
                db,
                s,
                &tx,
                Guard::Balance(viewer.coins),
                Bonus {
                    spent: bonus_spent,
                    returned: 0,
                },
            )
            .await
            .map_err(|err| match err.code() {
                "user_not_found" => room_not_found(),
                _ => err,
            })?;
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
                .map_err(ledger::retry_on_duplicate)?;
            let answer = StreamJoinAnswer {
                transaction: Some(Transaction::from(&tx)),
                balance: viewer.coins - room.price,
                already_paid: false,
            };
            (answer, Some(room.creator_id))
        };

        keyed.remember(db, s, &answer).await?;
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
