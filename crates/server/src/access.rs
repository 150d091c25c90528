//! Who may watch a room's stream: the one rule every door (REST, Socket.IO
//! `room:join`, media) applies.

use mongodb::bson::doc;
use mongodb::bson::oid::ObjectId;

use crate::error::{ApiError, Result};
use crate::models::RoomDoc;
use crate::state::AppState;
use axum::http::StatusCode;

/// What the caller may do with a room's stream: `creator`, `free`, `paid`
/// (for the current live session) or `locked`.
pub async fn access_for(
    state: &AppState,
    room: &RoomDoc,
    user: Option<ObjectId>,
) -> Result<&'static str> {
    if user == Some(room.creator_id) {
        return Ok("creator");
    }
    if room.price == 0 {
        return Ok("free");
    }
    if let (Some(user), Some(session)) = (user, room.live_session_id)
        && room.is_live()
    {
        if state.entries.knows(user, session) {
            return Ok("paid");
        }
        let paid = state
            .db
            .access()
            .find_one(doc! { "viewerId": user, "liveSessionId": session })
            .await?
            .is_some();
        if paid {
            state.entries.remember(user, session);
            return Ok("paid");
        }
    }
    Ok("locked")
}

/// The role of someone entering a room, or why they may not: the creator
/// always enters; others need the room live, no ban, and a free room or a
/// payment for the current session.
pub async fn entry_role(state: &AppState, room: &RoomDoc, user: ObjectId) -> Result<&'static str> {
    if user == room.creator_id {
        return Ok("creator");
    }
    if crate::moderation::is_banned(state, room.id, user).await? {
        return Err(ApiError::refused(
            StatusCode::FORBIDDEN,
            "banned",
            "The creator has banned you from this room.",
        ));
    }
    if !room.is_live() {
        return Err(ApiError::conflict(
            "room_not_live",
            "This room is not live now.",
        ));
    }
    match access_for(state, room, Some(user)).await? {
        // 403, as the contract says for WHEP: paying is possible, but this
        // door does not take payments (402 is the stream-join's own refusal).
        "locked" => Err(ApiError::refused(
            StatusCode::FORBIDDEN,
            "payment_required",
            format!("Pay {} coins to enter this room.", room.price),
        )
        .with("price", room.price)),
        _ => Ok("viewer"),
    }
}
