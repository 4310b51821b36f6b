//! The `tp_host` table: what a native instance calls back into.
//!
//! Each instance gets its own table and context, boxed so their addresses stay fixed
//! while the instance lives. The callbacks catch panics (unwinding into C is undefined)
//! and return the state API's codes; text handed to the plugin lives in the context
//! until the next callback.

use crate::convert::{from_abi, to_abi, Keep};
use std::ffi::c_void;
use std::panic::{catch_unwind, AssertUnwindSafe};
use tributary_core::state::StateError;
use tributary_core::Value;
use tributary_native_abi as abi;
#[cfg(test)]
use tributary_plugin::InstanceInfo;
use tributary_plugin::{Connection, InstanceHost, Level};

struct Ctx {
    host: InstanceHost,
    /// The last value `get_state` returned, and the text it lends.
    value: Value,
    keep: Keep,
    /// The last error text.
    err: String,
}

/// An instance's table and context. Dropped after the instance is destroyed.
///
/// Both live behind raw pointers from `Box::into_raw` for the table's whole life: the
/// plugin holds pointers into them, so no `Box` (which claims unique access) may be
/// moved around while they are shared.
pub struct HostTable {
    table: *mut abi::Host,
    ctx: *mut Ctx,
}

// SAFETY: the table and context are used by the thread calling the instance, one at a
// time; the state store is Send + Sync.
unsafe impl Send for HostTable {}

impl HostTable {
    /// The table of an instance built against ABI version `abi`: a version-1 plugin
    /// gets `root_path` as version 1 defined it (the plugin's own folder).
    pub fn new(host: InstanceHost, abi: u32) -> HostTable {
        let ctx = Box::into_raw(Box::new(Ctx {
            host,
            value: Value::Null,
            keep: Keep::default(),
            err: String::new(),
        }));
        let table = Box::into_raw(Box::new(abi::Host {
            abi_version: abi,
            _reserved: 0,
            ctx: ctx as *mut c_void,
            put_state,
            get_state,
            delete_state,
            incr_counter,
            get_counter,
            rule_id,
            operator_id,
            instance_id,
            root_path: if abi == abi::v1::ABI_VERSION {
                plugin_path
            } else {
                root_path
            },
            log,
            plugin_path,
            set_connection,
        }));
        HostTable { table, ctx }
    }

    /// The pointer handed to the plugin's constructor.
    pub fn as_ptr(&self) -> *const abi::Host {
        self.table
    }
}

impl Drop for HostTable {
    fn drop(&mut self) {
        // SAFETY: both came from `Box::into_raw` in `new` and are freed once, after the
        // instance using them was destroyed (see the `Live` types).
        unsafe {
            drop(Box::from_raw(self.table));
            drop(Box::from_raw(self.ctx));
        }
    }
}

/// # Safety
/// `ctx` is the context of a live [`HostTable`], used by one thread at a time.
unsafe fn ctx<'a>(ctx: *mut c_void) -> &'a mut Ctx {
    // SAFETY: per the caller.
    unsafe { &mut *(ctx as *mut Ctx) }
}

/// Runs a callback body, turning a failure into the ABI's code and error text.
///
/// # Safety
/// As [`ctx`]; `err` is null or writable.
unsafe fn state_call(
    c: *mut c_void,
    err: *mut abi::Slice,
    f: impl FnOnce(&mut Ctx) -> Result<i32, StateError>,
) -> i32 {
    // SAFETY: per the caller.
    let c = unsafe { ctx(c) };
    let r = catch_unwind(AssertUnwindSafe(|| f(c)))
        .unwrap_or_else(|_| Err(StateError::Store("the state store panicked".to_string())));
    match r {
        Ok(code) => code,
        Err(e) => {
            let code = match e {
                StateError::NotAnInteger => abi::STATE_NOT_INTEGER,
                StateError::Store(_) => abi::STATE_STORE,
            };
            c.err = e.to_string();
            if !err.is_null() {
                // SAFETY: per the caller; the text lives in the context.
                unsafe { *err = abi::Slice::str(&c.err) };
            }
            code
        }
    }
}

/// # Safety
/// `s` is lent by the plugin for the call.
unsafe fn key(s: abi::Slice) -> String {
    // SAFETY: per the caller.
    unsafe { s.to_string_lossy() }
}

unsafe extern "C" fn put_state(
    c: *mut c_void,
    k: abi::Slice,
    value: *const abi::Value,
    err: *mut abi::Slice,
) -> i32 {
    // SAFETY: the host's own context; the plugin lends key and value for the call.
    unsafe {
        state_call(c, err, |c| {
            let v = if value.is_null() {
                Value::Null
            } else {
                from_abi(&*value).map_err(StateError::Store)?
            };
            c.host.put(&key(k), v).map(|()| abi::STATE_OK)
        })
    }
}

unsafe extern "C" fn get_state(
    c: *mut c_void,
    k: abi::Slice,
    out: *mut abi::Value,
    err: *mut abi::Slice,
) -> i32 {
    // SAFETY: as above; `out` is the plugin's out-pointer.
    unsafe {
        state_call(c, err, |c| match c.host.get(&key(k))? {
            None => Ok(abi::STATE_MISSING),
            Some(v) => {
                c.keep.clear();
                c.value = v;
                if !out.is_null() {
                    *out = to_abi(&c.value, &mut c.keep);
                }
                Ok(abi::STATE_OK)
            }
        })
    }
}

