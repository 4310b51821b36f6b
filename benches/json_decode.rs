//! Decoding a JSON payload into an engine value, as every source does per message:
//! straight (`tributary_core::json_de`, what sources use) against through
//! serde_json's own tree and a conversion (what they used before), on the MQTT
//! bench's reading and on a larger nested payload. Results: benches/README.md.

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use std::hint::black_box;

fn bench(c: &mut Criterion) {
    let reading = br#"{"id":12345,"temperature":63.5}"#.to_vec();
    let nested = serde_json::json!({
        "device": "gateway-7", "ts": 1764580000000i64, "ok": true,
        "readings": (0..16).map(|i| serde_json::json!({"sensor": format!("s{i}"), "value": i as f64 * 1.5, "tags": ["a", "b"]})).collect::<Vec<_>>(),
        "location": {"lat": 48.85, "lon": 2.35, "site": {"name": "north", "floor": 3}}
    })
    .to_string()
    .into_bytes();
    let mut g = c.benchmark_group("json_decode");
    for (name, payload) in [("reading", &reading), ("nested_16", &nested)] {
        g.throughput(Throughput::Bytes(payload.len() as u64));
        g.bench_with_input(BenchmarkId::new("serde_tree", name), payload, |b, p| {
            b.iter(|| {
                let tree: serde_json::Value = serde_json::from_slice(black_box(p)).expect("json");
                black_box(tributary_core::json::from_json(tree))
            })
        });
        g.bench_with_input(BenchmarkId::new("direct", name), payload, |b, p| {
            b.iter(|| black_box(tributary_core::json_de::from_slice(black_box(p)).expect("json")))
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
