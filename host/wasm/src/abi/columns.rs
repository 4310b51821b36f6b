//! Argument columns as the guest receives them.
//!
//! Contract 0.1 has two forms: a constant (`scalar`) or one `value` per row. 0.2 adds
//! typed forms: when every row of a column is one SQL type or null, the column
//! crosses as a flat list of that type plus a null mask (empty when no row is null).
//! The host looks at the column once to choose (the plugin host's
//! [`tributary_plugin::typed`], shared with the native tier); a list of integers or
//! floats is then copied into guest memory in one go, and the guest reads it without
//! a variant per row.

use crate::abi::value::ArgValue;
use tributary_core::function::Column;
#[cfg(test)]
use tributary_core::Value;
use tributary_plugin::typed::{typed, Flat, Typed};
use wasmtime::component::{ComponentType, Lower};

/// 0.1's `column`, borrowing the engine's argument column.
#[derive(ComponentType, Lower)]
#[component(variant)]
pub enum ColumnV1<'a> {
    #[component(name = "scalar")]
    Scalar(&'a ArgValue),
    #[component(name = "values")]
    Values(&'a [ArgValue]),
}

impl<'a> From<&'a Column> for ColumnV1<'a> {
    fn from(c: &'a Column) -> Self {
        match c {
            Column::Scalar(v) => ColumnV1::Scalar(ArgValue::one(v)),
            Column::Values(vs) => ColumnV1::Values(ArgValue::slice(vs)),
        }
    }
}

/// `ints` and `datetimes` (both `list<s64>` with a null mask).
#[derive(ComponentType, Lower)]
#[component(record)]
pub struct IntsArg<'a> {
    values: &'a [i64],
    nulls: &'a [bool],
}

#[derive(ComponentType, Lower)]
#[component(record)]
pub struct FloatsArg<'a> {
    values: &'a [f64],
    nulls: &'a [bool],
}

#[derive(ComponentType, Lower)]
#[component(record)]
pub struct BoolsArg<'a> {
    values: &'a [bool],
    nulls: &'a [bool],
}

#[derive(ComponentType, Lower)]
#[component(record)]
pub struct StrsArg<'a> {
    values: &'a [&'a str],
    nulls: &'a [bool],
}

#[derive(ComponentType, Lower)]
#[component(record)]
pub struct BlobsArg<'a> {
    values: &'a [&'a [u8]],
    nulls: &'a [bool],
}

/// 0.2's `column`.
#[derive(ComponentType, Lower)]
#[component(variant)]
pub enum ColumnArg<'a> {
    #[component(name = "scalar")]
    Scalar(&'a ArgValue),
    #[component(name = "values")]
    Values(&'a [ArgValue]),
    #[component(name = "ints")]
    Ints(IntsArg<'a>),
    #[component(name = "floats")]
    Floats(FloatsArg<'a>),
    #[component(name = "bools")]
    Bools(BoolsArg<'a>),
    #[component(name = "strs")]
    Strs(StrsArg<'a>),
    #[component(name = "bytes")]
    Bytes(BlobsArg<'a>),
    #[component(name = "datetimes")]
    Datetimes(IntsArg<'a>),
}

/// An argument column ready to lower: typed when [`typed`] says so.
#[derive(Debug, PartialEq)]
pub enum Prepared<'a> {
    /// A constant, mixed or nested column, as values.
    Plain(&'a Column),
    Typed(Typed<'a>),
}

impl<'a> Prepared<'a> {
    /// Looks at the column once.
    pub fn new(c: &'a Column) -> Self {
        match typed(c) {
            Some(t) => Prepared::Typed(t),
            None => Prepared::Plain(c),
        }
    }

    /// The column as 0.2 lowers it.
    pub fn arg(&self) -> ColumnArg<'_> {
        let (flat, nulls) = match self {
            Prepared::Plain(Column::Scalar(v)) => return ColumnArg::Scalar(ArgValue::one(v)),
            Prepared::Plain(Column::Values(vs)) => return ColumnArg::Values(ArgValue::slice(vs)),
            Prepared::Typed(Typed { flat, nulls }) => (flat, nulls.as_slice()),
        };
        match flat {
            Flat::Ints(values) => ColumnArg::Ints(IntsArg { values, nulls }),
            Flat::Floats(values) => ColumnArg::Floats(FloatsArg { values, nulls }),
            Flat::Bools(values) => ColumnArg::Bools(BoolsArg { values, nulls }),
            Flat::Strs(values) => ColumnArg::Strs(StrsArg { values, nulls }),
            Flat::Bytes(values) => ColumnArg::Bytes(BlobsArg { values, nulls }),
            Flat::Datetimes(values) => ColumnArg::Datetimes(IntsArg { values, nulls }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typed_columns_lower_typed_and_the_rest_as_values() {
        let ints = Column::Values(vec![Value::Int(1), Value::Null]);
        assert!(matches!(Prepared::new(&ints).arg(), ColumnArg::Ints(_)));
        let mixed = Column::Values(vec![Value::Int(1), Value::str("a")]);
        assert!(matches!(Prepared::new(&mixed).arg(), ColumnArg::Values(_)));
        let constant = Column::Scalar(Value::Int(1));
        assert!(matches!(
            Prepared::new(&constant).arg(),
            ColumnArg::Scalar(_)
        ));
    }
}
