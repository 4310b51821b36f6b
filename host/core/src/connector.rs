//! The source and sink contracts. Built-in connectors and plugin tiers implement them;
//! the engine knows connectors only through these traits.
//!
//! Both are batch-first: a source hands over many messages per send, a sink receives a
//! whole emission (one or many rows) per call. Channels are bounded, so a slow sink
//! slows the source instead of losing rows.

use crate::row::Meta;
use crate::value::{Object, Value};
use crate::Result;
use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use tokio::sync::mpsc;

/// A boxed future, so the traits stay object-safe.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Connector properties: eKuiper's YAML/JSON props, kept as values.
pub type Props = BTreeMap<String, Value>;

/// A message body as a source produced it.
#[derive(Debug, Clone, PartialEq)]
pub enum Payload {
    /// Raw bytes, decoded by the stream's FORMAT (json, binary, delimited).
    Bytes(Vec<u8>),
    /// A row as another rule produced it (memory topics): passed on without
    /// conversion.
    Row(Arc<crate::Row>),
    /// An already structured message (memory source, simulator, JSON/CSV files).
    /// Shared, so a source that keeps its records (memory topics, the simulator)
    /// hands them over without copying.
    Object(Arc<Object>),
}

/// One message from a source.
#[derive(Debug, Clone, PartialEq)]
pub struct SourceMessage {
    pub payload: Payload,
    pub meta: Meta,
    /// Processing time in epoch ms, stamped by the source from the engine clock.
    pub timestamp: i64,
    /// Which of the rule's streams (FROM first, then JOINs) the message belongs to, for
    /// a source that feeds several (the trial's mock source); every other source feeds
    /// one stream and leaves 0.
    pub stream: usize,
    /// Where the source stands after this message, in its own terms (a plugin
    /// source's offset), on the last message of each batch it pulled. A resumed rule
    /// hands the one of the last message its checkpoint covered back to the source
    /// ([`Start::position`]). Sources that count messages instead leave `None`.
    pub position: Option<Arc<str>>,
}

impl SourceMessage {
    /// A message of stream 0 without a position.
    pub fn new(payload: Payload, meta: Meta, timestamp: i64) -> Self {
        SourceMessage {
            payload,
            meta,
            timestamp,
            stream: 0,
            position: None,
        }
    }
}

/// Where a source starts: where a resumed rule's checkpoint left its stream.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Start {
    /// Messages of the stream already consumed (0 on a fresh start), for a source
    /// that rewinds by skipping (file, memory, simulator).
    pub messages: u64,
    /// The position of the last consumed message, for a source that keeps its own
    /// offsets ([`SourceMessage::position`]).
    pub position: Option<String>,
}

/// The sending half a source writes to. `send` waits when the rule is behind.
#[derive(Debug, Clone)]
pub struct SourceSender {
    tx: mpsc::Sender<Vec<SourceMessage>>,
    /// The rule stream this sender feeds; stamped on every message it sends.
    stream: usize,
}

impl SourceSender {
    pub fn new(tx: mpsc::Sender<Vec<SourceMessage>>) -> Self {
        SourceSender { tx, stream: 0 }
    }
    /// A sender feeding stream `stream` of a rule with JOINs.
    pub fn for_stream(mut self, stream: usize) -> Self {
        self.stream = stream;
        self
    }
    /// Sends a batch. Returns `false` when the rule has stopped listening; the source
    /// should then return.
    pub async fn send(&self, mut batch: Vec<SourceMessage>) -> bool {
        if batch.is_empty() {
            return true;
        }
        if self.stream != 0 {
            for m in batch.iter_mut() {
                m.stream = self.stream;
            }
        }
        self.tx.send(batch).await.is_ok()
    }
}

/// What a connector gets to know about where it runs.
#[derive(Debug, Clone)]
pub struct ConnectorContext {
    pub rule_id: String,
    /// The engine root (`<root>/etc/...` holds connector configs).
    pub root: std::path::PathBuf,
    pub clock: Arc<dyn crate::Clock>,
    /// Where a connector that keeps a connection reports its state (the rule's
    /// status shows it); each connector of a rule has its own.
    pub connection: Arc<crate::connection::ConnectionStatus>,
}

