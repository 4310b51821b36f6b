//! Native sinks: a library exporting a sink table, as an action type.

use crate::convert::{row_fields, Keep};
use crate::host_api::HostTable;
use crate::library::NativeLibrary;
use crate::source::{connector_info, props_json};
use std::ffi::c_void;
use std::sync::Arc;
use tributary_core::connector::{BoxFuture, ConnectorContext, Props, Sink, SinkData, SinkFactory};
use tributary_core::state::StateStore;
use tributary_core::{Error, Value};
use tributary_native_abi as abi;

/// Registers a sink plugin as the action type named after it.
pub struct NativeSinkFactory {
    lib: Arc<NativeLibrary>,
    state: Arc<dyn StateStore>,
}

impl NativeSinkFactory {
    pub fn new(lib: Arc<NativeLibrary>, state: Arc<dyn StateStore>) -> Self {
        NativeSinkFactory { lib, state }
    }
}

impl SinkFactory for NativeSinkFactory {
    fn kind(&self) -> &str {
        &self.lib.name
    }

    fn create(&self, props: &Props, ctx: &ConnectorContext) -> Result<Box<dyn Sink>, Error> {
        Ok(Box::new(NativeSink {
            core: Arc::new(SinkCore {
                lib: self.lib.clone(),
                state: self.state.clone(),
                props: props_json(props),
                rule_id: ctx.rule_id.clone(),
            }),
            live: None,
        }))
    }
}

struct SinkCore {
    lib: Arc<NativeLibrary>,
    state: Arc<dyn StateStore>,
    props: String,
    rule_id: String,
}

/// An open sink instance; destroyed before its host table.
struct Live {
    inst: *mut c_void,
    _host: HostTable,
    lib: Arc<NativeLibrary>,
}

// SAFETY: used by one thread at a time (moved between blocking calls, never shared).
unsafe impl Send for Live {}

impl Drop for Live {
    fn drop(&mut self) {
        if let Some(t) = self.lib.sink_table() {
            // SAFETY: from this table's `create`; destroyed once.
            unsafe { (t.destroy)(self.inst) };
        }
    }
}

fn table(lib: &NativeLibrary) -> Result<&abi::SinkVtable, String> {
    lib.sink_table()
        .ok_or_else(|| format!("plugin {} has no sink table", lib.name))
}

/// # Safety
/// `err` was set by the plugin during the call that just returned.
unsafe fn failed(lib: &NativeLibrary, what: &str, err: abi::Slice) -> String {
    // SAFETY: per the caller.
    format!("plugin {}: {what}: {}", lib.name, unsafe {
        err.to_string_lossy()
    })
}

impl SinkCore {
    fn open(&self) -> Result<Live, String> {
        let lib = &self.lib;
        let t = table(lib)?;
        let host = HostTable::new(
            connector_info(lib, &self.rule_id, "sink"),
            self.state.clone(),
        );
        let mut err = abi::Slice::EMPTY;
        // SAFETY: the library's constructor; props lent for the call, the table
        // outlives the instance.
        let inst = unsafe { (t.create)(host.as_ptr(), abi::Slice::str(&self.props), &mut err) };
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
        Ok(live)
    }

    fn collect(&self, live: &mut Live, rows: &[Vec<(Arc<str>, Value)>]) -> Result<(), String> {
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
        if unsafe { (t.collect)(live.inst, raw.as_ptr(), raw.len(), &mut err) } != 0 {
            // SAFETY: set during the call.
            return Err(unsafe { failed(&self.lib, "collect", err) });
        }
        Ok(())
    }

    fn close(&self, live: Live) -> Result<(), String> {
        let t = table(&self.lib)?;
        let mut err = abi::Slice::EMPTY;
        // SAFETY: the live instance, closed once before it is destroyed.
        let code = unsafe { (t.close)(live.inst, &mut err) };
        let r = if code != 0 {
            // SAFETY: set during the call.
            Err(unsafe { failed(&self.lib, "close", err) })
        } else {
            Ok(())
        };
        drop(live);
        r
    }
}

pub struct NativeSink {
    core: Arc<SinkCore>,
    live: Option<Live>,
}

impl Sink for NativeSink {
    fn collect<'a>(&'a mut self, data: &'a SinkData) -> BoxFuture<'a, Result<(), Error>> {
        let rows = data.plugin_rows();
        Box::pin(async move {
            let core = self.core.clone();
            let live = self.live.take();
            let (live, result) = tokio::task::spawn_blocking(move || {
                let mut live = match live {
                    Some(l) => l,
                    None => match core.open() {
                        Ok(l) => l,
                        Err(e) => return (None, Err(e)),
                    },
                };
                match core.collect(&mut live, &rows) {
                    Ok(()) => (Some(live), Ok(())),
                    // A failure discards the instance; the retry opens a new one.
                    Err(e) => (None, Err(e)),
                }
            })
            .await
            .map_err(|e| Error::internal(format!("native sink task: {e}")))?;
            self.live = live;
            result.map_err(Error::external)
        })
    }

    fn close(&mut self) -> BoxFuture<'_, Result<(), Error>> {
        Box::pin(async move {
            let Some(live) = self.live.take() else {
                return Ok(());
            };
            let core = self.core.clone();
            tokio::task::spawn_blocking(move || core.close(live))
                .await
                .map_err(|e| Error::internal(format!("native sink task: {e}")))?
                .map_err(Error::external)
        })
    }
}
