//! Function plugins: a library exporting a function table. Each instance is the
//! plugin's own object behind a `create`/`destroy` pair, with a host table of its
//! own; results are copied out while the instance is still held, because they live
//! in plugin memory only until its next call.

use crate::convert::{columns, from_abi, Columns, Keep};
use crate::host_api::HostTable;
use crate::library::{NativeArtifact, NativeLibrary};
use std::ffi::c_void;
use std::sync::Arc;
use tributary_core::function::{ArgInfo, Column, FnContext, RowError, RowResult};
use tributary_native_abi as abi;
use tributary_plugin::{ExportedFunction, FunctionArtifact, FunctionInstance, InstanceContext};

/// Copies the plugin's error text (valid until its next call).
///
/// # Safety
/// `err` was set by the plugin during the call that just returned.
pub(crate) unsafe fn error_text(lib: &NativeLibrary, err: abi::Slice, what: &str) -> String {
    // SAFETY: per the caller.
    let text = unsafe { err.to_string_lossy() };
    if text.is_empty() {
        format!("plugin {} failed in {what}", lib.name)
    } else {
        format!("plugin {}: {text}", lib.name)
    }
}

fn table(lib: &NativeLibrary) -> Result<&abi::FunctionVtable, String> {
    lib.function_table()
        .ok_or_else(|| format!("plugin {} has no function table", lib.name))
}

impl FunctionArtifact for NativeArtifact {
    fn functions(&self) -> &[ExportedFunction] {
        &self.0.functions
    }

    fn singleton(&self) -> bool {
        self.0.singleton
    }

    fn validate(&self, function: &str, args: &[ArgInfo]) -> Result<(), String> {
        let t = table(&self.0)?;
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
                abi::Slice::str(function),
                infos.as_ptr(),
                infos.len(),
                &mut err,
            )
        };
        if code == 0 {
            return Ok(());
        }
        // SAFETY: set by the plugin during this call.
        let text = unsafe { err.to_string_lossy() };
        if text.is_empty() {
            Err(format!(
                "plugin {} refused the arguments of {function}",
                self.0.name
            ))
        } else {
            Err(text)
        }
    }

    fn instantiate(
        &self,
        function: &str,
        ctx: &InstanceContext,
    ) -> Result<Box<dyn FunctionInstance>, String> {
        let t = table(&self.0)?;
        let host = HostTable::new(ctx.info.clone(), ctx.state.clone());
        let mut err = abi::Slice::EMPTY;
        // SAFETY: the library's constructor; the table outlives the instance (both
        // live in `Live`, the instance destroyed first).
        let inst = unsafe { (t.create)(host.as_ptr(), abi::Slice::str(function), &mut err) };
        if inst.is_null() {
            // SAFETY: set by the plugin during this call.
            return Err(unsafe { error_text(&self.0, err, "its constructor") });
        }
        Ok(Box::new(Live {
            inst,
            _host: host,
            lib: self.0.clone(),
            keep: Keep::default(),
            cols: Columns::default(),
            out: Vec::new(),
        }))
    }
}

/// A live plugin instance. Destroyed (by the plugin) before its host table and before
/// the library reference goes.
struct Live {
    inst: *mut c_void,
    _host: HostTable,
    lib: Arc<NativeLibrary>,
    keep: Keep,
    cols: Columns,
    /// The output slots, reused from batch to batch. The values in it point into
    /// plugin memory only between a call and the copy that follows it.
    out: Vec<abi::Value>,
}

// SAFETY: an instance is used by one thread at a time (the plugin host holds it
// behind a mutex); the pointers in `out` are never read outside the call that filled
// them.
unsafe impl Send for Live {}

impl Drop for Live {
    fn drop(&mut self) {
        if let Some(t) = self.lib.function_table() {
            // SAFETY: `inst` came from this table's `create` and is destroyed once.
            unsafe { (t.destroy)(self.inst) };
        }
    }
}

impl Live {
    /// Calls the plugin with `call` filling `n` output slots and copies the results
    /// onto `out`.
    fn run(
        &mut self,
        n: usize,
        what: &str,
        out: &mut Vec<RowResult>,
        call: impl FnOnce(&Live, *mut abi::Value, *mut abi::Slice) -> i32,
    ) -> Result<(), String> {
        let mut buf = std::mem::take(&mut self.out);
        buf.clear();
        buf.resize(n, abi::Value::NULL);
        let mut err = abi::Slice::EMPTY;
        let code = call(self, buf.as_mut_ptr(), &mut err);
        let r = if code != 0 {
            // SAFETY: set by the plugin during this call.
            Err(unsafe { error_text(&self.lib, err, what) })
        } else {
            out.reserve(n);
            // SAFETY: the plugin filled `n` values valid until its next call.
            out.extend(
                buf.iter()
                    .map(|v| unsafe { from_abi(v) }.map_err(RowError::Failed)),
            );
            Ok(())
        };
        self.out = buf;
        r
    }
}

impl FunctionInstance for Live {
    fn exec(
        &mut self,
        _ctx: &FnContext,
        args: &[Column],
        n: usize,
        out: &mut Vec<RowResult>,
    ) -> Result<(), String> {
        let mut cols = std::mem::take(&mut self.cols);
        cols.fill(args, &mut self.keep);
        let r = self.run(n, "exec", out, |live, buf, err| {
            match live.lib.function_table() {
                // SAFETY: the instance's own table; columns and output lent for the call.
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
        r
    }

    fn exec_groups(
        &mut self,
        _ctx: &FnContext,
        groups: &[Vec<Column>],
        out: &mut Vec<RowResult>,
    ) -> Result<(), String> {
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
        let r = self.run(groups.len(), "exec_groups", out, |live, buf, err| {
            match live.lib.function_table().and_then(|t| t.exec_groups) {
                // SAFETY: the instance's own table; groups and output lent for the call.
                Some(f) => unsafe { f(live.inst, raw.as_ptr(), raw.len(), buf, err) },
                None => -1,
            }
        });
        drop(cols);
        keep.clear();
        self.keep = keep;
        r
    }
}
