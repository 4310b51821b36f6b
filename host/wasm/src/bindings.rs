//! Host bindings generated once from `wit/`: the single place `bindgen!` runs.

wasmtime::component::bindgen!({
    path: "../../wit",
    world: "function-plugin",
});

pub use exports::tributary::plugin::function as function_api;
pub use tributary::plugin::context as context_api;
pub use tributary::plugin::state as state_api;
pub use tributary::plugin::types as types_api;
