//! Bans and chat timeouts, read on hot paths (every `chat:send`, every
//! join) through a cache of each room's whole moderation list: a crowd
//! joining a room costs one read per room, not one per viewer. A change
//! made anywhere in the cluster is announced to every instance
//! (`push::Notice::Moderated`), which forgets the room's list at once;
//! the TTL only bounds how late a change made behind the server's back
//! (the database by hand) applies.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures::TryStreamExt;
use mongodb::bson::oid::ObjectId;
use mongodb::bson::{DateTime, doc};

use axum::http::StatusCode;

use crate::error::{ApiError, Result};
use crate::state::AppState;

/// How long a room's cached list is trusted.
const MODERATION_TTL: Duration = Duration::from_secs(5);
/// Rooms kept before expired ones are swept.
const MODERATION_CACHE_SWEEP: usize = 50_000;

/// A user's chat moderation in a room.
#[derive(Clone, Copy)]
pub struct Moderation {
    pub banned: bool,
    pub muted_until: Option<DateTime>,
}

/// Who is banned or timed out in a room.
type RoomList = Arc<HashMap<ObjectId, Moderation>>;

/// Each room's moderation list, cached.
#[derive(Default)]
pub struct ModerationCache(Mutex<CacheState>);

#[derive(Default)]
struct CacheState {
    /// Bumped by every change: a read that started before a change must
    /// not cache what it read.
    generation: u64,
    rooms: HashMap<ObjectId, (Instant, RoomList)>,
}

impl ModerationCache {
    fn lock(&self) -> std::sync::MutexGuard<'_, CacheState> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The room's cached list if fresh, else the generation to pass to `put`.
    fn get(&self, room: ObjectId) -> std::result::Result<RoomList, u64> {
        let cache = self.lock();
        cache
            .rooms
            .get(&room)
            .filter(|(at, _)| at.elapsed() < MODERATION_TTL)
            .map(|(_, list)| list.clone())
            .ok_or(cache.generation)
    }

    /// Caches what a read found, unless a change came since it started.
    fn put(&self, room: ObjectId, list: RoomList, generation: u64) {
        let mut cache = self.lock();
        if cache.generation != generation {
            return;
        }
        if cache.rooms.len() >= MODERATION_CACHE_SWEEP {
            cache
                .rooms
                .retain(|_, (at, _)| at.elapsed() < MODERATION_TTL);
        }
        cache.rooms.insert(room, (Instant::now(), list));
    }

    /// A change to (room, user) is being written: forget the room's list,
    /// and keep reads that are under way from caching the old state.
    pub fn forget(&self, (room, _user): (ObjectId, ObjectId)) {
        let mut cache = self.lock();
        cache.generation += 1;
        cache.rooms.remove(&room);
    }
}

/// A user's moderation in a room (none: free to chat).
pub async fn moderation_of(
    state: &AppState,
    room: ObjectId,
    user: ObjectId,
) -> Result<Option<Moderation>> {
    let list = match state.moderation.get(room) {
        Ok(list) => list,
        Err(generation) => {
            let now = DateTime::now();
            let found: Vec<_> = state
                .db
                .moderation()
                .find(doc! { "roomId": room, "$or": [
                    { "banned": true },
                    { "mutedUntil": { "$gt": now } },
                ] })
                .await?
                .try_collect()
                .await?;
            let list: RoomList = Arc::new(
                found
                    .into_iter()
                    .map(|m| {
                        let moderation = Moderation {
                            banned: m.banned,
                            muted_until: m.muted_until,
                        };
                        (m.user_id, moderation)
                    })
                    .collect(),
            );
            state.moderation.put(room, list.clone(), generation);
            list
        }
    };
    Ok(list.get(&user).copied())
}

/// Whether the user is banned from the room.
pub async fn is_banned(state: &AppState, room: ObjectId, user: ObjectId) -> Result<bool> {
    Ok(moderation_of(state, room, user)
        .await?
        .is_some_and(|m| m.banned))
}

/// Refuses a banned (403 `banned`) or timed-out (403 `timed_out`) user's
/// words in a room's chat.
pub async fn check_not_muted(state: &AppState, room: ObjectId, user: ObjectId) -> Result<()> {
    let Some(m) = moderation_of(state, room, user).await? else {
        return Ok(());
    };
    if m.banned {
        return Err(ApiError::refused(
            StatusCode::FORBIDDEN,
            "banned",
            "The creator has banned you from this room's chat.",
        ));
    }
    if let Some(until) = m.muted_until
        && until > DateTime::now()
    {
        let left = (until.timestamp_millis() - DateTime::now().timestamp_millis()) / 1000 + 1;
        return Err(ApiError::refused(
            StatusCode::FORBIDDEN,
            "timed_out",
            format!("The creator has timed you out; you can chat again in {left} s."),
        )
        .with("until", crate::models::rfc3339(until)));
    }
    Ok(())
}
