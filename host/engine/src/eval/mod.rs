//! Batch evaluation of typed expressions.
//!
//! An expression is evaluated over a whole batch at once and yields a [`Column`];
//! literals stay scalar instead of being broadcast. Function calls go to their bound
//! instance once per batch. A failure in one row is recorded in [`RowErrors`] for that
//! row only: the rest of the batch carries on, and the operator turns the recorded
//! error into an error emission.

pub mod access;
mod column;
pub mod display;
pub mod ops;

pub use column::RowErrors;
use column::{map1, map2, negate, ok_or_record};

use regex::Regex;
use std::collections::HashMap;
use tributary_core::function::{
    ArgInfo, CallSite, Column, FnContext, FunctionImpl, FunctionKind, RowError,
};
use tributary_core::hidden::HiddenCol;
use tributary_core::{Error, Row, Value};
use tributary_functions::Registry;
use tributary_sql::expr::MetaKey;
use tributary_sql::{BinOp, Expr};

/// Functions the engine evaluates itself, because they read the row rather than values.
pub const ENGINE_FUNCTIONS: &[&str] = &["event_time", "unnest"];

/// eKuiper functions that need per-rule state or metadata the engine does not evaluate
/// yet; they are named as such rather than "not found".
const PLANNED_FUNCTIONS: &[(&str, &str)] = &[
    ("percentile", "aggregate"),
    ("change_capture", "analytic"),
    ("change_to", "analytic"),
    ("consecutive_count", "analytic"),
    ("consecutive_start", "analytic"),
    ("changed_cols", "multi-column"),
    ("rule_start", "rule metadata"),
    ("mqtt", "metadata"),
    ("props", "rule metadata"),
];

/// The functions of one rule, bound to their instances, and the caches evaluation needs.
pub struct Evaluator {
    funcs: HashMap<usize, (String, Box<dyn FunctionImpl>)>,
    /// Columns of aliased fields already computed for the current batch.
    aliases: Vec<(std::sync::Arc<str>, Column)>,
    /// Hidden columns given for the current batch (aggregate results, window
    /// bounds); a hidden column not given here is read from each row.
    hidden: Vec<(HiddenCol, Column)>,
    like_cache: HashMap<String, Regex>,
    pub ctx: FnContext,
}

impl std::fmt::Debug for Evaluator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names: Vec<_> = self.funcs.values().map(|(n, _)| n).collect();
        f.debug_struct("Evaluator")
            .field("functions", &names)
            .finish()
    }
}

