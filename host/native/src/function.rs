//! Native functions behind the engine's function traits.
//!
//! A [`NativeFunctionFactory`] is registered per exported function. Each call site of
//! a rule gets its own plugin instance (its own state scope), or a handle to the
//! plugin's shared instance for a singleton. An update swaps the library in the
//! factory's cell; instances switch at their next batch, and the old library is
//! unloaded when its last instance has gone.

use crate::convert::{columns, from_abi, Columns, Keep};
use crate::host_api::{HostTable, InstanceInfo};
use crate::library::NativeLibrary;
use std::ffi::c_void;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use tributary_core::function::{
    ArgInfo, CallSite, Column, FnContext, FunctionFactory, FunctionImpl, FunctionKind, RowResult,
};
use tributary_core::state::StateStore;
use tributary_core::Error;
use tributary_native_abi as abi;

/// The tier-wide plugin counters.
pub use tributary_core::function::PluginMetrics;

/// The current version of a plugin; an update swaps what the cell holds.
pub type LibraryCell = Arc<RwLock<Arc<NativeLibrary>>>;

/// Reads the cell; a poisoned lock still holds a valid library.
pub fn current(cell: &LibraryCell) -> Arc<NativeLibrary> {
    match cell.read() {
        Ok(l) => l.clone(),
        Err(p) => p.into_inner().clone(),
    }
}

/// A live plugin instance. Destroyed (by the plugin) before its host table and before
/// the library reference goes.
struct Live {
    inst: *mut c_void,
    _host: HostTable,
    lib: Arc<NativeLibrary>,
}

// SAFETY: an instance is used by one thread at a time (it sits behind a Mutex).
unsafe impl Send for Live {}

impl Drop for Live {
    fn drop(&mut self) {
        if let Some(t) = self.lib.function_table() {
            // SAFETY: `inst` came from this table's `create` and is destroyed once.
            unsafe { (t.destroy)(self.inst) };
        }
    }
}

/// One call site's instance (or the singleton's), created lazily, re-created after a
/// failed call.
struct Slot {
    live: Option<Live>,
    info: InstanceInfo,
}

pub struct NativeFunctionFactory {
    cell: LibraryCell,
    users: Arc<AtomicU64>,
    name: String,
    kind: FunctionKind,
    state: Arc<dyn StateStore>,
    metrics: Arc<PluginMetrics>,
    shared: Option<Arc<Mutex<Slot>>>,
    next_instance: AtomicU64,
}

impl NativeFunctionFactory {
    pub fn new(
        cell: LibraryCell,
        name: &str,
        kind: FunctionKind,
        state: Arc<dyn StateStore>,
        metrics: Arc<PluginMetrics>,
    ) -> Self {
        let lib = current(&cell);
        let shared = lib.singleton.then(|| {
            Arc::new(Mutex::new(Slot {
                live: None,
                info: InstanceInfo {
                    plugin: lib.name.clone(),
                    operator_id: "function:singleton".into(),
                    instance_id: format!("{}:{name}:singleton", lib.name),
                    root_path: lib.etc_dir.display().to_string(),
                    scope: format!("plugin/{}/singleton", lib.name),
                    ..InstanceInfo::default()
                },
            }))
        });
        NativeFunctionFactory {
            cell,
            users: Arc::new(AtomicU64::new(0)),
            name: name.to_string(),
            kind,
            state,
            metrics,
            shared,
            next_instance: AtomicU64::new(0),
        }
    }

    /// How many instances of this function are alive.
    pub fn users(&self) -> u64 {
        self.users.load(Ordering::Relaxed)
    }

    pub fn metrics(&self) -> &Arc<PluginMetrics> {
        &self.metrics
    }
}

/// Copies the plugin's error text (valid until its next call).
///
/// # Safety
/// `err` was set by the plugin during the call that just returned.
unsafe fn error_text(lib: &NativeLibrary, err: abi::Slice, what: &str) -> String {
    // SAFETY: per the caller.
    let text = unsafe { err.to_string_lossy() };
    if text.is_empty() {
        format!("plugin {} failed in {what}", lib.name)
    } else {
        format!("plugin {}: {text}", lib.name)
    }
}

impl FunctionFactory for NativeFunctionFactory {
    fn name(&self) -> &str {
        &self.name
    }

    fn kind(&self) -> FunctionKind {
        self.kind
    }

