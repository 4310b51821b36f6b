//! Stream schemas as declared by `CREATE STREAM s (col TYPE, …)`.
//!
//! A schemaless stream (`()`) has no [`Schema`]. A schema'd stream converts each
//! incoming message to its declared types: leniently by default, and under
//! `STRICT_VALIDATION="true"` with an error naming the field that does not fit.

use crate::row::{Meta, Row};
use crate::value::{Object, Value};
use std::fmt;
use std::sync::Arc;

#[derive(Debug, Clone, PartialEq)]
pub enum FieldType {
    Bigint,
    Float,
    String,
    Datetime,
    Boolean,
    Bytea,
    Array(Box<FieldType>),
    Struct(Vec<FieldDef>),
}

impl fmt::Display for FieldType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FieldType::Bigint => f.write_str("bigint"),
            FieldType::Float => f.write_str("float"),
            FieldType::String => f.write_str("string"),
            FieldType::Datetime => f.write_str("datetime"),
            FieldType::Boolean => f.write_str("boolean"),
            FieldType::Bytea => f.write_str("bytea"),
            FieldType::Array(t) => write!(f, "array({t})"),
            FieldType::Struct(fields) => {
                f.write_str("struct(")?;
                for (i, fd) in fields.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{} {}", fd.name, fd.ty)?;
                }
                f.write_str(")")
            }
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct FieldDef {
    pub name: String,
    pub ty: FieldType,
}

/// The typed columns of a stream.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Schema {
    pub fields: Vec<FieldDef>,
    /// Column names as shared keys, in declaration order.
    keys: Vec<Arc<str>>,
}

impl Schema {
    pub fn new(fields: Vec<FieldDef>) -> Self {
        let keys = fields.iter().map(|f| Arc::from(f.name.as_str())).collect();
        Schema { fields, keys }
    }

    /// The shared key of column `name` (exact case first), for interning field
    /// references so row lookups compare pointers.
    pub fn key(&self, name: &str) -> Option<&Arc<str>> {
        self.fields
            .iter()
            .position(|f| f.name == name)
            .or_else(|| {
                self.fields
                    .iter()
                    .position(|f| f.name.eq_ignore_ascii_case(name))
            })
            .and_then(|i| self.keys.get(i))
    }

    pub fn field(&self, name: &str) -> Option<&FieldDef> {
        self.fields.iter().find(|f| f.name == name).or_else(|| {
            self.fields
                .iter()
                .find(|f| f.name.eq_ignore_ascii_case(name))
        })
    }

    /// Turns a decoded message into a row of this schema. Only declared columns are
    /// kept; a missing column is left out (it reads as null). With `strict`, a value
    /// of the wrong type or a missing column is an error worded as eKuiper's
    /// (`field size type mismatch: cannot convert string(red) to int64`); without it,
    /// values are converted where that is lossless and otherwise kept as they came.
    pub fn apply(&self, msg: &Object, strict: bool, meta: Meta, ts: i64) -> Result<Row, String> {
        self.apply_with_index(
            |_, name| {
                msg.get(name).or_else(|| {
                    msg.iter()
                        .find(|(k, _)| k.eq_ignore_ascii_case(name))
                        .map(|(_, v)| v)
                })
            },
            strict,
            meta,
            ts,
        )
    }

    /// [`Schema::apply`] for a message that is already a row (a memory topic).
    pub fn apply_row(&self, msg: &Row, strict: bool, meta: Meta, ts: i64) -> Result<Row, String> {
        // Rows of one producer usually list their columns in the schema's order: try
        // the same position first.
        self.apply_with_index(
            |i, name| match msg.fields.get(i) {
                Some((k, v)) if &**k == name => Some(v),
                _ => msg.get(name),
            },
            strict,
            meta,
            ts,
        )
    }

    /// [`Schema::apply_row`] for a row the caller owns: values are moved, not cloned,
    /// and when the row already lists the schema's columns first and in order (rows
    /// of one producer do), its vector is reused as is.
    pub fn apply_owned(&self, row: Row, strict: bool, meta: Meta, ts: i64) -> Result<Row, String> {
        let n = self.fields.len();
        let in_order = row.fields.len() >= n
            && self
                .fields
                .iter()
                .zip(&row.fields)
                .all(|(fd, (k, _))| **k == *fd.name);
        if !in_order {
            return self.apply_row(&row, strict, meta, ts);
        }
        let mut fields = row.fields;
        fields.truncate(n);
        // The row keeps its own keys: they equal the schema's (checked above), and
        // swapping in the schema's `Arc`s cost two reference-count atomics per field,
        // more than the string comparison a later lookup makes when pointers differ.
        for (fd, slot) in self.fields.iter().zip(fields.iter_mut()) {
            slot.1 = column_value(fd, std::mem::take(&mut slot.1), strict)?;
        }
        Ok(Row::new(fields, meta, ts))
    }

