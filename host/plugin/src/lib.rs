//! The extension host, written once for every tier.
//!
//! A tier (wasm, native, …) implements [`Tier`]: it loads a plugin file into an
//! [`Artifact`] that makes instances and makes the calls. Everything else lives
//! here, shared by all tiers, so they cannot drift apart:
//!
//! - [`kind`], [`instance`]: plugin kinds, instance identity and state scopes;
//! - [`cell`]: versioned plugins, swapped by an update and followed by instances at
//!   a batch boundary;
//! - [`function`], [`source`], [`sink`]: the engine's function and connector traits
//!   over any tier, with one [`supervisor`] policy (a faulting instance is discarded
//!   and re-created with back-off) and one [`bridge`] from async code to plugin calls;
//! - [`host`], [`install`], [`package`], [`staging`]: loading a root, installing,
//!   updating and uninstalling packages crash-consistently;
//! - [`manifest`], [`grants`]: what a plugin asks for and what the operator grants
//!   (a sandboxing tier enforces the intersection);
//! - [`metrics`]: per-plugin counters.
//!
//! The model is Spin's `Factor`: a small trait a tier implements, generic code
//! around it.

pub mod bridge;
pub mod cell;
pub mod connector;
pub mod function;
pub mod grants;
pub mod host;
pub mod install;
pub mod instance;
pub mod kind;
pub mod lookup;
pub mod manifest;
pub mod metrics;
pub mod network;
pub mod package;
pub mod sink;
pub mod source;
pub mod staging;
pub mod supervisor;
pub mod tier;
pub mod typed;

pub use host::{Failure, HostConfig, PluginHost};
pub use instance::{Connection, ConnectionLink, InstanceHost, InstanceInfo, Level, PluginPaths};
pub use kind::PluginKind;
pub use metrics::PluginMetrics;
pub use tier::{
    Artifact, ExportedFunction, FunctionArtifact, FunctionInstance, InstanceContext, LoadRequest,
    Pulled, SinkArtifact, SinkInstance, SinkRows, SourceArtifact, SourceInfo, SourceInstance, Tier,
};
pub use tributary_core::failpoint::Failpoint;
