//! A loaded plugin file: compiled (or fetched from the code cache), linked once into an
//! `InstancePre`, and described (which functions it exports, singleton or not).

use crate::bindings::{function_api, FunctionPlugin, FunctionPluginPre};
use crate::capabilities::Capabilities;
use crate::engine::WasmEngine;
use crate::host::{HostState, InstanceInfo};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tributary_core::state::MemoryStateStore;
use tributary_core::Error;
use wasmtime::Store;

/// A function exported by a plugin.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportedFunction {
    pub name: String,
    pub aggregate: bool,
}

pub struct WasmPlugin {
    pub name: String,
    pub version: String,
    pub path: PathBuf,
    pub engine: Arc<WasmEngine>,
    pub pre: FunctionPluginPre<HostState>,
    pub functions: Vec<ExportedFunction>,
    pub singleton: bool,
    /// What its instances may use and their limits (its etc folder
    /// `<root>/etc/functions/<name>` is their root path).
    pub caps: Capabilities,
}

impl std::fmt::Debug for WasmPlugin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WasmPlugin")
            .field("name", &self.name)
            .field("version", &self.version)
            .field("functions", &self.functions)
            .finish()
    }
}

impl WasmPlugin {
    /// Loads a function plugin whose instances get `caps`. Every failure names the file.
    pub fn load(
        engine: &Arc<WasmEngine>,
        name: &str,
        version: &str,
        path: &Path,
        caps: Capabilities,
    ) -> Result<Self, Error> {
        let shown = path.display();
        let pre = engine.compile(path)?;
        let pre = FunctionPluginPre::new(pre)
            .map_err(|e| crate::plugin::wrong_world(path, "function", &e))?;
        let mut plugin = WasmPlugin {
            name: name.to_string(),
            version: version.to_string(),
            path: path.to_path_buf(),
            engine: engine.clone(),
            pre,
            functions: Vec::new(),
            singleton: false,
            caps,
        };
        let info = crate::function::off_async_context(|| {
            let (mut store, bindings) =
                plugin.instantiate(InstanceInfo::default(), String::new())?;
            bindings
                .tributary_plugin_function()
                .call_describe(&mut store)
                .map_err(|e| {
                    Error::user(format!(
                        "plugin {shown}: describe failed: {}",
                        root_cause(&e)
                    ))
                })
        })?;
        if info.functions.is_empty() {
            return Err(Error::user(format!("plugin {shown} exports no function")));
        }
        plugin.functions = info
            .functions
            .into_iter()
            .map(|f| ExportedFunction {
                name: f.name,
                aggregate: f.kind == function_api::FunctionKind::Aggregate,
            })
            .collect();
        plugin.singleton = info.singleton;
        Ok(plugin)
    }

    /// A fresh instance in a store of its own, with the state scope `scope`.
    pub fn instantiate(
        &self,
        mut info: InstanceInfo,
        scope: String,
    ) -> Result<(Store<HostState>, FunctionPlugin), Error> {
        self.instantiate_with(
            &mut info,
            scope,
            Arc::new(MemoryStateStore::default()),
            None,
        )
    }

    /// [`WasmPlugin::instantiate`] with an explicit state store.
    pub fn instantiate_with(
        &self,
        info: &mut InstanceInfo,
        scope: String,
        state: Arc<dyn tributary_core::state::StateStore>,
        meter: Option<Arc<tributary_core::function::PluginMetrics>>,
    ) -> Result<(Store<HostState>, FunctionPlugin), Error> {
        info.plugin = self.name.clone();
        info.root_path = self.caps.etc_dir.display().to_string();
        let mut store = self
            .engine
            .new_store(info.clone(), scope, state, &self.caps)?;
        // Before instantiation, so the initial memory is counted too.
        store.data_mut().memory_meter = meter;
        let bindings = self.pre.instantiate(&mut store).map_err(|e| {
            Error::external(format!(
                "plugin {}: instantiation failed: {}",
                self.name,
                root_cause(&e)
            ))
        })?;
        Ok((store, bindings))
    }
}

/// The error for a component that does not export `interface` of this WIT version.
pub fn wrong_world(path: &Path, interface: &str, e: &wasmtime::Error) -> Error {
    Error::user(format!(
        "plugin {} does not export the tributary:plugin/{interface} interface of tributary:plugin@0.1.0: {}",
        path.display(),
        root_cause(e)
    ))
}

/// The innermost message of a wasmtime error chain (the useful part).
pub fn root_cause(e: &wasmtime::Error) -> String {
    let mut msg = e.to_string();
    for cause in e.chain().skip(1) {
        msg = format!("{msg}: {cause}");
    }
    msg
}