impl Evaluator {
    /// Resolves and validates every call in `exprs`, and instantiates each call site.
    pub fn bind<'a>(
        exprs: impl IntoIterator<Item = &'a Expr>,
        registry: &Registry,
        rule_id: &str,
        cancel: &tributary_core::function::Cancel,
    ) -> Result<Self, Error> {
        let mut funcs = HashMap::new();
        let mut error = None;
        for e in exprs {
            e.walk(&mut |node| {
                if error.is_some() {
                    return;
                }
                if let Expr::Call { name, args, site } = node {
                    if ENGINE_FUNCTIONS
                        .iter()
                        .any(|f| f.eq_ignore_ascii_case(name))
                    {
                        let want = usize::from(name.eq_ignore_ascii_case("unnest"));
                        if args.len() != want {
                            error = Some(Error::user(format!(
                                "invalid arguments for function {name}: Expect {want} arguments but found {}.",
                                args.len()
                            )));
                        }
                        return;
                    }
                    match bind_call(registry, rule_id, name, args, *site) {
                        Ok(imp) => {
                            funcs.insert(*site, (name.to_ascii_lowercase(), imp));
                        }
                        Err(e) => error = Some(e),
                    }
                }
            });
        }
        if let Some(e) = error {
            return Err(e);
        }
        Ok(Evaluator {
            funcs,
            aliases: Vec::new(),
            hidden: Vec::new(),
            like_cache: HashMap::new(),
            ctx: FnContext {
                now_ms: 0,
                cancel: cancel.clone(),
            },
        })
    }

    /// "Now" for the functions of this batch: its processing time (the newest row's
    /// timestamp), so that trials on the mock clock are exact.
    pub fn set_now(&mut self, rows: &[Row]) {
        if let Some(t) = rows.iter().map(|r| r.timestamp).max() {
            self.ctx.now_ms = t;
        }
    }

    /// Starts a batch: forgets the alias columns of the previous one.
    pub fn clear_aliases(&mut self) {
        self.aliases.clear();
        self.hidden.clear();
    }

    /// Gives hidden column `col` for the current batch.
    pub fn set_hidden(&mut self, col: HiddenCol, values: Column) {
        match self.hidden.iter_mut().find(|(c, _)| *c == col) {
            Some(slot) => slot.1 = values,
            None => self.hidden.push((col, values)),
        }
    }

    /// Records the column computed for the alias `name`, for later `AliasRef`s.
    pub fn set_alias(&mut self, name: std::sync::Arc<str>, col: Column) {
        self.aliases.push((name, col));
    }

    /// Evaluates `e` over `rows`.
    pub fn eval(&mut self, e: &Expr, rows: &[Row], errs: &mut RowErrors) -> Column {
        let n = rows.len();
        match e {
            Expr::Literal(v) => Column::Scalar(v.clone()),
            Expr::Field { name, .. } => Column::Values(
                rows.iter()
                    .map(|r| r.get_interned(name).cloned().unwrap_or(Value::Null))
                    .collect(),
            ),
            Expr::Hidden(col) => match self.hidden.iter().find(|(c, _)| c == col) {
                Some((_, values)) => values.clone(),
                None => Column::Values(
                    rows.iter()
                        .map(|r| r.hidden(col).cloned().unwrap_or(Value::Null))
                        .collect(),
                ),
            },
            Expr::AliasRef { name } => self
                .aliases
                .iter()
                .find(|(a, _)| a == name)
                .map(|(_, c)| c.clone())
                .unwrap_or(Column::Scalar(Value::Null)),
            Expr::Wildcard => {
                Column::Values(rows.iter().map(|r| Value::object(r.to_object())).collect())
            }
            Expr::Meta(key) => Column::Values(rows.iter().map(|r| meta_value(r, key)).collect()),
            Expr::Member { expr, key } => {
                let base = self.eval(expr, rows, errs);
                map1(&base, n, errs, |v| access::member(v, key))
            }
            Expr::Index { expr, index } => {
                let base = self.eval(expr, rows, errs);
                let idx = self.eval(index, rows, errs);
                map2(&base, &idx, n, errs, access::index)
            }
            Expr::Slice { expr, start, end } => {
                let base = self.eval(expr, rows, errs);
                let s = start.as_ref().map(|s| self.eval(s, rows, errs));
                let en = end.as_ref().map(|e| self.eval(e, rows, errs));
                let out = (0..n)
                    .map(|i| {
                        let r = access::slice(
                            base.get(i),
                            s.as_ref().map(|c| c.get(i)),
                            en.as_ref().map(|c| c.get(i)),
                        );
                        ok_or_record(r, i, errs)
                    })
                    .collect();
                Column::Values(out)
            }
            Expr::Unary { op, expr } => {
                let v = self.eval(expr, rows, errs);
                map1(&v, n, errs, |x| ops::unary(*op, x))
            }
            Expr::Binary {
                op: BinOp::And,
                left,
                right,
            } => self.logic(true, left, right, rows, errs),
            Expr::Binary {
                op: BinOp::Or,
                left,
                right,
            } => self.logic(false, left, right, rows, errs),
            Expr::Binary { op, left, right } => {
                let l = self.eval(left, rows, errs);
                let r = self.eval(right, rows, errs);
                map2(&l, &r, n, errs, |a, b| ops::binary(*op, a, b))
            }
            Expr::Like {
                expr,
                pattern,
                escape,
                negated,
            } => {
                let v = self.eval(expr, rows, errs);
                let p = self.eval(pattern, rows, errs);
                let mut out = Vec::with_capacity(n);
                // The pattern is nearly always the same for every row: look its regex
                // up once, not once per row.
                let mut last: Option<(std::sync::Arc<str>, Regex)> = None;
                for i in 0..n {
                    let r = self.like(v.get(i), p.get(i), *escape, *negated, &mut last);
                    out.push(ok_or_record(r, i, errs));
                }
                Column::Values(out)
            }
            Expr::InList {
                expr,
                list,
                negated,
            } => {
                let v = self.eval(expr, rows, errs);
                let items: Vec<Column> = list.iter().map(|x| self.eval(x, rows, errs)).collect();
                let mut buf = Vec::with_capacity(items.len());
                let out = (0..n)
                    .map(|i| {
                        buf.clear();
                        buf.extend(items.iter().map(|c| c.get(i).clone()));
                        let r = access::in_list(v.get(i), &buf).map(|b| negate(b, *negated));
                        ok_or_record(r, i, errs)
                    })
                    .collect();
                Column::Values(out)
            }
            Expr::Between {
                expr,
                low,
                high,
                negated,
            } => {
                let v = self.eval(expr, rows, errs);
                let lo = self.eval(low, rows, errs);
                let hi = self.eval(high, rows, errs);
                let out = (0..n)
                    .map(|i| {
                        let r = access::between(v.get(i), lo.get(i), hi.get(i)).map(|b| {
                            // NOT BETWEEN with a nil operand is still false (eKuiper v2).
                            if [v.get(i), lo.get(i), hi.get(i)].iter().any(|x| x.is_null()) {
                                b
                            } else {
                                negate(b, *negated)
                            }
                        });
                        ok_or_record(r, i, errs)
                    })
                    .collect();
                Column::Values(out)
            }
            Expr::IsNull { expr, negated } => {
                let v = self.eval(expr, rows, errs);
                map1(&v, n, errs, |x| Ok(Value::Bool(x.is_null() != *negated)))
            }
            Expr::Case {
                operand,
                whens,
                otherwise,
            } => self.case(operand.as_deref(), whens, otherwise.as_deref(), rows, errs),
            Expr::Call { name, args, site } => self.call(name, args, *site, rows, errs),
        }
    }

    /// AND (`is_and`) / OR with eKuiper's short cut: `false AND x` is false and `true
    /// OR x` is true without `x` being looked at, so errors in `x` do not count there.
    fn logic(
        &mut self,
        is_and: bool,
        left: &Expr,
        right: &Expr,
        rows: &[Row],
        errs: &mut RowErrors,
    ) -> Column {
        let n = rows.len();
        let l = self.eval(left, rows, errs);
        let mut rerrs = RowErrors::new(n);
        let r = self.eval(right, rows, &mut rerrs);
        let decided = |v: &Value| matches!(v, Value::Bool(b) if *b != is_and);
        errs.merge_where(rerrs, |i| !decided(l.get(i)));
        let op = if is_and { "AND" } else { "OR" };
        let out = (0..n)
            .map(|i| {
                let (a, b) = (l.get(i), r.get(i));
                let res = match (a, b) {
                    (Value::Bool(x), _) if *x != is_and => Ok(Value::Bool(*x)),
                    (Value::Bool(_), Value::Bool(y)) => Ok(Value::Bool(*y)),
                    (Value::Null, _) | (_, Value::Null) => Ok(Value::Null),
                    _ => Err(format!(
                        "invalid operation {} {op} {}",
                        a.describe(),
                        b.describe()
                    )),
                };
                ok_or_record(res, i, errs)
            })
            .collect();
        Column::Values(out)
    }

    fn case(
        &mut self,
        operand: Option<&Expr>,
        whens: &[(Expr, Expr)],
        otherwise: Option<&Expr>,
        rows: &[Row],
        errs: &mut RowErrors,
    ) -> Column {
        let n = rows.len();
        let subject = operand.map(|o| self.eval(o, rows, errs));
        let mut chosen: Vec<Option<Value>> = vec![None; n];
        for (cond, result) in whens {
            let mut cerrs = RowErrors::new(n);
            let c = self.eval(cond, rows, &mut cerrs);
            let mut rerrs = RowErrors::new(n);
            let r = self.eval(result, rows, &mut rerrs);
            let mut hit = vec![false; n];
            for i in 0..n {
                if chosen[i].is_some() || errs.get(i).is_some() {
                    continue;
                }
                if let Some(e) = cerrs.take(i) {
                    errs.set(i, e);
                    continue;
                }
                let matched = match &subject {
                    Some(s) => match ops::binary(BinOp::Eq, s.get(i), c.get(i)) {
                        Ok(Value::Bool(b)) => b,
                        Ok(_) => false,
                        Err(e) => {
                            errs.set(i, format!("evaluate case expression error: {e}"));
                            false
                        }
                    },
                    None => matches!(c.get(i), Value::Bool(true)),
                };
                if matched {
                    hit[i] = true;
                    chosen[i] = Some(r.get(i).clone());
                }
            }
            errs.merge_where(rerrs, |i| hit[i]);
        }
        let else_col = otherwise.map(|o| {
            let mut oerrs = RowErrors::new(n);
            let col = self.eval(o, rows, &mut oerrs);
            (col, oerrs)
        });
        let out: Vec<Value> = match else_col {
            Some((col, oerrs)) => {
                errs.merge_where(oerrs, |i| chosen[i].is_none());
                chosen
                    .into_iter()
                    .enumerate()
                    .map(|(i, c)| c.unwrap_or_else(|| col.get(i).clone()))
                    .collect()
            }
            None => chosen
                .into_iter()
                .map(|c| c.unwrap_or(Value::Null))
                .collect(),
        };
        Column::Values(out)
    }

    fn call(
        &mut self,
        name: &str,
        args: &[Expr],
        site: usize,
        rows: &[Row],
        errs: &mut RowErrors,
    ) -> Column {
        let n = rows.len();
        if name.eq_ignore_ascii_case("event_time") {
            return Column::Values(rows.iter().map(|r| Value::Int(r.timestamp)).collect());
        }
        if name.eq_ignore_ascii_case("unnest") {
            // Expanded by the projection; as a value it is its argument.
            return match args.first() {
                Some(a) => self.eval(a, rows, errs),
                None => Column::Scalar(Value::Null),
            };
        }
        let cols: Vec<Column> = args.iter().map(|a| self.eval(a, rows, errs)).collect();
        let ctx = self.ctx.clone();
        let Some((fname, imp)) = self.funcs.get_mut(&site) else {
            for i in 0..n {
                errs.set(i, format!("function {name} is not bound"));
            }
            return Column::Scalar(Value::Null);
        };
        let mut results = Vec::with_capacity(n);
        imp.exec_batch(&ctx, &cols, n, &mut results);
        if results.len() != n {
            let msg = format!(
                "call func {fname} error: returned {} results for {n} rows",
                results.len()
            );
            for i in 0..n {
                errs.set(i, msg.clone());
            }
            return Column::Scalar(Value::Null);
        }
        let out = results
            .into_iter()
            .enumerate()
            .map(|(i, r)| match r {
                Ok(v) => v,
                Err(RowError::Failed(e)) => {
                    errs.set(i, format!("call func {fname} error: {e}"));
                    Value::Null
                }
                // A request to drop the row passes through as it is, for the filter
                // and project stages.
                Err(RowError::Skip) => {
                    errs.set(i, RowError::Skip);
                    Value::Null
                }
            })
            .collect();
        Column::Values(out)
    }

    fn like(
        &mut self,
        v: &Value,
        p: &Value,
        escape: Option<char>,
        negated: bool,
        last: &mut Option<(std::sync::Arc<str>, Regex)>,
    ) -> Result<Value, String> {
        let pattern = match p {
            Value::String(s) => s,
            other => {
                return Err(format!(
                    "invalid LIKE pattern, must be a string but got {other}"
                ))
            }
        };
        let s = match v {
            Value::String(s) => s,
            Value::Null => return Ok(Value::Null),
            other => {
                return Err(format!(
                    "LIKE operator left operand expects string, but found {other}"
                ))
            }
        };
        if last.as_ref().is_none_or(|(lp, _)| **lp != **pattern) {
            let re = match self.like_cache.get(&**pattern) {
                Some(re) => re.clone(),
                None => {
                    let re = access::like_regex(pattern, escape)?;
                    if self.like_cache.len() > 1024 {
                        self.like_cache.clear();
                    }
                    self.like_cache.insert(pattern.to_string(), re.clone());
                    re
                }
            };
            *last = Some((pattern.clone(), re));
        }
        let matched = last.as_ref().is_some_and(|(_, re)| re.is_match(s));
        Ok(Value::Bool(matched != negated))
    }
}

