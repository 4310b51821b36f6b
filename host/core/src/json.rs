//! JSON in and out.
//!
//! Output follows Go's `encoding/json` as eKuiper uses it, so that a rule's emissions are
//! byte-identical to eKuiper's: object keys sorted, whole floats without a fraction
//! (`4`, not `4.0`), exponents as `1e+21`, bytes as base64, datetimes as RFC 3339.

use crate::value::{Object, Value};
use base64::Engine;
use std::fmt::Write;

/// Converts parsed JSON into a [`Value`]. Whole numbers that fit an `i64` become `Int`,
/// all others `Float`. An object `{"$bytes_b64": "..."}` (the trial spec's notation)
/// becomes `Bytes`.
pub fn from_json(v: serde_json::Value) -> Value {
    match v {
        serde_json::Value::Null => Value::Null,
        serde_json::Value::Bool(b) => Value::Bool(b),
        serde_json::Value::Number(n) => {
            if let Some(i) = n.as_i64() {
                Value::Int(i)
            } else if let Some(f) = n.as_f64() {
                Value::Float(f)
            } else {
                Value::Null
            }
        }
        serde_json::Value::String(s) => Value::from(s),
        serde_json::Value::Array(a) => Value::array(a.into_iter().map(from_json).collect()),
        serde_json::Value::Object(o) => {
            if o.len() == 1 {
                if let Some(bytes) = o
                    .get(BYTES_KEY)
                    .and_then(|v| v.as_str())
                    .and_then(bytes_b64)
                {
                    return bytes;
                }
            }
            let obj: Object = o.into_iter().map(|(k, v)| (k, from_json(v))).collect();
            Value::object(obj)
        }
    }
}

/// The key of the one-entry object that stands for bytes (the trial spec's notation).
pub(crate) const BYTES_KEY: &str = "$bytes_b64";

/// The bytes `{"$bytes_b64": text}` stands for, when `text` is base64.
pub(crate) fn bytes_b64(text: &str) -> Option<Value> {
    base64::engine::general_purpose::STANDARD
        .decode(text)
        .ok()
        .map(Value::bytes)
}

/// Parses JSON text into a [`Value`].
pub fn parse(text: &str) -> Result<Value, serde_json::Error> {
    crate::json_de::from_slice(text.as_bytes())
}

/// Converts a [`Value`] into serde's JSON model (for APIs that want one).
pub fn to_json(v: &Value) -> serde_json::Value {
    match v {
        Value::Null => serde_json::Value::Null,
        Value::Bool(b) => serde_json::Value::Bool(*b),
        Value::Int(i) => serde_json::Value::from(*i),
        Value::Float(f) => serde_json::Number::from_f64(*f)
            .map(serde_json::Value::Number)
            .unwrap_or(serde_json::Value::Null),
        Value::String(s) => serde_json::Value::String(s.to_string()),
        Value::Bytes(b) => {
            serde_json::Value::String(base64::engine::general_purpose::STANDARD.encode(b))
        }
        Value::Datetime(ns) => serde_json::Value::String(format_datetime(*ns)),
        Value::Array(a) => serde_json::Value::Array(a.iter().map(to_json).collect()),
        Value::Object(o) => {
            serde_json::Value::Object(o.iter().map(|(k, v)| (k.clone(), to_json(v))).collect())
        }
    }
}

/// Encodes a value as compact JSON text, Go style.
pub fn to_json_string(v: &Value) -> String {
    let mut out = String::new();
    write_json(&mut out, v);
    out
}

