//! What a plugin instance's `Store` holds (the imports over it are
//! [`crate::imports`]).
//!
//! Each instance (one rule and call site, or a singleton) has its own store, so the
//! state scope and the context are simply fields here.

use crate::capabilities::Capabilities;
use crate::guest_output::GuestOutput;
use crate::http_out::HttpHooks;
use crate::network::Guard;
use std::sync::Arc;
use tributary_plugin::{InstanceHost, PluginMetrics};
use wasmtime::component::ResourceTable;
use wasmtime::{ResourceLimiter, StoreLimits};
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};

pub struct HostState {
    /// Who the instance is, its state and its log.
    pub host: InstanceHost,
    /// The CPU deadline of one call on this instance.
    pub deadline: std::time::Duration,
    /// The longest one call may take, waits included.
    pub io_wait: std::time::Duration,
    pub wasi: WasiCtx,
    /// What the guest writes to stdout and stderr: logged, and its last lines kept
    /// for the error of a trap.
    pub output: GuestOutput,
    pub http: wasmtime_wasi_http::WasiHttpCtx,
    http_hooks: HttpHooks,
    /// Its network grants, for sockets (through `wasi`) and HTTP requests.
    pub net: Arc<Guard>,
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
    /// The state of a new instance (`ctx`) of a plugin with capabilities `caps`.
    pub fn new(
        ctx: &tributary_plugin::InstanceContext,
        caps: &Capabilities,
    ) -> Result<Self, tributary_core::Error> {
        let host = ctx.host();
        let net = Guard::new(
            caps.network.clone(),
            &host.info.plugin,
            &host.info.rule_id,
            ctx.metrics.clone(),
        );
        let output = GuestOutput::new(&host.info);
        Ok(HostState {
            // Only what the plugin was granted: no filesystem, environment or network
            // beyond its granted folders, variables and hosts.
            wasi: caps.wasi_ctx(&net, &output)?,
            output,
            http: wasmtime_wasi_http::WasiHttpCtx::new(),
            http_hooks: HttpHooks::new(net.clone(), caps.limits.io_wait),
            net,
            host,
            deadline: caps.limits.deadline,
            io_wait: caps.limits.io_wait,
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

/// `wasi:http` outgoing requests, each checked by the store's network guard.
impl wasmtime_wasi_http::WasiHttpView for HostState {
    fn http(&mut self) -> wasmtime_wasi_http::WasiHttpCtxView<'_> {
        wasmtime_wasi_http::WasiHttpCtxView {
            hooks: &mut self.http_hooks,
            table: &mut self.table,
            ctx: &mut self.http,
        }
    }
}
