//! Per-plugin counters, shared by all instances of a plugin, for `/metrics` and the
//! plugin's status: calls, rows, errors, restarts, time spent, memory.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

/// Counters of one plugin (any tier, any kind).
#[derive(Debug, Default)]
pub struct PluginMetrics {
    pub calls: AtomicU64,
    pub rows: AtomicU64,
    pub errors: AtomicU64,
    pub restarts: AtomicU64,
    /// Time spent in calls, for the mean latency per call.
    pub busy_ns: AtomicU64,
    /// Linear memory of the plugin's live wasm instances, in bytes (a gauge).
    pub memory_bytes: AtomicU64,
    /// Connections and requests its network grants refused (wasm).
    pub network_denied: AtomicU64,
}

/// A copy of the counters at one moment (the API shows it under these names).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct MetricsSnapshot {
    pub calls: u64,
    pub rows: u64,
    pub errors: u64,
    pub restarts: u64,
    /// Mean time per call.
    pub latency_us: u64,
    pub memory_bytes: u64,
    pub network_denied: u64,
}

impl PluginMetrics {
    /// Counts one call over `rows` rows that started at `since`.
    pub fn call(&self, rows: usize, since: std::time::Instant) {
        self.calls.fetch_add(1, Relaxed);
        self.rows.fetch_add(rows as u64, Relaxed);
        self.busy_ns
            .fetch_add(since.elapsed().as_nanos() as u64, Relaxed);
    }

    pub fn add_errors(&self, n: usize) {
        if n > 0 {
            self.errors.fetch_add(n as u64, Relaxed);
        }
    }

    pub fn restarted(&self) {
        self.restarts.fetch_add(1, Relaxed);
    }

    pub fn snapshot(&self) -> MetricsSnapshot {
        let calls = self.calls.load(Relaxed);
        MetricsSnapshot {
            calls,
            rows: self.rows.load(Relaxed),
            errors: self.errors.load(Relaxed),
            restarts: self.restarts.load(Relaxed),
            latency_us: self.busy_ns.load(Relaxed) / calls.max(1) / 1000,
            memory_bytes: self.memory_bytes.load(Relaxed),
            network_denied: self.network_denied.load(Relaxed),
        }
    }
}
