//! `tributary serve` on a real root: a file source → rule → file sink pipeline from
//! `data/init.json`, a clean stop on SIGTERM with sinks flushed, and a clear failure
//! on a broken ruleset.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use tributary_tests::binary;
use tributary_tests::Process;

fn write(path: &Path, text: &str) {
    if let Some(p) = path.parent() {
        std::fs::create_dir_all(p).expect("mkdir");
    }
    std::fs::write(path, text).expect("write");
}

fn serve(root: &Path) -> Process {
    Process::spawn(
        tributary_tests::serve_command(root)
            .env("RUST_LOG", "info")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped()),
        "serve",
    )
}

fn sigterm(child: &Child) {
    let ok = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill")
        .success();
    assert!(ok, "kill -TERM failed");
}

fn wait_lines(path: &Path, n: usize, timeout: Duration) -> Vec<String> {
    let start = Instant::now();
    loop {
        let lines: Vec<String> = std::fs::read_to_string(path)
            .map(|s| s.lines().map(str::to_string).collect())
            .unwrap_or_default();
        if lines.len() >= n || start.elapsed() > timeout {
            return lines;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn ruleset(stream: &str, sql: &str, out: &Path) -> String {
    let rule = serde_json::json!({
        "id": "r1",
        "sql": sql,
        "actions": [{"log": {}}, {"file": {"path": out, "fileType": "lines", "sendSingle": true}}]
    });
    serde_json::json!({
        "streams": {"s": stream},
        "rules": {"r1": rule.to_string()}
    })
    .to_string()
}

/// Serves a root whose file source reads `input` (named `file`) with `stream` and
/// `sql` into a file sink; waits for `n` output lines, stops with SIGTERM. Returns the
/// lines and the server's stderr, after checking it exited cleanly.
fn file_pipeline(
    file: &str,
    input: &str,
    stream: &str,
    sql: &str,
    n: usize,
) -> (Vec<String>, String) {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    let data = root.join("data");
    write(
        &root.join("etc/sources/file.yaml"),
        &format!("default:\n  path: {}\n  fileType: lines\n", data.display()),
    );
    write(&data.join(file), input);
    let out = data.join("out.jsonl");
    write(&data.join("init.json"), &ruleset(stream, sql, &out));
    let child = serve(root);
    let lines = wait_lines(&out, n, Duration::from_secs(30));
    sigterm(&child);
    let output = child.into_child().wait_with_output().expect("wait");
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert!(output.status.success(), "serve failed: {stderr}");
    (lines, stderr)
}

#[test]
fn file_source_to_file_sink_from_init_json() {
    let (lines, stderr) = file_pipeline(
        "input.jsonl",
        "{\"id\":1,\"temp\":18.5,\"name\":\"a\"}\n{\"id\":2,\"temp\":25,\"name\":\"b\"}\n{\"id\":3,\"temp\":\"hot\",\"name\":\"c\"}\n{\"id\":4,\"temp\":30.5,\"name\":\"d\"}\n",
        r#"CREATE STREAM s () WITH (TYPE="file", DATASOURCE="input.jsonl", FORMAT="json")"#,
        "SELECT id, temp * 1.8 + 32 AS f, upper(name) AS n FROM s WHERE temp > 20",
        3,
    );
    assert_eq!(
        lines,
        [
            r#"{"f":77,"id":2,"n":"B"}"#,
            r#"{"error":"run Where error: invalid operation string(hot) \u003e int64(20)"}"#,
            r#"{"f":86.9,"id":4,"n":"D"}"#,
        ],
        "stderr: {stderr}"
    );
    assert!(stderr.contains("rule started"), "{stderr}");
}

#[test]
fn delimited_lines_are_decoded_by_the_stream_schema() {
    let (lines, stderr) = file_pipeline(
        "input.csv",
        "1;21.5;pump\n2;x;fan\n3;30;valve\n",
        r#"CREATE STREAM s (id BIGINT, temp FLOAT, name STRING) WITH (TYPE="file", DATASOURCE="input.csv", FORMAT="delimited", DELIMITER=";", STRICT_VALIDATION="true")"#,
        "SELECT id, temp + 1 AS t, upper(name) AS n FROM s",
        3,
    );
    assert_eq!(lines.len(), 3, "{stderr}");
    assert_eq!(lines[0], r#"{"id":1,"n":"PUMP","t":22.5}"#);
    assert!(
        lines[1].starts_with(r#"{"error":"error in preprocessor: field temp"#),
        "{}",
        lines[1]
    );
    assert_eq!(lines[2], r#"{"id":3,"n":"VALVE","t":31}"#);
}

#[test]
fn sigterm_stops_cleanly_and_flushes_sinks() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    write(
        &root.join("etc/sources/simulator.yaml"),
        "default:\n  interval: 5\n  loop: true\n  data:\n    - {\"v\": 1}\n    - {\"v\": 2}\n",
    );
    let out = root.join("data/sim.jsonl");
    write(
        &root.join("data/init.json"),
        &ruleset(
            r#"CREATE STREAM s (v BIGINT) WITH (TYPE="simulator", FORMAT="json")"#,
            "SELECT v * 10 AS x FROM s",
            &out,
        ),
    );
    let child = serve(root);
    let seen = wait_lines(&out, 5, Duration::from_secs(30));
    assert!(seen.len() >= 5, "no output before stop");
    sigterm(&child);
    let output = child.into_child().wait_with_output().expect("wait");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "serve failed: {stderr}");
    assert!(stderr.contains("stopped"), "{stderr}");
    let text = std::fs::read_to_string(&out).expect("output");
    // Every line is complete (flushed), and values alternate 10, 20.
    for (i, line) in text.lines().enumerate() {
        let want = if i % 2 == 0 {
            r#"{"x":10}"#
        } else {
            r#"{"x":20}"#
        };
        assert_eq!(line, want, "line {i}");
    }
}

#[test]
fn broken_ruleset_fails_with_a_clear_message() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    let cases = [
        ("{\"streams\": {\"s\": 5}}", "streams.s must be a DDL string"),
        ("{\"streams\": {\"s\": \"CREATE STREAM s (a INTEGER) WITH (TYPE=\\\"memory\\\")\"}}", "INTEGER"),
        ("{\"rules\": {\"r\": \"{\\\"id\\\":\\\"r\\\",\\\"sql\\\":\\\"SELECT * FROM nope\\\"}\"}}", "stream nope not found"),
        ("{\"streams\": ", "invalid ruleset JSON at line 1"),
    ];
    for (text, want) in cases {
        write(&root.join("data/init.json"), text);
        let out = tributary_tests::serve_command(root).output().expect("run");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{text}: should fail");
        assert!(stderr.contains(want), "{text}: {stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
    }
}

#[test]
fn the_quick_start_demo_runs_both_rules() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path().join("demo");
    let out = Command::new(binary())
        .args([
            "demo",
            "--seconds",
            "3",
            "--root",
            root.to_str().expect("utf-8"),
        ])
        .current_dir(tributary_tests::workspace())
        .env("NO_COLOR", "1")
        .output()
        .expect("demo");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let written = std::fs::read_to_string(root.join("data/demo-output.jsonl")).expect("output");
    assert!(written.lines().count() >= 2, "{written}");
    assert!(
        written.lines().all(|l| l.contains("\"fahrenheit\"")),
        "{written}"
    );
    assert!(
        stderr.contains("sink result for rule wordTally"),
        "{stderr}"
    );
    assert!(stderr.contains("\"words_so_far\":4"), "{stderr}");
}
