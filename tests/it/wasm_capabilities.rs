//! What a wasm plugin may touch: what its manifest asks for and `etc/wasm.yaml`
//! grants, nothing more. The `fsProbe` example component tries the filesystem, the
//! environment, memory and time from inside the sandbox; the `fileSink` example
//! writes a rule's rows as JSON lines into a granted folder.

use std::path::{Path, PathBuf};
use tributary_tests::{serve_until, trial_call, wasm_root};

/// A root holding only the `fsProbe` plugin, with an etc folder holding `hello.txt`,
/// and, when given, the probe's manifest and the operator's grants.
struct ProbeRoot {
    dir: tempfile::TempDir,
}

impl ProbeRoot {
    fn new(manifest: Option<&str>, grants: Option<&str>) -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let root = dir.path();
        let functions = root.join("plugins/functions");
        std::fs::create_dir_all(&functions).expect("mkdir");
        std::fs::copy(
            wasm_root().join("plugins/functions/fsProbe.wasm"),
            functions.join("fsProbe.wasm"),
        )
        .expect("copy");
        for (plugin, file, text) in [
            ("fsProbe", "hello.txt", "hello"),
            ("other", "secret.txt", "not yours"),
        ] {
            let etc = root.join("etc/functions").join(plugin);
            std::fs::create_dir_all(&etc).expect("mkdir");
            std::fs::write(etc.join(file), text).expect("write");
        }
        if let Some(m) = manifest {
            std::fs::write(functions.join("fsProbe.json"), m).expect("manifest");
        }
        if let Some(g) = grants {
            std::fs::write(root.join("etc/wasm.yaml"), g).expect("grants");
        }
        ProbeRoot { dir }
    }

    /// The root's canonical path: the paths the plugin sees are the host's.
    fn path(&self) -> PathBuf {
        self.dir.path().canonicalize().expect("canonical")
    }

    fn etc(&self, file: &str) -> String {
        self.path()
            .join("etc/functions/fsProbe")
            .join(file)
            .display()
            .to_string()
    }

    /// Runs `SELECT <call> AS r` on one row; returns (exit success, stdout, stderr).
    fn call(&self, call: &str, env: &[(&str, &str)]) -> (bool, String, String) {
        trial_call(self.dir.path(), call, env)
    }

    /// The emission of a call that must load and run.
    fn ok(&self, call: &str) -> String {
        let (ok, out, err) = self.call(call, &[]);
        assert!(ok, "{call}: {err}");
        out
    }
}

fn q(s: &str) -> String {
    serde_json::to_string(s).expect("json string")
}

