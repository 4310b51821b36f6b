//! `tributary serve`: the engine on a root directory, until SIGINT/SIGTERM.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tributary_core::{Error, SystemClock};
use tributary_engine::{Engine, EngineContext};

/// Runs the engine on `root`, with the REST API on `listen`. With `stop_after`, stops
/// by itself (the demo's `--seconds`); otherwise on Ctrl-C or SIGTERM. The demo passes
/// `api_optional`: if its port is taken, it runs without the API instead of failing.
pub async fn run(
    root: PathBuf,
    listen: String,
    stop_after: Option<Duration>,
    api_optional: bool,
) -> Result<(), Error> {
    let root = std::fs::canonicalize(&root)
        .map_err(|e| Error::user(format!("root {}: {e}", root.display())))?;
    let api_config = tributary_api::ApiConfig::load(&root)?;
    let mut ctx = EngineContext::new(root.clone(), Arc::new(SystemClock));
    // Plugin state lives in the configured store (SQLite under data/ by default), so
    // it outlives the process; plugins get it when they load, just below. Rules with
    // qos >= 1 checkpoint into the same store, and the catalog of streams, tables and
    // rules lives there too.
    let store = tributary_state::open_store(&root)?;
    ctx.use_durable_store(store.clone());
    let loaded = Arc::new(crate::plugins::load(&root, &ctx)?);
    let engine = Arc::new(Engine::with_catalog(ctx, store));
    let kept = engine.load_catalog()?;
    if kept > 0 {
        tracing::info!(rules = kept, "catalog loaded");
    }
    let init = root.join("data").join("init.json");
    if init.exists() {
        let text = std::fs::read_to_string(&init)
            .map_err(|e| Error::user(format!("cannot read {}: {e}", init.display())))?;
        // What the catalog already holds stays as it is (it may have been changed
        // through the API since init.json was written).
        let (streams, rules) = engine.existing()?;
        let text = tributary_engine::missing_entries(&text, &streams, &rules)
            .map_err(|e| Error::user(format!("{}: {e}", init.display())))?;
        engine
            .load_ruleset(&text)
            .map_err(|e| Error::user(format!("{}: {e}", init.display())))?;
        tracing::info!(path = %init.display(), rules = engine.rule_ids().len(), "ruleset loaded");
    } else {
        tracing::info!(path = %init.display(), "no ruleset");
    }
    let (api_stop, api_stopped) = tokio::sync::oneshot::channel::<()>();
    let api = match tokio::net::TcpListener::bind(&listen).await {
        Ok(listener) => {
            let addr = listener
                .local_addr()
                .map_err(|e| Error::external(format!("REST API: {e}")))?;
            let plugin_root = root.clone();
            let state = tributary_api::ApiState {
                engine: engine.clone(),
                root: root.clone(),
                config: Arc::new(api_config),
                trial_setup: Arc::new(move |ctx: &EngineContext| {
                    crate::plugins::load(&plugin_root, ctx).map(|_| ())
                }),
                plugin_stats: {
                    let loaded = loaded.clone();
                    Arc::new(move || crate::plugins::stats(&loaded))
                },
                plugins: Some(Arc::new(PluginAdminRef(loaded.clone()))),
                services: Some(Arc::new(PluginAdminRef(loaded.clone()))),
            };
            tracing::info!(root = %root.display(), "tributary serving; REST API on http://{addr}");
            Some(tokio::spawn(tributary_api::serve(listener, state, async {
                let _ = api_stopped.await;
            })))
        }
        Err(e) if api_optional => {
            tracing::warn!(%listen, error = %e, "REST API not started: the address is taken");
            None
        }
        Err(e) => {
            return Err(Error::user(format!(
                "REST API: cannot listen on {listen}: {e}"
            )))
        }
    };
    wait_for_stop(stop_after).await;
    tracing::info!("stopping: flushing sinks");
    let _ = api_stop.send(());
    if let Some(a) = api {
        let _ = a.await;
    }
    engine.shutdown().await;
    tracing::info!("stopped");
    Ok(())
}

async fn wait_for_stop(stop_after: Option<Duration>) {
    let timer = async {
        match stop_after {
            Some(d) => tokio::time::sleep(d).await,
            None => std::future::pending::<()>().await,
        }
    };
    #[cfg(unix)]
    {
        let term = async {
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(mut s) => {
                    s.recv().await;
                }
                Err(_) => std::future::pending::<()>().await,
            }
        };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term => {}
            _ = timer => {}
        }
    }
    #[cfg(not(unix))]
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = timer => {}
    }
}

/// The loaded plugins as the API's plugin admin (the host lives in [`Loaded`]).
struct PluginAdminRef(Arc<crate::plugins::Loaded>);

impl tributary_api::plugins::PluginAdmin for PluginAdminRef {
    fn install(&self, kind: &str, name: &str, zip: Vec<u8>) -> Result<bool, Error> {
        self.0.host.install_kind(kind, name, &zip)
    }
    fn list(&self, kind: &str) -> Result<Vec<String>, Error> {
        tributary_api::plugins::PluginAdmin::list(&self.0.host, kind)
    }
    fn describe(&self, kind: &str, name: &str) -> Result<serde_json::Value, Error> {
        tributary_api::plugins::PluginAdmin::describe(&self.0.host, kind, name)
    }
    fn uninstall(&self, kind: &str, name: &str, force: bool) -> Result<(), Error> {
        tributary_api::plugins::PluginAdmin::uninstall(&self.0.host, kind, name, force)
    }
    fn functions(&self) -> Vec<(String, String)> {
        self.0.host.functions()
    }
    fn fetch<'a>(&'a self, url: &'a str) -> futures::future::BoxFuture<'a, Result<Vec<u8>, Error>> {
        tributary_api::plugins::PluginAdmin::fetch(&self.0.host, url)
    }
}

impl tributary_api::services::ServiceAdmin for PluginAdminRef {
    fn install(&self, name: &str, zip: Vec<u8>) -> Result<bool, Error> {
        self.0.services.install(name, &zip)
    }
    fn list(&self) -> Vec<String> {
        self.0.services.names()
    }
    fn describe(&self, name: &str) -> Result<serde_json::Value, Error> {
        self.0.services.describe(name)
    }
    fn uninstall(&self, name: &str) -> Result<(), Error> {
        self.0.services.uninstall(name)
    }
    fn functions(&self) -> Vec<serde_json::Value> {
        self.0.services.functions()
    }
}
