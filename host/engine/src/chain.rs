//! A rule's operators and its emit step, run back to back in one task.
//!
//! Operators are synchronous, so nothing is gained by giving each its own task but
//! the overlap of stages, and each hop between tasks costs a wake-up per batch (on a
//! multi-thread runtime often a thread's wake-up). Small batches pay it most: an MQTT
//! source hands over the one to ten messages of each socket read, and with a task
//! per operator and one for the emit step, the hops cost more than the rows. In one
//! task, a batch goes through every operator and out to the sinks' channels before
//! the next is taken, in the same order the channels kept.

use crate::checkpoint::{Ack, HeldRows};
use crate::event::Event;
use crate::metrics::RuleMetrics;
use crate::operator::{
    for_each_in_order, process_guarded, tick_guarded, Chunk, Collector, Item, Operator,
};
use crate::sink_task::SinkEvent;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use tokio::sync::mpsc;
use tributary_core::connector::{Emission, Rows};
use tributary_core::function::Cancel;
use tributary_core::Clock;

/// The operators, in order.
pub(crate) struct Chain {
    ops: Vec<Box<dyn Operator>>,
    col: Collector,
    held: Arc<HeldRows>,
    /// Checkpoints need the rows each operator holds after every event.
    track_held: bool,
    /// Every operator maps a row to at most one row or error ([`Operator::per_row`]).
    per_row: bool,
}

impl Chain {
    pub fn new(ops: Vec<Box<dyn Operator>>, held: Arc<HeldRows>, track_held: bool) -> Self {
        Chain {
            per_row: ops.iter().all(|o| o.per_row()),
            ops,
            col: Collector::new(),
            held,
            track_held,
        }
    }

    /// The earliest timer any operator asked for.
    pub fn next_timer(&self) -> Option<i64> {
        self.ops.iter().filter_map(|op| op.next_timer()).min()
    }

    /// The first operator whose timer is due at `now`.
    pub fn first_due(&self, now: i64) -> Option<usize> {
        self.ops
            .iter()
            .position(|op| op.next_timer().is_some_and(|due| due <= now))
    }

    /// Runs `ev` through the operators from `stage` on, and appends what leaves the
    /// last one to `out`, in order. A tick or barrier goes on to the next operator
    /// before the rows its operator emitted because of it, as the stages' channels
    /// used to carry them.
    pub fn push(&mut self, stage: usize, ev: Event, out: &mut Vec<Event>) {
        let Some(op) = self.ops.get_mut(stage) else {
            out.push(ev);
            return;
        };
        let forward = match ev {
            Event::Data(c) => {
                process_guarded(op.as_mut(), c, &mut self.col);
                None
            }
            Event::Tick(t) => {
                tick_guarded(op.as_mut(), t, &mut self.col);
                Some(Event::Tick(t))
            }
            Event::Barrier(mut b) => {
                b.held += op.held_rows();
                Some(Event::Barrier(b))
            }
        };
        if self.track_held {
            self.held.set(stage, op.held_rows());
        }
        let produced: Vec<_> = self.col.drain().collect();
        if let Some(f) = forward {
            self.push(stage + 1, f, out);
        }
        for c in produced {
            self.push(stage + 1, Event::Data(c), out);
        }
    }
}

/// Runs `ev` through the chain from `stage` on and emits what comes out. The time the
/// operators spend on data and ticks goes to `process_ns`; each input batch counts
/// once in `batches`.
pub(crate) async fn step(
    chain: &mut Chain,
    emitter: &Emitter,
    stage: usize,
    ev: Event,
    out: &mut Vec<Event>,
) {
    let m = &emitter.m;
    let input_batch = stage == 0 && matches!(ev, Event::Data(_));
    let rows_in = match &ev {
        Event::Data(c) if input_batch => c.rows.len() + c.errors.len(),
        _ => 0,
    };
    let timed = !matches!(ev, Event::Barrier(_));
    let t = timed.then(std::time::Instant::now);
    chain.push(stage, ev, out);
    if let Some(t) = t {
        RuleMetrics::add(&m.process_ns, t.elapsed().as_nanos() as u64);
    }
    if input_batch {
        RuleMetrics::add(&m.batches, 1);
        if chain.per_row {
            let rows_out: usize = out
                .iter()
                .map(|e| match e {
                    Event::Data(c) => c.rows.len() + c.errors.len(),
                    _ => 0,
                })
                .sum();
            RuleMetrics::add(&m.filtered, rows_in.saturating_sub(rows_out) as u64);
        }
    }
    for ev in out.drain(..) {
        emitter.handle(ev).await;
    }
}

