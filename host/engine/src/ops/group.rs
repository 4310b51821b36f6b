//! The grouped part of a rule: GROUP BY dimensions, aggregates, HAVING, ORDER BY,
//! LIMIT, then the projection, over one window (or one tuple, without a window).
//!
//! Aggregate calls were taken out of the SELECT, HAVING and ORDER BY expressions at
//! planning time and replaced by references to hidden columns (`HiddenCol::Aggregate`); this
//! stage computes those columns, one value per group, with one
//! [`FunctionImpl::exec_groups`] call per aggregate, and hands them to the projection
//! together with one representative row per group (its first row, which gives the
//! values of non-aggregated columns, as in eKuiper).

use crate::eval::{ops::truth, Evaluator, RowErrors};
use crate::hits::Hits;
use crate::operator::{for_each_in_order, Chunk, Collector, Item, Operator};
use crate::ops::accumulate::{key_part, KeyPart};
use crate::ops::ProjectOp;
use std::cmp::Ordering;
use std::collections::HashMap;
use tributary_core::function::{Column, FunctionImpl, RowResult};
use tributary_core::hidden::HiddenCol;
use tributary_core::{Row, Value};
use tributary_sql::{Expr, OrderItem};

/// One aggregate call of the rule, bound to its instance.
pub struct BoundAggregate {
    /// The hidden column holding its result (`HiddenCol::Aggregate(site)`).
    pub alias: HiddenCol,
    pub name: String,
    pub args: Vec<Expr>,
    pub imp: Box<dyn FunctionImpl>,
}

pub struct GroupOp {
    dims: Vec<Expr>,
    aggs: Vec<BoundAggregate>,
    /// Evaluates dimensions and aggregate arguments over a window's rows.
    rows_eval: Evaluator,
    having: Option<Expr>,
    order: Vec<OrderItem>,
    /// Evaluates HAVING and ORDER BY over the groups' representative rows.
    groups_eval: Evaluator,
    limit: Option<usize>,
    /// One output row per group (dimensions or aggregates present) rather than per row.
    aggregating: bool,
    /// The emissions so far, for `last_agg_hit_count()` / `last_agg_hit_time()`.
    agg_hits: Hits,
    project: ProjectOp,
}

/// Hidden columns (aggregate results, window bounds) handed to the projection.
pub(crate) type Extra = Vec<(HiddenCol, Column)>;

/// The groups of one window: row indices, in order of first appearance.
type Groups = Vec<Vec<usize>>;

