//! Buying coins: packs, checkout, the labelled test provider, the Stripe
//! Checkout call (against a local stand-in that records what we send) and
//! the Stripe webhook (signatures made by Stripe's official `stripe` npm
//! package).

use serde_json::{Value, json};

use crate::helpers::{TestApp, TestUser, shared_db_uri, spawn_app, spawn_app_with};
use crate::socket::Sio;

pub async fn test_payments_app() -> TestApp {
    spawn_app_with(&shared_db_uri(), |s| s.test_payments = true).await
}

pub async fn checkout(app: &TestApp, user: &TestUser, pack: &str) -> crate::helpers::Reply {
    app.post(
        "/api/coins/checkout",
        Some(&user.token),
        json!({ "packId": pack }),
    )
    .await
}

/// Buys a pack through the test provider; returns the purchase id.
pub async fn buy_test_coins(app: &TestApp, user: &TestUser, pack: &str) -> String {
    let started = checkout(app, user, pack).await;
    let id = started.assert_ok(201)["purchase"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    app.post(
        &format!("/api/coins/purchases/{id}/test-confirm"),
        Some(&user.token),
        json!({}),
    )
    .await
    .assert_ok(200);
    id
}

#[tokio::test]
async fn without_a_provider_packs_show_and_checkout_says_not_configured() {
    let app = spawn_app().await;
    let packs = app.get("/api/coins/packs", None).await;
    let body = packs.assert_ok(200);
    assert_eq!(body["provider"], Value::Null);
    assert_eq!(
        body["items"][1],
        json!({ "id": "medium", "coins": 550, "price": 999, "currency": "usd" })
    );
    let user = app.register("buyer").await;
    checkout(&app, &user, "small")
        .await
        .assert_error(503, "payments_not_configured");
    // The test provider's doors do not exist here.
    app.post(
        &format!(
            "/api/coins/purchases/{}/test-confirm",
            mongodb::bson::oid::ObjectId::new()
        ),
        Some(&user.token),
        json!({}),
    )
    .await
    .assert_error(404, "not_found");
    assert_eq!(app.balance(&user).await, 100);
}

#[tokio::test]
async fn the_test_provider_sells_a_pack_once_as_labelled_test_money() {
    let app = test_payments_app().await;
    assert_eq!(
        app.get("/api/coins/packs", None).await.assert_ok(200)["provider"],
        "test"
    );
    let buyer = app.register("buyer").await;
    let sio = Sio::connect(&app, &buyer).await;
    checkout(&app, &buyer, "nope")
        .await
        .assert_error(422, "validation_failed");
    let started = checkout(&app, &buyer, "medium").await;
    let body = started.assert_ok(201).clone();
    let purchase = &body["purchase"];
    let id = purchase["id"].as_str().unwrap();
    assert_eq!(purchase["state"], "pending");
    assert_eq!(purchase["provider"], "test");
    assert_eq!(purchase["test"], true);
    assert_eq!(purchase["coins"], 550);
    assert_eq!(purchase["price"], 999);
    assert_eq!(purchase["currency"], "usd");
    assert_eq!(purchase["paidAt"], Value::Null);
    assert!(
        body["url"]
            .as_str()
            .unwrap()
            .ends_with(&format!("/wallet/test-checkout/{id}")),
        "{body}"
    );
    assert_eq!(app.balance(&buyer).await, 100, "nothing before it is paid");

    let confirm = format!("/api/coins/purchases/{id}/test-confirm");
    let paid = app.post(&confirm, Some(&buyer.token), json!({})).await;
    let paid = paid.assert_ok(200);
    assert_eq!(paid["purchase"]["state"], "paid");
    assert_eq!(paid["balance"], 650);
    let update = sio.next("purchase:update").await;
    assert_eq!(update["purchase"]["id"], id);
    assert_eq!(update["purchase"]["state"], "paid");
    assert_eq!(sio.next("balance:update").await["coins"], 650);

    // Confirming again credits nothing more.
    let again = app.post(&confirm, Some(&buyer.token), json!({})).await;
    assert_eq!(again.assert_ok(200)["balance"], 650);
    // Nor can a paid purchase be cancelled.
    app.post(
        &format!("/api/coins/purchases/{id}/test-cancel"),
        Some(&buyer.token),
        json!({}),
    )
    .await
    .assert_error(409, "purchase_paid");

    let ledger = app
        .get("/api/transactions?kind=purchase", Some(&buyer.token))
        .await;
    let items = ledger.assert_ok(200)["items"].as_array().unwrap().clone();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["amount"], 550);
    assert_eq!(items[0]["test"], true);
    assert_eq!(items[0]["purchaseId"], id);
    assert_eq!(items[0]["fromUserId"], Value::Null);
    assert_eq!(items[0]["toUserId"], buyer.id.as_str());

    let one = app
        .get(&format!("/api/coins/purchases/{id}"), Some(&buyer.token))
        .await;
    assert_eq!(one.assert_ok(200)["state"], "paid");
    assert!(one.body["paidAt"].is_string());
    // Someone else's purchase does not exist for them.
    let stranger = app.register("stranger").await;
    app.get(&format!("/api/coins/purchases/{id}"), Some(&stranger.token))
        .await
        .assert_error(404, "purchase_not_found");
    app.post(&confirm, Some(&stranger.token), json!({}))
        .await
        .assert_error(404, "purchase_not_found");
    sio.close().await;
    app.assert_ledger_invariants().await;
}

