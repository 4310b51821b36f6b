//! Sink plugins: a library exporting a sink table, as an action type. Delivery and
//! retries are the plugin host's; this is the create, open, collect, close and
//! destroy calls.

use crate::convert::{row_fields, Keep};
use crate::host_api::HostTable;
use crate::library::{failed, NativeArtifact, NativeLibrary};
use std::ffi::c_void;
use std::sync::Arc;
use tributary_native_abi as abi;
use tributary_plugin::{InstanceContext, SinkArtifact, SinkInstance, SinkRows};

fn table(lib: &NativeLibrary) -> Result<&abi::SinkVtable, String> {
    lib.sink_table()
        .ok_or_else(|| format!("plugin {} has no sink table", lib.name))
}

impl SinkArtifact for NativeArtifact {
    fn contract(&self) -> String {
        self.0.contract()
    }

    fn open(&self, ctx: &InstanceContext, props: &str) -> Result<Box<dyn SinkInstance>, String> {
        let lib = &self.0;
        let t = table(lib)?;
        let host = HostTable::new(ctx.host(), lib.abi);
        let mut err = abi::Slice::EMPTY;
        // SAFETY: the library's constructor; props lent for the call, the table
        // outlives the instance.
        let inst = unsafe { (t.create)(host.as_ptr(), abi::Slice::str(props), &mut err) };
        if inst.is_null() {
            // SAFETY: set during the call.
            return Err(unsafe { failed(lib, "constructor", err) });
        }
        let live = Live {
            inst,
            _host: host,
            lib: lib.clone(),
        };
        // SAFETY: the instance just created.
        if unsafe { (t.open)(live.inst, &mut err) } != 0 {
            // SAFETY: set during the call.
            return Err(unsafe { failed(lib, "open", err) });
        }
        Ok(Box::new(live))
    }
}

/// An open sink instance; destroyed before its host table.
struct Live {
    inst: *mut c_void,
    _host: HostTable,
    lib: Arc<NativeLibrary>,
}

// SAFETY: used by one thread at a time (moved between calls, never shared).
unsafe impl Send for Live {}

impl Drop for Live {
    fn drop(&mut self) {
        if let Some(t) = self.lib.sink_table() {
            // SAFETY: from this table's `create`; destroyed once.
            unsafe { (t.destroy)(self.inst) };
        }
    }
}

impl SinkInstance for Live {
    fn collect(&mut self, rows: &SinkRows) -> Result<(), String> {
        let t = table(&self.lib)?;
        let mut keep = Keep::default();
        let fields: Vec<Vec<abi::Field>> = rows.iter().map(|r| row_fields(r, &mut keep)).collect();
        let raw: Vec<abi::Row> = fields
            .iter()
            .map(|f| abi::Row {
                fields: f.as_ptr(),
                len: f.len(),
            })
            .collect();
        let mut err = abi::Slice::EMPTY;
        // SAFETY: the live instance; rows lent for the call.
        if unsafe { (t.collect)(self.inst, raw.as_ptr(), raw.len(), &mut err) } != 0 {
            // SAFETY: set during the call.
            return Err(unsafe { failed(&self.lib, "collect", err) });
        }
        Ok(())
    }

    fn close(&mut self) -> Result<(), String> {
        let t = table(&self.lib)?;
        let mut err = abi::Slice::EMPTY;
        // SAFETY: the live instance, closed once before it is destroyed.
        if unsafe { (t.close)(self.inst, &mut err) } != 0 {
            // SAFETY: set during the call.
            return Err(unsafe { failed(&self.lib, "close", err) });
        }
        Ok(())
    }
}
