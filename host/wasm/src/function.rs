//! Wasm functions behind the engine's function traits.
//!
//! A [`WasmFunctionFactory`] is registered once per exported function. Each call site
//! of a rule gets a [`WasmFunctionImpl`] holding its own instance (its own store, so its
//! own state scope), or a handle to the plugin's shared instance for a singleton.
//!
//! Supervision: a trap, a missed deadline or a memory fault fails the batch (every row
//! gets the error), the instance is discarded, and the next batch re-creates it; after
//! consecutive faults the batches in between are refused, twice as many each time (up
//! to 64). The host never dies of it.

use crate::abi::{ColumnArg, ExecResults, RowList};
use crate::bindings::function_api;
use crate::convert::to_wit;
use crate::host::{HostState, InstanceInfo};
use crate::plugin::{root_cause, WasmPlugin};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use tributary_core::function::{
    ArgInfo, CallSite, Column, FnContext, FunctionFactory, FunctionImpl, FunctionKind, RowResult,
};
use tributary_core::state::StateStore;
use tributary_core::Error;
use wasmtime::component::{ComponentNamedList, Func, Lower, ResourceAny};
use wasmtime::Store;

/// The tier-wide plugin counters.
pub use tributary_core::function::PluginMetrics;

/// A live instance: its store, the resource of one function, and its two hot exports.
struct Live {
    store: Store<HostState>,
    resource: ResourceAny,
    exec: Func,
    exec_groups: Func,
}

/// The instance of one call site (or the singleton), created lazily and re-created
/// after faults.
struct Slot {
    live: Option<Live>,
    info: InstanceInfo,
    scope: String,
    /// Consecutive faults.
    failures: u32,
    /// Batches still to refuse before re-creating the instance.
    skip: u32,
}

/// The current version of a plugin. Updating a plugin swaps what the cell holds;
/// running instances notice at their next batch and switch over.
pub type PluginCell = Arc<std::sync::RwLock<Arc<WasmPlugin>>>;

/// Reads the cell; a poisoned lock still holds a valid plugin.
pub fn current(cell: &PluginCell) -> Arc<WasmPlugin> {
    match cell.read() {
        Ok(p) => p.clone(),
        Err(poisoned) => poisoned.into_inner().clone(),
    }
}

pub struct WasmFunctionFactory {
    cell: PluginCell,
    /// Instances alive (call sites of running or validated rules).
    users: Arc<AtomicU64>,
    name: String,
    aggregate: bool,
    state: Arc<dyn StateStore>,
    metrics: Arc<PluginMetrics>,
    /// The singleton's slot, shared by every call site.
    shared: Option<Arc<Mutex<Slot>>>,
    next_instance: AtomicU64,
}

impl WasmFunctionFactory {
    pub fn new(
        plugin: Arc<WasmPlugin>,
        name: &str,
        aggregate: bool,
        state: Arc<dyn StateStore>,
        metrics: Arc<PluginMetrics>,
    ) -> Self {
        Self::with_cell(
            Arc::new(std::sync::RwLock::new(plugin)),
            name,
            aggregate,
            state,
            metrics,
        )
    }

    /// A factory following `cell`, so that an update reaches its instances.
    pub fn with_cell(
        cell: PluginCell,
        name: &str,
        aggregate: bool,
        state: Arc<dyn StateStore>,
        metrics: Arc<PluginMetrics>,
    ) -> Self {
        let plugin = current(&cell);
        let shared = plugin.singleton.then(|| {
            Arc::new(Mutex::new(Slot {
                live: None,
                info: InstanceInfo {
                    instance_id: format!("{}:{name}:singleton", plugin.name),
                    ..InstanceInfo::default()
                },
                scope: format!("plugin/{}/singleton", plugin.name),
                failures: 0,
                skip: 0,
            }))
        });
        WasmFunctionFactory {
            cell,
            users: Arc::new(AtomicU64::new(0)),
            name: name.to_string(),
            aggregate,
            state,
            metrics,
            shared,
            next_instance: AtomicU64::new(0),
        }
    }

    pub fn metrics(&self) -> &Arc<PluginMetrics> {
        &self.metrics
    }

