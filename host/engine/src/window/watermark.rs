//! Event time: tuples are held until the watermark passes them, then released in
//! timestamp order.
//!
//! As in eKuiper, the watermark comes from the data only: it is the largest event time
//! seen minus the rule's `lateTolerance` (the minimum over the rule's streams, when
//! there are several). A tuple older than the current watermark is late and dropped.

use std::collections::VecDeque;

#[derive(Debug)]
pub struct Watermark<T> {
    late_tolerance: i64,
    /// The largest event time seen per stream of the rule.
    max_seen: Vec<Option<i64>>,
    watermark: Option<i64>,
    /// Held tuples in (event time, arrival) order: equal times keep arrival order.
    /// Tuples mostly arrive in order, so a push is nearly always an append.
    held: VecDeque<(i64, T)>,
    late: u64,
}

impl<T> Watermark<T> {
    /// A watermark over `streams` streams: it moves only once every stream has data.
    pub fn new(late_tolerance_ms: i64, streams: usize) -> Self {
        Watermark {
            late_tolerance: late_tolerance_ms.max(0),
            max_seen: vec![None; streams.max(1)],
            watermark: None,
            held: VecDeque::new(),
            late: 0,
        }
    }

    /// Whether a tuple of time `ts` is late (older than the watermark); counts it.
    pub fn is_late(&mut self, ts: i64) -> bool {
        let late = self.watermark.is_some_and(|w| ts < w);
        self.late += u64::from(late);
        late
    }

    /// Takes a tuple's time into account for the watermark, whether or not the tuple
    /// is held (a window's FILTER may drop it; it still moves event time on).
    pub fn observe(&mut self, stream: usize, ts: i64) {
        if let Some(slot) = self.max_seen.get_mut(stream) {
            *slot = Some(slot.map_or(ts, |m| m.max(ts)));
        }
    }

    /// Holds a tuple until the watermark passes it; `false` when it is late and dropped.
    pub fn push(&mut self, stream: usize, ts: i64, item: T) -> bool {
        if self.is_late(ts) {
            return false;
        }
        self.observe(stream, ts);
        self.hold(ts, item);
        true
    }

    /// Holds a tuple the caller already checked ([`Watermark::is_late`]) and observed.
    pub fn hold(&mut self, ts: i64, item: T) {
        if self.held.back().is_none_or(|(last, _)| *last <= ts) {
            self.held.push_back((ts, item));
        } else {
            // After every held tuple of the same or an earlier time.
            let at = self.held.partition_point(|(t, _)| *t <= ts);
            self.held.insert(at, (ts, item));
        }
    }

    /// Moves the watermark to the largest time seen minus the tolerance and returns the
    /// tuples it passed (time ≤ watermark), oldest first, with the new watermark.
    pub fn release(&mut self) -> (Vec<(i64, T)>, Option<i64>) {
        // The slowest stream's largest time; nothing until every stream has data.
        let mut slowest: Option<i64> = None;
        for m in &self.max_seen {
            let Some(m) = m else {
                return (Vec::new(), self.watermark);
            };
            slowest = Some(slowest.map_or(*m, |s| s.min(*m)));
        }
        let Some(max) = slowest else {
            return (Vec::new(), self.watermark);
        };
        let w = max - self.late_tolerance;
        if self.watermark.is_some_and(|old| w <= old) {
            return (Vec::new(), self.watermark);
        }
        self.watermark = Some(w);
        let n = self.held.partition_point(|(t, _)| *t <= w);
        (self.held.drain(..n).collect(), Some(w))
    }

    /// Tuples dropped as late so far.
    /// How many tuples wait for the watermark.
    pub fn held_len(&self) -> usize {
        self.held.len()
    }

    pub fn late_count(&self) -> u64 {
        self.late
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn releases_in_time_order_and_drops_late_tuples() {
        let mut w = Watermark::new(1000, 1);
        assert!(w.push(0, 5000, "a"));
        assert!(w.push(0, 4500, "b"));
        let (out, wm) = w.release();
        assert_eq!(wm, Some(4000));
        assert!(out.is_empty());
        assert!(w.push(0, 6200, "c"));
        let (out, wm) = w.release();
        assert_eq!(wm, Some(5200));
        assert_eq!(out, vec![(4500, "b"), (5000, "a")]);
        // older than the watermark: late
        assert!(!w.push(0, 5100, "late"));
        assert_eq!(w.late_count(), 1);
        // equal times keep arrival order
        assert!(w.push(0, 6200, "d"));
        assert!(w.push(0, 7300, "e"));
        let (out, _) = w.release();
        assert_eq!(out, vec![(6200, "c"), (6200, "d")]);
    }

    #[test]
    fn several_streams_hold_the_watermark_at_the_slowest() {
        let mut w = Watermark::new(0, 2);
        assert!(w.push(0, 5000, "a"));
        assert_eq!(w.release(), (vec![], None));
        assert!(w.push(1, 3000, "b"));
        assert_eq!(w.release(), (vec![(3000, "b")], Some(3000)));
        w.observe(1, 6000);
        assert_eq!(w.release(), (vec![(5000, "a")], Some(5000)));
    }
}
