//! Follows and creators' public pages: following and unfollowing a
//! creator, follower counts, the creators a user follows, and a creator's
//! profile (schedule text, rooms, past sessions).

use futures::TryStreamExt;
use mongodb::bson::oid::ObjectId;
use mongodb::bson::{Bson, DateTime, doc};
use serde::Serialize;

use crate::error::{ApiError, Result};
use crate::models::{
    FollowDoc, LiveSessionDoc, ProfileDoc, Room, RoomDoc, UserDoc, UserRef, rfc3339,
};
use crate::state::AppState;

/// Longest schedule text.
pub const MAX_SCHEDULE_CHARS: usize = 500;
/// Past sessions shown on a creator's page.
pub const PAST_SESSIONS: i64 = 20;
/// Most creators' rooms read for the home page's "Following" row.
pub const MAX_FOLLOWED: usize = 1000;

fn user_not_found() -> ApiError {
    <crate::ids::User as crate::ids::Kind>::not_found()
}

/// The account with this username, or `user_not_found`.
pub async fn by_username(state: &AppState, username: &str) -> Result<UserDoc> {
    let name = username.trim().to_lowercase();
    if name.is_empty() || name.len() > 64 {
        return Err(user_not_found());
    }
    state
        .db
        .users()
        .find_one(doc! { "username": name })
        .await?
        .ok_or_else(user_not_found)
}

/// `{following, followerCount}` after a follow or an unfollow.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FollowState {
    pub following: bool,
    pub follower_count: u64,
}

pub async fn follower_count(state: &AppState, creator: ObjectId) -> Result<u64> {
    Ok(state
        .db
        .follows()
        .count_documents(doc! { "creatorId": creator })
        .await?)
}

pub async fn is_following(state: &AppState, follower: ObjectId, creator: ObjectId) -> Result<bool> {
    Ok(state
        .db
        .follows()
        .find_one(doc! { "followerId": follower, "creatorId": creator })
        .await?
        .is_some())
}

/// Follows a creator (following again changes nothing).
pub async fn follow(state: &AppState, follower: ObjectId, username: &str) -> Result<FollowState> {
    let creator = by_username(state, username).await?;
    if creator.id == follower {
        return Err(ApiError::invalid("username", "You cannot follow yourself."));
    }
    let doc = FollowDoc {
        id: ObjectId::new(),
        follower_id: follower,
        creator_id: creator.id,
        created_at: DateTime::now(),
    };
    let set_on_insert = mongodb::bson::to_document(&doc).map_err(ApiError::internal)?;
    let written = state
        .db
        .follows()
        .update_one(
            doc! { "followerId": follower, "creatorId": creator.id },
            doc! { "$setOnInsert": set_on_insert },
        )
        .upsert(true)
        .await;
    match written {
        Ok(_) => {}
        // Two concurrent follows: the unique index kept one; both succeed.
        Err(err) if is_duplicate(&err) => {}
        Err(err) => return Err(err.into()),
    }
    Ok(FollowState {
        following: true,
        follower_count: follower_count(state, creator.id).await?,
    })
}

fn is_duplicate(err: &mongodb::error::Error) -> bool {
    err.to_string().contains("E11000")
}

/// Stops following a creator (not following is fine).
pub async fn unfollow(state: &AppState, follower: ObjectId, username: &str) -> Result<FollowState> {
    let creator = by_username(state, username).await?;
    state
        .db
        .follows()
        .delete_one(doc! { "followerId": follower, "creatorId": creator.id })
        .await?;
    Ok(FollowState {
        following: false,
        follower_count: follower_count(state, creator.id).await?,
    })
}

/// The creators a user follows (at most [`MAX_FOLLOWED`]).
pub async fn followed(state: &AppState, follower: ObjectId) -> Result<Vec<ObjectId>> {
    let follows: Vec<FollowDoc> = state
        .db
        .follows()
        .find(doc! { "followerId": follower })
        .limit(MAX_FOLLOWED as i64)
        .await?
        .try_collect()
        .await?;
    Ok(follows.into_iter().map(|f| f.creator_id).collect())
}

/// Sets the caller's schedule text (empty clears it).
pub async fn set_schedule(state: &AppState, user: ObjectId, schedule: &str) -> Result<String> {
    let schedule = crate::domain::text_field(schedule, "schedule", 0, MAX_SCHEDULE_CHARS)?;
    state
        .db
        .profiles()
        .update_one(
            doc! { "_id": user },
            doc! { "$set": { "schedule": &schedule, "updatedAt": DateTime::now() } },
        )
        .upsert(true)
        .await?;
    Ok(schedule)
}

/// One ended (or running) live session on a creator's page.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PastSession {
    pub id: String,
    pub room_id: String,
    pub room_title: String,
    pub started_at: String,
    pub ended_at: Option<String>,
}

/// A creator's public page.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CreatorProfile {
    pub user: UserRef,
    pub created_at: String,
    pub schedule: String,
    pub follower_count: u64,
    /// Whether the caller follows them (false when signed out).
    pub following: bool,
    /// Their rooms, live first.
    pub rooms: Vec<Room>,
    /// Their last sessions, newest first.
    pub past_sessions: Vec<PastSession>,
}

pub async fn profile(
    state: &AppState,
    username: &str,
    viewer: Option<ObjectId>,
) -> Result<CreatorProfile> {
    let user = by_username(state, username).await?;
    let schedule = state
        .db
        .profiles()
        .find_one(doc! { "_id": user.id })
        .await?
        .map(|p: ProfileDoc| p.schedule)
        .unwrap_or_default();
    let rooms: Vec<RoomDoc> = state
        .db
        .rooms()
        .find(doc! { "creatorId": user.id })
        .sort(doc! { "liveRank": -1, "_id": -1 })
        .limit(50)
        .await?
        .try_collect()
        .await?;
    let sessions: Vec<LiveSessionDoc> = state
        .db
        .live_sessions()
        .find(doc! { "creatorId": user.id, "endedAt": { "$ne": Bson::Null } })
        .sort(doc! { "startedAt": -1 })
        .limit(PAST_SESSIONS)
        .await?
        .try_collect()
        .await?;
    let title_of = |room: ObjectId| {
        rooms
            .iter()
            .find(|r| r.id == room)
            .map(|r| r.title.clone())
            .unwrap_or_default()
    };
    let past_sessions = sessions
        .iter()
        .map(|s| PastSession {
            id: s.id.to_hex(),
            room_id: s.room_id.to_hex(),
            room_title: title_of(s.room_id),
            started_at: rfc3339(s.started_at),
            ended_at: s.ended_at.map(rfc3339),
        })
        .collect();
    let following = match viewer {
        Some(viewer) => is_following(state, viewer, user.id).await?,
        None => false,
    };
    Ok(CreatorProfile {
        user: UserRef {
            id: user.id.to_hex(),
            username: user.username.clone(),
            display_name: user.display_name.clone(),
        },
        created_at: rfc3339(user.created_at),
        schedule,
        follower_count: follower_count(state, user.id).await?,
        following,
        rooms: rooms.iter().map(Room::from).collect(),
        past_sessions,
    })
}
