//! Whether an account may act. A deleted or suspended account is refused at
//! every door (REST through `AuthUser`, Socket.IO at connect and on every
//! event, WHIP/WHEP, refresh and sign-in), and is cut off at once when the
//! change reaches the `users` change stream (see `realtime::watch_users`).
//! Answers are cached so the check costs no database round trip per request
//! or event; the change stream forgets an answer the moment it changes, and
//! the cache's lifetime only bounds how stale it gets while that stream is
//! down.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::http::StatusCode;
use mongodb::bson::oid::ObjectId;
use mongodb::bson::{Document, doc};

use crate::db::Db;
use crate::error::ApiError;
use crate::models::UserDoc;

/// How long a looked-up standing is believed (the change stream forgets it
/// sooner when it changes).
const FRESH_FOR: Duration = Duration::from_secs(30);
/// Cached accounts kept before stale ones are dropped.
const MAX_CACHED: usize = 100_000;

/// An account's standing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Standing {
    Active,
    /// `streamshare suspend`: refused until unsuspended.
    Suspended,
    /// The account no longer exists.
    Gone,
}

impl Standing {
    pub fn of(user: &UserDoc) -> Self {
        if user.suspended_at.is_some() {
            Self::Suspended
        } else {
            Self::Active
        }
    }

    /// `Ok` for an active account, else the refusal every door answers.
    pub fn check(self) -> Result<(), ApiError> {
        match self {
            Self::Active => Ok(()),
            Self::Suspended => Err(ApiError::refused(
                StatusCode::FORBIDDEN,
                "account_suspended",
                "This account is suspended.",
            )),
            Self::Gone => Err(account_closed()),
        }
    }
}

/// The refusal for a token whose account no longer exists.
pub fn account_closed() -> ApiError {
    ApiError::refused(
        StatusCode::UNAUTHORIZED,
        "account_closed",
        "This account no longer exists.",
    )
}

/// The cached standings of accounts seen lately.
#[derive(Default)]
pub struct AccountGate {
    cache: Mutex<HashMap<ObjectId, (Instant, Standing)>>,
}

impl AccountGate {
    /// Refuses a deleted or suspended account.
    pub async fn check(&self, db: &Db, user: ObjectId) -> Result<(), ApiError> {
        self.standing(db, user).await?.check()
    }

    pub async fn standing(&self, db: &Db, user: ObjectId) -> Result<Standing, ApiError> {
        let now = Instant::now();
        if let Some((seen, standing)) = self.lock().get(&user)
            && now.duration_since(*seen) < FRESH_FOR
        {
            return Ok(*standing);
        }
        let found = db
            .users()
            .clone_with_type::<Document>()
            .find_one(doc! { "_id": user })
            .projection(doc! { "suspendedAt": 1 })
            .await?;
        let standing = match found {
            None => Standing::Gone,
            Some(d) if matches!(d.get("suspendedAt"), Some(v) if v.as_null().is_none()) => {
                Standing::Suspended
            }
            Some(_) => Standing::Active,
        };
        let mut cache = self.lock();
        if cache.len() >= MAX_CACHED {
            cache.retain(|_, (seen, _)| now.duration_since(*seen) < FRESH_FOR);
        }
        cache.insert(user, (now, standing));
        Ok(standing)
    }

    /// Drops what is known of an account (it changed).
    pub fn forget(&self, user: ObjectId) {
        self.lock().remove(&user);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<ObjectId, (Instant, Standing)>> {
        self.cache.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// Suspends (or lifts the suspension of) an account by username; the
/// running servers cut it off through their change streams. Returns its id.
pub async fn set_suspended(db: &Db, username: &str, suspended: bool) -> Result<ObjectId, ApiError> {
    let update = if suspended {
        doc! { "$set": { "suspendedAt": mongodb::bson::DateTime::now() } }
    } else {
        doc! { "$set": { "suspendedAt": null } }
    };
    let user = db
        .users()
        .find_one_and_update(doc! { "username": username }, update)
        .await?
        .ok_or_else(|| {
            ApiError::not_found("user_not_found", format!("No user is called {username}."))
        })?;
    Ok(user.id)
}
