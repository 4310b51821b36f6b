//! The management REST API, on eKuiper's paths and payloads (`docs/api.md`).
//!
//! Every route works on one [`Engine`]; errors are JSON `{"error", "message"}` with
//! the status the problem calls for ([`error::ApiError`]). With a token configured
//! (`api.token` in `etc/tributary.yaml`), every request but the open paths needs
//! `Authorization: Bearer <token>`.

pub mod config;
pub mod data;
pub mod error;
pub mod metrics;
pub mod openapi;
pub mod plugins;
pub mod rules;
pub mod ruletest;
pub mod services;
pub mod streams;

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use std::path::PathBuf;
use std::sync::Arc;
use tributary_core::Error;
use tributary_engine::{Engine, EngineContext};
use tributary_sql::StreamKind;

pub use config::ApiConfig;
pub use metrics::PluginStat;

/// Loads plugins into a trial's fresh context (the binary wires the tiers).
pub type TrialSetup = Arc<dyn Fn(&EngineContext) -> Result<(), Error> + Send + Sync>;

/// Everything a handler can reach.
#[derive(Clone)]
pub struct ApiState {
    pub engine: Arc<Engine>,
    pub root: PathBuf,
    pub config: Arc<ApiConfig>,
    pub trial_setup: TrialSetup,
    pub plugin_stats: Arc<dyn Fn() -> Vec<PluginStat> + Send + Sync>,
    /// Plugin management; `None` where plugins cannot be managed.
    pub plugins: Option<Arc<dyn plugins::PluginAdmin>>,
    /// Service management; `None` where services cannot be managed.
    pub services: Option<Arc<dyn services::ServiceAdmin>>,
}

/// Refuses requests without the configured bearer token (open paths excepted).
async fn auth(State(s): State<ApiState>, req: Request, next: Next) -> Response {
    let Some(token) = &s.config.token else {
        return next.run(req).await;
    };
    if s.config.open_paths.iter().any(|p| p == req.uri().path()) {
        return next.run(req).await;
    }
    // `Bearer <token>`, or the bare token as eKuiper's clients send it.
    let given = req
        .headers()
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .map(|v| v.strip_prefix("Bearer ").unwrap_or(v));
    match given {
        Some(g) if g == token => next.run(req).await,
        Some(_) => error::ApiError::unauthorized("wrong bearer token").into_response(),
        None => {
            error::ApiError::unauthorized("missing Authorization: Bearer <token>").into_response()
        }
    }
}

async fn not_found(req: Request) -> error::ApiError {
    error::ApiError::not_found(format!("no route {} {}", req.method(), req.uri().path()))
}

/// The router of every route in [`openapi::ROUTES`].
pub fn router(state: ApiState) -> Router {
    use StreamKind::{Stream, Table};
    let kinded = |kind: StreamKind| {
        Router::new()
            .route(
                "/",
                post(move |s: State<ApiState>, b: String| streams::create(s, kind, b))
                    .get(move |s: State<ApiState>, q| streams::list(s, kind, q)),
            )
            .route(
                "/{name}",
                get(move |s, p| streams::describe(s, kind, p))
                    .put(move |s, p, b| streams::update(s, kind, p, b))
                    .delete(move |s, p| streams::drop(s, kind, p)),
            )
    };
    Router::new()
        .route("/ping", get(|| async { "" }))
        .route("/openapi.json", get(|| async { Json(openapi::document()) }))
        .route("/metrics", get(metrics::metrics))
        .nest("/streams", kinded(Stream))
        .nest("/tables", kinded(Table))
        .route("/rules", post(rules::create).get(rules::list))
        .route(
            "/rules/{id}",
            get(rules::describe).put(rules::update).delete(rules::drop),
        )
        .route("/rules/{id}/start", post(rules::start))
        .route("/rules/{id}/stop", post(rules::stop))
        .route("/rules/{id}/restart", post(rules::restart))
        .route("/rules/{id}/status", get(rules::status))
        .route("/rules/{id}/topo", get(rules::topo))
        .route("/rules/{id}/explain", get(rules::explain))
        .route("/ruletest", post(ruletest::ruletest))
        .route("/plugins/udfs", get(plugins::udfs))
        .route("/plugins/udfs/{name}", get(plugins::udf))
        .route("/plugins/{kind}", post(plugins::create).get(plugins::list))
        .route(
            "/plugins/{kind}/{name}",
            get(plugins::describe)
                .put(plugins::update)
                .delete(plugins::drop),
        )
        .route("/services", post(services::create).get(services::list))
        .route("/services/functions", get(services::functions))
        .route("/services/functions/{name}", get(services::function))
        .route(
            "/services/{name}",
            get(services::describe)
                .put(services::update)
                .delete(services::drop),
        )
        .route("/data/export", get(data::export))
        .route("/data/import", post(data::import))
        .fallback(not_found)
        // Plugin packages may be large: up to the packages' own limit.
        .layer(axum::extract::DefaultBodyLimit::max(256 << 20))
        .layer(axum::middleware::from_fn_with_state(state.clone(), auth))
        .with_state(state)
}

/// Serves the API on `listener` until `shutdown` resolves.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: ApiState,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<(), Error> {
    axum::serve(listener, router(state))
        .with_graceful_shutdown(shutdown)
        .await
        .map_err(|e| Error::external(format!("REST API: {e}")))
}
