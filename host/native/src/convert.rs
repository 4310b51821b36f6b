//! Engine values ↔ C-layout values.
//!
//! Going in, scalars are copied into a `tp_value` and text is lent (pointers into the
//! engine's own strings), so a batch of numbers crosses without serialisation; arrays
//! and objects are rendered as JSON into a keep-alive list. Coming back, everything is
//! copied out at once, since the plugin's memory is valid only until its next call.

use std::sync::Arc;
use tributary_core::function::Column;
use tributary_core::{json, Value};
use tributary_native_abi as abi;
use tributary_plugin::typed::{typed, Flat, Typed};

/// Owned text that lent values point into; must outlive the call.
#[derive(Default)]
pub struct Keep(Vec<String>);

impl Keep {
    pub fn clear(&mut self) {
        self.0.clear();
    }
}

/// A value as the ABI sees it, borrowing `v` (and `keep` for nested values).
pub fn to_abi(v: &Value, keep: &mut Keep) -> abi::Value {
    match v {
        Value::Null => abi::Value::NULL,
        Value::Bool(b) => abi::Value::bool(*b),
        Value::Int(i) => abi::Value::int(*i),
        Value::Float(f) => abi::Value::float(*f),
        Value::Datetime(ns) => abi::Value::datetime(*ns),
        Value::String(s) => abi::Value::slice(abi::KIND_STR, abi::Slice::str(s)),
        Value::Bytes(b) => abi::Value::slice(abi::KIND_BYTES, abi::Slice::new(b)),
        Value::Array(_) | Value::Object(_) => {
            // The String's heap buffer does not move when the Vec grows.
            keep.0.push(json::to_json_string(v));
            let s = keep.0.last().map(String::as_str).unwrap_or("");
            abi::Value::slice(abi::KIND_JSON, abi::Slice::str(s))
        }
    }
}

fn utf8(bytes: &[u8], what: &str) -> Result<Arc<str>, String> {
    std::str::from_utf8(bytes)
        .map(Arc::from)
        .map_err(|_| format!("the plugin returned {what} that is not UTF-8"))
}

/// A plugin's value copied into the engine's model; `TP_ERROR` is the row's error.
///
/// # Safety
/// `v` is valid and its slices point to readable memory for the duration of the call.
pub unsafe fn from_abi(v: &abi::Value) -> Result<Value, String> {
    // SAFETY: the kind says which member is set; slices are valid per the caller.
    unsafe {
        Ok(match v.kind {
            abi::KIND_NULL => Value::Null,
            abi::KIND_BOOL => Value::Bool(v.data.b != 0),
            abi::KIND_INT => Value::Int(v.data.i),
            abi::KIND_FLOAT => Value::Float(v.data.f),
            abi::KIND_DATETIME => Value::Datetime(v.data.i),
            abi::KIND_STR => Value::String(utf8(v.data.s.as_bytes(), "text")?),
            abi::KIND_BYTES => Value::bytes(v.data.s.as_bytes().to_vec()),
            abi::KIND_JSON => {
                let text = utf8(v.data.s.as_bytes(), "JSON")?;
                json::parse(&text).map_err(|e| format!("the plugin returned invalid JSON: {e}"))?
            }
            abi::KIND_ERROR => return Err(v.data.s.to_string_lossy()),
            other => {
                return Err(format!(
                    "the plugin returned a value of unknown kind {other}"
                ))
            }
        })
    }
}

/// Version-1 argument columns lent to a plugin: the values and the column headers
/// pointing at them. Reused from batch to batch, so a call allocates nothing once warm.
#[derive(Default)]
pub struct Columns {
    values: Vec<Vec<abi::Value>>,
    pub headers: Vec<abi::v1::Column>,
}

// SAFETY: the pointers inside are dereferenced only during the call that follows
// `fill`, on the thread that filled them; between calls they are stale and only
// overwritten by the next `fill`.
unsafe impl Send for Columns {}

impl Columns {
    /// Lends `args` (and `keep` for nested values); valid until they change.
    pub fn fill(&mut self, args: &[Column], keep: &mut Keep) {
        self.values.resize_with(args.len(), Vec::new);
        for (c, vs) in args.iter().zip(self.values.iter_mut()) {
            vs.clear();
            match c {
                Column::Scalar(v) => vs.push(to_abi(v, keep)),
                Column::Values(items) => vs.extend(items.iter().map(|v| to_abi(v, keep))),
            }
        }
        self.headers.clear();
        self.headers.extend(
            args.iter()
                .zip(&self.values)
                .map(|(c, vs)| abi::v1::Column {
                    is_scalar: matches!(c, Column::Scalar(_)) as u32,
                    _reserved: 0,
                    values: vs.as_ptr(),
                    len: vs.len(),
                }),
        );
    }
}

