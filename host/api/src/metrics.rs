//! `/metrics`: Prometheus text of every rule's counters and every plugin's.

use crate::ApiState;
use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use std::fmt::Write;

/// A plugin's counters, gathered by whoever loaded it (the binary wires the tiers).
#[derive(Debug, Clone, Default)]
pub struct PluginStat {
    pub tier: String,
    /// `function`, `source`, `sink`.
    pub kind: String,
    pub name: String,
    pub version: String,
    pub calls: u64,
    pub rows: u64,
    pub errors: u64,
    pub restarts: u64,
    /// Mean time per call, in microseconds (0 when unmeasured).
    pub latency_us: u64,
    /// Wasm: memory of the plugin's live instances.
    pub memory_bytes: Option<u64>,
    /// Wasm: connections and requests refused by the plugin's network grants.
    pub network_denied: Option<u64>,
}

/// The labels of a plugin's series.
fn plugin_labels(p: &PluginStat) -> String {
    format!(
        "tier=\"{}\",kind=\"{}\",plugin=\"{}\",version=\"{}\"",
        label(&p.tier),
        label(&p.kind),
        label(&p.name),
        label(&p.version)
    )
}

fn family(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} {kind}");
}

fn label(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

pub async fn metrics(State(s): State<ApiState>) -> impl IntoResponse {
    let mut out = String::new();
    let rules = s.engine.rule_statuses();
    type Get = fn(&tributary_engine::metrics::MetricsSnapshot) -> u64;
    let counters: [(&str, &str, &str, Get); 7] = [
        (
            "tributary_rule_records_in_total",
            "counter",
            "Records the rule read.",
            |m| m.records_in,
        ),
        (
            "tributary_rule_records_out_total",
            "counter",
            "Rows the rule emitted.",
            |m| m.records_out,
        ),
        (
            "tributary_rule_errors_total",
            "counter",
            "Rows that failed in the rule.",
            |m| m.errors,
        ),
        (
            "tributary_rule_sink_failures_total",
            "counter",
            "Emissions a sink could not deliver.",
            |m| m.sink_failures,
        ),
        (
            "tributary_rule_restarts_total",
            "counter",
            "Restarts after a failure.",
            |m| m.restarts,
        ),
        (
            "tributary_rule_sink_held",
            "gauge",
            "Messages held by sinks whose destination fails.",
            |m| m.sink_held,
        ),
        (
            "tributary_rule_process_latency_us",
            "gauge",
            "Mean operator time per batch (µs).",
            |m| m.process_latency_us,
        ),
    ];
    for (name, kind, help, get) in counters {
        family(&mut out, name, kind, help);
        for (id, _, m) in &rules {
            let _ = writeln!(out, "{name}{{rule=\"{}\"}} {}", label(id), get(m));
        }
    }
    family(
        &mut out,
        "tributary_rule_last_start_seconds",
        "gauge",
        "When the rule last started (Unix time).",
    );
    for (id, _, m) in &rules {
        let _ = writeln!(
            out,
            "tributary_rule_last_start_seconds{{rule=\"{}\"}} {}",
            label(id),
            m.last_start_ms as f64 / 1000.0
        );
    }
    family(
        &mut out,
        "tributary_rule_running",
        "gauge",
        "1 while the rule runs.",
    );
    for (id, st, _) in &rules {
        let running = matches!(st, tributary_engine::engine::RuleStatus::Running) as u8;
        let _ = writeln!(
            out,
            "tributary_rule_running{{rule=\"{}\"}} {running}",
            label(id)
        );
    }
    family(
        &mut out,
        "tributary_connector_connected",
        "gauge",
        "Connection of a rule's connector: 1 connected, 0 connecting, -1 disconnected.",
    );
    for (id, _, _) in &rules {
        for (node, c) in s.engine.rule_connections(id).unwrap_or_default() {
            let _ = writeln!(
                out,
                "tributary_connector_connected{{rule=\"{}\",node=\"{}\"}} {}",
                label(id),
                label(&node),
                c.status
            );
        }
    }
    let plugins = (s.plugin_stats)();
    // A series is left out for a plugin whose tier does not have it (`None`).
    type PGet = fn(&PluginStat) -> Option<u64>;
    let families: [(&str, &str, &str, PGet); 7] = [
        (
            "tributary_plugin_calls_total",
            "counter",
            "Calls into the plugin.",
            |p| Some(p.calls),
        ),
        (
            "tributary_plugin_rows_total",
            "counter",
            "Rows the plugin processed.",
            |p| Some(p.rows),
        ),
        (
            "tributary_plugin_errors_total",
            "counter",
            "Failed calls or rows.",
            |p| Some(p.errors),
        ),
        (
            "tributary_plugin_restarts_total",
            "counter",
            "Instances re-created after a fault.",
            |p| Some(p.restarts),
        ),
        (
            "tributary_plugin_latency_us",
            "gauge",
            "Mean time per call (µs).",
            |p| Some(p.latency_us),
        ),
        (
            "tributary_plugin_memory_bytes",
            "gauge",
            "Memory of a wasm plugin's live instances.",
            |p| p.memory_bytes,
        ),
        (
            "tributary_plugin_network_denied_total",
            "counter",
            "Connections and requests a wasm plugin's network grants refused.",
            |p| p.network_denied,
        ),
    ];
    for (name, kind, help, get) in families {
        family(&mut out, name, kind, help);
        for p in &plugins {
            if let Some(v) = get(p) {
                let _ = writeln!(out, "{name}{{{}}} {v}", plugin_labels(p));
            }
        }
    }
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], out)
}
