//! The native tier: shared objects built against `native-plugins/include/
//! tributary_plugin.h` (or the Rust SDK), loaded in-process with libloading, behind
//! the plugin host's [`tributary_plugin::Tier`] ([`tier`]).
//!
//! - [`library`]: loading a file, finding its descriptor symbol, checking the ABI
//!   version and layout fingerprint before anything else is read.
//! - [`host_api`]: the `tp_host` table an instance calls back into (state, context).
//! - [`convert`]: engine values ↔ C-layout values, scalars without serialisation.
//! - [`function`], [`source`], [`sink`]: the calls of each kind.
//!
//! Unlike the wasm tier this code runs in the host's address space: a plugin that
//! dereferences a wild pointer takes the process down. Panics are contained (the SDK
//! catches them at the boundary); memory safety is the plugin author's.

// The FFI boundary of the engine lives here and only here.
#![allow(unsafe_code)]

pub mod convert;
pub mod function;
pub mod host_api;
pub mod library;
pub mod sink;
pub mod source;
pub mod tier;

pub use library::NativeLibrary;
pub use tier::NativeTier;
