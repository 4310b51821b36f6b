//! WHERE: keeps the rows whose condition is true. Nil counts as false; an error or a
//! non-boolean result becomes an error in the row's place (`run Where error: …`).

use crate::eval::{ops::truth, Evaluator, RowErrors};
use crate::hits::{rewrite_condition, Hits};
use crate::operator::{for_each_in_order, Chunk, ChunkBuilder, Collector, Item, Operator};
use tributary_core::function::RowError;
use tributary_core::hidden::HiddenCol;
use tributary_sql::Expr;

pub struct FilterOp {
    condition: Expr,
    eval: Evaluator,
    /// `last_hit_*` in the condition: the tuples that passed so far.
    hits: Option<Hits>,
}

impl FilterOp {
    /// `condition` may read `last_hit_*` (see `hits`): it is rewritten here.
    pub fn new(mut condition: Expr, eval: Evaluator) -> Self {
        let hits = rewrite_condition(&mut condition).then(Hits::default);
        FilterOp {
            condition,
            eval,
            hits,
        }
    }
}

impl Operator for FilterOp {
    fn name(&self) -> &str {
        "filter"
    }

    fn per_row(&self) -> bool {
        true
    }

    fn process(&mut self, input: Chunk, out: &mut Collector) {
        let n = input.rows.len();
        self.eval.set_now(&input.rows);
        let mut errs = RowErrors::new(n);
        if let Some(h) = &self.hits {
            self.eval.clear_aliases();
            for (k, c) in h.columns(HiddenCol::HitCount, HiddenCol::HitTime) {
                self.eval.set_hidden(k, c);
            }
        }
        let col = self.eval.eval(&self.condition, &input.rows, &mut errs);
        let hits = &mut self.hits;
        let mut b = ChunkBuilder::like(&input, n);
        for_each_in_order(input, |item| match item {
            Item::Error(e) => b.error(e),
            Item::Row(idx, row) => {
                match errs.take(idx) {
                    // A function asked for its row to go without an error.
                    Some(RowError::Skip) => return,
                    Some(RowError::Failed(e)) => {
                        b.error(format!("run Where error: {e}"));
                        return;
                    }
                    None => {}
                }
                match truth(col.get(idx)) {
                    Ok(Some(true)) => {
                        if let Some(h) = hits.as_mut() {
                            h.hit(row.timestamp);
                        }
                        b.row(row)
                    }
                    Ok(_) => {}
                    Err(e) => b.error(format!("run Where error: {e}")),
                }
            }
        });
        out.collect(b.finish());
    }
}
