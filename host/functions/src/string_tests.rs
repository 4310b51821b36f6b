//! Tests of the string functions, with examples from eKuiper's docs and tests.

use crate::testutil::*;
use tributary_core::Value;

#[test]
fn concat_prints_go_values() {
    assert_eq!(
        call(
            "concat",
            &[s("a"), Value::Int(1), Value::Float(2.5), Value::Null]
        ),
        Ok(s("a12.5"))
    );
    assert_eq!(
        check("concat", &[]),
        Err("The arguments should be at least one.".to_string())
    );
    assert_eq!(
        check("concat", &[lit(s("a")), lit(Value::Int(1))]),
        Err("Expect string type for parameter 2".to_string())
    );
}

#[test]
fn predicates_answer_false_for_null() {
    assert_eq!(
        call("endswith", &[s("abc"), s("bc")]),
        Ok(Value::Bool(true))
    );
    assert_eq!(
        call("startswith", &[s("abc"), s("b")]),
        Ok(Value::Bool(false))
    );
    assert_eq!(
        call("startswith", &[Value::Null, s("b")]),
        Ok(Value::Bool(false))
    );
    assert_eq!(
        call("endswith", &[s("a"), Value::Null]),
        Ok(Value::Bool(false))
    );
    assert_eq!(call("indexof", &[s("abcb"), s("b")]), Ok(Value::Int(1)));
    assert_eq!(call("indexof", &[s("abc"), s("x")]), Ok(Value::Int(-1)));
    assert_eq!(call("indexof", &[Value::Null, s("x")]), Ok(Value::Int(-1)));
    assert_eq!(
        check("indexof", &[lit(Value::Int(1)), lit(s("x"))]),
        Err("Expect string type for parameter 1".to_string())
    );
}

