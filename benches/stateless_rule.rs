//! Issue 2's bench: the rule
//! `SELECT id, temp * 1.8 + 32 AS f, upper(name) AS n FROM s WHERE temp > 20`
//! from the memory source to the nop sink on ONE worker thread (a current-thread
//! runtime), against a hand-written Rust loop doing the same work on the same rows.
//! Target: ≥ 3M rows/s for the engine. Results: benches/README.md.

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use criterion::{criterion_group, criterion_main, BatchSize, BenchmarkId, Criterion, Throughput};
use std::hint::black_box;
use std::sync::Arc;
use tributary_benches::{run_memory_rule, sensor_row_values};
use tributary_connectors::memory::MemoryRow;
use tributary_core::{Row, Value};

const ROWS: usize = 200_000;
const BATCH: usize = 1024;
const SQL: &str = "SELECT id, temp * 1.8 + 32 AS f, upper(name) AS n FROM s WHERE temp > 20";

/// The baseline: the same filter and projection, written by hand, on the same rows.
fn hand_loop(rows: &[Row]) -> Vec<(i64, f64, String)> {
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        let temp = match r.get("temp") {
            Some(Value::Float(t)) => *t,
            Some(Value::Int(t)) => *t as f64,
            _ => continue,
        };
        if temp > 20.0 {
            let id = r.get("id").and_then(|v| v.as_i64()).unwrap_or_default();
            let name = r.get("name").and_then(|v| v.as_str()).unwrap_or_default();
            out.push((id, temp * 1.8 + 32.0, name.to_uppercase()));
        }
    }
    out
}

/// Publishes `batches` to a memory topic read by the rule, and waits until the nop sink
/// has received every passing row.
async fn run_engine(batches: Vec<Arc<Vec<MemoryRow>>>, expected_out: u64) {
    run_memory_rule(
        r#"CREATE STREAM s (id BIGINT, temp FLOAT, name STRING) WITH (TYPE="memory", DATASOURCE="bench/in")"#,
        &format!(
            r#"{{"id":"bench","sql":"{SQL}","actions":[{{"nop":{{}}}}],"options":{{"bufferLength":64}}}}"#
        ),
        "bench/in",
        "bench",
        batches,
        expected_out,
    )
    .await;
}

fn bench(c: &mut Criterion) {
    let rows = sensor_row_values(ROWS);
    let expected = hand_loop(&rows).len() as u64;
    // Each iteration publishes fresh rows (made outside the timing), as a producer
    // hands its rows over.
    let make_batches = || -> Vec<Arc<Vec<MemoryRow>>> {
        rows.chunks(BATCH)
            .map(|c| Arc::new(c.iter().cloned().map(MemoryRow::from_row).collect()))
            .collect()
    };
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");

    let mut g = c.benchmark_group("stateless_rule");
    g.throughput(Throughput::Elements(ROWS as u64));
    g.sample_size(20);
    g.bench_with_input(BenchmarkId::new("hand_loop", ROWS), &rows, |b, rows| {
        b.iter(|| black_box(hand_loop(rows)))
    });
    g.bench_function(BenchmarkId::new("engine_1_thread", ROWS), |b| {
        b.iter_batched(
            make_batches,
            |batches| rt.block_on(run_engine(batches, expected)),
            BatchSize::PerIteration,
        )
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
