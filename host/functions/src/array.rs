//! Array functions (`array_functions.md`), plus `cardinality`.
//!
//! Element comparisons are Go's `==` on `interface{}` values: an int never equals a
//! float (`array_position([1.0], 1)` is -1). eKuiper answers a nil array differently
//! per function (nil, false, 0 or -1); each body states its case first.

use crate::args::*;
use crate::builtin::Builtin;
use crate::FnResult;
use std::collections::HashSet;
use std::sync::OnceLock;
use tributary_core::function::{ArgInfo, FnContext, FunctionFactory};
use tributary_core::{Object, Value};

const NOT_ARRAY: &str = "first argument should be array of interface{}";
const SECOND_NOT_ARRAY: &str = "second argument should be array of interface{}";
const ELEMENTS_NOT_ARRAYS: &str = "array elements should be array";

pub fn builtins() -> Vec<Builtin> {
    vec![
        Builtin::new("cardinality", 1, Some(1), cardinality).with_validate(v_one_arg),
        Builtin::new("array_create", 0, None, array_create),
        Builtin::new("array_position", 2, Some(2), |_, a| position(a, false)),
        Builtin::new("array_last_position", 2, Some(2), |_, a| position(a, true)),
        Builtin::new("element_at", 2, Some(2), element_at),
        Builtin::new("array_contains", 2, Some(2), array_contains),
        Builtin::new("array_remove", 2, Some(2), array_remove),
        Builtin::new("array_contains_any", 2, Some(2), array_contains_any),
        Builtin::new("array_intersect", 2, Some(2), array_intersect),
        Builtin::new("array_union", 2, Some(2), array_union),
        Builtin::new("array_max", 1, Some(1), |_, a| extreme(a, true)),
        Builtin::new("array_min", 1, Some(1), |_, a| extreme(a, false)),
        Builtin::new("array_avg", 1, Some(1), array_avg),
        Builtin::new("array_except", 2, Some(2), array_except),
        Builtin::new("repeat", 2, Some(2), repeat),
        Builtin::new("sequence", 0, None, sequence).with_validate(v_two_or_three),
        Builtin::new("array_cardinality", 1, Some(1), array_cardinality),
        Builtin::new("array_flatten", 1, Some(1), array_flatten),
        Builtin::new("array_distinct", 1, Some(1), array_distinct),
        Builtin::new("array_map", 2, Some(2), array_map),
        Builtin::new("array_join", 0, None, array_join).with_validate(v_two_or_three),
        Builtin::new("array_shuffle", 1, Some(1), array_shuffle),
        Builtin::new("array_sort", 1, Some(1), array_sort),
        Builtin::new("array_concat", 0, None, array_concat)
            .with_validate(|args| validate_at_least(1, args)),
        Builtin::new("kvpair_array_to_obj", 1, Some(1), kvpair_array_to_obj)
            .with_validate(v_one_arg),
    ]
}

fn array_arg<'a>(a: &'a [Value], i: usize, err: &str) -> Result<&'a [Value], String> {
    arg(a, i).as_array().ok_or_else(|| err.to_string())
}

fn v_two_or_three(args: &[ArgInfo]) -> Result<(), String> {
    if args.len() != 2 && args.len() != 3 {
        return Err(format!(
            "Expect two or three arguments but found {}.",
            args.len()
        ));
    }
    Ok(())
}

/// Length of an array; 0 for anything else, null included.
fn cardinality(_: &FnContext, a: &[Value]) -> FnResult {
    Ok(Value::Int(
        arg(a, 0).as_array().map_or(0, |v| v.len() as i64),
    ))
}

/// Null arguments are dropped; nothing left gives nil.
fn array_create(_: &FnContext, a: &[Value]) -> FnResult {
    let items: Vec<Value> = a.iter().filter(|v| !v.is_null()).cloned().collect();
    Ok(if items.is_empty() {
        Value::Null
    } else {
        Value::array(items)
    })
}

fn position(a: &[Value], last: bool) -> FnResult {
    if arg(a, 0).is_null() {
        return Ok(Value::Int(-1));
    }
    let arr = array_arg(a, 0, NOT_ARRAY)?;
    let target = arg(a, 1);
    let found = if last {
        arr.iter().rposition(|x| strict_eq(x, target))
    } else {
        arr.iter().position(|x| strict_eq(x, target))
    };
    Ok(Value::Int(found.map_or(-1, |i| i as i64)))
}

