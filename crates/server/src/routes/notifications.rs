//! `/api/notifications`: the caller's in-app notifications (a followed
//! creator went live) and marking them read.

use std::collections::HashMap;

use axum::Json;
use axum::extract::State;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::auth::AuthUser;
use crate::error::Result;
use crate::extract::{ApiJson, ApiQuery};
use crate::notifications::NotificationPage;
use crate::routes::docs::{BadRequest, InvalidPageParameter, PageParams, ValidationFailed};
use crate::state::AppState;
use utoipa_axum::{router::OpenApiRouter, routes};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list))
        .routes(routes!(mark_read))
}

/// The caller's notifications, newest first
///
/// In-app alerts, stored until read and after (`kind: live`: a
/// followed creator went live). `unreadCount` counts all the caller's
/// unread ones. New ones are pushed as `notification:new`
/// (docs/realtime.md).
///
/// Errors: 401; 422 `validation_failed` (`limit`, `cursor`).
#[utoipa::path(
    get,
    path = "/",
    tag = "community",
    operation_id = "listNotifications",
    params(PageParams),
    responses(
        (status = 200, description = "A page of notifications and the unread count.", body = ref("#/components/schemas/NotificationPage"), content_type = "application/json"),
        (status = 422, response = InvalidPageParameter)
    )
)]
async fn list(
    State(state): State<AppState>,
    user: AuthUser,
    ApiQuery(query): ApiQuery<HashMap<String, String>>,
) -> Result<Json<NotificationPage>> {
    Ok(Json(
        crate::notifications::list(&state, user.id, &query).await?,
    ))
}

#[derive(Deserialize)]
struct MarkRead {
    /// The notifications to mark; none: all of them.
    ids: Option<Vec<String>>,
}

/// Mark notifications read
///
/// Marks the caller's notifications named in `ids` read, or all of them
/// when `ids` is left out. Ids of other users' notifications change
/// nothing. Every tab of the caller hears `notification:read`.
///
/// Errors: 400 `malformed_json`; 401; 422 `validation_failed` (`ids`:
/// more than 100, or one that is not an id).
#[utoipa::path(
    post,
    path = "/read",
    tag = "community",
    operation_id = "markNotificationsRead",
    request_body(content = ref("#/components/schemas/MarkNotificationsReadRequest"), content_type = "application/json", example = json!({})),
    responses(
        (status = 200, description = "The unread count after.", body = ref("#/components/schemas/MarkNotificationsReadAnswer"), content_type = "application/json"),
        (status = 400, response = BadRequest),
        (status = 422, response = ValidationFailed)
    )
)]
async fn mark_read(
    State(state): State<AppState>,
    user: AuthUser,
    ApiJson(body): ApiJson<MarkRead>,
) -> Result<Json<Value>> {
    let unread = crate::notifications::mark_read(&state, user.id, body.ids).await?;
    Ok(Json(json!({ "unreadCount": unread })))
}
