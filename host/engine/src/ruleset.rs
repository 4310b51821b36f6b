//! eKuiper's ruleset format, `{"streams": {name: ddl}, "tables": {name: ddl},
//! "rules": {id: "<rule json>"}}`: what `init.json`, `/data/export` and
//! `/data/import` hold; and loading, importing and partially importing one.
//!
//! A full import replaces everything atomically: the ruleset is checked whole on a
//! scratch engine, the running rules stop, and the new catalog is written in one
//! commit of the store (the old rules' state dropped in the same commit) before the
//! new rules start. A crash at any point leaves the old ruleset or the new one.

use crate::engine::{poisoned, Engine, RuleStatus};
use crate::rule::RuleDef;
use std::collections::BTreeMap;
use tributary_core::Error;
use tributary_sql::StreamKind;

/// One DDL statement of a ruleset: `(section, name, ddl)`.
pub type Statement = (&'static str, String, String);

/// A parsed ruleset: statements by section, rule definitions by id.
#[derive(Debug, Default)]
pub struct Ruleset {
    /// Streams before tables, as given.
    pub statements: Vec<Statement>,
    /// `(id, the rule)`; `Err` keeps a rule that does not parse, for the caller to
    /// report with its id.
    pub rules: Vec<(String, Result<RuleDef, Error>)>,
}

fn json_error(e: serde_json::Error) -> Error {
    Error::user(format!(
        "invalid ruleset JSON at line {}, column {}: {e}",
        e.line(),
        e.column()
    ))
}

impl Ruleset {
    /// Parses `text`, refusing unknown sections and entries of the wrong shape.
    pub fn parse(text: &str) -> Result<Ruleset, Error> {
        let json: serde_json::Value = serde_json::from_str(text).map_err(json_error)?;
        let obj = json
            .as_object()
            .ok_or_else(|| Error::user("ruleset must be a JSON object"))?;
        for key in obj.keys() {
            if !matches!(key.as_str(), "streams" | "tables" | "rules") {
                return Err(Error::user(format!("unknown ruleset key \"{key}\"")));
            }
        }
        let mut out = Ruleset::default();
        for section in ["streams", "tables"] {
            let Some(v) = obj.get(section) else { continue };
            let m = v
                .as_object()
                .ok_or_else(|| Error::user(format!("ruleset \"{section}\" must be an object")))?;
            for (name, ddl) in m {
                let ddl = ddl.as_str().ok_or_else(|| {
                    Error::user(format!("ruleset {section}.{name} must be a DDL string"))
                })?;
                out.statements
                    .push((section, name.clone(), ddl.to_string()));
            }
        }
        if let Some(v) = obj.get("rules") {
            let m = v
                .as_object()
                .ok_or_else(|| Error::user("ruleset \"rules\" must be an object"))?;
            for (id, rule) in m {
                let def = match rule {
                    serde_json::Value::String(s) => RuleDef::parse(s),
                    serde_json::Value::Object(_) => RuleDef::from_json(rule.clone()),
                    _ => Err(Error::user("must be rule JSON (a string or an object)")),
                };
                out.rules.push((id.clone(), def));
            }
        }
        Ok(out)
    }

    /// The rules, failing on the first that does not parse (named by its id).
    fn defs(self) -> Result<(Vec<Statement>, Vec<RuleDef>), Error> {
        let rules = self
            .rules
            .into_iter()
            .map(|(id, d)| d.map_err(|e| Error::user(format!("ruleset rules.{id}: {e}"))))
            .collect::<Result<_, _>>()?;
        Ok((self.statements, rules))
    }
}

impl Engine {
    /// Loads a ruleset on top of what is defined (`init.json`), writing the catalog.
    pub fn load_ruleset(&self, text: &str) -> Result<(), Error> {
        let (statements, rules) = Ruleset::parse(text)?.defs()?;
        for (section, name, ddl) in &statements {
            self.create_stream(ddl)
                .map_err(|e| Error::user(format!("ruleset {section}.{name}: {e}")))?;
        }
        for def in rules {
            self.create_rule(def)?;
        }
        Ok(())
    }

    /// Replaces everything with a ruleset (`/data/import`), atomically (see the
    /// module). Rules that were triggered in the ruleset start.
    pub async fn import(&self, text: &str) -> Result<(), Error> {
        let (statements, rules) = Ruleset::parse(text)?.defs()?;
        // Checked whole first, against the imported streams only: a bad ruleset
        // changes nothing.
        let scratch = Engine::new(self.ctx.clone());
        for (section, name, ddl) in &statements {
            scratch
                .create_stream(ddl)
                .map_err(|e| Error::user(format!("ruleset {section}.{name}: {e}")))?;
        }
        let mut ids = std::collections::BTreeSet::new();
        for def in &rules {
            if !ids.insert(def.id.as_str()) {
                return Err(Error::Conflict(format!(
                    "ruleset: rule {} is defined twice",
                    def.id
                )));
            }
            scratch
                .check_rule(def)
                .map_err(|e| Error::user(format!("ruleset rules.{}: {e}", def.id)))?;
        }
        let defs: Vec<_> = scratch
            .streams
            .read()
            .map_err(|_| poisoned())?
            .values()
            .cloned()
            .collect();
        self.ctx.failpoint.hit("import-checked");
        let _all = self.locks.lock_all().await;
        let old = self.rule_ids();
        for id in &old {
            self.halt_rule(id, false).await?;
        }
        if let Some(c) = &self.catalog {
            let streams: Vec<(String, StreamKind, String)> = defs
                .iter()
                .map(|d| (d.name.clone(), d.kind, d.statement.clone()))
                .collect();
            let stored: Vec<(String, serde_json::Value, bool)> = rules
                .iter()
                .map(|d| (d.id.clone(), d.raw.clone(), d.triggered))
                .collect();
            c.replace_all(&streams, &stored, &old)?;
            self.ctx.failpoint.hit("import-committed");
        } else {
            for id in &old {
                self.ctx
                    .state
                    .drop_scopes(&tributary_core::scope::rule_prefix(id))
                    .map_err(|e| Error::external(format!("rule {id}: its state: {e}")))?;
            }
        }
        self.rules.lock().map_err(|_| poisoned())?.clear();
        {
            let mut streams = self.streams.write().map_err(|_| poisoned())?;
            streams.clear();
            for d in defs {
                streams.insert(d.name.clone(), d);
            }
        }
        for def in rules {
            let id = def.id.clone();
            // Checked above; a rule that still fails to start keeps its reason.
            if let Err(e) = self.insert_rule(def, false, RuleStatus::Stopped) {
                tracing::error!(rule = %id, error = %e, "import: the rule did not start");
            }
        }
        Ok(())
    }

    /// Adds or replaces the entries a ruleset names, keeping the others
    /// (`/data/import?partial=1`). Every entry is tried; the ones that fail are
    /// named in the error.
    pub async fn import_partial(&self, text: &str) -> Result<(), Error> {
        let set = Ruleset::parse(text)?;
        let mut failed = Vec::new();
        for (section, name, sql) in &set.statements {
            let kind = if *section == "tables" {
                StreamKind::Table
            } else {
                StreamKind::Stream
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
        for (id, def) in set.rules {
            let r = match def {
                Err(e) => Err(e),
                Ok(def) if self.rule_def(&def.id).is_ok() => self.update_rule(def).await,
                Ok(def) => {
                    let _g = self.lock_rule(&def.id).await;
                    self.create_rule(def)
                }
            };
            if let Err(e) = r {
                failed.push(format!("rules.{id}: {e}"));
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
}

/// The entries of a ruleset text that are not yet defined, for loading `init.json`
/// on top of a catalog without clashing.
pub fn missing_entries(
    text: &str,
    existing_streams: &[String],
    existing_rules: &[String],
) -> Result<String, Error> {
    let mut json: serde_json::Value = serde_json::from_str(text).map_err(json_error)?;
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
