//! Mathematical functions (`mathematical_functions.md`).
//!
//! eKuiper converts arguments with `cast.ToFloat64(.., CONVERT_SAMEKIND)`, so strings are
//! rejected at run time with `cannot convert string(x) to float64`, and most functions
//! answer nil when their result is NaN (`acos(2)`), but not `mod`, `power` or the
//! rounding functions. Results are float64 except `abs` of an int, the bit functions
//! and `sign`.

use crate::args::*;
use crate::builtin::Builtin;
use crate::FnResult;
use tributary_core::function::{ArgInfo, FnContext};
use tributary_core::Value;

/// A one-argument float function whose NaN result reads as nil. A macro, because
/// `Builtin` bodies are plain `fn` pointers and cannot capture the float function.
macro_rules! unary {
    ($name:literal, $f:expr) => {
        Builtin::new($name, 1, Some(1), |_, a| nan_to_nil(a, $f)).with_validate(v_one_number)
    };
}

pub fn builtins() -> Vec<Builtin> {
    vec![
        Builtin::new("abs", 1, Some(1), abs).with_validate(v_one_number),
        unary!("acos", f64::acos),
        unary!("asin", f64::asin),
        unary!("atan", f64::atan),
        Builtin::new("atan2", 2, Some(2), atan2).with_validate(v_two_number),
        Builtin::new("bitand", 2, Some(2), |_, a| bit2(a, |x, y| x & y)).with_validate(v_two_int),
        Builtin::new("bitor", 2, Some(2), |_, a| bit2(a, |x, y| x | y)).with_validate(v_two_int),
        Builtin::new("bitxor", 2, Some(2), |_, a| bit2(a, |x, y| x ^ y)).with_validate(v_two_int),
        Builtin::new("bitnot", 1, Some(1), bitnot).with_validate(v_bitnot),
        Builtin::new("ceiling", 1, Some(1), |_, a| plain(a, f64::ceil)).with_validate(v_one_number),
        Builtin::new("ceil", 1, Some(1), |_, a| plain(a, f64::ceil)).with_validate(v_one_number),
        unary!("cos", f64::cos),
        unary!("cosh", f64::cosh),
        Builtin::new("cot", 1, Some(1), cot).with_validate(v_one_number),
        unary!("degrees", f64::to_degrees),
        unary!("exp", f64::exp),
        Builtin::new("floor", 1, Some(1), |_, a| plain(a, f64::floor)).with_validate(v_one_number),
        unary!("ln", f64::ln),
        Builtin::new("log", 0, None, log).with_validate(v_log),
        Builtin::new("mod", 2, Some(2), |_, a| binary(a, |x, y| x % y)).with_validate(v_two_number),
        Builtin::new("pi", 0, Some(0), |_, _| {
            Ok(Value::Float(std::f64::consts::PI))
        })
        .with_validate(v_no_arg),
        Builtin::new("power", 2, Some(2), |_, a| binary(a, f64::powf)).with_validate(v_two_number),
        Builtin::new("pow", 2, Some(2), |_, a| binary(a, f64::powf)).with_validate(v_two_number),
        Builtin::new("rand", 0, Some(0), |_, _| Ok(Value::Float(next_f64())))
            .with_validate(v_no_arg),
        Builtin::new("radians", 1, Some(1), |_, a| nan_to_nil(a, f64::to_radians))
            .with_validate(v_one_number),
        Builtin::new("round", 0, None, round).with_validate(v_round),
        Builtin::new("sign", 1, Some(1), sign).with_validate(v_one_number),
        unary!("sin", f64::sin),
        unary!("sinh", f64::sinh),
        unary!("sqrt", f64::sqrt),
        unary!("tan", f64::tan),
        unary!("tanh", f64::tanh),
        Builtin::new("conv", 3, Some(3), conv).with_validate(v_conv),
    ]
}

fn nan_to_nil(a: &[Value], f: fn(f64) -> f64) -> FnResult {
    if any_null(a) {
        return Ok(Value::Null);
    }
    let r = f(to_f64(arg(a, 0))?);
    Ok(if r.is_nan() {
        Value::Null
    } else {
        Value::Float(r)
    })
}

/// Like [`nan_to_nil`] but keeps NaN, as eKuiper's rounding functions do.
fn plain(a: &[Value], f: fn(f64) -> f64) -> FnResult {
    if any_null(a) {
        return Ok(Value::Null);
    }
    Ok(Value::Float(f(to_f64(arg(a, 0))?)))
}

fn binary(a: &[Value], f: fn(f64, f64) -> f64) -> FnResult {
    if any_null(a) {
        return Ok(Value::Null);
    }
    let x = to_f64(arg(a, 0))?;
    let y = to_f64(arg(a, 1))?;
    Ok(Value::Float(f(x, y)))
}

