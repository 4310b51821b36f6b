//! Incremental aggregation of tumbling and session windows: each tuple updates its group's
//! accumulators as it arrives, so a window's state is one row and a few numbers per
//! group, however many tuples the window holds.
//!
//! Used instead of the window stage + group stage when a rule's window is tumbling,
//! hopping or a session and every aggregate can be folded a value at a time (`count`,
//! `sum`, `avg`, `max`, `min`, `stddev`, `stddevs`, `var`, `vars`, `last_value`)
//! — the common shape of edge rules, and the one a long window would otherwise fill
//! memory with. It fires exactly like the general window stage (same [`Assigner`],
//! same [`Watermark`]), and HAVING, ORDER BY, LIMIT and the projection are the group
//! stage's own ([`GroupOp::finish`]), so both paths emit the same rows.

pub use super::accumulate::AccKind;
use super::accumulate::{key_part, Acc, FxHasher, GroupKey};
use super::group::{Extra, GroupOp};
use super::window::{eval_opt, holds, EventTime};
use crate::eval::{Evaluator, RowErrors};
use crate::operator::{for_each_in_order, Chunk, Collector, Item, Operator};
use crate::window::{Assigner, Fired, Watermark};
use std::collections::HashMap;
use std::hash::BuildHasherDefault;
use std::sync::Arc;
use tributary_core::function::Column;
use tributary_core::hidden::HiddenCol;
use tributary_core::{Row, Value};
use tributary_sql::{Expr, Window, WindowKind};

/// One aggregate call: its hidden column, kind and argument.
pub struct IncAggregate {
    pub alias: HiddenCol,
    pub kind: AccKind,
    /// The aggregated expression (`None` for `count(*)`).
    pub arg: Option<Expr>,
}

/// The state of the open window (or of one pane of a hopping window).
#[derive(Default, Clone)]
struct WindowState {
    index: HashMap<GroupKey, usize, BuildHasherDefault<FxHasher>>,
    /// The groups' keys, in order of first appearance (`reps` and `accs` follow it).
    keys: Vec<GroupKey>,
    reps: Vec<Row>,
    /// `accs[g * aggregates + a]`.
    accs: Vec<Acc>,
    error: Option<String>,
}

pub struct IncrementalWindowOp {
    assigner: Assigner,
    filter: Option<Expr>,
    condition: Option<Expr>,
    dims: Vec<Expr>,
    aggs: Vec<IncAggregate>,
    /// Per aggregate: the index of its argument among the distinct arguments
    /// (`avg(size), max(size)` evaluate `size` once).
    arg_slot: Vec<usize>,
    distinct_args: Vec<Option<Expr>>,
    /// Evaluates FILTER, WHERE, the dimensions and the aggregated expressions.
    eval: Evaluator,
    event_time: Option<(EventTime, Watermark<Row>)>,
    state: WindowState,
    /// Hopping windows: (size, hop, pane length); a window is the merge of the panes
    /// it covers, so each tuple is folded once whatever the overlap.
    hopping: Option<(i64, i64, i64)>,
    /// Hopping windows: the start of the pane `state` holds, and the closed panes.
    pane_start: Option<i64>,
    panes: std::collections::VecDeque<(i64, WindowState)>,
    post: GroupOp,
}

