//! eKuiper's aggregate functions: one value per group of rows.
//!
//! An aggregate gets each group's argument columns in one call
//! ([`FunctionImpl::exec_groups`]), the same batch form the plugin tiers implement, so a
//! window of many groups costs one call per aggregate, not one per group or row.
//! Nil values are skipped by every numeric aggregate (and by `count(col)`), as in
//! eKuiper. `count` is an integer; `sum`, `avg` and the statistics are floats;
//! `max`/`min` keep the type of their values.

use crate::args::to_f64;
use crate::FnResult;
use std::cmp::Ordering;
use tributary_core::function::{
    ArgInfo, CallSite, Column, FnContext, FunctionFactory, FunctionImpl, FunctionKind, RowError,
    RowResult,
};
use tributary_core::{Error, Object, Value};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Agg {
    Avg,
    Count,
    Max,
    Min,
    Sum,
    Collect,
    Deduplicate,
    Merge,
    Stddev,
    Stddevs,
    Var,
    Vars,
    Median,
    PercentileCont,
    PercentileDisc,
    LastValue,
}

const ALL: &[(&str, Agg, usize, usize)] = &[
    ("avg", Agg::Avg, 1, 1),
    ("count", Agg::Count, 1, 1),
    ("max", Agg::Max, 1, 1),
    ("min", Agg::Min, 1, 1),
    ("sum", Agg::Sum, 1, 1),
    ("collect", Agg::Collect, 1, 1),
    ("deduplicate", Agg::Deduplicate, 2, 2),
    ("merge_agg", Agg::Merge, 1, 1),
    ("stddev", Agg::Stddev, 1, 1),
    ("stddevs", Agg::Stddevs, 1, 1),
    ("var", Agg::Var, 1, 1),
    ("vars", Agg::Vars, 1, 1),
    ("median", Agg::Median, 1, 1),
    ("percentile_cont", Agg::PercentileCont, 2, 2),
    ("percentile_disc", Agg::PercentileDisc, 2, 2),
    ("last_value", Agg::LastValue, 2, 2),
];

/// The built-in aggregate functions, for the registry.
pub fn aggregates() -> Vec<AggregateFunction> {
    ALL.iter()
        .map(|&(name, agg, min, max)| AggregateFunction {
            name,
            agg,
            min,
            max,
        })
        .collect()
}

/// One built-in aggregate, as registered.
#[derive(Debug, Clone, Copy)]
pub struct AggregateFunction {
    name: &'static str,
    agg: Agg,
    min: usize,
    max: usize,
}

impl FunctionFactory for AggregateFunction {
    fn name(&self) -> &str {
        self.name
    }
    fn kind(&self) -> FunctionKind {
        FunctionKind::Aggregate
    }
    fn validate(&self, args: &[ArgInfo]) -> Result<(), String> {
        let n = args.len();
        if n < self.min || n > self.max {
            return Err(if self.min == self.max {
                format!("Expect {} arguments but found {n}.", self.min)
            } else {
                format!(
                    "Expect {} to {} arguments but found {n}.",
                    self.min, self.max
                )
            });
        }
        match self.agg {
            Agg::PercentileCont | Agg::PercentileDisc => match args[1].literal() {
                Some(v) => match v.as_f64() {
                    Some(p) if (0.0..=1.0).contains(&p) => Ok(()),
                    _ => Err("the second parameter must be a number between 0 and 1".into()),
                },
                None => Ok(()),
            },
            Agg::Deduplicate | Agg::LastValue => match args[1].literal() {
                Some(Value::Bool(_)) | None => Ok(()),
                Some(_) => Err("the second parameter must be a bool".into()),
            },
            _ => Ok(()),
        }
    }
    fn instantiate(&self, _site: &CallSite) -> Result<Box<dyn FunctionImpl>, Error> {
        Ok(Box::new(AggregateImpl { agg: self.agg }))
    }
}

struct AggregateImpl {
    agg: Agg,
}

impl FunctionImpl for AggregateImpl {
    fn exec_batch(
        &mut self,
        _ctx: &FnContext,
        _args: &[Column],
        n: usize,
        out: &mut Vec<RowResult>,
    ) {
        out.extend((0..n).map(|_| Err("an aggregate function needs GROUP BY or a window".into())));
    }

    fn exec_groups(&mut self, _ctx: &FnContext, groups: &[Vec<Column>], out: &mut Vec<RowResult>) {
        out.extend(
            groups
                .iter()
                .map(|g| aggregate(self.agg, g).map_err(RowError::Failed)),
        );
    }
}

fn values(c: Option<&Column>) -> &[Value] {
    match c {
        Some(Column::Values(v)) => v,
        Some(Column::Scalar(v)) => std::slice::from_ref(v),
        None => &[],
    }
}

fn scalar_arg(c: Option<&Column>) -> &Value {
    c.map(|c| c.get(0)).unwrap_or(&Value::Null)
}

