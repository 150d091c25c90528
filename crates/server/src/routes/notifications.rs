//! `/api/notifications`: the caller's in-app notifications (a followed
//! creator went live) and marking them read.

use std::collections::HashMap;

use axum::extract::State;
use axum::{Json, Router, routing::get, routing::post};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::auth::AuthUser;
use crate::error::Result;
use crate::extract::{ApiJson, ApiQuery};
use crate::notifications::NotificationPage;
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(list))
        .route("/read", post(mark_read))
}

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

async fn mark_read(
    State(state): State<AppState>,
    user: AuthUser,
    ApiJson(body): ApiJson<MarkRead>,
) -> Result<Json<Value>> {
    let unread = crate::notifications::mark_read(&state, user.id, body.ids).await?;
    Ok(Json(json!({ "unreadCount": unread })))
}
