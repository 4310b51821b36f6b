//! Source offsets, for rewinding.
//!
//! A rewindable source (file, simulator) counts the rows it has handed to the rule in
//! a shared [`SourceOffset`]. The engine reads it when it checkpoints, and to resume
//! creates the source with an offset set to the checkpointed value: the source then
//! skips that many rows before sending. The counter is shared (`Arc`) because the
//! source itself is moved into its task by `Source::run`.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

#[derive(Debug, Clone, Default)]
pub struct SourceOffset(Arc<AtomicU64>);

impl SourceOffset {
    /// An offset starting at `start` rows.
    pub fn new(start: u64) -> Self {
        SourceOffset(Arc::new(AtomicU64::new(start)))
    }
    /// Rows sent so far (in the current pass, for a file source that re-reads).
    pub fn get(&self) -> u64 {
        self.0.load(Ordering::SeqCst)
    }
    pub fn set(&self, v: u64) {
        self.0.store(v, Ordering::SeqCst);
    }
    pub fn advance(&self, n: u64) {
        self.0.fetch_add(n, Ordering::SeqCst);
    }
}
