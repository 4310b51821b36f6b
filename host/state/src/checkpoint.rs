//! The state store seen by plugins when rules may checkpoint.
//!
//! A rule with `qos` ≥ 1 must not let plugin state run ahead of its checkpoint: after
//! a crash the rule resumes from the checkpointed source offsets, and the rows after
//! them are processed again, so the state they changed must be the state as it was at
//! the checkpoint. [`CheckpointStore`] wraps the durable store: writes to a scope of a
//! checkpointing rule (`rule/<id>/…`) are held in that rule's overlay, reads see the
//! overlay first, and [`CheckpointStore::commit`] writes the overlay together with the
//! source offsets in one atomic commit of the store. Every other scope (rules at qos 0,
//! singletons shared by all rules) is written through, as before.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock};
use tributary_core::state::{StateError, StateStore, StateWrite};
use tributary_core::Value;

/// A rule's writes since its last checkpoint: `None` is a deleted key.
type Overlay = HashMap<(String, String), Option<Value>>;

#[derive(Debug)]
pub struct CheckpointStore {
    inner: Arc<dyn StateStore>,
    overlays: RwLock<HashMap<String, Arc<Mutex<Overlay>>>>,
}

use tributary_core::scope::rule_of;

/// The scope of a rule's checkpoint records (source offsets).
pub fn checkpoint_scope(rule: &str) -> String {
    tributary_core::scope::checkpoint(rule)
}

fn lock(o: &Mutex<Overlay>) -> std::sync::MutexGuard<'_, Overlay> {
    // Every update of the map is one insert: a poisoned lock still holds a whole map.
    o.lock().unwrap_or_else(|e| e.into_inner())
}

impl CheckpointStore {
    pub fn new(inner: Arc<dyn StateStore>) -> Self {
        CheckpointStore {
            inner,
            overlays: RwLock::new(HashMap::new()),
        }
    }

    /// The durable store underneath.
    pub fn inner(&self) -> &Arc<dyn StateStore> {
        &self.inner
    }

    fn overlay(&self, scope: &str) -> Option<Arc<Mutex<Overlay>>> {
        let rule = rule_of(scope)?;
        let map = self.overlays.read().unwrap_or_else(|e| e.into_inner());
        map.get(rule).cloned()
    }

    /// Starts holding the writes of `rule` until its next commit. Whatever an earlier
    /// run of the rule left uncommitted is discarded: it is past the checkpoint the
    /// new run resumes from.
    pub fn begin(&self, rule: &str) {
        let mut map = self.overlays.write().unwrap_or_else(|e| e.into_inner());
        map.insert(rule.to_string(), Arc::new(Mutex::new(Overlay::new())));
    }

    /// Stops holding the writes of `rule`; uncommitted ones are dropped.
    pub fn end(&self, rule: &str) {
        let mut map = self.overlays.write().unwrap_or_else(|e| e.into_inner());
        map.remove(rule);
    }

    /// Writes the rule's held state and `extra` (its source offsets) in one atomic
    /// commit. On failure the held writes stay held, for the next checkpoint.
    /// Returns how many state keys were written.
    pub fn commit(&self, rule: &str, extra: Vec<StateWrite>) -> Result<usize, StateError> {
        let Some(overlay) = self
            .overlays
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(rule)
            .cloned()
        else {
            return self.inner.commit(&extra).map(|_| 0);
        };
        let mut held = lock(&overlay);
        let n = held.len();
        let mut writes: Vec<StateWrite> = held
            .iter()
            .map(|((scope, key), value)| StateWrite {
                scope: scope.clone(),
                key: key.clone(),
                value: value.clone(),
            })
            .collect();
        writes.extend(extra);
        self.inner.commit(&writes)?;
        held.clear();
        Ok(n)
    }

    /// A record of the rule's last checkpoint (`sink/<i>`: a sink's position).
    pub fn record(&self, rule: &str, key: &str) -> Result<Option<Value>, StateError> {
        self.inner.get(&checkpoint_scope(rule), key)
    }

    /// The committed offsets of a rule, by stream index.
    pub fn offsets(&self, rule: &str) -> Result<HashMap<usize, u64>, StateError> {
        let scope = checkpoint_scope(rule);
        let mut out = HashMap::new();
        for key in self.inner.keys(&scope)? {
            let Some(i) = key.strip_prefix("offset/").and_then(|i| i.parse().ok()) else {
                continue;
            };
            if let Some(Value::Int(n)) = self.inner.get(&scope, &key)? {
                out.insert(i, u64::try_from(n).unwrap_or(0));
            }
        }
        Ok(out)
    }
}

