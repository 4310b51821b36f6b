//! Building the grouped stage of a rule: aggregate calls are taken out of the SELECT,
//! HAVING and ORDER BY expressions and replaced by hidden columns, which the
//! [`GroupOp`] computes once per group.

use crate::builder::project_op;
use crate::eval::{bind_aggregate, is_aggregate, Evaluator};
use crate::ops::group::{agg_alias, BoundAggregate, GroupOp, WINDOW_END, WINDOW_START};
use crate::plan::{GroupPlan, PlannedField, RulePlan};
use crate::rule::RuleOptions;
use std::sync::Arc;
use tributary_core::Error;
use tributary_functions::Registry;
use tributary_sql::Expr;

/// One aggregate call found in the rule: `(site, name, args)`.
type AggCall = (usize, String, Vec<Expr>);

/// Replaces aggregate calls and `window_start()`/`window_end()` in `e` by references
/// to the hidden columns that hold them; collects the aggregate calls (once per site).
fn extract(e: &mut Expr, registry: &Registry, aggs: &mut Vec<AggCall>) -> Result<(), Error> {
    if let Expr::Call { name, args, site } = e {
        if is_aggregate(registry, name) {
            let mut nested = None;
            for a in args.iter() {
                a.walk(&mut |n| {
                    if let Expr::Call { name: inner, .. } = n {
                        if nested.is_none() && is_aggregate(registry, inner) {
                            nested = Some(inner.clone());
                        }
                    }
                });
            }
            if let Some(inner) = nested {
                return Err(Error::user(format!(
                    "aggregate function {inner} cannot be used inside aggregate function {name}"
                )));
            }
            if !aggs.iter().any(|(s, _, _)| s == site) {
                aggs.push((*site, name.to_ascii_lowercase(), args.clone()));
            }
            *e = Expr::AliasRef {
                name: agg_alias(*site),
            };
            return Ok(());
        }
        let hidden = match name.to_ascii_lowercase().as_str() {
            "window_start" => Some(WINDOW_START),
            "window_end" => Some(WINDOW_END),
            _ => None,
        };
        if let Some(h) = hidden {
            if !args.is_empty() {
                return Err(Error::user(format!(
                    "invalid arguments for function {name}: Expect 0 arguments but found {}.",
                    args.len()
                )));
            }
            *e = Expr::AliasRef { name: Arc::from(h) };
            return Ok(());
        }
    }
    let mut result = Ok(());
    e.for_each_child_mut(&mut |c| {
        if result.is_ok() {
            result = extract(c, registry, aggs);
        }
    });
    result
}

/// The grouped stage of `p`: grouping, aggregates, HAVING, ORDER BY, LIMIT and the
/// projection.
pub(crate) fn group_op(
    p: &RulePlan,
    g: &GroupPlan,
    registry: &Registry,
    options: &RuleOptions,
) -> Result<GroupOp, Error> {
    for d in &g.dimensions {
        let mut found = false;
        d.walk(&mut |n| {
            if let Expr::Call { name, .. } = n {
                found |= is_aggregate(registry, name);
            }
        });
        if found {
            return Err(Error::user(
                "aggregate functions are not allowed in GROUP BY",
            ));
        }
    }
    let mut aggs: Vec<AggCall> = Vec::new();
    let mut fields = p.fields.clone();
    for f in fields.iter_mut() {
        if let PlannedField::Expr { expr, .. } = f {
            extract(expr, registry, &mut aggs)?;
        }
    }
    let mut having = g.having.clone();
    if let Some(h) = having.as_mut() {
        extract(h, registry, &mut aggs)?;
    }
    let mut order = g.order_by.clone();
    for o in order.iter_mut() {
        extract(&mut o.expr, registry, &mut aggs)?;
    }
    let mut bound = Vec::with_capacity(aggs.len());
    for (site, name, mut args) in aggs {
        let imp = bind_aggregate(registry, &p.rule_id, &name, &args, site)?;
        // eKuiper's deduplicate returns whole rows: give it the row as a last argument.
        if name == "deduplicate" {
            args.push(Expr::Wildcard);
        }
        bound.push(BoundAggregate {
            alias: agg_alias(site),
            name,
            args,
            imp,
        });
    }
    let row_exprs: Vec<&Expr> = g
        .dimensions
        .iter()
        .chain(bound.iter().flat_map(|a| a.args.iter()))
        .collect();
    let rows_eval = Evaluator::bind(row_exprs, registry, &p.rule_id)?;
    let group_exprs: Vec<&Expr> = having.iter().chain(order.iter().map(|o| &o.expr)).collect();
    let groups_eval = Evaluator::bind(group_exprs, registry, &p.rule_id)?;
    let project = project_op(p, fields, registry, options)?;
    Ok(GroupOp::new(
        g.dimensions.clone(),
        bound,
        rows_eval,
        having,
        order,
        groups_eval,
        g.limit,
        project,
    ))
}
