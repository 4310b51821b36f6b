//! `accumulateWordCount(text, separator)`: adds the number of words of `text` (split by
//! `separator`) to the counter `allwordcount` through the state API, and returns the
//! running total — eKuiper's own example of a stateful function.

use tributary_guest::*;

struct AccumulateWordCount;

impl FunctionPlugin for AccumulateWordCount {
    type Instance = Inst;

    fn describe() -> PluginInfo {
        one_scalar("accumulateWordCount")
    }

    fn validate(name: String, args: Vec<ArgInfo>) -> Result<(), String> {
        expect_args(&name, &args, 2, 2)?;
        for (i, a) in args.iter().enumerate() {
            if let ArgInfo::Literal(v) = a {
                if !matches!(v, Value::Str(_)) {
                    return Err(format!("parameter {} must be a string", i + 1));
                }
            }
        }
        Ok(())
    }
}

struct Inst;

impl FunctionInstance for Inst {
    fn new(_name: String) -> Self {
        Inst
    }

    fn exec(&self, args: Vec<Column>, rows: u32) -> Results {
        (0..rows)
            .map(|i| {
                let text = match cell(&args[0], i) {
                    Value::Str(s) => s,
                    Value::Null => return Ok(Value::Null),
                    _ => return Err("parameter 1 must be a string".to_string()),
                };
                let sep = match cell(&args[1], i) {
                    Value::Str(s) => s,
                    _ => return Err("parameter 2 must be a string".to_string()),
                };
                let words = if sep.is_empty() {
                    text.split_whitespace().count()
                } else {
                    text.split(sep.as_str()).filter(|w| !w.is_empty()).count()
                };
                state::incr_counter("allwordcount", words as i64)
                    .map(Value::Int)
                    .map_err(|e| format!("state: {e:?}"))
            })
            .collect()
    }

    fn exec_groups(&self, groups: Vec<Vec<Column>>) -> Results {
        not_aggregate("accumulateWordCount", groups.len())
    }
}

tributary_guest::export_function_plugin!(AccumulateWordCount);
