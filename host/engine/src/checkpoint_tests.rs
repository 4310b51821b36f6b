//! Checkpoints through the engine: offsets committed at the end of a finished rule, a
//! restarted rule resuming after them, and no checkpoint while a window holds rows.

use crate::builder::EngineContext;
use crate::engine::{Engine, RuleStatus};
use crate::rule::RuleDef;
use std::sync::Arc;
use std::time::Duration;
use tributary_core::state::{MemoryStateStore, StateStore};
use tributary_core::SystemClock;

/// An engine on `root` whose state (and checkpoints) live in `store`.
fn engine(root: &std::path::Path, store: Arc<dyn StateStore>) -> Engine {
    let mut ctx = EngineContext::new(root.to_path_buf(), Arc::new(SystemClock));
    ctx.use_durable_store(store);
    Engine::new(ctx)
}

/// Runs rule `r` (`sql` over a file of `rows` rows, qos 1) until it finishes; returns
/// the lines it wrote and the offsets its checkpoint holds.
async fn run_to_end(
    root: &std::path::Path,
    store: Arc<dyn StateStore>,
    sql: &str,
) -> (Vec<String>, Option<u64>) {
    let e = engine(root, store);
    e.create_stream(r#"CREATE STREAM s (i BIGINT) WITH (TYPE="file", DATASOURCE="in.json")"#)
        .expect("stream");
    let out = root.join("out.jsonl");
    let _ = std::fs::remove_file(&out);
    let rule = serde_json::json!({
        "id": "r",
        "sql": sql,
        "actions": [{"file": {"path": out, "fileType": "lines"}}],
        "options": {"qos": 1, "checkpointInterval": 10}
    });
    e.create_rule(RuleDef::from_json(rule).expect("rule"))
        .expect("create");
    for _ in 0..500 {
        if e.rule_status("r").expect("status").0 == RuleStatus::Finished {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(e.rule_status("r").expect("status").0, RuleStatus::Finished);
    e.stop_rule("r").await.expect("stop");
    let offsets = e
        .context()
        .checkpoints
        .as_ref()
        .expect("checkpoints")
        .offsets("r")
        .expect("offsets");
    let lines = std::fs::read_to_string(&out)
        .unwrap_or_default()
        .lines()
        .map(str::to_string)
        .collect();
    (lines, offsets.get(&0).copied())
}

fn root_with_rows(n: usize) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::create_dir_all(dir.path().join("data")).expect("mkdir");
    let rows: Vec<serde_json::Value> = (0..n).map(|i| serde_json::json!({"i": i})).collect();
    std::fs::write(
        dir.path().join("data/in.json"),
        serde_json::Value::Array(rows).to_string(),
    )
    .expect("input");
    dir
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_finished_rule_checkpoints_its_end_and_resumes_after_it() {
    let dir = root_with_rows(20);
    let store: Arc<dyn StateStore> = Arc::new(MemoryStateStore::default());
    let (lines, offset) = run_to_end(dir.path(), store.clone(), "SELECT i FROM s").await;
    assert_eq!(lines.len(), 20);
    assert_eq!(offset, Some(20), "the final checkpoint counts every row");
    // A new engine on the same store starts the rule after its last row.
    let (lines, offset) = run_to_end(dir.path(), store, "SELECT i FROM s").await;
    assert!(lines.is_empty(), "rows read twice: {lines:?}");
    assert_eq!(offset, Some(20));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_checkpoint_is_taken_while_a_window_holds_rows() {
    let dir = root_with_rows(20);
    // Count windows of 5 fire at rows 5, 10, 15 and 20: the end is a clean point.
    let store: Arc<dyn StateStore> = Arc::new(MemoryStateStore::default());
    let (lines, offset) = run_to_end(
        dir.path(),
        store,
        "SELECT count(*) AS c FROM s GROUP BY CountWindow(5)",
    )
    .await;
    assert_eq!(lines.len(), 4);
    assert_eq!(offset, Some(20));
    // Windows of 7 leave 6 rows unemitted at the end: the checkpoint cannot count
    // them, so it stays at a point where the window was empty (if any was taken).
    let store: Arc<dyn StateStore> = Arc::new(MemoryStateStore::default());
    let (lines, offset) = run_to_end(
        dir.path(),
        store.clone(),
        "SELECT count(*) AS c FROM s GROUP BY CountWindow(7)",
    )
    .await;
    assert_eq!(lines.len(), 2);
    assert!(
        matches!(offset, None | Some(7) | Some(14)),
        "checkpoint at {offset:?}, inside an open window"
    );
}
