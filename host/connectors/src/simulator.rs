//! eKuiper's simulator source: sends the records of `data` one by one, `interval` ms
//! apart, from the start again when `loop` is on, and ends after the last record
//! when it is off.
//!
//! The first record goes out at once, as in eKuiper. The wait goes through a
//! [`Sleeper`], so tests and trial runs do not wait in real time. The source is
//! rewindable: its [`SourceOffset`] counts records sent, and a source created with an
//! offset resumes at that record.

use crate::offset::SourceOffset;
use crate::props::PropReader;
use crate::sleep::{Sleeper, TokioSleeper};
use std::sync::Arc;
use tributary_core::connector::{
    BoxFuture, ConnectorContext, Payload, Props, Source, SourceMessage, SourceSender,
};
use tributary_core::{Clock, Meta, Object, Result, Value};

/// The interval used when the conf sets none (eKuiper's shipped `simulator.yaml`).
pub const DEFAULT_INTERVAL_MS: u64 = 10;

#[derive(Debug)]
pub struct SimulatorSource {
    data: Vec<Arc<Object>>,
    interval_ms: u64,
    looping: bool,
    clock: Arc<dyn Clock>,
    sleeper: Arc<dyn Sleeper>,
    offset: SourceOffset,
}

impl SimulatorSource {
    /// Props: `data` (an object or a list of objects, required), `interval` (ms, at
    /// least 1, default 10), `loop` (default true).
    pub fn new(props: &Props, ctx: &ConnectorContext) -> Result<Self> {
        let r = PropReader::new(props, "simulator source");
        let expected = "an object or a list of objects";
        let data = match r.value("data") {
            None => return Err(r.missing("data")),
            Some(Value::Object(o)) => vec![(**o).clone()],
            Some(Value::Array(items)) => items
                .iter()
                .map(|item| match item {
                    Value::Object(o) => Ok((**o).clone()),
                    other => Err(r.invalid("data", expected, other)),
                })
                .collect::<Result<Vec<_>>>()?,
            Some(other) => return Err(r.invalid("data", expected, other)),
        };
        if data.is_empty() {
            return Err(r.rejected("data", "cannot be empty"));
        }
        let interval_ms = r.duration_ms("interval")?.unwrap_or(DEFAULT_INTERVAL_MS);
        if interval_ms < 1 {
            return Err(r.rejected("interval", "must be at least 1 ms, got 0"));
        }
        Ok(SimulatorSource {
            data: data.into_iter().map(Arc::new).collect(),
            interval_ms,
            looping: r.bool("loop")?.unwrap_or(true),
            clock: ctx.clock.clone(),
            sleeper: Arc::new(TokioSleeper),
            offset: SourceOffset::default(),
        })
    }

    pub fn with_sleeper(mut self, sleeper: Arc<dyn Sleeper>) -> Self {
        self.sleeper = sleeper;
        self
    }

    /// Shares `offset`: sending starts at record `offset.get()` (modulo the data
    /// length when looping) and the count of records sent is kept there.
    pub fn with_offset(mut self, offset: SourceOffset) -> Self {
        self.offset = offset;
        self
    }

    pub fn offset(&self) -> SourceOffset {
        self.offset.clone()
    }
}

