//! The Rust guest SDK for Tributary plugins.
//!
//! A function plugin implements [`FunctionPlugin`] (what it exports, how calls are
//! validated) and [`FunctionInstance`] (one instance per rule and call site, or a
//! singleton), then exports itself with one macro:
//!
//! ```ignore
//! use tributary_guest::*;
//! struct Echo;
//! impl FunctionPlugin for Echo { /* describe, validate */ }
//! export_function_plugin!(Echo);
//! ```
//!
//! The host calls in batches: `exec` gets whole argument columns and returns the
//! results of every row. A column whose rows are all of one SQL type arrives typed
//! (`Column::Ints` holds one `Vec<i64>`): read it with [`Column::ints`] and the other
//! typed accessors for speed, or row by row with [`Column::cell`], which works for
//! every form. Answer with [`Results::ints`] and friends (one flat list, no variant
//! per row) or [`Results::rows`] (one `Result` per row).
//!
//! Built against the contract `tributary:plugin@0.2.0` (`wit/`).

// The bindings name their runtime by the path a plugin crate sees
// (`tributary_guest::wit_bindgen::rt`); this makes the same path work in here.
extern crate self as tributary_guest;

#[cfg(feature = "http")]
pub mod http;
pub mod json;
pub mod props;

/// The bindings' runtime, re-exported so that a plugin crate needs no `wit-bindgen`
/// dependency of its own (the export macros refer to it here).
#[doc(hidden)]
pub use wit_bindgen;

/// The generated bindings of the `function-plugin` world of `wit/`.
pub mod function {
    wit_bindgen::generate!({
        path: "wit",
        runtime_path: "tributary_guest::wit_bindgen::rt",
        world: "function-plugin",
        pub_export_macro: true,
        export_macro_name: "export_function_plugin",
        default_bindings_module: "tributary_guest::function",
        additional_derives: [PartialEq],
    });
}

pub use function::export_function_plugin;

/// The generated bindings of the `source-plugin` world, sharing the function world's
/// types and imports.
pub mod source {
    wit_bindgen::generate!({
        path: "wit",
        runtime_path: "tributary_guest::wit_bindgen::rt",
        world: "source-plugin",
        pub_export_macro: true,
        export_macro_name: "export_source_plugin",
        default_bindings_module: "tributary_guest::source",
        with: {
            "tributary:plugin/types@0.2.0": crate::function::tributary::plugin::types,
            "tributary:plugin/state@0.2.0": crate::function::tributary::plugin::state,
            "tributary:plugin/context@0.2.0": crate::function::tributary::plugin::context,
        },
    });
}

pub use function::tributary::plugin::types::Field;

/// The generated bindings of the `sink-plugin` world, sharing the function world's
/// types and imports.
pub mod sink {
    wit_bindgen::generate!({
        path: "wit",
        runtime_path: "tributary_guest::wit_bindgen::rt",
        world: "sink-plugin",
        pub_export_macro: true,
        export_macro_name: "export_sink_plugin",
        default_bindings_module: "tributary_guest::sink",
        with: {
            "tributary:plugin/types@0.2.0": crate::function::tributary::plugin::types,
            "tributary:plugin/state@0.2.0": crate::function::tributary::plugin::state,
            "tributary:plugin/context@0.2.0": crate::function::tributary::plugin::context,
        },
    });
}

pub use sink::export_sink_plugin;
pub use sink::exports::tributary::plugin::sink::{
    Guest as SinkPlugin, GuestInstance as SinkInstance,
};
pub use source::export_source_plugin;
pub use source::exports::tributary::plugin::source::{
    Guest as SourcePlugin, GuestInstance as SourceInstance, Message, Payload, Pulled, SourceInfo,
};

pub use function::exports::tributary::plugin::function::{
    FunctionDef, FunctionKind, Guest as FunctionPlugin, GuestInstance as FunctionInstance,
    PluginInfo,
};
pub use function::tributary::plugin::context;
pub use function::tributary::plugin::state;
pub use function::tributary::plugin::types::{
    ArgInfo, Blobs, Bools, Column, Datetimes, Floats, Ints, Results, RowError, Strs, TypedResults,
    Value,
};

/// Whether row `i` is null in a typed column's mask.
fn null_at(nulls: &[bool], i: usize) -> bool {
    nulls.get(i).copied().unwrap_or(false)
}

impl Column {
    /// The value of row `i`, whatever form the column came in (a constant column has
    /// the same value in every row).
    pub fn cell(&self, i: u32) -> Value {
        let i = i as usize;
        let typed = |nulls: &[bool], v: Option<Value>| {
            if null_at(nulls, i) {
                Value::Null
            } else {
                v.unwrap_or(Value::Null)
            }
        };
        match self {
            Column::Scalar(v) => v.clone(),
            Column::Values(vs) => vs.get(i).cloned().unwrap_or(Value::Null),
            Column::Ints(c) => typed(&c.nulls, c.values.get(i).map(|v| Value::Int(*v))),
            Column::Floats(c) => typed(&c.nulls, c.values.get(i).map(|v| Value::Float(*v))),
            Column::Bools(c) => typed(&c.nulls, c.values.get(i).map(|v| Value::Boolean(*v))),
            Column::Strs(c) => typed(&c.nulls, c.values.get(i).map(|v| Value::Str(v.clone()))),
            Column::Bytes(c) => typed(&c.nulls, c.values.get(i).map(|v| Value::Bytes(v.clone()))),
            Column::Datetimes(c) => typed(&c.nulls, c.values.get(i).map(|v| Value::Datetime(*v))),
        }
    }

