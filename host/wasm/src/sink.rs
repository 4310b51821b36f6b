//! Wasm sinks: a component exporting `tributary:plugin/sink`, as an action type.
//!
//! Each rule action gets its own instance (its own store and state scope). Calls run
//! on blocking threads; a trap or an error fails that delivery, which the engine's
//! sink runner retries and counts, and the faulted instance is re-created on the next
//! delivery.

use crate::bindings::sink_world::{SinkPlugin, SinkPluginPre};
use crate::bindings::types_api;
use crate::capabilities::Capabilities;
use crate::convert::to_wit;
use crate::engine::WasmEngine;
use crate::host::{HostState, InstanceInfo};
use crate::plugin::root_cause;
use std::path::Path;
use std::sync::Arc;
use tributary_core::connector::{BoxFuture, ConnectorContext, Props, Sink, SinkData, SinkFactory};
use tributary_core::state::StateStore;
use tributary_core::{json, Error, Object, Value};
use wasmtime::component::ResourceAny;
use wasmtime::Store;

pub struct WasmSinkPlugin {
    pub name: String,
    pub version: String,
    engine: Arc<WasmEngine>,
    pre: SinkPluginPre<HostState>,
    /// What its instances may use and their limits.
    caps: Capabilities,
}

impl WasmSinkPlugin {
    /// Compiles and links a sink plugin; every failure names the file.
    pub fn load(
        engine: &Arc<WasmEngine>,
        name: &str,
        version: &str,
        path: &Path,
        caps: Capabilities,
    ) -> Result<Self, Error> {
        let pre = engine.compile(path)?;
        let pre =
            SinkPluginPre::new(pre).map_err(|e| crate::plugin::wrong_world(path, "sink", &e))?;
        Ok(WasmSinkPlugin {
            name: name.to_string(),
            version: version.to_string(),
            engine: engine.clone(),
            pre,
            caps,
        })
    }
}

pub struct WasmSinkFactory {
    plugin: Arc<WasmSinkPlugin>,
    state: Arc<dyn StateStore>,
}

impl WasmSinkFactory {
    pub fn new(plugin: Arc<WasmSinkPlugin>, state: Arc<dyn StateStore>) -> Self {
        WasmSinkFactory { plugin, state }
    }
}

impl SinkFactory for WasmSinkFactory {
    fn kind(&self) -> &str {
        &self.plugin.name
    }

    fn create(&self, props: &Props, ctx: &ConnectorContext) -> Result<Box<dyn Sink>, Error> {
        let obj: Object = props.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
        Ok(Box::new(WasmSink {
            core: Arc::new(SinkCore {
                plugin: self.plugin.clone(),
                state: self.state.clone(),
                props: json::to_json_string(&Value::object(obj)),
                rule_id: ctx.rule_id.clone(),
            }),
            live: None,
        }))
    }
}

struct SinkCore {
    plugin: Arc<WasmSinkPlugin>,
    state: Arc<dyn StateStore>,
    props: String,
    rule_id: String,
}

struct Live {
    store: Store<HostState>,
    bindings: SinkPlugin,
    resource: ResourceAny,
}

impl SinkCore {
    fn open(&self) -> Result<Live, String> {
        let p = &self.plugin;
        let (info, scope) =
            InstanceInfo::connector(&p.name, &self.rule_id, "sink", &p.caps.etc_dir);
        let mut store = p
            .engine
            .new_store(info, scope, self.state.clone(), &p.caps)
            .map_err(|e| format!("plugin {}: {e}", p.name))?;
        let bindings = p.pre.instantiate(&mut store).map_err(|e| {
            format!(
                "plugin {}: instantiation failed: {}",
                p.name,
                root_cause(&e)
            )
        })?;
        let api = bindings.tributary_plugin_sink().instance();
        let resource = api
            .call_constructor(&mut store, &self.props)
            .map_err(|e| format!("plugin {}: constructor failed: {}", p.name, root_cause(&e)))?;
        p.engine.arm_deadline(&mut store);
        api.call_open(&mut store, resource)
            .map_err(|e| format!("plugin {}: open failed: {}", p.name, root_cause(&e)))?
            .map_err(|e| format!("plugin {}: open: {e}", p.name))?;
        Ok(Live {
            store,
            bindings,
            resource,
        })
    }

    fn collect(&self, live: &mut Live, rows: &[Vec<types_api::Field>]) -> Result<(), String> {
        self.plugin.engine.arm_deadline(&mut live.store);
        live.bindings
            .tributary_plugin_sink()
            .instance()
            .call_collect(&mut live.store, live.resource, rows)
            .map_err(|e| format!("plugin {} failed: {}", self.plugin.name, root_cause(&e)))?
            .map_err(|e| format!("plugin {}: {e}", self.plugin.name))
    }
}

/// What a sink plugin receives (the rows every tier gets, `SinkData::plugin_rows`), as
/// WIT fields.
fn to_rows(data: &SinkData) -> Vec<Vec<types_api::Field>> {
    data.plugin_rows()
        .iter()
        .map(|r| {
            r.iter()
                .map(|(k, v)| types_api::Field {
                    name: k.to_string(),
                    value: to_wit(v),
                })
                .collect()
        })
        .collect()
}

pub struct WasmSink {
    core: Arc<SinkCore>,
    live: Option<Live>,
}

impl Sink for WasmSink {
    fn collect<'a>(&'a mut self, data: &'a SinkData) -> BoxFuture<'a, Result<(), Error>> {
        let rows = to_rows(data);
        Box::pin(async move {
            let core = self.core.clone();
            let live = self.live.take();
            let (live, result) = tokio::task::spawn_blocking(move || {
                let mut live = match live {
                    Some(l) => l,
                    None => match core.open() {
                        Ok(l) => l,
                        Err(e) => return (None, Err(e)),
                    },
                };
                match core.collect(&mut live, &rows) {
                    Ok(()) => (Some(live), Ok(())),
                    // A fault discards the instance; the next delivery opens a new one.
                    Err(e) => (None, Err(e)),
                }
            })
            .await
            .map_err(|e| Error::internal(format!("wasm sink task: {e}")))?;
            self.live = live;
            result.map_err(Error::external)
        })
    }

    fn close(&mut self) -> BoxFuture<'_, Result<(), Error>> {
        Box::pin(async move {
            let Some(mut live) = self.live.take() else {
                return Ok(());
            };
            let core = self.core.clone();
            tokio::task::spawn_blocking(move || {
                core.plugin.engine.arm_deadline(&mut live.store);
                live.bindings
                    .tributary_plugin_sink()
                    .instance()
                    .call_close(&mut live.store, live.resource)
                    .map_err(|e| format!("plugin {} failed: {}", core.plugin.name, root_cause(&e)))?
                    .map_err(|e| format!("plugin {}: close: {e}", core.plugin.name))
            })
            .await
            .map_err(|e| Error::internal(format!("wasm sink task: {e}")))?
            .map_err(Error::external)
        })
    }
}