/// The numeric, non-nil values of a column.
fn numbers(vals: &[Value]) -> Result<Vec<f64>, String> {
    vals.iter()
        .filter(|v| !v.is_null())
        .map(|v| match v {
            Value::Int(_) | Value::Float(_) => to_f64(v),
            other => Err(format!("requires number but found {}", other.describe())),
        })
        .collect()
}

fn aggregate(agg: Agg, args: &[Column]) -> FnResult {
    let vals = values(args.first());
    match agg {
        Agg::Count => Ok(Value::Int(
            vals.iter().filter(|v| !v.is_null()).count() as i64
        )),
        Agg::Sum => {
            let n = numbers(vals)?;
            if n.is_empty() {
                return Ok(Value::Null);
            }
            Ok(Value::Float(n.iter().sum()))
        }
        Agg::Avg => {
            let n = numbers(vals)?;
            if n.is_empty() {
                return Ok(Value::Null);
            }
            Ok(Value::Float(n.iter().sum::<f64>() / n.len() as f64))
        }
        Agg::Max | Agg::Min => extreme(vals, agg == Agg::Max),
        Agg::Collect => Ok(Value::array(vals.to_vec())),
        Agg::Deduplicate => {
            // deduplicate(col, all): with `all`, the first row of every distinct value;
            // otherwise the newest row, or nil when its value was seen before. The
            // engine passes the rows as a third column; without it the values stand in.
            let rows = match args.get(2) {
                Some(c) => values(Some(c)),
                None => vals,
            };
            let row = |i: usize| rows.get(i).cloned().unwrap_or(Value::Null);
            if matches!(scalar_arg(args.get(1)), Value::Bool(true)) {
                let mut firsts: Vec<usize> = Vec::new();
                for (i, v) in vals.iter().enumerate() {
                    if !firsts.iter().any(|&f| same(&vals[f], v)) {
                        firsts.push(i);
                    }
                }
                return Ok(Value::array(firsts.into_iter().map(row).collect()));
            }
            let Some(last) = vals.len().checked_sub(1) else {
                return Ok(Value::Null);
            };
            Ok(if vals[..last].iter().any(|v| same(v, &vals[last])) {
                Value::Null
            } else {
                row(last)
            })
        }
        Agg::Merge => {
            let mut merged = Object::new();
            for v in vals {
                if let Value::Object(o) = v {
                    merged.extend(o.iter().map(|(k, v)| (k.clone(), v.clone())));
                }
            }
            if merged.is_empty() {
                return Ok(Value::Null);
            }
            Ok(Value::object(merged))
        }
        Agg::Stddev | Agg::Stddevs | Agg::Var | Agg::Vars => {
            let mut w = crate::stats::Welford::default();
            numbers(vals)?.into_iter().for_each(|x| w.add(x));
            let var = w.variance(matches!(agg, Agg::Stddevs | Agg::Vars));
            Ok(match var {
                None => Value::Null,
                Some(v) if matches!(agg, Agg::Stddev | Agg::Stddevs) => Value::Float(v.sqrt()),
                Some(v) => Value::Float(v),
            })
        }
        Agg::Median => percentile_cont(numbers(vals)?, 0.5),
        Agg::PercentileCont | Agg::PercentileDisc => {
            let p = scalar_arg(args.get(1))
                .as_f64()
                .filter(|p| (0.0..=1.0).contains(p))
                .ok_or("the second parameter must be a number between 0 and 1")?;
            if agg == Agg::PercentileCont {
                percentile_cont(numbers(vals)?, p)
            } else {
                percentile_disc(numbers(vals)?, p)
            }
        }
        Agg::LastValue => {
            let ignore_null = matches!(scalar_arg(args.get(1)), Value::Bool(true));
            Ok(vals
                .iter()
                .rev()
                .find(|v| !ignore_null || !v.is_null())
                .cloned()
                .unwrap_or(Value::Null))
        }
    }
}

/// Equality for deduplication: same type and same value (`1` and `1.0` differ).
fn same(a: &Value, b: &Value) -> bool {
    std::mem::discriminant(a) == std::mem::discriminant(b) && a == b
}

fn extreme(vals: &[Value], max: bool) -> FnResult {
    let mut best: Option<&Value> = None;
    for v in vals.iter().filter(|v| !v.is_null()) {
        let Some(b) = best else {
            best = Some(v);
            continue;
        };
        let ord = match (b, v) {
            (Value::Int(x), Value::Int(y)) => x.cmp(y),
            (Value::Int(_) | Value::Float(_), Value::Int(_) | Value::Float(_)) => {
                let (x, y) = (b.as_f64().unwrap_or(0.0), v.as_f64().unwrap_or(0.0));
                x.partial_cmp(&y).unwrap_or(Ordering::Equal)
            }
            (Value::String(x), Value::String(y)) => x.cmp(y),
            (Value::Datetime(x), Value::Datetime(y)) => x.cmp(y),
            _ => {
                return Err(format!(
                    "requires values of one comparable type but found {} and {}",
                    b.describe(),
                    v.describe()
                ))
            }
        };
        if (max && ord == Ordering::Less) || (!max && ord == Ordering::Greater) {
            best = Some(v);
        }
    }
    Ok(best.cloned().unwrap_or(Value::Null))
}