    /// How many instances of this function are alive.
    pub fn users(&self) -> u64 {
        self.users.load(Ordering::Relaxed)
    }
}

impl FunctionFactory for WasmFunctionFactory {
    fn name(&self) -> &str {
        &self.name
    }

    fn kind(&self) -> FunctionKind {
        if self.aggregate {
            FunctionKind::Aggregate
        } else {
            FunctionKind::Scalar
        }
    }

    fn validate(&self, args: &[ArgInfo]) -> Result<(), String> {
        let wit_args: Vec<function_api::ArgInfo> = args
            .iter()
            .map(|a| match a {
                ArgInfo::Literal(v) => function_api::ArgInfo::Literal(to_wit(v)),
                ArgInfo::Dynamic => function_api::ArgInfo::Dynamic,
            })
            .collect();
        let plugin = current(&self.cell);
        off_async_context(|| {
            let (mut store, bindings) = plugin
                .instantiate(InstanceInfo::default(), String::new())
                .map_err(|e| e.to_string())?;
            bindings
                .tributary_plugin_function()
                .call_validate(&mut store, &self.name, &wit_args)
                .map_err(|e| {
                    format!(
                        "plugin {} failed to validate: {}",
                        plugin.name,
                        root_cause(&e)
                    )
                })?
        })
    }

    fn instantiate(&self, site: &CallSite) -> Result<Box<dyn FunctionImpl>, Error> {
        let plugin = current(&self.cell);
        let slot = match &self.shared {
            Some(s) => s.clone(),
            None => {
                let n = self.next_instance.fetch_add(1, Ordering::Relaxed);
                Arc::new(Mutex::new(Slot {
                    live: None,
                    info: InstanceInfo {
                        rule_id: site.rule_id.clone(),
                        operator_id: format!("function:{}", site.site),
                        instance_id: format!("{}:{}:{}:{n}", plugin.name, site.rule_id, site.site),
                        ..InstanceInfo::default()
                    },
                    // eKuiper scopes function state per rule and call site.
                    scope: format!("rule/{}/function/{}/{}", site.rule_id, site.site, self.name),
                    failures: 0,
                    skip: 0,
                }))
            }
        };
        self.users.fetch_add(1, Ordering::Relaxed);
        let imp = WasmFunctionImpl {
            cell: self.cell.clone(),
            users: self.users.clone(),
            plugin: plugin.clone(),
            name: self.name.clone(),
            state: self.state.clone(),
            metrics: self.metrics.clone(),
            slot,
        };
        // Create the instance now, so a rule does not start with a broken plugin.
        off_async_context(|| imp.with_live(|_| Ok(())))
            .map_err(|e| Error::external(format!("plugin {}: {e}", plugin.name)))?;
        Ok(Box::new(imp))
    }
}

pub struct WasmFunctionImpl {
    cell: PluginCell,
    users: Arc<AtomicU64>,
    /// The version this instance runs.
    plugin: Arc<WasmPlugin>,
    name: String,
    state: Arc<dyn StateStore>,
    metrics: Arc<PluginMetrics>,
    slot: Arc<Mutex<Slot>>,
}

/// The most batches refused between two attempts to re-create a faulting instance.
const MAX_SKIPPED_BATCHES: u32 = 64;

