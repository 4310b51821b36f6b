//! `tributary serve`: the engine on a root directory, until SIGINT/SIGTERM.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tributary_core::{Error, SystemClock};
use tributary_engine::{Engine, EngineContext};

/// Runs the engine on `root`. With `stop_after`, stops by itself (the demo's
/// `--seconds`); otherwise on Ctrl-C or SIGTERM.
pub async fn run(root: PathBuf, listen: String, stop_after: Option<Duration>) -> Result<(), Error> {
    let root = std::fs::canonicalize(&root)
        .map_err(|e| Error::user(format!("root {}: {e}", root.display())))?;
    let mut ctx = EngineContext::new(root.clone(), Arc::new(SystemClock));
    // Plugin state lives in the configured store (SQLite under data/ by default), so
    // it outlives the process; plugins get it when they load, just below. Rules with
    // qos >= 1 checkpoint into the same store.
    ctx.use_durable_store(tributary_state::open_store(&root)?);
    crate::plugins::load(&root, &ctx)?;
    let engine = Engine::new(ctx);
    let init = root.join("data").join("init.json");
    if init.exists() {
        let text = std::fs::read_to_string(&init)
            .map_err(|e| Error::user(format!("cannot read {}: {e}", init.display())))?;
        engine
            .load_ruleset(&text)
            .map_err(|e| Error::user(format!("{}: {e}", init.display())))?;
        tracing::info!(path = %init.display(), rules = engine.rule_ids().len(), "ruleset loaded");
    } else {
        tracing::info!(path = %init.display(), "no ruleset; starting empty");
    }
    tracing::info!(root = %root.display(), %listen, "tributary serving (REST API: not in this build yet)");
    wait_for_stop(stop_after).await;
    tracing::info!("stopping: flushing sinks");
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
