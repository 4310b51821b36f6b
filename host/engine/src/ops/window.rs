//! The window stage: evaluates the per-tuple parts of a windowed rule (FILTER, WHERE,
//! `OVER (WHEN …)`, state conditions, the event timestamp), feeds the
//! [`Assigner`] — through the [`Watermark`] in event time — and emits each window that
//! fires as one grouped chunk carrying its bounds.
//!
//! Where WHERE runs follows eKuiper's plan: before tumbling, hopping and session windows
//! (a failing row is an error emission of its own, an empty window still emits `[]`),
//! after count, sliding and state windows (a failing row makes its window an error; a
//! window left without rows emits nothing). In event time the watermark moves with
//! every tuple, before the window's FILTER.

use crate::eval::{ops::truth, Evaluator, RowErrors};
use crate::hits::{rewrite_condition, Hits};
use crate::operator::{for_each_in_order, Chunk, Collector, Item, Operator};
use crate::window::{Assigner, Entry, Fired, Flags, Watermark};
use std::sync::Arc;
use tributary_core::function::Column;
use tributary_core::hidden::HiddenCol;
use tributary_core::{Row, Value};
use tributary_sql::{Expr, Window, WindowKind};

/// How the window stage reads event time.
#[derive(Debug, Clone)]
pub struct EventTime {
    /// The `TIMESTAMP` field of each stream of the rule (FROM, then JOINs).
    pub fields: Vec<Arc<str>>,
    /// Their `TIMESTAMP_FORMAT`s, for string timestamps.
    pub formats: Vec<Option<String>>,
    pub late_tolerance_ms: i64,
}

pub struct WindowOp {
    assigner: Assigner,
    filter: Option<Expr>,
    trigger: Option<Expr>,
    /// `last_hit_*` in `OVER (WHEN …)`: the tuples that triggered so far.
    trigger_hits: Option<Hits>,
    state: Option<(Expr, Expr)>,
    condition: Option<Expr>,
    /// WHERE runs after the window (see the module doc).
    where_after: bool,
    event_time: Option<(EventTime, Watermark<(Entry, Flags)>)>,
    /// Per stream index: a table, whose rows bypass the window (the join keeps them).
    tables: Vec<bool>,
    /// Per stream index: its slot in the watermark (tables have none).
    slots: Vec<usize>,
    eval: Evaluator,
}

impl WindowOp {
    /// `start_ms`: the rule's start on its clock; `eval` must be bound over the
    /// window's FILTER, trigger and state conditions and the rule's WHERE.
    /// `tables[i]`: stream `i` of the rule is a table (its rows pass through).
    pub fn new(
        window: Window,
        condition: Option<Expr>,
        event_time: Option<EventTime>,
        tables: Vec<bool>,
        start_ms: i64,
        eval: Evaluator,
    ) -> Self {
        let mut slots = Vec::with_capacity(tables.len());
        let mut streams = 0;
        for t in &tables {
            slots.push(streams);
            streams += usize::from(!t);
        }
        let kind_after = matches!(
            window.kind,
            WindowKind::Count { .. } | WindowKind::Sliding { .. } | WindowKind::State { .. }
        );
        let where_after = condition.is_some() && kind_after;
        let state = match &window.kind {
            WindowKind::State { begin, emit } => Some(((**begin).clone(), (**emit).clone())),
            _ => None,
        };
        let mut trigger = window.trigger.clone();
        let trigger_hits = trigger
            .as_mut()
            .is_some_and(rewrite_condition)
            .then(Hits::default);
        WindowOp {
            filter: window.filter.clone(),
            trigger_hits,
            trigger,
            state,
            condition,
            where_after,
            assigner: Assigner::new(window, start_ms, event_time.is_some()),
            event_time: event_time.map(|e| {
                let late = e.late_tolerance_ms;
                (e, Watermark::new(late, streams.max(1)))
            }),
            tables,
            slots,
            eval,
        }
    }

    fn emit_fired(&self, fired: Vec<Fired>, out: &mut Vec<Chunk>) {
        for f in fired {
            let mut rows = Vec::with_capacity(f.entries.len());
            let mut error = None;
            for e in f.entries {
                match e {
                    Entry::Row(r) => rows.push(r),
                    Entry::Dropped => {}
                    Entry::Error(m) => {
                        error.get_or_insert(m);
                    }
                }
            }
            let mut c = Chunk::from_rows(Vec::new());
            c.grouped = true;
            c.window = Some((f.start, f.end));
            match error {
                Some(e) => c.errors.push((0, e)),
                None if self.where_after && rows.is_empty() => continue,
                None => c.rows = rows,
            }
            out.push(c);
        }
    }
}

