use mongodb::bson::{DateTime, doc, oid::ObjectId};
use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::spawn_app;

#[tokio::test]
async fn paying_moves_the_price_from_viewer_to_creator_and_grants_access() {
    let app = spawn_app().await;
    let creator = app.register("cr").await;
    let viewer = app.register("vw").await;
    let room = app.live_room(&creator, 30).await;
    let path = format!("/api/rooms/{}", room["id"].as_str().unwrap());
    assert_eq!(
        app.get(&path, Some(&viewer.token)).await.body["access"],
        "locked"
    );

    let paid = app.pay(&viewer, &room, None).await;
    let body = paid.assert_ok(200);
    assert_eq!(body["balance"], 70);
    assert_eq!(body["alreadyPaid"], false);
    let tx = &body["transaction"];
    assert_eq!(tx["kind"], "stream_join");
    assert_eq!(tx["amount"], 30);
    assert_eq!(tx["fromUserId"], viewer.id.as_str());
    assert_eq!(tx["toUserId"], creator.id.as_str());
    assert_eq!(tx["roomId"], room["id"]);
    assert_eq!(tx["liveSessionId"], room["liveSessionId"]);

    assert_eq!(app.balance(&viewer).await, 70);
    assert_eq!(app.balance(&creator).await, 130);
    assert_eq!(
        app.get(&path, Some(&viewer.token)).await.body["access"],
        "paid"
    );
    app.assert_ledger_invariants().await;
}

#[tokio::test]
async fn paying_twice_for_one_session_charges_once() {
    let app = spawn_app().await;
    let creator = app.register("cr").await;
    let viewer = app.register("vw").await;
    let room = app.live_room(&creator, 25).await;
    app.pay(&viewer, &room, None).await.assert_ok(200);
    let again = app.pay(&viewer, &room, None).await;
    let body = again.assert_ok(200);
    assert_eq!(body["alreadyPaid"], true);
    assert_eq!(body["transaction"], Value::Null);
    assert_eq!(body["balance"], 75);
    assert_eq!(app.balance(&viewer).await, 75);
}

#[tokio::test]
async fn a_new_live_session_needs_a_new_payment() {
    let app = spawn_app().await;
    let creator = app.register("cr").await;
    let viewer = app.register("vw").await;
    let room = app.live_room(&creator, 10).await;
    let id = room["id"].as_str().unwrap();
    app.pay(&viewer, &room, None).await.assert_ok(200);
    app.send(
        Method::DELETE,
        &format!("/api/rooms/{id}/live"),
        Some(&creator.token),
        None,
    )
    .await
    .assert_ok(200);
    app.pay(&viewer, &room, None)
        .await
        .assert_error(409, "room_not_live");
    assert_eq!(
        app.get(&format!("/api/rooms/{id}"), Some(&viewer.token))
            .await
            .body["access"],
        "locked"
    );

    let relive = app
        .post(
            &format!("/api/rooms/{id}/live"),
            Some(&creator.token),
            json!({}),
        )
        .await;
    let relive = relive.assert_ok(200).clone();
    assert_eq!(
        app.get(&format!("/api/rooms/{id}"), Some(&viewer.token))
            .await
            .body["access"],
        "locked"
    );
    let second = app.pay(&viewer, &relive, None).await;
    assert_eq!(second.assert_ok(200)["alreadyPaid"], false);
    // The first session ended moments after the payment, before any media:
    // that payment came back (README, "Refunds"); the second one stands.
    assert_eq!(app.balance(&viewer).await, 90);
    let refunds = app
        .get("/api/transactions?kind=refund", Some(&viewer.token))
        .await;
    assert_eq!(refunds.assert_ok(200)["items"].as_array().unwrap().len(), 1);
    app.assert_ledger_invariants().await;
}

