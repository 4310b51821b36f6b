//! The state API for external functions: a small HTTP endpoint of the host.
//!
//! A remote service has no host to import from, so the host serves the same five
//! operations over HTTP and passes every call two headers: the endpoint's URL
//! ([`URL_HEADER`]) and a bearer token ([`TOKEN_HEADER`]) scoped to the calling
//! function instance (one rule, one call site), so a service keeps state exactly as a
//! wasm or native plugin does, and can reach no other instance's:
//!
//! | request | answer |
//! |---|---|
//! | `GET /state/{key}` | 200 `{"value": …}`; 404 when missing |
//! | `PUT /state/{key}` with a JSON body | 204 |
//! | `DELETE /state/{key}` | 204 (missing is fine) |
//! | `POST /counters/{key}` with `{"amount": n}` (default 1) | 200 `{"value": total}`; 409 `not_an_integer` |
//! | `GET /counters/{key}` | 200 `{"value": n}` (0 when missing) |
//!
//! Every request needs `Authorization: Bearer <token>`; an unknown token gets 401.
//! The endpoint listens on loopback unless configured otherwise (`store.endpoint` in
//! `etc/tributary.yaml`). Tokens are 128 random bits; one lives as long as its
//! function instance.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use tributary_core::state::{StateError, StateStore};
use tributary_core::{json, Error};

/// The header naming the endpoint's base URL on every external call.
pub const URL_HEADER: &str = "x-tributary-state-url";
/// The header carrying the calling instance's token on every external call.
pub const TOKEN_HEADER: &str = "x-tributary-state-token";

/// The running endpoint: its address and the tokens it honours.
#[derive(Debug)]
pub struct StateEndpoint {
    url: String,
    tokens: Arc<RwLock<HashMap<String, String>>>,
}

#[derive(Clone)]
struct Shared {
    store: Arc<dyn StateStore>,
    tokens: Arc<RwLock<HashMap<String, String>>>,
}

/// A token handed to one function instance; revoked when dropped.
#[derive(Debug)]
pub struct ScopeToken {
    pub token: String,
    pub url: String,
    tokens: Arc<RwLock<HashMap<String, String>>>,
}

impl Drop for ScopeToken {
    fn drop(&mut self) {
        self.tokens
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&self.token);
    }
}

impl StateEndpoint {
    /// Serves `store` on `listen` (`127.0.0.1:0`: a free loopback port). `advertise`
    /// is the URL given to services when they reach the host by another name.
    pub fn start(
        store: Arc<dyn StateStore>,
        listen: &str,
        advertise: Option<&str>,
    ) -> Result<Arc<Self>, Error> {
        let listener = std::net::TcpListener::bind(listen)
            .map_err(|e| Error::user(format!("state endpoint: cannot listen on {listen}: {e}")))?;
        listener
            .set_nonblocking(true)
            .map_err(|e| Error::external(format!("state endpoint: {e}")))?;
        let addr = listener
            .local_addr()
            .map_err(|e| Error::external(format!("state endpoint: {e}")))?;
        let tokens = Arc::new(RwLock::new(HashMap::new()));
        let shared = Shared {
            store,
            tokens: tokens.clone(),
        };
        let app = Router::new()
            .route(
                "/state/{key}",
                get(get_state).put(put_state).delete(delete_state),
            )
            .route("/counters/{key}", get(get_counter).post(incr_counter))
            .with_state(shared);
        let rt = crate::runtime::io_runtime().map_err(Error::external)?;
        let listener = {
            let _guard = rt.enter();
            tokio::net::TcpListener::from_std(listener)
                .map_err(|e| Error::external(format!("state endpoint: {e}")))?
        };
        rt.spawn(async move {
            if let Err(e) = axum::serve(listener, app).await {
                tracing::error!(error = %e, "state endpoint stopped");
            }
        });
        let url = advertise
            .map(|a| a.trim_end_matches('/').to_string())
            .unwrap_or_else(|| format!("http://{addr}"));
        tracing::info!(%url, "state endpoint for external functions");
        Ok(Arc::new(StateEndpoint { url, tokens }))
    }

    pub fn url(&self) -> &str {
        &self.url
    }