/// A source of messages. `run` is called once, in a task of its own, and returns when
/// the input ends (a finite file) or when the receiver is gone.
pub trait Source: Send {
    fn run(self: Box<Self>, out: SourceSender) -> BoxFuture<'static, Result<()>>;
    /// Whether the source can be rewound to an offset (file, memory, simulator).
    fn rewindable(&self) -> bool {
        false
    }
}

/// The rows of one emission. Most emissions of a non-window rule hold one row, so
/// that case needs no allocation of its own.
#[derive(Debug, Clone, PartialEq)]
pub enum Rows {
    One(crate::Row),
    Many(Arc<Vec<crate::Row>>),
}

impl Rows {
    pub fn as_slice(&self) -> &[crate::Row] {
        match self {
            Rows::One(r) => std::slice::from_ref(r),
            Rows::Many(v) => v,
        }
    }
    pub fn len(&self) -> usize {
        self.as_slice().len()
    }
    pub fn is_empty(&self) -> bool {
        self.as_slice().is_empty()
    }
}

/// One emission of a rule: its rows, or an error (under `sendError`).
#[derive(Debug, Clone, PartialEq)]
pub enum Emission {
    Rows(Rows),
    Error(String),
}

/// A destination of emissions.
pub trait Sink: Send {
    /// Connects before the first emission: called once when the rule starts, so a
    /// sink that cannot open (bad props, a server away) says so then, not at its
    /// first row. An error is logged; the first delivery opens again and fails or
    /// retries as a delivery does. A sink that connects in `collect` does nothing.
    fn open(&mut self) -> BoxFuture<'_, Result<()>> {
        Box::pin(async { Ok(()) })
    }
    /// Delivers an emission (already shaped by the common sink props). An error is
    /// retried by the caller according to the sink's retry settings.
    fn collect<'a>(&'a mut self, data: &'a SinkData) -> BoxFuture<'a, Result<()>>;
    /// Flushes buffered output; called on clean stop.
    fn close(&mut self) -> BoxFuture<'_, Result<()>> {
        Box::pin(async { Ok(()) })
    }
    /// Makes everything collected so far durable at the destination; called at a
    /// checkpoint, which counts those rows as delivered. A sink that delivers in
    /// `collect` has nothing to do.
    fn flush(&mut self) -> BoxFuture<'_, Result<()>> {
        Box::pin(async { Ok(()) })
    }
    /// Where the output stands after a flush, saved with a checkpoint (the file sink:
    /// its file and length). `None`: the sink cannot go back to a position.
    fn position(&self) -> Option<crate::Value> {
        None
    }
    /// Called once before the first emission when the rule resumes from a checkpoint
    /// that saved `position`: a sink that can drops what it wrote after it, so the
    /// rows replayed from the checkpoint are written once (exactly-once).
    fn resume(&mut self, _position: &crate::Value) -> Result<()> {
        Ok(())
    }
}

/// What a sink receives after the common props (`fields`, `dataTemplate`,
/// `sendSingle`) have been applied. Rows stay rows until a sink needs text or values,
/// so a sink that only counts or forwards them pays nothing for encoding.
#[derive(Debug, Clone, PartialEq)]
pub enum SinkData {
    /// One row (`sendSingle`): encodes as a JSON object.
    Row(crate::Row),
    /// An emission's rows: encodes as a JSON array of objects.
    Rows(Rows),
    /// A single row or an array of rows, as a value.
    Value(Value),
    /// The output of `dataTemplate`.
    Text(String),
}

impl SinkData {
    /// The text a byte-oriented sink (file, MQTT, log) writes: JSON, Go style.
    pub fn to_text(&self) -> String {
        match self {
            SinkData::Row(r) => r.to_json_string(),
            SinkData::Rows(rows) => {
                let mut s = String::with_capacity(64 * rows.len() + 2);
                s.push('[');
                for (i, r) in rows.as_slice().iter().enumerate() {
                    if i > 0 {
                        s.push(',');
                    }
                    r.write_json(&mut s);
                }
                s.push(']');
                s
            }
            SinkData::Value(v) => crate::json::to_json_string(v),
            SinkData::Text(t) => t.clone(),
        }
    }

