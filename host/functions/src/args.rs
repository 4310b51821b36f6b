//! Argument helpers shared by every family: eKuiper's validator messages, its numeric and
//! string coercions (`cast.ToInt`, `cast.ToFloat64`, `cast.ToStringAlways`), Go-style
//! value printing for error texts, strict Go equality, and a small random source.
//!
//! eKuiper's functions receive Go `interface{}` values and coerce them with a handful of
//! helpers whose exact acceptance rules and error texts leak into user-visible behaviour,
//! so they are reproduced here once rather than approximated in each function.

/// The largest string or array a function may build from a count argument
/// (`lpad(x, n)`, `repeat(x, n)`, `format(x, n)`): a typo in a rule must become an
/// error, not an attempt to allocate gigabytes.
pub const MAX_GENERATED_LEN: usize = 10_000_000;

use std::cell::Cell;
use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use tributary_core::function::ArgInfo;
use tributary_core::Value;

/// What a missing trailing argument reads as; the adapter already checked arity, but
/// bodies never index out of bounds even if called directly.
pub static NULL: Value = Value::Null;

/// Argument `i`, or null when absent.
#[inline]
pub fn arg(a: &[Value], i: usize) -> &Value {
    a.get(i).unwrap_or(&NULL)
}

/// eKuiper's `returnNilIfHasAnyNil` / `returnFalseIfHasAnyNil` checks.
#[inline]
pub fn any_null(a: &[Value]) -> bool {
    a.iter().any(Value::is_null)
}

// ---------------------------------------------------------------------------------------
// Validation (rule creation time)
// ---------------------------------------------------------------------------------------

/// `ProduceErrInfo`: `index` is 0-based, the message is 1-based.
pub fn err_info(index: usize, expect: &str) -> String {
    format!("Expect {expect} type for parameter {}", index + 1)
}

/// `ValidateLen`.
pub fn validate_len(expected: usize, args: &[ArgInfo]) -> Result<(), String> {
    if args.len() != expected {
        return Err(format!(
            "Expect {expected} arguments but found {}.",
            args.len()
        ));
    }
    Ok(())
}

/// `ValidateAtLeast` (its odd singular "argument" is eKuiper's).
pub fn validate_at_least(min: usize, args: &[ArgInfo]) -> Result<(), String> {
    if args.len() < min {
        return Err(format!(
            "At least has {min} argument but found {}.",
            args.len()
        ));
    }
    Ok(())
}

/// `ast.IsNumericArg`: an integer or float literal.
pub fn is_numeric(a: &ArgInfo) -> bool {
    matches!(a, ArgInfo::Literal(Value::Int(_) | Value::Float(_)))
}
/// `ast.IsIntegerArg`.
pub fn is_integer(a: &ArgInfo) -> bool {
    matches!(a, ArgInfo::Literal(Value::Int(_)))
}
/// `ast.IsFloatArg`.
pub fn is_float(a: &ArgInfo) -> bool {
    matches!(a, ArgInfo::Literal(Value::Float(_)))
}
/// `ast.IsStringArg`.
pub fn is_string(a: &ArgInfo) -> bool {
    matches!(a, ArgInfo::Literal(Value::String(_)))
}
/// `ast.IsBooleanArg`. eKuiper also counts comparison expressions as boolean; the
/// planner only tells literals apart, so those are seen as dynamic here.
pub fn is_bool(a: &ArgInfo) -> bool {
    matches!(a, ArgInfo::Literal(Value::Bool(_)))
}

/// Rejects literals that cannot be a number (`ValidateOneNumberArg` and friends).
pub fn check_number(args: &[ArgInfo], i: usize) -> Result<(), String> {
    match args.get(i) {
        Some(a) if is_string(a) || is_bool(a) => Err(err_info(i, "number - float or int")),
        _ => Ok(()),
    }
}

