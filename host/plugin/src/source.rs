//! Plugin sources of any tier, as stream `TYPE`s.
//!
//! The host opens an instance for the rule, pulls batches (up to [`PULL_MAX`]
//! messages), stamps them with the engine clock and waits as the plugin asks between
//! pulls. Every call goes through the bridge, so a slow or spinning plugin never
//! stalls the async workers. A failed pull ends the source with the error, and the
//! rule's `restartStrategy` decides what happens next.

use crate::bridge;
use crate::cell::VersionCell;
use crate::instance::InstanceInfo;
use crate::metrics::PluginMetrics;
use crate::tier::{InstanceContext, SourceArtifact, SourceInstance};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tributary_core::connector::{
    BoxFuture, ConnectorContext, Props, Source, SourceFactory, SourceMessage, SourceSender,
};
use tributary_core::state::StateStore;
use tributary_core::Error;

/// The most messages asked for in one pull.
pub const PULL_MAX: u32 = 1024;

/// The version of a source plugin.
pub type SourceCell = VersionCell<dyn SourceArtifact>;

/// Props as the JSON object a connector plugin receives.
pub fn props_json(props: &Props) -> String {
    let obj: tributary_core::Object = props.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
    tributary_core::json::to_json_string(&tributary_core::Value::object(obj))
}

/// A connector plugin (source or sink) as registered: the type named after it.
pub struct ConnectorPlugin<A: ?Sized> {
    pub(crate) cell: VersionCell<A>,
    plugin: String,
    root_path: String,
    state: Arc<dyn StateStore>,
    metrics: Arc<PluginMetrics>,
}

impl<A: ?Sized> ConnectorPlugin<A> {
    pub fn new(
        cell: VersionCell<A>,
        plugin: &str,
        root_path: &str,
        state: Arc<dyn StateStore>,
        metrics: Arc<PluginMetrics>,
    ) -> Self {
        ConnectorPlugin {
            cell,
            plugin: plugin.to_string(),
            root_path: root_path.to_string(),
            state,
            metrics,
        }
    }

    pub(crate) fn name(&self) -> &str {
        &self.plugin
    }

    /// The context of a rule's instance, `role` being `source` or `sink`.
    pub(crate) fn instance(&self, rule: &str, role: &str) -> InstanceContext {
        InstanceContext {
            info: InstanceInfo::connector(&self.plugin, rule, role, &self.root_path),
            state: self.state.clone(),
            metrics: self.metrics.clone(),
        }
    }
}

/// A source plugin registered as the stream type named after it.
pub type PluginSourceFactory = ConnectorPlugin<dyn SourceArtifact>;

impl SourceFactory for PluginSourceFactory {
    fn kind(&self) -> &str {
        self.name()
    }

    fn create(
        &self,
        datasource: &str,
        props: &Props,
        ctx: &ConnectorContext,
        _offset: u64,
    ) -> Result<Box<dyn Source>, Error> {
        Ok(Box::new(PluginSource {
            version: self.cell.current(),
            instance: self.instance(&ctx.rule_id, "source"),
            datasource: datasource.to_string(),
            props: props_json(props),
            ctx: ctx.clone(),
        }))
    }
}

struct PluginSource {
    version: Arc<dyn SourceArtifact>,
    instance: InstanceContext,
    datasource: String,
    props: String,
    ctx: ConnectorContext,
}

impl PluginSource {
    /// One pull: the messages (stamped now), whether the input ended, the wait.
    fn pull(
        &self,
        live: &mut dyn SourceInstance,
    ) -> Result<(Vec<SourceMessage>, bool, u32), String> {
        let began = Instant::now();
        let pulled = live.pull(PULL_MAX);
        let m = &self.instance.metrics;
        let pulled = match pulled {
            Ok(p) => p,
            Err(e) => {
                m.call(0, began);
                m.add_errors(1);
                return Err(e);
            }
        };
        m.call(pulled.messages.len(), began);
        if pulled.messages.len() > PULL_MAX as usize {
            return Err(format!(
                "plugin {}: pulled {} messages, more than the {PULL_MAX} asked for",
                self.instance.info.plugin,
                pulled.messages.len()
            ));
        }
        let now = self.ctx.clock.now_ms();
        let out = pulled
            .messages
            .into_iter()
            .map(|(payload, meta)| SourceMessage {
                payload,
                meta: Arc::new(meta),
                timestamp: now,
                stream: 0,
            })
            .collect();
        Ok((out, pulled.done, pulled.wait_ms))
    }
}

impl Source for PluginSource {
    fn run(self: Box<Self>, out: SourceSender) -> BoxFuture<'static, Result<(), Error>> {
        Box::pin(async move {
            let this = Arc::new(*self);
            let t = this.clone();
            let mut live =
                bridge::call_async(move || t.version.open(&t.instance, &t.datasource, &t.props))
                    .await
                    .map_err(Error::external)?;
            let result = loop {
                let t = this.clone();
                let (l, pulled) = bridge::call_async(move || {
                    let r = t.pull(live.as_mut());
                    (live, r)
                })
                .await;
                live = l;
                let (messages, done, wait_ms) = match pulled {
                    Ok(p) => p,
                    Err(e) => break Err(Error::external(e)),
                };
                if !out.send(messages).await || done {
                    break Ok(());
                }
                if wait_ms > 0 {
                    tokio::time::sleep(Duration::from_millis(u64::from(wait_ms))).await;
                }
            };
            bridge::call_async(move || live.close()).await;
            result
        })
    }
}