impl IncrementalWindowOp {
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        window: Window,
        condition: Option<Expr>,
        dims: Vec<Expr>,
        aggs: Vec<IncAggregate>,
        event_time: Option<EventTime>,
        start_ms: i64,
        eval: Evaluator,
        post: GroupOp,
    ) -> Self {
        debug_assert!(matches!(
            window.kind,
            WindowKind::Tumbling { .. } | WindowKind::Session { .. } | WindowKind::Hopping { .. }
        ));
        let window_kind = window.kind.clone();
        let mut distinct_args: Vec<Option<Expr>> = Vec::new();
        let arg_slot = aggs
            .iter()
            .map(|a| match distinct_args.iter().position(|d| *d == a.arg) {
                Some(i) => i,
                None => {
                    distinct_args.push(a.arg.clone());
                    distinct_args.len() - 1
                }
            })
            .collect();
        IncrementalWindowOp {
            arg_slot,
            distinct_args,
            filter: window.filter.clone(),
            assigner: Assigner::new(window, start_ms, event_time.is_some()).without_entries(),
            condition,
            dims,
            aggs,
            eval,
            event_time: event_time.map(|e| {
                let late = e.late_tolerance_ms;
                (e, Watermark::new(late, 1))
            }),
            state: WindowState::default(),
            hopping: match window_kind {
                WindowKind::Hopping { size, hop } => Some((size, hop, gcd(size, hop))),
                _ => None,
            },
            pane_start: None,
            panes: std::collections::VecDeque::new(),
            post,
        }
    }

    /// Tells the assigner a tuple entered at `ts` (it opens or extends a session); the
    /// clock was already moved there, so nothing fires.
    fn enter(&mut self, ts: i64) {
        if let Some((_, _, pane)) = self.hopping {
            // Panes are aligned on the window ends.
            let origin = self.assigner.next_due().unwrap_or(0);
            let start = ts - (ts - origin).rem_euclid(pane);
            if self.pane_start != Some(start) {
                if let Some(prev) = self.pane_start.replace(start) {
                    let done = std::mem::take(&mut self.state);
                    self.panes.push_back((prev, done));
                }
            }
        }
        let mut fired = Vec::new();
        self.assigner.insert(
            ts,
            crate::window::Entry::Dropped,
            crate::window::Flags::default(),
            &mut fired,
        );
        debug_assert!(fired.is_empty());
    }

    /// Folds row `i` (whose dimension and argument columns are `dims`, `args`).
    fn add(&mut self, row: &Row, i: usize, dims: &[Src], args: &[Src]) {
        let st = &mut self.state;
        if st.error.is_some() {
            return;
        }
        let key = match dims {
            [] => GroupKey::Many(Vec::new()),
            [d] => match d.value(row, i) {
                Ok(v) => GroupKey::One(key_part(v)),
                Err(e) => {
                    st.error = Some(format!("run Group By error: {e}"));
                    return;
                }
            },
            many => {
                let mut key = Vec::with_capacity(many.len());
                for d in many {
                    match d.value(row, i) {
                        Ok(v) => key.push(key_part(v)),
                        Err(e) => {
                            st.error = Some(format!("run Group By error: {e}"));
                            return;
                        }
                    }
                }
                GroupKey::Many(key)
            }
        };
        let n = self.aggs.len();
        let g = match st.index.get(&key) {
            Some(&g) => g,
            None => {
                let g = st.reps.len();
                st.keys.push(key.clone());
                st.index.insert(key, g);
                st.reps.push(row.clone());
                st.accs.extend(self.aggs.iter().map(|a| Acc::new(a.kind)));
                g
            }
        };
        for (a, agg) in self.aggs.iter().enumerate() {
            let v = match args[self.arg_slot[a]].value(row, i) {
                Ok(v) => v,
                Err(e) => {
                    st.error = Some(format!("run Select error: {e}"));
                    return;
                }
            };
            if let Err(e) = st.accs[g * n + a].add(agg.kind, v) {
                st.error = Some(format!(
                    "run Select error: call func {} error: {e}",
                    agg_name(agg.kind)
                ));
                return;
            }
        }
    }

    /// Emits the windows that fired, the first of them with the state gathered so far.
    fn emit(&mut self, fired: Vec<Fired>, out: &mut Collector) {
        for f in fired {
            let st = match self.hopping {
                Some(h) => self.merge_panes(f.start, f.end, h),
                None => std::mem::take(&mut self.state),
            };
            let window = Some((f.start, f.end));
            let result = match st.error {
                Some(e) => Err(e),
                None => match self.results(st, f.start, f.end) {
                    Ok(Some((reps, extra))) => self.post.finish(Some(f.end), reps, extra),
                    other => other,
                },
            };
            self.post.emit_result(result, true, window, out);
        }
    }

    /// The state of the hopping window `[start, end)`: its panes merged, groups in
    /// order of first appearance. Panes no later window covers are dropped.
    fn merge_panes(
        &mut self,
        start: i64,
        end: i64,
        (size, hop, _): (i64, i64, i64),
    ) -> WindowState {
        let n = self.aggs.len();
        let mut merged = WindowState::default();
        let current = self.pane_start.map(|p| (p, &self.state));
        let covered = self
            .panes
            .iter()
            .map(|(p, st)| (*p, st))
            .chain(current)
            .filter(|(p, _)| *p >= start && *p < end);
        for (_, pane) in covered {
            if let Some(e) = &pane.error {
                merged.error.get_or_insert(e.clone());
            }
            for (g, key) in pane.keys.iter().enumerate() {
                let m = match merged.index.get(key) {
                    Some(&m) => m,
                    None => {
                        let m = merged.reps.len();
                        merged.index.insert(key.clone(), m);
                        merged.keys.push(key.clone());
                        merged.reps.push(pane.reps[g].clone());
                        merged
                            .accs
                            .extend(pane.accs[g * n..(g + 1) * n].iter().cloned());
                        continue;
                    }
                };
                for (a, agg) in self.aggs.iter().enumerate() {
                    let other = &pane.accs[g * n + a];
                    if let Err(e) = merged.accs[m * n + a].merge(agg.kind, other) {
                        merged.error.get_or_insert(format!("run Select error: {e}"));
                    }
                }
            }
        }
        let keep_from = end + hop - size;
        while self.panes.front().is_some_and(|(p, _)| *p < keep_from) {
            self.panes.pop_front();
        }
        merged
    }

    /// The groups of a window and their aggregate columns; `None` for an empty window
    /// with dimensions (it emits nothing).
    fn results(
        &self,
        st: WindowState,
        start: i64,
        end: i64,
    ) -> Result<Option<(Vec<Row>, Extra)>, String> {
        let n = self.aggs.len();
        let (mut reps, accs) = if st.reps.is_empty() {
            if !self.dims.is_empty() {
                return Ok(None);
            }
            (
                vec![Row::new(Vec::new(), Default::default(), end)],
                self.aggs.iter().map(|a| Acc::new(a.kind)).collect(),
            )
        } else {
            (st.reps, st.accs)
        };
        for r in reps.iter_mut() {
            r.timestamp = end;
        }
        let mut extra: Extra = self
            .aggs
            .iter()
            .enumerate()
            .map(|(a, agg)| {
                let vals = (0..reps.len())
                    .map(|g| accs[g * n + a].result(agg.kind))
                    .collect();
                (agg.alias.clone(), Column::Values(vals))
            })
            .collect();
        extra.push((HiddenCol::WindowStart, Column::Scalar(Value::Int(start))));
        extra.push((HiddenCol::WindowEnd, Column::Scalar(Value::Int(end))));
        Ok(Some((reps, extra)))
    }

    /// The dimension and argument columns of `rows`.
    fn columns(&mut self, rows: &[Row]) -> (Vec<Src>, Vec<Src>) {
        let dims = sources(&mut self.eval, self.dims.iter().map(Some), rows);
        let args = sources(
            &mut self.eval,
            self.distinct_args.iter().map(Option::as_ref),
            rows,
        );
        (dims, args)
    }
}

