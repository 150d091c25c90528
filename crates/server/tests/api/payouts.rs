//! Earnings and payouts: only earned coins are payable; a request holds
//! them; the admin command approves or rejects (giving them back).

use serde_json::{Value, json};

use crate::helpers::{Reply, TestApp, TestUser, admin_command, shared_db_uri, spawn_app_with};
use crate::payments::buy_test_coins;
use crate::socket::Sio;

async fn app_with_min(min: i64) -> TestApp {
    spawn_app_with(&shared_db_uri(), move |s| {
        s.test_payments = true;
        s.payout_min = min;
    })
    .await
}

async fn request(app: &TestApp, user: &TestUser, coins: Value) -> Reply {
    app.post("/api/payouts", Some(&user.token), json!({ "coins": coins }))
        .await
}

async fn earnings(app: &TestApp, user: &TestUser) -> Value {
    app.get("/api/users/me/earnings", Some(&user.token))
        .await
        .assert_ok(200)
        .clone()
}

async fn tip(app: &TestApp, user: &TestUser, room: &Value, amount: i64) {
    app.post(
        "/api/transactions/tip",
        Some(&user.token),
        json!({ "roomId": room["id"], "amount": amount }),
    )
    .await
    .assert_ok(200);
}

fn cli_ok(out: &std::process::Output) -> String {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[tokio::test]
async fn earned_coins_are_held_on_request_and_settled_by_the_admin() {
    let app = app_with_min(100).await;
    let creator = app.register("cr").await;
    let viewer = app.register("vw").await;
    // The viewer's 100 sign-up coins go first and are not payable; the
    // bought ones are, once earned by the creator.
    buy_test_coins(&app, &viewer, "large").await;
    let room = app.live_room(&creator, 0).await;
    tip(&app, &viewer, &room, 300).await;
    // The creator's own bought coins are never payable.
    buy_test_coins(&app, &creator, "small").await;
    assert_eq!(app.balance(&creator).await, 100 + 300 + 100);
    let e = earnings(&app, &creator).await;
    assert_eq!(e["totals"]["tip"], 300);
    assert_eq!(e["payable"], 200, "{e}");
    assert_eq!(
        (e["held"].as_i64(), e["paidOut"].as_i64()),
        (Some(0), Some(0))
    );
    assert_eq!(e["payoutMin"], 100);
    assert_eq!(e["days"].as_array().unwrap().len(), 30);

    let sio = Sio::connect(&app, &creator).await;
    let small = request(&app, &creator, json!(99)).await;
    small.assert_error(422, "validation_failed");
    assert_eq!(small.body["error"]["field"], "coins");
    let big = request(&app, &creator, json!(201)).await;
    big.assert_error(402, "insufficient_funds");
    assert_eq!(big.body["error"]["required"], 201);

    let payout = request(&app, &creator, json!(150)).await;
    let payout = payout.assert_ok(201).clone();
    assert_eq!(payout["state"], "requested");
    assert_eq!(payout["coins"], 150);
    assert_eq!(payout["settledAt"], Value::Null);
    let id = payout["id"].as_str().unwrap().to_owned();
    assert_eq!(
        sio.next("payout:update").await["payout"]["state"],
        "requested"
    );
    assert_eq!(app.balance(&creator).await, 350, "held at once");
    request(&app, &creator, json!(100))
        .await
        .assert_error(409, "payout_pending");
    let e = earnings(&app, &creator).await;
    assert_eq!(
        (e["held"].as_i64(), e["payable"].as_i64()),
        (Some(150), Some(50))
    );

    // The admin lists and rejects it: the coins come back.
    let listed =
        cli_ok(&admin_command(&["payouts", "list", "--state", "requested"], &app.db_name).await);
    assert!(
        listed.contains(&id) && listed.contains(&creator.username),
        "{listed}"
    );
    cli_ok(
        &admin_command(
            &["payouts", "reject", &id, "--note", "bank details missing"],
            &app.db_name,
        )
        .await,
    );
    let update = sio.next("payout:update").await;
    assert_eq!(update["payout"]["state"], "rejected");
    assert_eq!(update["payout"]["note"], "bank details missing");
    assert_eq!(app.balance(&creator).await, 500);
    let again = admin_command(&["payouts", "approve", &id], &app.db_name).await;
    assert!(!again.status.success(), "a settled payout stays settled");

    // Requested again and approved: paid out for good.
    let second = request(&app, &creator, json!(200)).await;
    let second = second.assert_ok(201)["id"].as_str().unwrap().to_owned();
    cli_ok(&admin_command(&["payouts", "approve", &second], &app.db_name).await);
    assert_eq!(app.balance(&creator).await, 300);
    let e = earnings(&app, &creator).await;
    assert_eq!(
        (
            e["paidOut"].as_i64(),
            e["held"].as_i64(),
            e["payable"].as_i64()
        ),
        (Some(200), Some(0), Some(0))
    );
    request(&app, &creator, json!(100))
        .await
        .assert_error(402, "insufficient_funds");

    let list = app.get("/api/payouts", Some(&creator.token)).await;
    let items = list.assert_ok(200)["items"].as_array().unwrap().clone();
    let states: Vec<&str> = items.iter().map(|p| p["state"].as_str().unwrap()).collect();
    assert_eq!(states, vec!["paid", "rejected"]);
    assert!(items[0]["settledAt"].is_string());
    let ledger = app.get("/api/transactions", Some(&creator.token)).await;
    let kinds: Vec<&str> = ledger.assert_ok(200)["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["kind"].as_str().unwrap())
        .collect();
    let count = |k: &str| kinds.iter().filter(|x| **x == k).count();
    assert_eq!(
        (count("payout_hold"), count("payout_release")),
        (2, 1),
        "{kinds:?}"
    );
    sio.close().await;
    app.assert_ledger_invariants().await;
}

#[tokio::test]
async fn payout_requests_at_once_hold_once() {
    let app = app_with_min(10).await;
    let creator = app.register("cr").await;
    let viewer = app.register("vw").await;
    buy_test_coins(&app, &viewer, "medium").await;
    let room = app.live_room(&creator, 0).await;
    tip(&app, &viewer, &room, 400).await;
    let replies =
        futures::future::join_all((0..6).map(|_| request(&app, &creator, json!(50)))).await;
    let made = replies.iter().filter(|r| r.status == 201).count();
    let pending = replies
        .iter()
        .filter(|r| r.code() == "payout_pending")
        .count();
    assert_eq!((made, pending), (1, 5), "{replies:?}");
    assert_eq!(app.balance(&creator).await, 100 + 400 - 50);
    // Unknown ids and states are refused by the admin command.
    let unknown = admin_command(
        &[
            "payouts",
            "approve",
            &mongodb::bson::oid::ObjectId::new().to_hex(),
        ],
        &app.db_name,
    )
    .await;
    assert!(!unknown.status.success());
    let bad_state = admin_command(&["payouts", "list", "--state", "lost"], &app.db_name).await;
    assert!(!bad_state.status.success());
    app.assert_ledger_invariants().await;
}
