//! Shared data generators of the benches.

pub mod cpu;

use std::sync::Arc;
use tributary_core::{Meta, Object, Row, Value};

/// `n` sensor rows `{id, temp, name}`; about half have `temp > 20`.
pub fn sensor_rows(n: usize) -> Vec<Object> {
    (0..n)
        .map(|i| {
            let mut o = Object::new();
            o.insert("id".to_string(), Value::Int(i as i64));
            o.insert("temp".to_string(), Value::Float((i % 40) as f64 + 0.5));
            o.insert(
                "name".to_string(),
                Value::str(format!("sensor-{}", i % 100)),
            );
            o
        })
        .collect()
}

/// The same rows as engine rows (what a memory topic carries between rules).
pub fn sensor_row_values(n: usize) -> Vec<Row> {
    let keys: [Arc<str>; 3] = [Arc::from("id"), Arc::from("temp"), Arc::from("name")];
    sensor_rows(n)
        .iter()
        .map(|o| {
            let fields = keys
                .iter()
                .map(|k| (k.clone(), o.get(&**k).cloned().unwrap_or_default()))
                .collect();
            Row::new(fields, Meta::default(), 0)
        })
        .collect()
}

/// Runs one rule over `batches` on a fresh engine: creates the stream `stream_ddl`
/// (reading the memory topic `topic`) and the rule `rule_json` (id `id`), publishes the
/// batches and waits until the rule has emitted `expected_out` rows.
pub async fn run_memory_rule(
    stream_ddl: &str,
    rule_json: &str,
    topic: &str,
    id: &str,
    batches: Vec<Arc<Vec<tributary_connectors::memory::MemoryRow>>>,
    expected_out: u64,
) {
    let ctx = tributary_engine::EngineContext::new(
        std::env::temp_dir(),
        Arc::new(tributary_core::SystemClock),
    );
    let hub = ctx.hub.clone();
    let engine = tributary_engine::Engine::new(ctx);
    engine.create_stream(stream_ddl).expect("stream");
    let rule = tributary_engine::RuleDef::parse(rule_json).expect("rule");
    engine.create_rule(rule).expect("create rule");
    publish_and_drain(&engine, &hub, topic, batches, id, expected_out).await;
}

/// Publishes `batches` to the memory topic `topic`, then waits (yielding) until rule
/// `id` has emitted `expected_out` rows, and stops it.
pub async fn publish_and_drain(
    engine: &tributary_engine::Engine,
    hub: &tributary_connectors::MemoryHub,
    topic: &str,
    batches: Vec<Arc<Vec<tributary_connectors::memory::MemoryRow>>>,
    id: &str,
    expected_out: u64,
) {
    for b in batches {
        hub.publish(tributary_connectors::memory::MemoryMessage {
            topic: Arc::from(topic),
            rows: b,
            timestamp: 0,
        })
        .await;
    }
    loop {
        let (_, m) = engine.rule_status(id).expect("status");
        if m.records_out >= expected_out {
            break;
        }
        // On one thread, yield to the rule's tasks; on a multi-threaded runtime, sleep,
        // so that polling does not keep a worker from them.
        match tokio::runtime::Handle::current().runtime_flavor() {
            tokio::runtime::RuntimeFlavor::CurrentThread => tokio::task::yield_now().await,
            _ => tokio::time::sleep(std::time::Duration::from_micros(200)).await,
        }
    }
    engine.stop_rule(id).await.expect("stop");
}

/// Benches the rule `SELECT addOne(id) AS x, name FROM s` (memory source → nop sink)
/// over `rows` sensor rows in batches of `batch`, with `add_one` registered as the
/// function `addOne`, as criterion group `group`: the same rule for every plugin tier,
/// so their figures compare, each beside the same rule with the built-in `id + 1`.
pub fn bench_add_one_rule(
    c: &mut criterion::Criterion,
    group: &str,
    rt: &tokio::runtime::Runtime,
    add_one: Arc<dyn tributary_core::function::FunctionFactory>,
    rows: usize,
    batch: usize,
) {
    use criterion::{BatchSize, BenchmarkId, Throughput};
    use tributary_connectors::memory::MemoryRow;
    let ctx = tributary_engine::EngineContext::new(
        std::env::temp_dir(),
        Arc::new(tributary_core::SystemClock),
    );
    ctx.registry
        .write()
        .expect("registry")
        .register(add_one)
        .expect("register");
    let hub = ctx.hub.clone();
    let engine = Arc::new(tributary_engine::Engine::new(ctx));
    engine
        .create_stream(r#"CREATE STREAM s (id BIGINT, temp FLOAT, name STRING) WITH (TYPE="memory", DATASOURCE="bench/in")"#)
        .expect("stream");
    let data = sensor_row_values(rows);
    let make = || -> Vec<Arc<Vec<MemoryRow>>> {
        data.chunks(batch)
            .map(|c| Arc::new(c.iter().cloned().map(MemoryRow::from_row).collect()))
            .collect()
    };
    let mut g = c.benchmark_group(group);
    g.throughput(Throughput::Elements(rows as u64));
    g.sample_size(10);
    let mut n = 0u64;
    // The plugin's rule, and in the same run the same rule with the built-in `id + 1`:
    // the engine's own cost, against which the plugin's share shows.
    for (name, expr) in [
        ("plugin_add_one", "addOne(id)"),
        ("builtin_id_plus_1", "id + 1"),
    ] {
        g.bench_function(BenchmarkId::new(name, rows), |b| {
            b.iter_batched(
                make,
                |batches| {
                    n += 1;
                    let id = format!("bench{n}");
                    let rule = tributary_engine::RuleDef::parse(&format!(
                        r#"{{"id":"{id}","sql":"SELECT {expr} AS x, name FROM s","actions":[{{"nop":{{}}}}]}}"#
                    ))
                    .expect("rule");
                    // The driver runs as a task of the runtime, as the rule's own
                    // tasks do: on a multi-threaded runtime it then shares the
                    // worker with them instead of waking it from another thread.
                    let (engine, hub) = (engine.clone(), hub.clone());
                    let driver = rt.spawn(async move {
                        engine.create_rule(rule).expect("create");
                        publish_and_drain(&engine, &hub, "bench/in", batches, &id, rows as u64)
                            .await
                    });
                    rt.block_on(driver).expect("driver")
                },
                BatchSize::PerIteration,
            )
        });
    }
    g.finish();
}

/// One function of a plugin file, loaded by `tier` outside any plugin host: what a
/// bench calls directly.
pub fn plugin_function(
    tier: &dyn tributary_plugin::Tier,
    root: &std::path::Path,
    name: &str,
    state: Arc<dyn tributary_core::state::StateStore>,
) -> tributary_plugin::function::PluginFunction {
    let path = root
        .join("plugins/functions")
        .join(format!("{name}.{}", tier.ext()));
    let req = tributary_plugin::LoadRequest {
        kind: tributary_plugin::PluginKind::Function,
        name,
        version: "",
        path: &path,
        root,
    };
    match tier.load(&req) {
        Ok(tributary_plugin::Artifact::Function(a)) => {
            tributary_plugin::function::PluginFunction::standalone(a, name, name, state)
        }
        Ok(_) => panic!("{name} is not a function plugin"),
        Err(e) => panic!("load {}: {e}", path.display()),
    }
}
