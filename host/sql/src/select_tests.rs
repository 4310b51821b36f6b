//! Tests of `select.rs`, by topic.

use super::*;

mod parsing {
    use super::*;
    use crate::expr::{BinOp, MetaKey};
    use tributary_core::Value;

    fn names(s: &SelectStmt) -> Vec<String> {
        s.fields
            .iter()
            .map(|f| match f {
                SelectField::Wildcard { .. } => "*".to_string(),
                SelectField::Expr { name, .. } => name.to_string(),
            })
            .collect()
    }

    #[test]
    fn names_follow_ekuiper() {
        let s = parse_select(
            "SELECT color, UPPER(name), temp * 2, size AS s, meta(topic), a->b, 3, a.b, demo.c FROM demo",
        )
        .expect("parse");
        assert_eq!(
            names(&s),
            [
                "color",
                "upper",
                "kuiper_field_0",
                "s",
                "meta",
                "kuiper_field_1",
                "kuiper_field_2",
                "b",
                "c"
            ]
        );
    }

    #[test]
    fn nested_access_and_qualifiers() {
        let s = parse_select("SELECT demo.a, b.c, d->e->f, arr[0], arr[1:3], meta(device->id) FROM demo WHERE a->b * 2 > 1")
            .expect("parse");
        let SelectField::Expr { expr, .. } = &s.fields[0] else {
            panic!()
        };
        assert_eq!(
            expr,
            &Expr::Field {
                stream: Some("demo".into()),
                name: "a".into()
            }
        );
        let SelectField::Expr { expr, .. } = &s.fields[1] else {
            panic!()
        };
        assert!(matches!(expr, Expr::Member { key, .. } if key == "c"));
        let SelectField::Expr { expr, .. } = &s.fields[5] else {
            panic!()
        };
        assert_eq!(
            expr,
            &Expr::Meta(MetaKey::Key("device".into(), vec!["id".into()]))
        );
        let Some(Expr::Binary {
            op: BinOp::Gt,
            left,
            ..
        }) = &s.condition
        else {
            panic!()
        };
        assert!(matches!(&**left, Expr::Binary { op: BinOp::Mul, .. }));
    }

    #[test]
    fn double_quotes_are_strings_backticks_are_identifiers() {
        let s = parse_select("SELECT \"abc\" AS a, `my col` FROM demo").expect("parse");
        let SelectField::Expr { expr, .. } = &s.fields[0] else {
            panic!()
        };
        assert_eq!(expr, &Expr::Literal(Value::str("abc")));
        assert_eq!(names(&s)[1], "my col");
    }

    #[test]
    fn errors_are_clear() {
        for (sql, want) in [
            ("SELECT FROM demo", "Expected"),
            ("DELETE FROM demo", "expected a SELECT"),
            (
                "SELECT a FROM demo ORDER BY a",
                "ORDER BY and LIMIT need GROUP BY",
            ),
            (
                "SELECT a FROM demo GROUP BY TUMBLINGWINDOW(xs, 1)",
                "time unit",
            ),
            (
                "SELECT a FROM demo GROUP BY TUMBLINGWINDOW(ss, 1), COUNTWINDOW(2)",
                "only one window",
            ),
            (
                "SELECT a FROM demo GROUP BY TUMBLINGWINDOW(ss, 1) OVER (WHEN a > 1)",
                "only allowed on a sliding",
            ),
            (
                "SELECT a FROM demo GROUP BY TUMBLINGWINDOW(ss, 1) LIMIT -1",
                "LIMIT expects",
            ),
            ("SELECT a", "missing FROM"),
            ("SELECT a FROM demo WHERE", "Expected"),
        ] {
            let e = parse_select(sql).expect_err(sql).to_string();
            assert!(e.contains(want), "{sql}: {e}");
        }
    }
}

mod group_tests {
    use super::*;
    use crate::window::WindowKind;

    #[test]
    fn windows_dimensions_having_order_limit() {
        let s = parse_select(
            "SELECT color, count(*) AS c FROM demo WHERE size > 1 GROUP BY color, TUMBLINGWINDOW(ss, 10) FILTER (WHERE size < 9) HAVING count(*) > 1 ORDER BY c DESC, color LIMIT 3",
        )
        .expect("parse");
        let w = s.window.as_ref().expect("window");
        assert_eq!(w.kind, WindowKind::Tumbling { size: 10_000 });
        assert!(w.filter.is_some());
        assert_eq!(s.dimensions, vec![Expr::field("color")]);
        assert!(s.having.is_some());
        assert_eq!(s.order_by.len(), 2);
        assert!(s.order_by[0].descending && !s.order_by[1].descending);
        assert_eq!(s.limit, Some(3));
    }

