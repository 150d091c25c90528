//! A creator's earnings, read from the ledger: coins received for stream
//! joins, tips and private sessions, by UTC day and in total, and what of
//! them may be paid out.
//!
//! Payable coins are earned coins only: received for joins, tips and
//! private sessions, less
//! the sign-up coins viewers spent on them (free coins are never cashed
//! out) and less refunded joins, minus what was paid out or is held for a
//! payout request, and never more than the balance. Bought and granted
//! coins are not earnings, so they cannot be cashed out.

use std::collections::BTreeMap;

use futures::TryStreamExt;
use mongodb::ClientSession;
use mongodb::bson::oid::ObjectId;
use mongodb::bson::{DateTime, doc};
use serde::Serialize;

use crate::db::Db;
use crate::error::{ApiError, Result};
use crate::models::{
    KIND_PRIVATE_CHARGE, KIND_REFUND, KIND_STREAM_JOIN, KIND_TIP, PAYOUT_PAID, PAYOUT_REQUESTED,
    PayoutDoc, TxDoc,
};

/// The ledger kinds that pay a creator for their work.
const EARNED: [&str; 3] = [KIND_STREAM_JOIN, KIND_TIP, KIND_PRIVATE_CHARGE];

/// Earned coins and their payout state, for one user.
#[derive(Debug, Clone, Copy, Default)]
pub struct Standing {
    /// Earned for good (net of refunds, without sign-up coins).
    pub earned: i64,
    pub paid_out: i64,
    pub held: i64,
}

impl Standing {
    /// What may be requested now, given the balance.
    pub fn payable(&self, balance: i64) -> i64 {
        (self.earned - self.paid_out - self.held)
            .min(balance)
            .max(0)
    }
}

/// Reads a user's earned coins and payouts (in the given session, so a
/// payout request sees them in its transaction).
pub async fn standing(db: &Db, s: &mut ClientSession, user: ObjectId) -> Result<Standing> {
    let filter = doc! { "$or": [
        { "toUserId": user, "kind": { "$in": EARNED.as_slice() } },
        { "fromUserId": user, "kind": KIND_REFUND },
    ] };
    let mut entries = db.transactions().find(filter).session(&mut *s).await?;
    let entries: Vec<TxDoc> = entries.stream(&mut *s).try_collect().await?;
    let mut standing = Standing::default();
    for e in &entries {
        let earned = e.amount - e.bonus_coins;
        if e.kind == KIND_REFUND {
            standing.earned -= earned;
        } else {
            standing.earned += earned;
        }
    }
    let mut payouts = db
        .payouts()
        .find(doc! { "userId": user, "state": { "$in": [PAYOUT_PAID, PAYOUT_REQUESTED] } })
        .session(&mut *s)
        .await?;
    let payouts: Vec<PayoutDoc> = payouts.stream(&mut *s).try_collect().await?;
    for p in &payouts {
        if p.state == PAYOUT_PAID {
            standing.paid_out += p.coins;
        } else {
            standing.held += p.coins;
        }
    }
    Ok(standing)
}

#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Sources {
    pub stream_join: i64,
    pub tip: i64,
    pub private: i64,
    pub total: i64,
}

impl Sources {
    fn add(&mut self, kind: &str, amount: i64) {
        match kind {
            KIND_STREAM_JOIN => self.stream_join += amount,
            KIND_TIP => self.tip += amount,
            KIND_PRIVATE_CHARGE => self.private += amount,
            _ => {}
        }
        self.total += amount;
    }
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Day {
    pub date: String,
    #[serde(flatten)]
    pub sources: Sources,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Earnings {
    /// Oldest first, every day of the window (today included).
    pub days: Vec<Day>,
    /// Over the window.
    pub totals: Sources,
    pub payable: i64,
    pub held: i64,
    pub paid_out: i64,
    pub payout_min: i64,
}

const DAY_MS: i64 = 24 * 3600 * 1000;

fn date_of(t: DateTime) -> String {
    crate::models::rfc3339(t).chars().take(10).collect()
}

/// The last `days` UTC days of earnings (gross: refunds show in the
/// ledger), and the payout standing.
pub async fn earnings(db: &Db, user: ObjectId, days: i64, payout_min: i64) -> Result<Earnings> {
    if !(1..=366).contains(&days) {
        return Err(ApiError::invalid("days", "days is 1 to 366."));
    }
    let now = DateTime::now().timestamp_millis();
    let today_start = now - now.rem_euclid(DAY_MS);
    let since = DateTime::from_millis(today_start - (days - 1) * DAY_MS);
    let mut by_day: BTreeMap<String, Sources> = (0..days)
        .map(|i| {
            let day = DateTime::from_millis(today_start - (days - 1 - i) * DAY_MS);
            (date_of(day), Sources::default())
        })
        .collect();
    let mut runner = db.runner().await?;
    let s = runner.session();
    let mut cursor = db
        .transactions()
        .find(doc! {
            "toUserId": user,
            "kind": { "$in": EARNED.as_slice() },
            "createdAt": { "$gte": since },
        })
        .session(&mut *s)
        .await?;
    let entries: Vec<TxDoc> = cursor.stream(&mut *s).try_collect().await?;
    let mut totals = Sources::default();
    for e in &entries {
        by_day
            .entry(date_of(e.created_at))
            .or_default()
            .add(&e.kind, e.amount);
        totals.add(&e.kind, e.amount);
    }
    let balance = db
        .users()
        .find_one(doc! { "_id": user })
        .session(&mut *s)
        .await?
        .map(|u| u.coins)
        .ok_or_else(crate::accounts::account_closed)?;
    let standing = standing(db, s, user).await?;
    Ok(Earnings {
        days: by_day
            .into_iter()
            .map(|(date, sources)| Day { date, sources })
            .collect(),
        totals,
        payable: standing.payable(balance),
        held: standing.held,
        paid_out: standing.paid_out,
        payout_min,
    })
}
