//! `accumulateWordCount(text, separator)`: adds the number of words of `text` (split by
//! `separator`) to the counter `allwordcount` through the state API, and returns the
//! running total — eKuiper's own example of a stateful function.

use tributary_native_sdk::*;

struct AccumulateWordCount {
    host: Host,
}

impl FunctionPlugin for AccumulateWordCount {
    const FUNCTIONS: &'static [FunctionDef] = &[scalar("accumulateWordCount")];

    fn validate(name: &str, args: &[ArgInfo]) -> Result<(), String> {
        expect_args(name, args, 2, 2)?;
        for (i, a) in args.iter().enumerate() {
            if let ArgInfo::Literal(v) = a {
                if !matches!(v, Value::Str(_)) {
                    return Err(format!("parameter {} must be a string", i + 1));
                }
            }
        }
        Ok(())
    }

    fn new(host: Host, _name: &str) -> Result<Self, String> {
        Ok(AccumulateWordCount { host })
    }

    fn exec(&mut self, args: &[Column<'_>], rows: usize, out: &mut Results) {
        out.extend((0..rows).map(|i| {
            let text = match args[0].get(i) {
                ValueRef::Str(s) => s,
                ValueRef::Null => return Ok(Value::Null),
                _ => return Err("parameter 1 must be a string".to_string()),
            };
            let sep = match args[1].get(i) {
                ValueRef::Str(s) => s,
                _ => return Err("parameter 2 must be a string".to_string()),
            };
            let words = if sep.is_empty() {
                text.split_whitespace().count()
            } else {
                text.split(sep).filter(|w| !w.is_empty()).count()
            };
            self.host
                .incr_counter("allwordcount", words as i64)
                .map(Value::Int)
                .map_err(|e| format!("state: {e}"))
        }));
    }
}

export_function_plugin!(AccumulateWordCount, AccumulateWordCount);
