//! Which tuples form which window, and when a window fires — on an explicit clock.
//!
//! The assigner knows nothing about operators, channels or wall time: it is told about
//! each tuple ([`Assigner::insert`]) and about the clock moving on
//! ([`Assigner::advance`]), and appends the windows that fire. The same code serves
//! processing time (the clock is the rule's clock) and event time (the clock is the
//! watermark), and is unit-tested on made-up times.
//!
//! Boundaries follow eKuiper 1.10+: tumbling and hopping windows are `[start, end)`,
//! sliding windows `[t - size, t]` (`[t - size, t + delay)` with a delay), sessions run
//! from their first tuple to the timeout or to an aligned multiple of their maximum
//! duration.

use super::align::aligned_end;
use std::collections::VecDeque;
use tributary_core::Row;
use tributary_sql::{Window, WindowKind};

/// What a tuple left in a window.
#[derive(Debug, Clone, PartialEq)]
pub enum Entry {
    Row(Row),
    /// A tuple that WHERE removed after it entered the window: it still counts for a
    /// count window and still triggers a sliding window, as in eKuiper, where WHERE runs
    /// after those windows.
    Dropped,
    /// A tuple whose WHERE failed; it makes the whole window an error.
    Error(String),
}

/// A window that fired.
#[derive(Debug, Clone, PartialEq)]
pub struct Fired {
    pub start: i64,
    pub end: i64,
    pub entries: Vec<Entry>,
}

/// Per-tuple conditions the operator evaluated for the assigner.
#[derive(Debug, Clone, Copy, Default)]
pub struct Flags {
    /// `OVER (WHEN …)` of a sliding window held (true without one).
    pub trigger: bool,
    /// `STATEWINDOW`'s begin and emit conditions held.
    pub begin: bool,
    pub emit: bool,
}

#[derive(Debug)]
struct Session {
    start: i64,
    last: i64,
}

#[derive(Debug)]
pub struct Assigner {
    window: Window,
    event_time: bool,
    buf: VecDeque<(i64, Entry)>,
    /// Tumbling and hopping: the next window end; sessions: the next max-duration tick.
    next_end: Option<i64>,
    /// Tumbling: the start of the open window.
    window_start: i64,
    /// Sliding with a delay: (trigger time, due time) of windows waiting to fire.
    pending: VecDeque<(i64, i64)>,
    session: Option<Session>,
    /// Count windows: tuples since the last emission.
    count: usize,
    /// State windows: between begin and emit.
    open: bool,
    /// Whether tuples are kept (`false` for a stage that folds them as they arrive: then
    /// only the first time and the number of the tuples since the last window are).
    keep: bool,
    /// With `keep` off: (first tuple time, tuples) since the last window.
    held: Option<(i64, usize)>,
}

impl Assigner {
    /// `start_ms` is the rule's start (processing time); in event time the first tuple
    /// starts the windows instead.
    pub fn new(window: Window, start_ms: i64, event_time: bool) -> Self {
        let mut a = Assigner {
            window,
            event_time,
            buf: VecDeque::new(),
            next_end: None,
            window_start: start_ms,
            pending: VecDeque::new(),
            session: None,
            count: 0,
            open: false,
            keep: true,
            held: None,
        };
        if !event_time {
            a.next_end = a.first_end(start_ms);
        }
        a
    }

    /// For tumbling and session windows whose tuples are folded as they arrive: the
    /// assigner keeps only when the open window began and how many tuples it has, so
    /// its memory does not grow with the window (`Fired::entries` is then empty).
    pub fn without_entries(mut self) -> Self {
        debug_assert!(matches!(
            self.window.kind,
            WindowKind::Tumbling { .. } | WindowKind::Session { .. } | WindowKind::Hopping { .. }
        ));
        self.keep = false;
        self
    }

    fn push(&mut self, ts: i64, entry: Entry) {
        if self.keep {
            self.buf.push_back((ts, entry));
        } else {
            let (first, n) = self.held.unwrap_or((ts, 0));
            self.held = Some((first, n + 1));
        }
    }

    fn first_ts(&self) -> Option<i64> {
        match self.keep {
            true => self.buf.front().map(|(t, _)| *t),
            false => self.held.map(|(t, _)| t),
        }
    }

