//! Checkpoints of a rule under `qos` ≥ 1: plugin state and source offsets, together.
//!
//! Every `checkpointInterval` the [`Coordinator`] asks each decode stage for a
//! barrier. A decode stage answers between two batches, and only when no operator
//! holds rows (an open window): it sends a [`Barrier`] carrying the number of messages
//! it has consumed, then pauses until the checkpoint is over. The barrier follows the
//! rows before it through every operator, and each sink flushes when it gets it. When
//! the barriers of all streams have reached every sink, everything before them has
//! been delivered and nothing after them has been processed, so the plugin state held
//! since the last checkpoint ([`tributary_state::CheckpointStore`]) is exactly the
//! state of the rows up to the offsets: both are committed in one atomic write, and
//! the decode stages go on. After a crash the rule starts from those offsets with that
//! state; the rows after them are processed again (at-least-once: a sink may see a
//! row twice, never lose one).
//!
//! This is eKuiper's aligned-barrier checkpoint, with the alignment done by pausing
//! the sources instead of buffering behind the barrier: the pause lasts one trip
//! through the pipeline, once per interval.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, watch};
use tributary_core::connector::Start;
use tributary_core::state::StateWrite;
use tributary_core::Value;
use tributary_state::checkpoint::{checkpoint_scope, CheckpointStore};

/// The barrier id a decode stage sends when its input has ended.
pub const FINAL: u64 = u64::MAX;

/// How long a checkpoint may take before it is abandoned (a stream that never
/// reaches a clean point must not pause the others for ever).
const ABANDON_AFTER: Duration = Duration::from_secs(5);

/// A checkpoint marker between two batches of one stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Barrier {
    pub id: u64,
    /// The stream index (0 is the FROM stream).
    pub stream: usize,
    /// Messages of the stream consumed before the barrier, since the stream's start.
    pub offset: u64,
    /// The source's own position after the last message before the barrier, for a
    /// source that keeps one ([`tributary_core::connector::SourceMessage::position`]).
    pub position: Option<Arc<str>>,
    /// Rows held by the operators it passed; a checkpoint needs 0.
    pub held: usize,
}

/// What the emit stage reports once a barrier has reached every sink.
#[derive(Debug, Clone)]
pub struct Ack {
    pub barrier: Barrier,
    /// Every sink flushed and delivered all it got since the previous barrier.
    pub delivered: bool,
    /// Each sink's position after its flush ([`tributary_core::connector::Sink::position`]).
    pub positions: Vec<Option<Value>>,
}

/// How a rule checkpoints: built by the engine for `qos` ≥ 1 with a durable store.
#[derive(Debug, Clone)]
pub struct CheckpointPlan {
    pub store: Arc<CheckpointStore>,
    pub interval: Duration,
    /// Where each stream starts: its checkpointed offset and position (the default
    /// for a table, re-read).
    pub starts: Vec<Start>,
    /// Where each sink resumes, if the checkpoint saved its position.
    pub sink_positions: Vec<Option<Value>>,
}

impl CheckpointPlan {
    /// The plan of `rule` over `streams` streams, resuming from its last checkpoint.
    /// `rewind[i]` says whether stream `i` resumes at its offset (tables do not).
    pub fn resume(
        store: Arc<CheckpointStore>,
        rule: &str,
        interval_ms: i64,
        rewind: &[bool],
        sinks: usize,
    ) -> Result<Self, tributary_core::Error> {
        let unreadable = |e: tributary_core::state::StateError| {
            tributary_core::Error::external(format!("rule {rule}: cannot read its checkpoint: {e}"))
        };
        let offsets = store.offsets(rule).map_err(unreadable)?;
        let sink_positions = (0..sinks)
            .map(|i| store.record(rule, &format!("sink/{i}")))
            .collect::<Result<Vec<_>, _>>()
            .map_err(unreadable)?;
        let mut starts = Vec::with_capacity(rewind.len());
        for (i, r) in rewind.iter().enumerate() {
            if !*r {
                starts.push(Start::default());
                continue;
            }
            let position = match store.record(rule, &format!("position/{i}")) {
                Ok(Some(Value::String(s))) => Some(s.to_string()),
                Ok(_) => None,
                Err(e) => return Err(unreadable(e)),
            };
            starts.push(Start {
                messages: offsets.get(&i).copied().unwrap_or(0),
                position,
            });
        }
        Ok(CheckpointPlan {
            store,
            interval: Duration::from_millis(u64::try_from(interval_ms.max(1)).unwrap_or(1)),
            starts,
            sink_positions,
        })
    }
}

/// Rows held per operator stage, written by the stages and summed by decode stages.
#[derive(Debug, Default)]
pub struct HeldRows(Vec<AtomicUsize>);

impl HeldRows {
    pub fn new(stages: usize) -> Self {
        HeldRows((0..stages).map(|_| AtomicUsize::new(0)).collect())
    }
    pub fn set(&self, stage: usize, n: usize) {
        if let Some(a) = self.0.get(stage) {
            a.store(n, Ordering::Relaxed);
        }
    }
    pub fn total(&self) -> usize {
        self.0.iter().map(|a| a.load(Ordering::Relaxed)).sum()
    }
}

/// A decode stage's side of the protocol.
#[derive(Debug, Clone)]
pub struct Gate {
    /// The latest checkpoint id asked for.
    pub requests: watch::Receiver<u64>,
    /// The latest checkpoint id finished (committed or abandoned).
    pub done: watch::Receiver<u64>,
    pub held: Arc<HeldRows>,
}

impl Gate {
    /// The checkpoint this stage still owes a barrier, if any.
    pub fn pending(&self, answered: u64) -> Option<u64> {
        let asked = *self.requests.borrow();
        (asked > answered && asked > *self.done.borrow()).then_some(asked)
    }

