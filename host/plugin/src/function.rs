//! Plugin functions of any tier behind the engine's function traits.
//!
//! A [`PluginFunction`] is registered once per exported function. Each call site of a
//! rule gets a [`PluginFunctionImpl`] holding its own instance (its own state scope),
//! or a handle to the plugin's shared instance for a singleton. Instances are made
//! lazily, supervised ([`crate::supervisor`]), and switched to a new version at a
//! batch boundary after an update; their state lives in the state store under the
//! same scope, so it carries over.

use crate::bridge;
use crate::cell::VersionCell;
use crate::instance::{InstanceInfo, PluginPaths};
use crate::metrics::PluginMetrics;
use crate::supervisor::Supervisor;
use crate::tier::{FunctionArtifact, FunctionInstance, InstanceContext};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use tributary_core::function::{
    ArgInfo, CallSite, Column, FnContext, FunctionFactory, FunctionImpl, FunctionKind, RowError,
    RowResult,
};
use tributary_core::state::StateStore;
use tributary_core::Error;

/// The version of a function plugin, as its factories and instances hold it.
pub type FunctionCell = VersionCell<dyn FunctionArtifact>;

/// A live instance and the version it was made from.
struct Live {
    version: Arc<dyn FunctionArtifact>,
    instance: Box<dyn FunctionInstance>,
}

/// The instance of one call site (or the singleton's).
struct Slot {
    live: Option<Live>,
    info: InstanceInfo,
    supervisor: Supervisor,
}

impl Slot {
    fn new(info: InstanceInfo) -> Arc<Mutex<Slot>> {
        Arc::new(Mutex::new(Slot {
            live: None,
            info,
            supervisor: Supervisor::default(),
        }))
    }
}

/// A poisoned slot lock means a panic while an instance was in use: its state is
/// unknown, so the instance goes and the next call starts afresh.
fn lock(slot: &Mutex<Slot>) -> MutexGuard<'_, Slot> {
    match slot.lock() {
        Ok(g) => g,
        Err(p) => {
            let mut g = p.into_inner();
            g.live = None;
            g
        }
    }
}

/// One exported function of a plugin, as registered.
pub struct PluginFunction {
    cell: FunctionCell,
    plugin: String,
    name: String,
    kind: FunctionKind,
    paths: PluginPaths,
    state: Arc<dyn StateStore>,
    metrics: Arc<PluginMetrics>,
    /// Instances alive (call sites of running or validated rules).
    users: Arc<AtomicU64>,
    /// The singleton's slot, shared by every call site.
    shared: Option<Arc<Mutex<Slot>>>,
    next_instance: AtomicU64,
}

impl PluginFunction {
    /// Function `name` of `plugin`, following `cell` for updates. The export mode
    /// (singleton or not) is the current version's; an update may not change it.
    pub fn new(
        cell: FunctionCell,
        plugin: &str,
        name: &str,
        kind: FunctionKind,
        paths: &PluginPaths,
        state: Arc<dyn StateStore>,
        metrics: Arc<PluginMetrics>,
    ) -> Self {
        let shared = cell
            .current()
            .singleton()
            .then(|| Slot::new(InstanceInfo::singleton(plugin, name, paths)));
        PluginFunction {
            cell,
            plugin: plugin.to_string(),
            name: name.to_string(),
            kind,
            paths: paths.clone(),
            state,
            metrics,
            users: Arc::new(AtomicU64::new(0)),
            shared,
            next_instance: AtomicU64::new(0),
        }
    }

    /// Function `name` of a loaded artifact outside any host: for benches and tests
    /// that call one plugin directly.
    pub fn standalone(
        artifact: Arc<dyn FunctionArtifact>,
        plugin: &str,
        name: &str,
        state: Arc<dyn StateStore>,
    ) -> Self {
        let kind = artifact
            .functions()
            .iter()
            .find(|f| f.name == name)
            .map_or(FunctionKind::Scalar, |f| f.kind);
        let cell = VersionCell::new(artifact);
        PluginFunction::new(
            cell,
            plugin,
            name,
            kind,
            &PluginPaths::default(),
            state,
            Default::default(),
        )
    }

    /// How many instances of this function are alive.
    pub fn users(&self) -> u64 {
        self.users.load(Ordering::Relaxed)
    }
}

impl FunctionFactory for PluginFunction {
    fn name(&self) -> &str {
        &self.name
    }

    fn kind(&self) -> FunctionKind {
        self.kind
    }

    fn validate(&self, args: &[ArgInfo]) -> Result<(), String> {
        let version = self.cell.current();
        bridge::call(|| version.validate(&self.name, args))
    }

    fn instantiate(&self, site: &CallSite) -> Result<Box<dyn FunctionImpl>, Error> {
        let slot = match &self.shared {
            Some(s) => s.clone(),
            None => {
                let n = self.next_instance.fetch_add(1, Ordering::Relaxed);
                Slot::new(InstanceInfo::call_site(
                    &self.plugin,
                    &self.name,
                    site,
                    n,
                    &self.paths,
                ))
            }
        };
        self.users.fetch_add(1, Ordering::Relaxed);
        let imp = PluginFunctionImpl {
            cell: self.cell.clone(),
            version: self.cell.current(),
            users: self.users.clone(),
            plugin: self.plugin.clone(),
            name: self.name.clone(),
            state: self.state.clone(),
            metrics: self.metrics.clone(),
            slot,
        };
        // Create the instance now, so a rule does not start with a broken plugin.
        bridge::call(|| imp.with_live(|_| Ok(()))).map_err(Error::external)?;
        Ok(Box::new(imp))
    }
}

