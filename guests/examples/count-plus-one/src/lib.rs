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

    fn exec(&self, args: Vec<Column>, _rows: u32) -> Results {
        let n = args.len() as i64 + 1;
        Results::typed(Column::Scalar(Value::Int(n)))
    }

    fn exec_groups(&self, groups: Vec<Vec<Column>>) -> Results {
        not_aggregate("countPlusOne", groups.len())
    }
}

tributary_guest::export_function_plugin!(CountPlusOne);
