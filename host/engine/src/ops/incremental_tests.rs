use super::*;
use crate::builder::plan_rule;
use crate::rule::RuleDef;
use std::collections::BTreeMap;
use tributary_functions::Registry;

fn op(sql: &str) -> IncrementalWindowOp {
    let def = tributary_sql::parse_ddl(
        "CREATE STREAM s (color STRING, size BIGINT) WITH (TYPE=\"memory\")",
    )
    .expect("ddl");
    let streams = BTreeMap::from([("s".to_string(), def)]);
    let rule = RuleDef::from_json(serde_json::json!({"id": "r", "sql": sql})).expect("rule");
    let p = plan_rule(&rule, &streams).expect("plan");
    let g = p.group.clone().expect("grouped");
    crate::group_build::incremental_op(&p, &g, &Registry::with_builtins(), &rule.options, None, 0)
        .expect("build")
        .expect("qualifies")
}

fn rows(from: usize, n: usize, ts: i64) -> Chunk {
    let keys: [Arc<str>; 2] = [Arc::from("color"), Arc::from("size")];
    let colors = ["red", "blue", "green"];
    Chunk::from_rows(
        (from..from + n)
            .map(|i| {
                Row::new(
                    vec![
                        (keys[0].clone(), Value::str(colors[i % 3])),
                        (keys[1].clone(), Value::Int(i as i64)),
                    ],
                    Default::default(),
                    ts,
                )
            })
            .collect(),
    )
}

#[test]
fn state_grows_with_groups_not_rows() {
    let mut op = op("SELECT color, count(*) AS n, avg(size) AS a, max(size) AS m FROM s GROUP BY color, TUMBLINGWINDOW(hh, 1)");
    let mut out = Collector::new();
    // 300k rows inside one hour-long window.
    for b in 0..300 {
        op.process(rows(b * 1000, 1000, 1000 + b as i64), &mut out);
        assert_eq!(op.state.reps.len(), 3, "one representative row per group");
        assert_eq!(op.state.accs.len(), 9, "three accumulators per group");
    }
    assert_eq!(out.drain().count(), 0, "the window is still open");
    op.on_tick(3_600_000, &mut out);
    let emitted: Vec<Chunk> = out.drain().collect();
    assert_eq!(emitted.len(), 1);
    let rows = &emitted[0].rows;
    assert_eq!(rows.len(), 3);
    let n: i64 = rows
        .iter()
        .map(|r| r.get("n").and_then(Value::as_i64).unwrap_or(0))
        .sum();
    assert_eq!(n, 300_000);
    assert_eq!(rows[0].get("m"), Some(&Value::Int(299_997)));
}

#[test]
fn session_state_grows_with_groups_not_rows() {
    let mut op = op("SELECT color, count(*) AS n, sum(size) AS s FROM s GROUP BY color, SESSIONWINDOW(hh, 2, 1)");
    let mut out = Collector::new();
    for b in 0..100 {
        op.process(rows(b * 1000, 1000, 1000 + b as i64 * 10), &mut out);
        assert_eq!(op.state.reps.len(), 3);
        assert_eq!(op.state.accs.len(), 6);
    }
    // The session times out an hour after its last tuple.
    op.on_tick(1000 + 99 * 10 + 3_600_000, &mut out);
    let emitted: Vec<Chunk> = out.drain().collect();
    assert_eq!(emitted.len(), 1);
    let n: i64 = emitted[0]
        .rows
        .iter()
        .map(|r| r.get("n").and_then(Value::as_i64).unwrap_or(0))
        .sum();
    assert_eq!(n, 100_000);
}

#[test]
fn hopping_windows_keep_one_state_per_pane() {
    let mut op = op("SELECT color, count(*) AS n FROM s GROUP BY color, HOPPINGWINDOW(ss, 10, 2)");
    let mut out = Collector::new();
    // 60 s of tuples, 1000 per 100 ms: panes of 2 s, windows of 10 s.
    for b in 0..600 {
        op.process(rows(b * 1000, 1000, b as i64 * 100), &mut out);
        assert!(op.panes.len() <= 5, "closed panes: {}", op.panes.len());
        assert!(op.state.reps.len() <= 3);
    }
    let windows: Vec<Chunk> = out.drain().collect();
    // Every whole window counts 10 s of tuples: 100 000 rows.
    let whole: Vec<i64> = windows
        .iter()
        .filter(|c| c.window.is_some_and(|(s, _)| s >= 0))
        .map(|c| {
            c.rows
                .iter()
                .map(|r| r.get("n").and_then(Value::as_i64).unwrap_or(0))
                .sum()
        })
        .collect();
    assert!(whole.len() > 20, "{}", whole.len());
    assert!(whole.iter().all(|&n| n == 100_000), "{whole:?}");
}

#[test]
fn rules_that_need_every_row_do_not_qualify() {
    let def = tributary_sql::parse_ddl(
        "CREATE STREAM s (color STRING, size BIGINT) WITH (TYPE=\"memory\")",
    )
    .expect("ddl");
    let streams = BTreeMap::from([("s".to_string(), def)]);
    for sql in [
        "SELECT collect(size) FROM s GROUP BY TUMBLINGWINDOW(ss, 1)",
        "SELECT * FROM s GROUP BY TUMBLINGWINDOW(ss, 1)",
        "SELECT count(*) FROM s GROUP BY SLIDINGWINDOW(ss, 2)",
    ] {
        let rule = RuleDef::from_json(serde_json::json!({"id": "r", "sql": sql})).expect("rule");
        let p = plan_rule(&rule, &streams).expect("plan");
        let g = p.group.clone().expect("grouped");
        let built = crate::group_build::incremental_op(
            &p,
            &g,
            &Registry::with_builtins(),
            &rule.options,
            None,
            0,
        )
        .expect("build");
        assert!(built.is_none(), "{sql}");
    }
}
