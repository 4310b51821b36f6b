//! One wasmtime engine for every plugin: configured once (pooling allocator, epoch
//! interruption, code cache), with one linker holding the host's imports.

use crate::capabilities::Capabilities;
use crate::host::HostState;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tributary_core::Error;
use tributary_plugin::grants::Grants;
use wasmtime::component::Linker;
use wasmtime::{
    Cache, CacheConfig, Config, Engine, InstanceAllocationStrategy, PoolingAllocationConfig,
};

/// Limits and places of the wasm tier. Per-plugin values (`etc/wasm.yaml`, a plugin's
/// manifest) may change the limits within `memory_bytes`.
#[derive(Debug, Clone)]
pub struct WasmConfig {
    /// Where compiled code is cached (keyed by content hash and engine settings).
    pub cache_dir: Option<PathBuf>,
    /// The most linear memory one instance may use: the memory pool's slot size, so
    /// no per-plugin limit can pass it.
    pub memory_bytes: usize,
    /// The CPU deadline of one call (one batch), unless a plugin's limits say otherwise.
    pub call_deadline: Duration,
    /// How many instances may exist at once (pooling allocator slots).
    pub max_instances: u32,
    /// What the operator grants plugins (`<root>/etc/wasm.yaml`).
    pub grants: Grants,
}

impl Default for WasmConfig {
    fn default() -> Self {
        WasmConfig {
            cache_dir: None,
            memory_bytes: 64 << 20,
            call_deadline: Duration::from_secs(1),
            max_instances: 256,
            grants: Grants::default(),
        }
    }
}

impl WasmConfig {
    /// The configuration of an engine root: its code cache `<root>/data/wasm-cache`
    /// and its grants and limits `<root>/etc/wasm.yaml`. The memory pool is sized to
    /// the largest memory limit the file sets.
    pub fn for_root(root: &Path) -> Result<Self, Error> {
        let grants = Grants::load(root)?;
        let default = WasmConfig::default();
        let memory_bytes = grants.max_memory_mib().map_or(default.memory_bytes, |mib| {
            usize::try_from(mib << 20).unwrap_or(usize::MAX)
        });
        let call_deadline = grants
            .limits
            .deadline_ms
            .map_or(default.call_deadline, Duration::from_millis);
        Ok(WasmConfig {
            cache_dir: Some(root.join("data").join("wasm-cache")),
            memory_bytes,
            call_deadline,
            grants,
            ..default
        })
    }
}

/// The epoch advances every tick; a call's deadline is counted in ticks.
pub const EPOCH_TICK: Duration = Duration::from_millis(10);

pub struct WasmEngine {
    pub engine: Engine,
    pub linker: Linker<HostState>,
    pub config: WasmConfig,
    ticker_stop: Arc<AtomicBool>,
}

impl std::fmt::Debug for WasmEngine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WasmEngine")
            .field("config", &self.config)
            .finish()
    }
}

fn wasm_err(what: &str, e: impl std::fmt::Display) -> Error {
    Error::internal(format!("{what}: {e}"))
}

impl WasmEngine {
    pub fn new(config: WasmConfig) -> Result<Arc<Self>, Error> {
        let mut c = Config::new();
        c.wasm_component_model(true);
        c.epoch_interruption(true);
        // Guests recurse: give them room, and a clean trap (not a host crash) past it.
        c.max_wasm_stack(1 << 20);
        let mut pool = PoolingAllocationConfig::default();
        pool.total_component_instances(config.max_instances)
            .total_core_instances(config.max_instances * 4)
            .total_memories(config.max_instances * 2)
            .total_tables(config.max_instances * 4)
            .total_stacks(config.max_instances)
            .max_memory_size(config.memory_bytes);
        c.allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
        if let Some(dir) = &config.cache_dir {
            std::fs::create_dir_all(dir)
                .map_err(|e| Error::external(format!("wasm cache {}: {e}", dir.display())))?;
            let mut cc = CacheConfig::new();
            cc.with_directory(dir);
            let cache = Cache::new(cc).map_err(|e| wasm_err("wasm cache", e))?;
            c.cache(Some(cache));
        }
        let engine = Engine::new(&c).map_err(|e| wasm_err("wasm engine", e))?;
        let mut linker = Linker::new(&engine);
        wasmtime_wasi::p2::add_to_linker_sync(&mut linker).map_err(|e| wasm_err("wasi", e))?;
        crate::imports::link(&mut linker).map_err(|e| wasm_err("host imports", e))?;
        let ticker_stop = Arc::new(AtomicBool::new(false));
        let weak = engine.weak();
        let stop = ticker_stop.clone();
        // The epoch clock: deadlines are counted in its ticks. It stops with the engine.
        std::thread::Builder::new()
            .name("wasm-epoch".into())
            .spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    std::thread::sleep(EPOCH_TICK);
                    match weak.upgrade() {
                        Some(e) => e.increment_epoch(),
                        None => break,
                    }
                }
            })
            .map_err(|e| Error::internal(format!("epoch thread: {e}")))?;
        Ok(Arc::new(WasmEngine {
            engine,
            linker,
            config,
            ticker_stop,
        }))
    }

    /// The deadline of one call, in epoch ticks.
    pub fn deadline_ticks(&self, d: Duration) -> u64 {
        (d.as_millis() / EPOCH_TICK.as_millis()).max(1) as u64 + 1
    }
}

