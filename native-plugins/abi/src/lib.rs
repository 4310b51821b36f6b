//! The C ABI of the native plugin tier, version 2, as `#[repr(C)]` Rust types.
//!
//! This is the Rust mirror of `native-plugins/include/tributary_plugin.h`; the header's
//! comments are the reference for the memory and threading rules. Both the host and the
//! Rust SDK use these types, and [`layout_fingerprint`] folds the same sizes and offsets
//! as the header's `TP_LAYOUT_FINGERPRINT`, so a plugin compiled against a different
//! layout (another header revision, another compiler's packing) is refused at load.
//!
//! Version 2 is version 1 plus typed columns and results ([`Column`], [`Results`]),
//! source offsets and lookups ([`SourceVtable`]), the engine root and the plugin's
//! own folder as two paths, and connection status ([`Host`]). What version 1 defined
//! differently is kept, frozen, in [`v1`]: the host still loads version-1 plugins
//! and calls them as they were built.

// An FFI definition crate: raw pointers are its whole point.
#![allow(unsafe_code)]

use std::ffi::c_void;
use std::mem::{offset_of, size_of};

pub mod v1;

pub const ABI_VERSION: u32 = 2;

/// Borrowed bytes or UTF-8 text.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct Slice {
    pub ptr: *const u8,
    pub len: usize,
}

impl Slice {
    pub const EMPTY: Slice = Slice {
        ptr: std::ptr::null(),
        len: 0,
    };

    pub fn new(bytes: &[u8]) -> Slice {
        Slice {
            ptr: bytes.as_ptr(),
            len: bytes.len(),
        }
    }

    pub fn str(s: &str) -> Slice {
        Slice::new(s.as_bytes())
    }

    /// The bytes.
    ///
    /// # Safety
    /// `ptr` must point to `len` readable bytes that outlive `'a` (or be null with len 0).
    pub unsafe fn as_bytes<'a>(self) -> &'a [u8] {
        if self.ptr.is_null() || self.len == 0 {
            &[]
        } else {
            // SAFETY: guaranteed by the caller.
            unsafe { std::slice::from_raw_parts(self.ptr, self.len) }
        }
    }

    /// The text, with invalid UTF-8 replaced.
    ///
    /// # Safety
    /// As [`Slice::as_bytes`].
    pub unsafe fn to_string_lossy(self) -> String {
        // SAFETY: guaranteed by the caller.
        String::from_utf8_lossy(unsafe { self.as_bytes() }).into_owned()
    }
}

pub const KIND_NULL: u32 = 0;
pub const KIND_BOOL: u32 = 1;
pub const KIND_INT: u32 = 2;
pub const KIND_FLOAT: u32 = 3;
pub const KIND_STR: u32 = 4;
pub const KIND_BYTES: u32 = 5;
pub const KIND_DATETIME: u32 = 6;
pub const KIND_JSON: u32 = 7;
pub const KIND_ERROR: u32 = 8;

#[repr(C)]
#[derive(Clone, Copy)]
pub union ValueData {
    pub b: u8,
    pub i: i64,
    pub f: f64,
    pub s: Slice,
}

/// One SQL value (`tp_value`).
#[repr(C)]
#[derive(Clone, Copy)]
pub struct Value {
    pub kind: u32,
    pub _reserved: u32,
    pub data: ValueData,
}

impl Value {
    pub const NULL: Value = Value {
        kind: KIND_NULL,
        _reserved: 0,
        data: ValueData { i: 0 },
    };
    pub fn bool(b: bool) -> Value {
        Value {
            kind: KIND_BOOL,
            _reserved: 0,
            data: ValueData { b: b as u8 },
        }
    }
    pub fn int(i: i64) -> Value {
        Value {
            kind: KIND_INT,
            _reserved: 0,
            data: ValueData { i },
        }
    }
    pub fn float(f: f64) -> Value {
        Value {
            kind: KIND_FLOAT,
            _reserved: 0,
            data: ValueData { f },
        }
    }
    pub fn datetime(ns: i64) -> Value {
        Value {
            kind: KIND_DATETIME,
            _reserved: 0,
            data: ValueData { i: ns },
        }
    }
    /// A value whose payload is bytes: `KIND_STR`, `KIND_BYTES`, `KIND_JSON` or
    /// `KIND_ERROR`.
    pub fn slice(kind: u32, s: Slice) -> Value {
        Value {
            kind,
            _reserved: 0,
            data: ValueData { s },
        }
    }
}