/// Where each expression's values come from: a plain column is read from the rows
/// directly (no column is built), anything else is evaluated over the batch.
fn sources<'a>(
    eval: &mut Evaluator,
    exprs: impl Iterator<Item = Option<&'a Expr>>,
    rows: &[Row],
) -> Vec<Src> {
    exprs
        .map(|e| match e {
            None => Src::Nothing,
            Some(Expr::Field { name, .. }) => Src::Field(name.clone()),
            Some(e) => {
                let mut errs = RowErrors::new(rows.len());
                let c = eval.eval(e, rows, &mut errs);
                Src::Evaluated(c, errs)
            }
        })
        .collect()
}

/// The values of one dimension or aggregate argument over a batch.
enum Src {
    /// `count(*)`: no value.
    Nothing,
    Field(Arc<str>),
    Evaluated(Column, RowErrors),
}

static NULL: Value = Value::Null;

impl Src {
    fn value<'a>(
        &'a self,
        row: &'a Row,
        i: usize,
    ) -> Result<&'a Value, &'a tributary_core::function::RowError> {
        match self {
            Src::Nothing => Ok(&NULL),
            Src::Field(name) => Ok(row.get_interned(name).unwrap_or(&NULL)),
            Src::Evaluated(c, errs) => match errs.get(i) {
                Some(e) => Err(e),
                None => Ok(c.get(i)),
            },
        }
    }
}

fn immediate_error(out: &mut Collector, e: String) {
    let mut c = Chunk::from_rows(Vec::new());
    c.errors.push((0, e));
    out.collect(c);
}

impl Operator for IncrementalWindowOp {
    fn name(&self) -> &str {
        "window aggregate"
    }

