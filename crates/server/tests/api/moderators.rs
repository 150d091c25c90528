//! Room moderators: the creator appoints them over REST; they delete
//! messages, time out and ban like the creator (not the creator, not each
//! other); chat shows display names and badges; it holds across instances.

use std::time::Duration;

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{
    RedisServer, TestApp, TestUser, shared_db_uri, spawn_app, spawn_app_with, unique,
};
use crate::socket::Sio;

fn join(room: &Value) -> Value {
    json!({ "roomId": room["id"] })
}

async fn appoint(
    app: &TestApp,
    caller: &TestUser,
    room: &Value,
    user: &TestUser,
) -> crate::helpers::Reply {
    app.send(
        Method::PUT,
        &format!(
            "/api/rooms/{}/moderators/{}",
            room["id"].as_str().unwrap(),
            user.id
        ),
        Some(&caller.token),
        None,
    )
    .await
}

#[tokio::test]
async fn only_the_creator_appoints_and_removes_moderators() {
    let app = spawn_app().await;
    let creator = app.register("cr").await;
    let mod_user = app.register("md").await;
    let viewer = app.register("vw").await;
    let room = app.live_room(&creator, 0).await;
    let id = room["id"].as_str().unwrap();

    appoint(&app, &viewer, &room, &mod_user)
        .await
        .assert_error(403, "forbidden");
    let ok = appoint(&app, &creator, &room, &mod_user).await;
    assert_eq!(
        ok.assert_ok(200)["items"][0]["username"],
        mod_user.username.as_str()
    );
    // Twice is once.
    let again = appoint(&app, &creator, &room, &mod_user).await;
    assert_eq!(again.assert_ok(200)["items"].as_array().unwrap().len(), 1);
    let listed = app.get(&format!("/api/rooms/{id}/moderators"), None).await;
    assert_eq!(
        listed.assert_ok(200)["items"][0]["id"],
        mod_user.id.as_str()
    );
    let shown = app.get(&format!("/api/rooms/{id}"), None).await;
    assert_eq!(shown.assert_ok(200)["moderatorIds"], json!([mod_user.id]));

    appoint(&app, &creator, &room, &creator)
        .await
        .assert_error(422, "validation_failed");
    app.send(
        Method::PUT,
        &format!("/api/rooms/{id}/moderators/{}", "0123456789abcdef01234567"),
        Some(&creator.token),
        None,
    )
    .await
    .assert_error(404, "user_not_found");

    let removed = app
        .send(
            Method::DELETE,
            &format!("/api/rooms/{id}/moderators/{}", mod_user.id),
            Some(&creator.token),
            None,
        )
        .await;
    assert_eq!(removed.assert_ok(200)["items"], json!([]));
}

