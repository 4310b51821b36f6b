//! Contract 0.2's `results`: one `result<value, string>` per row (read as 0.1's are,
//! [`crate::abi::rows`]), or a column of the rows' values, typed when they are of one
//! type, with the rows that failed listed beside it (the typed lists go through the
//! plugin host's [`tributary_plugin::typed::push_typed`], shared with the native tier).

use crate::abi::rows::RowList;
use crate::bindings::types_api as wit;
use crate::convert::from_wit;
use tributary_core::function::{RowError, RowResult};
use tributary_plugin::typed::{failed_in, push_typed, FlatOut};
use wasmtime::component::{ComponentType, Lift};

#[derive(ComponentType, Lift)]
#[component(record)]
pub struct IntsOut {
    values: Vec<i64>,
    nulls: Vec<bool>,
}

#[derive(ComponentType, Lift)]
#[component(record)]
pub struct FloatsOut {
    values: Vec<f64>,
    nulls: Vec<bool>,
}

#[derive(ComponentType, Lift)]
#[component(record)]
pub struct BoolsOut {
    values: Vec<bool>,
    nulls: Vec<bool>,
}

#[derive(ComponentType, Lift)]
#[component(record)]
pub struct StrsOut {
    values: Vec<String>,
    nulls: Vec<bool>,
}

#[derive(ComponentType, Lift)]
#[component(record)]
pub struct BlobsOut {
    values: Vec<Vec<u8>>,
    nulls: Vec<bool>,
}

/// A result column.
#[derive(ComponentType, Lift)]
#[component(variant)]
pub enum ColumnOut {
    #[component(name = "scalar")]
    Scalar(wit::Value),
    #[component(name = "values")]
    Values(Vec<wit::Value>),
    #[component(name = "ints")]
    Ints(IntsOut),
    #[component(name = "floats")]
    Floats(FloatsOut),
    #[component(name = "bools")]
    Bools(BoolsOut),
    #[component(name = "strs")]
    Strs(StrsOut),
    #[component(name = "bytes")]
    Bytes(BlobsOut),
    #[component(name = "datetimes")]
    Datetimes(IntsOut),
}

#[derive(ComponentType, Lift)]
#[component(record)]
pub struct RowErrorOut {
    row: u32,
    message: String,
}

#[derive(ComponentType, Lift)]
#[component(record)]
pub struct TypedOut {
    column: ColumnOut,
    errors: Vec<RowErrorOut>,
}

/// What `exec` and `exec-groups` return.
#[derive(ComponentType, Lift)]
#[component(variant)]
pub enum ResultsOut {
    #[component(name = "values")]
    Values(RowList),
    #[component(name = "typed")]
    Typed(TypedOut),
}

/// The results of `n` rows into `out`. A typed column of another length, or an error
/// naming a row out of range, fails the call (the plugin broke the contract); a value
/// too large is that row's error. Answers how many rows failed.
pub fn push_results(r: ResultsOut, n: usize, out: &mut Vec<RowResult>) -> Result<usize, String> {
    let TypedOut { column, errors } = match r {
        ResultsOut::Values(RowList(rows)) => {
            let failed = failed_in(&rows);
            out.extend(rows);
            return Ok(failed);
        }
        ResultsOut::Typed(t) => t,
    };
    let start = out.len();
    let mut failed = push_column(column, n, out)?;
    let rows = &mut out[start..];
    if rows.len() != n {
        return Err(format!(
            "the plugin returned a column of {} results for {n} rows",
            rows.len()
        ));
    }
    for e in errors {
        let slot = rows
            .get_mut(e.row as usize)
            .ok_or_else(|| format!("the plugin reported an error for row {} of {n}", e.row))?;
        failed += usize::from(slot.is_ok());
        *slot = Err(RowError::Failed(e.message));
    }
    Ok(failed)
}

