//! Conversion ("transform") functions: `cast`, `chr`, `encode`/`decode`, `trunc`,
//! `compress`/`decompress`, `hex2dec`/`dec2hex`.
//!
//! `cast` follows eKuiper's `cast.ToType`, which converts with the loosest strictness
//! (`CONVERT_ALL`): strings parse as Go literals (`"0x1f"` is a bigint), booleans count
//! as 1/0, and numbers are epoch milliseconds when cast to datetime.

use crate::args::*;
use crate::builtin::Builtin;
use crate::FnResult;
use base64::Engine;
use std::io::{Read, Write};
use tributary_core::function::{ArgInfo, FnContext};
use tributary_core::Value;

pub fn builtins() -> Vec<Builtin> {
    vec![
        Builtin::new("cast", 2, Some(2), cast).with_validate(v_cast),
        Builtin::new("chr", 1, Some(1), chr).with_validate(v_chr),
        Builtin::new("encode", 2, Some(2), encode).with_validate(v_codec),
        Builtin::new("decode", 2, Some(2), decode).with_validate(v_codec),
        Builtin::new("trunc", 2, Some(2), trunc).with_validate(v_trunc),
        Builtin::new("compress", 2, Some(2), compress).with_validate(v_two_str),
        Builtin::new("decompress", 2, Some(2), decompress).with_validate(v_two_str),
        Builtin::new("hex2dec", 1, Some(1), hex2dec).with_validate(v_one_str),
        // eKuiper validates dec2hex's argument as a string, so a number literal is
        // rejected; only columns and expressions reach it. Kept as is.
        Builtin::new("dec2hex", 1, Some(1), dec2hex).with_validate(v_one_str),
    ]
}

const CAST_TYPES: [&str; 6] = ["bigint", "float", "string", "boolean", "datetime", "bytea"];

fn v_cast(args: &[ArgInfo]) -> Result<(), String> {
    validate_len(2, args)?;
    if is_numeric(&args[1]) || is_bool(&args[1]) {
        // eKuiper names the wrong parameter here.
        return Err(err_info(0, "string"));
    }
    if let ArgInfo::Literal(Value::String(t)) = &args[1] {
        if !CAST_TYPES.contains(&t.as_ref()) {
            return Err("Expect one of following value for the 2nd parameter: bigint, float, string, boolean, datetime, bytea.".to_string());
        }
    }
    Ok(())
}

fn cast(_: &FnContext, a: &[Value]) -> FnResult {
    if any_null(a) {
        return Ok(Value::Null);
    }
    let v = arg(a, 0);
    let wrap = |e: String| format!("not supported type conversion, got error {e}");
    match arg(a, 1).as_str() {
        Some("bigint") => to_int_all(v).map(Value::Int).map_err(wrap),
        Some("float") => to_float_all(v).map(Value::Float).map_err(wrap),
        Some("string") => to_string_convert_all(v).map(Value::from).map_err(wrap),
        Some("boolean") => to_bool_all(v).map(Value::Bool).map_err(wrap),
        Some("datetime") => crate::timefmt::to_time(v).map(Value::Datetime),
        Some("bytea") => to_bytea(v),
        Some(_) => {
            Err("unknow type, only support bigint, float, string, boolean and datetime".into())
        }
        None => Err("expect string type for type parameter".to_string()),
    }
}

/// `cast.ToInt(v, CONVERT_ALL)`.
fn to_int_all(v: &Value) -> Result<i64, String> {
    let parsed = match v {
        Value::Int(i) => Some(*i),
        Value::Float(f) => Some(*f as i64),
        Value::Bool(b) => Some(i64::from(*b)),
        Value::String(s) => parse_go_int(s),
        _ => None,
    };
    parsed.ok_or_else(|| format!("cannot convert {} to int", typed(v)))
}