impl WindowOp {
    /// Event time: hands the tuples the watermark passed to the assigner, then moves
    /// the assigner's clock to the watermark.
    fn release(&mut self, fired: &mut Vec<Fired>) {
        let Some((_, wm)) = &mut self.event_time else {
            return;
        };
        let (released, watermark) = wm.release();
        // Tuples of one event time released together trigger a sliding window once,
        // after the last of them (eKuiper): the window then holds them all.
        let mut released = released.into_iter().peekable();
        let mut pending_trigger = false;
        while let Some((t, (entry, mut flags))) = released.next() {
            pending_trigger |= flags.trigger;
            let tie = released.peek().is_some_and(|(next, _)| *next == t);
            flags.trigger = !tie && pending_trigger;
            if !tie {
                pending_trigger = false;
            }
            self.assigner.insert(t, entry, flags, fired);
        }
        if let Some(w) = watermark {
            self.assigner.advance(w, fired);
        }
    }
}

/// The event time of a row: its `TIMESTAMP` field as epoch milliseconds.
pub(crate) fn event_ts(row: &Row, field: &Arc<str>, format: Option<&str>) -> Result<i64, String> {
    match row.get_interned(field) {
        Some(Value::Int(i)) => Ok(*i),
        Some(Value::Float(f)) => Ok(*f as i64),
        Some(Value::Datetime(ns)) => Ok(ns.div_euclid(1_000_000)),
        // Text: by the stream's TIMESTAMP_FORMAT; without one, epoch milliseconds or a
        // datetime string (RFC 3339, `2006-01-02 15:04:05`).
        Some(Value::String(s)) => match format {
            Some(f) => tributary_functions::parse_datetime_pattern(s, f)
                .map(|ns| ns.div_euclid(1_000_000))
                .map_err(|e| format!("timestamp field {field}: {e}")),
            None => s.parse::<i64>().or_else(|_| {
                tributary_functions::parse_datetime(s)
                    .map(|ns| ns.div_euclid(1_000_000))
                    .map_err(|_| {
                        format!("cannot convert timestamp field {field} value {s} to int64")
                    })
            }),
        },
        Some(other) => Err(format!(
            "cannot convert timestamp field {field} value {} to int64",
            other.describe()
        )),
        None => Err(format!("cannot find timestamp field {field} in tuple")),
    }
}

/// Evaluates an optional expression over a batch, keeping its per-row errors.
pub(crate) fn eval_opt(
    eval: &mut Evaluator,
    e: Option<&Expr>,
    rows: &[Row],
) -> Option<(Column, RowErrors)> {
    e.map(|e| {
        let mut errs = RowErrors::new(rows.len());
        let c = eval.eval(e, rows, &mut errs);
        (c, errs)
    })
}

/// Whether an evaluated condition holds for row `i` (`None`: there is no condition).
pub(crate) fn holds(c: &Option<(Column, RowErrors)>, i: usize) -> Result<bool, String> {
    match c {
        None => Ok(true),
        Some((col, errs)) => {
            if let Some(e) = errs.get(i) {
                return Err(e.to_string());
            }
            truth(col.get(i)).map(|b| b == Some(true))
        }
    }
}

impl Operator for WindowOp {
    fn name(&self) -> &str {
        "window"
    }

