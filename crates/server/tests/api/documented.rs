//! Every answer the API tests get is held to the OpenAPI document: its
//! operation must be documented, its status listed for that operation, and
//! a JSON body must match the listed schema. The document's schemas are
//! written by hand (`routes/openapi_base.yaml`), so this is what keeps them
//! true to what the handlers send.

use std::collections::HashMap;
use std::process::Command;
use std::sync::{Mutex, OnceLock};

use serde_json::{Value, json};

/// The generated document (`streamshare openapi --format json`).
fn document() -> &'static Value {
    static DOC: OnceLock<Value> = OnceLock::new();
    DOC.get_or_init(|| {
        let out = Command::new(env!("CARGO_BIN_EXE_streamshare"))
            .args(["openapi", "--format", "json"])
            .env("RUST_LOG", "off")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).unwrap()
    })
}

/// The documented path template a concrete path falls under; of several,
/// the one with the most literal segments (`/sessions/{id}` loses to
/// `/sessions/history` if both existed).
fn template_of<'d>(doc: &'d Value, path: &str) -> Option<(&'d str, &'d Value)> {
    let segments: Vec<&str> = path.split('/').collect();
    doc["paths"]
        .as_object()?
        .iter()
        .filter_map(|(template, item)| {
            let parts: Vec<&str> = template.split('/').collect();
            if parts.len() != segments.len() {
                return None;
            }
            let mut literal = 0;
            for (t, s) in parts.iter().zip(&segments) {
                if t.starts_with('{') {
                    if s.is_empty() {
                        return None;
                    }
                } else if t == s {
                    literal += 1;
                } else {
                    return None;
                }
            }
            Some((literal, template.as_str(), item))
        })
        .max_by_key(|(literal, ..)| *literal)
        .map(|(_, t, item)| (t, item))
}

/// Follows a `$ref` to `components.responses`.
fn resolve<'d>(doc: &'d Value, value: &'d Value) -> &'d Value {
    match value.get("$ref").and_then(Value::as_str) {
        Some(r) => doc.pointer(r.trim_start_matches('#')).unwrap_or(value),
        None => value,
    }
}

/// Checks one answer. Paths outside `/api`, and answers that are not about
/// a documented route (the router's own 404/405), are left alone.
#[track_caller]
pub fn check(method: &reqwest::Method, path: &str, status: u16, body: &Value) {
    let path = path.split('?').next().unwrap_or(path);
    if !path.starts_with("/api/") {
        return;
    }
    let doc = document();
    let Some((template, item)) = template_of(doc, path) else {
        assert!(
            status == 404,
            "{method} {path} answered {status} but is not in the OpenAPI document"
        );
        return;
    };
    let Some(operation) = item.get(method.as_str().to_lowercase()) else {
        assert!(
            status == 405 || method == reqwest::Method::OPTIONS,
            "{method} {template} answered {status} but that method is not documented"
        );
        return;
    };
    let responses = &operation["responses"];
    let Some(response) = responses
        .get(status.to_string())
        .or_else(|| responses.get("default"))
    else {
        panic!(
            "{method} {template} answered {status}, which its OpenAPI operation does not list: {body}"
        );
    };
    let response = resolve(doc, response);
    let Some(schema) = response.pointer("/content/application~1json/schema") else {
        return;
    };
    if body.is_null() || body.is_string() {
        // Not a JSON body (Reply keeps other bodies as a string).
        return;
    }
    let key = format!("{method} {template} {status}");
    static VALIDATORS: OnceLock<Mutex<HashMap<String, jsonschema::Validator>>> = OnceLock::new();
    let mut validators = VALIDATORS.get_or_init(Default::default).lock().unwrap();
    let validator = validators.entry(key.clone()).or_insert_with(|| {
        // The schema's `#/components/...` references resolve against a root
        // that carries the document's components.
        let mut root = json!({ "components": doc["components"] });
        for (k, v) in schema.as_object().unwrap() {
            root[k] = v.clone();
        }
        jsonschema::validator_for(&root).unwrap_or_else(|e| panic!("{key}: bad schema: {e}"))
    });
    let errors: Vec<String> = validator
        .iter_errors(body)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "{key}: the answer does not match the OpenAPI document:\n{}\nbody: {body}",
        errors.join("\n")
    );
}
