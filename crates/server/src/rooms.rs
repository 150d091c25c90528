//! The room lifecycle: loading a room, its creator's rights, a live session
//! starting and ending. HTTP routes, Socket.IO handlers, media, the cascade
//! and the CLI all call these; what an ending must tell clients goes out
//! through [`crate::push`].

use std::time::Duration;

use futures::TryStreamExt;
use mongodb::bson::oid::ObjectId;
use mongodb::bson::{Bson, DateTime, Document, doc};
use mongodb::options::ReturnDocument;
use serde_json::json;

use crate::auth::AuthUser;
use crate::error::{ApiError, Result};
use crate::ids::{Kind, Room, RoomId};
use crate::models::{LiveSessionDoc, MediaHome, RoomDoc, STATUS_LIVE, STATUS_OFFLINE, rfc3339};
use crate::state::AppState;

pub fn room_not_found() -> ApiError {
    Room::not_found()
}

pub async fn load_room(state: &AppState, id: impl Into<RoomId>) -> Result<RoomDoc> {
    state
        .db
        .rooms()
        .find_one(doc! { "_id": id.into().get() })
        .await?
        .ok_or_else(room_not_found)
}

pub fn ensure_creator(room: &RoomDoc, user: &AuthUser) -> Result<()> {
    if room.creator_id != user.id {
        return Err(ApiError::forbidden("Only the room's creator can do that."));
    }
    Ok(())
}

/// Starts a live session of the room (its creator only); a room already live
/// keeps its running session.
pub async fn start_session(state: &AppState, id: RoomId, user: ObjectId) -> Result<RoomDoc> {
    let id = id.get();
    let started = crate::transaction!(&state.db, |s| {
        let room = state
            .db
            .rooms()
            .find_one(doc! { "_id": id })
            .session(&mut *s)
            .await?
            .ok_or_else(room_not_found)?;
        if room.creator_id != user {
            return Err(ApiError::forbidden("Only the room's creator can do that."));
        }
        if room.is_live() {
            return Ok((room, false));
        }
        let now = DateTime::now();
        let session = LiveSessionDoc {
            id: ObjectId::new(),
            room_id: room.id,
            creator_id: room.creator_id,
            started_at: now,
            ended_at: None,
            refunds_settled_at: None,
        };
        state
            .db
            .live_sessions()
            .insert_one(&session)
            .session(&mut *s)
            .await?;
        state
            .db
            .rooms()
            .find_one_and_update(
                doc! { "_id": room.id, "liveSessionId": Bson::Null },
                doc! { "$set": {
                    "status": STATUS_LIVE, "liveRank": 1,
                    "liveSessionId": session.id, "startedAt": now, "viewerCount": 0,
                    "awayUntil": Bson::Null,
                } },
            )
            .return_document(ReturnDocument::After)
            .session(&mut *s)
            .await?
            .map(|room| (room, true))
            .ok_or(ApiError::Retry)
    });
    let (room, started) = started?;
    if started {
        went_live(state, &room).await;
    }
    Ok(room)
}

/// A session just started: the lobby (every home page, signed in or not)
/// hears `room:live` with the room, and the creator's followers get their
/// alert (stored, then pushed to their personal channel) in the background,
/// so going live never waits for a big following.
async fn went_live(state: &AppState, room: &RoomDoc) {
    crate::push::broadcast(
        state,
        crate::push::LOBBY.to_owned(),
        "room:live",
        &json!({ "room": crate::models::Room::from(room) }),
    )
    .await;
    let state = state.clone();
    let room = room.clone();
    tokio::spawn(async move {
        if let Err(err) = crate::notifications::live_alerts(&state, &room).await {
            tracing::warn!(error = ?err, room_id = %room.id, "could not alert the followers");
        }
    });
}

/// What [`end_session`] did.
pub struct Ending {
    /// The room as it is now.
    pub room: RoomDoc,
    /// The live session this call ended; `None` when the room was not live
    /// or someone else ended (or restarted) it meanwhile.
    pub ended: Option<ObjectId>,
}

