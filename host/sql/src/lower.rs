//! Lowering from the `sqlparser` AST to the typed [`Expr`] tree.
//!
//! Everything eKuiper does not have is rejected here with an error naming the construct,
//! so that the runtime only ever sees expressions it can evaluate.

use crate::error::SqlError;
use crate::expr::{BinOp, Expr, MetaKey, UnaryOp};
use sqlparser::ast::{
    self, AccessExpr, FunctionArg, FunctionArgExpr, FunctionArguments, Subscript,
};
use std::sync::Arc;
use tributary_core::Value;

/// State shared while lowering one statement.
pub(crate) struct Lowerer {
    /// Names and aliases of the streams in FROM / JOIN: `demo.color` with `demo` among
    /// them is a qualified column; otherwise `a.b` is a nested member access.
    pub streams: Vec<String>,
    /// Counter numbering function call sites.
    pub sites: usize,
    /// `OVER (PARTITION BY … WHEN …)` of the calls that have one, by call site.
    pub overs: Vec<(usize, Over)>,
    depth: usize,
}

/// The `OVER (PARTITION BY … WHEN …)` of an analytic function call.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Over {
    pub partition_by: Vec<Expr>,
    /// The call updates its state only for tuples where this is not false.
    pub when: Option<Expr>,
}

/// The deepest expression accepted (nesting of operators, calls and accesses).
const MAX_DEPTH: usize = 256;

fn unsupported(what: impl std::fmt::Display) -> SqlError {
    SqlError::new(format!("{what} is not supported"))
}

impl Lowerer {
    pub fn new(streams: Vec<String>) -> Self {
        Lowerer {
            streams,
            sites: 0,
            overs: Vec::new(),
            depth: 0,
        }
    }

    fn is_stream(&self, name: &str) -> bool {
        self.streams.iter().any(|s| s.eq_ignore_ascii_case(name))
    }

    pub fn expr(&mut self, e: &ast::Expr) -> Result<Expr, SqlError> {
        if self.depth >= MAX_DEPTH {
            return Err(SqlError::new(format!(
                "expression nested deeper than {MAX_DEPTH} levels"
            )));
        }
        self.depth += 1;
        let r = self.expr_inner(e);
        self.depth -= 1;
        r
    }

