//! What a plugin instance's `Store` holds, and the host side of the `state` and
//! `context` imports.
//!
//! Each instance (one rule and call site, or a singleton) has its own store, so the
//! state scope and the context are simply fields here.

use crate::bindings::{context_api, state_api, types_api};
use crate::capabilities::Capabilities;
use crate::convert::{from_wit, to_wit};
use std::sync::Arc;
use tributary_core::state::{StateError, StateStore};
use tributary_plugin::{InstanceHost, InstanceInfo, Level, PluginMetrics};
use wasmtime::component::ResourceTable;
use wasmtime::{ResourceLimiter, StoreLimits};
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};

pub struct HostState {
    /// Who the instance is, its state and its log.
    pub host: InstanceHost,
    /// The CPU deadline of one call on this instance.
    pub deadline: std::time::Duration,
    pub wasi: WasiCtx,
    pub table: ResourceTable,
    pub limits: StoreLimits,
    /// Where this instance's linear memory is added up (its plugin's counters).
    pub memory_meter: Option<Arc<PluginMetrics>>,
    /// Bytes of linear memory this instance has added to the meter.
    memory_counted: u64,
}

/// The store's limits, counting linear memory into the plugin's meter as it grows.
impl ResourceLimiter for HostState {
    fn memory_growing(
        &mut self,
        current: usize,
        desired: usize,
        maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        let ok = self.limits.memory_growing(current, desired, maximum)?;
        if ok {
            if let Some(m) = &self.memory_meter {
                let grown = desired.saturating_sub(current) as u64;
                m.memory_bytes
                    .fetch_add(grown, std::sync::atomic::Ordering::Relaxed);
                self.memory_counted += grown;
            }
        }
        Ok(ok)
    }

    fn table_growing(
        &mut self,
        current: usize,
        desired: usize,
        maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        self.limits.table_growing(current, desired, maximum)
    }

    fn instances(&self) -> usize {
        self.limits.instances()
    }

    fn tables(&self) -> usize {
        self.limits.tables()
    }

    fn memories(&self) -> usize {
        self.limits.memories()
    }
}

impl Drop for HostState {
    fn drop(&mut self) {
        if let Some(m) = &self.memory_meter {
            m.memory_bytes
                .fetch_sub(self.memory_counted, std::sync::atomic::Ordering::Relaxed);
        }
    }
}

impl HostState {
    /// The state of a new instance of a plugin with capabilities `caps`.
    pub fn new(
        info: InstanceInfo,
        state: Arc<dyn StateStore>,
        caps: &Capabilities,
    ) -> Result<Self, tributary_core::Error> {
        Ok(HostState {
            host: InstanceHost::new(info, state),
            deadline: caps.limits.deadline,
            // Only what the plugin was granted: no network, and no filesystem or
            // environment beyond its granted folders and variables.
            wasi: caps.wasi_ctx()?,
            table: ResourceTable::new(),
            limits: wasmtime::StoreLimitsBuilder::new()
                .memory_size(caps.limits.memory_bytes)
                .instances(16)
                .tables(16)
                .memories(4)
                .trap_on_grow_failure(false)
                .build(),
            memory_meter: None,
            memory_counted: 0,
        })
    }

    pub fn limiter(&mut self) -> &mut dyn ResourceLimiter {
        self
    }
}

impl WasiView for HostState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

type StateResult<T> = Result<T, state_api::StateError>;

fn state_err(e: StateError) -> state_api::StateError {
    match e {
        StateError::NotAnInteger => state_api::StateError::NotAnInteger,
        StateError::Store(s) => state_api::StateError::Store(s),
    }
}

impl types_api::Host for HostState {}

impl state_api::Host for HostState {
    fn put_state(&mut self, key: String, value: types_api::Value) -> StateResult<()> {
        let v = from_wit(value).map_err(state_api::StateError::Store)?;
        self.host.put(&key, v).map_err(state_err)
    }

    fn get_state(&mut self, key: String) -> StateResult<Option<types_api::Value>> {
        let v = self.host.get(&key).map_err(state_err)?;
        Ok(v.map(|v| to_wit(&v)))
    }

    fn delete_state(&mut self, key: String) -> StateResult<()> {
        self.host.delete(&key).map_err(state_err)
    }

    fn incr_counter(&mut self, key: String, amount: i64) -> StateResult<i64> {
        self.host.incr(&key, amount).map_err(state_err)
    }

    fn get_counter(&mut self, key: String) -> StateResult<i64> {
        self.host.counter(&key).map_err(state_err)
    }
}

impl context_api::Host for HostState {
    fn rule_id(&mut self) -> String {
        self.host.info.rule_id.clone()
    }
    fn operator_id(&mut self) -> String {
        self.host.info.operator_id.clone()
    }
    fn instance_id(&mut self) -> String {
        self.host.info.instance_id.clone()
    }
    fn root_path(&mut self) -> String {
        self.host.info.root_path.clone()
    }
    fn log(&mut self, level: context_api::Level, message: String) {
        let level = match level {
            context_api::Level::Trace => Level::Trace,
            context_api::Level::Debug => Level::Debug,
            context_api::Level::Info => Level::Info,
            context_api::Level::Warn => Level::Warn,
            context_api::Level::Error => Level::Error,
        };
        self.host.log(level, &message);
    }
}
