//! `tributary plugin call` and `tributary plugin test`: a built plugin file called
//! once, and trial specs run against it, both offline (no server, no root).

use std::path::{Path, PathBuf};
use std::process::Output;
use tributary_tests::cli::{self, ok};
use tributary_tests::{native_root, wasm_root};

fn tributary(dir: &Path, args: &[&str]) -> Output {
    cli::in_dir(dir, args, &[])
}

fn refused(out: Output) -> (String, String) {
    cli::refused_with_output(out)
}

fn function(name: &str) -> String {
    wasm_root()
        .join(format!("plugins/functions/{name}.wasm"))
        .display()
        .to_string()
}

fn call(args: &[&str]) -> Output {
    let mut all = vec!["plugin", "call"];
    all.extend_from_slice(args);
    tributary(Path::new("."), &all)
}

#[test]
fn call_answers_as_a_rule_would() {
    assert_eq!(
        ok(call(&[&function("echo"), "echo", r#""hi""#])),
        "\"hi\"\n"
    );
    assert_eq!(
        ok(call(&[&function("echo"), "echo", r#"{"a":[1,2.5,null]}"#])),
        "{\"a\":[1,2.5,null]}\n"
    );
    // Negative numbers are arguments, not options.
    assert_eq!(
        ok(call(&[
            &function("countPlusOne"),
            "countPlusOne",
            "-1",
            "-2.5"
        ])),
        "3\n"
    );
    assert_eq!(ok(call(&[&function("gcd"), "GCD", "12", "18"])), "6\n");
    // An aggregate takes each argument as the group's values.
    assert_eq!(
        ok(call(&[&function("spread"), "spread", "[3, 1, 7]"])),
        "6\n"
    );
    // One instance for every call: the state of one call site carries over.
    assert_eq!(
        ok(call(&[
            &function("accumulateWordCount"),
            "accumulateWordCount",
            r#""a b c""#,
            r#"" ""#,
            "--repeat",
            "3"
        ])),
        "3\n6\n9\n"
    );
    // The native tier too.
    let so = native_root().join("plugins/functions/countPlusOne.so");
    assert_eq!(
        ok(call(&[
            so.to_str().expect("path"),
            "countPlusOne",
            "1",
            "2"
        ])),
        "3\n"
    );
}

#[test]
fn call_refuses_with_the_reason() {
    let (_, err) = refused(call(&[&function("echo"), "echo", "hi"]));
    assert!(
        err.contains("argument 1 \"hi\" is not a JSON value") && err.contains("'\"text\"'"),
        "{err}"
    );
    let (_, err) = refused(call(&[&function("echo"), "nope"]));
    assert!(
        err.contains("exports no function \"nope\"; it exports: echo"),
        "{err}"
    );
    let (_, err) = refused(call(&[&function("echo"), "echo"]));
    assert!(err.contains("echo expects 1 argument but found 0"), "{err}");
    let (_, err) = refused(call(&[&function("spread"), "spread", "3"]));
    assert!(
        err.contains("an aggregate's argument is a JSON array"),
        "{err}"
    );
    let sink = wasm_root().join("plugins/sinks/tally.wasm");
    let (_, err) = refused(call(&[sink.to_str().expect("path"), "x"]));
    assert!(
        err.contains("does not export the tributary:plugin/function interface"),
        "{err}"
    );
    // A guest's panic reaches the author with its text.
    let (_, err) = refused(call(&[&function("faulty"), "panicIf", "3"]));
    assert!(
        err.contains("panicIf: the call failed") && err.contains("panicIf saw 3"),
        "{err}"
    );
}

/// A project folder with `tests/<case>.json` (and `.expected` where given).
fn project(cases: &[(&str, &str, Option<&str>)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::create_dir_all(dir.path().join("tests")).expect("tests");
    for (name, sql, expected) in cases {
        let spec = serde_json::json!({
            "id": name,
            "sql": sql,
            "streams": ["CREATE STREAM demo (name STRING, a BIGINT) WITH (DATASOURCE=\"demo\", TYPE=\"mock\", FORMAT=\"json\")"],
            "mockSource": {"demo": {
                "data": [{"name": "x y", "a": 1}, {"name": "z", "a": 2}],
                "timestamps": [1000, 2000]
            }}
        });
        let path: PathBuf = dir.path().join("tests").join(format!("{name}.json"));
        std::fs::write(&path, spec.to_string()).expect("spec");
        if let Some(e) = expected {
            std::fs::write(path.with_extension("expected"), e).expect("expected");
        }
    }
    dir
}

#[test]
fn test_runs_the_specs_of_a_project() {
    let dir = project(&[
        (
            "echo",
            "SELECT echo(name) AS e FROM demo",
            Some("[{\"e\":\"x y\"}]\n[{\"e\":\"z\"}]\n"),
        ),
        ("seen", "SELECT echo(a) AS a FROM demo", None),
    ]);
    let text = ok(tributary(
        dir.path(),
        &["plugin", "test", &function("echo")],
    ));
    assert!(
        text.contains("ok tests/echo.json: 2 emissions as expected\n"),
        "{text}"
    );
    assert!(
        text.contains("[{\"a\":1}]\n[{\"a\":2}]\nran tests/seen.json: 2 emissions"),
        "{text}"
    );
    assert!(text.ends_with("2 passed, 0 failed\n"), "{text}");

    // A stateful function keeps its count along the rule, as on a server.
    let dir = project(&[(
        "words",
        "SELECT accumulateWordCount(name, \" \") AS n FROM demo",
        Some("[{\"n\":2}]\n[{\"n\":3}]\n"),
    )]);
    let file = function("accumulateWordCount");
    let text = ok(tributary(
        dir.path(),
        &["plugin", "test", &file, "tests/words.json"],
    ));
    assert!(text.contains("ok tests/words.json"), "{text}");
}

#[test]
fn test_fails_with_what_differs() {
    let dir = project(&[
        (
            "wrong",
            "SELECT echo(name) AS e FROM demo",
            Some("[{\"e\":\"x y\"}]\n[{\"e\":\"nope\"}]\n"),
        ),
        ("bad_sql", "SELECT echo(name AS e FROM demo", None),
    ]);
    let (out, err) = refused(tributary(
        dir.path(),
        &["plugin", "test", &function("echo")],
    ));
    assert!(
        out.contains("FAIL tests/wrong.json: the emissions differ from its .expected")
            && out.contains("-- got:\n[{\"e\":\"x y\"}]\n[{\"e\":\"z\"}]"),
        "{out}"
    );
    assert!(out.contains("FAIL tests/bad_sql.json: "), "{out}");
    assert!(out.ends_with("0 passed, 2 failed\n"), "{out}");
    assert!(err.contains("2 of 2 specs failed"), "{err}");

    let empty = tempfile::tempdir().expect("tempdir");
    let (_, err) = refused(tributary(
        empty.path(),
        &["plugin", "test", &function("echo")],
    ));
    assert!(err.contains("no SPEC given and no tests/ folder"), "{err}");
    let sink = wasm_root().join("plugins/sinks/tally.wasm");
    let (_, err) = refused(tributary(
        dir.path(),
        &["plugin", "test", sink.to_str().expect("path")],
    ));
    assert!(err.contains("it is a sink plugin"), "{err}");
}