    fn expr_inner(&mut self, e: &ast::Expr) -> Result<Expr, SqlError> {
        use ast::Expr as A;
        Ok(match e {
            A::Identifier(id) => Expr::Field {
                stream: None,
                name: Arc::from(id.value.as_str()),
            },
            A::CompoundIdentifier(ids) => self.compound(ids)?,
            A::CompoundFieldAccess { root, access_chain } => {
                let mut cur = self.expr(root)?;
                for acc in access_chain {
                    cur = self.access(cur, acc)?;
                }
                cur
            }
            A::Value(v) => Expr::Literal(literal(&v.value)?),
            A::Nested(inner) => self.expr(inner)?,
            A::UnaryOp {
                op: ast::UnaryOperator::Minus,
                expr: inner,
            } if matches!(&**inner, A::Value(v) if matches!(v.value, ast::Value::Number(..))) => {
                // `-9223372036854775808` only fits as a whole: parse sign and digits
                // together.
                let text = match &**inner {
                    A::Value(v) => v.value.to_string(),
                    _ => String::new(),
                };
                match format!("-{text}").parse::<i64>() {
                    Ok(i) => Expr::Literal(Value::Int(i)),
                    Err(_) => match literal(match &**inner {
                        A::Value(v) => &v.value,
                        _ => return Err(SqlError::new("invalid number")),
                    })? {
                        Value::Float(f) => Expr::Literal(Value::Float(-f)),
                        Value::Int(i) => Expr::Literal(Value::Int(i.wrapping_neg())),
                        other => Expr::Literal(other),
                    },
                }
            }
            A::UnaryOp { op, expr } => {
                let op = match op {
                    ast::UnaryOperator::Minus => UnaryOp::Neg,
                    ast::UnaryOperator::Plus => UnaryOp::Plus,
                    ast::UnaryOperator::Not => UnaryOp::Not,
                    other => return Err(unsupported(format!("operator {other}"))),
                };
                let inner = self.expr(expr)?;
                // Fold `-1` into a literal so that `-9223372036854775808` and
                // `LIMIT -1`-style checks see a number.
                match (op, inner) {
                    (UnaryOp::Neg, Expr::Literal(Value::Int(i))) => Expr::Literal(Value::Int(-i)),
                    (UnaryOp::Neg, Expr::Literal(Value::Float(f))) => {
                        Expr::Literal(Value::Float(-f))
                    }
                    (op, inner) => Expr::Unary {
                        op,
                        expr: Box::new(inner),
                    },
                }
            }
            A::BinaryOp { left, op, right } => {
                if *op == ast::BinaryOperator::Arrow {
                    let base = self.expr(left)?;
                    return self.arrow(base, right);
                }
                let op = binop(op)?;
                Expr::Binary {
                    op,
                    left: Box::new(self.expr(left)?),
                    right: Box::new(self.expr(right)?),
                }
            }
            A::Like {
                negated,
                any,
                expr,
                pattern,
                escape_char,
            } => {
                if *any {
                    return Err(unsupported("LIKE ANY"));
                }
                let escape = match escape_char {
                    None => None,
                    Some(v) => {
                        let s = match &**v {
                            ast::Expr::Value(lit) => match &lit.value {
                                ast::Value::SingleQuotedString(s)
                                | ast::Value::DoubleQuotedString(s) => s.clone(),
                                other => other.to_string(),
                            },
                            other => other.to_string(),
                        };
                        let mut chars = s.chars();
                        match (chars.next(), chars.next()) {
                            (Some(c), None) => Some(c),
                            _ => {
                                return Err(SqlError::new(format!(
                                    "ESCAPE must be a single character, found \"{s}\""
                                )))
                            }
                        }
                    }
                };
                Expr::Like {
                    expr: Box::new(self.expr(expr)?),
                    pattern: Box::new(self.expr(pattern)?),
                    escape,
                    negated: *negated,
                }
            }
            A::InList {
                expr,
                list,
                negated,
            } => Expr::InList {
                expr: Box::new(self.expr(expr)?),
                list: list
                    .iter()
                    .map(|x| self.expr(x))
                    .collect::<Result<_, _>>()?,
                negated: *negated,
            },
            A::Between {
                expr,
                negated,
                low,
                high,
            } => Expr::Between {
                expr: Box::new(self.expr(expr)?),
                low: Box::new(self.expr(low)?),
                high: Box::new(self.expr(high)?),
                negated: *negated,
            },
            A::IsNull(inner) => Expr::IsNull {
                expr: Box::new(self.expr(inner)?),
                negated: false,
            },
            A::IsNotNull(inner) => Expr::IsNull {
                expr: Box::new(self.expr(inner)?),
                negated: true,
            },
            A::Case {
                operand,
                conditions,
                else_result,
                ..
            } => Expr::Case {
                operand: match operand {
                    Some(o) => Some(Box::new(self.expr(o)?)),
                    None => None,
                },
                whens: conditions
                    .iter()
                    .map(|w| Ok((self.expr(&w.condition)?, self.expr(&w.result)?)))
                    .collect::<Result<_, SqlError>>()?,
                otherwise: match else_result {
                    Some(o) => Some(Box::new(self.expr(o)?)),
                    None => None,
                },
            },
            // `CAST(x AS bigint)` and eKuiper's `cast(x, "bigint")` are one function.
            A::Cast {
                expr, data_type, ..
            } => {
                let site = self.sites;
                self.sites += 1;
                Expr::Call {
                    name: "cast".to_string(),
                    args: vec![
                        self.expr(expr)?,
                        Expr::Literal(Value::str(cast_type(data_type)?)),
                    ],
                    site,
                }
            }
            A::Function(f) => self.function(f)?,
            // sqlparser gives these functions a grammar of their own; in eKuiper they
            // are ordinary calls.
            A::Substring {
                expr,
                substring_from,
                substring_for,
                ..
            } => {
                let mut args = vec![self.expr(expr)?];
                for a in [substring_from, substring_for].into_iter().flatten() {
                    args.push(self.expr(a)?);
                }
                self.call("substring", args)
            }
            A::Trim {
                expr,
                trim_where: None,
                trim_what: None,
                trim_characters: None,
            } => {
                let arg = self.expr(expr)?;
                self.call("trim", vec![arg])
            }
            A::Ceil { expr, field } | A::Floor { expr, field } => {
                let name = if matches!(e, A::Ceil { .. }) {
                    "ceil"
                } else {
                    "floor"
                };
                let mut args = vec![self.expr(expr)?];
                match field {
                    ast::CeilFloorKind::DateTimeField(ast::DateTimeField::NoDateTime) => {}
                    ast::CeilFloorKind::Scale(v) => args.push(Expr::Literal(literal(&v.value)?)),
                    _ => return Err(unsupported(format!("{name} with a TO clause"))),
                }
                self.call(name, args)
            }
            other => return Err(unsupported(format!("expression \"{other}\""))),
        })
    }

    /// A call of `name` with numbered call site.
    fn call(&mut self, name: &str, args: Vec<Expr>) -> Expr {
        let site = self.sites;
        self.sites += 1;
        Expr::Call {
            name: name.to_string(),
            args,
            site,
        }
    }

