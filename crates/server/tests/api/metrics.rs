//! `/metrics`: what an operator's Prometheus scrapes.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use serde_json::json;
use streamshare_sfu::testing::wait_until_async;

use crate::helpers::{DbServer, TestApp, spawn_app, spawn_app_with, unique};
use crate::media_plane::{publish, receives_media, view};
use crate::socket::Sio;

const SOON: Duration = Duration::from_secs(20);

/// The text of one scrape.
pub async fn scrape(app: &TestApp) -> String {
    let resp = app.http.get(app.url("/metrics")).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    resp.text().await.unwrap()
}

/// Every sample of `name`: its labels (`{...}` or empty) and value.
pub fn samples(text: &str, name: &str) -> Vec<(String, f64)> {
    text.lines()
        .filter_map(|line| {
            let rest = line.strip_prefix(name)?;
            let (labels, value) = match rest.strip_prefix('{') {
                Some(labelled) => {
                    let end = labelled.rfind('}')?;
                    (
                        format!("{{{}}}", &labelled[..end]),
                        labelled[end + 1..].trim(),
                    )
                }
                None => (String::new(), rest.strip_prefix(' ')?.trim()),
            };
            Some((labels, value.parse().ok()?))
        })
        .collect()
}

/// The value of `name` with exactly these labels (`""` for none).
fn value(text: &str, name: &str, labels: &str) -> Option<f64> {
    samples(text, name)
        .into_iter()
        .find(|(l, _)| l == labels)
        .map(|(_, v)| v)
}

/// The series of a scrape: each sample's name and labels, not its value.
fn series(text: &str) -> BTreeSet<String> {
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .filter_map(|l| l.rsplit_once(' ').map(|(s, _)| s.to_owned()))
        .collect()
}

/// Waits until `name{labels}` reads `want`.
async fn becomes(app: &TestApp, name: &str, labels: &str, want: f64) {
    let (ok, seen) = wait_until_async(SOON, || async {
        let seen = value(&scrape(app).await, name, labels);
        (seen == Some(want), seen)
    })
    .await;
    assert!(ok, "{name}{labels} stayed {seen:?}, expected {want}");
}

#[tokio::test]
async fn metrics_count_requests_payments_rooms_and_sockets() {
    let app = spawn_app().await;
    let creator = app.register("cr").await;
    let viewer = app.register("vw").await;
    let room = app.live_room(&creator, 30).await;
    let pricey = app.live_room(&creator, 500).await;
    app.pay(&viewer, &room, None).await.assert_ok(200);
    app.pay(&viewer, &room, None).await.assert_ok(200);
    app.pay(&viewer, &pricey, None)
        .await
        .assert_error(402, "insufficient_funds");
    let _sio = Sio::connect(&app, &viewer).await;
    app.get(
        &format!("/api/rooms/{}", room["id"].as_str().unwrap()),
        None,
    )
    .await
    .assert_ok(200);

    let resp = app.http.get(app.url("/metrics")).send().await.unwrap();
    assert!(
        resp.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain; version=0.0.4")
    );
    let text = resp.text().await.unwrap();
    for line in [
        "streamshare_payments_total{outcome=\"paid\"} 1",
        "streamshare_payments_total{outcome=\"already_paid\"} 1",
        "streamshare_payments_total{outcome=\"insufficient_funds\"} 1",
        "streamshare_http_requests_total{method=\"POST\",route=\"/api/transactions/stream-join\",status=\"402\"} 1",
        "streamshare_http_requests_total{method=\"GET\",route=\"/api/rooms/{id}\",status=\"200\"} 1",
        "streamshare_http_request_duration_seconds_bucket{method=\"GET\",route=\"/api/rooms/{id}\",status=\"200\",le=\"+Inf\"} 1",
        "streamshare_socket_connections 1",
        "streamshare_media_publishers{shard=\"0\"} 0",
        "streamshare_media_publishers{shard=\"1\"} 0",
    ] {
        assert!(text.contains(line), "missing `{line}` in:\n{text}");
    }
    // Counted in the background, not at the scrape: there within seconds.
    becomes(&app, "streamshare_live_rooms", "", 2.0).await;
}