    fn process(&mut self, input: Chunk, out: &mut Collector) {
        self.eval.set_now(&input.rows);
        let filter = &eval_opt(&mut self.eval, self.filter.as_ref(), &input.rows);
        let condition = &eval_opt(&mut self.eval, self.condition.as_ref(), &input.rows);
        // Which rows enter the window: FILTER, then WHERE (before a tumbling window).
        let enters = |i: usize, out: &mut Collector| -> bool {
            match holds(filter, i) {
                Ok(true) => {}
                Ok(false) => return false,
                Err(e) => {
                    immediate_error(out, format!("run Filter error: {e}"));
                    return false;
                }
            }
            match holds(condition, i) {
                Ok(b) => b,
                Err(e) => {
                    immediate_error(out, format!("run Where error: {e}"));
                    false
                }
            }
        };
        let chunk_time = input.time;
        if self.event_time.is_none() {
            let (dims, args) = self.columns(&input.rows);
            for_each_in_order(input, |item| {
                let mut fired = Vec::new();
                match item {
                    Item::Error(e) => {
                        if let Some(t) = chunk_time {
                            self.assigner.pass(t, &mut fired);
                            self.emit(fired, out);
                        }
                        immediate_error(out, e);
                    }
                    Item::Row(i, row) => {
                        // Processing time moves with every tuple, whether or not it enters.
                        self.assigner.pass(row.timestamp, &mut fired);
                        self.emit(fired, out);
                        if enters(i, out) {
                            self.enter(row.timestamp);
                            self.add(&row, i, &dims, &args);
                        }
                    }
                }
            });
            return;
        }
        let mut held = false;
        let field = self
            .event_time
            .as_ref()
            .and_then(|(et, _)| et.fields.first().cloned())
            .unwrap_or_else(|| Arc::from(""));
        let format = self
            .event_time
            .as_ref()
            .and_then(|(et, _)| et.formats.first().cloned().flatten());
        for_each_in_order(input, |item| {
            let (i, mut row) = match item {
                Item::Error(e) => return immediate_error(out, e),
                Item::Row(i, r) => (i, r),
            };
            let Some((_, wm)) = self.event_time.as_mut() else {
                return;
            };
            match super::window::event_ts(&row, &field, format.as_deref()) {
                Ok(ts) => row.timestamp = ts,
                Err(e) => return immediate_error(out, e),
            }
            if wm.is_late(row.timestamp) {
                return;
            }
            wm.observe(0, row.timestamp);
            if enters(i, out) {
                let ts = row.timestamp;
                wm.hold(ts, row);
            }
            held = true;
        });
        if held {
            self.release(out);
        }
    }

    fn on_tick(&mut self, now_ms: i64, out: &mut Collector) {
        if self.event_time.is_some() {
            return;
        }
        let mut fired = Vec::new();
        self.assigner.advance(now_ms, &mut fired);
        self.emit(fired, out);
    }

    fn next_timer(&self) -> Option<i64> {
        match self.event_time {
            Some(_) => None,
            None => self.assigner.next_due(),
        }
    }

    fn held_rows(&self) -> usize {
        // Folded rows are counted by their groups: what matters is whether any is held.
        self.assigner.buffered()
            + self.state.keys.len()
            + self.panes.iter().map(|(_, p)| p.keys.len()).sum::<usize>()
            + self.event_time.as_ref().map_or(0, |(_, w)| w.held_len())
    }
}

impl IncrementalWindowOp {
    /// Event time: folds the tuples the watermark passed, in time order, firing the
    /// windows they close; then moves to the watermark.
    fn release(&mut self, out: &mut Collector) {
        let Some((_, wm)) = self.event_time.as_mut() else {
            return;
        };
        let (released, watermark) = wm.release();
        let rows: Vec<Row> = released.into_iter().map(|(_, r)| r).collect();
        if !rows.is_empty() {
            self.eval.set_now(&rows);
            let (dims, args) = self.columns(&rows);
            for (i, row) in rows.iter().enumerate() {
                let mut fired = Vec::new();
                self.assigner.pass(row.timestamp, &mut fired);
                self.emit(fired, out);
                self.enter(row.timestamp);
                self.add(row, i, &dims, &args);
            }
        }
        if let Some(w) = watermark {
            let mut fired = Vec::new();
            self.assigner.advance(w, &mut fired);
            self.emit(fired, out);
        }
    }
}

fn gcd(a: i64, b: i64) -> i64 {
    if b == 0 {
        a.max(1)
    } else {
        gcd(b, a % b)
    }
}

fn agg_name(k: AccKind) -> &'static str {
    match k {
        AccKind::Spread {
            sqrt: true,
            sample: false,
        } => "stddev",
        AccKind::Spread {
            sqrt: true,
            sample: true,
        } => "stddevs",
        AccKind::Spread {
            sqrt: false,
            sample: false,
        } => "var",
        AccKind::Spread {
            sqrt: false,
            sample: true,
        } => "vars",
        AccKind::Last { .. } => "last_value",
        AccKind::CountAll | AccKind::Count => "count",
        AccKind::Sum => "sum",
        AccKind::Avg => "avg",
        AccKind::Max => "max",
        AccKind::Min => "min",
    }
}

#[cfg(test)]
#[path = "incremental_tests.rs"]
mod tests;
