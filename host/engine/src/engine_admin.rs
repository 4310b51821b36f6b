//! The engine's management operations beyond the rule lifecycle: describing, updating
//! and dropping streams and tables; describing, updating and restarting rules; their
//! topology and plan; and loading the catalog an earlier run persisted. Rulesets
//! (`/data` and `init.json`) are [`crate::ruleset`]'s.

use crate::builder::{build_pipeline, plan_rule};
use crate::engine::{poisoned, Engine, RuleStatus};
use crate::metrics::RuleMetrics;
use crate::rule::RuleDef;
use std::sync::Arc;
use tributary_core::Error;
use tributary_sql::{parse_ddl, StreamDef, StreamKind};

fn kind_name(kind: StreamKind) -> &'static str {
    match kind {
        StreamKind::Table => "table",
        _ => "stream",
    }
}

impl Engine {
    /// The definition of stream (or table) `name`.
    pub fn stream_def(&self, name: &str, kind: StreamKind) -> Result<StreamDef, Error> {
        let streams = self.streams.read().map_err(|_| poisoned())?;
        streams
            .values()
            .find(|d| d.name.eq_ignore_ascii_case(name) && d.kind == kind)
            .cloned()
            .ok_or_else(|| Error::not_found(format!("{} {name} not found", kind_name(kind))))
    }

    /// The rules whose SQL reads stream (or table) `name`.
    fn rules_using(&self, name: &str) -> Result<Vec<String>, Error> {
        let streams = self.streams.read().map_err(|_| poisoned())?;
        let rules = self.rules.lock().map_err(|_| poisoned())?;
        Ok(rules
            .values()
            .filter(|e| match plan_rule(&e.def, &streams) {
                Ok(p) => {
                    p.stream.name.eq_ignore_ascii_case(name)
                        || p.joins
                            .iter()
                            .any(|j| j.stream.name.eq_ignore_ascii_case(name))
                }
                Err(_) => false,
            })
            .map(|e| e.def.id.clone())
            .collect())
    }

    /// Drops a stream or table no rule reads.
    pub fn drop_stream(&self, name: &str, kind: StreamKind) -> Result<(), Error> {
        let def = self.stream_def(name, kind)?;
        let users = self.rules_using(&def.name)?;
        if !users.is_empty() {
            return Err(Error::Conflict(format!(
                "{} {} is used by rule(s) {}; delete them first",
                kind_name(kind),
                def.name,
                users.join(", ")
            )));
        }
        if let Some(c) = &self.catalog {
            c.remove_stream(&def.name, kind)?;
        }
        self.streams
            .write()
            .map_err(|_| poisoned())?
            .remove(&def.name);
        Ok(())
    }

    /// Replaces the definition of stream (or table) `name` with `sql`, which must
    /// define the same name and kind. Running rules keep the old definition until
    /// they restart.
    pub fn update_stream(&self, name: &str, kind: StreamKind, sql: &str) -> Result<(), Error> {
        let old = self.stream_def(name, kind)?;
        let def = parse_ddl(sql)?;
        if !def.name.eq_ignore_ascii_case(&old.name) {
            return Err(Error::user(format!(
                "the statement defines {}, not {}",
                def.name, old.name
            )));
        }
        if def.kind != kind {
            return Err(Error::user(format!(
                "the statement defines a {}, but {} is a {}",
                kind_name(def.kind),
                old.name,
                kind_name(kind)
            )));
        }
        if let Some(c) = &self.catalog {
            c.put_stream(&old.name, kind, &def.statement)?;
        }
        let mut streams = self.streams.write().map_err(|_| poisoned())?;
        streams.remove(&old.name);
        streams.insert(def.name.clone(), def);
        Ok(())
    }

    /// The rule as defined.
    pub fn rule_def(&self, id: &str) -> Result<RuleDef, Error> {
        let rules = self.rules.lock().map_err(|_| poisoned())?;
        rules
            .get(id)
            .map(|e| e.def.clone())
            .ok_or_else(|| Error::not_found(format!("rule {id} not found")))
    }

