//! The lobby (the home page): rooms going live, viewer counts and edits
//! pushed as they happen, to signed-in and guest sockets alike.

use reqwest::Method;
use serde_json::json;

use crate::helpers::spawn_app;
use crate::socket::Sio;

#[tokio::test]
async fn a_guest_in_the_lobby_hears_rooms_go_live_fill_up_change_and_end() {
    let app = spawn_app().await;
    let creator = app.register("cr").await;
    let viewer = app.register("vw").await;
    let mut guest = Sio::try_connect(&app, Some("guest"))
        .await
        .expect("guests connect");
    guest.ok("lobby:join", json!({})).await;

    let room = app.live_room(&creator, 0).await;
    let live = guest.next("room:live").await;
    assert_eq!(live["room"]["id"], room["id"]);
    assert_eq!(live["room"]["status"], "live");

    let mut viewer_tab = Sio::connect(&app, &viewer).await;
    viewer_tab
        .ok("room:join", json!({ "roomId": room["id"] }))
        .await;
    let count = guest.next("room:count").await;
    assert_eq!(count["roomId"], room["id"]);
    assert_eq!(count["viewerCount"], 1);

    let id = room["id"].as_str().unwrap();
    app.send(
        Method::PATCH,
        &format!("/api/rooms/{id}"),
        Some(&creator.token),
        Some(json!({ "title": "A new title" })),
    )
    .await
    .assert_ok(200);
    assert_eq!(
        guest.next("room:updated").await["room"]["title"],
        "A new title"
    );

    app.send(
        Method::DELETE,
        &format!("/api/rooms/{id}/live"),
        Some(&creator.token),
        None,
    )
    .await
    .assert_ok(200);
    assert_eq!(guest.next("room:ended").await["roomId"], room["id"]);
}

#[tokio::test]
async fn a_guest_may_only_follow_the_lobby_and_no_token_is_still_refused() {
    let app = spawn_app().await;
    let creator = app.register("cr").await;
    let room = app.live_room(&creator, 0).await;
    let mut guest = Sio::try_connect(&app, Some("guest"))
        .await
        .expect("guests connect");
    for (event, data) in [
        ("room:join", json!({ "roomId": room["id"] })),
        ("chat:send", json!({ "roomId": room["id"], "text": "hi" })),
        ("room:watch", json!({ "roomId": room["id"] })),
    ] {
        guest.refused(event, data, "unauthorized").await;
    }
    guest.ok("lobby:join", json!({})).await;
    guest.ok("lobby:leave", json!({})).await;

    // Without `guest: true`, a missing token is refused at connect, as before.
    let refused = Sio::try_connect(&app, None).await.err().unwrap_or_default();
    assert!(refused.starts_with("unauthorized"), "{refused}");
    let bad = Sio::try_connect(&app, Some("not-a-token"))
        .await
        .err()
        .unwrap_or_default();
    assert!(!bad.is_empty());
}
