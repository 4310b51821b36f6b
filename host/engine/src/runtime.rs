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

use crate::chain::{step, Chain, Emitter};
use crate::checkpoint::{Barrier, CheckpointPlan, Coordinator, Gate, HeldRows, FINAL};
use crate::decode::Decoder;
use crate::metrics::RuleMetrics;
use crate::operator::{for_each_in_order, Chunk, Collector, Item, Operator};
use crate::rule::RuleOptions;
use crate::sink_props::CommonProps;
use std::sync::Arc;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;
use tributary_core::connector::{Emission, Rows, Sink, Source, SourceMessage, SourceSender};
use tributary_core::{Clock, Error};

/// What flows between operator stages.
#[derive(Debug)]
pub enum Event {
    Data(Chunk),
    /// The rule clock reached this time (window ticks).
    Tick(i64),
    /// A checkpoint marker: every row before it is before the checkpoint.
    Barrier(Barrier),
}

use crate::sink_task::{run_sink, SinkEvent};

/// A decode stage's part in checkpoints.
struct DecodeCheckpoint {
    gate: Gate,
    stream: usize,
    /// Messages consumed since the stream's start (its resumed offset included).
    offset: u64,
    /// The last checkpoint id answered.
    answered: u64,
}

/// A sink and its common properties.
pub struct SinkRunner {
    pub name: String,
    pub sink: Box<dyn Sink>,
    pub props: CommonProps,
    /// Where the sink reports its connection (the rule's status shows it).
    pub connection: Arc<tributary_core::connection::ConnectionStatus>,
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

impl Pipeline {
    /// Runs the rule until its source ends or `stop` turns true, then drains.
    /// Returns the source's error, if it failed.
    pub async fn run(self, mut stop: watch::Receiver<bool>) -> Result<(), Error> {
        let cap = self.options.buffer_length.max(1);
        let rule_id = self.rule_id.clone();
        let metrics = self.metrics.clone();
        let streams = 1 + self.joined.iter().filter(|j| j.source.is_some()).count();
        let held = Arc::new(HeldRows::new(self.operators.len()));
        let mut coordinator = None;
        let mut gate = None;
        let mut ack_tx = None;
        let mut start_offsets = Vec::new();
        let mut start_positions = Vec::new();
        if let Some(plan) = self.checkpoint {
            start_offsets = plan.start_offsets.clone();
            start_positions = plan.sink_positions.clone();
            let (c, g, a) = Coordinator::new(plan, &rule_id, streams, held.clone());
            coordinator = Some(tokio::spawn(c.run()));
            gate = Some(g);
            ack_tx = Some(a);
        }
        let decode_checkpoint = |stream: usize| {
            gate.clone().map(|gate| DecodeCheckpoint {
                gate,
                stream,
                offset: start_offsets.get(stream).copied().unwrap_or(0),
                answered: 0,
            })
        };
        let (src_tx, src_rx) = mpsc::channel::<Vec<SourceMessage>>(cap);
        let stop_for_sinks = stop.clone();
        let cancel = self.cancel.clone();
        {
            let cancel = cancel.clone();
            let mut stop = stop.clone();
            tokio::spawn(async move {
                // Ends with the rule either way: Err once the stop sender is gone.
                if stop.wait_for(|s| *s).await.is_ok() {
                    cancel.cancel();
                }
            });
        }
        let source = self.source;
        // The joined sources stop with the rule or when the main source ends.
        let (main_done_tx, main_done) = watch::channel(false);
        let stop_joined = stop.clone();
        let source_task: JoinHandle<Result<(), Error>> = tokio::spawn(async move {
            if *stop.borrow() {
                return Ok(());
            }
            tokio::select! {
                r = source.run(SourceSender::new(src_tx)) => r,
                _ = stop.wait_for(|s| *s) => Ok(()),
            }
        });

        // decode
        let (tx, mut rx) = mpsc::channel::<Event>(cap);
        let mut decoders = vec![self.decoder];
        let mut joined_sources = Vec::new();
        for (i, j) in self.joined.into_iter().enumerate() {
            decoders.push(j.decoder);
            if let Some(s) = j.source {
                joined_sources.push((i + 1, s));
            }
        }
        let decoders = Arc::new(decoders);
        let coalesce_limit = self.coalesce_limit;
        let mut tasks: Vec<JoinHandle<()>> = Vec::new();
        tasks.push(tokio::spawn(decode_stage(
            src_rx,
            decoders.clone(),
            tx.clone(),
            coalesce_limit,
            metrics.clone(),
            decode_checkpoint(0),
        )));
        for (index, source) in joined_sources {
            let (jtx, jrx) = mpsc::channel::<Vec<SourceMessage>>(cap);
            let mut done = main_done.clone();
            let mut stop = stop_joined.clone();
            let rid = rule_id.clone();
            tasks.push(tokio::spawn(async move {
                let sender = SourceSender::new(jtx).for_stream(index);
                let r = tokio::select! {
                    r = source.run(sender) => r,
                    _ = stop.wait_for(|s| *s) => Ok(()),
                    _ = done.wait_for(|d| *d) => Ok(()),
                };
                if let Err(e) = r {
                    tracing::error!(rule = %rid, stream = index, error = %e, "joined source failed");
                }
            }));
            tasks.push(tokio::spawn(decode_stage(
                jrx,
                decoders.clone(),
                tx.clone(),
                coalesce_limit,
                metrics.clone(),
                decode_checkpoint(index),
            )));
        }
        drop(tx);

        // sinks
        let mut sink_txs = Vec::new();
        let mut resume_at = start_positions.into_iter();
        for s in self.sinks {
            let resume = resume_at.next().flatten();
            let (stx, srx) = mpsc::channel::<SinkEvent>(cap);
            sink_txs.push(stx);
            tasks.push(tokio::spawn(run_sink(
                rule_id.clone(),
                s,
                srx,
                metrics.clone(),
                stop_for_sinks.clone(),
                resume,
            )));
        }

        // the operators and the emit step, in one task ([`crate::chain`])
        let wall_timers = self.wall_timers;
        let mut chain = Chain::new(self.operators, held.clone(), gate.is_some());
        let emitter = Emitter {
            sink_txs,
            ack_tx,
            send_error: self.options.send_error,
            clock: self.clock.clone(),
            m: metrics.clone(),
        };
        let clock = self.clock.clone();
        let qos = self.options.qos;
        let emit_rule = rule_id.clone();
        let emit = tokio::spawn(async move {
            let mut out = Vec::new();
            loop {
                if cancel.is_cancelled() {
                    drop_queued(&mut rx, &emit_rule, qos).await;
                    break;
                }
                let due = if wall_timers {
                    chain.next_timer()
                } else {
                    None
                };
                let Some(due) = due else {
                    match rx.recv().await {
                        Some(ev) => step(&mut chain, &emitter, 0, ev, &mut out).await,
                        None => break,
                    }
                    continue;
                };
                let wait = u64::try_from(due - clock.now_ms()).unwrap_or(0);
                let fired = tokio::select! {
                    ev = rx.recv() => match ev {
                        Some(ev) => Some(ev),
                        None => break,
                    },
                    _ = tokio::time::sleep(std::time::Duration::from_millis(wait)) => None,
                };
                if let Some(ev) = fired {
                    step(&mut chain, &emitter, 0, ev, &mut out).await;
                    continue;
                }
                // Rows already queued were stamped before the timer fired (a slow sink
                // may have held this task back): they go first, so that they are not
                // pushed into a later window. Bounded, so a busy input cannot starve
                // the timer.
                for _ in 0..cap {
                    match rx.try_recv() {
                        Ok(ev) => step(&mut chain, &emitter, 0, ev, &mut out).await,
                        Err(_) => break,
                    }
                }
                // The sleep may end a little early on a millisecond boundary: the tick
                // is at least the due time. It starts at the first operator now due,
                // and reaches every one after it.
                let now = clock.now_ms().max(due);
                if let Some(stage) = chain.first_due(now) {
                    step(&mut chain, &emitter, stage, Event::Tick(now), &mut out).await;
                }
            }
        });

        let src_result = source_task.await;
        let _ = main_done_tx.send(true);
        let src_result = match src_result {
            Ok(r) => r,
            Err(e) => Err(Error::internal(format!(
                "source task of rule {rule_id} failed: {e}"
            ))),
        };
        // A stage that panicked lost what it held: that must fail the rule, loudly,
        // rather than look like a clean end of input.
        let mut src_result = src_result;
        for t in tasks.into_iter().chain(std::iter::once(emit)) {
            if let Err(e) = t.await {
                if src_result.is_ok() {
                    src_result = Err(Error::internal(format!(
                        "a stage of rule {rule_id} failed: {e}"
                    )));
                }
            }
        }
        if let Some(c) = coordinator {
            let _ = c.await;
        }
        if let Err(e) = &src_result {
            tracing::error!(rule = %rule_id, error = %e, "source failed");
        }
        src_result
    }
}

/// The rows still queued before the operators of a stopping rule: dropped, not
/// processed (each could take a plugin its whole deadline). Their count is logged.
async fn drop_queued(rx: &mut mpsc::Receiver<Event>, rule_id: &str, qos: u8) {
    let mut rows = 0usize;
    while let Some(ev) = rx.recv().await {
        if let Event::Data(c) = ev {
            rows += c.rows.len() + c.errors.len();
        }
    }
    if rows > 0 {
        if qos >= 1 {
            tracing::info!(rule = %rule_id, rows, "stopping: queued rows dropped; they are read again from the last checkpoint");
        } else {
            tracing::warn!(rule = %rule_id, rows, "stopping: queued rows dropped unprocessed (qos 0)");
        }
    }
}

/// Decodes what a source sends, coalescing what is already waiting into one batch; a
/// run of messages of one stream is decoded by that stream's decoder.
async fn decode_stage(
    mut src_rx: mpsc::Receiver<Vec<SourceMessage>>,
    decoders: Arc<Vec<Decoder>>,
    tx: mpsc::Sender<Event>,
    coalesce_limit: usize,
    m: Arc<RuleMetrics>,
    mut ckpt: Option<DecodeCheckpoint>,
) {
    loop {
        let first = match ckpt.as_mut() {
            None => src_rx.recv().await,
            Some(c) => match c.gate.pending(c.answered) {
                // A barrier is owed and no operator holds rows: send it, and wait
                // while the checkpoint is taken.
                Some(id) if c.gate.held.total() == 0 => {
                    c.answered = id;
                    let b = Barrier {
                        id,
                        stream: c.stream,
                        offset: c.offset,
                        held: 0,
                    };
                    if tx.send(Event::Barrier(b)).await.is_err() {
                        return;
                    }
                    c.gate.wait_done(id).await;
                    continue;
                }
                pending => {
                    // Wake for data, a new request, or (with one owed) a window
                    // emptied by a timer.
                    let recheck = pending.is_some();
                    tokio::select! {
                        msg = src_rx.recv() => msg,
                        r = c.gate.requests.changed() => {
                            if r.is_err() {
                                ckpt = None;
                            }
                            continue;
                        }
                        _ = tokio::time::sleep(std::time::Duration::from_millis(50)), if recheck => continue,
                    }
                }
            },
        };
        let Some(first) = first else { break };
        let mut msgs = first;
        while msgs.len() < coalesce_limit {
            match src_rx.try_recv() {
                Ok(more) => msgs.extend(more),
                Err(_) => break,
            }
        }
        if let Some(c) = ckpt.as_mut() {
            c.offset += msgs.len() as u64;
        }
        RuleMetrics::add(&m.records_in, msgs.len() as u64);
        let single = msgs.iter().all(|x| x.stream == msgs[0].stream);
        let runs: Vec<Vec<SourceMessage>> = if single {
            vec![msgs]
        } else {
            let mut runs: Vec<Vec<SourceMessage>> = Vec::new();
            for msg in msgs {
                match runs.last_mut() {
                    Some(r) if r[0].stream == msg.stream => r.push(msg),
                    _ => runs.push(vec![msg]),
                }
            }
            runs
        };
        for run in runs {
            let Some(decoder) = run.first().and_then(|x| decoders.get(x.stream)) else {
                continue;
            };
            if tx.send(Event::Data(decoder.decode(run))).await.is_err() {
                return;
            }
        }
    }
    // The input has ended: the last checkpoint, at its very end.
    if let Some(c) = ckpt {
        let b = Barrier {
            id: FINAL,
            stream: c.stream,
            offset: c.offset,
            held: 0,
        };
        let _ = tx.send(Event::Barrier(b)).await;
    }
}

/// Runs `op.process`, turning a panic into an error emission for every row of the
/// chunk: a faulty function or operator costs that batch, never the rule or the host.
pub(crate) fn process_guarded(op: &mut dyn Operator, c: Chunk, col: &mut Collector) {
    let n = c.rows.len();
    let carried: Vec<String> = c.errors.iter().map(|(_, e)| e.clone()).collect();
    let name = op.name().to_string();
    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| op.process(c, col)));
    if let Err(p) = r {
        let msg = panic_message(p.as_ref());
        tracing::error!(operator = %name, panic = %msg, rows = n, "operator panicked; its batch becomes errors");
        let mut b = crate::operator::ChunkBuilder::with_capacity(0);
        for e in carried {
            b.error(e);
        }
        for _ in 0..n {
            b.error(format!("internal error in {name}: {msg}"));
        }
        col.collect(b.finish());
    }
}

