//! Shared data generators of the benches.

use tributary_core::{Object, Value};

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
