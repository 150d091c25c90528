//! In-app notifications: a followed creator went live. Stored in MongoDB
//! (they survive a reload and are marked read), and pushed as
//! `notification:new` to each follower's personal channel, which the
//! adapter delivers on whichever instance their tabs are.

use std::collections::HashMap;

use futures::TryStreamExt;
use mongodb::bson::oid::ObjectId;
use mongodb::bson::{Bson, DateTime, doc};
use serde::Serialize;
use serde_json::json;

use crate::error::{ApiError, Result};
use crate::models::{Notification, NotificationDoc, RoomDoc};
use crate::pagination::{ListPage, newest_first};
use crate::push::{broadcast, user_channel};
use crate::state::AppState;

/// Followers alerted per database round trip.
const ALERT_BATCH: usize = 500;
/// Most notification ids one mark-read call may name.
pub const MAX_MARK_IDS: usize = 100;

/// A page of notifications with the caller's unread count.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NotificationPage {
    #[serde(flatten)]
    pub page: ListPage<Notification>,
    pub unread_count: u64,
}

/// A room's session started: every follower of its creator gets a stored
/// `live` notification and hears `notification:new` with it and their
/// unread count.
pub async fn live_alerts(state: &AppState, room: &RoomDoc) -> Result<()> {
    let mut followers = state
        .db
        .follows()
        .find(doc! { "creatorId": room.creator_id })
        .projection(doc! { "followerId": 1, "creatorId": 1, "createdAt": 1 })
        .await?;
    let mut batch = Vec::with_capacity(ALERT_BATCH);
    let now = DateTime::now();
    let mut sent = 0usize;
    while let Some(follow) = followers.try_next().await? {
        batch.push(NotificationDoc {
            id: ObjectId::new(),
            user_id: follow.follower_id,
            kind: "live".into(),
            room_id: room.id,
            room_title: room.title.clone(),
            live_session_id: room.live_session_id,
            creator_id: room.creator_id,
            creator_username: room.creator_username.clone(),
            creator_display_name: room.creator_display_name.clone(),
            created_at: now,
            read_at: None,
        });
        if batch.len() == ALERT_BATCH {
            sent += deliver(state, std::mem::take(&mut batch)).await?;
        }
    }
    sent += deliver(state, batch).await?;
    tracing::info!(room_id = %room.id, followers = sent, "go-live alerts sent");
    Ok(())
}

async fn deliver(state: &AppState, batch: Vec<NotificationDoc>) -> Result<usize> {
    if batch.is_empty() {
        return Ok(0);
    }
    state.db.notifications().insert_many(&batch).await?;
    let unread = unread_counts(state, &batch).await;
    for n in &batch {
        let unread = unread.get(&n.user_id).copied().unwrap_or(1);
        let event = json!({ "notification": Notification::from(n), "unreadCount": unread });
        broadcast(state, user_channel(n.user_id), "notification:new", &event).await;
    }
    Ok(batch.len())
}

/// The unread counts of a batch's users, in one aggregation (a user left
/// out, say on an error, is told 1: at least the new one).
async fn unread_counts(state: &AppState, batch: &[NotificationDoc]) -> HashMap<ObjectId, u64> {
    let users: Vec<ObjectId> = batch.iter().map(|n| n.user_id).collect();
    let pipeline = [
        doc! { "$match": { "userId": { "$in": users }, "readAt": Bson::Null } },
        doc! { "$group": { "_id": "$userId", "unread": { "$sum": 1 } } },
    ];
    let rows: Vec<mongodb::bson::Document> =
        match state.db.notifications().aggregate(pipeline).await {
            Ok(cursor) => cursor.try_collect().await.unwrap_or_default(),
            Err(err) => {
                tracing::warn!(error = %err, "could not count unread notifications");
                Vec::new()
            }
        };
    rows.iter()
        .filter_map(|row| {
            let user = row.get_object_id("_id").ok()?;
            let unread = match row.get("unread")? {
                Bson::Int32(n) => u64::try_from(*n).ok()?,
                Bson::Int64(n) => u64::try_from(*n).ok()?,
                Bson::Double(n) => *n as u64,
                _ => return None,
            };
            Some((user, unread))
        })
        .collect()
}

/// How many of the user's notifications are unread.
pub async fn unread_count(state: &AppState, user: ObjectId) -> Result<u64> {
    Ok(state
        .db
        .notifications()
        .count_documents(doc! { "userId": user, "readAt": Bson::Null })
        .await?)
}

/// The user's notifications, newest first, and their unread count.
pub async fn list(
    state: &AppState,
    user: ObjectId,
    query: &HashMap<String, String>,
) -> Result<NotificationPage> {
    let page = newest_first(
        state.db.notifications(),
        doc! { "userId": user },
        query,
        &state.cursors,
        |n: &NotificationDoc| n.id,
        |n: &NotificationDoc| Notification::from(n),
    )
    .await?;
    Ok(NotificationPage {
        page,
        unread_count: unread_count(state, user).await?,
    })
}

/// Marks the given notifications (all when `ids` is `None`) of the user
/// read; every tab of theirs hears `notification:read` with the new
/// unread count. Ids of other users' notifications change nothing.
pub async fn mark_read(state: &AppState, user: ObjectId, ids: Option<Vec<String>>) -> Result<u64> {
    let mut filter = doc! { "userId": user, "readAt": Bson::Null };
    if let Some(ids) = ids {
        if ids.len() > MAX_MARK_IDS {
            return Err(ApiError::invalid(
                "ids",
                format!("At most {MAX_MARK_IDS} ids at once."),
            ));
        }
        let ids = ids
            .iter()
            .map(|id| crate::ids::filter_id(id, "ids"))
            .collect::<Result<Vec<_>>>()?;
        filter.insert("_id", doc! { "$in": ids });
    }
    state
        .db
        .notifications()
        .update_many(filter, doc! { "$set": { "readAt": DateTime::now() } })
        .await?;
    let unread = unread_count(state, user).await?;
    broadcast(
        state,
        user_channel(user),
        "notification:read",
        &json!({ "unreadCount": unread }),
    )
    .await;
    Ok(unread)
}
