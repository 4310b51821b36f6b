//! The Rust SDK of Tributary's native plugin tier.
//!
//! A plugin implements one of [`FunctionPlugin`], [`SourcePlugin`] or [`SinkPlugin`]
//! and exports itself with one macro, naming the symbol the host looks for (the plugin
//! name with its first letter in upper case):
//!
//! ```ignore
//! use tributary_native_sdk::*;
//! struct Echo;
//! impl FunctionPlugin for Echo { /* FUNCTIONS, validate, new, exec */ }
//! export_function_plugin!(Echo, Echo);   // symbol `Echo`, type `Echo`
//! ```
//!
//! The SDK owns the C side: it converts values, keeps what the plugin hands back alive
//! until the next call (the ABI's memory rule), and catches panics at the boundary so
//! that a panicking plugin fails one call with an error instead of aborting the host.

// The SDK is the FFI boundary: raw pointers in, raw pointers out.
#![allow(unsafe_code)]

pub use tributary_native_abi as abi;

mod boundary;
mod function;
mod host;
mod sink;
mod source;
mod value;

pub use function::{
    __function_vtable, aggregate, scalar, ArgInfo, Column, FunctionDef, FunctionPlugin, Results,
};
pub use host::{Connection, Host, Level, StateError};
pub use sink::{__sink_vtable, Fields, SinkPlugin};
pub use source::{__source_vtable, LookupRow, Message, Payload, Pulled, SourcePlugin};
pub use value::{Value, ValueRef};

/// A row's result: a value, or that row's error.
pub type RowResult = Result<Value, String>;

/// Checks the argument count, with the wording the host shows users.
pub fn expect_args(name: &str, args: &[ArgInfo], min: usize, max: usize) -> Result<(), String> {
    let n = args.len();
    if n < min || n > max {
        if min == max {
            let noun = if min == 1 { "argument" } else { "arguments" };
            return Err(format!("{name} expects {min} {noun} but found {n}"));
        }
        return Err(format!(
            "{name} expects {min} to {max} arguments but found {n}"
        ));
    }
    Ok(())
}

/// Exports a function plugin: `export_function_plugin!(Symbol, Type)`.
#[macro_export]
macro_rules! export_function_plugin {
    ($symbol:ident, $ty:ty) => {
        const _: () = {
            static FUNCTION_VTABLE: $crate::abi::FunctionVtable =
                $crate::__function_vtable::<$ty>();
            #[allow(non_upper_case_globals, unsafe_code)]
            #[no_mangle]
            pub static $symbol: $crate::abi::Plugin = $crate::abi::Plugin {
                abi_version: $crate::abi::ABI_VERSION,
                layout: $crate::abi::LAYOUT_FINGERPRINT,
                kind: $crate::abi::PLUGIN_FUNCTION,
                singleton: <$ty as $crate::FunctionPlugin>::SINGLETON as u32,
                function: &FUNCTION_VTABLE,
                source: ::std::ptr::null(),
                sink: ::std::ptr::null(),
            };
        };
    };
}

/// Exports a source plugin: `export_source_plugin!(Symbol, Type)`.
#[macro_export]
macro_rules! export_source_plugin {
    ($symbol:ident, $ty:ty) => {
        const _: () = {
            static SOURCE_VTABLE: $crate::abi::SourceVtable = $crate::__source_vtable::<$ty>();
            #[allow(non_upper_case_globals, unsafe_code)]
            #[no_mangle]
            pub static $symbol: $crate::abi::Plugin = $crate::abi::Plugin {
                abi_version: $crate::abi::ABI_VERSION,
                layout: $crate::abi::LAYOUT_FINGERPRINT,
                kind: $crate::abi::PLUGIN_SOURCE,
                singleton: 0,
                function: ::std::ptr::null(),
                source: &SOURCE_VTABLE,
                sink: ::std::ptr::null(),
            };
        };
    };
}

/// Exports a sink plugin: `export_sink_plugin!(Symbol, Type)`.
#[macro_export]
macro_rules! export_sink_plugin {
    ($symbol:ident, $ty:ty) => {
        const _: () = {
            static SINK_VTABLE: $crate::abi::SinkVtable = $crate::__sink_vtable::<$ty>();
            #[allow(non_upper_case_globals, unsafe_code)]
            #[no_mangle]
            pub static $symbol: $crate::abi::Plugin = $crate::abi::Plugin {
                abi_version: $crate::abi::ABI_VERSION,
                layout: $crate::abi::LAYOUT_FINGERPRINT,
                kind: $crate::abi::PLUGIN_SINK,
                singleton: 0,
                function: ::std::ptr::null(),
                source: ::std::ptr::null(),
                sink: &SINK_VTABLE,
            };
        };
    };
}