impl std::fmt::Debug for Value {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // SAFETY: the kind says which member is set; slices are printed by address.
        unsafe {
            match self.kind {
                KIND_BOOL => write!(f, "Bool({})", self.data.b),
                KIND_INT => write!(f, "Int({})", self.data.i),
                KIND_DATETIME => write!(f, "Datetime({})", self.data.i),
                KIND_FLOAT => write!(f, "Float({})", self.data.f),
                KIND_NULL => f.write_str("Null"),
                k => write!(f, "Slice(kind {k}, {:?})", self.data.s),
            }
        }
    }
}

/// Forms of a column ([`Column::form`], [`Results::form`]).
pub const COL_SCALAR: u32 = 0;
pub const COL_VALUES: u32 = 1;
/// `data` is `len` `int64_t`.
pub const COL_INTS: u32 = 2;
/// `data` is `len` `double`.
pub const COL_FLOATS: u32 = 3;
/// `data` is `len` `uint8_t`, 0 or 1.
pub const COL_BOOLS: u32 = 4;
/// `data` is `len` [`Slice`]s of UTF-8 text (arguments only).
pub const COL_STRS: u32 = 5;
/// `data` is `len` [`Slice`]s of bytes (arguments only).
pub const COL_BYTES: u32 = 6;
/// `data` is `len` `int64_t`, nanoseconds since the Unix epoch.
pub const COL_DATETIMES: u32 = 7;

/// One argument column (`tp_column`). A constant is `COL_SCALAR` (one value in
/// `values`); a column whose rows are all of one type (or null) is typed: `data` holds
/// the flat list and `nulls`, when not null, one flag per row (the list holds a
/// placeholder at a null row); any other column is `COL_VALUES`, one value per row.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct Column {
    pub form: u32,
    pub _reserved: u32,
    pub values: *const Value,
    pub data: *const c_void,
    pub nulls: *const u8,
    pub len: usize,
}

/// Where a function writes its results (`tp_results`): the host provides every
/// buffer, `len` slots each, zeroed. The plugin either fills `values` (leaving `form`
/// `COL_VALUES`; a `KIND_ERROR` value fails one row) or fills `data` as one typed list
/// (8 bytes per slot: `int64_t`, `double`, or a 0/1 byte for `COL_BOOLS`), sets
/// `nulls[i]` to 1 for the null rows, and sets `form` to `COL_INTS`, `COL_FLOATS`,
/// `COL_BOOLS` or `COL_DATETIMES`.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct Results {
    pub form: u32,
    pub _reserved: u32,
    pub values: *mut Value,
    pub data: *mut c_void,
    pub nulls: *mut u8,
    pub len: usize,
}

#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct ArgInfo {
    pub is_literal: u32,
    pub _reserved: u32,
    pub literal: Value,
}

#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct Group {
    pub args: *const Column,
    pub nargs: usize,
    pub rows: usize,
}

#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct Field {
    pub name: Slice,
    pub value: Value,
}

#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct Row {
    pub fields: *const Field,
    pub len: usize,
}

#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct Message {
    pub is_bytes: u32,
    pub _reserved: u32,
    pub bytes: Slice,
    pub fields: *const Field,
    pub nfields: usize,
    pub meta: *const Field,
    pub nmeta: usize,
}

#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct Pulled {
    pub messages: *const Message,
    pub len: usize,
    pub done: u32,
    pub wait_ms: u32,
}

pub const LEVEL_TRACE: u32 = 0;
pub const LEVEL_DEBUG: u32 = 1;
pub const LEVEL_INFO: u32 = 2;
pub const LEVEL_WARN: u32 = 3;
pub const LEVEL_ERROR: u32 = 4;

