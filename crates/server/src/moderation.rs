//! Bans and chat timeouts per (room, user), read on hot paths (every
//! `chat:send`, every join) through a cache. A change made anywhere in the
//! cluster is announced to every instance (`realtime::Notice::Moderated`),
//! which forgets its cached entry at once; the TTL only bounds how late a
//! change made behind the server's back (the database by hand) applies.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use mongodb::bson::oid::ObjectId;
use mongodb::bson::{DateTime, doc};

use crate::error::Result;
use crate::state::AppState;

/// How long a cached moderation state is trusted. Changes made on this
/// instance apply at once (they invalidate the entry); this bounds how
/// late a change made through another instance applies.
const MODERATION_TTL: Duration = Duration::from_secs(5);
/// Entries kept before expired ones are swept.
const MODERATION_CACHE_SWEEP: usize = 50_000;

/// A user's chat moderation in a room.
#[derive(Clone, Copy)]
pub struct Moderation {
    pub banned: bool,
    pub muted_until: Option<DateTime>,
}

/// Chat moderation per (room, user), cached so `chat:send` does not read
/// the database for every message (a hot path in a crowded room).
#[derive(Default)]
pub struct ModerationCache(Mutex<CacheState>);

#[derive(Default)]
struct CacheState {
    /// Bumped by every change: a read that started before a change must
    /// not cache what it read.
    generation: u64,
    entries: HashMap<RoomUser, (Instant, Option<Moderation>)>,
}

/// A (room, user) pair.
type RoomUser = (ObjectId, ObjectId);

impl ModerationCache {
    fn lock(&self) -> std::sync::MutexGuard<'_, CacheState> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The cached state if fresh, else the generation to pass to `put`.
    fn get(&self, key: RoomUser) -> Result<Option<Moderation>, u64> {
        let cache = self.lock();
        cache
            .entries
            .get(&key)
            .filter(|(at, _)| at.elapsed() < MODERATION_TTL)
            .map(|(_, m)| *m)
            .ok_or(cache.generation)
    }

    /// Caches what a read found, unless a change came since it started.
    fn put(&self, key: RoomUser, value: Option<Moderation>, generation: u64) {
        let mut cache = self.lock();
        if cache.generation != generation {
            return;
        }
        if cache.entries.len() >= MODERATION_CACHE_SWEEP {
            cache
                .entries
                .retain(|_, (at, _)| at.elapsed() < MODERATION_TTL);
        }
        cache.entries.insert(key, (Instant::now(), value));
    }

    /// A change to `key` is being written: forget it, and keep reads that
    /// are under way from caching the old state.
    pub fn forget(&self, key: RoomUser) {
        let mut cache = self.lock();
        cache.generation += 1;
        cache.entries.remove(&key);
    }
}

pub async fn moderation_of(
    state: &AppState,
    room: ObjectId,
    user: ObjectId,
) -> Result<Option<Moderation>> {
    let generation = match state.moderation.get((room, user)) {
        Ok(cached) => return Ok(cached),
        Err(generation) => generation,
    };
    let found = state
        .db
        .moderation()
        .find_one(doc! { "roomId": room, "userId": user })
        .await?
        .map(|m| Moderation {
            banned: m.banned,
            muted_until: m.muted_until,
        });
    state.moderation.put((room, user), found, generation);
    Ok(found)
}

/// Whether the user is banned from the room.
pub async fn is_banned(state: &AppState, room: ObjectId, user: ObjectId) -> Result<bool> {
    Ok(moderation_of(state, room, user)
        .await?
        .is_some_and(|m| m.banned))
}
