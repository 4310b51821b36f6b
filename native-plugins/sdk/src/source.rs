//! Source plugins: messages pulled in batches; optionally rewindable (offsets) and
//! answering lookups (`KIND="lookup"` tables).

use crate::abi;
use crate::boundary::{guarded, set_thread_error, ErrorSlot};
use crate::host::Host;
use crate::value::Value;
use std::ffi::c_void;

/// One message's body.
#[derive(Debug, Clone, PartialEq)]
pub enum Payload {
    /// Structured fields.
    Fields(Vec<(String, Value)>),
    /// Raw bytes for the stream's FORMAT to decode.
    Bytes(Vec<u8>),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Message {
    pub payload: Payload,
    /// Read in SQL with `meta(key)`.
    pub meta: Vec<(String, Value)>,
}

/// What one pull returns.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Pulled {
    pub messages: Vec<Message>,
    /// No more messages, ever.
    pub done: bool,
    /// How long the host waits before the next pull, in ms.
    pub wait_ms: u32,
}

/// A row a lookup answers: its fields.
pub type LookupRow = Vec<(String, Value)>;

/// A source plugin; one value per stream instance of a rule.
/// `Send`: the host moves an instance between threads (never uses it from two at once).
pub trait SourcePlugin: Sized + Send + 'static {
    /// Its instances give offsets ([`SourcePlugin::offset`]) and rewind to them, so a
    /// rule under `qos` >= 1 resumes from its checkpoint.
    const REWINDABLE: bool = false;
    /// It answers [`SourcePlugin::lookup`] (it may back lookup tables).
    const LOOKUP: bool = false;

    /// `datasource` is the stream's DATASOURCE; `props` its conf as a JSON object.
    fn new(host: Host, datasource: &str, props: &str) -> Result<Self, String>;
    fn open(&mut self) -> Result<(), String> {
        Ok(())
    }
    /// Up to `max` messages; must not block (return `wait_ms` instead).
    fn pull(&mut self, max: u32) -> Result<Pulled, String>;
    fn close(&mut self) {}
    /// Where the source stands after every message it handed over, in a form only it
    /// reads. Asked after each pull that returned messages.
    fn offset(&self) -> Option<String> {
        None
    }
    /// Goes back to an offset it gave, after `open` and before the first pull.
    fn rewind(&mut self, offset: &str) -> Result<(), String> {
        Err(format!("this source cannot rewind to {offset}"))
    }
    /// The rows whose fields `keys` equal `values`, with `fields` (all when empty).
    fn lookup(
        &mut self,
        fields: &[String],
        keys: &[String],
        values: &[Value],
    ) -> Result<Vec<LookupRow>, String> {
        let _ = (fields, keys, values);
        Err("this source does not answer lookups".to_string())
    }
}

struct Instance<T> {
    plugin: T,
    /// The last offset and lookup answer, kept until the next call.
    offset: String,
    lookup_rows: Vec<LookupRow>,
    lookup_fields: Vec<Vec<abi::Field>>,
    lookup_abi: Vec<abi::Row>,
    /// The last pull and its ABI view, kept until the next call.
    pulled: Pulled,
    fields: Vec<Vec<abi::Field>>,
    metas: Vec<Vec<abi::Field>>,
    messages: Vec<abi::Message>,
    err: ErrorSlot,
}

fn abi_fields(fs: &[(String, Value)]) -> Vec<abi::Field> {
    fs.iter()
        .map(|(n, v)| abi::Field {
            name: abi::Slice::str(n),
            value: v.to_abi(),
        })
        .collect()
}

