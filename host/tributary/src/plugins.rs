//! Wiring the plugin tiers into an engine context: each tier crate loads the plugins
//! of a root and registers them through the engine's traits. A name is taken once
//! across built-ins and tiers: a clash is an error naming the file.

use crate::plugin_host::PluginHost;
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use tributary_core::connector::{SinkFactory, SourceFactory};
use tributary_core::Error;
use tributary_engine::EngineContext;

/// Adds a plugin source type, refusing a built-in or taken name.
pub(crate) fn add_source(
    sources: &mut BTreeMap<String, Arc<dyn SourceFactory>>,
    f: Arc<dyn SourceFactory>,
) -> Result<(), Error> {
    let kind = f.kind().to_ascii_lowercase();
    if tributary_connectors::registry::is_source_kind(&kind) || sources.contains_key(&kind) {
        return Err(Error::Conflict(format!(
            "source type {kind} already exists"
        )));
    }
    sources.insert(kind, f);
    Ok(())
}

/// Adds a plugin action type, refusing a built-in or taken name.
pub(crate) fn add_sink(
    sinks: &mut BTreeMap<String, Arc<dyn SinkFactory>>,
    f: Arc<dyn SinkFactory>,
) -> Result<(), Error> {
    let kind = f.kind().to_ascii_lowercase();
    if tributary_connectors::registry::is_sink_kind(&kind) || sinks.contains_key(&kind) {
        return Err(Error::Conflict(format!("sink type {kind} already exists")));
    }
    sinks.insert(kind, f);
    Ok(())
}

/// Whether `plugins.allowInstallScripts` in `etc/tributary.yaml` lets packages run
/// their `install.sh` (off by default).
pub fn scripts_allowed(root: &Path) -> Result<bool, Error> {
    let path = root.join("etc").join("tributary.yaml");
    let Ok(text) = std::fs::read_to_string(&path) else {
        return Ok(false);
    };
    let doc: serde_yaml::Value =
        serde_yaml::from_str(&text).map_err(|e| Error::user(format!("{}: {e}", path.display())))?;
    match doc
        .get("plugins")
        .and_then(|p| p.get("allowInstallScripts"))
    {
        None => Ok(false),
        Some(serde_yaml::Value::Bool(b)) => Ok(*b),
        Some(other) => Err(Error::user(format!(
            "{}: plugins.allowInstallScripts must be true or false, got {other:?}",
            path.display()
        ))),
    }
}

/// Everything loaded into an engine context.
pub struct Loaded {
    pub host: PluginHost,
    pub services: crate::service_host::ServiceHost,
}

/// The counters of every function plugin and external function, now.
pub fn stats(loaded: &Loaded) -> Vec<tributary_api::PluginStat> {
    use std::sync::atomic::Ordering::Relaxed;
    let mut out: Vec<tributary_api::PluginStat> = loaded
        .host
        .function_metrics()
        .into_iter()
        .map(|(name, r, m)| {
            let calls = m.calls.load(Relaxed);
            tributary_api::PluginStat {
                tier: r.tier.name().to_string(),
                name,
                version: r.version.clone(),
                calls,
                rows: m.rows.load(Relaxed),
                errors: m.errors.load(Relaxed),
                restarts: m.restarts.load(Relaxed),
                latency_us: m.busy_ns.load(Relaxed) / calls.max(1) / 1000,
                memory_bytes: (r.tier == crate::packages::Tier::Wasm)
                    .then(|| m.memory_bytes.load(Relaxed)),
            }
        })
        .collect();
    out.extend(
        loaded
            .services
            .all()
            .iter()
            .map(|f| tributary_api::PluginStat {
                tier: "external".into(),
                name: f.name.clone(),
                version: f.service.clone(),
                calls: f.metrics.calls.load(Relaxed),
                rows: f.metrics.calls.load(Relaxed),
                errors: f.metrics.errors.load(Relaxed),
                restarts: f.metrics.retries.load(Relaxed),
                latency_us: 0,
                memory_bytes: None,
            }),
    );
    out
}

/// Loads the plugins under `root/plugins/` into `ctx` (functions into its registry,
/// sources and sinks into its connector types), then the external functions of
/// `etc/services/`.
pub fn load(root: &Path, ctx: &EngineContext) -> Result<Loaded, Error> {
    let root = &std::fs::canonicalize(root)
        .map_err(|e| Error::user(format!("root {}: {e}", root.display())))?;
    let host = PluginHost::load(root, ctx)?;
    let services = crate::service_host::ServiceHost::load(root, ctx)?;
    Ok(Loaded { host, services })
}
