//! The native tier end to end: the singleton export mode, a native source
//! feeding a native sink under `serve`, faulty plugins that must not take the host
//! down, broken library files named in clear errors, and hot update with unloading.

use std::path::Path;
use std::sync::Arc;
use tributary_core::function::{CallSite, Column, FnContext, FunctionImpl};
use tributary_core::{Error, SystemClock, Value};
use tributary_engine::EngineContext;
use tributary_plugin::{HostConfig, PluginHost, PluginKind};
use tributary_tests::{native_root, native_roots, trial_text};

fn spec(sql: &str, colors: &[&str]) -> String {
    let data: Vec<serde_json::Value> = colors
        .iter()
        .enumerate()
        .map(|(i, c)| serde_json::json!({"color": c, "size": i + 1}))
        .collect();
    let ts: Vec<i64> = (0..colors.len() as i64).map(|i| 1000 + i * 1000).collect();
    serde_json::json!({
        "id": "n",
        "sql": sql,
        "streams": ["CREATE STREAM demo (color STRING, size BIGINT) WITH (TYPE=\"mock\")"],
        "mockSource": {"demo": {"data": data, "timestamps": ts}}
    })
    .to_string()
}

#[test]
fn a_singleton_shares_one_instance_and_one_state_across_call_sites() {
    let (ok, out, err) = trial_text(
        &spec(
            "SELECT globalCount() AS a, globalCount() AS b FROM demo",
            &["x", "y", "z"],
        ),
        Some(&native_root()),
    );
    assert!(ok, "{err}");
    let mut seen: Vec<i64> = Vec::new();
    for line in out.lines() {
        let rows: serde_json::Value = serde_json::from_str(line).expect("json");
        seen.push(rows[0]["a"].as_i64().expect("a"));
        seen.push(rows[0]["b"].as_i64().expect("b"));
    }
    seen.sort();
    // One counter for both call sites: 1..=6, each value once. In constructor mode each
    // site would count 1, 2, 3 on its own.
    assert_eq!(seen, [1, 2, 3, 4, 5, 6], "{out}");
}

