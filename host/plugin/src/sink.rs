//! Plugin sinks of any tier, as action types.
//!
//! Each rule action gets its own instance (its own state scope), opened when the rule
//! starts (or, if that failed, at the next delivery). A failed delivery discards the
//! instance; the engine's sink runner retries and counts, and the retry opens a fresh
//! one.

use crate::bridge;
use crate::cell::VersionCell;
use crate::connector::props_json;
use crate::tier::{InstanceContext, SinkArtifact, SinkInstance};
use std::sync::Arc;
use std::time::Instant;
use tributary_core::connector::{BoxFuture, ConnectorContext, Props, Sink, SinkData, SinkFactory};
use tributary_core::Error;

/// The version of a sink plugin.
pub type SinkCell = VersionCell<dyn SinkArtifact>;

/// A sink plugin registered as the action type named after it.
pub type PluginSinkFactory = crate::connector::ConnectorPlugin<dyn SinkArtifact>;

impl SinkFactory for PluginSinkFactory {
    fn kind(&self) -> &str {
        self.name()
    }

    fn create(&self, props: &Props, ctx: &ConnectorContext) -> Result<Box<dyn Sink>, Error> {
        Ok(Box::new(PluginSink {
            core: Arc::new(Core {
                version: self.cell.current(),
                instance: self.instance(ctx, "sink"),
                props: props_json(props),
            }),
            live: None,
        }))
    }
}

struct Core {
    version: Arc<dyn SinkArtifact>,
    instance: InstanceContext,
    props: String,
}

struct PluginSink {
    core: Arc<Core>,
    live: Option<Box<dyn SinkInstance>>,
}

impl PluginSink {
    /// Runs `f` on the live instance, opening one first if there is none; the
    /// instance is kept when `f` succeeds and discarded when it fails.
    async fn with_live(
        &mut self,
        f: impl FnOnce(&mut dyn SinkInstance, &Core) -> Result<(), String> + Send + 'static,
    ) -> Result<(), Error> {
        let core = self.core.clone();
        let live = self.live.take();
        let (live, result) = bridge::call_async(move || {
            let mut live = match live {
                Some(l) => l,
                None => match core.version.open(&core.instance, &core.props) {
                    Ok(l) => l,
                    Err(e) => return (None, Err(e)),
                },
            };
            match f(live.as_mut(), &core) {
                Ok(()) => (Some(live), Ok(())),
                Err(e) => (None, Err(e)),
            }
        })
        .await;
        self.live = live;
        result.map_err(Error::external)
    }
}

impl Sink for PluginSink {
    /// Opens the instance when the rule starts (the plugin's constructor and `open`),
    /// so bad props and connection status show before the first row.
    fn open(&mut self) -> BoxFuture<'_, Result<(), Error>> {
        Box::pin(self.with_live(|_, _| Ok(())))
    }

    fn collect<'a>(&'a mut self, data: &'a SinkData) -> BoxFuture<'a, Result<(), Error>> {
        let rows = data.plugin_rows();
        Box::pin(self.with_live(move |live, core| {
            let began = Instant::now();
            let r = live.collect(&rows);
            let m = &core.instance.metrics;
            m.call(rows.len(), began);
            // A fault discards the instance; the next delivery opens a new one.
            if r.is_err() {
                m.add_errors(rows.len());
                m.restarted();
            }
            r
        }))
    }

    fn close(&mut self) -> BoxFuture<'_, Result<(), Error>> {
        Box::pin(async move {
            let Some(mut live) = self.live.take() else {
                return Ok(());
            };
            bridge::call_async(move || live.close())
                .await
                .map_err(Error::external)
        })
    }
}
