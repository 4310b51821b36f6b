//! eKuiper's windows as typed values: `GROUP BY TUMBLINGWINDOW(ss, 10)` becomes a
//! [`Window`] instead of a function call, so the runtime never looks at window syntax.
//!
//! The window "functions" are parsed by `sqlparser` as ordinary calls in GROUP BY; this
//! module checks their arguments (time unit, positive lengths) and turns them into
//! [`WindowKind`]s, with the optional `FILTER (WHERE …)` and `OVER (WHEN …)` parts.

use crate::error::SqlError;
use crate::expr::Expr;
use tributary_core::Value;

/// eKuiper's time units: `dd`, `hh`, `mi`, `ss`, `ms`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeUnit {
    Day,
    Hour,
    Minute,
    Second,
    Millisecond,
}

impl TimeUnit {
    pub fn parse(s: &str) -> Option<TimeUnit> {
        Some(match s.to_ascii_lowercase().as_str() {
            "dd" => TimeUnit::Day,
            "hh" => TimeUnit::Hour,
            "mi" => TimeUnit::Minute,
            "ss" => TimeUnit::Second,
            "ms" => TimeUnit::Millisecond,
            _ => return None,
        })
    }

    /// The unit's length in milliseconds.
    pub fn millis(self) -> i64 {
        match self {
            TimeUnit::Day => 86_400_000,
            TimeUnit::Hour => 3_600_000,
            TimeUnit::Minute => 60_000,
            TimeUnit::Second => 1_000,
            TimeUnit::Millisecond => 1,
        }
    }
}

/// The kind of a window and its lengths. Time lengths are in milliseconds.
#[derive(Debug, Clone, PartialEq)]
pub enum WindowKind {
    /// `TUMBLINGWINDOW(unit, size)`: back-to-back windows of `size`.
    Tumbling { size: i64 },
    /// `HOPPINGWINDOW(unit, size, hop)`: windows of `size` starting every `hop`.
    Hopping { size: i64, hop: i64 },
    /// `SLIDINGWINDOW(unit, size[, delay])`: at each tuple (or each tuple matching
    /// `OVER (WHEN …)`), the tuples of the last `size`; emitted `delay` later.
    Sliding { size: i64, delay: i64 },
    /// `SESSIONWINDOW(unit, max, timeout)`: a session closes after `timeout` without a
    /// tuple, or at the latest at an aligned multiple of `max`.
    Session { max: i64, timeout: i64 },
    /// `COUNTWINDOW(size[, hop])`: every `hop` tuples (default `size`), the last `size`.
    Count { size: usize, hop: usize },
    /// `STATEWINDOW(begin, emit)`: opens when `begin` holds, emits and closes when
    /// `emit` holds.
    State { begin: Box<Expr>, emit: Box<Expr> },
}

/// A window of a rule.
#[derive(Debug, Clone, PartialEq)]
pub struct Window {
    pub kind: WindowKind,
    /// The unit the lengths were written in (`None` for count and state windows);
    /// processing-time windows align their first tick to it.
    pub unit: Option<TimeUnit>,
    /// `FILTER (WHERE …)`: only matching tuples enter the window.
    pub filter: Option<Expr>,
    /// `OVER (WHEN …)` of a sliding window: only matching tuples trigger it.
    pub trigger: Option<Expr>,
}

impl Window {
    /// The window's length in its own unit (the `10` of `TUMBLINGWINDOW(ss, 10)`),
    /// which eKuiper's tick alignment uses.
    pub fn raw_interval(&self) -> i64 {
        let unit = self.unit.map(TimeUnit::millis).unwrap_or(1);
        match &self.kind {
            WindowKind::Tumbling { size } => size / unit,
            WindowKind::Hopping { hop, .. } => hop / unit,
            WindowKind::Sliding { size, .. } => size / unit,
            WindowKind::Session { max, .. } => max / unit,
            WindowKind::Count { .. } | WindowKind::State { .. } => 0,
        }
    }
}

/// The names of eKuiper's window functions.
pub const WINDOW_FUNCTIONS: &[&str] = &[
    "tumblingwindow",
    "hoppingwindow",
    "slidingwindow",
    "sessionwindow",
    "countwindow",
    "statewindow",
];

pub fn is_window_function(name: &str) -> bool {
    WINDOW_FUNCTIONS
        .iter()
        .any(|w| w.eq_ignore_ascii_case(name))
}