#[tokio::test]
async fn every_route_is_timed_by_its_template_never_its_path() {
    let app = spawn_app().await;
    let user = app.register("rt").await;
    let ids = [unique("no_such_room_"), unique("another_")];
    for id in &ids {
        app.get(&format!("/api/rooms/{id}"), None).await;
    }
    app.get("/api/health", None).await.assert_ok(200);
    app.get("/api/users/me", Some(&user.token))
        .await
        .assert_ok(200);
    app.http
        .get(app.url("/rooms/some-room"))
        .send()
        .await
        .unwrap();
    scrape(&app).await;

    let text = scrape(&app).await;
    for id in &ids {
        assert!(!text.contains(id.as_str()), "a raw path became a label");
    }
    let by_route = |route: &str| -> f64 {
        samples(&text, "streamshare_http_request_duration_seconds_count")
            .into_iter()
            .filter(|(l, _)| l.contains(&format!("route=\"{route}\"")))
            .map(|(_, v)| v)
            .sum()
    };
    assert_eq!(by_route("/api/rooms/{id}"), 2.0, "{text}");
    assert_eq!(by_route("/api/users/me"), 1.0, "{text}");
    assert_eq!(by_route("/api/health"), 1.0, "{text}");
    // Outside `/api` too: the web app's pages and the scrape itself.
    assert_eq!(by_route("/*web"), 1.0, "{text}");
    assert_eq!(by_route("/metrics"), 1.0, "{text}");
    assert!(
        text.contains(
            "streamshare_http_requests_total{method=\"GET\",route=\"/api/users/me\",status=\"200\"} 1"
        ),
        "{text}"
    );
}

#[tokio::test]
async fn random_unknown_paths_add_no_label_values() {
    let app = spawn_app().await;
    let words: Vec<String> = (0..=40).map(|n| unique(&format!("made_up{n}_"))).collect();
    let paths = |word: &str| {
        [
            format!("/api/{word}"),
            format!("/api/rooms/{word}/{word}"),
            format!("/{word}"),
            format!("/assets/{word}.js"),
            format!("/internal/{word}"),
        ]
    };
    // One round so every area's shared label exists, and one scrape so the
    // scrape's own series does.
    for path in paths(&words[0]) {
        app.http.get(app.url(&path)).send().await.unwrap();
    }
    scrape(&app).await;
    let before = scrape(&app).await;

    // 200 requests to paths nobody has asked for.
    for word in &words[1..] {
        for path in paths(word) {
            app.http.get(app.url(&path)).send().await.unwrap();
        }
    }
    let after = scrape(&app).await;
    let grown: Vec<_> = series(&after)
        .difference(&series(&before))
        .cloned()
        .collect();
    assert!(grown.is_empty(), "new series: {grown:#?}");
    for word in &words {
        assert!(
            !after.contains(word.as_str()),
            "a made-up path became a label"
        );
    }
    let unknown_api: f64 = samples(&after, "streamshare_http_requests_total")
        .into_iter()
        .filter(|(l, _)| l.contains("route=\"/api/*unknown\""))
        .map(|(_, v)| v)
        .sum();
    assert!(unknown_api >= 80.0, "{after}");
}

#[tokio::test]
async fn the_socket_gauge_and_event_counts_follow_real_clients() {
    let app = spawn_app().await;
    let ann = app.register("ann").await;
    let bob = app.register("bob").await;
    becomes(&app, "streamshare_socket_connections", "", 0.0).await;

    let mut first = Sio::connect(&app, &ann).await;
    let second = Sio::connect(&app, &bob).await;
    becomes(&app, "streamshare_socket_connections", "", 2.0).await;

    first.ok("lobby:join", json!({})).await;
    first.ok("lobby:leave", json!({})).await;
    first.ok("lobby:join", json!({})).await;
    let made_up = unique("made_up_event_");
    first.refused(&made_up, json!({}), "unknown_event").await;
    let text = scrape(&app).await;
    let events = "streamshare_socket_events_total";
    assert_eq!(value(&text, events, "{event=\"lobby:join\"}"), Some(2.0));
    assert_eq!(value(&text, events, "{event=\"lobby:leave\"}"), Some(1.0));
    assert_eq!(value(&text, events, "{event=\"other\"}"), Some(1.0));
    assert!(!text.contains(&made_up), "an unknown event became a label");

    first.close().await;
    becomes(&app, "streamshare_socket_connections", "", 1.0).await;
    second.close().await;
    becomes(&app, "streamshare_socket_connections", "", 0.0).await;
}

