//! Expressions printed the way eKuiper prints them inside error messages
//! (`run Select error: expr: binaryExpr:{ ldemo.size * 5 } meet error, err:…`), so that
//! error emissions read the same as eKuiper's.

use tributary_core::Value;
use tributary_sql::expr::MetaKey;
use tributary_sql::{Expr, UnaryOp};

/// Prints `e`; unqualified columns are qualified with `stream`, as eKuiper binds them.
pub fn expr_string(e: &Expr, stream: &str) -> String {
    let p = |x: &Expr| expr_string(x, stream);
    match e {
        Expr::Literal(Value::String(s)) => format!("\"{s}\""),
        Expr::Literal(v) => v.to_string(),
        Expr::Field { stream: s, name } => {
            format!("{}.{name}", s.as_deref().unwrap_or(stream))
        }
        Expr::Wildcard => "*".to_string(),
        Expr::AliasRef { name } => format!("$$alias.{name}"),
        Expr::Hidden(col) => col.to_string(),
        Expr::Meta(MetaKey::All) => "meta(*)".to_string(),
        Expr::Meta(MetaKey::Key(k, path)) => {
            let mut s = format!("meta({k}");
            for p in path {
                s.push_str("->");
                s.push_str(p);
            }
            s.push(')');
            s
        }
        Expr::Member { expr, key } => {
            format!("binaryExpr:{{ {} -> jsonFieldName:{key} }}", p(expr))
        }
        Expr::Index { expr, index } => {
            format!("binaryExpr:{{ {} [] indexExpr:{} }}", p(expr), p(index))
        }
        Expr::Slice { expr, start, end } => format!(
            "binaryExpr:{{ {} [] sliceExpr:{{ start:{}, end:{} }} }}",
            p(expr),
            start.as_deref().map(p).unwrap_or_default(),
            end.as_deref().map(p).unwrap_or_default()
        ),
        Expr::Unary { op, expr } => match op {
            UnaryOp::Neg => format!("-{}", p(expr)),
            UnaryOp::Plus => p(expr),
            UnaryOp::Not => format!("NOT {}", p(expr)),
        },
        Expr::Binary { op, left, right } => {
            format!("binaryExpr:{{ {} {} {} }}", p(left), op.symbol(), p(right))
        }
        Expr::Like {
            expr,
            pattern,
            negated,
            ..
        } => format!(
            "binaryExpr:{{ {} {} {} }}",
            p(expr),
            if *negated { "NOT LIKE" } else { "LIKE" },
            p(pattern)
        ),
        Expr::InList {
            expr,
            list,
            negated,
        } => format!(
            "binaryExpr:{{ {} {} valueSetExpr:{{ {} }} }}",
            p(expr),
            if *negated { "NOT IN" } else { "IN" },
            list.iter().map(p).collect::<Vec<_>>().join(", ")
        ),
        Expr::Between {
            expr,
            low,
            high,
            negated,
        } => format!(
            "binaryExpr:{{ {} {} betweenExpr:{{ {}, {} }} }}",
            p(expr),
            if *negated { "NOT BETWEEN" } else { "BETWEEN" },
            p(low),
            p(high)
        ),
        Expr::IsNull { expr, negated } => {
            format!("{} IS {}NULL", p(expr), if *negated { "NOT " } else { "" })
        }
        Expr::Case { .. } => "caseExpr".to_string(),
        Expr::Call { name, args, .. } => format!(
            "Call:{{ name:{}, args:[{}] }}",
            name.to_ascii_lowercase(),
            args.iter().map(p).collect::<Vec<_>>().join(", ")
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn binary_reads_like_ekuiper() {
        let s = tributary_sql::parse_select("SELECT size * 5 FROM ldemo").expect("sql");
        let e = s.exprs().next().expect("expr");
        assert_eq!(expr_string(e, "ldemo"), "binaryExpr:{ ldemo.size * 5 }");
    }
}
