//! Function plugins: a component exporting `tributary:plugin/function`, compiled (or
//! fetched from the code cache), linked once into an `InstancePre` and described
//! (its functions, singleton or not). Instances are stores of their own; `exec` and
//! `exec-groups` are called through [`crate::abi`], not the generated bindings.

use crate::abi::{ColumnArg, ExecGroupsParams, ExecParams, ExecResults, RowList};
use crate::bindings::{function_api, FunctionPlugin, FunctionPluginPre};
use crate::capabilities::Capabilities;
use crate::convert::to_wit;
use crate::engine::WasmEngine;
use crate::host::HostState;
use crate::trap::{describe_trap, root_cause, wrong_world};
use std::sync::Arc;
use tributary_core::function::{ArgInfo, Column, FnContext, FunctionKind, RowResult};
use tributary_core::state::MemoryStateStore;
use tributary_core::Error;
use tributary_plugin::{
    ExportedFunction, FunctionArtifact, FunctionInstance, InstanceContext, InstanceInfo,
    LoadRequest,
};
use wasmtime::component::{ComponentExportIndex, ComponentNamedList, Func, Lower, ResourceAny};
use wasmtime::Store;

/// The function interface as components export it.
const FUNCTION_INTERFACE: &str = "tributary:plugin/function@0.1.0";

/// A loaded function plugin.
pub struct WasmFunctions {
    name: String,
    engine: Arc<WasmEngine>,
    pre: FunctionPluginPre<HostState>,
    functions: Vec<ExportedFunction>,
    singleton: bool,
    /// Where `exec` and `exec-groups` are among the component's exports, found once
    /// at load: the hot path calls them without the generated bindings.
    exec_index: ComponentExportIndex,
    exec_groups_index: ComponentExportIndex,
    caps: Capabilities,
}

/// A fresh instance, with the two hot exports at hand.
struct Fresh {
    store: Store<HostState>,
    bindings: FunctionPlugin,
    exec: Func,
    exec_groups: Func,
}

impl WasmFunctions {
    /// Loads a function plugin whose instances get `caps`. Every failure names the file.
    pub fn load(
        engine: &Arc<WasmEngine>,
        req: &LoadRequest<'_>,
        caps: Capabilities,
    ) -> Result<Self, Error> {
        let shown = req.path.display();
        let pre = FunctionPluginPre::new(engine.compile(req.path)?)
            .map_err(|e| wrong_world(req.path, "function", &e))?;
        let component = pre.instance_pre().component();
        let lookup = |name: &str| {
            component
                .get_export_index(None, FUNCTION_INTERFACE)
                .and_then(|iface| component.get_export_index(Some(&iface), name))
                .ok_or_else(|| Error::user(format!("plugin {shown} does not export {name}")))
        };
        let mut plugin = WasmFunctions {
            name: req.name.to_string(),
            engine: engine.clone(),
            exec_index: lookup("[method]instance.exec")?,
            exec_groups_index: lookup("[method]instance.exec-groups")?,
            pre,
            functions: Vec::new(),
            singleton: false,
            caps,
        };
        let info = tributary_plugin::bridge::call(|| {
            let mut i = plugin.fresh(&plugin.probe(), false)?;
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
                kind: match f.kind {
                    function_api::FunctionKind::Aggregate => FunctionKind::Aggregate,
                    function_api::FunctionKind::Scalar => FunctionKind::Scalar,
                },
            })
            .collect();
        plugin.singleton = info.singleton;
        Ok(plugin)
    }

    /// A bare instance and its generated bindings, for measuring raw wasmtime beside
    /// the tier (the bench).
    pub fn raw_instance(&self) -> Result<(Store<HostState>, FunctionPlugin), Error> {
        let i = self.fresh(&self.probe(), false)?;
        Ok((i.store, i.bindings))
    }

    /// A throwaway instance's context (describe, validate): no rule, no state kept.
    fn probe(&self) -> InstanceContext {
        InstanceContext {
            info: InstanceInfo::probe(&self.name, &self.caps.etc_dir.display().to_string()),
            state: Arc::new(MemoryStateStore::default()),
            metrics: Default::default(),
        }
    }

