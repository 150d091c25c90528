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

// ---------------------------------------------------------------------------
// Moderators: users a creator appoints to moderate their room's chat.

/// Whether the user may moderate the room's chat: its creator or one of
/// its moderators.
pub fn may_moderate(room: &crate::models::RoomDoc, user: ObjectId) -> bool {
    room.creator_id == user || room.moderators.contains(&user)
}

/// The room's moderators as `{id, username, displayName}`, in the order
/// they were appointed.
pub async fn moderators(
    state: &AppState,
    room: &crate::models::RoomDoc,
) -> Result<Vec<crate::models::UserRef>> {
    let users: Vec<crate::models::UserDoc> = state
        .db
        .users()
        .find(doc! { "_id": { "$in": &room.moderators } })
        .await?
        .try_collect()
        .await?;
    Ok(room
        .moderators
        .iter()
        .filter_map(|id| users.iter().find(|u| u.id == *id))
        .map(|u| crate::models::UserRef {
            id: u.id.to_hex(),
            username: u.username.clone(),
            display_name: u.display_name.clone(),
        })
        .collect())
}

/// Appoints (`add`) or removes a moderator of a room, the creator only.
/// Appointing twice or removing someone who is not one changes nothing.
/// The room's cached copy is dropped here, and on every other instance by
/// the `rooms` change stream; those in the room hear `room:moderators`.
pub async fn set_moderator(
    state: &AppState,
    room: crate::ids::RoomId,
    caller: ObjectId,
    target: crate::ids::UserId,
    add: bool,
) -> Result<crate::models::RoomDoc> {
    let not_found = <crate::ids::Room as crate::ids::Kind>::not_found;
    let room = state
        .db
        .rooms()
        .find_one(doc! { "_id": room.get() })
        .await?
        .ok_or_else(not_found)?;
    if room.creator_id != caller {
        return Err(ApiError::forbidden(
            "Only the room's creator can appoint or remove its moderators.",
        ));
    }
    let target = target.get();
    if target == caller {
        return Err(ApiError::invalid(
            "userId",
            "The creator moderates their room already.",
        ));
    }
    let update = if add {
        let exists = state
            .db
            .users()
            .find_one(doc! { "_id": target })
            .await?
            .is_some();
        if !exists {
            return Err(<crate::ids::User as crate::ids::Kind>::not_found());
        }
        if !room.moderators.contains(&target)
            && room.moderators.len() >= crate::models::MAX_MODERATORS
        {
            return Err(ApiError::conflict(
                "too_many_moderators",
                format!(
                    "A room has at most {} moderators.",
                    crate::models::MAX_MODERATORS
                ),
            ));
        }
        doc! { "$addToSet": { "moderators": target } }
    } else {
        doc! { "$pull": { "moderators": target } }
    };
    let updated = state
        .db
        .rooms()
        .find_one_and_update(doc! { "_id": room.id }, update)
        .return_document(mongodb::options::ReturnDocument::After)
        .await?
        .ok_or_else(not_found)?;
    state.rooms.forget(room.id);
    let ids: Vec<String> = updated.moderators.iter().map(|id| id.to_hex()).collect();
    crate::push::broadcast(
        state,
        crate::push::room_channel(room.id),
        "room:moderators",
        &serde_json::json!({ "roomId": room.id.to_hex(), "moderatorIds": ids }),
    )
    .await;
    Ok(updated)
}
