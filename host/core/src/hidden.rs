//! The columns the engine adds for itself: a join's qualified copies and stream
//! marker, aggregate and analytic results, window bounds, row numbers, hit counts.
//!
//! They are told apart from a user's fields by their type, not by a name: a row keeps
//! them in [`crate::Row::hidden`] beside its fields, and expressions reach them through
//! their own variant, so no field a user names can be mistaken for one, they never
//! reach the output, and nothing has to filter them out by a name prefix.

use std::sync::Arc;

/// One hidden column.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum HiddenCol {
    /// `stream.field` in a rule with JOINs: the field of that stream.
    Qualified {
        stream: Arc<str>,
        field: Arc<str>,
    },
    /// The index of the stream a row came from (FROM = 0, then JOIN order).
    Stream,
    /// The result of the aggregate call at this call site.
    Aggregate(usize),
    /// The result of the analytic call at this call site.
    Analytic(usize),
    WindowStart,
    WindowEnd,
    /// `row_number()` of a window's emission.
    RowNumber,
    /// `last_hit_count()` / `last_hit_time()` of a condition.
    HitCount,
    HitTime,
    /// `last_agg_hit_count()` / `last_agg_hit_time()` of a rule's emissions.
    AggHitCount,
    AggHitTime,
}

impl std::fmt::Display for HiddenCol {
    /// How an error message names the column: as the rule wrote it.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            HiddenCol::Qualified { stream, field } => write!(f, "{stream}.{field}"),
            HiddenCol::Stream => f.write_str("stream"),
            HiddenCol::Aggregate(s) => write!(f, "aggregate #{s}"),
            HiddenCol::Analytic(s) => write!(f, "analytic #{s}"),
            HiddenCol::WindowStart => f.write_str("window_start()"),
            HiddenCol::WindowEnd => f.write_str("window_end()"),
            HiddenCol::RowNumber => f.write_str("row_number()"),
            HiddenCol::HitCount => f.write_str("last_hit_count()"),
            HiddenCol::HitTime => f.write_str("last_hit_time()"),
            HiddenCol::AggHitCount => f.write_str("last_agg_hit_count()"),
            HiddenCol::AggHitTime => f.write_str("last_agg_hit_time()"),
        }
    }
}
