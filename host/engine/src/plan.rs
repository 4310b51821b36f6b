//! From a parsed statement and the catalog's stream definitions to a checked plan.
//!
//! Planning is where a rule is rejected before any row flows: unknown streams or
//! functions, bad function arguments, misplaced set-returning functions.

use std::sync::Arc;
use tributary_core::Error;
use tributary_sql::{Expr, SelectField, SelectStmt, StreamDef};

/// A field of the SELECT list after alias references were resolved.
#[derive(Debug, Clone)]
pub enum PlannedField {
    Wildcard,
    Expr {
        expr: Expr,
        name: Arc<str>,
        /// Aliased fields win over computed and source columns of the same name.
        aliased: bool,
        /// Alias, if any, for error messages.
        alias: Option<String>,
    },
}

/// A checked, stateless rule plan: one stream, an optional filter, a projection.
#[derive(Debug, Clone)]
pub struct RulePlan {
    pub rule_id: String,
    pub stream: StreamDef,
    pub condition: Option<Expr>,
    pub fields: Vec<PlannedField>,
    /// Position in `fields` of the `unnest(...)` field, if any.
    pub unnest: Option<usize>,
    /// The stream columns the rule reads; `None` when it reads them all (`*`).
    /// Strict validation checks only these, as eKuiper does.
    pub used_columns: Option<Vec<String>>,
}

impl RulePlan {
    /// Every expression the runtime evaluates (for binding functions).
    pub fn exprs(&self) -> impl Iterator<Item = &Expr> {
        self.fields
            .iter()
            .filter_map(|f| match f {
                PlannedField::Expr { expr, .. } => Some(expr),
                PlannedField::Wildcard => None,
            })
            .chain(self.condition.iter())
    }
}

/// Builds the plan of `stmt` reading from `stream`.
pub fn plan(rule_id: &str, stmt: &SelectStmt, stream: &StreamDef) -> Result<RulePlan, Error> {
    let aliases: Vec<(String, Expr)> = stmt
        .fields
        .iter()
        .filter_map(|f| match f {
            SelectField::Expr {
                expr,
                name,
                aliased: true,
            } => Some((name.to_string(), expr.clone())),
            _ => None,
        })
        .collect();
    let mut fields = Vec::with_capacity(stmt.fields.len());
    let mut unnest = None;
    for (i, f) in stmt.fields.iter().enumerate() {
        match f {
            SelectField::Wildcard { stream: s } => {
                if let Some(s) = s {
                    if !s.eq_ignore_ascii_case(&stream.name)
                        && stmt
                            .from
                            .alias
                            .as_deref()
                            .is_none_or(|a| !a.eq_ignore_ascii_case(s))
                    {
                        return Err(Error::user(format!("unknown stream {s} in {s}.*")));
                    }
                }
                fields.push(PlannedField::Wildcard);
            }
            SelectField::Expr {
                expr,
                name,
                aliased,
            } => {
                let own = if *aliased {
                    Some(name.to_string())
                } else {
                    None
                };
                let mut exclude: Vec<String> = own.iter().cloned().collect();
                let expr = inline_aliases(expr, &aliases, &mut exclude, 0)?;
                if let Expr::Call { name: fname, .. } = &expr {
                    if fname.eq_ignore_ascii_case("unnest") {
                        if unnest.is_some() {
                            return Err(Error::user(
                                "only one set-returning function (unnest) is allowed per SELECT",
                            ));
                        }
                        unnest = Some(i);
                    }
                }
                check_nested_unnest(&expr, true)?;
                fields.push(PlannedField::Expr {
                    expr,
                    name: name.clone(),
                    aliased: *aliased,
                    alias: own,
                });
            }
        }
    }
    if let Some(c) = &stmt.condition {
        check_nested_unnest(c, false)?;
    }
    let used_columns = if fields.iter().any(|f| matches!(f, PlannedField::Wildcard)) {
        None
    } else {
        let mut cols = Vec::new();
        let exprs = fields
            .iter()
            .filter_map(|f| match f {
                PlannedField::Expr { expr, .. } => Some(expr),
                PlannedField::Wildcard => None,
            })
            .chain(stmt.condition.iter());
        let mut wildcard = false;
        for e in exprs {
            e.walk(&mut |n| match n {
                Expr::Field { name, .. } if !cols.iter().any(|c: &String| c == &**name) => {
                    cols.push(name.to_string());
                }
                Expr::Wildcard => wildcard = true,
                _ => {}
            });
        }
        if wildcard {
            None
        } else {
            Some(cols)
        }
    };
    Ok(RulePlan {
        rule_id: rule_id.to_string(),
        stream: stream.clone(),
        condition: stmt.condition.clone(),
        fields,
        unnest,
        used_columns,
    })
}

