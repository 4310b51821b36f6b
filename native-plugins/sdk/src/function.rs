//! Function plugins: the trait an author implements and the C entry points the export
//! macro publishes.

use crate::abi;
use crate::boundary::{guarded, set_thread_error, ErrorSlot};
use crate::host::Host;
use crate::value::{result_to_abi, Value, ValueRef};
use crate::RowResult;
use std::ffi::c_void;
use std::marker::PhantomData;

/// An exported SQL function: its name and kind.
pub type FunctionDef = abi::FunctionDef;

/// A scalar function named `name` (one result per row).
pub const fn scalar(name: &'static str) -> FunctionDef {
    abi::FunctionDef {
        name: abi::Slice {
            ptr: name.as_ptr(),
            len: name.len(),
        },
        kind: abi::FUNCTION_SCALAR,
        _reserved: 0,
    }
}

/// An aggregate function named `name` (one result per group).
pub const fn aggregate(name: &'static str) -> FunctionDef {
    abi::FunctionDef {
        name: abi::Slice {
            ptr: name.as_ptr(),
            len: name.len(),
        },
        kind: abi::FUNCTION_AGGREGATE,
        _reserved: 0,
    }
}

/// What is known of an argument when a rule is created.
#[derive(Debug, Clone, PartialEq)]
pub enum ArgInfo {
    Literal(Value),
    Dynamic,
}

/// One argument over a batch: a constant, or one value per row.
#[derive(Debug, Clone, Copy)]
pub struct Column<'a> {
    raw: abi::Column,
    _life: PhantomData<&'a ()>,
}

impl<'a> Column<'a> {
    /// The value of row `i` (a constant has the same value in every row).
    pub fn get(&self, i: usize) -> ValueRef<'a> {
        let idx = if self.raw.is_scalar != 0 { 0 } else { i };
        if idx >= self.raw.len || self.raw.values.is_null() {
            return ValueRef::Null;
        }
        // SAFETY: the host lends `len` values for the call; `idx` is in range.
        unsafe { ValueRef::from_abi(&*self.raw.values.add(idx)) }
    }

    pub fn is_constant(&self) -> bool {
        self.raw.is_scalar != 0
    }

    /// Rows held (1 for a constant).
    pub fn len(&self) -> usize {
        self.raw.len
    }

    pub fn is_empty(&self) -> bool {
        self.raw.len == 0
    }
}

