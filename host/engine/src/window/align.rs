//! eKuiper's alignment of the first window tick (`getAlignedWindowEndTime`), in UTC.
//!
//! The first end of a time window is the next multiple of its interval counted from
//! the start of the enclosing day (`hh`), hour (`mi`), minute (`ss`) or second (`ms`);
//! a `dd` window ends at midnight `interval` days later. eKuiper compares with a strict
//! `>`, so when the current second equals the interval the end is the current second
//! itself; that quirk is kept because eKuiper's own tests depend on its alignment.

use tributary_sql::TimeUnit;

/// The end of the first window of `interval` units containing (or starting at) `now_ms`.
pub fn aligned_end(now_ms: i64, interval: i64, unit: TimeUnit) -> i64 {
    let interval = interval.max(1);
    // (length of the enclosing period, length of one unit)
    let (period, unit_ms) = match unit {
        TimeUnit::Day => {
            let day = 86_400_000;
            return now_ms - now_ms.rem_euclid(day) + interval * day;
        }
        TimeUnit::Hour => (86_400_000, 3_600_000),
        TimeUnit::Minute => (3_600_000, 60_000),
        TimeUnit::Second => (60_000, 1_000),
        TimeUnit::Millisecond => (1_000, 1),
    };
    let period_start = now_ms - now_ms.rem_euclid(period);
    let elapsed_units = (now_ms - period_start) / unit_ms;
    let gap = if elapsed_units > interval {
        interval * (elapsed_units / interval + 1)
    } else {
        interval
    };
    period_start + gap * unit_ms
}

#[cfg(test)]
mod tests {
    use super::*;

    // 2018-11-02T09:54:46.013Z, the first tuple of eKuiper's `demo` test stream.
    const T: i64 = 1_541_152_486_013;

    #[test]
    fn aligns_inside_the_enclosing_period() {
        let minute = T - T.rem_euclid(60_000);
        // second 46: the next multiple of 10 s is :50
        assert_eq!(aligned_end(T, 10, TimeUnit::Second), minute + 50_000);
        // the next multiple of 1 s
        assert_eq!(aligned_end(T, 1, TimeUnit::Second), minute + 47_000);
        // 2 s: :48
        assert_eq!(aligned_end(T, 2, TimeUnit::Second), minute + 48_000);
        // interval longer than the elapsed seconds: the interval itself
        assert_eq!(aligned_end(T, 50, TimeUnit::Second), minute + 50_000);
        let second = T - T.rem_euclid(1000);
        assert_eq!(aligned_end(T, 5, TimeUnit::Millisecond), second + 15);
        let hour = T - T.rem_euclid(3_600_000);
        assert_eq!(aligned_end(T, 1, TimeUnit::Minute), hour + 55 * 60_000);
        let day = T - T.rem_euclid(86_400_000);
        assert_eq!(aligned_end(T, 1, TimeUnit::Day), day + 86_400_000);
    }

    #[test]
    fn equal_second_and_interval_keeps_ekuipers_quirk() {
        let minute = T - T.rem_euclid(60_000);
        assert_eq!(
            aligned_end(minute + 3_000, 3, TimeUnit::Second),
            minute + 3_000
        );
    }
}
