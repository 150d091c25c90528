//! The one API error type: every refusal under `/api` has the contract's shape
//! `{"error": {"code", "message", ...extra}}` and a fitting status.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use mongodb::error::{Error as DbError, ErrorKind};
use serde_json::{Map, Value, json};

pub type Result<T, E = ApiError> = std::result::Result<T, E>;

/// A refusal or failure that becomes an HTTP answer.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// 400: the request could not be read (malformed JSON, bad header...).
    #[error("{message}")]
    BadRequest { code: &'static str, message: String },
    /// 422: a field is invalid; `field` names it.
    #[error("{message}")]
    Invalid {
        code: &'static str,
        field: String,
        message: String,
    },
    /// Any other refusal with its own status, code and extra fields.
    #[error("{message}")]
    Refused {
        status: StatusCode,
        code: &'static str,
        message: String,
        extra: Map<String, Value>,
    },
    /// A database error: 503 when the database cannot be reached, else 500.
    #[error("database error")]
    Database(#[source] DbError),
    /// A transaction must run again (a concurrent writer won a race). The
    /// transaction helper consumes it; it never reaches a client.
    #[error("transaction must be retried")]
    Retry,
    /// 500: our fault. Logged with its cause, never shown.
    #[error("internal error")]
    Internal(#[source] anyhow::Error),
}

impl ApiError {
    pub fn bad_request(code: &'static str, message: impl Into<String>) -> Self {
        Self::BadRequest {
            code,
            message: message.into(),
        }
    }

    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::Invalid {
            code: "validation_failed",
            field: field.into(),
            message: message.into(),
        }
    }

    pub fn refused(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self::Refused {
            status,
            code,
            message: message.into(),
            extra: Map::new(),
        }
    }

    /// Adds an extra machine-readable field to a refusal (e.g. `price`).
    pub fn with(mut self, key: &str, value: impl Into<Value>) -> Self {
        match &mut self {
            Self::Refused { extra, .. } => {
                extra.insert(key.to_owned(), value.into());
            }
            _ => debug_assert!(false, "extra fields only go on refusals"),
        }
        self
    }

    /// Replaces the error code (for a 422 or 400 with a more specific code).
    pub fn with_code(mut self, new_code: &'static str) -> Self {
        match &mut self {
            Self::BadRequest { code, .. }
            | Self::Invalid { code, .. }
            | Self::Refused { code, .. } => *code = new_code,
            _ => debug_assert!(false, "only refusals have a code to replace"),
        }
        self
    }

    pub fn unauthorized(message: impl Into<String>) -> Self {
        Self::refused(StatusCode::UNAUTHORIZED, "unauthorized", message)
    }

    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::refused(StatusCode::FORBIDDEN, "forbidden", message)
    }

    pub fn not_found(code: &'static str, message: impl Into<String>) -> Self {
        Self::refused(StatusCode::NOT_FOUND, code, message)
    }

    pub fn conflict(code: &'static str, message: impl Into<String>) -> Self {
        Self::refused(StatusCode::CONFLICT, code, message)
    }

    /// 503: a service the answer needs is unreachable for now.
    pub fn unavailable(code: &'static str, message: impl Into<String>) -> Self {
        Self::refused(StatusCode::SERVICE_UNAVAILABLE, code, message)
    }

    pub fn internal(err: impl Into<anyhow::Error>) -> Self {
        Self::Internal(err.into())
    }

    pub fn status(&self) -> StatusCode {
        match self {
            Self::BadRequest { .. } => StatusCode::BAD_REQUEST,
            Self::Invalid { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            Self::Refused { status, .. } => *status,
            Self::Database(e) if is_unavailable(e) => StatusCode::SERVICE_UNAVAILABLE,
            Self::Retry => StatusCode::SERVICE_UNAVAILABLE,
            Self::Database(_) | Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    pub fn code(&self) -> &'static str {
        match self {
            Self::BadRequest { code, .. }
            | Self::Invalid { code, .. }
            | Self::Refused { code, .. } => code,
            Self::Database(e) if is_unavailable(e) => "database_unavailable",
            Self::Retry => "database_unavailable",
            Self::Database(_) | Self::Internal(_) => "internal_error",
        }
    }

    /// The error body of the contract.
    pub fn body(&self) -> Value {
        // Failures get fixed words (their causes are logged, never shown);
        // refusals keep their own, whatever their status (a 503
        // `payments_not_configured` says how to set purchases up).
        let message = match self {
            Self::Database(_) | Self::Retry if self.status() == StatusCode::SERVICE_UNAVAILABLE => {
                "The database is unavailable; try again in a moment.".to_owned()
            }
            Self::Database(_) | Self::Internal(_) | Self::Retry => {
                "Something went wrong on our side.".to_owned()
            }
            _ => self.to_string(),
        };
        let mut error = Map::new();
        error.insert("code".into(), self.code().into());
        error.insert("message".into(), message.into());
        match self {
            Self::Invalid { field, .. } => {
                error.insert("field".into(), field.clone().into());
            }
            Self::Refused { extra, .. } => error.extend(extra.clone()),
            _ => {}
        }
        json!({ "error": error })
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        match &self {
            Self::Internal(err) => tracing::error!(error = ?err, "internal error"),
            Self::Database(err) if is_unavailable(err) => {
                tracing::warn!(error = %err, "database unavailable")
            }
            Self::Database(err) => tracing::error!(error = ?err, "database error"),
            _ => {}
        }
        let body = self.body();
        let mut response = (self.status(), Json(&body)).into_response();
        // RFC 9110 §10.2.3: tell a rate-limited client when to come back.
        if let Some(secs) = body["error"]["retryAfterSeconds"].as_u64() {
            response
                .headers_mut()
                .insert(axum::http::header::RETRY_AFTER, secs.into());
        }
        response
    }
}

/// Whether a driver error means "the database cannot be reached" rather
/// than "the database refused this operation".
pub fn is_unavailable(err: &DbError) -> bool {
    matches!(
        *err.kind,
        ErrorKind::ServerSelection { .. }
            | ErrorKind::Io(_)
            | ErrorKind::ConnectionPoolCleared { .. }
            | ErrorKind::DnsResolve { .. }
    )
}

/// The name of the unique index a duplicate-key error hit, if that is what
/// it is (realworld's `on_constraint`, for MongoDB).
pub fn duplicate_key_index(err: &DbError) -> Option<String> {
    let message = match &*err.kind {
        ErrorKind::Write(mongodb::error::WriteFailure::WriteError(e)) if e.code == 11000 => {
            e.message.clone()
        }
        ErrorKind::Command(e) if e.code == 11000 => e.message.clone(),
        ErrorKind::InsertMany(e) => e
            .write_errors
            .as_ref()?
            .iter()
            .find(|w| w.code == 11000)?
            .message
            .clone(),
        _ => return None,
    };
    // "E11000 duplicate key error collection: db.users index: username_1 dup key: ..."
    let name = message
        .split("index: ")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap_or_default();
    Some(name.to_owned())
}

impl From<DbError> for ApiError {
    fn from(err: DbError) -> Self {
        Self::Database(err)
    }
}

impl From<tokio::task::JoinError> for ApiError {
    fn from(err: tokio::task::JoinError) -> Self {
        Self::Internal(err.into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusal_body_carries_code_message_and_extras() {
        let err = ApiError::refused(StatusCode::CONFLICT, "price_mismatch", "The price is 30")
            .with("price", 30);
        assert_eq!(err.status(), StatusCode::CONFLICT);
        assert_eq!(
            err.body(),
            json!({"error": {"code": "price_mismatch", "message": "The price is 30", "price": 30}})
        );
    }

    #[test]
    fn a_refusal_keeps_its_own_words_whatever_its_status() {
        let err = ApiError::unavailable("payments_not_configured", "Set STRIPE up.");
        assert_eq!(err.body()["error"]["message"], "Set STRIPE up.");
    }

    #[test]
    fn invalid_names_the_field_and_internal_hides_the_cause() {
        let err = ApiError::invalid("username", "too short");
        assert_eq!(err.body()["error"]["field"], "username");
        let err = ApiError::internal(anyhow::anyhow!("secret detail"));
        assert!(!err.body().to_string().contains("secret detail"));
    }
}
