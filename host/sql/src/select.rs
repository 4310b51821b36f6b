//! A rule's `SELECT` statement as a typed structure.

use crate::clauses::{self, OrderItem};
use crate::dialect::KuiperDialect;
use crate::error::SqlError;
use crate::expr::Expr;
use crate::lower::Lowerer;
use crate::over::rewrite_over_when;
use crate::window::Window;
use sqlparser::ast::{self, SelectItem, SetExpr, Statement, TableFactor};
use sqlparser::parser::Parser;
use std::sync::Arc;

/// Prefix of the names eKuiper gives to unaliased, non-field, non-call expressions.
pub const DEFAULT_FIELD_NAME_PREFIX: &str = "kuiper_field_";

/// One stream (or table) in FROM, with its optional alias.
#[derive(Debug, Clone, PartialEq)]
pub struct SourceRef {
    pub name: String,
    pub alias: Option<String>,
}

/// The kind of a JOIN.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JoinKind {
    Inner,
    Left,
    Right,
    Full,
    Cross,
}

/// `… JOIN stream [AS alias] ON condition`.
#[derive(Debug, Clone, PartialEq)]
pub struct JoinClause {
    pub source: SourceRef,
    pub kind: JoinKind,
    /// `None` for CROSS JOIN.
    pub on: Option<Expr>,
}

