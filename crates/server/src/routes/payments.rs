//! `POST /api/payments/stripe/webhook`: Stripe's events, verified by their
//! `Stripe-Signature` (see [`crate::payments::verify_signature`]) before
//! anything is read from them; handled by [`crate::purchases`].

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::HeaderMap;
use axum::{Json, http::StatusCode};
use serde_json::{Value, json};

use crate::error::{ApiError, Result};
use crate::state::AppState;
use utoipa_axum::{router::OpenApiRouter, routes};

/// Stripe's events are well under this.
pub const MAX_EVENT_BYTES: usize = 256 * 1024;

pub fn router() -> OpenApiRouter<AppState> {
    let (schemas, paths, webhook) = routes!(stripe_webhook);
    OpenApiRouter::new().routes((
        schemas,
        paths,
        webhook.layer(DefaultBodyLimit::max(MAX_EVENT_BYTES)),
    ))
}

fn invalid_signature() -> ApiError {
    ApiError::bad_request(
        "invalid_signature",
        "The Stripe-Signature header does not verify.",
    )
}

/// Stripe's events (configure this URL in Stripe)
///
/// The raw body (up to 256 KiB) is verified before anything is read
/// from it, exactly as Stripe documents: the `Stripe-Signature` header
/// `t=<unix seconds>,v1=<hex>[,v1=...]`; HMAC-SHA256 keyed by a
/// webhook secret (`STREAMSHARE_STRIPE_WEBHOOK_SECRET`, several during a
/// rotation) over `"{t}.{raw body}"`, compared in constant time with
/// every `v1`; `t` within 300 s of now either way. Otherwise 400
/// `invalid_signature` and nothing happens.
///
/// Handled: `checkout.session.completed` and
/// `checkout.session.async_payment_succeeded` with `payment_status:
/// paid` (credit once, if `amount_total` and `currency` match the
/// purchase), `checkout.session.expired` (a pending purchase ends
/// `expired`), `charge.refunded` (fully refunded: the purchase ends
/// `refunded` and its coins are taken back, even into a debt; a refund
/// before its payment waits for it). Every event id is stored with its
/// effect, so a redelivery is a no-op (`outcome: duplicate`). Other
/// event types: 200, ignored.
#[utoipa::path(
    post,
    path = "/stripe/webhook",
    tag = "coins",
    operation_id = "stripeWebhook",
    security(),
    params(("Stripe-Signature" = String, Header)),
    request_body(content = ref("#/components/schemas/StripeWebhookRequest"), content_type = "application/json"),
    responses(
        (status = 200, description = "Handled or ignored.", body = ref("#/components/schemas/StripeWebhookAnswer"), content_type = "application/json"),
        (status = 400, description = "`invalid_signature` (or `malformed_event` for a verified body that is not an event).", body = ref("#/components/schemas/Error"), content_type = "application/json", example = json!({"error": {"code": "invalid_signature", "message": "The Stripe-Signature header does not verify."}})),
        (status = 503, description = "`payments_not_configured`: no webhook secret on this server.", body = ref("#/components/schemas/Error"), content_type = "application/json")
    )
)]
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