    /// How many rows the column holds; `None` for a constant (any number).
    pub fn rows(&self) -> Option<usize> {
        Some(match self {
            Column::Scalar(_) => return None,
            Column::Values(v) => v.len(),
            Column::Ints(c) => c.values.len(),
            Column::Floats(c) => c.values.len(),
            Column::Bools(c) => c.values.len(),
            Column::Strs(c) => c.values.len(),
            Column::Bytes(c) => c.values.len(),
            Column::Datetimes(c) => c.values.len(),
        })
    }

    /// Row `i` as text, borrowed (no copy, whatever form the column came in).
    pub fn text(&self, i: u32) -> Text<'_> {
        let at = i as usize;
        fn of(v: Option<&Value>) -> Text<'_> {
            match v {
                None | Some(Value::Null) => Text::Null,
                Some(Value::Str(s)) => Text::Str(s),
                Some(_) => Text::Other,
            }
        }
        match self {
            Column::Scalar(v) => of(Some(v)),
            Column::Values(vs) => of(vs.get(at)),
            Column::Strs(c) if null_at(&c.nulls, at) => Text::Null,
            Column::Strs(c) => c.values.get(at).map_or(Text::Null, |s| Text::Str(s)),
            _ => match self.cell(i) {
                Value::Null => Text::Null,
                _ => Text::Other,
            },
        }
    }

    /// The column's integers and null mask, when it arrived typed as integers.
    pub fn ints(&self) -> Option<&Ints> {
        match self {
            Column::Ints(c) => Some(c),
            _ => None,
        }
    }

    /// The column's floats and null mask, when it arrived typed as floats.
    pub fn floats(&self) -> Option<&Floats> {
        match self {
            Column::Floats(c) => Some(c),
            _ => None,
        }
    }

    /// The column's strings and null mask, when it arrived typed as strings.
    pub fn strs(&self) -> Option<&Strs> {
        match self {
            Column::Strs(c) => Some(c),
            _ => None,
        }
    }

    /// The column's booleans and null mask, when it arrived typed as booleans.
    pub fn bools(&self) -> Option<&Bools> {
        match self {
            Column::Bools(c) => Some(c),
            _ => None,
        }
    }
}

/// A row as text ([`Column::text`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Text<'a> {
    Str(&'a str),
    Null,
    /// A value of another type.
    Other,
}

impl Results {
    /// One result per row (or per group), in order.
    pub fn rows(rows: Vec<Result<Value, String>>) -> Self {
        Results::Values(rows)
    }

    /// Every row's result is an integer (`nulls`: which are null, empty for none).
    pub fn ints(values: Vec<i64>, nulls: Vec<bool>) -> Self {
        Results::typed(Column::Ints(Ints { values, nulls }))
    }

    /// Every row's result is a float.
    pub fn floats(values: Vec<f64>, nulls: Vec<bool>) -> Self {
        Results::typed(Column::Floats(Floats { values, nulls }))
    }

    /// Every row's result is a string.
    pub fn strs(values: Vec<String>, nulls: Vec<bool>) -> Self {
        Results::typed(Column::Strs(Strs { values, nulls }))
    }

    /// A column of results with no row failed.
    pub fn typed(column: Column) -> Self {
        Results::Typed(TypedResults {
            column,
            errors: Vec::new(),
        })
    }

    /// The same error for each of `n` rows.
    pub fn failed(n: usize, message: &str) -> Self {
        Results::Values((0..n).map(|_| Err(message.to_string())).collect())
    }
}

/// Per-row results collect straight into [`Results`].
impl FromIterator<Result<Value, String>> for Results {
    fn from_iter<I: IntoIterator<Item = Result<Value, String>>>(iter: I) -> Self {
        Results::Values(iter.into_iter().collect())
    }
}

/// The value of row `i` of a column (a constant column has the same value in every
/// row): [`Column::cell`].
pub fn cell(c: &Column, i: u32) -> Value {
    c.cell(i)
}
/// Checks the argument count, with the wording the host shows users.
pub fn expect_args(name: &str, args: &[ArgInfo], min: usize, max: usize) -> Result<(), String> {
    let n = args.len();
    if n < min || n > max {
        if min == max {
            let noun = if min == 1 { "argument" } else { "arguments" };
            return Err(format!("{name} expects {min} {noun} but found {n}"));
        }
        return Err(format!(
            "{name} expects {min} to {max} arguments but found {n}"
        ));
    }
    Ok(())
}

/// A one-function plugin's description.
pub fn one_scalar(name: &str) -> PluginInfo {
    scalars(&[name])
}

/// The description of a plugin of scalar functions only, one instance per call site.
pub fn scalars(names: &[&str]) -> PluginInfo {
    PluginInfo {
        functions: names
            .iter()
            .map(|n| FunctionDef {
                name: n.to_string(),
                kind: FunctionKind::Scalar,
            })
            .collect(),
        singleton: false,
    }
}

/// `exec` one row at a time: `f` gets each row's argument values (whatever form the
/// columns came in) and answers that row. For functions where a row's work dwarfs
/// reading it; a hot function reads the typed columns instead.
pub fn row_by_row(
    args: &[Column],
    rows: u32,
    mut f: impl FnMut(&[Value]) -> Result<Value, String>,
) -> Results {
    (0..rows)
        .map(|i| {
            let row: Vec<Value> = args.iter().map(|c| c.cell(i)).collect();
            f(&row)
        })
        .collect()
}

/// For scalar-only plugins: `exec-groups` answers an error per group.
pub fn not_aggregate(name: &str, groups: usize) -> Results {
    Results::failed(groups, &format!("{name} is not an aggregate function"))
}

/// For plugins that are not sources of lookup tables: `lookup` answers this.
pub fn no_lookup(name: &str) -> Result<Vec<Vec<Field>>, String> {
    Err(format!("{name} does not answer lookups"))
}