/// One entry of the SELECT list.
#[derive(Debug, Clone, PartialEq)]
pub enum SelectField {
    /// `*` or `demo.*`: every field of the message, under its own name.
    Wildcard { stream: Option<String> },
    /// An expression and its output name (the alias, else eKuiper's default name).
    Expr {
        expr: Expr,
        name: Arc<str>,
        aliased: bool,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub struct SelectStmt {
    pub fields: Vec<SelectField>,
    pub from: SourceRef,
    /// The JOINs after FROM, in order.
    pub joins: Vec<JoinClause>,
    pub condition: Option<Expr>,
    /// GROUP BY expressions other than the window.
    pub dimensions: Vec<Expr>,
    /// The window of GROUP BY, if any.
    pub window: Option<Window>,
    pub having: Option<Expr>,
    pub order_by: Vec<OrderItem>,
    pub limit: Option<usize>,
    /// The `OVER (…)` clauses of analytic calls, by call site.
    pub overs: Vec<(usize, crate::lower::Over)>,
    /// The statement as written.
    pub sql: String,
}

impl SelectStmt {
    /// Every expression of the statement (fields, then WHERE).
    pub fn exprs(&self) -> impl Iterator<Item = &Expr> {
        self.fields
            .iter()
            .filter_map(|f| match f {
                SelectField::Expr { expr, .. } => Some(expr),
                SelectField::Wildcard { .. } => None,
            })
            .chain(self.condition.iter())
    }

    /// Whether the rule groups rows: a window or GROUP BY dimensions.
    pub fn is_grouped(&self) -> bool {
        self.window.is_some() || !self.dimensions.is_empty()
    }
}

/// Parses a rule's SQL into a [`SelectStmt`].
/// The longest rule SQL accepted. Expression trees are walked recursively; bounding
/// the text bounds their depth, so no statement can exhaust a thread's stack.
pub const MAX_SQL_LEN: usize = 32 * 1024;

pub fn parse_select(sql: &str) -> Result<SelectStmt, SqlError> {
    if sql.len() > MAX_SQL_LEN {
        return Err(SqlError::new(format!(
            "SQL is {} bytes long; the limit is {MAX_SQL_LEN}",
            sql.len()
        )));
    }
    let rewritten = rewrite_over_when(sql);
    let mut statements =
        Parser::parse_sql(&KuiperDialect, &rewritten).map_err(|e| at_end(e.into(), sql))?;
    if statements.len() != 1 {
        return Err(SqlError::new(format!(
            "expected one SELECT statement, found {}",
            statements.len()
        )));
    }
    let query = match statements.pop() {
        Some(Statement::Query(q)) => q,
        Some(other) => {
            let kw = other.to_string();
            let kw = kw.split_whitespace().next().unwrap_or("");
            return Err(SqlError::new(format!(
                "expected a SELECT statement, found {kw}"
            )));
        }
        None => return Err(SqlError::new("empty statement")),
    };
    if query.with.is_some() {
        return Err(SqlError::new("WITH is not supported"));
    }
    let select = match &*query.body {
        SetExpr::Select(s) => s,
        other => {
            return Err(SqlError::new(format!(
                "expected a plain SELECT, found \"{other}\""
            )))
        }
    };
    if select.distinct.is_some() {
        return Err(SqlError::new("SELECT DISTINCT is not supported"));
    }
    reject_unsupported(select, &query)?;
    let (from, join_refs) = from_clause(&select.from)?;
    let mut streams = vec![from.name.clone()];
    streams.extend(from.alias.iter().cloned());
    for (j, _) in &join_refs {
        streams.push(j.name.clone());
        streams.extend(j.alias.iter().cloned());
    }
    let mut lower = Lowerer::new(streams);
    let fields = select_fields(&mut lower, &select.projection)?;
    let condition = match &select.selection {
        Some(e) => Some(lower.expr(e)?),
        None => None,
    };
    let mut joins = Vec::with_capacity(join_refs.len());
    for (source, op) in join_refs {
        joins.push(join_clause(&mut lower, source, op)?);
    }
    let (dimensions, window) = clauses::group_by(&mut lower, &select.group_by)?;
    let having = match &select.having {
        Some(e) => Some(lower.expr(e)?),
        None => None,
    };
    let order_by = match &query.order_by {
        Some(o) => clauses::order_by(&mut lower, o)?,
        None => Vec::new(),
    };
    let limit = match &query.limit_clause {
        Some(l) => clauses::limit(l)?,
        None => None,
    };
    let grouped = window.is_some() || !dimensions.is_empty();
    if !grouped {
        if having.is_some() {
            return Err(SqlError::new(
                "HAVING needs GROUP BY (a window or dimensions)",
            ));
        }
        if !order_by.is_empty() || limit.is_some() {
            return Err(SqlError::new(
                "ORDER BY and LIMIT need GROUP BY (a window or dimensions): a rule without one emits each row on its own",
            ));
        }
    }
    Ok(SelectStmt {
        fields,
        from,
        joins,
        condition,
        dimensions,
        window,
        having,
        order_by,
        limit,
        overs: std::mem::take(&mut lower.overs),
        sql: sql.to_string(),
    })
}

/// sqlparser reports running out of input without a position; add the end's.
fn at_end(mut e: SqlError, sql: &str) -> SqlError {
    if e.line == 0 && e.message.ends_with("found: EOF") {
        let line = sql.lines().count().max(1);
        let column = sql.lines().last().map(|l| l.chars().count()).unwrap_or(0) + 1;
        e.message = format!(
            "{} at end of input (line {line}, column {column})",
            e.message
        );
    }
    e
}

/// Clauses sqlparser knows but eKuiper does not: rejected, never silently ignored.
fn reject_unsupported(select: &ast::Select, query: &ast::Query) -> Result<(), SqlError> {
    let found = [
        (select.top.is_some(), "TOP"),
        (select.into.is_some(), "INTO"),
        (!select.lateral_views.is_empty(), "LATERAL VIEW"),
        (select.prewhere.is_some(), "PREWHERE"),
        (!select.connect_by.is_empty(), "CONNECT BY"),
        (!select.cluster_by.is_empty(), "CLUSTER BY"),
        (!select.distribute_by.is_empty(), "DISTRIBUTE BY"),
        (!select.sort_by.is_empty(), "SORT BY"),
        (!select.named_window.is_empty(), "WINDOW"),
        (select.qualify.is_some(), "QUALIFY"),
        (select.exclude.is_some(), "EXCLUDE"),
        (query.fetch.is_some(), "FETCH"),
        (!query.locks.is_empty(), "FOR UPDATE/SHARE"),
        (query.for_clause.is_some(), "FOR"),
        (query.settings.is_some(), "SETTINGS"),
        (query.format_clause.is_some(), "FORMAT"),
        (!query.pipe_operators.is_empty(), "pipe operators"),
    ];
    match found.iter().find(|(present, _)| *present) {
        Some((_, what)) => Err(SqlError::new(format!("{what} is not supported"))),
        None => Ok(()),
    }
}

/// A JOIN's stream and operator, before its condition is lowered.
type PendingJoin<'a> = (SourceRef, &'a ast::JoinOperator);

/// FROM's stream and its JOINs (not yet lowered: their conditions need every stream's
/// name known first).
fn from_clause(
    from: &[ast::TableWithJoins],
) -> Result<(SourceRef, Vec<PendingJoin<'_>>), SqlError> {
    let [twj] = from else {
        return Err(SqlError::new(if from.is_empty() {
            "missing FROM: a rule selects from a stream".to_string()
        } else {
            "several streams in FROM are not supported; use JOIN".to_string()
        }));
    };
    let first = source_ref(&twj.relation)?;
    let joins = twj
        .joins
        .iter()
        .map(|j| Ok((source_ref(&j.relation)?, &j.join_operator)))
        .collect::<Result<Vec<_>, SqlError>>()?;
    Ok((first, joins))
}

fn source_ref(t: &TableFactor) -> Result<SourceRef, SqlError> {
    match t {
        TableFactor::Table { name, alias, .. } => Ok(SourceRef {
            name: name
                .0
                .last()
                .map(|p| p.to_string().trim_matches('`').to_string())
                .unwrap_or_default(),
            alias: alias.as_ref().map(|a| a.name.value.clone()),
        }),
        other => Err(SqlError::new(format!(
            "expected a stream name in FROM, found \"{other}\""
        ))),
    }
}

fn join_clause(
    lower: &mut Lowerer,
    source: SourceRef,
    op: &ast::JoinOperator,
) -> Result<JoinClause, SqlError> {
    use ast::JoinOperator as J;
    let (kind, constraint) = match op {
        J::Join(c) | J::Inner(c) => (JoinKind::Inner, c),
        J::Left(c) | J::LeftOuter(c) => (JoinKind::Left, c),
        J::Right(c) | J::RightOuter(c) => (JoinKind::Right, c),
        J::FullOuter(c) => (JoinKind::Full, c),
        J::CrossJoin(c) => (JoinKind::Cross, c),
        other => {
            return Err(SqlError::new(format!(
                "join \"{other:?}\" with {} is not supported: use INNER, LEFT, RIGHT, FULL or CROSS JOIN",
                source.name
            )))
        }
    };
    let on = match constraint {
        ast::JoinConstraint::On(e) => Some(lower.expr(e)?),
        ast::JoinConstraint::None if kind == JoinKind::Cross => None,
        ast::JoinConstraint::None => {
            return Err(SqlError::new(format!(
                "JOIN {} needs an ON condition",
                source.name
            )))
        }
        ast::JoinConstraint::Using(_) | ast::JoinConstraint::Natural => {
            return Err(SqlError::new(format!(
                "JOIN {}: USING and NATURAL are not supported; write ON",
                source.name
            )))
        }
    };
    if kind == JoinKind::Cross && on.is_some() {
        return Err(SqlError::new(format!(
            "CROSS JOIN {} takes no ON",
            source.name
        )));
    }
    Ok(JoinClause { source, kind, on })
}

fn select_fields(lower: &mut Lowerer, items: &[SelectItem]) -> Result<Vec<SelectField>, SqlError> {
    let mut fields = Vec::with_capacity(items.len());
    // eKuiper numbers only the unnamed fields: `SELECT a, b+1, upper(c), 2` gives
    // a, kuiper_field_0, upper, kuiper_field_1.
    let mut unnamed = 0;
    for item in items {
        let field = match item {
            SelectItem::Wildcard(opts) => {
                if opts.opt_except.is_some()
                    || opts.opt_exclude.is_some()
                    || opts.opt_replace.is_some()
                {
                    return Err(SqlError::new(
                        "* with EXCEPT/EXCLUDE/REPLACE is not supported",
                    ));
                }
                SelectField::Wildcard { stream: None }
            }
            SelectItem::QualifiedWildcard(kind, _) => SelectField::Wildcard {
                stream: Some(kind.to_string()),
            },
            SelectItem::UnnamedExpr(e) => {
                let expr = lower.expr(e)?;
                let name = match e {
                    // `a.b` keeps the name `b` in eKuiper, whether `a` is a stream
                    // qualifier or a nested object.
                    ast::Expr::CompoundIdentifier(ids) if ids.len() > 1 => {
                        ids.last().map(|i| i.value.clone()).unwrap_or_default()
                    }
                    // `(a)` is an expression, not a column, for eKuiper's naming.
                    ast::Expr::Nested(_) => {
                        let n = unnamed;
                        unnamed += 1;
                        format!("{DEFAULT_FIELD_NAME_PREFIX}{n}")
                    }
                    _ => default_name(&expr, &mut unnamed),
                };
                SelectField::Expr {
                    expr,
                    name: Arc::from(name.as_str()),
                    aliased: false,
                }
            }
            SelectItem::ExprWithAlias { expr, alias } => SelectField::Expr {
                expr: lower.expr(expr)?,
                name: Arc::from(alias.value.as_str()),
                aliased: true,
            },
            other => {
                return Err(SqlError::new(format!(
                    "unsupported select item \"{other}\""
                )))
            }
        };
        fields.push(field);
    }
    Ok(fields)
}

/// eKuiper's naming of an unaliased field: a column keeps its name, a function call
/// takes the function's lower-cased name, anything else is `kuiper_field_<n>` where
/// `n` counts the unnamed fields so far.
fn default_name(expr: &Expr, unnamed: &mut usize) -> String {
    match expr {
        Expr::Field { name, .. } => name.to_string(),
        Expr::Call { name, .. } => name.to_ascii_lowercase(),
        Expr::Meta(_) => "meta".to_string(),
        _ => {
            let n = *unnamed;
            *unnamed += 1;
            format!("{DEFAULT_FIELD_NAME_PREFIX}{n}")
        }
    }
}

#[cfg(test)]
#[path = "select_tests.rs"]
mod tests;