/// Go's `strconv.ParseInt(s, 0, 64)`: an optional sign, then a `0x`/`0o`/`0b` prefix or
/// a leading `0` for octal, with `_` separators allowed after a prefix.
fn parse_go_int(s: &str) -> Option<i64> {
    let (neg, body) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    let lower = body.to_ascii_lowercase();
    let (radix, digits, prefixed) = if let Some(d) = lower.strip_prefix("0x") {
        (16, d.to_string(), true)
    } else if let Some(d) = lower.strip_prefix("0o") {
        (8, d.to_string(), true)
    } else if let Some(d) = lower.strip_prefix("0b") {
        (2, d.to_string(), true)
    } else if lower.len() > 1 && lower.starts_with('0') {
        (8, lower[1..].to_string(), true)
    } else {
        (10, lower.clone(), false)
    };
    if digits.is_empty() || digits.starts_with(['+', '-']) {
        return None;
    }
    if digits.contains('_') {
        // Go literal syntax: separators only between digits, or right after a prefix.
        let ok = (prefixed || !digits.starts_with('_'))
            && !digits.ends_with('_')
            && !digits.contains("__");
        if !ok {
            return None;
        }
    }
    let clean: String = digits.chars().filter(|c| *c != '_').collect();
    let mag = u64::from_str_radix(&clean, radix).ok()?;
    if neg {
        if mag > 1u64 << 63 {
            None
        } else {
            Some((mag as i64).wrapping_neg())
        }
    } else {
        i64::try_from(mag).ok()
    }
}

/// `cast.ToFloat64(v, CONVERT_ALL)`.
fn to_float_all(v: &Value) -> Result<f64, String> {
    let parsed = match v {
        Value::Int(i) => Some(*i as f64),
        Value::Float(f) => Some(*f),
        Value::Bool(b) => Some(if *b { 1.0 } else { 0.0 }),
        Value::String(s) => s.parse::<f64>().ok(),
        _ => None,
    };
    parsed.ok_or_else(|| format!("cannot convert {} to float64", typed(v)))
}

/// `cast.ToBool(v, CONVERT_ALL)`: non-zero numbers are true, strings as Go's
/// `strconv.ParseBool`.
fn to_bool_all(v: &Value) -> Result<bool, String> {
    match v {
        Value::Bool(b) => Ok(*b),
        Value::Int(i) => Ok(*i != 0),
        Value::Float(f) => Ok(*f != 0.0),
        Value::String(s) => match s.as_ref() {
            "1" | "t" | "T" | "TRUE" | "true" | "True" => Ok(true),
            "0" | "f" | "F" | "FALSE" | "false" | "False" => Ok(false),
            other => Err(format!(
                "strconv.ParseBool: parsing {other:?}: invalid syntax"
            )),
        },
        _ => Err(format!("cannot convert {} to bool", typed(v))),
    }
}

/// eKuiper's bytea: bytes as they are, strings must be base64.
fn to_bytea(v: &Value) -> FnResult {
    match v {
        Value::Bytes(_) => Ok(v.clone()),
        Value::String(s) => base64::engine::general_purpose::STANDARD
            .decode(s.as_bytes())
            .map(Value::bytes)
            .map_err(|_| format!("illegal string {s}, must be base64 encoded string")),
        _ => Err(format!("cannot convert {} to bytea", typed(v))),
    }
}

fn v_chr(args: &[ArgInfo]) -> Result<(), String> {
    validate_len(1, args)?;
    if is_float(&args[0]) || is_bool(&args[0]) {
        return Err(err_info(0, "int"));
    }
    Ok(())
}

