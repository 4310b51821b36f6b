//! A rule's decode stage: what a source sends, coalesced into batches and decoded by
//! the stream's decoder; under `qos` ≥ 1 it also answers checkpoint barriers for its
//! stream, counting the messages consumed (the offset a resumed rule starts at).

use crate::checkpoint::{Barrier, Gate, FINAL};
use crate::decode::Decoder;
use crate::event::Event;
use crate::metrics::RuleMetrics;
use std::sync::Arc;
use tokio::sync::mpsc;
use tributary_core::connector::SourceMessage;

/// A decode stage's part in checkpoints.
pub(crate) struct DecodeCheckpoint {
    pub gate: Gate,
    pub stream: usize,
    /// Messages consumed since the stream's start (its resumed offset included).
    pub offset: u64,
    /// The source's own position after the last message consumed (or the one the
    /// stream resumed from), for a source that keeps one.
    pub position: Option<Arc<str>>,
    /// The last checkpoint id answered.
    pub answered: u64,
}

/// Decodes what a source sends, coalescing what is already waiting into one batch; a
/// run of messages of one stream is decoded by that stream's decoder.
pub(crate) async fn decode_stage(
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
                        position: c.position.clone(),
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
            if let Some(p) = msgs.iter().rev().find_map(|m| m.position.as_ref()) {
                c.position = Some(p.clone());
            }
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
            position: c.position,
            held: 0,
        };
        let _ = tx.send(Event::Barrier(b)).await;
    }
}
