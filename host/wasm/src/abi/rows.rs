//! Per-row results lifted from a guest's memory: `list<result<value, string>>` read in
//! one pass, the common scalar results in place.

use crate::abi::{MAX_VALUE_BYTES, OK_PAYLOAD, VALUE_PAYLOAD};
use crate::bindings::types_api as wit;
use crate::convert::from_wit;
use tributary_core::function::RowResult;
use tributary_core::Value;
use wasmtime::component::__internal::{CanonicalAbiInfo, InstanceType, InterfaceType, LiftContext};
use wasmtime::component::{ComponentType, Lift};

/// `exec`'s `list<result<value, string>>`, lifted into the engine's model in one pass
/// over guest memory: a scalar result is read in place, anything else goes through
/// wasmtime's own lifting of that element. A value that is too large, or JSON that
/// does not parse, becomes that row's error.
pub struct RowList(pub Vec<RowResult>);

pub(crate) type WitRow = Result<wit::Value, String>;
type WitRows = Vec<WitRow>;

// SAFETY: the type and its ABI are those of `WitRows`, checked by its own typecheck;
// lifting reads the list as wasmtime's `WasmList` does (bounds, alignment, fuel).
unsafe impl ComponentType for RowList {
    type Lower = <WitRows as ComponentType>::Lower;
    const ABI: CanonicalAbiInfo = <WitRows as ComponentType>::ABI;

    fn typecheck(ty: &InterfaceType, types: &InstanceType<'_>) -> wasmtime::Result<()> {
        <WitRows as ComponentType>::typecheck(ty, types)
    }
}

// SAFETY: as above.
unsafe impl Lift for RowList {
    fn linear_lift_from_flat(
        cx: &mut LiftContext<'_>,
        ty: InterfaceType,
        src: &Self::Lower,
    ) -> wasmtime::Result<Self> {
        let [ptr, len] = src;
        lift_rows(cx, ty, ptr.get_u32(), len.get_u32())
    }

    fn linear_lift_from_memory(
        cx: &mut LiftContext<'_>,
        ty: InterfaceType,
        bytes: &[u8],
    ) -> wasmtime::Result<Self> {
        let word = |at: usize| -> wasmtime::Result<u32> {
            let b: [u8; 4] = bytes
                .get(at..at + 4)
                .and_then(|b| b.try_into().ok())
                .ok_or_else(|| wasmtime::format_err!("truncated list pointer"))?;
            Ok(u32::from_le_bytes(b))
        };
        lift_rows(cx, ty, word(0)?, word(4)?)
    }
}

fn lift_rows(
    cx: &mut LiftContext<'_>,
    ty: InterfaceType,
    ptr: u32,
    len: u32,
) -> wasmtime::Result<RowList> {
    let elem = match ty {
        InterfaceType::List(i) => cx.types[i].element,
        _ => wasmtime::bail!("type mismatch: expected a list"),
    };
    let (ptr, len) = (ptr as usize, len as usize);
    let size = <WitRow as ComponentType>::SIZE32;
    let memory = cx.memory();
    let end = len.checked_mul(size).and_then(|n| ptr.checked_add(n));
    match end {
        Some(end) if end <= memory.len() => cx.consume_fuel_array(len, size_of::<RowResult>())?,
        _ => wasmtime::bail!("list pointer/length out of bounds of memory"),
    }
    if ptr % <WitRow as ComponentType>::ALIGN32 as usize != 0 {
        wasmtime::bail!("list pointer is not aligned");
    }
    let mut rows = Vec::with_capacity(len);
    for at in (ptr..ptr + len * size).step_by(size) {
        let bytes = &memory[at..at + size];
        rows.push(match scalar_result(bytes) {
            Some(v) => Ok(v),
            None => row_from_wit(WitRow::linear_lift_from_memory(cx, elem, bytes)?),
        });
    }
    Ok(RowList(rows))
}

fn row_from_wit(r: WitRow) -> RowResult {
    let r = r.and_then(|v| {
        let size = match &v {
            wit::Value::Str(s) | wit::Value::Json(s) => s.len(),
            wit::Value::Bytes(b) => b.len(),
            _ => 0,
        };
        if size > MAX_VALUE_BYTES {
            Err(format!(
                "the plugin returned a value larger than {} MiB",
                MAX_VALUE_BYTES >> 20
            ))
        } else {
            from_wit(v)
        }
    });
    r.map_err(tributary_core::function::RowError::Failed)
}