#[tokio::test]
async fn a_cancelled_test_purchase_expires_and_cannot_be_confirmed() {
    let app = test_payments_app().await;
    let buyer = app.register("buyer").await;
    let first = checkout(&app, &buyer, "small").await.assert_ok(201)["purchase"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let cancelled = app
        .post(
            &format!("/api/coins/purchases/{first}/test-cancel"),
            Some(&buyer.token),
            json!({}),
        )
        .await;
    assert_eq!(cancelled.assert_ok(200)["purchase"]["state"], "expired");
    assert!(cancelled.body["purchase"]["endedAt"].is_string());
    app.post(
        &format!("/api/coins/purchases/{first}/test-confirm"),
        Some(&buyer.token),
        json!({}),
    )
    .await
    .assert_error(409, "purchase_expired");
    let second = buy_test_coins(&app, &buyer, "large").await;
    assert_eq!(app.balance(&buyer).await, 1300);

    let list = app.get("/api/coins/purchases", Some(&buyer.token)).await;
    let items = list.assert_ok(200)["items"].as_array().unwrap().clone();
    let states: Vec<(&str, &str)> = items
        .iter()
        .map(|p| (p["id"].as_str().unwrap(), p["state"].as_str().unwrap()))
        .collect();
    assert_eq!(
        states,
        vec![(second.as_str(), "paid"), (first.as_str(), "expired")],
        "newest first"
    );
    app.assert_ledger_invariants().await;
}

#[tokio::test]
async fn the_same_checkout_key_makes_one_purchase() {
    let app = test_payments_app().await;
    let buyer = app.register("buyer").await;
    let send = || {
        app.http
            .post(app.url("/api/coins/checkout"))
            .bearer_auth(&buyer.token)
            .header("Idempotency-Key", "buy-once")
            .json(&json!({ "packId": "small" }))
            .send()
    };
    let replies = futures::future::join_all((0..5).map(|_| send())).await;
    let mut ids = Vec::new();
    for reply in replies {
        let reply = crate::helpers::Reply::from(reply.unwrap()).await;
        ids.push(reply.assert_ok(201)["purchase"]["id"].clone());
    }
    assert!(ids.iter().all(|id| id == &ids[0]), "{ids:?}");
    let list = app.get("/api/coins/purchases", Some(&buyer.token)).await;
    assert_eq!(list.assert_ok(200)["items"].as_array().unwrap().len(), 1);
    // The same key for another pack is another request.
    let other = app
        .http
        .post(app.url("/api/coins/checkout"))
        .bearer_auth(&buyer.token)
        .header("Idempotency-Key", "buy-once")
        .json(&json!({ "packId": "large" }))
        .send()
        .await
        .unwrap();
    crate::helpers::Reply::from(other)
        .await
        .assert_error(422, "idempotency_key_reused");
}

// ---- Stripe: the checkout call, against a local stand-in ----

const SIGNER: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/socket-driver/stripe-sign.mjs"
);

