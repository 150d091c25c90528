//! The OpenAPI document is generated from the router: every route is in it,
//! everything in it is served, and the repository's copy is current.

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

use serde_json::Value;

fn repo_root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .and_then(Path::parent)
        .unwrap()
}

/// `streamshare openapi` prints the generated document.
fn generated(format: &str) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_streamshare"))
        .args(["openapi", "--format", format])
        .env("RUST_LOG", "off")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn the_repository_copy_of_the_document_is_the_generated_one() {
    let committed = std::fs::read_to_string(repo_root().join("docs/openapi.yaml")).unwrap();
    assert!(
        committed == generated("yaml"),
        "docs/openapi.yaml is stale: run `cargo run -p streamshare -- openapi > docs/openapi.yaml` \
         and then `npm run gen:api` in web/"
    );
}

/// Every route under `/api` is registered through utoipa's `routes!`, which
/// takes the method and path from the handler's annotation: a route added
/// with a bare `.route(...)` would be served but missing from the document.
/// The only bare routes are Swagger UI's files and what is not the public
/// API (metrics, the internal listener's health, MediaMTX's door).
#[test]
fn no_api_route_is_registered_outside_the_document() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/routes");
    let allowed = [
        "/docs/",
        "/docs/{*rest}",
        "/mediamtx/auth",
        "/metrics",
        "/health",
    ];
    let mut bare = Vec::new();
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let source = std::fs::read_to_string(&path).unwrap();
        for (at, _) in source.match_indices(".route(") {
            let rest = source[at + ".route(".len()..].trim_start();
            let literal = rest
                .strip_prefix('"')
                .and_then(|r| r.split('"').next())
                .unwrap_or(rest);
            if !allowed.contains(&literal) {
                bare.push(format!("{}: .route({literal}", path.display()));
            }
        }
    }
    assert!(
        bare.is_empty(),
        "routes outside the OpenAPI document (register them with routes!):\n{}",
        bare.join("\n")
    );
}

/// Every `$ref` in the document points at something it has.
#[test]
fn every_reference_in_the_document_resolves() {
    let doc: Value = serde_json::from_str(&generated("json")).unwrap();
    let mut refs = BTreeSet::new();
    fn walk(v: &Value, refs: &mut BTreeSet<String>) {
        match v {
            Value::Object(map) => {
                if let Some(Value::String(r)) = map.get("$ref") {
                    refs.insert(r.clone());
                }
                map.values().for_each(|v| walk(v, refs));
            }
            Value::Array(items) => items.iter().for_each(|v| walk(v, refs)),
            _ => {}
        }
    }
    walk(&doc, &mut refs);
    assert!(refs.len() > 20, "{refs:?}");
    for r in refs {
        let pointer = r.strip_prefix('#').expect("local references only");
        assert!(doc.pointer(pointer).is_some(), "{r} does not resolve");
    }
}

/// Every documented operation is served: called with made-up ids and no
/// credentials, none answers the router's "no such endpoint" 404 or 405.
#[tokio::test]
async fn every_documented_operation_is_served() {
    let app = crate::helpers::spawn_app().await;
    let doc = app
        .get("/api/openapi.json", None)
        .await
        .assert_ok(200)
        .clone();
    let paths = doc["paths"].as_object().unwrap();
    assert!(paths.len() >= 40, "{} paths", paths.len());
    let mut checked = 0;
    for (path, item) in paths {
        for method in ["get", "post", "put", "patch", "delete", "options"] {
            if item.get(method).is_none() {
                continue;
            }
            let concrete = path
                .replace("{action}", "end")
                .split('/')
                .map(|seg| {
                    if seg.starts_with('{') {
                        "665f1c2ab1e4d3a9c8f01234"
                    } else {
                        seg
                    }
                })
                .collect::<Vec<_>>()
                .join("/");
            let answer = app
                .http
                .request(method.to_uppercase().parse().unwrap(), app.url(&concrete))
                .send()
                .await
                .unwrap();
            let status = answer.status().as_u16();
            let body = answer.text().await.unwrap_or_default();
            assert_ne!(status, 405, "{method} {path}: {body}");
            assert!(
                !(status == 404 && body.contains("There is no such API endpoint")),
                "{method} {path} is documented but not served"
            );
            checked += 1;
        }
    }
    assert!(checked >= 50, "{checked} operations");
}

#[tokio::test]
async fn the_document_and_its_interactive_view_are_served() {
    let app = crate::helpers::spawn_app().await;
    let json = app
        .get("/api/openapi.json", None)
        .await
        .assert_ok(200)
        .clone();
    assert_eq!(json["openapi"], "3.1.0");
    assert!(json["paths"]["/api/transactions/stream-join"]["post"].is_object());
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
    assert!(yaml.text().await.unwrap().starts_with("openapi: 3.1"));

    // `/api/docs` leads to Swagger UI, which loads the JSON document.
    let redirect = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .get(app.url("/api/docs"))
        .send()
        .await
        .unwrap();
    assert_eq!(redirect.status().as_u16(), 308);
    assert_eq!(redirect.headers()["location"], "/api/docs/");
    let page = app.http.get(app.url("/api/docs/")).send().await.unwrap();
    assert_eq!(page.status().as_u16(), 200);
    assert!(page.text().await.unwrap().contains("swagger-ui"));
    let init = app
        .http
        .get(app.url("/api/docs/swagger-initializer.js"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(init.contains("/api/openapi.json"), "{init}");
    let missing = app
        .http
        .get(app.url("/api/docs/nope.js"))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status().as_u16(), 404);
}
