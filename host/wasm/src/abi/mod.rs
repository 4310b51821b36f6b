//! The hot path of a function call: engine values lowered straight into the guest's
//! memory, and results lifted straight into engine values.
//!
//! The generated bindings take `&[wit::Column]` and return `wit::Value`s, so calling
//! through them means building a vector of WIT values for every argument column before
//! the call and converting every result after it: two passes over each batch, a copy
//! of every string, and for `x + 1` about half as much time again as the call itself.
//! The types here have the same canonical ABI as the WIT ones (their type checks are
//! the WIT types' own, so a component of another shape is refused exactly as before),
//! but lower from `&[Value]` in place and lift into [`RowResult`]s.
//!
//! - [`value`]: one engine value as the WIT `value` (both contract versions);
//! - [`columns`]: argument columns, 0.1's (values only) and 0.2's (typed when every
//!   row is one type: a column of integers crosses as one `list<s64>`);
//! - [`rows`]: 0.1's per-row results; [`results`]: 0.2's, per row or typed.
//!
//! Wasmtime's `Lower`/`Lift` traits are the ones its derive macros implement; the
//! manual impls only delegate to derived or generated ones, converting one value at a
//! time on the stack. They use `wasmtime::component::__internal`, the path those
//! macros expand to, so a wasmtime upgrade may need them touched (the workspace pins
//! the major version).
//!
//! [`RowResult`]: tributary_core::function::RowResult

pub mod columns;
pub mod results;
pub mod rows;
pub mod value;

use crate::bindings::types_api as wit;
use wasmtime::component::__internal::ComponentVariant;
use wasmtime::component::ResourceAny;

/// The largest value a plugin may return for one row.
pub use tributary_plugin::typed::MAX_VALUE_BYTES;

/// Where the `ok` payload of a `result<value, string>` starts, and the `value`
/// payload inside it (the canonical ABI's variant layout, as wasmtime computes it).
pub(crate) const OK_PAYLOAD: usize = <rows::WitRow as ComponentVariant>::PAYLOAD_OFFSET32;
pub(crate) const VALUE_PAYLOAD: usize = <wit::Value as ComponentVariant>::PAYLOAD_OFFSET32;

/// 0.1's `exec` parameters (the instance, the argument columns, the row count).
pub type ExecParamsV1<'a> = (ResourceAny, &'a [columns::ColumnV1<'a>], u32);
/// 0.1's `exec-groups` parameters (the instance, each group's argument columns).
pub type ExecGroupsParamsV1<'a> = (ResourceAny, &'a [Vec<columns::ColumnV1<'a>>]);
/// What 0.1's both return: one result per row or group.
pub type ExecResultsV1 = (rows::RowList,);

/// 0.2's `exec` parameters.
pub type ExecParams<'a> = (ResourceAny, &'a [columns::ColumnArg<'a>], u32);
/// 0.2's `exec-groups` parameters.
pub type ExecGroupsParams<'a> = (ResourceAny, &'a [Vec<columns::ColumnArg<'a>>]);
/// What 0.2's both return: results per row, or a typed column.
pub type ExecResults = (results::ResultsOut,);