impl StateStore for CheckpointStore {
    fn put(&self, scope: &str, key: &str, value: Value) -> Result<(), StateError> {
        match self.overlay(scope) {
            Some(o) => {
                lock(&o).insert((scope.to_string(), key.to_string()), Some(value));
                Ok(())
            }
            None => self.inner.put(scope, key, value),
        }
    }

    fn get(&self, scope: &str, key: &str) -> Result<Option<Value>, StateError> {
        if let Some(o) = self.overlay(scope) {
            if let Some(v) = lock(&o).get(&(scope.to_string(), key.to_string())) {
                return Ok(v.clone());
            }
        }
        self.inner.get(scope, key)
    }

    fn delete(&self, scope: &str, key: &str) -> Result<(), StateError> {
        match self.overlay(scope) {
            Some(o) => {
                lock(&o).insert((scope.to_string(), key.to_string()), None);
                Ok(())
            }
            None => self.inner.delete(scope, key),
        }
    }

    fn incr(&self, scope: &str, key: &str, amount: i64) -> Result<i64, StateError> {
        let Some(o) = self.overlay(scope) else {
            return self.inner.incr(scope, key, amount);
        };
        let k = (scope.to_string(), key.to_string());
        // The overlay lock is held across the read of the store, so two calls on one
        // key cannot both read the old value.
        let mut held = lock(&o);
        let current = match held.get(&k) {
            Some(v) => v.clone(),
            None => self.inner.get(scope, key)?,
        };
        let n = match current {
            None => 0,
            Some(Value::Int(i)) => i,
            Some(_) => return Err(StateError::NotAnInteger),
        };
        let sum = n
            .checked_add(amount)
            .ok_or_else(|| StateError::Store("counter overflow".into()))?;
        held.insert(k, Some(Value::Int(sum)));
        Ok(sum)
    }

    fn drop_scopes(&self, prefix: &str) -> Result<(), StateError> {
        for o in self
            .overlays
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .values()
        {
            lock(o).retain(|(scope, _), _| !scope.starts_with(prefix));
        }
        self.inner.drop_scopes(prefix)
    }

    fn commit(&self, writes: &[StateWrite]) -> Result<(), StateError> {
        self.inner.commit(writes)
    }

    fn commit_replacing(
        &self,
        drop_prefixes: &[String],
        writes: &[StateWrite],
    ) -> Result<(), StateError> {
        self.inner.commit_replacing(drop_prefixes, writes)?;
        for o in self
            .overlays
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .values()
        {
            lock(o).retain(|(scope, _), _| !drop_prefixes.iter().any(|p| scope.starts_with(p)));
        }
        Ok(())
    }

    fn keys(&self, scope: &str) -> Result<Vec<String>, StateError> {
        let mut keys = self.inner.keys(scope)?;
        if let Some(o) = self.overlay(scope) {
            for ((s, k), v) in lock(&o).iter() {
                if s == scope {
                    match v {
                        Some(_) => keys.push(k.clone()),
                        None => keys.retain(|x| x != k),
                    }
                }
            }
            keys.sort();
            keys.dedup();
        }
        Ok(keys)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tributary_core::state::MemoryStateStore;

    fn store() -> CheckpointStore {
        CheckpointStore::new(Arc::new(MemoryStateStore::default()))
    }

    #[test]
    fn conforms_with_and_without_an_overlay() {
        let s = store();
        crate::conformance::run(&s, "plain");
        s.begin("a");
        s.begin("b");
        crate::conformance::run(&s, "held");
    }

    #[test]
    fn a_checkpointing_rule_writes_only_at_commit() {
        let s = store();
        s.begin("r");
        assert_eq!(s.incr("rule/r/function/0/f", "n", 2), Ok(2));
        assert_eq!(s.incr("rule/r/function/0/f", "n", 3), Ok(5));
        s.delete("rule/r/function/0/f", "gone").expect("delete");
        assert_eq!(s.incr("rule/q/function/0/f", "n", 1), Ok(1));
        assert_eq!(s.inner().counter("rule/r/function/0/f", "n"), Ok(0));
        assert_eq!(s.inner().counter("rule/q/function/0/f", "n"), Ok(1));
        let offset = StateWrite {
            scope: checkpoint_scope("r"),
            key: "offset/0".into(),
            value: Some(Value::Int(9)),
        };
        assert_eq!(s.commit("r", vec![offset]), Ok(2));
        assert_eq!(s.inner().counter("rule/r/function/0/f", "n"), Ok(5));
        assert_eq!(s.offsets("r").expect("offsets").get(&0), Some(&9));
        // Writes after the commit are lost with the run, as a crash would lose them.
        assert_eq!(s.incr("rule/r/function/0/f", "n", 1), Ok(6));
        s.end("r");
        assert_eq!(s.counter("rule/r/function/0/f", "n"), Ok(5));
    }
}
