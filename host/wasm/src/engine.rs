//! One wasmtime engine for every plugin: configured once (pooling allocator, epoch
//! interruption, code cache), with one linker holding the host's imports. When the
//! instance pool is full, instances are allocated on demand by a second engine of the
//! same configuration (made at the first overflow), so a node can hold more
//! instances than the pool without refusing a rule.

use crate::capabilities::Capabilities;
use crate::host::HostState;
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;
use tributary_core::Error;
use tributary_plugin::grants::Grants;
use wasmtime::component::{Component, Instance, InstancePre, Linker};
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
    /// The instance pool's sizes (pooling allocator slots).
    pub pool: PoolLimits,
    /// What the operator grants plugins (`<root>/etc/wasm.yaml`).
    pub grants: Grants,
}

/// The instance pool's sizes. The defaults hold 10,000 plugin instances (thousands
/// of rules with wasm functions) on a small box: slots only reserve address space and
/// use memory once an instance touches it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolLimits {
    pub instances: u32,
    pub core_instances: u32,
    pub memories: u32,
    pub tables: u32,
}

impl Default for PoolLimits {
    fn default() -> Self {
        PoolLimits {
            instances: 10_000,
            core_instances: 40_000,
            memories: 10_000,
            tables: 40_000,
        }
    }
}

impl PoolLimits {
    /// The defaults with what `etc/wasm.yaml`'s `pool` sets.
    fn with(self, c: &tributary_plugin::grants::PoolConf) -> Self {
        PoolLimits {
            instances: c.instances.unwrap_or(self.instances),
            core_instances: c.core_instances.unwrap_or(self.core_instances),
            memories: c.memories.unwrap_or(self.memories),
            tables: c.tables.unwrap_or(self.tables),
        }
    }
}

impl Default for WasmConfig {
    fn default() -> Self {
        WasmConfig {
            cache_dir: None,
            memory_bytes: 64 << 20,
            call_deadline: Duration::from_secs(1),
            pool: PoolLimits::default(),
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
            pool: default.pool.with(&grants.pool),
            grants,
        })
    }
}

/// Compiles `bytes` (the file `path`) for `engine` and links it with `linker`.
fn link(
    engine: &Engine,
    linker: &Linker<HostState>,
    path: &Path,
    bytes: &[u8],
) -> Result<InstancePre<HostState>, Error> {
    let shown = path.display();
    let component = Component::new(engine, bytes).map_err(|e| {
        Error::user(format!(
            "plugin {shown} is not a valid wasm component: {}",
            // The parser's message spreads byte lists over lines; a log line is one.
            crate::trap::root_cause(&e)
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" ")
        ))
    })?;
    linker.instantiate_pre(&component).map_err(|e| {
        Error::user(format!(
            "plugin {shown} cannot be linked (it imports something the host does not provide): {}",
            crate::trap::root_cause(&e)
        ))
    })
}

/// The epoch advances every tick; a call's deadline is counted in ticks.
pub const EPOCH_TICK: Duration = Duration::from_millis(10);

