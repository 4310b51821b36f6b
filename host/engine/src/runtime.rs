//! Running a rule: a few tasks, connected by bounded channels.
//!
//! ```text
//! source ─► decode ─► operators … emit ─┬► sink task
//!                     (one task)        └► sink task
//! ```
//! Every channel holds at most `bufferLength` batches, so a slow sink slows the whole
//! rule down to the source instead of dropping rows. When the input ends, the
//! channels drain and close stage by stage, and each sink is closed (flushed) after
//! its last emission. A stop is quicker: the source stops, the plugin call in flight
//! is interrupted (wasm), the batches still queued before the operators are dropped
//! (counted and logged; under `qos` ≥ 1 they are read again from the checkpoint on
//! the next start), and the sinks flush what they already have. Under `qos` ≥ 1,
//! checkpoint barriers travel the same channels ([`crate::checkpoint`]).
//!
//! [`Pipeline::run`] wires these stages one step at a time: checkpoints, sources,
//! decode stages, sinks, the operator chain ([`crate::chain`]), then waits for all.

use crate::chain::{run_chain, Chain, ChainRun, Emitter};
use crate::checkpoint::{Ack, CheckpointPlan, Coordinator, Gate, HeldRows};
use crate::decode::Decoder;
use crate::decode_stage::{decode_stage, DecodeCheckpoint};
use crate::event::Event;
use crate::metrics::RuleMetrics;
use crate::operator::Operator;
use crate::rule::RuleOptions;
use crate::sink_props::CommonProps;
use crate::sink_task::{run_sink, SinkEvent};
use std::sync::Arc;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;
use tributary_core::connector::{Sink, Source, SourceMessage, SourceSender, Start};
use tributary_core::{Clock, Error, Value};

/// A sink and its common properties.
pub struct SinkRunner {
    pub name: String,
    pub sink: Box<dyn Sink>,
    pub props: CommonProps,
    /// Where the sink reports its connection (the rule's status shows it).
    pub connection: Arc<tributary_core::connection::ConnectionStatus>,
    /// How it delivers (the rule's status shows it).
    pub delivery: Arc<crate::metrics::SinkMetrics>,
}

/// Another stream of a rule with JOINs: its decoder, and its own source unless the
/// main source feeds it too (the trial's mock source tags each message's stream).
pub struct JoinedInput {
    pub source: Option<Box<dyn Source>>,
    pub decoder: Decoder,
}

/// A planned rule, ready to run.
pub struct Pipeline {
    pub rule_id: String,
    pub source: Box<dyn Source>,
    pub decoder: Decoder,
    /// The JOINed streams, in order (stream 1, 2, …).
    pub joined: Vec<JoinedInput>,
    pub operators: Vec<Box<dyn Operator>>,
    pub sinks: Vec<SinkRunner>,
    pub options: RuleOptions,
    pub metrics: Arc<RuleMetrics>,
    pub clock: Arc<dyn Clock>,
    /// At most this many messages are merged into one batch by the decode stage.
    /// Trials use 0 (never merge), so every tuple is processed at its own time.
    pub coalesce_limit: usize,
    /// Operators' timers ([`Operator::next_timer`]) fire on the clock as it runs. A
    /// trial turns this off: its mock clock moves only with the tuples, and operators
    /// fire what is due before each tuple themselves.
    pub wall_timers: bool,
    /// Checkpoints, under `qos` ≥ 1 with a durable store.
    pub checkpoint: Option<CheckpointPlan>,
    /// Set when the rule stops: the plugin call in flight is interrupted (where its
    /// tier can) and the batches still queued are dropped instead of processed.
    pub cancel: tributary_core::function::Cancel,
}

/// The default [`Pipeline::coalesce_limit`].
/// 1024 rows keep a batch's vectors under glibc's mmap threshold, so they are reused
/// from the heap instead of being mapped and zeroed for every batch.
pub const COALESCE_LIMIT: usize = 1024;

