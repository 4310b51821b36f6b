//! The one supervision policy of every plugin instance, whatever its tier and kind.
//!
//! A failed call (a trap, a missed deadline, a panic caught at the native boundary,
//! an error the plugin returned for the whole call) discards the instance; the next
//! call creates a fresh one with the same state scope. After consecutive faults the
//! calls in between are refused, twice as many each time up to
//! [`MAX_SKIPPED_CALLS`], so a plugin that fails at every call does not cost an
//! instantiation per batch. Counting calls rather than time keeps trial runs exact.
//! The host never dies of a plugin.

/// The most calls refused between two attempts to re-create a faulting instance.
pub const MAX_SKIPPED_CALLS: u32 = 64;

/// The fault history of one instance slot.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Supervisor {
    /// Consecutive faults.
    failures: u32,
    /// Calls still to refuse before the next attempt.
    skip: u32,
}

impl Supervisor {
    /// Before creating an instance: `Err` with the reason while backing off.
    pub fn may_start(&mut self, plugin: &str) -> Result<(), String> {
        if self.skip > 0 {
            self.skip -= 1;
            return Err(format!(
                "plugin {plugin} is restarting after {} failures in a row",
                self.failures
            ));
        }
        Ok(())
    }

    /// A call succeeded.
    pub fn succeeded(&mut self) {
        self.failures = 0;
    }

    /// A call failed and its instance was discarded.
    pub fn failed(&mut self) {
        self.failures += 1;
        self.skip = if self.failures < 2 {
            0
        } else {
            (1u32 << (self.failures - 1).min(6)).min(MAX_SKIPPED_CALLS)
        };
    }

    /// A new version starts with a clean history.
    pub fn reset(&mut self) {
        *self = Supervisor::default();
    }

    pub fn failures(&self) -> u32 {
        self.failures
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn back_off_doubles_up_to_the_cap_and_a_success_resets_it() {
        let mut s = Supervisor::default();
        let refused = |s: &mut Supervisor| {
            let mut n = 0;
            while s.may_start("p").is_err() {
                n += 1;
            }
            n
        };
        s.failed();
        assert_eq!(refused(&mut s), 0, "the first fault retries at once");
        let mut seen = Vec::new();
        for _ in 0..8 {
            s.failed();
            seen.push(refused(&mut s));
        }
        assert_eq!(seen, [2, 4, 8, 16, 32, 64, 64, 64]);
        s.succeeded();
        s.failed();
        assert_eq!(refused(&mut s), 0);
    }
}
