//! The web app: static files, SPA fallback, caching; /api and /socket.io
//! are never swallowed by the fallback.

use crate::helpers::{shared_db_uri, spawn_app_with, unique};

#[tokio::test]
async fn the_web_app_is_served_with_a_fallback_and_long_cached_assets() {
    let dir = std::env::temp_dir().join(unique("streamshare-web-"));
    std::fs::create_dir_all(dir.join("assets")).unwrap();
    std::fs::write(
        dir.join("index.html"),
        "<!doctype html><title>StreamShare</title>",
    )
    .unwrap();
    std::fs::write(dir.join("assets/app-3f9a.js"), "console.log('hi')").unwrap();
    let web_dir = dir.clone();
    let app = spawn_app_with(&shared_db_uri(), move |s| s.web_dir = web_dir).await;

    for path in ["/", "/rooms/abc", "/studio/123/anything"] {
        let resp = app.http.get(app.url(path)).send().await.unwrap();
        assert_eq!(resp.status(), 200, "{path}");
        assert_eq!(resp.headers()["cache-control"], "no-cache");
        assert!(
            resp.text().await.unwrap().contains("<title>StreamShare"),
            "{path}"
        );
    }
    let asset = app
        .http
        .get(app.url("/assets/app-3f9a.js"))
        .send()
        .await
        .unwrap();
    assert_eq!(asset.status(), 200);
    assert!(
        asset.headers()["cache-control"]
            .to_str()
            .unwrap()
            .contains("immutable")
    );
    assert!(
        asset.headers()["content-type"]
            .to_str()
            .unwrap()
            .contains("javascript")
    );
    let missing = app
        .http
        .get(app.url("/assets/gone-1234.js"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        missing.status(),
        404,
        "a missing asset is not the index page"
    );

    let api = app.get("/api/not-here", None).await;
    api.assert_error(404, "not_found");
    let sio = app
        .http
        .get(app.url("/socket.io/?EIO=4&transport=polling"))
        .send()
        .await
        .unwrap();
    let text = sio.text().await.unwrap();
    assert!(
        text.contains("\"sid\""),
        "the Socket.IO handshake, not the web app: {text}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test]
async fn the_binary_serves_its_openapi_document_and_an_index() {
    let app = crate::helpers::spawn_app().await;
    let yaml = app
        .http
        .get(app.url("/api/openapi.yaml"))
        .send()
        .await
        .unwrap();
    assert!(
        yaml.headers()["content-type"]
            .to_str()
            .unwrap()
            .contains("yaml")
    );
    let text = yaml.text().await.unwrap();
    assert!(
        text.starts_with("openapi: 3.1"),
        "{}",
        &text[..40.min(text.len())]
    );
    let index = app
        .http
        .get(app.url("/api/docs"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(index.contains("/api/transactions/stream-join") && index.contains("<table>"));
}
