//! The database dies in the middle of a stream of payments.

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use serde_json::Value;
use tokio::sync::Mutex;

use crate::helpers::{DbServer, TestApp, TestUser, spawn_app_with};

async fn wait_healthy(app: &TestApp) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if app.get("/api/health", None).await.status == 200 {
            return;
        }
        assert!(Instant::now() < deadline, "database never came back");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test]
async fn payments_are_all_or_nothing_when_the_database_dies_mid_stream() {
    let mut db = DbServer::start_durable();
    let app = Arc::new(spawn_app_with(&db.uri(), |s| s.db_timeout_secs = 2).await);
    let creator = app.register("cr").await;
    let mut rooms = Vec::new();
    for _ in 0..24 {
        rooms.push(app.live_room(&creator, 1).await);
    }
    let rooms = Arc::new(rooms);
    let mut viewers = Vec::new();
    for _ in 0..3 {
        viewers.push(app.register("vw").await);
    }

    // Each viewer pays every room in turn, with an Idempotency-Key per
    // payment, and notes the ones that did not answer 200.
    let down = Arc::new(AtomicBool::new(false));
    let unanswered: Arc<Mutex<Vec<(TestUser, usize)>>> = Arc::default();
    let slow_refusals: Arc<Mutex<Vec<String>>> = Arc::default();
    let mut streams = Vec::new();
    for viewer in viewers.clone() {
        let (app, rooms, unanswered, slow, down) = (
            app.clone(),
            rooms.clone(),
            unanswered.clone(),
            slow_refusals.clone(),
            down.clone(),
        );
        streams.push(tokio::spawn(async move {
            for (i, room) in rooms.iter().enumerate() {
                let key = format!("{}-{i}", viewer.id);
                let started = Instant::now();
                let reply = app.pay(&viewer, room, Some(&key)).await;
                let took = started.elapsed();
                if reply.status != 200 {
                    assert_eq!(
                        reply.status, 503,
                        "only 503 while the database is down: {:?}",
                        reply.body
                    );
                    assert_eq!(reply.code(), "database_unavailable");
                    if took > Duration::from_secs(8) {
                        slow.lock().await.push(format!("{took:?}"));
                    }
                    unanswered.lock().await.push((viewer.clone(), i));
                }
                if down.load(Ordering::Relaxed) {
                    tokio::time::sleep(Duration::from_millis(100)).await;
                } else {
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
            }
        }));
    }

    tokio::time::sleep(Duration::from_millis(300)).await;
    db.kill();
    down.store(true, Ordering::Relaxed);
    let health_started = Instant::now();
    app.get("/api/health", None)
        .await
        .assert_error(503, "database_unavailable");
    assert!(health_started.elapsed() < Duration::from_secs(8));
    tokio::time::sleep(Duration::from_secs(3)).await;
    db.restart();
    down.store(false, Ordering::Relaxed);
    for s in streams {
        s.await.unwrap();
    }
    wait_healthy(&app).await;

    let unanswered = unanswered.lock().await.clone();
    assert!(
        !unanswered.is_empty(),
        "the fault hit no payment; the test proves nothing"
    );
    assert!(
        slow_refusals.lock().await.is_empty(),
        "503s took too long: {:?}",
        slow_refusals.lock().await
    );
    // Retrying with the same key settles every payment exactly once.
    for (viewer, i) in &unanswered {
        let key = format!("{}-{i}", viewer.id);
        let reply = app.pay(viewer, &rooms[*i], Some(&key)).await;
        assert_eq!(reply.status, 200, "{:?}", reply.body);
    }
    for viewer in &viewers {
        assert_eq!(app.balance(viewer).await, 100 - rooms.len() as i64);
        let paid: HashSet<Value> = app
            .all("room_access")
            .await
            .iter()
            .filter(|a| a.get_object_id("viewerId").unwrap() == viewer.oid())
            .map(|a| Value::String(a.get_object_id("roomId").unwrap().to_hex()))
            .collect();
        assert_eq!(paid.len(), rooms.len());
    }
    app.assert_ledger_invariants().await;
}
