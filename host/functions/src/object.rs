//! Object functions (`object_functions.md`), plus `object_pick` and
//! `obj_to_kvpair_array`, which eKuiper registers with them.
//!
//! Go iterates maps in random order, so eKuiper's `keys`, `values` and `items` come out
//! unordered; here they follow the sorted key order objects always have.

use crate::args::*;
use crate::builtin::Builtin;
use crate::FnResult;
use tributary_core::function::{ArgInfo, FnContext};
use tributary_core::{Object, Value};

const NOT_MAP: &str = "the argument should be map[string]interface{}";

pub fn builtins() -> Vec<Builtin> {
    vec![
        Builtin::new("keys", 1, Some(1), keys).with_validate(v_one_arg),
        Builtin::new("values", 1, Some(1), values).with_validate(v_one_arg),
        Builtin::new("object", 2, Some(2), object),
        Builtin::new("zip", 1, Some(1), zip).with_validate(v_one_arg),
        Builtin::new("items", 1, Some(1), items).with_validate(v_one_arg),
        Builtin::new("object_concat", 0, None, object_concat)
            .with_validate(|args| validate_at_least(2, args)),
        Builtin::new("object_construct", 0, None, object_construct)
            .with_validate(v_object_construct),
        Builtin::new("erase", 0, None, |_, a| select(a, false))
            .with_validate(|args| validate_at_least(2, args)),
        Builtin::new("object_pick", 2, Some(2), |_, a| select(a, true)),
        Builtin::new("obj_to_kvpair_array", 1, Some(1), obj_to_kvpair_array)
            .with_validate(v_one_arg),
    ]
}

fn keys(_: &FnContext, a: &[Value]) -> FnResult {
    match arg(a, 0) {
        Value::Null => Ok(Value::Null),
        Value::Object(o) => Ok(Value::array(o.keys().map(Value::str).collect())),
        _ => Err(NOT_MAP.to_string()),
    }
}

fn values(_: &FnContext, a: &[Value]) -> FnResult {
    match arg(a, 0) {
        Value::Null => Ok(Value::Null),
        Value::Object(o) => Ok(Value::array(o.values().cloned().collect())),
        _ => Err(NOT_MAP.to_string()),
    }
}

/// `object(keys, values)`; two empty arrays give nil.
fn object(_: &FnContext, a: &[Value]) -> FnResult {
    if any_null(a) {
        return Ok(Value::Null);
    }
    let keys = arg(a, 0)
        .as_array()
        .ok_or("first argument should be []string")?;
    let values = arg(a, 1)
        .as_array()
        .ok_or("second argument should be []interface{}")?;
    if keys.len() != values.len() {
        return Err("the length of the arguments should be same".to_string());
    }
    if keys.is_empty() {
        return Ok(Value::Null);
    }
    let mut m = Object::new();
    for (k, v) in keys.iter().zip(values.iter()) {
        let Value::String(k) = k else {
            return Err("first argument should be []string".to_string());
        };
        m.insert(k.to_string(), v.clone());
    }
    Ok(Value::object(m))
}

/// `zip([[k, v], ...])`; null entries are skipped, an empty list gives nil.
fn zip(_: &FnContext, a: &[Value]) -> FnResult {
    const SHAPE: &str = "each argument should be [][2]interface{}";
    if any_null(a) {
        return Ok(Value::Null);
    }
    let lists = arg(a, 0).as_array().ok_or(SHAPE)?;
    if lists.is_empty() {
        return Ok(Value::Null);
    }
    let mut m = Object::new();
    for item in lists {
        if item.is_null() {
            continue;
        }
        match item.as_array() {
            Some([k, v]) => match k {
                Value::String(k) => {
                    m.insert(k.to_string(), v.clone());
                }
                _ => return Err("the first element in the list item should be string".into()),
            },
            _ => return Err(SHAPE.to_string()),
        }
    }
    Ok(Value::object(m))
}

/// `[[k, v], ...]`; an empty object gives nil.
fn items(_: &FnContext, a: &[Value]) -> FnResult {
    match arg(a, 0) {
        Value::Null => Ok(Value::Null),
        Value::Object(o) if o.is_empty() => Ok(Value::Null),
        Value::Object(o) => Ok(Value::array(
            o.iter()
                .map(|(k, v)| Value::array(vec![Value::str(k), v.clone()]))
                .collect(),
        )),
        _ => Err("first argument should be map[string]interface{}".to_string()),
    }
}

