//! Wasmtime's errors as a user reads them.

/// The whole message of a wasmtime error chain, outermost first.
pub fn root_cause(e: &wasmtime::Error) -> String {
    let mut msg = e.to_string();
    for cause in e.chain().skip(1) {
        msg = format!("{msg}: {cause}");
    }
    msg
}

/// A trap as a user reads it: deadline, memory or the guest's own fault.
pub fn describe_trap(e: &wasmtime::Error) -> String {
    if let Some(trap) = e.downcast_ref::<wasmtime::Trap>() {
        return match trap {
            wasmtime::Trap::Interrupt => "CPU deadline exceeded".to_string(),
            wasmtime::Trap::StackOverflow => "stack overflow".to_string(),
            other => format!("trap: {other}"),
        };
    }
    root_cause(e)
}
