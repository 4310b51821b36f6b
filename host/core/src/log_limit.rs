//! Rate limits for warnings that repeat: a faulting plugin or a sink whose
//! destination is down would otherwise log at every batch or retry (six faulty rules
//! filled about a gigabyte of log a day). Each key (a plugin in a rule, a rule's sink)
//! logs at most once per interval; the next line that gets through says how many
//! were held back meanwhile.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How often one key may log.
pub const INTERVAL: Duration = Duration::from_secs(10);

/// Per-key rate limits.
#[derive(Debug, Default)]
pub struct LogLimiter {
    keys: Mutex<HashMap<String, (Instant, u64)>>,
}

impl LogLimiter {
    /// `Some(held back)` when a line for `key` may be logged now (with how many were
    /// held back since the last one), `None` when it is held back.
    pub fn allow(&self, key: &str) -> Option<u64> {
        self.allow_at(key, Instant::now(), INTERVAL)
    }

    fn allow_at(&self, key: &str, now: Instant, interval: Duration) -> Option<u64> {
        let mut keys = self.keys.lock().unwrap_or_else(|e| e.into_inner());
        if keys.len() > 10_000 {
            // Keys of rules long gone: start afresh rather than grow without bound.
            keys.retain(|_, (at, _)| now.duration_since(*at) < interval);
        }
        match keys.get_mut(key) {
            Some((at, held)) if now.duration_since(*at) < interval => {
                *held += 1;
                None
            }
            Some((at, held)) => {
                let n = *held;
                *at = now;
                *held = 0;
                Some(n)
            }
            None => {
                keys.insert(key.to_string(), (now, 0));
                Some(0)
            }
        }
    }
}

/// The limiter of the whole process.
pub fn global() -> &'static LogLimiter {
    static L: std::sync::OnceLock<LogLimiter> = std::sync::OnceLock::new();
    L.get_or_init(LogLimiter::default)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_line_per_interval_per_key_with_the_count_held_back() {
        let l = LogLimiter::default();
        let t0 = Instant::now();
        let i = Duration::from_secs(10);
        assert_eq!(l.allow_at("a", t0, i), Some(0));
        assert_eq!(l.allow_at("a", t0 + Duration::from_secs(1), i), None);
        assert_eq!(l.allow_at("a", t0 + Duration::from_secs(2), i), None);
        assert_eq!(l.allow_at("b", t0 + Duration::from_secs(2), i), Some(0));
        assert_eq!(l.allow_at("a", t0 + Duration::from_secs(11), i), Some(2));
    }
}
