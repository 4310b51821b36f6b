//! The built-in connectors as factories, registered by their eKuiper type names in
//! the engine's [`ConnectorRegistry`] beside plugin types: the engine finds every
//! connector the same way, and an unknown type's error lists them all.
//!
//! `props` are the connector's final props: for a source, the conf loaded with
//! [`load_source_conf`] with the stream's own options (e.g. `format`, `delimiter`)
//! laid over it.

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
use std::sync::Arc;
use tributary_core::connector::{
    ConnectorContext, Props, Sink, SinkFactory, Source, SourceFactory, Start,
};
use tributary_core::registry::ConnectorRegistry;
use tributary_core::Result;

type MakeSource =
    dyn Fn(&str, &Props, &ConnectorContext, u64) -> Result<Box<dyn Source>> + Send + Sync;
type MakeSink = dyn Fn(&Props, &ConnectorContext) -> Result<Box<dyn Sink>> + Send + Sync;

/// A built-in source type: its name and how to make one.
struct BuiltinSource {
    kind: &'static str,
    make: Box<MakeSource>,
}

impl SourceFactory for BuiltinSource {
    fn kind(&self) -> &str {
        self.kind
    }
    fn create(
        &self,
        datasource: &str,
        props: &Props,
        ctx: &ConnectorContext,
        start: &Start,
    ) -> Result<Box<dyn Source>> {
        (self.make)(datasource, props, ctx, start.messages)
    }
}

struct BuiltinSink {
    kind: &'static str,
    make: Box<MakeSink>,
}

impl SinkFactory for BuiltinSink {
    fn kind(&self) -> &str {
        self.kind
    }
    fn create(&self, props: &Props, ctx: &ConnectorContext) -> Result<Box<dyn Sink>> {
        (self.make)(props, ctx)
    }
}

/// Every built-in source type. The memory connectors share `hub`, the engine's
/// topic space; a rewindable source (file, simulator) skips `offset` rows.
pub fn builtin_sources(hub: &MemoryHub) -> Vec<Arc<dyn SourceFactory>> {
    let hub = hub.clone();
    let source = |kind: &'static str, make: Box<MakeSource>| {
        Arc::new(BuiltinSource { kind, make }) as Arc<dyn SourceFactory>
    };
    vec![
        source(
            "file",
            Box::new(|ds, props, ctx, offset| {
                Ok(Box::new(
                    FileSource::new(ds, props, ctx)?.with_offset(SourceOffset::new(offset)),
                ))
            }),
        ),
        source(
            "httppull",
            Box::new(|ds, props, ctx, _| {
                Ok(Box::new(crate::http_pull::HttpPullSource::new(
                    ds, props, ctx,
                )?))
            }),
        ),
        source(
            "httppush",
            Box::new(|ds, props, ctx, _| {
                Ok(Box::new(crate::http_push::HttpPushSource::new(
                    ds, props, ctx,
                )?))
            }),
        ),
        source(
            "memory",
            Box::new(move |ds, props, ctx, _| {
                Ok(Box::new(MemorySource::new(ds, props, ctx, &hub)?))
            }),
        ),
        source(
            "mqtt",
            Box::new(|ds, props, ctx, _| {
                Ok(Box::new(crate::mqtt_source::MqttSource::new(
                    ds, props, ctx,
                )?))
            }),
        ),
        source(
            "simulator",
            Box::new(|_, props, ctx, offset| {
                Ok(Box::new(
                    SimulatorSource::new(props, ctx)?.with_offset(SourceOffset::new(offset)),
                ))
            }),
        ),
    ]
}

/// Every built-in sink type.
pub fn builtin_sinks(hub: &MemoryHub) -> Vec<Arc<dyn SinkFactory>> {
    let hub = hub.clone();
    let sink = |kind: &'static str, make: Box<MakeSink>| {
        Arc::new(BuiltinSink { kind, make }) as Arc<dyn SinkFactory>
    };
    vec![
        sink(
            "file",
            Box::new(|props, ctx| Ok(Box::new(FileSink::new(props, ctx)?))),
        ),
        sink("log", Box::new(|_, ctx| Ok(Box::new(LogSink::new(ctx))))),
        sink(
            "memory",
            Box::new(move |props, ctx| Ok(Box::new(MemorySink::new(props, ctx, &hub)?))),
        ),
        sink(
            "mqtt",
            Box::new(|props, ctx| Ok(Box::new(crate::mqtt_sink::MqttSink::new(props, ctx)?))),
        ),
        sink(
            "nop",
            Box::new(|props, ctx| Ok(Box::new(NopSink::new(props, ctx)?))),
        ),
        sink(
            "rest",
            Box::new(|props, ctx| Ok(Box::new(crate::rest_sink::RestSink::new(props, ctx)?))),
        ),
    ]
}

/// A registry holding every built-in connector type.
pub fn with_builtins(hub: &MemoryHub) -> ConnectorRegistry {
    let reg = ConnectorRegistry::default();
    for f in builtin_sources(hub) {
        // Built-in names are distinct: the only error would be a duplicate.
        let _ = reg.builtin_source(f);
    }
    for f in builtin_sinks(hub) {
        let _ = reg.builtin_sink(f);
    }
    reg
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

    fn create_source(
        kind: &str,
        ds: &str,
        props: &Props,
        c: &ConnectorContext,
        hub: &MemoryHub,
    ) -> Result<Box<dyn Source>> {
        with_builtins(hub)
            .source(kind)?
            .create(ds, props, c, &Start::default())
    }

    fn create_sink(
        kind: &str,
        props: &Props,
        c: &ConnectorContext,
        hub: &MemoryHub,
    ) -> Result<Box<dyn Sink>> {
        with_builtins(hub).sink(kind)?.create(props, c)
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
        let reg = with_builtins(&hub);
        assert!(reg.has_source("File") && reg.has_sink("NOP") && !reg.has_sink("x"));
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
    async fn a_simulator_with_an_offset_and_no_sleep() {
        let c = ctx(std::path::Path::new("."));
        let mut props = Props::new();
        props.insert(
            "data".into(),
            tributary_core::json::parse(r#"[{"a":1},{"a":2}]"#).expect("json"),
        );
        props.insert("loop".into(), Value::Bool(false));
        let sleeper = NoSleep::new();
        let offset = SourceOffset::default();
        let source = SimulatorSource::new(&props, &c)
            .expect("source")
            .with_offset(offset.clone())
            .with_sleeper(Arc::new(sleeper.clone()));
        assert!(source.rewindable());
        let (tx, mut rx) = mpsc::channel(4);
        Box::new(source)
            .run(SourceSender::new(tx))
            .await
            .expect("run");
        let mut n = 0;
        while let Some(b) = rx.recv().await {
            n += b.len();
        }
        assert_eq!(n, 2);
        assert_eq!(offset.get(), 2);
        assert_eq!(sleeper.total_ms(), 10);
    }
}
