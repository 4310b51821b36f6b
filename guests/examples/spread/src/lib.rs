//! `spread(x)`: an aggregate, the difference between the largest and the smallest
//! number of a group (nulls ignored; null for a group without numbers). The host hands
//! it each group's argument columns in one `exec-groups` call.

use tributary_guest::*;

struct Spread;

impl FunctionPlugin for Spread {
    type Instance = Inst;

    fn describe() -> PluginInfo {
        PluginInfo {
            functions: vec![FunctionDef {
                name: "spread".to_string(),
                kind: FunctionKind::Aggregate,
            }],
            singleton: false,
        }
    }

    fn validate(name: String, args: Vec<ArgInfo>) -> Result<(), String> {
        expect_args(&name, &args, 1, 1)
    }
}

struct Inst;

fn spread(col: &Column) -> Result<Value, String> {
    let mut range: Option<(f64, f64)> = None;
    let mut all_int = true;
    // A constant column is one value, however many rows the group has.
    for i in 0..col.rows().unwrap_or(1) as u32 {
        let v = &col.cell(i);
        let x = match v {
            Value::Int(n) => *n as f64,
            Value::Float(f) => {
                all_int = false;
                *f
            }
            Value::Null => continue,
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
}

impl FunctionInstance for Inst {
    fn new(_name: String) -> Self {
        Inst
    }

    fn exec(&self, _args: Vec<Column>, rows: u32) -> Results {
        (0..rows)
            .map(|_| Err("spread is an aggregate function".to_string()))
            .collect()
    }

    fn exec_groups(&self, groups: Vec<Vec<Column>>) -> Results {
        groups
            .iter()
            .map(|g| match g.first() {
                Some(c) => spread(c),
                None => Err("spread expects 1 argument but found 0".to_string()),
            })
            .collect()
    }
}

tributary_guest::export_function_plugin!(Spread);