fn sorted(mut n: Vec<f64>) -> Vec<f64> {
    n.sort_by(|a, b| a.partial_cmp(b).unwrap_or(Ordering::Equal));
    n
}

/// Linear interpolation between the two closest ranks.
fn percentile_cont(n: Vec<f64>, p: f64) -> FnResult {
    if n.is_empty() {
        return Ok(Value::Null);
    }
    let n = sorted(n);
    let rank = p * (n.len() - 1) as f64;
    let lo = rank.floor() as usize;
    let hi = rank.ceil() as usize;
    let frac = rank - lo as f64;
    Ok(Value::Float(
        n[lo] + (n[hi.min(n.len() - 1)] - n[lo]) * frac,
    ))
}

/// The first value whose cumulative distribution reaches `p`.
fn percentile_disc(n: Vec<f64>, p: f64) -> FnResult {
    if n.is_empty() {
        return Ok(Value::Null);
    }
    let n = sorted(n);
    let idx = ((p * n.len() as f64).ceil() as usize).saturating_sub(1);
    Ok(Value::Float(n[idx.min(n.len() - 1)]))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(name: &str, args: Vec<Column>) -> FnResult {
        let f = aggregates()
            .into_iter()
            .find(|a| a.name == name)
            .expect(name);
        let mut imp = f.instantiate(&CallSite::default()).expect("instance");
        let mut out = Vec::new();
        imp.exec_groups(&FnContext::default(), &[args], &mut out);
        out.pop().expect("one result").map_err(|e| e.to_string())
    }

    fn col(v: Vec<Value>) -> Column {
        Column::Values(v)
    }

    #[test]
    fn numeric_aggregates_skip_nil_and_keep_ekuiper_types() {
        let c = || {
            col(vec![
                Value::Int(3),
                Value::Null,
                Value::Int(6),
                Value::Int(2),
            ])
        };
        assert_eq!(run("count", vec![c()]), Ok(Value::Int(3)));
        assert!(matches!(run("sum", vec![c()]), Ok(Value::Float(f)) if f == 11.0));
        assert!(
            matches!(run("avg", vec![c()]), Ok(Value::Float(f)) if (f - 11.0 / 3.0).abs() < 1e-12)
        );
        assert!(matches!(run("max", vec![c()]), Ok(Value::Int(6))));
        assert!(matches!(run("min", vec![c()]), Ok(Value::Int(2))));
        assert!(matches!(run("median", vec![c()]), Ok(Value::Float(f)) if f == 3.0));
        let e = run("sum", vec![col(vec![Value::str("a")])]).expect_err("string");
        assert!(e.contains("requires number"), "{e}");
    }

    #[test]
    fn statistics() {
        let c = || {
            col([2, 4, 4, 4, 5, 5, 7, 9]
                .iter()
                .map(|&i| Value::Int(i))
                .collect())
        };
        assert!(matches!(run("stddev", vec![c()]), Ok(Value::Float(f)) if f == 2.0));
        assert!(matches!(run("var", vec![c()]), Ok(Value::Float(f)) if f == 4.0));
        assert!(
            matches!(run("vars", vec![c()]), Ok(Value::Float(f)) if (f - 32.0 / 7.0).abs() < 1e-12)
        );
        let p = |x: f64| Column::Scalar(Value::Float(x));
        assert!(
            matches!(run("percentile_cont", vec![c(), p(0.5)]), Ok(Value::Float(f)) if f == 4.5)
        );
        assert!(
            matches!(run("percentile_disc", vec![c(), p(0.5)]), Ok(Value::Float(f)) if f == 4.0)
        );
    }

    #[test]
    fn collections() {
        let c = || col(vec![Value::Int(1), Value::Int(2), Value::Int(1)]);
        assert_eq!(
            run("collect", vec![c()]),
            Ok(Value::array(vec![
                Value::Int(1),
                Value::Int(2),
                Value::Int(1)
            ]))
        );
        assert_eq!(
            run("deduplicate", vec![c(), Column::Scalar(Value::Bool(true))]),
            Ok(Value::array(vec![Value::Int(1), Value::Int(2)]))
        );
        assert_eq!(
            run("deduplicate", vec![c(), Column::Scalar(Value::Bool(false))]),
            Ok(Value::Null)
        );
        assert_eq!(
            run(
                "last_value",
                vec![
                    col(vec![Value::Int(1), Value::Null]),
                    Column::Scalar(Value::Bool(true))
                ]
            ),
            Ok(Value::Int(1))
        );
    }
}