    #[test]
    fn joins_keep_their_kind_and_condition() {
        let s = parse_select(
            "SELECT d.a, t.b FROM demo AS d LEFT JOIN t ON d.id = t.id CROSS JOIN u GROUP BY TUMBLINGWINDOW(ss, 1)",
        )
        .expect("parse");
        assert_eq!(s.joins.len(), 2);
        assert_eq!(s.joins[0].kind, JoinKind::Left);
        assert_eq!(s.joins[1].kind, JoinKind::Cross);
        let Some(Expr::Binary { left, .. }) = &s.joins[0].on else {
            panic!("{:?}", s.joins[0].on)
        };
        assert_eq!(
            **left,
            Expr::Field {
                stream: Some("d".into()),
                name: "id".into()
            }
        );
    }

    #[test]
    fn analytic_calls_keep_their_over_clause() {
        let s = parse_select(
            "SELECT lag(temp) OVER (PARTITION BY color WHEN size > 2) AS l, acc_sum(size) OVER (WHEN size > 1) FROM demo",
        )
        .expect("parse");
        assert_eq!(s.overs.len(), 2);
        assert_eq!(s.overs[0].1.partition_by, vec![Expr::field("color")]);
        assert!(s.overs[0].1.when.is_some());
        assert!(s.overs[1].1.partition_by.is_empty());
    }

    #[test]
    fn sliding_window_trigger() {
        let s = parse_select(
            "SELECT * FROM demo GROUP BY SLIDINGWINDOW(ss, 5, 1) OVER (WHEN size > 2)",
        )
        .expect("parse");
        let w = s.window.expect("window");
        assert_eq!(
            w.kind,
            WindowKind::Sliding {
                size: 5000,
                delay: 1000
            }
        );
        assert!(matches!(w.trigger, Some(Expr::Binary { .. })));
    }
}

mod cast_tests {
    use super::*;

    #[test]
    fn both_cast_forms_become_one_call() {
        for sql in [
            "SELECT cast(a, \"bigint\") FROM demo",
            "SELECT CAST(a AS BIGINT) FROM demo",
        ] {
            let s = parse_select(sql).expect(sql);
            let SelectField::Expr { expr, name, .. } = &s.fields[0] else {
                panic!()
            };
            assert_eq!(&**name, "cast", "{sql}");
            let Expr::Call { name, args, .. } = expr else {
                panic!("{expr:?}")
            };
            assert_eq!(name, "cast");
            assert_eq!(args[1], Expr::Literal(tributary_core::Value::str("bigint")));
        }
    }
}

mod guard_tests {
    use super::*;
    use crate::expr::BinOp;
    use tributary_core::Value;

    fn first(sql: &str) -> (Expr, String) {
        let s = parse_select(sql).expect(sql);
        match &s.fields[0] {
            SelectField::Expr { expr, name, .. } => (expr.clone(), name.to_string()),
            SelectField::Wildcard { .. } => panic!("wildcard"),
        }
    }

    #[test]
    fn bitwise_precedence_follows_ekuiper() {
        // `&` binds like `*`: a + (b & c)
        let (e, _) = first("SELECT a + b & c FROM demo");
        assert!(matches!(e, Expr::Binary { op: BinOp::Add, .. }), "{e:?}");
        // `|` binds like `+`, left to right: (a * b) | c
        let (e, _) = first("SELECT a * b | c FROM demo");
        assert!(
            matches!(
                e,
                Expr::Binary {
                    op: BinOp::BitOr,
                    ..
                }
            ),
            "{e:?}"
        );
    }

    #[test]
    fn min_int_literal_and_parenthesised_names() {
        let (e, _) = first("SELECT -9223372036854775808 FROM demo");
        assert_eq!(e, Expr::Literal(Value::Int(i64::MIN)));
        let (_, name) = first("SELECT (a) FROM demo");
        assert_eq!(name, "kuiper_field_0");
    }

    #[test]
    fn oversized_and_deep_statements_are_rejected() {
        let long = format!("SELECT {} FROM demo", "a+".repeat(20_000) + "a");
        assert!(parse_select(&long)
            .expect_err("long")
            .to_string()
            .contains("limit"));
        let deep = format!(
            "SELECT {}a{} FROM demo",
            "abs(".repeat(300),
            ")".repeat(300)
        );
        let e = parse_select(&deep).expect_err("deep").to_string();
        assert!(e.contains("nested") || e.contains("recursion"), "{e}");
        let e = parse_select("SELECT a FROM demo QUALIFY a > 1").expect_err("qualify");
        assert!(e.to_string().contains("QUALIFY"), "{e}");
    }
}
