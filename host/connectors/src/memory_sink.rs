//! The memory sink: publishes each emitted row to a memory topic, for memory sources
//! (rule pipelines) to consume.
//!
//! Rows are published in the engine's value model, not encoded, so `format` is
//! ignored as in eKuiper. A `dataTemplate` must render a JSON object. With
//! `rowkindField` (and the then required `keyField`) the sink is updatable: each row
//! carries its verb (insert, update, delete, upsert; upsert when the field is absent)
//! and its key.

use crate::memory::{validate_publish_topic, MemoryHub, MemoryMessage, MemoryRow, RowKind};
use crate::props::PropReader;
use std::sync::Arc;
use tributary_core::connector::{BoxFuture, ConnectorContext, Props, Sink, SinkData};
use tributary_core::{Clock, Error, Meta, Object, Result, Row, Value};

#[derive(Debug)]
pub struct MemorySink {
    hub: MemoryHub,
    topic: Arc<str>,
    rowkind_field: Option<String>,
    key_field: Option<String>,
    clock: Arc<dyn Clock>,
}

impl MemorySink {
    /// Props: `topic` (required, no wildcards), `rowkindField`, `keyField`.
    pub fn new(props: &Props, ctx: &ConnectorContext, hub: &MemoryHub) -> Result<Self> {
        let reader = PropReader::new(props, "memory sink");
        let topic = reader
            .string("topic")?
            .ok_or_else(|| reader.missing("topic"))?;
        if topic.contains("{{") {
            return Err(reader.rejected(
                "topic",
                "dynamic topics (templates) are not supported by the built-in memory sink",
            ));
        }
        validate_publish_topic(&topic).map_err(|e| reader.rejected("topic", e))?;
        let rowkind_field = reader.string("rowkindField")?.filter(|s| !s.is_empty());
        let key_field = reader.string("keyField")?.filter(|s| !s.is_empty());
        if rowkind_field.is_some() && key_field.is_none() {
            return Err(reader.rejected("keyField", "is required when rowkindField is set"));
        }
        Ok(MemorySink {
            hub: hub.clone(),
            topic: Arc::from(topic),
            rowkind_field,
            key_field,
            clock: ctx.clock.clone(),
        })
    }

    /// The rows of one emission; rows stay rows.
    fn rows(&self, data: &SinkData) -> Result<Vec<Row>> {
        match data {
            SinkData::Row(r) => return Ok(vec![r.clone()]),
            SinkData::Rows(rs) => return Ok(rs.as_slice().to_vec()),
            _ => {}
        }
        let to_row = |o: &Object| Row::from_object(o, Meta::default(), 0);
        let value = match data {
            SinkData::Text(t) => tributary_core::json::parse(t).map_err(|e| {
                Error::user(format!(
                    "memory sink: the data template must render a JSON object, got {t:?}: {}",
                    crate::format::json_error(e)
                ))
            })?,
            structured => structured.to_value(),
        };
        match value {
            Value::Object(o) => Ok(vec![to_row(&o)]),
            Value::Array(items) if data.is_structured() => items
                .iter()
                .map(|item| match item {
                    Value::Object(o) => Ok(to_row(o)),
                    other => Err(Error::user(format!(
                        "memory sink: each row must be an object, got {}",
                        other.describe()
                    ))),
                })
                .collect(),
            other => Err(Error::user(format!(
                "memory sink: the data must be an object, got {}",
                other.type_name()
            ))),
        }
    }

    /// Attaches verb and key for an updatable sink.
    fn wrap(&self, data: Row) -> Result<MemoryRow> {
        let mut row = MemoryRow::from_row(data);
        if let (Some(kind_field), Some(key_field)) = (&self.rowkind_field, &self.key_field) {
            let kind = match row.data.get(kind_field) {
                None | Some(Value::Null) => RowKind::Upsert,
                Some(Value::String(s)) => {
                    RowKind::parse(s).ok_or_else(|| Error::user(format!("invalid rowkind {s}")))?
                }
                Some(other) => {
                    return Err(Error::user(format!(
                        "rowkind field {kind_field} is not a string: {}",
                        other.describe()
                    )))
                }
            };
            let key =
                row.data.get(key_field).cloned().ok_or_else(|| {
                    Error::user(format!("key field {key_field} not found in data"))
                })?;
            row.rowkind = Some(kind);
            row.key = Some(key);
        }
        Ok(row)
    }
}

