//! Sink plugins: a component exporting `tributary:plugin/sink`, as an action type.
//! Delivery, retries and the thread a call runs on are the plugin host's; this is
//! the open, collect and close calls.

use crate::bindings::sink_world::{SinkPlugin, SinkPluginPre};
use crate::bindings::types_api;
use crate::capabilities::Capabilities;
use crate::convert::to_wit;
use crate::engine::WasmEngine;
use crate::host::HostState;
use crate::trap::{root_cause, wrong_world};
use std::sync::Arc;
use tributary_core::Error;
use tributary_plugin::{InstanceContext, LoadRequest, SinkArtifact, SinkInstance, SinkRows};
use wasmtime::component::ResourceAny;
use wasmtime::Store;

pub struct WasmSink {
    name: String,
    engine: Arc<WasmEngine>,
    pre: SinkPluginPre<HostState>,
    caps: Capabilities,
}

impl WasmSink {
    /// Compiles and links a sink plugin; every failure names the file.
    pub fn load(
        engine: &Arc<WasmEngine>,
        req: &LoadRequest<'_>,
        caps: Capabilities,
    ) -> Result<Self, Error> {
        let pre = SinkPluginPre::new(engine.compile(req.path)?)
            .map_err(|e| wrong_world(req.path, "sink", &e))?;
        Ok(WasmSink {
            name: req.name.to_string(),
            engine: engine.clone(),
            pre,
            caps,
        })
    }
}

impl SinkArtifact for WasmSink {
    fn open(&self, ctx: &InstanceContext, props: &str) -> Result<Box<dyn SinkInstance>, String> {
        let name = &self.name;
        let mut store = self
            .engine
            .new_store(ctx, &self.caps)
            .map_err(|e| format!("plugin {name}: {e}"))?;
        let bindings = self
            .pre
            .instantiate(&mut store)
            .map_err(|e| format!("plugin {name}: instantiation failed: {}", root_cause(&e)))?;
        let api = bindings.tributary_plugin_sink().instance();
        let resource = api
            .call_constructor(&mut store, props)
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
    bindings: SinkPlugin,
    resource: ResourceAny,
}

impl SinkInstance for Live {
    fn collect(&mut self, rows: &SinkRows) -> Result<(), String> {
        let rows: Vec<Vec<types_api::Field>> = rows
            .iter()
            .map(|r| {
                r.iter()
                    .map(|(k, v)| types_api::Field {
                        name: k.to_string(),
                        value: to_wit(v),
                    })
                    .collect()
            })
            .collect();
        self.engine.arm_deadline(&mut self.store, None);
        self.bindings
            .tributary_plugin_sink()
            .instance()
            .call_collect(&mut self.store, self.resource, &rows)
            .map_err(|e| format!("plugin {} failed: {}", self.name, root_cause(&e)))?
            .map_err(|e| format!("plugin {}: {e}", self.name))
    }

    fn close(&mut self) -> Result<(), String> {
        self.engine.arm_deadline(&mut self.store, None);
        self.bindings
            .tributary_plugin_sink()
            .instance()
            .call_close(&mut self.store, self.resource)
            .map_err(|e| format!("plugin {} failed: {}", self.name, root_cause(&e)))?
            .map_err(|e| format!("plugin {}: close: {e}", self.name))
    }
}
