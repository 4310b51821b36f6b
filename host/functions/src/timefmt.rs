//! eKuiper's time conversions: `cast.InterfaceToTime` (numbers are epoch milliseconds,
//! strings are parsed leniently), its Java-like format patterns (`yyyy-MM-dd HH:mm:ss`),
//! Go's `time.Time` string form and Go's duration syntax (`1h30m`).
//!
//! eKuiper formats in a configurable zone (the host's by default). Tributary's datetimes
//! are UTC instants, so everything here formats and parses in UTC.

use crate::args::go_string;
use chrono::{DateTime, Datelike, NaiveDate, NaiveDateTime, NaiveTime, Timelike, Utc};
use tributary_core::Value;

/// A datetime value as nanoseconds since the epoch; `Err` carries eKuiper's message.
pub fn to_time(v: &Value) -> Result<i64, String> {
    match v {
        Value::Int(ms) => Ok(ms.saturating_mul(1_000_000)),
        Value::Float(f) => Ok((*f as i64).saturating_mul(1_000_000)),
        Value::Datetime(ns) => Ok(*ns),
        Value::String(s) => parse_default(s),
        other => Err(format!(
            "unsupported type to convert to timestamp {}",
            go_string(other)
        )),
    }
}

fn utc(ns: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_nanos(ns)
}

/// Go's `time.Time.String()` in UTC: `2019-01-01 00:00:00.5 +0000 UTC`.
pub fn go_time_string(ns: i64) -> String {
    let t = utc(ns);
    let mut s = t.format("%Y-%m-%d %H:%M:%S").to_string();
    let frac = t.nanosecond() % 1_000_000_000;
    if frac != 0 {
        let digits = format!("{frac:09}");
        s.push('.');
        s.push_str(digits.trim_end_matches('0'));
    }
    s.push_str(" +0000 UTC");
    s
}

/// Formats with eKuiper's Java-like pattern (`cast.FormatTime`).
pub fn format_pattern(ns: i64, pattern: &str) -> Result<String, String> {
    let t = utc(ns);
    let chars: Vec<char> = pattern.chars().collect();
    let n = chars.len();
    let run = |i: usize, max: usize| -> usize {
        let c = chars[i];
        let mut j = 1;
        while i + j < n && j <= max && chars[i + j] == c {
            j += 1;
        }
        j
    };
    let mut out = String::new();
    let mut i = 0;
    while i < n {
        let c = chars[i];
        match c {
            '\\' => {
                i += 1;
                match chars.get(i) {
                    Some(x) => out.push(*x),
                    None => return Err(format!("{pattern} is invalid")),
                }
            }
            'Y' | 'y' => {
                let j = run(i, 4);
                i += j - 1;
                match j {
                    4 => out.push_str(&format!("{:04}", t.year())),
                    2 => out.push_str(&format!("{:02}", t.year().rem_euclid(100))),
                    _ => return Err(format!("invalid time format {pattern} for Y/y")),
                }
            }
            'G' => out.push_str("AD"),
            'M' => {
                let j = run(i, 4);
                i += j - 1;
                let m = t.month();
                match j {
                    1 => out.push_str(&m.to_string()),
                    2 => out.push_str(&format!("{m:02}")),
                    3 => out.push_str(&month_name(m)[..3]),
                    4 => out.push_str(month_name(m)),
                    _ => {}
                }
            }
            'd' => {
                let j = run(i, 2);
                i += j - 1;
                match j {
                    1 => out.push_str(&t.day().to_string()),
                    2 => out.push_str(&format!("{:02}", t.day())),
                    _ => {}
                }
            }
            'E' => {
                let j = run(i, 4);
                i += j - 1;
                let name = weekday_name(t.weekday().num_days_from_sunday());
                match j {
                    3 => out.push_str(&name[..3]),
                    4 => out.push_str(name),
                    _ => return Err(format!("invalid time format {pattern} for E")),
                }
            }
            'H' => {
                let j = run(i, 2);
                i += j - 1;
                if j != 2 {
                    return Err(format!(
                        "invalid time format {pattern} of H, only HH is supported"
                    ));
                }
                out.push_str(&format!("{:02}", t.hour()));
            }
            'h' => {
                let j = run(i, 2);
                i += j - 1;
                let h = match t.hour() % 12 {
                    0 => 12,
                    h => h,
                };
                match j {
                    1 => out.push_str(&h.to_string()),
                    2 => out.push_str(&format!("{h:02}")),
                    _ => {}
                }
            }
            'a' => out.push_str(if t.hour() < 12 { "AM" } else { "PM" }),
            'm' | 's' => {
                let j = run(i, 2);
                i += j - 1;
                let v = if c == 'm' { t.minute() } else { t.second() };
                match j {
                    1 => out.push_str(&v.to_string()),
                    2 => out.push_str(&format!("{v:02}")),
                    _ => {}
                }
            }
            'S' => {
                let mut j = 0;
                while i + j < n && chars[i + j] == 'S' {
                    j += 1;
                }
                i += j - 1;
                let digits = format!("{:09}", t.nanosecond() % 1_000_000_000);
                out.push('.');
                out.push_str(&digits[..j.min(9)]);
            }
            'z' => out.push_str("UTC"),
            'Z' => out.push_str("+0000"),
            'X' => {
                let j = run(i, 3);
                i += j - 1;
                out.push_str(match j {
                    1 => "+00",
                    2 => "+0000",
                    _ => "+00:00",
                });
            }
            '\'' => {
                if chars.get(i + 1) == Some(&'\'') {
                    out.push('\'');
                    i += 2;
                    continue;
                }
                let mut j = 1;
                while i + j < n && chars[i + j] != '\'' {
                    out.push(chars[i + j]);
                    j += 1;
                }
                i += j;
            }
            other => out.push(other),
        }
        i += 1;
    }
    Ok(out)
}

