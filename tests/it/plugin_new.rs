//! From an empty folder outside the repository: `tributary plugin new` → `build` →
//! `test` → `pack` → `install` into a running `serve` → rules use the plugins, for a
//! Rust function, source and sink.

use std::path::Path;
use std::process::Output;
use std::time::{Duration, Instant};
use tributary_tests::api_server::Server;
use tributary_tests::cli::{self, ok, refused};
use tributary_tests::workspace;

fn tributary(dir: &Path, args: &[&str]) -> Output {
    // The guests' target folder: the SDK's dependencies are built there already.
    let target = workspace().join("guests/target");
    cli::in_dir(dir, args, &[("CARGO_TARGET_DIR", &target)])
}

/// `plugin new NAME --kind KIND` in `dir`, then `plugin build` in the project.
fn new_and_build(dir: &Path, name: &str, kind: &str, edit: impl FnOnce(&Path)) -> String {
    let made = ok(tributary(dir, &["plugin", "new", name, "--kind", kind]));
    assert!(
        made.starts_with(&format!("made {name}: a Rust {kind} plugin {name}\n")),
        "{made}"
    );
    let project = dir.join(name);
    edit(&project);
    ok(tributary(&project, &["plugin", "build"]))
}

#[test]
fn a_new_project_builds_tests_packs_installs_and_runs() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();

    let built = new_and_build(d, "myUpper", "function", |_| {});
    assert!(
        built.starts_with("built build/myUpper.wasm (")
            && built.contains("): wasm function plugin myUpper\nfunctions: myUpper\n"),
        "{built}"
    );
    let project = d.join("myUpper");
    assert_eq!(
        ok(tributary(
            &project,
            &["plugin", "test", "build/myUpper.wasm"]
        )),
        "ok tests/myUpper.json: 2 emissions as expected\n1 passed, 0 failed\n"
    );
    assert_eq!(
        ok(tributary(
            &project,
            &["plugin", "call", "build/myUpper.wasm", "myUpper", "\"abc\""]
        )),
        "\"ABC\"\n"
    );
    ok(tributary(
        &project,
        &["plugin", "pack", "build/myUpper.wasm"],
    ));

    // A source and a sink; the source's conf (packed with it) made quick.
    new_and_build(d, "mySrc", "source", |p| {
        std::fs::write(
            p.join("mySrc.yaml"),
            "default:\n  interval: 5\n  count: 5\n",
        )
        .expect("conf");
    });
    let src = d.join("mySrc");
    let packed = ok(tributary(&src, &["plugin", "pack", "build/mySrc.wasm"]));
    assert!(
        packed.contains("files: manifest.json, mySrc.wasm, mySrc.yaml\n"),
        "{packed}"
    );
    new_and_build(d, "mySink", "sink", |_| {});
    let sink = d.join("mySink");
    ok(tributary(&sink, &["plugin", "pack", "build/mySink.wasm"]));
    assert!(
        refused(tributary(&sink, &["plugin", "test", "build/mySink.wasm"]))
            .contains("it is a sink plugin")
    );

    // Installed into a running server from their projects, used by rules.
    let root = d.join("root");
    std::fs::create_dir_all(&root).expect("root");
    let s = Server::start(&root, None);
    let target = workspace().join("guests/target");
    let env = [("CARGO_TARGET_DIR", target.as_path())];
    let remote = |dir: &Path, args: &[&str]| cli::remote(&s, dir, args, &env);
    install_and_run(
        &s,
        d,
        [(&project, "myUpper"), (&src, "mySrc"), (&sink, "mySink")],
        &env,
    );

    // The sink's own lines, read back from the server as its author would.
    let json = ok(remote(
        d,
        &[
            "plugin", "logs", "sinks", "mySink", "--lines", "1", "--json",
        ],
    ));
    let last: serde_json::Value = serde_json::from_str(json.trim()).expect("one JSON line");
    assert_eq!(last["kind"], "sink");
    assert!(last["seq"].as_u64().is_some_and(|n| n > 0), "{last}");
    let err = refused(remote(d, &["plugin", "logs", "sources", "mySink"]));
    assert!(err.contains("no sources plugin mySink (HTTP 404)"), "{err}");
    let err = refused(remote(
        d,
        &["plugin", "logs", "sinks", "mySink", "--lines", "5000"],
    ));
    assert!(err.contains("5000"), "{err}");
    let (status, body) = s.call(
        reqwest::Method::GET,
        "/plugins/sinks/mySink/logs?lines=x",
        None,
    );
    assert_eq!(status, 400, "{body}");

    // A guest's panic text, from a rule's call, is in its plugin's lines.
    let faulty = workspace().join("target/example-roots/wasm/plugins/functions/faulty.wasm");
    ok(remote(
        d,
        &[
            "plugin",
            "install",
            "functions",
            "faulty",
            faulty.to_str().expect("utf-8"),
        ],
    ));
    let spec = d.join("spec.json");
    std::fs::write(
        &spec,
        serde_json::json!({
            "sql": "SELECT panicIf(a) AS p FROM s",
            "streams": ["CREATE STREAM s (a BIGINT) WITH (TYPE=\"mock\")"],
            "options": {"sendError": true},
            "mockSource": {"s": {"data": [{"a": 3}], "timestamps": [1000]}}
        })
        .to_string(),
    )
    .expect("spec");
    let rows = ok(remote(d, &["rule", "test", spec.to_str().expect("utf-8")]));
    assert!(rows.contains("panicIf saw 3"), "{rows}");
    let logs = ok(remote(d, &["plugin", "logs", "functions", "faulty"]));
    assert!(
        logs.lines()
            .any(|l| l.contains("WARN") && l.contains("stderr: panicIf saw 3")),
        "{logs}"
    );
    s.stop();
}

