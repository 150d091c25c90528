//! `GET /api/health`: 200 while the database (and, in a cluster, Redis)
//! answers, 503 while it does not.

use std::time::Duration;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::state::AppState;

/// Liveness (the process answers)
#[utoipa::path(
    get,
    path = "/health/live",
    tag = "health",
    operation_id = "live",
    security(),
    responses(
        (status = 200, description = "Always `{\"status\": \"ok\"}` while the process serves.")
    )
)]
// Liveness: the process serves requests (restart it if not).
pub async fn live() -> Json<serde_json::Value> {
    Json(json!({ "status": "ok" }))
}

/// Readiness (the database answers and the indexes exist)
#[utoipa::path(
    get,
    path = "/health/ready",
    tag = "health",
    operation_id = "ready",
    security(),
    responses(
        (status = 200, description = "As `GET /api/health`."),
        (status = 503, description = "`database_unavailable`, or `not_ready` while indexes are being created.")
    )
)]
// Readiness: the database answers, the indexes exist and, in a cluster,
// Redis answers (send traffic).
pub async fn ready(State(state): State<AppState>) -> Response {
    let response = health(State(state.clone())).await;
    if response.status().is_success() && !state.indexes_ready() {
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({
                "status": "starting",
                "error": { "code": "not_ready", "message": "The database indexes are being created." },
            })),
        )
            .into_response();
    }
    response
}

/// Health check
///
/// Answers 200 while the database responds to a ping (and, in cluster
/// mode, Redis answers too), and 503 when the ping fails or times out
/// (after the configured database timeout, at least 1 s) or Redis does
/// not answer within 1 s. The endpoint needs no authentication. Every
/// answer of the API names the instance that gave it in the
/// `X-StreamShare-Instance` header.
#[utoipa::path(
    get,
    path = "/health",
    tag = "health",
    operation_id = "getHealth",
    security(),
    responses(
        (status = 200, description = "The server is up and the database answers.", body = ref("#/components/schemas/Health"), content_type = "application/json", example = json!({"status": "ok", "database": "up", "redis": "unused", "instance": "web-1", "indexesReady": true})),
        (status = 503, description = "The database does not answer (`database_unavailable`), or, in\ncluster mode, Redis does not (`cluster_unavailable`, with\n`redis: down`). This body carries `status` and `database` next to\nthe usual `error` entry.", body = ref("#/components/schemas/HealthDown"), content_type = "application/json", example = json!({"status": "unavailable", "database": "down", "error": {"code": "database_unavailable", "message": "The database does not answer."}}))
    )
)]
pub async fn health(State(state): State<AppState>) -> Response {
    let timeout = Duration::from_secs(state.settings.db_timeout_secs.max(1));
    let db_up = matches!(
        tokio::time::timeout(timeout, state.db.ping()).await,
        Ok(Ok(()))
    );
    let redis = match (state.cluster.enabled(), state.cluster.reachable().await) {
        (false, _) => "unused",
        (true, true) => "up",
        (true, false) => "down",
    };
    if db_up && redis == "down" {
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({
                "status": "unavailable",
                "database": "up",
                "redis": "down",
                "instance": state.cluster.instance,
                "error": { "code": "cluster_unavailable", "message": "Redis (the cluster's shared state) does not answer." },
            })),
        )
            .into_response();
    }
    if db_up {
        Json(json!({
            "status": "ok",
            "database": "up",
            "redis": redis,
            "instance": state.cluster.instance,
            "indexesReady": state.indexes_ready(),
        }))
        .into_response()
    } else {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({
                "status": "unavailable",
                "database": "down",
                "error": { "code": "database_unavailable", "message": "The database does not answer." },
            })),
        )
            .into_response()
    }
}
