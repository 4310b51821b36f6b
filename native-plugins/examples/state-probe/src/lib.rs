//! `stateProbe(op, key, arg)`: runs one operation of the state API and returns its
//! outcome as a value, so that the cross-tier conformance suite can compare tiers
//! row by row. `op` is `put` (stores `arg`), `get`, `delete`, `incr` (adds `arg`) or
//! `counter`. A missing state reads `"<none>"`; a failed operation returns
//! `"error: not-an-integer"` or `"error: store"`, the same text in every tier.

use tributary_native_sdk::*;

struct StateProbe {
    host: Host,
}

fn outcome<T>(r: Result<T, StateError>, ok: impl FnOnce(T) -> Value) -> Value {
    match r {
        Ok(v) => ok(v),
        Err(StateError::NotAnInteger) => Value::Str("error: not-an-integer".into()),
        Err(StateError::Store(_)) => Value::Str("error: store".into()),
    }
}

impl FunctionPlugin for StateProbe {
    const FUNCTIONS: &'static [FunctionDef] = &[scalar("stateProbe")];

    fn validate(name: &str, args: &[ArgInfo]) -> Result<(), String> {
        expect_args(name, args, 3, 3)
    }

    fn new(host: Host, _name: &str) -> Result<Self, String> {
        Ok(StateProbe { host })
    }

    fn exec(&mut self, args: &[Column<'_>], rows: usize, out: &mut Results) {
        out.extend((0..rows).map(|i| {
            let (ValueRef::Str(op), ValueRef::Str(key)) = (args[0].get(i), args[1].get(i)) else {
                return Err("op and key must be strings".to_string());
            };
            let arg = args[2].get(i);
            let done = |_| Value::Str("ok".into());
            Ok(match op {
                "put" => outcome(self.host.put_state(key, &arg.to_owned()), done),
                "get" => outcome(self.host.get_state(key), |v| {
                    v.unwrap_or(Value::Str("<none>".into()))
                }),
                "delete" => outcome(self.host.delete_state(key), done),
                "incr" => {
                    let ValueRef::Int(n) = arg else {
                        return Err("incr needs an integer amount".to_string());
                    };
                    outcome(self.host.incr_counter(key, n), Value::Int)
                }
                "counter" => outcome(self.host.get_counter(key), Value::Int),
                other => return Err(format!("unknown op {other:?}")),
            })
        }));
    }
}

export_function_plugin!(StateProbe, StateProbe);
