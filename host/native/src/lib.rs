//! The native tier: shared objects built against `native-plugins/include/
//! tributary_plugin.h` (or the Rust SDK), loaded in-process with libloading.
//!
//! - [`library`]: loading a file, finding its descriptor symbol, checking the ABI
//!   version and layout fingerprint before anything else is read.
//! - [`host_api`]: the `tp_host` table an instance calls back into (state, context).
//! - [`convert`]: engine values ↔ C-layout values, scalars without serialisation.
//! - [`function`], [`source`], [`sink`]: the engine's traits over a library.
//! - [`loader`], [`manager`]: discovery under `<root>/plugins/`, install, update and
//!   uninstall while rules run.
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
pub mod loader;
pub mod manager;
pub mod sink;
pub mod source;

pub use library::{NativeLibrary, PluginKind};
