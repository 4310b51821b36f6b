//! Typed columns, the same in every tier: an argument column whose rows are all of one
//! SQL type (or null) crosses as one flat list plus a null mask, and results may come
//! back the same way. The host looks at a column once ([`typed`]); a tier then lends
//! the flat list in its own form (a WIT `list<s64>`, a C `int64_t *`), and hands
//! typed results back through [`push_typed`].

use tributary_core::function::{Column, RowError, RowResult};
use tributary_core::Value;

/// The largest value a plugin may return for one row.
pub const MAX_VALUE_BYTES: usize = 4 << 20;

/// The flat list of a typed column; a null row holds a placeholder (0, false, "").
#[derive(Debug, PartialEq)]
pub enum Flat<'a> {
    Ints(Vec<i64>),
    Floats(Vec<f64>),
    Bools(Vec<bool>),
    Strs(Vec<&'a str>),
    Bytes(Vec<&'a [u8]>),
    /// Nanoseconds since the Unix epoch.
    Datetimes(Vec<i64>),
}

/// A typed column: its flat list and, when a row is null, one flag per row.
#[derive(Debug, PartialEq)]
pub struct Typed<'a> {
    pub flat: Flat<'a>,
    /// Empty when no row is null.
    pub nulls: Vec<bool>,
}

/// `vs` as one flat list, each value read by `get` (a null gives `null`), or `None`
/// when a value is of another type; `nulls` is set when a row is null. This runs for
/// every argument column of every call, so it is one pass into a list of the exact
/// length, without an early exit (a column of another type is rare, and then the
/// whole pass is thrown away).
fn flat<'a, T: Copy>(
    vs: &'a [Value],
    null: T,
    nulls: &mut bool,
    get: impl Fn(&'a Value) -> Option<T>,
) -> Option<Vec<T>> {
    let (mut other, mut any_null) = (false, false);
    let out = vs
        .iter()
        .map(|v| match get(v) {
            Some(x) => x,
            None => {
                let null_row = v.is_null();
                any_null |= null_row;
                other |= !null_row;
                null
            }
        })
        .collect();
    *nulls = any_null;
    (!other).then_some(out)
}

/// The column typed, when every row is of one type (or null) and at least one is not
/// null; `None` for constants and for mixed, nested or all-null columns.
pub fn typed(c: &Column) -> Option<Typed<'_>> {
    let Column::Values(vs) = c else {
        return None;
    };
    let first = vs.iter().find(|v| !v.is_null())?;
    let mut any_null = false;
    let n = &mut any_null;
    let flat = match first {
        Value::Int(_) => Flat::Ints(flat(vs, 0, n, |v| match v {
            Value::Int(i) => Some(*i),
            _ => None,
        })?),
        Value::Float(_) => Flat::Floats(flat(vs, 0.0, n, |v| match v {
            Value::Float(f) => Some(*f),
            _ => None,
        })?),
        Value::Bool(_) => Flat::Bools(flat(vs, false, n, |v| match v {
            Value::Bool(b) => Some(*b),
            _ => None,
        })?),
        Value::String(_) => Flat::Strs(flat(vs, "", n, |v| match v {
            Value::String(s) => Some(s.as_ref()),
            _ => None,
        })?),
        Value::Bytes(_) => Flat::Bytes(flat(vs, &[][..], n, |v| match v {
            Value::Bytes(b) => Some(b.as_ref()),
            _ => None,
        })?),
        Value::Datetime(_) => Flat::Datetimes(flat(vs, 0, n, |v| match v {
            Value::Datetime(ns) => Some(*ns),
            _ => None,
        })?),
        _ => return None,
    };
    let nulls = if any_null {
        vs.iter().map(Value::is_null).collect()
    } else {
        Vec::new()
    };
    Some(Typed { flat, nulls })
}

/// How many of `rows` are errors: for the answers that are not typed, where only
/// reading them tells.
pub fn failed_in(rows: &[RowResult]) -> usize {
    rows.iter().filter(|r| r.is_err()).count()
}

