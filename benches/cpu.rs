//! CPU time read from `/proc`, for the benches that report CPU beside throughput
//! (criterion measures wall time only): the threads of one named runtime of this
//! process, or another process (a broker).

use std::fmt;
use std::time::Duration;

/// Clock ticks per second of `/proc/*/stat` (USER_HZ, 100 on Linux).
const TICKS: f64 = 100.0;

/// utime + stime of one `/proc/.../stat` line, after the `(comm)` field.
fn stat_ticks(stat: &str) -> u64 {
    let Some(rest) = stat.rsplit_once(')').map(|(_, r)| r) else {
        return 0;
    };
    // Fields after comm: state(3) ppid ... utime is field 14, stime 15 (1-based).
    let f: Vec<&str> = rest.split_whitespace().collect();
    let n = |i: usize| f.get(i).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0);
    n(11) + n(12)
}

fn ticks_to_duration(t: u64) -> Duration {
    Duration::from_secs_f64(t as f64 / TICKS)
}

/// CPU time so far of this process's threads whose name starts with `prefix`
/// (tokio names every worker of a runtime alike).
pub fn thread_cpu(prefix: &str) -> Duration {
    let mut ticks = 0;
    if let Ok(tasks) = std::fs::read_dir("/proc/self/task") {
        for t in tasks.flatten() {
            let comm = std::fs::read_to_string(t.path().join("comm")).unwrap_or_default();
            if comm.trim_end().starts_with(prefix) {
                ticks +=
                    stat_ticks(&std::fs::read_to_string(t.path().join("stat")).unwrap_or_default());
            }
        }
    }
    ticks_to_duration(ticks)
}

/// CPU time so far of process `pid` (zero when it is unknown or gone).
pub fn process_cpu(pid: Option<u32>) -> Duration {
    let Some(pid) = pid else {
        return Duration::ZERO;
    };
    ticks_to_duration(stat_ticks(
        &std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default(),
    ))
}

/// CPU used over many passes of a bench: by the pipeline measured, by the broker,
/// against the wall time and the messages of those passes.
#[derive(Debug, Default)]
pub struct Cpu {
    pipeline: Duration,
    broker: Duration,
    wall: Duration,
    messages: u64,
}

impl Cpu {
    pub fn add(&mut self, pipeline: Duration, broker: Duration, wall: Duration, messages: u64) {
        self.pipeline += pipeline;
        self.broker += broker;
        self.wall += wall;
        self.messages += messages;
    }
}

impl fmt::Display for Cpu {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let wall = self.wall.as_secs_f64().max(1e-9);
        let per_msg = |d: Duration| d.as_secs_f64() * 1e6 / self.messages.max(1) as f64;
        write!(
            f,
            "{:.0} msg/s over {} messages; pipeline CPU {:.0}% of a core ({:.2} µs/msg); mosquitto {:.0}% ({:.2} µs/msg)",
            self.messages as f64 / wall,
            self.messages,
            100.0 * self.pipeline.as_secs_f64() / wall,
            per_msg(self.pipeline),
            100.0 * self.broker.as_secs_f64() / wall,
            per_msg(self.broker),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_utime_and_stime_after_a_comm_with_spaces() {
        // pid (comm) state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime
        let line = "42 (a (b) c) S 1 2 3 4 5 6 7 8 9 10 250 50 0 0";
        assert_eq!(stat_ticks(line), 300);
    }

    #[test]
    fn this_process_has_used_some_cpu() {
        let mut x = 0u64;
        for i in 0..20_000_000u64 {
            x = x.wrapping_mul(31).wrapping_add(i);
        }
        std::hint::black_box(x);
        assert!(process_cpu(Some(std::process::id())) > Duration::ZERO);
    }
}
