use std::time::Duration;

use crate::helpers::{DbServer, free_port, spawn_app, spawn_app_with};

#[tokio::test]
async fn health_is_ok_while_the_database_answers() {
    let app = spawn_app().await;
    let reply = app.get("/api/health", None).await;
    assert_eq!(reply.assert_ok(200)["database"], "up");
}

#[tokio::test]
async fn server_starts_without_a_database_and_recovers_when_it_comes() {
    // Reserve a port, start the server pointing at it with nothing there.
    let port = free_port();
    let uri = format!("mongodb://127.0.0.1:{port}");
    let app = spawn_app_with(&uri, |_| {}).await;

    let started = std::time::Instant::now();
    let reply = app.get("/api/health", None).await;
    reply.assert_error(503, "database_unavailable");
    assert!(started.elapsed() < Duration::from_secs(10));
    app.post(
        "/api/auth/register",
        None,
        serde_json::json!({"username": "early_bird", "email": "e@x.io", "password": "12345678"}),
    )
    .await
    .assert_error(503, "database_unavailable");

    // Now the database comes up on that port: the server finds it.
    let mut db = DbServer::start_on(port);
    // Generous: a failure guard, not a timing goal (on a loaded CI machine,
    // with the whole suite running, the database alone took over 30 s).
    let deadline = std::time::Instant::now() + Duration::from_secs(120);
    loop {
        let reply = app.get("/api/health", None).await;
        if reply.status == 200 && reply.body["indexesReady"] == true {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "never recovered: {:?}",
            reply.body
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let user = app.register("late").await;
    assert_eq!(app.balance(&user).await, 100);
    db.kill();
}