    fn process(&mut self, input: Chunk, out: &mut Collector) {
        if self.tables.get(input.stream).copied().unwrap_or(false) {
            out.collect(input);
            return;
        }
        let stream = input.stream;
        let slot = self.slots.get(stream).copied().unwrap_or(0);
        let rows = &input.rows;
        self.eval.set_now(rows);
        let filter = eval_opt(&mut self.eval, self.filter.as_ref(), rows);
        if let Some(h) = &self.trigger_hits {
            self.eval.clear_aliases();
            for (k, c) in h.columns(HiddenCol::HitCount, HiddenCol::HitTime) {
                self.eval.set_hidden(k, c);
            }
        }
        let trigger = eval_opt(&mut self.eval, self.trigger.as_ref(), rows);
        let (begin, emit) = match &self.state {
            Some((b, e)) => (
                eval_opt(&mut self.eval, Some(b), rows),
                eval_opt(&mut self.eval, Some(e), rows),
            ),
            None => (None, None),
        };
        let condition = eval_opt(&mut self.eval, self.condition.as_ref(), rows);
        let mut chunks: Vec<Chunk> = Vec::new();
        let immediate_error = |chunks: &mut Vec<Chunk>, e: String| {
            let mut c = Chunk::from_rows(Vec::new());
            c.errors.push((0, e));
            chunks.push(c);
        };
        let chunk_time = input.time;
        // The chunk's stream decides where its event time is (once per chunk).
        let (ts_field, ts_format) = match &self.event_time {
            Some((et, _)) => (
                et.fields
                    .get(stream)
                    .cloned()
                    .unwrap_or_else(|| Arc::from("")),
                et.formats.get(stream).cloned().flatten(),
            ),
            None => (Arc::from(""), None),
        };
        for_each_in_order(input, |item| {
            let (i, mut row) = match item {
                // Errors from upstream (decoding) are not part of any window, but
                // processing time still moves on with them.
                Item::Error(e) => {
                    if let (None, Some(t)) = (&self.event_time, chunk_time) {
                        let mut fired = Vec::new();
                        self.assigner.advance(t, &mut fired);
                        self.emit_fired(fired, &mut chunks);
                    }
                    return immediate_error(&mut chunks, e);
                }
                Item::Row(i, r) => (i, r),
            };
            let mut fired = Vec::new();
            match &mut self.event_time {
                None => {
                    // Processing time moves with every tuple, whether or not it enters.
                    self.assigner.advance(row.timestamp, &mut fired);
                    self.emit_fired(std::mem::take(&mut fired), &mut chunks);
                }
                Some((_, wm)) => {
                    match event_ts(&row, &ts_field, ts_format.as_deref()) {
                        Ok(ts) => row.timestamp = ts,
                        Err(e) => return immediate_error(&mut chunks, e),
                    }
                    if wm.is_late(row.timestamp) {
                        tracing::debug!(ts = row.timestamp, "late tuple dropped");
                        return;
                    }
                    // Event time moves with every tuple, FILTER or not (eKuiper's
                    // watermark runs before the window's filter).
                    wm.observe(slot, row.timestamp);
                }
            }
            let flags = Flags {
                trigger: {
                    let t = holds(&trigger, i).unwrap_or(false);
                    if let (true, Some(h)) = (t, self.trigger_hits.as_mut()) {
                        h.hit(row.timestamp);
                    }
                    t
                },
                begin: holds(&begin, i).unwrap_or(false) && begin.is_some(),
                emit: holds(&emit, i).unwrap_or(false) && emit.is_some(),
            };
            let ts = row.timestamp;
            let entry = match holds(&filter, i) {
                Ok(false) => None,
                Err(e) => {
                    immediate_error(&mut chunks, format!("run Filter error: {e}"));
                    None
                }
                Ok(true) => match holds(&condition, i) {
                    Ok(true) => Some(Entry::Row(row)),
                    Ok(false) if self.where_after => Some(Entry::Dropped),
                    Ok(false) => None,
                    Err(e) if self.where_after => {
                        Some(Entry::Error(format!("run Where error: {e}")))
                    }
                    Err(e) => {
                        immediate_error(&mut chunks, format!("run Where error: {e}"));
                        None
                    }
                },
            };
            match (entry, &mut self.event_time) {
                (Some(entry), None) => self.assigner.insert(ts, entry, flags, &mut fired),
                (Some(entry), Some((_, wm))) => {
                    wm.hold(ts, (entry, flags));
                }
                (None, _) => {}
            }
            self.release(&mut fired);
            self.emit_fired(fired, &mut chunks);
        });
        for c in chunks {
            out.collect(c);
        }
    }

    fn on_tick(&mut self, now_ms: i64, out: &mut Collector) {
        if self.event_time.is_some() {
            return;
        }
        let mut fired = Vec::new();
        self.assigner.advance(now_ms, &mut fired);
        let mut chunks = Vec::new();
        self.emit_fired(fired, &mut chunks);
        for c in chunks {
            out.collect(c);
        }
    }

    fn next_timer(&self) -> Option<i64> {
        match self.event_time {
            Some(_) => None,
            None => self.assigner.next_due(),
        }
    }

    fn held_rows(&self) -> usize {
        self.assigner.buffered() + self.event_time.as_ref().map_or(0, |(_, w)| w.held_len())
    }
}