impl WasmEngine {
    /// Reads, compiles (or fetches from the code cache) and links a plugin file, for
    /// any world. Every failure names the file.
    pub fn compile(
        &self,
        path: &std::path::Path,
    ) -> Result<wasmtime::component::InstancePre<HostState>, Error> {
        let shown = path.display();
        let bytes = std::fs::read(path).map_err(|e| Error::user(format!("plugin {shown}: {e}")))?;
        let component = wasmtime::component::Component::new(&self.engine, &bytes).map_err(|e| {
            Error::user(format!(
                "plugin {shown} is not a valid wasm component: {}",
                crate::trap::root_cause(&e)
            ))
        })?;
        self.linker.instantiate_pre(&component).map_err(|e| {
            Error::user(format!(
                "plugin {shown} cannot be linked (it imports something the host does not provide): {}",
                crate::trap::root_cause(&e)
            ))
        })
    }

    /// An instance of a linked component in `store`; the error names the plugin.
    pub fn instantiate(
        &self,
        pre: &wasmtime::component::InstancePre<HostState>,
        store: &mut wasmtime::Store<HostState>,
        plugin: &str,
    ) -> Result<wasmtime::component::Instance, Error> {
        pre.instantiate(store).map_err(|e| {
            Error::external(format!(
                "plugin {plugin}: instantiation failed: {}",
                crate::trap::root_cause(&e)
            ))
        })
    }

    /// A store for one instance: who it is (its state scope among that), the
    /// plugin's capabilities (a WASI context of its own), its memory cap and call
    /// deadline.
    pub fn new_store(
        &self,
        ctx: &tributary_plugin::InstanceContext,
        caps: &Capabilities,
    ) -> Result<wasmtime::Store<HostState>, Error> {
        let state = HostState::new(ctx.host(), caps)?;
        let mut store = wasmtime::Store::new(&self.engine, state);
        store.limiter(|s| s.limiter());
        self.arm_deadline(&mut store, None);
        Ok(store)
    }

    /// Gives the next call on `store` a fresh CPU deadline (its plugin's). With a
    /// `cancel`, the deadline is checked at every epoch tick and the call is
    /// interrupted as soon as the rule it works for stops, instead of running on to
    /// its deadline.
    pub fn arm_deadline(
        &self,
        store: &mut wasmtime::Store<HostState>,
        cancel: Option<&tributary_core::function::Cancel>,
    ) {
        let ticks = self.deadline_ticks(store.data().deadline);
        let Some(cancel) = cancel else {
            store.epoch_deadline_trap();
            store.set_epoch_deadline(ticks);
            return;
        };
        let flag = cancel.flag();
        let mut left = ticks;
        store.set_epoch_deadline(1);
        store.epoch_deadline_callback(move |_| {
            left = left.saturating_sub(1);
            if flag.load(Ordering::Relaxed) {
                Err(wasmtime::Error::msg("interrupted: the rule is stopping"))
            } else if left == 0 {
                Err(wasmtime::Trap::Interrupt.into())
            } else {
                Ok(wasmtime::UpdateDeadline::Continue(1))
            }
        });
    }
}

impl Drop for WasmEngine {
    fn drop(&mut self) {
        self.ticker_stop.store(true, Ordering::Relaxed);
    }
}
