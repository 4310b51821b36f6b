//! The end-to-end tests, one module per area, in one test binary: wasmtime and the
//! rest of the engine are linked once instead of once per area (as wasmtime's own
//! `tests/all/main.rs`). Run one area with `cargo test -p tributary-tests --test it
//! api::`.

mod api;
mod connector_kit;
mod contract_versions;
mod crash_consistency;
mod cross_tier;
mod docs_examples;
mod external_functions;
mod guest_output;
mod hardening;
mod http_connectors;
mod influx_sink;
mod malformed_input;
mod modbus_source;
mod mqtt;
mod native_plugins;
mod plugin_call;
mod plugin_new;
mod plugin_new_js;
mod plugin_new_python;
mod plugin_pack;
mod plugin_packages;
mod plugin_sources;
mod redis_connectors;
mod serve;
mod state_conformance;
mod state_stores;
mod trial_specs;
mod wasm_capabilities;
mod wasm_hot_update;
mod wasm_network;
mod wasm_plugins;
mod wasm_scale;
mod windows_serve;
