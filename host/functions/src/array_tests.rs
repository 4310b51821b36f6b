//! Tests of the array functions, examples from eKuiper's docs and tests.

use crate::testutil::*;
use tributary_core::function::ArgInfo;
use tributary_core::Value;

#[test]
fn cardinality_and_create() {
    assert_eq!(call("cardinality", &[j("[1,2,3]")]), Ok(Value::Int(3)));
    assert_eq!(call("cardinality", &[Value::Null]), Ok(Value::Int(0)));
    assert_eq!(call("cardinality", &[s("abc")]), Ok(Value::Int(0)));
    assert_eq!(
        call("array_create", &[Value::Int(1), Value::Null, s("a")]),
        Ok(j(r#"[1,"a"]"#))
    );
    assert_eq!(call("array_create", &[Value::Null]), Ok(Value::Null));
    assert!(check("array_create", &[]).is_ok());
}

#[test]
fn positions_use_strict_equality() {
    let arr = j(r#"[1, 2.0, "a", 1]"#);
    assert_eq!(
        call("array_position", &[arr.clone(), Value::Int(1)]),
        Ok(Value::Int(0))
    );
    assert_eq!(
        call("array_position", &[arr.clone(), Value::Int(2)]),
        Ok(Value::Int(-1))
    );
    assert_eq!(
        call("array_position", &[arr.clone(), Value::Float(2.0)]),
        Ok(Value::Int(1))
    );
    assert_eq!(
        call("array_last_position", &[arr.clone(), Value::Int(1)]),
        Ok(Value::Int(3))
    );
    assert_eq!(
        call("array_position", &[Value::Null, Value::Int(1)]),
        Ok(Value::Int(-1))
    );
    assert_eq!(
        call("array_last_position", &[Value::Null, Value::Int(1)]),
        Ok(Value::Int(-1))
    );
    assert_eq!(
        call("array_position", &[s("x"), Value::Int(1)]),
        Err("first argument should be array of interface{}".to_string())
    );
    assert_eq!(
        check("array_position", &[ArgInfo::Dynamic]),
        Err("Expect 2 arguments but found 1.".to_string())
    );
}

#[test]
fn element_at_indexes_and_keys() {
    let arr = j("[1,2,3]");
    assert_eq!(
        call("element_at", &[arr.clone(), Value::Int(0)]),
        Ok(Value::Int(1))
    );
    assert_eq!(
        call("element_at", &[arr.clone(), Value::Int(-1)]),
        Ok(Value::Int(3))
    );
    assert_eq!(
        call("element_at", &[arr.clone(), Value::Int(3)]),
        Err("index out of range".to_string())
    );
    assert_eq!(
        call("element_at", &[j(r#"{"a":1}"#), s("a")]),
        Ok(Value::Int(1))
    );
    assert_eq!(
        call("element_at", &[j(r#"{"a":1}"#), s("b")]),
        Ok(Value::Null)
    );
    assert_eq!(
        call("element_at", &[Value::Null, Value::Int(0)]),
        Ok(Value::Null)
    );
    assert_eq!(
        call("element_at", &[s("x"), Value::Int(0)]),
        Err("first argument should be []interface{} or map[string]interface{}".to_string())
    );
}

#[test]
fn contains_and_remove() {
    let arr = j(r#"[1, "a", null]"#);
    assert_eq!(
        call("array_contains", &[arr.clone(), s("a")]),
        Ok(Value::Bool(true))
    );
    assert_eq!(
        call("array_contains", &[arr.clone(), s("b")]),
        Ok(Value::Bool(false))
    );
    assert_eq!(
        call("array_contains", &[Value::Null, s("b")]),
        Ok(Value::Bool(false))
    );
    assert_eq!(
        call("array_remove", &[arr.clone(), Value::Int(1)]),
        Ok(j(r#"["a", null]"#))
    );
    assert_eq!(
        call("array_remove", &[Value::Null, Value::Int(1)]),
        Ok(Value::Null)
    );
    assert_eq!(
        call("array_contains_any", &[j("[1,2]"), j("[3,2]")]),
        Ok(Value::Bool(true))
    );
    assert_eq!(
        call("array_contains_any", &[j("[1,2]"), j("[3]")]),
        Ok(Value::Bool(false))
    );
    assert_eq!(
        call("array_contains_any", &[Value::Null, j("[3]")]),
        Ok(Value::Bool(false))
    );
    assert_eq!(
        call("array_contains_any", &[j("[1]"), Value::Null]),
        Err("second argument should be array of interface{}".to_string())
    );
}

#[test]
fn set_operations() {
    assert_eq!(
        call("array_intersect", &[j("[1,1,2,3]"), j("[3,1,3,4]")]),
        Ok(j("[3,1]"))
    );
    assert_eq!(
        call("array_intersect", &[Value::Null, j("[1]")]),
        Ok(Value::Null)
    );
    assert_eq!(
        call("array_union", &[j("[1,1,2]"), j("[3,2]")]),
        Ok(j("[1,2,3]"))
    );
    assert_eq!(call("array_union", &[Value::Null, j("[1]")]), Ok(j("[1]")));
    assert_eq!(
        call("array_except", &[j("[1,2,2,3]"), j("[3]")]),
        Ok(j("[1,2]"))
    );
    assert_eq!(
        call("array_except", &[j("[1,1]"), Value::Null]),
        Ok(j("[1]"))
    );
    assert_eq!(
        call("array_except", &[Value::Null, j("[1]")]),
        Ok(Value::Null)
    );
}

#[test]
fn max_min_avg() {
    assert_eq!(
        call("array_max", &[j("[1, null, 3, 2]")]),
        Ok(Value::Int(3))
    );
    assert_eq!(
        call("array_min", &[j("[1, null, 3, 2]")]),
        Ok(Value::Int(1))
    );
    assert_eq!(call("array_max", &[j(r#"["a","c","b"]"#)]), Ok(s("c")));
    assert_eq!(call("array_min", &[j("[1.5, 0.5]")]), Ok(Value::Float(0.5)));
    assert_eq!(call("array_max", &[j("[null]")]), Ok(Value::Null));
    assert_eq!(call("array_max", &[Value::Null]), Ok(Value::Null));
    assert_eq!(
        call("array_max", &[j(r#"[1, "a"]"#)]),
        Err("requires int64 but found string(a)".to_string())
    );
    assert_eq!(
        call("array_min", &[j("[1.5, 1]")]),
        Err("requires float64 but found int64(1)".to_string())
    );
    assert_eq!(
        call("array_max", &[j("[true]")]),
        Err("found invalid arg bool(true)".to_string())
    );
    assert_eq!(
        call("array_avg", &[j("[1, 2, null, 3]")]),
        Ok(Value::Float(2.0))
    );
    assert_eq!(call("array_avg", &[j("[null]")]), Ok(Value::Null));
    assert_eq!(call("array_avg", &[Value::Null]), Ok(Value::Null));
    assert_eq!(
        call("array_avg", &[j(r#"[1, "a"]"#)]),
        Err("cannot convert string(a) to float64".to_string())
    );
}

#[test]
fn repeat_and_sequence() {
    assert_eq!(
        call("repeat", &[s("a"), Value::Int(3)]),
        Ok(j(r#"["a","a","a"]"#))
    );
    assert_eq!(
        call("repeat", &[s("a"), s("3")]),
        Err("second argument should be int".to_string())
    );
    assert_eq!(
        call("repeat", &[Value::Null, Value::Int(3)]),
        Ok(Value::Null)
    );
    assert_eq!(
        call("sequence", &[Value::Int(1), Value::Int(5)]),
        Ok(j("[1,2,3,4,5]"))
    );
    assert_eq!(
        call("sequence", &[Value::Int(5), Value::Int(1)]),
        Ok(j("[5,4,3,2,1]"))
    );
    assert_eq!(
        call("sequence", &[Value::Int(1), Value::Int(10), Value::Int(2)]),
        Ok(j("[1,3,5,7,9]"))
    );
    assert_eq!(
        call("sequence", &[Value::Int(1), Value::Int(10), Value::Int(0)]),
        Err("invalid step: should not be zero".to_string())
    );
    assert_eq!(
        call("sequence", &[Value::Float(1.0), Value::Int(10)]),
        Err("first argument should be int".to_string())
    );
    assert_eq!(
        check("sequence", &[ArgInfo::Dynamic]),
        Err("Expect two or three arguments but found 1.".to_string())
    );
}

#[test]
fn cardinality_flatten_distinct() {
    assert_eq!(
        call("array_cardinality", &[j("[1, null, 2]")]),
        Ok(Value::Int(2))
    );
    assert_eq!(call("array_cardinality", &[Value::Null]), Ok(Value::Int(0)));
    assert_eq!(
        call("array_flatten", &[j("[[1, 4], [2, 3]]")]),
        Ok(j("[1,4,2,3]"))
    );
    assert_eq!(call("array_flatten", &[j("[[1], 2]")]), Ok(j("[1,2]")));
    assert_eq!(call("array_flatten", &[j("[]")]), Ok(Value::Null));
    assert_eq!(call("array_flatten", &[Value::Null]), Ok(Value::Null));
    assert_eq!(
        call("array_distinct", &[j(r#"[1, 1, "a", "a", [1], [1]]"#)]),
        Ok(j(r#"[1, "a", [1], [1]]"#))
    );
    assert_eq!(call("array_distinct", &[Value::Null]), Ok(Value::Null));
}

#[test]
fn map_applies_a_scalar_function() {
    assert_eq!(
        call("array_map", &[s("upper"), j(r#"["a","b"]"#)]),
        Ok(j(r#"["A","B"]"#))
    );
    assert_eq!(
        call("array_map", &[s("abs"), j("[-1, 2]")]),
        Ok(j("[1, 2]"))
    );
    assert_eq!(
        call("array_map", &[s("nope"), j("[1]")]),
        Err("unknown built-in function: nope.".to_string())
    );
    assert_eq!(
        call("array_map", &[s("avg"), j("[1]")]),
        Err("first argument should be a scalar function.".to_string())
    );
    assert_eq!(
        call("array_map", &[s("pi"), j("[1]")]),
        Err("validate pi arguments failed".to_string())
    );
    assert_eq!(
        call("array_map", &[s("upper"), Value::Null]),
        Ok(Value::Null)
    );
}

#[test]
fn join_shuffle_sort_concat() {
    assert_eq!(
        call("array_join", &[j(r#"["a","b","c"]"#), s(",")]),
        Ok(s("a,b,c"))
    );
    assert_eq!(
        call("array_join", &[j("[1, 2, 3]"), s(",")]),
        Ok(s("1,2,3"))
    );
    assert_eq!(
        call("array_join", &[j(r#"["a",null,"c"]"#), s(":"), s("x")]),
        Ok(s("a:x:c"))
    );
    assert_eq!(
        call("array_join", &[j(r#"["a",null,"c"]"#), s(":")]),
        Ok(s("a:c"))
    );
    assert_eq!(
        call("array_join", &[j("[[1]]"), s(":")]),
        Err("array elements should be string".to_string())
    );
    assert_eq!(
        call("array_join", &[j("[1]"), Value::Int(1)]),
        Err("second argument should be string".to_string())
    );
    let Ok(Value::Array(shuffled)) = call("array_shuffle", &[j("[1,2,3,4]")]) else {
        panic!("shuffle")
    };
    let mut sorted: Vec<i64> = shuffled.iter().filter_map(Value::as_i64).collect();
    sorted.sort_unstable();
    assert_eq!(sorted, vec![1, 2, 3, 4]);
    assert_eq!(call("array_shuffle", &[Value::Null]), Ok(Value::Null));
    assert_eq!(
        call("array_sort", &[j(r#"[3, 2, "b", "a"]"#)]),
        Ok(j(r#"[2, 3, "a", "b"]"#))
    );
    assert_eq!(call("array_sort", &[j("[10, 9]")]), Ok(j("[10, 9]")));
    assert_eq!(call("array_sort", &[Value::Null]), Ok(Value::Null));
    assert_eq!(
        call("array_concat", &[j("[1]"), Value::Null, j("[2,3]")]),
        Ok(j("[1,2,3]"))
    );
    assert_eq!(call("array_concat", &[Value::Null]), Ok(Value::Null));
    assert_eq!(
        call("array_concat", &[j("[1]"), Value::Int(1)]),
        Err("array elements should be array".to_string())
    );
    assert_eq!(
        check("array_concat", &[]),
        Err("At least has 1 argument but found 0.".to_string())
    );
}

#[test]
fn kvpairs_to_object() {
    assert_eq!(
        call(
            "kvpair_array_to_obj",
            &[j(
                r#"[{"key":"key1", "value":1},{"key":"key2", "value":2}]"#
            )]
        ),
        Ok(j(r#"{"key1":1, "key2":2}"#))
    );
    assert_eq!(
        call("kvpair_array_to_obj", &[j(r#"[{"key":"a"}]"#)]),
        Err("array item should be key-value pair".to_string())
    );
    assert_eq!(
        call("kvpair_array_to_obj", &[j("[1]")]),
        Err("array item should be map[string]interface{}".to_string())
    );
    assert_eq!(call("kvpair_array_to_obj", &[Value::Null]), Ok(Value::Null));
}
