//! One error type for every route: JSON `{"error": <code>, "message": "…"}` with the
//! status the problem calls for (400 bad bodies and bad SQL, 404 unknown ids, 409
//! clashes, 401 without the token, 500 our bugs, 502 an outside failure).

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use tributary_core::{Error, ErrorKind};

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
    pub fn forbidden(message: impl Into<String>) -> Self {
        ApiError {
            status: StatusCode::FORBIDDEN,
            code: "forbidden",
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
        let (status, code) = match e.kind() {
            ErrorKind::User => (StatusCode::BAD_REQUEST, "bad_request"),
            ErrorKind::NotFound => (StatusCode::NOT_FOUND, "not_found"),
            ErrorKind::Conflict => (StatusCode::CONFLICT, "conflict"),
            ErrorKind::External => (StatusCode::BAD_GATEWAY, "external"),
            ErrorKind::Internal => (StatusCode::INTERNAL_SERVER_ERROR, "internal"),
        };
        ApiError {
            status,
            code,
            message: e.to_string(),
        }
    }
}

/// The longest message an error answer carries: the rest of a long one (a 50 MB
/// statement quoted back, say) is cut, with how much was left out.
pub const MAX_MESSAGE_BYTES: usize = 2 << 10;

/// `message`, cut at [`MAX_MESSAGE_BYTES`] on a character boundary.
pub fn bounded(message: &str) -> String {
    if message.len() <= MAX_MESSAGE_BYTES {
        return message.to_string();
    }
    let mut end = MAX_MESSAGE_BYTES;
    while !message.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}… ({} more bytes)", &message[..end], message.len() - end)
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (
            self.status,
            Json(serde_json::json!({"error": self.code, "message": bounded(&self.message)})),
        )
            .into_response()
    }
}

/// The error code of a status, for answers made outside the handlers.
fn code_of(status: StatusCode) -> &'static str {
    match status.as_u16() {
        400 => "bad_request",
        401 => "unauthorized",
        403 => "forbidden",
        404 => "not_found",
        405 => "method_not_allowed",
        409 => "conflict",
        413 => "payload_too_large",
        414 => "uri_too_long",
        415 => "unsupported_media_type",
        422 => "bad_request",
        429 => "too_many_requests",
        502 => "external",
        503 => "unavailable",
        s if s >= 500 => "internal",
        _ => "bad_request",
    }
}

/// Turns every error answer that is not JSON yet (axum's rejections: a body over
/// the limit, a body that is not UTF-8, a method the route lacks) into the JSON
/// error shape, so a client reads every error the same way.
pub async fn json_errors(req: axum::extract::Request, next: axum::middleware::Next) -> Response {
    let resp = next.run(req).await;
    let status = resp.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return resp;
    }
    let is_json = resp
        .headers()
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|c| c.starts_with("application/json"));
    if is_json {
        return resp;
    }
    let (parts, body) = resp.into_parts();
    let text = axum::body::to_bytes(body, 64 << 10)
        .await
        .map(|b| String::from_utf8_lossy(&b).trim().to_string())
        .unwrap_or_default();
    let message = match (status.as_u16(), text.is_empty()) {
        (413, _) => "the body is larger than this route accepts (api.maxBodyBytes, or api.maxUploadBytes for packages)".to_string(),
        (405, true) => "this route does not take that method".to_string(),
        (_, true) => status.canonical_reason().unwrap_or("error").to_string(),
        (_, false) => text,
    };
    let mut out = ApiError {
        status,
        code: code_of(status),
        message,
    }
    .into_response();
    // Keep what the rejection said besides its body (`Allow` of a 405).
    for (k, v) in parts.headers.iter() {
        if k != axum::http::header::CONTENT_TYPE && k != axum::http::header::CONTENT_LENGTH {
            out.headers_mut().insert(k.clone(), v.clone());
        }
    }
    out
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

/// Refuses a body that is not an object or has keys other than `allowed`: no part
/// of a request is silently ignored.
pub fn only_keys(body: &serde_json::Value, allowed: &[&str]) -> ApiResult<()> {
    let obj = body
        .as_object()
        .ok_or_else(|| ApiError::bad_request("the body must be a JSON object"))?;
    match obj.keys().find(|k| !allowed.contains(&k.as_str())) {
        None => Ok(()),
        Some(k) => Err(ApiError::bad_request(format!(
            "unknown key {:?} in the body; it takes {}",
            tributary_core::names::shown(k),
            allowed.join(", ")
        ))),
    }
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