fn abs(_: &FnContext, a: &[Value]) -> FnResult {
    match arg(a, 0) {
        Value::Null => Ok(Value::Null),
        Value::Int(i) => Ok(Value::Int(i.wrapping_abs())),
        Value::Float(f) => Ok(Value::Float(f.abs())),
        _ => Err("only float64 & int type are supported".to_string()),
    }
}

fn atan2(_: &FnContext, a: &[Value]) -> FnResult {
    if any_null(a) {
        return Ok(Value::Null);
    }
    let r = to_f64(arg(a, 0))?.atan2(to_f64(arg(a, 1))?);
    Ok(if r.is_nan() {
        Value::Null
    } else {
        Value::Float(r)
    })
}

fn bit2(a: &[Value], f: fn(i64, i64) -> i64) -> FnResult {
    if any_null(a) {
        return Ok(Value::Null);
    }
    let x = to_int_strict(arg(a, 0)).map_err(|_| {
        format!(
            "Expect int type for the first operand but got {}",
            go_string(arg(a, 0))
        )
    })?;
    let y = to_int_strict(arg(a, 1)).map_err(|_| {
        format!(
            "Expect int type for the second operand but got {}",
            go_string(arg(a, 1))
        )
    })?;
    Ok(Value::Int(f(x, y)))
}

fn v_bitnot(args: &[ArgInfo]) -> Result<(), String> {
    validate_len(1, args)?;
    check_int(args, 0)
}

fn bitnot(_: &FnContext, a: &[Value]) -> FnResult {
    if any_null(a) {
        return Ok(Value::Null);
    }
    let x = to_int_strict(arg(a, 0)).map_err(|_| {
        format!(
            "Expect int type for operand but got {}",
            go_string(arg(a, 0))
        )
    })?;
    Ok(Value::Int(!x))
}

/// `real(cmplx.Cot(complex(x, 0)))`: Go computes `sin(2x) / (1 - cos(2x))` and switches
/// to a Taylor series near multiples of pi, where it reports infinity as an error.
fn cot(_: &FnContext, a: &[Value]) -> FnResult {
    if any_null(a) {
        return Ok(Value::Null);
    }
    let x = to_f64(arg(a, 0))?;
    let mut d = 1.0 - (2.0 * x).cos();
    if d.abs() < 0.25 {
        d = tan_series(x);
    }
    let r = if d == 0.0 {
        f64::INFINITY
    } else {
        (2.0 * x).sin() / d
    };
    if r.is_nan() {
        Ok(Value::Null)
    } else if r.is_infinite() {
        Err("out-of-range error".to_string())
    } else {
        Ok(Value::Float(r))
    }
}

/// Go's `cmplx.tanSeries` for a real argument: `1 - cos(2x)` summed as a series so that
/// it stays accurate when the subtraction would cancel.
fn tan_series(x: f64) -> f64 {
    let mut xx = (2.0 * x).abs();
    xx = reduce_pi(xx);
    xx *= xx;
    let (mut x2, mut f, mut rn, mut d) = (1.0_f64, 1.0_f64, 0.0_f64, 0.0_f64);
    loop {
        rn += 1.0;
        f *= rn;
        rn += 1.0;
        f *= rn;
        x2 *= xx;
        d += x2 / f;

        rn += 1.0;
        f *= rn;
        rn += 1.0;
        f *= rn;
        x2 *= xx;
        let t = -x2 / f;
        d += t;
        let ratio = (t / d).abs();
        if ratio.is_nan() || ratio <= f64::EPSILON / 2.0 || rn > 400.0 {
            break;
        }
    }
    d
}

/// Reduces a non-negative `x` into `[-pi/2, pi/2]`, as Go's `cmplx.reducePi`.
fn reduce_pi(x: f64) -> f64 {
    let t = x / std::f64::consts::PI;
    let t = (t + 0.5).floor();
    x - t * std::f64::consts::PI
}

fn v_log(args: &[ArgInfo]) -> Result<(), String> {
    if args.len() != 1 && args.len() != 2 {
        return Err("Expect 1 or 2 arguments only".to_string());
    }
    check_number(args, 0)
}

/// `log(x)` is base 10; `log(b, x)` is base `b`.
fn log(_: &FnContext, a: &[Value]) -> FnResult {
    if any_null(a) {
        return Ok(Value::Null);
    }
    let v = to_f64(arg(a, 0))?;
    let r = if a.len() == 1 {
        v.log10()
    } else {
        to_f64(arg(a, 1))?.ln() / v.ln()
    };
    Ok(if r.is_nan() {
        Value::Null
    } else {
        Value::Float(r)
    })
}

fn v_round(args: &[ArgInfo]) -> Result<(), String> {
    if args.len() != 1 && args.len() != 2 {
        return Err("Expect 1 or 2 arguments only".to_string());
    }
    check_number(args, 0)?;
    check_number(args, 1)
}