/// A typed result column as a plugin handed it back.
pub enum FlatOut<'a> {
    Ints(&'a [i64]),
    Floats(&'a [f64]),
    Bools(&'a [bool]),
    Datetimes(&'a [i64]),
    Strs(Vec<String>),
    Bytes(Vec<Vec<u8>>),
}

impl FlatOut<'_> {
    fn len(&self) -> usize {
        match self {
            FlatOut::Ints(v) | FlatOut::Datetimes(v) => v.len(),
            FlatOut::Floats(v) => v.len(),
            FlatOut::Bools(v) => v.len(),
            FlatOut::Strs(v) => v.len(),
            FlatOut::Bytes(v) => v.len(),
        }
    }
}

fn too_large(len: usize) -> Option<RowError> {
    (len > MAX_VALUE_BYTES).then(|| {
        RowError::Failed(format!(
            "the plugin returned a value larger than {} MiB",
            MAX_VALUE_BYTES >> 20
        ))
    })
}

/// The results of `n` rows from a typed column with its null mask (`nulls`: empty
/// for none, else one flag per row). A column or mask of another length fails the
/// call: the plugin broke the contract. A value too large is that row's error;
/// answers how many rows failed so.
pub fn push_typed(
    flat: FlatOut<'_>,
    nulls: &[bool],
    n: usize,
    out: &mut Vec<RowResult>,
) -> Result<usize, String> {
    if flat.len() != n {
        return Err(format!(
            "the plugin returned a column of {} results for {n} rows",
            flat.len()
        ));
    }
    if !nulls.is_empty() && nulls.len() != n {
        return Err(format!(
            "the plugin returned a null mask of {} for {n} values",
            nulls.len()
        ));
    }
    out.reserve(n);
    let null = |i: usize| nulls.get(i).copied().unwrap_or(false);
    fn push<T>(
        out: &mut Vec<RowResult>,
        values: impl Iterator<Item = T>,
        null: impl Fn(usize) -> bool,
        masked: bool,
        value: impl Fn(T) -> RowResult,
    ) {
        if masked {
            out.extend(values.enumerate().map(
                |(i, v)| {
                    if null(i) {
                        Ok(Value::Null)
                    } else {
                        value(v)
                    }
                },
            ));
        } else {
            out.extend(values.map(value));
        }
    }
    let masked = !nulls.is_empty();
    let start = out.len();
    // Only strings and bytes can be too large.
    let sized = matches!(flat, FlatOut::Strs(_) | FlatOut::Bytes(_));
    match flat {
        FlatOut::Ints(v) => push(out, v.iter(), null, masked, |i| Ok(Value::Int(*i))),
        FlatOut::Datetimes(v) => push(out, v.iter(), null, masked, |i| Ok(Value::Datetime(*i))),
        FlatOut::Floats(v) => push(out, v.iter(), null, masked, |f| Ok(Value::Float(*f))),
        FlatOut::Bools(v) => push(out, v.iter(), null, masked, |b| Ok(Value::Bool(*b))),
        FlatOut::Strs(v) => push(out, v.into_iter(), null, masked, |s| {
            match too_large(s.len()) {
                Some(e) => Err(e),
                None => Ok(Value::from(s)),
            }
        }),
        FlatOut::Bytes(v) => push(out, v.into_iter(), null, masked, |b| {
            match too_large(b.len()) {
                Some(e) => Err(e),
                None => Ok(Value::bytes(b)),
            }
        }),
    }
    Ok(if sized { failed_in(&out[start..]) } else { 0 })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values(vs: Vec<Value>) -> Column {
        Column::Values(vs)
    }

    #[test]
    fn a_column_of_one_type_goes_typed_with_its_nulls() {
        let c = values(vec![Value::Int(1), Value::Null, Value::Int(3)]);
        assert_eq!(
            typed(&c),
            Some(Typed {
                flat: Flat::Ints(vec![1, 0, 3]),
                nulls: vec![false, true, false]
            })
        );
        let c = values(vec![Value::str("a"), Value::str("b")]);
        assert_eq!(
            typed(&c),
            Some(Typed {
                flat: Flat::Strs(vec!["a", "b"]),
                nulls: vec![]
            })
        );
        let c = values(vec![Value::Datetime(5), Value::Null]);
        assert!(matches!(
            typed(&c),
            Some(Typed {
                flat: Flat::Datetimes(_),
                ..
            })
        ));
    }

    #[test]
    fn mixed_nested_null_and_constant_columns_stay_values() {
        for c in [
            values(vec![Value::Int(1), Value::Float(2.0)]),
            values(vec![Value::Null, Value::Null]),
            values(vec![Value::array(vec![Value::Int(1)])]),
            values(vec![]),
            Column::Scalar(Value::Int(1)),
        ] {
            assert_eq!(typed(&c), None, "{c:?}");
        }
    }

    fn run(flat: FlatOut<'_>, nulls: &[bool], n: usize) -> Result<Vec<RowResult>, String> {
        let mut out = vec![Ok(Value::str("before"))];
        push_typed(flat, nulls, n, &mut out)?;
        Ok(out.split_off(1))
    }

    #[test]
    fn typed_results_carry_their_nulls_and_refuse_a_broken_shape() {
        assert_eq!(
            run(FlatOut::Ints(&[1, 0, 3]), &[false, true, false], 3).expect("ok"),
            vec![Ok(Value::Int(1)), Ok(Value::Null), Ok(Value::Int(3))]
        );
        assert_eq!(
            run(FlatOut::Bools(&[true]), &[], 1).expect("ok"),
            vec![Ok(Value::Bool(true))]
        );
        let big = run(FlatOut::Strs(vec!["x".repeat(MAX_VALUE_BYTES + 1)]), &[], 1);
        assert!(big.expect("ok")[0].is_err());
        let short = run(FlatOut::Floats(&[1.0]), &[], 2).expect_err("short");
        assert!(short.contains("1 results for 2"), "{short}");
        let mask = run(FlatOut::Ints(&[1, 2]), &[true], 2).expect_err("mask");
        assert!(mask.contains("null mask"), "{mask}");
    }
}
