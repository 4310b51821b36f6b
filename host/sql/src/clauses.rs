//! GROUP BY (dimensions and the window), HAVING, ORDER BY and LIMIT of a rule.

use crate::error::SqlError;
use crate::expr::Expr;
use crate::lower::{literal, Lowerer};
use crate::over::WHEN_MARKER;
use crate::window::{is_window_function, window_from_call, Window, WindowKind};
use sqlparser::ast::{self, FunctionArg, FunctionArgExpr, FunctionArguments};
use tributary_core::Value;

/// One `ORDER BY` key.
#[derive(Debug, Clone, PartialEq)]
pub struct OrderItem {
    pub expr: Expr,
    pub descending: bool,
}

/// GROUP BY split into its dimensions and its window (at most one).
pub(crate) fn group_by(
    lower: &mut Lowerer,
    group: &ast::GroupByExpr,
) -> Result<(Vec<Expr>, Option<Window>), SqlError> {
    let exprs = match group {
        ast::GroupByExpr::Expressions(e, mods) => {
            if !mods.is_empty() {
                return Err(SqlError::new(
                    "GROUP BY modifiers (ROLLUP, CUBE, …) are not supported",
                ));
            }
            e
        }
        ast::GroupByExpr::All(_) => return Err(SqlError::new("GROUP BY ALL is not supported")),
    };
    let mut dims = Vec::new();
    let mut window: Option<Window> = None;
    for e in exprs {
        match e {
            ast::Expr::Function(f) if is_window_function(&f.name.to_string()) => {
                if window.is_some() {
                    return Err(SqlError::new("only one window is allowed in GROUP BY"));
                }
                window = Some(window_call(lower, f)?);
            }
            other => {
                let d = lower.expr(other)?;
                let mut nested_window = false;
                d.walk(&mut |n| {
                    if let Expr::Call { name, .. } = n {
                        nested_window |= is_window_function(name);
                    }
                });
                if nested_window {
                    return Err(SqlError::new(
                        "a window must be a GROUP BY item of its own, not part of an expression",
                    ));
                }
                dims.push(d);
            }
        }
    }
    Ok((dims, window))
}

/// `TUMBLINGWINDOW(ss, 10) FILTER (WHERE …)`, `SLIDINGWINDOW(ss, 5) OVER (WHEN …)`.
fn window_call(lower: &mut Lowerer, f: &ast::Function) -> Result<Window, SqlError> {
    let name = f.name.to_string();
    let mut args = Vec::new();
    if let FunctionArguments::List(list) = &f.args {
        for a in &list.args {
            match a {
                FunctionArg::Unnamed(FunctionArgExpr::Expr(e)) => args.push(lower.expr(e)?),
                other => {
                    return Err(SqlError::new(format!(
                        "{name}: unsupported argument {other}"
                    )))
                }
            }
        }
    }
    let mut w = window_from_call(&name, args)?;
    if let Some(filter) = &f.filter {
        w.filter = Some(lower.expr(filter)?);
    }
    if let Some(over) = &f.over {
        let spec = match over {
            ast::WindowType::WindowSpec(s) => s,
            ast::WindowType::NamedWindow(n) => {
                return Err(SqlError::new(format!(
                    "{name}: named window {n} is not supported"
                )))
            }
        };
        let when = spec.partition_by.iter().find_map(|p| match p {
            ast::Expr::Function(m) if m.name.to_string() == WHEN_MARKER => Some(m),
            _ => None,
        });
        let only_when =
            spec.partition_by.len() == 1 && spec.order_by.is_empty() && spec.window_frame.is_none();
        match (when, only_when, &w.kind) {
            (Some(m), true, WindowKind::Sliding { .. }) => {
                let FunctionArguments::List(list) = &m.args else {
                    return Err(SqlError::new(format!(
                        "{name}: OVER (WHEN …) needs a condition"
                    )));
                };
                let Some(FunctionArg::Unnamed(FunctionArgExpr::Expr(cond))) = list.args.first()
                else {
                    return Err(SqlError::new(format!(
                        "{name}: OVER (WHEN …) needs a condition"
                    )));
                };
                w.trigger = Some(lower.expr(cond)?);
            }
            (_, _, WindowKind::Sliding { .. }) => {
                return Err(SqlError::new(format!(
                    "{name}: only OVER (WHEN condition) is supported on a sliding window"
                )))
            }
            _ => {
                return Err(SqlError::new(format!(
                    "{name}: OVER is only allowed on a sliding window"
                )))
            }
        }
    }
    Ok(w)
}

pub(crate) fn order_by(
    lower: &mut Lowerer,
    order: &ast::OrderBy,
) -> Result<Vec<OrderItem>, SqlError> {
    let ast::OrderByKind::Expressions(items) = &order.kind else {
        return Err(SqlError::new("ORDER BY ALL is not supported"));
    };
    items
        .iter()
        .map(|o| {
            if o.with_fill.is_some() {
                return Err(SqlError::new("ORDER BY … WITH FILL is not supported"));
            }
            let descending = match &o.options.sort {
                None | Some(ast::OrderBySort::Asc) => false,
                Some(ast::OrderBySort::Desc) => true,
                Some(ast::OrderBySort::Using(op)) => {
                    return Err(SqlError::new(format!(
                        "ORDER BY … USING {op} is not supported"
                    )))
                }
            };
            Ok(OrderItem {
                expr: lower.expr(&o.expr)?,
                descending,
            })
        })
        .collect()
}

pub(crate) fn limit(clause: &ast::LimitClause) -> Result<Option<usize>, SqlError> {
    let (limit, offset) = match clause {
        ast::LimitClause::LimitOffset {
            limit,
            offset,
            limit_by,
        } => {
            if !limit_by.is_empty() {
                return Err(SqlError::new("LIMIT … BY is not supported"));
            }
            (limit.as_ref(), offset.is_some())
        }
        ast::LimitClause::OffsetCommaLimit { .. } => (None, true),
    };
    if offset {
        return Err(SqlError::new("OFFSET is not supported"));
    }
    let Some(e) = limit else { return Ok(None) };
    match e {
        ast::Expr::Value(v) => match literal(&v.value)? {
            Value::Int(n) if n >= 0 => Ok(Some(usize::try_from(n).unwrap_or(usize::MAX))),
            other => Err(SqlError::new(format!(
                "LIMIT expects a non-negative integer, found {other}"
            ))),
        },
        other => Err(SqlError::new(format!(
            "LIMIT expects a non-negative integer, found {other}"
        ))),
    }
}
