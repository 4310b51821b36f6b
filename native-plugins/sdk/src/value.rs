//! Values across the boundary: borrowed on the way in, owned on the way out.

use crate::abi;

/// A value the host lent for the duration of a call. Scalars are read in place; text
/// and bytes point into the host's memory.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ValueRef<'a> {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(&'a str),
    Bytes(&'a [u8]),
    /// Nanoseconds since the Unix epoch, UTC.
    Datetime(i64),
    /// An array or an object, as JSON text.
    Json(&'a str),
}

impl<'a> ValueRef<'a> {
    /// Reads a host value.
    ///
    /// # Safety
    /// `v` is a valid `tp_value` whose slices outlive `'a`.
    pub unsafe fn from_abi(v: &abi::Value) -> ValueRef<'a> {
        // SAFETY: the kind says which member is set; slices are valid per the caller.
        unsafe {
            match v.kind {
                abi::KIND_BOOL => ValueRef::Bool(v.data.b != 0),
                abi::KIND_INT => ValueRef::Int(v.data.i),
                abi::KIND_FLOAT => ValueRef::Float(v.data.f),
                abi::KIND_DATETIME => ValueRef::Datetime(v.data.i),
                abi::KIND_STR => ValueRef::Str(as_str(v.data.s)),
                abi::KIND_JSON => ValueRef::Json(as_str(v.data.s)),
                abi::KIND_BYTES => ValueRef::Bytes(v.data.s.as_bytes()),
                _ => ValueRef::Null,
            }
        }
    }

    /// An owned copy.
    pub fn to_owned(&self) -> Value {
        match *self {
            ValueRef::Null => Value::Null,
            ValueRef::Bool(b) => Value::Bool(b),
            ValueRef::Int(i) => Value::Int(i),
            ValueRef::Float(f) => Value::Float(f),
            ValueRef::Str(s) => Value::Str(s.to_string()),
            ValueRef::Bytes(b) => Value::Bytes(b.to_vec()),
            ValueRef::Datetime(t) => Value::Datetime(t),
            ValueRef::Json(s) => Value::Json(s.to_string()),
        }
    }
}

/// # Safety
/// As [`abi::Slice::as_bytes`].
unsafe fn as_str<'a>(s: abi::Slice) -> &'a str {
    // The host only sends UTF-8 text; anything else reads as empty rather than UB.
    // SAFETY: per the caller.
    std::str::from_utf8(unsafe { s.as_bytes() }).unwrap_or("")
}

/// A value a plugin returns or stores.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    Bytes(Vec<u8>),
    /// Nanoseconds since the Unix epoch, UTC.
    Datetime(i64),
    /// An array or an object, as JSON text.
    Json(String),
}

impl Value {
    /// This value as the ABI sees it, borrowing its text.
    pub fn to_abi(&self) -> abi::Value {
        match self {
            Value::Null => abi::Value::NULL,
            Value::Bool(b) => abi::Value::bool(*b),
            Value::Int(i) => abi::Value::int(*i),
            Value::Float(f) => abi::Value::float(*f),
            Value::Datetime(t) => abi::Value::datetime(*t),
            Value::Str(s) => abi::Value::slice(abi::KIND_STR, abi::Slice::str(s)),
            Value::Json(s) => abi::Value::slice(abi::KIND_JSON, abi::Slice::str(s)),
            Value::Bytes(b) => abi::Value::slice(abi::KIND_BYTES, abi::Slice::new(b)),
        }
    }

    pub fn as_ref(&self) -> ValueRef<'_> {
        match self {
            Value::Null => ValueRef::Null,
            Value::Bool(b) => ValueRef::Bool(*b),
            Value::Int(i) => ValueRef::Int(*i),
            Value::Float(f) => ValueRef::Float(*f),
            Value::Str(s) => ValueRef::Str(s),
            Value::Bytes(b) => ValueRef::Bytes(b),
            Value::Datetime(t) => ValueRef::Datetime(*t),
            Value::Json(s) => ValueRef::Json(s),
        }
    }
}

/// A row result as the ABI sees it: an error is a `TP_ERROR` value.
pub(crate) fn result_to_abi(r: &Result<Value, String>) -> abi::Value {
    match r {
        Ok(v) => v.to_abi(),
        Err(e) => abi::Value::slice(abi::KIND_ERROR, abi::Slice::str(e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_round_trip_through_the_abi() {
        let vals = [
            Value::Null,
            Value::Bool(true),
            Value::Int(-3),
            Value::Float(1.5),
            Value::Str("héllo".into()),
            Value::Bytes(vec![0, 1, 255]),
            Value::Datetime(1_700_000_000_000_000_000),
            Value::Json("[1,2]".into()),
        ];
        for v in &vals {
            let raw = v.to_abi();
            // SAFETY: `raw` borrows `v`, alive here.
            let back = unsafe { ValueRef::from_abi(&raw) }.to_owned();
            assert_eq!(&back, v);
        }
    }
}
