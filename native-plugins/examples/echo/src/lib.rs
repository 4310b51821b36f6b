//! `echo(x)`: returns its argument.

use tributary_native_sdk::*;

struct Echo;

impl FunctionPlugin for Echo {
    const FUNCTIONS: &'static [FunctionDef] = &[scalar("echo")];

    fn validate(name: &str, args: &[ArgInfo]) -> Result<(), String> {
        expect_args(name, args, 1, 1)
    }

    fn new(_host: Host, _name: &str) -> Result<Self, String> {
        Ok(Echo)
    }

    fn exec(&mut self, args: &[Column<'_>], rows: usize, out: &mut Results) {
        out.extend((0..rows).map(|i| Ok(args[0].get(i).to_owned())));
    }
}

export_function_plugin!(Echo, Echo);
