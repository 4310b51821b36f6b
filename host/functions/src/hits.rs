//! `last_hit_count()` and `last_hit_time()` in a SELECT list: how many tuples reached
//! this call before, and the time of the last one (0 before any). Each evaluation reads
//! the state, then counts itself, as eKuiper's SELECT does.
//!
//! In WHERE and in a sliding window's `OVER (WHEN …)`, a hit is a tuple for which the
//! whole condition held; the engine evaluates those itself (it knows when the condition
//! held), and these functions are never bound there.

use crate::args::v_no_arg;
use tributary_core::function::{
    ArgInfo, CallSite, Column, FnContext, FunctionFactory, FunctionImpl, RowResult,
};
use tributary_core::{Error, Value};

/// `last_hit_count` (`count = true`) or `last_hit_time`.
pub struct LastHit {
    pub count: bool,
}

impl FunctionFactory for LastHit {
    fn name(&self) -> &str {
        if self.count {
            "last_hit_count"
        } else {
            "last_hit_time"
        }
    }
    fn validate(&self, args: &[ArgInfo]) -> Result<(), String> {
        v_no_arg(args)
    }
    fn instantiate(&self, _site: &CallSite) -> Result<Box<dyn FunctionImpl>, Error> {
        Ok(Box::new(LastHitImpl {
            count: self.count,
            hits: 0,
            time: 0,
        }))
    }
}

struct LastHitImpl {
    count: bool,
    hits: i64,
    time: i64,
}

impl FunctionImpl for LastHitImpl {
    fn exec_batch(
        &mut self,
        ctx: &FnContext,
        _args: &[Column],
        n: usize,
        out: &mut Vec<RowResult>,
    ) {
        for _ in 0..n {
            out.push(Ok(Value::Int(if self.count {
                self.hits
            } else {
                self.time
            })));
            self.hits += 1;
            self.time = ctx.now_ms;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_then_counts_each_evaluation() {
        let mut f = LastHit { count: true }
            .instantiate(&CallSite::default())
            .expect("instance");
        let mut out = Vec::new();
        f.exec_batch(
            &FnContext {
                now_ms: 5,
                ..FnContext::default()
            },
            &[],
            3,
            &mut out,
        );
        assert_eq!(
            out,
            vec![Ok(Value::Int(0)), Ok(Value::Int(1)), Ok(Value::Int(2))]
        );
        let mut t = LastHit { count: false }
            .instantiate(&CallSite::default())
            .expect("instance");
        let mut out = Vec::new();
        t.exec_batch(
            &FnContext {
                now_ms: 7,
                ..FnContext::default()
            },
            &[],
            2,
            &mut out,
        );
        assert_eq!(out, vec![Ok(Value::Int(0)), Ok(Value::Int(7))]);
    }
}