    /// Waits until checkpoint `id` is over (or the coordinator is gone).
    pub async fn wait_done(&mut self, id: u64) {
        let _ = self.done.wait_for(|d| *d >= id).await;
    }
}

/// The coordinator's handles, kept by the pipeline while it starts its stages.
pub struct Coordinator {
    plan: CheckpointPlan,
    rule: String,
    streams: usize,
    requests: watch::Sender<u64>,
    done: watch::Sender<u64>,
    acks: mpsc::UnboundedReceiver<Ack>,
}

impl Coordinator {
    /// The coordinator, the gate for the decode stages, and the sender for the emit
    /// stage's acks.
    pub fn new(
        plan: CheckpointPlan,
        rule: &str,
        streams: usize,
        held: Arc<HeldRows>,
    ) -> (Self, Gate, mpsc::UnboundedSender<Ack>) {
        let (requests, req_rx) = watch::channel(0);
        let (done, done_rx) = watch::channel(0);
        let (ack_tx, acks) = mpsc::unbounded_channel();
        plan.store.begin(rule);
        let gate = Gate {
            requests: req_rx,
            done: done_rx,
            held,
        };
        let c = Coordinator {
            plan,
            rule: rule.to_string(),
            streams,
            requests,
            done,
            acks,
        };
        (c, gate, ack_tx)
    }

    /// Runs until every stream has sent its final barrier (or the emit stage ends).
    pub async fn run(mut self) {
        let mut next_id: u64 = 1;
        let mut ticker = tokio::time::interval(self.plan.interval);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        ticker.tick().await;
        // The acks of the checkpoint in progress, by stream.
        let mut acks: HashMap<usize, Ack> = HashMap::new();
        let mut finals: HashMap<usize, Ack> = HashMap::new();
        let mut in_progress: Option<(u64, tokio::time::Instant)> = None;
        loop {
            let deadline = in_progress.map(|(_, t)| t + ABANDON_AFTER);
            tokio::select! {
                _ = ticker.tick(), if in_progress.is_none() && finals.len() < self.streams => {
                    let _ = self.requests.send(next_id);
                    in_progress = Some((next_id, tokio::time::Instant::now()));
                    next_id += 1;
                }
                _ = sleep_until(deadline), if deadline.is_some() => {
                    if let Some((id, _)) = in_progress.take() {
                        tracing::warn!(rule = %self.rule, checkpoint = id, "checkpoint abandoned: a window still holds rows, or a stream did not answer");
                        acks.clear();
                        let _ = self.done.send(id);
                    }
                }
                ack = self.acks.recv() => {
                    let Some(ack) = ack else { break };
                    let stream = ack.barrier.stream;
                    // The sinks' positions of the last barrier to arrive: by then every
                    // stream is paused, so they hold everything before the checkpoint.
                    let positions = ack.positions.clone();
                    if ack.barrier.id == FINAL {
                        finals.insert(stream, ack);
                    } else if in_progress.is_some_and(|(id, _)| id == ack.barrier.id) {
                        acks.insert(stream, ack);
                    }
                    if finals.len() == self.streams {
                        self.finish(finals.values(), &positions, FINAL);
                        break;
                    }
                    let Some((id, _)) = in_progress else { continue };
                    if (0..self.streams).all(|s| acks.contains_key(&s) || finals.contains_key(&s)) {
                        let all = (0..self.streams).filter_map(|s| acks.get(&s).or_else(|| finals.get(&s)));
                        self.finish(all, &positions, id);
                        acks.clear();
                        in_progress = None;
                        let _ = self.done.send(id);
                    }
                }
            }
        }
        self.plan.store.end(&self.rule);
    }

    /// Commits checkpoint `id` from the acks of every stream, if they are clean.
    fn finish<'a>(
        &self,
        acks: impl Iterator<Item = &'a Ack>,
        positions: &[Option<Value>],
        id: u64,
    ) {
        let acks: Vec<&Ack> = acks.collect();
        let clean = acks.iter().all(|a| a.delivered && a.barrier.held == 0);
        if !clean {
            tracing::debug!(rule = %self.rule, checkpoint = id, "checkpoint skipped: rows held or not delivered");
            return;
        }
        let scope = checkpoint_scope(&self.rule);
        let record = |key: String, value: Option<Value>| StateWrite {
            scope: scope.clone(),
            key,
            value,
        };
        let mut offsets: Vec<StateWrite> = Vec::with_capacity(acks.len() * 2 + positions.len());
        for a in &acks {
            let b = &a.barrier;
            let n = i64::try_from(b.offset).unwrap_or(i64::MAX);
            offsets.push(record(format!("offset/{}", b.stream), Some(Value::Int(n))));
            if let Some(p) = &b.position {
                let p = Some(Value::str(p.as_ref()));
                offsets.push(record(format!("position/{}", b.stream), p));
            }
        }
        for (i, p) in positions.iter().enumerate() {
            offsets.push(record(format!("sink/{i}"), p.clone()));
        }
        let started = std::time::Instant::now();
        match self.plan.store.commit(&self.rule, offsets) {
            Ok(keys) => tracing::debug!(
                rule = %self.rule,
                checkpoint = id,
                keys,
                ms = started.elapsed().as_millis() as u64,
                "checkpoint committed"
            ),
            Err(e) => {
                tracing::error!(rule = %self.rule, checkpoint = id, error = %e, "checkpoint failed; the previous one stands")
            }
        }
    }
}

async fn sleep_until(t: Option<tokio::time::Instant>) {
    match t {
        Some(t) => tokio::time::sleep_until(t).await,
        None => std::future::pending().await,
    }
}

#[cfg(test)]
#[path = "checkpoint_tests.rs"]
mod tests;
