//! A rule's sink task: shapes each emission by the common sink props and delivers it,
//! holding what the destination will not take.
//!
//! A delivery that fails is retried `retryCount` times, `retryInterval` apart. If it
//! still fails, the message is held, and the messages after it queue behind it (order
//! is kept), up to `bufferLength` messages (default 1024). The oldest is tried again
//! every `retryInterval` until the destination takes it. When the hold is full, the
//! task stops taking emissions, so the rule slows down to what the sink delivers
//! instead of dropping anything; that is logged once per episode. When the input
//! ends, the task keeps trying until everything held is delivered. Only a stop of the
//! rule drops what is still undelivered after one last try, logged with the count and
//! counted in `sink_failures`. A checkpoint does not count while messages are held.

use crate::metrics::RuleMetrics;
use crate::runtime::SinkRunner;
use std::collections::VecDeque;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, watch};
use tributary_core::connector::{Emission, SinkData};

/// What flows to a sink task.
pub(crate) enum SinkEvent {
    Emissions(Vec<Emission>),
    /// Flush, then say whether everything since the last barrier was delivered, and
    /// where the output stands.
    Barrier(tokio::sync::oneshot::Sender<(bool, Option<tributary_core::Value>)>),
}

/// The sink and what it holds.
struct Delivery {
    rule_id: String,
    s: SinkRunner,
    m: Arc<RuleMetrics>,
    held: VecDeque<SinkData>,
    /// Messages not delivered since the last barrier (shaping errors).
    lost: bool,
    full_reported: bool,
}

impl Delivery {
    fn interval(&self) -> Duration {
        Duration::from_millis(self.s.props.retry_interval_ms.max(1))
    }

    /// Records the outcome of one delivery attempt for the rule's status.
    fn outcome(&self, r: &Result<(), tributary_core::Error>) {
        match r {
            Ok(()) => self.s.delivery.ok(1),
            Err(e) => {
                let now = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map_or(0, |d| d.as_millis() as i64);
                self.s.delivery.failed(&e.to_string(), now);
            }
        }
    }

    /// Whether a warning of `kind` about this sink may be logged now (rate-limited
    /// per sink and kind), and how many were held back since the last.
    fn may_warn(&self, kind: &str) -> Option<u64> {
        let key = format!("sink/{}/{}/{kind}", self.rule_id, self.s.name);
        tributary_core::log_limit::global().allow(&key)
    }

    fn set_gauge(&self) {
        self.m
            .sink_held
            .store(self.held.len() as u64, Ordering::Relaxed);
    }

    /// Delivers `data` with its retries; false when it still failed (or the rule is
    /// stopping, when no more retries are made).
    async fn deliver(&mut self, data: &SinkData, stop: &watch::Receiver<bool>) -> bool {
        let mut attempt = 0;
        loop {
            let r = self.s.sink.collect(data).await;
            self.outcome(&r);
            match r {
                Ok(()) => return true,
                Err(err) if attempt < self.s.props.retry_count && !*stop.borrow() => {
                    attempt += 1;
                    if let Some(held) = self.may_warn("retry") {
                        tracing::warn!(rule = %self.rule_id, sink = %self.s.name, attempt, error = %err, suppressed = held, "sink failed, retrying");
                    }
                    tokio::time::sleep(self.interval()).await;
                }
                Err(err) => {
                    if let Some(held) = self.may_warn("held") {
                        tracing::warn!(rule = %self.rule_id, sink = %self.s.name, error = %err, held = self.held.len() + 1, suppressed = held, "sink failed after retries; the message is held and tried again");
                    }
                    return false;
                }
            }
        }
    }

    /// Shapes an emission and delivers its messages, holding what fails (and what
    /// comes after it).
    async fn take(&mut self, e: Emission, stop: &watch::Receiver<bool>) {
        let mut shaped = Vec::new();
        self.s.props.shape(e, &mut |d| shaped.push(d));
        for item in shaped {
            let data = match item {
                Ok(d) => d,
                Err(err) => {
                    tracing::error!(rule = %self.rule_id, sink = %self.s.name, error = %err, "cannot shape emission");
                    RuleMetrics::add(&self.m.sink_failures, 1);
                    self.lost = true;
                    continue;
                }
            };
            if !self.held.is_empty() || !self.deliver(&data, stop).await {
                self.held.push_back(data);
            }
        }
        self.set_gauge();
    }