/// An array index (negative counts from the end) or an object key.
fn element_at(_: &FnContext, a: &[Value]) -> FnResult {
    if any_null(a) {
        return Ok(Value::Null);
    }
    match arg(a, 0) {
        Value::Array(arr) => {
            let idx = to_int_strict(arg(a, 1))?;
            let len = arr.len() as i64;
            if idx >= len || -idx > len {
                return Err("index out of range".to_string());
            }
            let i = if idx >= 0 { idx } else { len + idx };
            Ok(arr[i as usize].clone())
        }
        Value::Object(o) => match arg(a, 1) {
            Value::String(k) => Ok(o.get(k.as_ref()).cloned().unwrap_or(Value::Null)),
            _ => Err("second argument should be string".to_string()),
        },
        _ => Err("first argument should be []interface{} or map[string]interface{}".to_string()),
    }
}

fn array_contains(_: &FnContext, a: &[Value]) -> FnResult {
    if arg(a, 0).is_null() {
        return Ok(Value::Bool(false));
    }
    let arr = array_arg(a, 0, NOT_ARRAY)?;
    Ok(Value::Bool(arr.iter().any(|x| strict_eq(x, arg(a, 1)))))
}

fn array_remove(_: &FnContext, a: &[Value]) -> FnResult {
    if arg(a, 0).is_null() {
        return Ok(Value::Null);
    }
    let arr = array_arg(a, 0, NOT_ARRAY)?;
    let target = arg(a, 1);
    Ok(Value::array(
        arr.iter()
            .filter(|x| !strict_eq(x, target))
            .cloned()
            .collect(),
    ))
}

fn array_contains_any(_: &FnContext, a: &[Value]) -> FnResult {
    if arg(a, 0).is_null() {
        return Ok(Value::Bool(false));
    }
    let a1 = array_arg(a, 0, NOT_ARRAY)?;
    let a2 = array_arg(a, 1, SECOND_NOT_ARRAY)?;
    Ok(Value::Bool(
        a1.iter().any(|x| a2.iter().any(|y| strict_eq(x, y))),
    ))
}

/// Elements of the second array also in the first, without duplicates.
fn array_intersect(_: &FnContext, a: &[Value]) -> FnResult {
    if any_null(a) {
        return Ok(Value::Null);
    }
    let a1 = array_arg(a, 0, NOT_ARRAY)?;
    let a2 = array_arg(a, 1, SECOND_NOT_ARRAY)?;
    let mut pending: HashSet<String> = a1.iter().map(strict_key).collect();
    Ok(Value::array(
        a2.iter()
            .filter(|v| pending.remove(&strict_key(v)))
            .cloned()
            .collect(),
    ))
}

/// Null arrays count as empty here.
fn array_union(_: &FnContext, a: &[Value]) -> FnResult {
    let a1 = if arg(a, 0).is_null() {
        &[][..]
    } else {
        array_arg(a, 0, NOT_ARRAY)?
    };
    let a2 = if arg(a, 1).is_null() {
        &[][..]
    } else {
        array_arg(a, 1, SECOND_NOT_ARRAY)?
    };
    let mut seen = HashSet::new();
    Ok(Value::array(
        a1.iter()
            .chain(a2.iter())
            .filter(|v| seen.insert(strict_key(v)))
            .cloned()
            .collect(),
    ))
}

fn array_except(_: &FnContext, a: &[Value]) -> FnResult {
    if arg(a, 0).is_null() {
        return Ok(Value::Null);
    }
    let a1 = array_arg(a, 0, NOT_ARRAY)?;
    let a2 = if arg(a, 1).is_null() {
        &[][..]
    } else {
        array_arg(a, 1, SECOND_NOT_ARRAY)?
    };
    let mut seen: HashSet<String> = a2.iter().map(strict_key).collect();
    Ok(Value::array(
        a1.iter()
            .filter(|v| seen.insert(strict_key(v)))
            .cloned()
            .collect(),
    ))
}

/// eKuiper's shared `max`/`min`: the first non-null element decides the type (int,
/// float or string) and every other non-null element must be of it; ints accept
/// floats, truncated.
fn extreme(a: &[Value], max: bool) -> FnResult {
    if any_null(a) {
        return Ok(Value::Null);
    }
    let arr = array_arg(a, 0, NOT_ARRAY)?;
    let mut items = arr.iter().filter(|v| !v.is_null());
    let Some(first) = items.clone().next() else {
        return Ok(Value::Null);
    };
    let better = |x: &Value, best: &Value| -> bool {
        match (x, best) {
            (Value::Int(p), Value::Int(q)) => (p > q) == max && p != q,
            (Value::Float(p), Value::Float(q)) => (p > q) == max && p != q,
            (Value::String(p), Value::String(q)) => (p > q) == max && p != q,
            _ => false,
        }
    };
    let mut best = match first {
        Value::Int(_) | Value::Float(_) | Value::String(_) => first.clone(),
        other => return Err(format!("found invalid arg {}", typed(other))),
    };
    for v in items.by_ref() {
        let v = match (&best, v) {
            (Value::Int(_), Value::Int(_)) => v.clone(),
            (Value::Int(_), Value::Float(f)) => Value::Int(*f as i64),
            (Value::Int(_), other) => {
                return Err(format!("requires int64 but found {}", typed(other)))
            }
            (Value::Float(_), Value::Float(_)) => v.clone(),
            (Value::Float(_), other) => {
                return Err(format!("requires float64 but found {}", typed(other)))
            }
            (Value::String(_), Value::String(_)) => v.clone(),
            (_, other) => return Err(format!("requires string but found {}", typed(other))),
        };
        if better(&v, &best) {
            best = v;
        }
    }
    Ok(best)
}

