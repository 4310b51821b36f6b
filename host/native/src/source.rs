//! Source plugins: a library exporting a source table, as a stream `TYPE`. The pull
//! loop is the plugin host's; this is the create, open, pull, close and destroy calls,
//! and, for a version-2 plugin that says it can (its table's flags), the offset,
//! rewind and lookup calls.

use crate::convert::{object_from_abi, to_abi, Keep};
use crate::host_api::HostTable;
use crate::library::{failed, NativeArtifact, NativeLibrary};
use std::ffi::c_void;
use std::sync::Arc;
use tributary_core::connector::Payload;
use tributary_core::{Object, Value};
use tributary_native_abi as abi;
use tributary_plugin::{InstanceContext, Pulled, SourceArtifact, SourceInfo, SourceInstance};

fn table(lib: &NativeLibrary) -> Result<&abi::v1::SourceVtable, String> {
    lib.source_table()
        .ok_or_else(|| format!("plugin {} has no source table", lib.name))
}

impl SourceArtifact for NativeArtifact {
    fn contract(&self) -> String {
        self.0.contract()
    }

    fn info(&self) -> SourceInfo {
        let flags = self.0.source_flags;
        SourceInfo {
            rewindable: flags & abi::SOURCE_REWINDABLE != 0,
            lookup: flags & abi::SOURCE_LOOKUP != 0,
        }
    }

    fn open(
        &self,
        ctx: &InstanceContext,
        datasource: &str,
        props: &str,
    ) -> Result<Box<dyn SourceInstance>, String> {
        let lib = &self.0;
        let t = table(lib)?;
        let host = HostTable::new(ctx.host(), lib.abi);
        let mut err = abi::Slice::EMPTY;
        // SAFETY: the library's constructor; arguments lent for the call, the table
        // outlives the instance.
        let inst = unsafe {
            (t.create)(
                host.as_ptr(),
                abi::Slice::str(datasource),
                abi::Slice::str(props),
                &mut err,
            )
        };
        if inst.is_null() {
            // SAFETY: set by the plugin during the call.
            return Err(format!("plugin {}: {}", lib.name, unsafe {
                err.to_string_lossy()
            }));
        }
        let mut live = Live {
            inst,
            _host: host,
            lib: lib.clone(),
            closed: false,
        };
        // SAFETY: the instance just created.
        if unsafe { (t.open)(live.inst, &mut err) } != 0 {
            live.closed = true;
            // SAFETY: set by the plugin during the call.
            return Err(format!("plugin {}: open: {}", lib.name, unsafe {
                err.to_string_lossy()
            }));
        }
        Ok(Box::new(live))
    }
}

/// An open source instance; destroyed before its host table.
struct Live {
    inst: *mut c_void,
    _host: HostTable,
    lib: Arc<NativeLibrary>,
    closed: bool,
}

// SAFETY: used by one thread at a time (moved between calls, never shared).
unsafe impl Send for Live {}

impl Drop for Live {
    fn drop(&mut self) {
        self.close();
        if let Some(t) = self.lib.source_table() {
            // SAFETY: from this table's `create`; destroyed once.
            unsafe { (t.destroy)(self.inst) };
        }
    }
}