/// eKuiper returns a Go `rune`, which is an int32: `chr(65)` is the number 65 and
/// `chr("A")` is 65 as well, so results are ints, not one-character strings.
fn chr(_: &FnContext, a: &[Value]) -> FnResult {
    match arg(a, 0) {
        Value::Null => Ok(Value::Null),
        Value::Int(i) => Ok(Value::Int(i64::from(*i as i32))),
        Value::Float(f) => Ok(Value::Int(i64::from(*f as i64 as i32))),
        Value::String(s) => {
            if s.len() > 1 {
                return Err("Parameter length cannot larger than 1.".to_string());
            }
            match s.chars().next() {
                Some(c) => Ok(Value::Int(i64::from(u32::from(c)))),
                None => Err("runtime error: index out of range [0] with length 0".into()),
            }
        }
        _ => Err("Only bigint, float and string type can be convert to char type.".into()),
    }
}

fn v_codec(args: &[ArgInfo]) -> Result<(), String> {
    validate_len(2, args)?;
    check_str(args, 0)?;
    if !is_string(&args[1]) {
        return Err(err_info(1, "string"));
    }
    if let ArgInfo::Literal(Value::String(m)) = &args[1] {
        if m.as_ref() != "base64" {
            return Err("Only base64 is supported for the 2nd parameter.".to_string());
        }
    }
    Ok(())
}

fn is_base64(a: &[Value]) -> bool {
    arg(a, 1)
        .as_str()
        .is_some_and(|m| m.eq_ignore_ascii_case("base64"))
}

fn encode(_: &FnContext, a: &[Value]) -> FnResult {
    if any_null(a) {
        return Ok(Value::Null);
    }
    if !is_base64(a) {
        return Err("Only base64 encoding is supported.".to_string());
    }
    match arg(a, 0) {
        Value::String(s) => Ok(Value::from(
            base64::engine::general_purpose::STANDARD.encode(s.as_bytes()),
        )),
        _ => Err("Only string type can be encoded.".to_string()),
    }
}

/// Decodes base64 into bytes (a bytea value, not a string).
fn decode(_: &FnContext, a: &[Value]) -> FnResult {
    if any_null(a) {
        return Ok(Value::Null);
    }
    if !is_base64(a) {
        return Err("Only base64 decoding is supported.".to_string());
    }
    match arg(a, 0) {
        Value::String(s) => base64::engine::general_purpose::STANDARD
            .decode(s.as_bytes())
            .map(Value::bytes)
            .map_err(|e| {
                let at = match e {
                    base64::DecodeError::InvalidByte(i, _)
                    | base64::DecodeError::InvalidLastSymbol(i, _) => i,
                    _ => s.len(),
                };
                format!("fail to decode base64 string: illegal base64 data at input byte {at}")
            }),
        _ => Err("Only string type can be decoded.".to_string()),
    }
}

fn v_trunc(args: &[ArgInfo]) -> Result<(), String> {
    validate_len(2, args)?;
    check_number(args, 0)?;
    check_int(args, 1)
}

/// Despite its name and docs, eKuiper's `trunc` rounds half away from zero.
fn trunc(_: &FnContext, a: &[Value]) -> FnResult {
    if any_null(a) {
        return Ok(Value::Null);
    }
    let v = to_f64(arg(a, 0))?;
    let Value::Int(p) = arg(a, 1) else {
        return Err("The 2nd parameter must be int value.".to_string());
    };
    let output = 10f64.powf(*p as f64);
    let scaled = v * output;
    let rounded = (scaled + 0.5f64.copysign(scaled)) as i64;
    Ok(Value::Float(rounded as f64 / output))
}

fn input_bytes(v: &Value) -> Result<Vec<u8>, String> {
    match v {
        Value::Bytes(b) => Ok(b.to_vec()),
        Value::String(s) => Ok(s.as_bytes().to_vec()),
        other => Err(format!(
            "require string or bytea parameter, but got {}",
            go_string(other)
        )),
    }
}

