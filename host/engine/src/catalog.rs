//! The engine's catalog: the streams, tables and rules that outlive a restart.
//!
//! Kept in the configured state store, as eKuiper keeps its metadata in its `store`:
//! SQLite under `<root>/data/` by default, Redis when configured. Each stream and table
//! is its DDL statement; each rule is its JSON as given plus whether it should run
//! (a rule stopped through the API stays stopped after a restart).

use std::sync::Arc;
use tributary_core::state::{StateStore, StateWrite};
use tributary_core::{Error, Value};
use tributary_sql::StreamKind;

const STREAMS: &str = "catalog/streams";
const TABLES: &str = "catalog/tables";
const RULES: &str = "catalog/rules";

/// A rule as the catalog keeps it.
#[derive(Debug, Clone)]
pub struct StoredRule {
    pub id: String,
    pub json: serde_json::Value,
    pub triggered: bool,
}

#[derive(Debug, Clone)]
pub struct Catalog {
    store: Arc<dyn StateStore>,
}

fn failed(e: tributary_core::state::StateError) -> Error {
    Error::external(format!("catalog: {e}"))
}

fn scope(kind: StreamKind) -> &'static str {
    match kind {
        StreamKind::Table => TABLES,
        _ => STREAMS,
    }
}

impl Catalog {
    pub fn new(store: Arc<dyn StateStore>) -> Self {
        Catalog { store }
    }

    pub fn put_stream(&self, name: &str, kind: StreamKind, sql: &str) -> Result<(), Error> {
        self.store
            .put(scope(kind), name, Value::str(sql))
            .map_err(failed)
    }

    pub fn remove_stream(&self, name: &str, kind: StreamKind) -> Result<(), Error> {
        self.store.delete(scope(kind), name).map_err(failed)
    }

    pub fn put_rule(
        &self,
        id: &str,
        json: &serde_json::Value,
        triggered: bool,
    ) -> Result<(), Error> {
        let record = serde_json::json!({"rule": json, "triggered": triggered});
        self.store
            .put(RULES, id, Value::str(record.to_string()))
            .map_err(failed)
    }

    pub fn remove_rule(&self, id: &str) -> Result<(), Error> {
        self.store.delete(RULES, id).map_err(failed)
    }

    /// Replaces the whole catalog with `streams` (`(name, kind, sql)`) and `rules`
    /// (`(id, json, triggered)`), and forgets the state of every rule in
    /// `dropped_rules`, in one atomic commit of the store: after a crash the catalog
    /// is the old one or the new one, never a mix.
    pub fn replace_all(
        &self,
        streams: &[(String, StreamKind, String)],
        rules: &[(String, serde_json::Value, bool)],
        dropped_rules: &[String],
    ) -> Result<(), Error> {
        let mut writes = Vec::new();
        for scope in [STREAMS, TABLES, RULES] {
            for key in self.store.keys(scope).map_err(failed)? {
                writes.push(StateWrite {
                    scope: scope.to_string(),
                    key,
                    value: None,
                });
            }
        }
        for (name, kind, sql) in streams {
            writes.push(StateWrite {
                scope: scope(*kind).to_string(),
                key: name.clone(),
                value: Some(Value::str(sql)),
            });
        }
        for (id, json, triggered) in rules {
            let record = serde_json::json!({"rule": json, "triggered": triggered});
            writes.push(StateWrite {
                scope: RULES.to_string(),
                key: id.clone(),
                value: Some(Value::str(record.to_string())),
            });
        }
        // A later put of a key deleted above wins: the commit applies writes in order.
        let drops: Vec<String> = dropped_rules
            .iter()
            .map(|id| tributary_core::scope::rule_prefix(id))
            .collect();
        self.store.commit_replacing(&drops, &writes).map_err(failed)
    }

    /// Every stream and table statement: `(name, sql)`, streams first (tables may be
    /// joined by rules, but never depend on streams).
    pub fn statements(&self) -> Result<Vec<(String, String)>, Error> {
        let mut out = Vec::new();
        for scope in [STREAMS, TABLES] {
            for name in self.store.keys(scope).map_err(failed)? {
                if let Some(Value::String(sql)) = self.store.get(scope, &name).map_err(failed)? {
                    out.push((name, sql.to_string()));
                }
            }
        }
        Ok(out)
    }

    pub fn rules(&self) -> Result<Vec<StoredRule>, Error> {
        let mut out = Vec::new();
        for id in self.store.keys(RULES).map_err(failed)? {
            let Some(Value::String(text)) = self.store.get(RULES, &id).map_err(failed)? else {
                continue;
            };
            let record: serde_json::Value = serde_json::from_str(&text)
                .map_err(|e| Error::external(format!("catalog: rule {id}: {e}")))?;
            out.push(StoredRule {
                id,
                json: record["rule"].clone(),
                triggered: record["triggered"].as_bool().unwrap_or(true),
            });
        }
        Ok(out)
    }
}