/// Later objects win on duplicate keys; null arguments are skipped.
fn object_concat(_: &FnContext, a: &[Value]) -> FnResult {
    let mut m = Object::new();
    for v in a {
        match v {
            Value::Null => {}
            Value::Object(o) => m.extend(o.iter().map(|(k, v)| (k.clone(), v.clone()))),
            other => {
                return Err(format!(
                    "the argument should be map[string]interface{{}}, got {}",
                    go_string(other)
                ))
            }
        }
    }
    Ok(Value::object(m))
}

fn v_object_construct(args: &[ArgInfo]) -> Result<(), String> {
    if !args.len().is_multiple_of(2) {
        return Err("the args must be key value pairs".to_string());
    }
    (0..args.len())
        .step_by(2)
        .try_for_each(|i| check_str(args, i))
}

/// Pairs with a null key or a null value are left out.
fn object_construct(_: &FnContext, a: &[Value]) -> FnResult {
    let mut m = Object::new();
    for pair in a.chunks(2) {
        let (k, v) = (arg(pair, 0), arg(pair, 1));
        if k.is_null() || v.is_null() {
            continue;
        }
        let key =
            to_str_samekind(k).ok_or_else(|| format!("key {} is not a string", go_string(k)))?;
        m.insert(key, v.clone());
    }
    Ok(Value::object(m))
}

/// `erase` (drop the keys) and `object_pick` (keep only the keys); the keys are one
/// string or an array of them.
fn select(a: &[Value], keep: bool) -> FnResult {
    if any_null(a) {
        return Ok(Value::Null);
    }
    if a.len() != 2 {
        return Err(format!("the argument number should be 2, got {}", a.len()));
    }
    let Value::Object(obj) = arg(a, 0) else {
        return Err(format!(
            "the first argument should be map[string]interface{{}}, got {}",
            go_string(arg(a, 0))
        ));
    };
    let names: Vec<String> = match arg(a, 1) {
        Value::String(s) => vec![s.to_string()],
        Value::Array(items) => items
            .iter()
            .enumerate()
            .map(|(i, v)| {
                to_string_convert_all(v).map_err(|e| {
                    format!(
                        "cannot convert {} to string slice for the {i} element: {e}",
                        typed(arg(a, 1))
                    )
                })
            })
            .collect::<Result<_, _>>()?,
        _ => return Err("the argument should be slice or string".to_string()),
    };
    let m: Object = obj
        .iter()
        .filter(|(k, _)| names.contains(k) == keep)
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    Ok(Value::object(m))
}

/// `{k: v, ...}` to `[{"key": k, "value": v}, ...]`.
fn obj_to_kvpair_array(_: &FnContext, a: &[Value]) -> FnResult {
    match arg(a, 0) {
        Value::Null => Ok(Value::Null),
        Value::Object(o) => Ok(Value::array(
            o.iter()
                .map(|(k, v)| {
                    let mut pair = Object::new();
                    pair.insert("key".to_string(), Value::str(k));
                    pair.insert("value".to_string(), v.clone());
                    Value::object(pair)
                })
                .collect(),
        )),
        other => Err(format!(
            "the first argument should be map[string]interface{{}}, got {}",
            go_string(other)
        )),
    }
}

#[cfg(test)]
mod tests {
    use crate::testutil::*;
    use tributary_core::function::ArgInfo;
    use tributary_core::Value;

