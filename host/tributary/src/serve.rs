//! `tributary serve`: the engine on a root directory, until SIGINT/SIGTERM.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tributary_core::{Error, SystemClock};
use tributary_engine::{Engine, EngineContext};

/// Runs the engine on `root`, with the REST API on `listen`. With `stop_after`, stops
/// by itself (the demo's `--seconds`); otherwise on Ctrl-C or SIGTERM. The demo passes
/// `api_optional`: if its port is taken, it runs without the API instead of failing.
/// `failpoint` is a test's: where an install makes the process die.
pub async fn run(
    root: PathBuf,
    listen: String,
    stop_after: Option<Duration>,
    api_optional: bool,
    failpoint: tributary_plugin::Failpoint,
) -> Result<(), Error> {
    // The signal handlers first: a SIGTERM while rules start must stop cleanly (sinks
    // flushed), not kill the process by the signal's default action.
    let stop = stop_signal(stop_after);
    let root = std::fs::canonicalize(&root)
        .map_err(|e| Error::user(format!("root {}: {e}", root.display())))?;
    // One server per root: a second would run the same rules and split the catalog.
    let _lock = crate::root_lock::RootLock::acquire(&root)?;
    let mut api_config = tributary_api::ApiConfig::load(&root)?;
    let mut ctx = EngineContext::new(root.clone(), Arc::new(SystemClock));
    ctx.failpoint = failpoint.clone();
    // Plugin state lives in the configured store (SQLite under data/ by default), so
    // it outlives the process; plugins get it when they load, just below. Rules with
    // qos >= 1 checkpoint into the same store, and the catalog of streams, tables and
    // rules lives there too.
    let store = tributary_state::open_store(&root)?;
    ctx.use_durable_store(store.clone());
    let loaded = Arc::new(crate::plugins::load(&root, &ctx, failpoint)?);
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
            match api_config.resolve_token(&root, addr)? {
                Some(file) => tracing::info!(
                    token_file = %file.display(),
                    "REST API token in {} (send it as Authorization: Bearer <token>)",
                    file.display()
                ),
                None if api_config.token().is_none() => {
                    tracing::warn!("REST API without a token (auth: none), on loopback only")
                }
                None => {}
            }
            let plugin_root = root.clone();
            let state = tributary_api::ApiState {
                engine: engine.clone(),
                root: root.clone(),
                config: Arc::new(api_config),
                listen: Some(addr),
                work: Default::default(),
                jobs: Default::default(),
                trial_setup: Arc::new(move |ctx: &EngineContext| {
                    crate::plugins::load(&plugin_root, ctx, Default::default()).map(|_| ())
                }),
                plugin_stats: {
                    let loaded = loaded.clone();
                    Arc::new(move || crate::plugins::stats(&loaded))
                },
                plugins: Some(Arc::new(crate::plugin_api::Admin(loaded.clone()))),
                services: Some(Arc::new(crate::plugin_api::Admin(loaded.clone()))),
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
    stop.await;
    tracing::info!("stopping: flushing sinks");
    let _ = api_stop.send(());
    if let Some(a) = api {
        let _ = a.await;
    }
    engine.shutdown().await;
    tracing::info!("stopped");
    Ok(())
}

/// A future that ends on Ctrl-C, SIGTERM or after `stop_after`. The handlers are
/// installed by this call, not when the future is first polled.
fn stop_signal(stop_after: Option<Duration>) -> impl std::future::Future<Output = ()> {
    #[cfg(unix)]
    let signals = {
        use tokio::signal::unix::{signal, SignalKind};
        (
            signal(SignalKind::interrupt()).ok(),
            signal(SignalKind::terminate()).ok(),
        )
    };
    async move {
        let timer = async {
            match stop_after {
                Some(d) => tokio::time::sleep(d).await,
                None => std::future::pending::<()>().await,
            }
        };
        #[cfg(unix)]
        {
            async fn recv(s: Option<tokio::signal::unix::Signal>) {
                match s {
                    Some(mut s) => {
                        s.recv().await;
                    }
                    None => std::future::pending::<()>().await,
                }
            }
            let (int, term) = signals;
            tokio::select! {
                _ = recv(int) => {}
                _ = recv(term) => {}
                _ = timer => {}
            }
        }
        #[cfg(not(unix))]
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = timer => {}
        }
    }
}