#[tokio::test]
async fn a_moderator_deletes_a_message_and_bans_a_viewer_and_a_viewer_cannot() {
    let app = spawn_app().await;
    let creator = app.register("cr").await;
    let moderator = app.register("md").await;
    let viewer = app.register("vw").await;
    let troll = app.register("tr").await;
    let room = app.live_room(&creator, 0).await;
    let mut studio = Sio::connect(&app, &creator).await;
    studio.ok("room:join", join(&room)).await;
    let mut mod_tab = Sio::connect(&app, &moderator).await;
    mod_tab.ok("room:join", join(&room)).await;
    let mut viewer_tab = Sio::connect(&app, &viewer).await;
    viewer_tab.ok("room:join", join(&room)).await;
    let mut troll_tab = Sio::connect(&app, &troll).await;
    troll_tab.ok("room:join", join(&room)).await;

    appoint(&app, &creator, &room, &moderator)
        .await
        .assert_ok(200);
    let change = viewer_tab.next("room:moderators").await;
    assert_eq!(change["moderatorIds"], json!([moderator.id]));

    // Messages carry the display name and the author's badge.
    let host_line = studio
        .ok(
            "chat:send",
            json!({ "roomId": room["id"], "text": "welcome @everyone" }),
        )
        .await;
    assert_eq!(host_line["message"]["user"]["badge"], "host");
    assert!(host_line["message"]["user"]["displayName"].is_string());
    let mod_line = mod_tab
        .ok(
            "chat:send",
            json!({ "roomId": room["id"], "text": "be nice" }),
        )
        .await;
    assert_eq!(mod_line["message"]["user"]["badge"], "moderator");
    let said = troll_tab
        .ok(
            "chat:send",
            json!({ "roomId": room["id"], "text": "spam spam" }),
        )
        .await;
    assert!(said["message"]["user"]["badge"].is_null());
    let message_id = said["message"]["id"].clone();

    // A plain viewer may not moderate.
    viewer_tab
        .refused(
            "chat:delete",
            json!({ "roomId": room["id"], "messageId": message_id }),
            "forbidden",
        )
        .await;
    viewer_tab
        .refused(
            "chat:ban",
            json!({ "roomId": room["id"], "userId": troll.id }),
            "forbidden",
        )
        .await;

    // The moderator deletes the message and bans its author.
    mod_tab
        .ok(
            "chat:delete",
            json!({ "roomId": room["id"], "messageId": message_id }),
        )
        .await;
    assert_eq!(
        viewer_tab.next("chat:deleted").await["messageId"],
        message_id
    );
    mod_tab
        .ok(
            "chat:ban",
            json!({ "roomId": room["id"], "userId": troll.id }),
        )
        .await;
    assert_eq!(
        troll_tab.next("chat:ban").await["user"]["id"],
        troll.id.as_str()
    );
    troll_tab.refused("room:join", join(&room), "banned").await;

    // Moderators cannot moderate the creator.
    mod_tab
        .refused(
            "chat:timeout",
            json!({ "roomId": room["id"], "userId": creator.id }),
            "forbidden",
        )
        .await;

    // Removed, the moderator is a viewer again at once.
    app.send(
        Method::DELETE,
        &format!(
            "/api/rooms/{}/moderators/{}",
            room["id"].as_str().unwrap(),
            moderator.id
        ),
        Some(&creator.token),
        None,
    )
    .await
    .assert_ok(200);
    mod_tab
        .refused(
            "chat:timeout",
            json!({ "roomId": room["id"], "userId": viewer.id }),
            "forbidden",
        )
        .await;
}

#[tokio::test]
async fn a_moderator_on_another_instance_bans_a_viewer_everywhere() {
    let redis = RedisServer::start();
    let db_name = unique("t_mods_");
    let mut apps = Vec::new();
    for i in 0..2 {
        let db_name = db_name.clone();
        let url = redis.url();
        apps.push(
            spawn_app_with(&shared_db_uri(), move |s| {
                s.db_name = db_name;
                s.redis_url = Some(url);
                s.instance_id = Some(format!("m{i}"));
            })
            .await,
        );
    }
    let (a, b) = (&apps[0], &apps[1]);
    let creator = a.register("cr").await;
    let moderator = a.register("md").await;
    let viewer = a.register("vw").await;
    let room = a.live_room(&creator, 0).await;
    // The viewer is on instance A, the moderator on B; appointed through A.
    let mut viewer_tab = Sio::connect(a, &viewer).await;
    viewer_tab.ok("room:join", join(&room)).await;
    let mut mod_tab = Sio::connect(b, &moderator).await;
    mod_tab.ok("room:join", join(&room)).await;
    appoint(a, &creator, &room, &moderator).await.assert_ok(200);

    let said = viewer_tab
        .ok(
            "chat:send",
            json!({ "roomId": room["id"], "text": "hello from A" }),
        )
        .await;
    let line = mod_tab.next("chat:message").await;
    assert_eq!(line["id"], said["message"]["id"]);
    mod_tab
        .ok(
            "chat:delete",
            json!({ "roomId": room["id"], "messageId": said["message"]["id"] }),
        )
        .await;
    assert_eq!(
        viewer_tab.next("chat:deleted").await["messageId"],
        said["message"]["id"]
    );
    mod_tab
        .ok(
            "chat:ban",
            json!({ "roomId": room["id"], "userId": viewer.id }),
        )
        .await;
    viewer_tab.next("chat:ban").await;
    // Taken out on A: sending is refused (not in the room, or banned).
    let mut refused = Value::Null;
    for _ in 0..40 {
        refused = viewer_tab
            .emit(
                "chat:send",
                json!({ "roomId": room["id"], "text": "still here?" }),
            )
            .await;
        if refused["ok"] == false {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(refused["ok"], false, "{refused}");
    viewer_tab.refused("room:join", join(&room), "banned").await;
}
