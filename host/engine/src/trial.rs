//! `tributary trial`: a rule run on a mock clock against mock data.
//!
//! The rule is planned and run by the same code as in production; only the clock (a
//! [`MockClock`] that moves to each tuple's timestamp as it is fed) and the source (the
//! spec's data) differ. Emissions are captured as JSON lines.

use crate::builder::{
    build_operators, build_sinks, join_decoders, main_decoder, plan_rule, EngineContext,
};
use crate::metrics::RuleMetrics;
use crate::rule::RuleDef;
use crate::runtime::{JoinedInput, Pipeline, SinkRunner};
use crate::sink_props::CommonProps;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use tokio::sync::{mpsc, watch};
use tributary_core::connector::{
    BoxFuture, Payload, Sink, SinkData, Source, SourceMessage, SourceSender,
};
use tributary_core::{json::from_json, Error, MockClock, Object, Value};
use tributary_sql::parse_ddl;

/// The mock data of one stream.
#[derive(Debug, Clone, Deserialize)]
pub struct MockData {
    #[serde(default)]
    pub data: Vec<serde_json::Value>,
    #[serde(default)]
    pub timestamps: Option<Vec<i64>>,
    #[serde(default)]
    pub preload: bool,
}

/// A trial spec, as TRIAL.md defines it.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrialSpec {
    #[serde(default = "default_id")]
    pub id: String,
    pub sql: String,
    #[serde(default)]
    pub streams: Vec<String>,
    #[serde(default)]
    pub options: serde_json::Map<String, serde_json::Value>,
    #[serde(default, rename = "mockSource")]
    pub mock_source: BTreeMap<String, MockData>,
}

fn default_id() -> String {
    "trial".to_string()
}

impl TrialSpec {
    pub fn parse(text: &str) -> Result<TrialSpec, Error> {
        serde_json::from_str(text).map_err(|e| {
            Error::user(format!(
                "invalid trial spec at line {}, column {}: {e}",
                e.line(),
                e.column()
            ))
        })
    }
}

/// Feeds mock tuples in timestamp order, moving the mock clock to each one first.
struct MockSource {
    /// (time, stream index, message), in feeding order.
    tuples: Vec<(i64, usize, Object)>,
    clock: MockClock,
}

impl Source for MockSource {
    fn run(self: Box<Self>, out: SourceSender) -> BoxFuture<'static, Result<(), Error>> {
        Box::pin(async move {
            let meta = Arc::new({
                let mut m = Object::new();
                m.insert("topic".to_string(), Value::str("mock"));
                m
            });
            for (ts, stream, obj) in self.tuples {
                self.clock.set(ts);
                let msg = SourceMessage {
                    payload: Payload::Object(Arc::new(obj)),
                    meta: meta.clone(),
                    timestamp: ts,
                    stream,
                    position: None,
                };
                if !out.send(vec![msg]).await {
                    break;
                }
            }
            Ok(())
        })
    }
}

/// Captures what reaches the sink, one JSON line per emission.
struct CaptureSink {
    tx: mpsc::UnboundedSender<String>,
}

impl Sink for CaptureSink {
    fn collect<'a>(&'a mut self, data: &'a SinkData) -> BoxFuture<'a, Result<(), Error>> {
        let line = data.to_text();
        Box::pin(async move {
            self.tx
                .send(line)
                .map_err(|_| Error::internal("trial output closed"))
        })
    }
}

