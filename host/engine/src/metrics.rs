//! Per-rule counters, updated lock-free by the rule's stages and read by status calls.

use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use tributary_core::connection::{ConnectionSnapshot, ConnectionStatus};

#[derive(Debug, Default)]
pub struct RuleMetrics {
    pub records_in: AtomicU64,
    pub records_out: AtomicU64,
    pub errors: AtomicU64,
    pub emissions: AtomicU64,
    /// Emissions a sink could not deliver after its retries (logged, never silent).
    pub sink_failures: AtomicU64,
    /// Messages the sinks hold because their destination would not take them.
    pub sink_held: AtomicU64,
    /// Times the rule was restarted after a failure (`restartStrategy`).
    pub restarts: AtomicU64,
    pub last_emit_ms: AtomicI64,
    /// When the rule last started (epoch ms).
    pub last_start_ms: AtomicI64,
    /// Time the operators spent on batches, and how many batches they processed.
    pub process_ns: AtomicU64,
    pub batches: AtomicU64,
    /// The connection status of each connector, by node name (`source_s_0`,
    /// `sink_mqtt_0_0`), replaced whenever the pipeline is built.
    connections: Mutex<Vec<(String, Arc<ConnectionStatus>)>>,
    /// How each sink delivers, by node name, replaced whenever the pipeline is built.
    sinks: Mutex<Vec<(String, Arc<SinkMetrics>)>>,
    /// The last row error and when (epoch ms): the status shows why rows fail (a
    /// plugin's trap with what the guest wrote, a type error), not only how many.
    last_error: Mutex<Option<(String, i64)>>,
    /// Rows dropped on purpose: by WHERE, or skipped by a function (rules whose
    /// operators map each row to at most one row, so that
    /// `records_in = records_out + errors + filtered`).
    pub filtered: AtomicU64,
}

/// How one sink delivers: what a rule's status shows of it.
#[derive(Debug, Default)]
pub struct SinkMetrics {
    /// Messages the destination took.
    pub delivered: AtomicU64,
    /// Delivery attempts that failed (each retry counts).
    pub exceptions: AtomicU64,
    /// The last failure and when (epoch ms), for the status.
    pub last_exception: Mutex<Option<(String, i64)>>,
    /// Whether the last attempt failed (the sink holds messages it retries).
    pub failing: std::sync::atomic::AtomicBool,
}

impl SinkMetrics {
    pub fn ok(&self, n: u64) {
        self.delivered.fetch_add(n, Ordering::Relaxed);
        self.failing.store(false, Ordering::Relaxed);
    }

    pub fn failed(&self, error: &str, now_ms: i64) {
        self.exceptions.fetch_add(1, Ordering::Relaxed);
        self.failing.store(true, Ordering::Relaxed);
        if let Ok(mut l) = self.last_exception.lock() {
            *l = Some((error.to_string(), now_ms));
        }
    }
}

/// A copy of one sink's delivery counters.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SinkSnapshot {
    pub delivered: u64,
    pub exceptions: u64,
    pub last_exception: String,
    pub last_exception_ms: i64,
    pub failing: bool,
}

/// A point-in-time copy of [`RuleMetrics`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MetricsSnapshot {
    pub records_in: u64,
    pub records_out: u64,
    pub errors: u64,
    pub emissions: u64,
    pub sink_failures: u64,
    pub sink_held: u64,
    /// Failed delivery attempts of every sink.
    pub sink_exceptions: u64,
    pub restarts: u64,
    pub filtered: u64,
    pub last_emit_ms: i64,
    pub last_start_ms: i64,
    /// Mean operator time per batch, in microseconds.
    pub process_latency_us: u64,
    pub batches: u64,
}

impl RuleMetrics {
    pub fn set_connections(&self, c: Vec<(String, Arc<ConnectionStatus>)>) {
        if let Ok(mut l) = self.connections.lock() {
            *l = c;
        }
    }

    /// The connectors that report a connection, and its state now.
    pub fn connections(&self) -> Vec<(String, ConnectionSnapshot)> {
        self.connections
            .lock()
            .map(|l| {
                l.iter()
                    .filter_map(|(n, c)| c.snapshot().map(|s| (n.clone(), s)))
                    .collect()
            })
            .unwrap_or_default()
    }

    pub fn set_sinks(&self, s: Vec<(String, Arc<SinkMetrics>)>) {
        if let Ok(mut l) = self.sinks.lock() {
            *l = s;
        }
    }

    /// Every sink's delivery counters now, by node name.
    pub fn sinks(&self) -> Vec<(String, SinkSnapshot)> {
        self.sinks
            .lock()
            .map(|l| {
                l.iter()
                    .map(|(n, m)| {
                        let (last, at) = m
                            .last_exception
                            .lock()
                            .ok()
                            .and_then(|g| g.clone())
                            .unwrap_or_default();
                        let snap = SinkSnapshot {
                            delivered: m.delivered.load(Ordering::Relaxed),
                            exceptions: m.exceptions.load(Ordering::Relaxed),
                            last_exception: last,
                            last_exception_ms: at,
                            failing: m.failing.load(Ordering::Relaxed),
                        };
                        (n.clone(), snap)
                    })
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Notes `error` as the rule's last row error, at `at_ms`.
    pub fn note_error(&self, error: &str, at_ms: i64) {
        if let Ok(mut l) = self.last_error.lock() {
            *l = Some((error.to_string(), at_ms));
        }
    }

    /// The last row error and when (epoch ms); empty and 0 before the first.
    pub fn last_error(&self) -> (String, i64) {
        self.last_error
            .lock()
            .ok()
            .and_then(|l| l.clone())
            .unwrap_or_default()
    }

    pub fn add(counter: &AtomicU64, n: u64) {
        counter.fetch_add(n, Ordering::Relaxed);
    }
    pub fn snapshot(&self) -> MetricsSnapshot {
        MetricsSnapshot {
            records_in: self.records_in.load(Ordering::Relaxed),
            records_out: self.records_out.load(Ordering::Relaxed),
            errors: self.errors.load(Ordering::Relaxed),
            emissions: self.emissions.load(Ordering::Relaxed),
            sink_failures: self.sink_failures.load(Ordering::Relaxed),
            sink_held: self.sink_held.load(Ordering::Relaxed),
            sink_exceptions: self.sinks().iter().map(|(_, s)| s.exceptions).sum(),
            restarts: self.restarts.load(Ordering::Relaxed),
            filtered: self.filtered.load(Ordering::Relaxed),
            last_emit_ms: self.last_emit_ms.load(Ordering::Relaxed),
            last_start_ms: self.last_start_ms.load(Ordering::Relaxed),
            process_latency_us: match self.batches.load(Ordering::Relaxed) {
                0 => 0,
                n => self.process_ns.load(Ordering::Relaxed) / n / 1000,
            },
            batches: self.batches.load(Ordering::Relaxed),
        }
    }
}
