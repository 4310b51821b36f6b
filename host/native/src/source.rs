//! Native sources: a library exporting a source table, as a stream `TYPE`.
//!
//! The host pulls batches (up to 1024 messages) on a blocking thread and waits as the
//! plugin asks between pulls. An error ends the source with an error; the rule's
//! `restartStrategy` decides what happens next.

use crate::convert::object_from_abi;
use crate::host_api::{HostTable, InstanceInfo};
use crate::library::NativeLibrary;
use std::ffi::c_void;
use std::sync::Arc;
use std::time::Duration;
use tributary_core::connector::{
    BoxFuture, ConnectorContext, Payload, Props, Source, SourceFactory, SourceMessage, SourceSender,
};
use tributary_core::state::StateStore;
use tributary_core::{json, Error, Object, Value};
use tributary_native_abi as abi;

/// The most messages asked for in one pull.
const PULL_MAX: u32 = 1024;

/// Props as the JSON object a connector plugin receives.
pub(crate) fn props_json(props: &Props) -> String {
    let obj: Object = props.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
    json::to_json_string(&Value::object(obj))
}

/// The identity of a connector instance: rule, operator, state scope.
pub(crate) fn connector_info(lib: &NativeLibrary, rule_id: &str, operator: &str) -> InstanceInfo {
    InstanceInfo {
        plugin: lib.name.clone(),
        rule_id: rule_id.to_string(),
        operator_id: operator.to_string(),
        instance_id: format!("{}:{rule_id}:{operator}", lib.name),
        root_path: lib.etc_dir.display().to_string(),
        scope: format!("rule/{rule_id}/{operator}/{}", lib.name),
    }
}

/// Registers a source plugin as the stream type named after it.
pub struct NativeSourceFactory {
    lib: Arc<NativeLibrary>,
    state: Arc<dyn StateStore>,
}

impl NativeSourceFactory {
    pub fn new(lib: Arc<NativeLibrary>, state: Arc<dyn StateStore>) -> Self {
        NativeSourceFactory { lib, state }
    }
}

impl SourceFactory for NativeSourceFactory {
    fn kind(&self) -> &str {
        &self.lib.name
    }

    fn create(
        &self,
        datasource: &str,
        props: &Props,
        ctx: &ConnectorContext,
    ) -> Result<Box<dyn Source>, Error> {
        Ok(Box::new(NativeSource {
            lib: self.lib.clone(),
            state: self.state.clone(),
            datasource: datasource.to_string(),
            props: props_json(props),
            ctx: ctx.clone(),
        }))
    }
}

struct NativeSource {
    lib: Arc<NativeLibrary>,
    state: Arc<dyn StateStore>,
    datasource: String,
    props: String,
    ctx: ConnectorContext,
}

/// An open source instance; destroyed before its host table.
struct Live {
    inst: *mut c_void,
    _host: HostTable,
    lib: Arc<NativeLibrary>,
}

// SAFETY: used by one thread at a time (moved between blocking calls, never shared).
unsafe impl Send for Live {}

impl Drop for Live {
    fn drop(&mut self) {
        if let Some(t) = self.lib.source_table() {
            // SAFETY: from this table's `create`; closed and destroyed once.
            unsafe {
                (t.close)(self.inst);
                (t.destroy)(self.inst);
            }
        }
    }
}

fn table(lib: &NativeLibrary) -> Result<&abi::SourceVtable, String> {
    lib.source_table()
        .ok_or_else(|| format!("plugin {} has no source table", lib.name))
}

impl NativeSource {
    fn open(&self) -> Result<Live, String> {
        let lib = &self.lib;
        let t = table(lib)?;
        let host = HostTable::new(
            connector_info(lib, &self.ctx.rule_id, "source"),
            self.state.clone(),
        );
        let mut err = abi::Slice::EMPTY;
        // SAFETY: the library's constructor; arguments lent for the call, the table
        // outlives the instance.
        let inst = unsafe {
            (t.create)(
                host.as_ptr(),
                abi::Slice::str(&self.datasource),
                abi::Slice::str(&self.props),
                &mut err,
            )
        };
        if inst.is_null() {
            // SAFETY: set by the plugin during the call.
            return Err(format!("plugin {}: {}", lib.name, unsafe {
                err.to_string_lossy()
            }));
        }
        let live = Live {
            inst,
            _host: host,
            lib: lib.clone(),
        };
        // SAFETY: the instance just created.
        if unsafe { (t.open)(live.inst, &mut err) } != 0 {
            // SAFETY: set by the plugin during the call.
            return Err(format!("plugin {}: open: {}", lib.name, unsafe {
                err.to_string_lossy()
            }));
        }
        Ok(live)
    }

    /// One pull: the messages (stamped now), whether the input ended, the wait.
    fn pull(&self, live: &mut Live) -> Result<(Vec<SourceMessage>, bool, u32), String> {
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
        if unsafe { (t.pull)(live.inst, PULL_MAX, &mut pulled, &mut err) } != 0 {
            // SAFETY: set by the plugin during the call.
            return Err(format!("plugin {}: {}", lib.name, unsafe {
                err.to_string_lossy()
            }));
        }
        if pulled.len > PULL_MAX as usize {
            return Err(format!(
                "plugin {}: pulled {} messages, more than the {PULL_MAX} asked for",
                lib.name, pulled.len
            ));
        }
        let msgs = if pulled.messages.is_null() || pulled.len == 0 {
            &[][..]
        } else {
            // SAFETY: the plugin's messages, valid until its next call; copied now.
            unsafe { std::slice::from_raw_parts(pulled.messages, pulled.len) }
        };
        let now = self.ctx.clock.now_ms();
        let mut out = Vec::with_capacity(msgs.len());
        for m in msgs {
            let payload = if m.is_bytes != 0 {
                // SAFETY: as above.
                Payload::Bytes(unsafe { m.bytes.as_bytes() }.to_vec())
            } else {
                // SAFETY: as above.
                Payload::Object(Arc::new(unsafe { object_from_abi(m.fields, m.nfields) }?))
            };
            out.push(SourceMessage {
                payload,
                // SAFETY: as above.
                meta: Arc::new(unsafe { object_from_abi(m.meta, m.nmeta) }?),
                timestamp: now,
                stream: 0,
            });
        }
        Ok((out, pulled.done != 0, pulled.wait_ms))
    }
}

impl Source for NativeSource {
    fn run(self: Box<Self>, out: SourceSender) -> BoxFuture<'static, Result<(), Error>> {
        Box::pin(async move {
            let this = Arc::new(*self);
            let t = this.clone();
            let mut live = tokio::task::spawn_blocking(move || t.open())
                .await
                .map_err(|e| Error::internal(format!("native source task: {e}")))?
                .map_err(Error::external)?;
            loop {
                let t = this.clone();
                let (l, result) = tokio::task::spawn_blocking(move || {
                    let r = t.pull(&mut live);
                    (live, r)
                })
                .await
                .map_err(|e| Error::internal(format!("native source task: {e}")))?;
                live = l;
                let (messages, done, wait_ms) = result.map_err(Error::external)?;
                if !out.send(messages).await || done {
                    break;
                }
                if wait_ms > 0 {
                    tokio::time::sleep(Duration::from_millis(u64::from(wait_ms))).await;
                }
            }
            // Closing and destroying happen in Live's Drop, off the async workers.
            let _ = tokio::task::spawn_blocking(move || drop(live)).await;
            Ok(())
        })
    }
}
