//! The function registry, and eKuiper's built-in scalar functions.
//!
//! Every SQL function call in a rule is resolved through one [`Registry`]: built-ins are
//! registered here, and the plugin tiers (native, wasm, external) register their
//! functions into the same registry through `tributary_core::function`'s traits.

pub mod builtin;
pub mod registry;

pub use builtin::Builtin;
pub use registry::Registry;
