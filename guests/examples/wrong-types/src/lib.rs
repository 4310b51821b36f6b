//! Not a plugin: a component built against a wrong copy of the contract, for the
//! host's load error. It exports `tributary:plugin/function@0.2.0` with every function
//! the host looks for, but `exec` takes only a `u64` row count (the contract says a
//! column list and a `u32`) and answers a bare `u32`, as a plugin built against an
//! edited or stale WIT would. The host must refuse it at load and name the WIT item that differs
//! (tests/it/wasm_plugins.rs).

wit_bindgen::generate!({
    inline: r"
        package tributary:plugin@0.2.0;
        interface function {
            resource instance {
                constructor(name: string);
                exec: func(rows: u64) -> u32;
                exec-groups: func(groups: u32) -> u32;
            }
            describe: func() -> u32;
            validate: func(name: string) -> u32;
        }
        world wrong {
            export function;
        }
    ",
});

use exports::tributary::plugin::function::{Guest, GuestInstance};

struct Wrong;

impl Guest for Wrong {
    type Instance = Wrong;
    fn describe() -> u32 {
        0
    }
    fn validate(_name: String) -> u32 {
        0
    }
}

impl GuestInstance for Wrong {
    fn new(_name: String) -> Self {
        Wrong
    }
    fn exec(&self, rows: u64) -> u32 {
        rows as u32
    }
    fn exec_groups(&self, groups: u32) -> u32 {
        groups
    }
}

export!(Wrong);