pub struct WasmEngine {
    /// The engine of pooled instances.
    pub engine: Engine,
    pub linker: Linker<HostState>,
    pub config: WasmConfig,
    /// The engine of instances allocated on demand once the pool is full, with its
    /// linker; made at the first overflow.
    overflow: OnceLock<Result<(Engine, Linker<HostState>), String>>,
    /// The engines the epoch clock ticks.
    ticked: Arc<Mutex<Vec<wasmtime::EngineWeak>>>,
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

/// An engine of this configuration, allocating instances from a pool or on demand,
/// and a linker holding the host's imports for it.
fn build(config: &WasmConfig, pooled: bool) -> Result<(Engine, Linker<HostState>), Error> {
    let mut c = Config::new();
    c.wasm_component_model(true);
    c.epoch_interruption(true);
    // Guests recurse: give them room, and a clean trap (not a host crash) past it.
    c.max_wasm_stack(1 << 20);
    // Each memory reserves only its largest size (plus the guard), not wasmtime's
    // default 4 GiB: thousands of pool slots, and several engines in one process,
    // then fit the address space. The price is an explicit bounds check per memory
    // access (measured in benches/README.md); both engines compile the same code.
    c.memory_reservation(config.memory_bytes as u64);
    if pooled {
        let p = &config.pool;
        let mut pool = PoolingAllocationConfig::default();
        pool.total_component_instances(p.instances)
            .total_core_instances(p.core_instances)
            .total_memories(p.memories)
            .total_tables(p.tables)
            .max_memory_size(config.memory_bytes);
        c.allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
    }
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
    // Outgoing HTTP for every world (the default JavaScript and Python toolchains
    // import it); each request is checked against the plugin's network grants.
    wasmtime_wasi_http::p2::add_only_http_to_linker_sync(&mut linker)
        .map_err(|e| wasm_err("wasi:http", e))?;
    crate::imports::link(&mut linker).map_err(|e| wasm_err("host imports", e))?;
    Ok((engine, linker))
}

impl WasmEngine {
    pub fn new(config: WasmConfig) -> Result<Arc<Self>, Error> {
        let (engine, linker) = build(&config, true)?;
        let ticker_stop = Arc::new(AtomicBool::new(false));
        let ticked = Arc::new(Mutex::new(vec![engine.weak()]));
        let (stop, engines) = (ticker_stop.clone(), ticked.clone());
        // The epoch clock: deadlines are counted in its ticks. It stops with the engine.
        std::thread::Builder::new()
            .name("wasm-epoch".into())
            .spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    std::thread::sleep(EPOCH_TICK);
                    let Ok(engines) = engines.lock() else { break };
                    let live: Vec<Engine> = engines.iter().filter_map(|w| w.upgrade()).collect();
                    drop(engines);
                    if live.is_empty() {
                        break;
                    }
                    live.iter().for_each(Engine::increment_epoch);
                }
            })
            .map_err(|e| Error::internal(format!("epoch thread: {e}")))?;
        Ok(Arc::new(WasmEngine {
            engine,
            linker,
            config,
            overflow: OnceLock::new(),
            ticked,
            ticker_stop,
        }))
    }

    /// The deadline of one call, in epoch ticks.
    pub fn deadline_ticks(&self, d: Duration) -> u64 {
        (d.as_millis() / EPOCH_TICK.as_millis()).max(1) as u64 + 1
    }

    /// The engine of instances beyond the pool, made (and ticked) at the first use.
    fn overflow(&self) -> Result<&(Engine, Linker<HostState>), Error> {
        let made = self.overflow.get_or_init(|| {
            tracing::warn!(
                instances = self.config.pool.instances,
                "the wasm instance pool is full: further instances are allocated on demand (raise pool.instances in etc/wasm.yaml to keep them pooled)"
            );
            let built = build(&self.config, false).map_err(|e| e.to_string())?;
            if let Ok(mut t) = self.ticked.lock() {
                t.push(built.0.weak());
            }
            Ok(built)
        });
        made.as_ref().map_err(|e| Error::internal(e.clone()))
    }
}

/// A plugin file compiled and linked for the pool's engine, and, once the pool has
/// overflowed, for the on-demand one (compiled again from the same bytes: a compiled
/// component belongs to one engine).
pub struct Linked {
    pub pre: InstancePre<HostState>,
    path: PathBuf,
    sha256: [u8; 32],
    overflow: OnceLock<Result<InstancePre<HostState>, String>>,
}

impl Linked {
    pub fn component(&self) -> &Component {
        self.pre.component()
    }
}

/// Whether instantiation failed because a pool of the allocator is exhausted.
fn pool_full(e: &wasmtime::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<wasmtime::PoolConcurrencyLimitError>()
            .is_some()
    })
}

impl WasmEngine {
    /// Reads, compiles (or fetches from the code cache) and links a plugin file, for
    /// any world. Every failure names the file.
    pub fn compile(&self, path: &Path) -> Result<Linked, Error> {
        let bytes = std::fs::read(path)
            .map_err(|e| Error::user(format!("plugin {}: {e}", path.display())))?;
        Ok(Linked {
            pre: link(&self.engine, &self.linker, path, &bytes)?,
            path: path.to_path_buf(),
            sha256: Sha256::digest(&bytes).into(),
            overflow: OnceLock::new(),
        })
    }