/// A `Stripe-Signature` header made by Stripe's official library
/// (`stripe.webhooks.generateTestHeaderString`).
pub async fn stripe_signature(payload: &str, secret: &str, timestamp: i64) -> String {
    use tokio::io::AsyncWriteExt;
    let mut child = tokio::process::Command::new("node")
        .arg(SIGNER)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("node runs the signer (npm install in tests/socket-driver)");
    let line = json!({ "payload": payload, "secret": secret, "timestamp": timestamp }).to_string();
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(line.as_bytes()).await.unwrap();
    stdin.write_all(b"\n").await.unwrap();
    drop(stdin);
    let out = child.wait_with_output().await.unwrap();
    assert!(out.status.success());
    let header = String::from_utf8(out.stdout).unwrap().trim().to_owned();
    assert!(
        header.starts_with(&format!("t={timestamp},v1=")),
        "{header}"
    );
    header
}

pub fn now_secs() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

/// One request the stand-in received.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub method: String,
    pub path: String,
    pub headers: axum::http::HeaderMap,
    pub body: String,
}

/// A local HTTP server answering `POST /v1/checkout/sessions` like Stripe's
/// API (a session with an id and a url), recording every request; a price
/// of 1999 cents is refused (402, Stripe's error shape).
pub struct StripeStandIn {
    pub base: String,
    pub recorded: std::sync::Arc<std::sync::Mutex<Vec<Recorded>>>,
}

impl StripeStandIn {
    pub async fn start() -> Self {
        use axum::extract::State;
        let recorded: std::sync::Arc<std::sync::Mutex<Vec<Recorded>>> = Default::default();
        let handler = |State(log): State<std::sync::Arc<std::sync::Mutex<Vec<Recorded>>>>,
                       method: axum::http::Method,
                       uri: axum::http::Uri,
                       headers: axum::http::HeaderMap,
                       body: String| async move {
            let n = {
                let mut log = log.lock().unwrap();
                log.push(Recorded {
                    method: method.to_string(),
                    path: uri.path().to_owned(),
                    headers,
                    body: body.clone(),
                });
                log.len()
            };
            if body.contains("unit_amount%5D=1999") {
                return (
                    axum::http::StatusCode::PAYMENT_REQUIRED,
                    axum::Json(json!({ "error": { "type": "card_error", "message": "declined" } })),
                );
            }
            (
                axum::http::StatusCode::OK,
                axum::Json(json!({
                    "id": format!("cs_test_{n}"),
                    "object": "checkout.session",
                    "url": format!("https://checkout.stripe.test/c/pay/cs_test_{n}"),
                })),
            )
        };
        let router = axum::Router::new()
            .fallback(handler)
            .with_state(recorded.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, router).await });
        Self { base, recorded }
    }

    pub fn requests(&self) -> Vec<Recorded> {
        self.recorded.lock().unwrap().clone()
    }
}

pub const PUBLIC_URL: &str = "https://streamshare.test";

/// A server with Stripe configured: two webhook secrets (a rotation), the
/// API at the stand-in.
pub async fn stripe_app(stand_in: &StripeStandIn) -> TestApp {
    let base = stand_in.base.clone();
    spawn_app_with(&shared_db_uri(), move |s| {
        s.stripe_secret_key = Some("sk_test_standin".to_owned().into());
        s.stripe_webhook_secret = Some("whsec_old, whsec_new".to_owned().into());
        s.stripe_api_base = base;
        s.public_url = Some(PUBLIC_URL.into());
        // Ignored: Stripe is configured.
        s.test_payments = true;
    })
    .await
}

