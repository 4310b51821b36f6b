//! Function plugins: a component exporting `tributary:plugin/function` (of any
//! contract version this host serves), compiled (or fetched from the code cache),
//! linked once into an `InstancePre` and described (its functions, singleton or not).
//! Instances are stores of their own; `exec` and `exec-groups` are called through
//! [`crate::abi`] in the form of the component's version.

use crate::abi::columns::{ColumnV1, Prepared};
use crate::abi::results::push_results;
use crate::abi::rows::RowList;
use crate::abi::{
    ExecGroupsParams, ExecGroupsParamsV1, ExecParams, ExecParamsV1, ExecResults, ExecResultsV1,
};
use crate::bindings::function_api;
use crate::capabilities::Capabilities;
use crate::contract::{mismatch_of, typed, Contract, Export, Exports};
use crate::convert::to_wit;
use crate::engine::{Linked, WasmEngine};
use crate::host::HostState;
use crate::trap::{describe_trap, root_cause};
use std::sync::Arc;
use tributary_core::function::{ArgInfo, Column, FnContext, FunctionKind, RowResult};
use tributary_core::state::MemoryStateStore;
use tributary_core::Error;
use tributary_plugin::typed::failed_in;
use tributary_plugin::{
    ExportedFunction, FunctionArtifact, FunctionInstance, InstanceContext, InstanceInfo,
    LoadRequest, PluginPaths,
};
use wasmtime::component::{
    ComponentNamedList, Func, Instance, Lift, Lower, ResourceAny, TypedFunc,
};
use wasmtime::Store;

/// The function interface's exports, checked at load.
const EXPORTS: [&str; 5] = [
    "describe",
    "validate",
    "[constructor]instance",
    "[method]instance.exec",
    "[method]instance.exec-groups",
];

/// A loaded function plugin.
pub struct WasmFunctions {
    name: String,
    engine: Arc<WasmEngine>,
    linked: Linked,
    contract: Contract,
    exports: Exports,
    functions: Vec<ExportedFunction>,
    singleton: bool,
    caps: Capabilities,
}

/// A fresh instance, with the two hot exports at hand.
struct Fresh {
    store: Store<HostState>,
    instance: Instance,
    exec: Func,
    exec_groups: Func,
}

impl Fresh {
    fn index(&mut self, exports: &Exports, name: &str) -> Result<Export, Error> {
        exports.resolve(&self.instance, &mut self.store, name)
    }
}

type Describe = wasmtime::component::TypedFunc<(), (function_api::PluginInfo,)>;

