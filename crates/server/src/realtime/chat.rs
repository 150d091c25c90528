//! Chat in a room: `chat:send` (trimmed, 1–500 characters, members only,
//! rate-limited, persisted, broadcast, with the author's display name and
//! badge) and the moderation of the room's creator and the moderators they
//! appointed: `chat:delete`, `chat:timeout`, `chat:ban`, `chat:unban`.

use axum::http::StatusCode;
use mongodb::bson::oid::ObjectId;
use mongodb::bson::{Bson, DateTime, doc};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::auth::AuthUser;
use crate::error::{ApiError, Result};
use crate::models::{ChatDoc, ChatMessage, SocketUser};
use crate::realtime::rooms::joined;
use crate::realtime::{Ctx, Notice, broadcast, notify, room_channel, room_id};
use crate::rooms::load_room;
use crate::state::AppState;

pub use crate::domain::MAX_CHAT_CHARS;
/// Longest chat timeout a creator may give, in seconds.
pub const MAX_TIMEOUT_SECS: i64 = 7 * 24 * 3600;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SendReq {
    room_id: String,
    text: String,
}

pub async fn send(cx: Ctx, req: SendReq) -> Result<Value> {
    let Ctx {
        socket: s,
        state,
        user,
    } = cx;
    let room = room_id(&req.room_id)?;
    let membership = joined(&s, room)?;
    let text = req.text.trim();
    let chars = text.chars().count();
    if chars == 0 || chars > MAX_CHAT_CHARS {
        return Err(ApiError::invalid(
            "text",
            format!("A message is 1 to {MAX_CHAT_CHARS} characters long."),
        ));
    }
    if !membership.creator {
        crate::moderation::check_not_muted(&state, room, user.id).await?;
    }
    let room_doc = state.rooms.get(&state, room).await?;
    let badge = if membership.creator {
        Some("host".to_owned())
    } else if room_doc.moderators.contains(&user.id) {
        Some("moderator".to_owned())
    } else {
        None
    };
    let display_name = display_name(&s, &state, &user).await?;
    state.chat_limiter.check(user.id).await.map_err(|wait| {
        ApiError::refused(
            StatusCode::TOO_MANY_REQUESTS,
            "rate_limited",
            "You are sending messages too fast; slow down.",
        )
        .with("retryAfterMs", wait.as_millis() as u64)
    })?;
    let message = ChatDoc {
        id: ObjectId::new(),
        room_id: room,
        live_session_id: membership.live_session_id,
        user_id: user.id,
        username: user.username.clone(),
        text: text.to_owned(),
        sent_at: DateTime::now(),
        deleted: false,
        kind: None,
        tip_amount: None,
        display_name: Some(display_name),
        badge,
    };
    state.db.chat().insert_one(&message).await?;
    state.chat_rings.sent(&message);
    state.metrics.chat_message();
    let message = ChatMessage::from(&message);
    broadcast(&state, room_channel(room), "chat:message", &message).await;
    Ok(json!({ "message": message }))
}

/// The socket's user's display name, read once per socket.
#[derive(Clone)]
struct DisplayName(String);