#[tokio::test]
async fn refusals_come_in_the_contracts_order_and_charge_nothing() {
    let app = spawn_app().await;
    let creator = app.register("cr").await;
    let viewer = app.register("vw").await;
    let room = app.live_room(&creator, 30).await;

    let mut missing = room.clone();
    missing["id"] = json!(ObjectId::new().to_hex());
    missing["creator"]["id"] = json!("nonsense");
    app.pay(&viewer, &missing, None)
        .await
        .assert_error(404, "room_not_found");

    let mut wrong_creator = room.clone();
    wrong_creator["creator"]["id"] = json!(viewer.id);
    app.pay_amount(&viewer, &wrong_creator, 1, None)
        .await
        .assert_error(422, "creator_mismatch");

    app.pay_amount(&creator, &room, 1, None)
        .await
        .assert_error(400, "self_payment");

    let offline = app
        .post(
            "/api/rooms",
            Some(&creator.token),
            json!({"title": "Later", "price": 30}),
        )
        .await
        .assert_ok(201)
        .clone();
    app.pay_amount(&viewer, &offline, 1, None)
        .await
        .assert_error(409, "room_not_live");

    let mismatch = app.pay_amount(&viewer, &room, 5, None).await;
    mismatch.assert_error(409, "price_mismatch");
    assert_eq!(mismatch.body["error"]["price"], 30);

    let pricey = app.live_room(&creator, 150).await;
    let poor = app.pay(&viewer, &pricey, None).await;
    poor.assert_error(402, "insufficient_funds");
    assert_eq!(poor.body["error"]["balance"], 100);
    assert_eq!(poor.body["error"]["required"], 150);
    assert!(
        poor.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("50 more")
    );

    let bad_amount = app
        .post(
            "/api/transactions/stream-join",
            Some(&viewer.token),
            json!({"creatorId": creator.id, "roomId": room["id"], "amount": "thirty"}),
        )
        .await;
    bad_amount.assert_error(422, "validation_failed");
    assert_eq!(bad_amount.body["error"]["field"], "amount");
    app.post("/api/transactions/stream-join", None, json!({}))
        .await
        .assert_error(401, "unauthorized");

    assert_eq!(app.balance(&viewer).await, 100);
    assert_eq!(app.balance(&creator).await, 100);
    assert_eq!(app.all("room_access").await.len(), 0);
    app.assert_ledger_invariants().await;
}

#[tokio::test]
async fn a_free_room_needs_no_payment() {
    let app = spawn_app().await;
    let creator = app.register("cr").await;
    let viewer = app.register("vw").await;
    let room = app.live_room(&creator, 0).await;
    let body = app.pay(&viewer, &room, None).await;
    let body = body.assert_ok(200);
    assert_eq!(body["transaction"], Value::Null);
    assert_eq!(body["alreadyPaid"], false);
    assert_eq!(body["balance"], 100);
    assert_eq!(
        app.all("transactions").await.len(),
        2,
        "only the two signup grants"
    );
    let id = room["id"].as_str().unwrap();
    assert_eq!(
        app.get(&format!("/api/rooms/{id}"), Some(&viewer.token))
            .await
            .body["access"],
        "free"
    );
}

#[tokio::test]
async fn an_idempotency_key_replays_the_first_answer() {
    let app = spawn_app().await;
    let creator = app.register("cr").await;
    let viewer = app.register("vw").await;
    let room = app.live_room(&creator, 30).await;
    let first = app.pay(&viewer, &room, Some("pay-1")).await;
    let first = first.assert_ok(200).clone();
    let replay = app.pay(&viewer, &room, Some("pay-1")).await;
    assert_eq!(
        replay.assert_ok(200),
        &first,
        "the very same answer, not alreadyPaid"
    );
    assert_eq!(app.balance(&viewer).await, 70);

    let other_room = app.live_room(&creator, 30).await;
    let reused = app.pay(&viewer, &other_room, Some("pay-1")).await;
    reused.assert_error(422, "idempotency_key_reused");
    assert_eq!(app.balance(&viewer).await, 70);

    // Keys are per caller: another viewer's same key is a new request.
    let other_viewer = app.register("vw2").await;
    let theirs = app.pay(&other_viewer, &room, Some("pay-1")).await;
    assert_eq!(theirs.assert_ok(200)["alreadyPaid"], false);
    assert_eq!(app.balance(&other_viewer).await, 70);

    // A refusal is not stored: after a grant the same key can succeed.
    let pricey = app.live_room(&creator, 90).await;
    app.pay(&viewer, &pricey, Some("pay-2"))
        .await
        .assert_error(402, "insufficient_funds");
    app.db
        .collection::<mongodb::bson::Document>("users")
        .update_one(
            doc! { "_id": viewer.oid() },
            doc! { "$inc": { "coins": 20 } },
        )
        .await
        .unwrap();
    app.db
        .collection::<mongodb::bson::Document>("transactions")
        .insert_one(doc! { "_id": ObjectId::new(), "kind": "grant", "fromUserId": null, "toUserId": viewer.oid(), "amount": 20_i64, "createdAt": DateTime::now() })
        .await
        .unwrap();
    app.pay(&viewer, &pricey, Some("pay-2"))
        .await
        .assert_ok(200);
    app.pay(&viewer, &room, Some(&"k".repeat(300)))
        .await
        .assert_error(422, "validation_failed");
    app.assert_ledger_invariants().await;
}

