//! From a parsed statement and the catalog's stream definitions to a checked plan.
//!
//! Planning is where a rule is rejected before any row flows: unknown streams or
//! functions, bad function arguments, misplaced set-returning functions.

use std::sync::Arc;
use tributary_core::Error;
use tributary_sql::{Expr, OrderItem, SelectField, SelectStmt, StreamDef, Window};

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

/// The grouped part of a rule: its window, GROUP BY dimensions, HAVING, ORDER BY and
/// LIMIT. HAVING and ORDER BY read the SELECT list's aliases as the aliased
/// expressions.
#[derive(Debug, Clone)]
pub struct GroupPlan {
    pub window: Option<Window>,
    pub dimensions: Vec<Expr>,
    pub having: Option<Expr>,
    pub order_by: Vec<OrderItem>,
    pub limit: Option<usize>,
}

impl GroupPlan {
    /// Every expression of the grouped part.
    pub fn exprs(&self) -> Vec<&Expr> {
        let mut v: Vec<&Expr> = self.dimensions.iter().collect();
        v.extend(self.having.iter());
        v.extend(self.order_by.iter().map(|o| &o.expr));
        if let Some(w) = &self.window {
            v.extend(w.filter.iter());
            v.extend(w.trigger.iter());
            if let tributary_sql::WindowKind::State { begin, emit } = &w.kind {
                v.push(begin);
                v.push(emit);
            }
        }
        v
    }
}

