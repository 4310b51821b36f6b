//! Loading every plugin of a root: functions into a function registry, sources and
//! sinks as connector types. Each plugin gets the capabilities its manifest asks for
//! and `etc/wasm.yaml` grants ([`crate::capabilities`]).

use crate::capabilities::{Capabilities, PluginKind};
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
        let caps =
            Capabilities::for_plugin(&engine.config, root, PluginKind::Function, &f.name, &f.path)?;
        let plugin = Arc::new(WasmPlugin::load(
            engine, &f.name, &f.version, &f.path, caps,
        )?);
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

/// Loads `<root>/plugins/sources/*.wasm`; each becomes the stream `TYPE` named after
/// the plugin, handed to `register` (which refuses a taken type).
pub fn load_source_plugins(
    root: &Path,
    engine: &Arc<WasmEngine>,
    state: Arc<dyn StateStore>,
    register: &mut dyn FnMut(
        Arc<dyn tributary_core::connector::SourceFactory>,
    ) -> Result<(), Error>,
) -> Result<Vec<String>, Error> {
    let dir = root.join("plugins").join("sources");
    let files = discover(&dir, "wasm")
        .map_err(|e| Error::external(format!("plugins folder {}: {e}", dir.display())))?;
    let mut names = Vec::new();
    for f in files {
        let caps =
            Capabilities::for_plugin(&engine.config, root, PluginKind::Source, &f.name, &f.path)?;
        let plugin =
            crate::source::WasmSourcePlugin::load(engine, &f.name, &f.version, &f.path, caps)?;
        register(Arc::new(crate::source::WasmSourceFactory::new(
            Arc::new(plugin),
            state.clone(),
        )))
        .map_err(|e| Error::user(format!("plugin {}: {e}", f.path.display())))?;
        tracing::info!(plugin = %f.name, version = %f.version, "wasm source plugin loaded");
        names.push(f.name);
    }
    Ok(names)
}

/// Loads `<root>/plugins/sinks/*.wasm`; each becomes the action type named after the
/// plugin, handed to `register` (which refuses a taken type).
pub fn load_sink_plugins(
    root: &Path,
    engine: &Arc<WasmEngine>,
    state: Arc<dyn StateStore>,
    register: &mut dyn FnMut(Arc<dyn tributary_core::connector::SinkFactory>) -> Result<(), Error>,
) -> Result<Vec<String>, Error> {
    let dir = root.join("plugins").join("sinks");
    let files = discover(&dir, "wasm")
        .map_err(|e| Error::external(format!("plugins folder {}: {e}", dir.display())))?;
    let mut names = Vec::new();
    for f in files {
        let caps =
            Capabilities::for_plugin(&engine.config, root, PluginKind::Sink, &f.name, &f.path)?;
        let plugin = crate::sink::WasmSinkPlugin::load(engine, &f.name, &f.version, &f.path, caps)?;
        register(Arc::new(crate::sink::WasmSinkFactory::new(
            Arc::new(plugin),
            state.clone(),
        )))
        .map_err(|e| Error::user(format!("plugin {}: {e}", f.path.display())))?;
        tracing::info!(plugin = %f.name, version = %f.version, "wasm sink plugin loaded");
        names.push(f.name);
    }
    Ok(names)
}
