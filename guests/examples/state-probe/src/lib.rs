//! `stateProbe(op, key, arg)`: runs one operation of the state API and returns its
//! outcome as a value, so that the cross-tier conformance suite can compare tiers
//! row by row. `op` is `put` (stores `arg`), `get`, `delete`, `incr` (adds `arg`) or
//! `counter`. A missing state reads `"<none>"`; a failed operation returns
//! `"error: not-an-integer"` or `"error: store"`, the same text in every tier.

use tributary_guest::*;

struct StateProbe;

impl FunctionPlugin for StateProbe {
    type Instance = Inst;

    fn describe() -> PluginInfo {
        one_scalar("stateProbe")
    }

    fn validate(name: String, args: Vec<ArgInfo>) -> Result<(), String> {
        expect_args(&name, &args, 3, 3)
    }
}

struct Inst;

fn outcome<T>(r: Result<T, state::StateError>, ok: impl FnOnce(T) -> Value) -> Value {
    match r {
        Ok(v) => ok(v),
        Err(state::StateError::NotAnInteger) => Value::Str("error: not-an-integer".into()),
        Err(state::StateError::Store(_)) => Value::Str("error: store".into()),
    }
}

impl FunctionInstance for Inst {
    fn new(_name: String) -> Self {
        Inst
    }

    fn exec(&self, args: Vec<Column>, rows: u32) -> Results {
        (0..rows)
            .map(|i| {
                let (Value::Str(op), Value::Str(key)) = (cell(&args[0], i), cell(&args[1], i))
                else {
                    return Err("op and key must be strings".to_string());
                };
                let arg = cell(&args[2], i);
                let done = || Value::Str("ok".into());
                Ok(match op.as_str() {
                    "put" => outcome(state::put_state(&key, &arg), |_| done()),
                    "get" => outcome(state::get_state(&key), |v| {
                        v.unwrap_or(Value::Str("<none>".into()))
                    }),
                    "delete" => outcome(state::delete_state(&key), |_| done()),
                    "incr" => {
                        let Value::Int(n) = arg else {
                            return Err("incr needs an integer amount".to_string());
                        };
                        outcome(state::incr_counter(&key, n), Value::Int)
                    }
                    "counter" => outcome(state::get_counter(&key), Value::Int),
                    other => return Err(format!("unknown op {other:?}")),
                })
            })
            .collect()
    }

    fn exec_groups(&self, groups: Vec<Vec<Column>>) -> Results {
        not_aggregate("stateProbe", groups.len())
    }
}

tributary_guest::export_function_plugin!(StateProbe);
