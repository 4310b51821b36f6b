//! A guest that dies says why: what it wrote to stdout and stderr goes into the host
//! log tagged with its plugin, rule and instance, and a trap's error (the row's error
//! emission, the rule's status) carries its last lines — a Rust panic message, a
//! Python traceback, a JavaScript exception — instead of only "unreachable".

use reqwest::Method as M;
use std::time::Duration;
use tributary_tests::api_server::Server;
use tributary_tests::{function_root, trial_text, wasm_root, workspace};

/// `SELECT <call> AS r, size FROM demo` over sizes 1, 3, 4 through `tributary trial`.
fn spec(call: &str) -> String {
    serde_json::json!({
        "id": "w",
        "sql": format!("SELECT {call} AS r, size FROM demo"),
        "streams": ["CREATE STREAM demo (size BIGINT) WITH (TYPE=\"mock\")"],
        "mockSource": {"demo": {
            "data": [{"size": 1}, {"size": 3}, {"size": 4}],
            "timestamps": [1000, 2000, 3000]
        }}
    })
    .to_string()
}

#[test]
fn a_panic_a_traceback_and_an_exception_reach_the_error_row_and_the_log() {
    let roots = workspace().join("target/example-roots");
    let cases = [
        (
            wasm_root().to_path_buf(),
            "faulty",
            "panicIf(size)",
            &["panicked at", "panicIf saw 3"][..],
        ),
        (
            roots.join("wasm-python"),
            "pyFault",
            "raiseIf(size)",
            &[
                "Traceback (most recent call last):",
                "ValueError: raiseIf saw 3",
            ][..],
        ),
        (
            roots.join("wasm-js"),
            "greet",
            "throwIf(size)",
            &["throwIf saw 3", "plugin.js"][..],
        ),
    ];
    for (root, plugin, call, words) in cases {
        let (ok, out, log) = trial_text(&spec(call), Some(&root));
        assert!(ok, "{call}: the run survives the fault: {log}");
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(lines.len(), 3, "{call}: {out}");
        assert_eq!(lines[0], r#"[{"r":1,"size":1}]"#, "{call}");
        assert_eq!(
            lines[2], r#"[{"r":4,"size":4}]"#,
            "{call}: a fresh instance"
        );
        let error = lines[1];
        assert!(
            error.contains("instruction executed; the guest wrote: "),
            "{call}: {error}"
        );
        for w in words {
            let in_log = log.lines().any(|l| {
                l.contains("stderr: ")
                    && l.contains(w)
                    && l.contains(&format!("plugin={plugin} kind=function rule=w"))
            });
            assert!(in_log, "{call}: {w:?} logged as the guest's stderr: {log}");
            let escaped = serde_json::to_string(w).expect("json");
            let escaped = escaped.trim_matches('"').replace('<', "\\u003c");
            assert!(
                error.contains(&escaped),
                "{call}: {w:?} in the row's error: {error}"
            );
        }
    }
}

#[test]
fn the_rules_status_shows_what_the_guest_wrote_before_it_died() {
    let faulty = wasm_root().join("plugins/functions/faulty.wasm");
    let dir = function_root(&faulty, "faulty", None, None);
    let root = dir.path();
    std::fs::create_dir_all(root.join("etc/sources")).expect("mkdir");
    // A source that keeps going, so the rule runs and its status has its metrics.
    std::fs::write(
        root.join("etc/sources/simulator.yaml"),
        "default:\n  interval: 20\n  data:\n    - {x: 1}\n    - {x: 3}\n",
    )
    .expect("simulator conf");
    let s = Server::start(root, None);
    let (status, body) = s.call(
        M::POST,
        "/streams",
        Some(r#"{"sql": "CREATE STREAM s (x BIGINT) WITH (TYPE=\"simulator\")"}"#),
    );
    assert_eq!(status, 201, "{body}");
    let rule = r#"{"id": "p", "sql": "SELECT panicIf(x) AS r FROM s", "actions": [{"nop": {}}]}"#;
    let (status, body) = s.call(M::POST, "/rules", Some(rule));
    assert_eq!(status, 201, "{body}");
    let start = std::time::Instant::now();
    let exception = loop {
        let status = s.json("/rules/p/status");
        let said = status["last_exception"].as_str().filter(|e| !e.is_empty());
        if let Some(said) = said {
            break said.to_string();
        }
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "no exception in {status}; log: {}",
            s.log()
        );
        std::thread::sleep(Duration::from_millis(100));
    };
    assert!(
        exception.contains("the guest wrote: ") && exception.contains("panicIf saw 3"),
        "{exception}"
    );
    assert!(s.log().contains("stderr: panicIf saw 3"), "{}", s.log());
}