impl WasmFunctionImpl {
    /// Runs `f` on the live instance, creating it first if needed (respecting the
    /// back-off after faults).
    fn with_live<R>(&self, f: impl FnOnce(&mut Live) -> Result<R, String>) -> Result<R, String> {
        // A panic while the lock was held leaves the instance in an unknown state:
        // take the lock anyway and start that instance afresh.
        let mut slot = match self.slot.lock() {
            Ok(g) => g,
            Err(poisoned) => {
                let mut g = poisoned.into_inner();
                g.live = None;
                g
            }
        };
        if slot.live.is_none() {
            if slot.skip > 0 {
                slot.skip -= 1;
                return Err(format!(
                    "plugin {} is restarting after {} failures in a row",
                    self.plugin.name, slot.failures
                ));
            }
            let mut info = slot.info.clone();
            let mut i = self
                .plugin
                .instantiate_with(
                    &mut info,
                    slot.scope.clone(),
                    self.state.clone(),
                    Some(self.metrics.clone()),
                )
                .map_err(|e| e.to_string())?;
            let resource = i
                .bindings
                .tributary_plugin_function()
                .instance()
                .call_constructor(&mut i.store, &self.name)
                .map_err(|e| {
                    format!(
                        "plugin {}: constructor failed: {}",
                        self.plugin.name,
                        root_cause(&e)
                    )
                })?;
            slot.live = Some(Live {
                store: i.store,
                resource,
                exec: i.exec,
                exec_groups: i.exec_groups,
            });
        }
        let Some(live) = slot.live.as_mut() else {
            return Err("plugin instance missing".to_string());
        };
        self.plugin.engine.arm_deadline(&mut live.store);
        match f(live) {
            Ok(r) => {
                slot.failures = 0;
                Ok(r)
            }
            Err(e) => {
                // A trap leaves the instance unusable: discard it. The next batch gets
                // a fresh one; after repeated faults, batches in between are refused,
                // doubling up to MAX_SKIPPED_BATCHES. Counting batches rather than
                // time keeps trial runs exact.
                slot.live = None;
                slot.failures += 1;
                slot.skip = if slot.failures < 2 {
                    0
                } else {
                    (1u32 << (slot.failures - 1).min(6)).min(MAX_SKIPPED_BATCHES)
                };
                self.metrics.restarts.fetch_add(1, Ordering::Relaxed);
                tracing::warn!(plugin = %self.plugin.name, function = %self.name, error = %e, "wasm instance faulted; it will be re-created");
                Err(e)
            }
        }
    }
}

impl Drop for WasmFunctionImpl {
    fn drop(&mut self) {
        self.users.fetch_sub(1, Ordering::Relaxed);
    }
}

impl WasmFunctionImpl {
    /// Switches to the plugin's current version at a batch boundary: the old instance
    /// goes, the next call creates one from the new version. State lives in the state
    /// store under the same scope, so it carries over.
    fn follow_updates(&mut self) {
        let latest = current(&self.cell);
        if !Arc::ptr_eq(&latest, &self.plugin) {
            tracing::info!(plugin = %latest.name, version = %latest.version, function = %self.name, "switching to the updated plugin");
            self.plugin = latest;
            let mut slot = match self.slot.lock() {
                Ok(g) => g,
                Err(p) => p.into_inner(),
            };
            slot.live = None;
            slot.failures = 0;
            slot.skip = 0;
        }
    }
}

impl FunctionImpl for WasmFunctionImpl {
    fn exec_batch(
        &mut self,
        _ctx: &FnContext,
        args: &[Column],
        n: usize,
        out: &mut Vec<RowResult>,
    ) {
        self.follow_updates();
        let cols: Vec<ColumnArg<'_>> = args.iter().map(ColumnArg::from).collect();
        let result = self.call(|live| live.exec, |r| (r, &cols[..], n as u32));
        self.publish(n, result, out);
    }

    fn exec_groups(&mut self, _ctx: &FnContext, groups: &[Vec<Column>], out: &mut Vec<RowResult>) {
        self.follow_updates();
        let groups: Vec<Vec<ColumnArg<'_>>> = groups
            .iter()
            .map(|g| g.iter().map(ColumnArg::from).collect())
            .collect();
        let result = self.call(|live| live.exec_groups, |r| (r, &groups[..]));
        self.publish(groups.len(), result, out);
    }
}

impl WasmFunctionImpl {
    /// Calls the export `func` picks on the live instance with the parameters
    /// `params` builds around the instance's resource, timing the call. The types
    /// were checked against the component when it was loaded.
    fn call<P>(
        &self,
        func: impl FnOnce(&Live) -> Func + Send,
        params: impl FnOnce(ResourceAny) -> P + Send,
    ) -> Result<Vec<RowResult>, String>
    where
        P: ComponentNamedList + Lower,
    {
        let name = &self.plugin.name;
        let started = std::time::Instant::now();
        let result = off_async_context(|| {
            self.with_live(|live| {
                let typed = func(live)
                    .typed::<P, ExecResults>(&live.store)
                    .map_err(|e| format!("plugin {name}: {}", root_cause(&e)))?;
                typed
                    .call(&mut live.store, params(live.resource))
                    .map(|(RowList(rows),)| rows)
                    .map_err(|e| format!("plugin {name} failed: {}", describe_trap(&e)))
            })
        });
        self.metrics.time(started);
        result
    }
}