pub fn month_name(m: u32) -> &'static str {
    const NAMES: [&str; 12] = [
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ];
    NAMES
        .get((m as usize).wrapping_sub(1))
        .copied()
        .unwrap_or("%!Month")
}

pub fn weekday_name(from_sunday: u32) -> &'static str {
    const NAMES: [&str; 7] = [
        "Sunday",
        "Monday",
        "Tuesday",
        "Wednesday",
        "Thursday",
        "Friday",
        "Saturday",
    ];
    NAMES
        .get(from_sunday as usize)
        .copied()
        .unwrap_or("%!Weekday")
}

/// Parses `s` with eKuiper's Java-like pattern (`yyyy-MM-dd HH:mm:ss.SSS`, `Z` for an
/// offset, text in single quotes), as `TIMESTAMP_FORMAT` gives it; nanoseconds since the
/// epoch, UTC when the pattern has no offset.
pub fn parse_pattern(s: &str, pattern: &str) -> Result<i64, String> {
    let chars: Vec<char> = pattern.chars().collect();
    let mut fmt = String::new();
    let (mut has_time, mut has_zone) = (false, false);
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let mut j = i + 1;
        while j < chars.len() && chars[j] == c {
            j += 1;
        }
        let n = j - i;
        match c {
            'y' => fmt.push_str(if n == 2 { "%y" } else { "%Y" }),
            'M' => fmt.push_str(if n >= 3 { "%b" } else { "%m" }),
            'd' => fmt.push_str("%d"),
            'H' => {
                has_time = true;
                fmt.push_str("%H")
            }
            'h' => {
                has_time = true;
                fmt.push_str("%I")
            }
            'm' => {
                has_time = true;
                fmt.push_str("%M")
            }
            's' => {
                has_time = true;
                fmt.push_str("%S")
            }
            'S' => fmt.push_str(match n {
                1..=3 => "%3f",
                4..=6 => "%6f",
                _ => "%9f",
            }),
            'a' => fmt.push_str("%p"),
            'Z' | 'z' | 'X' => {
                has_zone = true;
                fmt.push_str("%z")
            }
            '\'' => {
                // quoted literal text, up to the next quote
                let end = chars[i + 1..]
                    .iter()
                    .position(|&q| q == '\'')
                    .map(|p| i + 1 + p);
                let lit: String = chars[i + 1..end.unwrap_or(chars.len())].iter().collect();
                fmt.push_str(&lit.replace('%', "%%"));
                i = end.map_or(chars.len(), |e| e + 1);
                continue;
            }
            '%' => fmt.push_str(&"%%".repeat(n)),
            other => fmt.extend(std::iter::repeat_n(other, n)),
        }
        i = j;
    }
    let bad = |e: chrono::ParseError| format!("cannot parse {s} with format {pattern}: {e}");
    let ns = if has_zone {
        DateTime::parse_from_str(s, &fmt)
            .map_err(bad)?
            .timestamp_nanos_opt()
    } else if has_time {
        NaiveDateTime::parse_from_str(s, &fmt)
            .map_err(bad)?
            .and_utc()
            .timestamp_nanos_opt()
    } else {
        NaiveDate::parse_from_str(s, &fmt)
            .map_err(bad)?
            .and_hms_opt(0, 0, 0)
            .and_then(|d| d.and_utc().timestamp_nanos_opt())
    };
    ns.ok_or_else(|| format!("{s} is out of range"))
}

