//! What the server tells clients by itself, whatever asked for it: the
//! Socket.IO channels (rooms of sockets) and the broadcasts to them, and the
//! cluster-wide [`Notice`]s. The domain (room lifecycle, ledger, media,
//! private sessions) pushes through here; the Socket.IO handlers
//! (`realtime`) are one of its users, never a dependency of the domain.
//!
//! Every broadcast goes through the adapter (`io.to(channel)`): socketioxide's
//! Redis adapter, which in a cluster reaches every instance's sockets and
//! alone publishes nowhere (`cluster::Link`).

use std::time::Duration;

use futures::StreamExt;
use futures::future::BoxFuture;
use mongodb::bson::oid::ObjectId;
use serde::{Deserialize, Serialize};
use socketioxide_redis::drivers::Driver;

use crate::state::AppState;

/// The Socket.IO room of a StreamShare room.
pub fn room_channel(room: ObjectId) -> String {
    format!("room:{}", room.to_hex())
}

/// The Socket.IO room of those watching a room's public state (live,
/// away, ended) without having entered it: a pay gate.
pub fn watch_channel(room: ObjectId) -> String {
    format!("watch:{}", room.to_hex())
}

/// The Socket.IO room of a room's creator (and, later, its moderators):
/// they hear every arrival and departure, however big the room.
pub fn hosts_channel(room: ObjectId) -> String {
    format!("hosts:{}", room.to_hex())
}

/// The Socket.IO room of those watching every room's public state (the
/// home page).
pub const LOBBY: &str = "lobby";

/// The personal Socket.IO room of a user (all their tabs).
pub fn user_channel(user: ObjectId) -> String {
    format!("user:{}", user.to_hex())
}

/// Sends an event to everyone in a channel (across instances with a
/// shared adapter), logging failures.
pub async fn broadcast<T: Serialize + ?Sized>(
    state: &AppState,
    channel: String,
    event: &str,
    data: &T,
) {
    let Some(io) = state.io() else {
        return;
    };
    if let Err(err) = io.to(channel.clone()).emit(event, data).await {
        tracing::warn!(error = %err, %channel, event, "broadcast failed");
    }
}

/// A change of a room's public state (`room:away`, `room:back`,
/// `room:ended`, `room:private`): to those in it, those watching it and the
/// lobby, each socket once.
pub async fn room_state<T: Serialize + ?Sized>(
    state: &AppState,
    room: ObjectId,
    event: &str,
    data: &T,
) {
    let Some(io) = state.io() else {
        return;
    };
    let channels = [room_channel(room), watch_channel(room), LOBBY.to_owned()];
    if let Err(err) = io.to(channels).emit(event, data).await {
        tracing::warn!(error = %err, %room, event, "room state broadcast failed");
    }
}

/// Takes every socket (on every instance) out of a room's channels: the
/// room's session is over.
pub async fn empty_room(state: &AppState, room: ObjectId) {
    let channel = room_channel(room);
    if let Some(io) = state.io()
        && let Err(err) = io
            .to(channel.clone())
            .leave([channel, hosts_channel(room)])
            .await
    {
        tracing::warn!(error = %err, %room, "could not empty the room's channel");
    }
}

/// Something every instance must do to its own sockets, whichever
/// instance it happened on.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Notice {
    /// A user was banned from a room: their sockets leave it, their media
    /// there closes, and the cached moderation is forgotten.
    Banned { room: String, user: String },
    /// A user's moderation in a room changed (timeout, unban).
    Moderated { room: String, user: String },
    /// Media streams that must stop (a private session ended): every
    /// instance closes its peers of them.
    StreamsClosed { streams: Vec<String> },
}

/// What an instance does on a notice (the Socket.IO layer's
/// `realtime::on_notice`, registered at start with
/// [`AppState::set_notice_handler`]).
pub type NoticeHandler = fn(AppState, Notice) -> BoxFuture<'static, ()>;

/// Runs a notice on every instance: published through Redis in a cluster
/// (each instance, this one too, hears it once), run here at once alone.
pub async fn notify(state: &AppState, notice: Notice) {
    if !state.cluster.enabled() {
        apply(state, notice).await;
        return;
    }
    let payload = serde_json::to_vec(&notice).unwrap_or_default();
    if let Err(err) = state
        .cluster
        .link
        .publish(state.cluster.notices_channel(), payload)
        .await
    {
        tracing::warn!(error = %err, ?notice, "Redis unreachable: notice applied here only");
        apply(state, notice).await;
    }
}

async fn apply(state: &AppState, notice: Notice) {
    match state.notice_handler() {
        Some(handler) => handler(state.clone(), notice).await,
        None => tracing::debug!(?notice, "no Socket.IO layer: notice dropped"),
    }
}

/// Hears the cluster's notices (reconnecting with Redis).
pub async fn follow_notices(state: AppState) {
    if !state.cluster.enabled() {
        return;
    }
    let mut notices = loop {
        match state
            .cluster
            .link
            .subscribe(state.cluster.notices_channel(), 4096)
            .await
        {
            Ok(stream) => break stream,
            Err(err) => {
                tracing::warn!(error = %err, "cannot subscribe to the cluster's notices; retrying");
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }
    };
    while let Some((_, payload)) = notices.next().await {
        match serde_json::from_slice::<Notice>(&payload) {
            Ok(notice) => apply(&state, notice).await,
            Err(err) => tracing::warn!(error = %err, "unreadable cluster notice"),
        }
    }
}
