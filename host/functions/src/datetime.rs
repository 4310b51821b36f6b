//! Date and time functions (`datetime_functions.md`), plus `convert_tz` and
//! `to_seconds`, which eKuiper registers with its miscellaneous functions.
//!
//! "Now" is the engine's clock ([`FnContext::now_ms`]), never the system clock, so that
//! trials with a mock clock are reproducible. eKuiper renders in its configured zone;
//! Tributary renders in UTC. Datetime arguments may be datetimes, epoch milliseconds or
//! strings; a null argument is an error (eKuiper has no null check here) except for
//! `format_time`, `from_days` and `from_unix_time`, which answer nil.

use crate::args::*;
use crate::builtin::Builtin;
use crate::timefmt::{format_pattern, month_name, parse_duration, to_time, weekday_name};
use crate::FnResult;
use chrono::{DateTime, Datelike, NaiveDate, Timelike, Utc};
use tributary_core::function::{ArgInfo, FnContext};
use tributary_core::Value;

const DAY_NS: i64 = 86_400 * 1_000_000_000;

macro_rules! part {
    ($name:literal, $f:expr) => {
        Builtin::new($name, 1, Some(1), |_, a| {
            let t = utc(to_time(arg(a, 0))?);
            let f: fn(&DateTime<Utc>) -> Value = $f;
            Ok(f(&t))
        })
        .with_validate(v_one_datetime)
    };
}

pub fn builtins() -> Vec<Builtin> {
    let now = Builtin::new("now", 0, None, |c, a| current(c, a, false)).with_validate(v_fsp);
    let cur_date = Builtin::new("cur_date", 0, Some(0), cur_date).with_validate(v_no_arg);
    let cur_time =
        Builtin::new("cur_time", 0, None, |c, a| current(c, a, true)).with_validate(v_fsp);
    vec![
        now,
        Builtin {
            name: "current_timestamp",
            ..now
        },
        Builtin {
            name: "local_time",
            ..now
        },
        Builtin {
            name: "local_timestamp",
            ..now
        },
        cur_date,
        Builtin {
            name: "current_date",
            ..cur_date
        },
        cur_time,
        Builtin {
            name: "current_time",
            ..cur_time
        },
        Builtin::new("format_time", 2, Some(2), format_time).with_validate(v_format_time),
        Builtin::new("date_calc", 2, Some(2), date_calc).with_validate(v_date_calc),
        Builtin::new("date_diff", 2, Some(2), date_diff).with_validate(v_date_diff),
        part!("day_name", |t| Value::str(weekday_name(
            t.weekday().num_days_from_sunday()
        ))),
        part!("day_of_month", |t| Value::Int(i64::from(t.day()))),
        part!("day", |t| Value::Int(i64::from(t.day()))),
        // Go's `time.Weekday`: Sunday is 0 (eKuiper's docs say 1; its code says 0).
        part!("day_of_week", |t| Value::Int(i64::from(
            t.weekday().num_days_from_sunday()
        ))),
        part!("day_of_year", |t| Value::Int(i64::from(t.ordinal()))),
        Builtin::new("from_days", 1, Some(1), from_days).with_validate(v_int_only),
        Builtin::new("from_unix_time", 1, Some(1), from_unix_time).with_validate(v_int_only),
        part!("hour", |t| Value::Int(i64::from(t.hour()))),
        part!("last_day", |t| {
            let (y, m) = (t.year(), t.month());
            let first_next = if m == 12 {
                NaiveDate::from_ymd_opt(y + 1, 1, 1)
            } else {
                NaiveDate::from_ymd_opt(y, m + 1, 1)
            };
            match first_next.and_then(|d| d.pred_opt()) {
                Some(d) => Value::from(d.format("%Y-%m-%d").to_string()),
                None => Value::Null,
            }
        }),
        part!("microsecond", |t| Value::Int(i64::from(
            t.nanosecond() % 1_000_000_000 / 1000
        ))),
        part!("minute", |t| Value::Int(i64::from(t.minute()))),
        part!("month", |t| Value::Int(i64::from(t.month()))),
        Builtin::new("month_name", 1, Some(1), |_, a| {
            let t = utc(to_time(arg(a, 0))?);
            Ok(Value::str(month_name(t.month())))
        })
        .with_validate(|args| {
            validate_len(1, args)?;
            // eKuiper reports this one as parameter 2.
            check_datetime(args, 0, 1)
        }),
        part!("second", |t| Value::Int(i64::from(t.second()))),
        Builtin::new("convert_tz", 2, Some(2), convert_tz).with_validate(v_convert_tz),
        Builtin::new("to_seconds", 1, Some(1), to_seconds).with_validate(v_one_arg),
    ]
}