#[tokio::test]
async fn checkout_creates_a_stripe_session_with_what_stripe_documents() {
    let stand_in = StripeStandIn::start().await;
    let app = stripe_app(&stand_in).await;
    assert_eq!(
        app.get("/api/coins/packs", None).await.assert_ok(200)["provider"],
        "stripe"
    );
    let buyer = app.register("buyer").await;
    let started = checkout(&app, &buyer, "medium").await;
    let body = started.assert_ok(201).clone();
    let id = body["purchase"]["id"].as_str().unwrap().to_owned();
    assert_eq!(body["purchase"]["provider"], "stripe");
    assert_eq!(body["purchase"]["test"], false);
    assert_eq!(body["purchase"]["state"], "pending");

    let requests = stand_in.requests();
    assert_eq!(requests.len(), 1);
    let sent = &requests[0];
    assert_eq!(
        (sent.method.as_str(), sent.path.as_str()),
        ("POST", "/v1/checkout/sessions")
    );
    assert_eq!(sent.headers["authorization"], "Bearer sk_test_standin");
    assert_eq!(sent.headers["idempotency-key"], id.as_str());
    assert_eq!(
        sent.headers["content-type"],
        "application/x-www-form-urlencoded"
    );
    let form: std::collections::HashMap<String, String> =
        form_urlencoded::parse(sent.body.as_bytes())
            .into_owned()
            .collect();
    let field = |k: &str| form.get(k).map(String::as_str).unwrap_or("<missing>");
    assert_eq!(field("mode"), "payment");
    assert_eq!(field("line_items[0][price_data][currency]"), "usd");
    assert_eq!(field("line_items[0][price_data][unit_amount]"), "999");
    assert_eq!(
        field("line_items[0][price_data][product_data][name]"),
        "550 StreamShare coins"
    );
    assert_eq!(field("line_items[0][quantity]"), "1");
    assert_eq!(field("client_reference_id"), id);
    assert_eq!(field("metadata[purchase_id]"), id);
    assert_eq!(
        field("success_url"),
        format!("{PUBLIC_URL}/wallet/return?purchase={id}")
    );
    assert_eq!(
        field("cancel_url"),
        format!("{PUBLIC_URL}/wallet?cancelled={id}")
    );
    // The answer's url is the one Stripe gave.
    assert_eq!(body["url"], "https://checkout.stripe.test/c/pay/cs_test_1");

    // With Stripe configured there is no test provider.
    app.post(
        &format!("/api/coins/purchases/{id}/test-confirm"),
        Some(&buyer.token),
        json!({}),
    )
    .await
    .assert_error(404, "not_found");

    // Stripe refusing: 502, and the purchase ends.
    let refused = checkout(&app, &buyer, "large").await;
    refused.assert_error(502, "payment_provider_error");
    let list = app.get("/api/coins/purchases", Some(&buyer.token)).await;
    let items = list.assert_ok(200)["items"].as_array().unwrap().clone();
    assert_eq!(items[0]["packId"], "large");
    assert_eq!(items[0]["state"], "expired");
    assert_eq!(app.balance(&buyer).await, 100);
}

// ---- Stripe: the webhook ----

fn session_event(
    event_id: &str,
    kind: &str,
    purchase: &str,
    amount: i64,
    currency: &str,
    intent: &str,
) -> String {
    json!({
        "id": event_id,
        "object": "event",
        "type": kind,
        "data": { "object": {
            "id": format!("cs_{event_id}"),
            "object": "checkout.session",
            "client_reference_id": purchase,
            "metadata": { "purchase_id": purchase },
            "mode": "payment",
            "payment_status": if kind == "checkout.session.expired" { "unpaid" } else { "paid" },
            "amount_total": amount,
            "currency": currency,
            "payment_intent": intent,
        } }
    })
    .to_string()
}

