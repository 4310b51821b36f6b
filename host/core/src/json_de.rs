//! JSON bytes straight into a [`Value`], without serde_json's own tree in between.
//! Sources decode every payload through this, so the intermediate tree (one
//! allocation per node, then converted and dropped) was a cost paid per message.
//! The result is the same as [`crate::json::from_json`] over `serde_json::Value`:
//! whole numbers that fit an `i64` are `Int`, other numbers `Float`, and the object
//! `{"$bytes_b64": "..."}` becomes `Bytes`.

use crate::value::{Object, Value};
use serde::de::{Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use std::fmt;

/// A [`Value`] as serde deserializes it.
pub struct JsonValue(pub Value);

impl<'de> Deserialize<'de> for JsonValue {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(ValueVisitor).map(JsonValue)
    }
}

struct ValueVisitor;

impl<'de> Visitor<'de> for ValueVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_bool<E>(self, b: bool) -> Result<Value, E> {
        Ok(Value::Bool(b))
    }
    fn visit_i64<E>(self, i: i64) -> Result<Value, E> {
        Ok(Value::Int(i))
    }
    fn visit_u64<E>(self, u: u64) -> Result<Value, E> {
        Ok(i64::try_from(u).map_or(Value::Float(u as f64), Value::Int))
    }
    fn visit_f64<E>(self, f: f64) -> Result<Value, E> {
        Ok(Value::Float(f))
    }
    fn visit_str<E>(self, s: &str) -> Result<Value, E> {
        Ok(Value::str(s))
    }
    fn visit_string<E>(self, s: String) -> Result<Value, E> {
        Ok(Value::from(s))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(4096));
        while let Some(JsonValue(v)) = seq.next_element()? {
            items.push(v);
        }
        Ok(Value::array(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut obj = Object::new();
        while let Some((k, JsonValue(v))) = map.next_entry::<String, JsonValue>()? {
            obj.insert(k, v);
        }
        if obj.len() == 1 {
            if let Some(bytes) = obj
                .get(crate::json::BYTES_KEY)
                .and_then(|v| v.as_str())
                .and_then(crate::json::bytes_b64)
            {
                return Ok(bytes);
            }
        }
        Ok(Value::object(obj))
    }
}

/// Parses JSON bytes into a [`Value`].
pub fn from_slice(bytes: &[u8]) -> Result<Value, serde_json::Error> {
    serde_json::from_slice::<JsonValue>(bytes).map(|j| j.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The same value as through serde_json's tree, on every kind of node.
    #[test]
    fn agrees_with_the_tree_path() {
        for text in [
            r#"{"a": 1, "b": -2, "c": 1.5, "d": 18446744073709551615, "e": "x", "f": true,
                "g": null, "h": [1, "two", {"i": []}], "j": {"k": {"l": 3e2}},
                "m": {"$bytes_b64": "aGk="}, "n": {"$bytes_b64": "not base64!"}, "a": 7}"#,
            "[]",
            "[{}, {\"x\": 0}]",
            "\"s\"",
            "12",
        ] {
            let tree: serde_json::Value = serde_json::from_str(text).expect("json");
            let want = crate::json::from_json(tree);
            let got = from_slice(text.as_bytes()).expect("json");
            assert_eq!(format!("{got:?}"), format!("{want:?}"), "{text}");
        }
    }

    #[test]
    fn errors_are_serde_json_s() {
        let e = from_slice(b"{\"a\": ").expect_err("truncated");
        assert!(e.to_string().contains("EOF"), "{e}");
    }
}
