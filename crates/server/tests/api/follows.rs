//! Follows and creators' pages: following a creator, the follower count,
//! the schedule, past sessions, and the home page's "Following" row.

use reqwest::Method;
use serde_json::json;

use crate::helpers::spawn_app;

#[tokio::test]
async fn following_a_creator_counts_once_and_unfollowing_takes_it_back() {
    let app = spawn_app().await;
    let creator = app.register("cr").await;
    let fan = app.register("fan").await;
    let other = app.register("oth").await;
    let path = format!("/api/creators/{}/follow", creator.username);

    let first = app.send(Method::PUT, &path, Some(&fan.token), None).await;
    assert_eq!(first.assert_ok(200)["followerCount"], 1);
    assert_eq!(first.body["following"], true);
    // Following again changes nothing.
    let again = app.send(Method::PUT, &path, Some(&fan.token), None).await;
    assert_eq!(again.assert_ok(200)["followerCount"], 1);
    app.send(Method::PUT, &path, Some(&other.token), None)
        .await
        .assert_ok(200);

    let page = app
        .get(
            &format!("/api/creators/{}", creator.username),
            Some(&fan.token),
        )
        .await;
    let body = page.assert_ok(200);
    assert_eq!(body["followerCount"], 2);
    assert_eq!(body["following"], true);
    assert_eq!(body["user"]["username"], creator.username.as_str());
    // Signed out: the same page, not following.
    let anonymous = app
        .get(&format!("/api/creators/{}", creator.username), None)
        .await;
    assert_eq!(anonymous.assert_ok(200)["following"], false);

    let gone = app
        .send(Method::DELETE, &path, Some(&fan.token), None)
        .await;
    assert_eq!(gone.assert_ok(200)["followerCount"], 1);
    assert_eq!(gone.body["following"], false);
    let page = app
        .get(
            &format!("/api/creators/{}", creator.username),
            Some(&fan.token),
        )
        .await;
    assert_eq!(page.assert_ok(200)["following"], false);
}

#[tokio::test]
async fn following_refuses_yourself_strangers_and_the_signed_out() {
    let app = spawn_app().await;
    let creator = app.register("cr").await;
    let own = format!("/api/creators/{}/follow", creator.username);
    let reply = app
        .send(Method::PUT, &own, Some(&creator.token), None)
        .await;
    reply.assert_error(422, "validation_failed");
    assert_eq!(reply.body["error"]["field"], "username");
    app.send(
        Method::PUT,
        "/api/creators/nobody_here_at_all/follow",
        Some(&creator.token),
        None,
    )
    .await
    .assert_error(404, "user_not_found");
    app.send(Method::PUT, &own, None, None)
        .await
        .assert_error(401, "unauthorized");
    app.get("/api/creators/nobody_here_at_all", None)
        .await
        .assert_error(404, "user_not_found");
}

#[tokio::test]
async fn the_following_row_lists_only_followed_creators_that_are_live() {
    let app = spawn_app().await;
    let followed = app.register("fol").await;
    let stranger = app.register("str").await;
    let fan = app.register("fan").await;
    let mine = app.live_room(&followed, 0).await;
    app.live_room(&stranger, 0).await;
    app.send(
        Method::PUT,
        &format!("/api/creators/{}/follow", followed.username),
        Some(&fan.token),
        None,
    )
    .await
    .assert_ok(200);

    let row = app
        .get("/api/rooms?status=live&following=true", Some(&fan.token))
        .await;
    let items = row.assert_ok(200)["items"].as_array().unwrap().clone();
    assert_eq!(items.len(), 1, "{items:?}");
    assert_eq!(items[0]["id"], mine["id"]);
    // Without a token the row cannot be known; other values are refused.
    app.get("/api/rooms?following=true", None)
        .await
        .assert_error(401, "unauthorized");
    let bad = app.get("/api/rooms?following=maybe", None).await;
    bad.assert_error(422, "validation_failed");
    assert_eq!(bad.body["error"]["field"], "following");
    // The plain list still ignores who asks, even a bad token.
    app.get("/api/rooms?status=live", Some("not-a-token"))
        .await
        .assert_ok(200);
}

#[tokio::test]
async fn the_home_list_filters_free_and_paid_rooms() {
    let app = spawn_app().await;
    let a = app.register("fr").await;
    let b = app.register("pd").await;
    let free = app.live_room(&a, 0).await;
    let paid = app.live_room(&b, 25).await;
    let ids = |path: &'static str| {
        let app = &app;
        async move {
            app.get(path, None).await.assert_ok(200)["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| r["id"].clone())
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(
        ids("/api/rooms?status=live&price=free").await,
        vec![free["id"].clone()]
    );
    assert_eq!(
        ids("/api/rooms?status=live&price=paid").await,
        vec![paid["id"].clone()]
    );
    let bad = app.get("/api/rooms?price=cheap", None).await;
    bad.assert_error(422, "validation_failed");
    assert_eq!(bad.body["error"]["field"], "price");
}

#[tokio::test]
async fn a_creators_page_shows_their_schedule_and_past_sessions() {
    let app = spawn_app().await;
    let creator = app.register("cr").await;
    let reply = app
        .send(
            Method::PUT,
            "/api/users/me/profile",
            Some(&creator.token),
            Some(json!({ "schedule": "  Weeknights 8–11 pm CET " })),
        )
        .await;
    assert_eq!(reply.assert_ok(200)["schedule"], "Weeknights 8–11 pm CET");
    let too_long = app
        .send(
            Method::PUT,
            "/api/users/me/profile",
            Some(&creator.token),
            Some(json!({ "schedule": "x".repeat(501) })),
        )
        .await;
    too_long.assert_error(422, "validation_failed");
    assert_eq!(too_long.body["error"]["field"], "schedule");

    let room = app.live_room(&creator, 0).await;
    let id = room["id"].as_str().unwrap();
    app.send(
        Method::DELETE,
        &format!("/api/rooms/{id}/live"),
        Some(&creator.token),
        None,
    )
    .await
    .assert_ok(200);

    let page = app
        .get(
            &format!("/api/creators/{}", creator.username.to_uppercase()),
            None,
        )
        .await;
    let body = page.assert_ok(200);
    assert_eq!(body["schedule"], "Weeknights 8–11 pm CET");
    let past = body["pastSessions"].as_array().unwrap();
    assert_eq!(past.len(), 1, "{body}");
    assert_eq!(past[0]["roomId"], room["id"]);
    assert_eq!(past[0]["roomTitle"], room["title"]);
    assert!(past[0]["endedAt"].is_string());
    assert_eq!(body["rooms"][0]["id"], room["id"]);
}
