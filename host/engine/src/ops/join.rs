//! JOIN: combines the rows of a window (or one stream tuple, against tables) across the
//! rule's streams and tables, then applies WHERE.
//!
//! Joins run left to right (`FROM a JOIN b … JOIN c …` is `(a ⋈ b) ⋈ c`) as nested
//! loops: for each pair of rows the joined row is built and ON is evaluated over all
//! pairs of one step at once. Windows are small; this keeps every join kind and any ON
//! condition exact. A table's rows are kept as its kind says (`ops::table`) and joined
//! as they are when a window fires; a table answered by lookups (`ops::lookup`) is
//! asked for each left row's matches instead.

use crate::eval::{ops::truth, Evaluator, RowErrors};
use crate::operator::{for_each_in_order, Chunk, Collector, Item, Operator};
use crate::ops::lookup::Lookup;
use crate::ops::table::{TableMode, TableRows};
use std::sync::Arc;
use tributary_core::hidden::HiddenCol;
use tributary_core::{Row, Value};
use tributary_sql::{Expr, JoinKind};

/// One JOIN step: the stream joined, how, and on what.
#[derive(Debug, Clone)]
pub struct JoinStep {
    /// The stream's index in the rule (1 for the first JOIN).
    pub stream: usize,
    pub kind: JoinKind,
    pub on: Option<Expr>,
    /// How the joined stream keeps its rows, when it is a table.
    pub table: Option<TableMode>,
}

pub struct JoinOp {
    steps: Vec<JoinStep>,
    /// The rows of each table, by stream index.
    tables: Vec<Option<TableRows>>,
    /// The lookups of each table answered by its source, by stream index.
    lookups: Vec<Option<Lookup>>,
    condition: Option<Expr>,
    eval: Evaluator,
}

impl JoinOp {
    /// `eval` must be bound over every step's ON and the rule's WHERE.
    pub fn new(steps: Vec<JoinStep>, condition: Option<Expr>, eval: Evaluator) -> Self {
        let n = steps.iter().map(|s| s.stream + 1).max().unwrap_or(1);
        let mut tables = vec![None; n];
        for s in &steps {
            if let Some(mode) = &s.table {
                tables[s.stream] = Some(TableRows::new(mode.clone()));
            }
        }
        JoinOp {
            steps,
            lookups: (0..n).map(|_| None).collect(),
            tables,
            condition,
            eval,
        }
    }

    /// Steps whose table is answered by lookups: `(stream index, lookup)`.
    pub fn with_lookups(mut self, lookups: Vec<(usize, Lookup)>) -> Self {
        for (stream, l) in lookups {
            if let Some(slot) = self.lookups.get_mut(stream) {
                *slot = Some(l);
            }
        }
        self
    }

    fn table_step(&self, stream: usize) -> Option<&JoinStep> {
        self.steps
            .iter()
            .find(|s| s.stream == stream && s.table.is_some())
    }

    /// Joins `rows` (of every stream, told apart by their marker) step by step, then
    /// filters by WHERE.
    fn join(&mut self, rows: Vec<Row>) -> Result<Vec<Row>, String> {
        let mut by_stream: Vec<Vec<Row>> = vec![Vec::new(); self.tables.len()];
        for r in rows {
            let s = stream_of(&r);
            if let Some(v) = by_stream.get_mut(s) {
                v.push(r);
            }
        }
        let mut left = std::mem::take(&mut by_stream[0]);
        for step in &self.steps {
            if let Some(lookup) = self.lookups[step.stream].as_mut() {
                let matches = lookup.rows_for(&mut self.eval, &left)?;
                let mut joined = Vec::with_capacity(left.len());
                for (l, right) in left.into_iter().zip(matches) {
                    let right = right.as_ref().clone();
                    joined.extend(join_step(&mut self.eval, vec![l], right, step)?);
                }
                left = joined;
                continue;
            }
            let right: Vec<Row> = match step.table {
                Some(_) => self.tables[step.stream]
                    .as_ref()
                    .map(|t| t.rows().cloned().collect())
                    .unwrap_or_default(),
                None => std::mem::take(&mut by_stream[step.stream]),
            };
            left = join_step(&mut self.eval, left, right, step)?;
        }
        let Some(c) = &self.condition else {
            return Ok(left);
        };
        let mut errs = RowErrors::new(left.len());
        self.eval.set_now(&left);
        let col = self.eval.eval(c, &left, &mut errs);
        let mut out = Vec::with_capacity(left.len());
        for (i, r) in left.into_iter().enumerate() {
            if let Some(e) = errs.get(i) {
                return Err(format!("run Where error: {e}"));
            }
            match truth(col.get(i)) {
                Ok(Some(true)) => out.push(r),
                Ok(_) => {}
                Err(e) => return Err(format!("run Where error: {e}")),
            }
        }
        Ok(out)
    }
}

