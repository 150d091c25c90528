//! Browser-side protections: CSP and friends on pages, no CORS for other
//! origins, no MIME sniffing.

use crate::helpers::{shared_db_uri, spawn_app_with, unique};

#[tokio::test]
async fn pages_carry_a_strict_policy_and_other_origins_get_no_cors() {
    let dir = std::env::temp_dir().join(unique("streamshare-web-"));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("index.html"),
        "<!doctype html><title>StreamShare</title>",
    )
    .unwrap();
    let web_dir = dir.clone();
    let app = spawn_app_with(&shared_db_uri(), move |s| s.web_dir = web_dir).await;

    let page = app.http.get(app.url("/rooms/x")).send().await.unwrap();
    let csp = page.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    for rule in [
        "default-src 'self'",
        "script-src 'self'",
        "frame-ancestors 'none'",
        "object-src 'none'",
    ] {
        assert!(csp.contains(rule), "CSP lacks {rule}: {csp}");
    }
    assert!(
        !csp.contains("script-src 'self' 'unsafe"),
        "no inline scripts: {csp}"
    );
    assert_eq!(page.headers()["x-frame-options"], "DENY");
    assert_eq!(page.headers()["x-content-type-options"], "nosniff");

    // A script on another origin cannot read the API: no CORS grant, and no
    // preflight approval for credentials or the Authorization header.
    let evil = "https://evil.example";
    let api = app
        .http
        .get(app.url("/api/rooms"))
        .header("origin", evil)
        .send()
        .await
        .unwrap();
    assert_eq!(api.headers()["x-content-type-options"], "nosniff");
    assert!(api.headers().get("access-control-allow-origin").is_none());
    let preflight = app
        .http
        .request(reqwest::Method::OPTIONS, app.url("/api/users/me"))
        .header("origin", evil)
        .header("access-control-request-method", "GET")
        .header("access-control-request-headers", "authorization")
        .send()
        .await
        .unwrap();
    assert!(
        preflight
            .headers()
            .get("access-control-allow-origin")
            .is_none()
    );
    assert!(
        preflight
            .headers()
            .get("access-control-allow-headers")
            .is_none()
    );
    std::fs::remove_dir_all(&dir).unwrap();
}
