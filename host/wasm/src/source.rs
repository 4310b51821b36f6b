//! Source plugins: a component exporting `tributary:plugin/source`, as a stream
//! `TYPE`. The pull loop, its thread and its timing are the plugin host's; this is
//! the open, pull and close calls.

use crate::bindings::source_world::{source_api, SourcePlugin, SourcePluginPre};
use crate::capabilities::Capabilities;
use crate::convert::from_wit;
use crate::engine::WasmEngine;
use crate::host::HostState;
use crate::trap::{root_cause, wrong_world};
use std::sync::Arc;
use tributary_core::connector::Payload;
use tributary_core::{Error, Object};
use tributary_plugin::{InstanceContext, LoadRequest, Pulled, SourceArtifact, SourceInstance};
use wasmtime::component::ResourceAny;
use wasmtime::Store;

pub struct WasmSource {
    name: String,
    engine: Arc<WasmEngine>,
    pre: SourcePluginPre<HostState>,
    caps: Capabilities,
}

impl WasmSource {
    /// Compiles and links a source plugin; every failure names the file.
    pub fn load(
        engine: &Arc<WasmEngine>,
        req: &LoadRequest<'_>,
        caps: Capabilities,
    ) -> Result<Self, Error> {
        let pre = SourcePluginPre::new(engine.compile(req.path)?)
            .map_err(|e| wrong_world(req.path, "source", &e))?;
        Ok(WasmSource {
            name: req.name.to_string(),
            engine: engine.clone(),
            pre,
            caps,
        })
    }
}

impl SourceArtifact for WasmSource {
    fn open(
        &self,
        ctx: &InstanceContext,
        datasource: &str,
        props: &str,
    ) -> Result<Box<dyn SourceInstance>, String> {
        let name = &self.name;
        let mut store = self
            .engine
            .new_store(ctx, &self.caps)
            .map_err(|e| format!("plugin {name}: {e}"))?;
        let bindings = self
            .pre
            .instantiate(&mut store)
            .map_err(|e| format!("plugin {name}: instantiation failed: {}", root_cause(&e)))?;
        let api = bindings.tributary_plugin_source().instance();
        let resource = api
            .call_constructor(&mut store, datasource, props)
            .map_err(|e| format!("plugin {name}: constructor failed: {}", root_cause(&e)))?;
        self.engine.arm_deadline(&mut store, None);
        api.call_open(&mut store, resource)
            .map_err(|e| format!("plugin {name}: open failed: {}", root_cause(&e)))?
            .map_err(|e| format!("plugin {name}: open: {e}"))?;
        Ok(Box::new(Live {
            name: name.clone(),
            engine: self.engine.clone(),
            store,
            bindings,
            resource,
        }))
    }
}

struct Live {
    name: String,
    engine: Arc<WasmEngine>,
    store: Store<HostState>,
    bindings: SourcePlugin,
    resource: ResourceAny,
}

fn fields_to_object(fields: Vec<crate::bindings::types_api::Field>) -> Result<Object, String> {
    fields
        .into_iter()
        .map(|f| from_wit(f.value).map(|v| (f.name, v)))
        .collect()
}

impl SourceInstance for Live {
    fn pull(&mut self, max: u32) -> Result<Pulled, String> {
        let name = &self.name;
        self.engine.arm_deadline(&mut self.store, None);
        let pulled = self
            .bindings
            .tributary_plugin_source()
            .instance()
            .call_pull(&mut self.store, self.resource, max)
            .map_err(|e| format!("plugin {name} failed: {}", root_cause(&e)))?
            .map_err(|e| format!("plugin {name}: {e}"))?;
        let mut messages = Vec::with_capacity(pulled.messages.len());
        for m in pulled.messages {
            let payload = match m.payload {
                source_api::Payload::Fields(f) => Payload::Object(Arc::new(fields_to_object(f)?)),
                source_api::Payload::Bytes(b) => Payload::Bytes(b),
            };
            messages.push((payload, fields_to_object(m.meta)?));
        }
        Ok(Pulled {
            messages,
            done: pulled.done,
            wait_ms: pulled.wait_ms,
        })
    }

    fn close(&mut self) {
        self.engine.arm_deadline(&mut self.store, None);
        let _ = self
            .bindings
            .tributary_plugin_source()
            .instance()
            .call_close(&mut self.store, self.resource);
    }
}
