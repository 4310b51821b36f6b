//! Injectable clocks. Production runs on [`SystemClock`]; `tributary trial` and tests run
//! on [`MockClock`], so that timing-dependent behaviour (processing time, window ticks)
//! is exact and repeatable.

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;

/// A source of "now", in epoch milliseconds.
pub trait Clock: Send + Sync + std::fmt::Debug {
    fn now_ms(&self) -> i64;
}

/// The wall clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now_ms(&self) -> i64 {
        chrono::Utc::now().timestamp_millis()
    }
}

/// A clock that only moves when told to. Cloning shares the same time.
#[derive(Debug, Default, Clone)]
pub struct MockClock {
    now: Arc<AtomicI64>,
}

impl MockClock {
    pub fn new(start_ms: i64) -> Self {
        MockClock {
            now: Arc::new(AtomicI64::new(start_ms)),
        }
    }
    /// Moves the clock to `ms`. Time never goes backwards: an earlier value is ignored.
    pub fn set(&self, ms: i64) {
        self.now.fetch_max(ms, Ordering::SeqCst);
    }
}

impl Clock for MockClock {
    fn now_ms(&self) -> i64 {
        self.now.load(Ordering::SeqCst)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mock_clock_is_shared_and_monotonic() {
        let c = MockClock::new(1000);
        let c2 = c.clone();
        c.set(2000);
        assert_eq!(c2.now_ms(), 2000);
        c.set(1500);
        assert_eq!(c2.now_ms(), 2000);
    }
}
