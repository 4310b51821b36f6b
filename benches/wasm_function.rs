//! Issue 3's wasm bench: the per-row cost of `x + 1` as a wasm function (the `addOne`
//! example component) in batches of 1024, through Tributary's tier against the same
//! component called with raw wasmtime bindings and against the built-in `x + 1`; and a
//! rule using the wasm function, end to end on one worker thread.
//!
//! Needs the example root: `bash scripts/build-guests.sh` (scripts/test.sh runs it).

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use std::path::PathBuf;
use std::sync::Arc;
use tributary_benches::bench_add_one_rule;
use tributary_core::function::{CallSite, Column, FnContext, FunctionFactory};
use tributary_core::state::MemoryStateStore;
use tributary_core::{Meta, Row, Value};
use tributary_engine::eval::{Evaluator, RowErrors};
use tributary_functions::Registry;
use tributary_plugin::function::PluginFunction;
use tributary_plugin::{FunctionArtifact, LoadRequest, PluginKind};
use tributary_wasm::function::WasmFunctions;
use tributary_wasm::{wasmtime, Capabilities, WasmConfig, WasmEngine};

const BATCH: usize = 1024;
const RULE_ROWS: usize = 200_000;

fn example_root() -> PathBuf {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/example-roots/wasm");
    assert!(
        root.join("plugins/functions/addOne.wasm").exists(),
        "run `bash scripts/build-guests.sh` first"
    );
    root.canonicalize().expect("root")
}

fn load_add_one(engine: &Arc<WasmEngine>) -> Arc<WasmFunctions> {
    load_example(engine, "addOne")
}

/// The root of the plugins built against contract 0.1, kept in the repository.
fn fixture_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/fixtures/wit-0.1")
        .canonicalize()
        .expect("fixtures")
}

