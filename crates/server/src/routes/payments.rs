//! `POST /api/payments/stripe/webhook`: Stripe's events, verified by their
//! `Stripe-Signature` (see [`crate::payments::verify_signature`]) before
//! anything is read from them; handled by [`crate::purchases`].

use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::HeaderMap;
use axum::routing::post;
use axum::{Json, http::StatusCode};
use serde_json::{Value, json};

use crate::error::{ApiError, Result};
use crate::state::AppState;

/// Stripe's events are well under this.
pub const MAX_EVENT_BYTES: usize = 256 * 1024;

pub fn router() -> Router<AppState> {
    Router::new().route(
        "/stripe/webhook",
        post(stripe_webhook).layer(DefaultBodyLimit::max(MAX_EVENT_BYTES)),
    )
}

fn invalid_signature() -> ApiError {
    ApiError::bad_request(
        "invalid_signature",
        "The Stripe-Signature header does not verify.",
    )
}

async fn stripe_webhook(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Value>> {
    let secrets = state.settings.stripe_webhook_secrets();
    if secrets.is_empty() {
        return Err(ApiError::refused(
            StatusCode::SERVICE_UNAVAILABLE,
            "payments_not_configured",
            "Stripe webhooks are not set up on this server.",
        ));
    }
    let header = headers
        .get("stripe-signature")
        .and_then(|v| v.to_str().ok())
        .ok_or_else(invalid_signature)?;
    let now = mongodb::bson::DateTime::now().timestamp_millis() / 1000;
    if let Err(why) = crate::payments::verify_signature(header, &body, &secrets, now) {
        tracing::warn!(why, "refused a Stripe webhook");
        return Err(invalid_signature());
    }
    let event: Value = serde_json::from_slice(&body)
        .map_err(|_| ApiError::bad_request("malformed_event", "The body is not JSON."))?;
    let outcome = crate::purchases::handle_stripe_event(&state, &event).await?;
    tracing::info!(
        event = event["id"].as_str().unwrap_or(""),
        kind = event["type"].as_str().unwrap_or(""),
        outcome = outcome.as_str(),
        "Stripe webhook"
    );
    Ok(Json(
        json!({ "received": true, "outcome": outcome.as_str() }),
    ))
}