    fn has_entries(&self) -> bool {
        !self.buf.is_empty() || self.held.is_some_and(|(_, n)| n > 0)
    }

    /// Takes the tuples before `end` (every tuple held, without `keep`: tuples arrive
    /// in time order and a window fires before any later tuple is added).
    fn take_before(&mut self, end: i64) -> Vec<Entry> {
        self.held = None;
        let n = self.buf.iter().take_while(|(t, _)| *t < end).count();
        self.buf.drain(..n).map(|(_, e)| e).collect()
    }

    fn first_end(&self, t: i64) -> Option<i64> {
        let unit = self.window.unit?;
        match self.window.kind {
            WindowKind::Tumbling { .. }
            | WindowKind::Hopping { .. }
            | WindowKind::Session { .. } => Some(aligned_end(t, self.window.raw_interval(), unit)),
            _ => None,
        }
    }

    /// The earliest time at which [`Assigner::advance`] would fire something.
    /// How many tuples wait for a window still to fire.
    pub fn buffered(&self) -> usize {
        let kept = match self.window.kind {
            // The buffer keeps the last `size - 1` tuples, but the next window (after
            // `hop - count` more) reaches back only `size - (hop - count)` of them.
            WindowKind::Count { size, hop } => self
                .buf
                .len()
                .min(size.saturating_sub(hop.saturating_sub(self.count))),
            _ => self.buf.len(),
        };
        kept + self.held.map_or(0, |(_, n)| n)
    }

    pub fn next_due(&self) -> Option<i64> {
        match self.window.kind {
            WindowKind::Tumbling { .. } | WindowKind::Hopping { .. } => self.next_end,
            WindowKind::Sliding { .. } => self.pending.front().map(|p| p.1),
            WindowKind::Session { timeout, .. } => {
                let t = self.session.as_ref().map(|s| s.last + timeout);
                match (t, self.next_end) {
                    (Some(a), Some(b)) => Some(a.min(b)),
                    (a, b) => a.or(b),
                }
            }
            WindowKind::Count { .. } | WindowKind::State { .. } => None,
        }
    }

    /// Fires every window due at or before `now`, in time order.
    pub fn advance(&mut self, now: i64, out: &mut Vec<Fired>) {
        match self.window.kind.clone() {
            WindowKind::Tumbling { size } => {
                while let Some(end) = self.next_end.filter(|e| *e <= now) {
                    let entries = self.take_before(end);
                    // In event time windows are aligned; in processing time the
                    // first one starts with the rule.
                    let start = if self.event_time {
                        end - size
                    } else {
                        self.window_start
                    };
                    out.push(Fired {
                        start,
                        end,
                        entries,
                    });
                    self.window_start = end;
                    self.next_end = Some(end + size);
                }
            }
            WindowKind::Hopping { size, hop } => {
                while let Some(end) = self.next_end.filter(|e| *e <= now) {
                    self.fire_range(end - size, end, false, out);
                    let keep_from = end + hop - size;
                    while self.buf.front().is_some_and(|(t, _)| *t < keep_from) {
                        self.buf.pop_front();
                    }
                    self.next_end = Some(end + hop);
                }
            }
            WindowKind::Sliding { size, delay } => {
                while let Some(&(t, due)) = self.pending.front().filter(|p| p.1 <= now) {
                    self.pending.pop_front();
                    self.fire_range(t - size, due, false, out);
                }
                let horizon = now - size - delay;
                let oldest_pending = self.pending.front().map(|p| p.0 - size);
                let keep_from = oldest_pending.map_or(horizon, |p| p.min(horizon));
                while self.buf.front().is_some_and(|(t, _)| *t < keep_from) {
                    self.buf.pop_front();
                }
            }
            WindowKind::Session { max, timeout } => loop {
                let timeout_due = self.session.as_ref().map(|s| s.last + timeout);
                let tick_due = self.next_end;
                let tick_first = match (timeout_due, tick_due) {
                    (Some(a), Some(b)) => b < a,
                    (None, Some(_)) => true,
                    _ => false,
                };
                if tick_first {
                    let Some(tick) = tick_due.filter(|t| *t <= now) else {
                        break;
                    };
                    self.next_end = Some(tick + max);
                    let first = self.first_ts();
                    if first.is_some_and(|f| tick - max >= f) {
                        let entries = self.take_before(tick);
                        let start = self.session.as_ref().map_or(tick - max, |s| s.start);
                        out.push(Fired {
                            start,
                            end: tick,
                            entries,
                        });
                        if let Some(s) = self.session.as_mut() {
                            s.start = tick;
                        }
                    }
                } else {
                    let Some(due) = timeout_due.filter(|t| *t <= now) else {
                        break;
                    };
                    let start = self.session.take().map_or(due, |s| s.start);
                    if self.has_entries() {
                        let entries = self.take_before(i64::MAX);
                        out.push(Fired {
                            start,
                            end: due,
                            entries,
                        });
                    }
                }
            },
            WindowKind::Count { .. } | WindowKind::State { .. } => {}
        }
    }