unsafe extern "C" fn create<T: SourcePlugin>(
    host: *const abi::Host,
    datasource: abi::Slice,
    props: abi::Slice,
    err: *mut abi::Slice,
) -> *mut c_void {
    let r = guarded(|| {
        // SAFETY: lent for the call; the table lives as long as the instance.
        let (ds, props, host) = unsafe {
            (
                datasource.to_string_lossy(),
                props.to_string_lossy(),
                Host::from_raw(host),
            )
        };
        T::new(host, &ds, &props)
    });
    match r {
        Ok(plugin) => Box::into_raw(Box::new(Instance {
            plugin,
            offset: String::new(),
            lookup_rows: Vec::new(),
            lookup_fields: Vec::new(),
            lookup_abi: Vec::new(),
            pulled: Pulled::default(),
            fields: Vec::new(),
            metas: Vec::new(),
            messages: Vec::new(),
            err: ErrorSlot::default(),
        })) as *mut c_void,
        Err(e) => {
            // SAFETY: the host's out-pointer.
            unsafe { set_thread_error(err, e) };
            std::ptr::null_mut()
        }
    }
}

/// # Safety
/// `inst` came from `create::<T>`; one thread at a time.
unsafe fn instance<'a, T>(inst: *mut c_void) -> &'a mut Instance<T> {
    // SAFETY: per the caller.
    unsafe { &mut *(inst as *mut Instance<T>) }
}

unsafe extern "C" fn open<T: SourcePlugin>(inst: *mut c_void, err: *mut abi::Slice) -> i32 {
    // SAFETY: the host's instance pointer.
    let inst = unsafe { instance::<T>(inst) };
    match guarded(|| inst.plugin.open()) {
        Ok(()) => 0,
        // SAFETY: the host's out-pointer.
        Err(e) => unsafe { inst.err.fail(err, e) },
    }
}

unsafe extern "C" fn pull<T: SourcePlugin>(
    inst: *mut c_void,
    max: u32,
    out: *mut abi::Pulled,
    err: *mut abi::Slice,
) -> i32 {
    // SAFETY: the host's instance pointer.
    let inst = unsafe { instance::<T>(inst) };
    let pulled = match guarded(|| inst.plugin.pull(max)) {
        Ok(p) => p,
        // SAFETY: the host's out-pointer.
        Err(e) => return unsafe { inst.err.fail(err, e) },
    };
    inst.pulled = pulled;
    inst.fields = inst
        .pulled
        .messages
        .iter()
        .map(|m| match &m.payload {
            Payload::Fields(fs) => abi_fields(fs),
            Payload::Bytes(_) => Vec::new(),
        })
        .collect();
    inst.metas = inst
        .pulled
        .messages
        .iter()
        .map(|m| abi_fields(&m.meta))
        .collect();
    inst.messages = inst
        .pulled
        .messages
        .iter()
        .enumerate()
        .map(|(i, m)| {
            let (is_bytes, bytes) = match &m.payload {
                Payload::Bytes(b) => (1, abi::Slice::new(b)),
                Payload::Fields(_) => (0, abi::Slice::EMPTY),
            };
            abi::Message {
                is_bytes,
                _reserved: 0,
                bytes,
                fields: inst.fields[i].as_ptr(),
                nfields: inst.fields[i].len(),
                meta: inst.metas[i].as_ptr(),
                nmeta: inst.metas[i].len(),
            }
        })
        .collect();
    // SAFETY: the host's out-pointer; everything it points to lives in `inst` until
    // the next call.
    unsafe {
        *out = abi::Pulled {
            messages: inst.messages.as_ptr(),
            len: inst.messages.len(),
            done: inst.pulled.done as u32,
            wait_ms: inst.pulled.wait_ms,
        }
    };
    0
}

unsafe extern "C" fn close<T: SourcePlugin>(inst: *mut c_void) {
    // SAFETY: the host's instance pointer.
    let inst = unsafe { instance::<T>(inst) };
    let _ = guarded(|| {
        inst.plugin.close();
        Ok(())
    });
}

unsafe extern "C" fn destroy<T: SourcePlugin>(inst: *mut c_void) {
    if inst.is_null() {
        return;
    }
    // SAFETY: from `create::<T>`, destroyed once.
    let b = unsafe { Box::from_raw(inst as *mut Instance<T>) };
    let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(move || drop(b)));
}

