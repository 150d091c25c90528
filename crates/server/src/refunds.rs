//! Refunds for sessions that died. A payment whose live session ended
//! (the publisher stayed away past the grace, or the creator ended it)
//! within `STREAMSHARE_REFUND_WINDOW_SECS` after it, before its viewer's
//! media had run `STREAMSHARE_REFUND_MIN_MEDIA_SECS`, is given back: once,
//! in one transaction with a `refund` ledger entry linked to the payment.
//! A session is settled when it ends, and again at start for sessions that
//! ended while no server could settle them (a crash in between); it is
//! marked settled only after every refund went through, and each refund is
//! guarded by its access record, so running twice refunds nothing twice.

use std::time::Duration;

use futures::TryStreamExt;
use mongodb::bson::oid::ObjectId;
use mongodb::bson::{DateTime, doc};
use serde_json::json;

use crate::error::ApiError;
use crate::ledger::{self, Bonus, Guard};
use crate::models::{AccessDoc, KIND_REFUND, TxDoc};
use crate::state::AppState;

/// How far back the start-up sweep looks for unsettled sessions.
const SWEEP_BACK: Duration = Duration::from_secs(24 * 3600);

/// Settles one ended session's refunds, logging (not failing) on error:
/// the start-up sweep retries what is left.
pub async fn settle_session(state: &AppState, session: ObjectId) {
    match try_settle(state, session).await {
        Ok(0) => {}
        Ok(n) => tracing::info!(%session, refunds = n, "refunded dead payments"),
        Err(err) => tracing::warn!(error = ?err, %session, "could not settle refunds yet"),
    }
}

/// Settles every recently ended session not settled yet (after a restart).
pub async fn settle_unsettled(state: &AppState) -> Result<(), ApiError> {
    let since =
        DateTime::from_millis(DateTime::now().timestamp_millis() - SWEEP_BACK.as_millis() as i64);
    let sessions: Vec<ObjectId> = state
        .db
        .live_sessions()
        .find(doc! { "endedAt": { "$gte": since }, "refundsSettledAt": null })
        .await?
        .map_ok(|s| s.id)
        .try_collect()
        .await?;
    for session in sessions {
        settle_session(state, session).await;
    }
    Ok(())
}

async fn try_settle(state: &AppState, session_id: ObjectId) -> Result<usize, ApiError> {
    let db = &state.db;
    let Some(session) = db
        .live_sessions()
        .find_one(doc! { "_id": session_id })
        .await?
    else {
        return Ok(0);
    };
    let Some(ended) = session.ended_at else {
        return Ok(0);
    };
    if session.refunds_settled_at.is_some() {
        return Ok(0);
    }
    let settings = &state.settings;
    let window_start =
        DateTime::from_millis(ended.timestamp_millis() - settings.refund_window_secs * 1000);
    let candidates: Vec<AccessDoc> = db
        .access()
        .find(doc! {
            "liveSessionId": session_id,
            "refundedAt": null,
            "createdAt": { "$gte": window_start },
        })
        .await?
        .try_collect()
        .await?;
    let enough_ms = settings.refund_min_media_secs * 1000;
    let mut refunded = 0;
    for access in candidates {
        let watched_enough = access
            .media_at
            .is_some_and(|t| ended.timestamp_millis() - t.timestamp_millis() >= enough_ms);
        if !watched_enough && refund(state, access.id).await? {
            refunded += 1;
        }
    }
    db.live_sessions()
        .update_one(
            doc! { "_id": session_id },
            doc! { "$set": { "refundsSettledAt": DateTime::now() } },
        )
        .await?;
    Ok(refunded)
}

/// Gives one payment back; false when it was refunded already. The
/// creator's balance may go below zero here (they spent the coins already):
/// a debt their next earnings pay, since no spend passes a balance below
/// the price.
async fn refund(state: &AppState, access_id: ObjectId) -> Result<bool, ApiError> {
    let db = &state.db;
    let done = crate::transaction!(db, |s| {
        let now = DateTime::now();
        let Some(access) = db
            .access()
            .find_one_and_update(
                doc! { "_id": access_id, "refundedAt": null },
                doc! { "$set": { "refundedAt": now } },
            )
            .session(&mut *s)
            .await?
        else {
            return Ok(None);
        };
        let payment = db
            .transactions()
            .find_one(doc! { "_id": access.transaction_id })
            .session(&mut *s)
            .await?
            .ok_or_else(|| {
                ApiError::internal(anyhow::anyhow!(
                    "access {} has no payment {}",
                    access.id,
                    access.transaction_id
                ))
            })?;
        let creator = payment.to_user_id.ok_or_else(|| {
            ApiError::internal(anyhow::anyhow!("payment {} has no payee", payment.id))
        })?;
        // The creator's balance may go below zero here (they spent the
        // coins already): a debt their next earnings pay. The sign-up coins
        // spent come back as sign-up coins.
        let tx = TxDoc {
            room_id: payment.room_id,
            room_title: payment.room_title.clone(),
            live_session_id: payment.live_session_id,
            created_at: now,
            bonus_coins: payment.bonus_coins,
            refund_of: Some(payment.id),
            ..TxDoc::new(
                KIND_REFUND,
                Some(creator),
                Some(access.viewer_id),
                payment.amount,
            )
        };
        ledger::transfer(
            db,
            s,
            &tx,
            Guard::Debt,
            Bonus {
                spent: 0,
                returned: payment.bonus_coins,
            },
        )
        .await?;
        Ok(Some(tx))
    })?;
    let Some(tx) = done else {
        return Ok(false);
    };
    crate::push::broadcast(
        state,
        crate::push::user_channel(tx.to_user_id.unwrap_or(tx.id)),
        "payment:refunded",
        &json!({
            "roomId": tx.room_id.map(|id| id.to_hex()),
            "roomTitle": tx.room_title,
            "amount": tx.amount,
            "transactionId": tx.id.to_hex(),
        }),
    )
    .await;
    Ok(true)
}
