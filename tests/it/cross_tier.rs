//! The cases every plugin tier must pass alike: the same rule over the same input gives
//! the same output, and the same state behaviour, whether its functions are wasm
//! components (Rust or Python guests) or native libraries (Rust or C), built against
//! the current contract or against an older one (the checked-in fixtures of
//! `tests/fixtures/`, built against WIT 0.1.0 and native ABI 1 and never rebuilt).

use std::path::PathBuf;
use std::sync::Arc;
use tributary_core::function::{
    CallSite, Column, FnContext, FunctionFactory, FunctionImpl, FunctionKind, RowError,
};
use tributary_core::{SystemClock, Value};
use tributary_engine::EngineContext;
use tributary_plugin::PluginKind;
use tributary_tests::{native_roots, trial_text, wasm_root};

/// The root of the plugins built against an older contract (`tests/fixtures`, copied
/// into `target/example-roots` by the build scripts): `wit-0.1` or `native-abi-1`.
fn fixtures(which: &str) -> PathBuf {
    match which {
        "wit-0.1" => wasm_root().with_file_name("wasm-0.1"),
        _ => native_roots().join(which),
    }
}

fn spec(sql: &str, colors: &[&str]) -> String {
    let data: Vec<serde_json::Value> = colors
        .iter()
        .enumerate()
        .map(|(i, c)| serde_json::json!({"color": c, "size": i + 1}))
        .collect();
    let ts: Vec<i64> = (0..colors.len() as i64).map(|i| 1000 + i * 1000).collect();
    serde_json::json!({
        "id": "x",
        "sql": sql,
        "streams": ["CREATE STREAM demo (color STRING, size BIGINT) WITH (TYPE=\"mock\")"],
        "mockSource": {"demo": {"data": data, "timestamps": ts}}
    })
    .to_string()
}

/// Every root holding the example functions, with a label for messages.
fn all_tiers() -> Vec<(&'static str, PathBuf)> {
    let wasm = wasm_root().to_path_buf();
    let native = native_roots();
    vec![
        ("wasm (Rust)", wasm.clone()),
        ("native (Rust)", native.join("native")),
        ("wasm (Rust, WIT 0.1.0)", fixtures("wit-0.1")),
        ("wasm (Python)", python_root()),
        ("wasm (JavaScript)", js_root()),
    ]
}

/// The Python guests, written on the Python SDK (`guests/python`).
fn python_root() -> PathBuf {
    wasm_root().with_file_name("wasm-python")
}

/// The JavaScript guests, written on the JavaScript SDK (`guests/js`).
fn js_root() -> PathBuf {
    wasm_root().with_file_name("wasm-js")
}

/// Roots holding `accumulateWordCount`, in every language it is written in.
fn word_count_tiers() -> Vec<(&'static str, PathBuf)> {
    let mut t = all_tiers();
    t.push(("native (C)", native_roots().join("native-c")));
    t.push(("native (C and Rust, ABI 1)", fixtures("native-abi-1")));
    t
}

fn run_everywhere(tiers: &[(&str, PathBuf)], spec: &str) -> String {
    let mut outputs = Vec::new();
    for (label, root) in tiers {
        let (ok, out, err) = trial_text(spec, Some(root));
        assert!(ok, "{label}: {err}");
        assert!(!err.contains("panicked"), "{label}: {err}");
        outputs.push(out);
    }
    for (i, (label, _)) in tiers.iter().enumerate().skip(1) {
        assert_eq!(
            outputs[i], outputs[0],
            "{label} differs from {}",
            tiers[0].0
        );
    }
    outputs.swap_remove(0)
}

#[test]
fn example_functions_give_the_same_rows_in_every_tier() {
    let mut tiers = all_tiers();
    tiers.push(("native (ABI 1)", fixtures("native-abi-1")));
    let out = run_everywhere(
        &tiers,
        &spec(
            r#"SELECT echo(color) AS e, echo(size) AS s, countPlusOne(color, size) AS c, countPlusOne() AS c0 FROM demo"#,
            &["red hot", "blue"],
        ),
    );
    assert_eq!(
        out.lines().collect::<Vec<_>>(),
        [
            r#"[{"c":3,"c0":1,"e":"red hot","s":1}]"#,
            r#"[{"c":3,"c0":1,"e":"blue","s":2}]"#,
        ]
    );
}