/// Compresses with `zlib`, `gzip`, `flate` or `zstd` into bytes. The bytes are a valid
/// stream of that format, though not byte-identical to Go's encoder output.
fn compress(_: &FnContext, a: &[Value]) -> FnResult {
    if arg(a, 0).is_null() {
        return Ok(Value::Null);
    }
    let data = input_bytes(arg(a, 0))?;
    let method = to_string_always(arg(a, 1));
    let level = flate2::Compression::default();
    let io = |e: std::io::Error| e.to_string();
    let out = match method.as_str() {
        "zlib" => {
            let mut w = flate2::write::ZlibEncoder::new(Vec::new(), level);
            w.write_all(&data).map_err(io)?;
            w.finish().map_err(io)?
        }
        "gzip" => {
            let mut w = flate2::write::GzEncoder::new(Vec::new(), level);
            w.write_all(&data).map_err(io)?;
            w.finish().map_err(io)?
        }
        "flate" => {
            let mut w = flate2::write::DeflateEncoder::new(Vec::new(), level);
            w.write_all(&data).map_err(io)?;
            w.finish().map_err(io)?
        }
        "zstd" => ruzstd::encoding::compress_to_vec(
            data.as_slice(),
            ruzstd::encoding::CompressionLevel::Fastest,
        ),
        other => return Err(format!("unsupported compressor: {other}")),
    };
    Ok(Value::bytes(out))
}

fn decompress(_: &FnContext, a: &[Value]) -> FnResult {
    if arg(a, 0).is_null() {
        return Ok(Value::Null);
    }
    let data = input_bytes(arg(a, 0))?;
    let method = to_string_always(arg(a, 1));
    let fail = |e: String| format!("failed to decompress: {e}");
    let mut out = Vec::new();
    match method.as_str() {
        "zlib" => flate2::read::ZlibDecoder::new(data.as_slice())
            .read_to_end(&mut out)
            .map(|_| ())
            .map_err(|e| fail(e.to_string())),
        "gzip" => flate2::read::GzDecoder::new(data.as_slice())
            .read_to_end(&mut out)
            .map(|_| ())
            .map_err(|e| fail(e.to_string())),
        "flate" => flate2::read::DeflateDecoder::new(data.as_slice())
            .read_to_end(&mut out)
            .map(|_| ())
            .map_err(|e| fail(e.to_string())),
        "zstd" => ruzstd::decoding::StreamingDecoder::new(data.as_slice())
            .map_err(|e| fail(e.to_string()))
            .and_then(|mut d| {
                d.read_to_end(&mut out)
                    .map(|_| ())
                    .map_err(|e| fail(e.to_string()))
            }),
        other => Err(format!("unsupported decompressor: {other}")),
    }?;
    Ok(Value::bytes(out))
}

fn hex2dec(_: &FnContext, a: &[Value]) -> FnResult {
    if any_null(a) {
        return Ok(Value::Null);
    }
    let Value::String(s) = arg(a, 0) else {
        return Err(format!(
            "invalid input type: {} please input hex string",
            go_string(arg(a, 0))
        ));
    };
    let hex = s.strip_prefix("0x").unwrap_or(s);
    let (neg, digits) = match hex.as_bytes().first() {
        Some(b'-') => (true, &hex[1..]),
        Some(b'+') => (false, &hex[1..]),
        _ => (false, hex),
    };
    let parsed = if digits.starts_with(['+', '-']) {
        None
    } else {
        i128::from_str_radix(digits, 16)
            .ok()
            .map(|v| if neg { -v } else { v })
            .and_then(|v| i64::try_from(v).ok())
    };
    parsed
        .map(Value::Int)
        .ok_or_else(|| format!("invalid hexadecimal value: {hex}"))
}

fn dec2hex(_: &FnContext, a: &[Value]) -> FnResult {
    if any_null(a) {
        return Ok(Value::Null);
    }
    let d = to_int_strict(arg(a, 0))?;
    let hex = if d < 0 {
        format!("0x-{:x}", d.unsigned_abs())
    } else {
        format!("0x{d:x}")
    };
    Ok(Value::from(hex))
}

