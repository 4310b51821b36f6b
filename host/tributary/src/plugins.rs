//! Wiring the plugin tiers into an engine context: each tier crate loads the plugins
//! of a root and registers them through the engine's traits. A name is taken once
//! across built-ins and tiers: a clash is an error naming the file.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use tributary_core::connector::{SinkFactory, SourceFactory};
use tributary_core::Error;
use tributary_engine::EngineContext;
use tributary_wasm::{WasmConfig, WasmEngine};

fn has_files(dir: &Path, ext: &str) -> bool {
    std::fs::read_dir(dir)
        .map(|d| {
            d.flatten()
                .any(|e| e.path().extension().is_some_and(|x| x == ext))
        })
        .unwrap_or(false)
}

fn has_plugins(root: &Path, ext: &str) -> bool {
    let plugins = root.join("plugins");
    ["functions", "sources", "sinks"]
        .iter()
        .any(|k| has_files(&plugins.join(k), ext))
}

/// Adds a plugin source type, refusing a built-in or taken name.
fn add_source(
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
fn add_sink(
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

fn poisoned(what: &str) -> Error {
    Error::internal(format!("{what} lock poisoned"))
}

/// A loaded function plugin whose counters `/metrics` shows.
pub enum Tracked {
    Plugin {
        tier: &'static str,
        name: String,
        version: String,
        metrics: Arc<tributary_core::function::PluginMetrics>,
    },
    External(Arc<tributary_external::function::ServiceFunction>),
}

/// The counters of every tracked plugin, now.
pub fn stats(tracked: &[Tracked]) -> Vec<tributary_api::PluginStat> {
    use std::sync::atomic::Ordering::Relaxed;
    tracked
        .iter()
        .map(|t| match t {
            Tracked::Plugin {
                tier,
                name,
                version,
                metrics: m,
            } => {
                let calls = m.calls.load(Relaxed);
                tributary_api::PluginStat {
                    tier: tier.to_string(),
                    name: name.clone(),
                    version: version.clone(),
                    calls,
                    rows: m.rows.load(Relaxed),
                    errors: m.errors.load(Relaxed),
                    restarts: m.restarts.load(Relaxed),
                    latency_us: m.busy_ns.load(Relaxed) / calls.max(1) / 1000,
                    memory_bytes: None,
                }
            }
            Tracked::External(f) => tributary_api::PluginStat {
                tier: "external".into(),
                name: f.name.clone(),
                version: f.service.clone(),
                calls: f.metrics.calls.load(Relaxed),
                rows: f.metrics.calls.load(Relaxed),
                errors: f.metrics.errors.load(Relaxed),
                restarts: f.metrics.retries.load(Relaxed),
                latency_us: 0,
                memory_bytes: None,
            },
        })
        .collect()
}

/// Loads the plugins under `root/plugins/` into `ctx`: functions into its registry,
/// sources and sinks into its connector types. Native libraries (`.so`) first, then
/// wasm components (`.wasm`), then the external functions of `etc/services/`.
/// Returns the function plugins, for their counters.
pub fn load(root: &Path, ctx: &EngineContext) -> Result<Vec<Tracked>, Error> {
    let root = &std::fs::canonicalize(root)
        .map_err(|e| Error::user(format!("root {}: {e}", root.display())))?;
    let mut tracked = Vec::new();
    if has_plugins(root, "so") {
        load_native(root, ctx, &mut tracked)?;
    }
    if has_plugins(root, "wasm") {
        load_wasm(root, ctx, &mut tracked)?;
    }
    load_external(root, ctx, &mut tracked)?;
    Ok(tracked)
}

/// External functions of `<root>/etc/services/*.json`.
fn load_external(
    root: &Path,
    ctx: &EngineContext,
    tracked: &mut Vec<Tracked>,
) -> Result<(), Error> {
    let functions = tributary_external::loader::load_services(root)?;
    if functions.is_empty() {
        return Ok(());
    }
    tracked.extend(functions.iter().cloned().map(Tracked::External));
    // Services keep state through the host's endpoint, in the same store as plugins.
    let endpoint_conf = tributary_state::StoreConfig::load(root)?.endpoint;
    let endpoint = tributary_external::state_endpoint::StateEndpoint::start(
        ctx.state.clone(),
        endpoint_conf.listen.as_deref().unwrap_or("127.0.0.1:0"),
        endpoint_conf.advertise.as_deref(),
    )?;
    let mut registry = ctx
        .registry
        .write()
        .map_err(|_| poisoned("function registry"))?;
    for f in functions {
        let (name, service) = (f.name.clone(), f.service.clone());
        // An rpc exported under its own name (`Get`, `lower`…) yields to a built-in or
        // plugin function of that name, as in eKuiper; a name a file chose must not clash.
        if !f.explicit && registry.get(&name).is_some() {
            tracing::warn!(function = %name, service = %service, "an rpc shares its name with an existing function; the existing one is kept");
            continue;
        }
        registry
            .register(Arc::new(
                tributary_external::function::ExternalFunctionFactory::new(f)
                    .with_state(endpoint.clone()),
            ))
            .map_err(|e| Error::user(format!("service {service}: function {name}: {e}")))?;
    }
    Ok(())
}

fn load_native(root: &Path, ctx: &EngineContext, tracked: &mut Vec<Tracked>) -> Result<(), Error> {
    use tributary_native::loader;
    {
        let mut registry = ctx
            .registry
            .write()
            .map_err(|_| poisoned("function registry"))?;
        let loaded =
            loader::load_function_plugins(root, ctx.state.clone(), &mut |f| registry.register(f))?;
        tracked.extend(loaded.into_iter().map(|l| Tracked::Plugin {
            tier: "native",
            name: l.name,
            version: l.version,
            metrics: l.metrics,
        }));
    }
    let mut sources = ctx
        .plugin_sources
        .write()
        .map_err(|_| poisoned("source registry"))?;
    loader::load_source_plugins(root, ctx.state.clone(), &mut |f| {
        add_source(&mut sources, f)
    })?;
    let mut sinks = ctx
        .plugin_sinks
        .write()
        .map_err(|_| poisoned("sink registry"))?;
    loader::load_sink_plugins(root, ctx.state.clone(), &mut |f| add_sink(&mut sinks, f))?;
    Ok(())
}

fn load_wasm(root: &Path, ctx: &EngineContext, tracked: &mut Vec<Tracked>) -> Result<(), Error> {
    use tributary_wasm::loader;
    let engine = WasmEngine::new(WasmConfig::for_root(root)?)?;
    {
        let mut registry = ctx
            .registry
            .write()
            .map_err(|_| poisoned("function registry"))?;
        let loaded = loader::load_function_plugins(root, &engine, ctx.state.clone(), &mut |f| {
            registry.register(f)
        })?;
        tracked.extend(loaded.into_iter().map(|l| Tracked::Plugin {
            tier: "wasm",
            name: l.name,
            version: l.version,
            metrics: l.metrics,
        }));
    }
    let mut sources = ctx
        .plugin_sources
        .write()
        .map_err(|_| poisoned("source registry"))?;
    loader::load_source_plugins(root, &engine, ctx.state.clone(), &mut |f| {
        add_source(&mut sources, f)
    })?;
    let mut sinks = ctx
        .plugin_sinks
        .write()
        .map_err(|_| poisoned("sink registry"))?;
    loader::load_sink_plugins(root, &engine, ctx.state.clone(), &mut |f| {
        add_sink(&mut sinks, f)
    })?;
    Ok(())
}
