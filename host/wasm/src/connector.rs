//! What source and sink plugins share: a component linked for its world, a store per
//! instance, and the live instance with its bindings and resource.

use crate::capabilities::Capabilities;
use crate::engine::WasmEngine;
use crate::host::HostState;
use crate::trap::{root_cause, wrong_world};
use std::sync::Arc;
use tributary_core::Error;
use tributary_plugin::{InstanceContext, LoadRequest};
use wasmtime::component::{InstancePre, ResourceAny};
use wasmtime::Store;

/// A loaded connector plugin: `Pre` is its world's pre-linked instance.
pub struct WasmConnector<Pre> {
    pub(crate) name: String,
    pub(crate) engine: Arc<WasmEngine>,
    pub(crate) pre: Pre,
    caps: Capabilities,
}

impl<Pre> WasmConnector<Pre> {
    /// Compiles a component and links it for `world` with `link`; every failure names
    /// the file.
    pub fn load(
        engine: &Arc<WasmEngine>,
        req: &LoadRequest<'_>,
        caps: Capabilities,
        world: &str,
        link: impl FnOnce(InstancePre<HostState>) -> wasmtime::Result<Pre>,
    ) -> Result<Self, Error> {
        let pre = link(engine.compile(req.path)?).map_err(|e| wrong_world(req.path, world, &e))?;
        Ok(WasmConnector {
            name: req.name.to_string(),
            engine: engine.clone(),
            pre,
            caps,
        })
    }

    /// A store for a new instance.
    pub(crate) fn store(&self, ctx: &InstanceContext) -> Result<Store<HostState>, String> {
        self.engine
            .new_store(ctx, &self.caps)
            .map_err(|e| format!("plugin {}: {e}", self.name))
    }

    /// The error of a failed call named `what` (instantiation, constructor, open).
    pub(crate) fn failed(&self, what: &str) -> impl Fn(wasmtime::Error) -> String + '_ {
        let what = what.to_string();
        move |e| format!("plugin {}: {what} failed: {}", self.name, root_cause(&e))
    }

    /// The live instance, once constructed and opened.
    pub(crate) fn live<B>(
        &self,
        store: Store<HostState>,
        bindings: B,
        resource: ResourceAny,
    ) -> Live<B> {
        Live {
            name: self.name.clone(),
            engine: self.engine.clone(),
            store,
            bindings,
            resource,
        }
    }
}

/// The result of a guest's `open`: a trap, or the guest's own refusal.
pub(crate) fn opened(name: &str, r: wasmtime::Result<Result<(), String>>) -> Result<(), String> {
    r.map_err(|e| format!("plugin {name}: open failed: {}", root_cause(&e)))?
        .map_err(|e| format!("plugin {name}: open: {e}"))
}

/// One live connector instance.
pub struct Live<B> {
    pub(crate) name: String,
    pub(crate) engine: Arc<WasmEngine>,
    pub(crate) store: Store<HostState>,
    pub(crate) bindings: B,
    pub(crate) resource: ResourceAny,
}

impl<B> Live<B> {
    /// Arms a fresh deadline for the next call.
    pub(crate) fn arm(&mut self) {
        self.engine.arm_deadline(&mut self.store, None);
    }
}