impl Source for SimulatorSource {
    fn run(self: Box<Self>, out: SourceSender) -> BoxFuture<'static, Result<()>> {
        Box::pin(async move {
            let len = self.data.len() as u64;
            let meta = Meta::default();
            let mut first = true;
            loop {
                let sent = self.offset.get();
                if !self.looping && sent >= len {
                    return Ok(());
                }
                if !first {
                    self.sleeper.sleep(self.interval_ms).await;
                }
                first = false;
                let index = usize::try_from(sent % len).unwrap_or(0);
                let msg = SourceMessage {
                    payload: Payload::Object(self.data[index].clone()),
                    meta: meta.clone(),
                    timestamp: self.clock.now_ms(),
                    stream: 0,
                    position: None,
                };
                if !out.send(vec![msg]).await {
                    return Ok(());
                }
                self.offset.advance(1);
            }
        })
    }

    fn rewindable(&self) -> bool {
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sleep::MockClockSleeper;
    use tokio::sync::mpsc;
    use tributary_core::MockClock;

    fn data() -> Value {
        tributary_core::json::parse(r#"[{"t":1},{"t":2},{"t":3}]"#).expect("json")
    }

    fn setup(pairs: &[(&str, Value)]) -> (SimulatorSource, MockClock) {
        let clock = MockClock::new(0);
        let ctx = ConnectorContext {
            rule_id: "r1".into(),
            root: std::path::PathBuf::from("."),
            clock: Arc::new(clock.clone()),
            connection: Default::default(),
        };
        let props: Props = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect();
        let src = SimulatorSource::new(&props, &ctx)
            .expect("source")
            .with_sleeper(Arc::new(MockClockSleeper::new(clock.clone())));
        (src, clock)
    }

    fn t(m: &SourceMessage) -> Option<&Value> {
        match &m.payload {
            Payload::Object(o) => o.get("t"),
            _ => None,
        }
    }

    #[tokio::test]
    async fn loop_off_sends_each_record_once_then_ends() {
        let (src, _clock) = setup(&[
            ("data", data()),
            ("interval", Value::Int(100)),
            ("loop", Value::Bool(false)),
        ]);
        let offset = src.offset();
        let (tx, mut rx) = mpsc::channel(8);
        Box::new(src).run(SourceSender::new(tx)).await.expect("run");
        let mut got = Vec::new();
        while let Some(batch) = rx.recv().await {
            got.extend(batch);
        }
        let ts: Vec<i64> = got.iter().map(|m| m.timestamp).collect();
        assert_eq!(ts, vec![0, 100, 200]);
        assert_eq!(t(&got[2]), Some(&Value::Int(3)));
        assert_eq!(offset.get(), 3);
    }

    #[tokio::test]
    async fn loop_on_wraps_around_and_resumes_from_offset() {
        let (src, _clock) = setup(&[("data", data())]);
        let src = src.with_offset(SourceOffset::new(2));
        let (tx, mut rx) = mpsc::channel(1);
        let task = tokio::spawn(Box::new(src).run(SourceSender::new(tx)));
        let mut seen = Vec::new();
        for _ in 0..3 {
            let batch = rx.recv().await.expect("batch");
            seen.push(t(&batch[0]).cloned());
        }
        drop(rx);
        task.await.expect("join").expect("run");
        assert_eq!(
            seen,
            vec![
                Some(Value::Int(3)),
                Some(Value::Int(1)),
                Some(Value::Int(2))
            ]
        );
    }

    #[test]
    fn single_object_data_and_bad_props() {
        let ctx = ConnectorContext {
            rule_id: "r".into(),
            root: ".".into(),
            clock: Arc::new(MockClock::new(0)),
            connection: Default::default(),
        };
        let mut props = Props::new();
        props.insert(
            "data".into(),
            tributary_core::json::parse(r#"{"temperature":22.5}"#).expect("json"),
        );
        assert!(SimulatorSource::new(&props, &ctx).is_ok());
        props.insert("interval".into(), Value::Int(0));
        let err = SimulatorSource::new(&props, &ctx).expect_err("interval");
        assert!(err.to_string().contains("\"interval\""), "{err}");
        props.insert("data".into(), Value::array(vec![Value::Int(1)]));
        let err = SimulatorSource::new(&props, &ctx).expect_err("data");
        assert_eq!(
            err.to_string(),
            "invalid property \"data\" of simulator source: expected an object or a list of objects, got int64(1)"
        );
        let err = SimulatorSource::new(&Props::new(), &ctx).expect_err("missing");
        assert_eq!(
            err.to_string(),
            "missing property \"data\" of simulator source"
        );
    }
}