#[cfg(test)]
mod tests {
    use crate::testutil::*;
    use tributary_core::Value;

    fn cast(v: Value, t: &str) -> Result<Value, String> {
        call("cast", &[v, s(t)])
    }

    #[test]
    fn cast_to_numbers() {
        assert_eq!(cast(s("12"), "bigint"), Ok(Value::Int(12)));
        assert_eq!(cast(s("0x1f"), "bigint"), Ok(Value::Int(31)));
        assert_eq!(cast(Value::Float(3.9), "bigint"), Ok(Value::Int(3)));
        assert_eq!(cast(Value::Bool(true), "bigint"), Ok(Value::Int(1)));
        assert_eq!(
            cast(s("abc"), "bigint"),
            Err(
                "not supported type conversion, got error cannot convert string(abc) to int".into()
            )
        );
        assert_eq!(cast(s("1.5"), "float"), Ok(Value::Float(1.5)));
        assert_eq!(cast(Value::Int(2), "float"), Ok(Value::Float(2.0)));
        assert_eq!(cast(Value::Null, "float"), Ok(Value::Null));
    }

    #[test]
    fn cast_to_string_boolean_datetime_bytea() {
        assert_eq!(
            cast(Value::Float(1e21), "string"),
            Ok(s("1000000000000000000000"))
        );
        assert_eq!(cast(Value::Int(7), "string"), Ok(s("7")));
        assert_eq!(cast(Value::Bool(false), "string"), Ok(s("false")));
        assert!(cast(j("[1]"), "string").is_err());
        assert_eq!(cast(s("T"), "boolean"), Ok(Value::Bool(true)));
        assert_eq!(cast(Value::Int(0), "boolean"), Ok(Value::Bool(false)));
        assert_eq!(
            cast(s("yes"), "boolean"),
            Err(r#"not supported type conversion, got error strconv.ParseBool: parsing "yes": invalid syntax"#.into())
        );
        assert_eq!(
            cast(Value::Int(1_000), "datetime"),
            Ok(Value::Datetime(1_000_000_000))
        );
        assert_eq!(
            cast(s("2019-01-01T00:00:00Z"), "datetime"),
            Ok(Value::Datetime(1_546_300_800_000_000_000))
        );
        assert_eq!(cast(s("AQID"), "bytea"), Ok(Value::bytes(vec![1u8, 2, 3])));
        assert_eq!(
            cast(s("!"), "bytea"),
            Err("illegal string !, must be base64 encoded string".to_string())
        );
    }

    #[test]
    fn cast_validation() {
        assert_eq!(
            check("cast", &[lit(Value::Int(1)), lit(s("int"))]),
            Err("Expect one of following value for the 2nd parameter: bigint, float, string, boolean, datetime, bytea.".to_string())
        );
        assert_eq!(
            check("cast", &[lit(Value::Int(1)), lit(Value::Int(2))]),
            Err("Expect string type for parameter 1".to_string())
        );
        assert!(check("cast", &[lit(Value::Int(1)), lit(s("bigint"))]).is_ok());
    }

    #[test]
    fn chr_returns_code_points() {
        assert_eq!(call("chr", &[Value::Int(65)]), Ok(Value::Int(65)));
        assert_eq!(call("chr", &[s("A")]), Ok(Value::Int(65)));
        assert_eq!(call("chr", &[Value::Null]), Ok(Value::Null));
        assert_eq!(
            call("chr", &[s("AB")]),
            Err("Parameter length cannot larger than 1.".to_string())
        );
        assert_eq!(
            check("chr", &[lit(Value::Float(1.0))]),
            Err("Expect int type for parameter 1".to_string())
        );
    }

    #[test]
    fn base64_round_trip() {
        assert_eq!(
            call("encode", &[s("hello"), s("base64")]),
            Ok(s("aGVsbG8="))
        );
        assert_eq!(
            call("decode", &[s("aGVsbG8="), s("base64")]),
            Ok(Value::bytes(b"hello".to_vec()))
        );
        assert_eq!(call("encode", &[Value::Null, s("base64")]), Ok(Value::Null));
        assert_eq!(
            call("encode", &[Value::Int(1), s("base64")]),
            Err("Only string type can be encoded.".to_string())
        );
        assert!(call("decode", &[s("a!"), s("base64")]).is_err());
        assert_eq!(
            check("encode", &[lit(s("a")), lit(s("hex"))]),
            Err("Only base64 is supported for the 2nd parameter.".to_string())
        );
        assert_eq!(
            check("decode", &[lit(s("a")), ArgInfo::Dynamic]),
            Err("Expect string type for parameter 2".to_string())
        );
    }

    use tributary_core::function::ArgInfo;

    #[test]
    fn trunc_rounds_half_away_from_zero() {
        assert_eq!(
            call("trunc", &[Value::Float(1.2345), Value::Int(2)]),
            Ok(Value::Float(1.23))
        );
        assert_eq!(
            call("trunc", &[Value::Float(2.345), Value::Int(1)]),
            Ok(Value::Float(2.3))
        );
        assert_eq!(
            call("trunc", &[Value::Float(-1.25), Value::Int(1)]),
            Ok(Value::Float(-1.3))
        );
        assert_eq!(
            call("trunc", &[Value::Float(1.5), Value::Float(1.0)]),
            Err("The 2nd parameter must be int value.".to_string())
        );
        assert_eq!(
            call("trunc", &[Value::Null, Value::Int(1)]),
            Ok(Value::Null)
        );
        assert_eq!(
            check("trunc", &[lit(s("1")), lit(Value::Int(1))]),
            Err("Expect number - float or int type for parameter 1".to_string())
        );
    }

    #[test]
    fn compression_round_trips() {
        for method in ["zlib", "gzip", "flate", "zstd"] {
            let packed = call("compress", &[s("hello hello hello"), s(method)])
                .unwrap_or_else(|e| panic!("{method}: {e}"));
            assert!(matches!(packed, Value::Bytes(_)));
            assert_eq!(
                call("decompress", &[packed, s(method)]),
                Ok(Value::bytes(b"hello hello hello".to_vec())),
                "{method}"
            );
        }
        assert_eq!(
            call("compress", &[s("a"), s("lz4")]),
            Err("unsupported compressor: lz4".to_string())
        );
        assert_eq!(
            call("decompress", &[s("a"), s("lz4")]),
            Err("unsupported decompressor: lz4".to_string())
        );
        assert!(call("decompress", &[s("not zlib"), s("zlib")]).is_err());
        assert_eq!(call("compress", &[Value::Null, s("zlib")]), Ok(Value::Null));
        assert_eq!(
            call("compress", &[Value::Int(1), s("zlib")]),
            Err("require string or bytea parameter, but got 1".to_string())
        );
    }

    #[test]
    fn hex_conversions() {
        assert_eq!(call("hex2dec", &[s("0xff")]), Ok(Value::Int(255)));
        assert_eq!(call("hex2dec", &[s("1A")]), Ok(Value::Int(26)));
        assert_eq!(
            call("hex2dec", &[s("zz")]),
            Err("invalid hexadecimal value: zz".to_string())
        );
        assert_eq!(
            call("hex2dec", &[Value::Int(1)]),
            Err("invalid input type: 1 please input hex string".to_string())
        );
        assert_eq!(call("dec2hex", &[Value::Int(255)]), Ok(s("0xff")));
        assert_eq!(call("dec2hex", &[Value::Int(-255)]), Ok(s("0x-ff")));
        assert_eq!(call("dec2hex", &[Value::Null]), Ok(Value::Null));
        assert_eq!(
            check("dec2hex", &[lit(Value::Int(1))]),
            Err("Expect string type for parameter 1".to_string())
        );
    }
}