#[test]
fn faulty_plugins_cost_their_batch_and_never_the_host() {
    let cases = [
        ("panicNow(color)", "plugin panicked: panicNow was called"),
        (
            "shortResults(color)",
            "the plugin returned 0 results for 1 inputs",
        ),
    ];
    for (call, want) in cases {
        let (ok, out, err) = trial_text(
            &spec(&format!("SELECT {call} AS r, size FROM demo"), &["a", "b"]),
            Some(&native_root()),
        );
        assert!(ok, "{call}: the run must survive: {err}");
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(lines.len(), 2, "{call}: {out}");
        for l in &lines {
            assert!(l.contains(r#""error""#) && l.contains(want), "{call}: {l}");
        }
    }
    // A row error fails that row only; the instance carries on.
    let (ok, out, err) = trial_text(
        &spec("SELECT failOn(color) AS r FROM demo", &["a", "bad", "c"]),
        Some(&native_root()),
    );
    assert!(ok, "{err}");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[0], r#"[{"r":"a"}]"#);
    assert!(lines[1].contains("the value is bad"), "{}", lines[1]);
    assert_eq!(lines[2], r#"[{"r":"c"}]"#);
}

fn plugin_root_with(dir: &Path, kind: &str, file: &str, from: &Path) {
    let to = dir.join("plugins").join(kind);
    std::fs::create_dir_all(&to).expect("mkdir");
    for e in std::fs::read_dir(&to).expect("dir").flatten() {
        std::fs::remove_file(e.path()).expect("rm");
    }
    std::fs::copy(from, to.join(file)).expect("copy");
}

#[test]
fn broken_libraries_are_refused_with_the_file_and_the_reason() {
    let fixtures = native_roots().join("native-fixtures");
    let dir = tempfile::tempdir().expect("tempdir");
    let cases = [
        (
            "wrongAbi.so",
            "wrongAbi.so",
            "built for native ABI version 99; this host speaks versions 1 and 2",
        ),
        ("wrongLayout.so", "wrongLayout.so", "layout fingerprint"),
        (
            "noSymbol.so",
            "noSymbol.so",
            "does not export the symbol `NoSymbol`",
        ),
        ("notElf.so", "notElf.so", "not a shared object"),
        (
            "nullEntry.so",
            "nullEntry.so",
            "its function table has no `exec` entry (NULL)",
        ),
    ];
    for (fixture, file, want) in cases {
        plugin_root_with(dir.path(), "functions", file, &fixtures.join(fixture));
        let (ok, _, err) = trial_text(&spec("SELECT size FROM demo", &["a"]), Some(dir.path()));
        assert!(!ok, "{file} must be refused");
        assert!(err.contains(file) && err.contains(want), "{file}: {err}");
        assert!(!err.contains("panicked"), "{err}");
    }
    // A library of the wrong kind for its folder.
    plugin_root_with(
        dir.path(),
        "functions",
        "random.so",
        &native_root().join("plugins/sources/random.so"),
    );
    let (ok, _, err) = trial_text(&spec("SELECT size FROM demo", &["a"]), Some(dir.path()));
    assert!(
        !ok && err.contains("is a source plugin, found in plugins/functions"),
        "{err}"
    );
}

#[test]
fn file_names_follow_ekuipers_rules() {
    // `Echo.so` and `echo@v1.2.0.so` both name the plugin echo (symbol `Echo`).
    let dir = tempfile::tempdir().expect("tempdir");
    let echo = native_root().join("plugins/functions/echo.so");
    for file in ["Echo.so", "echo@v1.2.0.so"] {
        plugin_root_with(dir.path(), "functions", file, &echo);
        let (ok, out, err) = trial_text(
            &spec("SELECT echo(color) AS e FROM demo", &["a"]),
            Some(dir.path()),
        );
        assert!(ok, "{file}: {err}");
        assert_eq!(out.trim(), r#"[{"e":"a"}]"#, "{file}");
    }
}

#[test]
fn a_native_source_feeds_a_native_sink_under_serve() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    for (kind, file) in [
        ("sources", "random.so"),
        ("sinks", "fileSink.so"),
        ("functions", "echo.so"),
    ] {
        let to = root.join("plugins").join(kind);
        std::fs::create_dir_all(&to).expect("mkdir");
        std::fs::copy(
            native_root().join("plugins").join(kind).join(file),
            to.join(file),
        )
        .expect("copy");
    }
    std::fs::create_dir_all(root.join("etc/sources")).expect("mkdir");
    std::fs::write(
        root.join("etc/sources/random.yaml"),
        "default:\n  interval: 5\n  seed: 7\n  count: 5\n  pattern: {\"id\": 5, \"kind\": \"x\", \"temp\": 100}\n",
    )
    .expect("conf");
    let out = root.join("data/out.jsonl");
    let rule = serde_json::json!({
        "id": "r",
        "sql": "SELECT temp, echo(temp) AS t1, id, kind FROM s",
        "actions": [{"fileSink": {"path": out}}]
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
        assert_eq!(r["t1"].as_i64(), Some(temp), "{r}");
        assert!((0..5).contains(&r["id"].as_i64().expect("id")), "{r}");
        assert_eq!(r["kind"], "x");
    }
}

fn words(imp: &mut Box<dyn FunctionImpl>, text: &str) -> Result<Value, String> {
    let mut out = Vec::new();
    let args = [
        Column::Scalar(Value::str(text)),
        Column::Scalar(Value::str(" ")),
    ];
    imp.exec_batch(&FnContext::default(), &args, 1, &mut out);
    out.pop().expect("one result").map_err(|e| e.to_string())
}

/// Whether the process has the copy of library `file` mapped (`/proc/self/maps`):
/// the host loads each library from a copy named by its content hash.
fn mapped(file: &Path) -> bool {
    use sha2::Digest;
    let hash = hex16(&sha2::Sha256::digest(std::fs::read(file).expect("read")));
    let maps = std::fs::read_to_string("/proc/self/maps").expect("maps");
    maps.lines().any(|l| l.contains(&hash))
}

fn hex16(d: &[u8]) -> String {
    d.iter().take(8).map(|b| format!("{b:02x}")).collect()
}

#[test]
fn update_switches_running_instances_keeps_state_and_unloads_the_old_library() {
    let roots = native_roots();
    let root = tempfile::tempdir().expect("tempdir");
    let ctx = EngineContext::new(root.path().to_path_buf(), Arc::new(SystemClock));
    let state = ctx.state.clone();
    let host = PluginHost::new(HostConfig {
        root: root.path().to_path_buf(),
        tiers: vec![Arc::new(tributary_native::NativeTier)],
        state: state.clone(),
        registrar: Arc::new(ctx.clone()),
        allow_scripts: false,
        failpoint: Default::default(),
    });
    let kind = PluginKind::Function;
    let v1 = roots.join("native/plugins/functions/accumulateWordCount.so");

    // v1: the Rust library.
    host.load_file(kind, "accumulateWordCount", "1.0.0", &v1)
        .expect("install");
    let factory = ctx
        .registry
        .read()
        .expect("registry")
        .get("accumulateWordCount")
        .expect("registered");
    let mut imp = factory
        .instantiate(&CallSite {
            rule_id: "r".into(),
            site: 0,
        })
        .expect("instance");
    assert_eq!(words(&mut imp, "a b"), Ok(Value::Int(2)));

    // In use: uninstall is refused.
    assert!(matches!(
        host.unload(kind, "accumulateWordCount", false),
        Err(Error::Conflict(_))
    ));
    // An update exporting other functions is refused and changes nothing.
    let bad = host.load_file(
        kind,
        "accumulateWordCount",
        "9.0.0",
        &roots.join("native/plugins/functions/echo.so"),
    );
    assert!(bad.is_err());
    assert_eq!(words(&mut imp, "c"), Ok(Value::Int(3)));

    // v2: the C library, loaded beside the first. The running instance switches at its
    // next batch and its counter carries on.
    host.load_file(
        kind,
        "accumulateWordCount",
        "2.0.0",
        &roots.join("native-c/plugins/functions/accumulateWordCount.so"),
    )
    .expect("update");
    assert!(mapped(&v1), "still used until the next batch");
    assert_eq!(words(&mut imp, "d e f"), Ok(Value::Int(6)));
    assert!(!mapped(&v1), "the old library is unloaded once unused");
    assert_eq!(
        host.describe(kind, "accumulateWordCount")
            .expect("describe")["version"],
        "2.0.0"
    );

    drop(imp);
    host.unload(kind, "accumulateWordCount", false)
        .expect("uninstall");
    assert!(host.describe(kind, "accumulateWordCount").is_err(), "gone");
    assert_eq!(
        state.counter("rule/r/function/0/accumulateWordCount", "allwordcount"),
        Ok(6)
    );
}
