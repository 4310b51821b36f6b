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
/// incrementally; the general window path (turned on for every rule by the engine
/// context's `incremental: false`) must emit exactly the same for every spec.
#[test]
fn incremental_and_general_window_paths_agree() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let mut failures = Vec::new();
    for spec in cases() {
        let expected = std::fs::read_to_string(spec.with_extension("expected")).expect("expected");
        let text = std::fs::read_to_string(&spec).expect("spec");
        let parsed = tributary_engine::TrialSpec::parse(&text).expect("spec parses");
        let mut lines = Vec::new();
        let result = rt.block_on(tributary_engine::run_trial(
            &parsed,
            None,
            |ctx| {
                ctx.incremental = false;
                Ok(())
            },
            |line| lines.push(line),
        ));
        let stdout = match result {
            Ok(()) => lines.join("\n"),
            Err(e) => format!("error: {e}"),
        };
        if stdout.trim_end() != expected.trim_end() {
            failures.push(format!("{}:\n{stdout}", spec.display()));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
