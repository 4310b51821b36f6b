//! The recent log lines of each plugin, for `GET /plugins/{kind}/{name}/logs` and
//! `tributary plugin logs`: a plugin author reads what their plugin said (its
//! `context.log` lines, a wasm guest's stdout and stderr, the host's messages about
//! it: loaded, faulted, network denied) without access to the server's log files.
//!
//! A `tracing` layer keeps every event that carries a `plugin` field, at `info` and
//! above whatever the log filter says, in a bounded ring per plugin name. Events
//! tagged with a `kind` (the instance lines) belong to that kind only; the host's
//! lines about a plugin carry no kind and are shown for each kind of that name.

use std::collections::{HashMap, VecDeque};
use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock};
use tracing::field::{Field, Visit};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::layer::Context;
use tracing_subscriber::Layer;

/// Lines kept per plugin name (the oldest go first).
pub const LINES_PER_PLUGIN: usize = 1000;
/// Plugin names kept at most: lines of further names are not kept.
const MAX_PLUGINS: usize = 4096;
/// A longer message is cut to this many bytes.
const MAX_LINE: usize = 4096;

/// One kept line.
#[derive(Debug, Clone, serde::Serialize)]
pub struct LogLine {
    /// Increases by one with every line kept: `?after=` continues from it.
    pub seq: u64,
    /// RFC 3339, UTC.
    pub time: String,
    pub level: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rule: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub instance: Option<String>,
    /// The message, then the event's other fields as `key=value`.
    pub message: String,
}

/// Every plugin's recent lines.
#[derive(Default)]
pub struct PluginLogs {
    lines: Mutex<HashMap<String, VecDeque<LogLine>>>,
    seq: AtomicU64,
}

/// The process's store, fed by [`layer`].
pub fn global() -> &'static PluginLogs {
    static LOGS: OnceLock<PluginLogs> = OnceLock::new();
    LOGS.get_or_init(PluginLogs::default)
}

/// The layer that feeds [`global`], for the process's subscriber.
pub fn layer<S>() -> impl Layer<S>
where
    S: Subscriber + for<'span> tracing_subscriber::registry::LookupSpan<'span>,
{
    Keeper.with_filter(tracing_subscriber::filter::LevelFilter::INFO)
}

struct Keeper;

impl<S: Subscriber> Layer<S> for Keeper {
    fn on_event(&self, event: &Event<'_>, _ctx: Context<'_, S>) {
        let mut v = Fields::default();
        event.record(&mut v);
        if let Some(plugin) = v.plugin.take() {
            global().keep(plugin, *event.metadata().level(), v);
        }
    }
}

/// An event's fields, as the layer reads them.
#[derive(Default)]
struct Fields {
    plugin: Option<String>,
    kind: Option<String>,
    rule: Option<String>,
    instance: Option<String>,
    message: String,
    rest: String,
}

impl Visit for Fields {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.set(field, value.to_string());
    }

    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.set(field, format!("{value:?}"));
    }
}

impl Fields {
    fn set(&mut self, field: &Field, value: String) {
        match field.name() {
            "plugin" => self.plugin = Some(value),
            "kind" => self.kind = Some(value),
            "rule" if !value.is_empty() => self.rule = Some(value),
            "rule" => {}
            "instance" => self.instance = Some(value),
            "message" => self.message = value,
            other => {
                let _ = write!(self.rest, " {other}={value}");
            }
        }
    }
}

impl PluginLogs {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, VecDeque<LogLine>>> {
        // A line is pushed whole or not at all: a poisoned map is still sound.
        self.lines.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn keep(&self, plugin: String, level: Level, f: Fields) {
        let mut message = f.message + &f.rest;
        if message.len() > MAX_LINE {
            let mut cut = MAX_LINE;
            while !message.is_char_boundary(cut) {
                cut -= 1;
            }
            message.truncate(cut);
            message.push('…');
        }
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as i64)
            .unwrap_or(0);
        let mut map = self.lock();
        if !map.contains_key(&plugin) && map.len() >= MAX_PLUGINS {
            return;
        }
        let ring = map.entry(plugin).or_default();
        if ring.len() == LINES_PER_PLUGIN {
            ring.pop_front();
        }
        ring.push_back(LogLine {
            seq: self.seq.fetch_add(1, Ordering::Relaxed) + 1,
            time: tributary_core::json::format_datetime(now),
            level: level.to_string(),
            kind: f.kind,
            rule: f.rule,
            instance: f.instance,
            message,
        });
    }

    /// The last `lines` lines of plugin `name` of `kind` (`function`, `source`,
    /// `sink`) after line `after`, oldest first.
    pub fn of(&self, kind: &str, name: &str, lines: usize, after: u64) -> Vec<LogLine> {
        let map = self.lock();
        let Some(ring) = map.get(name) else {
            return Vec::new();
        };
        let mine: Vec<&LogLine> = ring
            .iter()
            .filter(|l| l.seq > after && l.kind.as_deref().is_none_or(|k| k == kind))
            .collect();
        let skip = mine.len().saturating_sub(lines);
        mine.into_iter().skip(skip).cloned().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tracing_subscriber::layer::SubscriberExt;

    #[test]
    fn lines_with_a_plugin_are_kept_by_name_and_kind() {
        let subscriber = tracing_subscriber::registry().with(layer());
        tracing::subscriber::with_default(subscriber, || {
            tracing::info!(
                plugin = "redis",
                kind = "sink",
                rule = "r1",
                instance = "i",
                "sent 3"
            );
            tracing::info!(
                plugin = "redis",
                kind = "source",
                rule = "r2",
                instance = "j",
                "got 1"
            );
            tracing::warn!(plugin = "redis", error = "boom", "plugin not loaded");
            tracing::debug!(plugin = "redis", kind = "sink", "too fine to keep");
            tracing::info!(unrelated = 1, "not a plugin's");
        });
        let sink = global().of("sink", "redis", 10, 0);
        let texts: Vec<&str> = sink.iter().map(|l| l.message.as_str()).collect();
        assert_eq!(texts, ["sent 3", "plugin not loaded error=boom"]);
        assert_eq!(sink[0].rule.as_deref(), Some("r1"));
        assert_eq!(sink[1].level, "WARN");
        let source = global().of("source", "redis", 1, 0);
        assert_eq!(source.len(), 1);
        assert_eq!(source[0].message, "plugin not loaded error=boom");
        // `after` continues from a line.
        assert!(global().of("sink", "redis", 10, sink[1].seq).is_empty());
        assert!(global().of("sink", "nobody", 10, 0).is_empty());
    }

    #[test]
    fn a_ring_keeps_the_latest_lines_and_cuts_long_ones() {
        let subscriber = tracing_subscriber::registry().with(layer());
        tracing::subscriber::with_default(subscriber, || {
            for i in 0..LINES_PER_PLUGIN + 5 {
                tracing::info!(plugin = "chatty", "line {i}");
            }
            tracing::info!(plugin = "long", "{}", "é".repeat(MAX_LINE));
        });
        let kept = global().of("function", "chatty", usize::MAX, 0);
        assert_eq!(kept.len(), LINES_PER_PLUGIN);
        assert_eq!(kept[0].message, "line 5");
        let long = &global().of("function", "long", 1, 0)[0].message;
        assert!(long.len() <= MAX_LINE + '…'.len_utf8() && long.ends_with('…'));
    }
}
