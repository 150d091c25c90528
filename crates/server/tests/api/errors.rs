use serde_json::json;

use crate::helpers::{Reply, spawn_app};

#[tokio::test]
async fn malformed_json_is_400_and_a_wrong_content_type_is_415() {
    let app = spawn_app().await;
    let reply = Reply::from(
        app.http
            .post(app.url("/api/auth/register"))
            .header("content-type", "application/json")
            .body("{\"username\": ")
            .send()
            .await
            .unwrap(),
    )
    .await;
    reply.assert_error(400, "malformed_json");
    let reply = Reply::from(
        app.http
            .post(app.url("/api/auth/login"))
            .body("login=a&password=b")
            .send()
            .await
            .unwrap(),
    )
    .await;
    reply.assert_error(415, "unsupported_media_type");
}

#[tokio::test]
async fn bodies_over_one_mebibyte_are_413() {
    let app = spawn_app().await;
    let big = json!({"username": "x".repeat(1024 * 1024 + 10), "email": "a@b.io", "password": "12345678"});
    app.post("/api/auth/register", None, big)
        .await
        .assert_error(413, "payload_too_large");
}

#[tokio::test]
async fn unknown_api_paths_and_methods_answer_json() {
    let app = spawn_app().await;
    app.get("/api/nope", None)
        .await
        .assert_error(404, "not_found");
    app.get("/api/users/me/nothing", None)
        .await
        .assert_error(404, "not_found");
    app.send(reqwest::Method::DELETE, "/api/auth/login", None, None)
        .await
        .assert_error(405, "method_not_allowed");
}