/// Builds a window from its lowered call `name(args)`.
pub(crate) fn window_from_call(name: &str, args: Vec<Expr>) -> Result<Window, SqlError> {
    let lname = name.to_ascii_lowercase();
    let err = |m: String| SqlError::new(format!("{name}: {m}"));
    if lname == "statewindow" {
        let [begin, emit]: [Expr; 2] = args.try_into().map_err(|a: Vec<Expr>| {
            err(format!(
                "expects 2 arguments (begin, emit) but found {}",
                a.len()
            ))
        })?;
        return Ok(Window {
            kind: WindowKind::State {
                begin: Box::new(begin),
                emit: Box::new(emit),
            },
            unit: None,
            filter: None,
            trigger: None,
        });
    }
    if lname == "countwindow" {
        let nums = args
            .iter()
            .enumerate()
            .map(|(i, a)| {
                positive_int(a)
                    .ok_or_else(|| err(format!("argument {} must be a positive integer", i + 1)))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let (size, hop) = match nums[..] {
            [s] => (s, s),
            [s, h] => {
                if h > s {
                    return Err(err(format!(
                        "the hop {h} must not be larger than the size {s}"
                    )));
                }
                (s, h)
            }
            _ => {
                return Err(err(format!(
                    "expects 1 or 2 arguments but found {}",
                    nums.len()
                )))
            }
        };
        let to_usize = |v: i64| usize::try_from(v).map_err(|_| err(format!("{v} is too large")));
        return Ok(Window {
            kind: WindowKind::Count {
                size: to_usize(size)?,
                hop: to_usize(hop)?,
            },
            unit: None,
            filter: None,
            trigger: None,
        });
    }
    let Some((unit_arg, rest)) = args.split_first() else {
        return Err(err(
            "expects a time unit (dd, hh, mi, ss or ms) as first argument".into(),
        ));
    };
    let unit = match unit_arg {
        Expr::Field { stream: None, name } => TimeUnit::parse(name),
        _ => None,
    }
    .ok_or_else(|| {
        err("the first argument must be a time unit: dd, hh, mi, ss or ms".to_string())
    })?;
    let mut lengths = Vec::with_capacity(rest.len());
    for (i, a) in rest.iter().enumerate() {
        let v = positive_int(a)
            .ok_or_else(|| err(format!("argument {} must be a positive integer", i + 2)))?;
        let ms = v
            .checked_mul(unit.millis())
            .ok_or_else(|| err(format!("argument {} is too large", i + 2)))?;
        lengths.push(ms);
    }
    let count_err = |want: &str| err(format!("expects {want} but found {}", args.len()));
    let kind = match lname.as_str() {
        "tumblingwindow" => match lengths[..] {
            [size] => WindowKind::Tumbling { size },
            _ => return Err(count_err("2 arguments (unit, size)")),
        },
        "hoppingwindow" => match lengths[..] {
            [size, hop] => WindowKind::Hopping { size, hop },
            _ => return Err(count_err("3 arguments (unit, size, hop)")),
        },
        "slidingwindow" => match lengths[..] {
            [size] => WindowKind::Sliding { size, delay: 0 },
            [size, delay] => WindowKind::Sliding { size, delay },
            _ => return Err(count_err("2 or 3 arguments (unit, size[, delay])")),
        },
        "sessionwindow" => match lengths[..] {
            [max, timeout] => WindowKind::Session { max, timeout },
            _ => return Err(count_err("3 arguments (unit, max duration, timeout)")),
        },
        _ => return Err(SqlError::new(format!("unknown window {name}"))),
    };
    Ok(Window {
        kind,
        unit: Some(unit),
        filter: None,
        trigger: None,
    })
}

fn positive_int(e: &Expr) -> Option<i64> {
    match e {
        Expr::Literal(Value::Int(i)) if *i > 0 => Some(*i),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unit(u: &str) -> Expr {
        Expr::field(u)
    }
    fn n(i: i64) -> Expr {
        Expr::Literal(Value::Int(i))
    }

    #[test]
    fn time_windows_convert_to_milliseconds() {
        let w = window_from_call("TUMBLINGWINDOW", vec![unit("ss"), n(10)]).expect("tumbling");
        assert_eq!(w.kind, WindowKind::Tumbling { size: 10_000 });
        assert_eq!(w.raw_interval(), 10);
        let w = window_from_call("hoppingwindow", vec![unit("mi"), n(2), n(1)]).expect("hop");
        assert_eq!(
            w.kind,
            WindowKind::Hopping {
                size: 120_000,
                hop: 60_000
            }
        );
        let w = window_from_call("SlidingWindow", vec![unit("ms"), n(5), n(2)]).expect("slide");
        assert_eq!(w.kind, WindowKind::Sliding { size: 5, delay: 2 });
        let w = window_from_call("sessionwindow", vec![unit("hh"), n(1), n(2)]).expect("session");
        assert_eq!(
            w.kind,
            WindowKind::Session {
                max: 3_600_000,
                timeout: 7_200_000
            }
        );
        let w = window_from_call("countwindow", vec![n(5), n(2)]).expect("count");
        assert_eq!(w.kind, WindowKind::Count { size: 5, hop: 2 });
    }

    #[test]
    fn bad_windows_name_the_problem() {
        for (name, args, want) in [
            ("tumblingwindow", vec![unit("xx"), n(1)], "time unit"),
            (
                "tumblingwindow",
                vec![unit("ss"), n(0)],
                "argument 2 must be a positive",
            ),
            ("tumblingwindow", vec![unit("ss")], "expects 2 arguments"),
            (
                "hoppingwindow",
                vec![unit("ss"), n(1)],
                "expects 3 arguments",
            ),
            ("countwindow", vec![n(2), n(5)], "must not be larger"),
            ("countwindow", vec![], "expects 1 or 2"),
            ("statewindow", vec![n(1)], "expects 2 arguments"),
        ] {
            let e = window_from_call(name, args).expect_err(name).to_string();
            assert!(e.contains(want), "{name}: {e}");
        }
    }
}