unsafe extern "C" fn delete_state(c: *mut c_void, k: abi::Slice, err: *mut abi::Slice) -> i32 {
    // SAFETY: as above.
    unsafe { state_call(c, err, |c| c.host.delete(&key(k)).map(|()| abi::STATE_OK)) }
}

unsafe extern "C" fn incr_counter(
    c: *mut c_void,
    k: abi::Slice,
    amount: i64,
    out: *mut i64,
    err: *mut abi::Slice,
) -> i32 {
    // SAFETY: as above.
    unsafe {
        state_call(c, err, |c| {
            let n = c.host.incr(&key(k), amount)?;
            if !out.is_null() {
                *out = n;
            }
            Ok(abi::STATE_OK)
        })
    }
}

unsafe extern "C" fn get_counter(
    c: *mut c_void,
    k: abi::Slice,
    out: *mut i64,
    err: *mut abi::Slice,
) -> i32 {
    // SAFETY: as above.
    unsafe {
        state_call(c, err, |c| {
            let n = c.host.counter(&key(k))?;
            if !out.is_null() {
                *out = n;
            }
            Ok(abi::STATE_OK)
        })
    }
}

unsafe extern "C" fn rule_id(c: *mut c_void) -> abi::Slice {
    // SAFETY: the host's own context; the text lives as long as the instance.
    abi::Slice::str(&unsafe { ctx(c) }.host.info.rule_id)
}

unsafe extern "C" fn operator_id(c: *mut c_void) -> abi::Slice {
    // SAFETY: as above.
    abi::Slice::str(&unsafe { ctx(c) }.host.info.operator_id)
}

unsafe extern "C" fn instance_id(c: *mut c_void) -> abi::Slice {
    // SAFETY: as above.
    abi::Slice::str(&unsafe { ctx(c) }.host.info.instance_id)
}

unsafe extern "C" fn root_path(c: *mut c_void) -> abi::Slice {
    // SAFETY: as above.
    abi::Slice::str(&unsafe { ctx(c) }.host.info.root_path)
}

unsafe extern "C" fn plugin_path(c: *mut c_void) -> abi::Slice {
    // SAFETY: as above.
    abi::Slice::str(&unsafe { ctx(c) }.host.info.plugin_path)
}

unsafe extern "C" fn set_connection(c: *mut c_void, state: i32, message: abi::Slice) {
    // SAFETY: the host's own context; the plugin lends the message for the call.
    let (c, msg) = unsafe { (ctx(c), message.to_string_lossy()) };
    let state = match state {
        abi::CONNECTED => Connection::Connected,
        abi::CONNECTING => Connection::Connecting,
        _ => Connection::Disconnected,
    };
    let _ = catch_unwind(AssertUnwindSafe(|| c.host.set_connection(state, &msg)));
}

unsafe extern "C" fn log(c: *mut c_void, level: u32, message: abi::Slice) {
    // SAFETY: the host's own context; the plugin lends the message for the call.
    let (c, msg) = unsafe { (ctx(c), message.to_string_lossy()) };
    let level = match level {
        abi::LEVEL_TRACE => Level::Trace,
        abi::LEVEL_DEBUG => Level::Debug,
        abi::LEVEL_INFO => Level::Info,
        abi::LEVEL_WARN => Level::Warn,
        _ => Level::Error,
    };
    let _ = catch_unwind(AssertUnwindSafe(|| c.host.log(level, &msg)));
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use tributary_core::state::{MemoryStateStore, StateStore};

    #[test]
    fn the_table_serves_the_state_api_with_ekuipers_semantics() {
        let store: Arc<dyn StateStore> = Arc::new(MemoryStateStore::default());
        let info = InstanceInfo {
            scope: "s1".into(),
            rule_id: "r1".into(),
            ..InstanceInfo::default()
        };
        let h = HostTable::new(InstanceHost::new(info, store.clone()), abi::ABI_VERSION);
        // SAFETY: calling the table as a plugin would, with valid arguments.
        unsafe {
            let t = &*h.as_ptr();
            let mut err = abi::Slice::EMPTY;
            let mut n = 0i64;
            assert_eq!(
                (t.get_counter)(t.ctx, abi::Slice::str("c"), &mut n, &mut err),
                0
            );
            assert_eq!(n, 0);
            assert_eq!(
                (t.incr_counter)(t.ctx, abi::Slice::str("c"), 5, &mut n, &mut err),
                0
            );
            assert_eq!(n, 5);
            let mut out = abi::Value::NULL;
            assert_eq!(
                (t.get_state)(t.ctx, abi::Slice::str("none"), &mut out, &mut err),
                abi::STATE_MISSING
            );
            let v = abi::Value::slice(abi::KIND_STR, abi::Slice::str("x"));
            assert_eq!((t.put_state)(t.ctx, abi::Slice::str("k"), &v, &mut err), 0);
            assert_eq!(
                (t.incr_counter)(t.ctx, abi::Slice::str("k"), 1, &mut n, &mut err),
                abi::STATE_NOT_INTEGER
            );
            assert!(err.to_string_lossy().contains("not an integer"));
            assert_eq!(
                (t.get_state)(t.ctx, abi::Slice::str("k"), &mut out, &mut err),
                0
            );
            assert_eq!(from_abi(&out), Ok(Value::str("x")));
            assert_eq!((t.rule_id)(t.ctx).to_string_lossy(), "r1");
        }
        assert_eq!(store.counter("s1", "c"), Ok(5));
    }
}
