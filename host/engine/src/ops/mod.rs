//! The operators of a rule: WHERE, windows, grouping and aggregation, SELECT.
mod accumulate;
pub mod analytic;
pub mod filter;
pub mod group;
pub mod incremental;
pub mod join;
pub mod lookup;
pub mod project;
pub mod table;
pub mod window;

pub use filter::FilterOp;
pub use group::GroupOp;
pub use project::ProjectOp;