fn utc(ns: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_nanos(ns)
}

fn v_fsp(args: &[ArgInfo]) -> Result<(), String> {
    if args.len() > 1 {
        return Err("too many arguments".to_string());
    }
    match args.first() {
        Some(a) if !is_integer(a) => Err(err_info(0, "int")),
        _ => Ok(()),
    }
}

/// `now([fsp])` / `cur_time([fsp])`: `yyyy-MM-dd HH:mm:ss` (or only the time) with
/// `fsp` (1 to 6) fraction digits. eKuiper's own pattern doubles the dot before the
/// fraction (`12:00:00..123`); here it is a single dot.
fn current(ctx: &FnContext, a: &[Value], time_only: bool) -> FnResult {
    let fsp = match a.first() {
        None => 0,
        Some(v) => to_int_samekind(v).unwrap_or(0),
    };
    let mut pattern = String::from("yyyy-MM-dd HH:mm:ss");
    if (1..=6).contains(&fsp) {
        pattern.push_str(&"S".repeat(fsp as usize));
    }
    let text = format_pattern(now_ns(ctx), &pattern)?;
    Ok(Value::from(if time_only {
        text.split_once(' ')
            .map_or(text.clone(), |(_, t)| t.to_string())
    } else {
        text
    }))
}

fn now_ns(ctx: &FnContext) -> i64 {
    ctx.now_ms.saturating_mul(1_000_000)
}

fn cur_date(ctx: &FnContext, _: &[Value]) -> FnResult {
    Ok(Value::from(format_pattern(now_ns(ctx), "yyyy-MM-dd")?))
}

fn v_format_time(args: &[ArgInfo]) -> Result<(), String> {
    validate_len(2, args)?;
    check_datetime(args, 0, 0)?;
    check_str(args, 1)
}

fn format_time(_: &FnContext, a: &[Value]) -> FnResult {
    if any_null(a) {
        return Ok(Value::Null);
    }
    let t = to_time(arg(a, 0))?;
    Ok(Value::from(format_pattern(
        t,
        &to_string_always(arg(a, 1)),
    )?))
}

fn v_date_calc(args: &[ArgInfo]) -> Result<(), String> {
    validate_len(2, args)?;
    check_datetime(args, 0, 0)?;
    if !is_string(&args[1]) {
        return Err(err_info(1, "string"));
    }
    Ok(())
}

/// Adds a Go duration (`1h30m`, `-24h`) and renders `yyyy-MM-dd HH:mm:ss`.
fn date_calc(_: &FnContext, a: &[Value]) -> FnResult {
    let t = to_time(arg(a, 0))?;
    let text = to_string_always(arg(a, 1));
    let (sign, rest) = match text.strip_prefix('-') {
        Some(r) => (-1, r),
        None => (1, text.as_str()),
    };
    let d = parse_duration(rest)?;
    let shifted = t.saturating_add(d.saturating_mul(sign));
    Ok(Value::from(format_pattern(shifted, "yyyy-MM-dd HH:mm:ss")?))
}

fn v_date_diff(args: &[ArgInfo]) -> Result<(), String> {
    validate_len(2, args)?;
    check_datetime(args, 0, 0)?;
    // eKuiper names parameter 1 for the second argument too.
    check_datetime(args, 1, 0)
}

/// `date2 - date1` as a Go `time.Duration`, i.e. nanoseconds (the docs say days).
fn date_diff(_: &FnContext, a: &[Value]) -> FnResult {
    let t0 = to_time(arg(a, 0))?;
    let t1 = to_time(arg(a, 1))?;
    Ok(Value::Int(t1.saturating_sub(t0)))
}

/// eKuiper rejects every number literal here (`from_days(100)` fails validation), so
/// only columns and expressions get through. Kept as is.
fn v_int_only(args: &[ArgInfo]) -> Result<(), String> {
    validate_len(1, args)?;
    match &args[0] {
        a if is_numeric(a) || is_string(a) || is_bool(a) => Err(err_info(0, "int")),
        _ => Ok(()),
    }
}

/// Day 1 is 1970-01-01; 0 gives nil.
fn from_days(_: &FnContext, a: &[Value]) -> FnResult {
    if any_null(a) {
        return Ok(Value::Null);
    }
    let days = to_int_strict(arg(a, 0))?;
    if days == 0 {
        return Ok(Value::Null);
    }
    let t = (days - 1).saturating_mul(DAY_NS);
    Ok(Value::from(format_pattern(t, "yyyy-MM-dd")?))
}

