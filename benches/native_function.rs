//! Issue 4's native bench: the per-row cost of `x + 1` as a native function (the
//! `addOne` example library) in batches of 1024, through Tributary's native tier (ABI
//! version 2: a typed column of integers in, a typed list out) against the same
//! library called directly through its C entry point (a pre-built typed column, no
//! conversion: the floor of the ABI) and against the built-in `x + 1`; and a rule using
//! the native function, end to end on one worker thread.
//!
//! Needs the example root built in release:
//! `NATIVE_PROFILE=release bash scripts/build-native.sh`.

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
use tributary_native_abi as abi;
use tributary_plugin::function::PluginFunction;

const BATCH: usize = 1024;
const RULE_ROWS: usize = 200_000;

fn add_one_path() -> PathBuf {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../target/example-roots/native/plugins/functions/addOne.so");
    assert!(
        p.exists(),
        "run `NATIVE_PROFILE=release bash scripts/build-native.sh` first"
    );
    p.canonicalize().expect("path")
}

fn factory(state: Arc<MemoryStateStore>) -> PluginFunction {
    let root = add_one_path()
        .parent()
        .and_then(|p| p.parent())
        .and_then(|p| p.parent())
        .expect("root")
        .to_path_buf();
    tributary_benches::plugin_function(&tributary_native::NativeTier, &root, "addOne", state)
}

fn per_row(c: &mut Criterion) {
    let ints: Vec<Value> = (0..BATCH as i64).map(Value::Int).collect();
    let column = Column::Values(ints.clone());
    let mut g = c.benchmark_group("native_x_plus_1_batch_1024");
    g.throughput(Throughput::Elements(BATCH as u64));

    // Tributary's tier: engine values in, engine values out.
    let f = factory(Arc::new(MemoryStateStore::default()));
    let mut imp = f
        .instantiate(&CallSite {
            rule_id: "bench".into(),
            site: 0,
        })
        .expect("instance");
    let ctx = FnContext::default();
    let mut out = Vec::with_capacity(BATCH);
    g.bench_function("tributary_native", |b| {
        b.iter(|| {
            out.clear();
            imp.exec_batch(&ctx, std::slice::from_ref(&column), BATCH, &mut out);
            assert_eq!(out.len(), BATCH);
        })
    });

    // The floor: the library's C entry point with C values prepared once; results read
    // as C values. What any host pays to cross this ABI.
    #[allow(unsafe_code)]
    {
        // SAFETY: loading the example library built by this repository.
        let lib = unsafe { libloading::Library::new(add_one_path()) }.expect("dlopen");
        // SAFETY: the descriptor symbol the SDK exports; checked below like the host does.
        let desc: &abi::Plugin =
            unsafe { &**lib.get::<*const abi::Plugin>(b"AddOne").expect("symbol") };
        assert_eq!(
            (desc.abi_version, desc.layout),
            (abi::ABI_VERSION, abi::LAYOUT_FINGERPRINT)
        );
        // SAFETY: a function plugin's table.
        let t = unsafe { &*desc.function };
        let host = tributary_native::host_api::HostTable::new(
            tributary_plugin::InstanceHost::new(
                Default::default(),
                Arc::new(MemoryStateStore::default()),
            ),
            abi::ABI_VERSION,
        );
        let mut err = abi::Slice::EMPTY;
        // SAFETY: the library's constructor with a live host table.
        let inst = unsafe { (t.create)(host.as_ptr(), abi::Slice::str("addOne"), &mut err) };
        // A typed column of integers, and the results block the host provides.
        let ints: Vec<i64> = (0..BATCH as i64).collect();
        let col = abi::Column {
            form: abi::COL_INTS,
            _reserved: 0,
            values: std::ptr::null(),
            data: ints.as_ptr().cast(),
            nulls: std::ptr::null(),
            len: ints.len(),
        };
        let mut values = vec![abi::Value::NULL; BATCH];
        let mut data = vec![0u64; BATCH];
        let mut nulls = vec![0u8; BATCH];
        g.bench_function("raw_c_abi", |b| {
            b.iter(|| {
                let mut res = abi::Results {
                    form: abi::COL_VALUES,
                    _reserved: 0,
                    values: values.as_mut_ptr(),
                    data: data.as_mut_ptr().cast(),
                    nulls: nulls.as_mut_ptr(),
                    len: BATCH,
                };
                // SAFETY: the instance, one typed column of BATCH integers, a results
                // block of BATCH slots.
                let code = unsafe { (t.exec)(inst, &col, 1, BATCH, &mut res, &mut err) };
                assert_eq!((code, res.form), (0, abi::COL_INTS));
                let sum: i64 = data.iter().map(|v| *v as i64).sum();
                std::hint::black_box(sum);
            })
        });
        // SAFETY: destroyed once, before the host table and the library go.
        unsafe { (t.destroy)(inst) };
        drop(host);
        drop(lib);
    }

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
    let mut errs = RowErrors::default();
    g.bench_function("builtin_expr", |b| {
        b.iter(|| {
            let col = ev.eval(&expr, &rows, &mut errs);
            std::hint::black_box(col);
        })
    });
    g.finish();
}

fn rule(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("runtime");
    let f = factory(Arc::new(MemoryStateStore::default()));
    bench_add_one_rule(
        c,
        "rule_with_native_function",
        &rt,
        Arc::new(f),
        RULE_ROWS,
        BATCH,
    );
}

criterion_group!(benches, per_row, rule);
criterion_main!(benches);
