//! String functions (`string_functions.md`). `format_time` is listed there too but lives
//! with the other datetime functions.
//!
//! eKuiper turns non-string arguments into text with Go's `%v` (`concat("a", 1)` is
//! `"a1"`), and measures positions in bytes, not characters, except `length`.
//! Null handling differs per function and is eKuiper's: most answer nil, the predicates
//! answer false, `length`/`numbytes` answer 0, `indexof` answers -1.

use crate::args::*;
use crate::builtin::Builtin;
use crate::FnResult;
use regex::Regex;
use std::cell::RefCell;
use tributary_core::function::{ArgInfo, FnContext};
use tributary_core::Value;

pub fn builtins() -> Vec<Builtin> {
    vec![
        Builtin::new("concat", 0, None, concat).with_validate(v_concat),
        Builtin::new("endswith", 2, Some(2), |_, a| {
            predicate(a, |s, t| s.ends_with(t))
        })
        .with_validate(v_two_str),
        Builtin::new("startswith", 2, Some(2), |_, a| {
            predicate(a, |s, t| s.starts_with(t))
        })
        .with_validate(v_two_str),
        Builtin::new("indexof", 2, Some(2), indexof).with_validate(v_two_str),
        Builtin::new("length", 1, Some(1), length).with_validate(v_one_arg),
        Builtin::new("lower", 1, Some(1), |_, a| map_str(a, |s| s.to_lowercase()))
            .with_validate(v_one_str),
        Builtin::new("upper", 1, Some(1), |_, a| map_str(a, |s| s.to_uppercase()))
            .with_validate(v_one_str),
        Builtin::new("trim", 1, Some(1), |_, a| {
            map_str(a, |s| s.trim().to_string())
        })
        .with_validate(v_one_str),
        Builtin::new("ltrim", 1, Some(1), |_, a| {
            map_str(a, |s| s.trim_start().to_string())
        })
        .with_validate(v_one_str),
        Builtin::new("rtrim", 1, Some(1), |_, a| {
            map_str(a, |s| s.trim_end().to_string())
        })
        .with_validate(v_one_str),
        Builtin::new("lpad", 2, Some(2), |_, a| pad(a, true)).with_validate(v_one_str_one_int),
        Builtin::new("rpad", 2, Some(2), |_, a| pad(a, false)).with_validate(v_one_str_one_int),
        Builtin::new("numbytes", 1, Some(1), numbytes).with_validate(v_one_str),
        Builtin::new("regexp_matches", 2, Some(2), regexp_matches).with_validate(v_two_str),
        Builtin::new("regexp_replace", 3, Some(3), regexp_replace).with_validate(v_three_str),
        Builtin::new("regexp_substr", 2, Some(2), regexp_substr).with_validate(v_two_str),
        Builtin::new("substring", 0, None, substring).with_validate(v_substring),
        Builtin::new("split_value", 0, None, split_value).with_validate(v_split_value),
        Builtin::new("format", 0, None, format).with_validate(v_format),
    ]
}

fn v_concat(args: &[ArgInfo]) -> Result<(), String> {
    if args.is_empty() {
        return Err("The arguments should be at least one.".to_string());
    }
    (0..args.len()).try_for_each(|i| check_str(args, i))
}

/// Nulls read as empty strings here: eKuiper has no null check on `concat`.
fn concat(_: &FnContext, a: &[Value]) -> FnResult {
    Ok(Value::from(
        a.iter().map(to_string_always).collect::<String>(),
    ))
}

fn predicate(a: &[Value], f: fn(&str, &str) -> bool) -> FnResult {
    if any_null(a) {
        return Ok(Value::Bool(false));
    }
    let s = to_string_always(arg(a, 0));
    let t = to_string_always(arg(a, 1));
    Ok(Value::Bool(f(&s, &t)))
}

