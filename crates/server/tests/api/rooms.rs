use mongodb::bson::{Document, doc, oid::ObjectId};
use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{Reply, TestApp, spawn_app, unique};

async fn create(app: &TestApp, token: &str, body: Value) -> Value {
    app.post("/api/rooms", Some(token), body)
        .await
        .assert_ok(201)
        .clone()
}

#[tokio::test]
async fn a_creator_creates_a_room_and_anyone_can_read_it() {
    let app = spawn_app().await;
    let creator = app.register("cre").await;
    let room = create(
        &app,
        &creator.token,
        json!({"title": "  Night Music  ", "description": "jazz", "category": "Music", "price": 30}),
    )
    .await;
    assert_eq!(room["title"], "Night Music");
    assert_eq!(room["category"], "music");
    assert_eq!(room["price"], 30);
    assert_eq!(room["status"], "offline");
    assert_eq!(room["liveSessionId"], Value::Null);
    assert_eq!(room["startedAt"], Value::Null);
    assert_eq!(room["viewerCount"], 0);
    assert_eq!(room["thumbnailUrl"], Value::Null);
    assert_eq!(room["creator"]["username"], creator.username.as_str());

    let id = room["id"].as_str().unwrap();
    let anon = app.get(&format!("/api/rooms/{id}"), None).await;
    assert_eq!(anon.assert_ok(200)["access"], "locked");
    let mine = app
        .get(&format!("/api/rooms/{id}"), Some(&creator.token))
        .await;
    assert_eq!(mine.assert_ok(200)["access"], "creator");
    app.get(&format!("/api/rooms/{}", ObjectId::new()), None)
        .await
        .assert_error(404, "room_not_found");
    app.get("/api/rooms/not-an-id", None)
        .await
        .assert_error(404, "room_not_found");
}

#[tokio::test]
async fn room_fields_are_validated() {
    let app = spawn_app().await;
    let creator = app.register("val").await;
    for (body, field) in [
        (json!({"title": "", "price": 1}), "title"),
        (json!({"title": "x".repeat(101), "price": 1}), "title"),
        (json!({"title": "ok", "price": -1}), "price"),
        (json!({"title": "ok", "price": 1_000_001}), "price"),
        (json!({"title": "ok", "price": 2.5}), "price"),
        (json!({"title": "ok"}), "price"),
        (
            json!({"title": "ok", "price": 1, "category": "c".repeat(33)}),
            "category",
        ),
    ] {
        let reply = app
            .post("/api/rooms", Some(&creator.token), body.clone())
            .await;
        reply.assert_error(422, "validation_failed");
        assert_eq!(reply.body["error"]["field"], field, "{body}");
    }
    app.post("/api/rooms", None, json!({"title": "ok", "price": 1}))
        .await
        .assert_error(401, "unauthorized");
    assert!(app.all("rooms").await.is_empty());
}

#[tokio::test]
async fn only_the_creator_edits_and_goes_live() {
    let app = spawn_app().await;
    let creator = app.register("own").await;
    let other = app.register("oth").await;
    let room = create(&app, &creator.token, json!({"title": "Mine", "price": 10})).await;
    let id = room["id"].as_str().unwrap();
    let path = format!("/api/rooms/{id}");

    app.send(
        Method::PATCH,
        &path,
        Some(&other.token),
        Some(json!({"title": "Stolen"})),
    )
    .await
    .assert_error(403, "forbidden");
    app.post(&format!("{path}/live"), Some(&other.token), json!({}))
        .await
        .assert_error(403, "forbidden");
    app.send(
        Method::DELETE,
        &format!("{path}/live"),
        Some(&other.token),
        None,
    )
    .await
    .assert_error(403, "forbidden");

    let edited = app
        .send(
            Method::PATCH,
            &path,
            Some(&creator.token),
            Some(json!({"title": "Renamed", "price": 0, "category": "Talk"})),
        )
        .await;
    let edited = edited.assert_ok(200);
    assert_eq!(edited["title"], "Renamed");
    assert_eq!(edited["price"], 0);
    assert_eq!(edited["category"], "talk");
    app.send(
        Method::PATCH,
        &path,
        Some(&creator.token),
        Some(json!({"price": "free"})),
    )
    .await
    .assert_error(422, "validation_failed");
    let anon = app.get(&path, None).await;
    assert_eq!(anon.assert_ok(200)["access"], "free");
}

