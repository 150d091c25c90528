//! Media doors: ICE servers and stream keys.

use serde_json::json;

use crate::helpers::{shared_db_uri, spawn_app, spawn_app_with};

#[tokio::test]
async fn ice_servers_hand_out_time_limited_turn_credentials() {
    let app = spawn_app_with(&shared_db_uri(), |s| {
        s.turn_urls = vec![
            "stun:turn.example.com:3478".into(),
            "turn:turn.example.com:3478?transport=udp".into(),
        ];
        s.turn_secret = Some("coturn-shared-secret".to_owned().into());
    })
    .await;
    let user = app.register("ice").await;
    app.get("/api/media/ice-servers", None)
        .await
        .assert_error(401, "unauthorized");
    let reply = app.get("/api/media/ice-servers", Some(&user.token)).await;
    let body = reply.assert_ok(200);
    let ttl = body["ttlSeconds"].as_u64().unwrap();
    assert!(ttl >= 3600);
    let servers = body["iceServers"].as_array().unwrap();
    assert_eq!(servers[0], json!({"urls": ["stun:turn.example.com:3478"]}));
    let turn = &servers[1];
    assert_eq!(
        turn["urls"],
        json!(["turn:turn.example.com:3478?transport=udp"])
    );
    let username = turn["username"].as_str().unwrap();
    let (expiry, id) = username.split_once(':').unwrap();
    assert_eq!(id, user.id);
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let expiry: u64 = expiry.parse().unwrap();
    assert!(expiry > now && expiry <= now + ttl + 5);
    assert_eq!(
        turn["credential"].as_str().unwrap(),
        streamshare::routes::media::turn_credential("coturn-shared-secret", &user.id, expiry).1
    );

    let bare = spawn_app().await;
    let user = bare.register("ice").await;
    let reply = bare.get("/api/media/ice-servers", Some(&user.token)).await;
    assert_eq!(reply.assert_ok(200)["iceServers"], json!([]));
}

#[tokio::test]
async fn the_stream_key_is_the_creators_alone_and_rotates() {
    let app = spawn_app().await;
    let creator = app.register("key").await;
    let other = app.register("nokey").await;
    let room = app
        .post(
            "/api/rooms",
            Some(&creator.token),
            json!({"title": "OBS", "price": 5}),
        )
        .await
        .assert_ok(201)
        .clone();
    let path = format!("/api/rooms/{}/stream-key", room["id"].as_str().unwrap());
    let first = app
        .get(&path, Some(&creator.token))
        .await
        .assert_ok(200)
        .clone();
    let key = first["streamKey"].as_str().unwrap().to_owned();
    assert!(key.starts_with("sk_") && key.len() > 30);
    assert_eq!(
        first["whipPath"],
        format!("/api/media/whip/{}", room["id"].as_str().unwrap())
    );
    assert_eq!(
        app.get(&path, Some(&creator.token)).await.body["streamKey"],
        key.as_str(),
        "stable"
    );
    app.get(&path, Some(&other.token))
        .await
        .assert_error(403, "forbidden");
    app.get(&path, None).await.assert_error(401, "unauthorized");
    let listed = app.get("/api/rooms", None).await;
    assert!(!listed.body.to_string().contains(&key), "never in listings");

    let rotated = app
        .post(&format!("{path}/rotate"), Some(&creator.token), json!({}))
        .await;
    let new_key = rotated.assert_ok(200)["streamKey"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_ne!(new_key, key);
    assert_eq!(
        app.get(&path, Some(&creator.token)).await.body["streamKey"],
        new_key.as_str()
    );
    app.post(&format!("{path}/rotate"), Some(&other.token), json!({}))
        .await
        .assert_error(403, "forbidden");
}
