//! The management REST API, on eKuiper's paths and payloads (`docs/api.md`).
//!
//! Every route works on one [`Engine`]; errors are JSON `{"error", "message"}` with
//! the status the problem calls for ([`error::ApiError`]), whoever made them. Every
//! request passes the [`guard`] first: the Host and Origin checks that keep web pages
//! out, JSON bodies only, and the token (`api.token`, or the one `serve` generates).

pub mod config;
pub mod data;
pub mod error;
pub mod fetch;
pub mod guard;
pub mod jobs;
pub mod metrics;
pub mod openapi;
pub mod plugins;
pub mod rules;
pub mod ruletest;
pub mod services;
pub mod streams;

use axum::extract::{DefaultBodyLimit, Request, State};
use axum::routing::{get, post, MethodRouter};
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
    /// The address the API listens on, for the Host and Origin checks (`None`: an
    /// embedder's router, which accepts the configured hosts only).
    pub listen: Option<std::net::SocketAddr>,
    /// How much control-plane work may run at once, off the async workers.
    pub work: Arc<ControlWork>,
    /// Installs answered before they were done ([`jobs`]).
    pub jobs: Arc<jobs::Jobs>,
}

/// Bounds on the blocking work requests start: compiling plugins, importing
/// rulesets, parsing statements, building rules. That work runs on blocking threads,
/// never on the async workers that run the rules, and only so much of it at once;
/// further requests wait their turn.
#[derive(Debug)]
pub struct ControlWork {
    /// Installs, updates and imports: seconds of CPU each (a Python component).
    heavy: tokio::sync::Semaphore,
    /// DDL, rule creation and the like: milliseconds, unless the input is huge.
    light: tokio::sync::Semaphore,
}

impl Default for ControlWork {
    fn default() -> Self {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        ControlWork {
            heavy: tokio::sync::Semaphore::new(cores.clamp(1, 2)),
            light: tokio::sync::Semaphore::new(cores.max(2) * 2),
        }
    }
}

/// How heavy a piece of control-plane work is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Weight {
    Heavy,
    Light,
}

impl ApiState {
    /// Runs `f` on a blocking thread once a slot of its weight is free.
    pub async fn offload<R: Send + 'static>(
        &self,
        weight: Weight,
        f: impl FnOnce() -> R + Send + 'static,
    ) -> Result<R, error::ApiError> {
        let sem = match weight {
            Weight::Heavy => &self.work.heavy,
            Weight::Light => &self.work.light,
        };
        let _permit = sem
            .acquire()
            .await
            .map_err(|_| error::ApiError::from(Error::internal("the server is stopping")))?;
        tokio::task::spawn_blocking(f)
            .await
            .map_err(|e| error::ApiError::from(Error::internal(format!("control task: {e}"))))
    }

    /// [`ApiState::offload`] for work that awaits too (an import stops rules): the
    /// future is driven on the blocking thread, so its synchronous parts (planning,
    /// instantiating plugins) never hold an async worker.
    pub async fn offload_async<R, F>(&self, weight: Weight, fut: F) -> Result<R, error::ApiError>
    where
        R: Send + 'static,
        F: std::future::Future<Output = R> + Send + 'static,
    {
        let handle = tokio::runtime::Handle::current();
        self.offload(weight, move || handle.block_on(fut)).await
    }
}

/// A yes/no query parameter: `1`/`true`, `0`/`false`, or absent (no); anything else
/// is refused rather than read as no.
pub fn flag(name: &str, v: Option<&str>) -> Result<bool, error::ApiError> {
    match v {
        None | Some("0" | "false") => Ok(false),
        Some("1" | "true") => Ok(true),
        Some(other) => Err(error::ApiError::bad_request(format!(
            "?{name}={:?}: it takes 1, true, 0 or false",
            tributary_core::names::shown(other)
        ))),
    }
}

async fn not_found(req: Request) -> error::ApiError {
    error::ApiError::not_found(format!("no route {} {}", req.method(), req.uri().path()))
}

/// The router of every route in [`openapi::ROUTES`].
pub fn router(state: ApiState) -> Router {
    use StreamKind::{Stream, Table};
    let guard = Arc::new(guard::Guard::new(state.config.clone(), state.listen));
    // Package uploads may be large; every other body is small.
    let upload =
        |r: MethodRouter<ApiState>| r.layer(DefaultBodyLimit::max(state.config.max_upload_bytes));
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
        .route("/plugins/jobs/{id}", get(plugins::job))
        .route("/plugins/{kind}/{name}/logs", get(plugins::logs))
        .route(
            "/plugins/{kind}",
            upload(post(plugins::create)).get(plugins::list),
        )
        .route(
            "/plugins/{kind}/{name}",
            upload(axum::routing::put(plugins::update))
                .get(plugins::describe)
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
        .layer(DefaultBodyLimit::max(state.config.max_body_bytes))
        .layer(axum::middleware::from_fn_with_state(guard, guard::guard))
        .layer(axum::middleware::from_fn(error::json_errors))
        .with_state(state)
}

/// Serves the API on `listener` until `shutdown` resolves.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: ApiState,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<(), Error> {
    axum::serve(listener, router(state).into_make_service())
        .with_graceful_shutdown(shutdown)
        .await
        .map_err(|e| Error::external(format!("REST API: {e}")))
}
