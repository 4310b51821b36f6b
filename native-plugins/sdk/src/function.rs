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

/// One argument over a batch: a constant, one value per row, or, when every row is
/// of one type, a typed list (read it with [`Column::ints`] and friends for speed, or
/// row by row with [`Column::get`], which works for every form).
#[derive(Debug, Clone, Copy)]
pub struct Column<'a> {
    raw: abi::Column,
    _life: PhantomData<&'a ()>,
}

impl<'a> Column<'a> {
    /// The typed list of form `form` as `len` items of `T`.
    fn typed<T>(&self, form: u32) -> Option<&'a [T]> {
        if self.raw.form != form || self.raw.data.is_null() {
            return None;
        }
        // SAFETY: the host lends `len` items of the form's type for the call.
        Some(unsafe { std::slice::from_raw_parts(self.raw.data as *const T, self.raw.len) })
    }

    /// The integers of a typed column (a null row holds 0: see [`Column::is_null`]).
    pub fn ints(&self) -> Option<&'a [i64]> {
        self.typed(abi::COL_INTS)
    }

    /// The floats of a typed column.
    pub fn floats(&self) -> Option<&'a [f64]> {
        self.typed(abi::COL_FLOATS)
    }

    /// The datetimes (ns since the Unix epoch) of a typed column.
    pub fn datetimes(&self) -> Option<&'a [i64]> {
        self.typed(abi::COL_DATETIMES)
    }

    /// The null flags of a typed column; `None` when no row is null.
    pub fn nulls(&self) -> Option<&'a [u8]> {
        if self.raw.nulls.is_null() {
            return None;
        }
        // SAFETY: the host lends one flag per row for the call.
        Some(unsafe { std::slice::from_raw_parts(self.raw.nulls, self.raw.len) })
    }

    /// Whether row `i` of a typed column is null.
    pub fn is_null(&self, i: usize) -> bool {
        self.nulls()
            .is_some_and(|n| n.get(i).copied().unwrap_or(0) != 0)
    }

    /// The value of row `i`, whatever the form (a constant has the same value in
    /// every row).
    pub fn get(&self, i: usize) -> ValueRef<'a> {
        let r = &self.raw;
        let idx = if r.form == abi::COL_SCALAR { 0 } else { i };
        if idx >= r.len {
            return ValueRef::Null;
        }
        if matches!(r.form, abi::COL_SCALAR | abi::COL_VALUES) {
            if r.values.is_null() {
                return ValueRef::Null;
            }
            // SAFETY: the host lends `len` values for the call; `idx` is in range.
            return unsafe { ValueRef::from_abi(&*r.values.add(idx)) };
        }
        if self.is_null(idx) {
            return ValueRef::Null;
        }
        let slice = |kind: u32| {
            self.typed::<abi::Slice>(r.form).map(|s| {
                let v = abi::Value::slice(kind, s[idx]);
                // SAFETY: the slice is lent for the call.
                unsafe { ValueRef::from_abi(&v) }
            })
        };
        match r.form {
            abi::COL_INTS => self.ints().map(|v| ValueRef::Int(v[idx])),
            abi::COL_FLOATS => self.floats().map(|v| ValueRef::Float(v[idx])),
            abi::COL_DATETIMES => self.datetimes().map(|v| ValueRef::Datetime(v[idx])),
            abi::COL_BOOLS => self
                .typed::<u8>(r.form)
                .map(|v| ValueRef::Bool(v[idx] != 0)),
            abi::COL_STRS => slice(abi::KIND_STR),
            abi::COL_BYTES => slice(abi::KIND_BYTES),
            _ => None,
        }
        .unwrap_or(ValueRef::Null)
    }

    pub fn is_constant(&self) -> bool {
        self.raw.form == abi::COL_SCALAR
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

    /// Scalar functions: exactly `rows` results into `out`, one by one
    /// ([`Results::push`]) or as one typed list ([`Results::ints`]).
    fn exec(&mut self, args: &[Column<'_>], rows: usize, out: &mut Results);

    /// Aggregate functions: one result per group (each group's argument columns).
    fn exec_groups(&mut self, groups: &[Vec<Column<'_>>], out: &mut Results) {
        out.extend(
            groups
                .iter()
                .map(|_| Err("not an aggregate function".to_string())),
        );
    }
}

/// A call's results: one per row, or a typed list with its null flags.
#[derive(Debug, Default)]
pub struct Results {
    rows: Vec<RowResult>,
    /// The typed list's form, when the results are one; its values in `data`.
    form: Option<u32>,
    data: Vec<u64>,
    nulls: Vec<u8>,
}

impl Results {
    /// One more row's result.
    pub fn push(&mut self, r: RowResult) {
        self.rows.push(r);
    }

    /// More rows' results.
    pub fn extend(&mut self, rs: impl IntoIterator<Item = RowResult>) {
        self.rows.extend(rs);
    }

    /// Every row's result as one list of integers; `nulls[i] != 0` makes row `i` null
    /// (empty: none is).
    pub fn ints(&mut self, values: impl IntoIterator<Item = i64>, nulls: &[u8]) {
        self.set(abi::COL_INTS, values.into_iter().map(|v| v as u64), nulls);
    }

    /// Every row's result as one list of floats.
    pub fn floats(&mut self, values: impl IntoIterator<Item = f64>, nulls: &[u8]) {
        self.set(abi::COL_FLOATS, values.into_iter().map(f64::to_bits), nulls);
    }

    fn set(&mut self, form: u32, values: impl Iterator<Item = u64>, nulls: &[u8]) {
        self.form = Some(form);
        self.data.clear();
        self.data.extend(values);
        self.nulls.clear();
        self.nulls.extend_from_slice(nulls);
    }

    /// Empties it for the next call, keeping its buffers.
    fn clear(&mut self) {
        self.rows.clear();
        self.form = None;
        self.data.clear();
        self.nulls.clear();
    }

    fn len(&self) -> usize {
        match self.form {
            Some(_) => self.data.len(),
            None => self.rows.len(),
        }
    }
}

/// An instance as the host holds it: the plugin's value and what it handed back.
struct Instance<T> {
    plugin: T,
    results: Results,
    err: ErrorSlot,
}

/// # Safety
/// `ptr` points to `len` columns (or is null with 0).
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
            results: Results::default(),
            err: ErrorSlot::default(),
        })) as *mut c_void,
        Err(e) => {
            // SAFETY: `err` is the host's out-pointer.
            unsafe { set_thread_error(err, e) };
            std::ptr::null_mut()
        }
    }
}

