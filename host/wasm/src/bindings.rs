//! Host bindings generated from `wit/`: `bindgen!` runs here and nowhere else.
//!
//! The function world's bindings own the shared interfaces (`types`, `state`,
//! `context`); the source and sink worlds reuse them through `with`, so the host
//! implements each import once and the linker holds it once.

wasmtime::component::bindgen!({
    path: "../../wit",
    world: "function-plugin",
});

pub use exports::tributary::plugin::function as function_api;
pub use tributary::plugin::context as context_api;
pub use tributary::plugin::state as state_api;
pub use tributary::plugin::types as types_api;

/// The `source-plugin` world.
pub mod source_world {
    wasmtime::component::bindgen!({
        path: "../../wit",
        world: "source-plugin",
        with: {
            "tributary:plugin/types": super::tributary::plugin::types,
            "tributary:plugin/state": super::tributary::plugin::state,
            "tributary:plugin/context": super::tributary::plugin::context,
        },
    });
    pub use exports::tributary::plugin::source as source_api;
}

/// The `sink-plugin` world.
pub mod sink_world {
    wasmtime::component::bindgen!({
        path: "../../wit",
        world: "sink-plugin",
        with: {
            "tributary:plugin/types": super::tributary::plugin::types,
            "tributary:plugin/state": super::tributary::plugin::state,
            "tributary:plugin/context": super::tributary::plugin::context,
        },
    });
}