/// Takes a room offline and records the end of its live session (the
/// creator ending it, the publisher gone for good, an account suspended, an
/// operator). Those in the room and watching it hear `room:ended` and are
/// taken out, the room's media closes, its presence and view history close,
/// and the session's refunds are settled. Offline already is fine.
pub async fn end_session(state: &AppState, room: RoomDoc) -> Result<Ending> {
    let Some(session_id) = room.live_session_id else {
        return Ok(Ending { room, ended: None });
    };
    let now = DateTime::now();
    let ended = crate::transaction!(&state.db, |s| {
        state
            .db
            .live_sessions()
            .update_one(
                doc! { "_id": session_id, "endedAt": Bson::Null },
                doc! { "$set": { "endedAt": now } },
            )
            .session(&mut *s)
            .await?;
        let updated = state
            .db
            .rooms()
            .find_one_and_update(
                doc! { "_id": room.id, "liveSessionId": session_id },
                doc! { "$set": {
                    "status": STATUS_OFFLINE, "liveRank": 0, "liveSessionId": Bson::Null,
                    "startedAt": Bson::Null, "viewerCount": 0, "awayUntil": Bson::Null,
                    "mediaHome": Bson::Null,
                } },
            )
            .return_document(ReturnDocument::After)
            .session(&mut *s)
            .await?;
        Ok(updated)
    })?;
    match ended {
        Some(room) => {
            tracing::info!(room_id = %room.id, %session_id, "live session ended");
            close_session(state, room.id, session_id).await;
            crate::refunds::settle_session(state, session_id).await;
            Ok(Ending {
                room,
                ended: Some(session_id),
            })
        }
        None => Ok(Ending {
            room: load_room(state, room.id).await?,
            ended: None,
        }),
    }
}

/// After a session ended: everyone in the room (and watching it) hears
/// `room:ended`, those in it are taken out, the caches forget the room, its
/// media closes, and its presence and view history close.
async fn close_session(state: &AppState, room: ObjectId, session: ObjectId) {
    crate::push::room_state(
        state,
        room,
        "room:ended",
        &json!({ "roomId": room.to_hex() }),
    )
    .await;
    crate::push::empty_room(state, room).await;
    state.rooms.forget(room);
    state.chat_rings.forget(room);
    if let Some(media) = state.media() {
        media.sfu.close_room(&crate::media::room_key(room)).await;
    }
    let stage = crate::presence::Stage { room, session };
    if let Err(err) = crate::presence::clear_room(state, stage).await {
        tracing::warn!(error = ?err, %room, "could not clear the room's presence");
    }
}

/// Every room live right now (of one creator, when given).
pub async fn live_rooms(state: &AppState, creator: Option<ObjectId>) -> Result<Vec<RoomDoc>> {
    let mut filter = doc! { "status": STATUS_LIVE };
    if let Some(creator) = creator {
        filter.insert("creatorId", creator);
    }
    Ok(state.db.rooms().find(filter).await?.try_collect().await?)
}

/// Ends every live session of a creator (suspended, deleted, signed out by
/// an operator), logging what could not be ended.
pub async fn end_all_of(state: &AppState, creator: ObjectId) {
    match live_rooms(state, Some(creator)).await {
        Ok(rooms) => {
            for room in rooms {
                let id = room.id;
                if let Err(err) = end_session(state, room).await {
                    tracing::warn!(error = ?err, room = %id, "could not end a live session");
                }
            }
        }
        Err(err) => {
            tracing::warn!(error = ?err, %creator, "could not list the creator's live rooms")
        }
    }
}

// ---------------------------------------------------------------------------
// Away: the publisher's media gone for a while, and the room's media home.

/// Whether `home` is this instance: its id, or (a restarted process with a
/// generated id) the same internal address.
pub fn is_me(state: &AppState, home: &MediaHome) -> bool {
    home.instance_id == state.settings.instance_id() || home.url == state.settings.internal_url()
}

/// Whether this instance answers for the room's live session when it stops
/// or starts: the room is homed here, or has no home and this is the one
/// process of a single-process set-up.
pub fn homed_here(state: &AppState, room: &RoomDoc) -> bool {
    match &room.media_home {
        Some(home) => is_me(state, home),
        None => !state.settings.cluster(),
    }
}

/// The filter that keeps away rules to the room's home: no home, or this
/// instance.
pub fn home_is_here_or_nowhere(state: &AppState) -> mongodb::bson::Document {
    doc! { "$or": [
        { "mediaHome": Bson::Null },
        { "mediaHome.instanceId": state.settings.instance_id() },
        { "mediaHome.url": state.settings.internal_url() },
    ] }
}

/// The room's media is gone: it is `away` until `grace` from now (nothing
/// is sold meanwhile), everyone watching or looking at it hears so, and
/// the session ends then unless the media is back.
///
/// Only the room's home (or any instance while it has none) does this: a
/// publisher that moved to another instance is not away.
pub async fn publisher_away(state: &AppState, room: ObjectId, grace: Duration) {
    let until =
        DateTime::from_millis(DateTime::now().timestamp_millis() + grace.as_millis() as i64);
    let mut filter = doc! { "_id": room, "status": STATUS_LIVE };
    for (key, value) in home_is_here_or_nowhere(state) {
        filter.insert(key, value);
    }
    let marked = state
        .db
        .rooms()
        .update_one(filter, doc! { "$set": { "awayUntil": until } })
        .await;
    match marked {
        Ok(r) if r.modified_count == 1 => {
            let event = json!({ "roomId": room.to_hex(), "awayUntil": rfc3339(until) });
            crate::push::room_state(state, room, "room:away", &event).await;
            tokio::spawn(end_when_away_ends(state.clone(), room));
        }
        Ok(_) => {}
        Err(err) => tracing::warn!(error = %err, %room, "could not mark the room away"),
    }
}