    /// The data as a value (an object, or an array of objects); text is returned as a
    /// string value.
    pub fn to_value(&self) -> Value {
        match self {
            SinkData::Row(r) => Value::object(r.to_object()),
            SinkData::Rows(rows) => Value::array(
                rows.as_slice()
                    .iter()
                    .map(|r| Value::object(r.to_object()))
                    .collect(),
            ),
            SinkData::Value(v) => v.clone(),
            SinkData::Text(t) => Value::str(t),
        }
    }

    /// The rows a plugin sink receives, as fields: rows as they are; a value that is not
    /// an object, or a template's text, as one field named `data`.
    pub fn plugin_rows(&self) -> Vec<Vec<(Arc<str>, Value)>> {
        fn data(v: Value) -> Vec<(Arc<str>, Value)> {
            vec![(Arc::from("data"), v)]
        }
        fn object(v: &Value) -> Vec<(Arc<str>, Value)> {
            match v {
                Value::Object(o) => o
                    .iter()
                    .map(|(k, v)| (Arc::from(k.as_str()), v.clone()))
                    .collect(),
                other => data(other.clone()),
            }
        }
        match self {
            SinkData::Row(r) => vec![r.fields.clone()],
            SinkData::Rows(rs) => rs.as_slice().iter().map(|r| r.fields.clone()).collect(),
            SinkData::Value(Value::Array(items)) => items.iter().map(object).collect(),
            SinkData::Value(v) => vec![object(v)],
            SinkData::Text(t) => vec![data(Value::str(t))],
        }
    }

    /// Whether this is structured data (rows or a value) rather than rendered text.
    pub fn is_structured(&self) -> bool {
        !matches!(self, SinkData::Text(_))
    }
}

/// A lookup table's source (eKuiper's `LookupSource`): asked for the rows matching a
/// key when a rule needs them, instead of read whole. Calls may block (the engine
/// makes them from a rule's operator thread, through the plugin bridge).
pub trait LookupSource: Send {
    /// The rows whose fields `keys` equal `values` (one value per key), with the
    /// `fields` the rule reads (every field when empty).
    fn lookup(
        &mut self,
        fields: &[String],
        keys: &[String],
        values: &[Value],
    ) -> Result<Vec<Object>>;
}

/// Creates sources of one type. Built-in and plugin types alike are factories in the
/// engine's [`crate::registry::ConnectorRegistry`].
pub trait SourceFactory: Send + Sync {
    /// The `TYPE` of streams this factory serves.
    fn kind(&self) -> &str;
    /// A source for one rule: `datasource` is the stream's DATASOURCE, `props` its
    /// conf; `start` is where a resumed rule's checkpoint left the stream, for a
    /// source that can rewind (the default on a fresh start).
    fn create(
        &self,
        datasource: &str,
        props: &Props,
        ctx: &ConnectorContext,
        start: &Start,
    ) -> Result<Box<dyn Source>>;
    /// Whether the type can back `KIND="lookup"` tables by [`Self::lookup`].
    fn can_lookup(&self) -> bool {
        false
    }
    /// A lookup source for one rule's table (only when [`Self::can_lookup`]).
    fn lookup(
        &self,
        datasource: &str,
        _props: &Props,
        _ctx: &ConnectorContext,
    ) -> Result<Box<dyn LookupSource>> {
        Err(crate::Error::user(format!(
            "source type {} cannot back a lookup table ({datasource})",
            self.kind()
        )))
    }
}

/// Creates sinks of one type (built-in or plugin).
pub trait SinkFactory: Send + Sync {
    /// The action name this factory serves (`{"<kind>": {props}}`).
    fn kind(&self) -> &str;
    fn create(&self, props: &Props, ctx: &ConnectorContext) -> Result<Box<dyn Sink>>;
}
