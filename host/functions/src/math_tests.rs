//! Tests of the mathematical functions, with examples from eKuiper's docs and tests.

use super::*;
use crate::testutil::{call, check};

#[test]
fn abs_keeps_ints_int() {
    assert_eq!(call("abs", &[Value::Int(-3)]), Ok(Value::Int(3)));
    assert_eq!(call("abs", &[Value::Float(-1.5)]), Ok(Value::Float(1.5)));
    assert_eq!(call("abs", &[Value::Null]), Ok(Value::Null));
    assert_eq!(
        call("abs", &[Value::str("a")]),
        Err("only float64 & int type are supported".to_string())
    );
    assert_eq!(
        check("abs", &[ArgInfo::Literal(Value::str("a"))]),
        Err("Expect number - float or int type for parameter 1".to_string())
    );
    assert_eq!(
        check("abs", &[]),
        Err("Expect 1 arguments but found 0.".to_string())
    );
}

#[test]
fn trigonometry_answers_nil_for_nan() {
    assert_eq!(call("acos", &[Value::Int(1)]), Ok(Value::Float(0.0)));
    assert_eq!(call("acos", &[Value::Int(2)]), Ok(Value::Null));
    assert_eq!(call("asin", &[Value::Int(0)]), Ok(Value::Float(0.0)));
    assert_eq!(call("atan", &[Value::Int(0)]), Ok(Value::Float(0.0)));
    assert_eq!(
        call("atan2", &[Value::Int(1), Value::Int(1)]),
        Ok(Value::Float(std::f64::consts::FRAC_PI_4))
    );
    assert_eq!(call("cos", &[Value::Int(0)]), Ok(Value::Float(1.0)));
    assert_eq!(call("cosh", &[Value::Int(0)]), Ok(Value::Float(1.0)));
    assert_eq!(call("sin", &[Value::Int(0)]), Ok(Value::Float(0.0)));
    assert_eq!(call("sinh", &[Value::Int(0)]), Ok(Value::Float(0.0)));
    assert_eq!(call("tan", &[Value::Int(0)]), Ok(Value::Float(0.0)));
    assert_eq!(call("tanh", &[Value::Int(0)]), Ok(Value::Float(0.0)));
    assert_eq!(call("sqrt", &[Value::Int(-1)]), Ok(Value::Null));
    assert_eq!(call("sqrt", &[Value::Int(16)]), Ok(Value::Float(4.0)));
    assert_eq!(
        call("cos", &[Value::str("x")]),
        Err("cannot convert string(x) to float64".to_string())
    );
    assert_eq!(call("tan", &[Value::Null]), Ok(Value::Null));
}

#[test]
fn cot_degrees_radians_pi() {
    let Ok(Value::Float(c)) = call("cot", &[Value::Float(std::f64::consts::FRAC_PI_4)]) else {
        panic!("cot")
    };
    assert!((c - 1.0).abs() < 1e-12);
    let Ok(Value::Float(c)) = call("cot", &[Value::Int(12)]) else {
        panic!("cot")
    };
    assert!((c + 1.572_673_406_397_689_5).abs() < 1e-12);
    assert_eq!(
        call("cot", &[Value::Int(0)]),
        Err("out-of-range error".to_string())
    );
    assert_eq!(call("degrees", &[Value::Int(0)]), Ok(Value::Float(0.0)));
    assert_eq!(
        call("radians", &[Value::Int(180)]),
        Ok(Value::Float(std::f64::consts::PI))
    );
    assert_eq!(call("pi", &[]), Ok(Value::Float(std::f64::consts::PI)));
    assert!(check("pi", &[ArgInfo::Dynamic]).is_err());
}

#[test]
fn bit_functions() {
    assert_eq!(
        call("bitand", &[Value::Int(12), Value::Int(10)]),
        Ok(Value::Int(8))
    );
    assert_eq!(
        call("bitor", &[Value::Int(12), Value::Int(10)]),
        Ok(Value::Int(14))
    );
    assert_eq!(
        call("bitxor", &[Value::Int(12), Value::Int(10)]),
        Ok(Value::Int(6))
    );
    assert_eq!(call("bitnot", &[Value::Int(12)]), Ok(Value::Int(-13)));
    assert_eq!(
        call("bitand", &[Value::Float(1.5), Value::Int(1)]),
        Err("Expect int type for the first operand but got 1.5".to_string())
    );
    assert_eq!(
        check(
            "bitor",
            &[ArgInfo::Dynamic, ArgInfo::Literal(Value::Float(1.0))]
        ),
        Err("Expect int type for parameter 2".to_string())
    );
    assert_eq!(
        check("bitnot", &[ArgInfo::Literal(Value::str("1"))]),
        Err("Expect int type for parameter 1".to_string())
    );
    assert_eq!(
        call("bitxor", &[Value::Null, Value::Int(1)]),
        Ok(Value::Null)
    );
}

