//! The memory source: subscribes to a memory topic (DATASOURCE, wildcards allowed)
//! and hands each published row to the rule as an already structured message.
//!
//! Rows travel in the engine's own value model, so the stream's FORMAT is ignored, as
//! in eKuiper. Each message carries meta `{"topic": <published topic>}`; rows from an
//! updatable sink also carry `rowkind` and `key` in meta.

use crate::memory::{MemoryHub, MemoryMessage, MemoryRow, Subscription, DEFAULT_BUFFER_LENGTH};
use crate::props::PropReader;
use std::sync::Arc;
use tributary_core::connector::{
    BoxFuture, ConnectorContext, Payload, Props, Source, SourceMessage, SourceSender,
};
use tributary_core::{Clock, Error, Meta, Object, Result, Value};

/// A subscription to one topic filter. It subscribes when created, not when run, so
/// nothing published between creating a rule and starting it is lost.
#[derive(Debug)]
pub struct MemorySource {
    sub: Subscription,
    clock: Arc<dyn Clock>,
}

impl MemorySource {
    /// Props: `bufferLength` (publications queued before publishers wait, default
    /// 1024).
    pub fn new(
        topic: &str,
        props: &Props,
        ctx: &ConnectorContext,
        hub: &MemoryHub,
    ) -> Result<Self> {
        let reader = PropReader::new(props, "memory source");
        if topic.is_empty() {
            return Err(Error::user(
                "memory source needs a topic: set DATASOURCE to the memory topic",
            ));
        }
        let buffer = match reader.non_negative("bufferLength")? {
            Some(0) => {
                return Err(reader.rejected("bufferLength", "must be at least 1"));
            }
            Some(n) => usize::try_from(n).unwrap_or(usize::MAX),
            None => DEFAULT_BUFFER_LENGTH,
        };
        let sub = hub.subscribe(topic, buffer).map_err(Error::user)?;
        Ok(MemorySource {
            sub,
            clock: ctx.clock.clone(),
        })
    }
}

/// Turns one publication into source messages, stamped with the receive time. When
/// this subscriber is the publication's only holder, the rows are moved, not shared.
fn to_messages(msg: MemoryMessage, now: i64) -> Vec<SourceMessage> {
    let mut base = Object::new();
    base.insert("topic".to_string(), Value::str(&*msg.topic));
    let shared: Meta = Arc::new(base.clone());
    let rows: Vec<MemoryRow> = Arc::try_unwrap(msg.rows).unwrap_or_else(|shared| (*shared).clone());
    rows.into_iter()
        .map(|row| {
            let meta = match (&row.rowkind, &row.key) {
                (None, None) => shared.clone(),
                (kind, key) => {
                    let mut m = base.clone();
                    if let Some(kind) = kind {
                        m.insert("rowkind".to_string(), Value::str(kind.as_str()));
                    }
                    if let Some(key) = key {
                        m.insert("key".to_string(), key.clone());
                    }
                    Arc::new(m)
                }
            };
            SourceMessage {
                payload: Payload::Row(row.data),
                meta,
                timestamp: now,
                stream: 0,
                position: None,
            }
        })
        .collect()
}

impl Source for MemorySource {
    /// Runs until the rule stops listening (noticed at the next publication) or the
    /// task is aborted; a memory topic never ends on its own.
    fn run(self: Box<Self>, out: SourceSender) -> BoxFuture<'static, Result<()>> {
        let MemorySource { mut sub, clock } = *self;
        Box::pin(async move {
            while let Some(msg) = sub.recv().await {
                let batch = to_messages(msg, clock.now_ms());
                if !out.send(batch).await {
                    break;
                }
            }
            Ok(())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::memory::{MemoryRow, RowKind};
    use tokio::sync::mpsc;
    use tributary_core::MockClock;

    fn ctx() -> ConnectorContext {
        ConnectorContext {
            rule_id: "r1".into(),
            root: std::path::PathBuf::from("."),
            clock: Arc::new(MockClock::new(5_000)),
            connection: Default::default(),
        }
    }

    fn row(n: i64) -> MemoryRow {
        let mut o = Object::new();
        o.insert("n".into(), Value::Int(n));
        MemoryRow::new(o)
    }

    #[tokio::test]
    async fn receives_wildcard_topics_with_meta() {
        let hub = MemoryHub::new();
        let src = MemorySource::new("sensors/+", &Props::new(), &ctx(), &hub).expect("source");
        let (tx, mut rx) = mpsc::channel(4);
        let task = tokio::spawn(Box::new(src).run(SourceSender::new(tx)));
        let mut updatable = row(2);
        updatable.rowkind = Some(RowKind::Delete);
        updatable.key = Some(Value::Int(2));
        let delivered = hub
            .publish(MemoryMessage {
                topic: Arc::from("sensors/a"),
                rows: Arc::new(vec![row(1), updatable]),
                timestamp: 0,
            })
            .await;
        assert_eq!(delivered, 1);
        let batch = rx.recv().await.expect("batch");
        assert_eq!(batch.len(), 2);
        assert_eq!(batch[0].timestamp, 5_000);
        assert_eq!(batch[0].meta.get("topic"), Some(&Value::str("sensors/a")));
        assert_eq!(batch[1].meta.get("rowkind"), Some(&Value::str("delete")));
        // Stopping the rule: the source returns at the next publication.
        drop(rx);
        hub.publish(MemoryMessage {
            topic: Arc::from("sensors/b"),
            rows: Arc::new(vec![row(3)]),
            timestamp: 0,
        })
        .await;
        task.await.expect("join").expect("run");
        assert_eq!(hub.subscriber_count(), 0);
    }

    #[test]
    fn empty_topic_and_bad_buffer_are_errors() {
        let hub = MemoryHub::new();
        let err = MemorySource::new("", &Props::new(), &ctx(), &hub).expect_err("topic");
        assert!(err.to_string().contains("DATASOURCE"), "{err}");
        let mut props = Props::new();
        props.insert("bufferLength".into(), Value::str("lots"));
        let err = MemorySource::new("t", &props, &ctx(), &hub).expect_err("buffer");
        assert!(err.to_string().contains("\"bufferLength\""), "{err}");
    }
}
