//! The WebAssembly component tier.
//!
//! Plugins are components built against the WIT package in `wit/`. This crate owns
//! one wasmtime [`engine::WasmEngine`] (pooling allocator, epoch deadlines, on-disk
//! code cache) and implements the plugin host's [`tributary_plugin::Tier`] for
//! `.wasm` files ([`tier`]): loading a component of each kind ([`function`],
//! [`source`], [`sink`]) and making its calls. The lifecycle around those calls
//! (versions, supervision, installs) is the plugin host's. What a plugin may touch
//! beyond the WIT imports is its manifest's request intersected with the operator's
//! grants (the host's [`tributary_plugin::manifest`] and [`tributary_plugin::grants`]),
//! enforced here as each store's WASI context: [`capabilities`].

// The exceptions to the tier's `deny(unsafe_code)`: implementations of wasmtime's
// (unsafe) lifting and lowering traits that delegate to derived ones (`abi`), and a
// function call's typed handle made without re-checking types checked when its
// instance was made (`function::WasmFunction::call`).
#[allow(unsafe_code)]
pub mod abi;
pub mod bindings;
pub mod capabilities;
pub mod connector;
pub mod contract;
pub mod convert;
pub mod engine;
pub mod function;
pub mod guest_output;
pub mod host;
pub mod http_out;
pub mod imports;
pub mod network;
pub mod sink;
pub mod source;
pub mod tier;
pub mod trap;

pub use capabilities::Capabilities;
pub use engine::{WasmConfig, WasmEngine};
pub use tier::WasmTier;
/// The wasmtime this tier is built on, for embedders and benches that call
/// components beside it.
pub use wasmtime;