impl GroupOp {
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        dims: Vec<Expr>,
        aggs: Vec<BoundAggregate>,
        rows_eval: Evaluator,
        having: Option<Expr>,
        order: Vec<OrderItem>,
        groups_eval: Evaluator,
        limit: Option<usize>,
        project: ProjectOp,
    ) -> Self {
        let aggregating = !dims.is_empty() || !aggs.is_empty();
        GroupOp {
            dims,
            aggs,
            rows_eval,
            having,
            order,
            groups_eval,
            limit,
            aggregating,
            agg_hits: Hits::default(),
            project,
        }
    }

    fn groups(&mut self, rows: &[Row]) -> Result<Groups, String> {
        if !self.aggregating {
            return Ok((0..rows.len()).map(|i| vec![i]).collect());
        }
        if self.dims.is_empty() {
            return Ok(vec![(0..rows.len()).collect()]);
        }
        let mut errs = RowErrors::new(rows.len());
        let cols: Vec<Column> = self
            .dims
            .iter()
            .map(|d| self.rows_eval.eval(d, rows, &mut errs))
            .collect();
        let mut index: HashMap<Vec<KeyPart>, usize> = HashMap::new();
        let mut groups: Groups = Vec::new();
        for i in 0..rows.len() {
            if let Some(e) = errs.get(i) {
                return Err(format!("run Group By error: {e}"));
            }
            let key: Vec<KeyPart> = cols.iter().map(|c| key_part(c.get(i))).collect();
            match index.get(&key) {
                Some(&g) => groups[g].push(i),
                None => {
                    index.insert(key, groups.len());
                    groups.push(vec![i]);
                }
            }
        }
        Ok(groups)
    }

    /// The result column of every aggregate: one value per group.
    fn aggregate(&mut self, rows: &[Row], groups: &Groups) -> Result<Extra, String> {
        self.rows_eval.set_now(rows);
        let ctx = self.rows_eval.ctx.clone();
        let mut out = Vec::with_capacity(self.aggs.len());
        for agg in &mut self.aggs {
            let mut errs = RowErrors::new(rows.len());
            let count_star = agg.name == "count" && matches!(agg.args.as_slice(), [Expr::Wildcard]);
            let cols: Vec<Column> = if count_star {
                vec![Column::Scalar(Value::Bool(true))]
            } else {
                agg.args
                    .iter()
                    .map(|a| self.rows_eval.eval(a, rows, &mut errs))
                    .collect()
            };
            if let Some(e) = (0..rows.len()).find_map(|i| errs.get(i)) {
                return Err(format!("run Select error: {e}"));
            }
            let per_group: Vec<Vec<Column>> = groups
                .iter()
                .map(|g| {
                    cols.iter()
                        .enumerate()
                        .map(|(a, c)| match c {
                            // The first argument is the aggregated column: a constant
                            // stands for one value per row (`count(1)`).
                            Column::Scalar(v) if a == 0 => Column::Values(vec![v.clone(); g.len()]),
                            Column::Scalar(v) => Column::Scalar(v.clone()),
                            Column::Values(vs) => {
                                Column::Values(g.iter().map(|&i| vs[i].clone()).collect())
                            }
                        })
                        .collect()
                })
                .collect();
            let mut results: Vec<RowResult> = Vec::with_capacity(groups.len());
            agg.imp.exec_groups(&ctx, &per_group, &mut results);
            if results.len() != groups.len() {
                return Err(format!(
                    "call func {} error: returned {} results for {} groups",
                    agg.name,
                    results.len(),
                    groups.len()
                ));
            }
            let values = results
                .into_iter()
                .map(|r| {
                    r.map_err(|e| format!("run Select error: call func {} error: {e}", agg.name))
                })
                .collect::<Result<Vec<Value>, String>>()?;
            out.push((agg.alias.clone(), Column::Values(values)));
        }
        Ok(out)
    }

    /// Groups, aggregates, filters, sorts and limits one window. `Ok(None)` when HAVING
    /// removed every group of a non-empty window: such a window emits nothing.
    fn evaluate(&mut self, input: &Chunk) -> Result<Option<(Vec<Row>, Extra)>, String> {
        let rows = &input.rows;
        if rows.is_empty() && !self.dims.is_empty() {
            // An empty window has no groups, and emits nothing (eKuiper).
            return Ok(None);
        }
        let groups = self.groups(rows)?;
        let mut extra = self.aggregate(rows, &groups)?;
        let (start, end) = match input.window {
            Some((s, e)) => (Value::Int(s), Value::Int(e)),
            None => (Value::Null, Value::Null),
        };
        extra.push((HiddenCol::WindowStart, Column::Scalar(start)));
        extra.push((HiddenCol::WindowEnd, Column::Scalar(end)));
        let reps: Vec<Row> = groups
            .iter()
            .map(|g| match g.first() {
                Some(&i) => {
                    let mut r = rows[i].clone();
                    // A group's time is its window's end (`event_time()` of an
                    // aggregated window, as in eKuiper).
                    if let (true, Some((_, end))) = (self.aggregating, input.window) {
                        r.timestamp = end;
                    }
                    r
                }
                // The one group of an empty window without dimensions: aggregates only.
                None => Row::new(
                    Vec::new(),
                    Default::default(),
                    input.window.map_or(0, |w| w.1),
                ),
            })
            .collect();
        let now = rows.iter().map(|r| r.timestamp).max();
        self.finish(now, reps, extra)
    }

    /// HAVING, ORDER BY and LIMIT over the groups of one window: `reps` holds one row
    /// per group, `extra` the hidden columns (one value per group, or scalars).
    /// `Ok(None)` when HAVING removed every group: the window emits nothing.
    pub(crate) fn finish(
        &mut self,
        now: Option<i64>,
        mut reps: Vec<Row>,
        mut extra: Extra,
    ) -> Result<Option<(Vec<Row>, Extra)>, String> {
        let mut keep: Vec<usize> = (0..reps.len()).collect();
        extra.extend(
            self.agg_hits
                .columns(HiddenCol::AggHitCount, HiddenCol::AggHitTime),
        );
        self.groups_eval.clear_aliases();
        for (name, col) in &extra {
            self.groups_eval.set_hidden(name.clone(), col.clone());
        }
        if let Some(t) = now {
            self.groups_eval.ctx.now_ms = t;
        }
        if let Some(h) = &self.having {
            let mut errs = RowErrors::new(reps.len());
            let col = self.groups_eval.eval(h, &reps, &mut errs);
            let mut kept = Vec::with_capacity(keep.len());
            for &i in &keep {
                if let Some(e) = errs.get(i) {
                    return Err(format!("run Having error: {e}"));
                }
                match truth(col.get(i)) {
                    Ok(Some(true)) => kept.push(i),
                    Ok(_) => {}
                    Err(e) => return Err(format!("run Having error: {e}")),
                }
            }
            // HAVING that removes every group leaves nothing to emit.
            if kept.is_empty() && !keep.is_empty() {
                return Ok(None);
            }
            keep = kept;
        }
        let mut numbers = vec![Value::Null; reps.len()];
        for (pos, &g) in keep.iter().enumerate() {
            numbers[g] = Value::Int(pos as i64 + 1);
        }
        // `row_number()`: 1, 2, … over the rows of one emission, in their order
        // after HAVING and before ORDER BY (eKuiper's).
        extra.push((HiddenCol::RowNumber, Column::Values(numbers)));
        if !self.order.is_empty() {
            let mut errs = RowErrors::new(reps.len());
            let keys: Vec<(Column, bool)> = self
                .order
                .iter()
                .map(|o| {
                    (
                        self.groups_eval.eval(&o.expr, &reps, &mut errs),
                        o.descending,
                    )
                })
                .collect();
            if let Some(e) = keep.iter().find_map(|&i| errs.get(i)) {
                return Err(format!("run Order By error: {e}"));
            }
            let mut mismatch = None;
            keep.sort_by(|&a, &b| {
                for (col, desc) in &keys {
                    let (x, y) = (col.get(a), col.get(b));
                    let o = match compare(x, y) {
                        Ok(o) => o,
                        Err(_) => {
                            // Named in row order, whatever order the sort compares in.
                            let (first, second) = if a < b { (x, y) } else { (y, x) };
                            mismatch.get_or_insert(format!(
                                "incompatible types for comparison: {} and {}",
                                kind(first),
                                kind(second)
                            ));
                            Ordering::Equal
                        }
                    };
                    // nil sorts last in either direction
                    let o = if *desc && !x.is_null() && !y.is_null() {
                        o.reverse()
                    } else {
                        o
                    };
                    if o != Ordering::Equal {
                        return o;
                    }
                }
                Ordering::Equal
            });
            if let Some(e) = mismatch {
                return Err(format!("run Order By error: {e}"));
            }
        }
        if let Some(l) = self.limit {
            keep.truncate(l);
        }
        if keep.len() != reps.len() || !self.order.is_empty() {
            let mut taken: Vec<Option<Row>> = reps.into_iter().map(Some).collect();
            reps = keep.iter().filter_map(|&i| taken[i].take()).collect();
            for (_, col) in extra.iter_mut() {
                if let Column::Values(vs) = col {
                    *vs = keep.iter().map(|&i| vs[i].clone()).collect();
                }
            }
        }
        Ok(Some((reps, extra)))
    }
}

