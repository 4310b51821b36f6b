//! Types generated from `wit/` (the current contract, `tributary:plugin@0.2.0`):
//! `bindgen!` runs here and nowhere else.
//!
//! The host calls the exports through [`crate::contract`] and defines the imports in
//! [`crate::imports`], not through the generated `add_to_linker` and call wrappers,
//! because one host serves components of every contract version: a component built
//! against `0.1.0` exports `tributary:plugin/function@0.1.0`, whose types have the
//! same canonical layout as these (wasmtime checks types by structure, not by the
//! package that declared them), so the same Rust types call both. What differs
//! between versions (0.2's typed columns, source offsets and lookups) is chosen by
//! the version the component was built against.

wasmtime::component::bindgen!({
    path: "../../wit",
    world: "plugin",
});

pub use exports::tributary::plugin::function as function_api;
pub use exports::tributary::plugin::source as source_api;
pub use tributary::plugin::context as context_api;
pub use tributary::plugin::state as state_api;
pub use tributary::plugin::types as types_api;