    /// `a.b.c`: a qualified column when `a` names a stream, else nested members.
    fn compound(&mut self, ids: &[ast::Ident]) -> Result<Expr, SqlError> {
        let (first, rest) = match ids.split_first() {
            Some(x) => x,
            None => return Err(SqlError::new("empty identifier")),
        };
        let (mut cur, rest) = if self.is_stream(&first.value) && !rest.is_empty() {
            (
                Expr::Field {
                    stream: Some(first.value.clone()),
                    name: Arc::from(rest[0].value.as_str()),
                },
                &rest[1..],
            )
        } else {
            (Expr::field(&first.value), rest)
        };
        for id in rest {
            cur = Expr::Member {
                expr: Box::new(cur),
                key: id.value.clone(),
            };
        }
        Ok(cur)
    }

    fn access(&mut self, base: Expr, acc: &AccessExpr) -> Result<Expr, SqlError> {
        Ok(match acc {
            AccessExpr::Dot(ast::Expr::Identifier(id)) => match &base {
                Expr::Field { stream: None, name } if self.is_stream(name) => Expr::Field {
                    stream: Some(name.to_string()),
                    name: Arc::from(id.value.as_str()),
                },
                _ => Expr::Member {
                    expr: Box::new(base),
                    key: id.value.clone(),
                },
            },
            AccessExpr::Dot(other) => return Err(unsupported(format!("member access .{other}"))),
            AccessExpr::Subscript(Subscript::Index { index }) => Expr::Index {
                expr: Box::new(base),
                index: Box::new(self.expr(index)?),
            },
            AccessExpr::Subscript(Subscript::Slice {
                lower_bound,
                upper_bound,
                stride,
            }) => {
                if stride.is_some() {
                    return Err(unsupported("a slice stride"));
                }
                Expr::Slice {
                    expr: Box::new(base),
                    start: match lower_bound {
                        Some(b) => Some(Box::new(self.expr(b)?)),
                        None => None,
                    },
                    end: match upper_bound {
                        Some(b) => Some(Box::new(self.expr(b)?)),
                        None => None,
                    },
                }
            }
        })
    }

    /// `base->key`, where the right side may itself carry subscripts (`a->b[0]`).
    fn arrow(&mut self, base: Expr, right: &ast::Expr) -> Result<Expr, SqlError> {
        match right {
            ast::Expr::Identifier(id) => Ok(Expr::Member {
                expr: Box::new(base),
                key: id.value.clone(),
            }),
            ast::Expr::CompoundFieldAccess { root, access_chain } => {
                let mut cur = self.arrow(base, root)?;
                for acc in access_chain {
                    cur = self.access(cur, acc)?;
                }
                Ok(cur)
            }
            ast::Expr::BinaryOp {
                left,
                op: ast::BinaryOperator::Arrow,
                right: r2,
            } => {
                let mid = self.arrow(base, left)?;
                self.arrow(mid, r2)
            }
            other => Err(SqlError::new(format!(
                "expected a field name after ->, found \"{other}\""
            ))),
        }
    }

    fn function(&mut self, f: &ast::Function) -> Result<Expr, SqlError> {
        let name = f.name.to_string();
        let over = match &f.over {
            None => None,
            Some(ast::WindowType::NamedWindow(n)) => {
                return Err(unsupported(format!("OVER {n} (a named window) on {name}")))
            }
            Some(ast::WindowType::WindowSpec(spec)) => {
                if !spec.order_by.is_empty() || spec.window_frame.is_some() {
                    return Err(SqlError::new(format!(
                        "OVER on {name}: only PARTITION BY and WHEN are supported"
                    )));
                }
                let mut o = Over::default();
                for p in &spec.partition_by {
                    match p {
                        ast::Expr::Function(m)
                            if m.name.to_string() == crate::over::WHEN_MARKER =>
                        {
                            let cond = match &m.args {
                                FunctionArguments::List(l) => match l.args.first() {
                                    Some(FunctionArg::Unnamed(FunctionArgExpr::Expr(e))) => e,
                                    _ => {
                                        return Err(SqlError::new(format!(
                                            "OVER on {name}: WHEN needs a condition"
                                        )))
                                    }
                                },
                                _ => {
                                    return Err(SqlError::new(format!(
                                        "OVER on {name}: WHEN needs a condition"
                                    )))
                                }
                            };
                            o.when = Some(self.expr(cond)?);
                        }
                        other => o.partition_by.push(self.expr(other)?),
                    }
                }
                Some(o)
            }
        };
        if f.filter.is_some() {
            return Err(unsupported(format!("FILTER on {name}")));
        }
        let mut args = Vec::new();
        match &f.args {
            FunctionArguments::None => {}
            FunctionArguments::Subquery(_) => return Err(unsupported("a subquery")),
            FunctionArguments::List(list) => {
                if list.duplicate_treatment.is_some() {
                    return Err(unsupported(format!("DISTINCT in {name}")));
                }
                for a in &list.args {
                    let fae = match a {
                        FunctionArg::Unnamed(x) => x,
                        other => {
                            return Err(unsupported(format!("named argument {other} in {name}")))
                        }
                    };
                    args.push(match fae {
                        FunctionArgExpr::Expr(e) => self.expr(e)?,
                        FunctionArgExpr::Wildcard => Expr::Wildcard,
                        FunctionArgExpr::QualifiedWildcard(_) => Expr::Wildcard,
                        other => return Err(unsupported(format!("argument {other} in {name}"))),
                    });
                }
            }
        }
        if name.eq_ignore_ascii_case("meta") {
            return meta(&args);
        }
        let site = self.sites;
        self.sites += 1;
        if let Some(o) = over {
            self.overs.push((site, o));
        }
        Ok(Expr::Call { name, args, site })
    }
}

