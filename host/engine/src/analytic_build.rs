//! Building the analytic stage: analytic calls are taken out of SELECT, WHERE and the
//! window's conditions and replaced by the hidden column the stage stores their
//! result under (see `ops::analytic`).

use crate::eval::Evaluator;
use crate::ops::analytic::{is_analytic, AnKind, AnalyticCall, AnalyticOp};
use crate::plan::{PlannedField, RulePlan};
use std::sync::Arc;
use tributary_core::hidden::HiddenCol;
use tributary_core::Error;
use tributary_functions::Registry;
use tributary_sql::Expr;

struct Extractor<'a> {
    plan: &'a RulePlan,
    calls: Vec<AnalyticCall>,
    /// The rewritten expressions of aliased SELECT fields, for aliases read inside an
    /// analytic call's arguments (`lag(a) AS x, lag(x) AS y`).
    aliases: Vec<(Arc<str>, Expr)>,
}

impl Extractor<'_> {
    /// Rewrites `e` bottom-up: inner analytic calls first, so an outer call reads the
    /// inner one's column.
    fn rewrite(&mut self, e: &mut Expr) -> Result<(), Error> {
        let mut r = Ok(());
        e.for_each_child_mut(&mut |c| {
            if r.is_ok() {
                r = self.rewrite(c);
            }
        });
        r?;
        let Expr::Call { name, args, site } = e else {
            return Ok(());
        };
        let over = self
            .plan
            .overs
            .iter()
            .find(|(s, _)| s == site)
            .map(|(_, o)| o.clone());
        if !is_analytic(name) {
            if over.is_some() {
                return Err(Error::user(format!(
                    "Found OVER after non analytic function {name}"
                )));
            }
            return Ok(());
        }
        let kind = AnKind::parse(name, args)
            .map_err(|m| Error::user(format!("invalid arguments for function {name}: {m}")))?;
        let mut args = args.clone();
        for a in args.iter_mut() {
            inline_aliases(a, &self.aliases);
        }
        let mut over = over.unwrap_or_default();
        for p in over.partition_by.iter_mut() {
            self.rewrite(p)?;
        }
        if let Some(w) = over.when.as_mut() {
            self.rewrite(w)?;
        }
        let alias = HiddenCol::Analytic(*site);
        if !self.calls.iter().any(|c| c.alias == alias) {
            self.calls.push(AnalyticCall::new(
                alias.clone(),
                name.to_ascii_lowercase(),
                kind,
                args,
                over,
            ));
        }
        *e = Expr::Hidden(alias);
        Ok(())
    }
}

fn inline_aliases(e: &mut Expr, aliases: &[(Arc<str>, Expr)]) {
    if let Expr::AliasRef { name } = e {
        if let Some((_, x)) = aliases.iter().find(|(a, _)| a == name) {
            *e = x.clone();
        }
        return;
    }
    e.for_each_child_mut(&mut |c| inline_aliases(c, aliases));
}

fn reads_analytic(e: &Expr) -> bool {
    let mut found = false;
    e.walk(&mut |n| {
        found |= matches!(n, Expr::Hidden(HiddenCol::Analytic(_)));
    });
    found
}

fn inline_field_aliases(e: &mut Expr, aliases: &[(Arc<str>, Expr)]) {
    if let Expr::Field { stream: None, name } = e {
        if let Some((_, x)) = aliases.iter().find(|(a, _)| a == name) {
            *e = x.clone();
        }
        return;
    }
    e.for_each_child_mut(&mut |c| inline_field_aliases(c, aliases));
}

/// Takes the analytic calls out of `p`; returns the rewritten plan and the stage that
/// computes them (`None` when the rule has none).
pub(crate) fn extract_analytic(
    p: &RulePlan,
    registry: &Registry,
) -> Result<(RulePlan, Option<AnalyticOp>), Error> {
    let mut x = Extractor {
        plan: p,
        calls: Vec::new(),
        aliases: Vec::new(),
    };
    let mut fields = p.fields.clone();
    for &i in &p.eval_order {
        if let PlannedField::Expr { expr, alias, .. } = &mut fields[i] {
            x.rewrite(expr)?;
            if let Some(a) = alias {
                x.aliases.push((Arc::from(a.as_str()), expr.clone()));
            }
        }
    }
    let mut condition = p.condition.clone();
    if let Some(c) = condition.as_mut() {
        // WHERE may name a SELECT alias of an analytic call (`lag(a) AS l … WHERE l > 1`):
        // it reads the same per-tuple value.
        let analytic_aliases: Vec<(Arc<str>, Expr)> = x
            .aliases
            .iter()
            .filter(|(_, e)| reads_analytic(e))
            .cloned()
            .collect();
        inline_field_aliases(c, &analytic_aliases);
        x.rewrite(c)?;
    }
    let mut group = p.group.clone();
    if let Some(w) = group.as_mut().and_then(|g| g.window.as_mut()) {
        if let Some(f) = w.filter.as_mut() {
            x.rewrite(f)?;
        }
        if let Some(t) = w.trigger.as_mut() {
            x.rewrite(t)?;
        }
    }
    if x.calls.is_empty() {
        return Ok((p.clone(), None));
    }
    let calls = x.calls;
    let exprs: Vec<&Expr> = calls
        .iter()
        .flat_map(|c| {
            c.args
                .iter()
                .chain(c.partition_by.iter())
                .chain(c.when.iter())
        })
        .collect();
    let eval = Evaluator::bind(exprs, registry, &p.rule_id, &p.cancel)?;
    let mut out = p.clone();
    out.fields = fields;
    out.condition = condition;
    out.group = group;
    Ok((out, Some(AnalyticOp::new(calls, eval))))
}
