//! The contract is public: plugins built against an older one keep loading and
//! behaving the same on this host, next to plugins built against the current one, in
//! one rule; and the paths the context gives keep their meaning per version (0.2's
//! `root-path` is the engine root, 0.1's stays the plugin's folder), so every example
//! `fileSink`, of either tier and either contract, puts a relative path in one place.

use serde_json::json;
use std::path::Path;
use std::time::Duration;
use tributary_tests::api_server::Server;
use tributary_tests::{install_plugin, json_lines, native_root, wait_for, wasm_root, write_file};

fn copy(from: &Path, root: &Path, to: &str) {
    install_plugin(root, from, to);
}

fn wait(what: &str, done: impl FnMut() -> bool) {
    wait_for(what, Duration::from_secs(60), done);
}

const GRANT: &str = "grants:\n  fileSink:\n    dirs: [\"data\"]\n    writable: true\n";

#[test]
fn plugins_built_against_0_1_and_0_2_run_side_by_side_in_one_rule() {
    let old = wasm_root().with_file_name("wasm-0.1").join("plugins");
    let new = wasm_root().join("plugins");
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    // 0.1: the source, two functions, a sink. 0.2: a function and a sink.
    copy(
        &old.join("sources/random.wasm"),
        root,
        "sources/random.wasm",
    );
    copy(
        &old.join("functions/echo.wasm"),
        root,
        "functions/echo.wasm",
    );
    copy(
        &old.join("functions/accumulateWordCount.wasm"),
        root,
        "functions/accumulateWordCount.wasm",
    );
    copy(&old.join("sinks/tally.wasm"), root, "sinks/tally.wasm");
    copy(
        &new.join("functions/addOne.wasm"),
        root,
        "functions/addOne.wasm",
    );
    copy(
        &new.join("sinks/fileSink.wasm"),
        root,
        "sinks/fileSink.wasm",
    );
    copy(
        &new.join("sinks/fileSink.json"),
        root,
        "sinks/fileSink.json",
    );
    write_file(root, "etc/wasm.yaml", GRANT);
    write_file(
        root,
        "etc/sources/random.yaml",
        "default:\n  interval: 1\n  count: 20\n  seed: 3\n  pattern: {\"v\": 1000}\n",
    );
    let server = Server::start(root, None);
    for (plugin, contract) in [
        ("functions/echo", "tributary:plugin@0.1.0"),
        ("functions/addOne", "tributary:plugin@0.2.0"),
        ("sources/random", "tributary:plugin@0.1.0"),
        ("sinks/tally", "tributary:plugin@0.1.0"),
        ("sinks/fileSink", "tributary:plugin@0.2.0"),
    ] {
        let d = server.json(&format!("/plugins/{plugin}"));
        assert_eq!(d["contract"], contract, "{plugin}: {d}");
    }
    let (code, text) = server.call(
        reqwest::Method::POST,
        "/streams",
        Some(
            &json!({"sql": "CREATE STREAM s () WITH (TYPE=\"random\", DATASOURCE=\"r\")"})
                .to_string(),
        ),
    );
    assert_eq!(code, 201, "{text}");
    let rule = json!({
        "id": "mixed",
        "sql": r#"SELECT echo(v) AS e, addOne(v) AS a, accumulateWordCount("a b", " ") AS w FROM s"#,
        "actions": [
            {"fileSink": {"path": "data/fileSink/mixed.jsonl"}},
            {"tally": {"label": "old sink"}}
        ]
    });
    let (code, text) = server.call(reqwest::Method::POST, "/rules", Some(&rule.to_string()));
    assert_eq!(code, 201, "{text}");
    let out = root.join("data/fileSink/mixed.jsonl");
    wait("20 rows", || json_lines(&out).len() == 20);
    for (i, l) in json_lines(&out).iter().enumerate() {
        let (e, a, w) = (l["e"].as_i64(), l["a"].as_i64(), l["w"].as_i64());
        assert_eq!(a, e.map(|e| e + 1), "row {i}: {l}");
        assert_eq!(w, Some(2 * (i as i64 + 1)), "row {i}: {l}");
    }
    wait("the 0.1 sink's count", || {
        server.log().contains("old sink: +1 rows (total 20)")
    });
}

/// `data/fileSink/out.jsonl` relative to `root`, written by a rule over three rows
/// through the `fileSink` installed in `root`.
fn file_sink_writes_under_the_root(root: &Path, label: &str) {
    write_file(root, "etc/wasm.yaml", GRANT);
    write_file(
        root,
        "data/in.json",
        &json!([{"n": 1}, {"n": 2}, {"n": 3}]).to_string(),
    );
    let rule = json!({
        "id": "w",
        "sql": "SELECT n FROM s",
        "actions": [{"fileSink": {"path": "data/fileSink/out.jsonl"}}]
    });
    let init = json!({
        "streams": {"s": "CREATE STREAM s (n BIGINT) WITH (TYPE=\"file\", DATASOURCE=\"in.json\")"},
        "rules": {"w": rule.to_string()}
    });
    write_file(root, "data/init.json", &init.to_string());
    let out = root.join("data/fileSink/out.jsonl");
    let (_, log) = tributary_tests::serve_until(root, |_| json_lines(&out).len() == 3);
    let ns: Vec<i64> = json_lines(&out)
        .iter()
        .filter_map(|l| l["n"].as_i64())
        .collect();
    assert_eq!(ns, [1, 2, 3], "{label}: {}\n{log}", out.display());
}

#[test]
fn every_example_file_sink_resolves_a_relative_path_against_the_engine_root() {
    let cases = [
        (
            "wasm, contract 0.2",
            wasm_root().join("plugins/sinks/fileSink.wasm"),
            "fileSink.wasm",
        ),
        (
            "wasm, contract 0.1",
            wasm_root()
                .with_file_name("wasm-0.1")
                .join("plugins/sinks/fileSink.wasm"),
            "fileSink.wasm",
        ),
        (
            "native, ABI 2",
            native_root().join("plugins/sinks/fileSink.so"),
            "fileSink.so",
        ),
    ];
    for (label, plugin, file) in cases {
        let dir = tempfile::tempdir().expect("tempdir");
        let root = dir.path();
        copy(&plugin, root, &format!("sinks/{file}"));
        if file.ends_with(".wasm") {
            let manifest = plugin.with_extension("json");
            copy(&manifest, root, "sinks/fileSink.json");
        }
        file_sink_writes_under_the_root(root, label);
    }
}
