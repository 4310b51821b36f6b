//! Source plugins: a component exporting `tributary:plugin/source`, as a stream
//! `TYPE`. The pull loop, its thread and its timing are the plugin host's; this is
//! the open, pull and close calls.

use crate::bindings::source_world::{source_api, SourcePlugin, SourcePluginPre};
use crate::connector::{opened, Live, WasmConnector};
use crate::convert::from_wit;
use crate::host::HostState;
use crate::trap::root_cause;
use std::sync::Arc;
use tributary_core::connector::Payload;
use tributary_core::Object;
use tributary_plugin::{InstanceContext, Pulled, SourceArtifact, SourceInstance};

pub type WasmSource = WasmConnector<SourcePluginPre<HostState>>;

impl SourceArtifact for WasmSource {
    fn open(
        &self,
        ctx: &InstanceContext,
        datasource: &str,
        props: &str,
    ) -> Result<Box<dyn SourceInstance>, String> {
        let mut store = self.store(ctx)?;
        let bindings = self
            .pre
            .instantiate(&mut store)
            .map_err(self.failed("instantiation"))?;
        let api = bindings.tributary_plugin_source().instance();
        let resource = api
            .call_constructor(&mut store, datasource, props)
            .map_err(self.failed("constructor"))?;
        self.engine.arm_deadline(&mut store, None);
        opened(&self.name, api.call_open(&mut store, resource))?;
        Ok(Box::new(self.live(store, bindings, resource)))
    }
}

fn fields_to_object(fields: Vec<crate::bindings::types_api::Field>) -> Result<Object, String> {
    fields
        .into_iter()
        .map(|f| from_wit(f.value).map(|v| (f.name, v)))
        .collect()
}

impl SourceInstance for Live<SourcePlugin> {
    fn pull(&mut self, max: u32) -> Result<Pulled, String> {
        self.arm();
        let name = &self.name;
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
        self.arm();
        let _ = self
            .bindings
            .tributary_plugin_source()
            .instance()
            .call_close(&mut self.store, self.resource);
    }
}
