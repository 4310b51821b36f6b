//! eKuiper's SQL dialect on top of `sqlparser`, without forking it.
//!
//! Two entry points:
//! - [`parse_ddl`]: `CREATE STREAM` / `CREATE TABLE` statements, exactly as eKuiper
//!   accepts them, into a [`StreamDef`];
//! - [`parse_select`]: a rule's `SELECT`, into a typed [`SelectStmt`] whose expressions
//!   are [`Expr`] values. The runtime consumes these types and never sees the
//!   `sqlparser` AST.

mod clauses;
pub mod ddl;
pub mod dialect;
pub mod error;
pub mod expr;
mod lower;
pub mod over;
pub mod select;
pub mod window;

pub use clauses::OrderItem;
pub use ddl::{parse_ddl, StreamDef, StreamKind, StreamOptions};
pub use error::SqlError;
pub use expr::{BinOp, Expr, UnaryOp};
pub use lower::Over;
pub use select::{parse_select, JoinClause, JoinKind, SelectField, SelectStmt, SourceRef};
pub use window::{TimeUnit, Window, WindowKind};