fn refund_event(event_id: &str, intent: &str, amount: i64) -> String {
    json!({
        "id": event_id,
        "object": "event",
        "type": "charge.refunded",
        "data": { "object": {
            "id": format!("ch_{event_id}"),
            "object": "charge",
            "amount": amount,
            "amount_refunded": amount,
            "refunded": true,
            "payment_intent": intent,
        } }
    })
    .to_string()
}

async fn deliver(app: &TestApp, payload: &str, signature: Option<&str>) -> crate::helpers::Reply {
    let mut req = app
        .http
        .post(app.url("/api/payments/stripe/webhook"))
        .header("content-type", "application/json")
        .body(payload.to_owned());
    if let Some(sig) = signature {
        req = req.header("Stripe-Signature", sig);
    }
    crate::helpers::Reply::from(req.send().await.unwrap()).await
}

/// Delivers signed now with the current secret.
async fn deliver_signed(app: &TestApp, payload: &str) -> crate::helpers::Reply {
    let sig = stripe_signature(payload, "whsec_new", now_secs()).await;
    deliver(app, payload, Some(&sig)).await
}

async fn purchase_state(app: &TestApp, user: &TestUser, id: &str) -> String {
    app.get(&format!("/api/coins/purchases/{id}"), Some(&user.token))
        .await
        .assert_ok(200)["state"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn stripe_purchase(app: &TestApp, user: &TestUser, pack: &str) -> String {
    checkout(app, user, pack).await.assert_ok(201)["purchase"]["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[tokio::test]
async fn a_paid_checkout_credits_once_however_often_and_in_whatever_order_it_comes() {
    let stand_in = StripeStandIn::start().await;
    let app = stripe_app(&stand_in).await;
    let buyer = app.register("buyer").await;
    let sio = Sio::connect(&app, &buyer).await;
    let id = stripe_purchase(&app, &buyer, "medium").await;
    let paid = session_event(
        "evt_paid_1",
        "checkout.session.completed",
        &id,
        999,
        "usd",
        "pi_1",
    );

    // Signed with the old secret of the rotation: still good.
    let old = stripe_signature(&paid, "whsec_old", now_secs()).await;
    let first = deliver(&app, &paid, Some(&old)).await;
    assert_eq!(first.assert_ok(200)["outcome"], "credited");
    assert_eq!(app.balance(&buyer).await, 650);
    assert_eq!(
        sio.next("purchase:update").await["purchase"]["state"],
        "paid"
    );

    // Replayed, one after another and ten at once: nothing more.
    for _ in 0..2 {
        assert_eq!(
            deliver_signed(&app, &paid).await.assert_ok(200)["outcome"],
            "duplicate"
        );
    }
    let sig = stripe_signature(&paid, "whsec_new", now_secs()).await;
    let replies =
        futures::future::join_all((0..10).map(|_| deliver(&app, &paid, Some(&sig)))).await;
    assert!(replies.iter().all(|r| r.status == 200), "{replies:?}");
    // The asynchronous-payment event for the same checkout, and an
    // `expired` arriving after `paid`: nothing changes.
    let late = session_event(
        "evt_async_1",
        "checkout.session.async_payment_succeeded",
        &id,
        999,
        "usd",
        "pi_1",
    );
    assert_eq!(
        deliver_signed(&app, &late).await.assert_ok(200)["outcome"],
        "already_credited"
    );
    let expired = session_event("evt_exp_1", "checkout.session.expired", &id, 999, "usd", "");
    assert_eq!(
        deliver_signed(&app, &expired).await.assert_ok(200)["outcome"],
        "unchanged"
    );
    assert_eq!(purchase_state(&app, &buyer, &id).await, "paid");
    assert_eq!(app.balance(&buyer).await, 650);

    // Another purchase, many different deliveries of its payment at once
    // (distinct event ids): credited once.
    let second = stripe_purchase(&app, &buyer, "small").await;
    let events: Vec<String> = (0..8)
        .map(|i| {
            session_event(
                &format!("evt_many_{i}"),
                if i % 2 == 0 {
                    "checkout.session.completed"
                } else {
                    "checkout.session.async_payment_succeeded"
                },
                &second,
                199,
                "usd",
                "pi_2",
            )
        })
        .collect();
    let mut signed = Vec::new();
    for e in &events {
        signed.push((
            e.clone(),
            stripe_signature(e, "whsec_new", now_secs()).await,
        ));
    }
    let replies =
        futures::future::join_all(signed.iter().map(|(e, s)| deliver(&app, e, Some(s)))).await;
    let credited = replies
        .iter()
        .filter(|r| r.assert_ok(200)["outcome"] == "credited")
        .count();
    assert_eq!(credited, 1, "{replies:?}");
    assert_eq!(app.balance(&buyer).await, 750);

    // A refund that arrives before its payment waits for it.
    let third = stripe_purchase(&app, &buyer, "small").await;
    let refund = refund_event("evt_ref_3", "pi_3", 199);
    assert_eq!(
        deliver_signed(&app, &refund).await.assert_ok(200)["outcome"],
        "refund_waiting"
    );
    let pay3 = session_event(
        "evt_paid_3",
        "checkout.session.completed",
        &third,
        199,
        "usd",
        "pi_3",
    );
    deliver_signed(&app, &pay3).await.assert_ok(200);
    assert_eq!(purchase_state(&app, &buyer, &third).await, "refunded");
    assert_eq!(app.balance(&buyer).await, 750);

    // Unknown event types are acknowledged and ignored.
    let other = json!({ "id": "evt_other", "type": "customer.created", "data": { "object": {} } })
        .to_string();
    assert_eq!(
        deliver_signed(&app, &other).await.assert_ok(200)["outcome"],
        "unchanged"
    );
    sio.close().await;
    app.assert_ledger_invariants().await;
}

#[tokio::test]
async fn forged_stale_or_wrongly_keyed_signatures_credit_nothing() {
    let stand_in = StripeStandIn::start().await;
    let app = stripe_app(&stand_in).await;
    let buyer = app.register("buyer").await;
    let id = stripe_purchase(&app, &buyer, "medium").await;
    let paid = session_event(
        "evt_forged",
        "checkout.session.completed",
        &id,
        999,
        "usd",
        "pi_f",
    );
    let now = now_secs();
    // Past the 300 s tolerance either way (a few seconds more, for the
    // time this test takes).
    let stale = stripe_signature(&paid, "whsec_new", now - 305).await;
    let future = stripe_signature(&paid, "whsec_new", now + 310).await;
    let wrong_key = stripe_signature(&paid, "whsec_other", now).await;
    let good = stripe_signature(&paid, "whsec_new", now).await;
    // The good signature over another body.
    let tampered = paid.replace("999", "99900");
    let forged = format!("t={now},v1={}", "ab".repeat(32));
    for sig in [
        Some(stale.as_str()),
        Some(future.as_str()),
        Some(wrong_key.as_str()),
        Some(forged.as_str()),
        Some("t=oops"),
        Some(""),
        None,
    ] {
        deliver(&app, &paid, sig)
            .await
            .assert_error(400, "invalid_signature");
    }
    deliver(&app, &tampered, Some(&good))
        .await
        .assert_error(400, "invalid_signature");
    assert_eq!(app.balance(&buyer).await, 100);
    assert_eq!(purchase_state(&app, &buyer, &id).await, "pending");
    // Within the tolerance (either way) it is good.
    let recent = stripe_signature(&paid, "whsec_new", now - 250).await;
    assert_eq!(
        deliver(&app, &paid, Some(&recent)).await.assert_ok(200)["outcome"],
        "credited"
    );
    assert_eq!(app.balance(&buyer).await, 650);
    app.assert_ledger_invariants().await;
}

#[tokio::test]
async fn a_payment_of_another_amount_or_currency_credits_nothing() {
    let stand_in = StripeStandIn::start().await;
    let app = stripe_app(&stand_in).await;
    let buyer = app.register("buyer").await;
    // The stand-in refuses "large": that purchase ends expired at once.
    checkout(&app, &buyer, "large")
        .await
        .assert_error(502, "payment_provider_error");
    let id = app
        .get("/api/coins/purchases", Some(&buyer.token))
        .await
        .assert_ok(200)["items"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let id2 = stripe_purchase(&app, &buyer, "medium").await;
    for (n, (amount, currency)) in [(1, "usd"), (999, "eur"), (199, "usd")].iter().enumerate() {
        let e = session_event(
            &format!("evt_mis_{n}"),
            "checkout.session.completed",
            &id2,
            *amount,
            currency,
            "pi_m",
        );
        assert_eq!(
            deliver_signed(&app, &e).await.assert_ok(200)["outcome"],
            "mismatch"
        );
    }
    assert_eq!(app.balance(&buyer).await, 100);
    assert_eq!(purchase_state(&app, &buyer, &id2).await, "pending");
    // A session naming no purchase of ours, or an expired one, credits nothing.
    let stranger = session_event(
        "evt_unknown",
        "checkout.session.completed",
        &mongodb::bson::oid::ObjectId::new().to_hex(),
        999,
        "usd",
        "pi_u",
    );
    assert_eq!(
        deliver_signed(&app, &stranger).await.assert_ok(200)["outcome"],
        "unknown_purchase"
    );
    assert_eq!(purchase_state(&app, &buyer, &id).await, "expired");
    app.assert_ledger_invariants().await;
}

#[tokio::test]
async fn a_refund_after_the_coins_were_spent_leaves_a_debt() {
    let stand_in = StripeStandIn::start().await;
    let app = stripe_app(&stand_in).await;
    let buyer = app.register("buyer").await;
    let creator = app.register("creator").await;
    let id = stripe_purchase(&app, &buyer, "medium").await;
    let paid = session_event(
        "evt_d_paid",
        "checkout.session.completed",
        &id,
        999,
        "usd",
        "pi_d",
    );
    deliver_signed(&app, &paid).await.assert_ok(200);
    assert_eq!(app.balance(&buyer).await, 650);
    let room = app.live_room(&creator, 600).await;
    app.pay(&buyer, &room, None).await.assert_ok(200);
    assert_eq!(app.balance(&buyer).await, 50);

    let sio = Sio::connect(&app, &buyer).await;
    let refund = refund_event("evt_d_ref", "pi_d", 999);
    assert_eq!(
        deliver_signed(&app, &refund).await.assert_ok(200)["outcome"],
        "refunded"
    );
    assert_eq!(app.balance(&buyer).await, 50 - 550, "a debt");
    assert_eq!(
        sio.next("purchase:update").await["purchase"]["state"],
        "refunded"
    );
    assert_eq!(purchase_state(&app, &buyer, &id).await, "refunded");
    // Redelivered: nothing more.
    assert_eq!(
        deliver_signed(&app, &refund).await.assert_ok(200)["outcome"],
        "duplicate"
    );
    let again = refund_event("evt_d_ref2", "pi_d", 999);
    assert_eq!(
        deliver_signed(&app, &again).await.assert_ok(200)["outcome"],
        "already_refunded"
    );
    assert_eq!(app.balance(&buyer).await, -500);
    // The debt stops spending.
    let room2 = app.live_room(&creator, 1).await;
    let refused = app.pay(&buyer, &room2, None).await;
    refused.assert_error(402, "insufficient_funds");
    assert!(
        refused.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("501 more coins"),
        "{:?}",
        refused.body
    );
    let ledger = app
        .get("/api/transactions?kind=purchase_refund", Some(&buyer.token))
        .await;
    let items = ledger.assert_ok(200)["items"].as_array().unwrap().clone();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["amount"], 550);
    assert_eq!(items[0]["fromUserId"], buyer.id.as_str());
    assert_eq!(items[0]["toUserId"], Value::Null);
    sio.close().await;
    app.assert_ledger_invariants().await;
}
