//! What source and sink plugins share: a component linked once, the version of the
//! contract it was built against, a store per instance, and the live instance with
//! its resource and its typed exports.

use crate::capabilities::Capabilities;
use crate::contract::{Contract, Export, Exports};
use crate::engine::{Linked, WasmEngine};
use crate::host::HostState;
use crate::trap::root_cause;
use std::sync::Arc;
use tributary_core::Error;
use tributary_plugin::{InstanceContext, LoadRequest};
use wasmtime::component::{ComponentNamedList, Instance, Lower, ResourceAny, TypedFunc};
use wasmtime::Store;

/// A loaded connector plugin; `I` is what its kind knows of it.
pub struct WasmConnector<I> {
    pub(crate) name: String,
    pub(crate) engine: Arc<WasmEngine>,
    linked: Linked,
    pub(crate) contract: Contract,
    pub(crate) exports: Exports,
    pub(crate) idx: I,
    caps: Capabilities,
}

impl<I> WasmConnector<I> {
    /// Compiles a component exporting `interface` and checks its exports with
    /// `check`; every failure names the file.
    pub fn load(
        engine: &Arc<WasmEngine>,
        req: &LoadRequest<'_>,
        caps: Capabilities,
        interface: &str,
        check: impl FnOnce(&Exports) -> Result<I, Error>,
    ) -> Result<Self, Error> {
        let linked = engine.compile(req.path)?;
        let exports = Exports::find(&engine.engine, linked.component(), req.path, interface)?;
        Ok(WasmConnector {
            name: req.name.to_string(),
            engine: engine.clone(),
            contract: exports.contract,
            idx: check(&exports)?,
            exports,
            linked,
            caps,
        })
    }

    /// The contract version the component was built against.
    pub fn contract(&self) -> Contract {
        self.contract
    }

    /// A new instance in a store of its own, its memory counted into its plugin's
    /// counters.
    pub(crate) fn start(
        &self,
        ctx: &InstanceContext,
    ) -> Result<(Store<HostState>, Instance), String> {
        self.engine
            .start(&self.linked, ctx, &self.caps, true, &self.name)
            .map_err(|e| e.to_string())
    }

    /// Function `name` of the interface on `instance`.
    pub(crate) fn index(
        &self,
        instance: &Instance,
        store: &mut Store<HostState>,
        name: &str,
    ) -> Result<Export, String> {
        self.exports
            .resolve(instance, store, name)
            .map_err(|e| e.to_string())
    }

    /// The error of a failed call named `what` (constructor, open, a type check).
    pub(crate) fn failed(&self, what: &str) -> impl Fn(wasmtime::Error) -> String + '_ {
        let what = what.to_string();
        move |e| format!("plugin {}: {what} failed: {}", self.name, root_cause(&e))
    }

    /// Calls the instance's constructor with `params`, then its `open`, each under a
    /// fresh deadline. A trap in either carries the guest's last written lines.
    pub(crate) fn construct<P>(
        &self,
        store: &mut Store<HostState>,
        constructor: TypedFunc<P, (ResourceAny,)>,
        params: P,
        open: TypedFunc<(ResourceAny,), (Result<(), String>,)>,
    ) -> Result<ResourceAny, String>
    where
        P: ComponentNamedList + Lower,
    {
        let said = |store: &Store<HostState>, e: String| store.data().output.with_last_words(e);
        let (resource,) = match constructor.call(&mut *store, params) {
            Ok(r) => r,
            Err(e) => return Err(said(store, self.failed("constructor")(e))),
        };
        self.engine.arm_deadline(store, None);
        let r = open.call(&mut *store, (resource,));
        opened(&self.name, r).map_err(|e| said(store, e))?;
        Ok(resource)
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
    /// The error of a trapped call, with what the guest wrote before it.
    pub(crate) fn trapped(&self, e: &wasmtime::Error) -> String {
        let error = format!(
            "plugin {} failed: {}",
            self.name,
            crate::trap::describe_trap(e)
        );
        self.store.data().output.with_last_words(error)
    }

    /// The error a guest answered.
    pub(crate) fn refused(&self, what: &str, e: &str) -> String {
        format!("plugin {}: {what}: {e}", self.name)
    }
}
