//! `addOne(x)`: x + 1 for integers and floats; the wasm tier's benchmark function.

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

    fn exec(&self, args: Vec<Column>, rows: u32) -> Vec<Result<Value, String>> {
        match args.into_iter().next() {
            Some(Column::Values(vs)) => vs.into_iter().map(add_one).collect(),
            Some(Column::Scalar(v)) => (0..rows).map(|_| add_one(v.clone())).collect(),
            None => (0..rows)
                .map(|_| Err("addOne expects 1 argument".to_string()))
                .collect(),
        }
    }

    fn exec_groups(&self, groups: Vec<Vec<Column>>) -> Vec<Result<Value, String>> {
        not_aggregate("addOne", groups.len())
    }
}

tributary_guest::export_function_plugin!(AddOne);
