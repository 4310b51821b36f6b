//! Issue 6's state bench: the cost of one `incr-counter` call from each plugin tier
//! against the same call made directly in-process, with the memory store, with SQLite
//! written through (qos 0), and with SQLite behind a rule's checkpoint overlay (qos 1).
//! The native and wasm tiers run the `accumulateWordCount` example over a batch of
//! 1,024 one-word rows: one counter increment per row, plus the (tiny) word split; the
//! external tier calls `stateProbe` on a real local REST service, which increments
//! through the host's state endpoint (two HTTP round trips per call).
//! Then the time to commit a checkpoint of 100,000 keys, against writing the same
//! keys one by one.
//!
//! Needs the example roots: `bash scripts/build-guests.sh` and
//! `NATIVE_PROFILE=release bash scripts/build-native.sh`.

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use std::path::PathBuf;
use std::sync::Arc;
use tributary_benches::plugin_function;
use tributary_core::function::{CallSite, Column, FnContext, FunctionFactory, FunctionImpl};
use tributary_core::state::{MemoryStateStore, StateStore};
use tributary_core::Value;
use tributary_wasm::{WasmConfig, WasmEngine, WasmTier};

const BATCH: usize = 1024;

fn roots() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../target/example-roots")
        .canonicalize()
        .expect("run scripts/build-guests.sh and scripts/build-native.sh first")
}

fn native(state: Arc<dyn StateStore>) -> Box<dyn FunctionImpl> {
    let tier = tributary_native::NativeTier;
    plugin_function(&tier, &roots().join("native"), "accumulateWordCount", state)
        .instantiate(&site())
        .expect("instance")
}

fn wasm(engine: &Arc<WasmEngine>, state: Arc<dyn StateStore>) -> Box<dyn FunctionImpl> {
    let tier = WasmTier::new(engine.clone());
    plugin_function(&tier, &roots().join("wasm"), "accumulateWordCount", state)
        .instantiate(&site())
        .expect("instance")
}

/// `stateProbe("incr", "n", 1)` on the test REST service, with state tokens.
fn external(root: &std::path::Path, state: Arc<dyn StateStore>) -> Box<dyn FunctionImpl> {
    let functions = tributary_external::loader::load_services(root).expect("services");
    let f = functions
        .into_iter()
        .find(|f| f.name == "tsschemaless")
        .expect("tsschemaless");
    let endpoint =
        tributary_external::state_endpoint::StateEndpoint::start(state, "127.0.0.1:0", None)
            .expect("endpoint");
    tributary_external::function::ExternalFunctionFactory::new(f)
        .with_state(endpoint)
        .instantiate(&site())
        .expect("instance")
}

fn site() -> CallSite {
    CallSite {
        rule_id: "bench".into(),
        site: 0,
    }
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
    // A rule at qos 1: its increments land in the overlay until a checkpoint.
    let overlay = Arc::new(tributary_state::CheckpointStore::new(sqlite.clone()));
    overlay.begin("bench");
    let checkpointed: Arc<dyn StateStore> = overlay;
    let args = [
        Column::Values(vec![Value::str("a"); BATCH]),
        Column::Scalar(Value::str(" ")),
    ];
    // The same rows with the text as a constant: it crosses once, so what is left per
    // row is the call to `incr-counter` (and the word split).
    let constant_args = [
        Column::Scalar(Value::str("a")),
        Column::Scalar(Value::str(" ")),
    ];
    let probe_args = [
        Column::Scalar(Value::str("post")),
        Column::Scalar(Value::str("/stateProbe")),
        Column::Scalar(Value::str("incr")),
        Column::Scalar(Value::str("n")),
        Column::Scalar(Value::Int(1)),
    ];
    let schemas = tributary_tests::workspace().join("examples/external-root/etc/services/schemas");
    let svc = tributary_tests::services::Services::start(&schemas);
    let ext_root = tempfile::tempdir().expect("tempdir");
    tributary_tests::services::external_root_for(&svc, ext_root.path());
    let ctx = FnContext::default();
    let mut g = c.benchmark_group("incr_counter_1024_calls");
    g.throughput(Throughput::Elements(BATCH as u64));
    for (store_name, store) in [
        ("memory", memory),
        ("sqlite", sqlite),
        ("sqlite_qos1", checkpointed),
    ] {
        let s = store.clone();
        g.bench_function(format!("direct/{store_name}"), |b| {
            b.iter(|| {
                for _ in 0..BATCH {
                    std::hint::black_box(
                        s.incr("rule/bench/direct", "allwordcount", 1)
                            .expect("incr"),
                    );
                }
            })
        });
        let mut tiers: Vec<(&str, Box<dyn FunctionImpl>, &[Column])> = vec![
            ("native", native(store.clone()), &args),
            ("wasm", wasm(&engine, store.clone()), &args),
            (
                "wasm_constant_text",
                wasm(&engine, store.clone()),
                &constant_args,
            ),
            (
                "external",
                external(ext_root.path(), store.clone()),
                &probe_args,
            ),
        ];
        for (tier, imp, a) in tiers.iter_mut() {
            let mut out = Vec::with_capacity(BATCH);
            g.bench_function(format!("{tier}/{store_name}"), |b| {
                b.iter(|| {
                    out.clear();
                    imp.exec_batch(&ctx, a, BATCH, &mut out);
                    assert!(out.iter().all(Result::is_ok), "{:?}", out.first());
                })
            });
        }
    }
    g.finish();
}

/// One checkpoint of 100,000 changed keys (a rule's overlay committed with its
/// offsets in one transaction), against the same keys written one by one.
fn checkpoint(c: &mut Criterion) {
    const KEYS: usize = 100_000;
    let dir = tempfile::tempdir().expect("tempdir");
    let sqlite: Arc<dyn StateStore> = Arc::new(
        tributary_state::SqliteStateStore::open(&dir.path().join("state.db")).expect("sqlite"),
    );
    let mut g = c.benchmark_group("checkpoint_100k_keys");
    g.sample_size(10);
    g.throughput(Throughput::Elements(KEYS as u64));
    let memory: Arc<dyn StateStore> = Arc::new(MemoryStateStore::default());
    for (name, store) in [("sqlite", sqlite), ("memory", memory)] {
        let ck = tributary_state::CheckpointStore::new(store.clone());
        ck.begin("ck");
        let mut round = 0i64;
        g.bench_function(format!("commit/{name}"), |b| {
            b.iter_batched(
                || {
                    round += 1;
                    for k in 0..KEYS {
                        ck.put("rule/ck/function/0/f", &format!("k{k}"), Value::Int(round))
                            .expect("put");
                    }
                },
                |_| ck.commit("ck", Vec::new()).expect("commit"),
                criterion::BatchSize::PerIteration,
            )
        });
        g.bench_function(format!("write_through/{name}"), |b| {
            b.iter(|| {
                for k in 0..KEYS {
                    store
                        .put("rule/wt/function/0/f", &format!("k{k}"), Value::Int(1))
                        .expect("put");
                }
            })
        });
    }
    g.finish();
}

criterion_group!(benches, incr, checkpoint);
criterion_main!(benches);