/// Parses a datetime string without a pattern, as eKuiper does with `jinzhu/now` plus
/// RFC 3339: `2006`, `2006-1`, `2006-1-2`, `2006-1-2 15[:4[:5[.999]]]` (optionally with a
/// `-0700` offset and a zone name), and `2006-01-02T15:04:05[.999][Z07:00]`. Strings
/// without an offset are UTC. Time-only strings are not accepted.
pub fn parse_default(s: &str) -> Result<i64, String> {
    parse_lenient(s.trim()).ok_or_else(|| format!("can't parse string as time: {s}"))
}

fn parse_lenient(s: &str) -> Option<i64> {
    let (date_part, rest) = match s.find(['T', ' ']) {
        Some(p) => (&s[..p], Some(&s[p + 1..])),
        None => (s, None),
    };
    let mut ymd = date_part.split('-');
    let year: i32 = num(ymd.next()?, 4, 4)?;
    let month: u32 = match ymd.next() {
        Some(m) => num(m, 1, 2)?,
        None => 1,
    };
    let day: u32 = match ymd.next() {
        Some(d) => num(d, 1, 2)?,
        None => 1,
    };
    if ymd.next().is_some() {
        return None;
    }
    let date = NaiveDate::from_ymd_opt(year, month, day)?;
    let Some(rest) = rest else {
        return date.and_hms_opt(0, 0, 0)?.and_utc().timestamp_nanos_opt();
    };
    // Split the clock from an offset: `Z`, `+hh:mm`, ` -0700`, ` -0700 MST`.
    let (clock, offset_secs) = split_offset(rest)?;
    let time = parse_clock(clock)?;
    let ndt = NaiveDateTime::new(date, time);
    let ns = ndt.and_utc().timestamp_nanos_opt()?;
    ns.checked_sub(i64::from(offset_secs) * 1_000_000_000)
}

