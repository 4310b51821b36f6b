//! What flows from the decode stages to a rule's operators.

use crate::checkpoint::Barrier;
use crate::operator::Chunk;

/// One item of a rule's operator input.
#[derive(Debug)]
pub enum Event {
    Data(Chunk),
    /// The rule clock reached this time (window ticks).
    Tick(i64),
    /// A checkpoint marker: every row before it is before the checkpoint.
    Barrier(Barrier),
}
