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