#[tokio::test]
async fn the_ledger_lists_what_the_caller_paid_and_was_paid_newest_first() {
    let app = spawn_app().await;
    let creator = app.register("cr").await;
    let viewer = app.register("vw").await;
    let rooms = [
        app.live_room(&creator, 10).await,
        app.live_room(&creator, 20).await,
        app.live_room(&creator, 30).await,
    ];
    for room in &rooms {
        app.pay(&viewer, room, None).await.assert_ok(200);
    }
    let list = app.get("/api/transactions", Some(&viewer.token)).await;
    let items = list.assert_ok(200)["items"].as_array().unwrap().clone();
    let amounts: Vec<i64> = items
        .iter()
        .map(|t| t["amount"].as_i64().unwrap())
        .collect();
    assert_eq!(
        amounts,
        [30, 20, 10, 100],
        "newest first, the signup grant last"
    );
    assert_eq!(items[0]["roomTitle"], rooms[2]["title"]);

    let creator_view = app
        .get("/api/transactions?kind=stream_join", Some(&creator.token))
        .await;
    assert_eq!(
        creator_view.assert_ok(200)["items"]
            .as_array()
            .unwrap()
            .len(),
        3
    );
    let by_room = app
        .get(
            &format!(
                "/api/transactions?roomId={}",
                rooms[1]["id"].as_str().unwrap()
            ),
            Some(&creator.token),
        )
        .await;
    assert_eq!(by_room.body["items"][0]["amount"], 20);
    assert_eq!(by_room.body["items"].as_array().unwrap().len(), 1);
    let by_session = app
        .get(
            &format!(
                "/api/transactions?liveSessionId={}",
                rooms[0]["liveSessionId"].as_str().unwrap()
            ),
            Some(&viewer.token),
        )
        .await;
    assert_eq!(by_session.body["items"][0]["amount"], 10);

    let page1 = app
        .get("/api/transactions?limit=3", Some(&viewer.token))
        .await;
    assert_eq!(page1.body["items"].as_array().unwrap().len(), 3);
    let cursor = page1.body["nextCursor"].as_str().unwrap();
    let page2 = app
        .get(
            &format!("/api/transactions?limit=3&cursor={cursor}"),
            Some(&viewer.token),
        )
        .await;
    assert_eq!(page2.body["items"][0]["kind"], "grant");
    assert_eq!(page2.body["nextCursor"], Value::Null);

    // A stranger sees none of it.
    let stranger = app.register("st").await;
    let theirs = app
        .get("/api/transactions?kind=stream_join", Some(&stranger.token))
        .await;
    assert!(theirs.body["items"].as_array().unwrap().is_empty());
    app.get("/api/transactions?kind=bonus", Some(&viewer.token))
        .await
        .assert_error(422, "validation_failed");
}

#[tokio::test]
async fn view_history_lists_stays_newest_first() {
    let app = spawn_app().await;
    let creator = app.register("cr").await;
    let viewer = app.register("vw").await;
    let empty = app.get("/api/users/me/history", Some(&viewer.token)).await;
    assert!(empty.assert_ok(200)["items"].as_array().unwrap().is_empty());
    assert_eq!(empty.body["nextCursor"], Value::Null);

    // The real-time layer writes these on join and leave.
    let room = app.live_room(&creator, 0).await;
    let views = app.db.collection::<mongodb::bson::Document>("view_history");
    for left in [true, false] {
        views
            .insert_one(doc! {
                "_id": ObjectId::new(), "userId": viewer.oid(),
                "roomId": ObjectId::parse_str(room["id"].as_str().unwrap()).unwrap(),
                "roomTitle": room["title"].as_str().unwrap(), "creatorId": creator.oid(),
                "creatorUsername": &creator.username, "creatorDisplayName": &creator.username,
                "liveSessionId": ObjectId::parse_str(room["liveSessionId"].as_str().unwrap()).unwrap(),
                "joinedAt": DateTime::now(), "leftAt": if left { mongodb::bson::Bson::DateTime(DateTime::now()) } else { mongodb::bson::Bson::Null },
            })
            .await
            .unwrap();
    }
    let list = app
        .get("/api/users/me/history?limit=1", Some(&viewer.token))
        .await;
    let first = &list.assert_ok(200)["items"][0];
    assert_eq!(first["roomTitle"], room["title"]);
    assert_eq!(first["creator"]["username"], creator.username.as_str());
    assert_eq!(first["leftAt"], Value::Null, "the open stay is the newest");
    let cursor = list.body["nextCursor"].as_str().unwrap();
    let next = app
        .get(
            &format!("/api/users/me/history?limit=1&cursor={cursor}"),
            Some(&viewer.token),
        )
        .await;
    assert!(next.body["items"][0]["leftAt"].is_string());
    let others = app.get("/api/users/me/history", Some(&creator.token)).await;
    assert!(others.body["items"].as_array().unwrap().is_empty());
}