/// Installs the function, source and sink that `plugin new` made (in any language) and
/// `plugin pack` packed in their projects into the running server `s`, and uses them:
/// the function upper-cases in a rule test, and the rule `counted` sends the source's
/// five records (its packed conf made quick) into the sink, which logs its running
/// total, until it logs `(total 5)`; its lines name the rule and the instance.
pub(crate) fn install_and_run(
    s: &Server,
    d: &Path,
    [(function, upper), (source, src), (sink_dir, sink)]: [(&Path, &str); 3],
    env: &[(&str, &Path)],
) {
    let remote = |dir: &Path, args: &[&str]| cli::remote(s, dir, args, env);
    for (project, kind, name) in [
        (function, "functions", upper),
        (source, "sources", src),
        (sink_dir, "sinks", sink),
    ] {
        let zip = format!("{name}.zip");
        assert_eq!(
            ok(remote(project, &["plugin", "install", kind, name, &zip])),
            format!("{kind} plugin {name} is created\n")
        );
    }
    let spec = d.join("spec.json");
    std::fs::write(
        &spec,
        serde_json::json!({
            "sql": format!("SELECT {upper}(w) AS w FROM s"),
            "streams": ["CREATE STREAM s (w STRING) WITH (TYPE=\"mock\")"],
            "mockSource": {"s": {"data": [{"w": "gateway"}], "timestamps": [1000]}}
        })
        .to_string(),
    )
    .expect("spec");
    assert_eq!(
        ok(remote(d, &["rule", "test", spec.to_str().expect("utf-8")])),
        "[{\"w\":\"GATEWAY\"}]\n"
    );
    let stream = serde_json::json!({
        "sql": format!("CREATE STREAM counts (n BIGINT) WITH (TYPE=\"{src}\", DATASOURCE=\"any\")")
    });
    let (status, body) = s.call(reqwest::Method::POST, "/streams", Some(&stream.to_string()));
    assert_eq!(status, 201, "{body}");
    let rule = serde_json::json!({
        "id": "counted",
        "sql": "SELECT n FROM counts",
        "actions": [{sink: {"label": "seen"}}]
    });
    let (status, body) = s.call(reqwest::Method::POST, "/rules", Some(&rule.to_string()));
    assert_eq!(status, 201, "{body}");
    // The sink counts the source's five records in its state, and says so in the log.
    let start = Instant::now();
    while !s.log().contains("(total 5)") {
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "no total 5 in the log:\n{}",
            s.log()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let logs = ok(remote(d, &["plugin", "logs", "sinks", sink]));
    let line = format!("INFO  rule=counted instance={sink}:counted:sink seen: +");
    assert!(logs.lines().any(|l| l.contains(&line)), "{logs}");
    assert!(logs.contains("(total 5)"), "{logs}");
}

#[test]
fn new_and_build_refuse_with_the_reason() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let err = refused(tributary(d, &["plugin", "new", "x", "--lang", "cobol"]));
    assert!(
        err.contains("--lang \"cobol\": plugin new makes Rust, Python and JavaScript projects"),
        "{err}"
    );
    let err = refused(tributary(d, &["plugin", "new", "x", "--kind", "table"]));
    assert!(
        err.contains("--kind \"table\" is not one of function, source, sink"),
        "{err}"
    );
    let err = refused(tributary(d, &["plugin", "new", "9lives"]));
    assert!(err.contains("invalid plugin name"), "{err}");
    std::fs::create_dir_all(d.join("taken")).expect("dir");
    std::fs::write(d.join("taken/file"), "x").expect("file");
    let err = refused(tributary(d, &["plugin", "new", "taken"]));
    assert!(err.contains("exists and is not empty"), "{err}");
    assert_eq!(
        std::fs::read_to_string(d.join("taken/file")).expect("kept"),
        "x"
    );
    let err = refused(tributary(d, &["plugin", "build"]));
    assert!(err.contains("has no Cargo.toml"), "{err}");
}