/// Epoch seconds to `yyyy-MM-dd HH:mm:ss`; 0 gives nil.
fn from_unix_time(_: &FnContext, a: &[Value]) -> FnResult {
    if any_null(a) {
        return Ok(Value::Null);
    }
    let secs = to_int_strict(arg(a, 0))?;
    if secs == 0 {
        return Ok(Value::Null);
    }
    let t = secs.saturating_mul(1_000_000_000);
    Ok(Value::from(format_pattern(t, "yyyy-MM-dd HH:mm:ss")?))
}

fn v_convert_tz(args: &[ArgInfo]) -> Result<(), String> {
    validate_len(2, args)?;
    check_datetime(args, 0, 0)?;
    check_str(args, 1)
}

/// Datetimes here are zone-less UTC instants, so moving one to another zone changes
/// nothing that can be observed: the same instant comes back, whatever the zone.
fn convert_tz(_: &FnContext, a: &[Value]) -> FnResult {
    if any_null(a) {
        return Ok(Value::Null);
    }
    Ok(Value::Datetime(to_time(arg(a, 0))?))
}

/// Epoch seconds of a datetime.
fn to_seconds(_: &FnContext, a: &[Value]) -> FnResult {
    if any_null(a) {
        return Ok(Value::Null);
    }
    Ok(Value::Int(to_time(arg(a, 0))?.div_euclid(1_000_000_000)))
}

#[cfg(test)]
mod tests {
    use crate::testutil::*;
    use tributary_core::Value;

    const NEW_YEAR: &str = "2019-01-01 00:00:00";

    #[test]
    fn now_uses_the_engine_clock() {
        assert_eq!(call("now", &[]), Ok(s("2019-01-01 00:00:00")));
        assert_eq!(
            call("now", &[Value::Int(3)]),
            Ok(s("2019-01-01 00:00:00.123"))
        );
        assert_eq!(
            call("current_timestamp", &[Value::Int(1)]),
            Ok(s("2019-01-01 00:00:00.1"))
        );
        assert_eq!(call("local_time", &[]), Ok(s("2019-01-01 00:00:00")));
        assert_eq!(call("local_timestamp", &[]), Ok(s("2019-01-01 00:00:00")));
        assert_eq!(call("cur_date", &[]), Ok(s("2019-01-01")));
        assert_eq!(call("current_date", &[]), Ok(s("2019-01-01")));
        assert_eq!(call("cur_time", &[]), Ok(s("00:00:00")));
        assert_eq!(call("current_time", &[Value::Int(2)]), Ok(s("00:00:00.12")));
        assert_eq!(
            check("now", &[lit(Value::Int(1)), lit(Value::Int(2))]),
            Err("too many arguments".to_string())
        );
        assert_eq!(
            check("cur_time", &[lit(s("1"))]),
            Err("Expect int type for parameter 1".to_string())
        );
        assert_eq!(
            check("cur_date", &[lit(Value::Int(1))]),
            Err("Expect 0 arguments but found 1.".to_string())
        );
    }

    #[test]
    fn format_time_accepts_numbers_strings_and_datetimes() {
        assert_eq!(
            call(
                "format_time",
                &[Value::Int(1_579_140_864_913), s("YYYY-MM-dd HH:mm:ssSSS")]
            ),
            Ok(s("2020-01-16 02:14:24.913"))
        );
        assert_eq!(
            call("format_time", &[Value::Datetime(0), s("yyyy/MM/dd")]),
            Ok(s("1970/01/01"))
        );
        assert_eq!(
            call("format_time", &[Value::Null, s("yyyy")]),
            Ok(Value::Null)
        );
        assert_eq!(
            check("format_time", &[lit(Value::Int(1)), lit(s("yyyy-MM-dd"))]),
            Err("Expect datetime type for parameter 1".to_string())
        );
        assert_eq!(
            check("format_time", &[lit(Value::Int(1))]),
            Err("Expect 2 arguments but found 1.".to_string())
        );
    }

