//! Engine values lowered into a guest's memory as the WIT `value`, one at a time on
//! the stack: only arrays and objects allocate (their JSON text).

use crate::abi::VALUE_PAYLOAD;
use std::mem::MaybeUninit;
use tributary_core::{json, Value};
use wasmtime::component::__internal::{
    CanonicalAbiInfo, InstanceType, InterfaceType, LowerContext,
};
use wasmtime::component::{ComponentType, Lower};

/// The WIT `value`, borrowing the engine value it is lowered from: built on the stack
/// for one value at a time. Only arrays and objects allocate (their JSON text).
#[derive(ComponentType, Lower)]
#[component(variant)]
pub enum ValueRef<'a> {
    #[component(name = "null")]
    Null,
    #[component(name = "boolean")]
    Boolean(bool),
    #[component(name = "int")]
    Int(i64),
    #[component(name = "float")]
    Float(f64),
    #[component(name = "str")]
    Str(&'a str),
    #[component(name = "bytes")]
    Bytes(&'a [u8]),
    #[component(name = "datetime")]
    Datetime(i64),
    #[component(name = "json")]
    Json(String),
}

impl<'a> From<&'a Value> for ValueRef<'a> {
    fn from(v: &'a Value) -> Self {
        match v {
            Value::Null => ValueRef::Null,
            Value::Bool(b) => ValueRef::Boolean(*b),
            Value::Int(i) => ValueRef::Int(*i),
            Value::Float(f) => ValueRef::Float(*f),
            Value::String(s) => ValueRef::Str(s),
            Value::Bytes(b) => ValueRef::Bytes(b),
            Value::Datetime(ns) => ValueRef::Datetime(*ns),
            Value::Array(_) | Value::Object(_) => ValueRef::Json(json::to_json_string(v)),
        }
    }
}

/// An engine value as a WIT `value` argument.
#[repr(transparent)]
pub struct ArgValue(Value);

impl ArgValue {
    pub fn slice(vs: &[Value]) -> &[ArgValue] {
        // SAFETY: `ArgValue` is `repr(transparent)` over `Value`, so both slices have
        // the same layout, and the lifetime is carried over.
        unsafe { &*(vs as *const [Value] as *const [ArgValue]) }
    }

    pub fn one(v: &Value) -> &ArgValue {
        // SAFETY: as in `slice`.
        unsafe { &*(v as *const Value as *const ArgValue) }
    }
}

// SAFETY: every item delegates to `ValueRef`, whose impl the derive macro wrote; the
// value is only converted on the way.
unsafe impl ComponentType for ArgValue {
    type Lower = <ValueRef<'static> as ComponentType>::Lower;
    const ABI: CanonicalAbiInfo = <ValueRef<'static> as ComponentType>::ABI;

    fn typecheck(ty: &InterfaceType, types: &InstanceType<'_>) -> wasmtime::Result<()> {
        <ValueRef<'static> as ComponentType>::typecheck(ty, types)
    }
}

// SAFETY: as above.
unsafe impl Lower for ArgValue {
    fn linear_lower_to_flat<T>(
        &self,
        cx: &mut LowerContext<'_, T>,
        ty: InterfaceType,
        dst: &mut MaybeUninit<Self::Lower>,
    ) -> wasmtime::Result<()> {
        ValueRef::from(&self.0).linear_lower_to_flat(cx, ty, dst)
    }

    fn linear_lower_to_memory<T>(
        &self,
        cx: &mut LowerContext<'_, T>,
        ty: InterfaceType,
        offset: usize,
    ) -> wasmtime::Result<()> {
        ValueRef::from(&self.0).linear_lower_to_memory(cx, ty, offset)
    }

    /// A column in one pass over guest memory: scalars are written in place (case
    /// byte, then the payload), anything else through the derived lowering, which may
    /// call the guest's allocator (so memory is looked up again after it).
    fn linear_store_list_to_memory<T>(
        cx: &mut LowerContext<'_, T>,
        ty: InterfaceType,
        offset: usize,
        items: &[Self],
    ) -> wasmtime::Result<()> {
        let size = Self::SIZE32;
        let mut memory = cx.as_slice_mut();
        for (i, item) in items.iter().enumerate() {
            let at = offset + i * size;
            let (case, payload) = match &item.0 {
                Value::Null => (0u8, 0u64),
                Value::Bool(b) => (1, u64::from(*b)),
                Value::Int(n) => (2, *n as u64),
                Value::Float(f) => (3, f.to_bits()),
                Value::Datetime(ns) => (6, *ns as u64),
                other => {
                    ValueRef::from(other).linear_lower_to_memory(cx, ty, at)?;
                    memory = cx.as_slice_mut();
                    continue;
                }
            };
            let slot = memory
                .get_mut(at..at + size)
                .ok_or_else(|| wasmtime::format_err!("list out of bounds of memory"))?;
            slot[0] = case;
            match case {
                0 => {}
                // A boolean is one byte; the rest of the slot is padding.
                1 => slot[VALUE_PAYLOAD] = payload as u8,
                _ => slot[VALUE_PAYLOAD..VALUE_PAYLOAD + 8].copy_from_slice(&payload.to_le_bytes()),
            }
        }
        Ok(())
    }
}