    /// Moves the clock to a tuple's time `ts` without keeping the tuple (in event time
    /// the first one starts the windows), for a stage that aggregates tuples as they
    /// arrive and needs only to know when a tumbling window closes.
    pub fn pass(&mut self, ts: i64, out: &mut Vec<Fired>) {
        if self.event_time && self.next_end.is_none() {
            self.next_end = self.first_end(ts);
        }
        self.advance(ts, out);
    }

    /// Adds a tuple at time `ts` (after firing what was due before it).
    pub fn insert(&mut self, ts: i64, entry: Entry, flags: Flags, out: &mut Vec<Fired>) {
        if self.event_time && self.next_end.is_none() && self.session.is_none() {
            // In event time the first tuple starts the windows: the first one is the
            // aligned window holding it.
            self.next_end = self.first_end(ts);
        }
        self.advance(ts, out);
        match self.window.kind.clone() {
            WindowKind::Tumbling { .. } => self.push(ts, entry),
            WindowKind::Hopping { .. } => self.push(ts, entry),
            WindowKind::Sliding { size, delay } => {
                self.buf.push_back((ts, entry));
                if flags.trigger {
                    if delay == 0 {
                        self.fire_range(ts - size, ts, true, out);
                    } else {
                        self.pending.push_back((ts, ts + delay));
                    }
                }
            }
            WindowKind::Session { .. } => {
                match self.session.as_mut() {
                    Some(s) => s.last = ts,
                    None => {
                        self.session = Some(Session {
                            start: ts,
                            last: ts,
                        })
                    }
                }
                self.push(ts, entry);
            }
            WindowKind::Count { size, hop } => {
                self.buf.push_back((ts, entry));
                self.count += 1;
                if self.count.is_multiple_of(hop) {
                    self.count = 0;
                    if self.buf.len() >= size {
                        let skip = self.buf.len() - size;
                        let entries = self.buf.iter().skip(skip).map(|(_, e)| e.clone()).collect();
                        out.push(Fired {
                            start: ts,
                            end: ts,
                            entries,
                        });
                    }
                }
                while self.buf.len() >= size.max(1) {
                    self.buf.pop_front();
                }
                // The last `size - 1` tuples may be part of the next window.
            }
            WindowKind::State { .. } => {
                if !self.open && flags.begin {
                    self.open = true;
                }
                if self.open {
                    self.buf.push_back((ts, entry));
                    if flags.emit {
                        let start = self.buf.front().map_or(ts, |(t, _)| *t);
                        let entries = self.buf.drain(..).map(|(_, e)| e).collect();
                        out.push(Fired {
                            start,
                            end: ts,
                            entries,
                        });
                        self.open = false;
                    }
                }
            }
        }
    }

    /// Fires the buffered tuples of `[start, end]` (`closed`) or `[start, end)`.
    fn fire_range(&self, start: i64, end: i64, closed: bool, out: &mut Vec<Fired>) {
        let entries = self
            .buf
            .iter()
            .filter(|(t, _)| *t >= start && (*t < end || (closed && *t == end)))
            .map(|(_, e)| e.clone())
            .collect();
        out.push(Fired {
            start,
            end,
            entries,
        });
    }
}

#[cfg(test)]
#[path = "assigner_tests.rs"]
mod tests;
