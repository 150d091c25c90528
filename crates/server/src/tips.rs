//! Tips: a viewer in a live room gives its creator coins, with an optional
//! message. One transaction moves the coins (a `tip` ledger entry), writes
//! the tip's chat message and stores the idempotent answer; then everyone
//! in the room hears the `chat:message` (`kind: "tip"`). Rate-limited per
//! tipper (cluster-wide with Redis).

use std::time::Duration;

use axum::http::{HeaderMap, StatusCode};
use mongodb::bson::oid::ObjectId;
use mongodb::bson::{DateTime, doc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::accounts::Standing;
use crate::auth::AuthUser;
use crate::error::{ApiError, Result};
use crate::ledger::{self, Bonus, Guard, Keyed};
use crate::models::{ChatDoc, ChatMessage, KIND_TIP, Transaction, TxDoc};
use crate::rooms::room_not_found;
use crate::state::AppState;

/// Tips one user may send at once...
pub const TIP_BURST: u32 = 5;
/// ...then one per this long.
pub const TIP_INTERVAL: Duration = Duration::from_secs(2);
/// Longest tip message, in characters.
pub const MAX_TIP_MESSAGE_CHARS: usize = 200;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TipRequest {
    room_id: String,
    amount: Value,
    #[serde(default)]
    message: Option<String>,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TipAnswer {
    pub transaction: Transaction,
    pub balance: i64,
}

pub async fn tip(
    state: &AppState,
    user: &AuthUser,
    headers: &HeaderMap,
    body: TipRequest,
) -> Result<TipAnswer> {
    let max = state.settings.tip_max();
    let amount = body
        .amount
        .as_i64()
        .filter(|a| (1..=max).contains(a))
        .ok_or_else(|| {
            ApiError::invalid(
                "amount",
                format!("A tip is a whole number of 1 to {max} coins."),
            )
        })?;
    let message = body
        .message
        .as_deref()
        .map(str::trim)
        .filter(|m| !m.is_empty())
        .map(str::to_owned);
    if message
        .as_ref()
        .is_some_and(|m| m.chars().count() > MAX_TIP_MESSAGE_CHARS)
    {
        return Err(ApiError::invalid(
            "message",
            format!("A tip's message is at most {MAX_TIP_MESSAGE_CHARS} characters long."),
        ));
    }
    let room_id = crate::ids::RoomId::parse(&body.room_id)?.get();
    let keyed = Keyed::new(
        user.id,
        headers,
        &format!(
            "tip|{}|{amount}|{}",
            room_id.to_hex(),
            message.as_deref().unwrap_or("")
        ),
    )?;
    let room = state
        .db
        .rooms()
        .find_one(doc! { "_id": room_id })
        .await?
        .ok_or_else(room_not_found)?;
    if room.creator_id == user.id {
        return Err(ApiError::bad_request(
            "self_payment",
            "You cannot tip yourself.",
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
    if crate::moderation::is_banned(state, room.id, user.id).await? {
        return Err(ApiError::forbidden(
            "The creator has banned you from this room.",
        ));
    }
    if crate::access::access_for(state, &room, Some(user.id)).await? == "locked" {
        return Err(ApiError::refused(
            StatusCode::FORBIDDEN,
            "payment_required",
            format!(
                "Pay {} coins to enter this room before tipping.",
                room.price
            ),
        )
        .with("price", room.price));
    }
    // A tip's message is chat: a timed-out tipper may tip, silently.
    if message.is_some() {
        crate::moderation::check_not_muted(state, room.id, user.id).await?;
    }
    state
        .tip_limiter
        .check(user.id)
        .await
        .map_err(|wait| crate::ratelimit::too_many("You are tipping too fast", wait))?;

    let db = &state.db;
    let (answer, chat) = crate::transaction!(db, |s| {
        if let Some(answer) = keyed.replay::<TipAnswer>(db, s).await? {
            return Ok((answer, None));
        }
        let tipper = db
            .users()
            .find_one(doc! { "_id": user.id })
            .session(&mut *s)
            .await?
            .ok_or_else(crate::accounts::account_closed)?;
        let creator = db
            .users()
            .find_one(doc! { "_id": room.creator_id })
            .session(&mut *s)
            .await?
            .filter(|c| Standing::of(c) == Standing::Active)
            .ok_or_else(room_not_found)?;
        let bonus_spent =
            ledger::spendable(&state.settings, &tipper, &creator, amount, "for this tip")?;
        let now = DateTime::now();
        let entry = TxDoc {
            room_id: Some(room.id),
            room_title: Some(room.title.clone()),
            live_session_id: Some(session_id),
            bonus_coins: bonus_spent,
            message: message.clone(),
            created_at: now,
            ..TxDoc::new(KIND_TIP, Some(user.id), Some(creator.id), amount)
        };
        ledger::transfer(
            db,
            s,
            &entry,
            Guard::Balance(tipper.coins),
            Bonus {
                spent: bonus_spent,
                returned: 0,
            },
        )
        .await?;
        let chat = ChatDoc {
            id: ObjectId::new(),
            room_id: room.id,
            live_session_id: Some(session_id),
            user_id: user.id,
            username: user.username.clone(),
            text: message.clone().unwrap_or_default(),
            sent_at: now,
            deleted: false,
            kind: Some("tip".into()),
            tip_amount: Some(amount),
            display_name: Some(tipper.display_name.clone()),
            badge: None,
        };
        db.chat().insert_one(&chat).session(&mut *s).await?;
        let answer = TipAnswer {
            transaction: Transaction::from(&entry),
            balance: tipper.coins - amount,
        };
        keyed.remember(db, s, &answer).await?;
        Ok((answer, Some(chat)))
    })?;
    if let Some(chat) = chat {
        tracing::info!(amount, room = %room.id, "tip");
        state.chat_rings.sent(&chat);
        let message = ChatMessage::from(&chat);
        crate::push::broadcast(
            state,
            crate::push::room_channel(room.id),
            "chat:message",
            &message,
        )
        .await;
    }
    Ok(answer)
}
