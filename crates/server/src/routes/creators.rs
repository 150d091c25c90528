//! `/api/creators/{username}`: a creator's public page, and following them.

use axum::Json;
use axum::extract::State;

use crate::auth::{AuthUser, MaybeAuthUser};
use crate::error::Result;
use crate::extract::ApiPath;
use crate::follows::{CreatorProfile, FollowState};
use crate::routes::docs::{DatabaseUnavailable, UserNotFound, UsernameParam, ValidationFailed};
use crate::state::AppState;
use utoipa_axum::{router::OpenApiRouter, routes};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(profile))
        .routes(routes!(follow, unfollow))
}

/// A creator's public page
///
/// The creator's profile, schedule text, follower count, rooms (live
/// first) and last 20 ended sessions (newest first). No sign-in
/// needed; signed in, `following` says whether the caller follows them
/// (a bad token is still 401).
///
/// Errors: 404 `user_not_found`; 503 `database_unavailable`.
#[utoipa::path(
    get,
    path = "/{username}",
    tag = "community",
    operation_id = "getCreator",
    security((), ("bearerAuth" = [])),
    params(UsernameParam),
    responses(
        (status = 200, description = "The creator's page.", body = ref("#/components/schemas/CreatorProfile"), content_type = "application/json"),
        (status = 404, response = UserNotFound),
        (status = 503, response = DatabaseUnavailable)
    )
)]
// The creator's profile, schedule, rooms, past sessions, follower count
// and whether the caller follows them.
async fn profile(
    State(state): State<AppState>,
    MaybeAuthUser(user): MaybeAuthUser,
    ApiPath(username): ApiPath<String>,
) -> Result<Json<CreatorProfile>> {
    let profile = crate::follows::profile(&state, &username, user.map(|u| u.id)).await?;
    Ok(Json(profile))
}

/// Follow a creator
///
/// Idempotent: following again changes nothing. The follower is alerted
/// (a stored notification and `notification:new` on Socket.IO) each
/// time the creator goes live.
///
/// Errors: 401; 404 `user_not_found`; 422 `validation_failed`
/// (`username`: yourself).
#[utoipa::path(
    put,
    path = "/{username}/follow",
    tag = "community",
    operation_id = "followCreator",
    params(UsernameParam),
    responses(
        (status = 200, description = "Following, and the creator's follower count.", body = ref("#/components/schemas/FollowState"), content_type = "application/json"),
        (status = 404, response = UserNotFound),
        (status = 422, response = ValidationFailed)
    )
)]
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

/// Stop following a creator
///
/// Idempotent. Errors: 401; 404 `user_not_found`.
#[utoipa::path(
    delete,
    path = "/{username}/follow",
    tag = "community",
    operation_id = "unfollowCreator",
    params(UsernameParam),
    responses(
        (status = 200, description = "Not following, and the creator's follower count.", body = ref("#/components/schemas/FollowState"), content_type = "application/json"),
        (status = 404, response = UserNotFound)
    )
)]
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
