//! Issue 6's state bench (first part): the cost of one `incr-counter` call from each
//! plugin tier against the same call made directly in-process, with the memory store
//! and with SQLite. Each tier runs the `accumulateWordCount` example over a batch of
//! 1,024 one-word rows: one counter increment per row, plus the (tiny) word split.
//!
//! Needs the example roots: `bash scripts/build-guests.sh` and
//! `NATIVE_PROFILE=release bash scripts/build-native.sh`.

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use std::path::PathBuf;
use std::sync::{Arc, RwLock};
use tributary_core::function::{
    CallSite, Column, FnContext, FunctionFactory, FunctionImpl, FunctionKind,
};
use tributary_core::state::{MemoryStateStore, StateStore};
use tributary_core::Value;
use tributary_native::function::{NativeFunctionFactory, PluginMetrics as NativeMetrics};
use tributary_native::{NativeLibrary, PluginKind};
use tributary_wasm::function::{PluginMetrics, WasmFunctionFactory};
use tributary_wasm::{Capabilities, WasmConfig, WasmEngine, WasmPlugin};

const BATCH: usize = 1024;

fn roots() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../target/example-roots")
        .canonicalize()
        .expect("run scripts/build-guests.sh and scripts/build-native.sh first")
}

fn native(state: Arc<dyn StateStore>) -> Box<dyn FunctionImpl> {
    let lib = NativeLibrary::load(
        "accumulateWordCount",
        "",
        &roots().join("native/plugins/functions/accumulateWordCount.so"),
        PluginKind::Function,
        PathBuf::new(),
        None,
    )
    .expect("load");
    NativeFunctionFactory::new(
        Arc::new(RwLock::new(lib)),
        "accumulateWordCount",
        FunctionKind::Scalar,
        state,
        Arc::new(NativeMetrics::default()),
    )
    .instantiate(&CallSite::default())
    .expect("instance")
}

fn wasm(engine: &Arc<WasmEngine>, state: Arc<dyn StateStore>) -> Box<dyn FunctionImpl> {
    let root = roots().join("wasm");
    let plugin = WasmPlugin::load(
        engine,
        "accumulateWordCount",
        "",
        &root.join("plugins/functions/accumulateWordCount.wasm"),
        Capabilities::sandboxed(
            root.join("etc/functions/accumulateWordCount"),
            &engine.config,
        ),
    )
    .expect("load");
    WasmFunctionFactory::new(
        Arc::new(plugin),
        "accumulateWordCount",
        false,
        state,
        Arc::new(PluginMetrics::default()),
    )
    .instantiate(&CallSite::default())
    .expect("instance")
}

fn incr(c: &mut Criterion) {
    let engine = WasmEngine::new(WasmConfig {
        cache_dir: Some(std::env::temp_dir().join("tributary-bench-wasm-cache")),
        ..WasmConfig::default()
    })
    .expect("engine");
    let dir = tempfile::tempdir().expect("tempdir");
    let sqlite: Arc<dyn StateStore> = Arc::new(
        tributary_state::SqliteStateStore::open(&dir.path().join("state.db")).expect("sqlite"),
    );
    let memory: Arc<dyn StateStore> = Arc::new(MemoryStateStore::default());
    let args = [
        Column::Values(vec![Value::str("a"); BATCH]),
        Column::Scalar(Value::str(" ")),
    ];
    let ctx = FnContext::default();
    let mut g = c.benchmark_group("incr_counter_1024_calls");
    g.throughput(Throughput::Elements(BATCH as u64));
    for (store_name, store) in [("memory", memory), ("sqlite", sqlite)] {
        let s = store.clone();
        g.bench_function(format!("direct/{store_name}"), |b| {
            b.iter(|| {
                for _ in 0..BATCH {
                    std::hint::black_box(s.incr("bench/direct", "allwordcount", 1).expect("incr"));
                }
            })
        });
        let mut tiers: Vec<(&str, Box<dyn FunctionImpl>)> = vec![
            ("native", native(store.clone())),
            ("wasm", wasm(&engine, store.clone())),
        ];
        for (tier, imp) in tiers.iter_mut() {
            let mut out = Vec::with_capacity(BATCH);
            g.bench_function(format!("{tier}/{store_name}"), |b| {
                b.iter(|| {
                    out.clear();
                    imp.exec_batch(&ctx, &args, BATCH, &mut out);
                    assert!(out.iter().all(Result::is_ok));
                })
            });
        }
    }
    g.finish();
}

criterion_group!(benches, incr);
criterion_main!(benches);
