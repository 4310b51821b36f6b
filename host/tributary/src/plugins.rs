//! Wiring the plugin tiers into an engine context: each tier crate loads the plugins
//! of a root and registers them through the engine's traits.

use std::path::Path;
use tributary_core::Error;
use tributary_engine::EngineContext;
use tributary_wasm::{WasmConfig, WasmEngine};

fn has_wasm(dir: &Path) -> bool {
    std::fs::read_dir(dir)
        .map(|d| {
            d.flatten()
                .any(|e| e.path().extension().is_some_and(|x| x == "wasm"))
        })
        .unwrap_or(false)
}

/// Loads the plugins under `root/plugins/` into `ctx`: functions into its registry,
/// sources and sinks into its connector types.
pub fn load(root: &Path, ctx: &EngineContext) -> Result<(), Error> {
    let root = &std::fs::canonicalize(root)
        .map_err(|e| Error::user(format!("root {}: {e}", root.display())))?;
    let plugins = root.join("plugins");
    if !["functions", "sources", "sinks"]
        .iter()
        .any(|k| has_wasm(&plugins.join(k)))
    {
        return Ok(());
    }
    let engine = WasmEngine::new(WasmConfig::for_root(root)?)?;
    {
        let mut registry = ctx
            .registry
            .write()
            .map_err(|_| Error::internal("function registry lock poisoned"))?;
        tributary_wasm::loader::load_function_plugins(
            root,
            &engine,
            ctx.state.clone(),
            &mut |f| registry.register(f),
        )?;
    }
    let mut sources = ctx
        .plugin_sources
        .write()
        .map_err(|_| Error::internal("source registry lock poisoned"))?;
    tributary_wasm::loader::load_source_plugins(root, &engine, ctx.state.clone(), &mut |f| {
        let kind = f.kind().to_ascii_lowercase();
        if tributary_connectors::registry::is_source_kind(&kind) || sources.contains_key(&kind) {
            return Err(Error::Conflict(format!(
                "source type {kind} already exists"
            )));
        }
        sources.insert(kind, f);
        Ok(())
    })?;
    let mut sinks = ctx
        .plugin_sinks
        .write()
        .map_err(|_| Error::internal("sink registry lock poisoned"))?;
    tributary_wasm::loader::load_sink_plugins(root, &engine, ctx.state.clone(), &mut |f| {
        let kind = f.kind().to_ascii_lowercase();
        if tributary_connectors::registry::is_sink_kind(&kind) || sinks.contains_key(&kind) {
            return Err(Error::Conflict(format!("sink type {kind} already exists")));
        }
        sinks.insert(kind, f);
        Ok(())
    })?;
    Ok(())
}