/// Appends the JSON encoding of `v` to `out`.
pub fn write_json(out: &mut String, v: &Value) {
    match v {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Int(i) => {
            let _ = write!(out, "{i}");
        }
        Value::Float(f) => {
            if f.is_finite() {
                out.push_str(&format_float(*f))
            } else {
                // Go refuses to encode NaN/Inf; null is the least surprising stand-in.
                out.push_str("null")
            }
        }
        Value::String(s) => write_str(out, s),
        Value::Bytes(b) => {
            out.push('"');
            out.push_str(&base64::engine::general_purpose::STANDARD.encode(b));
            out.push('"');
        }
        Value::Datetime(ns) => write_str(out, &format_datetime(*ns)),
        Value::Array(a) => {
            out.push('[');
            for (i, x) in a.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_json(out, x);
            }
            out.push(']');
        }
        Value::Object(o) => write_object(out, o.iter().map(|(k, v)| (k.as_str(), v))),
    }
}

/// Writes an object from key/value pairs, sorting keys as Go does.
pub fn write_object<'a>(out: &mut String, pairs: impl Iterator<Item = (&'a str, &'a Value)>) {
    let mut pairs: Vec<_> = pairs.collect();
    pairs.sort_by(|a, b| a.0.cmp(b.0));
    out.push('{');
    for (i, (k, v)) in pairs.into_iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        write_str(out, k);
        out.push(':');
        write_json(out, v);
    }
    out.push('}');
}

/// Writes a JSON string literal with Go's escaping (`<`, `>`, `&` as `\u003c` etc.).
pub fn write_str(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '<' => out.push_str("\\u003c"),
            '>' => out.push_str("\\u003e"),
            '&' => out.push_str("\\u0026"),
            '\u{2028}' => out.push_str("\\u2028"),
            '\u{2029}' => out.push_str("\\u2029"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// Formats a float as Go's `strconv.FormatFloat(f, 'f' or 'e', -1, 64)` does inside
/// `encoding/json`: shortest round-trip digits, exponent form below 1e-6 and from 1e21
/// (`1e+21`, `1e-7`).
pub fn format_float(f: f64) -> String {
    let abs = f.abs();
    if abs != 0.0 && !(1e-6..1e21).contains(&abs) {
        let s = format!("{f:e}");
        // Rust prints `1e21` / `1e-7`; Go prints `1e+21` / `1e-07`.
        match s.split_once('e') {
            Some((mantissa, exp)) => {
                let (sign, digits) = match exp.strip_prefix('-') {
                    Some(d) => ('-', d),
                    None => ('+', exp),
                };
                // strconv pads the exponent to two digits; encoding/json then trims a
                // negative one back ("e-07" -> "e-7").
                let digits = if digits.len() < 2 && sign == '+' {
                    format!("0{digits}")
                } else {
                    digits.to_string()
                };
                format!("{mantissa}e{sign}{digits}")
            }
            None => s,
        }
    } else {
        format!("{f}")
    }
}

/// Formats a datetime as RFC 3339 with the shortest fractional seconds, in UTC.
pub fn format_datetime(ns: i64) -> String {
    let dt = chrono::DateTime::from_timestamp_nanos(ns);
    dt.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floats_print_like_go() {
        assert_eq!(format_float(4.0), "4");
        assert_eq!(format_float(3.5), "3.5");
        assert_eq!(format_float(1e21), "1e+21");
        assert_eq!(format_float(1e-7), "1e-7");
        assert_eq!(format_float(1.5e-10), "1.5e-10");
        assert_eq!(format_float(0.1 + 0.2), "0.30000000000000004");
        assert_eq!(format_float(0.0), "0");
    }

    #[test]
    fn objects_sort_keys_and_escape_like_go() {
        let v = parse(r#"{"b":1,"a":"<x>","c":[1.5,null,true]}"#).expect("json");
        assert_eq!(
            to_json_string(&v),
            r#"{"a":"\u003cx\u003e","b":1,"c":[1.5,null,true]}"#
        );
    }

    #[test]
    fn bytes_notation_round_trips_as_base64() {
        let v = parse(r#"{"$bytes_b64":"AQID"}"#).expect("json");
        assert!(matches!(v, Value::Bytes(_)));
        assert_eq!(to_json_string(&v), r#""AQID""#);
    }
}