/// The common case read in place: an `ok` holding a null, a boolean, a number or a
/// datetime (the case numbers are the order of `variant value` in `wit/types.wit`).
/// Anything else, or any byte out of place, goes through the generic lifting, which
/// also does the validation.
#[inline]
fn scalar_result(bytes: &[u8]) -> Option<Value> {
    if *bytes.first()? != 0 {
        return None;
    }
    let value = bytes.get(OK_PAYLOAD..)?;
    let word = || {
        value
            .get(VALUE_PAYLOAD..VALUE_PAYLOAD + 8)
            .and_then(|b| b.try_into().ok())
            .map(i64::from_le_bytes)
    };
    match *value.first()? {
        0 => Some(Value::Null),
        1 => match value.get(VALUE_PAYLOAD)? {
            0 => Some(Value::Bool(false)),
            1 => Some(Value::Bool(true)),
            _ => None,
        },
        2 => word().map(Value::Int),
        3 => word().map(|w| Value::Float(f64::from_bits(w as u64))),
        6 => word().map(Value::Datetime),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::abi::value::ValueRef;

    #[test]
    fn value_refs_match_the_wit_conversion() {
        for v in crate::convert::every_kind() {
            let via_ref = match ValueRef::from(&v) {
                ValueRef::Null => wit::Value::Null,
                ValueRef::Boolean(b) => wit::Value::Boolean(b),
                ValueRef::Int(i) => wit::Value::Int(i),
                ValueRef::Float(f) => wit::Value::Float(f),
                ValueRef::Str(s) => wit::Value::Str(s.to_string()),
                ValueRef::Bytes(b) => wit::Value::Bytes(b.to_vec()),
                ValueRef::Datetime(ns) => wit::Value::Datetime(ns),
                ValueRef::Json(j) => wit::Value::Json(j),
            };
            assert_eq!(from_wit(via_ref), Ok(v));
        }
    }

    /// A `result<value, string>` as it sits in guest memory: `ok`, value case `case`,
    /// the 8 payload bytes.
    fn in_memory(tag: u8, case: u8, payload: [u8; 8]) -> Vec<u8> {
        let mut b = vec![0u8; <WitRow as ComponentType>::SIZE32];
        b[0] = tag;
        b[OK_PAYLOAD] = case;
        b[OK_PAYLOAD + VALUE_PAYLOAD..OK_PAYLOAD + VALUE_PAYLOAD + 8].copy_from_slice(&payload);
        b
    }

    #[test]
    fn scalar_results_are_read_in_place() {
        let read = |case, payload| scalar_result(&in_memory(0, case, payload));
        assert_eq!(read(0, [0; 8]), Some(Value::Null));
        assert_eq!(read(1, [1, 0, 0, 0, 0, 0, 0, 0]), Some(Value::Bool(true)));
        assert_eq!(read(1, [0; 8]), Some(Value::Bool(false)));
        assert_eq!(read(2, (-7i64).to_le_bytes()), Some(Value::Int(-7)));
        assert_eq!(
            read(3, 2.5f64.to_bits().to_le_bytes()),
            Some(Value::Float(2.5))
        );
        assert_eq!(read(6, 9i64.to_le_bytes()), Some(Value::Datetime(9)));
        // Left to the generic lifting: a bad boolean, strings, JSON, errors.
        assert_eq!(read(1, [2, 0, 0, 0, 0, 0, 0, 0]), None);
        assert_eq!(read(4, [0; 8]), None);
        assert_eq!(read(7, [0; 8]), None);
        assert_eq!(scalar_result(&in_memory(1, 2, [0; 8])), None);
        assert_eq!(scalar_result(&[]), None);
    }

    #[test]
    fn oversized_and_malformed_results_become_row_errors() {
        let big = "x".repeat(MAX_VALUE_BYTES + 1);
        let r = row_from_wit(Ok(wit::Value::Str(big)));
        assert!(r
            .expect_err("too big")
            .to_string()
            .contains("larger than 4 MiB"));
        let r = row_from_wit(Ok(wit::Value::Json("{".into())));
        assert!(r
            .expect_err("bad json")
            .to_string()
            .contains("invalid JSON"));
        assert_eq!(row_from_wit(Err("boom".into())), Err("boom".into()));
        assert_eq!(row_from_wit(Ok(wit::Value::Int(2))), Ok(Value::Int(2)));
    }
}