/// How the chain task runs: the rule's timers on the wall clock (not in a trial),
/// its channel's capacity, and what a stop does.
pub(crate) struct ChainRun {
    pub rule_id: String,
    pub wall_timers: bool,
    pub clock: Arc<dyn Clock>,
    pub cap: usize,
    pub cancel: Cancel,
    pub qos: u8,
}

/// The chain task: every event through the operators and out to the sinks, timers
/// fired on time, until the input ends or the rule is cancelled.
pub(crate) async fn run_chain(
    mut chain: Chain,
    emitter: Emitter,
    mut rx: mpsc::Receiver<Event>,
    run: ChainRun,
) {
    let mut out = Vec::new();
    loop {
        if run.cancel.is_cancelled() {
            drop_queued(&mut rx, &run.rule_id, run.qos).await;
            break;
        }
        let due = if run.wall_timers {
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
        let wait = u64::try_from(due - run.clock.now_ms()).unwrap_or(0);
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
        // Rows already queued were stamped before the timer fired (a slow sink may
        // have held this task back): they go first, so that they are not pushed into
        // a later window. Bounded, so a busy input cannot starve the timer.
        for _ in 0..run.cap {
            match rx.try_recv() {
                Ok(ev) => step(&mut chain, &emitter, 0, ev, &mut out).await,
                Err(_) => break,
            }
        }
        // The sleep may end a little early on a millisecond boundary: the tick is at
        // least the due time. It starts at the first operator now due, and reaches
        // every one after it.
        let now = run.clock.now_ms().max(due);
        if let Some(stage) = chain.first_due(now) {
            step(&mut chain, &emitter, stage, Event::Tick(now), &mut out).await;
        }
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

/// The emit step: chunks → emissions, fanned out to every sink, one send per chunk;
/// barriers to every sink, then acknowledged to the checkpoint coordinator.
pub(crate) struct Emitter {
    pub sink_txs: Vec<mpsc::Sender<SinkEvent>>,
    pub ack_tx: Option<mpsc::UnboundedSender<Ack>>,
    pub send_error: bool,
    pub clock: Arc<dyn Clock>,
    pub m: Arc<RuleMetrics>,
}

impl Emitter {
    pub async fn handle(&self, ev: Event) {
        let chunk = match ev {
            Event::Data(chunk) => chunk,
            Event::Tick(_) => return,
            Event::Barrier(barrier) => {
                let (delivered, positions) = barrier_to_sinks(&self.sink_txs).await;
                if let Some(a) = &self.ack_tx {
                    let _ = a.send(Ack {
                        barrier,
                        delivered,
                        positions,
                    });
                }
                return;
            }
        };
        if let Some((_, e)) = chunk.errors.last() {
            self.m.note_error(e, self.clock.now_ms());
        }
        let mut emissions = to_emissions(chunk, &self.m);
        if !self.send_error {
            emissions.retain(|e| !matches!(e, Emission::Error(_)));
        }
        if emissions.is_empty() {
            return;
        }
        RuleMetrics::add(&self.m.emissions, emissions.len() as u64);
        self.m
            .last_emit_ms
            .store(self.clock.now_ms(), Ordering::Relaxed);
        // Each sink owns its copy (rows share their values); the last one gets the
        // original.
        let mut emissions = Some(emissions);
        for (i, stx) in self.sink_txs.iter().enumerate() {
            let batch = if i + 1 == self.sink_txs.len() {
                emissions.take().unwrap_or_default()
            } else {
                emissions.clone().unwrap_or_default()
            };
            // A closed sink channel means that sink task ended; the others still get
            // the emissions.
            let _ = stx.send(SinkEvent::Emissions(batch)).await;
        }
    }
}

/// Passes a barrier to every sink. Returns whether all of them flushed and delivered
/// everything since the previous one, and their positions.
async fn barrier_to_sinks(
    sinks: &[mpsc::Sender<SinkEvent>],
) -> (bool, Vec<Option<tributary_core::Value>>) {
    let mut answers = Vec::with_capacity(sinks.len());
    for s in sinks {
        let (tx, rx) = tokio::sync::oneshot::channel();
        if s.send(SinkEvent::Barrier(tx)).await.is_err() {
            return (false, Vec::new());
        }
        answers.push(rx);
    }
    let mut ok = true;
    let mut positions = Vec::with_capacity(answers.len());
    for a in answers {
        let (delivered, position) = a.await.unwrap_or((false, None));
        ok &= delivered;
        positions.push(position);
    }
    (ok, positions)
}

/// Turns a chunk into emissions: one per row (and per error), or one for a grouped
/// chunk (a window), where an error replaces the whole emission.
pub(crate) fn to_emissions(chunk: Chunk, m: &RuleMetrics) -> Vec<Emission> {
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
mod tests {
    use super::*;
    use crate::operator::Chunk;
    use std::sync::Mutex;

    /// An operator that logs what it sees, asks for a timer at `due`, and emits an
    /// error chunk (a one-item chunk) when ticked.
    struct Probe {
        name: &'static str,
        due: Option<i64>,
        seen: Arc<Mutex<Vec<String>>>,
    }

    impl Operator for Probe {
        fn process(&mut self, input: Chunk, out: &mut Collector) {
            let what = input
                .errors
                .first()
                .map(|e| e.1.clone())
                .unwrap_or_default();
            self.seen
                .lock()
                .expect("log")
                .push(format!("{} data {what}", self.name));
            out.collect(input);
        }
        fn on_tick(&mut self, now_ms: i64, out: &mut Collector) {
            self.seen
                .lock()
                .expect("log")
                .push(format!("{} tick {now_ms}", self.name));
            let mut c = Chunk::default();
            c.errors.push((0, format!("fired by {}", self.name)));
            out.collect(c);
        }
        fn next_timer(&self) -> Option<i64> {
            self.due
        }
    }

    fn chain(dues: [Option<i64>; 2]) -> (Chain, Arc<Mutex<Vec<String>>>) {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let ops: Vec<Box<dyn Operator>> = ["a", "b"]
            .into_iter()
            .zip(dues)
            .map(|(name, due)| {
                Box::new(Probe {
                    name,
                    due,
                    seen: seen.clone(),
                }) as Box<dyn Operator>
            })
            .collect();
        (Chain::new(ops, Arc::new(HeldRows::new(2)), true), seen)
    }

    #[test]
    fn a_tick_reaches_the_next_operator_before_the_rows_it_fired() {
        let (mut c, seen) = chain([Some(5), None]);
        let mut out = Vec::new();
        c.push(0, Event::Tick(5), &mut out);
        assert_eq!(
            *seen.lock().expect("log"),
            ["a tick 5", "b tick 5", "b data fired by a"]
        );
        assert!(matches!(out[0], Event::Tick(5)));
        assert_eq!(out.len(), 3, "the tick, then what b fired, then a's rows");
    }

    #[test]
    fn the_tick_starts_at_the_first_operator_due() {
        let (c, _) = chain([Some(200), Some(150)]);
        assert_eq!(c.next_timer(), Some(150));
        assert_eq!(c.first_due(100), None);
        assert_eq!(c.first_due(170), Some(1));
        // Both overdue: the upstream one first, so its rows reach the other in time.
        assert_eq!(c.first_due(250), Some(0));
    }
}