unsafe extern "C" fn offset<T: SourcePlugin>(inst: *mut c_void, out: *mut abi::Slice) -> i32 {
    // SAFETY: the host's instance pointer.
    let inst = unsafe { instance::<T>(inst) };
    match guarded(|| Ok(inst.plugin.offset())) {
        Ok(Some(o)) => {
            inst.offset = o;
            // SAFETY: the host's out-pointer; the text lives in `inst` until the next call.
            unsafe { *out = abi::Slice::str(&inst.offset) };
            1
        }
        _ => 0,
    }
}

unsafe extern "C" fn rewind<T: SourcePlugin>(
    inst: *mut c_void,
    offset: abi::Slice,
    err: *mut abi::Slice,
) -> i32 {
    // SAFETY: the host's instance pointer; the offset is lent for the call.
    let (inst, offset) = unsafe { (instance::<T>(inst), offset.to_string_lossy()) };
    match guarded(|| inst.plugin.rewind(&offset)) {
        Ok(()) => 0,
        // SAFETY: the host's out-pointer.
        Err(e) => unsafe { inst.err.fail(err, e) },
    }
}

/// # Safety
/// `ptr` points to `len` slices lent for the call (or is null with 0).
unsafe fn texts(ptr: *const abi::Slice, len: usize) -> Vec<String> {
    if ptr.is_null() || len == 0 {
        return Vec::new();
    }
    // SAFETY: per the caller.
    unsafe { std::slice::from_raw_parts(ptr, len) }
        .iter()
        // SAFETY: per the caller.
        .map(|s| unsafe { s.to_string_lossy() })
        .collect()
}

#[allow(clippy::too_many_arguments)]
unsafe extern "C" fn lookup<T: SourcePlugin>(
    inst: *mut c_void,
    fields: *const abi::Slice,
    nfields: usize,
    keys: *const abi::Slice,
    values: *const abi::Value,
    nkeys: usize,
    out: *mut abi::Rows,
    err: *mut abi::Slice,
) -> i32 {
    // SAFETY: the host's instance pointer and what it lends for the call.
    let inst = unsafe { instance::<T>(inst) };
    let (fields, keys) = unsafe { (texts(fields, nfields), texts(keys, nkeys)) };
    let values: Vec<Value> = if values.is_null() || nkeys == 0 {
        Vec::new()
    } else {
        // SAFETY: as above.
        unsafe { std::slice::from_raw_parts(values, nkeys) }
            .iter()
            // SAFETY: as above.
            .map(|v| unsafe { crate::value::ValueRef::from_abi(v) }.to_owned())
            .collect()
    };
    let rows = match guarded(|| inst.plugin.lookup(&fields, &keys, &values)) {
        Ok(r) => r,
        // SAFETY: the host's out-pointer.
        Err(e) => return unsafe { inst.err.fail(err, e) },
    };
    inst.lookup_rows = rows;
    inst.lookup_fields = inst.lookup_rows.iter().map(|r| abi_fields(r)).collect();
    inst.lookup_abi = inst
        .lookup_fields
        .iter()
        .map(|f| abi::Row {
            fields: f.as_ptr(),
            len: f.len(),
        })
        .collect();
    // SAFETY: the host's out-pointer; the rows live in `inst` until the next call.
    unsafe {
        *out = abi::Rows {
            rows: inst.lookup_abi.as_ptr(),
            len: inst.lookup_abi.len(),
        }
    };
    0
}

#[doc(hidden)]
pub const fn __source_vtable<T: SourcePlugin>() -> abi::SourceVtable {
    let flags =
        (T::REWINDABLE as u32 * abi::SOURCE_REWINDABLE) | (T::LOOKUP as u32 * abi::SOURCE_LOOKUP);
    abi::SourceVtable {
        create: create::<T>,
        open: open::<T>,
        pull: pull::<T>,
        close: close::<T>,
        destroy: destroy::<T>,
        flags,
        _reserved: 0,
        offset: Some(offset::<T>),
        rewind: Some(rewind::<T>),
        lookup: Some(lookup::<T>),
    }
}