    fn validate(&self, args: &[ArgInfo]) -> Result<(), String> {
        let lib = current(&self.cell);
        let Some(t) = lib.function_table() else {
            return Err(format!("plugin {} has no function table", lib.name));
        };
        let mut keep = Keep::default();
        let infos: Vec<abi::ArgInfo> = args
            .iter()
            .map(|a| match a {
                ArgInfo::Literal(v) => abi::ArgInfo {
                    is_literal: 1,
                    _reserved: 0,
                    literal: crate::convert::to_abi(v, &mut keep),
                },
                ArgInfo::Dynamic => abi::ArgInfo {
                    is_literal: 0,
                    _reserved: 0,
                    literal: abi::Value::NULL,
                },
            })
            .collect();
        let mut err = abi::Slice::EMPTY;
        // SAFETY: the library's own function; arguments are lent for the call.
        let code = unsafe {
            (t.validate)(
                abi::Slice::str(&self.name),
                infos.as_ptr(),
                infos.len(),
                &mut err,
            )
        };
        if code == 0 {
            Ok(())
        } else {
            // SAFETY: set by the plugin during this call.
            let text = unsafe { err.to_string_lossy() };
            if text.is_empty() {
                Err(format!(
                    "plugin {} refused the arguments of {}",
                    lib.name, self.name
                ))
            } else {
                Err(text)
            }
        }
    }

    fn instantiate(&self, site: &CallSite) -> Result<Box<dyn FunctionImpl>, Error> {
        let lib = current(&self.cell);
        let slot = match &self.shared {
            Some(s) => s.clone(),
            None => {
                let n = self.next_instance.fetch_add(1, Ordering::Relaxed);
                Arc::new(Mutex::new(Slot {
                    live: None,
                    info: InstanceInfo {
                        plugin: lib.name.clone(),
                        rule_id: site.rule_id.clone(),
                        operator_id: format!("function:{}", site.site),
                        instance_id: format!("{}:{}:{}:{n}", lib.name, site.rule_id, site.site),
                        root_path: lib.etc_dir.display().to_string(),
                        // eKuiper scopes function state per rule and call site; the
                        // same scope as the wasm tier, so a plugin moved between tiers
                        // keeps its state.
                        scope: format!(
                            "rule/{}/function/{}/{}",
                            site.rule_id, site.site, self.name
                        ),
                    },
                }))
            }
        };
        self.users.fetch_add(1, Ordering::Relaxed);
        let imp = NativeFunctionImpl {
            cell: self.cell.clone(),
            users: self.users.clone(),
            lib,
            name: self.name.clone(),
            state: self.state.clone(),
            metrics: self.metrics.clone(),
            slot,
            keep: Keep::default(),
            cols: Columns::default(),
            out: OutBuf::default(),
        };
        // Create the instance now, so a rule does not start with a broken plugin.
        imp.with_live(|_| Ok(())).map_err(Error::external)?;
        Ok(Box::new(imp))
    }
}

pub struct NativeFunctionImpl {
    cell: LibraryCell,
    users: Arc<AtomicU64>,
    /// The version this instance runs.
    lib: Arc<NativeLibrary>,
    name: String,
    state: Arc<dyn StateStore>,
    metrics: Arc<PluginMetrics>,
    slot: Arc<Mutex<Slot>>,
    keep: Keep,
    cols: Columns,
    out: OutBuf,
}

/// The output slots reused from batch to batch. The values in it point into plugin
/// memory only between a call and the copy that follows it.
#[derive(Default)]
struct OutBuf(Vec<abi::Value>);

// SAFETY: the pointers in the buffer are never dereferenced outside the call that
// filled them; between calls the buffer is only overwritten.
unsafe impl Send for OutBuf {}

impl NativeFunctionImpl {
    /// Runs `f` on the live instance, creating it first if needed. A failed call
    /// discards the instance (a plugin that panicked may hold broken state); the next
    /// batch gets a fresh one with the same state scope.
    fn with_live<R>(&self, f: impl FnOnce(&mut Live) -> Result<R, String>) -> Result<R, String> {
        let mut slot = match self.slot.lock() {
            Ok(g) => g,
            Err(p) => {
                let mut g = p.into_inner();
                g.live = None;
                g
            }
        };
        let stale = slot
            .live
            .as_ref()
            .is_some_and(|l| !Arc::ptr_eq(&l.lib, &self.lib));
        if stale {
            // A singleton shared with a call site that already switched versions.
            slot.live = None;
        }
        if slot.live.is_none() {
            let Some(t) = self.lib.function_table() else {
                return Err(format!("plugin {} has no function table", self.lib.name));
            };
            let host = HostTable::new(slot.info.clone(), self.state.clone());
            let mut err = abi::Slice::EMPTY;
            // SAFETY: the library's constructor; the table outlives the instance
            // (both live in `Live`, the instance destroyed first).
            let inst = unsafe { (t.create)(host.as_ptr(), abi::Slice::str(&self.name), &mut err) };
            if inst.is_null() {
                // SAFETY: set by the plugin during this call.
                return Err(unsafe { error_text(&self.lib, err, "its constructor") });
            }
            slot.live = Some(Live {
                inst,
                _host: host,
                lib: self.lib.clone(),
            });
        }
        let Some(live) = slot.live.as_mut() else {
            return Err("plugin instance missing".to_string());
        };
        let r = f(live);
        if r.is_err() {
            slot.live = None;
            self.metrics.restarts.fetch_add(1, Ordering::Relaxed);
        }
        r
    }

