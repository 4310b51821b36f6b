//! From an empty folder outside the repository: `tributary plugin new --lang js` →
//! `build` (npm ci, then componentize-js) → `test` → `pack` → `install` into a running
//! `serve` → rules use the plugins, for a JavaScript function, source and sink; and a
//! project that does not build is refused with componentize-js's reason.

use std::path::Path;
use std::process::Output;
use tributary_tests::api_server::Server;
use tributary_tests::cli::{self, ok, refused};

fn tributary(dir: &Path, args: &[&str]) -> Output {
    cli::in_dir(dir, args, &[])
}

/// `plugin new NAME --lang js --kind KIND` in `dir`, then `plugin build`.
fn new_and_build(dir: &Path, name: &str, kind: &str, edit: impl FnOnce(&Path)) -> String {
    let made = ok(tributary(
        dir,
        &["plugin", "new", name, "--lang", "js", "--kind", kind],
    ));
    assert!(
        made.starts_with(&format!("made {name}: a JavaScript {kind} plugin {name}\n")),
        "{made}"
    );
    let project = dir.join(name);
    for file in [
        "app.js",
        "package.json",
        "package-lock.json",
        "tributary_plugin/index.js",
    ] {
        assert!(project.join(file).is_file(), "{file} is missing");
    }
    edit(&project);
    ok(tributary(&project, &["plugin", "build"]))
}

#[test]
fn a_new_js_project_builds_tests_packs_installs_and_runs() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();

    let built = new_and_build(d, "jsUpper", "function", |_| {});
    assert!(
        built.starts_with("built build/jsUpper.wasm (")
            && built.contains("): wasm function plugin jsUpper\nfunctions: jsUpper\n"),
        "{built}"
    );
    let project = d.join("jsUpper");
    assert_eq!(
        ok(tributary(
            &project,
            &["plugin", "test", "build/jsUpper.wasm"]
        )),
        "ok tests/jsUpper.json: 2 emissions as expected\n1 passed, 0 failed\n"
    );
    let call = |args: &[&str]| {
        let mut all = vec!["plugin", "call", "build/jsUpper.wasm", "jsUpper"];
        all.extend_from_slice(args);
        tributary(&project, &all)
    };
    assert_eq!(ok(call(&["\"abc\""])), "\"ABC\"\n");
    assert_eq!(ok(call(&["null"])), "null\n");
    // The template's validate and the SDK's arity check, at the call's creation.
    let err = refused(call(&["5"]));
    assert!(err.contains("jsUpper: its argument must be text"), "{err}");
    let err = refused(call(&["\"a\"", "\"b\""]));
    assert!(
        err.contains("jsUpper expects 1 argument but found 2"),
        "{err}"
    );
    ok(tributary(
        &project,
        &["plugin", "pack", "build/jsUpper.wasm"],
    ));

    // A source and a sink; the source's conf (packed with it) made quick.
    new_and_build(d, "jsSrc", "source", |p| {
        std::fs::write(
            p.join("jsSrc.yaml"),
            "default:\n  interval: 5\n  count: 5\n",
        )
        .expect("conf");
    });
    let src = d.join("jsSrc");
    let packed = ok(tributary(&src, &["plugin", "pack", "build/jsSrc.wasm"]));
    assert!(
        packed.contains("files: manifest.json, jsSrc.wasm, jsSrc.yaml\n"),
        "{packed}"
    );
    new_and_build(d, "jsSink", "sink", |_| {});
    let sink = d.join("jsSink");
    ok(tributary(&sink, &["plugin", "pack", "build/jsSink.wasm"]));

    // Installed into a running server from their projects, used by rules.
    let root = d.join("root");
    std::fs::create_dir_all(&root).expect("root");
    let s = Server::start(&root, None);
    crate::plugin_new::install_and_run(
        &s,
        d,
        [(&project, "jsUpper"), (&src, "jsSrc"), (&sink, "jsSink")],
        &[],
    );
    s.stop();
}

#[test]
fn a_js_project_that_does_not_build_is_refused_with_its_reason() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    ok(tributary(
        d,
        &["plugin", "new", "broken", "--lang", "js", "--kind", "sink"],
    ));
    let project = d.join("broken");
    std::fs::write(project.join("app.js"), "export const sink = (;\n").expect("app");
    // Node's report of the syntax error and its place, then the refusal.
    let err = refused(tributary(&project, &["plugin", "build"]));
    assert!(
        err.contains("SyntaxError") && err.contains("app.js:1"),
        "{err}"
    );
    assert!(err.contains("componentize-js failed"), "{err}");

    // Exports of the wrong world: a function module in a sink project.
    std::fs::write(
        project.join("app.js"),
        "import * as tp from './tributary_plugin/index.js';\n\nclass F extends tp.Function {\n  exec(x) {\n    return x;\n  }\n}\n\nconst plugin = tp.exportFunctions(F);\nexport { plugin as function };\n",
    )
    .expect("app");
    let err = refused(tributary(&project, &["plugin", "build"]));
    assert!(err.contains("componentize-js failed"), "{err}");

    std::fs::write(
        project.join("package.json"),
        r#"{"tributary": {"name": "broken", "kind": "lookup"}}"#,
    )
    .expect("package.json");
    let err = refused(tributary(&project, &["plugin", "build"]));
    assert!(
        err.contains("kind = \"lookup\" is not one of function, source, sink"),
        "{err}"
    );
}

/// The function example of docs/plugins/javascript.md, built in a new project, answers
/// the calls the page shows, and refuses the calls it says are refused.
#[test]
fn the_js_guide_function_example_builds_and_answers_as_shown() {
    use crate::docs_examples::{block, blocks};
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    ok(tributary(
        d,
        &[
            "plugin", "new", "clamp", "--lang", "js", "--kind", "function",
        ],
    ));
    let project = d.join("clamp");
    let page = blocks("plugins/javascript.md");
    std::fs::write(project.join("app.js"), block(&page, "js", 0)).expect("app");
    let built = ok(tributary(&project, &["plugin", "build"]));
    assert!(built.contains("functions: clamp, mostCommon\n"), "{built}");

    crate::plugin_new::runs_as_shown(&project, block(&page, "text", 0), 3, &[]);
    crate::plugin_new::refuses_bad_clamp_calls(&project, &[]);
}