#[test]
fn rounding_family() {
    assert_eq!(call("ceil", &[Value::Float(1.2)]), Ok(Value::Float(2.0)));
    assert_eq!(call("ceiling", &[Value::Int(1)]), Ok(Value::Float(1.0)));
    assert_eq!(call("floor", &[Value::Float(-1.2)]), Ok(Value::Float(-2.0)));
    assert_eq!(call("round", &[Value::Float(2.5)]), Ok(Value::Float(3.0)));
    assert_eq!(call("round", &[Value::Float(-2.5)]), Ok(Value::Float(-3.0)));
    assert_eq!(
        call("round", &[Value::Float(1.23456), Value::Int(2)]),
        Ok(Value::Float(1.23))
    );
    assert_eq!(
        call("round", &[Value::Int(1234), Value::Int(-2)]),
        Ok(Value::Float(1200.0))
    );
    assert_eq!(
        call("round", &[Value::Float(1e300), Value::Int(10)]),
        Ok(Value::Float(1e300))
    );
    assert_eq!(
        call("round", &[Value::Int(1), Value::str("a")]),
        Err("The second argument must be an integer: cannot convert string(a) to int".into())
    );
    assert_eq!(
        check("round", &[]),
        Err("Expect 1 or 2 arguments only".to_string())
    );
    assert_eq!(
        check(
            "round",
            &[ArgInfo::Dynamic, ArgInfo::Literal(Value::Bool(true))]
        ),
        Err("Expect number - float or int type for parameter 2".to_string())
    );
    assert_eq!(call("floor", &[Value::Null]), Ok(Value::Null));
}

#[test]
fn exponentials_and_logs() {
    assert_eq!(call("exp", &[Value::Int(0)]), Ok(Value::Float(1.0)));
    assert_eq!(call("ln", &[Value::Float(1.0)]), Ok(Value::Float(0.0)));
    assert_eq!(call("ln", &[Value::Int(-1)]), Ok(Value::Null));
    assert_eq!(call("log", &[Value::Int(100)]), Ok(Value::Float(2.0)));
    assert_eq!(
        call("log", &[Value::Int(2), Value::Int(8)]),
        Ok(Value::Float(3.0))
    );
    assert_eq!(call("log", &[Value::Int(-1)]), Ok(Value::Null));
    assert_eq!(
        check(
            "log",
            &[ArgInfo::Dynamic, ArgInfo::Dynamic, ArgInfo::Dynamic]
        ),
        Err("Expect 1 or 2 arguments only".to_string())
    );
    assert_eq!(
        call("power", &[Value::Int(2), Value::Int(10)]),
        Ok(Value::Float(1024.0))
    );
    assert_eq!(
        call("pow", &[Value::Int(2), Value::Float(0.5)]),
        Ok(Value::Float(2f64.sqrt()))
    );
    assert_eq!(
        call("mod", &[Value::Int(7), Value::Int(3)]),
        Ok(Value::Float(1.0))
    );
    assert_eq!(
        call("mod", &[Value::Float(-7.5), Value::Int(2)]),
        Ok(Value::Float(-1.5))
    );
    assert_eq!(call("mod", &[Value::Null, Value::Int(2)]), Ok(Value::Null));
}

#[test]
fn sign_and_rand() {
    assert_eq!(call("sign", &[Value::Float(-0.5)]), Ok(Value::Int(-1)));
    assert_eq!(call("sign", &[Value::Int(0)]), Ok(Value::Int(0)));
    assert_eq!(call("sign", &[Value::Int(9)]), Ok(Value::Int(1)));
    let Ok(Value::Float(r)) = call("rand", &[]) else {
        panic!("rand")
    };
    assert!((0.0..1.0).contains(&r));
    assert_eq!(
        check("rand", &[ArgInfo::Dynamic]),
        Err("Expect 0 arguments but found 1.".to_string())
    );
}

#[test]
fn conv_follows_mysql_examples() {
    let c = |s: Value, f: i64, t: i64| call("conv", &[s, Value::Int(f), Value::Int(t)]);
    assert_eq!(c(Value::str("100"), 2, 10), Ok(Value::str("4")));
    assert_eq!(c(Value::Int(-10), 16, -10), Ok(Value::str("-16")));
    assert_eq!(c(Value::str("a"), 16, 2), Ok(Value::str("1010")));
    assert_eq!(c(Value::str("6E"), 18, 8), Ok(Value::str("172")));
    assert_eq!(c(Value::Int(-17), 10, -18), Ok(Value::str("-H")));
    assert_eq!(c(Value::str("zz"), 10, 10), Ok(Value::str("0")));
    assert_eq!(c(Value::str("1"), 1, 10), Ok(Value::Null));
    assert_eq!(c(Value::Null, 10, 2), Ok(Value::Null));
    assert_eq!(
        check(
            "conv",
            &[
                ArgInfo::Dynamic,
                ArgInfo::Dynamic,
                ArgInfo::Literal(Value::Int(2))
            ]
        ),
        Err("Expect integer type for parameter 2".to_string())
    );
}
