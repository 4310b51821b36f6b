//! From an empty folder outside the repository: `tributary plugin new --lang python`
//! → `build` (componentize-py) → `test` → `pack` → `install` into a running `serve`
//! → rules use the plugins, for a Python function, source and sink; and a project
//! that does not build is refused with componentize-py's reason.

use std::path::Path;
use std::process::Output;
use tributary_tests::api_server::Server;
use tributary_tests::cli::{self, ok, refused};

fn tributary(dir: &Path, args: &[&str]) -> Output {
    cli::in_dir(dir, args, &[])
}

/// `plugin new NAME --lang python --kind KIND` in `dir`, then `plugin build`.
fn new_and_build(dir: &Path, name: &str, kind: &str, edit: impl FnOnce(&Path)) -> String {
    let made = ok(tributary(
        dir,
        &["plugin", "new", name, "--lang", "python", "--kind", kind],
    ));
    assert!(
        made.starts_with(&format!("made {name}: a Python {kind} plugin {name}\n")),
        "{made}"
    );
    let project = dir.join(name);
    for file in [
        "app.py",
        "pyproject.toml",
        "README.md",
        "tributary_plugin/__init__.py",
    ] {
        assert!(project.join(file).is_file(), "{file} is missing");
    }
    edit(&project);
    ok(tributary(&project, &["plugin", "build"]))
}

#[test]
fn a_new_python_project_builds_tests_packs_installs_and_runs() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();

    let built = new_and_build(d, "pyUpper", "function", |_| {});
    assert!(
        built.starts_with("built build/pyUpper.wasm (")
            && built.contains("): wasm function plugin pyUpper\nfunctions: pyUpper\n"),
        "{built}"
    );
    let project = d.join("pyUpper");
    assert_eq!(
        ok(tributary(
            &project,
            &["plugin", "test", "build/pyUpper.wasm"]
        )),
        "ok tests/pyUpper.json: 2 emissions as expected\n1 passed, 0 failed\n"
    );
    let call = |args: &[&str]| {
        let mut all = vec!["plugin", "call", "build/pyUpper.wasm", "pyUpper"];
        all.extend_from_slice(args);
        tributary(&project, &all)
    };
    assert_eq!(ok(call(&["\"abc\""])), "\"ABC\"\n");
    assert_eq!(ok(call(&["null"])), "null\n");
    // The template's validate and the SDK's arity check, at the call's creation.
    let err = refused(call(&["5"]));
    assert!(err.contains("pyUpper: its argument must be text"), "{err}");
    let err = refused(call(&["\"a\"", "\"b\""]));
    assert!(
        err.contains("pyUpper expects 1 argument but found 2"),
        "{err}"
    );
    ok(tributary(
        &project,
        &["plugin", "pack", "build/pyUpper.wasm"],
    ));

    // A source and a sink; the source's conf (packed with it) made quick.
    new_and_build(d, "pySrc", "source", |p| {
        std::fs::write(
            p.join("pySrc.yaml"),
            "default:\n  interval: 5\n  count: 5\n",
        )
        .expect("conf");
    });
    let src = d.join("pySrc");
    let packed = ok(tributary(&src, &["plugin", "pack", "build/pySrc.wasm"]));
    assert!(
        packed.contains("files: manifest.json, pySrc.wasm, pySrc.yaml\n"),
        "{packed}"
    );
    new_and_build(d, "pySink", "sink", |_| {});
    let sink = d.join("pySink");
    ok(tributary(&sink, &["plugin", "pack", "build/pySink.wasm"]));

    // Installed into a running server from their projects, used by rules.
    let root = d.join("root");
    std::fs::create_dir_all(&root).expect("root");
    let s = Server::start(&root, None);
    crate::plugin_new::install_and_run(
        &s,
        d,
        [(&project, "pyUpper"), (&src, "pySrc"), (&sink, "pySink")],
        &[],
    );
    s.stop();
}

#[test]
fn a_python_project_that_does_not_build_is_refused_with_its_reason() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    ok(tributary(
        d,
        &[
            "plugin", "new", "broken", "--lang", "python", "--kind", "sink",
        ],
    ));
    let project = d.join("broken");
    std::fs::write(project.join("app.py"), "def oops(:\n").expect("app");
    // componentize-py's own report, then the refusal.
    let err = refused(tributary(&project, &["plugin", "build"]));
    assert!(err.contains("SyntaxError"), "{err}");
    assert!(err.contains("componentize-py failed"), "{err}");

    // Exports of the wrong world: a function module in a sink project.
    std::fs::write(
        project.join("app.py"),
        "import tributary_plugin as tp\n\n\nclass F(tp.Function):\n    def exec(self, x):\n        return x\n\n\nFunction = tp.export_functions(F)\n",
    )
    .expect("app");
    let err = refused(tributary(&project, &["plugin", "build"]));
    assert!(err.contains("componentize-py failed"), "{err}");

    std::fs::write(
        project.join("pyproject.toml"),
        "[tool.tributary]\nname = \"broken\"\nkind = \"lookup\"\n",
    )
    .expect("pyproject");
    let err = refused(tributary(&project, &["plugin", "build"]));
    assert!(
        err.contains("kind = \"lookup\" is not one of function, source, sink"),
        "{err}"
    );
}

/// The function example of docs/plugins/python.md, built in a new project, answers
/// the calls the page shows, and refuses the calls it says are refused.
#[test]
fn the_python_guide_function_example_builds_and_answers_as_shown() {
    use crate::docs_examples::{block, blocks};
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    ok(tributary(
        d,
        &[
            "plugin", "new", "clamp", "--lang", "python", "--kind", "function",
        ],
    ));
    let project = d.join("clamp");
    let page = blocks("plugins/python.md");
    std::fs::write(project.join("app.py"), block(&page, "python", 0)).expect("app");
    let built = ok(tributary(&project, &["plugin", "build"]));
    assert!(built.contains("functions: clamp, mostCommon\n"), "{built}");

    crate::plugin_new::runs_as_shown(&project, block(&page, "text", 0), 3, &[]);
    crate::plugin_new::refuses_bad_clamp_calls(&project, &[]);
}
