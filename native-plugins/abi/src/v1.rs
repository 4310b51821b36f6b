//! Version 1 of the ABI, frozen: what a plugin built against it was compiled with.
//!
//! Only what version 2 changed is here; everything else ([`Slice`], [`Value`],
//! [`ArgInfo`], [`Field`], [`Row`], [`Message`], [`Pulled`], [`SinkVtable`]) is the
//! same in both. A version-1 plugin gets the version-2 host table: its first fields
//! are [`Host`]'s exactly, and the plugin never reads past them.

use super::{ArgInfo, Field, FunctionDef, Message, Pulled, Row, SinkVtable, Slice, Value};
use std::ffi::c_void;
use std::mem::{offset_of, size_of};

pub const ABI_VERSION: u32 = 1;

/// The fingerprint every version-1 plugin carries (its layout on 64-bit Linux, as
/// the version-1 header computed it). Frozen: [`layout_fingerprint`] must keep
/// giving it.
pub const LAYOUT_FINGERPRINT: u32 = 3686635865;

/// A version-1 argument column: a constant or one value per row.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct Column {
    pub is_scalar: u32,
    pub _reserved: u32,
    pub values: *const Value,
    pub len: usize,
}

#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct Group {
    pub args: *const Column,
    pub nargs: usize,
    pub rows: usize,
}

/// The version-1 host table: the version-2 one without its last entries.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct Host {
    pub abi_version: u32,
    pub _reserved: u32,
    pub ctx: *mut c_void,
    pub put_state: usize,
    pub get_state: usize,
    pub delete_state: usize,
    pub incr_counter: usize,
    pub get_counter: usize,
    pub rule_id: usize,
    pub operator_id: usize,
    pub instance_id: usize,
    /// `<root>/etc/<kind>/<name>` in version 1.
    pub root_path: usize,
    pub log: usize,
}

#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct FunctionVtable {
    pub functions: *const FunctionDef,
    pub nfunctions: usize,
    pub validate: unsafe extern "C" fn(
        name: Slice,
        args: *const ArgInfo,
        nargs: usize,
        err: *mut Slice,
    ) -> i32,
    pub create:
        unsafe extern "C" fn(host: *const super::Host, name: Slice, err: *mut Slice) -> *mut c_void,
    /// Fills exactly `rows` values into `out`.
    pub exec: unsafe extern "C" fn(
        inst: *mut c_void,
        args: *const Column,
        nargs: usize,
        rows: usize,
        out: *mut Value,
        err: *mut Slice,
    ) -> i32,
    pub exec_groups: Option<
        unsafe extern "C" fn(
            inst: *mut c_void,
            groups: *const Group,
            ngroups: usize,
            out: *mut Value,
            err: *mut Slice,
        ) -> i32,
    >,
    pub destroy: unsafe extern "C" fn(inst: *mut c_void),
}

#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct SourceVtable {
    pub create: unsafe extern "C" fn(
        host: *const super::Host,
        datasource: Slice,
        props: Slice,
        err: *mut Slice,
    ) -> *mut c_void,
    pub open: unsafe extern "C" fn(inst: *mut c_void, err: *mut Slice) -> i32,
    pub pull:
        unsafe extern "C" fn(inst: *mut c_void, max: u32, out: *mut Pulled, err: *mut Slice) -> i32,
    pub close: unsafe extern "C" fn(inst: *mut c_void),
    pub destroy: unsafe extern "C" fn(inst: *mut c_void),
}

#[repr(C)]
#[derive(Debug)]
pub struct Plugin {
    pub abi_version: u32,
    pub layout: u32,
    pub kind: u32,
    pub singleton: u32,
    pub function: *const FunctionVtable,
    pub source: *const SourceVtable,
    pub sink: *const SinkVtable,
}

/// The version-1 fingerprint, computed from the version-1 definitions.
pub const fn layout_fingerprint() -> u32 {
    super::fold_layout(
        ABI_VERSION,
        &[
            size_of::<Slice>(),
            size_of::<Value>(),
            offset_of!(Value, data),
            size_of::<Column>(),
            size_of::<ArgInfo>(),
            size_of::<Group>(),
            size_of::<Field>(),
            offset_of!(Field, value),
            size_of::<Row>(),
            size_of::<Message>(),
            size_of::<Pulled>(),
            size_of::<Host>(),
            size_of::<FunctionVtable>(),
            size_of::<SourceVtable>(),
            size_of::<SinkVtable>(),
            size_of::<Plugin>(),
        ],
    )
}