impl SourceInstance for Live {
    fn pull(&mut self, max: u32) -> Result<Pulled, String> {
        let lib = &self.lib;
        let t = table(lib)?;
        let mut err = abi::Slice::EMPTY;
        let mut pulled = abi::Pulled {
            messages: std::ptr::null(),
            len: 0,
            done: 0,
            wait_ms: 0,
        };
        // SAFETY: the live instance; `pulled` is written by the plugin.
        if unsafe { (t.pull)(self.inst, max, &mut pulled, &mut err) } != 0 {
            // SAFETY: set by the plugin during the call.
            return Err(format!("plugin {}: {}", lib.name, unsafe {
                err.to_string_lossy()
            }));
        }
        if pulled.len > max as usize {
            return Err(format!(
                "plugin {}: pulled {} messages, more than the {max} asked for",
                lib.name, pulled.len
            ));
        }
        let msgs = if pulled.messages.is_null() || pulled.len == 0 {
            &[][..]
        } else {
            // SAFETY: the plugin's messages, valid until its next call; copied now.
            unsafe { std::slice::from_raw_parts(pulled.messages, pulled.len) }
        };
        let mut messages = Vec::with_capacity(msgs.len());
        for m in msgs {
            let payload = if m.is_bytes != 0 {
                // SAFETY: as above.
                Payload::Bytes(unsafe { m.bytes.as_bytes() }.to_vec())
            } else {
                // SAFETY: as above.
                Payload::Object(Arc::new(unsafe { object_from_abi(m.fields, m.nfields) }?))
            };
            // SAFETY: as above.
            let meta = unsafe { object_from_abi(m.meta, m.nmeta) }?;
            messages.push((payload, meta));
        }
        Ok(Pulled {
            messages,
            done: pulled.done != 0,
            wait_ms: pulled.wait_ms,
        })
    }

    fn close(&mut self) {
        if self.closed {
            return;
        }
        self.closed = true;
        if let Some(t) = self.lib.source_table() {
            // SAFETY: the live instance, closed once.
            unsafe { (t.close)(self.inst) };
        }
    }

    fn offset(&mut self) -> Result<Option<String>, String> {
        let Some(f) = self.lib.source_table_v2().and_then(|t| t.offset) else {
            return Ok(None);
        };
        let mut out = abi::Slice::EMPTY;
        // SAFETY: the live instance; the offset is the plugin's until its next call,
        // copied now.
        match unsafe { f(self.inst, &mut out) } {
            0 => Ok(None),
            _ => Ok(Some(unsafe { out.to_string_lossy() })),
        }
    }

    fn rewind(&mut self, offset: &str) -> Result<(), String> {
        let Some(f) = self.lib.source_table_v2().and_then(|t| t.rewind) else {
            return Err(format!("plugin {} cannot rewind", self.lib.name));
        };
        let mut err = abi::Slice::EMPTY;
        // SAFETY: the live instance; the offset is lent for the call.
        if unsafe { f(self.inst, abi::Slice::str(offset), &mut err) } != 0 {
            // SAFETY: set during the call.
            return Err(unsafe { failed(&self.lib, "rewind", err) });
        }
        Ok(())
    }

    fn lookup(
        &mut self,
        fields: &[String],
        keys: &[String],
        values: &[Value],
    ) -> Result<Vec<Object>, String> {
        let Some(f) = self.lib.source_table_v2().and_then(|t| t.lookup) else {
            return Err(format!("plugin {} does not answer lookups", self.lib.name));
        };
        let mut keep = Keep::default();
        let fields: Vec<abi::Slice> = fields.iter().map(|s| abi::Slice::str(s)).collect();
        let keys: Vec<abi::Slice> = keys.iter().map(|s| abi::Slice::str(s)).collect();
        let values: Vec<abi::Value> = values.iter().map(|v| to_abi(v, &mut keep)).collect();
        let mut rows = abi::Rows {
            rows: std::ptr::null(),
            len: 0,
        };
        let mut err = abi::Slice::EMPTY;
        // SAFETY: the live instance; everything lent for the call, the rows the
        // plugin's until its next call (copied now).
        let code = unsafe {
            f(
                self.inst,
                fields.as_ptr(),
                fields.len(),
                keys.as_ptr(),
                values.as_ptr(),
                keys.len().min(values.len()),
                &mut rows,
                &mut err,
            )
        };
        if code != 0 {
            // SAFETY: set during the call.
            return Err(unsafe { failed(&self.lib, "lookup", err) });
        }
        if rows.rows.is_null() || rows.len == 0 {
            return Ok(Vec::new());
        }
        // SAFETY: as above.
        unsafe { std::slice::from_raw_parts(rows.rows, rows.len) }
            .iter()
            // SAFETY: as above.
            .map(|r| unsafe { object_from_abi(r.fields, r.len) })
            .collect()
    }
}