/// Rejects literals that cannot be an integer.
pub fn check_int(args: &[ArgInfo], i: usize) -> Result<(), String> {
    match args.get(i) {
        Some(a) if is_float(a) || is_string(a) || is_bool(a) => Err(err_info(i, "int")),
        _ => Ok(()),
    }
}

/// Rejects literals that cannot be a string.
pub fn check_str(args: &[ArgInfo], i: usize) -> Result<(), String> {
    match args.get(i) {
        Some(a) if is_numeric(a) || is_bool(a) => Err(err_info(i, "string")),
        _ => Ok(()),
    }
}

/// Rejects literals that cannot be a datetime; `report` is the index eKuiper names
/// (it is off by one in a few functions, and that is kept).
pub fn check_datetime(args: &[ArgInfo], i: usize, report: usize) -> Result<(), String> {
    match args.get(i) {
        Some(a) if is_numeric(a) || is_string(a) || is_bool(a) => Err(err_info(report, "datetime")),
        _ => Ok(()),
    }
}

pub fn v_no_arg(args: &[ArgInfo]) -> Result<(), String> {
    validate_len(0, args)
}
pub fn v_one_arg(args: &[ArgInfo]) -> Result<(), String> {
    validate_len(1, args)
}
pub fn v_one_number(args: &[ArgInfo]) -> Result<(), String> {
    validate_len(1, args)?;
    check_number(args, 0)
}
pub fn v_two_number(args: &[ArgInfo]) -> Result<(), String> {
    validate_len(2, args)?;
    check_number(args, 0)?;
    check_number(args, 1)
}
pub fn v_two_int(args: &[ArgInfo]) -> Result<(), String> {
    validate_len(2, args)?;
    check_int(args, 0)?;
    check_int(args, 1)
}
pub fn v_one_str(args: &[ArgInfo]) -> Result<(), String> {
    validate_len(1, args)?;
    check_str(args, 0)
}
pub fn v_two_str(args: &[ArgInfo]) -> Result<(), String> {
    validate_len(2, args)?;
    check_str(args, 0)?;
    check_str(args, 1)
}
pub fn v_one_str_one_int(args: &[ArgInfo]) -> Result<(), String> {
    validate_len(2, args)?;
    check_str(args, 0)?;
    check_int(args, 1)
}
pub fn v_one_datetime(args: &[ArgInfo]) -> Result<(), String> {
    validate_len(1, args)?;
    check_datetime(args, 0, 0)
}

// ---------------------------------------------------------------------------------------
// Coercions (row time)
// ---------------------------------------------------------------------------------------

/// Go's `%T(%v)` of a value, as eKuiper's `cannot convert ...` errors print it.
pub fn typed(v: &Value) -> String {
    match v {
        Value::Null => "<nil>(<nil>)".to_string(),
        other => format!("{}({})", other.type_name(), go_string(other)),
    }
}

/// `cast.ToFloat64(v, CONVERT_SAMEKIND)`: numbers only.
pub fn to_f64(v: &Value) -> Result<f64, String> {
    v.as_f64()
        .ok_or_else(|| format!("cannot convert {} to float64", typed(v)))
}

/// `cast.ToInt(v, STRICT)`: ints, and floats with no fractional part.
pub fn to_int_strict(v: &Value) -> Result<i64, String> {
    match v {
        Value::Int(i) => Ok(*i),
        Value::Float(f) if f.fract() == 0.0 && f.is_finite() => Ok(*f as i64),
        _ => Err(format!("cannot convert {} to int", typed(v))),
    }
}

/// `cast.ToInt(v, CONVERT_SAMEKIND)`: ints, and floats truncated.
pub fn to_int_samekind(v: &Value) -> Result<i64, String> {
    match v {
        Value::Int(i) => Ok(*i),
        Value::Float(f) => Ok(*f as i64),
        _ => Err(format!("cannot convert {} to int", typed(v))),
    }
}

/// `cast.ToString(v, CONVERT_SAMEKIND)`: strings and byte arrays.
pub fn to_str_samekind(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.to_string()),
        Value::Bytes(b) => Some(String::from_utf8_lossy(b).into_owned()),
        _ => None,
    }
}