/// A function plugin. One value of `Self` is one instance: per rule and call site, or
/// one for every rule when `SINGLETON` is true (eKuiper's exported instance).
/// `Send`: the host moves an instance between threads (never uses it from two at once).
pub trait FunctionPlugin: Sized + Send + 'static {
    /// The functions this plugin exports ([`scalar`], [`aggregate`]).
    const FUNCTIONS: &'static [FunctionDef];
    const SINGLETON: bool = false;

    /// Checks a call when a rule is created; the error names the parameter.
    fn validate(name: &str, args: &[ArgInfo]) -> Result<(), String>;

    /// A new instance of function `name`.
    fn new(host: Host, name: &str) -> Result<Self, String>;

    /// Scalar functions: pushes exactly `rows` results onto `out`.
    fn exec(&mut self, args: &[Column<'_>], rows: usize, out: &mut Vec<RowResult>);

    /// Aggregate functions: one result per group (each group's argument columns).
    fn exec_groups(&mut self, groups: &[Vec<Column<'_>>], out: &mut Vec<RowResult>) {
        out.extend(
            groups
                .iter()
                .map(|_| Err("not an aggregate function".to_string())),
        );
    }
}

/// An instance as the host holds it: the plugin's value and what it handed back.
struct Instance<T> {
    plugin: T,
    results: Vec<RowResult>,
    err: ErrorSlot,
}

/// # Safety
/// `ptr` points to `len` values (or is null with 0).
unsafe fn columns<'a>(ptr: *const abi::Column, len: usize) -> Vec<Column<'a>> {
    if ptr.is_null() || len == 0 {
        return Vec::new();
    }
    // SAFETY: per the caller.
    unsafe { std::slice::from_raw_parts(ptr, len) }
        .iter()
        .map(|c| Column {
            raw: *c,
            _life: PhantomData,
        })
        .collect()
}

unsafe extern "C" fn validate<T: FunctionPlugin>(
    name: abi::Slice,
    args: *const abi::ArgInfo,
    nargs: usize,
    err: *mut abi::Slice,
) -> i32 {
    let r = guarded(|| {
        // SAFETY: the host lends the name and the arguments for the call.
        let name = unsafe { name.to_string_lossy() };
        let raw = if args.is_null() || nargs == 0 {
            &[][..]
        } else {
            // SAFETY: as above.
            unsafe { std::slice::from_raw_parts(args, nargs) }
        };
        let infos: Vec<ArgInfo> = raw
            .iter()
            .map(|a| {
                if a.is_literal != 0 {
                    // SAFETY: as above.
                    ArgInfo::Literal(unsafe { ValueRef::from_abi(&a.literal) }.to_owned())
                } else {
                    ArgInfo::Dynamic
                }
            })
            .collect();
        T::validate(&name, &infos)
    });
    match r {
        Ok(()) => 0,
        Err(e) => {
            // SAFETY: `err` is the host's out-pointer.
            unsafe { set_thread_error(err, e) };
            -1
        }
    }
}

unsafe extern "C" fn create<T: FunctionPlugin>(
    host: *const abi::Host,
    name: abi::Slice,
    err: *mut abi::Slice,
) -> *mut c_void {
    let r = guarded(|| {
        // SAFETY: the host lends the name; the table lives as long as the instance.
        let (name, host) = unsafe { (name.to_string_lossy(), Host::from_raw(host)) };
        T::new(host, &name)
    });
    match r {
        Ok(plugin) => Box::into_raw(Box::new(Instance {
            plugin,
            results: Vec::new(),
            err: ErrorSlot::default(),
        })) as *mut c_void,
        Err(e) => {
            // SAFETY: `err` is the host's out-pointer.
            unsafe { set_thread_error(err, e) };
            std::ptr::null_mut()
        }
    }
}

/// Writes the instance's results into the host's output array.
///
/// # Safety
/// `out` has room for `inst.results.len()` values.
unsafe fn publish<T>(
    inst: &mut Instance<T>,
    expected: usize,
    out: *mut abi::Value,
    err: *mut abi::Slice,
) -> i32 {
    if inst.results.len() != expected {
        let msg = format!(
            "the plugin returned {} results for {expected} inputs",
            inst.results.len()
        );
        // SAFETY: per the caller.
        return unsafe { inst.err.fail(err, msg) };
    }
    for (i, r) in inst.results.iter().enumerate() {
        // SAFETY: `out` has `expected` slots; the value borrows `inst.results`, which
        // stays untouched until the next call (the ABI's memory rule).
        unsafe { *out.add(i) = result_to_abi(r) };
    }
    0
}

unsafe extern "C" fn exec<T: FunctionPlugin>(
    inst: *mut c_void,
    args: *const abi::Column,
    nargs: usize,
    rows: usize,
    out: *mut abi::Value,
    err: *mut abi::Slice,
) -> i32 {
    // SAFETY: `inst` is what `create::<T>` returned, used by one thread at a time.
    let inst = unsafe { &mut *(inst as *mut Instance<T>) };
    inst.results.clear();
    // SAFETY: the host lends `nargs` columns for the call.
    let cols = unsafe { columns(args, nargs) };
    let Instance {
        plugin, results, ..
    } = &mut *inst;
    match guarded(|| {
        plugin.exec(&cols, rows, results);
        Ok(())
    }) {
        // SAFETY: the host's `out` has `rows` slots.
        Ok(()) => unsafe { publish(inst, rows, out, err) },
        // SAFETY: `err` is the host's out-pointer.
        Err(e) => unsafe { inst.err.fail(err, e) },
    }
}

unsafe extern "C" fn exec_groups<T: FunctionPlugin>(
    inst: *mut c_void,
    groups: *const abi::Group,
    ngroups: usize,
    out: *mut abi::Value,
    err: *mut abi::Slice,
) -> i32 {
    // SAFETY: as in `exec`.
    let inst = unsafe { &mut *(inst as *mut Instance<T>) };
    inst.results.clear();
    let raw = if groups.is_null() || ngroups == 0 {
        &[][..]
    } else {
        // SAFETY: the host lends `ngroups` groups for the call.
        unsafe { std::slice::from_raw_parts(groups, ngroups) }
    };
    // SAFETY: each group lends its columns for the call.
    let cols: Vec<Vec<Column<'_>>> = raw
        .iter()
        .map(|g| unsafe { columns(g.args, g.nargs) })
        .collect();
    let Instance {
        plugin, results, ..
    } = &mut *inst;
    match guarded(|| {
        plugin.exec_groups(&cols, results);
        Ok(())
    }) {
        // SAFETY: the host's `out` has `ngroups` slots.
        Ok(()) => unsafe { publish(inst, ngroups, out, err) },
        // SAFETY: `err` is the host's out-pointer.
        Err(e) => unsafe { inst.err.fail(err, e) },
    }
}

unsafe extern "C" fn destroy<T: FunctionPlugin>(inst: *mut c_void) {
    if inst.is_null() {
        return;
    }
    // SAFETY: `inst` came from `create::<T>` and is destroyed once.
    let b = unsafe { Box::from_raw(inst as *mut Instance<T>) };
    // A panicking Drop must not unwind into the host.
    let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(move || drop(b)));
}

/// The table the export macro publishes. Not for direct use.
#[doc(hidden)]
pub const fn __function_vtable<T: FunctionPlugin>() -> abi::FunctionVtable {
    abi::FunctionVtable {
        functions: T::FUNCTIONS.as_ptr(),
        nfunctions: T::FUNCTIONS.len(),
        validate: validate::<T>,
        create: create::<T>,
        exec: exec::<T>,
        exec_groups: Some(exec_groups::<T>),
        destroy: destroy::<T>,
    }
}
