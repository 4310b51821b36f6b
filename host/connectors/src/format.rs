//! Decoding raw payloads by a stream's `FORMAT`.
//!
//! A byte-oriented source (MQTT, HTTP, a `lines` file) hands the engine
//! [`Payload::Bytes`](tributary_core::connector::Payload::Bytes); this module turns
//! those bytes into messages, the way eKuiper's converters do:
//!
//! - `json`: an object is one message, an array of objects is several.
//! - `binary`: the whole payload becomes the field `self` (a `bytea`).
//! - `delimited`: each line is split on `DELIMITER` (default `,`); the values map onto
//!   the schema's field names in order, or onto `col0`, `col1`, … for a schemaless
//!   stream. Values stay strings unless a schema gives them a type.
//!
//! Errors are plain strings that say what is wrong and where; the caller adds which
//! stream or file it was reading.

use tributary_core::schema::{convert, Schema};
use tributary_core::{Object, Value};

/// A stream `FORMAT` this crate can decode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Format {
    #[default]
    Json,
    Binary,
    Delimited,
}

impl Format {
    /// Parses a `FORMAT` option, case-insensitively as eKuiper does (no allocation:
    /// the engine may call this per message).
    pub fn parse(s: &str) -> Result<Format, String> {
        let s = s.trim();
        if s.is_empty() || s.eq_ignore_ascii_case("json") {
            Ok(Format::Json)
        } else if s.eq_ignore_ascii_case("binary") {
            Ok(Format::Binary)
        } else if s.eq_ignore_ascii_case("delimited") {
            Ok(Format::Delimited)
        } else {
            Err(format!(
                "unknown format \"{}\"; available: json, binary, delimited",
                s.to_ascii_lowercase()
            ))
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Format::Json => "json",
            Format::Binary => "binary",
            Format::Delimited => "delimited",
        }
    }
}

/// The field a `binary` payload is stored in, as in eKuiper.
pub const BINARY_FIELD: &str = "self";

/// The default `DELIMITER`.
pub const DEFAULT_DELIMITER: &str = ",";

/// Decodes one payload into messages, by the stream's `FORMAT` and `DELIMITER` options
/// as written (`None`/empty delimiter means `,`). `field_names` names the columns of
/// a `delimited` payload (the schema's fields, in order), and the single column of a
/// `binary` one (`self` without a schema).
pub fn decode(
    bytes: &[u8],
    format: &str,
    delimiter: Option<&str>,
    field_names: Option<&[String]>,
) -> Result<Vec<Object>, String> {
    decode_as(
        bytes,
        Format::parse(format)?,
        delimiter.unwrap_or(DEFAULT_DELIMITER),
        field_names,
    )
}

/// [`decode`] with an already parsed format.
pub fn decode_as(
    bytes: &[u8],
    format: Format,
    delimiter: &str,
    field_names: Option<&[String]>,
) -> Result<Vec<Object>, String> {
    match format {
        Format::Json => decode_json(bytes),
        Format::Binary => {
            let name = field_names
                .and_then(|n| n.first())
                .map(String::as_str)
                .unwrap_or(BINARY_FIELD);
            let mut obj = Object::new();
            obj.insert(name.to_string(), Value::bytes(bytes.to_vec()));
            Ok(vec![obj])
        }
        Format::Delimited => {
            let text = std::str::from_utf8(bytes).map_err(|e| {
                format!(
                    "delimited payload is not valid UTF-8 at byte {}",
                    e.valid_up_to()
                )
            })?;
            Ok(text
                .split('\n')
                .map(|line| line.strip_suffix('\r').unwrap_or(line))
                .filter(|line| !line.is_empty())
                .map(|line| decode_delimited_line(line, delimiter, field_names))
                .collect())
        }
    }
}

/// Like [`decode_as`], taking the column names from `schema` and, for `delimited`,
/// converting each string to its column's type where that works (a value that does
/// not convert stays a string, so that strict validation later reports it).
pub fn decode_with_schema(
    bytes: &[u8],
    format: Format,
    delimiter: &str,
    schema: Option<&Schema>,
) -> Result<Vec<Object>, String> {
    let names: Option<Vec<String>> =
        schema.map(|s| s.fields.iter().map(|f| f.name.clone()).collect());
    let mut msgs = decode_as(bytes, format, delimiter, names.as_deref())?;
    if let (Format::Delimited, Some(schema)) = (format, schema) {
        type_delimited(&mut msgs, schema);
    }
    Ok(msgs)
}

/// Converts the text columns of decoded `delimited` messages to their schema types
/// where that works (a value that does not convert stays a string, so that strict
/// validation later reports it).
pub fn type_delimited(msgs: &mut [Object], schema: &Schema) {
    for msg in msgs {
        for fd in &schema.fields {
            if let Some(v) = msg.get_mut(&fd.name) {
                if let Ok(converted) = convert(v, &fd.ty, false) {
                    *v = converted;
                }
            }
        }
    }
}

/// Decodes a JSON payload: an object, or an array of objects.
pub fn decode_json(bytes: &[u8]) -> Result<Vec<Object>, String> {
    match tributary_core::json_de::from_slice(bytes).map_err(json_error)? {
        Value::Object(o) => Ok(vec![unwrap_object(o)]),
        Value::Array(items) => {
            let items = std::sync::Arc::try_unwrap(items).unwrap_or_else(|a| (*a).clone());
            items
                .into_iter()
                .enumerate()
                .map(|(i, item)| match item {
                    Value::Object(o) => Ok(unwrap_object(o)),
                    other => Err(format!(
                        "JSON array element {i} is {}, expected an object",
                        other.type_name()
                    )),
                })
                .collect()
        }
        other => Err(format!(
            "JSON payload is {}, expected an object or an array of objects",
            other.type_name()
        )),
    }
}