    /// Replaces rule `def.id`: the new definition is checked first (a bad one
    /// changes nothing), then the old rule stops and the new one starts if triggered.
    pub async fn update_rule(&self, def: RuleDef) -> Result<(), Error> {
        let id = def.id.clone();
        let _g = self.lock_rule(&id).await;
        self.rule_def(&id)?;
        self.check_rule(&def)?;
        self.halt_rule(&id, false).await?;
        let triggered = def.triggered;
        {
            let mut rules = self.rules.lock().map_err(|_| poisoned())?;
            // The catalog is written only for a rule that is still there: under the
            // rules lock, so no delete can come between the check and the write.
            let e = match rules.get_mut(&id) {
                Some(e) => e,
                None => return Err(Error::not_found(format!("rule {id} not found"))),
            };
            if let Some(c) = &self.catalog {
                c.put_rule(&id, &def.raw, def.triggered)?;
            }
            e.def = def;
            e.metrics = Arc::new(RuleMetrics::default());
            if let Ok(mut s) = e.status.lock() {
                *s = RuleStatus::Stopped;
            };
        }
        if triggered {
            self.start_rule(&id)?;
        }
        Ok(())
    }

    /// Stops and starts a rule.
    pub async fn restart_rule(&self, id: &str) -> Result<(), Error> {
        let _g = self.lock_rule(id).await;
        self.halt_rule(id, false).await?;
        self.start_rule(id)
    }

    /// The rule's stages as eKuiper's `/topo` shows them: its sources, and the edges
    /// from each node to the next.
    pub fn rule_topo(&self, id: &str) -> Result<serde_json::Value, Error> {
        let def = self.rule_def(id)?;
        let streams = self.streams.read().map_err(|_| poisoned())?.clone();
        let plan = plan_rule(&def, &streams)?;
        let pipeline = build_pipeline(&def, &streams, &self.ctx, Arc::new(RuleMetrics::default()))?;
        let mut sources = vec![format!("source_{}", plan.stream.name)];
        sources.extend(
            plan.joins
                .iter()
                .map(|j| format!("source_{}", j.stream.name)),
        );
        let ops: Vec<String> = pipeline
            .operators
            .iter()
            .enumerate()
            .map(|(i, o)| format!("op_{}_{}", i + 1, o.name()))
            .collect();
        let sinks: Vec<String> = pipeline
            .sinks
            .iter()
            .map(|s| format!("sink_{}", s.name))
            .collect();
        let mut edges = serde_json::Map::new();
        let first: Vec<String> = match ops.first() {
            Some(o) => vec![o.clone()],
            None => sinks.clone(),
        };
        for s in &sources {
            edges.insert(s.clone(), serde_json::json!(first));
        }
        for (i, o) in ops.iter().enumerate() {
            let next = match ops.get(i + 1) {
                Some(n) => serde_json::json!([n]),
                None => serde_json::json!(sinks),
            };
            edges.insert(o.clone(), next);
        }
        Ok(serde_json::json!({"sources": sources, "edges": edges}))
    }

    /// What the rule runs: its streams, its stages in order, its sinks and options.
    pub fn rule_explain(&self, id: &str) -> Result<serde_json::Value, Error> {
        let def = self.rule_def(id)?;
        let streams = self.streams.read().map_err(|_| poisoned())?.clone();
        let plan = plan_rule(&def, &streams)?;
        let pipeline = build_pipeline(&def, &streams, &self.ctx, Arc::new(RuleMetrics::default()))?;
        let stages: Vec<&str> = pipeline.operators.iter().map(|o| o.name()).collect();
        Ok(serde_json::json!({
            "id": def.id,
            "sql": def.sql,
            "from": plan.stream.name,
            "joins": plan.joins.iter().map(|j| j.stream.name.clone()).collect::<Vec<_>>(),
            "window": plan.group.as_ref().and_then(|g| g.window.as_ref()).map(|w| format!("{w:?}")),
            "stages": stages,
            "sinks": pipeline.sinks.iter().map(|s| s.name.clone()).collect::<Vec<_>>(),
            "qos": def.options.qos,
            "checkpointed": pipeline.checkpoint.is_some(),
        }))
    }

