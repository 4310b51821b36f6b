//! Installing, updating and uninstalling a wasm plugin while an instance is running:
//! the update takes effect at the next batch and the instance's state carries over.

use std::sync::Arc;
use tributary_core::function::{CallSite, Column, FnContext};
use tributary_core::{Error, SystemClock, Value};
use tributary_engine::EngineContext;
use tributary_plugin::{HostConfig, PluginHost, PluginKind};
use tributary_tests::wasm_root;

fn words(imp: &mut Box<dyn tributary_core::function::FunctionImpl>, text: &str) -> Value {
    let mut out = Vec::new();
    let args = [
        Column::Scalar(Value::str(text)),
        Column::Scalar(Value::str(" ")),
    ];
    imp.exec_batch(&FnContext::default(), &args, 1, &mut out);
    out.pop().expect("one result").expect("ok")
}

fn version(host: &PluginHost) -> Option<String> {
    host.describe(PluginKind::Function, "accumulateWordCount")
        .ok()
        .and_then(|d| d["version"].as_str().map(str::to_string))
}

#[test]
fn update_switches_running_instances_and_keeps_state() {
    let root = wasm_root();
    let python = root.parent().expect("roots").join("wasm-python");
    let ctx = EngineContext::new(root.to_path_buf(), Arc::new(SystemClock));
    let host = PluginHost::new(HostConfig {
        root: root.to_path_buf(),
        tiers: tributary::plugins::tiers(root).expect("tiers"),
        state: ctx.state.clone(),
        registrar: Arc::new(ctx.clone()),
        allow_scripts: false,
        failpoint: Default::default(),
    });
    let kind = PluginKind::Function;

    // Install v1 (the Rust component) and start an instance.
    host.load_file(
        kind,
        "accumulateWordCount",
        "1.0.0",
        &root.join("plugins/functions/accumulateWordCount.wasm"),
    )
    .expect("install");
    assert_eq!(host.functions().len(), 1);
    let factory = ctx
        .registry
        .read()
        .expect("registry")
        .get("accumulateWordCount")
        .expect("registered");
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
        host.unload(kind, "accumulateWordCount", false),
        Err(Error::Conflict(_))
    ));

    // A bad update changes nothing.
    let bad = host.load_file(
        kind,
        "accumulateWordCount",
        "9.0.0",
        &root.join("plugins/functions/echo.wasm"),
    );
    assert!(bad
        .err()
        .is_some_and(|e| e.to_string().contains("must export the same functions")));
    assert_eq!(version(&host).as_deref(), Some("1.0.0"));

    // Update to v2 (the Python component): the running instance switches at its next
    // batch, and its counter carries on from 4.
    host.load_file(
        kind,
        "accumulateWordCount",
        "2.0.0",
        &python.join("plugins/functions/accumulateWordCount.wasm"),
    )
    .expect("update");
    assert_eq!(host.functions().len(), 1, "an update registers nothing new");
    assert_eq!(words(&mut imp, "e f g"), Value::Int(7));
    assert_eq!(version(&host).as_deref(), Some("2.0.0"));

    // Once no instance is alive, uninstall succeeds and its functions are gone.
    drop(imp);
    assert_eq!(
        host.describe(kind, "accumulateWordCount")
            .expect("describe")["instances"],
        0
    );
    host.unload(kind, "accumulateWordCount", false)
        .expect("uninstall");
    assert!(ctx
        .registry
        .read()
        .expect("registry")
        .get("accumulateWordCount")
        .is_none());
    assert!(host.describe(kind, "accumulateWordCount").is_err());
}
