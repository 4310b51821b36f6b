//! The WebAssembly component tier.
//!
//! Plugins are components built against the WIT package in `wit/`. This crate owns one
//! wasmtime [`engine::WasmEngine`] (pooling allocator, epoch deadlines, on-disk code
//! cache), loads plugin files ([`plugin`]), and adapts them to the engine's traits
//! ([`function`], [`source`], [`sink`]), so rules use them exactly like built-ins.
//! What a plugin may touch beyond the WIT imports is its manifest's request
//! ([`manifest`]) intersected with the operator's grants ([`grants`]):
//! [`capabilities`].

// The one exception to the tier's `deny(unsafe_code)`: implementations of wasmtime's
// (unsafe) lifting and lowering traits that delegate to derived ones. See `abi`.
#[allow(unsafe_code)]
pub mod abi;
pub mod bindings;
pub mod capabilities;
pub mod convert;
pub mod discover;
pub mod engine;
pub mod function;
pub mod grants;
pub mod host;
pub mod loader;
pub mod manager;
pub mod manifest;
pub mod plugin;
pub mod sink;
pub mod source;

pub use capabilities::{Capabilities, PluginKind};
pub use engine::{WasmConfig, WasmEngine};
pub use plugin::WasmPlugin;
