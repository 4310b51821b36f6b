//! Running a rule: one task per stage, connected by bounded channels.
//!
//! ```text
//! source ─► decode ─► operator … operator ─► emit ─┬► sink task
//!                                                 └► sink task
//! ```
//! Every channel holds at most `bufferLength` batches, so a slow sink slows the whole
//! rule down to the source instead of dropping rows. Stopping a rule stops its source;
//! the channels then drain and close stage by stage, and each sink is closed (flushed)
//! after its last emission.

use crate::decode::Decoder;
use crate::metrics::RuleMetrics;
use crate::operator::{for_each_in_order, Chunk, Collector, Item, Operator};
use crate::rule::RuleOptions;
use crate::sink_props::CommonProps;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;
use tributary_core::connector::{Emission, Sink, Source, SourceMessage, SourceSender};
use tributary_core::{Clock, Error};

/// What flows between operator stages.
#[derive(Debug)]
pub enum Event {
    Data(Chunk),
    /// The rule clock reached this time (window ticks).
    Tick(i64),
}

/// A sink and its common properties.
pub struct SinkRunner {
    pub name: String,
    pub sink: Box<dyn Sink>,
    pub props: CommonProps,
}

/// A planned rule, ready to run.
pub struct Pipeline {
    pub rule_id: String,
    pub source: Box<dyn Source>,
    pub decoder: Decoder,
    pub operators: Vec<Box<dyn Operator>>,
    pub sinks: Vec<SinkRunner>,
    pub options: RuleOptions,
    pub metrics: Arc<RuleMetrics>,
    pub clock: Arc<dyn Clock>,
}

impl Pipeline {
    /// Runs the rule until its source ends or `stop` turns true, then drains.
    /// Returns the source's error, if it failed.
    pub async fn run(self, mut stop: watch::Receiver<bool>) -> Result<(), Error> {
        let cap = self.options.buffer_length.max(1);
        let rule_id = self.rule_id.clone();
        let metrics = self.metrics.clone();
        let (src_tx, mut src_rx) = mpsc::channel::<Vec<SourceMessage>>(cap);
        let source = self.source;
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
        let decoder = self.decoder;
        let m = metrics.clone();
        let mut tasks: Vec<JoinHandle<()>> = Vec::new();
        tasks.push(tokio::spawn(async move {
            while let Some(first) = src_rx.recv().await {
                // Coalesce what is already waiting into one batch.
                let mut msgs = first;
                while msgs.len() < 4096 {
                    match src_rx.try_recv() {
                        Ok(more) => msgs.extend(more),
                        Err(_) => break,
                    }
                }
                RuleMetrics::add(&m.records_in, msgs.len() as u64);
                let chunk = decoder.decode(msgs);
                if tx.send(Event::Data(chunk)).await.is_err() {
                    break;
                }
            }
        }));

        // operators
        for mut op in self.operators {
            let (out_tx, next_rx) = mpsc::channel::<Event>(cap);
            let mut input = std::mem::replace(&mut rx, next_rx);
            tasks.push(tokio::spawn(async move {
                let mut col = Collector::new();
                while let Some(ev) = input.recv().await {
                    match ev {
                        Event::Data(c) => op.process(c, &mut col),
                        Event::Tick(t) => {
                            op.on_tick(t, &mut col);
                            if out_tx.send(Event::Tick(t)).await.is_err() {
                                return;
                            }
                        }
                    }
                    let outs: Vec<Chunk> = col.drain().collect();
                    for c in outs {
                        if out_tx.send(Event::Data(c)).await.is_err() {
                            return;
                        }
                    }
                }
            }));
        }

        // sinks
        let mut sink_txs = Vec::new();
        for s in self.sinks {
            let (stx, srx) = mpsc::channel::<Emission>(cap);
            sink_txs.push(stx);
            tasks.push(tokio::spawn(run_sink(
                rule_id.clone(),
                s,
                srx,
                metrics.clone(),
            )));
        }

        // emit: chunks → emissions, fanned out to every sink
        let send_error = self.options.send_error;
        let clock = self.clock.clone();
        let m = metrics.clone();
        let emit = tokio::spawn(async move {
            while let Some(ev) = rx.recv().await {
                let Event::Data(chunk) = ev else { continue };
                for e in to_emissions(chunk, &m) {
                    if matches!(e, Emission::Error(_)) && !send_error {
                        continue;
                    }
                    RuleMetrics::add(&m.emissions, 1);
                    m.last_emit_ms.store(clock.now_ms(), Ordering::Relaxed);
                    for stx in &sink_txs {
                        // A closed sink channel means that sink task ended; the others
                        // still get the emission.
                        let _ = stx.send(e.clone()).await;
                    }
                }
            }
        });

        let src_result = match source_task.await {
            Ok(r) => r,
            Err(e) => Err(Error::internal(format!(
                "source task of rule {rule_id} failed: {e}"
            ))),
        };
        for t in tasks {
            let _ = t.await;
        }
        let _ = emit.await;
        if let Err(e) = &src_result {
            tracing::error!(rule = %rule_id, error = %e, "source failed");
        }
        src_result
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
            None => vec![Emission::Rows(Arc::new(chunk.rows))],
        };
    }
    let mut out = Vec::with_capacity(chunk.rows.len() + chunk.errors.len());
    for_each_in_order(chunk, |item| match item {
        Item::Row(r) => out.push(Emission::Rows(Arc::new(vec![r]))),
        Item::Error(e) => out.push(Emission::Error(e)),
    });
    out
}

async fn run_sink(
    rule_id: String,
    mut s: SinkRunner,
    mut rx: mpsc::Receiver<Emission>,
    m: Arc<RuleMetrics>,
) {
    while let Some(e) = rx.recv().await {
        for item in s.props.shape(&e) {
            let data = match item {
                Ok(d) => d,
                Err(err) => {
                    tracing::error!(rule = %rule_id, sink = %s.name, error = %err, "cannot shape emission");
                    RuleMetrics::add(&m.sink_failures, 1);
                    continue;
                }
            };
            let mut attempt = 0;
            loop {
                match s.sink.collect(&data).await {
                    Ok(()) => break,
                    Err(err) if attempt < s.props.retry_count => {
                        attempt += 1;
                        tracing::warn!(rule = %rule_id, sink = %s.name, attempt, error = %err, "sink failed, retrying");
                        tokio::time::sleep(std::time::Duration::from_millis(
                            s.props.retry_interval_ms,
                        ))
                        .await;
                    }
                    Err(err) => {
                        tracing::error!(rule = %rule_id, sink = %s.name, error = %err, "sink failed after retries; emission not delivered");
                        RuleMetrics::add(&m.sink_failures, 1);
                        break;
                    }
                }
            }
        }
    }
    if let Err(e) = s.sink.close().await {
        tracing::error!(rule = %rule_id, sink = %s.name, error = %e, "sink close failed");
    }
}