#[tokio::test]
async fn each_go_live_is_a_new_session_and_ending_clears_it() {
    let app = spawn_app().await;
    let creator = app.register("live").await;
    let room = create(&app, &creator.token, json!({"title": "Show", "price": 5})).await;
    let live_path = format!("/api/rooms/{}/live", room["id"].as_str().unwrap());

    let first = app
        .post(&live_path, Some(&creator.token), json!({}))
        .await
        .assert_ok(200)
        .clone();
    assert_eq!(first["status"], "live");
    let session1 = first["liveSessionId"].as_str().unwrap().to_owned();
    assert!(first["startedAt"].is_string());
    let again = app.post(&live_path, Some(&creator.token), json!({})).await;
    assert_eq!(
        again.assert_ok(200)["liveSessionId"],
        session1.as_str(),
        "live stays the same session"
    );

    let ended = app
        .send(Method::DELETE, &live_path, Some(&creator.token), None)
        .await;
    let ended = ended.assert_ok(200);
    assert_eq!(ended["status"], "offline");
    assert_eq!(ended["liveSessionId"], Value::Null);
    assert_eq!(ended["startedAt"], Value::Null);
    let sessions = app.all("live_sessions").await;
    assert_eq!(sessions.len(), 1);
    assert!(
        sessions[0].get_datetime("endedAt").is_ok(),
        "the end is recorded"
    );
    // Ending an offline room is harmless.
    app.send(Method::DELETE, &live_path, Some(&creator.token), None)
        .await
        .assert_ok(200);

    let second = app.post(&live_path, Some(&creator.token), json!({})).await;
    assert_ne!(second.assert_ok(200)["liveSessionId"], session1.as_str());
}

async fn set_viewers(app: &TestApp, room: &Value, n: i64) {
    let id = ObjectId::parse_str(room["id"].as_str().unwrap()).unwrap();
    app.db
        .collection::<Document>("rooms")
        .update_one(doc! { "_id": id }, doc! { "$set": { "viewerCount": n } })
        .await
        .unwrap();
}

