//! Finding `.wasm` plugin files: the shared rules of every tier.

pub use tributary_core::plugin_files::{compare_versions, discover, parse_file_name, PluginFile};
