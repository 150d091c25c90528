//! `room:join` / `room:leave` and disconnects: paid entry checked on the
//! server, presence kept per user.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use futures::TryStreamExt;
use mongodb::bson::doc;
use mongodb::bson::oid::ObjectId;
use serde::Deserialize;
use serde_json::{Value, json};
use socketioxide::extract::{Extension, SocketRef, State};
use socketioxide::socket::DisconnectReason;

use crate::access::entry_role;
use crate::auth::AuthUser;
use crate::error::{ApiError, Result};
use crate::models::{ChatMessage, Room};
use crate::realtime::{Ctx, LOBBY, presence, room_channel, room_id, watch_channel};
use crate::routes::rooms::load_room;
use crate::state::AppState;

/// How many recent messages a join returns.
pub const HISTORY_ON_JOIN: i64 = 50;

/// The rooms this socket joined: room id → (role, live session). Membership
/// itself is the adapter's (`socket.rooms()`); this keeps what a join learned.
#[derive(Clone, Default)]
pub struct Sessions(Arc<Mutex<HashMap<ObjectId, Joined>>>);

#[derive(Clone, Copy, Debug)]
pub struct Joined {
    pub creator: bool,
    pub live_session_id: Option<ObjectId>,
}

impl Sessions {
    fn insert(&self, room: ObjectId, joined: Joined) {
        self.0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(room, joined);
    }

    fn remove(&self, room: ObjectId) -> Option<Joined> {
        self.0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&room)
    }

    fn drain(&self) -> Vec<(ObjectId, Joined)> {
        self.0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .drain()
            .collect()
    }
}

/// What a socket knows about a room it is in, or `not_in_room`. The adapter
/// decides membership, so a socket taken out of a room (session ended, ban)
/// is out even if it still remembers the room.
pub fn joined(s: &SocketRef, room: ObjectId) -> Result<Joined> {
    let in_channel = s.rooms().iter().any(|r| *r == room_channel(room));
    let known = s
        .extensions
        .get::<Sessions>()
        .and_then(|sessions| sessions.0.lock().ok()?.get(&room).copied());
    match known {
        Some(joined) if in_channel => Ok(joined),
        _ => Err(ApiError::conflict("not_in_room", "Join the room first.")),
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RoomRef {
    room_id: String,
}

pub async fn join(cx: Ctx, req: RoomRef) -> Result<Value> {
    let Ctx {
        socket: s,
        state,
        user,
    } = cx;
    let room = load_room(&state, room_id(&req.room_id)?).await?;
    let role = entry_role(&state, &room, user.id).await?;
    s.join(room_channel(room.id));
    let sessions = s.extensions.get::<Sessions>().unwrap_or_default();
    sessions.insert(
        room.id,
        Joined {
            creator: role == "creator",
            live_session_id: room.live_session_id,
        },
    );
    let viewer_count = if role == "creator" {
        room.viewer_count
    } else {
        presence::enter(&state, &room, &user, &s.id.to_string()).await?
    };
    let messages = recent_messages(&state, room.id).await?;
    let mut room_json = Room::from(&room);
    room_json.viewer_count = viewer_count;
    Ok(json!({
        "role": role,
        "viewerCount": viewer_count,
        "messages": messages,
        "room": room_json,
    }))
}

/// The last messages of a room, oldest first.
async fn recent_messages(state: &AppState, room: ObjectId) -> Result<Vec<ChatMessage>> {
    let mut newest: Vec<_> = state
        .db
        .chat()
        .find(doc! { "roomId": room, "deleted": false })
        .sort(doc! { "_id": -1 })
        .limit(HISTORY_ON_JOIN)
        .await?
        .try_collect()
        .await?;
    newest.reverse();
    Ok(newest.iter().map(ChatMessage::from).collect())
}

pub async fn leave(cx: Ctx, req: RoomRef) -> Result<Value> {
    let Ctx {
        socket: s,
        state,
        user,
    } = cx;
    let room = room_id(&req.room_id)?;
    joined(&s, room)?;
    leave_room(&state, &s, &user, room).await?;
    Ok(json!({}))
}

/// `room:watch`: follow a room's public state (`room:away`, `room:back`,
/// `room:ended`) without entering it, as a pay gate does. Anyone signed in.
pub async fn watch(cx: Ctx, req: RoomRef) -> Result<Value> {
    let room = load_room(&cx.state, room_id(&req.room_id)?).await?;
    cx.socket.join(watch_channel(room.id));
    Ok(json!({ "room": Room::from(&room) }))
}

pub async fn unwatch(cx: Ctx, req: RoomRef) -> Result<Value> {
    cx.socket.leave(watch_channel(room_id(&req.room_id)?));
    Ok(json!({}))
}

/// `lobby:join`: follow every room's public state (the home page).
pub async fn join_lobby(cx: Ctx, _: Value) -> Result<Value> {
    cx.socket.join(LOBBY);
    Ok(json!({}))
}

pub async fn leave_lobby(cx: Ctx, _: Value) -> Result<Value> {
    cx.socket.leave(LOBBY);
    Ok(json!({}))
}

async fn leave_room(
    state: &AppState,
    s: &SocketRef,
    user: &AuthUser,
    room: ObjectId,
) -> Result<()> {
    s.leave(room_channel(room));
    let was = s
        .extensions
        .get::<Sessions>()
        .and_then(|sessions| sessions.remove(room));
    if matches!(was, Some(j) if !j.creator) {
        presence::exit(state, room, user, &s.id.to_string()).await?;
    }
    Ok(())
}

/// A closed tab or a dropped connection leaves every room it was in, once
/// Socket.IO notices (ping timeout).
pub async fn on_disconnect(
    s: SocketRef,
    State(state): State<AppState>,
    Extension(user): Extension<AuthUser>,
    reason: DisconnectReason,
) {
    tracing::debug!(user_id = %user.id, sid = %s.id, ?reason, "socket disconnected");
    state
        .metrics
        .sockets
        .fetch_sub(1, std::sync::atomic::Ordering::Relaxed);
    crate::realtime::media::close_viewing(&state, &s).await;
    let Some(sessions) = s.extensions.get::<Sessions>() else {
        return;
    };
    for (room, joined) in sessions.drain() {
        if joined.creator {
            continue;
        }
        if let Err(err) = presence::exit(&state, room, &user, &s.id.to_string()).await {
            tracing::warn!(error = ?err, %room, "could not record a departure");
        }
    }
}
