//! Function plugins: a library exporting a function table. Each instance is the
//! plugin's own object behind a `create`/`destroy` pair, with a host table of its
//! own; results are copied out while the instance is still held, because they live
//! in plugin memory only until its next call. A version-1 plugin gets value columns
//! and fills values; a version-2 plugin gets typed columns where every row is one
//! type and may answer with a typed list.

use crate::convert::{columns, from_abi, Columns, Keep, TypedColumns};
use crate::host_api::HostTable;
use crate::library::{FunctionTable, NativeArtifact, NativeLibrary};
use std::ffi::c_void;
use std::sync::Arc;
use tributary_core::function::{ArgInfo, Column, FnContext, RowError, RowResult};
use tributary_native_abi as abi;
use tributary_plugin::typed::{failed_in, push_typed, FlatOut};
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

fn table(lib: &NativeLibrary) -> Result<FunctionTable<'_>, String> {
    lib.function_table()
        .ok_or_else(|| format!("plugin {} has no function table", lib.name))
}

impl FunctionArtifact for NativeArtifact {
    fn contract(&self) -> String {
        self.0.contract()
    }

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
            (t.validate())(
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
        let lib = &self.0;
        let t = table(lib)?;
        let host = HostTable::new(ctx.host(), lib.abi);
        let mut err = abi::Slice::EMPTY;
        // SAFETY: the library's constructor; the table outlives the instance (both
        // live in `Live`, the instance destroyed first).
        let inst = unsafe { (t.create())(host.as_ptr(), abi::Slice::str(function), &mut err) };
        if inst.is_null() {
            // SAFETY: set by the plugin during this call.
            return Err(unsafe { error_text(lib, err, "its constructor") });
        }
        Ok(Box::new(Live {
            inst,
            _host: host,
            lib: lib.clone(),
            keep: Keep::default(),
            cols: Columns::default(),
            out: Vec::new(),
            data: Vec::new(),
            nulls: Vec::new(),
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
    /// Version 1's argument columns, reused from batch to batch.
    cols: Columns,
    /// The output slots, reused from batch to batch. The values in it point into
    /// plugin memory only between a call and the copy that follows it.
    out: Vec<abi::Value>,
    /// Version 2's typed output slots and null flags.
    data: Vec<u64>,
    nulls: Vec<u8>,
}

// SAFETY: an instance is used by one thread at a time (the plugin host holds it
// behind a mutex); the pointers in `out` are never read outside the call that filled
// them.
unsafe impl Send for Live {}

impl Drop for Live {
    fn drop(&mut self) {
        if let Some(t) = self.lib.function_table() {
            // SAFETY: `inst` came from this table's `create` and is destroyed once.
            unsafe { (t.destroy())(self.inst) };
        }
    }
}

/// Version 1's entry points, for [`Live::run_v1`].
type ExecV1 = unsafe extern "C" fn(
    *mut c_void,
    *const abi::v1::Column,
    usize,
    usize,
    *mut abi::Value,
    *mut abi::Slice,
) -> i32;

impl Live {
    /// Calls a version-1 plugin with `call` filling `n` value slots and copies the
    /// results onto `out`.
    fn run_v1(
        &mut self,
        n: usize,
        what: &str,
        out: &mut Vec<RowResult>,
        call: impl FnOnce(*mut c_void, *mut abi::Value, *mut abi::Slice) -> i32,
    ) -> Result<usize, String> {
        let mut buf = std::mem::take(&mut self.out);
        buf.clear();
        buf.resize(n, abi::Value::NULL);
        let mut err = abi::Slice::EMPTY;
        let code = call(self.inst, buf.as_mut_ptr(), &mut err);
        let r = if code != 0 {
            // SAFETY: set by the plugin during this call.
            Err(unsafe { error_text(&self.lib, err, what) })
        } else {
            out.reserve(n);
            let start = out.len();
            // SAFETY: the plugin filled `n` values valid until its next call.
            out.extend(
                buf.iter()
                    .map(|v| unsafe { from_abi(v) }.map_err(RowError::Failed)),
            );
            Ok(failed_in(&out[start..]))
        };
        self.out = buf;
        r
    }

    /// Calls a version-2 plugin with `call` filling a results block of `n` rows and
    /// copies the results, values or typed, onto `out`.
    fn run_v2(
        &mut self,
        n: usize,
        what: &str,
        out: &mut Vec<RowResult>,
        call: impl FnOnce(*mut c_void, *mut abi::Results, *mut abi::Slice) -> i32,
    ) -> Result<usize, String> {
        let (mut values, mut data, mut nulls) = (
            std::mem::take(&mut self.out),
            std::mem::take(&mut self.data),
            std::mem::take(&mut self.nulls),
        );
        values.clear();
        values.resize(n, abi::Value::NULL);
        data.clear();
        data.resize(n, 0);
        nulls.clear();
        nulls.resize(n, 0);
        let mut results = abi::Results {
            form: abi::COL_VALUES,
            _reserved: 0,
            values: values.as_mut_ptr(),
            data: data.as_mut_ptr().cast(),
            nulls: nulls.as_mut_ptr(),
            len: n,
        };
        let mut err = abi::Slice::EMPTY;
        let code = call(self.inst, &mut results, &mut err);
        let r = if code != 0 {
            // SAFETY: set by the plugin during this call.
            Err(unsafe { error_text(&self.lib, err, what) })
        } else {
            typed_results(results.form, &values, &data, &nulls, out)
                .map_err(|e| format!("plugin {}: {e}", self.lib.name))
        };
        (self.out, self.data, self.nulls) = (values, data, nulls);
        r
    }
}

/// The groups of an aggregate call as the ABI lends them: each group's argument
/// columns (`headers`) and its row count, made into the version's group struct.
fn raw_groups<'a, H: 'a, G>(
    groups: &[Vec<Column>],
    headers: impl Iterator<Item = &'a [H]>,
    make: impl Fn(*const H, usize, usize) -> G,
) -> Vec<G> {
    groups
        .iter()
        .zip(headers)
        .map(|(g, h)| {
            let rows = g
                .iter()
                .map(|c| match c {
                    Column::Values(v) => v.len(),
                    Column::Scalar(_) => 1,
                })
                .max()
                .unwrap_or(0);
            make(h.as_ptr(), h.len(), rows)
        })
        .collect()
}

/// What a version-2 plugin left in its results block; answers how many rows failed.
fn typed_results(
    form: u32,
    values: &[abi::Value],
    data: &[u64],
    nulls: &[u8],
    out: &mut Vec<RowResult>,
) -> Result<usize, String> {
    let n = values.len();
    // A fold, not `any`: without the early exit the check is vectorised.
    let mask: Vec<bool> = if nulls.iter().fold(0, |a, b| a | b) != 0 {
        nulls.iter().map(|b| *b != 0).collect()
    } else {
        Vec::new()
    };
    let flat = match form {
        abi::COL_VALUES => {
            out.reserve(n);
            let start = out.len();
            // SAFETY: the plugin filled `n` values valid until its next call.
            out.extend(
                values
                    .iter()
                    .map(|v| unsafe { from_abi(v) }.map_err(RowError::Failed)),
            );
            return Ok(failed_in(&out[start..]));
        }
        // SAFETY (the casts below): `data` holds `n` 8-byte slots, aligned for u64,
        // which i64 and f64 share.
        abi::COL_INTS => {
            FlatOut::Ints(unsafe { std::slice::from_raw_parts(data.as_ptr().cast(), n) })
        }
        abi::COL_DATETIMES => {
            FlatOut::Datetimes(unsafe { std::slice::from_raw_parts(data.as_ptr().cast(), n) })
        }
        abi::COL_FLOATS => {
            FlatOut::Floats(unsafe { std::slice::from_raw_parts(data.as_ptr().cast(), n) })
        }
        abi::COL_BOOLS => {
            // SAFETY: the first `n` bytes of the slots, one 0/1 byte per row.
            let bytes: &[u8] = unsafe { std::slice::from_raw_parts(data.as_ptr().cast(), n) };
            if let Some(b) = bytes.iter().find(|b| **b > 1) {
                return Err(format!("a boolean result must be 0 or 1, not {b}"));
            }
            let bools: Vec<bool> = bytes.iter().map(|b| *b == 1).collect();
            return push_typed(FlatOut::Bools(&bools), &mask, n, out);
        }
        other => return Err(format!("the results have an unknown form {other}")),
    };
    push_typed(flat, &mask, n, out)
}

impl FunctionInstance for Live {
    fn exec(
        &mut self,
        _ctx: &FnContext,
        args: &[Column],
        n: usize,
        out: &mut Vec<RowResult>,
    ) -> Result<usize, String> {
        let lib = self.lib.clone();
        match table(&lib)? {
            FunctionTable::V1(t) => {
                let exec: ExecV1 = t.exec;
                let mut cols = std::mem::take(&mut self.cols);
                cols.fill(args, &mut self.keep);
                let (ptr, len) = (cols.headers.as_ptr(), cols.headers.len());
                // SAFETY: the instance's own table; columns and output lent for the call.
                let r = self.run_v1(n, "exec", out, |inst, buf, err| unsafe {
                    exec(inst, ptr, len, n, buf, err)
                });
                self.cols = cols;
                self.keep.clear();
                r
            }
            FunctionTable::V2(t) => {
                let mut keep = std::mem::take(&mut self.keep);
                let cols = TypedColumns::new(args, &mut keep);
                let (ptr, len) = (cols.headers.as_ptr(), cols.headers.len());
                let exec = t.exec;
                // SAFETY: as above.
                let r = self.run_v2(n, "exec", out, |inst, res, err| unsafe {
                    exec(inst, ptr, len, n, res, err)
                });
                drop(cols);
                keep.clear();
                self.keep = keep;
                r
            }
        }
    }

    fn exec_groups(
        &mut self,
        _ctx: &FnContext,
        groups: &[Vec<Column>],
        out: &mut Vec<RowResult>,
    ) -> Result<usize, String> {
        let lib = self.lib.clone();
        let none = || format!("plugin {} has no aggregate functions", lib.name);
        let mut keep = std::mem::take(&mut self.keep);
        let r = match table(&lib)? {
            FunctionTable::V1(t) => {
                let cols: Vec<_> = groups.iter().map(|g| columns(g, &mut keep)).collect();
                let raw = raw_groups(
                    groups,
                    cols.iter().map(|c| &c.headers[..]),
                    |args, nargs, rows| abi::v1::Group { args, nargs, rows },
                );
                match t.exec_groups {
                    // SAFETY: the instance's own table; groups and output lent for the call.
                    Some(f) => {
                        self.run_v1(groups.len(), "exec_groups", out, |inst, buf, err| unsafe {
                            f(inst, raw.as_ptr(), raw.len(), buf, err)
                        })
                    }
                    None => Err(none()),
                }
            }
            FunctionTable::V2(t) => {
                let cols: Vec<_> = groups
                    .iter()
                    .map(|g| TypedColumns::new(g, &mut keep))
                    .collect();
                let raw = raw_groups(
                    groups,
                    cols.iter().map(|c| &c.headers[..]),
                    |args, nargs, rows| abi::Group { args, nargs, rows },
                );
                match t.exec_groups {
                    // SAFETY: as above.
                    Some(f) => {
                        self.run_v2(groups.len(), "exec_groups", out, |inst, res, err| unsafe {
                            f(inst, raw.as_ptr(), raw.len(), res, err)
                        })
                    }
                    None => Err(none()),
                }
            }
        };
        keep.clear();
        self.keep = keep;
        r
    }
}