/// `cast.ToStringAlways`: Go's `%v`, with nil as the empty string.
pub fn to_string_always(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::String(s) => s.to_string(),
        other => go_string(other),
    }
}

/// Go's `%v` of a value as eKuiper holds it (`[a 1]`, `map[a:1]`, `1e+06`, `<nil>`).
pub fn go_string(v: &Value) -> String {
    let mut out = String::new();
    write_go(&mut out, v);
    out
}

fn write_go(out: &mut String, v: &Value) {
    match v {
        Value::Null => out.push_str("<nil>"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Int(i) => out.push_str(&i.to_string()),
        Value::Float(f) => out.push_str(&go_float_g(*f)),
        Value::String(s) => out.push_str(s),
        Value::Bytes(b) => {
            out.push('[');
            for (i, x) in b.iter().enumerate() {
                if i > 0 {
                    out.push(' ');
                }
                out.push_str(&x.to_string());
            }
            out.push(']');
        }
        Value::Datetime(ns) => out.push_str(&crate::timefmt::go_time_string(*ns)),
        Value::Array(a) => {
            out.push('[');
            for (i, x) in a.iter().enumerate() {
                if i > 0 {
                    out.push(' ');
                }
                write_go(out, x);
            }
            out.push(']');
        }
        Value::Object(o) => {
            out.push_str("map[");
            for (i, (k, x)) in o.iter().enumerate() {
                if i > 0 {
                    out.push(' ');
                }
                out.push_str(k);
                out.push(':');
                write_go(out, x);
            }
            out.push(']');
        }
    }
}

/// Go's `strconv.FormatFloat(f, 'g', -1, 64)`, which `%v` uses: shortest digits, and the
/// exponent form when the exponent is below -4 or at least 6 (`1e+06`).
pub fn go_float_g(f: f64) -> String {
    if let Some(s) = go_special_float(f) {
        return s;
    }
    let sci = format!("{f:e}");
    let (mantissa, exp) = match sci.split_once('e') {
        Some((m, e)) => (m.to_string(), e.parse::<i32>().unwrap_or(0)),
        None => return sci,
    };
    if !(-4..6).contains(&exp) {
        let sign = if exp < 0 { '-' } else { '+' };
        format!("{mantissa}e{sign}{:02}", exp.abs())
    } else {
        format!("{f}")
    }
}

/// Go's `strconv.FormatFloat(f, 'f', -1, 64)`: shortest digits, never an exponent.
pub fn go_float_f(f: f64) -> String {
    go_special_float(f).unwrap_or_else(|| format!("{f}"))
}

fn go_special_float(f: f64) -> Option<String> {
    if f.is_nan() {
        Some("NaN".to_string())
    } else if f.is_infinite() {
        Some(if f > 0.0 { "+Inf" } else { "-Inf" }.to_string())
    } else {
        None
    }
}

/// `cast.ToString(v, CONVERT_ALL)`, used by `cast(x, "string")` and `array_join`.
pub fn to_string_convert_all(v: &Value) -> Result<String, String> {
    match v {
        Value::Null => Ok(String::new()),
        Value::String(s) => Ok(s.to_string()),
        Value::Bytes(b) => Ok(String::from_utf8_lossy(b).into_owned()),
        Value::Bool(b) => Ok(b.to_string()),
        Value::Int(i) => Ok(i.to_string()),
        Value::Float(f) => Ok(go_float_f(*f)),
        // time.Time is a fmt.Stringer.
        Value::Datetime(ns) => Ok(crate::timefmt::go_time_string(*ns)),
        Value::Array(_) | Value::Object(_) => Err(format!("cannot convert {} to string", typed(v))),
    }
}

/// Go's `==` on two `interface{}` values: the dynamic types must match, so `1` (int64)
/// never equals `1.0` (float64). Go panics on comparing maps or slices; here they
/// compare structurally instead.
pub fn strict_eq(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Int(_), Value::Float(_)) | (Value::Float(_), Value::Int(_)) => false,
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y.iter()).all(|(p, q)| strict_eq(p, q))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .zip(y.iter())
                    .all(|((k1, v1), (k2, v2))| k1 == k2 && strict_eq(v1, v2))
        }
        _ => a == b,
    }
}

