//! eKuiper's analytic functions — `lag`, `latest`, `changed_col`, `had_changed` and the
//! `acc_*` accumulations — evaluated once per tuple, in arrival order, before windows,
//! joins and WHERE (where eKuiper's plan puts them), with their state per call site and
//! per `OVER (PARTITION BY …)` partition.
//!
//! Each call's result is stored on the tuple under a hidden name, and the rule's
//! expressions read that column, so a value computed here is the same in WHERE, in the
//! projection and in every window the tuple falls in. `OVER (WHEN cond)`: only a
//! tuple for which `cond` is false leaves the state alone (nil or an error count as
//! true, as in eKuiper).

use crate::eval::{Evaluator, RowErrors};
use crate::operator::{for_each_in_order, Chunk, ChunkBuilder, Collector, Item, Operator};
use std::collections::{HashMap, VecDeque};
use tributary_core::function::Column;
use tributary_core::hidden::HiddenCol;
use tributary_core::Value;
use tributary_sql::Expr;

/// The analytic functions the engine evaluates.
pub const ANALYTIC_FUNCTIONS: &[&str] = &[
    "lag",
    "latest",
    "changed_col",
    "had_changed",
    "acc_sum",
    "acc_avg",
    "acc_min",
    "acc_max",
    "acc_count",
];

pub fn is_analytic(name: &str) -> bool {
    ANALYTIC_FUNCTIONS
        .iter()
        .any(|f| f.eq_ignore_ascii_case(name))
}

/// What an analytic call computes; literal parameters are fixed at build time.
#[derive(Debug, Clone, PartialEq)]
pub enum AnKind {
    /// `lag(expr[, offset[, default[, ignoreNull]]])`; the default is argument 2.
    Lag {
        offset: usize,
        ignore_null: bool,
    },
    /// `latest(expr[, default])`.
    Latest,
    /// `changed_col(ignoreNull, expr)`.
    ChangedCol {
        ignore_null: bool,
    },
    /// `had_changed(ignoreNull, expr, …)`.
    HadChanged {
        ignore_null: bool,
    },
    AccSum,
    AccAvg,
    AccMin,
    AccMax,
    AccCount,
}

impl AnKind {
    /// Checks the arguments of `name(args)` as eKuiper does; literal parameters only.
    pub fn parse(name: &str, args: &[Expr]) -> Result<AnKind, String> {
        let n = args.len();
        let lit = |i: usize| match args.get(i) {
            Some(Expr::Literal(v)) => Some(v.clone()),
            _ => None,
        };
        let bool_at = |i: usize, msg: &str| match lit(i) {
            Some(Value::Bool(b)) => Ok(b),
            _ => Err(msg.to_string()),
        };
        Ok(match name.to_ascii_lowercase().as_str() {
            "lag" => {
                if !(1..=4).contains(&n) {
                    return Err(format!("expect one two or three args but got {n}"));
                }
                let offset = match args.get(1) {
                    None => 1,
                    Some(_) => match lit(1) {
                        Some(Value::Int(i)) if i >= 0 => usize::try_from(i).unwrap_or(usize::MAX),
                        Some(Value::Int(_)) => {
                            return Err("the index should not be a nagtive integer".into())
                        }
                        _ => return Err("Expect int type for parameter 2".into()),
                    },
                };
                let ignore_null = if n == 4 {
                    bool_at(3, "Expect bool type for parameter 4")?
                } else {
                    false
                };
                AnKind::Lag {
                    offset,
                    ignore_null,
                }
            }
            "latest" => {
                if !(1..=2).contains(&n) {
                    return Err(format!("expect one or two args but got {n}"));
                }
                AnKind::Latest
            }
            "changed_col" => {
                if n != 2 {
                    return Err(format!("Expect 2 arguments but found {n}."));
                }
                AnKind::ChangedCol {
                    ignore_null: bool_at(0, "Expect boolean type for parameter 1")?,
                }
            }
            "had_changed" => {
                if n < 2 {
                    return Err(format!("expect more than one arg but got {n}"));
                }
                AnKind::HadChanged {
                    ignore_null: bool_at(0, "Expect bool type for parameter 1")?,
                }
            }
            acc => {
                if n != 1 {
                    return Err(format!("Expect 1 arguments but found {n}."));
                }
                match acc {
                    "acc_sum" => AnKind::AccSum,
                    "acc_avg" => AnKind::AccAvg,
                    "acc_min" => AnKind::AccMin,
                    "acc_max" => AnKind::AccMax,
                    "acc_count" => AnKind::AccCount,
                    other => return Err(format!("{other} is not an analytic function")),
                }
            }
        })
    }
}