    #[test]
    fn date_calc_and_diff() {
        assert_eq!(
            call("date_calc", &[s(NEW_YEAR), s("24h")]),
            Ok(s("2019-01-02 00:00:00"))
        );
        assert_eq!(
            call("date_calc", &[s(NEW_YEAR), s("-24h")]),
            Ok(s("2018-12-31 00:00:00"))
        );
        assert_eq!(
            call("date_calc", &[s("2019-01-01"), s("1h30m10s100ms")]),
            Ok(s("2019-01-01 01:30:10"))
        );
        assert!(call("date_calc", &[s(NEW_YEAR), s("1d")]).is_err());
        assert_eq!(
            check("date_calc", &[lit(Value::Int(1)), lit(s("24h"))]),
            Err("Expect datetime type for parameter 1".to_string())
        );
        assert_eq!(
            check("date_calc", &[]),
            Err("Expect 2 arguments but found 0.".to_string())
        );
        assert_eq!(
            call("date_diff", &[s(NEW_YEAR), s("2019-01-02 00:00:00")]),
            Ok(Value::Int(86_400_000_000_000))
        );
        assert_eq!(
            check("date_diff", &[ArgInfo::Dynamic, lit(Value::Int(2))]),
            Err("Expect datetime type for parameter 1".to_string())
        );
        assert!(call("date_diff", &[Value::Null, s(NEW_YEAR)]).is_err());
    }

    use tributary_core::function::ArgInfo;

    #[test]
    fn parts_of_a_date() {
        let d = [s(NEW_YEAR)];
        assert_eq!(call("day_name", &d), Ok(s("Tuesday")));
        assert_eq!(call("day_of_month", &d), Ok(Value::Int(1)));
        assert_eq!(call("day", &d), Ok(Value::Int(1)));
        assert_eq!(call("day_of_week", &d), Ok(Value::Int(2)));
        assert_eq!(call("day_of_year", &[s("2019-02-01")]), Ok(Value::Int(32)));
        let t = [Value::Int(1_579_140_864_913)];
        assert_eq!(call("hour", &t), Ok(Value::Int(2)));
        assert_eq!(call("minute", &t), Ok(Value::Int(14)));
        assert_eq!(call("second", &t), Ok(Value::Int(24)));
        assert_eq!(call("microsecond", &t), Ok(Value::Int(913_000)));
        assert_eq!(call("month", &t), Ok(Value::Int(1)));
        assert_eq!(call("month_name", &t), Ok(s("January")));
        assert_eq!(call("last_day", &[s("2020-02-10")]), Ok(s("2020-02-29")));
        assert_eq!(call("last_day", &[s("2019-12-10")]), Ok(s("2019-12-31")));
        assert_eq!(
            call("hour", &[Value::Null]),
            Err("unsupported type to convert to timestamp <nil>".to_string())
        );
        assert_eq!(
            check("day_name", &[]),
            Err("Expect 1 arguments but found 0.".to_string())
        );
        assert_eq!(
            check("day_of_week", &[lit(Value::Int(1))]),
            Err("Expect datetime type for parameter 1".to_string())
        );
        assert_eq!(
            check("month_name", &[lit(Value::Int(1))]),
            Err("Expect datetime type for parameter 2".to_string())
        );
    }

    #[test]
    fn from_days_and_unix_time() {
        assert_eq!(call("from_days", &[Value::Int(100)]), Ok(s("1970-04-10")));
        assert_eq!(call("from_days", &[Value::Int(0)]), Ok(Value::Null));
        assert_eq!(call("from_days", &[Value::Null]), Ok(Value::Null));
        assert_eq!(
            call("from_unix_time", &[Value::Int(1_546_300_800)]),
            Ok(s("2019-01-01 00:00:00"))
        );
        assert_eq!(call("from_unix_time", &[Value::Int(0)]), Ok(Value::Null));
        assert_eq!(
            check("from_days", &[lit(Value::Int(1))]),
            Err("Expect int type for parameter 1".to_string())
        );
        assert_eq!(
            check("from_unix_time", &[lit(Value::Float(0.1))]),
            Err("Expect int type for parameter 1".to_string())
        );
        assert!(check("from_days", &[ArgInfo::Dynamic]).is_ok());
    }

    #[test]
    fn convert_tz_and_to_seconds() {
        assert_eq!(
            call("convert_tz", &[Value::Int(1000), s("Asia/Shanghai")]),
            Ok(Value::Datetime(1_000_000_000))
        );
        assert_eq!(
            call("convert_tz", &[Value::Null, s("UTC")]),
            Ok(Value::Null)
        );
        assert_eq!(
            check("convert_tz", &[ArgInfo::Dynamic, lit(Value::Int(1))]),
            Err("Expect string type for parameter 2".to_string())
        );
        assert_eq!(
            call("to_seconds", &[s(NEW_YEAR)]),
            Ok(Value::Int(1_546_300_800))
        );
        assert_eq!(call("to_seconds", &[Value::Int(1_500)]), Ok(Value::Int(1)));
        assert_eq!(call("to_seconds", &[Value::Null]), Ok(Value::Null));
        assert!(call("to_seconds", &[Value::Bool(true)]).is_err());
    }
}