impl Sink for MemorySink {
    /// Publishes the emission as one publication; waits while a subscriber's queue is
    /// full (see [`crate::memory`]).
    fn collect<'a>(&'a mut self, data: &'a SinkData) -> BoxFuture<'a, Result<()>> {
        Box::pin(async move {
            let rows = self
                .rows(data)?
                .into_iter()
                .map(|o| self.wrap(o))
                .collect::<Result<Vec<_>>>()?;
            if rows.is_empty() {
                return Ok(());
            }
            let msg = MemoryMessage {
                topic: self.topic.clone(),
                rows: Arc::new(rows),
                timestamp: self.clock.now_ms(),
            };
            self.hub.publish(msg).await;
            Ok(())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tributary_core::MockClock;

    fn ctx() -> ConnectorContext {
        ConnectorContext {
            rule_id: "r1".into(),
            root: std::path::PathBuf::from("."),
            clock: Arc::new(MockClock::new(7)),
            connection: Default::default(),
        }
    }

    fn props(pairs: &[(&str, &str)]) -> Props {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), Value::str(v)))
            .collect()
    }

    fn obj(json: &str) -> Value {
        tributary_core::json::parse(json).expect("json")
    }

    #[tokio::test]
    async fn publishes_rows_and_templates() {
        let hub = MemoryHub::new();
        let mut sub = hub.subscribe("out/#", 8).expect("sub");
        let mut sink = MemorySink::new(&props(&[("topic", "out/a")]), &ctx(), &hub).expect("sink");
        sink.collect(&SinkData::Value(obj(r#"[{"a":1},{"a":2}]"#)))
            .await
            .expect("rows");
        sink.collect(&SinkData::Text(r#"{"t":"x"}"#.into()))
            .await
            .expect("template");
        let first = sub.recv().await.expect("first");
        assert_eq!(&*first.topic, "out/a");
        assert_eq!(first.timestamp, 7);
        assert_eq!(first.rows.len(), 2);
        let second = sub.recv().await.expect("second");
        assert_eq!(second.rows[0].data.get("t"), Some(&Value::str("x")));

        let err = sink
            .collect(&SinkData::Text("[1]".into()))
            .await
            .expect_err("array template");
        assert!(err.to_string().contains("must be an object"), "{err}");
    }

    #[tokio::test]
    async fn updatable_rows_carry_kind_and_key() {
        let hub = MemoryHub::new();
        let mut sub = hub.subscribe("t", 8).expect("sub");
        let p = props(&[
            ("topic", "t"),
            ("rowkindField", "action"),
            ("keyField", "id"),
        ]);
        let mut sink = MemorySink::new(&p, &ctx(), &hub).expect("sink");
        sink.collect(&SinkData::Value(obj(r#"{"id":1,"action":"delete"}"#)))
            .await
            .expect("delete");
        let got = sub.recv().await.expect("msg");
        assert_eq!(got.rows[0].rowkind, Some(RowKind::Delete));
        assert_eq!(got.rows[0].key, Some(Value::Int(1)));
        let err = sink
            .collect(&SinkData::Value(obj(r#"{"id":1,"action":"merge"}"#)))
            .await
            .expect_err("bad kind");
        assert_eq!(err.to_string(), "invalid rowkind merge");
    }

    #[test]
    fn bad_props_are_named() {
        let hub = MemoryHub::new();
        let err = MemorySink::new(&Props::new(), &ctx(), &hub).expect_err("no topic");
        assert_eq!(err.to_string(), "missing property \"topic\" of memory sink");
        let err = MemorySink::new(&props(&[("topic", "a/#")]), &ctx(), &hub).expect_err("wild");
        assert!(err.to_string().contains("wildcard found"), "{err}");
        let err = MemorySink::new(
            &props(&[("topic", "a"), ("rowkindField", "k")]),
            &ctx(),
            &hub,
        )
        .expect_err("key");
        assert!(err.to_string().contains("\"keyField\""), "{err}");
    }
}