    /// One more try of the oldest held message.
    async fn retry_head(&mut self) {
        let Some(head) = self.held.front() else {
            return;
        };
        let r = self.s.sink.collect(head).await;
        self.outcome(&r);
        match r {
            Ok(()) => {
                self.held.pop_front();
                // Deliver what follows while the destination takes it.
                while let Some(next) = self.held.front() {
                    let r = self.s.sink.collect(next).await;
                    self.outcome(&r);
                    if r.is_err() {
                        break;
                    }
                    self.held.pop_front();
                }
                if self.held.is_empty() {
                    tracing::info!(rule = %self.rule_id, sink = %self.s.name, "sink delivers again; nothing held");
                    self.full_reported = false;
                }
            }
            Err(err) => {
                tracing::debug!(rule = %self.rule_id, sink = %self.s.name, error = %err, held = self.held.len(), "sink still failing");
            }
        }
        self.set_gauge();
    }

    fn full(&mut self) -> bool {
        let limit = self.s.props.buffer_length.max(1);
        let full = self.held.len() >= limit;
        if full && !self.full_reported {
            tracing::error!(rule = %self.rule_id, sink = %self.s.name, held = self.held.len(), limit, "sink buffer full: the rule waits until the sink delivers");
            self.full_reported = true;
        }
        full
    }
}

pub(crate) async fn run_sink(
    rule_id: String,
    s: SinkRunner,
    mut rx: mpsc::Receiver<SinkEvent>,
    m: Arc<RuleMetrics>,
    stop: watch::Receiver<bool>,
    resume: Option<tributary_core::Value>,
) {
    let mut d = Delivery {
        rule_id,
        s,
        m,
        held: VecDeque::new(),
        lost: false,
        full_reported: false,
    };
    if let Err(e) = d.s.sink.open().await {
        tracing::error!(rule = %d.rule_id, sink = %d.s.name, error = %e, "the sink cannot open; its first delivery tries again");
    }
    if let Some(position) = resume {
        if let Err(e) = d.s.sink.resume(&position) {
            tracing::error!(rule = %d.rule_id, sink = %d.s.name, error = %e, "cannot resume the sink at its checkpoint; it starts afresh");
        }
    }
    loop {
        // A full hold takes nothing more until the sink delivers (or the rule stops).
        if d.full() {
            if *stop.borrow() {
                break;
            }
            let mut stop_wait = stop.clone();
            tokio::select! {
                _ = tokio::time::sleep(d.interval()) => d.retry_head().await,
                _ = stop_wait.changed() => {}
            }
            continue;
        }
        let ev = if d.held.is_empty() {
            rx.recv().await
        } else {
            tokio::select! {
                ev = rx.recv() => ev,
                _ = tokio::time::sleep(d.interval()) => {
                    d.retry_head().await;
                    continue;
                }
            }
        };
        let Some(ev) = ev else { break };
        match ev {
            SinkEvent::Emissions(batch) => {
                for e in batch {
                    d.take(e, &stop).await;
                }
            }
            SinkEvent::Barrier(answer) => {
                let flushed = match d.s.sink.flush().await {
                    Ok(()) => true,
                    Err(e) => {
                        tracing::error!(rule = %d.rule_id, sink = %d.s.name, error = %e, "sink flush failed at a checkpoint");
                        false
                    }
                };
                let delivered = flushed && !d.lost && d.held.is_empty();
                let _ = answer.send((delivered, d.s.sink.position()));
                d.lost = false;
            }
        }
    }
    // The input ended or the rule is stopping: take what is left in the channel.
    while let Ok(ev) = rx.try_recv() {
        if let SinkEvent::Emissions(batch) = ev {
            for e in batch {
                d.take(e, &stop).await;
            }
        }
    }
    // A finished input keeps trying what is held until it is delivered; a stop makes
    // one last try.
    while !d.held.is_empty() && !*stop.borrow() {
        let mut stop_wait = stop.clone();
        tokio::select! {
            _ = tokio::time::sleep(d.interval()) => d.retry_head().await,
            _ = stop_wait.changed() => {}
        }
    }
    d.retry_head().await;
    if !d.held.is_empty() {
        tracing::error!(rule = %d.rule_id, sink = %d.s.name, dropped = d.held.len(), "the rule stopped with messages its sink never took; they are not delivered");
        RuleMetrics::add(&d.m.sink_failures, d.held.len() as u64);
        d.held.clear();
        d.set_gauge();
    }
    if let Err(e) = d.s.sink.close().await {
        tracing::error!(rule = %d.rule_id, sink = %d.s.name, error = %e, "sink close failed");
    }
}