/// Runs a trial; calls `emit` with each emission's JSON line, in order.
/// `setup` gets the trial's engine context before the rule is planned (to load the
/// root's plugins into it).
pub async fn run_trial(
    spec: &TrialSpec,
    root: Option<PathBuf>,
    setup: impl FnOnce(&mut EngineContext) -> Result<(), Error>,
    mut emit: impl FnMut(String),
) -> Result<(), Error> {
    let mut streams = BTreeMap::new();
    for (i, ddl) in spec.streams.iter().enumerate() {
        let def = parse_ddl(ddl).map_err(|e| Error::user(format!("streams[{i}]: {e}")))?;
        streams.insert(def.name.clone(), def);
    }
    let mut options = serde_json::Map::new();
    options.insert("id".into(), spec.id.clone().into());
    options.insert("sql".into(), spec.sql.clone().into());
    options.insert(
        "options".into(),
        serde_json::Value::Object(spec.options.clone()),
    );
    let rule = RuleDef::from_json(serde_json::Value::Object(options))?;

    let plan = plan_rule(&rule, &streams)?;
    // The rule's streams in FROM/JOIN order, each with its mock data.
    let mut names = vec![plan.stream.name.clone()];
    names.extend(plan.joins.iter().map(|j| j.stream.name.clone()));
    let mut fed: Vec<(i64, usize, Object)> = Vec::new();
    let mut preloaded: Vec<(usize, Object)> = Vec::new();
    let mut start = None;
    for (i, name) in names.iter().enumerate() {
        let Some(mock) = spec
            .mock_source
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v)
        else {
            continue;
        };
        let tuples = mock_tuples(name, mock)?;
        if mock.preload {
            preloaded.extend(tuples.into_iter().map(|(_, o)| (i, o)));
            continue;
        }
        if start.is_none() {
            start = tuples
                .first()
                .map(|(t, _)| t.saturating_sub(t.rem_euclid(1000)));
        }
        fed.extend(tuples.into_iter().map(|(t, o)| (t, i, o)));
    }
    // Merged by time; on equal times the earlier stream first; list order within one
    // (the sort is stable and each stream's tuples are already in order).
    fed.sort_by_key(|(t, i, _)| (*t, *i));
    let start = start.unwrap_or(0);
    let tuples: Vec<(i64, usize, Object)> = preloaded
        .into_iter()
        .map(|(i, o)| (start, i, o))
        .chain(fed)
        .collect();
    let clock = MockClock::new(start);
    let mut ctx = EngineContext::new(root.unwrap_or_default(), Arc::new(clock.clone()));
    setup(&mut ctx)?;

    let operators = build_operators(&plan, &ctx, &rule.options)?;
    // Actions are not run in a trial, but they are still validated.
    let _ = build_sinks(&rule, &ctx)?;
    let (tx, mut rx) = mpsc::unbounded_channel();
    let sink = SinkRunner {
        name: "trial".to_string(),
        sink: Box::new(CaptureSink { tx }),
        props: CommonProps::parse("trial", &BTreeMap::new())?,
        connection: Arc::default(),
        delivery: Arc::default(),
    };
    let pipeline = Pipeline {
        rule_id: rule.id.clone(),
        source: Box::new(MockSource {
            tuples,
            clock: clock.clone(),
        }),
        decoder: main_decoder(&plan),
        joined: join_decoders(&plan)
            .into_iter()
            .skip(1)
            .map(|decoder| JoinedInput {
                source: None,
                decoder,
            })
            .collect(),
        operators,
        sinks: vec![sink],
        options: rule.options.clone(),
        metrics: Arc::new(RuleMetrics::default()),
        clock: Arc::new(clock),
        coalesce_limit: 0,
        wall_timers: false,
        checkpoint: None,
        cancel: plan.cancel.clone(),
    };
    let (_stop_tx, stop_rx) = watch::channel(false);
    let run = tokio::spawn(pipeline.run(stop_rx));
    while let Some(line) = rx.recv().await {
        emit(line);
    }
    match run.await {
        Ok(r) => r,
        Err(e) => Err(Error::internal(format!("trial run failed: {e}"))),
    }
}

fn mock_tuples(stream: &str, mock: &MockData) -> Result<Vec<(i64, Object)>, Error> {
    if let Some(ts) = &mock.timestamps {
        if ts.len() != mock.data.len() {
            return Err(Error::user(format!(
                "mockSource.{stream}: {} timestamps for {} data items",
                ts.len(),
                mock.data.len()
            )));
        }
    }
    let mut out = Vec::with_capacity(mock.data.len());
    for (i, d) in mock.data.iter().enumerate() {
        let obj = match from_json(d.clone()) {
            Value::Object(o) => Arc::try_unwrap(o).unwrap_or_else(|o| (*o).clone()),
            other => {
                return Err(Error::user(format!(
                    "mockSource.{stream}.data[{i}] must be an object, found {}",
                    other.type_name()
                )))
            }
        };
        let ts = mock
            .timestamps
            .as_ref()
            .and_then(|t| t.get(i).copied())
            .unwrap_or(0);
        out.push((ts, obj));
    }
    // Tuples are ingested in timestamp order; equal timestamps keep list order.
    out.sort_by_key(|(t, _)| *t);
    Ok(out)
}
