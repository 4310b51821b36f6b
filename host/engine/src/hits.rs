//! `last_hit_count()` / `last_hit_time()` in a condition (WHERE, a sliding window's
//! `OVER (WHEN …)`) and `last_agg_hit_count()` / `last_agg_hit_time()` in a grouped
//! rule. A hit is a tuple for which the whole condition held (or a window that was
//! emitted); the functions read the count and time of the hits before it, 0 before
//! any. The calls are replaced by hidden columns that the stage owning the condition
//! fills from its [`Hits`] and moves on after each hit.

use tributary_core::function::Column;
use tributary_core::hidden::HiddenCol;
use tributary_core::Value;
use tributary_sql::Expr;

/// Replaces the calls `count_fn()` / `time_fn()` in `e` by the hidden columns
/// `count_col` / `time_col`; returns whether there was any.
pub fn rewrite(
    e: &mut Expr,
    count_fn: &str,
    time_fn: &str,
    count_col: HiddenCol,
    time_col: HiddenCol,
) -> bool {
    if let Expr::Call { name, args, .. } = e {
        let col = if name.eq_ignore_ascii_case(count_fn) {
            Some(count_col.clone())
        } else if name.eq_ignore_ascii_case(time_fn) {
            Some(time_col.clone())
        } else {
            None
        };
        if let (Some(c), true) = (col, args.is_empty()) {
            *e = Expr::Hidden(c);
            return true;
        }
    }
    let mut found = false;
    e.for_each_child_mut(&mut |c| {
        found |= rewrite(c, count_fn, time_fn, count_col.clone(), time_col.clone())
    });
    found
}

/// `last_hit_*` in a condition.
pub fn rewrite_condition(e: &mut Expr) -> bool {
    rewrite(
        e,
        "last_hit_count",
        "last_hit_time",
        HiddenCol::HitCount,
        HiddenCol::HitTime,
    )
}

/// The hits of one condition (or of a rule's emissions).
#[derive(Debug, Default, Clone, Copy)]
pub struct Hits {
    pub count: i64,
    pub time: i64,
}

impl Hits {
    /// The hidden columns, as constants for the batch being evaluated.
    pub fn columns(&self, count_col: HiddenCol, time_col: HiddenCol) -> [(HiddenCol, Column); 2] {
        [
            (count_col, Column::Scalar(Value::Int(self.count))),
            (time_col, Column::Scalar(Value::Int(self.time))),
        ]
    }

    pub fn hit(&mut self, ts: i64) {
        self.count += 1;
        self.time = ts;
    }
}