pub const STATE_OK: i32 = 0;
pub const STATE_MISSING: i32 = 1;
pub const STATE_NOT_INTEGER: i32 = 2;
pub const STATE_STORE: i32 = 3;

/// The host's table (`tp_host`).
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct Host {
    pub abi_version: u32,
    pub _reserved: u32,
    pub ctx: *mut c_void,
    pub put_state: unsafe extern "C" fn(
        ctx: *mut c_void,
        key: Slice,
        value: *const Value,
        err: *mut Slice,
    ) -> i32,
    pub get_state:
        unsafe extern "C" fn(ctx: *mut c_void, key: Slice, out: *mut Value, err: *mut Slice) -> i32,
    pub delete_state: unsafe extern "C" fn(ctx: *mut c_void, key: Slice, err: *mut Slice) -> i32,
    pub incr_counter: unsafe extern "C" fn(
        ctx: *mut c_void,
        key: Slice,
        amount: i64,
        out: *mut i64,
        err: *mut Slice,
    ) -> i32,
    pub get_counter:
        unsafe extern "C" fn(ctx: *mut c_void, key: Slice, out: *mut i64, err: *mut Slice) -> i32,
    pub rule_id: unsafe extern "C" fn(ctx: *mut c_void) -> Slice,
    pub operator_id: unsafe extern "C" fn(ctx: *mut c_void) -> Slice,
    pub instance_id: unsafe extern "C" fn(ctx: *mut c_void) -> Slice,
    /// The engine root (version 1: the plugin's own folder, which version-1 plugins
    /// keep getting).
    pub root_path: unsafe extern "C" fn(ctx: *mut c_void) -> Slice,
    pub log: unsafe extern "C" fn(ctx: *mut c_void, level: u32, message: Slice),
    // Version 2 on: a version-1 plugin never reads past `log`.
    /// `<root>/etc/<kind>/<name>`.
    pub plugin_path: unsafe extern "C" fn(ctx: *mut c_void) -> Slice,
    /// A source's or sink's connection: `CONNECTED`, `CONNECTING` or
    /// `DISCONNECTED`, with why when not connected.
    pub set_connection: unsafe extern "C" fn(ctx: *mut c_void, state: i32, message: Slice),
}

/// Connection states of [`Host::set_connection`] (eKuiper's encoding).
pub const CONNECTED: i32 = 1;
pub const CONNECTING: i32 = 0;
pub const DISCONNECTED: i32 = -1;

pub const FUNCTION_SCALAR: u32 = 0;
pub const FUNCTION_AGGREGATE: u32 = 1;

#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct FunctionDef {
    pub name: Slice,
    pub kind: u32,
    pub _reserved: u32,
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
        unsafe extern "C" fn(host: *const Host, name: Slice, err: *mut Slice) -> *mut c_void,
    /// Scalar: `rows` rows; fills `out` for exactly `rows` rows.
    pub exec: unsafe extern "C" fn(
        inst: *mut c_void,
        args: *const Column,
        nargs: usize,
        rows: usize,
        out: *mut Results,
        err: *mut Slice,
    ) -> i32,
    /// Aggregate: one result per group; NULL for plugins without aggregates.
    pub exec_groups: Option<
        unsafe extern "C" fn(
            inst: *mut c_void,
            groups: *const Group,
            ngroups: usize,
            out: *mut Results,
            err: *mut Slice,
        ) -> i32,
    >,
    pub destroy: unsafe extern "C" fn(inst: *mut c_void),
}

/// Rows a lookup answered (`tp_rows`), owned by the plugin until its next call.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct Rows {
    pub rows: *const Row,
    pub len: usize,
}

/// [`SourceVtable::flags`]: the source gives offsets and rewinds to them.
pub const SOURCE_REWINDABLE: u32 = 1;
/// [`SourceVtable::flags`]: the source answers lookups (`KIND="lookup"` tables).
pub const SOURCE_LOOKUP: u32 = 2;

