//! SIGTERM: clients are told, live sessions end, the process exits in time.

use std::process::Stdio;
use std::time::{Duration, Instant};

use mongodb::bson::{Document, doc, oid::ObjectId};
use serde_json::json;

use crate::helpers::{free_port, serve_command, spawn_process, unique};
use crate::socket::Sio;

#[tokio::test]
async fn sigterm_tells_viewers_ends_live_sessions_and_exits_within_ten_seconds() {
    let (mut child, app) = spawn_process(&unique("t_"), &[]).await;
    assert_eq!(app.get("/api/health/live", None).await.status, 200);

    let creator = app.register("cr").await;
    let room = app.live_room(&creator, 0).await;
    let viewer = app.register("vw").await;
    let mut sio = Sio::connect(&app, &viewer).await;
    sio.ok("room:join", json!({"roomId": room["id"]})).await;

    // SAFETY: plain kill(2) on our own child.
    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    let stopping = Instant::now();
    assert!(sio.next("server:shutdown").await["reason"].is_string());
    assert_eq!(sio.next("room:ended").await["roomId"], room["id"]);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        assert!(
            stopping.elapsed() < Duration::from_secs(10),
            "still running 10 s after SIGTERM"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(status.success(), "{status}");
    let id = ObjectId::parse_str(room["id"].as_str().unwrap()).unwrap();
    let stored = app
        .db
        .collection::<Document>("rooms")
        .find_one(doc! { "_id": id })
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        stored.get_str("status").unwrap(),
        "offline",
        "the live session ended"
    );
}

#[tokio::test]
async fn json_logs_carry_the_request_id_of_each_request() {
    let port = free_port();
    let mut child = serve_command(port, &unique("t_"))
        .env("RUST_LOG", "info")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let http = reqwest::Client::new();
    let url = format!("http://127.0.0.1:{port}/api/auth/register");
    let started = Instant::now();
    let id = loop {
        let sent = http
            .post(&url)
            .header("x-request-id", "req-under-test-42")
            .json(&json!({"username": unique("logs"), "email": format!("{}@x.io", unique("l")), "password": "12345678"}))
            .send()
            .await;
        if let Ok(resp) = sent
            && resp.status() == 201
        {
            break resp.headers()["x-request-id"].to_str().unwrap().to_owned();
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "the server did not start"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(id, "req-under-test-42", "the request id is echoed");
    // SAFETY: plain kill(2) on our own child.
    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    let out = tokio::task::spawn_blocking(move || {
        let _ = child.wait();
        let mut text = String::new();
        use std::io::Read;
        if let Some(mut e) = child.stderr.take() {
            let _ = e.read_to_string(&mut text);
        }
        if let Some(mut o) = child.stdout.take() {
            let _ = o.read_to_string(&mut text);
        }
        text
    })
    .await
    .unwrap();
    let registered = out
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .find(|l| l["fields"]["message"] == "registered")
        .unwrap_or_else(|| panic!("no JSON `registered` line in:\n{out}"));
    assert!(
        registered.to_string().contains("req-under-test-42"),
        "the log line carries the request id: {registered}"
    );
}