fn map_str(a: &[Value], f: fn(&str) -> String) -> FnResult {
    if any_null(a) {
        return Ok(Value::Null);
    }
    Ok(match arg(a, 0) {
        // The common case reads the string in place: no copy before `f`.
        Value::String(s) => Value::from(f(s)),
        other => Value::from(f(&to_string_always(other))),
    })
}

/// A byte offset, as Go's `strings.Index`.
fn indexof(_: &FnContext, a: &[Value]) -> FnResult {
    if any_null(a) {
        return Ok(Value::Int(-1));
    }
    let s = to_string_always(arg(a, 0));
    let t = to_string_always(arg(a, 1));
    Ok(Value::Int(s.find(&t).map_or(-1, |i| i as i64)))
}

/// Characters of a string, elements of an array, or keys of an object.
fn length(_: &FnContext, a: &[Value]) -> FnResult {
    Ok(Value::Int(match arg(a, 0) {
        Value::Null => 0,
        Value::Array(v) => v.len() as i64,
        Value::Object(o) => o.len() as i64,
        other => to_string_always(other).chars().count() as i64,
    }))
}

fn numbytes(_: &FnContext, a: &[Value]) -> FnResult {
    if any_null(a) {
        return Ok(Value::Int(0));
    }
    Ok(Value::Int(to_string_always(arg(a, 0)).len() as i64))
}

/// Pads with that many spaces, whatever the string's length (not up to a width).
fn pad(a: &[Value], left: bool) -> FnResult {
    if any_null(a) {
        return Ok(Value::Null);
    }
    let s = to_string_always(arg(a, 0));
    let n = to_int_strict(arg(a, 1))?;
    if n < 0 {
        return Err("strings: negative Repeat count".to_string());
    }
    if n as u64 > crate::args::MAX_GENERATED_LEN as u64 {
        return Err(format!(
            "padding length {n} is larger than {}",
            crate::args::MAX_GENERATED_LEN
        ));
    }
    let spaces = " ".repeat(n as usize);
    Ok(Value::from(if left { spaces + &s } else { s + &spaces }))
}

thread_local! {
    /// Recently compiled patterns: the pattern is nearly always a literal, the same for
    /// every row, and compiling it per row would dominate the cost of these functions.
    static PATTERNS: RefCell<Vec<(String, Regex)>> = const { RefCell::new(Vec::new()) };
}

fn compile(pattern: &str) -> Result<Regex, String> {
    if let Some(re) = PATTERNS.with(|c| {
        c.borrow()
            .iter()
            .find(|(p, _)| p == pattern)
            .map(|(_, re)| re.clone())
    }) {
        return Ok(re);
    }
    let re = Regex::new(pattern).map_err(|e| format!("error parsing regexp: {e}"))?;
    PATTERNS.with(|c| {
        let mut cache = c.borrow_mut();
        if cache.len() >= 16 {
            cache.remove(0);
        }
        cache.push((pattern.to_string(), re.clone()));
    });
    Ok(re)
}

fn regexp_matches(_: &FnContext, a: &[Value]) -> FnResult {
    if any_null(a) {
        return Ok(Value::Bool(false));
    }
    let re = compile(&to_string_always(arg(a, 1)))?;
    Ok(Value::Bool(re.is_match(&to_string_always(arg(a, 0)))))
}

fn v_three_str(args: &[ArgInfo]) -> Result<(), String> {
    validate_len(3, args)?;
    (0..3).try_for_each(|i| check_str(args, i))
}

/// `$1` and `${name}` in the replacement expand as in Go's `ReplaceAllString`.
fn regexp_replace(_: &FnContext, a: &[Value]) -> FnResult {
    if any_null(a) {
        return Ok(Value::Null);
    }
    let re = compile(&to_string_always(arg(a, 1)))?;
    let s = to_string_always(arg(a, 0));
    let rep = to_string_always(arg(a, 2));
    Ok(Value::from(re.replace_all(&s, rep.as_str()).into_owned()))
}