type RawAddOne = wasmtime::component::TypedFunc<(&'static [i64],), (Vec<i64>,)>;

/// The scratch component of the raw baseline, instantiated in a store of the tier's
/// engine (its WASI imports come from the tier's linker).
fn raw_add_one(
    engine: &Arc<WasmEngine>,
) -> (wasmtime::Store<tributary_wasm::host::HostState>, RawAddOne) {
    let path = example_root().join("bench/rawAddOne.wasm");
    let component =
        wasmtime::component::Component::from_file(&engine.engine, &path).expect("raw component");
    let pre = engine.linker.instantiate_pre(&component).expect("link");
    let ctx = tributary_plugin::InstanceContext {
        info: Default::default(),
        state: Arc::new(MemoryStateStore::default()),
        metrics: Default::default(),
        link: None,
    };
    let caps = Capabilities::sandboxed(example_root().join("etc"), &engine.config);
    let mut store = engine.new_store(&ctx, &caps).expect("store");
    let instance = pre.instantiate(&mut store).expect("instantiate");
    let f = instance
        .get_typed_func::<(&[i64],), (Vec<i64>,)>(&mut store, "add-one")
        .expect("add-one");
    (store, f)
}

/// Function `name` of a loaded plugin, as registered.
fn factory(plugin: Arc<WasmFunctions>, name: &str) -> PluginFunction {
    let artifact: Arc<dyn FunctionArtifact> = plugin;
    PluginFunction::standalone(artifact, name, name, Arc::new(MemoryStateStore::default()))
}

/// The instance a rule's call site of function `name` gets.
fn call_site(
    plugin: Arc<WasmFunctions>,
    name: &str,
) -> Box<dyn tributary_core::function::FunctionImpl> {
    factory(plugin, name)
        .instantiate(&CallSite {
            rule_id: "bench".into(),
            site: 0,
        })
        .expect("instance")
}

/// Loads an example function plugin with no capabilities.
fn load_plugin(engine: &Arc<WasmEngine>, name: &str) -> WasmFunctions {
    load_plugin_from(engine, &example_root(), name)
}

fn load_from(engine: &Arc<WasmEngine>, root: &std::path::Path, name: &str) -> Arc<WasmFunctions> {
    Arc::new(load_plugin_from(engine, root, name))
}

fn load_plugin_from(engine: &Arc<WasmEngine>, root: &std::path::Path, name: &str) -> WasmFunctions {
    let root = root.to_path_buf();
    let path = root.join(format!("plugins/functions/{name}.wasm"));
    let req = LoadRequest {
        kind: PluginKind::Function,
        name,
        version: "",
        path: &path,
        root: &root,
    };
    let caps = Capabilities::sandboxed(req.etc_dir(), &engine.config);
    WasmFunctions::load(engine, &req, caps).expect("load example")
}

fn load_example(engine: &Arc<WasmEngine>, name: &str) -> Arc<WasmFunctions> {
    Arc::new(load_plugin(engine, name))
}

fn per_row(c: &mut Criterion) {
    let engine = WasmEngine::new(WasmConfig {
        cache_dir: Some(std::env::temp_dir().join("tributary-bench-wasm-cache")),
        ..WasmConfig::default()
    })
    .expect("engine");
    let plugin = load_add_one(&engine);
    let ints: Vec<Value> = (0..BATCH as i64).map(Value::Int).collect();
    let column = Column::Values(ints.clone());

    let mut g = c.benchmark_group("x_plus_1_batch_1024");
    g.throughput(Throughput::Elements(BATCH as u64));

    // Tributary's tier: engine values in, engine values out.
    let mut imp = call_site(plugin.clone(), "addOne");
    let ctx = FnContext::default();
    let mut out = Vec::with_capacity(BATCH);
    g.bench_function("tributary_wasm", |b| {
        b.iter(|| {
            out.clear();
            imp.exec_batch(&ctx, std::slice::from_ref(&column), BATCH, &mut out);
            assert_eq!(out.len(), BATCH);
        })
    });

    // The same, called from a task of a single-threaded runtime: the call is handed to
    // a thread outside the runtime (WASI's blocking calls could not run on this one).
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime");
    g.bench_function("tributary_wasm_current_thread_runtime", |b| {
        b.iter(|| {
            rt.block_on(async {
                out.clear();
                imp.exec_batch(&ctx, std::slice::from_ref(&column), BATCH, &mut out);
            });
            assert_eq!(out.len(), BATCH);
        })
    });

    // The same function built against contract 0.1 (a checked-in fixture): every row
    // crosses as a `value` variant.
    let v01 = load_from(&engine, &fixture_root(), "addOne");
    let mut imp01 = call_site(v01, "addOne");
    g.bench_function("tributary_wasm_contract_0_1", |b| {
        b.iter(|| {
            out.clear();
            imp01.exec_batch(&ctx, std::slice::from_ref(&column), BATCH, &mut out);
            assert_eq!(out.len(), BATCH);
        })
    });

    // Raw wasmtime: a scratch component's `add-one: func(list<s64>) -> list<s64>`, the
    // integers already in a slice and the answer left as a `Vec<i64>`.
    let (mut store, add_one) = raw_add_one(&engine);
    let xs: Vec<i64> = (0..BATCH as i64).collect();
    g.bench_function("raw_wasmtime_list_s64", |b| {
        b.iter(|| {
            store.set_epoch_deadline(1_000);
            let (r,) = add_one.call(&mut store, (&xs,)).expect("call");
            assert_eq!(r.len(), BATCH);
        })
    });

    // The built-in: the engine evaluating `x + 1` over the same batch of rows.
    let stmt = tributary_sql::parse_select("SELECT x + 1 FROM s").expect("sql");
    let expr = stmt.exprs().next().expect("expr").clone();
    let mut ev = Evaluator::bind(
        [&expr],
        &Registry::with_builtins(),
        "bench",
        &Default::default(),
    )
    .expect("bind");
    let key: Arc<str> = Arc::from("x");
    let rows: Vec<Row> = ints
        .iter()
        .map(|v| Row::new(vec![(key.clone(), v.clone())], Meta::default(), 0))
        .collect();
    g.bench_function("builtin_expr", |b| {
        b.iter(|| {
            let mut errs = RowErrors::new(BATCH);
            let col = ev.eval(&expr, &rows, &mut errs);
            std::hint::black_box(col);
        })
    });
    g.finish();
}

/// The rule on two runtimes, each beside the same rule with the built-in `id + 1`:
/// one thread (a current-thread runtime; the wasm calls are handed to a pooled thread
/// outside it), and the binary's multi-threaded runtime held to one worker (a wasm call
/// hands the worker over with `block_in_place`, so the source may run meanwhile).
fn rule(c: &mut Criterion) {
    let wasm = WasmEngine::new(WasmConfig::default()).expect("engine");
    let factory = Arc::new(factory(load_add_one(&wasm), "addOne"));
    let current = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    bench_add_one_rule(
        c,
        "rule_with_wasm_function",
        &current,
        factory.clone(),
        RULE_ROWS,
        BATCH,
    );
    let multi = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("runtime");
    bench_add_one_rule(
        c,
        "rule_with_wasm_function_multi_thread_runtime",
        &multi,
        factory,
        RULE_ROWS,
        BATCH,
    );
}

/// Resident memory of this process, in bytes (Linux).
fn rss_bytes() -> u64 {
    std::fs::read_to_string("/proc/self/statm")
        .ok()
        .and_then(|s| {
            s.split_whitespace()
                .nth(1)
                .and_then(|p| p.parse::<u64>().ok())
        })
        .map(|pages| pages * 4096)
        .unwrap_or(0)
}

/// Starting with a cached plugin: loading it when its compiled code is in the cache,
/// and creating the instance of one call site (what starting a rule adds). Also prints
/// the resident memory one instance costs.
fn startup(c: &mut Criterion) {
    let cache = std::env::temp_dir().join("tributary-bench-wasm-cache");
    let engine = WasmEngine::new(WasmConfig {
        cache_dir: Some(cache),
        ..WasmConfig::default()
    })
    .expect("engine");
    // Warm the cache once.
    let plugin = load_example(&engine, "accumulateWordCount");
    let mut g = c.benchmark_group("wasm_startup");
    g.bench_function("load_cached_plugin", |b| {
        b.iter(|| load_plugin(&engine, "accumulateWordCount"))
    });
    let factory = factory(plugin.clone(), "accumulateWordCount");
    let mut site = 0usize;
    g.bench_function("instantiate_call_site", |b| {
        b.iter(|| {
            site += 1;
            factory
                .instantiate(&CallSite {
                    rule_id: "bench".into(),
                    site,
                })
                .expect("instance")
        })
    });
    g.finish();

    let before = rss_bytes();
    let instances: Vec<_> = (0..100)
        .map(|i| {
            factory
                .instantiate(&CallSite {
                    rule_id: "mem".into(),
                    site: i,
                })
                .expect("instance")
        })
        .collect();
    let after = rss_bytes();
    println!(
        "memory per instance (accumulateWordCount, 100 live instances): {} KiB resident",
        after.saturating_sub(before) / 100 / 1024
    );
    drop(instances);
}

/// The encoding of nested values (docs/architecture.md): `echo` of 1,024 objects,
/// which cross as JSON text both ways, against `echo` of the same nodes as flat scalar
/// values (9 per object: the least a node table would carry, before its keys and
/// child links), and of the objects' JSON as plain strings (the text without parsing).
fn nested(c: &mut Criterion) {
    let engine = WasmEngine::new(WasmConfig::default()).expect("engine");
    let mut imp = call_site(load_example(&engine, "echo"), "echo");
    let object =
        tributary_core::json::parse(r#"{"a":1,"b":"x","c":[1,2,3],"d":{"e":true}}"#).expect("json");
    let text = Value::str(tributary_core::json::to_json_string(&object));
    let nodes = [
        Value::Null,
        Value::Int(1),
        Value::str("x"),
        Value::Null,
        Value::Int(1),
        Value::Int(2),
        Value::Int(3),
        Value::Null,
        Value::Bool(true),
    ];
    let inputs = [
        ("json_objects", vec![object; BATCH]),
        (
            "same_nodes_as_flat_values",
            nodes
                .iter()
                .cycle()
                .take(BATCH * nodes.len())
                .cloned()
                .collect(),
        ),
        ("json_text_as_strings", vec![text; BATCH]),
    ];
    let ctx = FnContext::default();
    let mut out = Vec::new();
    let mut g = c.benchmark_group("nested_values_1024_objects");
    g.throughput(Throughput::Elements(BATCH as u64));
    for (name, values) in inputs {
        let n = values.len();
        let column = Column::Values(values);
        g.bench_function(name, |b| {
            b.iter(|| {
                out.clear();
                imp.exec_batch(&ctx, std::slice::from_ref(&column), n, &mut out);
                assert!(out.iter().all(|r| r.is_ok()));
            })
        });
    }
    g.finish();
}

criterion_group!(benches, per_row, rule, startup, nested);
criterion_main!(benches);
