//! `addOne(x)`: `x + 1` for integers and floats (null stays null): the function the
//! benches use to measure the cost of crossing the native boundary.

use tributary_native_sdk::*;

struct AddOne;

impl FunctionPlugin for AddOne {
    const FUNCTIONS: &'static [FunctionDef] = &[scalar("addOne")];

    fn validate(name: &str, args: &[ArgInfo]) -> Result<(), String> {
        expect_args(name, args, 1, 1)
    }

    fn new(_host: Host, _name: &str) -> Result<Self, String> {
        Ok(AddOne)
    }

    fn exec(&mut self, args: &[Column<'_>], rows: usize, out: &mut Vec<RowResult>) {
        out.extend((0..rows).map(|i| match args[0].get(i) {
            ValueRef::Int(n) => Ok(Value::Int(n.wrapping_add(1))),
            ValueRef::Float(f) => Ok(Value::Float(f + 1.0)),
            ValueRef::Null => Ok(Value::Null),
            _ => Err("addOne needs a number".to_string()),
        }));
    }
}

export_function_plugin!(AddOne, AddOne);