/// The float mean of the non-null elements; nil when there are none.
fn array_avg(_: &FnContext, a: &[Value]) -> FnResult {
    if any_null(a) {
        return Ok(Value::Null);
    }
    let arr = array_arg(a, 0, NOT_ARRAY)?;
    let mut total = 0.0;
    let mut count = 0usize;
    for v in arr.iter().filter(|v| !v.is_null()) {
        total += to_f64(v)?;
        count += 1;
    }
    Ok(if count == 0 {
        Value::Null
    } else {
        Value::Float(total / count as f64)
    })
}

fn repeat(_: &FnContext, a: &[Value]) -> FnResult {
    if any_null(a) {
        return Ok(Value::Null);
    }
    let Value::Int(n) = arg(a, 1) else {
        return Err("second argument should be int".to_string());
    };
    if *n < 0 || *n as u64 > crate::args::MAX_GENERATED_LEN as u64 {
        return Err("makeslice: len out of range".to_string());
    }
    Ok(Value::array(vec![arg(a, 0).clone(); *n as usize]))
}

/// `sequence(start, stop[, step])`, both ends included. The length is eKuiper's
/// `(stop - start) / step + 1`, so a step pointing away from `stop` still yields values.
fn sequence(_: &FnContext, a: &[Value]) -> FnResult {
    if any_null(a) {
        return Ok(Value::Null);
    }
    let int = |i: usize, what: &str| match arg(a, i) {
        Value::Int(v) => Ok(*v),
        _ => Err(format!("{what} argument should be int")),
    };
    let start = int(0, "first")?;
    let stop = int(1, "second")?;
    let step = if a.len() == 3 {
        let s = int(2, "third")?;
        if s == 0 {
            return Err("invalid step: should not be zero".to_string());
        }
        s
    } else if start < stop {
        1
    } else {
        -1
    };
    let n = stop
        .checked_sub(start)
        .and_then(|d| d.checked_div(step))
        .and_then(|q| q.checked_add(1))
        .ok_or("makeslice: len out of range")?;
    if !(0..=10_000_000).contains(&n) {
        return Err("makeslice: len out of range".to_string());
    }
    Ok(Value::array(
        (0..n)
            .map(|i| Value::Int(start.wrapping_add(i.wrapping_mul(step))))
            .collect(),
    ))
}

/// Non-null elements; 0 for a null array.
fn array_cardinality(_: &FnContext, a: &[Value]) -> FnResult {
    if any_null(a) {
        return Ok(Value::Int(0));
    }
    let arr = array_arg(a, 0, NOT_ARRAY)?;
    Ok(Value::Int(
        arr.iter().filter(|v| !v.is_null()).count() as i64
    ))
}

/// One level of nesting is expanded; non-array elements are kept. An empty result is
/// a nil slice in eKuiper, hence null.
fn array_flatten(_: &FnContext, a: &[Value]) -> FnResult {
    if any_null(a) {
        return Ok(Value::Null);
    }
    let arr = array_arg(a, 0, NOT_ARRAY)?;
    let mut out = Vec::new();
    for v in arr {
        match v {
            Value::Array(inner) => out.extend(inner.iter().cloned()),
            other => out.push(other.clone()),
        }
    }
    Ok(if out.is_empty() {
        Value::Null
    } else {
        Value::array(out)
    })
}

/// Scalars are deduplicated; arrays and objects, which Go cannot hash, are all kept.
fn array_distinct(_: &FnContext, a: &[Value]) -> FnResult {
    if any_null(a) {
        return Ok(Value::Null);
    }
    let arr = array_arg(a, 0, NOT_ARRAY)?;
    let mut seen = HashSet::new();
    Ok(Value::array(
        arr.iter()
            .filter(|v| {
                matches!(v, Value::Array(_) | Value::Object(_)) || seen.insert(strict_key(v))
            })
            .cloned()
            .collect(),
    ))
}

/// eKuiper's aggregate functions, which `array_map` names as not scalar.
const AGGREGATES: [&str; 16] = [
    "avg",
    "count",
    "max",
    "min",
    "sum",
    "collect",
    "merge_agg",
    "deduplicate",
    "stddev",
    "stddevs",
    "var",
    "vars",
    "percentile",
    "percentile_disc",
    "last_agg_hit_count",
    "last_agg_hit_time",
];

