//! Typed reading of connector properties.
//!
//! eKuiper decodes props with `cast.MapToStruct` (mapstructure, weakly typed, keys
//! matched case-insensitively), so `"interval": "500"` and `"Interval": 500` both work
//! there. [`PropReader`] accepts the same spellings, and when a value cannot be read
//! it names the prop, the connector and the expected type, so a user can fix the
//! config without reading source code.

use tributary_core::connector::Props;
use tributary_core::{Error, Result, Value};

/// A view over one connector's props. `owner` (`"file source"`, `"memory sink"`) is
/// put into every error message.
#[derive(Debug, Clone, Copy)]
pub struct PropReader<'a> {
    props: &'a Props,
    owner: &'a str,
}

impl<'a> PropReader<'a> {
    pub fn new(props: &'a Props, owner: &'a str) -> Self {
        PropReader { props, owner }
    }

    /// The raw value of `name`: an exact key first, then a case-insensitive match (as
    /// mapstructure does). `null` reads as absent, so a YAML `key:` with no value
    /// falls back to the default.
    pub fn value(&self, name: &str) -> Option<&'a Value> {
        let found = self.props.get(name).or_else(|| {
            self.props
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(name))
                .map(|(_, v)| v)
        });
        found.filter(|v| !v.is_null())
    }

    /// The error for a prop that is present but of the wrong type or range.
    pub fn invalid(&self, name: &str, expected: &str, got: &Value) -> Error {
        Error::user(format!(
            "invalid property \"{name}\" of {}: expected {expected}, got {}",
            self.owner,
            got.describe()
        ))
    }

    /// The error for a prop whose value is well typed but not acceptable.
    pub fn rejected(&self, name: &str, why: impl std::fmt::Display) -> Error {
        Error::user(format!(
            "invalid property \"{name}\" of {}: {why}",
            self.owner
        ))
    }

    /// The error for a required prop that is missing.
    pub fn missing(&self, name: &str) -> Error {
        Error::user(format!("missing property \"{name}\" of {}", self.owner))
    }

    /// A string prop. Numbers and booleans are accepted and turned into their text,
    /// as a weakly typed decoder would.
    pub fn string(&self, name: &str) -> Result<Option<String>> {
        match self.value(name) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.to_string())),
            Some(v @ (Value::Int(_) | Value::Float(_) | Value::Bool(_))) => Ok(Some(v.to_string())),
            Some(v) => Err(self.invalid(name, "a string", v)),
        }
    }

    /// A boolean prop: `true`/`false`, or a string or number that spells one.
    pub fn bool(&self, name: &str) -> Result<Option<bool>> {
        match self.value(name) {
            None => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(Value::Int(i)) => Ok(Some(*i != 0)),
            Some(v @ Value::String(s)) => match s.trim().to_ascii_lowercase().as_str() {
                "true" | "1" | "t" | "yes" => Ok(Some(true)),
                "false" | "0" | "f" | "no" | "" => Ok(Some(false)),
                _ => Err(self.invalid(name, "a boolean", v)),
            },
            Some(v) => Err(self.invalid(name, "a boolean", v)),
        }
    }

    /// An integer prop: an integer, a whole float, or a string holding one.
    pub fn int(&self, name: &str) -> Result<Option<i64>> {
        match self.value(name) {
            None => Ok(None),
            Some(v) => as_int(v)
                .map(Some)
                .ok_or_else(|| self.invalid(name, "an integer", v)),
        }
    }

    /// A non-negative integer prop.
    pub fn non_negative(&self, name: &str) -> Result<Option<u64>> {
        match self.value(name) {
            None => Ok(None),
            Some(v) => as_int(v)
                .and_then(|i| u64::try_from(i).ok())
                .map(Some)
                .ok_or_else(|| self.invalid(name, "a non-negative integer", v)),
        }
    }

    /// A duration in milliseconds: an integer (ms, eKuiper's unit) or a string with a
    /// unit (`500ms`, `2s`, `1m`, `1h`), as eKuiper 2 also accepts.
    pub fn duration_ms(&self, name: &str) -> Result<Option<u64>> {
        let expected = "a duration in milliseconds (e.g. 500 or \"2s\")";
        match self.value(name) {
            None => Ok(None),
            Some(v @ Value::String(s)) => parse_duration_ms(s)
                .map(Some)
                .ok_or_else(|| self.invalid(name, expected, v)),
            Some(v) => as_int(v)
                .and_then(|i| u64::try_from(i).ok())
                .map(Some)
                .ok_or_else(|| self.invalid(name, expected, v)),
        }
    }

    /// A list of strings: a JSON/YAML array of strings, or one comma-separated string.
    pub fn string_list(&self, name: &str) -> Result<Option<Vec<String>>> {
        let expected = "a list of strings";
        match self.value(name) {
            None => Ok(None),
            Some(Value::Array(items)) => items
                .iter()
                .map(|item| match item {
                    Value::String(s) => Ok(s.to_string()),
                    other => Err(self.invalid(name, expected, other)),
                })
                .collect::<Result<Vec<_>>>()
                .map(Some),
            Some(Value::String(s)) => Ok(Some(
                s.split(',')
                    .map(|p| p.trim().to_string())
                    .filter(|p| !p.is_empty())
                    .collect(),
            )),
            Some(v) => Err(self.invalid(name, expected, v)),
        }
    }
}

