//! Who is watching which room. One `presence` document per (room, user)
//! holds the sockets the user watches with, so a second tab is not a new
//! viewer and closing one of two tabs is not a departure. Each change is one
//! atomic document operation, so concurrent tabs (or instances) cannot
//! miscount.

use mongodb::bson::oid::ObjectId;
use mongodb::bson::{Bson, DateTime, doc};
use mongodb::options::ReturnDocument;
use serde_json::json;

use crate::auth::AuthUser;
use crate::error::{ApiError, Result, duplicate_key_index};
use crate::models::{RoomDoc, SocketUser, ViewDoc};
use crate::realtime::{broadcast, room_channel};
use crate::state::AppState;

/// A viewer's socket enters a room. Returns the room's viewer count; the
/// first socket of a user announces `room:viewer_joined` and opens a view
/// history entry.
pub async fn enter(state: &AppState, room: &RoomDoc, user: &AuthUser, sid: &str) -> Result<i64> {
    let view_id = ObjectId::new();
    let filter = doc! { "roomId": room.id, "userId": user.id };
    let update = doc! {
        "$addToSet": { "sockets": sid },
        "$setOnInsert": { "viewId": view_id },
    };
    let mut attempt = 0;
    let before = loop {
        let result = state
            .db
            .presence()
            .find_one_and_update(filter.clone(), update.clone())
            .upsert(true)
            .return_document(ReturnDocument::Before)
            .await;
        match result {
            // Two tabs raced to create the document: the loser adds to it.
            Err(err) if duplicate_key_index(&err).is_some() && attempt < 3 => attempt += 1,
            other => break other?,
        }
    };
    if before.is_some() {
        let room = crate::routes::rooms::load_room(state, room.id).await?;
        return Ok(room.viewer_count);
    }

    let view = ViewDoc {
        id: view_id,
        user_id: user.id,
        room_id: room.id,
        room_title: room.title.clone(),
        creator_id: room.creator_id,
        creator_username: room.creator_username.clone(),
        creator_display_name: room.creator_display_name.clone(),
        live_session_id: room.live_session_id,
        joined_at: DateTime::now(),
        left_at: None,
    };
    state.db.views().insert_one(&view).await?;
    let count = state
        .db
        .rooms()
        .find_one_and_update(
            doc! { "_id": room.id },
            doc! { "$inc": { "viewerCount": 1 } },
        )
        .return_document(ReturnDocument::After)
        .await?
        .map(|r| r.viewer_count)
        .unwrap_or(0);
    announce(state, room.id, user, "room:viewer_joined", count).await;
    Ok(count)
}

/// A viewer's socket leaves a room. When it was the user's last socket
/// there, the user departs: `room:viewer_left`, the count drops, and the
/// view history entry closes.
pub async fn exit(state: &AppState, room: ObjectId, user: &AuthUser, sid: &str) -> Result<()> {
    let last = state
        .db
        .presence()
        .find_one_and_delete(doc! { "roomId": room, "userId": user.id, "sockets": [sid] })
        .await?;
    match last {
        Some(gone) => departed(state, room, user, gone.view_id).await,
        None => {
            state
                .db
                .presence()
                .update_one(
                    doc! { "roomId": room, "userId": user.id },
                    doc! { "$pull": { "sockets": sid } },
                )
                .await?;
            Ok(())
        }
    }
}

/// Takes a user out of a room whatever their sockets (a ban).
pub async fn remove_user(state: &AppState, room: ObjectId, user: &AuthUser) -> Result<()> {
    let gone = state
        .db
        .presence()
        .find_one_and_delete(doc! { "roomId": room, "userId": user.id })
        .await?;
    if let Some(gone) = gone {
        departed(state, room, user, gone.view_id).await?;
    }
    Ok(())
}

async fn departed(state: &AppState, room: ObjectId, user: &AuthUser, view: ObjectId) -> Result<()> {
    state
        .db
        .views()
        .update_one(
            doc! { "_id": view, "leftAt": Bson::Null },
            doc! { "$set": { "leftAt": DateTime::now() } },
        )
        .await?;
    let count = state
        .db
        .rooms()
        .find_one_and_update(
            doc! { "_id": room, "viewerCount": { "$gt": 0 } },
            doc! { "$inc": { "viewerCount": -1 } },
        )
        .return_document(ReturnDocument::After)
        .await?
        .map(|r| r.viewer_count)
        .unwrap_or(0);
    announce(state, room, user, "room:viewer_left", count).await;
    Ok(())
}

async fn announce(state: &AppState, room: ObjectId, user: &AuthUser, event: &str, count: i64) {
    let user = SocketUser {
        id: user.id.to_hex(),
        username: user.username.clone(),
    };
    let payload = json!({ "roomId": room.to_hex(), "user": user, "viewerCount": count });
    broadcast(state, room_channel(room), event, &payload).await;
}

/// The session ended: nobody is in the room any more.
pub async fn clear_room(state: &AppState, room: ObjectId) -> Result<()> {
    state
        .db
        .presence()
        .delete_many(doc! { "roomId": room })
        .await?;
    close_open_views(state, doc! { "roomId": room, "leftAt": Bson::Null }).await
}

/// At start: sockets do not survive a restart, so nobody is watching.
/// (With several instances sharing the database, presence would be reset
/// per instance instead; see docs/realtime.md.)
pub async fn reset_all(state: &AppState) -> Result<()> {
    state.db.presence().delete_many(doc! {}).await?;
    state
        .db
        .rooms()
        .update_many(
            doc! { "viewerCount": { "$ne": 0 } },
            doc! { "$set": { "viewerCount": 0 } },
        )
        .await?;
    close_open_views(state, doc! { "leftAt": Bson::Null }).await
}

async fn close_open_views(state: &AppState, filter: mongodb::bson::Document) -> Result<()> {
    state
        .db
        .views()
        .update_many(filter, doc! { "$set": { "leftAt": DateTime::now() } })
        .await
        .map(|_| ())
        .map_err(ApiError::from)
}