impl WasmFunctionImpl {
    /// Counts a call of `n` inputs and pushes its `n` results (or `n` copies of the
    /// call's error) onto `out`.
    fn publish(&self, n: usize, result: Result<Vec<RowResult>, String>, out: &mut Vec<RowResult>) {
        let name = &self.plugin.name;
        self.metrics.calls.fetch_add(1, Ordering::Relaxed);
        self.metrics.rows.fetch_add(n as u64, Ordering::Relaxed);
        match result {
            Ok(results) if results.len() == n => {
                let before = out.len();
                out.extend(results);
                let errors = out[before..].iter().filter(|r| r.is_err()).count();
                if errors > 0 {
                    self.metrics
                        .errors
                        .fetch_add(errors as u64, Ordering::Relaxed);
                }
            }
            Ok(results) => {
                self.metrics.errors.fetch_add(n as u64, Ordering::Relaxed);
                let msg = format!(
                    "plugin {name} returned {} results for {n} rows",
                    results.len()
                );
                out.extend((0..n).map(|_| Err(msg.clone())));
            }
            Err(e) => {
                self.metrics.errors.fetch_add(n as u64, Ordering::Relaxed);
                out.extend((0..n).map(|_| Err(e.clone())));
            }
        }
    }
}

/// Runs a wasm call where WASI's synchronous host functions may block: they drive
/// their futures with `block_on`, which must not happen on a thread that is running
/// async tasks. On a multi-threaded runtime the worker is handed over for the call;
/// on a single-threaded one the call runs on a thread of [`call_pool`] while the
/// caller waits.
pub(crate) fn off_async_context<R: Send>(f: impl FnOnce() -> R + Send) -> R {
    use tokio::runtime::{Handle, RuntimeFlavor};
    match Handle::try_current().map(|h| h.runtime_flavor()) {
        Err(_) => f(),
        Ok(RuntimeFlavor::MultiThread) => tokio::task::block_in_place(f),
        Ok(_) => match call_pool() {
            // A panic in `f` reaches the caller, as it would on this thread.
            Some(pool) => pool.install(f),
            None => std::thread::scope(|s| match s.spawn(f).join() {
                Ok(r) => r,
                Err(p) => std::panic::resume_unwind(p),
            }),
        },
    }
}

/// Threads outside any runtime, for the calls made from a single-threaded runtime.
/// They live as long as the process: handing a call over costs a wake-up, where a
/// thread per call (with the signal stack wasmtime sets up on each new thread) cost
/// about a tenth of a millisecond per batch, more than `x + 1` on 1,024 rows.
fn call_pool() -> Option<&'static rayon::ThreadPool> {
    static POOL: std::sync::OnceLock<Option<rayon::ThreadPool>> = std::sync::OnceLock::new();
    POOL.get_or_init(|| {
        // At least four, so that one guest running to its deadline does not hold up
        // every other caller on a small machine; idle threads only sleep.
        let threads = std::thread::available_parallelism()
            .map_or(1, |n| n.get())
            .max(4);
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .thread_name(|i| format!("tributary-wasm-call-{i}"))
            .build()
            .map_err(
                |e| tracing::warn!(error = %e, "no wasm call threads; a thread per call instead"),
            )
            .ok()
    })
    .as_ref()
}

/// A trap as a user reads it: deadline, memory or the guest's own fault.
fn describe_trap(e: &wasmtime::Error) -> String {
    if let Some(trap) = e.downcast_ref::<wasmtime::Trap>() {
        return match trap {
            wasmtime::Trap::Interrupt => "CPU deadline exceeded".to_string(),
            wasmtime::Trap::StackOverflow => "stack overflow".to_string(),
            other => format!("trap: {other}"),
        };
    }
    root_cause(e)
}
