//! The function registry, and eKuiper's built-in scalar functions.
//!
//! Every SQL function call in a rule is resolved through one [`Registry`]: built-ins are
//! registered here, and the plugin tiers (native, wasm, external) register their
//! functions into the same registry through `tributary_core::function`'s traits.
//!
//! Built-ins are grouped by the families of eKuiper's function reference, one module
//! each; `docs/sql-functions.md` lists every eKuiper function and where it stands here.

pub mod aggregate;
pub mod builtin;
pub mod registry;
pub mod stats;

mod args;
mod array;
mod conversion;
mod datetime;
mod hashing;
mod hits;
mod json_path;
mod jsonpath_eval;
mod math;
mod object;
mod other;
mod string;
mod timefmt;

pub use builtin::Builtin;
pub use registry::Registry;
/// Parses a datetime string as eKuiper does without a pattern (nanoseconds since the
/// epoch); the engine reads string event times with it.
pub use timefmt::parse_default as parse_datetime;
/// Parses a datetime string with eKuiper's Java-like pattern (`TIMESTAMP_FORMAT`).
pub use timefmt::parse_pattern as parse_datetime_pattern;

#[cfg(test)]
mod testutil;

/// What a built-in computes for one row: a value, or the error text (the
/// [`tributary_core::function::RowError::Failed`] of the row).
pub type FnResult = Result<tributary_core::Value, String>;
