//! Every `tests/trial/<case>.json` spec is run through `tributary trial`, and its
//! output must equal `<case>.expected` line for line. Most cases are eKuiper's own rule
//! tests (internal/topo/topotest) with their expected sink output.

use std::path::PathBuf;
use tributary_tests::{trial, workspace};

fn cases() -> Vec<PathBuf> {
    let dir = workspace().join("tests").join("trial");
    let mut v: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("tests/trial")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    v.sort();
    v
}

#[test]
fn trial_specs_match_expected_output() {
    let cases = cases();
    assert!(
        cases.len() >= 20,
        "expected the trial corpus, found {}",
        cases.len()
    );
    let mut failures = Vec::new();
    for spec in &cases {
        let expected_path = spec.with_extension("expected");
        let expected = std::fs::read_to_string(&expected_path)
            .unwrap_or_else(|_| panic!("{} has no .expected file", spec.display()));
        let (ok, stdout, stderr) = trial(spec);
        if !ok || stdout.trim_end() != expected.trim_end() {
            failures.push(format!(
                "== {}\n-- expected:\n{}\n-- got (exit ok: {ok}):\n{}\n-- stderr:\n{}",
                spec.file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default(),
                expected.trim_end(),
                stdout.trim_end(),
                stderr.trim_end()
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} trial specs differ:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

/// Tumbling windows whose aggregates fold a value at a time are aggregated
/// incrementally; the general window path (turned on for every rule by
/// `TRIBUTARY_NO_INCREMENTAL=1`) must emit exactly the same for every spec.
#[test]
fn incremental_and_general_window_paths_agree() {
    let mut failures = Vec::new();
    for spec in cases() {
        let expected = std::fs::read_to_string(spec.with_extension("expected")).expect("expected");
        let out = std::process::Command::new(tributary_tests::binary())
            .args(["trial", spec.to_str().expect("utf-8")])
            .env("RUST_LOG", "warn")
            .env("TRIBUTARY_NO_INCREMENTAL", "1")
            .output()
            .expect("run tributary");
        let stdout = String::from_utf8_lossy(&out.stdout);
        if stdout.trim_end() != expected.trim_end() {
            failures.push(format!("{}:\n{stdout}", spec.display()));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
