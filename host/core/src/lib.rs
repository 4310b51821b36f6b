//! Shared vocabulary of Tributary: the [`Value`] model, [`Row`]s and [`Batch`]es that
//! operators exchange, stream [`schema`]s, the injectable [`clock`], and the error types
//! that cross crate boundaries.
//!
//! Nothing here knows about SQL, plugins or I/O: every other crate depends on this one,
//! so it stays small and dependency-light.

pub mod clock;
pub mod connection;
pub mod connector;
pub mod error;
pub mod failpoint;
pub mod function;
pub mod hidden;
pub mod json;
pub mod json_de;
pub mod log_limit;
pub mod names;
pub mod plugin_files;
pub mod registry;
pub mod row;
pub mod schema;
pub mod scope;
pub mod state;
pub mod value;

pub use clock::{Clock, MockClock, SystemClock};
pub use error::{Context, Error, ErrorKind, Result};
pub use row::{Batch, Meta, Row};
pub use schema::{FieldDef, FieldType, Schema};
pub use value::{Object, Value};