impl Operator for GroupOp {
    fn name(&self) -> &str {
        "aggregate"
    }

    fn process(&mut self, input: Chunk, out: &mut Collector) {
        if !input.grouped {
            // Without a window every tuple is a group of its own, emitted on its own.
            for_each_in_order(input, |item| match item {
                Item::Error(e) => {
                    let mut c = Chunk::from_rows(Vec::new());
                    c.errors.push((0, e));
                    out.collect(c);
                }
                Item::Row(_, row) => self.emit(Chunk::from_rows(vec![row]), out),
            });
            return;
        }
        // An error inside a window replaces the window's emission.
        if let Some((_, e)) = input.errors.first() {
            let mut c = Chunk::from_rows(Vec::new());
            c.errors.push((0, e.clone()));
            c.grouped = true;
            c.window = input.window;
            out.collect(c);
            return;
        }
        self.emit(input, out);
    }
}

impl GroupOp {
    fn emit(&mut self, input: Chunk, out: &mut Collector) {
        let grouped = input.grouped;
        let window = input.window;
        let result = self.evaluate(&input);
        self.emit_result(result, grouped, window, out);
    }

    /// Projects a window's groups, or emits its error.
    pub(crate) fn emit_result(
        &mut self,
        result: Result<Option<(Vec<Row>, Extra)>, String>,
        grouped: bool,
        window: Option<(i64, i64)>,
        out: &mut Collector,
    ) {
        match result {
            Ok(Some((rows, extra))) => {
                let mut c = Chunk::from_rows(rows);
                c.grouped = grouped;
                c.window = window;
                self.project.project(c, extra, out);
                // This emission is a hit for `last_agg_hit_*`, at the window's end.
                let t = window.map_or_else(|| self.agg_hits.time, |w| w.1);
                self.agg_hits.hit(t);
            }
            Ok(None) => {}
            Err(e) => {
                let mut c = Chunk::from_rows(Vec::new());
                c.errors.push((0, e));
                c.grouped = grouped;
                c.window = window;
                out.collect(c);
            }
        }
    }
}