    /// Switches to the plugin's current version at a batch boundary.
    fn follow_updates(&mut self) {
        let latest = current(&self.cell);
        if !Arc::ptr_eq(&latest, &self.lib) {
            tracing::info!(plugin = %latest.name, version = %latest.version, function = %self.name, "switching to the updated native plugin");
            self.lib = latest;
            let mut slot = match self.slot.lock() {
                Ok(g) => g,
                Err(p) => p.into_inner(),
            };
            // A singleton shared with call sites that already switched is current:
            // keep it (and its in-memory state).
            if slot
                .live
                .as_ref()
                .is_some_and(|l| !Arc::ptr_eq(&l.lib, &self.lib))
            {
                slot.live = None;
            }
        }
    }

    /// Calls the plugin with `call` filling `self.out` (n slots) and copies the
    /// results onto `out` while the instance is still locked: they live in plugin
    /// memory only until its next call.
    fn run(
        &mut self,
        n: usize,
        what: &str,
        out: &mut Vec<RowResult>,
        call: impl FnOnce(&Live, *mut abi::Value, *mut abi::Slice) -> i32,
    ) {
        self.metrics.calls.fetch_add(1, Ordering::Relaxed);
        self.metrics.rows.fetch_add(n as u64, Ordering::Relaxed);
        let mut buf = std::mem::take(&mut self.out.0);
        buf.clear();
        buf.resize(n, abi::Value::NULL);
        let start = out.len();
        let mut row_errors = 0u64;
        let started = std::time::Instant::now();
        let r = self.with_live(|live| {
            let mut err = abi::Slice::EMPTY;
            let code = call(live, buf.as_mut_ptr(), &mut err);
            if code != 0 {
                // SAFETY: set by the plugin during this call.
                return Err(unsafe { error_text(&live.lib, err, what) });
            }
            out.reserve(n);
            for v in &buf {
                // SAFETY: the plugin filled `n` values valid until its next call.
                let r = unsafe { from_abi(v) };
                row_errors += r.is_err() as u64;
                out.push(r);
            }
            Ok(())
        });
        self.metrics.time(started);
        match r {
            Ok(()) => {
                self.metrics.errors.fetch_add(row_errors, Ordering::Relaxed);
            }
            Err(e) => {
                out.truncate(start);
                self.metrics.errors.fetch_add(n as u64, Ordering::Relaxed);
                out.extend((0..n).map(|_| Err(e.clone())));
            }
        }
        self.out = OutBuf(buf);
    }
}

impl Drop for NativeFunctionImpl {
    fn drop(&mut self) {
        self.users.fetch_sub(1, Ordering::Relaxed);
    }
}

impl FunctionImpl for NativeFunctionImpl {
    fn exec_batch(
        &mut self,
        _ctx: &FnContext,
        args: &[Column],
        n: usize,
        out: &mut Vec<RowResult>,
    ) {
        self.follow_updates();
        let mut cols = std::mem::take(&mut self.cols);
        cols.fill(args, &mut self.keep);
        let lib = self.lib.clone();
        self.run(n, "exec", out, |live, buf, err| {
            match lib.function_table() {
                // SAFETY: the instance's own table; columns and output are lent for the call.
                Some(t) => unsafe {
                    (t.exec)(
                        live.inst,
                        cols.headers.as_ptr(),
                        cols.headers.len(),
                        n,
                        buf,
                        err,
                    )
                },
                None => -1,
            }
        });
        self.cols = cols;
        self.keep.clear();
    }

    fn exec_groups(&mut self, _ctx: &FnContext, groups: &[Vec<Column>], out: &mut Vec<RowResult>) {
        self.follow_updates();
        let mut keep = std::mem::take(&mut self.keep);
        let cols: Vec<_> = groups.iter().map(|g| columns(g, &mut keep)).collect();
        let raw: Vec<abi::Group> = groups
            .iter()
            .zip(&cols)
            .map(|(g, c)| abi::Group {
                args: c.headers.as_ptr(),
                nargs: c.headers.len(),
                rows: g
                    .iter()
                    .map(|c| match c {
                        Column::Values(v) => v.len(),
                        Column::Scalar(_) => 1,
                    })
                    .max()
                    .unwrap_or(0),
            })
            .collect();
        let lib = self.lib.clone();
        self.run(groups.len(), "exec_groups", out, |live, buf, err| {
            match lib.function_table().and_then(|t| t.exec_groups) {
                // SAFETY: the instance's own table; groups and output lent for the call.
                Some(f) => unsafe { f(live.inst, raw.as_ptr(), raw.len(), buf, err) },
                None => -1,
            }
        });
        drop(cols);
        keep.clear();
        self.keep = keep;
    }
}
