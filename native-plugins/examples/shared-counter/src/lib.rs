//! `globalCount()`: a singleton (eKuiper's exported instance): one instance, and one
//! state scope, shared by every rule and call site. Each call adds 1 to the counter
//! `calls` and returns it.

use tributary_native_sdk::*;

struct SharedCounter {
    host: Host,
}

impl FunctionPlugin for SharedCounter {
    const FUNCTIONS: &'static [FunctionDef] = &[scalar("globalCount")];
    const SINGLETON: bool = true;

    fn validate(name: &str, args: &[ArgInfo]) -> Result<(), String> {
        expect_args(name, args, 0, 0)
    }

    fn new(host: Host, _name: &str) -> Result<Self, String> {
        Ok(SharedCounter { host })
    }

    fn exec(&mut self, _args: &[Column<'_>], rows: usize, out: &mut Results) {
        out.extend((0..rows).map(|_| {
            self.host
                .incr_counter("calls", 1)
                .map(Value::Int)
                .map_err(|e| e.to_string())
        }));
    }
}

export_function_plugin!(SharedCounter, SharedCounter);