/// Rounds half away from zero at `precision` decimals (negative rounds to tens, ...).
fn round(_: &FnContext, a: &[Value]) -> FnResult {
    if any_null(a) {
        return Ok(Value::Null);
    }
    let precision = if a.len() > 1 {
        to_int_samekind(arg(a, 1))
            .map_err(|e| format!("The second argument must be an integer: {e}"))?
    } else {
        0
    };
    let v = to_f64(arg(a, 0))?;
    let factor = 10f64.powf(precision as f64);
    let scaled = v * factor;
    if scaled.is_infinite() || factor.is_infinite() {
        // eKuiper falls back to big floats here; a value this large has no digits at
        // that precision left to round.
        return Ok(Value::Float(v));
    }
    Ok(Value::Float(scaled.round() / factor))
}

fn sign(_: &FnContext, a: &[Value]) -> FnResult {
    if any_null(a) {
        return Ok(Value::Null);
    }
    let v = to_f64(arg(a, 0))?;
    Ok(Value::Int(if v > 0.0 {
        1
    } else if v < 0.0 {
        -1
    } else {
        0
    }))
}

fn v_conv(args: &[ArgInfo]) -> Result<(), String> {
    validate_len(3, args)?;
    if !is_integer(&args[1]) {
        return Err(err_info(1, "integer"));
    }
    if !is_integer(&args[2]) {
        return Err(err_info(2, "integer"));
    }
    Ok(())
}

/// MySQL's `CONV`: a negative `from` base reads the number as signed, a negative `to`
/// base prints it as signed. Bases outside 2..=36 give nil.
fn conv(_: &FnContext, a: &[Value]) -> FnResult {
    if any_null(a) {
        return Ok(Value::Null);
    }
    let s = to_string_always(arg(a, 0));
    let from = to_int_samekind(arg(a, 1)).unwrap_or(0);
    let to = to_int_samekind(arg(a, 2)).unwrap_or(0);
    match conv_str(&s, from, to)? {
        Some(r) => Ok(Value::from(r)),
        None => Ok(Value::Null),
    }
}

fn conv_str(s: &str, mut from: i64, mut to: i64) -> Result<Option<String>, String> {
    let mut signed = false;
    let mut ignore_sign = false;
    if from < 0 {
        from = -from;
        signed = true;
    }
    if to < 0 {
        to = -to;
        ignore_sign = true;
    }
    if !(2..=36).contains(&from) || !(2..=36).contains(&to) {
        return Ok(None);
    }
    let mut digits = valid_prefix(s.trim(), from);
    if digits.is_empty() {
        return Ok(Some("0".to_string()));
    }
    let mut negative = false;
    if let Some(rest) = digits.strip_prefix('-') {
        negative = true;
        digits = rest;
    }
    let mut val = u64::from_str_radix(digits, from as u32).map_err(|e| {
        let why = match e.kind() {
            std::num::IntErrorKind::PosOverflow => "value out of range",
            _ => "invalid syntax",
        };
        format!("strconv.ParseUint: parsing {digits:?}: {why}")
    })?;
    if signed {
        let min_abs = 1u64 << 63;
        if negative && val > min_abs {
            val = min_abs;
        }
        if !negative && val > i64::MAX as u64 {
            val = i64::MAX as u64;
        }
    }
    if negative {
        val = val.wrapping_neg();
    }
    let negative = (val as i64) < 0;
    if ignore_sign && negative {
        val = val.wrapping_neg();
    }
    let mut out = format_radix(val, to as u32);
    if negative && ignore_sign {
        out.insert(0, '-');
    }
    Ok(Some(out.to_uppercase()))
}

/// The longest prefix that is a number in `base`, an optional sign included.
fn valid_prefix(s: &str, base: i64) -> &str {
    let upper = if base <= 9 {
        b'0' + base as u8
    } else {
        b'A' + (base - 10) as u8
    };
    let bytes = s.as_bytes();
    let mut valid = 0;
    for (i, &c) in bytes.iter().enumerate() {
        if c.is_ascii_alphanumeric() {
            if c.to_ascii_uppercase() < upper {
                valid = i + 1;
            } else {
                break;
            }
        } else if c == b'+' || c == b'-' {
            if i != 0 {
                break;
            }
        } else {
            break;
        }
    }
    if valid > 1 && bytes[0] == b'+' {
        &s[1..valid]
    } else {
        &s[..valid]
    }
}

fn format_radix(mut v: u64, base: u32) -> String {
    if v == 0 {
        return "0".to_string();
    }
    let mut digits = Vec::new();
    while v > 0 {
        let d = (v % u64::from(base)) as u32;
        digits.push(std::char::from_digit(d, base).unwrap_or('?'));
        v /= u64::from(base);
    }
    digits.iter().rev().collect()
}

#[cfg(test)]
#[path = "math_tests.rs"]
mod tests;
