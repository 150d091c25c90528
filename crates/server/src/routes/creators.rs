//! `/api/creators/{username}`: a creator's public page, and following them.

use axum::extract::State;
use axum::{Json, Router, routing::get, routing::put};

use crate::auth::{AuthUser, MaybeAuthUser};
use crate::error::Result;
use crate::extract::ApiPath;
use crate::follows::{CreatorProfile, FollowState};
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/{username}", get(profile))
        .route("/{username}/follow", put(follow).delete(unfollow))
}

/// The creator's profile, schedule, rooms, past sessions, follower count
/// and whether the caller follows them.
async fn profile(
    State(state): State<AppState>,
    MaybeAuthUser(user): MaybeAuthUser,
    ApiPath(username): ApiPath<String>,
) -> Result<Json<CreatorProfile>> {
    let profile = crate::follows::profile(&state, &username, user.map(|u| u.id)).await?;
    Ok(Json(profile))
}

#[tracing::instrument(skip_all, fields(user_id = %user.id))]
async fn follow(
    State(state): State<AppState>,
    user: AuthUser,
    ApiPath(username): ApiPath<String>,
) -> Result<Json<FollowState>> {
    Ok(Json(
        crate::follows::follow(&state, user.id, &username).await?,
    ))
}

#[tracing::instrument(skip_all, fields(user_id = %user.id))]
async fn unfollow(
    State(state): State<AppState>,
    user: AuthUser,
    ApiPath(username): ApiPath<String>,
) -> Result<Json<FollowState>> {
    Ok(Json(
        crate::follows::unfollow(&state, user.id, &username).await?,
    ))
}