/// Splits one delimited record. Extra values beyond the named columns are dropped;
/// missing ones are left out (they read as null), as eKuiper's converter does.
pub fn decode_delimited_line(
    line: &str,
    delimiter: &str,
    field_names: Option<&[String]>,
) -> Object {
    let delimiter = if delimiter.is_empty() {
        DEFAULT_DELIMITER
    } else {
        delimiter
    };
    let mut obj = Object::new();
    for (i, token) in line.split(delimiter).enumerate() {
        let name = match field_names {
            Some(names) if !names.is_empty() => match names.get(i) {
                Some(n) => n.clone(),
                None => break,
            },
            _ => format!("col{i}"),
        };
        obj.insert(name, Value::str(token));
    }
    obj
}

/// Words a serde_json error as `invalid JSON at line L column C: <reason>`.
pub fn json_error(e: serde_json::Error) -> String {
    let full = e.to_string();
    let suffix = format!(" at line {} column {}", e.line(), e.column());
    let reason = full.strip_suffix(&suffix).unwrap_or(&full);
    format!(
        "invalid JSON at line {} column {}: {reason}",
        e.line(),
        e.column()
    )
}

/// Takes an object out of its `Arc` without copying when it is not shared.
fn unwrap_object(o: std::sync::Arc<Object>) -> Object {
    std::sync::Arc::try_unwrap(o).unwrap_or_else(|shared| (*shared).clone())
}

#[cfg(test)]
mod tests {
    use super::*;
    use tributary_core::{FieldDef, FieldType};

    #[test]
    fn json_object_and_array() {
        let one = decode(br#"{"a":1}"#, "json", None, None).expect("object");
        assert_eq!(one.len(), 1);
        assert_eq!(one[0].get("a"), Some(&Value::Int(1)));
        let many = decode(br#"[{"a":1},{"a":2.5}]"#, "json", None, None).expect("array");
        assert_eq!(many.len(), 2);
        assert_eq!(many[1].get("a"), Some(&Value::Float(2.5)));
    }

    #[test]
    fn json_errors_say_where_and_what() {
        let err = decode(b"{\"a\":}", "json", None, None).expect_err("bad json");
        assert_eq!(err, "invalid JSON at line 1 column 6: expected value");
        let err = decode(b"[{\"a\":1},3]", "json", None, None).expect_err("not object");
        assert_eq!(err, "JSON array element 1 is int64, expected an object");
        let err = decode(b"\"x\"", "json", None, None).expect_err("scalar");
        assert!(err.contains("expected an object"), "{err}");
    }

    #[test]
    fn binary_goes_to_self() {
        let msgs = decode(&[1, 2, 3], "binary", None, None).expect("binary");
        assert_eq!(msgs[0].get("self"), Some(&Value::bytes(vec![1, 2, 3])));
        let names = vec!["image".to_string()];
        let msgs = decode(&[1], "binary", None, Some(&names)).expect("binary");
        assert_eq!(msgs[0].get("image"), Some(&Value::bytes(vec![1])));
    }

    #[test]
    fn delimited_without_and_with_names() {
        let msgs = decode(b"a,b,c\r\nd,e,f\n", "delimited", None, None).expect("csv");
        assert_eq!(msgs.len(), 2);
        assert_eq!(msgs[0].get("col0"), Some(&Value::str("a")));
        assert_eq!(msgs[1].get("col2"), Some(&Value::str("f")));

        let names = vec!["id".to_string(), "name".to_string()];
        let msgs = decode(b"1|x|extra", "DELIMITED", Some("|"), Some(&names)).expect("names");
        assert_eq!(msgs[0].get("id"), Some(&Value::str("1")));
        assert_eq!(msgs[0].get("name"), Some(&Value::str("x")));
        assert_eq!(msgs[0].len(), 2);
    }

    #[test]
    fn delimited_with_schema_converts_types() {
        let schema = Schema::new(vec![
            FieldDef {
                name: "id".into(),
                ty: FieldType::Bigint,
            },
            FieldDef {
                name: "temp".into(),
                ty: FieldType::Float,
            },
            FieldDef {
                name: "ok".into(),
                ty: FieldType::Boolean,
            },
        ]);
        let msgs = decode_with_schema(b"7,20.5,true", Format::Delimited, ",", Some(&schema))
            .expect("schema");
        assert_eq!(msgs[0].get("id"), Some(&Value::Int(7)));
        assert_eq!(msgs[0].get("temp"), Some(&Value::Float(20.5)));
        assert_eq!(msgs[0].get("ok"), Some(&Value::Bool(true)));
        // A value that does not convert is kept as it came, for strict validation.
        let msgs = decode_with_schema(b"x,1,true", Format::Delimited, ",", Some(&schema))
            .expect("lenient");
        assert_eq!(msgs[0].get("id"), Some(&Value::str("x")));
    }

    #[test]
    fn delimited_rejects_invalid_utf8() {
        let err = decode_as(&[b'a', 0xff], Format::Delimited, ",", None).expect_err("utf8");
        assert_eq!(err, "delimited payload is not valid UTF-8 at byte 1");
    }

    #[test]
    fn format_names() {
        assert_eq!(Format::parse("DELIMITED"), Ok(Format::Delimited));
        assert_eq!(
            Format::parse("protobuf"),
            Err("unknown format \"protobuf\"; available: json, binary, delimited".to_string())
        );
    }
}
