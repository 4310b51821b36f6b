//! The first stage of every rule: source messages → typed rows.
//!
//! Bytes are decoded by the stream's FORMAT; the stream's schema (if any) is applied;
//! under `STRICT_VALIDATION` a message that does not fit becomes an error in its place
//! (`error in preprocessor: field size type mismatch: …`), as in eKuiper.

use crate::operator::{Chunk, ChunkBuilder};
use std::sync::Arc;
use tributary_core::connector::{Payload, SourceMessage};
use tributary_core::{Object, Row, Schema, Value};
use tributary_sql::StreamDef;

#[derive(Debug, Clone)]
pub struct Decoder {
    format: String,
    delimiter: Option<String>,
    schema: Option<Schema>,
    strict: bool,
    field_names: Option<Vec<String>>,
    /// For `FORMAT="binary"` with a declared BYTEA column: its name (the payload is
    /// decoded as `self` and renamed).
    binary_field: Option<String>,
    /// The stream's whole schema: delimited text is typed by it before validation.
    declared: Option<Schema>,
}

impl Decoder {
    /// `used_columns`: the columns the rule reads (`None` = all). Strict validation
    /// checks only those, as eKuiper does.
    pub fn new(stream: &StreamDef, used_columns: Option<&[String]>) -> Self {
        let strict = stream.options.strict_validation;
        let schema = stream
            .schema
            .as_ref()
            .map(|s| match (strict, used_columns) {
                (true, Some(cols)) => Schema::new(
                    s.fields
                        .iter()
                        .filter(|f| cols.iter().any(|c| c.eq_ignore_ascii_case(&f.name)))
                        .cloned()
                        .collect(),
                ),
                _ => s.clone(),
            });
        let format_is_binary = stream.options.format.as_deref() == Some("binary");
        let binary_field = match (&stream.schema, format_is_binary) {
            (Some(s), true) => s.fields.first().map(|f| f.name.clone()),
            _ => None,
        };
        Decoder {
            binary_field,
            declared: stream.schema.clone(),
            format: stream
                .options
                .format
                .clone()
                .unwrap_or_else(|| "json".to_string()),
            delimiter: stream.options.delimiter.clone(),
            field_names: stream
                .schema
                .as_ref()
                .map(|s| s.fields.iter().map(|f| f.name.clone()).collect()),
            schema,
            strict,
        }
    }

    /// Decodes a batch of messages into a chunk, keeping errors in their place.
    pub fn decode(&self, msgs: Vec<SourceMessage>) -> Chunk {
        let mut b = ChunkBuilder::with_capacity(msgs.len());
        for m in msgs {
            match m.payload {
                Payload::Object(o) => self.push(&mut b, &o, m.meta, m.timestamp),
                Payload::Row(r) => match &self.schema {
                    None => b.row(Row::new(
                        Arc::try_unwrap(r)
                            .map(|r| r.fields)
                            .unwrap_or_else(|r| r.fields.clone()),
                        m.meta,
                        m.timestamp,
                    )),
                    Some(s) => {
                        let r = match Arc::try_unwrap(r) {
                            Ok(owned) => s.apply_owned(owned, self.strict, m.meta, m.timestamp),
                            Err(shared) => s.apply_row(&shared, self.strict, m.meta, m.timestamp),
                        };
                        match r {
                            Ok(row) => b.row(row),
                            Err(e) => b.error(format!("error in preprocessor: {e}")),
                        }
                    }
                },
                Payload::Bytes(bytes) => match self.decode_bytes(&bytes) {
                    Ok(objs) => {
                        for mut o in objs {
                            if let Some(f) = &self.binary_field {
                                if let Some(v) = o.remove("self") {
                                    o.insert(f.clone(), v);
                                }
                            }
                            self.push(&mut b, &o, m.meta.clone(), m.timestamp);
                        }
                    }
                    Err(e) => b.error(format!("error in preprocessor: {e}")),
                },
            }
        }
        b.finish()
    }

    /// Bytes → messages by FORMAT; delimited text is typed by the declared schema.
    fn decode_bytes(&self, bytes: &[u8]) -> Result<Vec<Object>, String> {
        use tributary_connectors::format::{decode, decode_with_schema, Format};
        match (Format::parse(&self.format), &self.declared) {
            (Ok(f @ Format::Delimited), Some(schema)) => decode_with_schema(
                bytes,
                f,
                self.delimiter.as_deref().unwrap_or(","),
                Some(schema),
            ),
            _ => decode(
                bytes,
                &self.format,
                self.delimiter.as_deref(),
                self.field_names.as_deref(),
            ),
        }
    }

    fn push(&self, b: &mut ChunkBuilder, o: &Object, meta: tributary_core::Meta, ts: i64) {
        match &self.schema {
            None => b.row(Row::new(
                o.iter()
                    .map(|(k, v)| (Arc::from(k.as_str()), v.clone()))
                    .collect(),
                meta,
                ts,
            )),
            Some(s) => match s.apply(o, self.strict, meta, ts) {
                Ok(r) => b.row(r),
                Err(e) => b.error(format!("error in preprocessor: {e}")),
            },
        }
    }
}

/// A value as an object message, for sources that produce scalars.
pub fn as_object(v: Value) -> Object {
    match v {
        Value::Object(o) => Arc::try_unwrap(o).unwrap_or_else(|o| (*o).clone()),
        other => {
            let mut o = Object::new();
            o.insert("self".to_string(), other);
            o
        }
    }
}
