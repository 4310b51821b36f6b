//! The engine's management operations beyond the rule lifecycle: describing, updating
//! and dropping streams and tables; describing, updating and restarting rules; their
//! topology and plan; exporting and importing everything (eKuiper's `/data` API); and
//! loading the catalog an earlier run persisted.

use crate::builder::{build_pipeline, plan_rule};
use crate::engine::{poisoned, Engine, RuleStatus};
use crate::metrics::RuleMetrics;
use crate::rule::RuleDef;
use std::collections::BTreeMap;
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
        self.rule_def(&id)?;
        {
            let streams = self.streams.read().map_err(|_| poisoned())?;
            plan_rule(&def, &streams)?;
            build_pipeline(&def, &streams, &self.ctx, Arc::new(RuleMetrics::default()))?;
        }
        self.halt_rule(&id, false).await?;
        let triggered = def.triggered;
        {
            let mut rules = self.rules.lock().map_err(|_| poisoned())?;
            if let Some(c) = &self.catalog {
                c.put_rule(&id, &def.raw, def.triggered)?;
            }
            if let Some(e) = rules.get_mut(&id) {
                e.def = def;
                e.metrics = Arc::new(RuleMetrics::default());
                if let Ok(mut s) = e.status.lock() {
                    *s = RuleStatus::Stopped;
                }
            }
        }
        if triggered {
            self.start_rule(&id)?;
        }
        Ok(())
    }

    /// Stops and starts a rule.
    pub async fn restart_rule(&self, id: &str) -> Result<(), Error> {
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

    /// Everything, in eKuiper's ruleset format (`/data/export`).
    pub fn export(&self) -> Result<serde_json::Value, Error> {
        let streams = self.streams.read().map_err(|_| poisoned())?;
        let mut out_streams = serde_json::Map::new();
        let mut out_tables = serde_json::Map::new();
        for d in streams.values() {
            let target = match d.kind {
                StreamKind::Table => &mut out_tables,
                _ => &mut out_streams,
            };
            target.insert(d.name.clone(), serde_json::json!(d.statement));
        }
        let rules = self.rules.lock().map_err(|_| poisoned())?;
        let out_rules: serde_json::Map<String, serde_json::Value> = rules
            .iter()
            .map(|(id, e)| (id.clone(), serde_json::json!(e.def.raw.to_string())))
            .collect();
        Ok(serde_json::json!({"streams": out_streams, "tables": out_tables, "rules": out_rules}))
    }

    /// Replaces everything with a ruleset (`/data/import`). The ruleset is checked
    /// whole before anything changes: every statement parses, every rule plans
    /// against the imported streams.
    pub async fn import(&self, text: &str) -> Result<(), Error> {
        let scratch = Engine::new(self.ctx.clone());
        scratch.load_ruleset_stopped(text)?;
        for id in self.rule_ids() {
            self.delete_rule(&id).await?;
        }
        let names: Vec<(String, StreamKind)> = {
            let streams = self.streams.read().map_err(|_| poisoned())?;
            streams.values().map(|d| (d.name.clone(), d.kind)).collect()
        };
        for (name, kind) in names {
            self.drop_stream(&name, kind)?;
        }
        self.load_ruleset(text)
    }

    /// Adds or replaces the entries a ruleset names, keeping the others
    /// (`/data/import?partial=1`). Every entry is tried; the ones that fail are
    /// named in the error.
    pub async fn import_partial(&self, text: &str) -> Result<(), Error> {
        let json: serde_json::Value = serde_json::from_str(text).map_err(|e| {
            Error::user(format!(
                "invalid ruleset JSON at line {}, column {}: {e}",
                e.line(),
                e.column()
            ))
        })?;
        let mut failed = Vec::new();
        for (section, kind) in [
            ("streams", StreamKind::Stream),
            ("tables", StreamKind::Table),
        ] {
            let Some(m) = json.get(section).and_then(|v| v.as_object()) else {
                continue;
            };
            for (name, ddl) in m {
                let Some(sql) = ddl.as_str() else {
                    failed.push(format!("{section}.{name}: must be a DDL string"));
                    continue;
                };
                let r = if self.stream_def(name, kind).is_ok() {
                    self.update_stream(name, kind, sql)
                } else {
                    self.create_stream(sql).map(|_| ())
                };
                if let Err(e) = r {
                    failed.push(format!("{section}.{name}: {e}"));
                }
            }
        }
        if let Some(m) = json.get("rules").and_then(|v| v.as_object()) {
            for (id, rule) in m {
                let def = match rule {
                    serde_json::Value::String(s) => RuleDef::parse(s),
                    other => RuleDef::from_json(other.clone()),
                };
                let r = match def {
                    Err(e) => Err(e),
                    Ok(def) if self.rule_def(&def.id).is_ok() => self.update_rule(def).await,
                    Ok(def) => self.create_rule(def),
                };
                if let Err(e) = r {
                    failed.push(format!("rules.{id}: {e}"));
                }
            }
        }
        if failed.is_empty() {
            Ok(())
        } else {
            Err(Error::user(format!(
                "import failed for {}",
                failed.join("; ")
            )))
        }
    }

    /// The FROM stream of a rule.
    pub fn rule_stream(&self, id: &str) -> Result<String, Error> {
        let def = self.rule_def(id)?;
        let streams = self.streams.read().map_err(|_| poisoned())?;
        Ok(plan_rule(&def, &streams)?.stream.name)
    }

    /// Checks a ruleset by loading it without starting its rules.
    fn load_ruleset_stopped(&self, text: &str) -> Result<(), Error> {
        let mut json: serde_json::Value = serde_json::from_str(text).map_err(|e| {
            Error::user(format!(
                "invalid ruleset JSON at line {}, column {}: {e}",
                e.line(),
                e.column()
            ))
        })?;
        if let Some(rules) = json.get_mut("rules").and_then(|r| r.as_object_mut()) {
            for rule in rules.values_mut() {
                let mut parsed: serde_json::Value = match &*rule {
                    // A rule that is not JSON is left for load_ruleset to report.
                    serde_json::Value::String(s) => {
                        serde_json::from_str(s).unwrap_or_else(|_| rule.clone())
                    }
                    other => other.clone(),
                };
                if let Some(o) = parsed.as_object_mut() {
                    o.insert("triggered".into(), serde_json::Value::Bool(false));
                }
                *rule = parsed;
            }
        }
        self.load_ruleset(&json.to_string())
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
            if let Err(e) = self.create_rule(def) {
                // One rule that no longer plans (a plugin removed) must not keep the
                // others from running: it is reported and left out.
                tracing::error!(rule = %r.id, error = %e, "catalog: the rule cannot be created");
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

    pub fn rule_statuses(&self) -> Vec<(String, RuleStatus, crate::metrics::MetricsSnapshot)> {
        let ids = self.rule_ids();
        ids.into_iter()
            .filter_map(|id| self.rule_status(&id).ok().map(|(s, m)| (id, s, m)))
            .collect()
    }
}

/// Streams of a ruleset text that are not yet defined, for loading `init.json` on top
/// of a catalog without clashing.
pub fn missing_entries(
    text: &str,
    existing_streams: &[String],
    existing_rules: &[String],
) -> Result<String, Error> {
    let mut json: serde_json::Value = serde_json::from_str(text).map_err(|e| {
        Error::user(format!(
            "invalid ruleset JSON at line {}, column {}: {e}",
            e.line(),
            e.column()
        ))
    })?;
    let known: BTreeMap<String, ()> = existing_streams
        .iter()
        .map(|s| (s.to_ascii_lowercase(), ()))
        .collect();
    for section in ["streams", "tables"] {
        if let Some(m) = json.get_mut(section).and_then(|v| v.as_object_mut()) {
            m.retain(|name, _| !known.contains_key(&name.to_ascii_lowercase()));
        }
    }
    if let Some(m) = json.get_mut("rules").and_then(|v| v.as_object_mut()) {
        m.retain(|id, _| !existing_rules.contains(id));
    }
    Ok(json.to_string())
}
