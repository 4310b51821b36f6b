//! Issue 9's bench: MQTT → `SELECT * FROM s WHERE temperature > 50` → MQTT through a
//! real mosquitto on loopback. Target: ≥ 100k msg/s into the rule (eKuiper publishes
//! 10–12k msg/s). Results: benches/README.md.
//!
//! One broker, one load generator (a rumqttc publisher on `in/sensor` and a rumqttc
//! subscriber on `out`, on their own runtime) and, in the same run, three pipelines
//! between them:
//!
//! - `broker_only`: the subscriber reads `in/#` itself: what the broker and the two
//!   clients can move on this machine, the ceiling of any pipeline;
//! - `rumqttc_relay`: a hand-written relay (rumqttc subscriber, serde_json parse, the
//!   `temperature > 50` test, rumqttc publish), the least a program doing this job does;
//! - `tributary`: the engine with its built-in MQTT source and sink.
//!
//! Each iteration publishes `MESSAGES` readings (half of them hot) and ends when the
//! subscriber has the hot ones. Throughput is input messages per second. The CPU time
//! of the pipeline's own threads (and of mosquitto) per iteration is printed after
//! each pipeline, as the share of one core and microseconds per message: criterion
//! does not report CPU.

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use rumqttc::{AsyncClient, Event, MqttOptions, Packet, QoS};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tributary_benches::cpu::{process_cpu, thread_cpu, Cpu};
use tributary_tests::mosquitto::Mosquitto;

const MESSAGES: u64 = 100_000;
const SQL: &str = "SELECT * FROM s WHERE temperature > 50";
/// Every other reading is hot.
const HOT: u64 = MESSAGES / 2;

fn options(id: &str, port: u16) -> MqttOptions {
    let mut o = MqttOptions::new(id, "127.0.0.1", port);
    o.set_keep_alive(Duration::from_secs(30));
    o.set_max_packet_size(1 << 20, 1 << 20);
    o
}

/// What a subscriber has seen, and a wake-up when the count reaches `target` (so the
/// pass that waits for it costs no polling).
#[derive(Default)]
struct Seen {
    count: AtomicU64,
    target: AtomicU64,
    reached: tokio::sync::Notify,
}

impl Seen {
    fn load(&self) -> u64 {
        self.count.load(Ordering::Relaxed)
    }
}

/// Subscribes `filter` and counts what arrives; returns once the broker granted it,
/// with the client (to disconnect it).
async fn counter(port: u16, id: &str, filter: &str) -> (Arc<Seen>, AsyncClient) {
    let (client, mut events) = AsyncClient::new(options(id, port), 1024);
    let seen = Arc::new(Seen::default());
    let count = seen.clone();
    client
        .subscribe(filter, QoS::AtMostOnce)
        .await
        .expect("subscribe");
    let (ready_tx, ready_rx) = tokio::sync::oneshot::channel();
    tokio::spawn(async move {
        let mut ready = Some(ready_tx);
        loop {
            match events.poll().await {
                Ok(Event::Incoming(Packet::Publish(_))) => {
                    let n = count.count.fetch_add(1, Ordering::Relaxed) + 1;
                    if n == count.target.load(Ordering::Relaxed) {
                        count.reached.notify_one();
                    }
                }
                Ok(Event::Incoming(Packet::SubAck(_))) => {
                    if let Some(r) = ready.take() {
                        let _ = r.send(());
                    }
                }
                Ok(Event::Outgoing(rumqttc::Outgoing::Disconnect)) => return,
                Ok(_) => {}
                Err(e) => panic!("bench subscriber: {e}"),
            }
        }
    });
    ready_rx.await.expect("suback");
    (seen, client)
}

/// The publisher: an event loop driven on the load runtime.
async fn publisher(port: u16) -> AsyncClient {
    publisher_named(port, "bench-pub").await
}

/// A publishing client whose event loop runs in a task of the current runtime.
async fn publisher_named(port: u16, id: &str) -> AsyncClient {
    let (client, mut events) = AsyncClient::new(options(id, port), 4096);
    tokio::spawn(async move {
        loop {
            if let Err(e) = events.poll().await {
                panic!("bench publisher: {e}");
            }
        }
    });
    client
}

