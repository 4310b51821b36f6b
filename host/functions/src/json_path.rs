//! JSON functions (`json_functions.md`): `to_json`, `parse_json` and the three JSON path
//! functions, whose path syntax and result shape follow eKuiper's path library (see
//! [`crate::jsonpath_eval`]).
//!
//! Where eKuiper decodes JSON text (`parse_json`, and a string given to a path
//! function) Go's decoder makes every number a float64; that is kept, so
//! `parse_json('{"a":1}')` holds the float 1 (it prints as `1` all the same).

use crate::args::*;
use crate::builtin::Builtin;
use crate::jsonpath_eval;
use crate::FnResult;
use tributary_core::function::{ArgInfo, FnContext};
use tributary_core::{json, Value};

pub fn builtins() -> Vec<Builtin> {
    vec![
        Builtin::new("to_json", 1, Some(1), to_json).with_validate(v_one_arg),
        Builtin::new("parse_json", 1, Some(1), parse_json).with_validate(v_one_str),
        Builtin::new("json_path_query", 2, Some(2), json_path_query).with_validate(v_json),
        Builtin::new("json_path_query_first", 2, Some(2), json_path_query_first)
            .with_validate(v_json),
        Builtin::new("json_path_exists", 2, Some(2), json_path_exists).with_validate(v_json),
    ]
}

/// The path must be a string literal: eKuiper checks it when the rule is created.
fn v_json(args: &[ArgInfo]) -> Result<(), String> {
    validate_len(2, args)?;
    if !is_string(&args[1]) {
        return Err(err_info(1, "string"));
    }
    Ok(())
}

/// Go's encoder refuses NaN and infinities, so they are an error rather than `null`.
fn to_json(_: &FnContext, a: &[Value]) -> FnResult {
    let v = arg(a, 0);
    if v.is_null() {
        return Ok(Value::Null);
    }
    if has_non_finite(v) {
        return Err(format!("fail to convert {} to json", go_string(v)));
    }
    Ok(Value::from(json::to_json_string(v)))
}

fn has_non_finite(v: &Value) -> bool {
    match v {
        Value::Float(f) => !f.is_finite(),
        Value::Array(a) => a.iter().any(has_non_finite),
        Value::Object(o) => o.values().any(has_non_finite),
        _ => false,
    }
}

/// JSON text to a value; `null` (the value or the text) gives nil.
fn parse_json(_: &FnContext, a: &[Value]) -> FnResult {
    let v = arg(a, 0);
    if v.is_null() || v.as_str() == Some("null") {
        return Ok(Value::Null);
    }
    let text =
        to_str_samekind(v).ok_or_else(|| format!("fail to convert {} to string", go_string(v)))?;
    decode_go(&text).map_err(|e| format!("fail to parse json: {e}"))
}

/// Decodes JSON as Go's `json.Unmarshal` into `interface{}` does: numbers are floats.
fn decode_go(text: &str) -> Result<Value, String> {
    let parsed: serde_json::Value = serde_json::from_str(text).map_err(|e| e.to_string())?;
    Ok(floats(json::from_json(parsed)))
}

fn floats(v: Value) -> Value {
    match v {
        Value::Int(i) => Value::Float(i as f64),
        Value::Array(a) => Value::array(a.iter().cloned().map(floats).collect()),
        Value::Object(o) => Value::object(
            o.iter()
                .map(|(k, v)| (k.clone(), floats(v.clone())))
                .collect(),
        ),
        other => other,
    }
}

/// Runs the path over an object, an array, or JSON text.
fn query(a: &[Value]) -> Result<Value, String> {
    let data = arg(a, 0);
    let path = match arg(a, 1) {
        Value::String(p) => p.to_string(),
        other => {
            return Err(format!(
                "invalid jsonPath, must be a string but got {}",
                go_string(other)
            ))
        }
    };
    let input = match data {
        Value::Object(_) | Value::Array(_) => data.clone(),
        Value::String(s) => decode_go(s)
            .map_err(|_| format!("data '{}' is not a valid json string", go_string(data)))?,
        Value::Null => return Err("invalid data nil for jsonpath".to_string()),
        other => return Err(format!("invalid data {} for jsonpath", go_string(other))),
    };
    jsonpath_eval::eval(&path, &input)
}

fn json_path_query(_: &FnContext, a: &[Value]) -> FnResult {
    query(a)
}

/// The first match; the path must select several values (a wildcard, filter, ...),
/// since a plain path's single value is "not an array".
fn json_path_query_first(_: &FnContext, a: &[Value]) -> FnResult {
    match query(a)? {
        Value::Array(items) => items
            .first()
            .cloned()
            .ok_or_else(|| "runtime error: index out of range [0] with length 0".to_string()),
        other => Err(format!(
            "query result ({}) is not an array",
            go_string(&other)
        )),
    }
}

/// Errors (a missing key, bad data) count as "does not exist".
fn json_path_exists(_: &FnContext, a: &[Value]) -> FnResult {
    Ok(Value::Bool(match query(a) {
        Ok(Value::Array(items)) => !items.is_empty(),
        Ok(Value::Null) | Err(_) => false,
        Ok(_) => true,
    }))
}

