//! The WebAssembly tier end to end: example components in rules, state per call site,
//! faulty components that must not take the host down, broken plugin files.

use tributary_tests::{trial_text, wasm_root};

fn spec(sql: &str, sizes: &[i64]) -> String {
    let data: Vec<serde_json::Value> = sizes
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let color = ["red hot", "blue", "a b c", "x"][i % 4];
            serde_json::json!({"color": color, "size": s})
        })
        .collect();
    let ts: Vec<i64> = (0..sizes.len() as i64).map(|i| 1000 + i * 1000).collect();
    serde_json::json!({
        "id": "w",
        "sql": sql,
        "streams": ["CREATE STREAM demo (color STRING, size BIGINT) WITH (TYPE=\"mock\")"],
        "mockSource": {"demo": {"data": data, "timestamps": ts}}
    })
    .to_string()
}

#[test]
fn example_functions_and_state_per_call_site() {
    let (ok, out, err) = trial_text(
        &spec(
            r#"SELECT echo(color) AS e, countPlusOne(color, size) AS c, accumulateWordCount(color, " ") AS a, accumulateWordCount("x y", " ") AS b FROM demo"#,
            &[1, 2, 3],
        ),
        Some(wasm_root()),
    );
    assert!(ok, "{err}");
    assert_eq!(
        out.lines().collect::<Vec<_>>(),
        [
            r#"[{"a":2,"b":2,"c":3,"e":"red hot"}]"#,
            r#"[{"a":3,"b":4,"c":3,"e":"blue"}]"#,
            r#"[{"a":6,"b":6,"c":3,"e":"a b c"}]"#,
        ]
    );
}

/// Every kind of value through `echo` and back, mixed in one column (the host writes
/// scalars into guest memory itself and hands strings and JSON to the generic
/// lowering, which calls the guest's allocator mid-column), and as constant arguments.
#[test]
fn every_kind_of_value_crosses_the_boundary_and_back() {
    let xs = serde_json::json!([
        1,
        "two",
        null,
        [1, "a"],
        {"k": [1, 2]},
        1.5,
        true,
        -9007199254740993i64,
        "",
        false
    ]);
    let data: Vec<serde_json::Value> = xs
        .as_array()
        .expect("array")
        .iter()
        .map(|x| serde_json::json!({ "x": x }))
        .collect();
    let ts: Vec<i64> = (0..data.len() as i64).map(|i| 1000 + i * 1000).collect();
    let spec = serde_json::json!({
        "id": "kinds",
        // One window: the ten rows reach the plugin as one call.
        "sql": r#"SELECT echo(x) AS e, echo(7) AS i, echo("lit") AS s, echo(2.25) AS f FROM v GROUP BY COUNTWINDOW(10)"#,
        "streams": ["CREATE STREAM v () WITH (TYPE=\"mock\")"],
        "mockSource": {"v": {"data": data, "timestamps": ts}}
    })
    .to_string();
    let (ok, out, err) = trial_text(&spec, Some(wasm_root()));
    assert!(ok, "{err}");
    let got: Vec<serde_json::Value> = out
        .lines()
        .flat_map(|l| {
            serde_json::from_str::<serde_json::Value>(l)
                .expect("json line")
                .as_array()
                .cloned()
                .unwrap_or_default()
        })
        .collect();
    assert_eq!(out.lines().count(), 1, "one emission: {out}");
    assert_eq!(got.len(), data.len(), "{out}");
    for (row, x) in got.iter().zip(xs.as_array().expect("array")) {
        assert_eq!(row.get("e").unwrap_or(&serde_json::Value::Null), x, "{out}");
        assert_eq!(row["i"], 7, "{out}");
        assert_eq!(row["s"], "lit", "{out}");
        assert_eq!(row["f"], 2.25, "{out}");
    }
}

#[test]
fn validation_happens_when_the_rule_is_created() {
    let (ok, out, err) = trial_text(
        &spec("SELECT echo(color, size) FROM demo", &[1]),
        Some(wasm_root()),
    );
    assert!(!ok && out.is_empty());
    assert!(err.contains("echo expects 1 argument but found 2"), "{err}");
    let (ok, _, err) = trial_text(
        &spec("SELECT accumulateWordCount(color, 5) FROM demo", &[1]),
        Some(wasm_root()),
    );
    assert!(!ok);
    assert!(err.contains("parameter 2 must be a string"), "{err}");
    // Without the root, the plugin does not exist.
    let (ok, _, err) = trial_text(&spec("SELECT echo(color) FROM demo", &[1]), None);
    assert!(!ok && err.contains("function echo not found"), "{err}");
}

