//! `echo(x)`: returns its argument.

use tributary_guest::*;

struct Echo;

impl FunctionPlugin for Echo {
    type Instance = EchoInstance;

    fn describe() -> PluginInfo {
        one_scalar("echo")
    }

    fn validate(name: String, args: Vec<ArgInfo>) -> Result<(), String> {
        expect_args(&name, &args, 1, 1)
    }
}

struct EchoInstance;

impl FunctionInstance for EchoInstance {
    fn new(_name: String) -> Self {
        EchoInstance
    }

    fn exec(&self, args: Vec<Column>, rows: u32) -> Results {
        (0..rows).map(|i| Ok(cell(&args[0], i))).collect()
    }

    fn exec_groups(&self, groups: Vec<Vec<Column>>) -> Results {
        not_aggregate("echo", groups.len())
    }
}

tributary_guest::export_function_plugin!(Echo);
