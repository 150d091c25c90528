//! The coin ledger's one way of moving coins, shared by every money flow
//! (stream-join, refund, purchase credit and refund, tip, payout hold and
//! release): inside a caller's MongoDB transaction ([`crate::transaction!`],
//! retried on `TransientTransactionError`), a [`transfer`] debits the payer,
//! credits the payee and writes the ledger entry; [`Keyed`] replays and
//! stores a request's answer under its `Idempotency-Key` in that same
//! transaction.

use axum::http::{HeaderMap, StatusCode};
use mongodb::ClientSession;
use mongodb::bson::oid::ObjectId;
use mongodb::bson::{DateTime, doc};
use mongodb::options::ReturnDocument;
use serde::Serialize;
use serde::de::DeserializeOwned;
use sha2::{Digest, Sha256};

use crate::config::Settings;
use crate::db::Db;
use crate::error::{ApiError, Result, duplicate_key_index};
use crate::models::{IdempotencyDoc, TxDoc, UserDoc};

/// The `Idempotency-Key` header, checked: 1 to 255 visible ASCII characters.
pub fn idempotency_key(headers: &HeaderMap) -> Result<Option<String>> {
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

/// SHA-256 (hex) of a request's canonical form, to tell a replay from a
/// different request under the same key.
pub fn request_hash(canonical: &str) -> String {
    Sha256::digest(canonical.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A request's idempotency: who asked, under which key (if any), and what.
pub struct Keyed {
    pub user: ObjectId,
    pub key: Option<String>,
    pub hash: String,
}

impl Keyed {
    /// `canonical` names the endpoint and its inputs.
    pub fn new(user: ObjectId, headers: &HeaderMap, canonical: &str) -> Result<Self> {
        Ok(Self {
            user,
            key: idempotency_key(headers)?,
            hash: request_hash(canonical),
        })
    }

    /// Inside the transaction, first: the stored answer of an earlier
    /// request with this key; 422 `idempotency_key_reused` when that
    /// request was a different one.
    pub async fn replay<T: DeserializeOwned>(
        &self,
        db: &Db,
        s: &mut ClientSession,
    ) -> Result<Option<T>> {
        let Some(key) = &self.key else {
            return Ok(None);
        };
        let Some(saved) = db
            .idempotency()
            .find_one(doc! { "userId": self.user, "key": key })
            .session(&mut *s)
            .await?
        else {
            return Ok(None);
        };
        if saved.request_hash != self.hash {
            return Err(ApiError::invalid(
                "Idempotency-Key",
                "This Idempotency-Key was used for a different request.",
            )
            .with_code("idempotency_key_reused"));
        }
        mongodb::bson::from_document(saved.response)
            .map(Some)
            .map_err(ApiError::internal)
    }

    /// Inside the transaction, last: stores the answer with the effect. A
    /// concurrent request with the same key that committed first makes the
    /// transaction run again (and replay that one's answer).
    pub async fn remember<T: Serialize>(
        &self,
        db: &Db,
        s: &mut ClientSession,
        answer: &T,
    ) -> Result<()> {
        let Some(key) = &self.key else {
            return Ok(());
        };
        let saved = IdempotencyDoc {
            id: ObjectId::new(),
            user_id: self.user,
            key: key.clone(),
            request_hash: self.hash.clone(),
            response: mongodb::bson::to_document(answer).map_err(ApiError::internal)?,
            created_at: DateTime::now(),
        };
        db.idempotency()
            .insert_one(&saved)
            .session(&mut *s)
            .await
            .map_err(retry_on_duplicate)?;
        Ok(())
    }
}

/// A duplicate key inside a transaction means a concurrent writer won:
/// run the transaction again (it then finds that writer's result).
pub fn retry_on_duplicate(err: mongodb::error::Error) -> ApiError {
    if duplicate_key_index(&err).is_some() {
        ApiError::Retry
    } else {
        err.into()
    }
}

/// How the payer's side of a transfer is guarded.
#[derive(Debug, Clone, Copy)]
pub enum Guard {
    /// The debit applies only while the payer's balance is still this one
    /// (read, and checked as enough, in the same transaction); otherwise
    /// the transaction runs again.
    Balance(i64),
    /// The debit applies whatever the balance: it may go below zero, a
    /// debt (a refund of coins already spent). Sign-up coins are capped at
    /// what is left.
    Debt,
}

/// Sign-up coin movements of a transfer (see [`crate::signup`]).
#[derive(Debug, Clone, Copy, Default)]
pub struct Bonus {
    /// Sign-up coins the payer spends (part of the amount).
    pub spent: i64,
    /// Sign-up coins the payee gets back (a refund of a payment that spent
    /// some).
    pub returned: i64,
}

/// Moves `entry.amount` coins from `entry.from_user_id` (if any) to
/// `entry.to_user_id` (if any) and writes the ledger entry, in the caller's
/// transaction session. A payer or payee that does not exist is a 404
/// `user_not_found`.
pub async fn transfer(
    db: &Db,
    s: &mut ClientSession,
    entry: &TxDoc,
    guard: Guard,
    bonus: Bonus,
) -> Result<()> {
    let gone = || ApiError::not_found("user_not_found", "There is no such user.");
    if entry.amount <= 0 {
        return Err(ApiError::internal(anyhow::anyhow!(
            "a transfer of {} coins",
            entry.amount
        )));
    }
    if let Some(from) = entry.from_user_id {
        let change = doc! { "$inc": { "coins": -entry.amount, "bonusCoins": -bonus.spent } };
        match guard {
            Guard::Balance(balance) => {
                let debited = db
                    .users()
                    .update_one(doc! { "_id": from, "coins": balance }, change)
                    .session(&mut *s)
                    .await?;
                if debited.matched_count != 1 {
                    // The balance changed since it was read (or the account
                    // is gone: the rerun says which).
                    return Err(ApiError::Retry);
                }
            }
            Guard::Debt => {
                let payer = db
                    .users()
                    .find_one_and_update(doc! { "_id": from }, change)
                    .return_document(ReturnDocument::After)
                    .session(&mut *s)
                    .await?
                    .ok_or_else(gone)?;
                let cap = payer.coins.max(0);
                if payer.bonus_coins > cap {
                    db.users()
                        .update_one(doc! { "_id": from }, doc! { "$set": { "bonusCoins": cap } })
                        .session(&mut *s)
                        .await?;
                }
            }
        }
    }
    if let Some(to) = entry.to_user_id {
        let credited = db
            .users()
            .update_one(
                doc! { "_id": to },
                doc! { "$inc": { "coins": entry.amount, "bonusCoins": bonus.returned } },
            )
            .session(&mut *s)
            .await?;
        if credited.matched_count != 1 {
            return Err(gone());
        }
    }
    db.transactions().insert_one(entry).session(&mut *s).await?;
    Ok(())
}

/// What a payer can spend on `amount` coins to `payee`, or the 402 saying
/// how many are missing (`{balance, required}`, `bonusCoinsExcluded` when
/// sign-up coins do not count). Sign-up coins are spent first, except
/// toward a creator who signed up from the payer's network (puppet
/// accounts cannot pay their maker). Answers the sign-up coins spent.
pub fn spendable(
    settings: &Settings,
    payer: &UserDoc,
    payee: &UserDoc,
    amount: i64,
    what: &str,
) -> Result<i64> {
    let linked = linked(payer, payee, settings);
    let spendable = if linked {
        payer.coins - payer.bonus_coins
    } else {
        payer.coins
    };
    if spendable < amount {
        let mut refusal = ApiError::refused(
            StatusCode::PAYMENT_REQUIRED,
            "insufficient_funds",
            format!("You need {} more coins {what}.", amount - spendable),
        )
        .with("balance", payer.coins)
        .with("required", amount);
        if linked && payer.bonus_coins > 0 {
            refusal = refusal.with("bonusCoinsExcluded", payer.bonus_coins);
        }
        return Err(refusal);
    }
    Ok(if linked {
        0
    } else {
        payer.bonus_coins.clamp(0, amount)
    })
}

/// Grants coins to a user by username (the `streamshare grant` command):
/// one `grant` ledger entry and the balance change in one transaction.
/// Returns the user and the new balance.
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
            .find_one(doc! { "username": username })
            .session(&mut *s)
            .await?
            .ok_or_else(|| {
                ApiError::not_found("user_not_found", format!("No user is called {username}."))
            })?;
        let tx = TxDoc::new(crate::models::KIND_GRANT, None, Some(user.id), amount);
        transfer(db, s, &tx, Guard::Debt, Bonus::default()).await?;
        Ok((user.id, user.coins + amount))
    })
}

/// Whether `viewer`'s sign-up coins are kept out of `creator`'s rooms: both
/// signed up from the same network within the configured days (`0` turns
/// the rule off).
pub fn linked(viewer: &UserDoc, creator: &UserDoc, settings: &Settings) -> bool {
    let window_ms = settings.signup_link_days * 24 * 3600 * 1000;
    match (&viewer.signup_network, &creator.signup_network) {
        (Some(a), Some(b)) if a == b && window_ms > 0 => {
            (viewer.created_at.timestamp_millis() - creator.created_at.timestamp_millis()).abs()
                <= window_ms
        }
        _ => false,
    }
}

pub mod audit;
pub use audit::{Report, audit};
