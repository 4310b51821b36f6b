//! Creating built-in connectors by their eKuiper type name.
//!
//! The engine resolves a stream's `TYPE` (and an action's key) here. `props` are the
//! connector's final props: for a source, the conf loaded with
//! [`load_source_conf`] with the stream's own options
//! (e.g. `format`, `delimiter`) laid over it.

pub use crate::conf::load_source_conf;
use crate::file_sink::FileSink;
use crate::file_source::FileSource;
use crate::log_sink::LogSink;
use crate::memory::MemoryHub;
use crate::memory_sink::MemorySink;
use crate::memory_source::MemorySource;
use crate::nop_sink::NopSink;
use crate::offset::SourceOffset;
use crate::simulator::SimulatorSource;
use crate::sleep::{Sleeper, TokioSleeper};
use std::sync::Arc;
use tributary_core::connector::{ConnectorContext, Props, Sink, Source};
use tributary_core::{Error, Result};

/// The built-in source types.
pub const SOURCE_KINDS: &[&str] = &[
    "file",
    "httppull",
    "httppush",
    "memory",
    "mqtt",
    "simulator",
];

/// The built-in sink types.
pub const SINK_KINDS: &[&str] = &["file", "log", "memory", "mqtt", "nop", "rest"];

/// How a source is started: where to resume, and how to wait.
#[derive(Debug, Clone)]
pub struct SourceOptions {
    /// Rows already consumed, for a rewindable source to skip (and keep counting in).
    pub offset: SourceOffset,
    /// The wait used for `interval`/`sendInterval`.
    pub sleeper: Arc<dyn Sleeper>,
}

impl Default for SourceOptions {
    fn default() -> Self {
        SourceOptions {
            offset: SourceOffset::default(),
            sleeper: Arc::new(TokioSleeper),
        }
    }
}

/// Whether `kind` names a built-in source.
pub fn is_source_kind(kind: &str) -> bool {
    SOURCE_KINDS.contains(&kind.to_ascii_lowercase().as_str())
}

/// Whether `kind` names a built-in sink.
pub fn is_sink_kind(kind: &str) -> bool {
    SINK_KINDS.contains(&kind.to_ascii_lowercase().as_str())
}

/// Creates a source with the default options (start at the beginning, real waits).
pub fn create_source(
    kind: &str,
    datasource: &str,
    props: &Props,
    ctx: &ConnectorContext,
    hub: &MemoryHub,
) -> Result<Box<dyn Source>> {
    create_source_with(kind, datasource, props, ctx, hub, SourceOptions::default())
}

/// Creates a source. `kind` is matched case-insensitively.
pub fn create_source_with(
    kind: &str,
    datasource: &str,
    props: &Props,
    ctx: &ConnectorContext,
    hub: &MemoryHub,
    options: SourceOptions,
) -> Result<Box<dyn Source>> {
    match kind.to_ascii_lowercase().as_str() {
        "file" => Ok(Box::new(
            FileSource::new(datasource, props, ctx)?
                .with_offset(options.offset)
                .with_sleeper(options.sleeper),
        )),
        "memory" => Ok(Box::new(MemorySource::new(datasource, props, ctx, hub)?)),
        "httppull" => Ok(Box::new(crate::http_pull::HttpPullSource::new(
            datasource, props, ctx,
        )?)),
        "httppush" => Ok(Box::new(crate::http_push::HttpPushSource::new(
            datasource, props, ctx,
        )?)),
        "mqtt" => Ok(Box::new(crate::mqtt_source::MqttSource::new(
            datasource, props, ctx,
        )?)),
        "simulator" => Ok(Box::new(
            SimulatorSource::new(props, ctx)?
                .with_offset(options.offset)
                .with_sleeper(options.sleeper),
        )),
        _ => Err(Error::not_found(format!(
            "unknown source type \"{kind}\"; available: {}",
            SOURCE_KINDS.join(", ")
        ))),
    }
}

