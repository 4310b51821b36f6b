//! The state stores for real: the conformance suite on a real redis-server (started on
//! a free loopback port), and plugin state outliving a `kill -9` of `serve`, with
//! SQLite (the default) and with Redis.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use tributary_state::conformance;
use tributary_tests::{native_root, redis_server as redis, Process};

#[test]
fn the_redis_store_conforms() {
    let r = redis();
    let store = tributary_state::RedisStateStore::open(&format!("redis://127.0.0.1:{}/0", r.port))
        .expect("connect");
    conformance::run(&store, "t");
}

/// A root whose rule counts words with the native `accumulateWordCount` over a file
/// of `lines` lines, one word each, writing each running total as a JSON line.
fn counting_root(root: &Path, lines: usize, store_yaml: &str) -> std::path::PathBuf {
    let functions = root.join("plugins/functions");
    std::fs::create_dir_all(&functions).expect("mkdir");
    std::fs::copy(
        native_root().join("plugins/functions/accumulateWordCount.so"),
        functions.join("accumulateWordCount.so"),
    )
    .expect("plugin");
    std::fs::create_dir_all(root.join("etc")).expect("mkdir");
    std::fs::write(root.join("etc/tributary.yaml"), store_yaml).expect("config");
    std::fs::create_dir_all(root.join("data")).expect("mkdir");
    let input: Vec<serde_json::Value> = (0..lines)
        .map(|i| serde_json::json!({"w": format!("w{i}")}))
        .collect();
    std::fs::write(
        root.join("data/in.json"),
        serde_json::Value::Array(input).to_string(),
    )
    .expect("input");
    let out = root.join("data/out.jsonl");
    let rule = serde_json::json!({
        "id": "count",
        "sql": r#"SELECT accumulateWordCount(w, " ") AS total FROM s"#,
        "actions": [{"file": {"path": out, "fileType": "lines", "sendSingle": true}}]
    });
    let init = serde_json::json!({
        "streams": {"s": "CREATE STREAM s (w STRING) WITH (TYPE=\"file\", DATASOURCE=\"in.json\")"},
        "rules": {"count": rule.to_string()}
    });
    std::fs::write(root.join("data/init.json"), init.to_string()).expect("init");
    out
}

fn totals(out: &Path) -> Vec<i64> {
    std::fs::read_to_string(out)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter_map(|v| v["total"].as_i64())
        .collect()
}

/// Serves `root` until `out` has `n` totals, then kills it with SIGKILL.
fn serve_then_kill9(root: &Path, out: &Path, n: usize) {
    let mut child = Process::spawn(
        tributary_tests::serve_command(root).stderr(Stdio::null()),
        "serve",
    );
    let start = Instant::now();
    while totals(out).len() < n && start.elapsed() < Duration::from_secs(60) {
        std::thread::sleep(Duration::from_millis(20));
    }
    Command::new("kill")
        .args(["-9", &child.id().to_string()])
        .status()
        .expect("kill -9");
    let _ = child.wait();
    assert!(totals(out).len() >= n, "only {:?}", totals(out));
}

fn survives_kill9(store_yaml: &str) {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = counting_root(dir.path(), 50, store_yaml);
    serve_then_kill9(dir.path(), &out, 50);
    assert_eq!(totals(&out), (1..=50).collect::<Vec<i64>>());
    // The process died without a chance to flush anything; the counter was in the
    // store. The restarted rule reads the input again and counts on from 50.
    std::fs::rename(&out, out.with_extension("first")).expect("keep the first output");
    serve_then_kill9(dir.path(), &out, 50);
    assert_eq!(totals(&out), (51..=100).collect::<Vec<i64>>());
}

#[test]
fn plugin_state_outlives_kill9_with_sqlite() {
    survives_kill9("store:\n  type: sqlite\n");
}

#[test]
fn plugin_state_outlives_kill9_with_redis() {
    let r = redis();
    survives_kill9(&format!(
        "store:\n  type: redis\n  redis:\n    host: 127.0.0.1\n    port: {}\n",
        r.port
    ));
}

