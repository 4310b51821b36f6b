//! The batch-first rule runtime: planning ([`plan`], [`builder`]), evaluation
//! ([`eval`]), operators ([`ops`]), the staged pipeline ([`runtime`]), the engine that
//! owns streams and rules ([`engine`]), and deterministic trial runs ([`trial`]).

mod analytic_build;
pub mod builder;
pub mod catalog;
mod chain;
pub mod checkpoint;
pub mod decode;
mod decode_stage;
pub mod engine;
mod engine_admin;
pub mod eval;
pub mod event;
mod group_build;
pub mod hits;
mod join_build;
pub mod join_plan;
pub mod metrics;
pub mod operator;
pub mod ops;
pub mod plan;
pub mod rule;
pub mod rule_locks;
pub mod ruleset;
pub use ruleset::missing_entries;
pub mod runtime;
pub mod sink_props;
mod sink_task;
pub mod trial;
pub mod window;

pub use builder::EngineContext;
pub use engine::Engine;
pub use rule::RuleDef;
pub use trial::{run_trial, TrialSpec};
