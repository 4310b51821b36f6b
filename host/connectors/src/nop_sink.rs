//! The nop sink: discards emissions (counting them), optionally logging them
//! (`log: true`), as eKuiper's `nop` action. Useful for benchmarks and for rules whose
//! only purpose is a side effect upstream.

use crate::log_sink::log_line;
use crate::props::PropReader;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use tributary_core::connector::{BoxFuture, ConnectorContext, Props, Sink, SinkData};
use tributary_core::Result;

#[derive(Debug)]
pub struct NopSink {
    rule_id: String,
    log: bool,
    count: Arc<AtomicU64>,
}

impl NopSink {
    /// Props: `log` (bool, default false).
    pub fn new(props: &Props, ctx: &ConnectorContext) -> Result<Self> {
        let r = PropReader::new(props, "nop sink");
        Ok(NopSink {
            rule_id: ctx.rule_id.clone(),
            log: r.bool("log")?.unwrap_or(false),
            count: Arc::default(),
        })
    }

    /// A shared counter of emissions received, readable after the sink is boxed.
    pub fn counter(&self) -> Arc<AtomicU64> {
        self.count.clone()
    }
}

impl Sink for NopSink {
    fn collect<'a>(&'a mut self, data: &'a SinkData) -> BoxFuture<'a, Result<()>> {
        if self.log {
            tracing::info!(target: "tributary::sink::nop", "{}", log_line(&self.rule_id, data));
        }
        self.count.fetch_add(1, Ordering::Relaxed);
        Box::pin(async { Ok(()) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tributary_core::{MockClock, Value};

    #[tokio::test]
    async fn counts_and_validates_log_prop() {
        let ctx = ConnectorContext {
            rule_id: "r".into(),
            root: ".".into(),
            clock: Arc::new(MockClock::new(0)),
            connection: Default::default(),
        };
        let mut sink = NopSink::new(&Props::new(), &ctx).expect("sink");
        let counter = sink.counter();
        for _ in 0..3 {
            sink.collect(&SinkData::Text("x".into()))
                .await
                .expect("collect");
        }
        assert_eq!(counter.load(Ordering::Relaxed), 3);
        let mut props = Props::new();
        props.insert("log".into(), Value::str("maybe"));
        let err = NopSink::new(&props, &ctx).expect_err("bad log");
        assert_eq!(
            err.to_string(),
            "invalid property \"log\" of nop sink: expected a boolean, got string(maybe)"
        );
    }
}
