//! The Rust guest SDK for Tributary plugins.
//!
//! A function plugin implements [`FunctionPlugin`] (what it exports, how calls are
//! validated) and [`FunctionInstance`] (one instance per rule and call site, or a
//! singleton), then exports itself with one macro:
//!
//! ```ignore
//! use tributary_guest::*;
//! struct Echo;
//! impl FunctionPlugin for Echo { /* describe, validate */ }
//! export_function_plugin!(Echo);
//! ```
//!
//! The host calls in batches: `exec` gets whole argument columns and returns one
//! result per row.

/// The generated bindings of the `function-plugin` world of `wit/`.
pub mod function {
    wit_bindgen::generate!({
        path: "../../wit",
        world: "function-plugin",
        pub_export_macro: true,
        export_macro_name: "export_function_plugin",
        default_bindings_module: "tributary_guest::function",
        additional_derives: [PartialEq],
    });
}

pub use function::export_function_plugin;

/// The generated bindings of the `source-plugin` world, sharing the function world's
/// types and imports.
pub mod source {
    wit_bindgen::generate!({
        path: "../../wit",
        world: "source-plugin",
        pub_export_macro: true,
        export_macro_name: "export_source_plugin",
        default_bindings_module: "tributary_guest::source",
        with: {
            "tributary:plugin/types@0.1.0": crate::function::tributary::plugin::types,
            "tributary:plugin/state@0.1.0": crate::function::tributary::plugin::state,
            "tributary:plugin/context@0.1.0": crate::function::tributary::plugin::context,
        },
    });
}

pub use function::tributary::plugin::types::Field;

/// The generated bindings of the `sink-plugin` world, sharing the function world's
/// types and imports.
pub mod sink {
    wit_bindgen::generate!({
        path: "../../wit",
        world: "sink-plugin",
        pub_export_macro: true,
        export_macro_name: "export_sink_plugin",
        default_bindings_module: "tributary_guest::sink",
        with: {
            "tributary:plugin/types@0.1.0": crate::function::tributary::plugin::types,
            "tributary:plugin/state@0.1.0": crate::function::tributary::plugin::state,
            "tributary:plugin/context@0.1.0": crate::function::tributary::plugin::context,
        },
    });
}

pub use sink::export_sink_plugin;
pub use sink::exports::tributary::plugin::sink::{
    Guest as SinkPlugin, GuestInstance as SinkInstance,
};
pub use source::export_source_plugin;
pub use source::exports::tributary::plugin::source::{
    Guest as SourcePlugin, GuestInstance as SourceInstance, Message, Payload, Pulled,
};

pub use function::exports::tributary::plugin::function::{
    FunctionDef, FunctionKind, Guest as FunctionPlugin, GuestInstance as FunctionInstance,
    PluginInfo,
};
pub use function::tributary::plugin::context;
pub use function::tributary::plugin::state;
pub use function::tributary::plugin::types::{ArgInfo, Column, Value};

/// The value of row `i` of a column (a constant column has the same value in every row).
pub fn cell(c: &Column, i: u32) -> Value {
    match c {
        Column::Scalar(v) => v.clone(),
        Column::Values(vs) => vs.get(i as usize).cloned().unwrap_or(Value::Null),
    }
}

/// Checks the argument count, with the wording the host shows users.
pub fn expect_args(name: &str, args: &[ArgInfo], min: usize, max: usize) -> Result<(), String> {
    let n = args.len();
    if n < min || n > max {
        if min == max {
            return Err(format!("{name} expects {min} arguments but found {n}"));
        }
        return Err(format!(
            "{name} expects {min} to {max} arguments but found {n}"
        ));
    }
    Ok(())
}

/// A one-function plugin's description.
pub fn one_scalar(name: &str) -> PluginInfo {
    PluginInfo {
        functions: vec![FunctionDef {
            name: name.to_string(),
            kind: FunctionKind::Scalar,
        }],
        singleton: false,
    }
}

/// For scalar-only plugins: `exec-groups` answers an error per group.
pub fn not_aggregate(name: &str, groups: usize) -> Vec<Result<Value, String>> {
    (0..groups)
        .map(|_| Err(format!("{name} is not an aggregate function")))
        .collect()
}
