//! `spread(x)`: an aggregate, the difference between the largest and the smallest
//! number of a group (nulls ignored; null for a group without numbers).

use tributary_native_sdk::*;

struct Spread;

impl FunctionPlugin for Spread {
    const FUNCTIONS: &'static [FunctionDef] = &[aggregate("spread")];

    fn validate(name: &str, args: &[ArgInfo]) -> Result<(), String> {
        expect_args(name, args, 1, 1)
    }

    fn new(_host: Host, _name: &str) -> Result<Self, String> {
        Ok(Spread)
    }

    fn exec(&mut self, _args: &[Column<'_>], rows: usize, out: &mut Results) {
        out.extend((0..rows).map(|_| Err("spread is an aggregate function".to_string())));
    }

    fn exec_groups(&mut self, groups: &[Vec<Column<'_>>], out: &mut Results) {
        out.extend(groups.iter().map(|g| {
            let col = &g[0];
            let mut range: Option<(f64, f64)> = None;
            let mut all_int = true;
            for i in 0..col.len() {
                let x = match col.get(i) {
                    ValueRef::Int(n) => n as f64,
                    ValueRef::Float(f) => {
                        all_int = false;
                        f
                    }
                    ValueRef::Null => continue,
                    _ => return Err("spread needs numbers".to_string()),
                };
                range = Some(match range {
                    None => (x, x),
                    Some((lo, hi)) => (lo.min(x), hi.max(x)),
                });
            }
            Ok(match range {
                None => Value::Null,
                Some((lo, hi)) if all_int => Value::Int((hi - lo) as i64),
                Some((lo, hi)) => Value::Float(hi - lo),
            })
        }));
    }
}

export_function_plugin!(Spread, Spread);
