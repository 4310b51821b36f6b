//! The connection status a connector that keeps a connection (an MQTT source or sink)
//! reports, so that an operator sees it in the rule's status and in `/metrics`, not
//! only in the log. The engine gives each connector its own [`ConnectionStatus`]
//! through the [`crate::connector::ConnectorContext`]; a connector that never reports
//! shows nothing.

use std::sync::atomic::{AtomicI64, AtomicU64, AtomicU8, Ordering};
use std::sync::Mutex;

const UNKNOWN: u8 = 0;
const CONNECTING: u8 = 1;
const CONNECTED: u8 = 2;
const DISCONNECTED: u8 = 3;

/// Shared between a connector (which writes it) and the engine (which reads it).
#[derive(Debug, Default)]
pub struct ConnectionStatus {
    state: AtomicU8,
    last_connected_ms: AtomicI64,
    last_disconnected_ms: AtomicI64,
    disconnections: AtomicU64,
    last_error: Mutex<String>,
}

/// A copy of a [`ConnectionStatus`] at one moment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectionSnapshot {
    /// eKuiper's encoding: 1 connected, 0 connecting, -1 disconnected.
    pub status: i64,
    /// Epoch ms of the last connection and disconnection (0: never).
    pub last_connected_ms: i64,
    pub last_disconnected_ms: i64,
    /// How often the connection was lost.
    pub disconnections: u64,
    /// Why it was last lost (empty when never).
    pub last_error: String,
}

impl ConnectionStatus {
    /// The connector is trying to connect (first time or again after a loss).
    pub fn connecting(&self) {
        let _ =
            self.state
                .compare_exchange(UNKNOWN, CONNECTING, Ordering::Relaxed, Ordering::Relaxed);
    }

    /// The connector says it is (re)connecting, whatever it was before; leaving a
    /// live connection counts as a disconnection, for `reason`.
    pub fn reconnecting(&self, now_ms: i64, reason: &str) {
        if self.state.swap(CONNECTING, Ordering::Relaxed) == CONNECTED {
            self.disconnections.fetch_add(1, Ordering::Relaxed);
            self.last_disconnected_ms.store(now_ms, Ordering::Relaxed);
            if let Ok(mut e) = self.last_error.lock() {
                e.clear();
                e.push_str(reason);
            }
        }
    }

    pub fn connected(&self, now_ms: i64) {
        self.state.store(CONNECTED, Ordering::Relaxed);
        self.last_connected_ms.store(now_ms, Ordering::Relaxed);
    }

    /// The connection was lost (or a connection attempt failed) because of `error`.
    /// Only a loss of a live connection counts as a disconnection.
    pub fn disconnected(&self, now_ms: i64, error: &str) {
        if self.state.swap(DISCONNECTED, Ordering::Relaxed) == CONNECTED {
            self.disconnections.fetch_add(1, Ordering::Relaxed);
            self.last_disconnected_ms.store(now_ms, Ordering::Relaxed);
        }
        if let Ok(mut e) = self.last_error.lock() {
            e.clear();
            e.push_str(error);
        }
    }

    /// None while the connector has reported nothing.
    pub fn snapshot(&self) -> Option<ConnectionSnapshot> {
        let status = match self.state.load(Ordering::Relaxed) {
            UNKNOWN => return None,
            CONNECTED => 1,
            CONNECTING => 0,
            _ => -1,
        };
        Some(ConnectionSnapshot {
            status,
            last_connected_ms: self.last_connected_ms.load(Ordering::Relaxed),
            last_disconnected_ms: self.last_disconnected_ms.load(Ordering::Relaxed),
            disconnections: self.disconnections.load(Ordering::Relaxed),
            last_error: self
                .last_error
                .lock()
                .map(|e| e.clone())
                .unwrap_or_default(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn silent_connectors_report_nothing() {
        assert_eq!(ConnectionStatus::default().snapshot(), None);
    }

    #[test]
    fn a_lost_connection_counts_once_and_keeps_its_reason() {
        let c = ConnectionStatus::default();
        c.connecting();
        assert_eq!(c.snapshot().map(|s| s.status), Some(0));
        c.connected(10);
        c.disconnected(20, "connection refused");
        // Failed attempts while away are not more disconnections.
        c.disconnected(30, "connection refused again");
        let s = c.snapshot().expect("reported");
        assert_eq!((s.status, s.disconnections), (-1, 1));
        assert_eq!((s.last_connected_ms, s.last_disconnected_ms), (10, 20));
        assert_eq!(s.last_error, "connection refused again");
        c.connected(40);
        assert_eq!(c.snapshot().map(|s| s.status), Some(1));
    }

    #[test]
    fn connecting_does_not_hide_a_known_state() {
        let c = ConnectionStatus::default();
        c.connected(1);
        c.connecting();
        assert_eq!(c.snapshot().map(|s| s.status), Some(1));
    }
}