fn is_error(out: &str, want: &str) -> bool {
    out.contains(r#""error""#) && out.contains(want)
}

#[test]
fn a_plugin_that_asks_for_nothing_sees_no_filesystem_and_no_environment() {
    let r = ProbeRoot::new(None, None);
    let root = r.path().display().to_string();
    for call in [
        format!("readFile({})", q(&r.etc("hello.txt"))),
        format!("listDir({})", q(&root)),
        r#"listDir("/")"#.to_string(),
        r#"listDir(".")"#.to_string(),
        r#"readFile("/etc/passwd")"#.to_string(),
    ] {
        let out = r.ok(&call);
        assert!(is_error(&out, "No such file or directory"), "{call}: {out}");
    }
    let target = r.path().join("escaped.txt");
    let out = r.ok(&format!(
        "writeFile({}, \"x\")",
        q(&target.display().to_string())
    ));
    assert!(is_error(&out, "No such file or directory"), "{out}");
    assert!(!target.exists());
    // The host's environment stays outside (a null field is left out of the row).
    let (ok, out, err) = r.call(r#"envVar("PATH")"#, &[]);
    assert!(ok, "{err}");
    assert_eq!(out, "[{}]");
}

#[test]
fn the_etc_view_can_be_read_but_not_written() {
    let r = ProbeRoot::new(Some(r#"{"capabilities": {"etc": true}}"#), None);
    assert_eq!(
        r.ok(&format!("readFile({})", q(&r.etc("hello.txt")))),
        r#"[{"r":"hello"}]"#
    );
    let etc = r.path().join("etc/functions/fsProbe");
    assert_eq!(
        r.ok(&format!("listDir({})", q(&etc.display().to_string()))),
        r#"[{"r":"hello.txt"}]"#
    );
    for file in ["new.txt", "hello.txt"] {
        let out = r.ok(&format!("writeFile({}, \"x\")", q(&r.etc(file))));
        assert!(is_error(&out, "Operation not permitted"), "{file}: {out}");
    }
    assert!(!etc.join("new.txt").exists());
    assert_eq!(
        std::fs::read_to_string(etc.join("hello.txt")).expect("hello"),
        "hello"
    );
    // Only its own folder: not a sibling's, not the root's, not by `..` either.
    let sibling = r.path().join("etc/functions/other/secret.txt");
    let dotdot = format!("{}/../other/secret.txt", etc.display());
    for path in [sibling.display().to_string(), dotdot] {
        let out = r.ok(&format!("readFile({})", q(&path)));
        assert!(out.contains(r#""error""#), "{path}: {out}");
        assert!(!out.contains("not yours"), "{path}: {out}");
    }
}

#[test]
fn requests_that_are_not_granted_fail_to_load_with_the_reason() {
    let out = tempfile::tempdir().expect("tempdir");
    let out_dir = out.path().canonicalize().expect("canonical");
    let shown = out_dir.display().to_string();
    let ask_write =
        serde_json::json!({"capabilities": {"dirs": [{"path": shown, "write": true}]}}).to_string();
    let read_only = format!("grants:\n  fsProbe:\n    dirs: [{}]\n", q(&shown));
    let cases: Vec<(String, Option<String>, String)> = vec![
        (
            ask_write.clone(),
            None,
            format!(
                "plugin fsProbe asks for write access to {shown}, not granted in etc/wasm.yaml"
            ),
        ),
        (
            ask_write,
            Some(read_only),
            format!(
                "plugin fsProbe asks for write access to {shown}, not granted in etc/wasm.yaml"
            ),
        ),
        (
            r#"{"capabilities": {"env": ["HOME"]}}"#.into(),
            None,
            "plugin fsProbe asks for the environment variable HOME, not granted in etc/wasm.yaml"
                .into(),
        ),
        (
            r#"{"capabilities": {"etc": true}}"#.into(),
            Some("grants:\n  fsProbe:\n    etc: false\n".into()),
            "plugin fsProbe asks for read access to its etc folder, not granted in etc/wasm.yaml"
                .into(),
        ),
        (
            r#"{"capabilities": {"network": true}}"#.into(),
            None,
            "fsProbe.json: capabilities.network is a list of {\"host\", \"ports\"} entries and http(s) URLs, not true".into(),
        ),
        (
            r#"{"capabilities": {"filesystem": true}}"#.into(),
            None,
            "fsProbe.json: unknown field `filesystem`".into(),
        ),
        ("{".into(), None, "plugin manifest ".into()),
        (
            "{}".into(),
            Some("grants:\n  fsProbe:\n    writeable: true\n".into()),
            "wasm.yaml: grants.fsProbe: unknown field `writeable`".into(),
        ),
    ];
    for (manifest, grants, want) in cases {
        let r = ProbeRoot::new(Some(&manifest), grants.as_deref());
        let (ok, out, err) = r.call("envVar(\"X\")", &[]);
        assert!(!ok && out.is_empty(), "{manifest}: {out}");
        assert!(err.contains(&want), "{manifest}: want {want:?} in {err}");
        assert!(!err.contains("panicked"), "{err}");
    }
}

#[test]
fn granted_folders_and_variables_reach_the_plugin() {
    let out = tempfile::tempdir().expect("tempdir");
    let out_dir = out.path().canonicalize().expect("canonical");
    let manifest = serde_json::json!({"capabilities": {
        "dirs": [{"path": out_dir.join("rows").display().to_string(), "write": true}],
        "env": ["PROBE_GREETING"]
    }})
    .to_string();
    let grants = format!(
        "grants:\n  fsProbe:\n    dirs: [{}]\n    writable: true\n    env: [PROBE_GREETING]\n",
        q(&out_dir.display().to_string())
    );
    let r = ProbeRoot::new(Some(&manifest), Some(&grants));
    // The folder asked for did not exist: granted and writable, it is created.
    let target = out_dir.join("rows/probe.txt");
    let call = format!("writeFile({}, \"abc\")", q(&target.display().to_string()));
    assert_eq!(r.ok(&call), r#"[{"r":3}]"#);
    assert_eq!(std::fs::read_to_string(&target).expect("written"), "abc");
    let (ok, got, err) = r.call(r#"envVar("PROBE_GREETING")"#, &[("PROBE_GREETING", "hi")]);
    assert!(ok, "{err}");
    assert_eq!(got, r#"[{"r":"hi"}]"#);
    // Granted, but the other folders of the operator's grant were not asked for.
    let other = out_dir.join("other.txt");
    let out = r.ok(&format!(
        "writeFile({}, \"x\")",
        q(&other.display().to_string())
    ));
    assert!(is_error(&out, "No such file or directory"), "{out}");
}

#[test]
fn limits_come_from_the_operator_and_a_manifest_may_only_lower_them() {
    let r = ProbeRoot::new(None, None);
    assert_eq!(r.ok("allocMiB(24)"), r#"[{"r":24}]"#);
    assert_eq!(r.ok("spinMs(300)"), r#"[{"r":300}]"#);

    let r = ProbeRoot::new(Some(r#"{"limits": {"memoryMiB": 16}}"#), None);
    let out = r.ok("allocMiB(24)");
    assert!(is_error(&out, "plugin fsProbe failed"), "{out}");
    assert_eq!(r.ok("allocMiB(4)"), r#"[{"r":4}]"#);

    // The operator lowers every plugin's deadline; a manifest cannot raise it again.
    let r = ProbeRoot::new(
        Some(r#"{"limits": {"deadlineMs": 5000}}"#),
        Some("limits: {deadlineMs: 100}\n"),
    );
    let out = r.ok("spinMs(300)");
    assert!(is_error(&out, "CPU deadline exceeded"), "{out}");
    // The operator may raise one plugin's memory above the default.
    let r = ProbeRoot::new(
        None,
        Some("grants:\n  fsProbe:\n    limits: {memoryMiB: 128}\n"),
    );
    assert_eq!(r.ok("allocMiB(96)"), r#"[{"r":96}]"#);
}

/// A root with the example `fileSink` (component and manifest), the example root's
/// grants, and `data/in.json` as a finite stream `s`, running `rule`.
fn file_sink_root(rule: serde_json::Value) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    let sinks = root.join("plugins/sinks");
    for d in [&sinks, &root.join("data"), &root.join("etc")] {
        std::fs::create_dir_all(d).expect("mkdir");
    }
    for f in ["fileSink.wasm", "fileSink.json"] {
        std::fs::copy(wasm_root().join("plugins/sinks").join(f), sinks.join(f)).expect("copy");
    }
    std::fs::copy(
        wasm_root().join("etc/wasm.yaml"),
        root.join("etc/wasm.yaml"),
    )
    .expect("grants");
    std::fs::write(
        root.join("data/in.json"),
        r#"[{"id": 1, "name": "a", "score": 1.5, "tags": ["x"]}, {"id": 2, "name": "b\"q", "score": 2.0, "tags": []}, {"id": 3, "name": "c", "score": -0.25, "tags": ["y", "z"]}]"#,
    )
    .expect("input");
    let init = serde_json::json!({
        "streams": {"s": "CREATE STREAM s (id BIGINT, name STRING, score FLOAT, tags ARRAY(STRING)) WITH (TYPE=\"file\", DATASOURCE=\"in.json\", FORMAT=\"json\")"},
        "rules": {"r": rule.to_string()}
    });
    std::fs::write(root.join("data/init.json"), init.to_string()).expect("init");
    dir
}

fn lines(path: &Path) -> Vec<String> {
    std::fs::read_to_string(path)
        .map(|t| t.lines().map(str::to_string).collect())
        .unwrap_or_default()
}

#[test]
fn the_wasm_file_sink_appends_json_lines_where_it_was_granted() {
    let expected = [
        r#"{"id":1,"name":"a","score":1.5,"tags":["x"]}"#,
        r#"{"id":2,"name":"b\"q","score":2,"tags":[]}"#,
        r#"{"id":3,"name":"c","score":-0.25,"tags":["y","z"]}"#,
    ];
    let probe = tempfile::tempdir().expect("tempdir");
    let rule = serde_json::json!({
        "id": "r",
        "sql": "SELECT * FROM s",
        "actions": [
            {"fileSink": {"path": "data/fileSink/rows.jsonl"}},
            {"fileSink": {"path": "data/fileSink/fresh.jsonl", "append": false}},
            // Outside the granted folder: the sink fails to open and holds its rows;
            // the others carry on.
            {"fileSink": {"path": probe.path().join("no.jsonl")}}
        ]
    });
    let dir = file_sink_root(rule);
    let root = dir.path();
    let out = root.join("data/fileSink");
    std::fs::create_dir_all(&out).expect("mkdir");
    std::fs::write(out.join("rows.jsonl"), "{\"old\":true}\n").expect("old rows");
    std::fs::write(out.join("fresh.jsonl"), "{\"old\":true}\n").expect("old rows");
    let (ok, log) = serve_until(root, |_| {
        lines(&out.join("rows.jsonl")).len() >= 4
            && lines(&out.join("fresh.jsonl")).len() >= 3
            && std::fs::read_to_string(root.join("serve.log"))
                .is_ok_and(|l| l.contains("sink failed after retries"))
    });
    assert!(ok, "{log}");
    let mut appended = vec![r#"{"old":true}"#.to_string()];
    appended.extend(expected.iter().map(|s| s.to_string()));
    assert_eq!(lines(&out.join("rows.jsonl")), appended, "{log}");
    assert_eq!(lines(&out.join("fresh.jsonl")), expected, "{log}");
    assert!(!probe.path().join("no.jsonl").exists());
    let refused = format!(
        "sink failed after retries; the message is held and tried again rule=r sink=filesink_2 error=plugin fileSink: open: fileSink: {}",
        probe.path().display()
    );
    assert!(
        log.contains(&refused),
        "the refused write is reported: {log}"
    );

    // Without the operator's grant, the plugin does not load and serve says why; it
    // runs on without it (a broken plugin is skipped, never fatal), and the rule that
    // needs it is kept, stopped, with the reason.
    std::fs::remove_file(root.join("etc/wasm.yaml")).expect("rm grants");
    let (ok, log) = serve_until(root, |l| l.contains("catalog: the rule cannot start"));
    assert!(ok, "serve runs on: {log}");
    assert!(
        log.contains(
            "plugin fileSink asks for write access to data/fileSink, not granted in etc/wasm.yaml"
        ),
        "{log}"
    );
    assert!(log.contains("unknown sink type \"filesink\""), "{log}");
}
