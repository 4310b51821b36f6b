//! Tests of the staged runtime: order, back-pressure, fault containment, clean stop.

use crate::builder::{build_operators, plan_rule, EngineContext};
use crate::decode::Decoder;
use crate::metrics::RuleMetrics;
use crate::rule::RuleDef;
use crate::runtime::{Pipeline, SinkRunner};
use crate::sink_props::CommonProps;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::watch;
use tributary_core::connector::{
    BoxFuture, Payload, Sink, SinkData, Source, SourceMessage, SourceSender,
};
use tributary_core::function::{
    ArgInfo, CallSite, Column, FnContext, FunctionFactory, FunctionImpl, RowResult,
};
use tributary_core::{Error, MockClock, Object, Value};
use tributary_sql::parse_ddl;

/// Sends each inner vector as one batch.
struct VecSource(Vec<Vec<i64>>);

impl Source for VecSource {
    fn run(self: Box<Self>, out: SourceSender) -> BoxFuture<'static, Result<(), Error>> {
        Box::pin(async move {
            for batch in self.0 {
                let msgs = batch
                    .into_iter()
                    .map(|v| {
                        let mut o = Object::new();
                        o.insert("v".to_string(), Value::Int(v));
                        SourceMessage {
                            payload: Payload::Object(Arc::new(o)),
                            meta: Default::default(),
                            timestamp: v,
                            stream: 0,
                            position: None,
                        }
                    })
                    .collect();
                if !out.send(msgs).await {
                    break;
                }
            }
            Ok(())
        })
    }
}

/// Records what it receives, optionally slowly; records that it was closed.
#[derive(Clone, Default)]
struct Recorder {
    lines: Arc<Mutex<Vec<String>>>,
    closed: Arc<AtomicBool>,
    delay_ms: u64,
    /// Deliveries to refuse before taking any (a destination that is down a while).
    refuse: Arc<std::sync::atomic::AtomicU64>,
}

impl Sink for Recorder {
    fn collect<'a>(&'a mut self, data: &'a SinkData) -> BoxFuture<'a, Result<(), Error>> {
        Box::pin(async move {
            if self.delay_ms > 0 {
                tokio::time::sleep(Duration::from_millis(self.delay_ms)).await;
            }
            if self
                .refuse
                .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
                .is_ok()
            {
                return Err(Error::external("destination down"));
            }
            if let Ok(mut l) = self.lines.lock() {
                l.push(data.to_text());
            }
            Ok(())
        })
    }
    fn close(&mut self) -> BoxFuture<'_, Result<(), Error>> {
        self.closed.store(true, Ordering::SeqCst);
        Box::pin(async { Ok(()) })
    }
}

/// `boom(x)` panics when x = 3: a stand-in for a faulty plugin.
struct Boom;
struct BoomImpl;

impl FunctionFactory for Boom {
    fn name(&self) -> &str {
        "boom"
    }
    fn validate(&self, args: &[ArgInfo]) -> Result<(), String> {
        if args.len() == 1 {
            Ok(())
        } else {
            Err("Expect 1 arguments".into())
        }
    }
    fn instantiate(&self, _: &CallSite) -> Result<Box<dyn FunctionImpl>, Error> {
        Ok(Box::new(BoomImpl))
    }
}

impl FunctionImpl for BoomImpl {
    fn exec_batch(&mut self, _: &FnContext, args: &[Column], n: usize, out: &mut Vec<RowResult>) {
        for i in 0..n {
            if args[0].get(i) == &Value::Int(3) {
                panic!("boom on 3");
            }
            out.push(Ok(args[0].get(i).clone()));
        }
    }
}

fn pipeline(sql: &str, batches: Vec<Vec<i64>>, sink: Recorder, buffer: usize) -> Pipeline {
    let clock = MockClock::new(0);
    let ctx = EngineContext::new(std::env::temp_dir(), Arc::new(clock.clone()));
    if let Ok(mut r) = ctx.registry.write() {
        r.register(Arc::new(Boom)).expect("register");
    }
    let mut streams = BTreeMap::new();
    let def = parse_ddl("CREATE STREAM s (v BIGINT) WITH (TYPE=\"memory\", DATASOURCE=\"s\")")
        .expect("ddl");
    streams.insert(def.name.clone(), def);
    let rule = RuleDef::parse(&format!(
        r#"{{"id":"t","sql":{},"options":{{"bufferLength":{buffer}}}}}"#,
        serde_json::to_string(sql).expect("json")
    ))
    .expect("rule");
    let plan = plan_rule(&rule, &streams).expect("plan");
    Pipeline {
        rule_id: "t".into(),
        source: Box::new(VecSource(batches)),
        decoder: Decoder::new(&plan.stream, plan.used_columns.as_deref()),
        joined: Vec::new(),
        operators: build_operators(&plan, &ctx, &Default::default()).expect("operators"),
        sinks: vec![SinkRunner {
            name: "rec".into(),
            sink: Box::new(sink),
            props: CommonProps::parse("rec", &BTreeMap::new()).expect("props"),
            connection: Arc::default(),
            delivery: Arc::default(),
        }],
        options: rule.options.clone(),
        metrics: Arc::new(RuleMetrics::default()),
        clock: Arc::new(clock),
        coalesce_limit: 0,
        wall_timers: true,
        checkpoint: None,
        cancel: plan.cancel.clone(),
    }
}

