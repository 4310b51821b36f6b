//! The WebAssembly component tier.
//!
//! Plugins are components built against the WIT package in `wit/`. This crate owns one
//! wasmtime [`engine::WasmEngine`] (pooling allocator, epoch deadlines, on-disk code
//! cache), loads plugin files ([`plugin`]), and adapts them to the engine's traits
//! ([`function`]), so rules use them exactly like built-ins.

pub mod bindings;
pub mod convert;
pub mod discover;
pub mod engine;
pub mod function;
pub mod host;
pub mod loader;
pub mod manager;
pub mod plugin;
pub mod sink;
pub mod source;

pub use engine::{WasmConfig, WasmEngine};
pub use plugin::WasmPlugin;
