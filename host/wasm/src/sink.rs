//! Sink plugins: a component exporting `tributary:plugin/sink`, as an action type.
//! Delivery, retries and the thread a call runs on are the plugin host's; this is
//! the open, collect and close calls.

use crate::bindings::sink_world::{SinkPlugin, SinkPluginPre};
use crate::bindings::types_api;
use crate::connector::{opened, Live, WasmConnector};
use crate::convert::to_wit;
use crate::host::HostState;
use crate::trap::root_cause;
use tributary_plugin::{InstanceContext, SinkArtifact, SinkInstance, SinkRows};

pub type WasmSink = WasmConnector<SinkPluginPre<HostState>>;

impl SinkArtifact for WasmSink {
    fn open(&self, ctx: &InstanceContext, props: &str) -> Result<Box<dyn SinkInstance>, String> {
        let mut store = self.store(ctx)?;
        let bindings = self
            .pre
            .instantiate(&mut store)
            .map_err(self.failed("instantiation"))?;
        let api = bindings.tributary_plugin_sink().instance();
        let resource = api
            .call_constructor(&mut store, props)
            .map_err(self.failed("constructor"))?;
        self.engine.arm_deadline(&mut store, None);
        opened(&self.name, api.call_open(&mut store, resource))?;
        Ok(Box::new(self.live(store, bindings, resource)))
    }
}

impl SinkInstance for Live<SinkPlugin> {
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
        self.arm();
        let api = self.bindings.tributary_plugin_sink().instance();
        let r = api.call_collect(&mut self.store, self.resource, &rows);
        r.map_err(|e| format!("plugin {} failed: {}", self.name, root_cause(&e)))?
            .map_err(|e| format!("plugin {}: {e}", self.name))
    }

    fn close(&mut self) -> Result<(), String> {
        self.arm();
        let api = self.bindings.tributary_plugin_sink().instance();
        let r = api.call_close(&mut self.store, self.resource);
        r.map_err(|e| format!("plugin {} failed: {}", self.name, root_cause(&e)))?
            .map_err(|e| format!("plugin {}: close: {e}", self.name))
    }
}
