//! Windows: which tuples are grouped together and when the group is emitted.
//!
//! - [`align`]: eKuiper's alignment of the first processing-time tick;
//! - [`assigner`]: window membership and firing on an explicit clock;
//! - [`watermark`]: event-time ordering and late-tuple dropping.
//!
//! The operator that drives them is `ops::window::WindowOp`.

pub mod align;
pub mod assigner;
pub mod watermark;

pub use assigner::{Assigner, Entry, Fired, Flags};
pub use watermark::Watermark;