async fn display_name(
    s: &crate::cluster::Socket,
    state: &AppState,
    user: &AuthUser,
) -> Result<String> {
    if let Some(DisplayName(name)) = s.extensions.get::<DisplayName>() {
        return Ok(name);
    }
    let name = state
        .db
        .users()
        .find_one(doc! { "_id": user.id })
        .await?
        .map(|u| u.display_name)
        .filter(|n| !n.trim().is_empty())
        .unwrap_or_else(|| user.username.clone());
    s.extensions.insert(DisplayName(name.clone()));
    Ok(name)
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeleteReq {
    room_id: String,
    message_id: String,
}

/// Deletes a message: the room's creator and its moderators may delete
/// any, a user their own.
pub async fn delete(cx: Ctx, req: DeleteReq) -> Result<Value> {
    let Ctx {
        socket: s,
        state,
        user,
    } = cx;
    let room = room_id(&req.room_id)?;
    let membership = joined(&s, room)?;
    let not_found = <crate::ids::Message as crate::ids::Kind>::not_found;
    let message_id = crate::ids::MessageId::parse(&req.message_id)?.get();
    let mut filter = doc! { "_id": message_id, "roomId": room, "deleted": false };
    // Read from the database, not a cache: a moderator just removed can
    // no longer delete, whichever instance they are on.
    let moderator = membership.creator
        || crate::moderation::may_moderate(&load_room(&state, room).await?, user.id);
    if !moderator {
        filter.insert("userId", user.id);
    }
    let updated = state
        .db
        .chat()
        .update_one(filter, doc! { "$set": { "deleted": true } })
        .await?;
    if updated.matched_count == 0 {
        let exists = state
            .db
            .chat()
            .find_one(doc! { "_id": message_id, "roomId": room, "deleted": false })
            .await?
            .is_some();
        return Err(if exists {
            ApiError::forbidden("Only the creator, a moderator or the author can delete a message.")
        } else {
            not_found()
        });
    }
    state.chat_rings.deleted(Some(room), message_id);
    let event = json!({ "roomId": room.to_hex(), "messageId": message_id.to_hex() });
    broadcast(&state, room_channel(room), "chat:deleted", &event).await;
    Ok(json!({}))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TargetReq {
    room_id: String,
    user_id: String,
    seconds: Option<i64>,
}

/// The room and the moderated user, after checking the caller is the
/// creator or one of its moderators (read from the database, so a removal
/// applies at once on every instance). Moderators cannot moderate the
/// creator or each other.
async fn moderation_target(
    state: &AppState,
    caller: &AuthUser,
    req: &TargetReq,
) -> Result<(ObjectId, AuthUser)> {
    let room = load_room(state, room_id(&req.room_id)?).await?;
    if !crate::moderation::may_moderate(&room, caller.id) {
        return Err(ApiError::forbidden(
            "Only the room's creator or its moderators can moderate it.",
        ));
    }
    let not_found = <crate::ids::User as crate::ids::Kind>::not_found;
    let target = crate::ids::UserId::parse(&req.user_id)?.get();
    if target == caller.id {
        return Err(ApiError::invalid("userId", "You cannot moderate yourself."));
    }
    if room.creator_id != caller.id && crate::moderation::may_moderate(&room, target) {
        return Err(ApiError::forbidden(
            "Moderators cannot moderate the creator or another moderator.",
        ));
    }
    let user = state
        .db
        .users()
        .find_one(doc! { "_id": target })
        .await?
        .ok_or_else(not_found)?;
    Ok((
        room.id,
        AuthUser {
            id: user.id,
            username: user.username,
        },
    ))
}

async fn set_moderation(
    state: &AppState,
    room: ObjectId,
    user: ObjectId,
    set: mongodb::bson::Document,
) -> Result<()> {
    let mut set = set;
    set.insert("updatedAt", DateTime::now());
    // Defaults for a new document, for the fields this change leaves alone.
    let mut defaults = doc! {};
    for key in ["banned", "mutedUntil"] {
        if !set.contains_key(key) {
            let value = if key == "banned" {
                Bson::Boolean(false)
            } else {
                Bson::Null
            };
            defaults.insert(key, value);
        }
    }
    // Forgotten before (reads under way won't cache the old state) and
    // after (whatever the write's outcome, the next read asks the database).
    state.moderation.forget((room, user));
    let written = state
        .db
        .moderation()
        .update_one(
            doc! { "roomId": room, "userId": user },
            doc! { "$set": set, "$setOnInsert": defaults },
        )
        .upsert(true)
        .await;
    state.moderation.forget((room, user));
    written?;
    let notice = Notice::Moderated {
        room: room.to_hex(),
        user: user.to_hex(),
    };
    notify(state, notice).await;
    Ok(())
}

fn socket_user(user: &AuthUser) -> SocketUser {
    SocketUser {
        id: user.id.to_hex(),
        username: user.username.clone(),
    }
}

/// Mutes a user in the room's chat for `seconds` (default 300).
pub async fn timeout(cx: Ctx, req: TargetReq) -> Result<Value> {
    let Ctx { state, user, .. } = cx;
    let seconds = req.seconds.unwrap_or(300);
    if !(1..=MAX_TIMEOUT_SECS).contains(&seconds) {
        return Err(ApiError::invalid(
            "seconds",
            format!("A timeout lasts 1 to {MAX_TIMEOUT_SECS} seconds."),
        ));
    }
    let (room, target) = moderation_target(&state, &user, &req).await?;
    let until = DateTime::from_millis(DateTime::now().timestamp_millis() + seconds * 1000);
    set_moderation(&state, room, target.id, doc! { "mutedUntil": until }).await?;
    let event = json!({
        "roomId": room.to_hex(),
        "user": socket_user(&target),
        "seconds": seconds,
        "until": crate::models::rfc3339(until),
    });
    broadcast(&state, room_channel(room), "chat:timeout", &event).await;
    Ok(json!({ "until": crate::models::rfc3339(until) }))
}

/// Bans a user from the room: they are taken out of it now (their media
/// too, once media exists) and refused on every later join.
pub async fn ban(cx: Ctx, req: TargetReq) -> Result<Value> {
    let Ctx { state, user, .. } = cx;
    let (room, target) = moderation_target(&state, &user, &req).await?;
    set_moderation(&state, room, target.id, doc! { "banned": true }).await?;
    let event = json!({ "roomId": room.to_hex(), "user": socket_user(&target) });
    broadcast(&state, room_channel(room), "chat:ban", &event).await;
    // An encrypted room's studio rotates its key past the banned user.
    super::e2ee::revoke(&state, room, target.id).await;
    // Every instance takes the user's sockets and media out of the room.
    notify(
        &state,
        Notice::Banned {
            room: room.to_hex(),
            user: target.id.to_hex(),
        },
    )
    .await;
    Ok(json!({}))
}

/// Lifts a ban and a timeout.
pub async fn unban(cx: Ctx, req: TargetReq) -> Result<Value> {
    let Ctx { state, user, .. } = cx;
    let (room, target) = moderation_target(&state, &user, &req).await?;
    set_moderation(
        &state,
        room,
        target.id,
        doc! { "banned": false, "mutedUntil": null },
    )
    .await?;
    Ok(json!({}))
}
