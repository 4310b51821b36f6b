//! Per-row error bookkeeping and the element-wise helpers that apply scalar operators
//! over batch columns.

use tributary_core::function::{Column, RowError};
use tributary_core::Value;

/// The first error of each row of a batch (a failure, or a function's request to
/// skip the row); allocated only when an error happens.
#[derive(Debug, Default)]
pub struct RowErrors {
    errs: Option<Vec<Option<RowError>>>,
    n: usize,
}

impl RowErrors {
    pub fn new(n: usize) -> Self {
        RowErrors { errs: None, n }
    }
    /// Records `e` for row `i` unless the row already failed.
    pub fn set(&mut self, i: usize, e: impl Into<RowError>) {
        let n = self.n;
        let errs = self.errs.get_or_insert_with(|| vec![None; n]);
        if let Some(slot) = errs.get_mut(i) {
            if slot.is_none() {
                *slot = Some(e.into());
            }
        }
    }
    pub fn get(&self, i: usize) -> Option<&RowError> {
        self.errs
            .as_ref()
            .and_then(|e| e.get(i))
            .and_then(|e| e.as_ref())
    }
    pub fn take(&mut self, i: usize) -> Option<RowError> {
        self.errs
            .as_mut()
            .and_then(|e| e.get_mut(i))
            .and_then(|e| e.take())
    }
    pub fn any(&self) -> bool {
        self.errs
            .as_ref()
            .is_some_and(|e| e.iter().any(|x| x.is_some()))
    }
    /// Copies into `self` the errors of `other` for the rows where `keep(i)` holds.
    pub(super) fn merge_where(&mut self, mut other: RowErrors, keep: impl Fn(usize) -> bool) {
        if other.errs.is_none() {
            return;
        }
        for i in 0..other.n {
            if keep(i) {
                if let Some(e) = other.take(i) {
                    self.set(i, e);
                }
            }
        }
    }
}

pub(super) fn negate(v: Value, negated: bool) -> Value {
    match v {
        Value::Bool(b) if negated => Value::Bool(!b),
        other => other,
    }
}

#[inline]
pub(super) fn ok_or_record(r: Result<Value, String>, i: usize, errs: &mut RowErrors) -> Value {
    match r {
        Ok(v) => v,
        Err(e) => {
            errs.set(i, e);
            Value::Null
        }
    }
}

pub(super) fn map1(
    c: &Column,
    n: usize,
    errs: &mut RowErrors,
    f: impl Fn(&Value) -> Result<Value, String>,
) -> Column {
    match c {
        Column::Scalar(v) => match f(v) {
            Ok(x) => Column::Scalar(x),
            Err(e) => {
                for i in 0..n {
                    errs.set(i, e.clone());
                }
                Column::Scalar(Value::Null)
            }
        },
        Column::Values(vs) => Column::Values(
            vs.iter()
                .enumerate()
                .map(|(i, v)| ok_or_record(f(v), i, errs))
                .collect(),
        ),
    }
}

pub(super) fn map2(
    a: &Column,
    b: &Column,
    n: usize,
    errs: &mut RowErrors,
    f: impl Fn(&Value, &Value) -> Result<Value, String>,
) -> Column {
    match (a, b) {
        (Column::Scalar(x), Column::Scalar(y)) => {
            map1(&Column::Scalar(x.clone()), n, errs, |x| f(x, y))
        }
        (Column::Values(xs), Column::Scalar(y)) => Column::Values(
            xs.iter()
                .enumerate()
                .map(|(i, x)| ok_or_record(f(x, y), i, errs))
                .collect(),
        ),
        (Column::Scalar(x), Column::Values(ys)) => Column::Values(
            ys.iter()
                .enumerate()
                .map(|(i, y)| ok_or_record(f(x, y), i, errs))
                .collect(),
        ),
        (Column::Values(xs), Column::Values(ys)) => Column::Values(
            xs.iter()
                .zip(ys)
                .enumerate()
                .map(|(i, (x, y))| ok_or_record(f(x, y), i, errs))
                .collect(),
        ),
    }
}