#[tokio::test]
async fn build_process_and_runtime_figures_are_exported() {
    let app = spawn_app().await;
    let text = scrape(&app).await;
    assert!(
        text.contains(&format!(
            "streamshare_build_info{{version=\"{}\"}} 1",
            env!("CARGO_PKG_VERSION")
        )),
        "{text}"
    );
    let one = |name: &str| -> f64 {
        value(&text, name, "").unwrap_or_else(|| panic!("no {name} in:\n{text}"))
    };
    assert!(one("process_cpu_seconds_total") > 0.0);
    assert!(one("process_resident_memory_bytes") > 1_000_000.0);
    assert!(one("process_virtual_memory_bytes") >= one("process_resident_memory_bytes"));
    // This test binary holds at least the listener, the database connection
    // and the scrape's own connection open.
    assert!(one("process_open_fds") >= 3.0);
    assert!(one("process_max_fds") >= one("process_open_fds"));
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64();
    let started = one("process_start_time_seconds");
    assert!(
        started <= now + 1.0 && started > now - 24.0 * 3600.0,
        "{started} vs {now}"
    );
    assert!(one("streamshare_tokio_workers") >= 1.0);
    assert!(one("streamshare_tokio_alive_tasks") >= 1.0);
    assert!(one("streamshare_tokio_global_queue_depth") >= 0.0);
    assert!(text.contains("# TYPE streamshare_tokio_worker_busy_seconds_total counter"));
}

#[tokio::test]
async fn media_figures_are_kept_per_shard() {
    let app = spawn_app().await;
    let creator = app.register("cr").await;
    let viewer = app.register("vw").await;
    let room = app.live_room(&creator, 10).await;
    let (_creator_sio, _publisher) = publish(&app, &creator, &room).await;
    app.pay(&viewer, &room, None).await.assert_ok(200);
    let mut sio = Sio::connect(&app, &viewer).await;
    let peer = view(&mut sio, &room).await;
    receives_media(&peer).await;

    let text = scrape(&app).await;
    let per_shard = |name: &str| -> Vec<f64> {
        let all = samples(&text, name);
        assert_eq!(all.len(), 2, "one {name} per shard (the tests run two)");
        all.into_iter().map(|(_, v)| v).collect()
    };
    // The room and all its peers live on one shard's loop.
    let publishers = per_shard("streamshare_media_publishers");
    let home = publishers
        .iter()
        .position(|p| *p == 1.0)
        .expect("a publisher");
    assert_eq!(publishers.iter().sum::<f64>(), 1.0);
    assert_eq!(per_shard("streamshare_media_subscribers")[home], 1.0);
    assert_eq!(per_shard("streamshare_media_peers")[home], 2.0);
    for counter in [
        "streamshare_media_packets_in_total",
        "streamshare_media_forwarded_packets_total",
        "streamshare_media_forwarded_bytes_total",
    ] {
        let values = per_shard(counter);
        assert!(values[home] > 0.0, "{counter}: {values:?}");
        assert_eq!(values[1 - home], 0.0, "{counter}: {values:?}");
    }
    assert_eq!(per_shard("streamshare_media_send_drops_total").len(), 2);
}

#[tokio::test]
async fn metrics_answer_while_the_database_is_down() {
    let mut db = DbServer::start();
    let app = spawn_app_with(&db.uri(), |_| {}).await;
    let creator = app.register("cr").await;
    app.live_room(&creator, 10).await;
    becomes(&app, "streamshare_live_rooms", "", 1.0).await;

    db.kill();
    // Past a refresh and a database timeout: every scrape answers at once
    // with the last count it had.
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap();
    let until = Instant::now() + streamshare::metrics::REFRESH * 2;
    while Instant::now() < until {
        let resp = client.get(app.url("/metrics")).send().await.unwrap();
        assert_eq!(resp.status(), 200);
        let text = resp.text().await.unwrap();
        assert_eq!(value(&text, "streamshare_live_rooms", ""), Some(1.0));
        assert!(text.contains("streamshare_build_info"));
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    // The database is down indeed.
    app.get("/api/health", None)
        .await
        .assert_error(503, "database_unavailable");
}
