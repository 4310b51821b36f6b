//! The host's services as a plugin sees them: the state API, scoped to this instance,
//! and its context.

use crate::abi;
use crate::value::{Value, ValueRef};

/// A state operation's failure.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StateError {
    /// `incr_counter` on a key holding something other than an integer.
    NotAnInteger,
    /// The store failed.
    Store(String),
}

impl std::fmt::Display for StateError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StateError::NotAnInteger => f.write_str("the value is not an integer"),
            StateError::Store(e) => write!(f, "state store error: {e}"),
        }
    }
}

/// A connection state ([`Host::set_connection`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Connection {
    Connected,
    Connecting,
    Disconnected,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    Trace,
    Debug,
    Info,
    Warn,
    Error,
}

/// The host table of one instance; valid for the instance's whole life.
#[derive(Debug)]
pub struct Host {
    raw: *const abi::Host,
}

// SAFETY: the host calls an instance from one thread at a time, and the table is
// valid until the instance is destroyed.
unsafe impl Send for Host {}

fn state_result(code: i32, err: abi::Slice) -> Result<(), StateError> {
    match code {
        abi::STATE_OK | abi::STATE_MISSING => Ok(()),
        abi::STATE_NOT_INTEGER => Err(StateError::NotAnInteger),
        // SAFETY: the host's error text is valid until its next call.
        _ => Err(StateError::Store(unsafe { err.to_string_lossy() })),
    }
}

impl Host {
    /// # Safety
    /// `raw` is the table the host passed to the constructor.
    pub(crate) unsafe fn from_raw(raw: *const abi::Host) -> Host {
        Host { raw }
    }

    fn table(&self) -> &abi::Host {
        // SAFETY: valid for the instance's life (see `from_raw`).
        unsafe { &*self.raw }
    }

    pub fn put_state(&self, key: &str, value: &Value) -> Result<(), StateError> {
        let t = self.table();
        let mut err = abi::Slice::EMPTY;
        let raw = value.to_abi();
        // SAFETY: the host's function with its own context; arguments outlive the call.
        let code = unsafe { (t.put_state)(t.ctx, abi::Slice::str(key), &raw, &mut err) };
        state_result(code, err)
    }

    pub fn get_state(&self, key: &str) -> Result<Option<Value>, StateError> {
        let t = self.table();
        let mut err = abi::Slice::EMPTY;
        let mut out = abi::Value::NULL;
        // SAFETY: as above.
        let code = unsafe { (t.get_state)(t.ctx, abi::Slice::str(key), &mut out, &mut err) };
        state_result(code, err)?;
        if code == abi::STATE_MISSING {
            return Ok(None);
        }
        // SAFETY: the host's value is valid until its next call; copied at once.
        Ok(Some(unsafe { ValueRef::from_abi(&out) }.to_owned()))
    }

    pub fn delete_state(&self, key: &str) -> Result<(), StateError> {
        let t = self.table();
        let mut err = abi::Slice::EMPTY;
        // SAFETY: as above.
        let code = unsafe { (t.delete_state)(t.ctx, abi::Slice::str(key), &mut err) };
        state_result(code, err)
    }

    /// Adds `amount` to the counter `key` (missing: 0) and returns the sum.
    pub fn incr_counter(&self, key: &str, amount: i64) -> Result<i64, StateError> {
        let t = self.table();
        let mut err = abi::Slice::EMPTY;
        let mut out = 0i64;
        // SAFETY: as above.
        let code =
            unsafe { (t.incr_counter)(t.ctx, abi::Slice::str(key), amount, &mut out, &mut err) };
        state_result(code, err).map(|()| out)
    }

    pub fn get_counter(&self, key: &str) -> Result<i64, StateError> {
        let t = self.table();
        let mut err = abi::Slice::EMPTY;
        let mut out = 0i64;
        // SAFETY: as above.
        let code = unsafe { (t.get_counter)(t.ctx, abi::Slice::str(key), &mut out, &mut err) };
        state_result(code, err).map(|()| out)
    }

    fn text(&self, f: unsafe extern "C" fn(*mut std::ffi::c_void) -> abi::Slice) -> String {
        // SAFETY: the host's function with its own context; the text is copied at once.
        unsafe { f(self.table().ctx).to_string_lossy() }
    }

    pub fn rule_id(&self) -> String {
        self.text(self.table().rule_id)
    }
    pub fn operator_id(&self) -> String {
        self.text(self.table().operator_id)
    }
    pub fn instance_id(&self) -> String {
        self.text(self.table().instance_id)
    }
    /// The engine root (eKuiper's `GetRootPath`): relative paths in props are
    /// relative to it.
    pub fn root_path(&self) -> String {
        self.text(self.table().root_path)
    }
    /// The plugin's own folder, `<root>/etc/<kind>/<name>`.
    pub fn plugin_path(&self) -> String {
        self.text(self.table().plugin_path)
    }

    /// Reports a source's or sink's connection, shown in the rule's status
    /// (`message` says why when it is not connected).
    pub fn set_connection(&self, state: Connection, message: &str) {
        let t = self.table();
        let state = match state {
            Connection::Connected => abi::CONNECTED,
            Connection::Connecting => abi::CONNECTING,
            Connection::Disconnected => abi::DISCONNECTED,
        };
        // SAFETY: as above.
        unsafe { (t.set_connection)(t.ctx, state, abi::Slice::str(message)) }
    }

    /// Writes into the host's log, tagged with the plugin and the rule.
    pub fn log(&self, level: Level, message: &str) {
        let t = self.table();
        let level = match level {
            Level::Trace => abi::LEVEL_TRACE,
            Level::Debug => abi::LEVEL_DEBUG,
            Level::Info => abi::LEVEL_INFO,
            Level::Warn => abi::LEVEL_WARN,
            Level::Error => abi::LEVEL_ERROR,
        };
        // SAFETY: as above.
        unsafe { (t.log)(t.ctx, level, abi::Slice::str(message)) }
    }
}