/// The state of one call in one partition.
#[derive(Debug, Clone)]
enum AnState {
    Lag(VecDeque<Value>),
    Latest(Option<Value>),
    Changed(Option<Value>),
    HadChanged(Vec<Option<Value>>),
    /// acc_sum / acc_avg: total and count; acc_min / acc_max: best; acc_count: count.
    Acc {
        total: f64,
        n: u64,
        best: Option<f64>,
    },
}

/// One analytic call of a rule.
pub struct AnalyticCall {
    /// The hidden column the result is stored under.
    pub alias: HiddenCol,
    pub name: String,
    pub kind: AnKind,
    pub args: Vec<Expr>,
    pub partition_by: Vec<Expr>,
    pub when: Option<Expr>,
    state: HashMap<String, AnState>,
}

impl AnalyticCall {
    pub fn new(
        alias: HiddenCol,
        name: String,
        kind: AnKind,
        args: Vec<Expr>,
        over: tributary_sql::Over,
    ) -> Self {
        AnalyticCall {
            alias,
            name,
            kind,
            args,
            partition_by: over.partition_by,
            when: over.when,
            state: HashMap::new(),
        }
    }

    /// Computes the call for one tuple: `args` are its argument values, `valid`
    /// whether OVER (WHEN …) lets it update the state.
    fn step(&mut self, key: String, args: &[&Value], valid: bool) -> Result<Value, String> {
        let kind = self.kind.clone();
        let st = self.state.entry(key).or_insert_with(|| match &kind {
            AnKind::Lag { offset, .. } => AnState::Lag(
                std::iter::repeat_n(args.get(2).map_or(Value::Null, |d| (*d).clone()), *offset)
                    .collect(),
            ),
            AnKind::Latest => AnState::Latest(None),
            AnKind::ChangedCol { .. } => AnState::Changed(None),
            AnKind::HadChanged { .. } => {
                AnState::HadChanged(vec![None; args.len().saturating_sub(1)])
            }
            _ => AnState::Acc {
                total: 0.0,
                n: 0,
                best: None,
            },
        });
        let v = args.first().copied().unwrap_or(&Value::Null);
        match (kind, st) {
            (
                AnKind::Lag {
                    offset,
                    ignore_null,
                },
                AnState::Lag(q),
            ) => {
                if offset == 0 {
                    return Ok(v.clone());
                }
                let oldest = q.front().cloned().unwrap_or(Value::Null);
                if valid && !(ignore_null && v.is_null()) {
                    q.pop_front();
                    q.push_back(v.clone());
                }
                Ok(oldest)
            }
            (AnKind::Latest, AnState::Latest(stored)) => {
                if valid && !v.is_null() {
                    *stored = Some(v.clone());
                }
                Ok(stored
                    .clone()
                    .or_else(|| args.get(1).map(|d| (*d).clone()))
                    .unwrap_or(Value::Null))
            }
            (AnKind::ChangedCol { ignore_null }, AnState::Changed(stored)) => {
                let v = args.get(1).copied().unwrap_or(&Value::Null);
                if (ignore_null && v.is_null()) || !valid {
                    return Ok(Value::Null);
                }
                if stored.as_ref().is_some_and(|s| same(s, v)) {
                    return Ok(Value::Null);
                }
                *stored = Some(v.clone());
                Ok(v.clone())
            }
            (AnKind::HadChanged { ignore_null }, AnState::HadChanged(stored)) => {
                if !valid {
                    return Ok(Value::Bool(false));
                }
                let mut changed = false;
                for (slot, v) in stored.iter_mut().zip(args.iter().skip(1)) {
                    if ignore_null && v.is_null() {
                        continue;
                    }
                    if slot.as_ref().is_none_or(|s| !same(s, v)) {
                        changed = true;
                        *slot = Some((*v).clone());
                    }
                }
                Ok(Value::Bool(changed))
            }
            (k, AnState::Acc { total, n, best }) => {
                if valid && !v.is_null() {
                    let x = v.as_f64().ok_or("the value should be number")?;
                    *total += x;
                    *n += 1;
                    *best = Some(match (*best, &k) {
                        (None, _) => x,
                        (Some(b), AnKind::AccMin) => b.min(x),
                        (Some(b), _) => b.max(x),
                    });
                }
                Ok(match k {
                    AnKind::AccCount => Value::Int(*n as i64),
                    AnKind::AccSum => Value::Float(*total),
                    AnKind::AccAvg if *n == 0 => Value::Float(0.0),
                    AnKind::AccAvg => Value::Float(*total / *n as f64),
                    _ => Value::Float(best.unwrap_or(0.0)),
                })
            }
            _ => Err("analytic state mismatch".to_string()),
        }
    }
}

