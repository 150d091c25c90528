//! The REST API's OpenAPI document, generated: every route under `/api` is
//! registered with `utoipa_axum::routes!`, which takes its method and path
//! from the handler's `#[utoipa::path]` annotation, so a route cannot be
//! served without being described. The shared parts (conventions, schemas,
//! common responses) are in `openapi_base.yaml`. Served as JSON at
//! `/api/openapi.json`, as YAML at `/api/openapi.yaml`, and browsable with
//! Swagger UI (vendored in the binary: no CDN) at `/api/docs/`.

use std::sync::{Arc, LazyLock};

use axum::extract::Path;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Redirect, Response};
use utoipa::openapi::{OpenApi, Ref, RefOr};
use utoipa::{IntoParams, ToResponse};
use utoipa_axum::router::OpenApiRouter;

use crate::error::ApiError;

/// The document's hand-written shared parts.
const BASE_YAML: &str = include_str!("openapi_base.yaml");

/// The base document: info, servers, tags, security and components.
pub fn base() -> OpenApi {
    yaml_serde::from_str(BASE_YAML)
        .expect("openapi_base.yaml is an OpenAPI document (a unit test reads it)")
}

/// The whole document, rendered once.
pub struct Rendered {
    pub json: String,
    pub yaml: String,
}

/// Every door that takes credentials checks the account behind them (the
/// `AuthUser` extractor and its kin), so every operation that is not public
/// can answer 401 and 403 `account_suspended`: listed here once rather than
/// on each handler.
fn with_account_answers(mut document: OpenApi) -> OpenApi {
    for item in document.paths.paths.values_mut() {
        let operations = [
            &mut item.get,
            &mut item.put,
            &mut item.post,
            &mut item.delete,
            &mut item.patch,
            &mut item.options,
        ];
        for operation in operations.into_iter().flatten() {
            if operation.security.as_ref().is_some_and(Vec::is_empty) {
                continue;
            }
            let responses = &mut operation.responses.responses;
            for (status, name) in [("401", "Unauthorized"), ("403", "AccountSuspended")] {
                responses
                    .entry(status.to_owned())
                    .or_insert_with(|| RefOr::Ref(Ref::from_response_name(name)));
            }
        }
    }
    document
}

static DOCUMENT: LazyLock<Rendered> = LazyLock::new(|| {
    let document = with_account_answers(
        OpenApiRouter::<crate::state::AppState>::with_openapi(base())
            .nest("/api", super::api_routes(None))
            .split_for_parts()
            .1,
    );
    Rendered {
        json: document.to_pretty_json().expect("the document serializes"),
        yaml: document.to_yaml().expect("the document serializes"),
    }
});

/// The API's OpenAPI document (the same one `streamshare openapi` prints).
pub fn document() -> &'static Rendered {
    &DOCUMENT
}

/// Shared responses: each is a `$ref` to `components.responses` in the base.
macro_rules! shared_responses {
    ($($name:ident),* $(,)?) => {
        $(
            #[doc = concat!("`#/components/responses/", stringify!($name), "`.")]
            pub struct $name;

            impl<'r> ToResponse<'r> for $name {
                fn response() -> (&'r str, RefOr<utoipa::openapi::Response>) {
                    let name = stringify!($name);
                    (name, RefOr::Ref(Ref::from_response_name(name)))
                }
            }
        )*
    };
}

shared_responses!(
    BadRequest,
    RateLimited,
    Unauthorized,
    Forbidden,
    RoomNotFound,
    NotFound,
    MethodNotAllowed,
    PayloadTooLarge,
    UnsupportedMediaType,
    ValidationFailed,
    InvalidPageParameter,
    DatabaseUnavailable,
    InternalError,
    UserNotFound,
    AccountSuspended,
);

/// A page of a list (`{"items": [...], "nextCursor": ...}`).
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
#[expect(
    dead_code,
    reason = "describes the query; lists read it in pagination.rs"
)]
pub struct PageParams {
    /// Page size. The default is 20, and values above 100 are cut to 100.
    /// Below 1, or not a whole number, is 422 `validation_failed` with
    /// `field: "limit"`.
    #[param(minimum = 1, default = 20)]
    limit: Option<u32>,
    /// The `nextCursor` of the previous page. Cursors are opaque and signed.
    /// One the server did not issue is 422 `validation_failed` with
    /// `field: "cursor"`.
    cursor: Option<String>,
}

