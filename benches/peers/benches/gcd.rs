//! `gcd(a, b)` on a batch of 1,024 rows, in one criterion run: through Tributary's
//! wasm tier (the `gcd` example component: engine values in, engine values out, the
//! columns crossing typed) and through arrow-udf-runtime 0.10's wasm runtime with
//! arrow-udf's own `gcd` guest (an Arrow record batch in, one out). Same rows, same
//! algorithm; arrow-udf computes in `i32`, the tier in `i64`.
//!
//! Two batches: arrow-udf's own bench rows (`a = i`, `b = 2i`: a step or two of
//! Euclid per row, so the figure is mostly what crossing the boundary costs, as in
//! arrow-udf's published ~18 ns/row), and pseudo-random pairs below a million
//! (~20 divisions per row, so the figure is mostly the guest's arithmetic).

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use arrow_array::{Int32Array, RecordBatch};
use arrow_schema::{DataType, Field, Schema};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use std::path::PathBuf;
use std::sync::Arc;
use tributary_core::function::{CallSite, Column, FnContext, FunctionFactory};
use tributary_core::state::MemoryStateStore;
use tributary_core::Value;
use tributary_plugin::function::PluginFunction;
use tributary_plugin::{FunctionArtifact, LoadRequest, PluginKind};
use tributary_wasm::function::WasmFunctions;
use tributary_wasm::{Capabilities, WasmConfig, WasmEngine};

const BATCH: usize = 1024;

fn workspace() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// arrow-udf's bench rows: `gcd(i, 2i)` for i in 0..1024.
fn arrow_udf_rows() -> Vec<(i32, i32)> {
    (0..BATCH as i32).map(|i| (i, 2 * i)).collect()
}

/// Small pseudo-random positive integers.
fn random_pairs() -> Vec<(i32, i32)> {
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        (x % 1_000_000) as i32 + 1
    };
    (0..BATCH).map(|_| (next(), next())).collect()
}

fn gcd(c: &mut Criterion) {
    bench_rows(c, "gcd_batch_1024_arrow_udf_rows", &arrow_udf_rows());
    bench_rows(c, "gcd_batch_1024_random_pairs", &random_pairs());
}

fn bench_rows(c: &mut Criterion, group: &str, pairs: &[(i32, i32)]) {
    let mut g = c.benchmark_group(group);
    g.throughput(Throughput::Elements(BATCH as u64));

    // Tributary: the example component, loaded and called as a rule's call site is.
    let engine = WasmEngine::new(WasmConfig::default()).expect("engine");
    let root = workspace().join("target/example-roots/wasm");
    let path = root.join("plugins/functions/gcd.wasm");
    let req = LoadRequest {
        kind: PluginKind::Function,
        name: "gcd",
        version: "",
        path: &path,
        root: &root,
    };
    let caps = Capabilities::sandboxed(req.etc_dir(), &engine.config);
    let plugin: Arc<dyn FunctionArtifact> =
        Arc::new(WasmFunctions::load(&engine, &req, caps).expect("gcd.wasm"));
    let mut imp =
        PluginFunction::standalone(plugin, "gcd", "gcd", Arc::new(MemoryStateStore::default()))
            .instantiate(&CallSite {
                rule_id: "bench".into(),
                site: 0,
            })
            .expect("instance");
    let args = [
        Column::Values(
            pairs
                .iter()
                .map(|(a, _)| Value::Int(i64::from(*a)))
                .collect(),
        ),
        Column::Values(
            pairs
                .iter()
                .map(|(_, b)| Value::Int(i64::from(*b)))
                .collect(),
        ),
    ];
    let ctx = FnContext::default();
    let mut out = Vec::with_capacity(BATCH);
    imp.exec_batch(&ctx, &args, BATCH, &mut out);
    let ours: Vec<i64> = out
        .iter()
        .map(|r| match r {
            Ok(Value::Int(i)) => *i,
            other => panic!("{other:?}"),
        })
        .collect();
    g.bench_function("tributary_wasm", |b| {
        b.iter(|| {
            out.clear();
            imp.exec_batch(&ctx, &args, BATCH, &mut out);
            assert_eq!(out.len(), BATCH);
        })
    });

    // arrow-udf-runtime: its wasm runtime and arrow-udf's guest.
    let binary = std::env::var("ARROW_UDF_GCD_WASM")
        .expect("run benches/peers/run.sh (it builds the arrow-udf guest)");
    let runtime = arrow_udf_runtime::wasm::Runtime::new(
        &std::fs::read(&binary).expect("the arrow-udf guest"),
    )
    .expect("arrow-udf runtime");
    let func = runtime
        .find_function(
            "gcd",
            vec![DataType::Int32, DataType::Int32],
            DataType::Int32,
        )
        .expect("gcd");
    let input = RecordBatch::try_new(
        Arc::new(Schema::new(vec![
            Field::new("a", DataType::Int32, true),
            Field::new("b", DataType::Int32, true),
        ])),
        vec![
            Arc::new(Int32Array::from(
                pairs.iter().map(|(a, _)| *a).collect::<Vec<_>>(),
            )),
            Arc::new(Int32Array::from(
                pairs.iter().map(|(_, b)| *b).collect::<Vec<_>>(),
            )),
        ],
    )
    .expect("batch");
    let theirs = runtime.call(&func, &input).expect("call");
    let theirs = theirs
        .column(0)
        .as_any()
        .downcast_ref::<Int32Array>()
        .expect("int32");
    assert!(
        ours.iter()
            .zip(theirs.values())
            .all(|(a, b)| *a == i64::from(*b)),
        "both compute the same gcds"
    );
    g.bench_function("arrow_udf_runtime_wasm", |b| {
        b.iter(|| {
            let r = runtime.call(&func, &input).expect("call");
            assert_eq!(r.num_rows(), BATCH);
        })
    });
    g.finish();
}

criterion_group!(benches, gcd);
criterion_main!(benches);