#[test]
fn length_and_bytes() {
    assert_eq!(call("length", &[s("héllo")]), Ok(Value::Int(5)));
    assert_eq!(call("length", &[j("[1,2,3]")]), Ok(Value::Int(3)));
    assert_eq!(call("length", &[j(r#"{"a":1}"#)]), Ok(Value::Int(1)));
    assert_eq!(call("length", &[Value::Int(123)]), Ok(Value::Int(3)));
    assert_eq!(call("length", &[Value::Null]), Ok(Value::Int(0)));
    assert_eq!(call("numbytes", &[s("héllo")]), Ok(Value::Int(6)));
    assert_eq!(call("numbytes", &[Value::Null]), Ok(Value::Int(0)));
    assert!(check("length", &[]).is_err());
}

#[test]
fn case_and_trim() {
    assert_eq!(call("lower", &[s("AbC")]), Ok(s("abc")));
    assert_eq!(call("upper", &[s("AbC")]), Ok(s("ABC")));
    assert_eq!(call("upper", &[Value::Null]), Ok(Value::Null));
    assert_eq!(call("trim", &[s(" \ta b\n")]), Ok(s("a b")));
    assert_eq!(call("ltrim", &[s("  a ")]), Ok(s("a ")));
    assert_eq!(call("rtrim", &[s("  a ")]), Ok(s("  a")));
    assert_eq!(
        check("lower", &[lit(Value::Bool(true))]),
        Err("Expect string type for parameter 1".to_string())
    );
}

#[test]
fn padding_adds_that_many_spaces() {
    assert_eq!(call("lpad", &[s("ab"), Value::Int(2)]), Ok(s("  ab")));
    assert_eq!(call("rpad", &[s("ab"), Value::Int(2)]), Ok(s("ab  ")));
    assert_eq!(call("lpad", &[Value::Null, Value::Int(2)]), Ok(Value::Null));
    assert_eq!(
        call("rpad", &[s("ab"), s("x")]),
        Err("cannot convert string(x) to int".to_string())
    );
    assert_eq!(
        check("lpad", &[lit(s("a")), lit(Value::Float(1.5))]),
        Err("Expect int type for parameter 2".to_string())
    );
}

#[test]
fn regexps() {
    assert_eq!(
        call("regexp_matches", &[s("abc123"), s("[0-9]+")]),
        Ok(Value::Bool(true))
    );
    assert_eq!(
        call("regexp_matches", &[Value::Null, s("x")]),
        Ok(Value::Bool(false))
    );
    assert!(call("regexp_matches", &[s("a"), s("(")]).is_err());
    assert_eq!(
        call("regexp_replace", &[s("a1b22"), s("[0-9]+"), s("#")]),
        Ok(s("a#b#"))
    );
    assert_eq!(
        call(
            "regexp_replace",
            &[s("john smith"), s("(\\w+) (\\w+)"), s("$2 $1")]
        ),
        Ok(s("smith john"))
    );
    assert_eq!(
        call("regexp_replace", &[s("a"), Value::Null, s("b")]),
        Ok(Value::Null)
    );
    assert_eq!(
        call("regexp_substr", &[s("ab12cd34"), s("[0-9]+")]),
        Ok(s("12"))
    );
    assert_eq!(call("regexp_substr", &[s("abc"), s("[0-9]+")]), Ok(s("")));
    assert_eq!(
        check("regexp_replace", &[lit(s("a")), lit(s("b"))]),
        Err("Expect 3 arguments but found 2.".to_string())
    );
}

#[test]
fn substring_uses_byte_offsets() {
    assert_eq!(
        call("substring", &[s("hello"), Value::Int(1)]),
        Ok(s("ello"))
    );
    assert_eq!(
        call("substring", &[s("hello"), Value::Int(1), Value::Int(3)]),
        Ok(s("el"))
    );
    assert_eq!(
        call("substring", &[s("hello"), Value::Int(1), Value::Int(30)]),
        Ok(s("ello"))
    );
    assert_eq!(call("substring", &[s("hi"), Value::Int(5)]), Ok(s("")));
    assert_eq!(
        call("substring", &[Value::Null, Value::Int(5)]),
        Ok(Value::Null)
    );
    assert_eq!(
        call("substring", &[s("hi"), Value::Int(-1)]),
        Err("start index must be a positive number".to_string())
    );
    assert_eq!(
        call("substring", &[s("hello"), Value::Int(3), Value::Int(1)]),
        Err("start index must be smaller than end index".to_string())
    );
    assert_eq!(
        check("substring", &[lit(s("a"))]),
        Err("the arguments for substring should be 2 or 3".to_string())
    );
    assert_eq!(
        check("substring", &[lit(s("a")), lit(Value::Int(-1))]),
        Err("The start index should not be a nagtive integer.".to_string())
    );
    assert_eq!(
        check(
            "substring",
            &[lit(s("a")), lit(Value::Int(3)), lit(Value::Int(1))]
        ),
        Err("The end index should be larger than start index.".to_string())
    );
}

#[test]
fn split_value_follows_the_docs() {
    let path = s("/test/device001/message");
    assert_eq!(
        call("split_value", &[path.clone(), s("/"), Value::Int(0)]),
        Ok(s(""))
    );
    assert_eq!(
        call("split_value", &[path.clone(), s("/"), Value::Int(3)]),
        Ok(s("message"))
    );
    assert_eq!(
        call("split_value", &[path.clone(), s("/"), Value::Int(-1)]),
        Ok(s("message"))
    );
    assert_eq!(
        call("split_value", &[path, s("/"), Value::Int(4)]),
        Err("4 out of index array (size = 4)".to_string())
    );
    assert_eq!(
        call("split_value", &[Value::Null, s("/"), Value::Int(4)]),
        Ok(Value::Null)
    );
    assert_eq!(
        check("split_value", &[lit(s("a")), lit(s("/"))]),
        Err("the arguments for split_value should be 3".to_string())
    );
    assert_eq!(
        check(
            "split_value",
            &[lit(s("a")), lit(s("/")), lit(Value::Int(-1))]
        ),
        Err("The index should not be a nagtive integer.".to_string())
    );
}

#[test]
fn format_numbers() {
    assert_eq!(
        call(
            "format",
            &[Value::Float(12332.1234567), Value::Int(4), s("en_US")]
        ),
        Ok(s("12,332.1234"))
    );
    assert_eq!(
        call("format", &[Value::Float(12332.1256), Value::Int(2)]),
        Ok(s("12332.13"))
    );
    assert_eq!(
        call("format", &[Value::Int(-1234567), Value::Int(1), s("en_US")]),
        Ok(s("-1,234,567.0"))
    );
    assert_eq!(
        call("format", &[Value::Int(12), Value::Int(2), s("fr_FR")]),
        Err("not support for the specific locale".to_string())
    );
    assert_eq!(
        call("format", &[Value::Int(1), Value::Int(-1)]),
        Err("the decimal places must greater or equal than 0".to_string())
    );
    assert_eq!(
        call("format", &[Value::Null, Value::Int(1)]),
        Ok(Value::Null)
    );
    assert_eq!(
        check("format", &[lit(Value::Int(1))]),
        Err("At least has 2 argument but found 1.".to_string())
    );
    assert_eq!(
        check("format", &[lit(s("1")), lit(Value::Int(1))]),
        Err("Expect numeric type for parameter 1".to_string())
    );
    assert_eq!(
        check("format", &[lit(Value::Int(1)), lit(Value::Float(1.0))]),
        Err("Expect integer type for parameter 2".to_string())
    );
}
