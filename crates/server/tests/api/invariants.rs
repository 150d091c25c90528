//! The ledger under concurrency, against the real database.

use futures::future::join_all;
use serde_json::Value;

use crate::helpers::{Reply, spawn_app};

fn statuses(replies: &[Reply]) -> (usize, usize) {
    let ok = replies.iter().filter(|r| r.status == 200).count();
    let poor = replies
        .iter()
        .filter(|r| r.code() == "insufficient_funds")
        .count();
    assert_eq!(
        ok + poor,
        replies.len(),
        "only successes and 402s: {:?}",
        replies.iter().map(|r| &r.body).collect::<Vec<_>>()
    );
    (ok, poor)
}

#[tokio::test]
async fn many_viewers_paying_many_rooms_at_once_keep_the_ledger_exact() {
    let app = spawn_app().await;
    let mut rooms = Vec::new();
    for _ in 0..3 {
        let creator = app.register("cr").await;
        for _ in 0..2 {
            rooms.push(app.live_room(&creator, 20).await);
        }
    }
    let mut viewers = Vec::new();
    for _ in 0..8 {
        viewers.push(app.register("vw").await);
    }
    // Every viewer pays every room at once: 48 payments, 5 of 6 affordable each.
    let payments = viewers
        .iter()
        .flat_map(|v| rooms.iter().map(move |r| (v, r)));
    let replies = join_all(payments.map(|(v, r)| app.pay(v, r, None))).await;
    let (ok, poor) = statuses(&replies);
    assert_eq!((ok, poor), (40, 8));
    for viewer in &viewers {
        assert_eq!(app.balance(viewer).await, 0);
    }
    app.assert_ledger_invariants().await;
}

#[tokio::test]
async fn a_viewer_firing_twenty_payments_at_once_gets_only_what_they_can_afford() {
    let app = spawn_app().await;
    let creator_a = app.register("cra").await;
    let creator_b = app.register("crb").await;
    let mut rooms = Vec::new();
    for i in 0..20 {
        let creator = if i % 2 == 0 { &creator_a } else { &creator_b };
        rooms.push(app.live_room(creator, 30).await);
    }
    let viewer = app.register("vw").await;
    let replies = join_all(rooms.iter().map(|r| app.pay(&viewer, r, None))).await;
    assert_eq!(statuses(&replies), (3, 17));
    assert_eq!(app.balance(&viewer).await, 10);
    assert_eq!(
        app.balance(&creator_a).await + app.balance(&creator_b).await,
        290
    );
    app.assert_ledger_invariants().await;
}

#[tokio::test]
async fn one_viewer_paying_one_session_ten_times_at_once_is_charged_once() {
    let app = spawn_app().await;
    let creator = app.register("cr").await;
    let viewer = app.register("vw").await;
    let room = app.live_room(&creator, 30).await;
    let replies = join_all((0..10).map(|_| app.pay(&viewer, &room, None))).await;
    assert_eq!(statuses(&replies), (10, 0));
    let charged: Vec<&Reply> = replies
        .iter()
        .filter(|r| r.body["alreadyPaid"] == false)
        .collect();
    assert_eq!(charged.len(), 1, "exactly one charge");
    assert!(charged[0].body["transaction"].is_object());
    assert!(
        replies
            .iter()
            .filter(|r| r.body["alreadyPaid"] == true)
            .all(|r| r.body["transaction"] == Value::Null)
    );
    assert_eq!(app.balance(&viewer).await, 70);
    assert_eq!(app.balance(&creator).await, 130);
    app.assert_ledger_invariants().await;
}

#[tokio::test]
async fn the_same_idempotency_key_ten_times_at_once_gives_one_answer() {
    let app = spawn_app().await;
    let creator = app.register("cr").await;
    let viewer = app.register("vw").await;
    let room = app.live_room(&creator, 40).await;
    let replies = join_all((0..10).map(|_| app.pay(&viewer, &room, Some("same-key")))).await;
    assert_eq!(statuses(&replies), (10, 0));
    let first = &replies[0].body;
    assert!(first["transaction"].is_object());
    assert!(
        replies.iter().all(|r| &r.body == first),
        "every answer is the stored one"
    );
    assert_eq!(app.balance(&viewer).await, 60);
    app.assert_ledger_invariants().await;
}

#[tokio::test]
async fn purchases_tips_and_payouts_at_once_keep_the_ledger_exact() {
    use serde_json::json;
    let app = crate::payments::test_payments_app().await;
    let creator = app.register("cr").await;
    let room = app.live_room(&creator, 0).await;
    let mut viewers = Vec::new();
    for _ in 0..4 {
        viewers.push(app.register("vw").await);
    }
    // Every viewer buys two packs at once.
    join_all(
        viewers
            .iter()
            .flat_map(|v| ["small", "medium"].map(|p| crate::payments::buy_test_coins(&app, v, p))),
    )
    .await;
    // Every viewer tips four times at once (some may be refused).
    let tips = viewers.iter().flat_map(|v| {
        (0..4).map(|i| {
            app.post(
                "/api/transactions/tip",
                Some(&v.token),
                json!({ "roomId": room["id"], "amount": 100 + i }),
            )
        })
    });
    let replies = join_all(tips).await;
    assert!(
        replies
            .iter()
            .all(|r| r.status == 200 || r.code() == "rate_limited"),
        "{replies:?}"
    );
    // Meanwhile the creator asks for payouts.
    let payouts = join_all((0..3).map(|_| {
        app.post(
            "/api/payouts",
            Some(&creator.token),
            json!({ "coins": 1000 }),
        )
    }))
    .await;
    assert!(
        payouts
            .iter()
            .all(|r| [201, 402, 409].contains(&r.status.as_u16()))
    );
    app.assert_ledger_invariants().await;
}
