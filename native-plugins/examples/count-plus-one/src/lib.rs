//! `countPlusOne(...)`: the number of its arguments plus one.

use tributary_native_sdk::*;

struct CountPlusOne;

impl FunctionPlugin for CountPlusOne {
    const FUNCTIONS: &'static [FunctionDef] = &[scalar("countPlusOne")];

    fn validate(_name: &str, _args: &[ArgInfo]) -> Result<(), String> {
        Ok(())
    }

    fn new(_host: Host, _name: &str) -> Result<Self, String> {
        Ok(CountPlusOne)
    }

    fn exec(&mut self, args: &[Column<'_>], rows: usize, out: &mut Results) {
        let n = args.len() as i64 + 1;
        out.extend((0..rows).map(|_| Ok(Value::Int(n))));
    }
}

export_function_plugin!(CountPlusOne, CountPlusOne);
