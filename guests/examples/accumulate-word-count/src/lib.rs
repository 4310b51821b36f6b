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

    /// The running totals as one typed list of integers: null where the text is
    /// null, the failed rows listed beside it.
    fn exec(&self, args: Vec<Column>, rows: u32) -> Results {
        let (Some(texts), Some(seps)) = (args.first(), args.get(1)) else {
            return Results::failed(rows as usize, "accumulateWordCount expects 2 arguments");
        };
        let mut totals = vec![0i64; rows as usize];
        let mut nulls = Vec::new();
        let mut errors = Vec::new();
        for i in 0..rows {
            let fail = |message: &str| RowError {
                row: i,
                message: message.to_string(),
            };
            let text = match texts.text(i) {
                Text::Str(s) => s,
                Text::Null => {
                    nulls.resize(rows as usize, false);
                    nulls[i as usize] = true;
                    continue;
                }
                Text::Other => {
                    errors.push(fail("parameter 1 must be a string"));
                    continue;
                }
            };
            let Text::Str(sep) = seps.text(i) else {
                errors.push(fail("parameter 2 must be a string"));
                continue;
            };
            let words = if sep.is_empty() {
                text.split_whitespace().count()
            } else {
                text.split(sep).filter(|w| !w.is_empty()).count()
            };
            match state::incr_counter("allwordcount", words as i64) {
                Ok(total) => totals[i as usize] = total,
                Err(e) => errors.push(fail(&format!("state: {e:?}"))),
            }
        }
        Results::Typed(TypedResults {
            column: Column::Ints(Ints {
                values: totals,
                nulls,
            }),
            errors,
        })
    }

    fn exec_groups(&self, groups: Vec<Vec<Column>>) -> Results {
        not_aggregate("accumulateWordCount", groups.len())
    }
}

tributary_guest::export_function_plugin!(AccumulateWordCount);
