//! Installing, updating and uninstalling a wasm plugin while an instance is running:
//! the update takes effect at the next batch and the instance's state carries over.

use std::sync::Arc;
use tributary_core::function::{CallSite, Column, FnContext};
use tributary_core::state::MemoryStateStore;
use tributary_core::{Error, Value};
use tributary_tests::wasm_root;
use tributary_wasm::manager::WasmFunctionPlugins;
use tributary_wasm::{WasmConfig, WasmEngine};

fn words(imp: &mut Box<dyn tributary_core::function::FunctionImpl>, text: &str) -> Value {
    let mut out = Vec::new();
    let args = [
        Column::Scalar(Value::str(text)),
        Column::Scalar(Value::str(" ")),
    ];
    imp.exec_batch(&FnContext::default(), &args, 1, &mut out);
    out.pop().expect("one result").expect("ok")
}

#[test]
fn update_switches_running_instances_and_keeps_state() {
    let cache = tempfile::tempdir().expect("tempdir");
    let engine = WasmEngine::new(WasmConfig {
        cache_dir: Some(cache.path().to_path_buf()),
        ..WasmConfig::default()
    })
    .expect("engine");
    let root = wasm_root();
    let python = root.parent().expect("roots").join("wasm-python");
    let plugins = WasmFunctionPlugins::new(engine, Arc::new(MemoryStateStore::default()), root);

    // Install v1 (the Rust component) and start an instance.
    let installed = plugins
        .install(
            "accumulateWordCount",
            "1.0.0",
            &root.join("plugins/functions/accumulateWordCount.wasm"),
        )
        .expect("install");
    assert_eq!(installed.new_functions.len(), 1);
    let factory = installed.new_functions[0].clone();
    let mut imp = factory
        .instantiate(&CallSite {
            rule_id: "r".into(),
            site: 0,
        })
        .expect("instance");
    assert_eq!(words(&mut imp, "a b"), Value::Int(2));
    assert_eq!(words(&mut imp, "c d"), Value::Int(4));

    // In use: uninstall is refused.
    assert!(matches!(
        plugins.uninstall("accumulateWordCount", false),
        Err(Error::Conflict(_))
    ));

    // A bad update changes nothing.
    let bad = plugins.install(
        "accumulateWordCount",
        "9.0.0",
        &root.join("plugins/functions/echo.wasm"),
    );
    assert!(bad
        .err()
        .is_some_and(|e| e.to_string().contains("must export the same functions")));
    assert_eq!(
        plugins.describe("accumulateWordCount").map(|d| d.0),
        Some("1.0.0".to_string())
    );

    // Update to v2 (the Python component): the running instance switches at its next
    // batch, and its counter carries on from 4.
    let updated = plugins
        .install(
            "accumulateWordCount",
            "2.0.0",
            &python.join("plugins/functions/accumulateWordCount.wasm"),
        )
        .expect("update");
    assert_eq!(updated.replaced.as_deref(), Some("1.0.0"));
    assert!(updated.new_functions.is_empty());
    assert_eq!(words(&mut imp, "e f g"), Value::Int(7));
    assert_eq!(
        plugins.describe("accumulateWordCount").map(|d| d.0),
        Some("2.0.0".to_string())
    );

    // Once no instance is alive, uninstall succeeds and names the functions to drop.
    drop(imp);
    assert_eq!(plugins.users("accumulateWordCount"), 0);
    assert_eq!(
        plugins
            .uninstall("accumulateWordCount", false)
            .expect("uninstall"),
        vec!["accumulateWordCount".to_string()]
    );
    assert!(plugins.describe("accumulateWordCount").is_none());
    let _ = factory.name();
}