/// The readings: `{"id": i, "temperature": t}`, `t` above 50 for odd `i`.
fn readings() -> Vec<Vec<u8>> {
    (0..MESSAGES)
        .map(|i| {
            let t = if i % 2 == 1 { 60.5 } else { 20.5 } + (i % 7) as f64;
            format!(r#"{{"id":{i},"temperature":{t}}}"#).into_bytes()
        })
        .collect()
}

/// Publishes the readings and waits until `seen` has grown by `expect` (or stalls for
/// 5 s: qos 0 may lose messages under overload, which the bench reports).
async fn one_pass(
    pub_client: &AsyncClient,
    data: &[Vec<u8>],
    seen: &Seen,
    expect: u64,
) -> Duration {
    let before = seen.load();
    let target = before + expect;
    seen.target.store(target, Ordering::Relaxed);
    let start = Instant::now();
    for p in data {
        pub_client
            .publish("in/sensor", QoS::AtMostOnce, false, p.clone())
            .await
            .expect("publish");
    }
    let mut last = before;
    loop {
        let woken = tokio::time::timeout(Duration::from_secs(5), seen.reached.notified()).await;
        let now = seen.load();
        if now >= target {
            return start.elapsed();
        }
        if woken.is_err() && now == last {
            eprintln!(
                "  lost: {} of {expect} messages never arrived",
                target - now
            );
            return start.elapsed() - Duration::from_secs(5);
        }
        last = now;
    }
}

/// The hand-written relay: what a program doing this job by hand costs. Like
/// Tributary's source and sink, it has a client to read and one to write: the reading
/// client's event loop hands each payload to a worker task, which parses it, tests it
/// and publishes the hot ones through the writing client. (With one client, the event
/// loop waiting on a full worker while the worker waits on the event loop's full
/// queue is a deadlock.)
async fn relay(port: u16) {
    let (sub, mut events) = AsyncClient::new(options("bench-relay-in", port), 4096);
    let client = publisher_named(port, "bench-relay-out").await;
    sub.subscribe("in/#", QoS::AtMostOnce)
        .await
        .expect("subscribe");
    let (tx, mut rx) = tokio::sync::mpsc::channel::<rumqttc::Publish>(1024);
    tokio::spawn(async move {
        while let Some(p) = rx.recv().await {
            let Ok(v) = serde_json::from_slice::<serde_json::Value>(&p.payload) else {
                continue;
            };
            if v.get("temperature").and_then(|t| t.as_f64()).unwrap_or(0.0) > 50.0 {
                let out = serde_json::to_vec(&v).expect("json");
                client
                    .publish("out", QoS::AtMostOnce, false, out)
                    .await
                    .expect("relay publish");
            }
        }
    });
    let (ready_tx, ready_rx) = tokio::sync::oneshot::channel();
    tokio::spawn(async move {
        let _sub = sub;
        let mut ready = Some(ready_tx);
        loop {
            match events.poll().await {
                Ok(Event::Incoming(Packet::Publish(p))) => {
                    if tx.send(p).await.is_err() {
                        return;
                    }
                }
                Ok(Event::Incoming(Packet::SubAck(_))) => {
                    if let Some(r) = ready.take() {
                        let _ = r.send(());
                    }
                }
                Ok(_) => {}
                Err(e) => {
                    eprintln!("bench relay: {e}");
                    return;
                }
            }
        }
    });
    ready_rx.await.expect("suback");
}

/// The engine with the rule, its MQTT source on `in/#` and its MQTT sink on `out`.
fn tributary(
    rt: &tokio::runtime::Runtime,
    root: &std::path::Path,
    broker: &Mosquitto,
) -> tributary_engine::Engine {
    std::fs::create_dir_all(root.join("etc")).expect("mkdir");
    std::fs::write(
        root.join("etc/mqtt_source.yaml"),
        format!(
            "default:\n  server: {}\n  qos: 0\n  clientid: bench-source\n",
            broker.url()
        ),
    )
    .expect("conf");
    let rule = format!(
        r#"{{"id":"hot","sql":"{SQL}","actions":[{{"mqtt":{{"server":"{}","topic":"out","qos":0,"clientId":"bench-sink","sendSingle":true}}}}]}}"#,
        broker.url()
    );
    rt.block_on(async {
        let ctx = tributary_engine::EngineContext::new(root.to_path_buf(), Arc::new(tributary_core::SystemClock));
        let engine = tributary_engine::Engine::new(ctx);
        engine
            .create_stream(r#"CREATE STREAM s (id BIGINT, temperature FLOAT) WITH (DATASOURCE="in/#", FORMAT="json")"#)
            .expect("stream");
        engine
            .create_rule(tributary_engine::RuleDef::parse(&rule).expect("rule"))
            .expect("rule");
        engine
    })
}

/// Publishes single hot readings until one comes out: the pipeline is connected.
fn wait_connected(load: &tokio::runtime::Runtime, pub_client: &AsyncClient, seen: &Seen) {
    load.block_on(async {
        let before = seen.load();
        let start = Instant::now();
        while seen.load() == before {
            assert!(
                start.elapsed() < Duration::from_secs(20),
                "pipeline never connected"
            );
            pub_client
                .publish(
                    "in/sensor",
                    QoS::AtMostOnce,
                    false,
                    br#"{"id":-1,"temperature":99}"#.to_vec(),
                )
                .await
                .expect("publish");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        // Let the probes drain.
        tokio::time::sleep(Duration::from_millis(300)).await;
    });
}

fn runtime(name: &str, threads: usize) -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(threads)
        .thread_name(name)
        .enable_all()
        .build()
        .expect("runtime")
}

/// Runs one pipeline under criterion, then prints its CPU per message.
#[allow(clippy::too_many_arguments)]
fn measure(
    g: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>,
    name: &str,
    threads: &str,
    broker: &Mosquitto,
    load: &tokio::runtime::Runtime,
    pub_client: &AsyncClient,
    seen: &Seen,
    expect: u64,
    data: &[Vec<u8>],
) {
    let mut cpu = Cpu::default();
    g.bench_function(BenchmarkId::new(name, MESSAGES), |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let (p0, m0) = (thread_cpu(threads), process_cpu(broker.pid()));
                let wall = load.block_on(one_pass(pub_client, data, seen, expect));
                let (p1, m1) = (thread_cpu(threads), process_cpu(broker.pid()));
                cpu.add(p1 - p0, m1 - m0, wall, MESSAGES);
                total += wall;
            }
            total
        })
    });
    eprintln!("{name}: {cpu}");
}

