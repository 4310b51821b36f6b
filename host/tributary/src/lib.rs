//! The `tributary` binary's parts, as a library so the end-to-end tests load plugins
//! and run servers along the very paths the binary takes: `serve`, `trial`, the
//! quick-start `demo`, the management CLI, and the wiring of the plugin tiers and
//! external services into an engine.

pub mod backup;
pub mod cli;
pub mod demo;
pub mod install_job;
pub mod local_plugin;
pub mod pack;
pub mod plugin_api;
pub mod plugin_build;
pub mod plugin_call;
pub mod plugin_logs;
pub mod plugin_new;
pub mod plugin_test;
pub mod plugin_verbs;
pub mod plugins;
pub mod root_lock;
pub mod serve;
pub mod service_host;
pub mod stdout;
pub mod trial;