impl WasmFunctions {
    /// Loads a function plugin whose instances get `caps`. Every failure names the file.
    pub fn load(
        engine: &Arc<WasmEngine>,
        req: &LoadRequest<'_>,
        caps: Capabilities,
    ) -> Result<Self, Error> {
        let shown = req.path.display();
        let linked = engine.compile(req.path)?;
        let exports = Exports::find(&engine.engine, linked.component(), req.path, "function")?;
        for name in EXPORTS {
            exports.func(req.path, name)?;
        }
        let mut plugin = WasmFunctions {
            name: req.name.to_string(),
            engine: engine.clone(),
            linked,
            contract: exports.contract,
            exports,
            functions: Vec::new(),
            singleton: false,
            caps,
        };
        let mismatch =
            |e: wasmtime::Error| Error::user(format!("plugin {shown}: {}", root_cause(&e)));
        let info = tributary_plugin::bridge::call(|| {
            let mut i = plugin.fresh(&plugin.probe(), false)?;
            // Every export's types must match the component's, checked here once, so
            // a mismatch is a load error naming the file.
            plugin.check_hot_types(&i).map_err(mismatch)?;
            let ex = &plugin.exports;
            let (d, v, c) = (
                i.index(ex, "describe")?,
                i.index(ex, "validate")?,
                i.index(ex, "[constructor]instance")?,
            );
            let describe: Describe = typed(&i.instance, &mut i.store, &d).map_err(mismatch)?;
            typed::<(&str, &[function_api::ArgInfo]), (Result<(), String>,)>(
                &i.instance,
                &mut i.store,
                &v,
            )
            .map_err(mismatch)?;
            typed::<(&str,), (ResourceAny,)>(&i.instance, &mut i.store, &c).map_err(mismatch)?;
            describe
                .call(&mut i.store, ())
                .map(|(info,)| info)
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

    /// The contract version the component was built against.
    pub fn contract(&self) -> Contract {
        self.contract
    }

    fn check_hot_types(&self, i: &Fresh) -> wasmtime::Result<()> {
        match self.contract {
            Contract::V0_1 => {
                i.exec
                    .typed::<ExecParamsV1<'_>, ExecResultsV1>(&i.store)
                    .map_err(|e| self.mismatch("[method]instance.exec", e))?;
                i.exec_groups
                    .typed::<ExecGroupsParamsV1<'_>, ExecResultsV1>(&i.store)
                    .map_err(|e| self.mismatch("[method]instance.exec-groups", e))?;
            }
            Contract::V0_2 => {
                i.exec
                    .typed::<ExecParams<'_>, ExecResults>(&i.store)
                    .map_err(|e| self.mismatch("[method]instance.exec", e))?;
                i.exec_groups
                    .typed::<ExecGroupsParams<'_>, ExecResults>(&i.store)
                    .map_err(|e| self.mismatch("[method]instance.exec-groups", e))?;
            }
        }
        Ok(())
    }

    /// A failed type check of the interface's function `name`, naming it.
    fn mismatch(&self, name: &str, e: wasmtime::Error) -> wasmtime::Error {
        mismatch_of(&format!("{} `{name}`", self.exports.shown()), e)
    }

    /// A bare instance of the component, for measuring raw wasmtime calls beside the
    /// tier (the bench).
    pub fn raw_instance(&self) -> Result<(Store<HostState>, Instance), Error> {
        let i = self.fresh(&self.probe(), false)?;
        Ok((i.store, i.instance))
    }

    /// A throwaway instance's context (describe, validate): no rule, no state kept.
    fn probe(&self) -> InstanceContext {
        // `etc_dir` is `<root>/etc/<kind>/<name>`.
        let etc = &self.caps.etc_dir;
        let paths = PluginPaths {
            root: etc.ancestors().nth(3).unwrap_or(etc).display().to_string(),
            plugin: etc.display().to_string(),
        };
        InstanceContext {
            info: InstanceInfo::probe(&self.name, &paths),
            state: Arc::new(MemoryStateStore::default()),
            metrics: Default::default(),
            link: None,
        }
    }

    /// A fresh instance in a store of its own; `metered` counts its memory into the
    /// plugin's counters.
    fn fresh(&self, ctx: &InstanceContext, metered: bool) -> Result<Fresh, Error> {
        let (mut store, instance) =
            self.engine
                .start(&self.linked, ctx, &self.caps, metered, &self.name)?;
        let mut func = |name: &str| {
            let export = self.exports.resolve(&instance, &mut store, name)?;
            instance.get_func(&mut store, export.index).ok_or_else(|| {
                Error::external(format!("plugin {}: an export went missing", self.name))
            })
        };
        let exec = func("[method]instance.exec")?;
        let exec_groups = func("[method]instance.exec-groups")?;
        Ok(Fresh {
            store,
            instance,
            exec,
            exec_groups,
        })
    }
}

impl FunctionArtifact for WasmFunctions {
    fn contract(&self) -> String {
        self.contract.shown()
    }

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
        let failed = |e: wasmtime::Error| {
            format!(
                "plugin {} failed to validate: {}",
                self.name,
                root_cause(&e)
            )
        };
        let mut i = self
            .fresh(&self.probe(), false)
            .map_err(|e| e.to_string())?;
        let index = i
            .index(&self.exports, "validate")
            .map_err(|e| e.to_string())?;
        let validate = typed::<(&str, &[function_api::ArgInfo]), (Result<(), String>,)>(
            &i.instance,
            &mut i.store,
            &index,
        )
        .map_err(failed)?;
        let (r,) = validate
            .call(&mut i.store, (function, &wit_args))
            .map_err(|e| i.store.data().output.with_last_words(failed(e)))?;
        r
    }

    fn instantiate(
        &self,
        function: &str,
        ctx: &InstanceContext,
    ) -> Result<Box<dyn FunctionInstance>, String> {
        let mut i = self.fresh(ctx, true).map_err(|e| e.to_string())?;
        // Once per instance, so that its calls need not check (`WasmFunction::call`).
        self.check_hot_types(&i)
            .map_err(|e| format!("plugin {}: {}", self.name, root_cause(&e)))?;
        let failed = |e: wasmtime::Error| {
            format!(
                "plugin {}: constructor failed: {}",
                self.name,
                root_cause(&e)
            )
        };
        let index = i
            .index(&self.exports, "[constructor]instance")
            .map_err(|e| e.to_string())?;
        let constructor =
            typed::<(&str,), (ResourceAny,)>(&i.instance, &mut i.store, &index).map_err(failed)?;
        let (resource,) = constructor
            .call(&mut i.store, (function,))
            .map_err(|e| i.store.data().output.with_last_words(failed(e)))?;
        Ok(Box::new(WasmFunction {
            plugin: self.name.clone(),
            engine: self.engine.clone(),
            contract: self.contract,
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
    contract: Contract,
    store: Store<HostState>,
    resource: ResourceAny,
    exec: Func,
    exec_groups: Func,
}

impl WasmFunction {
    /// Calls `func` with `params`, under a fresh deadline that the rule's stop also
    /// cuts short. `P` and `R` must be the types of `self.contract` for `func`.
    // The tier's second exception to `deny(unsafe_code)` (see lib.rs).
    #[allow(unsafe_code)]
    fn call<P, R>(
        &mut self,
        func: Func,
        cancel: &tributary_core::function::Cancel,
        params: P,
    ) -> Result<R, String>
    where
        P: ComponentNamedList + Lower,
        R: ComponentNamedList + Lift,
    {
        let name = &self.plugin;
        self.engine.arm_deadline(&mut self.store, Some(cancel));
        // SAFETY: `func` is this instance's `exec` or `exec-groups`, and `instantiate`
        // checked both against the contract's parameter and result types (the callers
        // pass the ones of `self.contract`). Checking on every call would walk the
        // whole column and results type trees each time.
        let typed = unsafe { TypedFunc::<P, R>::new_unchecked(func) };
        typed.call(&mut self.store, params).map_err(|e| {
            let error = format!("plugin {name} failed: {}", describe_trap(&e));
            self.store.data().output.with_last_words(error)
        })
    }
}

impl FunctionInstance for WasmFunction {
    fn exec(
        &mut self,
        ctx: &FnContext,
        args: &[Column],
        n: usize,
        out: &mut Vec<RowResult>,
    ) -> Result<usize, String> {
        let (r, rows) = (self.resource, n as u32);
        match self.contract {
            Contract::V0_1 => {
                let cols: Vec<ColumnV1<'_>> = args.iter().map(ColumnV1::from).collect();
                let (RowList(results),) = self.call::<ExecParamsV1<'_>, ExecResultsV1>(
                    self.exec,
                    &ctx.cancel,
                    (r, &cols, rows),
                )?;
                let failed = failed_in(&results);
                out.extend(results);
                Ok(failed)
            }
            Contract::V0_2 => {
                let prepared: Vec<Prepared<'_>> = args.iter().map(Prepared::new).collect();
                let cols: Vec<_> = prepared.iter().map(Prepared::arg).collect();
                let (results,) = self.call::<ExecParams<'_>, ExecResults>(
                    self.exec,
                    &ctx.cancel,
                    (r, &cols, rows),
                )?;
                push_results(results, n, out).map_err(|e| format!("plugin {}: {e}", self.plugin))
            }
        }
    }

    fn exec_groups(
        &mut self,
        ctx: &FnContext,
        groups: &[Vec<Column>],
        out: &mut Vec<RowResult>,
    ) -> Result<usize, String> {
        let r = self.resource;
        match self.contract {
            Contract::V0_1 => {
                let groups: Vec<Vec<ColumnV1<'_>>> = groups
                    .iter()
                    .map(|g| g.iter().map(ColumnV1::from).collect())
                    .collect();
                let (RowList(results),) = self.call::<ExecGroupsParamsV1<'_>, ExecResultsV1>(
                    self.exec_groups,
                    &ctx.cancel,
                    (r, &groups),
                )?;
                let failed = failed_in(&results);
                out.extend(results);
                Ok(failed)
            }
            Contract::V0_2 => {
                let prepared: Vec<Vec<Prepared<'_>>> = groups
                    .iter()
                    .map(|g| g.iter().map(Prepared::new).collect())
                    .collect();
                let cols: Vec<Vec<_>> = prepared
                    .iter()
                    .map(|g| g.iter().map(Prepared::arg).collect())
                    .collect();
                let (results,) = self.call::<ExecGroupsParams<'_>, ExecResults>(
                    self.exec_groups,
                    &ctx.cancel,
                    (r, &cols),
                )?;
                push_results(results, groups.len(), out)
                    .map_err(|e| format!("plugin {}: {e}", self.plugin))
            }
        }
    }
}