    fn apply_with_index<'a>(
        &self,
        lookup: impl Fn(usize, &str) -> Option<&'a Value>,
        strict: bool,
        meta: Meta,
        ts: i64,
    ) -> Result<Row, String> {
        let mut fields = Vec::with_capacity(self.fields.len());
        for (i, (fd, key)) in self.fields.iter().zip(&self.keys).enumerate() {
            let found = lookup(i, &fd.name);
            match found {
                None => {
                    if strict {
                        return Err(format!("field {} is not found", fd.name));
                    }
                }
                Some(v) => fields.push((key.clone(), column_value(fd, v.clone(), strict)?)),
            }
        }
        Ok(Row::new(fields, meta, ts))
    }
}

/// One declared column's value. A present null stays null (`SELECT *` prints it) but
/// fails strict validation, as in eKuiper; a value that does not convert is kept as it
/// came unless strict.
fn column_value(fd: &FieldDef, v: Value, strict: bool) -> Result<Value, String> {
    if v.is_null() {
        if strict {
            return Err(format!(
                "field {} type mismatch: cannot convert <nil>(<nil>) to {}",
                fd.name,
                go_type(&fd.ty)
            ));
        }
        return Ok(Value::Null);
    }
    match convert_owned(v, &fd.ty, strict) {
        Ok(v) => Ok(v),
        Err((v, _)) if !strict => Ok(v),
        Err((_, e)) => Err(format!("field {} type mismatch: {e}", fd.name)),
    }
}

/// The Go type eKuiper names in conversion errors.
fn go_type(ty: &FieldType) -> &'static str {
    match ty {
        FieldType::Bigint => "int64",
        FieldType::Float => "float64",
        FieldType::String => "string",
        FieldType::Datetime => "datetime",
        FieldType::Boolean => "bool",
        FieldType::Bytea => "bytea",
        FieldType::Array(_) => "array",
        FieldType::Struct(_) => "struct",
    }
}

/// [`convert`] for an owned value: a value already of the type is returned as is.
/// On failure the value comes back with the error.
fn convert_owned(v: Value, ty: &FieldType, strict: bool) -> Result<Value, (Value, String)> {
    match (ty, &v) {
        (FieldType::Bigint, Value::Int(_))
        | (FieldType::Float, Value::Float(_))
        | (FieldType::String, Value::String(_))
        | (FieldType::Boolean, Value::Bool(_))
        | (FieldType::Datetime, Value::Datetime(_))
        | (FieldType::Bytea, Value::Bytes(_)) => Ok(v),
        _ => match convert(&v, ty, strict) {
            Ok(c) => Ok(c),
            Err(e) => Err((v, e)),
        },
    }
}

