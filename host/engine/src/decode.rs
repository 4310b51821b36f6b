//! The first stage of every rule: source messages → typed rows.
//!
//! Bytes are decoded by the stream's FORMAT; the stream's schema (if any) is applied;
//! under `STRICT_VALIDATION` a message that does not fit becomes an error in its place
//! (`error in preprocessor: field size type mismatch: …`), as in eKuiper.

use crate::operator::{Chunk, ChunkBuilder};
use std::sync::Arc;
use tributary_connectors::format::{decode_as, type_delimited, Format, DEFAULT_DELIMITER};
use tributary_core::connector::{Payload, SourceMessage};
use tributary_core::hidden::HiddenCol;
use tributary_core::{Object, Row, Schema};
use tributary_sql::StreamDef;

#[derive(Debug, Clone)]
pub struct Decoder {
    /// The stream's FORMAT, parsed once (an unknown one is reported per payload).
    format: Result<Format, String>,
    delimiter: String,
    /// The schema rows are checked against (strict: only the columns the rule reads).
    schema: Option<Schema>,
    strict: bool,
    /// The stream's whole schema: it names delimited and binary columns, and types
    /// delimited text before validation.
    declared: Option<Schema>,
    /// The declared column names, in order.
    field_names: Option<Vec<String>>,
    /// In a rule with JOINs: its rows get hidden qualified copies of their fields and
    /// a stream marker (`join_plan`).
    joined: Option<JoinMarks>,
}

/// What a joined stream's decoder adds to each row: a hidden qualified copy of each
/// field (`demo.ts`) and the stream marker.
#[derive(Debug, Clone)]
struct JoinMarks {
    index: usize,
    stream: Arc<str>,
}

impl JoinMarks {
    fn mark(&self, r: &mut Row) {
        r.hidden.reserve(r.fields.len() + 1);
        for (k, v) in &r.fields {
            let q = HiddenCol::Qualified {
                stream: self.stream.clone(),
                field: k.clone(),
            };
            r.hidden.push((q, v.clone()));
        }
        r.hidden.push((
            HiddenCol::Stream,
            tributary_core::Value::Int(self.index as i64),
        ));
    }
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
        Decoder {
            format: Format::parse(stream.options.format.as_deref().unwrap_or("json")),
            delimiter: stream
                .options
                .delimiter
                .clone()
                .unwrap_or_else(|| DEFAULT_DELIMITER.to_string()),
            field_names: stream
                .schema
                .as_ref()
                .map(|s| s.fields.iter().map(|f| f.name.clone()).collect()),
            declared: stream.schema.clone(),
            schema,
            strict,
            joined: None,
        }
    }

    /// Decodes a batch of messages into a chunk, keeping errors in their place.
    pub fn decode(&self, msgs: Vec<SourceMessage>) -> Chunk {
        let mut b = ChunkBuilder::with_capacity(msgs.len());
        b.set_time(msgs.iter().map(|m| m.timestamp).max());
        if let Some(j) = &self.joined {
            b.set_stream(j.index);
        }
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
                        for o in objs {
                            self.push(&mut b, &o, m.meta.clone(), m.timestamp);
                        }
                    }
                    Err(e) => b.error(format!("error in preprocessor: {e}")),
                },
            }
        }
        let mut chunk = b.finish();
        if let Some(j) = &self.joined {
            for r in chunk.rows.iter_mut() {
                j.mark(r);
            }
        }
        chunk
    }

    /// The decoder of stream `index` of a rule with JOINs.
    pub fn for_join(mut self, index: usize, stream: &str) -> Self {
        self.joined = Some(JoinMarks {
            index,
            stream: Arc::from(stream),
        });
        self
    }

    /// Bytes → messages by FORMAT; delimited text is typed by the declared schema.
    fn decode_bytes(&self, bytes: &[u8]) -> Result<Vec<Object>, String> {
        let format = self.format.clone()?;
        let mut msgs = decode_as(bytes, format, &self.delimiter, self.field_names.as_deref())?;
        if let (Format::Delimited, Some(schema)) = (format, &self.declared) {
            type_delimited(&mut msgs, schema);
        }
        Ok(msgs)
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