/// Runs the `$ tributary …` lines of a page's text block in `project` and requires
/// the answers the block shows under each (`calls` of them, so a block that lost its
/// examples fails).
pub(crate) fn runs_as_shown(project: &Path, shown: &str, calls: usize, env: &[(&str, &Path)]) {
    let mut ran = 0;
    for case in shown.split("$ tributary ").filter(|c| !c.trim().is_empty()) {
        let (command, answer) = case.split_once('\n').expect("a command and its answer");
        let args: Vec<&str> = command
            .split_whitespace()
            .map(|a| a.trim_matches('\''))
            .collect();
        assert_eq!(ok(cli::in_dir(project, &args, env)), answer, "{command}");
        ran += 1;
    }
    assert_eq!(ran, calls, "{shown}");
}

/// The calls of `clamp` that the guides say are refused, and why.
pub(crate) fn refuses_bad_clamp_calls(project: &Path, env: &[(&str, &Path)]) {
    for (args, why) in [
        (&["15", "5", "1"][..], "clamp: low (5) is above high (1)"),
        (&["15"][..], "clamp expects 2 to 3 arguments but found 1"),
    ] {
        let mut all = vec!["plugin", "call", "build/clamp.wasm", "clamp"];
        all.extend_from_slice(args);
        let err = refused(cli::in_dir(project, &all, env));
        assert!(err.contains(why), "{err}");
    }
}

/// The crate of docs/plugins/rust.md, in an empty folder with the SDK by path, builds
/// and answers the calls the page shows, and refuses the calls it says are refused.
#[test]
fn the_rust_guide_crate_builds_and_answers_as_shown() {
    use crate::docs_examples::{block, blocks};
    let dir = tempfile::tempdir().expect("tempdir");
    let project = dir.path().join("clamp");
    std::fs::create_dir_all(project.join("src")).expect("src");
    let page = blocks("plugins/rust.md");
    let sdk = workspace().join("guests/sdk");
    let manifest = block(&page, "toml", 0).replace(
        "path = \"../tributary/guests/sdk\"",
        &format!("path = {:?}", sdk.to_str().expect("utf-8")),
    );
    assert!(manifest.contains(&*sdk.to_string_lossy()), "{manifest}");
    std::fs::write(project.join("Cargo.toml"), manifest).expect("Cargo.toml");
    std::fs::write(project.join("src/lib.rs"), block(&page, "rust", 0)).expect("lib.rs");
    // The versions the SDK is tested with, as plugin new's projects carry them.
    std::fs::copy(
        workspace().join("guests/Cargo.lock"),
        project.join("Cargo.lock"),
    )
    .expect("lock");
    let built = ok(tributary(&project, &["plugin", "build"]));
    assert!(built.contains("functions: clamp\n"), "{built}");
    let target = workspace().join("guests/target");
    let env = [("CARGO_TARGET_DIR", target.as_path())];
    runs_as_shown(&project, block(&page, "text", 0), 2, &env);
    refuses_bad_clamp_calls(&project, &env);
}
