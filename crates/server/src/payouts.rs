//! Payouts: a creator asks to cash earned coins out (at least
//! `STREAMSHARE_PAYOUT_MIN`, at most what is payable, one open request at
//! a time). The coins leave the balance at once (`payout_hold`), so they
//! can be neither spent nor requested twice; an admin settles the request
//! (`streamshare payouts approve|reject`): approved, the coins are gone for
//! good (paid outside StreamShare); rejected, they come back
//! (`payout_release`). Each step is one transaction; `payout:update`
//! reaches the creator through the database's change stream (so the admin
//! command's changes are pushed too).

use axum::http::{HeaderMap, StatusCode};
use futures::TryStreamExt;
use mongodb::bson::oid::ObjectId;
use mongodb::bson::{DateTime, doc};
use serde_json::Value;

use crate::auth::AuthUser;
use crate::db::Db;
use crate::error::{ApiError, Result};
use crate::ledger::{self, Bonus, Guard, Keyed};
use crate::models::{
    KIND_PAYOUT_HOLD, KIND_PAYOUT_RELEASE, PAYOUT_PAID, PAYOUT_REJECTED, PAYOUT_REQUESTED, Payout,
    PayoutDoc, TxDoc,
};
use crate::state::AppState;

fn not_found() -> ApiError {
    <crate::ids::Payout as crate::ids::Kind>::not_found()
}

/// `POST /api/payouts {coins}`.
pub async fn request(
    state: &AppState,
    user: &AuthUser,
    headers: &HeaderMap,
    coins: &Value,
) -> Result<Payout> {
    let min = state.settings.payout_min;
    let coins = coins
        .as_i64()
        .ok_or_else(|| ApiError::invalid("coins", "coins is a whole number."))?;
    if coins < min {
        return Err(ApiError::invalid(
            "coins",
            format!("A payout is at least {min} coins."),
        ));
    }
    let keyed = Keyed::new(user.id, headers, &format!("payout|{coins}"))?;
    let db = &state.db;
    crate::transaction!(db, |s| {
        if let Some(answer) = keyed.replay::<Payout>(db, s).await? {
            return Ok(answer);
        }
        let open = db
            .payouts()
            .find_one(doc! { "userId": user.id, "state": PAYOUT_REQUESTED })
            .session(&mut *s)
            .await?;
        if let Some(open) = open {
            return Err(ApiError::conflict(
                "payout_pending",
                "You have a payout request open; wait until it is settled.",
            )
            .with("payoutId", open.id.to_hex()));
        }
        let creator = db
            .users()
            .find_one(doc! { "_id": user.id })
            .session(&mut *s)
            .await?
            .ok_or_else(crate::accounts::account_closed)?;
        let payable = crate::earnings::standing(db, s, user.id)
            .await?
            .payable(creator.coins);
        if coins > payable {
            return Err(ApiError::refused(
                StatusCode::PAYMENT_REQUIRED,
                "insufficient_funds",
                format!("You can cash out {payable} earned coins now."),
            )
            .with("balance", creator.coins)
            .with("required", coins)
            .with("payable", payable));
        }
        let now = DateTime::now();
        let payout = PayoutDoc {
            id: ObjectId::new(),
            user_id: user.id,
            username: creator.username.clone(),
            coins,
            state: PAYOUT_REQUESTED.into(),
            note: None,
            created_at: now,
            settled_at: None,
        };
        db.payouts().insert_one(&payout).session(&mut *s).await?;
        let entry = TxDoc {
            payout_id: Some(payout.id),
            created_at: now,
            ..TxDoc::new(KIND_PAYOUT_HOLD, Some(user.id), None, coins)
        };
        // Sign-up coins are never payable, so none are spent here; the
        // balance guard makes a concurrent request run again (and find
        // this one open).
        ledger::transfer(
            db,
            s,
            &entry,
            Guard::Balance(creator.coins),
            Bonus::default(),
        )
        .await?;
        let answer = Payout::from(&payout);
        keyed.remember(db, s, &answer).await?;
        Ok(answer)
    })
}

/// Every payout (in one state if given), oldest first: the admin's list.
pub async fn list_all(db: &Db, state: Option<&str>) -> Result<Vec<PayoutDoc>> {
    let mut filter = doc! {};
    if let Some(state) = state {
        if ![PAYOUT_REQUESTED, PAYOUT_PAID, PAYOUT_REJECTED].contains(&state) {
            return Err(ApiError::invalid(
                "state",
                "state is requested, paid or rejected.",
            ));
        }
        filter.insert("state", state);
    }
    Ok(db
        .payouts()
        .find(filter)
        .sort(doc! { "_id": 1 })
        .await?
        .try_collect()
        .await?)
}

/// Settles an open request: approved (`paid`), or rejected with the coins
/// given back (`payout_release`), in one transaction.
pub async fn settle(
    db: &Db,
    raw_id: &str,
    approve: bool,
    note: Option<String>,
) -> Result<PayoutDoc> {
    let id = crate::ids::PayoutId::parse(raw_id)?.get();
    let note = note.map(|n| n.trim().to_owned()).filter(|n| !n.is_empty());
    crate::transaction!(db, |s| {
        let payout = db
            .payouts()
            .find_one(doc! { "_id": id })
            .session(&mut *s)
            .await?
            .ok_or_else(not_found)?;
        if payout.state != PAYOUT_REQUESTED {
            return Err(ApiError::conflict(
                "payout_settled",
                format!("This payout is {} already.", payout.state),
            ));
        }
        let now = DateTime::now();
        let state = if approve {
            PAYOUT_PAID
        } else {
            PAYOUT_REJECTED
        };
        db.payouts()
            .update_one(
                doc! { "_id": id, "state": PAYOUT_REQUESTED },
                doc! { "$set": { "state": state, "note": &note, "settledAt": now } },
            )
            .session(&mut *s)
            .await?;
        if !approve {
            let entry = TxDoc {
                payout_id: Some(payout.id),
                created_at: now,
                ..TxDoc::new(
                    KIND_PAYOUT_RELEASE,
                    None,
                    Some(payout.user_id),
                    payout.coins,
                )
            };
            ledger::transfer(db, s, &entry, Guard::Debt, Bonus::default()).await?;
        }
        Ok(PayoutDoc {
            state: state.into(),
            note: note.clone(),
            settled_at: Some(now),
            ..payout
        })
    })
}

/// `payout:update {payout}` to the creator's connections on this instance
/// (each instance pushes to its own, from the change stream).
pub async fn push_local(state: &AppState, id: ObjectId) {
    let payout = match state.db.payouts().find_one(doc! { "_id": id }).await {
        Ok(Some(p)) => p,
        Ok(None) => return,
        Err(err) => {
            tracing::warn!(error = %err, payout = %id, "payout push failed");
            return;
        }
    };
    if let Some(io) = state.io()
        && let Err(err) = io
            .local()
            .to(crate::push::user_channel(payout.user_id))
            .emit(
                "payout:update",
                &serde_json::json!({ "payout": Payout::from(&payout) }),
            )
            .await
    {
        tracing::warn!(error = %err, payout = %id, "payout push failed");
    }
}
