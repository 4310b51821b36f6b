//! What source and sink plugins share: a component linked once, the version of the
//! contract it was built against, a store per instance, and the live instance with
//! its resource and its typed exports.

use crate::capabilities::Capabilities;
use crate::contract::{Contract, Exports};
use crate::engine::WasmEngine;
use crate::host::HostState;
use crate::trap::root_cause;
use std::sync::Arc;
use tributary_core::Error;
use tributary_plugin::{InstanceContext, LoadRequest};
use wasmtime::component::{Instance, InstancePre, ResourceAny};
use wasmtime::Store;

/// A loaded connector plugin; `I` is where its interface's exports are.
pub struct WasmConnector<I> {
    pub(crate) name: String,
    pub(crate) engine: Arc<WasmEngine>,
    pre: InstancePre<HostState>,
    pub(crate) contract: Contract,
    pub(crate) idx: I,
    caps: Capabilities,
}

impl<I> WasmConnector<I> {
    /// Compiles a component exporting `interface` and finds its exports with
    /// `indices`; every failure names the file.
    pub fn load(
        engine: &Arc<WasmEngine>,
        req: &LoadRequest<'_>,
        caps: Capabilities,
        interface: &str,
        indices: impl FnOnce(&Exports) -> Result<I, Error>,
    ) -> Result<Self, Error> {
        let pre = engine.compile(req.path)?;
        let exports = Exports::find(&engine.engine, pre.component(), req.path, interface)?;
        Ok(WasmConnector {
            name: req.name.to_string(),
            engine: engine.clone(),
            contract: exports.contract,
            idx: indices(&exports)?,
            pre,
            caps,
        })
    }

    /// The contract version the component was built against.
    pub fn contract(&self) -> Contract {
        self.contract
    }

    /// A new instance in a store of its own.
    pub(crate) fn start(
        &self,
        ctx: &InstanceContext,
    ) -> Result<(Store<HostState>, Instance), String> {
        let mut store = self
            .engine
            .new_store(ctx, &self.caps)
            .map_err(|e| format!("plugin {}: {e}", self.name))?;
        let instance = self
            .engine
            .instantiate(&self.pre, &mut store, &self.name)
            .map_err(|e| e.to_string())?;
        Ok((store, instance))
    }

    /// The error of a failed call named `what` (constructor, open, a type check).
    pub(crate) fn failed(&self, what: &str) -> impl Fn(wasmtime::Error) -> String + '_ {
        let what = what.to_string();
        move |e| format!("plugin {}: {what} failed: {}", self.name, root_cause(&e))
    }

    /// The live instance, once constructed and opened.
    pub(crate) fn live<F>(
        &self,
        store: Store<HostState>,
        resource: ResourceAny,
        funcs: F,
    ) -> Live<F> {
        Live {
            name: self.name.clone(),
            engine: self.engine.clone(),
            store,
            resource,
            funcs,
        }
    }
}

/// The result of a guest's `open`: a trap, or the guest's own refusal.
pub(crate) fn opened(name: &str, r: wasmtime::Result<(Result<(), String>,)>) -> Result<(), String> {
    r.map_err(|e| format!("plugin {name}: open failed: {}", root_cause(&e)))?
        .0
        .map_err(|e| format!("plugin {name}: open: {e}"))
}

/// One live connector instance: `F` holds its typed exports.
pub struct Live<F> {
    pub(crate) name: String,
    pub(crate) engine: Arc<WasmEngine>,
    pub(crate) store: Store<HostState>,
    pub(crate) resource: ResourceAny,
    pub(crate) funcs: F,
}

impl<F> Live<F> {
    /// Arms a fresh deadline for the next call.
    pub(crate) fn arm(&mut self) {
        self.engine.arm_deadline(&mut self.store, None);
    }

    /// The error of a trapped call.
    pub(crate) fn trapped(&self, e: &wasmtime::Error) -> String {
        format!(
            "plugin {} failed: {}",
            self.name,
            crate::trap::describe_trap(e)
        )
    }

    /// The error a guest answered.
    pub(crate) fn refused(&self, what: &str, e: &str) -> String {
        format!("plugin {}: {what}: {e}", self.name)
    }
}