/// The running rule's checkpoint parts, when it checkpoints.
#[derive(Default)]
struct Checkpoints {
    coordinator: Option<JoinHandle<()>>,
    gate: Option<Gate>,
    ack_tx: Option<mpsc::UnboundedSender<Ack>>,
    starts: Vec<Start>,
    /// Where each sink resumes.
    start_positions: Vec<Option<Value>>,
}

impl Checkpoints {
    fn start(
        plan: Option<CheckpointPlan>,
        rule: &str,
        streams: usize,
        held: &Arc<HeldRows>,
    ) -> Self {
        let Some(plan) = plan else {
            return Checkpoints::default();
        };
        let starts = plan.starts.clone();
        let start_positions = plan.sink_positions.clone();
        let (c, g, a) = Coordinator::new(plan, rule, streams, held.clone());
        Checkpoints {
            coordinator: Some(tokio::spawn(c.run())),
            gate: Some(g),
            ack_tx: Some(a),
            starts,
            start_positions,
        }
    }

    /// Stream `stream`'s decode stage's part in checkpoints.
    fn for_stream(&self, stream: usize) -> Option<DecodeCheckpoint> {
        let start = self.starts.get(stream).cloned().unwrap_or_default();
        self.gate.clone().map(|gate| DecodeCheckpoint {
            gate,
            stream,
            offset: start.messages,
            position: start.position.map(Arc::from),
            answered: 0,
        })
    }
}

/// What the wiring steps share.
struct Wiring {
    rule_id: String,
    cap: usize,
    stop: watch::Receiver<bool>,
    metrics: Arc<RuleMetrics>,
    coalesce_limit: usize,
    /// The stage tasks besides the source's and the chain's.
    tasks: Vec<JoinHandle<()>>,
}

impl Wiring {
    /// Sets `cancel` as soon as the rule is asked to stop.
    fn cancel_on_stop(&self, cancel: tributary_core::function::Cancel) {
        let mut stop = self.stop.clone();
        tokio::spawn(async move {
            // Ends with the rule either way: Err once the stop sender is gone.
            if stop.wait_for(|s| *s).await.is_ok() {
                cancel.cancel();
            }
        });
    }

    /// The FROM stream's source, until it ends or the rule stops.
    fn main_source(
        &self,
        source: Box<dyn Source>,
        tx: mpsc::Sender<Vec<SourceMessage>>,
    ) -> JoinHandle<Result<(), Error>> {
        let mut stop = self.stop.clone();
        tokio::spawn(async move {
            if *stop.borrow() {
                return Ok(());
            }
            tokio::select! {
                r = source.run(SourceSender::new(tx)) => r,
                _ = stop.wait_for(|s| *s) => Ok(()),
            }
        })
    }

    /// A joined stream's own source: it stops with the rule or when the main
    /// source ends (`main_done`).
    fn joined_source(
        &mut self,
        index: usize,
        source: Box<dyn Source>,
        tx: mpsc::Sender<Vec<SourceMessage>>,
        main_done: &watch::Receiver<bool>,
    ) {
        let mut done = main_done.clone();
        let mut stop = self.stop.clone();
        let rule = self.rule_id.clone();
        self.tasks.push(tokio::spawn(async move {
            let sender = SourceSender::new(tx).for_stream(index);
            let r = tokio::select! {
                r = source.run(sender) => r,
                _ = stop.wait_for(|s| *s) => Ok(()),
                _ = done.wait_for(|d| *d) => Ok(()),
            };
            if let Err(e) = r {
                tracing::error!(rule = %rule, stream = index, error = %e, "joined source failed");
            }
        }));
    }

    /// A decode stage from `rx` into the chain's channel `tx`.
    fn decode(
        &mut self,
        rx: mpsc::Receiver<Vec<SourceMessage>>,
        decoders: &Arc<Vec<Decoder>>,
        tx: &mpsc::Sender<Event>,
        ckpt: Option<DecodeCheckpoint>,
    ) {
        self.tasks.push(tokio::spawn(decode_stage(
            rx,
            decoders.clone(),
            tx.clone(),
            self.coalesce_limit,
            self.metrics.clone(),
            ckpt,
        )));
    }

