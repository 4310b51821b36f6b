//! Rows and values as JSON, written the way the host writes them, so a plugin sink's
//! output reads the same as a built-in sink's: whole floats without a fraction
//! (`4`, not `4.0`), bytes as base64, datetimes as RFC 3339 in UTC, NaN and the
//! infinities as `null`, object keys sorted. And back: a JSON object read into a row
//! (a lookup source's answer), with arrays and objects kept as JSON values.

use crate::{Field, Value};
use serde_json::{Map, Number, Value as Json};

/// A value as the host's JSON writes it.
pub fn to_json(v: Value) -> Json {
    match v {
        Value::Null => Json::Null,
        Value::Boolean(b) => Json::Bool(b),
        Value::Int(i) => Json::from(i),
        Value::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => Json::from(f as i64),
        Value::Float(f) => Number::from_f64(f).map_or(Json::Null, Json::Number),
        Value::Str(s) => Json::String(s),
        Value::Bytes(b) => Json::String(base64(&b)),
        Value::Datetime(ns) => Json::String(rfc3339(ns)),
        Value::Json(text) => serde_json::from_str(&text).unwrap_or(Json::String(text)),
    }
}

/// A row as one JSON object (keys sorted).
pub fn row_to_json(row: Vec<Field>) -> Map<String, Json> {
    row.into_iter()
        .map(|f| (f.name, to_json(f.value)))
        .collect()
}

/// A row as one line of JSON text, without the newline.
pub fn row_to_text(row: Vec<Field>) -> String {
    Json::Object(row_to_json(row)).to_string()
}

/// A JSON value as a SQL value: integers that fit stay integers, other numbers are
/// floats, arrays and objects cross as JSON text.
pub fn from_json(v: Json) -> Value {
    match v {
        Json::Null => Value::Null,
        Json::Bool(b) => Value::Boolean(b),
        Json::Number(n) => match n.as_i64() {
            Some(i) => Value::Int(i),
            None => Value::Float(n.as_f64().unwrap_or(f64::NAN)),
        },
        Json::String(s) => Value::Str(s),
        other => Value::Json(other.to_string()),
    }
}

/// A JSON object's text as a row, or an error naming what the text is instead.
pub fn row_from_text(text: &str) -> Result<Vec<Field>, String> {
    match serde_json::from_str::<Json>(text) {
        Ok(Json::Object(obj)) => Ok(obj
            .into_iter()
            .map(|(name, v)| Field {
                name,
                value: from_json(v),
            })
            .collect()),
        Ok(other) => Err(format!("not a JSON object: {}", kind(&other))),
        Err(e) => Err(format!("not JSON: {e}")),
    }
}

fn kind(v: &Json) -> &'static str {
    match v {
        Json::Null => "null",
        Json::Bool(_) => "a boolean",
        Json::Number(_) => "a number",
        Json::String(_) => "a string",
        Json::Array(_) => "an array",
        Json::Object(_) => "an object",
    }
}

/// Days since 1970-01-01 to (year, month, day), proleptic Gregorian (Howard Hinnant's
/// `civil_from_days`), so datetimes print as the host prints them without a date crate.
fn civil(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

/// RFC 3339 in UTC, with as many fraction digits as needed (none for whole seconds).
pub fn rfc3339(ns: i64) -> String {
    let secs = ns.div_euclid(1_000_000_000);
    let frac = ns.rem_euclid(1_000_000_000);
    let (y, mo, d) = civil(secs.div_euclid(86_400));
    let s = secs.rem_euclid(86_400);
    let mut out = format!(
        "{y:04}-{mo:02}-{d:02}T{:02}:{:02}:{:02}",
        s / 3600,
        s / 60 % 60,
        s % 60
    );
    if frac > 0 {
        let digits = format!("{frac:09}");
        out.push('.');
        out.push_str(digits.trim_end_matches('0'));
    }
    out.push('Z');
    out
}

/// Standard base64 with padding.
pub fn base64(bytes: &[u8]) -> String {
    const ABC: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ABC[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodings() {
        assert_eq!(base64(b"Man"), "TWFu");
        assert_eq!(base64(b"Ma"), "TWE=");
        assert_eq!(base64(b"M"), "TQ==");
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(
            rfc3339(1_541_152_486_013_000_000),
            "2018-11-02T09:54:46.013Z"
        );
        assert_eq!(rfc3339(-1), "1969-12-31T23:59:59.999999999Z");
    }

    #[test]
    fn rows_round_trip() {
        let row = vec![
            Field {
                name: "b".into(),
                value: Value::Float(4.0),
            },
            Field {
                name: "a".into(),
                value: Value::Json("[1,2]".into()),
            },
        ];
        let text = row_to_text(row);
        assert_eq!(text, r#"{"a":[1,2],"b":4}"#);
        let back = row_from_text(&text).expect("object");
        assert_eq!(back[0].value, Value::Json("[1,2]".into()));
        assert_eq!(back[1].value, Value::Int(4));
        assert!(row_from_text("[1]").is_err_and(|e| e.contains("an array")));
    }
}