async fn run(p: Pipeline) -> Result<(), Error> {
    let (_tx, rx) = watch::channel(false);
    p.run(rx).await
}

#[tokio::test]
async fn a_panicking_function_costs_its_batch_not_the_rule() {
    let rec = Recorder::default();
    let p = pipeline(
        "SELECT boom(v) AS b FROM s",
        vec![vec![1, 2], vec![3, 4], vec![5]],
        rec.clone(),
        4,
    );
    run(p).await.expect("rule survives");
    let lines = rec.lines.lock().expect("lines").clone();
    assert_eq!(lines.len(), 5, "{lines:?}");
    assert_eq!(lines[0], r#"[{"b":1}]"#);
    assert_eq!(lines[1], r#"[{"b":2}]"#);
    assert!(
        lines[2].contains("internal error in project: boom on 3"),
        "{}",
        lines[2]
    );
    assert!(
        lines[3].contains("internal error in project"),
        "{}",
        lines[3]
    );
    assert_eq!(lines[4], r#"[{"b":5}]"#);
    assert!(rec.closed.load(Ordering::SeqCst), "sink closed at the end");
}

#[tokio::test]
async fn every_row_read_is_emitted_failed_or_filtered() {
    let rec = Recorder::default();
    let p = pipeline(
        "SELECT boom(v) AS b, 10 / (v - 2) AS q FROM s WHERE v != 4",
        vec![vec![1, 2, 3], vec![4, 5, 6, 7], vec![8]],
        rec.clone(),
        4,
    );
    let m = p.metrics.clone();
    run(p).await.expect("run");
    let s = m.snapshot();
    assert_eq!(s.records_in, 8);
    assert_eq!(s.filtered, 1, "v = 4");
    // v = 2 divides by zero; the batch holding 3 panics in boom: 1, 2, 3 as errors.
    assert_eq!(s.errors, 3, "{s:?}");
    assert_eq!(s.records_in, s.records_out + s.errors + s.filtered, "{s:?}");
}

#[tokio::test]
async fn errors_keep_their_place_among_rows() {
    let rec = Recorder::default();
    let p = pipeline(
        "SELECT 10 / (v - 2) AS q FROM s WHERE v != 4",
        vec![vec![1, 2, 3, 4, 5]],
        rec.clone(),
        4,
    );
    run(p).await.expect("run");
    let lines = rec.lines.lock().expect("lines").clone();
    assert_eq!(lines.len(), 4, "{lines:?}");
    assert_eq!(lines[0], r#"[{"q":-10}]"#);
    assert!(lines[1].contains("divided by zero"), "{}", lines[1]);
    assert_eq!(lines[2], r#"[{"q":10}]"#);
    assert_eq!(lines[3], r#"[{"q":3}]"#);
}

#[tokio::test]
async fn a_slow_sink_slows_the_source_and_loses_nothing() {
    let rec = Recorder {
        delay_ms: 1,
        ..Recorder::default()
    };
    let batches: Vec<Vec<i64>> = (0..50)
        .map(|b| (0..4).map(|i| b * 4 + i).collect())
        .collect();
    let p = pipeline("SELECT v FROM s", batches, rec.clone(), 1);
    run(p).await.expect("run");
    let lines = rec.lines.lock().expect("lines").clone();
    assert_eq!(lines.len(), 200);
    for (i, l) in lines.iter().enumerate() {
        assert_eq!(l, &format!(r#"[{{"v":{i}}}]"#));
    }
}

#[tokio::test]
async fn a_failing_sink_holds_its_messages_and_delivers_them_in_order() {
    for buffer in [2usize, 100] {
        let rec = Recorder::default();
        rec.refuse.store(9, Ordering::SeqCst);
        let mut p = pipeline(
            "SELECT v FROM s",
            (1..=8).map(|i| vec![i]).collect(),
            rec.clone(),
            4,
        );
        let props: BTreeMap<String, Value> = [
            ("retryCount".to_string(), Value::Int(1)),
            ("retryInterval".to_string(), Value::Int(2)),
            ("bufferLength".to_string(), Value::Int(buffer as i64)),
        ]
        .into_iter()
        .collect();
        p.sinks[0].props = CommonProps::parse("rec", &props).expect("props");
        let metrics = p.metrics.clone();
        run(p).await.expect("rule");
        let lines = rec.lines.lock().expect("lines").clone();
        let want: Vec<String> = (1..=8).map(|i| format!("[{{\"v\":{i}}}]")).collect();
        assert_eq!(
            lines, want,
            "held messages are delivered once, in order (hold of {buffer})"
        );
        let m = metrics.snapshot();
        assert_eq!((m.sink_failures, m.sink_held), (0, 0));
    }
}