    /// A new token for `scope`.
    pub fn issue(&self, scope: &str) -> Result<ScopeToken, Error> {
        let mut bytes = [0u8; 16];
        getrandom::getrandom(&mut bytes)
            .map_err(|e| Error::external(format!("state endpoint: no randomness: {e}")))?;
        let token: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
        self.tokens
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .insert(token.clone(), scope.to_string());
        Ok(ScopeToken {
            token,
            url: self.url.clone(),
            tokens: self.tokens.clone(),
        })
    }
}

/// A refused request: its status, a code and a message, as JSON
/// `{"error": code, "message": …}` (the REST API's shape).
struct Refusal(StatusCode, &'static str, String);

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        let Refusal(status, code, message) = self;
        (
            status,
            Json(serde_json::json!({"error": code, "message": message})),
        )
            .into_response()
    }
}

impl From<StateError> for Refusal {
    fn from(e: StateError) -> Self {
        match e {
            StateError::NotAnInteger => Refusal(
                StatusCode::CONFLICT,
                "not_an_integer",
                "the value is not an integer".into(),
            ),
            StateError::Store(m) => Refusal(StatusCode::SERVICE_UNAVAILABLE, "store", m),
        }
    }
}

type Answer = Result<Response, Refusal>;

fn bad_request(message: String) -> Refusal {
    Refusal(StatusCode::BAD_REQUEST, "bad_request", message)
}

/// The scope of the request's bearer token.
fn scope(s: &Shared, headers: &HeaderMap) -> Result<String, Refusal> {
    let unauthorized = |m: &str| Refusal(StatusCode::UNAUTHORIZED, "unauthorized", m.into());
    let token = headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .ok_or_else(|| unauthorized("missing Authorization: Bearer <token>"))?;
    s.tokens
        .read()
        .unwrap_or_else(|e| e.into_inner())
        .get(token)
        .cloned()
        .ok_or_else(|| unauthorized("unknown or revoked token"))
}

fn value_json(v: &tributary_core::Value) -> serde_json::Value {
    serde_json::from_str(&json::to_json_string(v)).unwrap_or(serde_json::Value::Null)
}

async fn get_state(State(s): State<Shared>, headers: HeaderMap, Path(key): Path<String>) -> Answer {
    let scope = scope(&s, &headers)?;
    match s.store.get(&scope, &key)? {
        Some(v) => Ok(Json(serde_json::json!({ "value": value_json(&v) })).into_response()),
        None => Err(Refusal(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("no state under {key:?}"),
        )),
    }
}

async fn put_state(
    State(s): State<Shared>,
    headers: HeaderMap,
    Path(key): Path<String>,
    body: String,
) -> Answer {
    let scope = scope(&s, &headers)?;
    let value = json::parse(&body)
        .map_err(|e| bad_request(format!("the body must be one JSON value: {e}")))?;
    s.store.put(&scope, &key, value)?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn delete_state(
    State(s): State<Shared>,
    headers: HeaderMap,
    Path(key): Path<String>,
) -> Answer {
    let scope = scope(&s, &headers)?;
    s.store.delete(&scope, &key)?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn get_counter(
    State(s): State<Shared>,
    headers: HeaderMap,
    Path(key): Path<String>,
) -> Answer {
    let scope = scope(&s, &headers)?;
    let n = s.store.counter(&scope, &key)?;
    Ok(Json(serde_json::json!({ "value": n })).into_response())
}

/// The `amount` of an increment body; an empty body adds 1.
fn amount(body: &str) -> Result<i64, Refusal> {
    if body.trim().is_empty() {
        return Ok(1);
    }
    let v: serde_json::Value = serde_json::from_str(body)
        .map_err(|e| bad_request(format!("the body must be {{\"amount\": <integer>}}: {e}")))?;
    match v.get("amount") {
        None => Ok(1),
        Some(a) => a
            .as_i64()
            .ok_or_else(|| bad_request(format!("\"amount\" must be an integer, got {a}"))),
    }
}

async fn incr_counter(
    State(s): State<Shared>,
    headers: HeaderMap,
    Path(key): Path<String>,
    body: String,
) -> Answer {
    let scope = scope(&s, &headers)?;
    let n = s.store.incr(&scope, &key, amount(&body)?)?;
    Ok(Json(serde_json::json!({ "value": n })).into_response())
}

#[cfg(test)]
#[path = "state_endpoint_tests.rs"]
mod tests;