fn titles(reply: &Reply) -> Vec<String> {
    reply.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["title"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn the_home_list_puts_live_rooms_first_by_viewers_and_pages_through_all() {
    let app = spawn_app().await;
    let creator = app.register("home").await;
    let mut rooms = Vec::new();
    for (title, category) in [
        ("Quiet", "talk"),
        ("Busy", "music"),
        ("Medium", "music"),
        ("Off Air", "music"),
    ] {
        rooms.push(
            create(
                &app,
                &creator.token,
                json!({"title": title, "category": category, "price": 1}),
            )
            .await,
        );
    }
    for room in &rooms[..3] {
        app.post(
            &format!("/api/rooms/{}/live", room["id"].as_str().unwrap()),
            Some(&creator.token),
            json!({}),
        )
        .await
        .assert_ok(200);
    }
    set_viewers(&app, &rooms[0], 1).await;
    set_viewers(&app, &rooms[1], 50).await;
    set_viewers(&app, &rooms[2], 7).await;
    set_viewers(&app, &rooms[3], 99).await; // stale count on an offline room

    let all = app.get("/api/rooms", None).await;
    all.assert_ok(200);
    assert_eq!(titles(&all), ["Busy", "Medium", "Quiet", "Off Air"]);
    assert_eq!(all.body["nextCursor"], Value::Null);

    assert_eq!(
        titles(&app.get("/api/rooms?status=live", None).await),
        ["Busy", "Medium", "Quiet"]
    );
    assert_eq!(
        titles(&app.get("/api/rooms?status=offline", None).await),
        ["Off Air"]
    );
    assert_eq!(
        titles(&app.get("/api/rooms?category=Music", None).await),
        ["Busy", "Medium", "Off Air"]
    );
    assert_eq!(titles(&app.get("/api/rooms?q=uS", None).await), ["Busy"]);
    assert_eq!(
        titles(&app.get("/api/rooms?q=.*", None).await),
        Vec::<String>::new()
    );
    let mine = app
        .get(&format!("/api/rooms?creatorId={}", creator.id), None)
        .await;
    assert_eq!(titles(&mine).len(), 4);

    // Page by two.
    let page1 = app.get("/api/rooms?limit=2", None).await;
    assert_eq!(titles(&page1), ["Busy", "Medium"]);
    let cursor = page1.body["nextCursor"].as_str().unwrap().to_owned();
    let page2 = app
        .get(&format!("/api/rooms?limit=2&cursor={cursor}"), None)
        .await;
    assert_eq!(titles(&page2), ["Quiet", "Off Air"]);
    assert_eq!(page2.body["nextCursor"], Value::Null);
}

#[tokio::test]
async fn list_parameters_are_checked() {
    let app = spawn_app().await;
    for (query, field) in [
        ("limit=0", "limit"),
        ("limit=abc", "limit"),
        ("cursor=forged", "cursor"),
        ("status=sleeping", "status"),
        ("creatorId=xyz", "creatorId"),
    ] {
        let reply = app.get(&format!("/api/rooms?{query}"), None).await;
        reply.assert_error(422, "validation_failed");
        assert_eq!(reply.body["error"]["field"], field, "{query}");
    }
    let creator = app.register("many").await;
    for i in 0..3 {
        create(
            &app,
            &creator.token,
            json!({"title": format!("R{i}"), "price": 0}),
        )
        .await;
    }
    let big = app.get("/api/rooms?limit=500", None).await;
    assert_eq!(big.assert_ok(200)["items"].as_array().unwrap().len(), 3);
}

const PNG: &[u8] =
    b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0\x1f\x15\xc4\x89";

async fn put_thumb(app: &TestApp, room: &str, token: &str, ct: &str, body: Vec<u8>) -> Reply {
    Reply::from(
        app.http
            .put(app.url(&format!("/api/rooms/{room}/thumbnail")))
            .bearer_auth(token)
            .header("content-type", ct)
            .body(body)
            .send()
            .await
            .unwrap(),
    )
    .await
}

#[tokio::test]
async fn thumbnails_are_checked_stored_and_served_with_a_versioned_url() {
    let app = spawn_app().await;
    let creator = app.register("thumb").await;
    let other = app.register("nothumb").await;
    let room = create(&app, &creator.token, json!({"title": "Pic", "price": 0})).await;
    let id = room["id"].as_str().unwrap();

    assert_eq!(
        put_thumb(&app, id, &creator.token, "image/png", PNG.to_vec())
            .await
            .status,
        204
    );
    let url1 = app.get(&format!("/api/rooms/{id}"), None).await.body["thumbnailUrl"]
        .as_str()
        .unwrap()
        .to_owned();
    let served = app.http.get(app.url(&url1)).send().await.unwrap();
    assert_eq!(served.headers()["content-type"], "image/png");
    assert!(
        served.headers()["cache-control"]
            .to_str()
            .unwrap()
            .contains("immutable")
    );
    let etag = served.headers()["etag"].to_str().unwrap().to_owned();
    assert_eq!(served.bytes().await.unwrap().as_ref(), PNG);
    let revalidated = app
        .http
        .get(app.url(&url1))
        .header("if-none-match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(revalidated.status(), 304);

    let jpeg = [&[0xFF, 0xD8, 0xFF, 0xE0][..], &[0u8; 64]].concat();
    assert_eq!(
        put_thumb(&app, id, &creator.token, "image/jpeg", jpeg)
            .await
            .status,
        204
    );
    let url2 = app.get(&format!("/api/rooms/{id}"), None).await.body["thumbnailUrl"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_ne!(url1, url2, "a new upload busts caches");

    put_thumb(&app, id, &other.token, "image/png", PNG.to_vec())
        .await
        .assert_error(403, "forbidden");
    put_thumb(&app, id, &creator.token, "image/gif", b"GIF89a".to_vec())
        .await
        .assert_error(415, "unsupported_media_type");
    let lie = put_thumb(
        &app,
        id,
        &creator.token,
        "image/png",
        b"<svg></svg>".to_vec(),
    )
    .await;
    lie.assert_error(422, "validation_failed");
    let big = [PNG, &vec![0u8; 512 * 1024]].concat();
    put_thumb(&app, id, &creator.token, "image/png", big)
        .await
        .assert_error(413, "payload_too_large");
    let other_room = create(
        &app,
        &creator.token,
        json!({"title": unique("NoPic"), "price": 0}),
    )
    .await;
    app.get(
        &format!(
            "/api/rooms/{}/thumbnail",
            other_room["id"].as_str().unwrap()
        ),
        None,
    )
    .await
    .assert_error(404, "thumbnail_not_found");
}