/// One JOIN step: every pair of `left` and `right`, ON evaluated over all of them at
/// once, then the kind's unmatched rows.
fn join_step(
    eval: &mut Evaluator,
    left: Vec<Row>,
    right: Vec<Row>,
    step: &JoinStep,
) -> Result<Vec<Row>, String> {
    let pairs: Vec<Row> = left
        .iter()
        .flat_map(|l| right.iter().map(move |r| merge(l, r)))
        .collect();
    let matched: Vec<bool> = match (&step.on, step.kind) {
        (_, JoinKind::Cross) | (None, _) => vec![true; pairs.len()],
        (Some(on), _) => {
            let mut errs = RowErrors::new(pairs.len());
            eval.set_now(&pairs);
            let col = eval.eval(on, &pairs, &mut errs);
            (0..pairs.len())
                .map(|i| match errs.get(i) {
                    Some(e) => Err(format!("run Join error: {e}")),
                    None => truth(col.get(i))
                        .map(|b| b == Some(true))
                        .map_err(|e| format!("run Join error: {e}")),
                })
                .collect::<Result<_, _>>()?
        }
    };
    let m = right.len();
    let mut out = Vec::new();
    let mut right_hit = vec![false; m];
    let mut pairs = pairs.into_iter();
    for (i, l) in left.iter().enumerate() {
        let mut hit = false;
        for (j, hit_j) in right_hit.iter_mut().enumerate() {
            let Some(p) = pairs.next() else { break };
            if matched[i * m + j] {
                hit = true;
                *hit_j = true;
                out.push(p);
            }
        }
        if !hit && matches!(step.kind, JoinKind::Left | JoinKind::Full) {
            out.push(l.clone());
        }
    }
    if matches!(step.kind, JoinKind::Right | JoinKind::Full) {
        out.extend(
            right
                .into_iter()
                .zip(right_hit)
                .filter(|(_, h)| !h)
                .map(|(r, _)| r),
        );
    }
    Ok(out)
}

fn stream_of(r: &Row) -> usize {
    match r.hidden(&HiddenCol::Stream) {
        Some(Value::Int(i)) => usize::try_from(*i).unwrap_or(0),
        _ => 0,
    }
}

/// The joined row of `l` and `r`: `l`'s fields, then `r`'s, where a name `l` already
/// has is skipped (the first stream wins); both rows' qualified copies, and `l`'s
/// stream marker only.
fn merge(l: &Row, r: &Row) -> Row {
    let mut fields: Vec<(Arc<str>, Value)> = Vec::with_capacity(l.fields.len() + r.fields.len());
    fields.extend(l.fields.iter().cloned());
    for (k, v) in &r.fields {
        if !l.fields.iter().any(|(lk, _)| lk == k) {
            fields.push((k.clone(), v.clone()));
        }
    }
    let mut out = Row::new(fields, l.meta.clone(), l.timestamp.max(r.timestamp));
    out.hidden = l.hidden.clone();
    out.hidden.extend(
        r.hidden
            .iter()
            .filter(|(c, _)| *c != HiddenCol::Stream)
            .cloned(),
    );
    out
}

impl Operator for JoinOp {
    fn name(&self) -> &str {
        "join"
    }

    fn process(&mut self, input: Chunk, out: &mut Collector) {
        if self.table_step(input.stream).is_some() {
            if let Some(t) = self.tables[input.stream].as_mut() {
                for r in input.rows {
                    t.apply(r);
                }
            }
            if !input.errors.is_empty() {
                let mut c = Chunk::from_rows(Vec::new());
                c.errors = input.errors;
                out.collect(c);
            }
            return;
        }
        if input.grouped {
            let window = input.window;
            let mut c = Chunk::from_rows(Vec::new());
            c.grouped = true;
            c.window = window;
            if let Some((_, e)) = input.errors.first() {
                c.errors.push((0, e.clone()));
                out.collect(c);
                return;
            }
            match self.join(input.rows) {
                // A join without result emits nothing.
                Ok(rows) if rows.is_empty() => {}
                Ok(rows) => {
                    c.rows = rows;
                    out.collect(c);
                }
                Err(e) => {
                    c.errors.push((0, e));
                    out.collect(c);
                }
            }
            return;
        }
        // No window: each stream tuple against the tables, one emission per result row.
        let mut b = crate::operator::ChunkBuilder::like(&input, input.rows.len());
        for_each_in_order(input, |item| match item {
            Item::Error(e) => b.error(e),
            Item::Row(_, row) => match self.join(vec![row]) {
                Ok(rows) => rows.into_iter().for_each(|r| b.row(r)),
                Err(e) => b.error(e),
            },
        });
        out.collect(b.finish());
    }
}