/// The first match, or the empty string when nothing matches.
fn regexp_substr(_: &FnContext, a: &[Value]) -> FnResult {
    if any_null(a) {
        return Ok(Value::Null);
    }
    let re = compile(&to_string_always(arg(a, 1)))?;
    let s = to_string_always(arg(a, 0));
    Ok(Value::from(
        re.find(&s)
            .map(|m| m.as_str().to_string())
            .unwrap_or_default(),
    ))
}

fn v_substring(args: &[ArgInfo]) -> Result<(), String> {
    let l = args.len();
    if l != 2 && l != 3 {
        return Err("the arguments for substring should be 2 or 3".to_string());
    }
    check_str(args, 0)?;
    (1..l).try_for_each(|i| check_int(args, i))?;
    if let ArgInfo::Literal(Value::Int(start)) = &args[1] {
        if *start < 0 {
            return Err("The start index should not be a nagtive integer.".to_string());
        }
        if let Some(ArgInfo::Literal(Value::Int(end))) = args.get(2) {
            if end < start {
                return Err("The end index should be larger than start index.".to_string());
            }
        }
    }
    Ok(())
}

/// `substring(s, start[, end])`: byte offsets, end exclusive (eKuiper's docs call the
/// third argument a length, its code treats it as an end index; the code wins).
fn substring(_: &FnContext, a: &[Value]) -> FnResult {
    if any_null(a) {
        return Ok(Value::Null);
    }
    let s = to_string_always(arg(a, 0));
    let bytes = s.as_bytes();
    let start = to_int_strict(arg(a, 1))?;
    if start < 0 {
        return Err("start index must be a positive number".to_string());
    }
    let start = start as usize;
    let end = if a.len() > 2 {
        let end = to_int_strict(arg(a, 2))?;
        if end < 0 {
            return Err("end index must be a positive number".to_string());
        }
        let end = end as usize;
        if start > end {
            return Err("start index must be smaller than end index".to_string());
        }
        end.min(bytes.len())
    } else {
        bytes.len()
    };
    if start > bytes.len() {
        return Ok(Value::str(""));
    }
    Ok(Value::from(
        String::from_utf8_lossy(&bytes[start..end]).into_owned(),
    ))
}

fn v_split_value(args: &[ArgInfo]) -> Result<(), String> {
    if args.len() != 3 {
        return Err("the arguments for split_value should be 3".to_string());
    }
    check_str(args, 0)?;
    check_str(args, 1)?;
    check_int(args, 2)?;
    if let ArgInfo::Literal(Value::Int(i)) = &args[2] {
        if *i < 0 {
            return Err("The index should not be a nagtive integer.".to_string());
        }
    }
    Ok(())
}

/// Negative indexes count from the end at run time, although a negative literal is
/// rejected when the rule is created.
fn split_value(_: &FnContext, a: &[Value]) -> FnResult {
    if any_null(a) {
        return Ok(Value::Null);
    }
    let s = to_string_always(arg(a, 0));
    let sep = to_string_always(arg(a, 1));
    let parts: Vec<&str> = if sep.is_empty() {
        // Go splits an empty separator into UTF-8 characters.
        s.char_indices()
            .map(|(i, c)| &s[i..i + c.len_utf8()])
            .collect()
    } else {
        s.split(sep.as_str()).collect()
    };
    let n = parts.len() as i64;
    let v = to_int_strict(arg(a, 2)).unwrap_or(0);
    let idx = if v >= 0 { v } else { n + v };
    if v > n - 1 || idx < 0 {
        return Err(format!("{v} out of index array (size = {n})"));
    }
    Ok(Value::str(parts[idx as usize]))
}

fn v_format(args: &[ArgInfo]) -> Result<(), String> {
    validate_at_least(2, args)?;
    if !is_numeric(&args[0]) {
        return Err(err_info(0, "numeric"));
    }
    if !is_integer(&args[1]) {
        return Err(err_info(1, "integer"));
    }
    if args.len() == 3 && !is_string(&args[2]) {
        return Err(err_info(2, "string"));
    }
    Ok(())
}

