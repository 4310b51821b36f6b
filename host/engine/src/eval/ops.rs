//! Scalar operators with eKuiper's semantics (its `ValuerEval.simpleDataEval`, as its
//! v2 tests pin it down): ints stay ints (`7 / 2 = 3`), an int meeting a float widens,
//! nil makes arithmetic nil and *every* comparison false (`nil = nil` included), strings
//! compare but do not add, and mixing incompatible types is an error worded like
//! eKuiper's: `invalid operation string(abc) > int64(20)`.

use std::cmp::Ordering;
use tributary_core::Value;
use tributary_sql::{BinOp, UnaryOp};

pub type OpResult = Result<Value, String>;

fn invalid(l: &Value, op: BinOp, r: &Value) -> String {
    format!(
        "invalid operation {} {} {}",
        l.describe(),
        op.symbol(),
        r.describe()
    )
}

/// Evaluates `l op r` for every operator but AND/OR (which short-circuit and are
/// handled by the evaluator).
pub fn binary(op: BinOp, l: &Value, r: &Value) -> OpResult {
    use Value::*;
    if l.is_null() || r.is_null() {
        return Ok(match op {
            BinOp::Eq | BinOp::NotEq | BinOp::Lt | BinOp::LtEq | BinOp::Gt | BinOp::GtEq => {
                Bool(false)
            }
            _ => Null,
        });
    }
    match (l, r) {
        (Int(a), Int(b)) => int_op(op, *a, *b, l, r),
        (Int(_) | Float(_), Int(_) | Float(_)) => {
            let (a, b) = (l.as_f64().unwrap_or(0.0), r.as_f64().unwrap_or(0.0));
            float_op(op, a, b, l, r)
        }
        (String(a), String(b)) => {
            compare(op, a.as_ref().cmp(b.as_ref())).ok_or_else(|| invalid(l, op, r))
        }
        (Bool(a), Bool(b)) => match op {
            BinOp::Eq => Ok(Bool(a == b)),
            BinOp::NotEq => Ok(Bool(a != b)),
            _ => Err(invalid(l, op, r)),
        },
        (Datetime(a), Datetime(b)) => compare(op, a.cmp(b)).ok_or_else(|| invalid(l, op, r)),
        // A datetime compared with an epoch-ms number, as eKuiper allows.
        (Datetime(a), Int(_) | Float(_)) => {
            let b = (r.as_f64().unwrap_or(0.0) * 1e6) as i64;
            compare(op, a.cmp(&b)).ok_or_else(|| invalid(l, op, r))
        }
        (Array(_) | Object(_), _) => Err(format!(
            "{} is an invalid operation for {}",
            op.symbol(),
            l.type_name()
        )),
        _ => Err(invalid(l, op, r)),
    }
}

fn compare(op: BinOp, ord: Ordering) -> Option<Value> {
    Some(Value::Bool(match op {
        BinOp::Eq => ord == Ordering::Equal,
        BinOp::NotEq => ord != Ordering::Equal,
        BinOp::Lt => ord == Ordering::Less,
        BinOp::LtEq => ord != Ordering::Greater,
        BinOp::Gt => ord == Ordering::Greater,
        BinOp::GtEq => ord != Ordering::Less,
        _ => return None,
    }))
}

fn int_op(op: BinOp, a: i64, b: i64, l: &Value, r: &Value) -> OpResult {
    Ok(Value::Int(match op {
        BinOp::Add => a.wrapping_add(b),
        BinOp::Sub => a.wrapping_sub(b),
        BinOp::Mul => a.wrapping_mul(b),
        BinOp::Div => {
            if b == 0 {
                return Err("divided by zero".into());
            }
            a.wrapping_div(b)
        }
        BinOp::Mod => {
            if b == 0 {
                return Err("divided by zero".into());
            }
            a.wrapping_rem(b)
        }
        BinOp::BitAnd => a & b,
        BinOp::BitOr => a | b,
        BinOp::BitXor => a ^ b,
        _ => return compare(op, a.cmp(&b)).ok_or_else(|| invalid(l, op, r)),
    }))
}

fn float_op(op: BinOp, a: f64, b: f64, l: &Value, r: &Value) -> OpResult {
    Ok(Value::Float(match op {
        BinOp::Add => a + b,
        BinOp::Sub => a - b,
        BinOp::Mul => a * b,
        BinOp::Div => {
            if b == 0.0 {
                return Err("divided by zero".into());
            }
            a / b
        }
        BinOp::Mod => {
            if b == 0.0 {
                return Err("divided by zero".into());
            }
            a % b
        }
        _ => {
            return match a.partial_cmp(&b) {
                Some(ord) => compare(op, ord).ok_or_else(|| invalid(l, op, r)),
                None => Ok(Value::Bool(matches!(op, BinOp::NotEq))),
            }
        }
    }))
}

/// Unary minus, plus and NOT.
pub fn unary(op: UnaryOp, v: &Value) -> OpResult {
    match (op, v) {
        (_, Value::Null) => Ok(Value::Null),
        (UnaryOp::Neg, Value::Int(i)) => Ok(Value::Int(i.wrapping_neg())),
        (UnaryOp::Neg, Value::Float(f)) => Ok(Value::Float(-f)),
        (UnaryOp::Plus, Value::Int(_) | Value::Float(_)) => Ok(v.clone()),
        (UnaryOp::Not, Value::Bool(b)) => Ok(Value::Bool(!b)),
        (UnaryOp::Not, other) => Err(format!("invalid operation NOT {}", other.describe())),
        (_, other) => Err(format!("invalid operation - {}", other.describe())),
    }
}

/// Three-valued truth of a condition: `Some(bool)` for a boolean, `None` for nil.
pub fn truth(v: &Value) -> Result<Option<bool>, String> {
    match v {
        Value::Bool(b) => Ok(Some(*b)),
        Value::Null => Ok(None),
        other => Err(format!(
            "invalid condition that returns non-bool value {}",
            other.describe()
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ints_stay_ints_and_floats_widen() {
        assert_eq!(
            binary(BinOp::Div, &Value::Int(7), &Value::Int(2)),
            Ok(Value::Int(3))
        );
        assert!(matches!(
            binary(BinOp::Div, &Value::Int(7), &Value::Float(2.0)),
            Ok(Value::Float(f)) if f == 3.5
        ));
        assert_eq!(
            binary(BinOp::BitXor, &Value::Int(6), &Value::Int(3)),
            Ok(Value::Int(5))
        );
    }

    #[test]
    fn errors_read_like_ekuiper() {
        assert_eq!(
            binary(BinOp::Gt, &Value::str("abc"), &Value::Int(20)),
            Err("invalid operation string(abc) > int64(20)".to_string())
        );
        assert_eq!(
            binary(BinOp::Div, &Value::Int(1), &Value::Int(0)),
            Err("divided by zero".to_string())
        );
    }

    #[test]
    fn nil_makes_arithmetic_nil_and_comparison_false() {
        assert_eq!(
            binary(BinOp::Add, &Value::Null, &Value::Int(1)),
            Ok(Value::Null)
        );
        assert_eq!(
            binary(BinOp::Gt, &Value::Null, &Value::Int(1)),
            Ok(Value::Bool(false))
        );
        assert_eq!(
            binary(BinOp::Eq, &Value::Null, &Value::Null),
            Ok(Value::Bool(false))
        );
        assert_eq!(
            binary(BinOp::NotEq, &Value::Int(1), &Value::Null),
            Ok(Value::Bool(false))
        );
    }
}