/// Type-sensitive equality (`1` and `1.0` differ), for change detection.
fn same(a: &Value, b: &Value) -> bool {
    std::mem::discriminant(a) == std::mem::discriminant(b) && a == b
}

pub struct AnalyticOp {
    calls: Vec<AnalyticCall>,
    eval: Evaluator,
}

impl AnalyticOp {
    /// `eval` must be bound over every call's arguments, partitions and conditions.
    pub fn new(calls: Vec<AnalyticCall>, eval: Evaluator) -> Self {
        AnalyticOp { calls, eval }
    }
}

fn eval_col(
    eval: &mut Evaluator,
    e: &Expr,
    rows: &[tributary_core::Row],
    errs: &mut RowErrors,
) -> Column {
    eval.eval(e, rows, errs)
}

impl Operator for AnalyticOp {
    fn name(&self) -> &str {
        "analytic"
    }

    fn per_row(&self) -> bool {
        true
    }

    fn process(&mut self, mut input: Chunk, out: &mut Collector) {
        let n = input.rows.len();
        self.eval.set_now(&input.rows);
        let mut failed: Vec<Option<String>> = vec![None; n];
        // Calls run in order: a later call may read an earlier one's column.
        for c in 0..self.calls.len() {
            let mut errs = RowErrors::new(n);
            let (args, parts, when) = {
                let call = &self.calls[c];
                let args: Vec<Column> = call
                    .args
                    .iter()
                    .map(|e| eval_col(&mut self.eval, e, &input.rows, &mut errs))
                    .collect();
                let parts: Vec<Column> = call
                    .partition_by
                    .iter()
                    .map(|e| eval_col(&mut self.eval, e, &input.rows, &mut errs))
                    .collect();
                let mut werrs = RowErrors::new(n);
                let when = call
                    .when
                    .as_ref()
                    .map(|e| eval_col(&mut self.eval, e, &input.rows, &mut werrs));
                (args, parts, when)
            };
            let call = &mut self.calls[c];
            for (i, row) in input.rows.iter_mut().enumerate() {
                if failed[i].is_some() {
                    continue;
                }
                if let Some(e) = errs.get(i) {
                    failed[i] = Some(format!("run Analytic error: {e}"));
                    continue;
                }
                let key: String = parts.iter().map(|p| p.get(i).to_string()).collect();
                let valid = !matches!(when.as_ref().map(|w| w.get(i)), Some(Value::Bool(false)));
                let vals: Vec<&Value> = args.iter().map(|a| a.get(i)).collect();
                match call.step(key, &vals, valid) {
                    Ok(v) => row.hidden.push((call.alias.clone(), v)),
                    Err(e) => failed[i] = Some(format!("call func {} error: {e}", call.name)),
                }
            }
        }
        if failed.iter().all(Option::is_none) {
            out.collect(input);
            return;
        }
        let mut b = ChunkBuilder::like(&input, n);
        b.set_time(input.time);
        for_each_in_order(std::mem::take(&mut input), |item| match item {
            Item::Error(e) => b.error(e),
            Item::Row(i, r) => match failed[i].take() {
                Some(e) => b.error(e),
                None => b.row(r),
            },
        });
        out.collect(b.finish());
    }
}
