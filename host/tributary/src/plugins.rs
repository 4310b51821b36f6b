//! Wiring the plugin tiers into an engine context: each tier crate loads the plugins
//! of a root and registers them through the engine's traits.

use std::path::Path;
use tributary_core::Error;
use tributary_engine::EngineContext;
use tributary_wasm::{WasmConfig, WasmEngine};

/// Loads the plugins under `root/plugins/` into `ctx`'s function registry.
pub fn load(root: &Path, ctx: &EngineContext) -> Result<(), Error> {
    let root = &std::fs::canonicalize(root)
        .map_err(|e| Error::user(format!("root {}: {e}", root.display())))?;
    let functions = root.join("plugins").join("functions");
    let has_wasm = std::fs::read_dir(&functions)
        .map(|d| {
            d.flatten()
                .any(|e| e.path().extension().is_some_and(|x| x == "wasm"))
        })
        .unwrap_or(false);
    if !has_wasm {
        return Ok(());
    }
    let engine = WasmEngine::new(WasmConfig {
        cache_dir: Some(root.join("data").join("wasm-cache")),
        ..WasmConfig::default()
    })?;
    let mut registry = ctx
        .registry
        .write()
        .map_err(|_| Error::internal("function registry lock poisoned"))?;
    tributary_wasm::loader::load_function_plugins(root, &engine, ctx.state.clone(), &mut |f| {
        registry.register(f)
    })?;
    Ok(())
}