/// Creates a sink. `kind` is matched case-insensitively.
pub fn create_sink(
    kind: &str,
    props: &Props,
    ctx: &ConnectorContext,
    hub: &MemoryHub,
) -> Result<Box<dyn Sink>> {
    match kind.to_ascii_lowercase().as_str() {
        "file" => Ok(Box::new(FileSink::new(props, ctx)?)),
        "log" => Ok(Box::new(LogSink::new(ctx))),
        "memory" => Ok(Box::new(MemorySink::new(props, ctx, hub)?)),
        "mqtt" => Ok(Box::new(crate::mqtt_sink::MqttSink::new(props, ctx)?)),
        "rest" => Ok(Box::new(crate::rest_sink::RestSink::new(props, ctx)?)),
        "nop" => Ok(Box::new(NopSink::new(props, ctx)?)),
        _ => Err(Error::not_found(format!(
            "unknown sink type \"{kind}\"; available: {}",
            SINK_KINDS.join(", ")
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sleep::NoSleep;
    use tokio::sync::mpsc;
    use tributary_core::connector::{Payload, SinkData, SourceSender};
    use tributary_core::{MockClock, Value};

    fn ctx(root: &std::path::Path) -> ConnectorContext {
        ConnectorContext {
            rule_id: "r1".into(),
            root: root.to_path_buf(),
            clock: Arc::new(MockClock::new(0)),
            connection: Default::default(),
        }
    }

    #[test]
    fn unknown_kinds_list_the_available_ones() {
        let hub = MemoryHub::new();
        let c = ctx(std::path::Path::new("."));
        let err = create_source("x", "", &Props::new(), &c, &hub)
            .err()
            .expect("unknown source");
        assert_eq!(
            err.to_string(),
            "unknown source type \"x\"; available: file, httppull, httppush, memory, mqtt, simulator"
        );
        let err = create_sink("kafka", &Props::new(), &c, &hub)
            .err()
            .expect("unknown sink");
        assert_eq!(
            err.to_string(),
            "unknown sink type \"kafka\"; available: file, log, memory, mqtt, nop, rest"
        );
        assert!(is_source_kind("File") && is_sink_kind("NOP") && !is_sink_kind("x"));
    }

    #[test]
    fn bad_props_name_the_prop() {
        let hub = MemoryHub::new();
        let c = ctx(std::path::Path::new("."));
        let mut props = Props::new();
        props.insert("data".into(), Value::str("not a record"));
        let err = create_source("simulator", "", &props, &c, &hub)
            .err()
            .expect("bad data");
        assert!(err.to_string().contains("\"data\""), "{err}");
        let err = create_sink("memory", &Props::new(), &c, &hub)
            .err()
            .expect("no topic");
        assert!(err.to_string().contains("\"topic\""), "{err}");
    }

    /// A rule pipeline through the hub: memory sink -> memory source.
    #[tokio::test]
    async fn memory_sink_feeds_memory_source() {
        let hub = MemoryHub::new();
        let c = ctx(std::path::Path::new("."));
        let source = create_source("memory", "pipe/#", &Props::new(), &c, &hub).expect("src");
        let mut props = Props::new();
        props.insert("topic".into(), Value::str("pipe/a"));
        let mut sink = create_sink("memory", &props, &c, &hub).expect("sink");
        let (tx, mut rx) = mpsc::channel(4);
        let task = tokio::spawn(source.run(SourceSender::new(tx)));
        let row = tributary_core::json::parse(r#"{"x":1}"#).expect("json");
        sink.collect(&SinkData::Value(row)).await.expect("collect");
        let batch = rx.recv().await.expect("batch");
        assert!(matches!(&batch[0].payload, Payload::Row(r) if r.get("x") == Some(&Value::Int(1))));
        task.abort();
    }

    #[tokio::test]
    async fn simulator_through_registry_with_options() {
        let hub = MemoryHub::new();
        let c = ctx(std::path::Path::new("."));
        let mut props = Props::new();
        props.insert(
            "data".into(),
            tributary_core::json::parse(r#"[{"a":1},{"a":2}]"#).expect("json"),
        );
        props.insert("loop".into(), Value::Bool(false));
        let sleeper = NoSleep::new();
        let options = SourceOptions {
            offset: SourceOffset::default(),
            sleeper: Arc::new(sleeper.clone()),
        };
        let offset = options.offset.clone();
        let source =
            create_source_with("simulator", "", &props, &c, &hub, options).expect("source");
        assert!(source.rewindable());
        let (tx, mut rx) = mpsc::channel(4);
        source.run(SourceSender::new(tx)).await.expect("run");
        let mut n = 0;
        while let Some(b) = rx.recv().await {
            n += b.len();
        }
        assert_eq!(n, 2);
        assert_eq!(offset.get(), 2);
        assert_eq!(sleeper.total_ms(), 10);
    }
}
