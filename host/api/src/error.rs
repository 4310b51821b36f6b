//! One error type for every route: JSON `{"error": <code>, "message": "…"}` with the
//! status the problem calls for (400 bad bodies and bad SQL, 404 unknown ids, 409
//! clashes, 401 without the token, 500 our bugs, 502 an outside failure).

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use tributary_core::Error;

#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
}

impl ApiError {
    pub fn bad_request(message: impl Into<String>) -> Self {
        ApiError {
            status: StatusCode::BAD_REQUEST,
            code: "bad_request",
            message: message.into(),
        }
    }
    pub fn not_found(message: impl Into<String>) -> Self {
        ApiError {
            status: StatusCode::NOT_FOUND,
            code: "not_found",
            message: message.into(),
        }
    }
    pub fn unauthorized(message: impl Into<String>) -> Self {
        ApiError {
            status: StatusCode::UNAUTHORIZED,
            code: "unauthorized",
            message: message.into(),
        }
    }
}

impl From<Error> for ApiError {
    fn from(e: Error) -> Self {
        let (status, code) = match &e {
            Error::User(_) => (StatusCode::BAD_REQUEST, "bad_request"),
            Error::NotFound(_) => (StatusCode::NOT_FOUND, "not_found"),
            Error::Conflict(_) => (StatusCode::CONFLICT, "conflict"),
            Error::External(_) => (StatusCode::BAD_GATEWAY, "external"),
            Error::Internal(_) => (StatusCode::INTERNAL_SERVER_ERROR, "internal"),
        };
        ApiError {
            status,
            code,
            message: e.to_string(),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (
            self.status,
            Json(serde_json::json!({"error": self.code, "message": self.message})),
        )
            .into_response()
    }
}

pub type ApiResult<T> = Result<T, ApiError>;

/// A JSON body, parsed with an error that says where it is wrong (axum's own
/// rejection would answer in plain text).
pub fn parse_json(body: &str) -> ApiResult<serde_json::Value> {
    serde_json::from_str(body).map_err(|e| {
        ApiError::bad_request(format!(
            "invalid JSON body at line {}, column {}: {e}",
            e.line(),
            e.column()
        ))
    })
}

/// The string field `key` of a JSON object body.
pub fn string_field(body: &serde_json::Value, key: &str) -> ApiResult<String> {
    match body.get(key) {
        Some(serde_json::Value::String(s)) => Ok(s.clone()),
        Some(other) => Err(ApiError::bad_request(format!(
            "\"{key}\" must be a string, got {other}"
        ))),
        None => Err(ApiError::bad_request(format!(
            "the body needs a \"{key}\" field"
        ))),
    }
}
