//! The operators of a stateless rule.
pub mod filter;
pub mod project;

pub use filter::FilterOp;
pub use project::ProjectOp;