/// The column's rows into `out`; answers how many failed.
fn push_column(c: ColumnOut, n: usize, out: &mut Vec<RowResult>) -> Result<usize, String> {
    let (flat, nulls) = match c {
        ColumnOut::Scalar(v) => {
            let v = from_wit(v).map_err(RowError::Failed);
            let failed = if v.is_err() { n } else { 0 };
            out.extend(std::iter::repeat_n(v, n));
            return Ok(failed);
        }
        ColumnOut::Values(vs) => {
            let start = out.len();
            out.extend(
                vs.into_iter()
                    .map(|v| from_wit(v).map_err(RowError::Failed)),
            );
            return Ok(failed_in(&out[start..]));
        }
        ColumnOut::Ints(c) => return push_typed(FlatOut::Ints(&c.values), &c.nulls, n, out),
        ColumnOut::Datetimes(c) => {
            return push_typed(FlatOut::Datetimes(&c.values), &c.nulls, n, out)
        }
        ColumnOut::Floats(c) => return push_typed(FlatOut::Floats(&c.values), &c.nulls, n, out),
        ColumnOut::Bools(c) => return push_typed(FlatOut::Bools(&c.values), &c.nulls, n, out),
        ColumnOut::Strs(c) => (FlatOut::Strs(c.values), c.nulls),
        ColumnOut::Bytes(c) => (FlatOut::Bytes(c.values), c.nulls),
    };
    push_typed(flat, &nulls, n, out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn typed(column: ColumnOut, errors: Vec<(u32, &str)>) -> ResultsOut {
        ResultsOut::Typed(TypedOut {
            column,
            errors: errors
                .into_iter()
                .map(|(row, m)| RowErrorOut {
                    row,
                    message: m.into(),
                })
                .collect(),
        })
    }

    fn run(r: ResultsOut, n: usize) -> Result<Vec<RowResult>, String> {
        let mut out = vec![Ok(Value::str("before"))];
        push_results(r, n, &mut out)?;
        Ok(out.split_off(1))
    }

    use tributary_core::Value;
    use tributary_plugin::typed::MAX_VALUE_BYTES;

    #[test]
    fn typed_results_carry_nulls_and_row_errors() {
        let r = typed(
            ColumnOut::Ints(IntsOut {
                values: vec![1, 0, 3],
                nulls: vec![false, true, false],
            }),
            vec![(2, "bad row")],
        );
        assert_eq!(
            run(r, 3).expect("ok"),
            vec![
                Ok(Value::Int(1)),
                Ok(Value::Null),
                Err(RowError::Failed("bad row".into()))
            ]
        );
        let r = typed(ColumnOut::Scalar(wit::Value::Str("k".into())), vec![]);
        assert_eq!(run(r, 2).expect("ok"), vec![Ok(Value::str("k")); 2]);
        let r = typed(
            ColumnOut::Strs(StrsOut {
                values: vec!["x".repeat(MAX_VALUE_BYTES + 1)],
                nulls: vec![],
            }),
            vec![],
        );
        assert!(run(r, 1).expect("ok")[0].is_err());
    }

    #[test]
    fn the_failed_rows_are_counted_once_each() {
        let mut out = Vec::new();
        let ints = |values: Vec<i64>| {
            ColumnOut::Ints(IntsOut {
                values,
                nulls: vec![],
            })
        };
        let r = typed(ints(vec![1, 2, 3]), vec![(0, "a"), (2, "b")]);
        assert_eq!(push_results(r, 3, &mut out), Ok(2));
        let r = ResultsOut::Values(RowList(vec![
            Ok(Value::Int(1)),
            Err(RowError::Failed("x".into())),
        ]));
        assert_eq!(push_results(r, 2, &mut out), Ok(1));
        // Too large and also listed as failed: one failed row.
        let big = ColumnOut::Strs(StrsOut {
            values: vec!["x".repeat(MAX_VALUE_BYTES + 1), "y".into()],
            nulls: vec![],
        });
        assert_eq!(
            push_results(typed(big, vec![(0, "also")]), 2, &mut out),
            Ok(1)
        );
        let r = typed(ColumnOut::Scalar(wit::Value::Int(1)), vec![]);
        assert_eq!(push_results(r, 4, &mut out), Ok(0));
        assert_eq!(out.len(), 11);
    }

    #[test]
    fn a_broken_typed_answer_fails_the_call() {
        let short = typed(
            ColumnOut::Floats(FloatsOut {
                values: vec![1.0],
                nulls: vec![],
            }),
            vec![],
        );
        assert!(run(short, 2)
            .expect_err("short")
            .contains("1 results for 2"));
        let mask = typed(
            ColumnOut::Bools(BoolsOut {
                values: vec![true, false],
                nulls: vec![true],
            }),
            vec![],
        );
        assert!(run(mask, 2).expect_err("mask").contains("null mask"));
        let row = typed(
            ColumnOut::Ints(IntsOut {
                values: vec![1],
                nulls: vec![],
            }),
            vec![(5, "x")],
        );
        assert!(run(row, 1).expect_err("row").contains("row 5"));
    }
}
