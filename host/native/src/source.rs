//! Source plugins: a library exporting a source table, as a stream `TYPE`. The pull
//! loop is the plugin host's; this is the create, open, pull, close and destroy calls.

use crate::convert::object_from_abi;
use crate::host_api::HostTable;
use crate::library::{NativeArtifact, NativeLibrary};
use std::ffi::c_void;
use std::sync::Arc;
use tributary_core::connector::Payload;
use tributary_native_abi as abi;
use tributary_plugin::{InstanceContext, Pulled, SourceArtifact, SourceInstance};

fn table(lib: &NativeLibrary) -> Result<&abi::SourceVtable, String> {
    lib.source_table()
        .ok_or_else(|| format!("plugin {} has no source table", lib.name))
}

impl SourceArtifact for NativeArtifact {
    fn open(
        &self,
        ctx: &InstanceContext,
        datasource: &str,
        props: &str,
    ) -> Result<Box<dyn SourceInstance>, String> {
        let lib = &self.0;
        let t = table(lib)?;
        let host = HostTable::new(ctx.info.clone(), ctx.state.clone());
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
}
