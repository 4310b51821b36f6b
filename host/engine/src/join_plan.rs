//! Planning the JOINs of a rule.
//!
//! A joined row holds every stream's fields twice: under their own names (the first
//! stream that has a name wins, as eKuiper's unqualified lookup does) and as hidden
//! qualified copies (`demo.ts` → `HiddenCol::Qualified`), which every qualified
//! reference of the rule is rewritten to. Rows are given their qualified copies and
//! the stream marker (`HiddenCol::Stream`) when they are decoded, so FILTER and
//! OVER (WHEN …) can read qualified names before the join too.

use crate::plan::{PlannedField, RulePlan};
use std::sync::Arc;
use tributary_core::hidden::HiddenCol;
use tributary_core::Error;
use tributary_sql::{Expr, JoinKind, SelectStmt, StreamDef, StreamKind};

/// One JOIN of a plan.
#[derive(Debug, Clone)]
pub struct PlannedJoin {
    pub stream: StreamDef,
    pub kind: JoinKind,
    pub on: Option<Expr>,
}

impl PlannedJoin {
    pub fn is_table(&self) -> bool {
        self.stream.kind == StreamKind::Table
    }
}

/// Adds the JOINs of `stmt` to `plan`, rewriting every qualified column reference of
/// the plan to its hidden qualified name. `joined[i]` is the definition of JOIN `i`.
pub fn plan_joins(
    plan: &mut RulePlan,
    stmt: &SelectStmt,
    joined: Vec<StreamDef>,
) -> Result<(), Error> {
    if stmt.joins.is_empty() {
        return Ok(());
    }
    let mut names: Vec<(String, String)> = vec![(stmt.from.name.clone(), plan.stream.name.clone())];
    if let Some(a) = &stmt.from.alias {
        names.push((a.clone(), plan.stream.name.clone()));
    }
    for (j, def) in stmt.joins.iter().zip(&joined) {
        names.push((j.source.name.clone(), def.name.clone()));
        if let Some(a) = &j.source.alias {
            names.push((a.clone(), def.name.clone()));
        }
    }
    let windowed = plan.group.as_ref().is_some_and(|g| g.window.is_some());
    for def in &joined {
        if def.kind == StreamKind::Stream && !windowed {
            return Err(Error::user(format!(
                "joining stream {} with stream {} needs a window in GROUP BY",
                plan.stream.name, def.name
            )));
        }
    }
    let aliases = crate::plan::select_aliases(stmt);
    let mut error = None;
    let mut rewrite = |e: &mut Expr| {
        if let Err(x) = qualify(e, &names) {
            error.get_or_insert(x);
        }
    };
    for f in plan.fields.iter_mut() {
        if let PlannedField::Expr { expr, .. } = f {
            rewrite(expr);
        }
    }
    if let Some(c) = plan.condition.as_mut() {
        rewrite(c);
    }
    for (_, o) in plan.overs.iter_mut() {
        o.partition_by.iter_mut().for_each(&mut rewrite);
        if let Some(w) = o.when.as_mut() {
            rewrite(w);
        }
    }
    if let Some(g) = plan.group.as_mut() {
        g.dimensions.iter_mut().for_each(&mut rewrite);
        if let Some(h) = g.having.as_mut() {
            rewrite(h);
        }
        g.order_by.iter_mut().for_each(|o| rewrite(&mut o.expr));
        if let Some(w) = g.window.as_mut() {
            if let Some(f) = w.filter.as_mut() {
                rewrite(f);
            }
            if let Some(t) = w.trigger.as_mut() {
                rewrite(t);
            }
            if let tributary_sql::WindowKind::State { begin, emit } = &mut w.kind {
                rewrite(begin);
                rewrite(emit);
            }
        }
    }
    let mut joins = Vec::with_capacity(joined.len());
    for (j, def) in stmt.joins.iter().zip(joined) {
        let mut on = j.on.clone();
        if let Some(o) = on.as_mut() {
            // `ON ts1 = ts2` may name SELECT aliases, as in eKuiper.
            crate::plan::substitute_aliases(o, &aliases);
            rewrite(o);
        }
        joins.push(PlannedJoin {
            stream: def,
            kind: j.kind,
            on,
        });
    }
    if let Some(e) = error {
        return Err(e);
    }
    plan.joins = joins;
    // Rows of several streams: validate every column.
    plan.used_columns = None;
    Ok(())
}

/// `demo.ts` → the hidden qualified name, the qualifier resolved through aliases.
fn qualify(e: &mut Expr, names: &[(String, String)]) -> Result<(), Error> {
    if let Expr::Field {
        stream: Some(q),
        name,
    } = e
    {
        let stream = names
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(q))
            .map(|(_, s)| s.clone())
            .ok_or_else(|| Error::user(format!("unknown stream {q} in {q}.{name}")))?;
        *e = Expr::Hidden(HiddenCol::Qualified {
            stream: Arc::from(stream.as_str()),
            field: name.clone(),
        });
        return Ok(());
    }
    let mut r = Ok(());
    e.for_each_child_mut(&mut |c| {
        if r.is_ok() {
            r = qualify(c, names);
        }
    });
    r
}