/// A room in the path.
#[derive(IntoParams)]
#[into_params(parameter_in = Path)]
#[expect(dead_code, reason = "describes the path; handlers take a RoomId")]
pub struct RoomIdParam {
    /// The room's id. A value that is not an ObjectId cannot name a room,
    /// so it is 404 `room_not_found` rather than 422.
    #[param(pattern = "^[0-9a-f]{24}$")]
    id: String,
}

/// A creator in the path.
#[derive(IntoParams)]
#[into_params(parameter_in = Path)]
#[expect(dead_code, reason = "describes the path; handlers take the username")]
pub struct UsernameParam {
    /// The creator's username (case-insensitive).
    username: String,
}

/// The optional idempotency key of a payment.
#[derive(IntoParams)]
#[into_params(parameter_in = Header)]
#[expect(dead_code, reason = "describes the header; crate::ledger reads it")]
pub struct IdempotencyKeyHeader {
    /// Optional. 1–255 visible ASCII characters, without spaces; surrounding
    /// whitespace is trimmed. The key is scoped to the caller. The first
    /// successful answer is stored with the payment, in the same transaction,
    /// and a replay with the same body returns it. The same key with a
    /// different body is 422 `idempotency_key_reused`. Failures are not
    /// stored.
    #[param(
        rename = "Idempotency-Key",
        min_length = 1,
        max_length = 255,
        pattern = "^[!-~]+$"
    )]
    idempotency_key: Option<String>,
}

/// The OpenAPI document as JSON
///
/// Generated from the server's own routes: what this server answers.
#[utoipa::path(
    get,
    path = "/openapi.json",
    tag = "docs",
    operation_id = "openapiJson",
    security(()),
    responses((status = 200, description = "The OpenAPI 3.1 document.", body = Object, content_type = "application/json"))
)]
pub async fn openapi_json() -> Response {
    (
        [(header::CONTENT_TYPE, "application/json")],
        document().json.as_str(),
    )
        .into_response()
}

/// The OpenAPI document as YAML
///
/// The same document as `/api/openapi.json`; the repository keeps a copy in
/// `docs/openapi.yaml` (checked by the test suite).
#[utoipa::path(
    get,
    path = "/openapi.yaml",
    tag = "docs",
    operation_id = "openapi",
    security(()),
    responses((status = 200, description = "The OpenAPI 3.1 document.", body = String, content_type = "application/yaml"))
)]
pub async fn openapi_yaml() -> Response {
    (
        [(header::CONTENT_TYPE, "application/yaml; charset=utf-8")],
        document().yaml.as_str(),
    )
        .into_response()
}

/// Interactive API documentation
///
/// Swagger UI over `/api/openapi.json`, served from the binary (it works
/// offline). `/api/docs` redirects to `/api/docs/`.
#[utoipa::path(
    get,
    path = "/docs",
    tag = "docs",
    operation_id = "docsIndex",
    security(()),
    responses((status = 308, description = "To `/api/docs/`, the Swagger UI page."))
)]
pub async fn index() -> Redirect {
    Redirect::permanent("/api/docs/")
}

static UI_CONFIG: LazyLock<Arc<utoipa_swagger_ui::Config<'static>>> = LazyLock::new(|| {
    Arc::new(
        utoipa_swagger_ui::Config::from("/api/openapi.json")
            .try_it_out_enabled(true)
            .persist_authorization(true),
    )
});

/// Swagger UI's page and files (`/api/docs/` and below).
pub async fn ui(tail: Option<Path<String>>) -> Response {
    let tail = tail.map(|Path(t)| t).unwrap_or_default();
    match utoipa_swagger_ui::serve(&tail, UI_CONFIG.clone()) {
        Ok(Some(file)) => {
            let mut response = (
                [(header::CONTENT_TYPE, file.content_type)],
                file.bytes.into_owned(),
            )
                .into_response();
            if file.gzpipped {
                response
                    .headers_mut()
                    .insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
            }
            response
        }
        Ok(None) => {
            ApiError::not_found("not_found", "There is no such API endpoint.").into_response()
        }
        Err(error) => {
            ApiError::internal(anyhow::anyhow!("Swagger UI's initializer: {error}")).into_response()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_base_document_reads() {
        let base = base();
        assert!(
            base.components
                .is_some_and(|c| c.schemas.contains_key("Error"))
        );
    }
}