/// The text of a caught panic.
fn panic_message(p: &(dyn std::any::Any + Send)) -> String {
    p.downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| p.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".to_string())
}

/// Runs `op.on_tick`, turning a panic into one error emission.
pub(crate) fn tick_guarded(op: &mut dyn Operator, now_ms: i64, col: &mut Collector) {
    let name = op.name().to_string();
    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| op.on_tick(now_ms, col)));
    if let Err(p) = r {
        let msg = panic_message(p.as_ref());
        tracing::error!(operator = %name, panic = %msg, "operator panicked on a timer");
        let mut b = crate::operator::ChunkBuilder::with_capacity(0);
        b.error(format!("internal error in {name}: {msg}"));
        col.collect(b.finish());
    }
}

/// Turns a chunk into emissions: one per row (and per error), or one for a grouped
/// chunk (a window), where an error replaces the whole emission.
pub fn to_emissions(chunk: Chunk, m: &RuleMetrics) -> Vec<Emission> {
    RuleMetrics::add(&m.errors, chunk.errors.len() as u64);
    RuleMetrics::add(&m.records_out, chunk.rows.len() as u64);
    if chunk.grouped {
        return match chunk.errors.into_iter().next() {
            Some((_, e)) => vec![Emission::Error(e)],
            None => vec![Emission::Rows(Rows::Many(Arc::new(chunk.rows)))],
        };
    }
    let mut out = Vec::with_capacity(chunk.rows.len() + chunk.errors.len());
    for_each_in_order(chunk, |item| match item {
        Item::Row(_, r) => out.push(Emission::Rows(Rows::One(r))),
        Item::Error(e) => out.push(Emission::Error(e)),
    });
    out
}

#[cfg(test)]
#[path = "runtime_tests.rs"]
mod tests;
