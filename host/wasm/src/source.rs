//! Wasm sources: a component exporting `tributary:plugin/source`, as a stream `TYPE`.
//!
//! The host pulls batches (up to 1024 messages) and waits as the component asks
//! between pulls; every wasm call runs on a blocking thread, so a slow or spinning
//! plugin never stalls the async workers. A trap or an error ends the source with an
//! error, and the rule's `restartStrategy` decides what happens next.

use crate::bindings::source_world::{source_api, SourcePlugin, SourcePluginPre};
use crate::capabilities::Capabilities;
use crate::convert::from_wit;
use crate::engine::WasmEngine;
use crate::host::{HostState, InstanceInfo};
use crate::plugin::root_cause;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use tributary_core::connector::{
    BoxFuture, ConnectorContext, Payload, Props, Source, SourceFactory, SourceMessage, SourceSender,
};
use tributary_core::state::StateStore;
use tributary_core::{json, Error, Object, Value};
use wasmtime::component::ResourceAny;
use wasmtime::Store;

/// The most messages asked for in one pull.
const PULL_MAX: u32 = 1024;

pub struct WasmSourcePlugin {
    pub name: String,
    pub version: String,
    pub path: PathBuf,
    engine: Arc<WasmEngine>,
    pre: SourcePluginPre<HostState>,
    /// What its instances may use and their limits.
    caps: Capabilities,
}

impl WasmSourcePlugin {
    /// Compiles and links a source plugin; every failure names the file.
    pub fn load(
        engine: &Arc<WasmEngine>,
        name: &str,
        version: &str,
        path: &Path,
        caps: Capabilities,
    ) -> Result<Self, Error> {
        let pre = engine.compile(path)?;
        let pre = SourcePluginPre::new(pre)
            .map_err(|e| crate::plugin::wrong_world(path, "source", &e))?;
        Ok(WasmSourcePlugin {
            name: name.to_string(),
            version: version.to_string(),
            path: path.to_path_buf(),
            engine: engine.clone(),
            pre,
            caps,
        })
    }
}

/// Registers a source plugin as the stream type named after it.
pub struct WasmSourceFactory {
    plugin: Arc<WasmSourcePlugin>,
    state: Arc<dyn StateStore>,
}

impl WasmSourceFactory {
    pub fn new(plugin: Arc<WasmSourcePlugin>, state: Arc<dyn StateStore>) -> Self {
        WasmSourceFactory { plugin, state }
    }
}

impl SourceFactory for WasmSourceFactory {
    fn kind(&self) -> &str {
        &self.plugin.name
    }

    fn create(
        &self,
        datasource: &str,
        props: &Props,
        ctx: &ConnectorContext,
    ) -> Result<Box<dyn Source>, Error> {
        let obj: Object = props.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
        Ok(Box::new(WasmSource {
            plugin: self.plugin.clone(),
            state: self.state.clone(),
            datasource: datasource.to_string(),
            props: json::to_json_string(&Value::object(obj)),
            ctx: ctx.clone(),
        }))
    }
}

struct WasmSource {
    plugin: Arc<WasmSourcePlugin>,
    state: Arc<dyn StateStore>,
    datasource: String,
    props: String,
    ctx: ConnectorContext,
}

struct Live {
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

impl WasmSource {
    fn open(&self) -> Result<Live, String> {
        let p = &self.plugin;
        let (info, scope) =
            InstanceInfo::connector(&p.name, &self.ctx.rule_id, "source", &p.caps.etc_dir);
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
        let api = bindings.tributary_plugin_source().instance();
        let resource = api
            .call_constructor(&mut store, &self.datasource, &self.props)
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

    /// One pull: the messages (stamped now), whether the input ended, the wait.
    fn pull(&self, live: &mut Live) -> Result<(Vec<SourceMessage>, bool, u32), String> {
        let p = &self.plugin;
        p.engine.arm_deadline(&mut live.store);
        let pulled = live
            .bindings
            .tributary_plugin_source()
            .instance()
            .call_pull(&mut live.store, live.resource, PULL_MAX)
            .map_err(|e| format!("plugin {} failed: {}", p.name, root_cause(&e)))?
            .map_err(|e| format!("plugin {}: {e}", p.name))?;
        let now = self.ctx.clock.now_ms();
        let mut out = Vec::with_capacity(pulled.messages.len());
        for m in pulled.messages {
            let payload = match m.payload {
                source_api::Payload::Fields(f) => Payload::Object(Arc::new(fields_to_object(f)?)),
                source_api::Payload::Bytes(b) => Payload::Bytes(b),
            };
            out.push(SourceMessage {
                payload,
                meta: Arc::new(fields_to_object(m.meta)?),
                timestamp: now,
                stream: 0,
            });
        }
        Ok((out, pulled.done, pulled.wait_ms))
    }
}

impl Source for WasmSource {
    fn run(self: Box<Self>, out: SourceSender) -> BoxFuture<'static, Result<(), Error>> {
        Box::pin(async move {
            let this = Arc::new(*self);
            let t = this.clone();
            let mut live = tokio::task::spawn_blocking(move || t.open())
                .await
                .map_err(|e| Error::internal(format!("wasm source task: {e}")))?
                .map_err(Error::external)?;
            loop {
                let t = this.clone();
                let (l, result) = tokio::task::spawn_blocking(move || {
                    let r = t.pull(&mut live);
                    (live, r)
                })
                .await
                .map_err(|e| Error::internal(format!("wasm source task: {e}")))?;
                live = l;
                let (messages, done, wait_ms) = result.map_err(Error::external)?;
                if !out.send(messages).await {
                    break;
                }
                if done {
                    break;
                }
                if wait_ms > 0 {
                    tokio::time::sleep(Duration::from_millis(u64::from(wait_ms))).await;
                }
            }
            let t = this.clone();
            let _ = tokio::task::spawn_blocking(move || {
                let p = &t.plugin;
                p.engine.arm_deadline(&mut live.store);
                let _ = live
                    .bindings
                    .tributary_plugin_source()
                    .instance()
                    .call_close(&mut live.store, live.resource);
            })
            .await;
            Ok(())
        })
    }
}