/// Writes the instance's results into the host's results block.
///
/// # Safety
/// `out` is the host's block of `expected` slots.
unsafe fn publish<T>(
    inst: &mut Instance<T>,
    expected: usize,
    out: *mut abi::Results,
    err: *mut abi::Slice,
) -> i32 {
    let r = &inst.results;
    if r.len() != expected || (!r.nulls.is_empty() && r.nulls.len() != expected) {
        let msg = format!(
            "the plugin returned {} results for {expected} inputs",
            r.len()
        );
        // SAFETY: per the caller.
        return unsafe { inst.err.fail(err, msg) };
    }
    // SAFETY: per the caller: every buffer has `expected` slots.
    let out = unsafe { &mut *out };
    match r.form {
        Some(form) => {
            // SAFETY: as above.
            unsafe {
                std::ptr::copy_nonoverlapping(r.data.as_ptr(), out.data as *mut u64, expected);
                std::ptr::copy_nonoverlapping(r.nulls.as_ptr(), out.nulls, r.nulls.len());
            }
            out.form = form;
        }
        None => {
            for (i, v) in r.rows.iter().enumerate() {
                // SAFETY: the value borrows `inst.results`, which stays untouched until
                // the next call (the ABI's memory rule).
                unsafe { *out.values.add(i) = result_to_abi(v) };
            }
        }
    }
    0
}

unsafe extern "C" fn exec<T: FunctionPlugin>(
    inst: *mut c_void,
    args: *const abi::Column,
    nargs: usize,
    rows: usize,
    out: *mut abi::Results,
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
    out: *mut abi::Results,
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