#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct SourceVtable {
    pub create: unsafe extern "C" fn(
        host: *const Host,
        datasource: Slice,
        props: Slice,
        err: *mut Slice,
    ) -> *mut c_void,
    pub open: unsafe extern "C" fn(inst: *mut c_void, err: *mut Slice) -> i32,
    pub pull:
        unsafe extern "C" fn(inst: *mut c_void, max: u32, out: *mut Pulled, err: *mut Slice) -> i32,
    pub close: unsafe extern "C" fn(inst: *mut c_void),
    pub destroy: unsafe extern "C" fn(inst: *mut c_void),
    // Version 2 on.
    /// `SOURCE_REWINDABLE` | `SOURCE_LOOKUP`; each flag makes its entries required.
    pub flags: u32,
    pub _reserved: u32,
    /// Where the source stands after every message it handed over: sets `*out` and
    /// returns 1, or returns 0 when it has no offset.
    pub offset: Option<unsafe extern "C" fn(inst: *mut c_void, out: *mut Slice) -> i32>,
    /// Goes back to an offset it gave, after `open` and before the first pull.
    pub rewind:
        Option<unsafe extern "C" fn(inst: *mut c_void, offset: Slice, err: *mut Slice) -> i32>,
    /// The rows whose fields `keys[i]` equal `values[i]` (`nkeys` of each), with the
    /// `fields` asked for (all when `nfields` is 0).
    pub lookup: Option<
        unsafe extern "C" fn(
            inst: *mut c_void,
            fields: *const Slice,
            nfields: usize,
            keys: *const Slice,
            values: *const Value,
            nkeys: usize,
            out: *mut Rows,
            err: *mut Slice,
        ) -> i32,
    >,
}

#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct SinkVtable {
    pub create:
        unsafe extern "C" fn(host: *const Host, props: Slice, err: *mut Slice) -> *mut c_void,
    pub open: unsafe extern "C" fn(inst: *mut c_void, err: *mut Slice) -> i32,
    pub collect: unsafe extern "C" fn(
        inst: *mut c_void,
        rows: *const Row,
        nrows: usize,
        err: *mut Slice,
    ) -> i32,
    pub close: unsafe extern "C" fn(inst: *mut c_void, err: *mut Slice) -> i32,
    pub destroy: unsafe extern "C" fn(inst: *mut c_void),
}

pub const PLUGIN_FUNCTION: u32 = 0;
pub const PLUGIN_SOURCE: u32 = 1;
pub const PLUGIN_SINK: u32 = 2;

/// The exported descriptor (`tp_plugin`).
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

// SAFETY: a descriptor is immutable static data; the tables it points to are too.
unsafe impl Sync for Plugin {}
// SAFETY: as above.
unsafe impl Sync for FunctionVtable {}
// SAFETY: as above.
unsafe impl Sync for FunctionDef {}

/// Folds an ABI version and the sizes and offsets of its structs into 32 bits, as the
/// header's `TP__FOLD` does: every version's fingerprint is this over its own list.
pub(crate) const fn fold_layout(version: u32, parts: &[usize]) -> u32 {
    let mut h = version as u64;
    let mut i = 0;
    while i < parts.len() {
        h = h.wrapping_mul(31).wrapping_add(parts[i] as u64);
        i += 1;
    }
    h as u32
}

/// The layout fingerprint: the header's `TP_LAYOUT_FINGERPRINT`, computed from these
/// definitions (same items, same order).
pub const fn layout_fingerprint() -> u32 {
    fold_layout(
        ABI_VERSION,
        &[
            size_of::<Results>(),
            size_of::<Rows>(),
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

pub const LAYOUT_FINGERPRINT: u32 = layout_fingerprint();

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layout_matches_the_c_header_on_this_target() {
        // The value the header gives with the system C compiler on x86-64 / aarch64
        // Linux (checked end to end by loading the C example plugin).
        assert_eq!(size_of::<Value>(), 24);
        assert_eq!(size_of::<Host>(), 112);
        assert_eq!(size_of::<Column>(), 40);
        assert_eq!(size_of::<SourceVtable>(), 72);
        assert_eq!(LAYOUT_FINGERPRINT, 3504606210);
    }

    #[test]
    fn version_one_keeps_its_layout() {
        assert_eq!(v1::layout_fingerprint(), v1::LAYOUT_FINGERPRINT);
        assert_eq!(size_of::<v1::Column>(), 24);
    }
}
