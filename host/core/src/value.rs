//! The value model: what a field, an expression or a function argument can hold.
//!
//! Strings, bytes, arrays and objects are reference-counted so that projecting a row or
//! fanning a batch out to several sinks clones pointers, not data.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

/// An object (JSON map / STRUCT). Keys are kept sorted, as eKuiper's Go maps are when
/// they are encoded, so output is byte-for-byte stable.
pub type Object = BTreeMap<String, Value>;

#[derive(Debug, Clone, Default)]
pub enum Value {
    #[default]
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    String(Arc<str>),
    Bytes(Arc<[u8]>),
    /// Nanoseconds since the Unix epoch, UTC.
    Datetime(i64),
    Array(Arc<Vec<Value>>),
    Object(Arc<Object>),
}

impl Value {
    pub fn str(s: impl AsRef<str>) -> Value {
        Value::String(Arc::from(s.as_ref()))
    }
    pub fn array(v: Vec<Value>) -> Value {
        Value::Array(Arc::new(v))
    }
    pub fn object(o: Object) -> Value {
        Value::Object(Arc::new(o))
    }
    pub fn bytes(b: impl Into<Vec<u8>>) -> Value {
        Value::Bytes(Arc::from(b.into()))
    }
    /// Datetime from epoch milliseconds.
    pub fn datetime_ms(ms: i64) -> Value {
        Value::Datetime(ms.saturating_mul(1_000_000))
    }

    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    /// The Go-flavoured type name eKuiper uses in its error messages
    /// (`invalid operation string(abc) > int64(20)`).
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Null => "nil",
            Value::Bool(_) => "bool",
            Value::Int(_) => "int64",
            Value::Float(_) => "float64",
            Value::String(_) => "string",
            Value::Bytes(_) => "[]uint8",
            Value::Datetime(_) => "time.Time",
            Value::Array(_) => "[]interface {}",
            Value::Object(_) => "map[string]interface {}",
        }
    }

    /// `type(value)` as eKuiper prints an operand in an error message.
    pub fn describe(&self) -> String {
        match self {
            Value::Null => "<nil>".to_string(),
            other => format!("{}({})", other.type_name(), other),
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) => Some(s),
            _ => None,
        }
    }
    pub fn as_i64(&self) -> Option<i64> {
        match self {
            Value::Int(i) => Some(*i),
            _ => None,
        }
    }
    /// Numeric view: ints widen to floats.
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Value::Int(i) => Some(*i as f64),
            Value::Float(f) => Some(*f),
            _ => None,
        }
    }
    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Value::Bool(b) => Some(*b),
            _ => None,
        }
    }
    pub fn as_array(&self) -> Option<&[Value]> {
        match self {
            Value::Array(a) => Some(a),
            _ => None,
        }
    }
    pub fn as_object(&self) -> Option<&Object> {
        match self {
            Value::Object(o) => Some(o),
            _ => None,
        }
    }
    pub fn is_numeric(&self) -> bool {
        matches!(self, Value::Int(_) | Value::Float(_))
    }
}

impl PartialEq for Value {
    /// Structural equality; `Int(2) == Float(2.0)` as SQL comparison would have it.
    fn eq(&self, other: &Self) -> bool {
        use Value::*;
        match (self, other) {
            (Null, Null) => true,
            (Bool(a), Bool(b)) => a == b,
            (Int(a), Int(b)) => a == b,
            (Float(a), Float(b)) => a == b,
            (Int(a), Float(b)) | (Float(b), Int(a)) => (*a as f64) == *b,
            (String(a), String(b)) => a == b,
            (Bytes(a), Bytes(b)) => a == b,
            (Datetime(a), Datetime(b)) => a == b,
            (Array(a), Array(b)) => a == b,
            (Object(a), Object(b)) => a == b,
            _ => false,
        }
    }
}

impl fmt::Display for Value {
    /// The plain text of a value, as `cast(x AS string)` and error messages show it
    /// (Go's `%v` for scalars, JSON for arrays and objects).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Null => Ok(()),
            Value::Bool(b) => write!(f, "{b}"),
            Value::Int(i) => write!(f, "{i}"),
            Value::Float(x) => f.write_str(&crate::json::format_float(*x)),
            Value::String(s) => f.write_str(s),
            Value::Bytes(b) => {
                use base64::Engine;
                f.write_str(&base64::engine::general_purpose::STANDARD.encode(b))
            }
            Value::Datetime(ns) => f.write_str(&crate::json::format_datetime(*ns)),
            Value::Array(_) | Value::Object(_) => f.write_str(&crate::json::to_json_string(self)),
        }
    }
}

impl From<bool> for Value {
    fn from(b: bool) -> Self {
        Value::Bool(b)
    }
}
impl From<i64> for Value {
    fn from(i: i64) -> Self {
        Value::Int(i)
    }
}
impl From<f64> for Value {
    fn from(f: f64) -> Self {
        Value::Float(f)
    }
}
impl From<&str> for Value {
    fn from(s: &str) -> Self {
        Value::str(s)
    }
}
impl From<String> for Value {
    fn from(s: String) -> Self {
        Value::String(Arc::from(s))
    }
}
impl From<Vec<Value>> for Value {
    fn from(v: Vec<Value>) -> Self {
        Value::array(v)
    }
}
impl From<Object> for Value {
    fn from(o: Object) -> Self {
        Value::object(o)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numeric_equality_crosses_int_and_float() {
        assert_eq!(Value::Int(2), Value::Float(2.0));
        assert_ne!(Value::Int(2), Value::str("2"));
    }

    #[test]
    fn describe_matches_ekuiper_wording() {
        assert_eq!(Value::str("abc").describe(), "string(abc)");
        assert_eq!(Value::Int(20).describe(), "int64(20)");
        assert_eq!(Value::Float(1.5).describe(), "float64(1.5)");
    }
}
