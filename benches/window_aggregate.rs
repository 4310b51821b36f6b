//! Issue 7's bench: the rule
//! `SELECT color, count(*), avg(size), max(size) FROM s GROUP BY color, TUMBLINGWINDOW(ss, 1)`
//! in event time (`isEventTime`, `TIMESTAMP="ts"`) over 10M rows, memory source → nop
//! sink on one worker thread, against a hand-written loop doing the same windowed
//! aggregation on the same rows in the same run. Target: ≥ 3M rows/s with memory flat
//! in the window length (the window is aggregated incrementally; a test in
//! `host/engine/src/ops/incremental.rs` checks its state holds one entry per group).
//! `TRIBUTARY_BENCH_ROWS` overrides the row count for a quick run.
//! Results: benches/README.md.

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use criterion::{criterion_group, criterion_main, BatchSize, BenchmarkId, Criterion, Throughput};
use std::collections::HashMap;
use std::hint::black_box;
use std::sync::Arc;
use tributary_benches::run_memory_rule;
use tributary_connectors::memory::MemoryRow;
use tributary_core::{Meta, Row, Value};

const BATCH: usize = 1024;
/// Rows per second of event time: 10M rows span 10 000 one-second windows.
const RATE: usize = 1000;
const COLORS: [&str; 8] = [
    "red", "blue", "green", "yellow", "black", "white", "cyan", "pink",
];
const SQL: &str =
    "SELECT color, count(*), avg(size), max(size) FROM s GROUP BY color, TUMBLINGWINDOW(ss, 1)";

fn rows_count() -> usize {
    std::env::var("TRIBUTARY_BENCH_ROWS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000_000)
}

/// `{color, size, ts}` rows in event-time order, `RATE` per second.
fn make_rows(n: usize) -> Vec<Row> {
    let keys: [Arc<str>; 3] = [Arc::from("color"), Arc::from("size"), Arc::from("ts")];
    let colors: Vec<Value> = COLORS.iter().map(Value::str).collect();
    let start = 1_700_000_000_000i64;
    (0..n)
        .map(|i| {
            let ts = start + (i / RATE) as i64 * 1000 + (i % RATE) as i64;
            let fields = vec![
                (keys[0].clone(), colors[i % COLORS.len()].clone()),
                (keys[1].clone(), Value::Int((i % 97) as i64)),
                (keys[2].clone(), Value::Int(ts)),
            ];
            Row::new(fields, Meta::default(), 0)
        })
        .collect()
}

/// The baseline: the same windowed aggregation by hand. Windows close when a later
/// second starts (the watermark with no tolerance); the last one stays open, as in the
/// engine. Returns the number of result rows.
fn hand_loop(rows: &[Row]) -> usize {
    struct Acc {
        count: i64,
        sum: f64,
        n: u64,
        max: Option<i64>,
    }
    let mut out: Vec<(i64, String, i64, f64, i64)> = Vec::new();
    let mut window: Option<i64> = None;
    let mut groups: Vec<(Arc<str>, Acc)> = Vec::new();
    let mut index: HashMap<Arc<str>, usize> = HashMap::new();
    for r in rows {
        let (Some(Value::String(color)), Some(size), Some(Value::Int(ts))) =
            (r.get("color"), r.get("size"), r.get("ts"))
        else {
            continue;
        };
        let w = ts.div_euclid(1000);
        if window.is_some_and(|cur| cur != w) {
            for (c, a) in groups.drain(..) {
                let avg = if a.n == 0 { 0.0 } else { a.sum / a.n as f64 };
                out.push((
                    window.unwrap_or(0),
                    c.to_string(),
                    a.count,
                    avg,
                    a.max.unwrap_or(0),
                ));
            }
            index.clear();
        }
        window = Some(w);
        let g = *index.entry(color.clone()).or_insert_with(|| {
            groups.push((
                color.clone(),
                Acc {
                    count: 0,
                    sum: 0.0,
                    n: 0,
                    max: None,
                },
            ));
            groups.len() - 1
        });
        let a = &mut groups[g].1;
        a.count += 1;
        if let Some(s) = size.as_i64() {
            a.sum += s as f64;
            a.n += 1;
            a.max = Some(a.max.map_or(s, |m| m.max(s)));
        }
    }
    black_box(&out);
    out.len()
}

async fn run_engine(batches: Vec<Arc<Vec<MemoryRow>>>, expected_out: u64) {
    run_memory_rule(
        r#"CREATE STREAM s (color STRING, size BIGINT, ts BIGINT) WITH (TYPE="memory", DATASOURCE="bench/win", TIMESTAMP="ts")"#,
        &format!(
            r#"{{"id":"win","sql":"{SQL}","actions":[{{"nop":{{}}}}],"options":{{"bufferLength":64,"isEventTime":true}}}}"#
        ),
        "bench/win",
        "win",
        batches,
        expected_out,
    )
    .await;
}

fn bench(c: &mut Criterion) {
    let n = rows_count();
    let rows = make_rows(n);
    let expected = hand_loop(&rows) as u64;
    // Each iteration publishes fresh rows (made outside the timing), as a producer
    // hands its rows over — the same as the stateless bench.
    let make_batches = || -> Vec<Arc<Vec<MemoryRow>>> {
        rows.chunks(BATCH)
            .map(|c| Arc::new(c.iter().cloned().map(MemoryRow::from_row).collect()))
            .collect()
    };
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let mut g = c.benchmark_group("window_aggregate");
    g.throughput(Throughput::Elements(n as u64));
    g.sample_size(10);
    g.bench_with_input(BenchmarkId::new("hand_loop", n), &rows, |b, rows| {
        b.iter(|| black_box(hand_loop(rows)))
    });
    g.bench_function(BenchmarkId::new("engine_event_time", n), |b| {
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