    #[test]
    fn keys_values_items() {
        let o = j(r#"{"a":1, "b":2}"#);
        assert_eq!(
            call("keys", std::slice::from_ref(&o)),
            Ok(j(r#"["a","b"]"#))
        );
        assert_eq!(call("values", std::slice::from_ref(&o)), Ok(j("[1,2]")));
        assert_eq!(call("items", &[o]), Ok(j(r#"[["a",1],["b",2]]"#)));
        assert_eq!(call("items", &[j("{}")]), Ok(Value::Null));
        assert_eq!(call("keys", &[Value::Null]), Ok(Value::Null));
        assert_eq!(call("values", &[Value::Null]), Ok(Value::Null));
        assert_eq!(
            call("keys", &[j("[1]")]),
            Err("the argument should be map[string]interface{}".to_string())
        );
        assert_eq!(
            check("values", &[]),
            Err("Expect 1 arguments but found 0.".to_string())
        );
    }

    #[test]
    fn object_and_zip_build_objects() {
        assert_eq!(
            call("object", &[j(r#"["a","b"]"#), j("[1,2]")]),
            Ok(j(r#"{"a":1, "b":2}"#))
        );
        assert_eq!(
            call("object", &[j(r#"["a"]"#), j("[1,2]")]),
            Err("the length of the arguments should be same".to_string())
        );
        assert_eq!(
            call("object", &[j("[1]"), j("[1]")]),
            Err("first argument should be []string".to_string())
        );
        assert_eq!(call("object", &[j("[]"), j("[]")]), Ok(Value::Null));
        assert_eq!(call("object", &[Value::Null, j("[]")]), Ok(Value::Null));
        assert_eq!(
            call("zip", &[j(r#"[["a",1],["b",2]]"#)]),
            Ok(j(r#"{"a":1, "b":2}"#))
        );
        assert_eq!(
            call("zip", &[j(r#"[["a",1,2]]"#)]),
            Err("each argument should be [][2]interface{}".to_string())
        );
        assert_eq!(
            call("zip", &[j("[[1,1]]")]),
            Err("the first element in the list item should be string".to_string())
        );
        assert_eq!(call("zip", &[Value::Null]), Ok(Value::Null));
    }

    #[test]
    fn concat_and_construct() {
        assert_eq!(
            call(
                "object_concat",
                &[j(r#"{"a": 1}"#), j(r#"{"b": 2}"#), j(r#"{"b": 3}"#)]
            ),
            Ok(j(r#"{"a":1, "b":3}"#))
        );
        assert_eq!(
            call("object_concat", &[j(r#"{"a": 1}"#), Value::Null]),
            Ok(j(r#"{"a":1}"#))
        );
        assert_eq!(
            call("object_concat", &[j(r#"{"a": 1}"#), Value::Int(1)]),
            Err("the argument should be map[string]interface{}, got 1".to_string())
        );
        assert_eq!(
            check("object_concat", &[ArgInfo::Dynamic]),
            Err("At least has 2 argument but found 1.".to_string())
        );
        assert_eq!(
            call(
                "object_construct",
                &[s("a"), Value::Int(1), s("b"), Value::Null]
            ),
            Ok(j(r#"{"a":1}"#))
        );
        assert_eq!(
            call("object_construct", &[Value::Int(1), Value::Int(1)]),
            Err("key 1 is not a string".to_string())
        );
        assert_eq!(
            check("object_construct", &[lit(s("a"))]),
            Err("the args must be key value pairs".to_string())
        );
        assert_eq!(
            check(
                "object_construct",
                &[lit(Value::Int(1)), lit(Value::Int(1))]
            ),
            Err("Expect string type for parameter 1".to_string())
        );
    }

    #[test]
    fn erase_and_pick() {
        let o = j(r#"{"baz": [1, 2, 3], "bar": "hello world", "foo": "emq"}"#);
        assert_eq!(
            call("erase", &[o.clone(), s("foo")]),
            Ok(j(r#"{"baz": [1, 2, 3], "bar": "hello world"}"#))
        );
        assert_eq!(
            call("erase", &[o.clone(), j(r#"["foo","bar"]"#)]),
            Ok(j(r#"{"baz": [1, 2, 3]}"#))
        );
        assert_eq!(
            call("object_pick", &[o.clone(), j(r#"["foo","bar"]"#)]),
            Ok(j(r#"{"bar": "hello world", "foo": "emq"}"#))
        );
        assert_eq!(
            call("object_pick", &[o.clone(), s("foo")]),
            Ok(j(r#"{"foo": "emq"}"#))
        );
        assert_eq!(
            call("erase", &[o.clone(), Value::Int(1)]),
            Err("the argument should be slice or string".to_string())
        );
        assert_eq!(
            call("erase", &[o, s("a"), s("b")]),
            Err("the argument number should be 2, got 3".to_string())
        );
        assert_eq!(call("erase", &[Value::Null, s("a")]), Ok(Value::Null));
        assert_eq!(
            check("object_pick", &[ArgInfo::Dynamic]),
            Err("Expect 2 arguments but found 1.".to_string())
        );
    }

    #[test]
    fn kvpair_array() {
        assert_eq!(
            call("obj_to_kvpair_array", &[j(r#"{"a":1, "b":2}"#)]),
            Ok(j(r#"[{"key":"a","value":1},{"key":"b","value":2}]"#))
        );
        assert_eq!(call("obj_to_kvpair_array", &[Value::Null]), Ok(Value::Null));
        assert!(call("obj_to_kvpair_array", &[Value::Int(1)]).is_err());
    }
}
