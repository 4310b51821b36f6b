//! Values across the boundary: the engine's `Value` ↔ the WIT `value`.
//!
//! Scalars map one to one; arrays and objects travel as JSON text (see the WIT).

use crate::bindings::types_api as wit;
use tributary_core::json;
use tributary_core::Value;

pub fn to_wit(v: &Value) -> wit::Value {
    match v {
        Value::Null => wit::Value::Null,
        Value::Bool(b) => wit::Value::Boolean(*b),
        Value::Int(i) => wit::Value::Int(*i),
        Value::Float(f) => wit::Value::Float(*f),
        Value::String(s) => wit::Value::Str(s.to_string()),
        Value::Bytes(b) => wit::Value::Bytes(b.to_vec()),
        Value::Datetime(ns) => wit::Value::Datetime(*ns),
        Value::Array(_) | Value::Object(_) => wit::Value::Json(json::to_json_string(v)),
    }
}

/// A WIT value back into the engine's model; malformed JSON from a plugin is an error.
pub fn from_wit(v: wit::Value) -> Result<Value, String> {
    Ok(match v {
        wit::Value::Null => Value::Null,
        wit::Value::Boolean(b) => Value::Bool(b),
        wit::Value::Int(i) => Value::Int(i),
        wit::Value::Float(f) => Value::Float(f),
        wit::Value::Str(s) => Value::from(s),
        wit::Value::Bytes(b) => Value::bytes(b),
        wit::Value::Datetime(ns) => Value::Datetime(ns),
        wit::Value::Json(text) => {
            json::parse(&text).map_err(|e| format!("plugin returned invalid JSON: {e}"))?
        }
    })
}

/// One value of every kind the boundary carries, for the tests of both conversions.
#[cfg(test)]
pub(crate) fn every_kind() -> Vec<Value> {
    vec![
        Value::Null,
        Value::Bool(true),
        Value::Int(-3),
        Value::Float(1.5),
        Value::str("x"),
        Value::bytes(vec![1, 2]),
        Value::Datetime(5),
        json::parse(r#"{"a":[1,2]}"#).expect("json"),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_round_trip() {
        for v in every_kind() {
            assert_eq!(from_wit(to_wit(&v)), Ok(v.clone()));
        }
    }
}