fn num<T: std::str::FromStr>(s: &str, min: usize, max: usize) -> Option<T> {
    if s.len() < min || s.len() > max || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

fn split_offset(rest: &str) -> Option<(&str, i32)> {
    let rest = rest.trim();
    if let Some(clock) = rest.strip_suffix('Z') {
        return Some((clock, 0));
    }
    // Drop a trailing zone name (`UTC`, `MST`) after an explicit offset.
    let rest = match rest.rsplit_once(' ') {
        Some((head, name)) if name.chars().all(|c| c.is_ascii_alphabetic()) => head,
        _ => rest,
    };
    if let Some(p) = rest.rfind(['+', '-']) {
        if p > 0 {
            let (clock, off) = rest.split_at(p);
            let sign = if off.starts_with('-') { -1 } else { 1 };
            let digits: String = off[1..].chars().filter(|c| *c != ':').collect();
            if digits.len() == 4 || digits.len() == 2 {
                let h: i32 = digits.get(..2)?.parse().ok()?;
                let m: i32 = digits.get(2..).map_or(Some(0), |m| {
                    if m.is_empty() {
                        Some(0)
                    } else {
                        m.parse().ok()
                    }
                })?;
                return Some((clock.trim_end(), sign * (h * 3600 + m * 60)));
            }
            return None;
        }
    }
    Some((rest, 0))
}

fn parse_clock(clock: &str) -> Option<NaiveTime> {
    let (hms, frac) = match clock.split_once('.') {
        Some((a, b)) => (a, Some(b)),
        None => (clock, None),
    };
    let mut parts = hms.split(':');
    let h: u32 = num(parts.next()?, 1, 2)?;
    let m: u32 = match parts.next() {
        Some(x) => num(x, 1, 2)?,
        None => 0,
    };
    let sec: u32 = match parts.next() {
        Some(x) => num(x, 1, 2)?,
        None => 0,
    };
    if parts.next().is_some() {
        return None;
    }
    let nanos = match frac {
        Some(f) if !f.is_empty() && f.len() <= 9 && f.bytes().all(|b| b.is_ascii_digit()) => {
            format!("{f:0<9}").parse().ok()?
        }
        Some(_) => return None,
        None => 0,
    };
    NaiveTime::from_hms_nano_opt(h, m, sec, nanos)
}

/// Go's `time.ParseDuration`, in nanoseconds, with its error texts.
pub fn parse_duration(orig: &str) -> Result<i64, String> {
    let invalid = || format!("time: invalid duration {}", go_quote(orig));
    let mut s = orig;
    let mut neg = false;
    if let Some(first) = s.chars().next() {
        if first == '-' || first == '+' {
            neg = first == '-';
            s = &s[1..];
        }
    }
    if s == "0" {
        return Ok(0);
    }
    if s.is_empty() {
        return Err(invalid());
    }
    let mut total: u128 = 0;
    while !s.is_empty() {
        let b = s.as_bytes();
        if !(b[0] == b'.' || b[0].is_ascii_digit()) {
            return Err(invalid());
        }
        let int_len = b.iter().take_while(|c| c.is_ascii_digit()).count();
        let int_part = &s[..int_len];
        s = &s[int_len..];
        let mut frac_part = "";
        if s.starts_with('.') {
            s = &s[1..];
            let fl = s.bytes().take_while(|c| c.is_ascii_digit()).count();
            frac_part = &s[..fl];
            s = &s[fl..];
        }
        if int_part.is_empty() && frac_part.is_empty() {
            return Err(invalid());
        }
        let unit_len = s
            .char_indices()
            .find(|(_, c)| *c == '.' || c.is_ascii_digit())
            .map_or(s.len(), |(i, _)| i);
        if unit_len == 0 {
            return Err(format!("time: missing unit in duration {}", go_quote(orig)));
        }
        let unit_name = &s[..unit_len];
        s = &s[unit_len..];
        let unit: u128 = match unit_name {
            "ns" => 1,
            "us" | "\u{b5}s" | "\u{3bc}s" => 1_000,
            "ms" => 1_000_000,
            "s" => 1_000_000_000,
            "m" => 60_000_000_000,
            "h" => 3_600_000_000_000,
            _ => {
                return Err(format!(
                    "time: unknown unit {} in duration {}",
                    go_quote(unit_name),
                    go_quote(orig)
                ))
            }
        };
        let v: u128 = if int_part.is_empty() {
            0
        } else {
            int_part.parse().map_err(|_| invalid())?
        };
        let mut part = v.checked_mul(unit).ok_or_else(invalid)?;
        if !frac_part.is_empty() {
            let f: f64 = format!("0.{frac_part}").parse().map_err(|_| invalid())?;
            part += (f * unit as f64) as u128;
        }
        total += part;
        if total > 1u128 << 63 {
            return Err(invalid());
        }
    }
    if neg {
        Ok((total as i128).wrapping_neg() as i64)
    } else if total > i64::MAX as u128 {
        Err(invalid())
    } else {
        Ok(total as i64)
    }
}

/// Go's `strconv.Quote` for the simple strings durations are made of.
fn go_quote(s: &str) -> String {
    format!("{s:?}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(s: &str) -> i64 {
        parse_default(s).expect("parse") / 1_000_000
    }

    #[test]
    fn parses_with_ekuiper_patterns() {
        let ms = |s: &str, p: &str| parse_pattern(s, p).map(|ns| ns / 1_000_000);
        assert_eq!(
            ms("2018-11-02 09:54:46", "yyyy-MM-dd HH:mm:ss"),
            Ok(1_541_152_486_000)
        );
        assert_eq!(
            ms("2018-11-02T09:54:46.013", "yyyy-MM-dd'T'HH:mm:ss.SSS"),
            Ok(1_541_152_486_013)
        );
        assert_eq!(
            ms("2018-11-02 10:54:46 +0100", "yyyy-MM-dd HH:mm:ss Z"),
            Ok(1_541_152_486_000)
        );
        assert_eq!(ms("2018/11/02", "yyyy/MM/dd"), Ok(1_541_116_800_000));
        assert!(parse_pattern("02-11-2018", "yyyy-MM-dd").is_err());
    }

    #[test]
    fn parses_the_common_shapes() {
        assert_eq!(ms("2019-01-01"), 1_546_300_800_000);
        assert_eq!(ms("2019-01-01 00:00:00"), 1_546_300_800_000);
        assert_eq!(ms("2019-1-1 0:0:1"), 1_546_300_801_000);
        assert_eq!(ms("2019-01-01T08:00:00+08:00"), 1_546_300_800_000);
        assert_eq!(ms("2019-01-01T00:00:00.5Z"), 1_546_300_800_500);
        assert_eq!(ms("2019-01-01 00:00:00 +0000 UTC"), 1_546_300_800_000);
        assert_eq!(ms("2019"), 1_546_300_800_000);
        assert!(parse_default("yesterday").is_err());
    }

    #[test]
    fn formats_java_patterns() {
        // 2020-01-16 02:14:24.913 UTC, the example of eKuiper's own tests.
        let ns = 1_579_140_864_913_000_000;
        assert_eq!(
            format_pattern(ns, "YYYY-MM-dd HH:mm:ssSSS").as_deref(),
            Ok("2020-01-16 02:14:24.913")
        );
        assert_eq!(
            format_pattern(ns, "YYYY-MM-dd T HH:mm:ss").as_deref(),
            Ok("2020-01-16 T 02:14:24")
        );
        assert_eq!(
            format_pattern(ns, "EEE MMM d h:m a z XXX").as_deref(),
            Ok("Thu Jan 16 2:14 AM UTC +00:00")
        );
        assert_eq!(
            format_pattern(ns, "'day 'yyyy''").as_deref(),
            Ok("day 2020'")
        );
        assert!(format_pattern(ns, "YYY").is_err());
        assert!(format_pattern(ns, "H").is_err());
    }

    #[test]
    fn durations_follow_go() {
        assert_eq!(parse_duration("1h30m"), Ok(5_400_000_000_000));
        assert_eq!(parse_duration("1.5s"), Ok(1_500_000_000));
        assert_eq!(parse_duration("-2ms"), Ok(-2_000_000));
        assert_eq!(
            parse_duration("1d"),
            Err(r#"time: unknown unit "d" in duration "1d""#.to_string())
        );
        assert_eq!(
            parse_duration("10"),
            Err(r#"time: missing unit in duration "10""#.to_string())
        );
    }

    #[test]
    fn go_time_string_matches_time_string() {
        assert_eq!(go_time_string(0), "1970-01-01 00:00:00 +0000 UTC");
        assert_eq!(
            go_time_string(1_500_000_000),
            "1970-01-01 00:00:01.5 +0000 UTC"
        );
    }
}