    /// One task per sink; returns their channels.
    fn sinks(
        &mut self,
        sinks: Vec<SinkRunner>,
        positions: Vec<Option<Value>>,
    ) -> Vec<mpsc::Sender<SinkEvent>> {
        let mut resume_at = positions.into_iter();
        let mut txs = Vec::with_capacity(sinks.len());
        for s in sinks {
            let (tx, rx) = mpsc::channel::<SinkEvent>(self.cap);
            txs.push(tx);
            self.tasks.push(tokio::spawn(run_sink(
                self.rule_id.clone(),
                s,
                rx,
                self.metrics.clone(),
                self.stop.clone(),
                resume_at.next().flatten(),
            )));
        }
        txs
    }
}

impl Pipeline {
    /// Runs the rule until its source ends or `stop` turns true, then drains.
    /// Returns the source's error, if it failed.
    pub async fn run(self, stop: watch::Receiver<bool>) -> Result<(), Error> {
        let cap = self.options.buffer_length.max(1);
        let streams = 1 + self.joined.iter().filter(|j| j.source.is_some()).count();
        let held = Arc::new(HeldRows::new(self.operators.len()));
        let ckpt = Checkpoints::start(self.checkpoint, &self.rule_id, streams, &held);
        let mut w = Wiring {
            rule_id: self.rule_id.clone(),
            cap,
            stop,
            metrics: self.metrics.clone(),
            coalesce_limit: self.coalesce_limit,
            tasks: Vec::new(),
        };
        w.cancel_on_stop(self.cancel.clone());

        // sources and decode stages
        let (src_tx, src_rx) = mpsc::channel::<Vec<SourceMessage>>(cap);
        let source_task = w.main_source(self.source, src_tx);
        let (main_done_tx, main_done) = watch::channel(false);
        let (tx, rx) = mpsc::channel::<Event>(cap);
        let mut decoders = vec![self.decoder];
        let mut joined_sources = Vec::new();
        for (i, j) in self.joined.into_iter().enumerate() {
            decoders.push(j.decoder);
            if let Some(s) = j.source {
                joined_sources.push((i + 1, s));
            }
        }
        let decoders = Arc::new(decoders);
        w.decode(src_rx, &decoders, &tx, ckpt.for_stream(0));
        for (index, source) in joined_sources {
            let (jtx, jrx) = mpsc::channel::<Vec<SourceMessage>>(cap);
            w.joined_source(index, source, jtx, &main_done);
            w.decode(jrx, &decoders, &tx, ckpt.for_stream(index));
        }
        drop(tx);

        // sinks, then the operators and the emit step in one task
        let sink_txs = w.sinks(self.sinks, ckpt.start_positions);
        let chain = Chain::new(self.operators, held, ckpt.gate.is_some());
        let emitter = Emitter {
            sink_txs,
            ack_tx: ckpt.ack_tx,
            send_error: self.options.send_error,
            clock: self.clock.clone(),
            m: self.metrics.clone(),
        };
        let emit = tokio::spawn(run_chain(
            chain,
            emitter,
            rx,
            ChainRun {
                rule_id: self.rule_id.clone(),
                wall_timers: self.wall_timers,
                clock: self.clock.clone(),
                cap,
                cancel: self.cancel,
                qos: self.options.qos,
            },
        ));

        let src_result = source_task.await;
        let _ = main_done_tx.send(true);
        let mut result = src_result.unwrap_or_else(|e| {
            Err(Error::internal(format!(
                "source task of rule {} failed: {e}",
                self.rule_id
            )))
        });
        // A stage that panicked lost what it held: that must fail the rule, loudly,
        // rather than look like a clean end of input.
        for t in w.tasks.into_iter().chain(std::iter::once(emit)) {
            if let Err(e) = t.await {
                if result.is_ok() {
                    result = Err(Error::internal(format!(
                        "a stage of rule {} failed: {e}",
                        self.rule_id
                    )));
                }
            }
        }
        if let Some(c) = ckpt.coordinator {
            let _ = c.await;
        }
        if let Err(e) = &result {
            tracing::error!(rule = %self.rule_id, error = %e, "source failed");
        }
        result
    }
}

#[cfg(test)]
#[path = "runtime_tests.rs"]
mod tests;
