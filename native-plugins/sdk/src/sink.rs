//! Sink plugins: rows collected in batches.

use crate::abi;
use crate::boundary::{guarded, set_thread_error, ErrorSlot};
use crate::host::Host;
use crate::value::ValueRef;
use std::ffi::c_void;
use std::marker::PhantomData;

/// One row the host lent for the call: its fields in order.
#[derive(Debug, Clone, Copy)]
pub struct Fields<'a> {
    raw: abi::Row,
    _life: PhantomData<&'a ()>,
}

impl<'a> Fields<'a> {
    /// The fields as (name, value).
    pub fn iter(&self) -> impl Iterator<Item = (&'a str, ValueRef<'a>)> + 'a {
        let raw: &'a [abi::Field] = if self.raw.fields.is_null() || self.raw.len == 0 {
            &[]
        } else {
            // SAFETY: the host lends `len` fields for the call.
            unsafe { std::slice::from_raw_parts(self.raw.fields, self.raw.len) }
        };
        raw.iter().map(|f| {
            // SAFETY: as above.
            let name = std::str::from_utf8(unsafe { f.name.as_bytes() }).unwrap_or("");
            // SAFETY: as above.
            (name, unsafe { ValueRef::from_abi(&f.value) })
        })
    }

    pub fn get(&self, name: &str) -> Option<ValueRef<'a>> {
        self.iter().find(|(n, _)| *n == name).map(|(_, v)| v)
    }
}

/// A sink plugin; one value per action of a rule.
/// `Send`: the host moves an instance between threads (never uses it from two at once).
pub trait SinkPlugin: Sized + Send + 'static {
    /// `props` is the action's properties as a JSON object.
    fn new(host: Host, props: &str) -> Result<Self, String>;
    fn open(&mut self) -> Result<(), String> {
        Ok(())
    }
    /// A batch of rows (one emission or several).
    fn collect(&mut self, rows: &[Fields<'_>]) -> Result<(), String>;
    /// Flushes and releases.
    fn close(&mut self) -> Result<(), String> {
        Ok(())
    }
}

struct Instance<T> {
    plugin: T,
    err: ErrorSlot,
}

unsafe extern "C" fn create<T: SinkPlugin>(
    host: *const abi::Host,
    props: abi::Slice,
    err: *mut abi::Slice,
) -> *mut c_void {
    let r = guarded(|| {
        // SAFETY: lent for the call; the table lives as long as the instance.
        let (props, host) = unsafe { (props.to_string_lossy(), Host::from_raw(host)) };
        T::new(host, &props)
    });
    match r {
        Ok(plugin) => Box::into_raw(Box::new(Instance {
            plugin,
            err: ErrorSlot::default(),
        })) as *mut c_void,
        Err(e) => {
            // SAFETY: the host's out-pointer.
            unsafe { set_thread_error(err, e) };
            std::ptr::null_mut()
        }
    }
}

/// Runs one instance call with the boundary's rules.
///
/// # Safety
/// `inst` came from `create::<T>`; `err` is the host's out-pointer.
unsafe fn call<T: SinkPlugin>(
    inst: *mut c_void,
    err: *mut abi::Slice,
    f: impl FnOnce(&mut T) -> Result<(), String>,
) -> i32 {
    // SAFETY: per the caller.
    let inst = unsafe { &mut *(inst as *mut Instance<T>) };
    match guarded(|| f(&mut inst.plugin)) {
        Ok(()) => 0,
        // SAFETY: per the caller.
        Err(e) => unsafe { inst.err.fail(err, e) },
    }
}

unsafe extern "C" fn open<T: SinkPlugin>(inst: *mut c_void, err: *mut abi::Slice) -> i32 {
    // SAFETY: the host's pointers.
    unsafe { call::<T>(inst, err, |p| p.open()) }
}

unsafe extern "C" fn collect<T: SinkPlugin>(
    inst: *mut c_void,
    rows: *const abi::Row,
    nrows: usize,
    err: *mut abi::Slice,
) -> i32 {
    let raw = if rows.is_null() || nrows == 0 {
        &[][..]
    } else {
        // SAFETY: the host lends `nrows` rows for the call.
        unsafe { std::slice::from_raw_parts(rows, nrows) }
    };
    let rows: Vec<Fields<'_>> = raw
        .iter()
        .map(|r| Fields {
            raw: *r,
            _life: PhantomData,
        })
        .collect();
    // SAFETY: the host's pointers.
    unsafe { call::<T>(inst, err, |p| p.collect(&rows)) }
}

unsafe extern "C" fn close<T: SinkPlugin>(inst: *mut c_void, err: *mut abi::Slice) -> i32 {
    // SAFETY: the host's pointers.
    unsafe { call::<T>(inst, err, |p| p.close()) }
}

unsafe extern "C" fn destroy<T: SinkPlugin>(inst: *mut c_void) {
    if inst.is_null() {
        return;
    }
    // SAFETY: from `create::<T>`, destroyed once.
    let b = unsafe { Box::from_raw(inst as *mut Instance<T>) };
    let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(move || drop(b)));
}

#[doc(hidden)]
pub const fn __sink_vtable<T: SinkPlugin>() -> abi::SinkVtable {
    abi::SinkVtable {
        create: create::<T>,
        open: open::<T>,
        collect: collect::<T>,
        close: close::<T>,
        destroy: destroy::<T>,
    }
}
