//! Wiring the plugin tiers into an engine: one plugin host over the native and wasm
//! tiers, registering what it loads in the engine's context, and the external
//! services. `serve`, `trial` and the tests all load plugins through [`load`].

use std::path::Path;
use std::sync::Arc;
use tributary_core::Error;
use tributary_engine::EngineContext;
use tributary_plugin::{Failpoint, HostConfig, PluginHost, Tier};

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

/// The tiers of a root, in load order: native, then wasm (with the root's wasm
/// engine: its code cache, grants and limits).
pub fn tiers(root: &Path) -> Result<Vec<Arc<dyn Tier>>, Error> {
    let engine = tributary_wasm::WasmEngine::new(tributary_wasm::WasmConfig::for_root(root)?)?;
    Ok(vec![
        Arc::new(tributary_native::NativeTier),
        Arc::new(tributary_wasm::WasmTier::new(engine)),
    ])
}

/// Everything loaded into an engine context.
pub struct Loaded {
    pub host: PluginHost,
    pub services: crate::service_host::ServiceHost,
    /// The plugin files that failed to load (and were skipped).
    pub failures: Vec<tributary_plugin::Failure>,
}

impl Loaded {
    /// The first failure as an error naming its file: a one-shot run (a trial)
    /// refuses a root with a broken plugin, where `serve` skips it and goes on.
    pub fn strict(self) -> Result<Loaded, Error> {
        match self.failures.first() {
            None => Ok(self),
            Some(f) => {
                let file = f.path.display().to_string();
                Err(Error::user(if f.error.contains(&file) {
                    f.error.clone()
                } else {
                    format!("plugin {file}: {}", f.error)
                }))
            }
        }
    }
}

/// Loads the plugins under `root/plugins/` into `ctx` (functions into its registry,
/// sources and sinks as connector types), then the external functions of
/// `etc/services/`. A plugin that fails to load is reported and skipped.
pub fn load(root: &Path, ctx: &EngineContext, failpoint: Failpoint) -> Result<Loaded, Error> {
    let root = &std::fs::canonicalize(root)
        .map_err(|e| Error::user(format!("root {}: {e}", root.display())))?;
    let host = PluginHost::new(HostConfig {
        root: root.to_path_buf(),
        tiers: tiers(root)?,
        state: ctx.state.clone(),
        registrar: Arc::new(ctx.clone()),
        allow_scripts: scripts_allowed(root)?,
        failpoint,
    });
    let failures = host.load_all()?;
    let services = crate::service_host::ServiceHost::load(root, ctx)?;
    Ok(Loaded {
        host,
        services,
        failures,
    })
}

/// The counters of every plugin and external function, now.
pub fn stats(loaded: &Loaded) -> Vec<tributary_api::PluginStat> {
    let mut out: Vec<tributary_api::PluginStat> = loaded
        .host
        .stats()
        .into_iter()
        .map(|(kind, name, tier, version, m)| {
            let s = m.snapshot();
            tributary_api::PluginStat {
                tier: tier.to_string(),
                kind: kind.singular().to_string(),
                name,
                version,
                calls: s.calls,
                rows: s.rows,
                errors: s.errors,
                restarts: s.restarts,
                latency_us: s.latency_us,
                memory_bytes: (tier == "wasm").then_some(s.memory_bytes),
                network_denied: (tier == "wasm").then_some(s.network_denied),
            }
        })
        .collect();
    out.extend(loaded.services.all().iter().map(|f| {
        let s = f.metrics.snapshot();
        tributary_api::PluginStat {
            tier: "external".into(),
            kind: "function".into(),
            name: f.name.clone(),
            version: f.service.clone(),
            calls: s.calls,
            rows: s.rows,
            errors: s.errors,
            restarts: s.restarts,
            latency_us: s.latency_us,
            memory_bytes: None,
            network_denied: None,
        }
    }));
    out
}
