//! Shared data generators of the benches.

use std::sync::Arc;
use tributary_core::{Meta, Object, Row, Value};

/// `n` sensor rows `{id, temp, name}`; about half have `temp > 20`.
pub fn sensor_rows(n: usize) -> Vec<Object> {
    (0..n)
        .map(|i| {
            let mut o = Object::new();
            o.insert("id".to_string(), Value::Int(i as i64));
            o.insert("temp".to_string(), Value::Float((i % 40) as f64 + 0.5));
            o.insert(
                "name".to_string(),
                Value::str(format!("sensor-{}", i % 100)),
            );
            o
        })
        .collect()
}

/// The same rows as engine rows (what a memory topic carries between rules).
pub fn sensor_row_values(n: usize) -> Vec<Row> {
    let keys: [Arc<str>; 3] = [Arc::from("id"), Arc::from("temp"), Arc::from("name")];
    sensor_rows(n)
        .iter()
        .map(|o| {
            let fields = keys
                .iter()
                .map(|k| (k.clone(), o.get(&**k).cloned().unwrap_or_default()))
                .collect();
            Row::new(fields, Meta::default(), 0)
        })
        .collect()
}

/// Publishes `batches` to the memory topic `topic`, then waits (yielding) until rule
/// `id` has emitted `expected_out` rows, and stops it.
pub async fn publish_and_drain(
    engine: &tributary_engine::Engine,
    hub: &tributary_connectors::MemoryHub,
    topic: &str,
    batches: Vec<Arc<Vec<tributary_connectors::memory::MemoryRow>>>,
    id: &str,
    expected_out: u64,
) {
    for b in batches {
        hub.publish(tributary_connectors::memory::MemoryMessage {
            topic: Arc::from(topic),
            rows: b,
            timestamp: 0,
        })
        .await;
    }
    loop {
        let (_, m) = engine.rule_status(id).expect("status");
        if m.records_out >= expected_out {
            break;
        }
        tokio::task::yield_now().await;
    }
    engine.stop_rule(id).await.expect("stop");
}