fn bench(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("tempdir");
    let broker = Mosquitto::start(&dir.path().join("broker"));
    let load = runtime("bench-load", 1);
    let pub_client = load.block_on(publisher(broker.port));
    let data = readings();

    let mut g = c.benchmark_group("mqtt_pipeline");
    g.throughput(Throughput::Elements(MESSAGES));
    // One pass takes about a second: ten flat samples of one or two passes each.
    g.sample_size(10);
    g.sampling_mode(criterion::SamplingMode::Flat);
    g.warm_up_time(Duration::from_secs(2));
    g.measurement_time(Duration::from_secs(10));

    // The ceiling: the subscriber reads the input topic itself.
    let (direct, direct_client) = load.block_on(counter(broker.port, "bench-direct", "in/#"));
    measure(
        &mut g,
        "broker_only",
        "none",
        &broker,
        &load,
        &pub_client,
        &direct,
        MESSAGES,
        &data,
    );
    load.block_on(direct_client.disconnect())
        .expect("disconnect");

    let relay_rt = runtime("relay-rt", 2);
    let (out, _out_client) = load.block_on(counter(broker.port, "bench-sub", "out"));
    relay_rt.block_on(relay(broker.port));
    wait_connected(&load, &pub_client, &out);
    measure(
        &mut g,
        "rumqttc_relay",
        "relay-rt",
        &broker,
        &load,
        &pub_client,
        &out,
        HOT,
        &data,
    );
    relay_rt.shutdown_timeout(Duration::from_secs(1));

    // serve's runtime has a worker per core (two here); one worker saves the
    // hand-offs between threads.
    for (name, workers) in [("tributary", 2), ("tributary_1_worker", 1)] {
        let engine_rt = runtime("tributary-rt", workers);
        let engine = tributary(&engine_rt, &dir.path().join(name), &broker);
        wait_connected(&load, &pub_client, &out);
        measure(
            &mut g,
            name,
            "tributary-rt",
            &broker,
            &load,
            &pub_client,
            &out,
            HOT,
            &data,
        );
        if let Ok((_, m)) = engine.rule_status("hot") {
            eprintln!(
                "{name} rule: {} records in, {} batches, {} out",
                m.records_in, m.batches, m.records_out
            );
        }
        engine_rt.block_on(engine.shutdown());
        engine_rt.shutdown_timeout(Duration::from_secs(1));
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
