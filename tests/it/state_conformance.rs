//! One suite of state cases, run against all three tiers with identical expectations:
//! `stateProbe` as a wasm component, as a native library, and as a remote REST service
//! that keeps its state through the host's state endpoint. Each case is one row; the
//! second call site of every rule reads the same counter and must never see the
//! first's. Then concurrent rules under `serve` (SQLite) must not see each other's
//! state, in every tier.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use tributary_tests::services::{copy_dir, external_root_for, Services};
use tributary_tests::{native_root, serve_until, trial_text, wasm_root, workspace};

/// The REST service and a root of service files pointing at it.
fn external() -> &'static (Services, tempfile::TempDir) {
    static S: OnceLock<(Services, tempfile::TempDir)> = OnceLock::new();
    S.get_or_init(|| {
        let svc = Services::start(&workspace().join("examples/external-root/etc/services/schemas"));
        let root = tempfile::tempdir().expect("tempdir");
        external_root_for(&svc, root.path());
        (svc, root)
    })
}

/// How a tier's SQL calls the probe with the given argument list.
type Call = fn(&str) -> String;

/// Each tier: a label, its root, and the probe call for `(op, key, arg)`.
fn tiers() -> Vec<(&'static str, PathBuf, Call)> {
    fn plugin(args: &str) -> String {
        format!("stateProbe({args})")
    }
    fn service(args: &str) -> String {
        format!("tsschemaless(\"post\", \"/stateProbe\", {args})")
    }
    vec![
        (
            "wasm",
            wasm_root().to_path_buf(),
            plugin as fn(&str) -> String,
        ),
        ("native", native_root(), plugin),
        ("external", external().1.path().to_path_buf(), service),
    ]
}

/// (op, key, arg, expected outcome): eKuiper's semantics, one operation per row.
fn cases() -> Vec<(
    &'static str,
    &'static str,
    serde_json::Value,
    serde_json::Value,
)> {
    use serde_json::json;
    vec![
        ("get", "missing", json!(0), json!("<none>")),
        ("counter", "missing", json!(0), json!(0)),
        ("incr", "c", json!(5), json!(5)),
        ("incr", "c", json!(-2), json!(3)),
        ("counter", "c", json!(0), json!(3)),
        ("get", "c", json!(0), json!(3)),
        ("put", "s", json!("text"), json!("ok")),
        ("get", "s", json!(0), json!("text")),
        ("incr", "s", json!(1), json!("error: not-an-integer")),
        ("put", "f", json!(2.5), json!("ok")),
        ("get", "f", json!(0), json!(2.5)),
        ("incr", "f", json!(1), json!("error: not-an-integer")),
        ("put", "o", json!({"k": [1, 2]}), json!("ok")),
        ("get", "o", json!(0), json!({"k": [1, 2]})),
        ("put", "b", json!(true), json!("ok")),
        ("get", "b", json!(0), json!(true)),
        ("put", "n", json!(null), json!("ok")),
        ("get", "n", json!(0), json!(null)),
        ("put", "s", json!(10), json!("ok")),
        ("incr", "s", json!(1), json!(11)),
        ("delete", "s", json!(0), json!("ok")),
        ("get", "s", json!(0), json!("<none>")),
        ("delete", "never-there", json!(0), json!("ok")),
    ]
}

#[test]
fn the_state_suite_passes_alike_in_every_tier() {
    let cases = cases();
    let data: Vec<serde_json::Value> = cases
        .iter()
        .map(|(op, key, arg, _)| serde_json::json!({"op": op, "key": key, "arg": arg}))
        .collect();
    let ts: Vec<i64> = (0..cases.len() as i64).map(|i| 1000 + i * 1000).collect();
    for (label, root, call) in tiers() {
        let sql = format!(
            "SELECT {} AS a, {} AS b FROM s",
            call("op, key, arg"),
            call("\"counter\", \"c\", 0")
        );
        let spec = serde_json::json!({
            "id": "conformance",
            "sql": sql,
            "streams": ["CREATE STREAM s () WITH (TYPE=\"mock\")"],
            "mockSource": {"s": {"data": data, "timestamps": ts}}
        });
        let (ok, out, err) = trial_text(&spec.to_string(), Some(&root));
        assert!(ok, "{label}: {err}");
        let got: Vec<serde_json::Value> = out
            .lines()
            .map(|l| serde_json::from_str(l).expect("json line"))
            .collect();
        assert_eq!(got.len(), cases.len(), "{label}: {out}{err}");
        for (row, (op, key, arg, want)) in got.iter().zip(&cases) {
            assert_eq!(row[0]["a"], *want, "{label}: {op}({key}, {arg}) gave {row}");
            assert_eq!(
                row[0]["b"],
                serde_json::json!(0),
                "{label}: the second call site saw the first's counter: {row}"
            );
        }
    }
}

/// A copy of `src` with a ruleset of two rules counting the same 30 rows, the store
/// SQLite (the default).
fn two_rule_root(src: &Path, dest: &Path, call: Call) -> [PathBuf; 2] {
    copy_dir(src, dest);
    std::fs::create_dir_all(dest.join("data")).expect("mkdir");
    let rows: Vec<serde_json::Value> = (0..30).map(|i| serde_json::json!({"i": i})).collect();
    std::fs::write(
        dest.join("data/in.json"),
        serde_json::Value::Array(rows).to_string(),
    )
    .expect("input");
    let outs = [dest.join("data/r1.jsonl"), dest.join("data/r2.jsonl")];
    let mut rules = serde_json::Map::new();
    for (i, out) in outs.iter().enumerate() {
        let id = format!("r{}", i + 1);
        let rule = serde_json::json!({
            "id": id,
            "sql": format!("SELECT {} AS n FROM s", call("\"incr\", \"n\", 1")),
            "actions": [{"file": {"path": out, "fileType": "lines", "sendSingle": true}}]
        });
        rules.insert(id, serde_json::Value::String(rule.to_string()));
    }
    let init = serde_json::json!({
        "streams": {"s": "CREATE STREAM s (i BIGINT) WITH (TYPE=\"file\", DATASOURCE=\"in.json\")"},
        "rules": rules
    });
    std::fs::write(dest.join("data/init.json"), init.to_string()).expect("init");
    outs
}

#[test]
fn concurrent_rules_never_see_each_others_state_in_any_tier() {
    for (label, root, call) in tiers() {
        let dir = tempfile::tempdir().expect("tempdir");
        let outs = two_rule_root(&root, dir.path(), call);
        let (_, log) = serve_until(dir.path(), |log| log.matches("rule finished").count() == 2);
        for out in &outs {
            // A service's calls of one batch run concurrently, so its totals may come
            // in any order; each rule must count its own 30 rows and no more.
            let mut totals: Vec<i64> = std::fs::read_to_string(out)
                .unwrap_or_default()
                .lines()
                .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
                .filter_map(|v| v["n"].as_i64())
                .collect();
            totals.sort_unstable();
            assert_eq!(
                totals,
                (1..=30).collect::<Vec<i64>>(),
                "{label}: {} counts only its own rows\n{log}",
                out.display()
            );
        }
    }
}
