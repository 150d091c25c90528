//! `/metrics`: what an operator's Prometheus scrapes.

use crate::helpers::spawn_app;
use crate::socket::Sio;

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
            .starts_with("text/plain")
    );
    let text = resp.text().await.unwrap();
    for line in [
        "streamshare_payments_total{outcome=\"paid\"} 1",
        "streamshare_payments_total{outcome=\"already_paid\"} 1",
        "streamshare_payments_total{outcome=\"insufficient_funds\"} 1",
        "streamshare_http_requests_total{method=\"POST\",route=\"/api/transactions/stream-join\",status=\"402\"} 1",
        "streamshare_http_requests_total{method=\"GET\",route=\"/api/rooms/{id}\",status=\"200\"} 1",
        "streamshare_live_rooms 2",
        "streamshare_socket_connections 1",
        "streamshare_media_publishers 0",
    ] {
        assert!(text.contains(line), "missing `{line}` in:\n{text}");
    }
    assert!(text.contains(
        "streamshare_http_request_duration_seconds_bucket{route=\"/api/rooms/{id}\",le=\"+Inf\"} 1"
    ));
}
