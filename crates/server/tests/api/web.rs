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
async fn assets_pages_and_api_answers_travel_compressed_when_the_browser_accepts_it() {
    let dir = std::env::temp_dir().join(unique("streamshare-web-"));
    std::fs::create_dir_all(dir.join("assets")).unwrap();
    // The build's copies; distinct contents show which one was sent.
    for (name, body) in [
        ("index.html", "<!doctype html><title>StreamShare</title>"),
        ("index.html.br", "BROTLI-INDEX"),
        ("index.html.gz", "GZIP-INDEX"),
        ("assets/app-1a2b.js", "console.log('plain')"),
        ("assets/app-1a2b.js.br", "BROTLI-JS"),
        ("assets/app-1a2b.js.gz", "GZIP-JS"),
    ] {
        std::fs::write(dir.join(name), body).unwrap();
    }
    let web_dir = dir.clone();
    let app = spawn_app_with(&shared_db_uri(), move |s| s.web_dir = web_dir).await;
    let fetch = |path: &'static str, accept: Option<&'static str>| {
        let mut req = app.http.get(app.url(path));
        if let Some(accept) = accept {
            req = req.header("accept-encoding", accept);
        }
        req.send()
    };
    for (path, accept, encoding, body) in [
        (
            "/assets/app-1a2b.js",
            Some("gzip, deflate, br"),
            Some("br"),
            "BROTLI-JS",
        ),
        ("/assets/app-1a2b.js", Some("gzip"), Some("gzip"), "GZIP-JS"),
        ("/assets/app-1a2b.js", None, None, "console.log('plain')"),
        ("/", Some("br"), Some("br"), "BROTLI-INDEX"),
        ("/rooms/abc", Some("gzip"), Some("gzip"), "GZIP-INDEX"),
    ] {
        let resp = fetch(path, accept).await.unwrap();
        assert_eq!(resp.status(), 200, "{path}");
        assert_eq!(
            resp.headers()
                .get("content-encoding")
                .map(|v| v.to_str().unwrap()),
            encoding,
            "{path} {accept:?}"
        );
        let vary = resp.headers().get_all("vary").iter().any(|v| {
            v.to_str()
                .unwrap()
                .to_ascii_lowercase()
                .contains("accept-encoding")
        });
        assert!(vary, "{path}: caches must key on the encoding");
        assert_eq!(resp.text().await.unwrap(), body, "{path} {accept:?}");
    }

    // A list of rooms is JSON worth compressing.
    let creator = app.register("zip").await;
    for n in 0..10 {
        app.post(
            "/api/rooms",
            Some(&creator.token),
            serde_json::json!({ "title": format!("A room with a longish title {n}"), "price": 1 }),
        )
        .await
        .assert_ok(201);
    }
    let list = app
        .http
        .get(app.url("/api/rooms?limit=100"))
        .header("accept-encoding", "gzip")
        .send()
        .await
        .unwrap();
    assert_eq!(list.status(), 200);
    assert_eq!(list.headers()["content-encoding"], "gzip");
    assert!(
        list.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/json")
    );
    let bytes = list.bytes().await.unwrap();
    assert_eq!(&bytes[..2], &[0x1f, 0x8b], "a gzip stream");
    std::fs::remove_dir_all(&dir).unwrap();
}