/// Converts `v` to `ty`. Strict conversion accepts only values already of the type
/// (ints for floats, and numbers/RFC 3339 strings for datetimes, excepted).
pub fn convert(v: &Value, ty: &FieldType, strict: bool) -> Result<Value, String> {
    let mismatch = || format!("cannot convert {} to {}", v.describe(), go_type(ty));
    match (ty, v) {
        (FieldType::Bigint, Value::Int(_)) => Ok(v.clone()),
        // eKuiper truncates floats into BIGINT columns (3.7 -> 3), strict or not.
        (FieldType::Bigint, Value::Float(f)) => Ok(Value::Int(*f as i64)),
        (FieldType::Bigint, Value::String(s)) if !strict => s
            .trim()
            .parse::<i64>()
            .map(Value::Int)
            .map_err(|_| mismatch()),
        (FieldType::Float, Value::Float(_)) => Ok(v.clone()),
        (FieldType::Float, Value::Int(i)) => Ok(Value::Float(*i as f64)),
        (FieldType::Float, Value::String(s)) if !strict => s
            .trim()
            .parse::<f64>()
            .map(Value::Float)
            .map_err(|_| mismatch()),
        (FieldType::String, Value::String(_)) => Ok(v.clone()),
        (FieldType::String, Value::Int(_) | Value::Float(_) | Value::Bool(_)) if !strict => {
            Ok(Value::str(v.to_string()))
        }
        (FieldType::Boolean, Value::Bool(_)) => Ok(v.clone()),
        (FieldType::Boolean, Value::String(s)) if !strict => match s.as_ref() {
            "true" | "TRUE" | "True" | "1" | "t" | "T" => Ok(Value::Bool(true)),
            "false" | "FALSE" | "False" | "0" | "f" | "F" => Ok(Value::Bool(false)),
            _ => Err(mismatch()),
        },
        (FieldType::Datetime, Value::Datetime(_)) => Ok(v.clone()),
        (FieldType::Datetime, Value::Int(ms)) => Ok(Value::datetime_ms(*ms)),
        (FieldType::Datetime, Value::Float(ms)) => Ok(Value::datetime_ms(*ms as i64)),
        (FieldType::Datetime, Value::String(s)) => chrono::DateTime::parse_from_rfc3339(s)
            .ok()
            .and_then(|d| d.timestamp_nanos_opt())
            .map(Value::Datetime)
            .ok_or_else(mismatch),
        (FieldType::Bytea, Value::Bytes(_)) => Ok(v.clone()),
        (FieldType::Bytea, Value::String(s)) => {
            use base64::Engine;
            base64::engine::general_purpose::STANDARD
                .decode(s.as_bytes())
                .map(Value::bytes)
                .map_err(|_| mismatch())
        }
        (FieldType::Array(inner), Value::Array(items)) => items
            .iter()
            .map(|x| {
                if x.is_null() {
                    Ok(Value::Null)
                } else {
                    convert(x, inner, strict)
                }
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Value::array),
        (FieldType::Struct(defs), Value::Object(obj)) => {
            let mut out = Object::new();
            for fd in defs {
                match obj.get(&fd.name) {
                    None | Some(Value::Null) => {
                        if strict {
                            return Err(format!("field {} is not found", fd.name));
                        }
                    }
                    Some(x) => match convert(x, &fd.ty, strict) {
                        Ok(x) => {
                            out.insert(fd.name.clone(), x);
                        }
                        Err(e) if strict => return Err(e),
                        Err(_) => {}
                    },
                }
            }
            Ok(Value::object(out))
        }
        _ => Err(mismatch()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn schema() -> Schema {
        Schema::new(vec![
            FieldDef {
                name: "id".into(),
                ty: FieldType::Bigint,
            },
            FieldDef {
                name: "temp".into(),
                ty: FieldType::Float,
            },
        ])
    }

    fn obj(json: &str) -> Object {
        match crate::json::parse(json) {
            Ok(Value::Object(o)) => (*o).clone(),
            other => panic!("not an object: {other:?}"),
        }
    }

    #[test]
    fn lenient_converts_and_drops_extra_fields() {
        let row = schema()
            .apply(
                &obj(r#"{"id":"7","temp":20,"x":1}"#),
                false,
                Meta::default(),
                0,
            )
            .expect("row");
        assert_eq!(row.get("id"), Some(&Value::Int(7)));
        assert!(matches!(row.get("temp"), Some(Value::Float(_))));
        assert_eq!(row.get("x"), None);
    }

    #[test]
    fn owned_rows_in_schema_order_are_reused_and_converted() {
        let row = Row::new(
            vec![
                (Arc::from("id"), Value::str("7")),
                (Arc::from("temp"), Value::Int(20)),
                (Arc::from("extra"), Value::Int(1)),
            ],
            Meta::default(),
            0,
        );
        let out = schema()
            .apply_owned(row, false, Meta::default(), 5)
            .expect("row");
        assert_eq!(out.fields.len(), 2);
        assert_eq!(out.get("id"), Some(&Value::Int(7)));
        assert!(matches!(out.get("temp"), Some(Value::Float(f)) if *f == 20.0));
        assert_eq!(out.timestamp, 5);
        let bad = Row::new(
            vec![
                (Arc::from("id"), Value::str("x")),
                (Arc::from("temp"), Value::Int(1)),
            ],
            Meta::default(),
            0,
        );
        let e = schema()
            .apply_owned(bad, true, Meta::default(), 0)
            .expect_err("strict");
        assert_eq!(
            e,
            "field id type mismatch: cannot convert string(x) to int64"
        );
        // Out of order: falls back to lookups.
        let swapped = Row::new(
            vec![
                (Arc::from("temp"), Value::Float(1.5)),
                (Arc::from("id"), Value::Int(3)),
            ],
            Meta::default(),
            0,
        );
        let out = schema()
            .apply_owned(swapped, true, Meta::default(), 0)
            .expect("row");
        assert_eq!(out.get("id"), Some(&Value::Int(3)));
    }

    #[test]
    fn strict_names_the_bad_field() {
        let err = schema()
            .apply(&obj(r#"{"id":"red","temp":20}"#), true, Meta::default(), 0)
            .expect_err("strict");
        assert_eq!(
            err,
            "field id type mismatch: cannot convert string(red) to int64"
        );
        let err = schema()
            .apply(&obj(r#"{"id":7}"#), true, Meta::default(), 0)
            .expect_err("missing");
        assert!(err.contains("temp"), "{err}");
    }
}