/// A root whose rule (`qos` 1, checkpoints every 100 ms) counts words over a file of
/// `lines` words read at one line per 5 ms, writing `{"w": …, "total": …}` lines.
fn checkpointing_root(root: &Path, lines: usize, store_yaml: &str) -> std::path::PathBuf {
    let out = counting_root(root, lines, store_yaml);
    std::fs::create_dir_all(root.join("etc/sources")).expect("mkdir");
    std::fs::write(
        root.join("etc/sources/file.yaml"),
        "default:\n  sendInterval: 5\n",
    )
    .expect("file conf");
    let rule = serde_json::json!({
        "id": "count",
        "sql": r#"SELECT w, accumulateWordCount(w, " ") AS total FROM s"#,
        "actions": [{"file": {"path": out, "fileType": "lines", "sendSingle": true}}],
        "options": {"qos": 1, "checkpointInterval": "100ms"}
    });
    let init = serde_json::json!({
        "streams": {"s": "CREATE STREAM s (w STRING) WITH (TYPE=\"file\", DATASOURCE=\"in.json\")"},
        "rules": {"count": rule.to_string()}
    });
    std::fs::write(root.join("data/init.json"), init.to_string()).expect("init");
    out
}

/// The (word index, total) pairs of an output file; a line cut by the kill is skipped.
fn counted(out: &Path) -> Vec<(i64, i64)> {
    std::fs::read_to_string(out)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter_map(|v| {
            let w = v["w"].as_str()?.strip_prefix('w')?.parse::<i64>().ok()?;
            Some((w, v["total"].as_i64()?))
        })
        .collect()
}

/// Kills `serve` mid-stream under qos 1, restarts it, and checks that the rule went on
/// from its checkpoint: the counter as the checkpoint left it, the file source past
/// the rows it counted, and the file sink cut back to its checkpointed length, so the
/// output ends up holding every word exactly once, each with the total it must have
/// (its position + 1). Re-reading from the start, a counter that ran ahead of the
/// checkpoint, or a lost or doubled row would each break that.
fn resumes_from_checkpoint(store_yaml: &str) {
    let dir = tempfile::tempdir().expect("tempdir");
    let n = 300;
    let out = checkpointing_root(dir.path(), n, store_yaml);
    let serve = || {
        Process::spawn(
            tributary_tests::serve_command(dir.path()).stderr(Stdio::null()),
            "serve",
        )
    };
    let mut child = serve();
    let start = Instant::now();
    // Output reaches the file at checkpoints (the sink flushes there): wait for a few.
    while counted(&out).len() < 60 && start.elapsed() < Duration::from_secs(60) {
        std::thread::sleep(Duration::from_millis(10));
    }
    Command::new("kill")
        .args(["-9", &child.id().to_string()])
        .status()
        .expect("kill -9");
    let _ = child.wait();
    let first = counted(&out);
    assert!(first.len() >= 60, "first run wrote only {first:?}");
    assert!(
        first.len() < n,
        "the first run must be killed mid-stream, it wrote all {n}"
    );

    let mut child = serve();
    let start = Instant::now();
    let last = (n - 1) as i64;
    while !counted(&out).iter().any(|(w, _)| *w == last)
        && start.elapsed() < Duration::from_secs(60)
    {
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = child.kill();
    let _ = child.wait();
    let want: Vec<(i64, i64)> = (0..n as i64).map(|w| (w, w + 1)).collect();
    assert_eq!(
        counted(&out),
        want,
        "every word once, with its running total"
    );
}

#[test]
fn qos1_resumes_from_the_checkpoint_after_kill9_with_sqlite() {
    resumes_from_checkpoint("store:\n  type: sqlite\n");
}

#[test]
fn qos1_resumes_from_the_checkpoint_after_kill9_with_redis() {
    let r = redis();
    resumes_from_checkpoint(&format!(
        "store:\n  type: redis\n  redis:\n    host: 127.0.0.1\n    port: {}\n",
        r.port
    ));
}