/// `format(x, d[, locale])`: `%.{d}f` without a locale; with `en_US`, thousands
/// separators and the decimals truncated (not rounded), as eKuiper's formatter does.
fn format(_: &FnContext, a: &[Value]) -> FnResult {
    if any_null(a) {
        return Ok(Value::Null);
    }
    let x = to_f64(arg(a, 0)).unwrap_or(0.0);
    let d = to_int_strict(arg(a, 1)).unwrap_or(0);
    if d < 0 {
        return Err("the decimal places must greater or equal than 0".to_string());
    }
    if a.len() == 3 {
        let locale = to_string_always(arg(a, 2));
        let number = to_string_always(arg(a, 0));
        let precision = to_string_always(arg(a, 1));
        return match locale.as_str() {
            "en_US" => Ok(Value::from(format_en_us(&number, &precision))),
            "zh_CN" => Err("not implemented".to_string()),
            _ => Err("not support for the specific locale".to_string()),
        };
    }
    Ok(Value::from(format!("{x:.prec$}", prec = d as usize)))
}

/// A port of eKuiper's `formatENUS`, which works on the `%v` text of the number.
fn format_en_us(number: &str, precision: &str) -> String {
    let digits: String = precision.chars().take_while(char::is_ascii_digit).collect();
    let places: usize = if digits.is_empty() {
        0
    } else {
        // More places than an f64 has digits only pads zeros; cap the padding.
        digits.parse::<usize>().unwrap_or(0).min(1000)
    };
    let mut number = number.to_string();
    if number.starts_with("-.") {
        number = number.replacen('-', "-0", 1);
    } else if number.starts_with('.') {
        number = number.replacen('.', "0.", 1);
    }
    let b = number.as_bytes();
    let mut out = String::new();
    let second_is_digit = b.get(1).is_some_and(u8::is_ascii_digit);
    let first_is_digit = b.first().is_some_and(u8::is_ascii_digit);
    if (b.first() == Some(&b'-') && !second_is_digit)
        || (!first_is_digit && b.first() != Some(&b'-'))
    {
        out.push('0');
        if places > 0 {
            out.push('.');
            out.push_str(&"0".repeat(places));
        }
        return out;
    }
    if b.first() == Some(&b'-') {
        out.push('-');
        number.remove(0);
    }
    // Keep the leading run of digits and dots, as the original loop does.
    let second_is_dot = number.as_bytes().get(1) == Some(&b'.');
    let cut = number
        .char_indices()
        .find(|&(i, c)| {
            !(c.is_ascii_digit() || (i == 1 && second_is_dot) || (c == '.' && !second_is_dot))
        })
        .map_or(number.len(), |(i, _)| i);
    number.truncate(cut);
    let mut parts = number.splitn(2, '.');
    let int_part = parts.next().unwrap_or("");
    let frac_part = parts.next();
    let mut grouped = String::new();
    let lead = int_part.len() % 3;
    if lead != 0 {
        grouped.push_str(&int_part[..lead]);
        grouped.push(',');
    }
    let mut pos = lead;
    while pos + 3 <= int_part.len() {
        grouped.push_str(&int_part[pos..pos + 3]);
        grouped.push(',');
        pos += 3;
    }
    grouped.pop();
    out.push_str(&grouped);
    if places > 0 {
        out.push('.');
        match frac_part {
            Some(f) if f.len() >= places => out.push_str(&f[..places]),
            Some(f) => {
                out.push_str(f);
                out.push_str(&"0".repeat(places - f.len()));
            }
            None => out.push_str(&"0".repeat(places)),
        }
    }
    out
}

#[cfg(test)]
#[path = "string_tests.rs"]
mod tests;