/// An integer view of a value, as a weakly typed decoder reads it.
fn as_int(v: &Value) -> Option<i64> {
    match v {
        Value::Int(i) => Some(*i),
        Value::Float(f) if f.fract() == 0.0 && f.is_finite() => Some(*f as i64),
        Value::String(s) => s.trim().parse::<i64>().ok(),
        _ => None,
    }
}

/// Parses `500`, `500ms`, `2s`, `1.5s`, `3m`, `1h` into milliseconds.
fn parse_duration_ms(s: &str) -> Option<u64> {
    let s = s.trim();
    let split = s
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(s.len());
    let (num, unit) = s.split_at(split);
    let n: f64 = num.parse().ok()?;
    let factor = match unit.trim() {
        "" | "ms" => 1.0,
        "s" => 1_000.0,
        "m" => 60_000.0,
        "h" => 3_600_000.0,
        _ => return None,
    };
    let ms = n * factor;
    (ms.is_finite() && ms >= 0.0).then_some(ms.round() as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn props(pairs: &[(&str, Value)]) -> Props {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect()
    }

    #[test]
    fn weak_typing_and_case_insensitive_keys() {
        let p = props(&[
            ("Interval", Value::str("500")),
            ("loop", Value::str("false")),
            ("columns", Value::str("a, b")),
        ]);
        let r = PropReader::new(&p, "test source");
        assert_eq!(r.int("interval").expect("int"), Some(500));
        assert_eq!(r.bool("loop").expect("bool"), Some(false));
        assert_eq!(
            r.string_list("columns").expect("list"),
            Some(vec!["a".to_string(), "b".to_string()])
        );
        assert_eq!(r.int("absent").expect("absent"), None);
    }

    #[test]
    fn durations_accept_units() {
        assert_eq!(parse_duration_ms("250"), Some(250));
        assert_eq!(parse_duration_ms("2s"), Some(2000));
        assert_eq!(parse_duration_ms("1.5s"), Some(1500));
        assert_eq!(parse_duration_ms("1m"), Some(60_000));
        assert_eq!(parse_duration_ms("soon"), None);
    }

    #[test]
    fn errors_name_prop_owner_and_type() {
        let p = props(&[("interval", Value::str("often"))]);
        let err = PropReader::new(&p, "file source")
            .int("interval")
            .expect_err("bad int");
        assert_eq!(
            err.to_string(),
            "invalid property \"interval\" of file source: expected an integer, got string(often)"
        );
    }
}
