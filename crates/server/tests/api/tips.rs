//! Tips: coins to a room's creator with a message everyone in the room
//! sees highlighted in chat.

use serde_json::{Value, json};

use crate::helpers::{Reply, TestApp, TestUser, spawn_app};
use crate::socket::Sio;

async fn tip(
    app: &TestApp,
    user: &TestUser,
    room: &Value,
    amount: Value,
    message: Option<&str>,
    key: Option<&str>,
) -> Reply {
    let mut body = json!({ "roomId": room["id"], "amount": amount });
    if let Some(m) = message {
        body["message"] = json!(m);
    }
    let mut req = app
        .http
        .post(app.url("/api/transactions/tip"))
        .bearer_auth(&user.token)
        .json(&body);
    if let Some(k) = key {
        req = req.header("Idempotency-Key", k);
    }
    Reply::from(req.send().await.unwrap()).await
}

fn join(room: &Value) -> Value {
    json!({ "roomId": room["id"] })
}

#[tokio::test]
async fn a_tip_moves_coins_and_shows_highlighted_in_everyones_chat() {
    let app = spawn_app().await;
    let creator = app.register("cr").await;
    let viewer = app.register("vw").await;
    let other = app.register("ot").await;
    let room = app.live_room(&creator, 0).await;
    let mut studio = Sio::connect(&app, &creator).await;
    studio.ok("room:join", join(&room)).await;
    let mut viewer_sio = Sio::connect(&app, &viewer).await;
    viewer_sio.ok("room:join", join(&room)).await;
    let mut other_sio = Sio::connect(&app, &other).await;
    other_sio.ok("room:join", join(&room)).await;

    // Plain chat says what it is.
    other_sio
        .ok(
            "chat:send",
            json!({ "roomId": room["id"], "text": "hello" }),
        )
        .await;
    assert_eq!(studio.next("chat:message").await["kind"], "chat");

    let reply = tip(
        &app,
        &viewer,
        &room,
        json!(30),
        Some("  great show  "),
        None,
    )
    .await;
    let body = reply.assert_ok(200);
    assert_eq!(body["balance"], 70);
    let tx = &body["transaction"];
    assert_eq!(tx["kind"], "tip");
    assert_eq!(tx["amount"], 30);
    assert_eq!(tx["message"], "great show");
    assert_eq!(tx["fromUserId"], viewer.id.as_str());
    assert_eq!(tx["toUserId"], creator.id.as_str());
    assert_eq!(tx["roomId"], room["id"]);
    for sio in [&studio, &viewer_sio, &other_sio] {
        let message = sio.next("chat:message").await;
        if message["kind"] == "chat" {
            // The other's "hello" reached these too; the tip follows.
            let message = sio.next("chat:message").await;
            assert_eq!(message["kind"], "tip", "{message}");
            continue;
        }
        assert_eq!(message["kind"], "tip", "{message}");
        assert_eq!(message["tip"], json!({ "amount": 30 }));
        assert_eq!(message["text"], "great show");
        assert_eq!(message["user"]["id"], viewer.id.as_str());
        assert_eq!(message["roomId"], room["id"]);
    }
    assert_eq!(app.balance(&creator).await, 130);

    // A tip without a message, and the chat history keeps both.
    tip(&app, &viewer, &room, json!(5), None, None)
        .await
        .assert_ok(200);
    let late = app.register("late").await;
    let mut late_sio = Sio::connect(&app, &late).await;
    let history = late_sio.ok("room:join", join(&room)).await["messages"].clone();
    let tips: Vec<&Value> = history
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["kind"] == "tip")
        .collect();
    assert_eq!(tips.len(), 2, "{history}");
    assert!(
        tips.iter()
            .any(|m| m["tip"]["amount"] == 30 && m["text"] == "great show")
    );
    assert!(
        tips.iter()
            .any(|m| m["tip"]["amount"] == 5 && m["text"] == "")
    );

    // Tips count in the creator's earnings.
    let earnings = app
        .get("/api/users/me/earnings?days=7", Some(&creator.token))
        .await;
    let e = earnings.assert_ok(200);
    assert_eq!(e["totals"]["tip"], 35);
    assert_eq!(e["totals"]["total"], 35);
    let days = e["days"].as_array().unwrap();
    assert_eq!(days.len(), 7);
    assert_eq!(days[6]["tip"], 35, "today is last: {e}");
    for sio in [studio, viewer_sio, other_sio, late_sio] {
        sio.close().await;
    }
    app.assert_ledger_invariants().await;
}

