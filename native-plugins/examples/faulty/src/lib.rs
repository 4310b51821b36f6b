//! A test fixture: functions that break the rules, to show the host survives them.
//! `panicNow(x)` panics; `shortResults(x)` returns one result too few;
//! `failOn(x)` fails the row whose value is "bad" and echoes the others.

use tributary_native_sdk::*;

struct Faulty {
    name: String,
}

impl FunctionPlugin for Faulty {
    const FUNCTIONS: &'static [FunctionDef] =
        &[scalar("panicNow"), scalar("shortResults"), scalar("failOn")];

    fn validate(name: &str, args: &[ArgInfo]) -> Result<(), String> {
        expect_args(name, args, 1, 1)
    }

    fn new(_host: Host, name: &str) -> Result<Self, String> {
        Ok(Faulty {
            name: name.to_string(),
        })
    }

    fn exec(&mut self, args: &[Column<'_>], rows: usize, out: &mut Results) {
        match self.name.as_str() {
            "panicNow" => panic!("panicNow was called"),
            "shortResults" => out.extend((1..rows).map(|_| Ok(Value::Null))),
            _ => out.extend((0..rows).map(|i| match args[0].get(i) {
                ValueRef::Str("bad") => Err("the value is bad".to_string()),
                v => Ok(v.to_owned()),
            })),
        }
    }
}

export_function_plugin!(Faulty, Faulty);
