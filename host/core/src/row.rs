//! Rows and batches: the unit of data flowing between operators.
//!
//! A [`Row`] is a small ordered map of named fields plus metadata (`meta(topic)`) and a
//! timestamp. Field names are `Arc<str>` so that rows built by one projection share
//! their keys. Lookups scan linearly: rows are small (tens of fields), and a scan that
//! first compares pointers beats hashing at that size.

use crate::hidden::HiddenCol;
use crate::value::{Object, Value};
use std::sync::Arc;

/// Metadata of a message (topic, file name, …), shared by all rows from one read.
pub type Meta = Arc<Object>;

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Row {
    pub fields: Vec<(Arc<str>, Value)>,
    /// The engine's own columns ([`crate::hidden`]): never output.
    pub hidden: Vec<(HiddenCol, Value)>,
    pub meta: Meta,
    /// Epoch milliseconds: processing time, or event time when the rule uses it.
    pub timestamp: i64,
}

impl Row {
    pub fn new(fields: Vec<(Arc<str>, Value)>, meta: Meta, timestamp: i64) -> Self {
        Row {
            fields,
            hidden: Vec::new(),
            meta,
            timestamp,
        }
    }

    /// The value of a hidden column, if the row has it.
    pub fn hidden(&self, col: &HiddenCol) -> Option<&Value> {
        self.hidden.iter().find(|(c, _)| c == col).map(|(_, v)| v)
    }

    /// Sets a hidden column, replacing an existing one.
    pub fn set_hidden(&mut self, col: HiddenCol, value: Value) {
        match self.hidden.iter_mut().find(|(c, _)| *c == col) {
            Some(slot) => slot.1 = value,
            None => self.hidden.push((col, value)),
        }
    }

    /// Builds a row from an object's entries.
    pub fn from_object(obj: &Object, meta: Meta, timestamp: i64) -> Self {
        let fields = obj
            .iter()
            .map(|(k, v)| (Arc::from(k.as_str()), v.clone()))
            .collect();
        Row::new(fields, meta, timestamp)
    }

    /// The value of field `name`, if present. Names are case-sensitive first; a
    /// case-insensitive match is tried next, as eKuiper does for schemaless streams.
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.fields
            .iter()
            .find(|(k, _)| &**k == name)
            .or_else(|| {
                self.fields
                    .iter()
                    .find(|(k, _)| k.eq_ignore_ascii_case(name))
            })
            .map(|(_, v)| v)
    }

    /// [`Row::get`] for a name the planner interned: rows built from the same schema
    /// share the `Arc`, so the common case is a pointer comparison.
    #[inline]
    pub fn get_interned(&self, name: &Arc<str>) -> Option<&Value> {
        self.fields
            .iter()
            .find(|(k, _)| Arc::ptr_eq(k, name))
            .map(|(_, v)| v)
            .or_else(|| self.get(name))
    }

    /// Sets `name` to `value`, replacing an existing field of that name.
    pub fn set(&mut self, name: Arc<str>, value: Value) {
        if let Some(slot) = self.fields.iter_mut().find(|(k, _)| *k == name) {
            slot.1 = value;
        } else {
            self.fields.push((name, value));
        }
    }

    pub fn meta_get(&self, key: &str) -> Option<&Value> {
        self.meta.get(key)
    }

    /// The row as an object value (for `SELECT *` inside expressions, sinks, templates).
    /// Hidden engine columns are not fields, so they are never in it.
    pub fn to_object(&self) -> Object {
        self.fields
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect()
    }

    /// Encodes the row as a JSON object, keys sorted as eKuiper's Go maps are.
    pub fn write_json(&self, out: &mut String) {
        crate::json::write_object(out, self.fields.iter().map(|(k, v)| (&**k, v)));
    }

    pub fn to_json_string(&self) -> String {
        let mut s = String::new();
        self.write_json(&mut s);
        s
    }
}

/// A batch of rows: what crosses a channel between operators, and what a plugin sees
/// in one call.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Batch {
    pub rows: Vec<Row>,
}

impl Batch {
    pub fn new(rows: Vec<Row>) -> Self {
        Batch { rows }
    }
    pub fn len(&self) -> usize {
        self.rows.len()
    }
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn get_prefers_exact_case_then_falls_back() {
        let row = Row::new(
            vec![
                (Arc::from("Temp"), Value::Int(1)),
                (Arc::from("temp"), Value::Int(2)),
            ],
            Meta::default(),
            0,
        );
        assert_eq!(row.get("temp"), Some(&Value::Int(2)));
        assert_eq!(row.get("TEMP"), Some(&Value::Int(1)));
        assert_eq!(row.get("x"), None);
    }

    #[test]
    fn json_sorts_keys() {
        let row = Row::new(
            vec![
                (Arc::from("b"), Value::Int(1)),
                (Arc::from("a"), Value::str("x")),
            ],
            Meta::default(),
            0,
        );
        assert_eq!(row.to_json_string(), r#"{"a":"x","b":1}"#);
    }
}