/// Whether `name` is an aggregate function of `registry` (built-in or plugin).
pub fn is_aggregate(registry: &Registry, name: &str) -> bool {
    registry
        .get(name)
        .is_some_and(|f| f.kind() == FunctionKind::Aggregate)
}

/// Resolves, validates and instantiates the aggregate call `name(args)` at `site`.
pub fn bind_aggregate(
    registry: &Registry,
    rule_id: &str,
    name: &str,
    args: &[Expr],
    site: usize,
) -> Result<Box<dyn FunctionImpl>, Error> {
    resolve_call(registry, rule_id, name, args, site, true)
}

fn bind_call(
    registry: &Registry,
    rule_id: &str,
    name: &str,
    args: &[Expr],
    site: usize,
) -> Result<Box<dyn FunctionImpl>, Error> {
    resolve_call(registry, rule_id, name, args, site, false)
}

fn resolve_call(
    registry: &Registry,
    rule_id: &str,
    name: &str,
    args: &[Expr],
    site: usize,
    aggregate: bool,
) -> Result<Box<dyn FunctionImpl>, Error> {
    if !aggregate
        && ["window_start", "window_end"]
            .iter()
            .any(|w| w.eq_ignore_ascii_case(name))
    {
        return Err(Error::user(format!(
            "function {name} needs a window in GROUP BY"
        )));
    }
    let f = registry.get(name).ok_or_else(|| {
        let lower = name.to_ascii_lowercase();
        match PLANNED_FUNCTIONS.iter().find(|(n, _)| *n == lower) {
            Some((_, kind)) => Error::user(format!(
                "function {name} is an eKuiper {kind} function that Tributary does not support yet"
            )),
            None => Error::user(format!("function {name} not found")),
        }
    })?;
    if f.kind() == FunctionKind::Aggregate && !aggregate {
        return Err(Error::user(format!(
            "aggregate function {name} needs GROUP BY or a window, and is allowed only in SELECT, HAVING and ORDER BY"
        )));
    }
    let infos: Vec<ArgInfo> = args
        .iter()
        .map(|a| match a {
            Expr::Literal(v) => ArgInfo::Literal(v.clone()),
            _ => ArgInfo::Dynamic,
        })
        .collect();
    f.validate(&infos)
        .map_err(|e| Error::user(format!("invalid arguments for function {name}: {e}")))?;
    f.instantiate(&CallSite {
        rule_id: rule_id.to_string(),
        site,
    })
}

fn meta_value(r: &Row, key: &MetaKey) -> Value {
    match key {
        MetaKey::All => Value::object((*r.meta).clone()),
        MetaKey::Key(k, path) => {
            let mut v = r
                .meta
                .get(k)
                .or_else(|| {
                    r.meta
                        .iter()
                        .find(|(mk, _)| mk.eq_ignore_ascii_case(k))
                        .map(|(_, v)| v)
                })
                .cloned()
                .unwrap_or(Value::Null);
            for p in path {
                v = access::member(&v, p).unwrap_or(Value::Null);
            }
            v
        }
    }
}
