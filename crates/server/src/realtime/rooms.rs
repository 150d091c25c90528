//! `room:join` / `room:leave` and disconnects: paid entry checked on the
//! server, presence kept per user.

use mongodb::bson::oid::ObjectId;
use serde::Deserialize;
use serde_json::{Value, json};
use socketioxide::extract::{Extension, State};
use socketioxide::socket::DisconnectReason;

use crate::access::entry_role;
use crate::auth::AuthUser;
use crate::cluster::Socket;
use crate::error::{ApiError, Result};
use crate::models::Room;
use crate::realtime::presence::Stage;
use crate::realtime::{Ctx, LOBBY, hosts_channel, presence, room_channel, room_id, watch_channel};
use crate::rooms::load_room;
use crate::state::AppState;

/// The rooms this socket joined: room id → (role, live session). Membership
/// itself is the adapter's (`socket.rooms()`); this keeps what a join learned.
pub type Sessions = super::socket_map::SocketMap<Joined>;

#[derive(Clone, Copy, Debug)]
pub struct Joined {
    pub creator: bool,
    pub live_session_id: Option<ObjectId>,
    /// The session the socket is seated in (viewers).
    pub stage: Stage,
}

/// What a socket knows about a room it is in, or `not_in_room`. The adapter
/// decides membership, so a socket taken out of a room (session ended, ban)
/// is out even if it still remembers the room.
pub fn joined(s: &Socket, room: ObjectId) -> Result<Joined> {
    let in_channel = s.rooms().iter().any(|r| *r == room_channel(room));
    let known = s
        .extensions
        .get::<Sessions>()
        .and_then(|sessions| sessions.get(room));
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

/// `room:join`. The hot path of a crowd arriving: the room, the ban and the
/// payment come from this instance's caches, the seat from memory (or
/// Redis), the recent chat from memory; the database hears of it in the
/// next presence batch.
pub async fn join(cx: Ctx, req: RoomRef) -> Result<Value> {
    let Ctx {
        socket: s,
        state,
        user,
    } = cx;
    let room = state.rooms.get(&state, room_id(&req.room_id)?).await?;
    let role = entry_role(&state, &room, user.id).await?;
    let creator = role == "creator";
    let stage = Stage::of(&room);
    let sessions = s.extensions.get::<Sessions>().unwrap_or_default();
    s.join(room_channel(room.id));
    if creator {
        s.join(hosts_channel(room.id));
    }
    let earlier = sessions.insert(
        room.id,
        Joined {
            creator,
            live_session_id: room.live_session_id,
            stage,
        },
    );
    let viewer_count = if creator {
        state
            .presence
            .store
            .count(stage)
            .await
            .unwrap_or(room.viewer_count)
    } else if earlier.is_some_and(|e| !e.creator && e.stage == stage) {
        // Joining again on the same socket: already seated.
        state.presence.store.count(stage).await?
    } else {
        if let Some(earlier) = earlier.filter(|e| !e.creator) {
            presence::exit(&state, earlier.stage, user.id).await?;
        }
        match presence::enter(&state, &room, &user).await {
            Ok(count) => count,
            Err(err) => {
                sessions.remove(room.id);
                s.leave(room_channel(room.id));
                return Err(err);
            }
        }
    };
    let messages = state.chat_rings.recent(&state, room.id).await?;
    let mut room_json = Room::from(&room);
    room_json.viewer_count = viewer_count;
    Ok(json!({
        "role": role,
        "viewerCount": viewer_count,
        "messages": messages,
        "room": room_json,
    }))
}

pub async fn leave(cx: Ctx, req: RoomRef) -> Result<Value> {
    let Ctx {
        socket: s,
        state,
        user,
    } = cx;
    let room = room_id(&req.room_id)?;
    joined(&s, room)?;
    leave_room(&state, &s, user.id, room).await?;
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

/// Takes a socket out of a room: out of its channels, and unseated when it
/// was a viewer's.
pub async fn leave_room(
    state: &AppState,
    s: &Socket,
    user: ObjectId,
    room: ObjectId,
) -> Result<()> {
    s.leave([room_channel(room), hosts_channel(room)]);
    let was = s
        .extensions
        .get::<Sessions>()
        .and_then(|sessions| sessions.remove(room));
    if let Some(joined) = was.filter(|j| !j.creator) {
        presence::exit(state, joined.stage, user).await?;
    }
    Ok(())
}

/// A closed tab or a dropped connection leaves every room it was in, once
/// Socket.IO notices (ping timeout).
pub async fn on_disconnect(
    s: Socket,
    State(state): State<AppState>,
    Extension(user): Extension<AuthUser>,
    reason: DisconnectReason,
) {
    tracing::debug!(user_id = %user.id, sid = %s.id, ?reason, "socket disconnected");
    state.metrics.socket_closed();
    crate::realtime::media::close_viewing(&state, &s).await;
    let Some(sessions) = s.extensions.get::<Sessions>() else {
        return;
    };
    for (room, joined) in sessions.drain() {
        if joined.creator {
            continue;
        }
        if let Err(err) = presence::exit(&state, joined.stage, user.id).await {
            tracing::warn!(error = ?err, %room, "could not record a departure");
        }
    }
}
