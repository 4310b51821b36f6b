//! Misbehaving functions, to prove that a faulty plugin costs its batch and never the
//! host: `trapIf(x)` traps when x is 3, `spin()` never returns, `memBomb()` grows
//! memory without end, `deepRecurse()` overflows its stack, `hugeOutput()` returns a
//! very large string, `panicIf(x)` panics when x is 3.

use std::hint::black_box;
use tributary_guest::*;

struct Faulty;

const NAMES: [&str; 6] = [
    "trapIf",
    "spin",
    "memBomb",
    "deepRecurse",
    "hugeOutput",
    "panicIf",
];

impl FunctionPlugin for Faulty {
    type Instance = Inst;

    fn describe() -> PluginInfo {
        scalars(&NAMES)
    }

    fn validate(_name: String, _args: Vec<ArgInfo>) -> Result<(), String> {
        Ok(())
    }
}

struct Inst {
    name: String,
}

#[allow(unconditional_recursion)]
fn recurse(n: u64) -> u64 {
    let buf = black_box([n; 64]);
    buf[0] + recurse(n + 1)
}

impl FunctionInstance for Inst {
    fn new(name: String) -> Self {
        Inst { name }
    }

    fn exec(&self, args: Vec<Column>, rows: u32) -> Results {
        let hit = |i: u32| args.first().is_some_and(|c| cell(c, i) == Value::Int(3));
        match self.name.as_str() {
            "trapIf" if (0..rows).any(hit) => core::arch::wasm32::unreachable(),
            "panicIf" if (0..rows).any(hit) => panic!("panicIf saw 3"),
            "spin" => {
                let mut x = 0u64;
                loop {
                    x = black_box(x.wrapping_add(1));
                }
            }
            "memBomb" => {
                let mut hoard: Vec<Vec<u8>> = Vec::new();
                loop {
                    hoard.push(vec![1u8; 1 << 20]);
                    black_box(&hoard);
                }
            }
            "deepRecurse" => {
                black_box(recurse(0));
            }
            "hugeOutput" => {
                return (0..rows)
                    .map(|_| Ok(Value::Str("x".repeat(16 << 20))))
                    .collect();
            }
            _ => {}
        }
        (0..rows)
            .map(|i| Ok(args.first().map(|c| cell(c, i)).unwrap_or(Value::Null)))
            .collect()
    }

    fn exec_groups(&self, groups: Vec<Vec<Column>>) -> Results {
        not_aggregate(&self.name, groups.len())
    }
}

tributary_guest::export_function_plugin!(Faulty);
