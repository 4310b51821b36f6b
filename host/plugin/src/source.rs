//! Plugin sources of any tier, as stream `TYPE`s.
//!
//! The host opens an instance for the rule, rewinds it to where a resumed rule's
//! checkpoint left it, pulls batches (up to [`PULL_MAX`] messages), stamps them with
//! the engine clock and, for a rewindable source, the source's offset after the
//! batch, and waits as the plugin asks between pulls. Every call goes through the
//! bridge, so a slow or spinning plugin never stalls the async workers. A failed
//! pull ends the source with the error, and the rule's `restartStrategy` decides
//! what happens next.

use crate::bridge;
use crate::cell::VersionCell;
use crate::connector::{props_json, ConnectorPlugin};
use crate::tier::{InstanceContext, SourceArtifact, SourceInstance};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tributary_core::connector::{
    BoxFuture, ConnectorContext, LookupSource, Props, Source, SourceFactory, SourceMessage,
    SourceSender, Start,
};
use tributary_core::Error;

/// The most messages asked for in one pull.
pub const PULL_MAX: u32 = 1024;

/// The version of a source plugin.
pub type SourceCell = VersionCell<dyn SourceArtifact>;

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
        start: &Start,
    ) -> Result<Box<dyn Source>, Error> {
        let version = self.cell.current();
        let rewindable = version.info().rewindable;
        Ok(Box::new(PluginSource {
            version,
            instance: self.instance(ctx, "source"),
            datasource: datasource.to_string(),
            props: props_json(props),
            ctx: ctx.clone(),
            rewindable,
            start: start.position.clone().filter(|_| rewindable),
        }))
    }

    fn can_lookup(&self) -> bool {
        self.cell.current().info().lookup
    }

    fn lookup(
        &self,
        datasource: &str,
        props: &Props,
        ctx: &ConnectorContext,
    ) -> Result<Box<dyn LookupSource>, Error> {
        let version = self.cell.current();
        if !version.info().lookup {
            return Err(Error::user(format!(
                "source plugin {} does not answer lookups: it cannot back a KIND=\"lookup\" table",
                self.name()
            )));
        }
        crate::lookup::PluginLookup::open(
            version,
            self.instance(ctx, "lookup"),
            datasource,
            &props_json(props),
        )
        .map(|l| Box::new(l) as Box<dyn LookupSource>)
    }
}

struct PluginSource {
    version: Arc<dyn SourceArtifact>,
    instance: InstanceContext,
    datasource: String,
    props: String,
    ctx: ConnectorContext,
    rewindable: bool,
    /// The offset to rewind to when the instance opens.
    start: Option<String>,
}

/// What one pull handed over.
struct Batch {
    messages: Vec<SourceMessage>,
    done: bool,
    wait_ms: u32,
}

impl PluginSource {
    /// Opens an instance and, when resuming, rewinds it.
    fn open(&self) -> Result<Box<dyn SourceInstance>, String> {
        let mut live = self
            .version
            .open(&self.instance, &self.datasource, &self.props)?;
        if let Some(offset) = &self.start {
            if let Err(e) = live.rewind(offset) {
                live.close();
                return Err(format!(
                    "plugin {}: cannot rewind to its checkpointed offset {offset:?}: {e}",
                    self.instance.info.plugin
                ));
            }
        }
        Ok(live)
    }

    /// One pull: the messages (stamped now, the last with the source's offset),
    /// whether the input ended, the wait.
    fn pull(&self, live: &mut dyn SourceInstance) -> Result<Batch, String> {
        let began = Instant::now();
        let m = &self.instance.metrics;
        let pulled = live.pull(PULL_MAX).inspect_err(|_| {
            m.call(0, began);
            m.add_errors(1);
        })?;
        m.call(pulled.messages.len(), began);
        let plugin = &self.instance.info.plugin;
        if pulled.messages.len() > PULL_MAX as usize {
            return Err(format!(
                "plugin {plugin}: pulled {} messages, more than the {PULL_MAX} asked for",
                pulled.messages.len()
            ));
        }
        let position = match self.rewindable && !pulled.messages.is_empty() {
            true => live
                .offset()
                .map_err(|e| format!("plugin {plugin}: offset: {e}"))?,
            false => None,
        };
        let now = self.ctx.clock.now_ms();
        let mut messages: Vec<SourceMessage> = pulled
            .messages
            .into_iter()
            .map(|(payload, meta)| SourceMessage::new(payload, Arc::new(meta), now))
            .collect();
        if let Some(last) = messages.last_mut() {
            last.position = position.map(Arc::from);
        }
        Ok(Batch {
            messages,
            done: pulled.done,
            wait_ms: pulled.wait_ms,
        })
    }
}

impl Source for PluginSource {
    fn rewindable(&self) -> bool {
        self.rewindable
    }

    fn run(self: Box<Self>, out: SourceSender) -> BoxFuture<'static, Result<(), Error>> {
        Box::pin(async move {
            let this = Arc::new(*self);
            let t = this.clone();
            let mut live = bridge::call_async(move || t.open())
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
                let batch = match pulled {
                    Ok(b) => b,
                    Err(e) => {
                        this.instance.metrics.restarted();
                        break Err(Error::external(e));
                    }
                };
                if !out.send(batch.messages).await || batch.done {
                    break Ok(());
                }
                if batch.wait_ms > 0 {
                    tokio::time::sleep(Duration::from_millis(u64::from(batch.wait_ms))).await;
                }
            };
            bridge::call_async(move || live.close()).await;
            result
        })
    }
}