/// A key under which strictly equal values collide, for set-like array functions.
pub fn strict_key(v: &Value) -> String {
    format!(
        "{}\u{0}{}",
        v.type_name(),
        tributary_core::json::to_json_string(v)
    )
}

// ---------------------------------------------------------------------------------------
// Randomness
// ---------------------------------------------------------------------------------------

thread_local! {
    static RNG: Cell<u64> = Cell::new(seed());
}

/// Seeds from std's per-process random keys, so no clock is read and no crate is needed.
fn seed() -> u64 {
    let mut h = RandomState::new().build_hasher();
    h.write_u64(0x9E37_79B9_7F4A_7C15);
    h.finish() | 1
}

/// xorshift64*: plenty for `rand()`, `newuuid()` and `array_shuffle`, none of which is
/// meant to be cryptographic.
pub fn next_u64() -> u64 {
    RNG.with(|c| {
        let mut x = c.get();
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        c.set(x);
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    })
}

/// Uniform in `[0, 1)`.
pub fn next_f64() -> f64 {
    (next_u64() >> 11) as f64 / (1u64 << 53) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_float_formatting() {
        assert_eq!(go_float_g(1.5), "1.5");
        assert_eq!(go_float_g(1e6), "1e+06");
        assert_eq!(go_float_g(123456.0), "123456");
        assert_eq!(go_float_g(1234567.0), "1.234567e+06");
        assert_eq!(go_float_g(0.0001), "0.0001");
        assert_eq!(go_float_g(0.00001), "1e-05");
        assert_eq!(go_float_g(f64::INFINITY), "+Inf");
        assert_eq!(go_float_f(1e21), "1000000000000000000000");
    }

    #[test]
    fn go_values_print_like_fmt_v() {
        let v = tributary_core::json::parse(r#"{"b":[1,"x",null],"a":2.5}"#).expect("json");
        assert_eq!(go_string(&v), "map[a:2.5 b:[1 x <nil>]]");
        assert_eq!(go_string(&Value::bytes(vec![1u8, 2])), "[1 2]");
        assert_eq!(typed(&Value::str("abc")), "string(abc)");
    }

    #[test]
    fn int_coercions_follow_strictness() {
        assert_eq!(to_int_strict(&Value::Float(2.0)), Ok(2));
        assert!(to_int_strict(&Value::Float(2.5)).is_err());
        assert_eq!(to_int_samekind(&Value::Float(2.5)), Ok(2));
        assert_eq!(
            to_f64(&Value::str("a")),
            Err("cannot convert string(a) to float64".to_string())
        );
    }

    #[test]
    fn strict_equality_distinguishes_int_and_float() {
        assert!(!strict_eq(&Value::Int(1), &Value::Float(1.0)));
        assert!(strict_eq(&Value::Int(1), &Value::Int(1)));
        assert_ne!(strict_key(&Value::Int(1)), strict_key(&Value::Float(1.0)));
    }

    #[test]
    fn validators_use_ekuiper_wording() {
        let s = ArgInfo::Literal(Value::str("a"));
        assert_eq!(
            v_one_number(std::slice::from_ref(&s)),
            Err("Expect number - float or int type for parameter 1".to_string())
        );
        assert_eq!(
            v_no_arg(&[ArgInfo::Dynamic]),
            Err("Expect 0 arguments but found 1.".to_string())
        );
        assert_eq!(
            validate_at_least(2, &[]),
            Err("At least has 2 argument but found 0.".to_string())
        );
    }

    #[test]
    fn random_stays_in_range() {
        for _ in 0..100 {
            let f = next_f64();
            assert!((0.0..1.0).contains(&f));
        }
    }
}
