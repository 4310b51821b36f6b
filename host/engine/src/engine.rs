//! The engine: the streams, tables and rules of one root, and the tasks running them.
//!
//! Each started rule runs under a small supervisor: when its source fails, the rule is
//! rebuilt and restarted according to its `restartStrategy`; when it is stopped, its
//! source stops and its sinks are flushed before `stop_rule` returns.

use crate::builder::{build_pipeline, plan_rule, EngineContext};
use crate::catalog::Catalog;
use crate::metrics::{MetricsSnapshot, RuleMetrics};
use crate::rule::RuleDef;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tributary_core::Error;
use tributary_sql::{parse_ddl, StreamDef, StreamKind};

/// The lifecycle state of a rule.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum RuleStatus {
    Stopped,
    Running,
    /// The rule ended with an error and will not be restarted.
    Failed(String),
    /// The source reached the end of its input.
    Finished,
}

pub(crate) struct RuleEntry {
    pub(crate) def: RuleDef,
    pub(crate) metrics: Arc<RuleMetrics>,
    pub(crate) status: Arc<Mutex<RuleStatus>>,
    stop: Option<watch::Sender<bool>>,
    task: Option<JoinHandle<()>>,
}

/// One engine instance.
pub struct Engine {
    pub(crate) ctx: EngineContext,
    pub(crate) streams: RwLock<BTreeMap<String, StreamDef>>,
    pub(crate) rules: Mutex<BTreeMap<String, RuleEntry>>,
    /// Where streams, tables and rules are persisted (`None`: they live in memory).
    pub(crate) catalog: Option<Catalog>,
    /// One operation at a time per rule ([`crate::rule_locks`]).
    pub(crate) locks: crate::rule_locks::RuleLocks,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine").field("ctx", &self.ctx).finish()
    }
}

pub(crate) fn poisoned() -> Error {
    Error::internal("engine lock poisoned")
}

impl Engine {
    pub fn new(ctx: EngineContext) -> Self {
        Engine {
            ctx,
            streams: RwLock::new(BTreeMap::new()),
            rules: Mutex::new(BTreeMap::new()),
            catalog: None,
            locks: Default::default(),
        }
    }

    /// Waits until no other operation on rule `id` runs, and holds it off until the
    /// guard goes. The async operations below take it themselves; a caller of the
    /// synchronous ones ([`Engine::create_rule`], [`Engine::start_rule`]) takes it
    /// first.
    pub async fn lock_rule(&self, id: &str) -> crate::rule_locks::RuleGuard {
        self.locks.lock(id).await
    }

    /// An engine whose streams, tables and rules are persisted in `store`; call
    /// [`Engine::load_catalog`] to bring back what an earlier run kept.
    pub fn with_catalog(
        ctx: EngineContext,
        store: Arc<dyn tributary_core::state::StateStore>,
    ) -> Self {
        let mut e = Engine::new(ctx);
        e.catalog = Some(Catalog::new(store));
        e
    }

    pub fn context(&self) -> &EngineContext {
        &self.ctx
    }

    /// Creates a stream or table from its DDL. Returns its name.
    pub fn create_stream(&self, sql: &str) -> Result<String, Error> {
        let def = parse_ddl(sql)?;
        let mut streams = self.streams.write().map_err(|_| poisoned())?;
        if streams.keys().any(|k| k.eq_ignore_ascii_case(&def.name)) {
            let what = if def.kind == StreamKind::Table {
                "table"
            } else {
                "stream"
            };
            return Err(Error::Conflict(format!(
                "{what} {} already exists",
                def.name
            )));
        }
        let name = def.name.clone();
        if let Some(c) = &self.catalog {
            c.put_stream(&name, def.kind, &def.statement)?;
        }
        streams.insert(name.clone(), def);
        Ok(name)
    }