    /// A fresh instance in a store of its own; `metered` counts its memory into the
    /// plugin's counters.
    fn fresh(&self, ctx: &InstanceContext, metered: bool) -> Result<Fresh, Error> {
        let mut store = self.engine.new_store(ctx, &self.caps)?;
        if metered {
            // Before instantiation, so the initial memory is counted too.
            store.data_mut().memory_meter = Some(ctx.metrics.clone());
        }
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
        Ok(Fresh {
            store,
            bindings,
            exec,
            exec_groups,
        })
    }
}

impl FunctionArtifact for WasmFunctions {
    fn functions(&self) -> &[ExportedFunction] {
        &self.functions
    }

    fn singleton(&self) -> bool {
        self.singleton
    }

    fn validate(&self, function: &str, args: &[ArgInfo]) -> Result<(), String> {
        let wit_args: Vec<function_api::ArgInfo> = args
            .iter()
            .map(|a| match a {
                ArgInfo::Literal(v) => function_api::ArgInfo::Literal(to_wit(v)),
                ArgInfo::Dynamic => function_api::ArgInfo::Dynamic,
            })
            .collect();
        let mut i = self
            .fresh(&self.probe(), false)
            .map_err(|e| e.to_string())?;
        i.bindings
            .tributary_plugin_function()
            .call_validate(&mut i.store, function, &wit_args)
            .map_err(|e| {
                format!(
                    "plugin {} failed to validate: {}",
                    self.name,
                    root_cause(&e)
                )
            })?
    }

    fn instantiate(
        &self,
        function: &str,
        ctx: &InstanceContext,
    ) -> Result<Box<dyn FunctionInstance>, String> {
        let mut i = self.fresh(ctx, true).map_err(|e| e.to_string())?;
        let resource = i
            .bindings
            .tributary_plugin_function()
            .instance()
            .call_constructor(&mut i.store, function)
            .map_err(|e| {
                format!(
                    "plugin {}: constructor failed: {}",
                    self.name,
                    root_cause(&e)
                )
            })?;
        Ok(Box::new(WasmFunction {
            plugin: self.name.clone(),
            engine: self.engine.clone(),
            store: i.store,
            resource,
            exec: i.exec,
            exec_groups: i.exec_groups,
        }))
    }
}

/// One live instance: its store, the resource of one function, its hot exports.
struct WasmFunction {
    plugin: String,
    engine: Arc<WasmEngine>,
    store: Store<HostState>,
    resource: ResourceAny,
    exec: Func,
    exec_groups: Func,
}

impl WasmFunction {
    /// Calls `func` with the parameters `params` builds around the instance's
    /// resource, under a fresh deadline that the rule's stop also cuts short. The
    /// types were checked against the component when it was loaded.
    fn call<P>(
        &mut self,
        func: Func,
        cancel: &tributary_core::function::Cancel,
        params: impl FnOnce(ResourceAny) -> P,
        out: &mut Vec<RowResult>,
    ) -> Result<(), String>
    where
        P: ComponentNamedList + Lower,
    {
        let name = &self.plugin;
        self.engine.arm_deadline(&mut self.store, Some(cancel));
        let typed = func
            .typed::<P, ExecResults>(&self.store)
            .map_err(|e| format!("plugin {name}: {}", root_cause(&e)))?;
        let (RowList(rows),) = typed
            .call(&mut self.store, params(self.resource))
            .map_err(|e| format!("plugin {name} failed: {}", describe_trap(&e)))?;
        out.extend(rows);
        Ok(())
    }
}

impl FunctionInstance for WasmFunction {
    fn exec(
        &mut self,
        ctx: &FnContext,
        args: &[Column],
        n: usize,
        out: &mut Vec<RowResult>,
    ) -> Result<(), String> {
        let cols: Vec<ColumnArg<'_>> = args.iter().map(ColumnArg::from).collect();
        self.call(self.exec, &ctx.cancel, |r| (r, &cols[..], n as u32), out)
    }

    fn exec_groups(
        &mut self,
        ctx: &FnContext,
        groups: &[Vec<Column>],
        out: &mut Vec<RowResult>,
    ) -> Result<(), String> {
        let groups: Vec<Vec<ColumnArg<'_>>> = groups
            .iter()
            .map(|g| g.iter().map(ColumnArg::from).collect())
            .collect();
        self.call(self.exec_groups, &ctx.cancel, |r| (r, &groups[..]), out)
    }
}
