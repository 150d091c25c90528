//! Payment providers behind one trait: Stripe Checkout (REST, form-encoded,
//! with an idempotency key) and the labelled test provider
//! (`STREAMSHARE_TEST_PAYMENTS`, never when Stripe is configured). Also the
//! `Stripe-Signature` check of incoming webhooks, as Stripe documents it.

use std::sync::Arc;
use std::time::Duration;

use futures::future::BoxFuture;
use hmac::{Hmac, Mac};
use secrecy::{ExposeSecret, SecretString};
use sha2::Sha256;

use crate::config::Settings;
use crate::models::PurchaseDoc;

/// What a checkout needs to know.
pub struct CheckoutRequest<'a> {
    pub purchase: &'a PurchaseDoc,
    /// Shown on the provider's page.
    pub product_name: String,
    pub success_url: String,
    pub cancel_url: String,
    /// Our page for the test provider.
    pub test_url: String,
}

/// A created checkout: where the buyer goes, and the provider's id for it.
#[derive(Debug, Clone)]
pub struct Checkout {
    pub url: String,
    pub session_id: Option<String>,
}

/// The provider could not create the checkout (unreachable, refused).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct ProviderError(pub String);

/// A way to take money for a coin pack.
pub trait PaymentProvider: Send + Sync {
    /// `stripe` or `test`.
    fn name(&self) -> &'static str;
    /// Test money (never real).
    fn is_test(&self) -> bool;
    /// Creates the provider's checkout for a pending purchase. Must be safe
    /// to call again for the same purchase (the provider's own idempotency).
    fn create_checkout<'a>(
        &'a self,
        req: &'a CheckoutRequest<'a>,
    ) -> BoxFuture<'a, Result<Checkout, ProviderError>>;
}

/// The provider this server uses, if any: Stripe when its key is set, else
/// the test provider when turned on, else none (purchases not set up).
pub fn provider(settings: &Settings) -> Option<Arc<dyn PaymentProvider>> {
    if settings.stripe_configured() {
        if settings.test_payments {
            tracing::warn!(
                "STREAMSHARE_TEST_PAYMENTS is ignored: Stripe is configured, so there is no test provider"
            );
        }
        let key = settings.stripe_secret_key.clone()?;
        return Some(Arc::new(Stripe::new(key, &settings.stripe_api_base)));
    }
    if settings.test_payments {
        tracing::warn!(
            "the TEST payment provider is on (STREAMSHARE_TEST_PAYMENTS): purchases complete \
             without payment, as test money; never use it in production"
        );
        return Some(Arc::new(TestProvider));
    }
    None
}

/// Stripe Checkout through its REST API.
pub struct Stripe {
    key: SecretString,
    api_base: String,
    http: reqwest::Client,
}

impl Stripe {
    pub fn new(key: SecretString, api_base: &str) -> Self {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .connect_timeout(Duration::from_secs(10))
            .build()
            .unwrap_or_default();
        Self {
            key,
            api_base: api_base.trim().trim_end_matches('/').to_owned(),
            http,
        }
    }

    /// The form body of `POST /v1/checkout/sessions`.
    pub fn session_form(req: &CheckoutRequest<'_>) -> String {
        let p = req.purchase;
        let id = p.id.to_hex();
        form_urlencoded::Serializer::new(String::new())
            .append_pair("mode", "payment")
            .append_pair("line_items[0][price_data][currency]", &p.currency)
            .append_pair(
                "line_items[0][price_data][unit_amount]",
                &p.price.to_string(),
            )
            .append_pair(
                "line_items[0][price_data][product_data][name]",
                &req.product_name,
            )
            .append_pair("line_items[0][quantity]", "1")
            .append_pair("client_reference_id", &id)
            .append_pair("metadata[purchase_id]", &id)
            .append_pair("payment_intent_data[metadata][purchase_id]", &id)
            .append_pair("success_url", &req.success_url)
            .append_pair("cancel_url", &req.cancel_url)
            .finish()
    }
}

#[derive(serde::Deserialize)]
struct SessionReply {
    id: String,
    url: Option<String>,
}

impl PaymentProvider for Stripe {
    fn name(&self) -> &'static str {
        "stripe"
    }

    fn is_test(&self) -> bool {
        false
    }

    fn create_checkout<'a>(
        &'a self,
        req: &'a CheckoutRequest<'a>,
    ) -> BoxFuture<'a, Result<Checkout, ProviderError>> {
        Box::pin(async move {
            let url = format!("{}/v1/checkout/sessions", self.api_base);
            let reply = self
                .http
                .post(&url)
                .bearer_auth(self.key.expose_secret())
                .header("Idempotency-Key", req.purchase.id.to_hex())
                .header(
                    reqwest::header::CONTENT_TYPE,
                    "application/x-www-form-urlencoded",
                )
                .body(Self::session_form(req))
                .send()
                .await
                .map_err(|e| ProviderError(format!("Stripe unreachable: {e}")))?;
            let status = reply.status();
            let body = reply
                .text()
                .await
                .map_err(|e| ProviderError(format!("Stripe's answer broke off: {e}")))?;
            if !status.is_success() {
                let message = serde_json::from_str::<serde_json::Value>(&body)
                    .ok()
                    .and_then(|v| v["error"]["message"].as_str().map(str::to_owned))
                    .unwrap_or_default();
                return Err(ProviderError(format!(
                    "Stripe answered {status}: {message}"
                )));
            }
            let session: SessionReply = serde_json::from_str(&body)
                .map_err(|e| ProviderError(format!("Stripe's answer is not a session: {e}")))?;
            let url = session
                .url
                .ok_or_else(|| ProviderError("Stripe's session has no url".into()))?;
            Ok(Checkout {
                url,
                session_id: Some(session.id),
            })
        })
    }
}