#[test]
fn faulty_components_cost_their_batch_and_never_the_host() {
    let cases = [
        ("trapIf(size)", "wasm `unreachable` instruction executed"),
        // The guest's own words reach the error row: the panic message it printed.
        (
            "panicIf(size)",
            "wasm `unreachable` instruction executed; the guest wrote: thread",
        ),
        ("spin()", "CPU deadline exceeded"),
        ("memBomb()", "wasm trap"),
        ("deepRecurse()", "wasm trap"),
        ("hugeOutput()", "returned a value larger than 4 MiB"),
    ];
    for (call, want) in cases {
        let (ok, out, err) = trial_text(
            &spec(&format!("SELECT {call} AS r, size FROM demo"), &[1, 3, 4]),
            Some(wasm_root()),
        );
        assert!(ok, "{call}: the run must survive: {err}");
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(lines.len(), 3, "{call}: {out}");
        // The guest's panic is logged as its stderr, tagged; the host's own would not be.
        let host_panic = err
            .lines()
            .any(|l| l.contains("panicked") && !l.contains("plugin=faulty"));
        assert!(!host_panic, "{call}: host panicked: {err}");
        if call == "panicIf(size)" {
            assert!(
                err.contains("stderr: panicIf saw 3"),
                "the guest's stderr is logged: {err}"
            );
        }
        let errors: Vec<&&str> = lines.iter().filter(|l| l.contains(r#""error""#)).collect();
        assert!(!errors.is_empty(), "{call}: {out}");
        assert!(errors[0].contains(want), "{call}: {}", errors[0]);
        if call == "panicIf(size)" {
            assert!(errors[0].contains("| panicIf saw 3 |"), "{}", errors[0]);
        }
        if call.ends_with("(size)") {
            // Only the row with size 3 fails; the next batch gets a fresh instance.
            assert_eq!(lines[0], r#"[{"r":1,"size":1}]"#, "{call}");
            assert!(lines[1].contains("error"), "{call}");
            assert_eq!(lines[2], r#"[{"r":4,"size":4}]"#, "{call}");
        }
    }
}

#[test]
fn broken_plugin_files_are_named() {
    let dir = tempfile::tempdir().expect("tempdir");
    let functions = dir.path().join("plugins/functions");
    std::fs::create_dir_all(&functions).expect("mkdir");
    let cases: [(&str, &[u8], &str); 3] = [
        (
            "garbage.wasm",
            b"this is not wasm",
            "is not a valid wasm component",
        ),
        // A valid core module is not a component.
        (
            "core.wasm",
            b"\0asm\x01\0\0\0",
            "is not a valid wasm component",
        ),
        ("empty.wasm", b"", "is not a valid wasm component"),
    ];
    for (file, bytes, want) in cases {
        for entry in std::fs::read_dir(&functions).expect("dir").flatten() {
            std::fs::remove_file(entry.path()).expect("rm");
        }
        std::fs::write(functions.join(file), bytes).expect("write");
        let (ok, _, err) = trial_text(&spec("SELECT size FROM demo", &[1]), Some(dir.path()));
        assert!(!ok, "{file}");
        assert!(err.contains(file) && err.contains(want), "{file}: {err}");
        assert!(!err.contains("panicked"), "{err}");
        let line = err.lines().find(|l| l.contains(file)).expect("logged");
        assert_eq!(line.matches(file).count(), 1, "the path once: {line}");
        assert!(line.contains(want), "on one line: {line}");
    }
    // Built against a wrong copy of the contract: the error names the WIT item whose
    // type differs, and how.
    for entry in std::fs::read_dir(&functions).expect("dir").flatten() {
        std::fs::remove_file(entry.path()).expect("rm");
    }
    let wrong = wasm_root().join("broken/wrongTypes.wasm");
    std::fs::copy(&wrong, functions.join("wrongTypes.wasm"))
        .unwrap_or_else(|e| panic!("{} (scripts/build-guests.sh): {e}", wrong.display()));
    let (ok, _, err) = trial_text(&spec("SELECT size FROM demo", &[1]), Some(dir.path()));
    assert!(!ok);
    let line = err
        .lines()
        .find(|l| l.contains("wrongTypes.wasm"))
        .unwrap_or_else(|| panic!("{err}"));
    assert!(
        line.contains("tributary:plugin/function@0.2.0 `[method]instance.exec` does not have the contract's type"),
        "{line}"
    );
    assert!(
        line.contains("type mismatch") && line.contains("expected") && line.contains("found"),
        "expected and found: {line}"
    );
    assert_eq!(
        line.matches("wrongTypes.wasm").count(),
        1,
        "the path once: {line}"
    );
}

#[test]
fn the_python_component_behaves_like_the_rust_one() {
    let spec = spec(
        r#"SELECT accumulateWordCount(color, " ") AS a, accumulateWordCount("x y", " ") AS b FROM demo"#,
        &[1, 2, 3, 4],
    );
    let python_root = wasm_root()
        .parent()
        .expect("example-roots")
        .join("wasm-python");
    let (ok_rust, rust, err) = trial_text(&spec, Some(wasm_root()));
    assert!(ok_rust, "{err}");
    let (ok_py, python, err) = trial_text(&spec, Some(&python_root));
    assert!(ok_py, "{err}");
    assert_eq!(python, rust);
    assert_eq!(rust.lines().count(), 4);
}

#[test]
fn a_wasm_source_feeds_a_rule_with_a_wasm_function() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    for kind in ["functions", "sources", "sinks"] {
        let from = wasm_root().join("plugins").join(kind);
        let to = root.join("plugins").join(kind);
        std::fs::create_dir_all(&to).expect("mkdir");
        for e in std::fs::read_dir(&from).expect("plugins").flatten() {
            if e.file_name() != "faulty.wasm" {
                std::fs::copy(e.path(), to.join(e.file_name())).expect("copy");
            }
        }
    }
    std::fs::create_dir_all(root.join("etc/sources")).expect("mkdir");
    // The example fileSink's manifest asks for a folder: the example grants give it.
    std::fs::copy(
        wasm_root().join("etc/wasm.yaml"),
        root.join("etc/wasm.yaml"),
    )
    .expect("grants");
    std::fs::write(
        root.join("etc/sources/random.yaml"),
        "default:\n  interval: 5\n  seed: 7\n  count: 5\n  pattern: {\"temp\": 100, \"id\": 5, \"kind\": \"x\"}\n",
    )
    .expect("conf");
    let out = root.join("data/out.jsonl");
    let rule = serde_json::json!({
        "id": "r",
        "sql": "SELECT temp, addOne(temp) AS t1, id, kind FROM s",
        "actions": [
            {"file": {"path": out, "fileType": "lines", "sendSingle": true}},
            {"tally": {"label": "seen"}}
        ]
    });
    let init = serde_json::json!({
        "streams": {"s": "CREATE STREAM s (temp BIGINT, id BIGINT, kind STRING) WITH (TYPE=\"random\")"},
        "rules": {"r": rule.to_string()}
    });
    std::fs::create_dir_all(root.join("data")).expect("mkdir");
    std::fs::write(root.join("data/init.json"), init.to_string()).expect("init");
    let child = tributary_tests::Process::spawn(
        tributary_tests::serve_command(root).stderr(std::process::Stdio::piped()),
        "serve",
    );
    let start = std::time::Instant::now();
    while start.elapsed() < std::time::Duration::from_secs(60)
        && std::fs::read_to_string(&out)
            .map(|t| t.lines().count())
            .unwrap_or(0)
            < 5
    {
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    // The last row reaches the file just before the source reports its end: give the
    // rule that moment, or a loaded machine stops it first (seen in a CI run).
    std::thread::sleep(std::time::Duration::from_millis(1000));
    std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill");
    let output = child.into_child().wait_with_output().expect("wait");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    let text = std::fs::read_to_string(&out).expect("output");
    let rows: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).expect("json line"))
        .collect();
    assert_eq!(rows.len(), 5, "{text}\n{stderr}");
    for r in &rows {
        let temp = r["temp"].as_i64().expect("temp");
        assert!((0..100).contains(&temp), "{r}");
        assert_eq!(r["t1"].as_i64(), Some(temp + 1), "{r}");
        assert!((0..5).contains(&r["id"].as_i64().expect("id")), "{r}");
        assert_eq!(r["kind"], "x");
    }
    assert!(
        stderr.contains("rule finished"),
        "the finite source ends the rule: {stderr}"
    );
    // The wasm sink counted every row in its state and logged through the context API.
    assert!(stderr.contains("seen: +1 rows (total 5)"), "{stderr}");
}

#[test]
fn an_unknown_connector_type_lists_the_plugin_ones_too() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    let plugins = wasm_root().join("plugins");
    tributary_tests::install_plugin(root, &plugins.join("sinks/tally.wasm"), "sinks/tally.wasm");
    tributary_tests::install_plugin(
        root,
        &plugins.join("sources/random.wasm"),
        "sources/random.wasm",
    );
    let init = |streams: serde_json::Value, from: &str, action: &str| {
        let sql = format!("SELECT * FROM {from}");
        let rule = serde_json::json!({"id": "r", "sql": sql, "actions": [{action: {}}]});
        let init = serde_json::json!({"streams": streams, "rules": {"r": rule.to_string()}});
        tributary_tests::write_file(root, "data/init.json", &init.to_string());
    };
    let random = r#"CREATE STREAM t () WITH (TYPE="random")"#;
    init(serde_json::json!({"t": random}), "t", "kafka");
    let (ok, log) = tributary_tests::serve_until(root, |_| false);
    assert!(!ok, "{log}");
    assert!(
        log.contains(r#"actions[0]: unknown sink type "kafka"; available: file, log, memory, mqtt, nop, rest, tally"#),
        "{log}"
    );
    init(
        serde_json::json!({"u": r#"CREATE STREAM u () WITH (TYPE="nosuch")"#}),
        "u",
        "tally",
    );
    std::fs::remove_file(root.join("data/state.db")).expect("a fresh catalog");
    let (ok, log) = tributary_tests::serve_until(root, |_| false);
    assert!(!ok, "{log}");
    assert!(
        log.contains(r#"stream u: unknown source type "nosuch"; available: file, httppull, httppush, memory, mqtt, random, simulator"#),
        "{log}"
    );
}