    /// An instance of `linked` in a store of its own for `ctx`, from the pool or, when
    /// the pool is full, allocated on demand. `metered` counts the instance's memory
    /// into its plugin's counters.
    pub fn start(
        &self,
        linked: &Linked,
        ctx: &tributary_plugin::InstanceContext,
        caps: &Capabilities,
        metered: bool,
        plugin: &str,
    ) -> Result<(wasmtime::Store<HostState>, Instance), Error> {
        let failed = |e: wasmtime::Error| {
            Error::external(format!(
                "plugin {plugin}: instantiation failed: {}",
                crate::trap::root_cause(&e)
            ))
        };
        let mut store = self.store_in(&self.engine, ctx, caps, metered)?;
        match linked.pre.instantiate(&mut store) {
            Ok(i) => return Ok((store, i)),
            Err(e) if pool_full(&e) => {}
            Err(e) => return Err(failed(e)),
        }
        let (engine, linker) = self.overflow()?;
        let pre = linked.overflow.get_or_init(|| {
            let bytes = std::fs::read(&linked.path).map_err(|e| e.to_string())?;
            if <[u8; 32]>::from(Sha256::digest(&bytes)) != linked.sha256 {
                return Err(format!(
                    "{} changed since it was loaded; reload the plugin",
                    linked.path.display()
                ));
            }
            link(engine, linker, &linked.path, &bytes).map_err(|e| e.to_string())
        });
        let pre = pre
            .as_ref()
            .map_err(|e| Error::external(format!("plugin {plugin}: {e}")))?;
        let mut store = self.store_in(engine, ctx, caps, metered)?;
        let instance = pre.instantiate(&mut store).map_err(failed)?;
        Ok((store, instance))
    }

    /// A store for one instance: who it is (its state scope among that), the
    /// plugin's capabilities (a WASI context of its own), its memory cap and call
    /// deadline.
    pub fn new_store(
        &self,
        ctx: &tributary_plugin::InstanceContext,
        caps: &Capabilities,
    ) -> Result<wasmtime::Store<HostState>, Error> {
        self.store_in(&self.engine, ctx, caps, false)
    }

    fn store_in(
        &self,
        engine: &Engine,
        ctx: &tributary_plugin::InstanceContext,
        caps: &Capabilities,
        metered: bool,
    ) -> Result<wasmtime::Store<HostState>, Error> {
        let mut state = HostState::new(ctx, caps)?;
        if metered {
            // Before instantiation, so the initial memory is counted too.
            state.memory_meter = Some(ctx.metrics.clone());
        }
        let mut store = wasmtime::Store::new(engine, state);
        store.limiter(|s| s.limiter());
        self.arm_deadline(&mut store, None);
        Ok(store)
    }

    /// Gives the next call on `store` a fresh deadline (its plugin's), checked at
    /// every epoch tick its code runs through:
    ///
    /// - **CPU**: the ticks the guest's code is running. A tick passed blocked in a
    ///   host call (a socket read, a sleep, an HTTP request) is not counted, but the
    ///   first check after it is one tick: waiting on I/O costs at most one tick of
    ///   the deadline per wait.
    /// - **In all** (`io_wait`, waits included): checked at the same ticks, so a call
    ///   blocked in one wait is stopped once it returns, not while it blocks (the
    ///   guest's own I/O timeouts bound each wait).
    /// - With a `cancel`, the call is interrupted as soon as the rule it works for
    ///   stops, instead of running on to its deadline.
    pub fn arm_deadline(
        &self,
        store: &mut wasmtime::Store<HostState>,
        cancel: Option<&tributary_core::function::Cancel>,
    ) {
        let mut left = self.deadline_ticks(store.data().deadline);
        let io_wait = store.data().io_wait;
        let flag = cancel.map(|c| c.flag());
        let started = std::time::Instant::now();
        store.set_epoch_deadline(1);
        store.epoch_deadline_callback(move |_| {
            left = left.saturating_sub(1);
            if flag.as_ref().is_some_and(|f| f.load(Ordering::Relaxed)) {
                Err(wasmtime::Error::msg("interrupted: the rule is stopping"))
            } else if left == 0 {
                Err(wasmtime::Trap::Interrupt.into())
            } else if started.elapsed() > io_wait {
                Err(wasmtime::Error::msg(format!(
                    "interrupted: the call took longer than ioWaitMs ({} ms) in all, waits included",
                    io_wait.as_millis()
                )))
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
