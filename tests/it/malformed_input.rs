//! Malformed SQL, DDL, JSON and specs: `tributary trial` exits non-zero with a message
//! naming the problem (and its position where there is one), and never panics.

use tributary_tests::trial;

const DEMO: &str = r#"CREATE STREAM demo (color STRING, size BIGINT) WITH (DATASOURCE="demo", TYPE="mock", FORMAT="json")"#;

fn spec(sql: &str, ddl: &str, extra: &str) -> String {
    format!(
        r#"{{"id":"bad","sql":{},"streams":[{}],"mockSource":{{"demo":{{"data":[{{"color":"red","size":1}}],"timestamps":[1000]}}}}{extra}}}"#,
        serde_json::to_string(sql).expect("json"),
        serde_json::to_string(ddl).expect("json"),
    )
}

#[test]
fn malformed_inputs_fail_cleanly_with_a_clear_message() {
    let cases: Vec<(String, &str)> = vec![
        ("{not json".to_string(), "invalid trial spec at line 1, column 2"),
        (r#"{"id":"x"}"#.to_string(), "missing field `sql`"),
        (r#"{"sql":"SELECT 1 FROM demo","bogus":1}"#.to_string(), "unknown field `bogus`"),
        (spec("SELECT FROM demo", DEMO, ""), "invalid SQL"),
        (spec("SELECT color FROM demo WHERE", DEMO, ""), "at end of input (line 1, column 29)"),
        (spec("SELECT color FROM demo WHERE size >> 2", DEMO, ""), "Line: 1, Column"),
        (spec("SELECT color FROM nowhere", DEMO, ""), "stream nowhere not found"),
        (spec("SELECT nosuchfn(color) FROM demo", DEMO, ""), "function nosuchfn not found"),
        (spec("SELECT round(size, \"x\") FROM demo", DEMO, ""), "round"),
        (spec("SELECT upper(color, size) FROM demo", DEMO, ""), "upper"),
        (spec("SELECT color FROM demo", "CREATE STREAM demo (color STRNG) WITH (TYPE=\"mock\")", ""), "line 1, column 27"),
        (spec("SELECT color FROM demo", "CREATE STREAM demo (color STRING) WITH (DATASORCE=\"x\")", ""), "unknown option keys"),
        (spec("SELECT color FROM demo", "CREATE STREAM demo (color STRING", ""), "expected"),
        (spec("SELECT color FROM demo", DEMO, r#","options":{"qos":9}"#), "option qos"),
        (spec("SELECT color FROM demo", DEMO, r#","options":{"sendError":"yes"}"#), "option sendError"),
        (spec("SELECT unnest(color) + 1 FROM demo", DEMO, ""), "unnest"),
        (spec("SELECT count(*) FROM demo", DEMO, ""), "aggregate function count needs GROUP BY or a window"),
        (spec("SELECT color FROM demo GROUP BY TUMBLINGWINDOW(sec, 1)", DEMO, ""), "the first argument must be a time unit"),
        (spec("SELECT color FROM demo GROUP BY TUMBLINGWINDOW(ss, 0)", DEMO, ""), "argument 2 must be a positive integer"),
        (spec("SELECT window_start() FROM demo", DEMO, ""), "window_start needs a window"),
        (spec("SELECT sum(count(*)) FROM demo GROUP BY COUNTWINDOW(2)", DEMO, ""), "cannot be used inside aggregate function sum"),
        (spec("SELECT color FROM demo GROUP BY TUMBLINGWINDOW(ss, 1)", DEMO, r#","options":{"isEventTime":true}"#), "needs a TIMESTAMP field"),
        (spec("SELECT color FROM demo GROUP BY color HAVING max(size) > 1 LIMIT \"a\"", DEMO, ""), "LIMIT expects a non-negative integer"),
        (spec("SELECT a.color FROM demo a JOIN t ON a.x = t.x", DEMO, ""), "stream t not found"),
        (spec("SELECT a.color FROM demo a JOIN demo b ON a.x = b.x", DEMO, ""), "needs a window in GROUP BY"),
        (spec("SELECT a.color FROM demo a JOIN demo b USING (x) GROUP BY COUNTWINDOW(2)", DEMO, ""), "USING and NATURAL"),
        (spec("SELECT color FROM demo", DEMO, r#","options":{"bufferLength":999999999}"#), "option bufferLength"),
        (
            r#"{"sql":"SELECT * FROM demo","streams":["CREATE STREAM demo () WITH (TYPE=\"mock\")"],"mockSource":{"demo":{"data":[1],"timestamps":[1]}}}"#.to_string(),
            "mockSource.demo.data[0] must be an object",
        ),
        (
            r#"{"sql":"SELECT * FROM demo","streams":["CREATE STREAM demo () WITH (TYPE=\"mock\")"],"mockSource":{"demo":{"data":[{}],"timestamps":[1,2]}}}"#.to_string(),
            "2 timestamps for 1 data items",
        ),
        (spec("DROP STREAM demo", DEMO, ""), "expected a SELECT"),
    ];
    let dir = tempfile::tempdir().expect("tempdir");
    let mut failures = Vec::new();
    for (i, (text, want)) in cases.iter().enumerate() {
        let path = dir.path().join(format!("case{i}.json"));
        std::fs::write(&path, text).expect("write spec");
        let (ok, stdout, stderr) = trial(&path);
        let clean =
            !ok && stderr.contains(want) && !stderr.contains("panicked") && stdout.is_empty();
        if !clean {
            failures.push(format!(
                "case {i} ({want}): ok={ok}\nstdout: {stdout}\nstderr: {stderr}"
            ));
        }
    }
    let missing = dir.path().join("missing.json");
    let (ok, _, stderr) = trial(&missing);
    if ok || !stderr.contains("cannot read") {
        failures.push(format!("missing file: ok={ok} stderr={stderr}"));
    }
    assert!(failures.is_empty(), "{}", failures.join("\n---\n"));
}
