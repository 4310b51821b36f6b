//! `addOne(x)`: x + 1 for integers and floats; the wasm tier's benchmark function.
//!
//! A column of integers (or floats) arrives typed, as one flat list: the answer is
//! one flat list too, with the same null mask. Any other column goes row by row.

use tributary_guest::*;

struct AddOne;

impl FunctionPlugin for AddOne {
    type Instance = Inst;

    fn describe() -> PluginInfo {
        one_scalar("addOne")
    }

    fn validate(name: String, args: Vec<ArgInfo>) -> Result<(), String> {
        expect_args(&name, &args, 1, 1)
    }
}

struct Inst;

fn add_one(v: Value) -> Result<Value, String> {
    match v {
        Value::Int(i) => Ok(Value::Int(i.wrapping_add(1))),
        Value::Float(f) => Ok(Value::Float(f + 1.0)),
        Value::Null => Ok(Value::Null),
        _ => Err("addOne expects a number".to_string()),
    }
}

impl FunctionInstance for Inst {
    fn new(_name: String) -> Self {
        Inst
    }

    fn exec(&self, args: Vec<Column>, rows: u32) -> Results {
        match args.into_iter().next() {
            Some(Column::Ints(Ints { values, nulls })) => {
                Results::ints(values.iter().map(|x| x.wrapping_add(1)).collect(), nulls)
            }
            Some(Column::Floats(Floats { values, nulls })) => {
                Results::floats(values.iter().map(|x| x + 1.0).collect(), nulls)
            }
            Some(c) => (0..rows).map(|i| add_one(c.cell(i))).collect(),
            None => Results::failed(rows as usize, "addOne expects 1 argument"),
        }
    }

    fn exec_groups(&self, groups: Vec<Vec<Column>>) -> Results {
        not_aggregate("addOne", groups.len())
    }
}

tributary_guest::export_function_plugin!(AddOne);