#[tokio::test]
async fn tips_are_refused_clearly() {
    let app = spawn_app().await;
    let creator = app.register("cr").await;
    let viewer = app.register("vw").await;
    let room = app.live_room(&creator, 0).await;
    tip(&app, &creator, &room, json!(5), None, None)
        .await
        .assert_error(400, "self_payment");
    for amount in [json!(0), json!(-3), json!(10_001), json!(2.5), json!("5")] {
        tip(&app, &viewer, &room, amount, None, None)
            .await
            .assert_error(422, "validation_failed");
    }
    let long = "x".repeat(201);
    let reply = tip(&app, &viewer, &room, json!(5), Some(&long), None).await;
    reply.assert_error(422, "validation_failed");
    assert_eq!(reply.body["error"]["field"], "message");
    let poor = tip(&app, &viewer, &room, json!(500), None, None).await;
    poor.assert_error(402, "insufficient_funds");
    assert_eq!(poor.body["error"]["balance"], 100);
    assert_eq!(poor.body["error"]["required"], 500);
    tip(
        &app,
        &viewer,
        &json!({ "id": mongodb::bson::oid::ObjectId::new().to_hex() }),
        json!(5),
        None,
        None,
    )
    .await
    .assert_error(404, "room_not_found");

    // A paid room: only after paying.
    let paid_room = app.live_room(&creator, 10).await;
    tip(&app, &viewer, &paid_room, json!(5), None, None)
        .await
        .assert_error(403, "payment_required");
    app.pay(&viewer, &paid_room, None).await.assert_ok(200);
    tip(&app, &viewer, &paid_room, json!(5), None, None)
        .await
        .assert_ok(200);

    // Timed out of the chat: a tip, but no message.
    let mut studio = Sio::connect(&app, &creator).await;
    studio
        .ok(
            "chat:timeout",
            json!({ "roomId": room["id"], "userId": viewer.id, "seconds": 60 }),
        )
        .await;
    tip(&app, &viewer, &room, json!(5), Some("let me talk"), None)
        .await
        .assert_error(403, "timed_out");
    tip(&app, &viewer, &room, json!(5), None, None)
        .await
        .assert_ok(200);

    // Banned: refused.
    studio
        .ok(
            "chat:ban",
            json!({ "roomId": room["id"], "userId": viewer.id }),
        )
        .await;
    tip(&app, &viewer, &room, json!(5), None, None)
        .await
        .assert_error(403, "forbidden");

    // Offline: refused.
    let id = paid_room["id"].as_str().unwrap();
    app.send(
        reqwest::Method::DELETE,
        &format!("/api/rooms/{id}/live"),
        Some(&creator.token),
        None,
    )
    .await;
    tip(&app, &viewer, &paid_room, json!(5), None, None)
        .await
        .assert_error(409, "room_not_live");
    // 100 - 10 (the paid room) - 5 - 5 (tips) + 10: ending the session
    // just after the payment refunded it (refunds.rs); the tips stay.
    assert_eq!(app.balance(&viewer).await, 90);
    studio.close().await;
    app.assert_ledger_invariants().await;
}

#[tokio::test]
async fn a_keyed_tip_is_paid_once_and_tipping_is_rate_limited() {
    let app = spawn_app().await;
    let creator = app.register("cr").await;
    let viewer = app.register("vw").await;
    let room = app.live_room(&creator, 0).await;
    let replies = futures::future::join_all(
        (0..3).map(|_| tip(&app, &viewer, &room, json!(7), Some("once"), Some("tip-1"))),
    )
    .await;
    let first = replies[0].assert_ok(200).clone();
    assert!(replies.iter().all(|r| r.body == first), "{replies:?}");
    assert_eq!(app.balance(&viewer).await, 93);
    tip(&app, &viewer, &room, json!(8), Some("once"), Some("tip-1"))
        .await
        .assert_error(422, "idempotency_key_reused");

    // A burst, then 429 with when to come back.
    let mut limited = None;
    for _ in 0..8 {
        let reply = tip(&app, &viewer, &room, json!(1), None, None).await;
        if reply.status == 429 {
            limited = Some(reply);
            break;
        }
        reply.assert_ok(200);
    }
    let limited = limited.expect("tips are rate-limited");
    limited.assert_error(429, "rate_limited");
    assert!(limited.body["error"]["retryAfterSeconds"].as_u64().unwrap() >= 1);
    app.assert_ledger_invariants().await;
}