/// `meta(key)`, `meta(key->nested)`, `meta(*)`.
fn meta(args: &[Expr]) -> Result<Expr, SqlError> {
    fn path(e: &Expr, out: &mut Vec<String>) -> bool {
        match e {
            Expr::Field { stream: None, name } => {
                out.push(name.to_string());
                true
            }
            Expr::Member { expr, key } => {
                let ok = path(expr, out);
                out.push(key.clone());
                ok
            }
            _ => false,
        }
    }
    match args {
        [Expr::Wildcard] => Ok(Expr::Meta(MetaKey::All)),
        [e] => {
            let mut p = Vec::new();
            if path(e, &mut p) && !p.is_empty() {
                let key = p.remove(0);
                Ok(Expr::Meta(MetaKey::Key(key, p)))
            } else {
                Err(SqlError::new(
                    "meta() expects a metadata key, like meta(topic)",
                ))
            }
        }
        _ => Err(SqlError::new(format!(
            "meta() expects 1 argument but found {}",
            args.len()
        ))),
    }
}

pub(crate) fn literal(v: &ast::Value) -> Result<Value, SqlError> {
    Ok(match v {
        ast::Value::Number(n, _) => {
            if let Ok(i) = n.parse::<i64>() {
                Value::Int(i)
            } else {
                n.parse::<f64>()
                    .map(Value::Float)
                    .map_err(|_| SqlError::new(format!("invalid number {n}")))?
            }
        }
        ast::Value::SingleQuotedString(s) | ast::Value::DoubleQuotedString(s) => Value::str(s),
        ast::Value::Boolean(b) => Value::Bool(*b),
        ast::Value::Null => Value::Null,
        other => return Err(unsupported(format!("literal {other}"))),
    })
}

fn binop(op: &ast::BinaryOperator) -> Result<BinOp, SqlError> {
    use ast::BinaryOperator as B;
    Ok(match op {
        B::Plus => BinOp::Add,
        B::Minus => BinOp::Sub,
        B::Multiply => BinOp::Mul,
        B::Divide => BinOp::Div,
        B::Modulo => BinOp::Mod,
        B::BitwiseAnd => BinOp::BitAnd,
        B::BitwiseOr => BinOp::BitOr,
        B::BitwiseXor => BinOp::BitXor,
        B::Eq => BinOp::Eq,
        B::NotEq => BinOp::NotEq,
        B::Lt => BinOp::Lt,
        B::LtEq => BinOp::LtEq,
        B::Gt => BinOp::Gt,
        B::GtEq => BinOp::GtEq,
        B::And => BinOp::And,
        B::Or => BinOp::Or,
        other => return Err(unsupported(format!("operator {other}"))),
    })
}

/// eKuiper's cast targets: bigint, float, string, boolean, datetime, bytea.
fn cast_type(t: &ast::DataType) -> Result<&'static str, SqlError> {
    let s = t.to_string().to_ascii_lowercase();
    let base = s.split('(').next().unwrap_or("").trim().trim_matches('"');
    Ok(match base {
        "bigint" | "int" | "integer" => "bigint",
        "float" | "double" | "real" => "float",
        "string" | "text" | "varchar" => "string",
        "boolean" | "bool" => "boolean",
        "datetime" | "timestamp" => "datetime",
        "bytea" => "bytea",
        _ => {
            return Err(SqlError::new(format!(
                "cannot cast to {t}: expected bigint, float, string, boolean, datetime or bytea"
            )))
        }
    })
}