#[test]
fn state_is_kept_per_call_site_in_every_tier_and_language() {
    let out = run_everywhere(
        &word_count_tiers(),
        &spec(
            r#"SELECT accumulateWordCount(color, " ") AS a, accumulateWordCount("x y", " ") AS b FROM demo"#,
            &["red hot", "blue", "a b c", ""],
        ),
    );
    assert_eq!(
        out.lines().collect::<Vec<_>>(),
        [
            r#"[{"a":2,"b":2}]"#,
            r#"[{"a":3,"b":4}]"#,
            r#"[{"a":6,"b":6}]"#,
            r#"[{"a":6,"b":8}]"#,
        ]
    );
}

#[test]
fn a_separator_splits_words_alike_in_every_tier() {
    let out = run_everywhere(
        &word_count_tiers(),
        &spec(
            r#"SELECT accumulateWordCount(color, ",") AS a FROM demo"#,
            &["a,b,,c", ",x,"],
        ),
    );
    assert_eq!(
        out.lines().collect::<Vec<_>>(),
        [r#"[{"a":3}]"#, r#"[{"a":4}]"#]
    );
}

#[test]
fn validation_errors_read_the_same_in_every_tier() {
    for (sql, want) in [
        (
            "SELECT echo(color, size) FROM demo",
            // Plugins built before the SDK said "1 argument" keep their own wording.
            "echo expects 1 argument",
        ),
        (
            "SELECT accumulateWordCount(color, 5) FROM demo",
            "parameter 2 must be a string",
        ),
    ] {
        for (label, root) in word_count_tiers() {
            if sql.contains("echo") && label.contains("(C)") {
                continue; // that root holds accumulateWordCount only
            }
            let (ok, out, err) = trial_text(&spec(sql, &["a"]), Some(&root));
            assert!(!ok && out.is_empty(), "{label}: {sql}");
            assert!(err.contains(want), "{label}: {err}");
        }
    }
}

/// The `spread` aggregate from each tier's example root, as a function instance,
/// loaded by the plugin host as `serve` and `trial` load it.
fn spread_instances() -> Vec<(&'static str, Box<dyn FunctionImpl>)> {
    let roots = [
        ("wasm", wasm_root().to_path_buf()),
        ("native", native_roots().join("native")),
        ("wasm", fixtures("wit-0.1")),
        // The Python SDK's spread.
        ("wasm", python_root()),
        // The JavaScript SDK's spread.
        ("wasm", js_root()),
    ];
    instances("spread", &roots)
}

/// Function `name` from each root (labelled by its tier), as a call site's instance,
/// loaded by the plugin host as `serve` and `trial` load it.
fn instances<'a>(
    name: &str,
    roots: &[(&'a str, PathBuf)],
) -> Vec<(&'a str, Box<dyn FunctionImpl>)> {
    let mut found: Vec<(&'a str, Arc<dyn FunctionFactory>)> = Vec::new();
    for (label, root) in roots {
        let ctx = EngineContext::new(root.clone(), Arc::new(SystemClock));
        let loaded = tributary::plugins::load(root, &ctx, Default::default()).expect("plugins");
        let tier = &loaded
            .host
            .describe(PluginKind::Function, name)
            .expect(name)["tier"];
        assert_eq!(tier, label, "{}", root.display());
        let f = ctx
            .registry
            .read()
            .expect("registry")
            .get(name)
            .expect(name);
        if name == "spread" {
            assert_eq!(f.kind(), FunctionKind::Aggregate, "{label}");
        }
        found.push((*label, f));
    }
    found
        .into_iter()
        .map(|(label, f)| {
            let site = CallSite {
                rule_id: "agg".into(),
                site: 0,
            };
            (label, f.instantiate(&site).expect("instance"))
        })
        .collect()
}

#[test]
fn an_aggregate_gets_each_group_as_columns_in_every_tier() {
    let groups = vec![
        vec![Column::Values(vec![
            Value::Int(3),
            Value::Int(10),
            Value::Null,
            Value::Int(4),
        ])],
        vec![Column::Values(vec![Value::Float(1.5), Value::Int(2)])],
        vec![Column::Values(vec![])],
        vec![Column::Values(vec![Value::str("x")])],
    ];
    for (label, mut imp) in spread_instances() {
        let mut out = Vec::new();
        imp.exec_groups(&FnContext::default(), &groups, &mut out);
        assert_eq!(
            out,
            vec![
                Ok(Value::Int(7)),
                Ok(Value::Float(0.5)),
                Ok(Value::Null),
                Err(RowError::Failed("spread needs numbers".to_string())),
            ],
            "{label}"
        );
    }
    // Without GROUP BY or a window the planner refuses an aggregate, by name.
    for (label, root) in all_tiers() {
        let (ok, _, err) = trial_text(&spec("SELECT spread(size) FROM demo", &["a"]), Some(&root));
        assert!(
            !ok && err.contains("aggregate function spread needs GROUP BY or a window"),
            "{label}: {err}"
        );
    }
}

/// A plugin that fails every call is backed off alike in every tier: its instance is
/// re-created after the first fault, then the calls in between attempts are refused,
/// twice as many each time (the plugin host's one supervision policy).
#[test]
fn a_faulting_plugin_is_backed_off_alike_in_every_tier() {
    let spec_of = |call: &str| {
        let data: Vec<serde_json::Value> = (0..8)
            .map(|_| serde_json::json!({"color": "c", "size": 3}))
            .collect();
        let ts: Vec<i64> = (0..8).map(|i| 1000 + i * 1000).collect();
        serde_json::json!({
            "id": "x",
            "sql": format!("SELECT {call} AS r FROM demo"),
            "streams": ["CREATE STREAM demo (color STRING, size BIGINT) WITH (TYPE=\"mock\")"],
            "mockSource": {"demo": {"data": data, "timestamps": ts}}
        })
        .to_string()
    };
    for (label, root, call, fault) in [
        (
            "wasm",
            wasm_root().to_path_buf(),
            "panicIf(size)",
            "wasm trap",
        ),
        (
            "native",
            native_roots().join("native"),
            "panicNow(color)",
            "panicNow was called",
        ),
    ] {
        let (ok, out, err) = trial_text(&spec_of(call), Some(&root));
        assert!(ok, "{label}: {err}");
        let seen: Vec<char> = out
            .lines()
            .map(|l| {
                if l.contains("restarting after") {
                    'R'
                } else if l.contains(fault) {
                    'F'
                } else {
                    '?'
                }
            })
            .collect();
        assert_eq!(
            seen,
            ['F', 'F', 'R', 'R', 'F', 'R', 'R', 'R'],
            "{label}: {out}"
        );
    }
}

/// Typed columns: a batch whose column of integers has a null, a column of floats, a
/// mixed column, and a column of strings with a null, through the tiers' functions
/// (typed from contract 0.2 and native ABI 2 on, values before): the same results.
#[test]
fn typed_columns_with_nulls_give_the_same_results_in_every_tier() {
    let batch = |vs: Vec<Value>| vec![Column::Values(vs)];
    let ints = batch(vec![Value::Int(1), Value::Null, Value::Int(3)]);
    let floats = batch(vec![Value::Float(0.5), Value::Float(1.5), Value::Null]);
    let mixed = batch(vec![Value::Int(1), Value::Float(2.5), Value::Null]);
    let roots = [
        ("wasm", wasm_root().to_path_buf()),
        ("native", native_roots().join("native")),
        ("wasm", fixtures("wit-0.1")),
    ];
    for (label, mut imp) in instances("addOne", &roots) {
        for (args, want) in [
            (&ints, vec![Value::Int(2), Value::Null, Value::Int(4)]),
            (
                &floats,
                vec![Value::Float(1.5), Value::Float(2.5), Value::Null],
            ),
            (&mixed, vec![Value::Int(2), Value::Float(3.5), Value::Null]),
        ] {
            let mut out = Vec::new();
            imp.exec_batch(&FnContext::default(), args, 3, &mut out);
            assert_eq!(out, want.into_iter().map(Ok).collect::<Vec<_>>(), "{label}");
        }
    }
    let texts = vec![
        Column::Values(vec![Value::str("a b"), Value::Null, Value::str("c")]),
        Column::Scalar(Value::str(" ")),
    ];
    let word_roots: Vec<(&str, PathBuf)> = word_count_tiers()
        .into_iter()
        .map(|(l, r)| (l.split(' ').next().unwrap_or(l), r))
        .collect();
    for (label, mut imp) in instances("accumulateWordCount", &word_roots) {
        let mut out = Vec::new();
        imp.exec_batch(&FnContext::default(), &texts, 3, &mut out);
        assert_eq!(
            out,
            vec![Ok(Value::Int(2)), Ok(Value::Null), Ok(Value::Int(3))],
            "{label}"
        );
    }
}