/// The labelled test provider: the buyer confirms on our own page
/// (`/wallet/test-checkout/{id}`); nothing is charged, and the coins are
/// marked as test money in the ledger.
pub struct TestProvider;

impl PaymentProvider for TestProvider {
    fn name(&self) -> &'static str {
        "test"
    }

    fn is_test(&self) -> bool {
        true
    }

    fn create_checkout<'a>(
        &'a self,
        req: &'a CheckoutRequest<'a>,
    ) -> BoxFuture<'a, Result<Checkout, ProviderError>> {
        Box::pin(async move {
            Ok(Checkout {
                url: req.test_url.clone(),
                session_id: None,
            })
        })
    }
}

/// How far a webhook's timestamp may be from now, either way (Stripe's
/// default tolerance).
pub const SIGNATURE_TOLERANCE_SECS: i64 = 300;

/// Verifies a `Stripe-Signature` header (`t=<unix time>,v1=<hex>,...`) as
/// Stripe documents it: HMAC-SHA256, keyed by the endpoint's secret, of
/// `"{t}.{raw body}"`, compared in constant time with every `v1` entry
/// (other schemes are ignored), under any of the configured secrets
/// (rotation); `t` within [`SIGNATURE_TOLERANCE_SECS`] of `now`.
pub fn verify_signature(
    header: &str,
    payload: &[u8],
    secrets: &[String],
    now: i64,
) -> Result<(), &'static str> {
    let mut timestamp = None;
    let mut signatures = Vec::new();
    for part in header.split(',') {
        let Some((key, value)) = part.trim().split_once('=') else {
            continue;
        };
        match key {
            "t" if timestamp.is_none() => timestamp = value.parse::<i64>().ok(),
            "v1" => {
                if let Some(bytes) = decode_hex(value) {
                    signatures.push(bytes);
                }
            }
            _ => {}
        }
    }
    let timestamp = timestamp.ok_or("no timestamp")?;
    if signatures.is_empty() {
        return Err("no v1 signature");
    }
    // `abs_diff`: any timestamp a header can carry, no overflow.
    if now.abs_diff(timestamp) > SIGNATURE_TOLERANCE_SECS.unsigned_abs() {
        return Err("timestamp outside the tolerance");
    }
    for secret in secrets {
        let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret.as_bytes()) else {
            continue;
        };
        mac.update(timestamp.to_string().as_bytes());
        mac.update(b".");
        mac.update(payload);
        for signature in &signatures {
            // `verify_slice` compares in constant time.
            if mac.clone().verify_slice(signature).is_ok() {
                return Ok(());
            }
        }
    }
    Err("no signature matches")
}

fn decode_hex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extreme_timestamps_are_refused_not_a_panic() {
        for t in [i64::MIN, i64::MAX] {
            let header = format!("t={t},v1={}", sign("whsec_x", 0, "{}"));
            assert_eq!(
                verify_signature(&header, b"{}", &["whsec_x".into()], 1_700_000_000),
                Err("timestamp outside the tolerance")
            );
        }
    }

    fn sign(secret: &str, t: i64, payload: &str) -> String {
        let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
        mac.update(format!("{t}.{payload}").as_bytes());
        mac.finalize()
            .into_bytes()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }

    #[test]
    fn signatures_verify_only_with_a_right_secret_and_a_fresh_time() {
        let secrets = vec!["whsec_old".to_owned(), "whsec_new".to_owned()];
        let body = r#"{"id":"evt_1"}"#;
        let good = format!("t=1000,v1={}", sign("whsec_new", 1000, body));
        assert!(verify_signature(&good, body.as_bytes(), &secrets, 1000).is_ok());
        assert!(verify_signature(&good, body.as_bytes(), &secrets, 1300).is_ok());
        assert!(verify_signature(&good, body.as_bytes(), &secrets, 1301).is_err());
        assert!(verify_signature(&good, body.as_bytes(), &secrets, 699).is_err());
        assert!(verify_signature(&good, b"{}", &secrets, 1000).is_err());
        let several = format!(
            "t=1000,v1={},v0=zz,v1={}",
            sign("whsec_other", 1000, body),
            sign("whsec_old", 1000, body)
        );
        assert!(verify_signature(&several, body.as_bytes(), &secrets, 1000).is_ok());
        let wrong = format!("t=1000,v1={}", sign("whsec_other", 1000, body));
        assert!(verify_signature(&wrong, body.as_bytes(), &secrets, 1000).is_err());
        assert!(verify_signature("v1=00", body.as_bytes(), &secrets, 1000).is_err());
        assert!(verify_signature("t=1000", body.as_bytes(), &secrets, 1000).is_err());
        assert!(verify_signature(&good, body.as_bytes(), &[], 1000).is_err());
    }
}
