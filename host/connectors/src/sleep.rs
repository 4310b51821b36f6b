//! Waiting between messages, behind a trait.
//!
//! The simulator and the file source pause between records (`interval`,
//! `sendInterval`). In production that is a tokio timer; tests and `tributary trial`
//! must not wait in real time, so the wait is injected: [`NoSleep`] returns at once,
//! [`MockClockSleeper`] advances a [`MockClock`] instead of waiting, so the timestamps
//! a source stamps move exactly as they would have.

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tributary_core::connector::BoxFuture;
use tributary_core::MockClock;

/// Something that can wait `ms` milliseconds.
pub trait Sleeper: Send + Sync + fmt::Debug {
    fn sleep(&self, ms: u64) -> BoxFuture<'static, ()>;
}

/// Waits on tokio's timer: the production choice.
#[derive(Debug, Default, Clone, Copy)]
pub struct TokioSleeper;

impl Sleeper for TokioSleeper {
    fn sleep(&self, ms: u64) -> BoxFuture<'static, ()> {
        Box::pin(tokio::time::sleep(Duration::from_millis(ms)))
    }
}

/// Does not wait; only adds up how long it was asked to wait (for assertions).
#[derive(Debug, Default, Clone)]
pub struct NoSleep {
    total_ms: Arc<AtomicU64>,
}

impl NoSleep {
    pub fn new() -> Self {
        NoSleep::default()
    }
    /// The sum of all requested waits, in ms.
    pub fn total_ms(&self) -> u64 {
        self.total_ms.load(Ordering::SeqCst)
    }
}

impl Sleeper for NoSleep {
    fn sleep(&self, ms: u64) -> BoxFuture<'static, ()> {
        self.total_ms.fetch_add(ms, Ordering::SeqCst);
        // Yield, so a looping source cannot starve the rest of a current-thread runtime.
        Box::pin(tokio::task::yield_now())
    }
}

/// Moves a [`MockClock`] forward by the requested time instead of waiting.
#[derive(Debug, Clone)]
pub struct MockClockSleeper {
    clock: MockClock,
}

impl MockClockSleeper {
    pub fn new(clock: MockClock) -> Self {
        MockClockSleeper { clock }
    }
}

impl Sleeper for MockClockSleeper {
    fn sleep(&self, ms: u64) -> BoxFuture<'static, ()> {
        use tributary_core::Clock;
        let now = self.clock.now_ms();
        self.clock
            .set(now.saturating_add(i64::try_from(ms).unwrap_or(i64::MAX)));
        Box::pin(tokio::task::yield_now())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tributary_core::Clock;

    #[tokio::test]
    async fn no_sleep_counts_and_mock_clock_advances() {
        let s = NoSleep::new();
        s.sleep(10).await;
        s.sleep(5).await;
        assert_eq!(s.total_ms(), 15);

        let clock = MockClock::new(1000);
        MockClockSleeper::new(clock.clone()).sleep(250).await;
        assert_eq!(clock.now_ms(), 1250);
    }
}