/// ORDER BY's order: nil last, numbers by value, strings, booleans and datetimes
/// among their own kind; other pairs cannot be compared (eKuiper's message).
fn compare(a: &Value, b: &Value) -> Result<Ordering, ()> {
    Ok(match (a, b) {
        (Value::Null, Value::Null) => Ordering::Equal,
        (Value::Null, _) => Ordering::Greater,
        (_, Value::Null) => Ordering::Less,
        (Value::Int(x), Value::Int(y)) => x.cmp(y),
        (Value::Int(_) | Value::Float(_), Value::Int(_) | Value::Float(_)) => a
            .as_f64()
            .unwrap_or(0.0)
            .partial_cmp(&b.as_f64().unwrap_or(0.0))
            .unwrap_or(Ordering::Equal),
        (Value::String(x), Value::String(y)) => x.cmp(y),
        (Value::Bool(x), Value::Bool(y)) => x.cmp(y),
        (Value::Datetime(x), Value::Datetime(y)) => x.cmp(y),
        _ => return Err(()),
    })
}

/// Go's kind names, as eKuiper's sorter prints them.
fn kind(v: &Value) -> &'static str {
    match v {
        Value::Int(_) => "int",
        Value::Float(_) => "float",
        Value::String(_) => "string",
        Value::Bool(_) => "bool",
        Value::Datetime(_) => "time",
        Value::Bytes(_) => "bytes",
        Value::Array(_) => "slice",
        Value::Object(_) => "map",
        Value::Null => "nil",
    }
}
