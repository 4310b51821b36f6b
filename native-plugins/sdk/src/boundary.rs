//! Crossing the boundary: panics become errors, error texts stay alive until the next
//! call.

use crate::abi::Slice;
use std::cell::Cell;
use std::panic::{catch_unwind, AssertUnwindSafe};

thread_local! {
    /// Error texts of calls without an instance (`validate`, constructors): valid
    /// until the next such call on this thread. A leaked buffer rather than a `String`
    /// with a destructor: a thread-local destructor would pin the library in memory on
    /// glibc (it could never be unloaded) and run in unmapped code elsewhere.
    static LAST_ERROR: Cell<*mut String> = const { Cell::new(std::ptr::null_mut()) };
}

/// The text of a panic payload.
pub(crate) fn panic_text(p: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = p.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = p.downcast_ref::<String>() {
        s.clone()
    } else {
        "unknown panic".to_string()
    }
}

/// Runs `f`, turning a panic into an error.
pub(crate) fn guarded<R>(f: impl FnOnce() -> Result<R, String>) -> Result<R, String> {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(r) => r,
        Err(p) => Err(format!("plugin panicked: {}", panic_text(p.as_ref()))),
    }
}

/// Stores an instance-less error in the thread's slot and points `err` at it.
///
/// # Safety
/// `err` is null or writable.
pub(crate) unsafe fn set_thread_error(err: *mut Slice, msg: String) {
    LAST_ERROR.with(|slot| {
        let mut p = slot.get();
        if p.is_null() {
            p = Box::into_raw(Box::new(String::new()));
            slot.set(p);
        }
        // SAFETY: `p` is this thread's own leaked buffer, used by no one else.
        let text = unsafe { &mut *p };
        *text = msg;
        if !err.is_null() {
            // SAFETY: the caller passed a writable pointer; the text lives in the
            // thread's buffer until the next instance-less call on this thread.
            unsafe { *err = Slice::str(text) };
        }
    });
}

/// An instance's own error slot.
#[derive(Default)]
pub(crate) struct ErrorSlot(String);

impl ErrorSlot {
    /// Keeps `msg` and points `err` at it; returns the failure code.
    ///
    /// # Safety
    /// `err` is null or writable.
    pub(crate) unsafe fn fail(&mut self, err: *mut Slice, msg: String) -> i32 {
        self.0 = msg;
        if !err.is_null() {
            // SAFETY: as documented; the text lives in the instance until its next call.
            unsafe { *err = Slice::str(&self.0) };
        }
        -1
    }
}
