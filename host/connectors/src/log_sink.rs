//! The log sink: writes each emission to the log, as eKuiper's `log` action does.

use tributary_core::connector::{BoxFuture, ConnectorContext, Sink, SinkData};
use tributary_core::Result;

#[derive(Debug)]
pub struct LogSink {
    rule_id: String,
    count: u64,
}

impl LogSink {
    /// The log sink takes no props of its own (the common sink props are applied by
    /// the engine before `collect`).
    pub fn new(ctx: &ConnectorContext) -> Self {
        LogSink {
            rule_id: ctx.rule_id.clone(),
            count: 0,
        }
    }

    /// Emissions logged so far.
    pub fn count(&self) -> u64 {
        self.count
    }
}

/// The text of the log line, eKuiper's wording.
pub fn log_line(rule_id: &str, data: &SinkData) -> String {
    format!("sink result for rule {rule_id}: {}", data.to_text())
}

impl Sink for LogSink {
    fn collect<'a>(&'a mut self, data: &'a SinkData) -> BoxFuture<'a, Result<()>> {
        let line = log_line(&self.rule_id, data);
        tracing::info!(target: "tributary::sink::log", rule = %self.rule_id, "{line}");
        self.count += 1;
        Box::pin(async { Ok(()) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use tributary_core::{MockClock, Value};

    #[tokio::test]
    async fn logs_one_line_per_emission() {
        let ctx = ConnectorContext {
            rule_id: "rule1".into(),
            root: ".".into(),
            clock: Arc::new(MockClock::new(0)),
            connection: Default::default(),
        };
        let data = SinkData::Value(tributary_core::json::parse(r#"[{"a":1}]"#).expect("json"));
        assert_eq!(
            log_line("rule1", &data),
            r#"sink result for rule rule1: [{"a":1}]"#
        );
        let mut sink = LogSink::new(&ctx);
        sink.collect(&data).await.expect("collect");
        sink.collect(&SinkData::Value(Value::Null))
            .await
            .expect("collect");
        assert_eq!(sink.count(), 2);
    }
}