/// A call site's handle on its instance.
pub struct PluginFunctionImpl {
    cell: FunctionCell,
    /// The version this call site runs.
    version: Arc<dyn FunctionArtifact>,
    users: Arc<AtomicU64>,
    plugin: String,
    name: String,
    state: Arc<dyn StateStore>,
    metrics: Arc<PluginMetrics>,
    slot: Arc<Mutex<Slot>>,
}

impl Drop for PluginFunctionImpl {
    fn drop(&mut self) {
        self.users.fetch_sub(1, Ordering::Relaxed);
    }
}

impl PluginFunctionImpl {
    /// Runs `f` on the live instance, creating it first if needed (respecting the
    /// back-off after faults). A failed call discards the instance.
    fn with_live<R>(
        &self,
        f: impl FnOnce(&mut dyn FunctionInstance) -> Result<R, String>,
    ) -> Result<R, String> {
        let mut slot = lock(&self.slot);
        let stale = slot
            .live
            .as_ref()
            .is_some_and(|l| !Arc::ptr_eq(&l.version, &self.version));
        if stale {
            // A singleton made by a call site still on another version.
            slot.live = None;
        }
        if slot.live.is_none() {
            slot.supervisor.may_start(&self.plugin)?;
            let ctx = InstanceContext {
                info: slot.info.clone(),
                state: self.state.clone(),
                metrics: self.metrics.clone(),
                link: None,
            };
            let instance = self.version.instantiate(&self.name, &ctx)?;
            slot.live = Some(Live {
                version: self.version.clone(),
                instance,
            });
        }
        let Some(live) = slot.live.as_mut() else {
            return Err(format!("plugin {}: the instance went missing", self.plugin));
        };
        match f(live.instance.as_mut()) {
            Ok(r) => {
                slot.supervisor.succeeded();
                Ok(r)
            }
            Err(e) => {
                slot.live = None;
                slot.supervisor.failed();
                self.metrics.restarted();
                let key = format!("fault/{}/{}", self.plugin, slot.info.instance_id);
                if let Some(held) = tributary_core::log_limit::global().allow(&key) {
                    tracing::warn!(plugin = %self.plugin, function = %self.name, rule = %slot.info.rule_id, error = %e, suppressed = held, "plugin instance faulted; it will be re-created");
                }
                Err(e)
            }
        }
    }

    /// Switches to the plugin's current version at a batch boundary: the old
    /// instance goes, the next call creates one from the new version. A singleton
    /// already switched by another call site is kept, with its in-memory state.
    fn follow_updates(&mut self) {
        let latest = self.cell.current();
        if Arc::ptr_eq(&latest, &self.version) {
            return;
        }
        tracing::info!(plugin = %self.plugin, function = %self.name, "switching to the updated plugin");
        self.version = latest;
        let mut slot = lock(&self.slot);
        if slot
            .live
            .as_ref()
            .is_some_and(|l| !Arc::ptr_eq(&l.version, &self.version))
        {
            slot.live = None;
            slot.supervisor.reset();
        }
    }

    /// Makes a call that pushes results onto `out`, timing and counting it. A
    /// failed call, or one that pushed the wrong number of results, becomes `n`
    /// copies of its error.
    fn run(
        &mut self,
        n: usize,
        out: &mut Vec<RowResult>,
        call: impl FnOnce(&mut dyn FunctionInstance, &mut Vec<RowResult>) -> Result<usize, String>
            + Send,
    ) {
        self.follow_updates();
        let start = out.len();
        let began = std::time::Instant::now();
        let this = &*self;
        let result = bridge::call(|| this.with_live(|i| call(i, out)));
        self.metrics.call(n, began);
        let result = result.and_then(|failed| match out.len() - start {
            got if got == n => Ok(failed),
            got => Err(format!(
                "plugin {} returned {got} results for {n} rows",
                self.plugin
            )),
        });
        match result {
            Ok(failed) => self.metrics.add_errors(failed),
            Err(e) => {
                out.truncate(start);
                self.metrics.add_errors(n);
                out.extend((0..n).map(|_| Err(RowError::Failed(e.clone()))));
            }
        }
    }
}

impl FunctionImpl for PluginFunctionImpl {
    fn exec_batch(&mut self, ctx: &FnContext, args: &[Column], n: usize, out: &mut Vec<RowResult>) {
        self.run(n, out, |i, out| i.exec(ctx, args, n, out));
    }

    fn exec_groups(&mut self, ctx: &FnContext, groups: &[Vec<Column>], out: &mut Vec<RowResult>) {
        self.run(groups.len(), out, |i, out| i.exec_groups(ctx, groups, out));
    }
}