/// Replaces references to other fields' aliases by those fields' expressions
/// (`SELECT size AS a, a + 1 AS b`). An alias is not expanded inside itself, so
/// `size + 1 AS size` reads the column.
fn inline_aliases(
    e: &Expr,
    aliases: &[(String, Expr)],
    exclude: &mut Vec<String>,
    depth: usize,
) -> Result<Expr, Error> {
    if depth > 32 {
        return Err(Error::user("aliases refer to each other in a cycle"));
    }
    let mut out = e.clone();
    substitute(&mut out, aliases, exclude, depth)?;
    Ok(out)
}

fn substitute(
    e: &mut Expr,
    aliases: &[(String, Expr)],
    exclude: &mut Vec<String>,
    depth: usize,
) -> Result<(), Error> {
    if let Expr::Field { stream: None, name } = e {
        if !exclude.iter().any(|x| x == &**name) {
            if let Some((alias, target)) = aliases.iter().find(|(a, _)| a == &**name) {
                exclude.push(alias.clone());
                let replaced = inline_aliases(target, aliases, exclude, depth + 1)?;
                exclude.pop();
                *e = replaced;
            }
        }
        return Ok(());
    }
    let mut result = Ok(());
    for_each_child(e, &mut |c| {
        if result.is_ok() {
            result = substitute(c, aliases, exclude, depth);
        }
    });
    result
}

fn for_each_child(e: &mut Expr, f: &mut dyn FnMut(&mut Expr)) {
    match e {
        Expr::Literal(_) | Expr::Field { .. } | Expr::Wildcard | Expr::Meta(_) => {}
        Expr::Member { expr, .. } | Expr::Unary { expr, .. } | Expr::IsNull { expr, .. } => f(expr),
        Expr::Index { expr, index } => {
            f(expr);
            f(index);
        }
        Expr::Slice { expr, start, end } => {
            f(expr);
            if let Some(s) = start {
                f(s);
            }
            if let Some(x) = end {
                f(x);
            }
        }
        Expr::Binary { left, right, .. } => {
            f(left);
            f(right);
        }
        Expr::Like { expr, pattern, .. } => {
            f(expr);
            f(pattern);
        }
        Expr::InList { expr, list, .. } => {
            f(expr);
            list.iter_mut().for_each(f);
        }
        Expr::Between {
            expr, low, high, ..
        } => {
            f(expr);
            f(low);
            f(high);
        }
        Expr::Case {
            operand,
            whens,
            otherwise,
        } => {
            if let Some(o) = operand {
                f(o);
            }
            for (w, t) in whens {
                f(w);
                f(t);
            }
            if let Some(o) = otherwise {
                f(o);
            }
        }
        Expr::Call { args, .. } => args.iter_mut().for_each(f),
    }
}

/// `unnest` may only be a whole SELECT field.
fn check_nested_unnest(e: &Expr, top_level: bool) -> Result<(), Error> {
    let mut bad = false;
    let mut first = true;
    e.walk(&mut |n| {
        let is_top = first && top_level;
        first = false;
        if let Expr::Call { name, .. } = n {
            if name.eq_ignore_ascii_case("unnest") && !is_top {
                bad = true;
            }
        }
    });
    if bad {
        Err(Error::user(
            "unnest can only be used as a whole SELECT field, not inside an expression or WHERE",
        ))
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tributary_sql::{parse_ddl, parse_select};

    fn demo() -> StreamDef {
        parse_ddl(
            "CREATE STREAM demo (color STRING, size BIGINT, ts BIGINT) WITH (DATASOURCE=\"demo\")",
        )
        .expect("ddl")
    }

    #[test]
    fn aliases_are_inlined_but_not_into_themselves() {
        let s = parse_select("select size + 1 as size, size + 1 as b from demo").expect("sql");
        let p = plan("r", &s, &demo()).expect("plan");
        let PlannedField::Expr { expr, .. } = &p.fields[1] else {
            panic!()
        };
        let shown = crate::eval::display::expr_string(expr, "demo");
        assert_eq!(shown, "binaryExpr:{ binaryExpr:{ demo.size + 1 } + 1 }");
    }

    #[test]
    fn unnest_must_be_top_level_and_single() {
        let e = plan(
            "r",
            &parse_select("SELECT unnest(a) + 1 FROM demo").expect("sql"),
            &demo(),
        )
        .expect_err("nested");
        assert!(e.to_string().contains("unnest"), "{e}");
        let e = plan(
            "r",
            &parse_select("SELECT unnest(a), unnest(b) FROM demo").expect("sql"),
            &demo(),
        )
        .expect_err("two");
        assert!(e.to_string().contains("only one"), "{e}");
    }

    #[test]
    fn used_columns_are_collected() {
        let p = plan(
            "r",
            &parse_select("SELECT color FROM demo WHERE size > 1").expect("sql"),
            &demo(),
        )
        .expect("plan");
        assert_eq!(
            p.used_columns,
            Some(vec!["color".to_string(), "size".to_string()])
        );
        let p = plan(
            "r",
            &parse_select("SELECT * FROM demo").expect("sql"),
            &demo(),
        )
        .expect("plan");
        assert_eq!(p.used_columns, None);
    }
}
