//! `addOne(x)`: `x + 1` for integers and floats (null stays null): the function the
//! benches use to measure the cost of crossing the native boundary. A typed column of
//! integers (or floats) is answered with one typed list, with the same null flags.

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

    fn exec(&mut self, args: &[Column<'_>], rows: usize, out: &mut Results) {
        let c = &args[0];
        let nulls = c.nulls().unwrap_or(&[]);
        if let Some(xs) = c.ints() {
            return out.ints(xs.iter().map(|x| x.wrapping_add(1)), nulls);
        }
        if let Some(xs) = c.floats() {
            return out.floats(xs.iter().map(|x| x + 1.0), nulls);
        }
        out.extend((0..rows).map(|i| match args[0].get(i) {
            ValueRef::Int(n) => Ok(Value::Int(n.wrapping_add(1))),
            ValueRef::Float(f) => Ok(Value::Float(f + 1.0)),
            ValueRef::Null => Ok(Value::Null),
            _ => Err("addOne needs a number".to_string()),
        }));
    }
}

export_function_plugin!(AddOne, AddOne);
