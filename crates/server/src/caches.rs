//! What a join reads, kept in memory per instance so a crowd arriving at
//! once costs the database (almost) nothing: the room, who paid for its
//! session, and its recent chat. The database stays the record; these are
//! kept right by what this instance writes, by MongoDB change streams for
//! what others write (`realtime::follow_changes`), and by short lifetimes.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use futures::TryStreamExt;
use mongodb::bson::doc;
use mongodb::bson::oid::ObjectId;

use crate::error::Result;
use crate::models::{ChatDoc, ChatMessage, RoomDoc};
use crate::state::AppState;

/// How long a cached room is trusted without news of a change (a change
/// stream event usually drops it much sooner).
const ROOM_TTL: Duration = Duration::from_secs(1);
/// Paid entries remembered before the set starts over.
const MAX_ENTRIES: usize = 200_000;
/// Rooms whose chat is held before the least recently used go.
const MAX_RINGS: usize = 10_000;
/// How many recent messages a join returns.
pub const HISTORY_ON_JOIN: usize = 50;

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// Rooms as last read, for a short while.
#[derive(Default)]
pub struct RoomCache(Mutex<HashMap<ObjectId, (Instant, RoomDoc)>>);

impl RoomCache {
    /// The room, from memory when fresh and live, else from the database.
    pub async fn get(&self, state: &AppState, id: ObjectId) -> Result<RoomDoc> {
        // Only a live room is served from memory: one that just went live
        // is never refused as offline by a stale copy.
        if let Some((at, room)) = lock(&self.0).get(&id)
            && at.elapsed() < ROOM_TTL
            && room.is_live()
        {
            return Ok(room.clone());
        }
        let room = crate::rooms::load_room(state, id).await?;
        let mut rooms = lock(&self.0);
        if rooms.len() > MAX_RINGS {
            rooms.retain(|_, (at, _)| at.elapsed() < ROOM_TTL);
        }
        rooms.insert(id, (Instant::now(), room.clone()));
        Ok(room)
    }

    /// The room changed (here or elsewhere): read it afresh next time.
    pub fn forget(&self, id: ObjectId) {
        lock(&self.0).remove(&id);
    }
}

/// (viewer, live session) pairs known to be paid for. Only what was found
/// (or just written) is remembered: a payment is never taken back while
/// its session runs, so a remembered entry cannot go stale.
#[derive(Default)]
pub struct EntryCache(Mutex<HashSet<(ObjectId, ObjectId)>>);

impl EntryCache {
    pub fn knows(&self, viewer: ObjectId, session: ObjectId) -> bool {
        lock(&self.0).contains(&(viewer, session))
    }

    pub fn remember(&self, viewer: ObjectId, session: ObjectId) {
        let mut entries = lock(&self.0);
        if entries.len() >= MAX_ENTRIES {
            entries.clear();
        }
        entries.insert((viewer, session));
    }
}

/// The last messages of rooms people are joining.
#[derive(Default)]
pub struct ChatRings(Mutex<HashMap<ObjectId, Ring>>);

#[derive(Default)]
struct Ring {
    /// By id, so oldest first and each message once however it arrived.
    messages: BTreeMap<ObjectId, ChatMessage>,
    /// Deleted while the ring was being filled: not to come back.
    deleted: HashSet<ObjectId>,
    seeded: bool,
    used: Option<Instant>,
}

impl Ring {
    fn trim(&mut self) {
        while self.messages.len() > HISTORY_ON_JOIN {
            self.messages.pop_first();
        }
    }
}

impl ChatRings {
    /// The room's recent messages, oldest first: from memory, or read once
    /// from the database (messages that arrive meanwhile are kept).
    pub async fn recent(&self, state: &AppState, room: ObjectId) -> Result<Vec<ChatMessage>> {
        {
            let mut rings = lock(&self.0);
            if let Some(ring) = rings.get_mut(&room)
                && ring.seeded
            {
                ring.used = Some(Instant::now());
                return Ok(ring.messages.values().cloned().collect());
            }
            if rings.len() >= MAX_RINGS {
                let oldest = rings.iter().min_by_key(|(_, r)| r.used).map(|(id, _)| *id);
                if let Some(oldest) = oldest {
                    rings.remove(&oldest);
                }
            }
            rings.entry(room).or_default();
        }
        let newest: Vec<ChatDoc> = state
            .db
            .chat()
            .find(doc! { "roomId": room, "deleted": false })
            .sort(doc! { "_id": -1 })
            .limit(HISTORY_ON_JOIN as i64)
            .await?
            .try_collect()
            .await?;
        let mut rings = lock(&self.0);
        let ring = rings.entry(room).or_default();
        for message in &newest {
            if !ring.deleted.contains(&message.id) {
                ring.messages
                    .entry(message.id)
                    .or_insert_with(|| ChatMessage::from(message));
            }
        }
        ring.trim();
        ring.seeded = true;
        ring.deleted.clear();
        ring.used = Some(Instant::now());
        Ok(ring.messages.values().cloned().collect())
    }

    /// A message was sent (here, or elsewhere and seen in the change
    /// stream): kept if its room's chat is held.
    pub fn sent(&self, message: &ChatDoc) {
        if let Some(ring) = lock(&self.0).get_mut(&message.room_id) {
            ring.messages
                .entry(message.id)
                .or_insert_with(|| ChatMessage::from(message));
            ring.trim();
        }
    }

    /// A message was deleted.
    pub fn deleted(&self, room: Option<ObjectId>, message: ObjectId) {
        let mut rings = lock(&self.0);
        let drop_from = |ring: &mut Ring| {
            ring.messages.remove(&message);
            if !ring.seeded {
                ring.deleted.insert(message);
            }
        };
        match room {
            Some(room) => {
                if let Some(ring) = rings.get_mut(&room) {
                    drop_from(ring);
                }
            }
            None => rings.values_mut().for_each(drop_from),
        }
    }

    /// The room's session ended: its chat is read afresh next time.
    pub fn forget(&self, room: ObjectId) {
        lock(&self.0).remove(&room);
    }
}