    /// The FROM stream of a rule.
    pub fn rule_stream(&self, id: &str) -> Result<String, Error> {
        let def = self.rule_def(id)?;
        let streams = self.streams.read().map_err(|_| poisoned())?;
        Ok(plan_rule(&def, &streams)?.stream.name)
    }

    /// Brings back the streams, tables and rules of the catalog; rules stopped
    /// through the API stay stopped. Returns how many rules it loaded.
    pub fn load_catalog(&self) -> Result<usize, Error> {
        let Some(c) = self.catalog.clone() else {
            return Ok(0);
        };
        for (name, sql) in c.statements()? {
            self.create_stream(&sql)
                .map_err(|e| Error::external(format!("catalog: stream {name}: {e}")))?;
        }
        let rules = c.rules()?;
        let n = rules.len();
        for r in rules {
            let mut def = RuleDef::from_json(r.json)
                .map_err(|e| Error::external(format!("catalog: rule {}: {e}", r.id)))?;
            def.triggered = r.triggered;
            // A rule that no longer builds (its plugin was removed) must neither keep
            // the others from running nor vanish: it is kept, stopped, with the
            // reason in its status, and starts once what it needs is back.
            let status = match self.check_rule(&def) {
                Ok(()) => RuleStatus::Stopped,
                Err(e) => {
                    tracing::error!(rule = %r.id, error = %e, "catalog: the rule cannot start");
                    RuleStatus::Failed(format!("cannot start: {e}"))
                }
            };
            if let Err(e) = self.insert_rule(def, false, status) {
                tracing::error!(rule = %r.id, error = %e, "catalog: the rule cannot be loaded");
            }
        }
        Ok(n)
    }

    /// Which of a ruleset's streams, tables and rules exist already.
    pub fn existing(&self) -> Result<(Vec<String>, Vec<String>), Error> {
        let streams: Vec<String> = self
            .streams
            .read()
            .map_err(|_| poisoned())?
            .keys()
            .cloned()
            .collect();
        Ok((streams, self.rule_ids()))
    }

    /// The rule's status and counters, for `/rules/{id}/status` and `/metrics`.
    /// The connection status of the rule's connectors that keep one, by node name.
    pub fn rule_connections(
        &self,
        id: &str,
    ) -> Result<Vec<(String, tributary_core::connection::ConnectionSnapshot)>, Error> {
        let rules = self.rules.lock().map_err(|_| poisoned())?;
        let e = rules
            .get(id)
            .ok_or_else(|| Error::not_found(format!("rule {id} not found")))?;
        Ok(e.metrics.connections())
    }

    /// How each of the rule's sinks delivers, by node name.
    pub fn rule_sinks(
        &self,
        id: &str,
    ) -> Result<Vec<(String, crate::metrics::SinkSnapshot)>, Error> {
        let rules = self.rules.lock().map_err(|_| poisoned())?;
        let e = rules
            .get(id)
            .ok_or_else(|| Error::not_found(format!("rule {id} not found")))?;
        Ok(e.metrics.sinks())
    }

    /// The rule's last row error and when (epoch ms), for its status.
    pub fn rule_last_error(&self, id: &str) -> Result<(String, i64), Error> {
        let rules = self.rules.lock().map_err(|_| poisoned())?;
        let e = rules
            .get(id)
            .ok_or_else(|| Error::not_found(format!("rule {id} not found")))?;
        Ok(e.metrics.last_error())
    }

    pub fn rule_statuses(&self) -> Vec<(String, RuleStatus, crate::metrics::MetricsSnapshot)> {
        let ids = self.rule_ids();
        ids.into_iter()
            .filter_map(|id| self.rule_status(&id).ok().map(|(s, m)| (id, s, m)))
            .collect()
    }
}
