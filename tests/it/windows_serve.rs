//! Windows under `tributary serve`, on the wall clock: a simulator stream aggregated in
//! tumbling windows fires on timers (not only when tuples arrive), with aligned window
//! bounds, and a stream joined with a memory table in a window.

use std::path::Path;
use tributary_tests::serve_until;

fn write(path: &Path, text: &str) {
    if let Some(p) = path.parent() {
        std::fs::create_dir_all(p).expect("mkdir");
    }
    std::fs::write(path, text).expect("write");
}

/// Serves `root` until rule `rule` has logged `n` result rows (or the timeout), and
/// returns those rows (the log sink prints each emission).
fn serve_for_rows(root: &Path, rule: &str, n: usize) -> Vec<serde_json::Value> {
    let marker = format!("sink result for rule {rule}: ");
    let rows = |text: &str| -> Vec<serde_json::Value> {
        text.lines()
            .filter_map(|l| l.split_once(&marker).map(|(_, rest)| rest))
            .filter_map(|rest| rest.rfind(']').map(|end| &rest[..=end]))
            .filter_map(|json| serde_json::from_str::<Vec<serde_json::Value>>(json).ok())
            .flatten()
            .collect()
    };
    let (ok, log) = serve_until(root, |l| rows(l).len() >= n);
    assert!(ok, "serve failed: {log}");
    rows(&log)
}

#[test]
fn tumbling_windows_fire_on_the_wall_clock_with_aligned_bounds() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    write(
        &root.join("etc/sources/simulator.yaml"),
        "default:\n  interval: 20\n  loop: true\n  data:\n    - {\"device\": \"a\", \"t\": 1}\n    - {\"device\": \"b\", \"t\": 2}\n",
    );
    let rule = serde_json::json!({
        "id": "w",
        "sql": "SELECT device, count(*) AS n, sum(t) AS total, window_start() AS ws, window_end() AS we FROM sensors GROUP BY device, TUMBLINGWINDOW(ms, 500) ORDER BY device",
        "actions": [{"log": {}}]
    });
    write(
        &root.join("data/init.json"),
        &serde_json::json!({
            "streams": {"sensors": "CREATE STREAM sensors (device STRING, t BIGINT) WITH (TYPE=\"simulator\", FORMAT=\"json\")"},
            "rules": {"w": rule.to_string()}
        })
        .to_string(),
    );
    let rows = serve_for_rows(root, "w", 8);
    assert!(rows.len() >= 8, "{rows:?}");
    // After the first (partial) window, every window is a whole aligned 500 ms.
    for r in &rows[2..] {
        let ws = r["ws"].as_i64().expect("ws");
        let we = r["we"].as_i64().expect("we");
        assert_eq!(we - ws, 500, "{r}");
        assert_eq!(we % 500, 0, "{r}");
        let n = r["n"].as_i64().expect("n");
        // About 12 tuples of each device per window; a loaded machine sends fewer.
        assert!((1..=30).contains(&n), "{r}");
        let t = if r["device"] == "a" { 1 } else { 2 };
        assert_eq!(r["total"].as_f64(), Some((n * t) as f64), "{r}");
    }
}

#[test]
fn a_stream_joins_a_memory_table_in_a_window() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    write(
        &root.join("etc/sources/simulator.yaml"),
        "default:\n  interval: 30\n  loop: true\n  data:\n    - {\"device\": \"a\", \"t\": 1}\n",
    );
    // One rule fills the table's memory topic; the other joins the stream with it.
    let feeder = serde_json::json!({
        "id": "feed",
        "sql": "SELECT device, \"kitchen\" AS room FROM sensors",
        "actions": [{"memory": {"topic": "devices"}}]
    });
    let joined = serde_json::json!({
        "id": "join",
        "sql": "SELECT sensors.device, room, count(*) AS n FROM sensors INNER JOIN rooms ON sensors.device = rooms.device GROUP BY TUMBLINGWINDOW(ms, 300)",
        "actions": [{"log": {}}]
    });
    write(
        &root.join("data/init.json"),
        &serde_json::json!({
            "streams": {"sensors": "CREATE STREAM sensors (device STRING, t BIGINT) WITH (TYPE=\"simulator\", FORMAT=\"json\")"},
            "tables": {"rooms": "CREATE TABLE rooms (device STRING, room STRING) WITH (TYPE=\"memory\", DATASOURCE=\"devices\", RETAIN_SIZE=\"1\")"},
            "rules": {"feed": feeder.to_string(), "join": joined.to_string()}
        })
        .to_string(),
    );
    let rows = serve_for_rows(root, "join", 3);
    assert!(rows.len() >= 3, "{rows:?}");
    let last = &rows[rows.len() - 1];
    assert_eq!(last["room"], "kitchen", "{last}");
    assert_eq!(last["device"], "a", "{last}");
    assert!(last["n"].as_i64().is_some_and(|n| n >= 1), "{last}");
}