#[cfg(test)]
mod tests {
    use crate::testutil::*;
    use tributary_core::function::ArgInfo;
    use tributary_core::Value;

    fn followers() -> Value {
        j(r#"{
          "Group1": [
            {"first": "John", "last": "Shavor", "age": 22},
            {"first": "Ken", "last": "Miller", "age": 33}
          ],
          "Group2": [
            {"first": "Alice", "last": "Murphy", "age": 33},
            {"first": "Brian", "last": "Craig", "age": 44}
          ]
        }"#)
    }

    #[test]
    fn to_json_and_parse_json() {
        assert_eq!(
            call("to_json", &[j(r#"{"b":[1,2.5],"a":"<x>"}"#)]),
            Ok(s(r#"{"a":"\u003cx\u003e","b":[1,2.5]}"#))
        );
        assert_eq!(call("to_json", &[Value::Null]), Ok(Value::Null));
        assert_eq!(call("to_json", &[Value::Int(1)]), Ok(s("1")));
        assert_eq!(
            call("to_json", &[Value::Float(f64::NAN)]),
            Err("fail to convert NaN to json".to_string())
        );
        assert_eq!(
            call("parse_json", &[s(r#"{"a":1,"b":[true,"x"]}"#)]),
            Ok(j(r#"{"a":1.0,"b":[true,"x"]}"#))
        );
        let parsed = call("parse_json", &[s(r#"{"a":1}"#)]).expect("parse");
        assert!(matches!(
            parsed.as_object().and_then(|o| o.get("a")),
            Some(Value::Float(_))
        ));
        assert_eq!(call("parse_json", &[s("null")]), Ok(Value::Null));
        assert_eq!(call("parse_json", &[Value::Null]), Ok(Value::Null));
        assert!(call("parse_json", &[s("{")]).is_err());
        assert_eq!(
            call("parse_json", &[Value::Int(1)]),
            Err("fail to convert 1 to string".to_string())
        );
        assert_eq!(
            check("parse_json", &[lit(Value::Int(1))]),
            Err("Expect string type for parameter 1".to_string())
        );
    }

    #[test]
    fn path_query_examples_from_the_docs() {
        assert_eq!(
            call("json_path_query", &[followers(), s("$.Group1[*].last")]),
            Ok(j(r#"["Shavor","Miller"]"#))
        );
        assert_eq!(
            call(
                "json_path_query",
                &[followers(), s("$.Group1[? @.age>30].last")]
            ),
            Ok(j(r#"["Miller"]"#))
        );
        assert_eq!(
            call("json_path_query", &[followers(), s("$.Group1[0].age")]),
            Ok(Value::Int(22))
        );
        assert_eq!(
            call("json_path_query", &[s(r#"{"a":{"b":2}}"#), s("$.a.b")]),
            Ok(Value::Float(2.0))
        );
        assert_eq!(
            call("json_path_query", &[followers(), s("$.Group3")]),
            Err("unknown key Group3".to_string())
        );
        assert_eq!(
            call("json_path_query", &[Value::Null, s("$.a")]),
            Err("invalid data nil for jsonpath".to_string())
        );
        assert_eq!(
            call("json_path_query", &[Value::Int(1), s("$.a")]),
            Err("invalid data 1 for jsonpath".to_string())
        );
        assert_eq!(
            call("json_path_query", &[s("{"), s("$.a")]),
            Err("data '{' is not a valid json string".to_string())
        );
    }

    #[test]
    fn query_first_and_exists() {
        assert_eq!(
            call(
                "json_path_query_first",
                &[followers(), s("$.Group2[*].first")]
            ),
            Ok(s("Alice"))
        );
        assert_eq!(
            call(
                "json_path_query_first",
                &[followers(), s("$.Group2[0].first")]
            ),
            Err("query result (Alice) is not an array".to_string())
        );
        assert_eq!(
            call(
                "json_path_exists",
                &[followers(), s("$.Group1[? @.age>30]")]
            ),
            Ok(Value::Bool(true))
        );
        assert_eq!(
            call(
                "json_path_exists",
                &[followers(), s("$.Group1[? @.age>50]")]
            ),
            Ok(Value::Bool(false))
        );
        assert_eq!(
            call("json_path_exists", &[followers(), s("$.Group3")]),
            Ok(Value::Bool(false))
        );
        assert_eq!(
            call("json_path_exists", &[Value::Null, s("$.a")]),
            Ok(Value::Bool(false))
        );
    }

    #[test]
    fn path_must_be_a_string_literal() {
        assert_eq!(
            check("json_path_query", &[ArgInfo::Dynamic, ArgInfo::Dynamic]),
            Err("Expect string type for parameter 2".to_string())
        );
        assert_eq!(
            check("json_path_exists", &[ArgInfo::Dynamic]),
            Err("Expect 2 arguments but found 1.".to_string())
        );
        assert!(check("json_path_query_first", &[ArgInfo::Dynamic, lit(s("$.a"))]).is_ok());
    }
}