fn scalar_builtins() -> &'static [Builtin] {
    static ALL: OnceLock<Vec<Builtin>> = OnceLock::new();
    ALL.get_or_init(crate::builtin::all)
}

/// Applies a one-argument built-in scalar function, named by a string, to each element.
fn array_map(ctx: &FnContext, a: &[Value]) -> FnResult {
    if any_null(a) {
        return Ok(Value::Null);
    }
    let Value::String(name) = arg(a, 0) else {
        return Err("first argument should be string".to_string());
    };
    let arr = array_arg(a, 1, SECOND_NOT_ARRAY)?;
    if arr.is_empty() {
        return Ok(Value::array(Vec::new()));
    }
    let Some(f) = scalar_builtins().iter().find(|b| b.name == name.as_ref()) else {
        if AGGREGATES.contains(&name.as_ref()) {
            return Err("first argument should be a scalar function.".to_string());
        }
        return Err(format!("unknown built-in function: {name}."));
    };
    if f.validate(&[ArgInfo::Dynamic]).is_err() {
        return Err(format!("validate {name} arguments failed"));
    }
    let mut out = Vec::with_capacity(arr.len());
    for v in arr {
        out.push((f.exec)(ctx, std::slice::from_ref(v))?);
    }
    Ok(Value::array(out))
}

/// Joins elements printed as strings; nulls become the replacement when one is given
/// and not empty, and are skipped otherwise.
fn array_join(_: &FnContext, a: &[Value]) -> FnResult {
    if any_null(a) {
        return Ok(Value::Null);
    }
    let arr = array_arg(a, 0, NOT_ARRAY)?;
    let Value::String(delim) = arg(a, 1) else {
        return Err("second argument should be string".to_string());
    };
    let replacement = match a.get(2) {
        Some(Value::String(r)) => r.to_string(),
        Some(_) => return Err("third argument should be string".to_string()),
        None => String::new(),
    };
    let mut parts = Vec::with_capacity(arr.len());
    for v in arr {
        if v.is_null() {
            if !replacement.is_empty() {
                parts.push(replacement.clone());
            }
        } else {
            parts.push(to_string_convert_all(v).map_err(|_| "array elements should be string")?);
        }
    }
    Ok(Value::from(parts.join(delim)))
}

fn array_shuffle(_: &FnContext, a: &[Value]) -> FnResult {
    if any_null(a) {
        return Ok(Value::Null);
    }
    let mut v = array_arg(a, 0, NOT_ARRAY)?.to_vec();
    for i in (1..v.len()).rev() {
        let j = (next_u64() % (i as u64 + 1)) as usize;
        v.swap(i, j);
    }
    Ok(Value::array(v))
}

/// Sorts by each element's `%v` text, so numbers sort as strings (`[10, 9]` stays).
fn array_sort(_: &FnContext, a: &[Value]) -> FnResult {
    if any_null(a) {
        return Ok(Value::Null);
    }
    let arr = array_arg(a, 0, ELEMENTS_NOT_ARRAYS)?;
    let mut keyed: Vec<(String, Value)> = arr.iter().map(|v| (go_string(v), v.clone())).collect();
    keyed.sort_by(|x, y| x.0.cmp(&y.0));
    Ok(Value::array(keyed.into_iter().map(|(_, v)| v).collect()))
}

/// Null arguments count as empty; no elements at all gives null (a nil slice).
fn array_concat(_: &FnContext, a: &[Value]) -> FnResult {
    let mut out = Vec::new();
    for v in a {
        match v {
            Value::Null => {}
            Value::Array(items) => out.extend(items.iter().cloned()),
            _ => return Err(ELEMENTS_NOT_ARRAYS.to_string()),
        }
    }
    Ok(if out.is_empty() {
        Value::Null
    } else {
        Value::array(out)
    })
}

/// `[{"key": k, "value": v}, ...]` to `{k: v, ...}`.
fn kvpair_array_to_obj(_: &FnContext, a: &[Value]) -> FnResult {
    if any_null(a) {
        return Ok(Value::Null);
    }
    let arr = array_arg(a, 0, NOT_ARRAY)?;
    let mut obj = Object::new();
    for item in arr {
        let Value::Object(pair) = item else {
            return Err("array item should be map[string]interface{}".to_string());
        };
        match (pair.len(), pair.get("key"), pair.get("value")) {
            (2, Some(Value::String(k)), Some(v)) => {
                obj.insert(k.to_string(), v.clone());
            }
            _ => return Err("array item should be key-value pair".to_string()),
        }
    }
    Ok(Value::object(obj))
}

#[cfg(test)]
#[path = "array_tests.rs"]
mod tests;
