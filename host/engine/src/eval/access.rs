//! Nested access (`a->b`, `arr[i]`, `arr[s:e]`), LIKE, IN and BETWEEN, with eKuiper's
//! results and error texts.

use super::ops::{self, OpResult};
use regex::Regex;
use tributary_core::Value;
use tributary_sql::BinOp;

/// `base->key`: nil when the base is nil, not a map, or lacks the key.
pub fn member(base: &Value, key: &str) -> OpResult {
    match base {
        Value::Object(o) => Ok(o.get(key).cloned().unwrap_or(Value::Null)),
        Value::Array(_) => Err(format!(
            "the result {} is not a type of map[string]interface{{}}",
            tributary_core::json::to_json_string(base)
        )),
        _ => Ok(Value::Null),
    }
}

fn as_index(v: &Value, what: &str) -> Result<i64, String> {
    match v {
        Value::Int(i) => Ok(*i),
        Value::Float(f) if f.fract() == 0.0 => Ok(*f as i64),
        other => Err(format!("{what} {other} is not int")),
    }
}

/// `base[index]`; a negative index counts from the end.
pub fn index(base: &Value, idx: &Value) -> OpResult {
    match base {
        Value::Null => Ok(Value::Null),
        Value::Array(a) => {
            let len = a.len() as i64;
            let i = as_index(idx, "index")?;
            let j = if i < 0 { i + len } else { i };
            if j < 0 || j >= len {
                return Err(format!("out of index: {i} of {len}"));
            }
            Ok(a[j as usize].clone())
        }
        Value::Object(_) => Err("[] is an invalid operation for map[string]interface {}".into()),
        other => Err(format!(
            "invalid operation {} [] {}",
            other.describe(),
            idx.describe()
        )),
    }
}

/// `base[start:end]`, end exclusive; negative bounds count from the end.
pub fn slice(base: &Value, start: Option<&Value>, end: Option<&Value>) -> OpResult {
    let a = match base {
        Value::Null => return Ok(Value::Null),
        Value::Array(a) => a,
        other => return Err(format!("invalid operation {} [:]", other.describe())),
    };
    let len = a.len() as i64;
    let mut s = match start {
        Some(v) => as_index(v, "colon start")?,
        None => 0,
    };
    let mut e = match end {
        Some(v) => as_index(v, "colon end")?,
        None => len,
    };
    if s < 0 {
        s += len;
        if s < 0 {
            return Err(format!("out of index: {} of {len}", s - len));
        }
    }
    if e < 0 {
        e += len;
        if e < 0 {
            return Err(format!("out of index: {} of {len}", e - len));
        }
    }
    if s >= len {
        return Err(format!("start value is out of index: {s} of {len}"));
    }
    if e > len {
        return Err(format!("end value is out of index: {e} of {len}"));
    }
    if s >= e {
        return Err(format!(
            "start cannot be greater than end. start:{s}  end:{e}"
        ));
    }
    Ok(Value::array(a[s as usize..e as usize].to_vec()))
}

/// Compiles a LIKE pattern: `%` any run, `_` one character, `\` escapes the next
/// character (or the ESCAPE character does); everything else matches itself.
pub fn like_regex(pattern: &str, escape: Option<char>) -> Result<Regex, String> {
    let esc = escape.unwrap_or('\\');
    let mut re = String::with_capacity(pattern.len() + 8);
    re.push_str("(?s)^");
    let mut chars = pattern.chars();
    while let Some(c) = chars.next() {
        if c == esc {
            match chars.next() {
                Some(n) => re.push_str(&regex::escape(&n.to_string())),
                None => re.push_str(&regex::escape(&c.to_string())),
            }
        } else if c == '%' {
            re.push_str(".*");
        } else if c == '_' {
            re.push('.');
        } else {
            re.push_str(&regex::escape(&c.to_string()));
        }
    }
    re.push('$');
    Regex::new(&re).map_err(|e| format!("invalid LIKE pattern {pattern}: {e}"))
}

/// `v IN (list)`: nil when `v` is nil; an incompatible element is an error.
pub fn in_list(v: &Value, list: &[Value]) -> OpResult {
    if v.is_null() {
        return Ok(Value::Null);
    }
    for item in list {
        if item.is_null() {
            continue;
        }
        match ops::binary(BinOp::Eq, v, item) {
            Ok(Value::Bool(true)) => return Ok(Value::Bool(true)),
            Ok(_) => {}
            Err(e) => return Err(format!("evaluate in expression error: {e}")),
        }
    }
    Ok(Value::Bool(false))
}

/// `v BETWEEN lo AND hi`; any nil gives false, as in eKuiper v2.
pub fn between(v: &Value, lo: &Value, hi: &Value) -> OpResult {
    if v.is_null() || lo.is_null() || hi.is_null() {
        return Ok(Value::Bool(false));
    }
    let cmp = |op, bound: &Value| match ops::binary(op, v, bound) {
        Ok(Value::Bool(b)) => Ok(b),
        _ => Err(format!(
            "between operator cannot compare {} and {}",
            v.describe(),
            bound.describe()
        )),
    };
    Ok(Value::Bool(cmp(BinOp::GtEq, lo)? && cmp(BinOp::LtEq, hi)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn arr(n: i64) -> Value {
        Value::array((0..n).map(Value::Int).collect())
    }

    #[test]
    fn index_and_slice_follow_ekuiper() {
        let a = arr(6);
        assert_eq!(index(&a, &Value::Int(-1)), Ok(Value::Int(5)));
        assert_eq!(
            index(&arr(5), &Value::Int(5)),
            Err("out of index: 5 of 5".into())
        );
        assert_eq!(
            slice(&a, None, Some(&Value::Int(2))),
            Ok(Value::array(vec![Value::Int(0), Value::Int(1)]))
        );
        assert_eq!(
            slice(&a, Some(&Value::Int(-5)), Some(&Value::Int(-1))),
            Ok(Value::array((1..5).map(Value::Int).collect()))
        );
        assert_eq!(
            slice(&a, Some(&Value::Int(2)), Some(&Value::Int(2))),
            Err("start cannot be greater than end. start:2  end:2".into())
        );
    }

    #[test]
    fn like_escapes_regex_metacharacters() {
        let re = like_regex("a.c%", None).expect("re");
        assert!(re.is_match("a.cdef"));
        assert!(!re.is_match("abcdef"));
        let re = like_regex("100\\%", None).expect("re");
        assert!(re.is_match("100%"));
        assert!(!re.is_match("1000"));
        let re = like_regex("a_c", None).expect("re");
        assert!(re.is_match("abc"));
    }

    #[test]
    fn member_of_non_map_is_nil() {
        assert_eq!(member(&Value::str("x"), "b"), Ok(Value::Null));
        let o = tributary_core::json::parse(r#"{"b":1}"#).expect("json");
        assert_eq!(member(&o, "b"), Ok(Value::Int(1)));
    }
}