/// Version-2 argument columns lent for one call: typed where every row is one type
/// ([`tributary_plugin::typed`], shared with the wasm tier), values otherwise. Typed
/// lists are lent in place: a Rust `bool` is one byte holding 0 or 1, the ABI's form
/// of booleans and null flags, so neither is copied.
#[derive(Default)]
pub struct TypedColumns<'a> {
    typed: Vec<Option<Typed<'a>>>,
    values: Vec<Vec<abi::Value>>,
    slices: Vec<Vec<abi::Slice>>,
    pub headers: Vec<abi::Column>,
}

impl<'a> TypedColumns<'a> {
    /// Lends `args` (and `keep` for nested values) for one call.
    pub fn new(args: &'a [Column], keep: &mut Keep) -> Self {
        let mut c = TypedColumns {
            typed: args.iter().map(typed).collect(),
            ..TypedColumns::default()
        };
        for (col, t) in args.iter().zip(&c.typed) {
            let mut values = Vec::new();
            let mut slices = Vec::new();
            match (t, col) {
                (None, Column::Scalar(v)) => values.push(to_abi(v, keep)),
                (None, Column::Values(items)) => {
                    values.extend(items.iter().map(|v| to_abi(v, keep)))
                }
                (Some(t), _) => match &t.flat {
                    Flat::Strs(v) => slices.extend(v.iter().map(|s| abi::Slice::str(s))),
                    Flat::Bytes(v) => slices.extend(v.iter().map(|b| abi::Slice::new(b))),
                    _ => {}
                },
            }
            c.values.push(values);
            c.slices.push(slices);
        }
        for (i, col) in args.iter().enumerate() {
            let nulls = c.typed[i].as_ref().map_or(&[][..], |t| &t.nulls[..]);
            let (form, data): (u32, *const std::ffi::c_void) = match &c.typed[i] {
                None if matches!(col, Column::Scalar(_)) => (abi::COL_SCALAR, std::ptr::null()),
                None => (abi::COL_VALUES, std::ptr::null()),
                Some(t) => match &t.flat {
                    Flat::Ints(v) => (abi::COL_INTS, v.as_ptr().cast()),
                    Flat::Floats(v) => (abi::COL_FLOATS, v.as_ptr().cast()),
                    Flat::Datetimes(v) => (abi::COL_DATETIMES, v.as_ptr().cast()),
                    Flat::Bools(v) => (abi::COL_BOOLS, v.as_ptr().cast()),
                    Flat::Strs(_) => (abi::COL_STRS, c.slices[i].as_ptr().cast()),
                    Flat::Bytes(_) => (abi::COL_BYTES, c.slices[i].as_ptr().cast()),
                },
            };
            let len = match col {
                Column::Scalar(_) => 1,
                Column::Values(v) => v.len(),
            };
            c.headers.push(abi::Column {
                form,
                _reserved: 0,
                values: c.values[i].as_ptr(),
                data,
                nulls: if nulls.is_empty() {
                    std::ptr::null()
                } else {
                    nulls.as_ptr().cast()
                },
                len,
            });
        }
        c
    }
}

/// Columns lent for one call.
pub fn columns(args: &[Column], keep: &mut Keep) -> Columns {
    let mut c = Columns::default();
    c.fill(args, keep);
    c
}

/// A row's fields lent to a plugin (names point into the row).
pub fn row_fields(fields: &[(Arc<str>, Value)], keep: &mut Keep) -> Vec<abi::Field> {
    fields
        .iter()
        .map(|(k, v)| abi::Field {
            name: abi::Slice::str(k),
            value: to_abi(v, keep),
        })
        .collect()
}

/// Fields a plugin handed back, copied into an object.
///
/// # Safety
/// `ptr` points to `len` valid fields (or is null with 0).
pub unsafe fn object_from_abi(
    ptr: *const abi::Field,
    len: usize,
) -> Result<tributary_core::Object, String> {
    if ptr.is_null() || len == 0 {
        return Ok(tributary_core::Object::new());
    }
    // SAFETY: per the caller.
    let fields = unsafe { std::slice::from_raw_parts(ptr, len) };
    fields
        .iter()
        .map(|f| {
            // SAFETY: per the caller.
            let name = unsafe { utf8(f.name.as_bytes(), "a field name")? };
            // SAFETY: per the caller.
            let value = unsafe { from_abi(&f.value)? };
            Ok((name.to_string(), value))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_round_trip_without_loss() {
        let mut keep = Keep::default();
        for v in [
            Value::Null,
            Value::Bool(true),
            Value::Int(-3),
            Value::Float(1.5),
            Value::str("héllo"),
            Value::bytes(vec![1, 2]),
            Value::Datetime(5),
            json::parse(r#"{"a":[1,2]}"#).expect("json"),
        ] {
            let raw = to_abi(&v, &mut keep);
            // SAFETY: `raw` borrows `v` and `keep`, both alive.
            assert_eq!(unsafe { from_abi(&raw) }, Ok(v.clone()));
        }
    }

    #[test]
    fn error_values_become_row_errors() {
        let msg = "boom";
        let raw = abi::Value::slice(abi::KIND_ERROR, abi::Slice::str(msg));
        // SAFETY: borrows `msg`.
        assert_eq!(unsafe { from_abi(&raw) }, Err("boom".to_string()));
    }
}