/// The room's media is back within the grace: it is payable again.
pub async fn publisher_back(state: &AppState, room: ObjectId) {
    let cleared = state
        .db
        .rooms()
        .update_one(
            doc! { "_id": room, "awayUntil": { "$ne": null } },
            doc! { "$set": { "awayUntil": null } },
        )
        .await;
    match cleared {
        Ok(r) if r.modified_count == 1 => {
            let event = json!({ "roomId": room.to_hex() });
            crate::push::room_state(state, room, "room:back", &event).await;
        }
        Ok(_) => {}
        Err(err) => tracing::warn!(error = %err, %room, "could not clear the away state"),
    }
}

/// Ends the room's live session when its `awayUntil` passes, unless the
/// media came back (cleared) or a later departure moved it on: the room
/// document decides, so a return and a new departure in between do not
/// end the session early.
async fn end_when_away_ends(state: AppState, room: ObjectId) {
    loop {
        let doc = match crate::rooms::load_room(&state, room).await {
            Ok(doc) => doc,
            Err(err) => {
                tracing::warn!(error = ?err, %room, "could not check the room");
                return;
            }
        };
        let Some(until) = doc.away_until.filter(|_| doc.is_live()) else {
            return;
        };
        let left = until.timestamp_millis() - DateTime::now().timestamp_millis();
        if doc.in_private {
            // Paused for the creator's private session: busy, not gone. The
            // grace starts again when it ends (`private`, resuming rooms).
            tokio::time::sleep(Duration::from_secs(1)).await;
            continue;
        }
        if left > 0 {
            tokio::time::sleep(Duration::from_millis(left as u64)).await;
            continue;
        }
        tracing::info!(%room, "publisher gone past the grace period: ending the session");
        if let Err(err) = crate::rooms::end_session(&state, doc).await {
            tracing::warn!(error = ?err, %room, "could not end the session");
        }
        return;
    }
}

/// Of `rooms`, those this instance answers for when it stops.
pub fn homed_rooms(state: &AppState, rooms: Vec<RoomDoc>) -> Vec<RoomDoc> {
    rooms.into_iter().filter(|r| homed_here(state, r)).collect()
}

// ---------------------------------------------------------------------------
// An operator ending a session from another process (`streamshare rooms end`).

/// The room field through which an operator asks the running servers to end
/// a live session (`streamshare rooms end`): `{ session, at }`. It stays on
/// the room afterwards, naming a session that is over.
pub const END_REQUESTED: &str = "endRequested";

/// Asks the running servers to end the room's live session `session` as its
/// creator would; the one that serves the room does it when the change
/// reaches its `rooms` change stream ([`end_requested_session`]). False when
/// that session is no longer the room's.
pub async fn request_end(db: &crate::db::Db, room: ObjectId, session: ObjectId) -> Result<bool> {
    let asked = db
        .rooms()
        .update_one(
            doc! { "_id": room, "liveSessionId": session },
            doc! { "$set": { END_REQUESTED: {
                "session": session, "at": DateTime::now(),
            } } },
        )
        .await?;
    Ok(asked.matched_count == 1)
}

/// An operator asked to end the room's live session: the room's media home
/// (or, while it has none, every instance: the ending is a conditional
/// write, one wins) ends it as the creator ending it would: viewers told,
/// media closed, payments refunded under the refund rules.
pub async fn end_requested_session(state: &AppState, room: ObjectId) {
    let found = state
        .db
        .rooms()
        .clone_with_type::<Document>()
        .find_one(doc! { "_id": room })
        .await;
    let raw = match found {
        Ok(Some(raw)) => raw,
        Ok(None) => return,
        Err(err) => {
            tracing::warn!(error = %err, %room, "could not read the room to end");
            return;
        }
    };
    let asked_for = raw
        .get_document(END_REQUESTED)
        .ok()
        .and_then(|r| r.get_object_id("session").ok());
    let doc = match mongodb::bson::from_document::<crate::models::RoomDoc>(raw) {
        Ok(doc) => doc,
        Err(err) => {
            tracing::warn!(error = %err, %room, "unreadable room");
            return;
        }
    };
    let ours = doc
        .media_home
        .as_ref()
        .is_none_or(|home| is_me(state, home));
    if asked_for.is_none() || doc.live_session_id != asked_for || !ours {
        return;
    }
    tracing::info!(%room, "an operator ended the live session");
    if let Err(err) = end_session(state, doc).await {
        tracing::warn!(error = ?err, %room, "could not end the live session");
    }
}
