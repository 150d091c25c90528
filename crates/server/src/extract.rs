//! Request extractors whose refusals have the contract's error shape:
//! malformed JSON is 400, a wrong or missing field 422 naming it, a body over
//! the limit 413, a wrong content type 415.

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use serde::de::DeserializeOwned;

use crate::error::ApiError;

/// A JSON body, read through `serde_json` with the failing field named.
pub struct ApiJson<T>(pub T);

impl<S, T> FromRequest<S> for ApiJson<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let is_json = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(|ct| {
                let mime = ct.split(';').next().unwrap_or("").trim();
                mime.eq_ignore_ascii_case("application/json") || mime.ends_with("+json")
            })
            .unwrap_or(false);
        if !is_json {
            return Err(ApiError::refused(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                "Send the body as JSON with Content-Type: application/json.",
            ));
        }
        let bytes = read_body(req, state).await?;
        parse_json(&bytes).map(ApiJson)
    }
}

/// Reads the whole body, turning the size limit into a 413.
pub async fn read_body<S: Send + Sync>(req: Request, state: &S) -> Result<Bytes, ApiError> {
    Bytes::from_request(req, state).await.map_err(|rejection| {
        if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::refused(
                StatusCode::PAYLOAD_TOO_LARGE,
                "payload_too_large",
                "The request body is too large.",
            )
        } else {
            ApiError::bad_request("bad_request", "The request body could not be read.")
        }
    })
}

/// Parses JSON: syntax errors are 400, shape errors 422 naming the field.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let value: serde_json::Value = serde_json::from_slice(bytes).map_err(|e| {
        ApiError::bad_request("malformed_json", format!("The body is not valid JSON: {e}"))
    })?;
    if !value.is_object() {
        return Err(ApiError::invalid("body", "The body must be a JSON object."));
    }
    from_value(value)
}

/// Deserializes a JSON value, naming the failing field in a 422.
pub fn from_value<T: DeserializeOwned>(value: serde_json::Value) -> Result<T, ApiError> {
    serde_path_to_error::deserialize(value).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner().to_string();
        let field = if path != "." {
            path
        } else {
            missing_field(&inner).unwrap_or_else(|| "body".to_owned())
        };
        ApiError::invalid(field, inner)
    })
}

fn missing_field(message: &str) -> Option<String> {
    let rest = message.strip_prefix("missing field `")?;
    Some(rest.split('`').next()?.to_owned())
}

/// Path parameters; a path that cannot be decoded (invalid UTF-8 after
/// percent-decoding) is a 400 in the contract's shape, not axum's text.
pub struct ApiPath<T>(pub T);

impl<S, T> FromRequestParts<S> for ApiPath<T>
where
    S: Send + Sync,
    T: DeserializeOwned + Send,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        axum::extract::Path::<T>::from_request_parts(parts, state)
            .await
            .map(|axum::extract::Path(value)| ApiPath(value))
            .map_err(|_| ApiError::bad_request("bad_request", "The URL's path is not valid."))
    }
}

/// Query parameters, with the failing parameter named in a 422.
pub struct ApiQuery<T>(pub T);

impl<S, T> FromRequestParts<S> for ApiQuery<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let query = parts.uri.query().unwrap_or("");
        let pairs: serde_json::Map<String, serde_json::Value> =
            form_urlencoded_pairs(query).collect();
        from_value(serde_json::Value::Object(pairs)).map(ApiQuery)
    }
}

/// Query strings become a JSON object of strings; numbers are parsed by the
/// handlers, so `?limit=abc` gets a clear 422 from them.
fn form_urlencoded_pairs(query: &str) -> impl Iterator<Item = (String, serde_json::Value)> + '_ {
    form_urlencoded::parse(query.as_bytes())
        .map(|(k, v)| (k.into_owned(), serde_json::Value::String(v.into_owned())))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Deserialize)]
    #[allow(dead_code)]
    struct Body {
        name: String,
        age: i64,
    }

    #[test]
    fn syntax_errors_are_400_and_shape_errors_name_the_field() {
        let err = parse_json::<Body>(b"{not json").unwrap_err();
        assert_eq!(err.status(), StatusCode::BAD_REQUEST);
        let err = parse_json::<Body>(br#"{"name": "a"}"#).unwrap_err();
        assert_eq!(err.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(err.body()["error"]["field"], "age");
        let err = parse_json::<Body>(br#"{"name": 5, "age": 1}"#).unwrap_err();
        assert_eq!(err.body()["error"]["field"], "name");
        let err = parse_json::<Body>(b"[1]").unwrap_err();
        assert_eq!(err.body()["error"]["field"], "body");
    }
}
