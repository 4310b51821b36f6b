//! The state API's backend contract.
//!
//! Every tier exposes the same five operations to plugins (put, get, delete state;
//! increment, get counter). The tiers' host code calls a [`StateStore`], which knows
//! nothing of plugins: it stores values under `(scope, key)`, where the scope names one
//! plugin instance in one rule (or a singleton). [`MemoryStateStore`] is the in-process
//! backend; durable backends (SQLite, Redis) implement the same trait.

use crate::value::Value;
use std::collections::HashMap;
use std::sync::Mutex;

/// A state operation's failure, a value for the plugin, never a trap.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StateError {
    /// `incr-counter` on a key holding something other than an integer.
    NotAnInteger,
    /// The backend failed.
    Store(String),
}

impl std::fmt::Display for StateError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StateError::NotAnInteger => f.write_str("the value is not an integer"),
            StateError::Store(e) => write!(f, "state store error: {e}"),
        }
    }
}

/// One write of a checkpoint: a value to put, or `None` to delete the key.
#[derive(Debug, Clone, PartialEq)]
pub struct StateWrite {
    pub scope: String,
    pub key: String,
    pub value: Option<Value>,
}

/// A state backend. Counters and states share one key space, as in eKuiper: a counter
/// is a state holding an integer.
pub trait StateStore: Send + Sync + std::fmt::Debug {
    fn put(&self, scope: &str, key: &str, value: Value) -> Result<(), StateError>;
    fn get(&self, scope: &str, key: &str) -> Result<Option<Value>, StateError>;
    fn delete(&self, scope: &str, key: &str) -> Result<(), StateError>;
    /// Adds `amount` (a missing key counts as 0) and returns the new value.
    fn incr(&self, scope: &str, key: &str, amount: i64) -> Result<i64, StateError>;
    /// The counter under `key`; 0 when missing.
    fn counter(&self, scope: &str, key: &str) -> Result<i64, StateError> {
        match self.get(scope, key)? {
            None => Ok(0),
            Some(Value::Int(i)) => Ok(i),
            Some(_) => Err(StateError::NotAnInteger),
        }
    }
    /// Forgets every key of every scope starting with `prefix` (a deleted rule).
    fn drop_scopes(&self, prefix: &str) -> Result<(), StateError>;
    /// Applies `writes` all at once or not at all: a checkpoint (plugin state and
    /// source offsets together) must never be half-written by a crash.
    fn commit(&self, writes: &[StateWrite]) -> Result<(), StateError>;
    /// Forgets every scope starting with one of `drop_prefixes`, then applies
    /// `writes`, all at once or not at all: replacing a whole catalog (an import)
    /// must leave the old one or the new one after a crash, never a mix.
    fn commit_replacing(
        &self,
        drop_prefixes: &[String],
        writes: &[StateWrite],
    ) -> Result<(), StateError>;
    /// The keys of one scope, sorted (the engine's catalog lists its entries).
    fn keys(&self, scope: &str) -> Result<Vec<String>, StateError>;
}

/// State kept in memory: fast, and lost when the process ends. Scopes, then keys, so
/// that the hot path (a plugin bumping a counter that exists) looks up by `&str` and
/// allocates nothing. Hashed with foldhash (seeded per map): SipHash of the scope
/// and the key took about half of a direct `incr`.
#[derive(Debug, Default)]
pub struct MemoryStateStore {
    map: Mutex<Scopes>,
}

type Map<V> = HashMap<String, V, foldhash::fast::RandomState>;
type Scopes = Map<Map<Value>>;

impl MemoryStateStore {
    fn lock(&self) -> std::sync::MutexGuard<'_, Scopes> {
        // The map is never left half-updated, so a poisoned lock is still usable.
        self.map.lock().unwrap_or_else(|e| e.into_inner())
    }
}

fn write(map: &mut Scopes, scope: &str, key: &str, value: Option<Value>) {
    match value {
        Some(v) => {
            if let Some(slot) = map.get_mut(scope).and_then(|k| k.get_mut(key)) {
                *slot = v;
                return;
            }
            map.entry(scope.to_string())
                .or_default()
                .insert(key.to_string(), v);
        }
        None => {
            if let Some(keys) = map.get_mut(scope) {
                keys.remove(key);
                if keys.is_empty() {
                    map.remove(scope);
                }
            }
        }
    }
}

impl StateStore for MemoryStateStore {
    fn put(&self, scope: &str, key: &str, value: Value) -> Result<(), StateError> {
        write(&mut self.lock(), scope, key, Some(value));
        Ok(())
    }
    fn get(&self, scope: &str, key: &str) -> Result<Option<Value>, StateError> {
        Ok(self.lock().get(scope).and_then(|k| k.get(key)).cloned())
    }
    fn delete(&self, scope: &str, key: &str) -> Result<(), StateError> {
        write(&mut self.lock(), scope, key, None);
        Ok(())
    }
    fn incr(&self, scope: &str, key: &str, amount: i64) -> Result<i64, StateError> {
        fn bump(slot: &mut Value, amount: i64) -> Result<i64, StateError> {
            match slot {
                Value::Int(i) => {
                    *i = i.wrapping_add(amount);
                    Ok(*i)
                }
                _ => Err(StateError::NotAnInteger),
            }
        }
        let mut map = self.lock();
        if let Some(slot) = map.get_mut(scope).and_then(|k| k.get_mut(key)) {
            return bump(slot, amount);
        }
        let slot = map
            .entry(scope.to_string())
            .or_default()
            .entry(key.to_string())
            .or_insert(Value::Int(0));
        bump(slot, amount)
    }
    fn drop_scopes(&self, prefix: &str) -> Result<(), StateError> {
        self.lock().retain(|scope, _| !scope.starts_with(prefix));
        Ok(())
    }
    fn keys(&self, scope: &str) -> Result<Vec<String>, StateError> {
        let mut keys: Vec<String> = self
            .lock()
            .get(scope)
            .map(|k| k.keys().cloned().collect())
            .unwrap_or_default();
        keys.sort();
        Ok(keys)
    }
    fn commit(&self, writes: &[StateWrite]) -> Result<(), StateError> {
        self.commit_replacing(&[], writes)
    }
    fn commit_replacing(
        &self,
        drop_prefixes: &[String],
        writes: &[StateWrite],
    ) -> Result<(), StateError> {
        // One lock for the whole batch: no reader sees half of it.
        let mut map = self.lock();
        if !drop_prefixes.is_empty() {
            map.retain(|scope, _| !drop_prefixes.iter().any(|p| scope.starts_with(p)));
        }
        for w in writes {
            write(&mut map, &w.scope, &w.key, w.value.clone());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ekuiper_semantics() {
        let s = MemoryStateStore::default();
        assert_eq!(s.get("a", "k"), Ok(None));
        assert_eq!(s.counter("a", "c"), Ok(0));
        assert_eq!(s.incr("a", "c", 2), Ok(2));
        assert_eq!(s.incr("a", "c", 3), Ok(5));
        assert_eq!(s.counter("b", "c"), Ok(0), "scopes are separate");
        s.put("a", "k", Value::str("x")).expect("put");
        assert_eq!(s.incr("a", "k", 1), Err(StateError::NotAnInteger));
        s.delete("a", "k").expect("delete");
        assert_eq!(s.get("a", "k"), Ok(None));
        s.drop_scopes("a").expect("drop");
        assert_eq!(s.counter("a", "c"), Ok(0));
    }
}
