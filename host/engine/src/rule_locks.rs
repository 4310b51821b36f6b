//! Serialising the operations on one rule.
//!
//! A rule's update, delete, start, stop and restart each await (a stop waits for the
//! sinks to flush), so two of them on one id can interleave: an update that stopped
//! the rule could write the catalog after a delete removed it, and the rule would be
//! back after a restart. Every such operation holds the rule's lock from start to
//! end, so they happen one after another; operations on other rules go on. An import,
//! which replaces every rule, holds all of them.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use tokio::sync::{Mutex as AsyncMutex, OwnedMutexGuard, OwnedRwLockReadGuard, RwLock};

/// The locks of every rule id, and the one that holds them all.
#[derive(Debug, Default)]
pub struct RuleLocks {
    all: Arc<RwLock<()>>,
    ids: Mutex<HashMap<String, Arc<AsyncMutex<()>>>>,
}

/// Held while one operation on one rule runs.
#[derive(Debug)]
pub struct RuleGuard {
    _id: OwnedMutexGuard<()>,
    _all: OwnedRwLockReadGuard<()>,
}

/// Held while an operation on every rule (an import) runs.
#[derive(Debug)]
pub struct AllRulesGuard {
    _all: tokio::sync::OwnedRwLockWriteGuard<()>,
}

impl RuleLocks {
    /// Waits until no other operation on rule `id` (or on all rules) runs.
    pub async fn lock(&self, id: &str) -> RuleGuard {
        let all = self.all.clone().read_owned().await;
        let m = {
            let mut ids = self.ids.lock().unwrap_or_else(|e| e.into_inner());
            // Forget the locks nobody holds or waits for, so the map stays as small
            // as the set of rules being worked on.
            ids.retain(|_, m| Arc::strong_count(m) > 1);
            ids.entry(id.to_string()).or_default().clone()
        };
        RuleGuard {
            _id: m.lock_owned().await,
            _all: all,
        }
    }

    /// Waits until no operation on any rule runs, and keeps new ones waiting.
    pub async fn lock_all(&self) -> AllRulesGuard {
        AllRulesGuard {
            _all: self.all.clone().write_owned().await,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[tokio::test]
    async fn one_rule_at_a_time_others_go_on() {
        let locks = Arc::new(RuleLocks::default());
        let first = locks.lock("r").await;
        let l = locks.clone();
        let waiter = tokio::spawn(async move { l.lock("r").await });
        tokio::time::sleep(Duration::from_millis(20)).await;
        assert!(!waiter.is_finished(), "a second operation on r waits");
        let _other = tokio::time::timeout(Duration::from_secs(1), locks.lock("q"))
            .await
            .expect("another rule is not held up");
        drop(first);
        tokio::time::timeout(Duration::from_secs(1), waiter)
            .await
            .expect("it goes once the first ends")
            .expect("task");
    }

    #[tokio::test]
    async fn an_import_waits_for_every_rule_operation() {
        let locks = Arc::new(RuleLocks::default());
        let op = locks.lock("r").await;
        let l = locks.clone();
        let import = tokio::spawn(async move { l.lock_all().await });
        tokio::time::sleep(Duration::from_millis(20)).await;
        assert!(!import.is_finished());
        drop(op);
        tokio::time::timeout(Duration::from_secs(1), import)
            .await
            .expect("the import goes")
            .expect("task");
    }
}
