//! The REST API's OpenAPI document, served by the binary: the YAML at
//! `/api/openapi.yaml` and a browsable index of the endpoints at `/api/docs`.

use axum::http::header;
use axum::response::{Html, IntoResponse, Response};

/// The hand-written OpenAPI 3.1 document (`docs/openapi.yaml`).
pub const OPENAPI_YAML: &str = include_str!("../../../../docs/openapi.yaml");

pub async fn openapi() -> Response {
    (
        [(header::CONTENT_TYPE, "application/yaml; charset=utf-8")],
        OPENAPI_YAML,
    )
        .into_response()
}

/// One row per operation: method, path, summary (read off the document's
/// `paths` section, whose layout this project controls).
fn operations() -> Vec<(String, String, String)> {
    let mut rows = Vec::new();
    let mut path = None::<String>;
    let mut method = None::<String>;
    let mut in_paths = false;
    for line in OPENAPI_YAML.lines() {
        if line.trim().is_empty() {
            continue;
        }
        if !line.starts_with(' ') {
            in_paths = line.starts_with("paths:");
            continue;
        }
        if !in_paths {
            continue;
        }
        if let Some(p) = line.strip_prefix("  /").and_then(|l| l.strip_suffix(':')) {
            path = Some(format!("/{p}"));
        } else if let Some(m) = line.strip_prefix("    ").and_then(|l| l.strip_suffix(':'))
            && ["get", "post", "put", "patch", "delete"].contains(&m)
        {
            method = Some(m.to_uppercase());
        } else if let Some(summary) = line.trim_start().strip_prefix("summary: ")
            && let (Some(p), Some(m)) = (&path, method.take())
        {
            rows.push((m, p.clone(), summary.trim_matches('\'').to_owned()));
        }
    }
    rows
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

pub async fn index() -> Html<String> {
    let rows: String = operations()
        .iter()
        .map(|(m, p, s)| {
            format!(
                "<tr><td><code>{m}</code></td><td><code>{}</code></td><td>{}</td></tr>\n",
                escape(p),
                escape(s)
            )
        })
        .collect();
    Html(format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>StreamShare API</title>\
         <style>body{{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem}}\
         td{{padding:.25rem .75rem;border-bottom:1px solid #ddd;vertical-align:top}}</style></head><body>\
         <h1>StreamShare REST API</h1><p>The full OpenAPI 3.1 document: <a href=\"/api/openapi.yaml\">/api/openapi.yaml</a>. \
         Socket.IO events are described in the repository's <code>docs/realtime.md</code>.</p>\
         <table><thead><tr><th>method</th><th>path</th><th>what</th></tr></thead><tbody>\n{rows}</tbody></table></body></html>"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_index_lists_the_documents_operations() {
        let ops = operations();
        assert!(ops.len() >= 20, "{ops:?}");
        assert!(
            ops.iter()
                .any(|(m, p, _)| m == "POST" && p == "/api/transactions/stream-join")
        );
        assert!(
            ops.iter()
                .any(|(m, p, _)| m == "POST" && p == "/api/media/whip/{roomId}")
        );
    }
}