    /// The names of the streams (or tables) defined.
    pub fn stream_names(&self, kind: StreamKind) -> Vec<String> {
        self.streams
            .read()
            .map(|s| {
                s.values()
                    .filter(|d| d.kind == kind)
                    .map(|d| d.name.clone())
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Adds a rule after checking that it plans (SQL, streams, functions, sinks).
    /// The rule starts if `triggered` (the default).
    pub fn create_rule(&self, def: RuleDef) -> Result<(), Error> {
        if self
            .rules
            .lock()
            .map_err(|_| poisoned())?
            .contains_key(&def.id)
        {
            return Err(Error::Conflict(format!("rule {} already exists", def.id)));
        }
        self.check_rule(&def)?;
        self.insert_rule(def, true, RuleStatus::Stopped)
    }

    /// Whether a rule plans and builds against the current streams, plugins and
    /// connectors (the pipeline is built once and thrown away).
    pub(crate) fn check_rule(&self, def: &RuleDef) -> Result<(), Error> {
        let streams = self.streams.read().map_err(|_| poisoned())?;
        plan_rule(def, &streams)?;
        build_pipeline(def, &streams, &self.ctx, Arc::new(RuleMetrics::default()))?;
        Ok(())
    }

    /// Adds a checked rule (writing the catalog when `persist`) and starts it if it
    /// is triggered and `status` is not a failure.
    pub(crate) fn insert_rule(
        &self,
        def: RuleDef,
        persist: bool,
        status: RuleStatus,
    ) -> Result<(), Error> {
        let id = def.id.clone();
        let start = def.triggered && !matches!(status, RuleStatus::Failed(_));
        {
            let mut rules = self.rules.lock().map_err(|_| poisoned())?;
            if rules.contains_key(&id) {
                return Err(Error::Conflict(format!("rule {id} already exists")));
            }
            if persist {
                if let Some(c) = &self.catalog {
                    c.put_rule(&id, &def.raw, def.triggered)?;
                }
            }
            rules.insert(
                id.clone(),
                RuleEntry {
                    def,
                    metrics: Arc::new(RuleMetrics::default()),
                    status: Arc::new(Mutex::new(status)),
                    stop: None,
                    task: None,
                },
            );
        }
        if start {
            self.start_rule(&id)?;
        }
        Ok(())
    }

    /// Starts a stopped rule (and keeps it started across restarts of the engine).
    pub fn start_rule(&self, id: &str) -> Result<(), Error> {
        let mut rules = self.rules.lock().map_err(|_| poisoned())?;
        let entry = rules
            .get_mut(id)
            .ok_or_else(|| Error::not_found(format!("rule {id} not found")))?;
        if !entry.def.triggered {
            if let Some(c) = &self.catalog {
                c.put_rule(id, &entry.def.raw, true)?;
            }
            entry.def.triggered = true;
        }
        if entry.task.as_ref().is_some_and(|t| !t.is_finished()) {
            return Ok(());
        }
        let streams = self.streams.read().map_err(|_| poisoned())?.clone();
        let pipeline = build_pipeline(&entry.def, &streams, &self.ctx, entry.metrics.clone())?;
        let (stop_tx, stop_rx) = watch::channel(false);
        let def = entry.def.clone();
        let ctx = self.ctx.clone();
        let status = entry.status.clone();
        let metrics = entry.metrics.clone();
        set_status(&status, RuleStatus::Running);
        metrics.last_start_ms.store(
            self.ctx.clock.now_ms(),
            std::sync::atomic::Ordering::Relaxed,
        );
        tracing::info!(rule = %id, "rule started");
        let task = tokio::spawn(supervise(
            def, streams, ctx, metrics, status, pipeline, stop_rx,
        ));
        entry.stop = Some(stop_tx);
        entry.task = Some(task);
        Ok(())
    }

    /// Stops a rule and waits until its sinks are flushed; it stays stopped across
    /// restarts of the engine.
    pub async fn stop_rule(&self, id: &str) -> Result<(), Error> {
        let _g = self.lock_rule(id).await;
        self.halt_rule(id, true).await
    }

    /// Stops a rule; with `keep_stopped`, the catalog remembers it as stopped.
    pub(crate) async fn halt_rule(&self, id: &str, keep_stopped: bool) -> Result<(), Error> {
        let (stop, task, status) = {
            let mut rules = self.rules.lock().map_err(|_| poisoned())?;
            let entry = rules
                .get_mut(id)
                .ok_or_else(|| Error::not_found(format!("rule {id} not found")))?;
            if keep_stopped && entry.def.triggered {
                if let Some(c) = &self.catalog {
                    c.put_rule(id, &entry.def.raw, false)?;
                }
                entry.def.triggered = false;
            }
            (entry.stop.take(), entry.task.take(), entry.status.clone())
        };
        if let Some(s) = stop {
            let _ = s.send(true);
        }
        if let Some(t) = task {
            let _ = t.await;
        }
        // A rule that failed or finished keeps saying so.
        if let Ok(mut s) = status.lock() {
            if *s == RuleStatus::Running {
                *s = RuleStatus::Stopped;
            }
        }
        tracing::info!(rule = %id, "rule stopped");
        Ok(())
    }

    /// Stops and removes a rule; its state (every plugin scope under `rule/<id>/`)
    /// goes with it.
    pub async fn delete_rule(&self, id: &str) -> Result<(), Error> {
        let _g = self.lock_rule(id).await;
        self.halt_rule(id, false).await?;
        {
            let mut rules = self.rules.lock().map_err(|_| poisoned())?;
            if let Some(c) = &self.catalog {
                c.remove_rule(id)?;
            }
            rules.remove(id);
        }
        self.ctx
            .state
            .drop_scopes(&tributary_core::scope::rule_prefix(id))
            .map_err(|e| {
                Error::external(format!("rule {id} deleted, but its state was not: {e}"))
            })?;
        tracing::info!(rule = %id, "rule deleted");
        Ok(())
    }

    pub fn rule_status(&self, id: &str) -> Result<(RuleStatus, MetricsSnapshot), Error> {
        let rules = self.rules.lock().map_err(|_| poisoned())?;
        let e = rules
            .get(id)
            .ok_or_else(|| Error::not_found(format!("rule {id} not found")))?;
        let st = e.status.lock().map(|s| s.clone()).map_err(|_| poisoned())?;
        Ok((st, e.metrics.snapshot()))
    }

    pub fn rule_ids(&self) -> Vec<String> {
        self.rules
            .lock()
            .map(|r| r.keys().cloned().collect())
            .unwrap_or_default()
    }

    /// Stops every rule, flushing sinks. The catalog keeps them as they were, so the
    /// next start runs the same rules.
    pub async fn shutdown(&self) {
        let _all = self.locks.lock_all().await;
        for id in self.rule_ids() {
            let _ = self.halt_rule(&id, false).await;
        }
    }
}

fn set_status(s: &Mutex<RuleStatus>, v: RuleStatus) {
    if let Ok(mut g) = s.lock() {
        *g = v;
    }
}

/// Runs a rule, restarting it after a failure as its `restartStrategy` says.
async fn supervise(
    def: RuleDef,
    streams: BTreeMap<String, StreamDef>,
    ctx: EngineContext,
    metrics: Arc<RuleMetrics>,
    status: Arc<Mutex<RuleStatus>>,
    first: crate::runtime::Pipeline,
    stop: watch::Receiver<bool>,
) {
    let rs = def.options.restart_strategy.clone();
    let mut pipeline = Some(first);
    let mut attempt: u32 = 0;
    let mut delay = rs.delay_ms as f64;
    loop {
        let p = match pipeline.take() {
            Some(p) => p,
            None => match build_pipeline(&def, &streams, &ctx, metrics.clone()) {
                Ok(p) => p,
                Err(e) => {
                    set_status(&status, RuleStatus::Failed(e.to_string()));
                    return;
                }
            },
        };
        let result = p.run(stop.clone()).await;
        if *stop.borrow() {
            return;
        }
        match result {
            Ok(()) => {
                set_status(&status, RuleStatus::Finished);
                tracing::info!(rule = %def.id, "rule finished: its source ended");
                return;
            }
            Err(e) if attempt < rs.attempts => {
                attempt += 1;
                RuleMetrics::add(&metrics.restarts, 1);
                let wait = delay.min(rs.max_delay_ms as f64) as u64;
                tracing::warn!(rule = %def.id, attempt, error = %e, wait_ms = wait, "rule failed; restarting");
                let mut s = stop.clone();
                tokio::select! {
                    _ = tokio::time::sleep(Duration::from_millis(wait)) => {}
                    _ = s.wait_for(|v| *v) => return,
                }
                delay *= rs.multiplier;
            }
            Err(e) => {
                tracing::error!(rule = %def.id, error = %e, "rule failed");
                set_status(&status, RuleStatus::Failed(e.to_string()));
                return;
            }
        }
    }
}

#[cfg(test)]
#[path = "engine_tests.rs"]
mod tests;
