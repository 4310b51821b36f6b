//! Loading every function plugin of a root into a function registry.

use crate::discover::discover;
use crate::engine::WasmEngine;
use crate::function::{PluginMetrics, WasmFunctionFactory};
use crate::plugin::WasmPlugin;
use std::path::Path;
use std::sync::Arc;
use tributary_core::function::FunctionFactory;
use tributary_core::state::StateStore;
use tributary_core::Error;

/// A plugin that was loaded, with what it registered.
#[derive(Debug, Clone)]
pub struct Loaded {
    pub name: String,
    pub version: String,
    pub functions: Vec<String>,
    pub metrics: Arc<PluginMetrics>,
}

/// Loads `<root>/plugins/functions/*.wasm` and hands each exported function to
/// `register`, which must refuse a name that is taken (a built-in, another plugin).
pub fn load_function_plugins(
    root: &Path,
    engine: &Arc<WasmEngine>,
    state: Arc<dyn StateStore>,
    register: &mut dyn FnMut(Arc<dyn FunctionFactory>) -> Result<(), Error>,
) -> Result<Vec<Loaded>, Error> {
    let dir = root.join("plugins").join("functions");
    let files = discover(&dir, "wasm")
        .map_err(|e| Error::external(format!("plugins folder {}: {e}", dir.display())))?;
    let mut loaded = Vec::new();
    for f in files {
        let etc = root.join("etc").join("functions").join(&f.name);
        let plugin = Arc::new(WasmPlugin::load(engine, &f.name, &f.version, &f.path, etc)?);
        let metrics = Arc::new(PluginMetrics::default());
        let mut names = Vec::new();
        for func in &plugin.functions {
            let factory = WasmFunctionFactory::new(
                plugin.clone(),
                &func.name,
                func.aggregate,
                state.clone(),
                metrics.clone(),
            );
            register(Arc::new(factory))
                .map_err(|e| Error::user(format!("plugin {}: {e}", f.path.display())))?;
            names.push(func.name.clone());
        }
        tracing::info!(plugin = %f.name, version = %f.version, functions = ?names, "wasm plugin loaded");
        loaded.push(Loaded {
            name: f.name,
            version: f.version,
            functions: names,
            metrics,
        });
    }
    Ok(loaded)
}