/// A checked rule plan: one stream, an optional filter, an optional grouped part, a
/// projection.
#[derive(Debug, Clone)]
pub struct RulePlan {
    pub rule_id: String,
    pub stream: StreamDef,
    pub condition: Option<Expr>,
    pub fields: Vec<PlannedField>,
    /// The expression fields in the order they are computed: an aliased field before
    /// the fields that refer to its alias.
    pub eval_order: Vec<usize>,
    /// The aliases other fields read (their columns are kept while a batch is
    /// projected; the others are not copied).
    pub referenced_aliases: Vec<String>,
    /// Position in `fields` of the `unnest(...)` field, if any.
    pub unnest: Option<usize>,
    /// The stream columns the rule reads; `None` when it reads them all (`*`).
    /// Strict validation checks only these, as eKuiper does.
    pub used_columns: Option<Vec<String>>,
    /// Present when the rule has a window or GROUP BY dimensions.
    pub group: Option<GroupPlan>,
    /// The JOINs, in order (see `join_plan`).
    pub joins: Vec<crate::join_plan::PlannedJoin>,
    /// The `OVER (…)` clauses of analytic calls, by call site.
    pub overs: Vec<(usize, tributary_sql::Over)>,
    /// Set when the rule stops: every function call of this plan sees it.
    pub cancel: tributary_core::function::Cancel,
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
    let aliases: Vec<String> = stmt
        .fields
        .iter()
        .filter_map(|f| match f {
            SelectField::Expr {
                name,
                aliased: true,
                ..
            } => Some(name.to_string()),
            _ => None,
        })
        .collect();
    let mut deps: Vec<Vec<String>> = Vec::with_capacity(stmt.fields.len());
    let mut fields = Vec::with_capacity(stmt.fields.len());
    let mut unnest = None;
    for (i, f) in stmt.fields.iter().enumerate() {
        match f {
            SelectField::Wildcard { stream: s } => {
                if let Some(s) = s.as_ref().filter(|_| stmt.joins.is_empty()) {
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
                deps.push(Vec::new());
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
                let mut expr = expr.clone();
                let mut used = Vec::new();
                resolve_aliases(&mut expr, &aliases, own.as_deref(), &mut used);
                deps.push(used);
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
    let eval_order = evaluation_order(&fields, &deps)?;
    let mut referenced_aliases: Vec<String> = deps.into_iter().flatten().collect();
    referenced_aliases.sort();
    referenced_aliases.dedup();
    let mut condition = stmt.condition.clone();
    let mut group = if stmt.is_grouped() {
        let alias_exprs = select_aliases(stmt);
        let mut having = stmt.having.clone();
        if let Some(h) = having.as_mut() {
            substitute_aliases(h, &alias_exprs);
        }
        let mut order_by = stmt.order_by.clone();
        for o in order_by.iter_mut() {
            substitute_aliases(&mut o.expr, &alias_exprs);
        }
        Some(GroupPlan {
            window: stmt.window.clone(),
            dimensions: stmt.dimensions.clone(),
            having,
            order_by,
            limit: stmt.limit,
        })
    } else {
        None
    };
    if let Some(schema) = &stream.schema {
        for f in fields.iter_mut() {
            if let PlannedField::Expr { expr, .. } = f {
                intern_fields(expr, schema);
            }
        }
        if let Some(c) = condition.as_mut() {
            intern_fields(c, schema);
        }
        if let Some(g) = group.as_mut() {
            g.dimensions
                .iter_mut()
                .for_each(|d| intern_fields(d, schema));
        }
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
            .chain(stmt.condition.iter())
            .chain(group.iter().flat_map(|g| g.exprs()));
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
        if let Some(ts) = &stream.options.timestamp {
            if !cols.iter().any(|c| c == ts) {
                cols.push(ts.clone());
            }
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
        condition,
        fields,
        eval_order,
        referenced_aliases,
        unnest,
        used_columns,
        group,
        joins: Vec::new(),
        overs: stmt.overs.clone(),
        cancel: Default::default(),
    })
}

/// The aliased SELECT fields: (alias, expression).
pub(crate) fn select_aliases(stmt: &SelectStmt) -> Vec<(&str, &Expr)> {
    stmt.fields
        .iter()
        .filter_map(|f| match f {
            SelectField::Expr {
                expr,
                name,
                aliased: true,
            } => Some((&**name, expr)),
            _ => None,
        })
        .collect()
}

/// Replaces a bare reference to a SELECT alias by the aliased expression (`ORDER BY c`
/// with `count(*) AS c`), so HAVING and ORDER BY compute what the alias names.
pub(crate) fn substitute_aliases(e: &mut Expr, aliases: &[(&str, &Expr)]) {
    if let Expr::Field { stream: None, name } = e {
        if let Some((_, x)) = aliases.iter().find(|(a, _)| *a == &**name) {
            *e = (*x).clone();
        }
        return;
    }
    e.for_each_child_mut(&mut |c| substitute_aliases(c, aliases));
}

/// Replaces references to other fields' aliases by [`Expr::AliasRef`]
/// (`SELECT size AS a, a + 1 AS b`). An alias is not resolved inside its own field, so
/// `size + 1 AS size` reads the column. Returns the aliases referenced.
fn resolve_aliases(e: &mut Expr, aliases: &[String], own: Option<&str>, used: &mut Vec<String>) {
    if let Expr::Field { stream: None, name } = e {
        if own != Some(&**name) && aliases.iter().any(|a| a == &**name) {
            if !used.iter().any(|u| u == &**name) {
                used.push(name.to_string());
            }
            *e = Expr::AliasRef { name: name.clone() };
        }
        return;
    }
    e.for_each_child_mut(&mut |c| resolve_aliases(c, aliases, own, used));
}

/// Orders the fields so that every aliased field is computed before the fields that
/// read it; a cycle of aliases is an error.
fn evaluation_order(fields: &[PlannedField], deps: &[Vec<String>]) -> Result<Vec<usize>, Error> {
    let alias_of: Vec<Option<&str>> = fields
        .iter()
        .map(|f| match f {
            PlannedField::Expr { alias: Some(a), .. } => Some(a.as_str()),
            _ => None,
        })
        .collect();
    // 0 = unvisited, 1 = in progress, 2 = done
    let mut state = vec![0u8; fields.len()];
    let mut order = Vec::with_capacity(fields.len());
    // An explicit stack instead of recursion: a long alias chain cannot overflow it.
    for root in 0..fields.len() {
        if !matches!(fields[root], PlannedField::Expr { .. }) || state[root] == 2 {
            continue;
        }
        let mut stack: Vec<(usize, usize)> = vec![(root, 0)];
        state[root] = 1;
        while let Some((i, next_dep)) = stack.pop() {
            if let Some(d) = deps[i].get(next_dep) {
                stack.push((i, next_dep + 1));
                if let Some(j) = alias_of.iter().position(|a| *a == Some(d.as_str())) {
                    match state[j] {
                        0 => {
                            state[j] = 1;
                            stack.push((j, 0));
                        }
                        1 => {
                            return Err(Error::user(format!(
                                "alias {d} refers to itself through other aliases"
                            )))
                        }
                        _ => {}
                    }
                }
            } else {
                state[i] = 2;
                order.push(i);
            }
        }
    }
    Ok(order)
}

/// Points column references at the schema's shared key, so that row lookups compare
/// pointers instead of strings.
fn intern_fields(e: &mut Expr, schema: &tributary_core::Schema) {
    if let Expr::Field { name, .. } = e {
        if let Some(k) = schema.key(name) {
            *name = k.clone();
        }
        return;
    }
    e.for_each_child_mut(&mut |c| intern_fields(c, schema));
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
    fn aliases_resolve_to_other_fields_but_not_to_themselves() {
        let s = parse_select("select size + 1 as size, size + 1 as b from demo").expect("sql");
        let p = plan("r", &s, &demo()).expect("plan");
        let PlannedField::Expr { expr, .. } = &p.fields[0] else {
            panic!()
        };
        assert!(!format!("{expr:?}").contains("AliasRef"));
        let PlannedField::Expr { expr, .. } = &p.fields[1] else {
            panic!()
        };
        assert!(format!("{expr:?}").contains("AliasRef"));
        let s = parse_select("select b + 1 as c, a as b, size as a from demo").expect("sql");
        let p = plan("r", &s, &demo()).expect("plan");
        assert_eq!(p.eval_order, vec![2, 1, 0]);
    }

    #[test]
    fn alias_cycles_and_long_chains() {
        let e = plan(
            "r",
            &parse_select("select b as a, a as b from demo").expect("sql"),
            &demo(),
        )
        .expect_err("cycle");
        assert!(e.to_string().contains("refers to itself"), "{e}");
        let mut sql = String::from("select size as a0");
        for i in 1..60 {
            sql.push_str(&format!(", a{} + a{} as a{i}", i - 1, i - 1));
        }
        sql.push_str(" from demo");
        let p = plan("r", &parse_select(&sql).expect("sql"), &demo()).expect("long chain");
        assert_eq!(p.eval_order.len(), 60);
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
