//! The typed expression tree of a rule. Built from the `sqlparser` AST by `lower`,
//! consumed by the engine's evaluator.

use std::sync::Arc;
use tributary_core::Value;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnaryOp {
    Neg,
    Plus,
    Not,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BinOp {
    Add,
    Sub,
    Mul,
    Div,
    Mod,
    BitAnd,
    BitOr,
    BitXor,
    Eq,
    NotEq,
    Lt,
    LtEq,
    Gt,
    GtEq,
    And,
    Or,
}

impl BinOp {
    /// The operator as eKuiper prints it in error messages.
    pub fn symbol(&self) -> &'static str {
        match self {
            BinOp::Add => "+",
            BinOp::Sub => "-",
            BinOp::Mul => "*",
            BinOp::Div => "/",
            BinOp::Mod => "%",
            BinOp::BitAnd => "&",
            BinOp::BitOr => "|",
            BinOp::BitXor => "^",
            BinOp::Eq => "=",
            BinOp::NotEq => "!=",
            BinOp::Lt => "<",
            BinOp::LtEq => "<=",
            BinOp::Gt => ">",
            BinOp::GtEq => ">=",
            BinOp::And => "AND",
            BinOp::Or => "OR",
        }
    }
}

/// What `meta(...)` asks for.
#[derive(Debug, Clone, PartialEq)]
pub enum MetaKey {
    /// `meta(*)`: the whole metadata object.
    All,
    /// `meta(topic)`, `meta(device->id)`: a key, then optional nested members.
    Key(String, Vec<String>),
}

#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    Literal(Value),
    /// A column of the current row. `stream` is the qualifier when one was written
    /// (`demo.color`), kept for joins.
    Field {
        stream: Option<String>,
        name: Arc<str>,
    },
    /// `*` as a function argument (`count(*)`): the whole row as an object.
    Wildcard,
    /// A reference to the alias of another SELECT field (`size AS a, a + 1 AS b`),
    /// resolved by the planner so the aliased expression is computed once per row.
    AliasRef {
        name: Arc<str>,
    },
    /// A column the engine adds for itself (an aggregate's result, a join's
    /// qualified copy…): never written by a user, put in by the planner.
    Hidden(tributary_core::hidden::HiddenCol),
    Meta(MetaKey),
    /// `expr->key` or a nested `expr.key`.
    Member {
        expr: Box<Expr>,
        key: String,
    },
    /// `expr[index]`; negative indices count from the end.
    Index {
        expr: Box<Expr>,
        index: Box<Expr>,
    },
    /// `expr[start:end]`, end exclusive; either bound may be omitted.
    Slice {
        expr: Box<Expr>,
        start: Option<Box<Expr>>,
        end: Option<Box<Expr>>,
    },
    Unary {
        op: UnaryOp,
        expr: Box<Expr>,
    },
    Binary {
        op: BinOp,
        left: Box<Expr>,
        right: Box<Expr>,
    },
    Like {
        expr: Box<Expr>,
        pattern: Box<Expr>,
        escape: Option<char>,
        negated: bool,
    },
    InList {
        expr: Box<Expr>,
        list: Vec<Expr>,
        negated: bool,
    },
    Between {
        expr: Box<Expr>,
        low: Box<Expr>,
        high: Box<Expr>,
        negated: bool,
    },
    IsNull {
        expr: Box<Expr>,
        negated: bool,
    },
    /// `CASE [operand] WHEN … THEN … [ELSE …] END`.
    Case {
        operand: Option<Box<Expr>>,
        whens: Vec<(Expr, Expr)>,
        otherwise: Option<Box<Expr>>,
    },
    /// A function call, resolved against the registry when the rule is planned.
    /// `site` numbers the calls of one statement in parse order.
    Call {
        name: String,
        args: Vec<Expr>,
        site: usize,
    },
}

impl Expr {
    pub fn field(name: &str) -> Expr {
        Expr::Field {
            stream: None,
            name: Arc::from(name),
        }
    }

    /// Visits this expression and all sub-expressions, depth first.
    pub fn walk<'a>(&'a self, f: &mut dyn FnMut(&'a Expr)) {
        f(self);
        match self {
            Expr::Literal(_)
            | Expr::Field { .. }
            | Expr::Wildcard
            | Expr::Meta(_)
            | Expr::AliasRef { .. }
            | Expr::Hidden(_) => {}
            Expr::Member { expr, .. } | Expr::Unary { expr, .. } => expr.walk(f),
            Expr::IsNull { expr, .. } => expr.walk(f),
            Expr::Index { expr, index } => {
                expr.walk(f);
                index.walk(f);
            }
            Expr::Slice { expr, start, end } => {
                expr.walk(f);
                if let Some(s) = start {
                    s.walk(f);
                }
                if let Some(e) = end {
                    e.walk(f);
                }
            }
            Expr::Binary { left, right, .. } => {
                left.walk(f);
                right.walk(f);
            }
            Expr::Like { expr, pattern, .. } => {
                expr.walk(f);
                pattern.walk(f);
            }
            Expr::InList { expr, list, .. } => {
                expr.walk(f);
                list.iter().for_each(|e| e.walk(f));
            }
            Expr::Between {
                expr, low, high, ..
            } => {
                expr.walk(f);
                low.walk(f);
                high.walk(f);
            }
            Expr::Case {
                operand,
                whens,
                otherwise,
            } => {
                if let Some(o) = operand {
                    o.walk(f);
                }
                for (w, t) in whens {
                    w.walk(f);
                    t.walk(f);
                }
                if let Some(o) = otherwise {
                    o.walk(f);
                }
            }
            Expr::Call { args, .. } => args.iter().for_each(|a| a.walk(f)),
        }
    }

    /// Calls `f` on each direct sub-expression, mutably (for rewrites such as alias
    /// resolution).
    pub fn for_each_child_mut(&mut self, f: &mut dyn FnMut(&mut Expr)) {
        match self {
            Expr::Literal(_)
            | Expr::Field { .. }
            | Expr::Wildcard
            | Expr::Meta(_)
            | Expr::AliasRef { .. }
            | Expr::Hidden(_) => {}
            Expr::Member { expr, .. } | Expr::Unary { expr, .. } | Expr::IsNull { expr, .. } => {
                f(expr)
            }
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

    /// Whether the expression calls the function `name` anywhere.
    pub fn calls(&self, name: &str) -> bool {
        let mut found = false;
        self.walk(&mut |e| {
            if let Expr::Call { name: n, .. } = e {
                if n.eq_ignore_ascii_case(name) {
                    found = true;
                }
            }
        });
        found
    }
}
