//! A loaded plugin file: compiled (or fetched from the code cache), linked once into an
//! `InstancePre`, and described (which functions it exports, singleton or not).

use crate::abi::{ExecGroupsParams, ExecParams, ExecResults};
use crate::bindings::{function_api, FunctionPlugin, FunctionPluginPre};
use crate::capabilities::Capabilities;
use crate::engine::WasmEngine;
use crate::host::{HostState, InstanceInfo};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tributary_core::state::MemoryStateStore;
use tributary_core::Error;
use wasmtime::component::{ComponentExportIndex, Func};
use wasmtime::Store;

/// The function interface as components export it.
const FUNCTION_INTERFACE: &str = "tributary:plugin/function@0.1.0";

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
    /// Where `exec` and `exec-groups` are among the component's exports, found once at
    /// load: the hot path calls them without the generated bindings (see `abi`).
    exec_index: ComponentExportIndex,
    exec_groups_index: ComponentExportIndex,
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
        let component = pre.instance_pre().component();
        let lookup = |name: &str| {
            component
                .get_export_index(None, FUNCTION_INTERFACE)
                .and_then(|iface| component.get_export_index(Some(&iface), name))
                .ok_or_else(|| Error::user(format!("plugin {shown} does not export {name}")))
        };
        let exec_index = lookup("[method]instance.exec")?;
        let exec_groups_index = lookup("[method]instance.exec-groups")?;
        let mut plugin = WasmPlugin {
            name: name.to_string(),
            version: version.to_string(),
            path: path.to_path_buf(),
            engine: engine.clone(),
            pre,
            functions: Vec::new(),
            singleton: false,
            exec_index,
            exec_groups_index,
            caps,
        };
        let info = crate::function::off_async_context(|| {
            let mut i = plugin.instantiate_with(
                &mut InstanceInfo::default(),
                String::new(),
                Arc::new(MemoryStateStore::default()),
                None,
            )?;
            // The hot path's own types must match the component's exports; checked
            // here once, so a mismatch is a load error naming the file.
            let mismatch =
                |e: wasmtime::Error| Error::user(format!("plugin {shown}: {}", root_cause(&e)));
            i.exec
                .typed::<ExecParams<'_>, ExecResults>(&i.store)
                .map_err(mismatch)?;
            i.exec_groups
                .typed::<ExecGroupsParams<'_>, ExecResults>(&i.store)
                .map_err(mismatch)?;
            i.bindings
                .tributary_plugin_function()
                .call_describe(&mut i.store)
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
        let i = self.instantiate_with(
            &mut info,
            scope,
            Arc::new(MemoryStateStore::default()),
            None,
        )?;
        Ok((i.store, i.bindings))
    }

    /// [`WasmPlugin::instantiate`] with an explicit state store.
    pub fn instantiate_with(
        &self,
        info: &mut InstanceInfo,
        scope: String,
        state: Arc<dyn tributary_core::state::StateStore>,
        meter: Option<Arc<tributary_core::function::PluginMetrics>>,
    ) -> Result<Instantiated, Error> {
        info.plugin = self.name.clone();
        info.root_path = self.caps.etc_dir.display().to_string();
        let mut store = self
            .engine
            .new_store(info.clone(), scope, state, &self.caps)?;
        // Before instantiation, so the initial memory is counted too.
        store.data_mut().memory_meter = meter;
        let failed = |e: wasmtime::Error| {
            Error::external(format!(
                "plugin {}: instantiation failed: {}",
                self.name,
                root_cause(&e)
            ))
        };
        let instance = self
            .pre
            .instance_pre()
            .instantiate(&mut store)
            .map_err(failed)?;
        let bindings = FunctionPlugin::new(&mut store, &instance).map_err(failed)?;
        let func = |store: &mut Store<HostState>, index: &ComponentExportIndex| {
            instance.get_func(store, index).ok_or_else(|| {
                Error::external(format!("plugin {}: an export went missing", self.name))
            })
        };
        let exec = func(&mut store, &self.exec_index)?;
        let exec_groups = func(&mut store, &self.exec_groups_index)?;
        Ok(Instantiated {
            store,
            bindings,
            exec,
            exec_groups,
        })
    }
}

/// A fresh instance of a function plugin, with the two hot exports at hand.
pub struct Instantiated {
    pub store: Store<HostState>,
    pub bindings: FunctionPlugin,
    pub exec: Func,
    pub exec_groups: Func,
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
