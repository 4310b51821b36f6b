//! Building the grouped stage of a rule: aggregate calls are taken out of the SELECT,
//! HAVING and ORDER BY expressions and replaced by hidden columns, which the
//! [`GroupOp`] computes once per group.

use crate::builder::project_op;
use crate::eval::{bind_aggregate, is_aggregate, Evaluator};
use crate::ops::group::{BoundAggregate, GroupOp};
use crate::ops::incremental::{AccKind, IncAggregate, IncrementalWindowOp};
use crate::ops::window::EventTime;
use crate::plan::{GroupPlan, PlannedField, RulePlan};
use crate::rule::RuleOptions;
use tributary_core::hidden::HiddenCol;
use tributary_core::Error;
use tributary_functions::Registry;
use tributary_sql::{Expr, WindowKind};

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
            *e = Expr::Hidden(HiddenCol::Aggregate(*site));
            return Ok(());
        }
        let hidden = match name.to_ascii_lowercase().as_str() {
            "window_start" => Some(HiddenCol::WindowStart),
            "window_end" => Some(HiddenCol::WindowEnd),
            "row_number" => Some(HiddenCol::RowNumber),
            "last_agg_hit_count" => Some(HiddenCol::AggHitCount),
            "last_agg_hit_time" => Some(HiddenCol::AggHitTime),
            _ => None,
        };
        if let Some(h) = hidden {
            if !args.is_empty() {
                return Err(Error::user(format!(
                    "invalid arguments for function {name}: Expect 0 arguments but found {}.",
                    args.len()
                )));
            }
            *e = Expr::Hidden(h);
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

/// A plan's grouped expressions with their aggregate calls taken out.
struct Extracted {
    fields: Vec<PlannedField>,
    having: Option<Expr>,
    order: Vec<tributary_sql::OrderItem>,
    aggs: Vec<AggCall>,
}

fn extract_all(p: &RulePlan, g: &GroupPlan, registry: &Registry) -> Result<Extracted, Error> {
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
    Ok(Extracted {
        fields,
        having,
        order,
        aggs,
    })
}

/// The stage that runs HAVING, ORDER BY, LIMIT and the projection (and, unless
/// `aggs` is empty because they are folded elsewhere, the grouping and aggregates).
fn group_stage(
    p: &RulePlan,
    g: &GroupPlan,
    x: Extracted,
    bound: Vec<BoundAggregate>,
    registry: &Registry,
    options: &RuleOptions,
) -> Result<GroupOp, Error> {
    let row_exprs: Vec<&Expr> = g
        .dimensions
        .iter()
        .chain(bound.iter().flat_map(|a| a.args.iter()))
        .collect();
    let rows_eval = Evaluator::bind(row_exprs, registry, &p.rule_id, &p.cancel)?;
    let group_exprs: Vec<&Expr> = x
        .having
        .iter()
        .chain(x.order.iter().map(|o| &o.expr))
        .collect();
    let groups_eval = Evaluator::bind(group_exprs, registry, &p.rule_id, &p.cancel)?;
    let project = project_op(p, x.fields, registry, options)?;
    Ok(GroupOp::new(
        g.dimensions.clone(),
        bound,
        rows_eval,
        x.having,
        x.order,
        groups_eval,
        g.limit,
        project,
    ))
}

/// The grouped stage of `p`: grouping, aggregates, HAVING, ORDER BY, LIMIT and the
/// projection.
pub(crate) fn group_op(
    p: &RulePlan,
    g: &GroupPlan,
    registry: &Registry,
    options: &RuleOptions,
) -> Result<GroupOp, Error> {
    let x = extract_all(p, g, registry)?;
    let mut bound = Vec::with_capacity(x.aggs.len());
    for (site, name, mut args) in x.aggs.clone() {
        let imp = bind_aggregate(registry, &p.rule_id, &name, &args, site)?;
        // eKuiper's deduplicate returns whole rows: give it the row as a last argument.
        if name == "deduplicate" {
            args.push(Expr::Wildcard);
        }
        bound.push(BoundAggregate {
            alias: HiddenCol::Aggregate(site),
            name,
            args,
            imp,
        });
    }
    group_stage(p, g, x, bound, registry, options)
}

/// The incremental stage of a tumbling- or session-window rule whose aggregates all fold one value
/// at a time (see `ops::incremental`); `None` when the rule does not qualify.
pub(crate) fn incremental_op(
    p: &RulePlan,
    g: &GroupPlan,
    registry: &Registry,
    options: &RuleOptions,
    event_time: Option<EventTime>,
    start_ms: i64,
) -> Result<Option<IncrementalWindowOp>, Error> {
    let Some(w) = &g.window else { return Ok(None) };
    let foldable = matches!(
        w.kind,
        WindowKind::Tumbling { .. } | WindowKind::Session { .. } | WindowKind::Hopping { .. }
    );
    if !foldable || !p.joins.is_empty() {
        return Ok(None);
    }
    let x = extract_all(p, g, registry)?;
    if x.aggs.is_empty() && g.dimensions.is_empty() {
        return Ok(None);
    }
    let mut incs = Vec::with_capacity(x.aggs.len());
    for (site, name, args) in &x.aggs {
        // Validated like any call (argument count), then folded by the stage itself.
        bind_aggregate(registry, &p.rule_id, name, args, *site)?;
        let Some(kind) = AccKind::of(name, args) else {
            return Ok(None);
        };
        incs.push(IncAggregate {
            alias: HiddenCol::Aggregate(*site),
            kind,
            arg: match kind {
                AccKind::CountAll => None,
                _ => args.first().cloned(),
            },
        });
    }
    let exprs: Vec<&Expr> = p
        .condition
        .iter()
        .chain(w.filter.iter())
        .chain(g.dimensions.iter())
        .chain(incs.iter().filter_map(|a| a.arg.as_ref()))
        .collect();
    let eval = Evaluator::bind(exprs, registry, &p.rule_id, &p.cancel)?;
    let dims = g.dimensions.clone();
    let post = group_stage(p, g, x, Vec::new(), registry, options)?;
    Ok(Some(IncrementalWindowOp::new(
        w.clone(),
        p.condition.clone(),
        dims,
        incs,
        event_time,
        start_ms,
        eval,
        post,
    )))
}
