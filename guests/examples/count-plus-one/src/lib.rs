//! `countPlusOne(...)`: the number of its arguments plus one.

use tributary_guest::*;

struct CountPlusOne;

impl FunctionPlugin for CountPlusOne {
    type Instance = Inst;

    fn describe() -> PluginInfo {
        one_scalar("countPlusOne")
    }

    fn validate(_name: String, _args: Vec<ArgInfo>) -> Result<(), String> {
        Ok(())
    }
}

struct Inst;

impl FunctionInstance for Inst {
    fn new(_name: String) -> Self {
        Inst
    }

    fn exec(&self, args: Vec<Column>, rows: u32) -> Vec<Result<Value, String>> {
        let n = args.len() as i64 + 1;
        (0..rows).map(|_| Ok(Value::Int(n))).collect()
    }

    fn exec_groups(&self, groups: Vec<Vec<Column>>) -> Vec<Result<Value, String>> {
        not_aggregate("countPlusOne", groups.len())
    }
}

tributary_guest::export_function_plugin!(CountPlusOne);
