//! SELECT: builds output rows, drops nil columns, expands `unnest`.
//!
//! Column precedence follows eKuiper: the message's own fields (`*`) first, then
//! computed columns, then aliased columns, each overriding the previous on a name clash.
//! A column evaluating to nil is left out (unless the rule sets `sendNilField`).

use crate::eval::display::expr_string;
use crate::eval::{Evaluator, RowErrors};
use crate::operator::{for_each_in_order, Chunk, ChunkBuilder, Collector, Item, Operator};
use crate::plan::PlannedField;
use std::sync::Arc;
use tributary_core::function::Column;
use tributary_core::function::RowError;
use tributary_core::hidden::HiddenCol;
use tributary_core::{Row, Value};

pub struct ProjectOp {
    fields: Vec<PlannedField>,
    /// Field indices in evaluation order: unaliased first, then aliased (eKuiper's order,
    /// which decides whose error a row reports).
    order: Vec<usize>,
    unnest: Option<usize>,
    /// Expression fields in computation order (aliases before their readers).
    eval_order: Vec<usize>,
    /// Aliases read by other fields.
    referenced_aliases: Vec<String>,
    /// The SELECT list has `*`.
    wildcard: bool,
    /// No `*` and no two fields share a name: output columns need no de-duplication.
    distinct_names: bool,
    stream: String,
    send_nil: bool,
    eval: Evaluator,
}

impl ProjectOp {
    pub fn new(
        fields: Vec<PlannedField>,
        eval_order: Vec<usize>,
        referenced_aliases: Vec<String>,
        unnest: Option<usize>,
        stream: &str,
        send_nil: bool,
        eval: Evaluator,
    ) -> Self {
        let mut order: Vec<usize> = Vec::with_capacity(fields.len());
        for pass in [false, true] {
            for (i, f) in fields.iter().enumerate() {
                if let PlannedField::Expr { aliased, .. } = f {
                    if *aliased == pass {
                        order.push(i);
                    }
                }
            }
        }
        let wildcard = fields.iter().any(|f| matches!(f, PlannedField::Wildcard));
        let names: Vec<&str> = fields
            .iter()
            .filter_map(|f| match f {
                PlannedField::Expr { name, .. } => Some(&**name),
                PlannedField::Wildcard => None,
            })
            .collect();
        let distinct_names = !wildcard
            && names
                .iter()
                .enumerate()
                .all(|(i, n)| !names[..i].contains(n));
        ProjectOp {
            wildcard,
            distinct_names,
            fields,
            order,
            eval_order,
            referenced_aliases,
            unnest,
            stream: stream.to_string(),
            send_nil,
            eval,
        }
    }

    fn error_text(&self, field: usize, err: &str) -> String {
        match &self.fields[field] {
            PlannedField::Expr {
                expr,
                alias: Some(a),
                ..
            } => format!(
                "run Select error: alias: {a} expr: {} meet error, err:{err}",
                expr_string(expr, &self.stream)
            ),
            PlannedField::Expr { expr, .. } => format!(
                "run Select error: expr: {} meet error, err:{err}",
                expr_string(expr, &self.stream)
            ),
            PlannedField::Wildcard => format!("run Select error: {err}"),
        }
    }

    /// Builds output row `i` from the input row it replaces, moving its values out of
    /// the computed columns. The input's vector and metadata are reused: a row costs
    /// no allocation, and `SELECT *` keeps the input's fields instead of copying them.
    fn build_row(&self, input: Row, cols: &mut [Option<Column>], i: usize) -> Row {
        let Row {
            mut fields,
            meta,
            timestamp,
            ..
        } = input;
        if !self.wildcard {
            fields.clear();
        }
        // The engine's hidden columns (a join's qualified copies…) stay behind.
        let mut out = Row::new(fields, meta, timestamp);
        for &f in &self.order {
            if let (PlannedField::Expr { name, .. }, Some(col)) = (&self.fields[f], &mut cols[f]) {
                let v = match col {
                    Column::Scalar(v) => v.clone(),
                    Column::Values(vs) => vs.get_mut(i).map(std::mem::take).unwrap_or_default(),
                };
                if !v.is_null() || self.send_nil || Some(f) == self.unnest {
                    if self.distinct_names {
                        out.fields.push((name.clone(), v));
                    } else {
                        out.set(name.clone(), v);
                    }
                }
            }
        }
        out
    }
}

