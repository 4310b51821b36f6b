//! Calling built-ins by name in unit tests, through the same adapter the engine uses.

use crate::builtin::all;
use crate::FnResult;
use tributary_core::function::{ArgInfo, Column, FnContext, FunctionFactory};
use tributary_core::Value;

/// The clock the tests run at: 2019-01-01T00:00:00.123Z.
pub const NOW_MS: i64 = 1_546_300_800_123;

fn find(name: &str) -> crate::Builtin {
    all()
        .into_iter()
        .find(|b| b.name == name)
        .unwrap_or_else(|| panic!("no built-in {name}"))
}

/// Runs one row through the batch interface, with the mock clock at [`NOW_MS`].
pub fn call(name: &str, args: &[Value]) -> FnResult {
    let f = find(name);
    let mut inst = f
        .instantiate(&Default::default())
        .unwrap_or_else(|e| panic!("instantiate {name}: {e}"));
    let cols: Vec<Column> = args.iter().cloned().map(Column::Scalar).collect();
    let mut out = Vec::new();
    inst.exec_batch(
        &FnContext {
            now_ms: NOW_MS,
            ..FnContext::default()
        },
        &cols,
        1,
        &mut out,
    );
    out.pop()
        .unwrap_or_else(|| panic!("{name} returned no row"))
        .map_err(|e| e.to_string())
}

/// Rule-creation validation.
pub fn check(name: &str, args: &[ArgInfo]) -> Result<(), String> {
    find(name).validate(args)
}

/// Parses JSON into a value, for array and object arguments.
pub fn j(text: &str) -> Value {
    tributary_core::json::parse(text).unwrap_or_else(|e| panic!("bad test json {text}: {e}"))
}

pub fn s(text: &str) -> Value {
    Value::str(text)
}

pub fn lit(v: Value) -> ArgInfo {
    ArgInfo::Literal(v)
}
