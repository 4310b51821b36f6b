//! `gcd(a, b)`: the greatest common divisor of two integers (null if either is), the
//! function arrow-udf's own examples and benchmarks use, so the tier can be compared
//! with arrow-udf's wasm runtime on the same work (benches/peers).
//!
//! Two typed columns of integers are read as two flat lists and answered with one;
//! any other form goes row by row.

use tributary_guest::*;

struct Gcd;

impl FunctionPlugin for Gcd {
    type Instance = Inst;

    fn describe() -> PluginInfo {
        one_scalar("gcd")
    }

    fn validate(name: String, args: Vec<ArgInfo>) -> Result<(), String> {
        expect_args(&name, &args, 2, 2)
    }
}

struct Inst;

fn gcd(mut a: i64, mut b: i64) -> i64 {
    while b != 0 {
        (a, b) = (b, a.wrapping_rem(b));
    }
    a
}

impl FunctionInstance for Inst {
    fn new(_name: String) -> Self {
        Inst
    }

    fn exec(&self, args: Vec<Column>, rows: u32) -> Results {
        let (Some(a), Some(b)) = (args.first(), args.get(1)) else {
            return Results::failed(rows as usize, "gcd expects 2 arguments");
        };
        if let (Some(x), Some(y)) = (a.ints(), b.ints()) {
            let values = x.values.iter().zip(&y.values).map(|(p, q)| gcd(*p, *q));
            let nulls = match (x.nulls.is_empty(), y.nulls.is_empty()) {
                (true, true) => Vec::new(),
                _ => (0..rows as usize)
                    .map(|i| {
                        x.nulls.get(i).copied().unwrap_or(false)
                            || y.nulls.get(i).copied().unwrap_or(false)
                    })
                    .collect(),
            };
            return Results::ints(values.collect(), nulls);
        }
        (0..rows)
            .map(|i| match (a.cell(i), b.cell(i)) {
                (Value::Int(p), Value::Int(q)) => Ok(Value::Int(gcd(p, q))),
                (Value::Null, _) | (_, Value::Null) => Ok(Value::Null),
                _ => Err("gcd expects integers".to_string()),
            })
            .collect()
    }

    fn exec_groups(&self, groups: Vec<Vec<Column>>) -> Results {
        not_aggregate("gcd", groups.len())
    }
}

tributary_guest::export_function_plugin!(Gcd);