impl Operator for ProjectOp {
    fn name(&self) -> &str {
        "project"
    }

    fn per_row(&self) -> bool {
        self.unnest.is_none()
    }

    fn process(&mut self, input: Chunk, out: &mut Collector) {
        self.project(input, Vec::new(), out);
    }
}

impl ProjectOp {
    /// Projects `input`, with `extra` columns readable as [`Expr::AliasRef`]s: the
    /// aggregate results and window bounds of a grouped rule, computed by the group
    /// stage (one value per input row, or a scalar).
    ///
    /// [`Expr::AliasRef`]: tributary_sql::Expr::AliasRef
    pub fn project(&mut self, input: Chunk, extra: Vec<(HiddenCol, Column)>, out: &mut Collector) {
        let n = input.rows.len();
        self.eval.set_now(&input.rows);
        let mut cols: Vec<Option<Column>> = Vec::with_capacity(self.fields.len());
        let mut field_errs: Vec<RowErrors> = Vec::with_capacity(self.fields.len());
        cols.resize_with(self.fields.len(), || None);
        field_errs.resize_with(self.fields.len(), || RowErrors::new(n));
        self.eval.clear_aliases();
        for (name, col) in extra {
            self.eval.set_hidden(name, col);
        }
        for &i in &self.eval_order {
            if let PlannedField::Expr { expr, alias, .. } = &self.fields[i] {
                let col = self.eval.eval(expr, &input.rows, &mut field_errs[i]);
                if let Some(a) = alias
                    .as_ref()
                    .filter(|a| self.referenced_aliases.contains(a))
                {
                    self.eval
                        .set_alias(std::sync::Arc::from(a.as_str()), col.clone());
                }
                cols[i] = Some(col);
            }
        }
        let any_err = field_errs.iter().any(|e| e.any());
        let mut b = ChunkBuilder::like(&input, n);
        for_each_in_order(input, |item| match item {
            Item::Error(e) => b.error(e),
            Item::Row(idx, row) => {
                if any_err {
                    let failed = self
                        .order
                        .iter()
                        .find_map(|&f| field_errs[f].get(idx).map(|e| (f, e.clone())));
                    match failed {
                        // A function asked for its row to go without an error.
                        Some((_, RowError::Skip)) => return,
                        Some((f, RowError::Failed(e))) => {
                            b.error(self.error_text(f, &e));
                            return;
                        }
                        None => {}
                    }
                }
                let built = self.build_row(row, &mut cols, idx);
                match self.unnest {
                    None => b.row(built),
                    Some(u) => expand_unnest(built, &self.fields[u], &mut b),
                }
            }
        });
        out.collect(b.finish());
    }
}

/// Replaces the row by one row per element of its `unnest` column: an object element
/// spreads its keys into columns, any other element takes the column's name.
fn expand_unnest(row: Row, field: &PlannedField, b: &mut ChunkBuilder) {
    let PlannedField::Expr { name, .. } = field else {
        b.row(row);
        return;
    };
    let pos = row.fields.iter().position(|(k, _)| k == name);
    let Some(pos) = pos else {
        b.error("can't find the result from the unnest function".to_string());
        return;
    };
    let mut base = row;
    let (_, value) = base.fields.remove(pos);
    let items = match value {
        Value::Array(a) => a,
        Value::Null => {
            b.error("can't find the result from the unnest function".to_string());
            return;
        }
        _ => {
            b.error("the argument for the unnest function should be array".to_string());
            return;
        }
    };
    for item in items.iter() {
        let mut r = base.clone();
        match item {
            Value::Object(o) => {
                for (k, v) in o.iter() {
                    r.set(Arc::from(k.as_str()), v.clone());
                }
            }
            other => r.set(name.clone(), other.clone()),
        }
        b.row(r);
    }
}
