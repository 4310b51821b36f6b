//! Issue 19's bench: the `influx` sink component (guests/connectors/influx-sink)
//! against the same work done by the built-in `rest` sink, 20,000 sensor rows
//! (memory source, batches of 1,000) written as InfluxDB line protocol to the same
//! loopback HTTP server, in two shapes:
//!
//! - `row`: `SELECT * FROM s` emits each row on its own (as eKuiper does), so each
//!   row is one request of one point: the cost of a request;
//! - `window1000`: `… GROUP BY COUNTWINDOW(1000)` emits 1,000 rows at a time, one
//!   request of 1,000 points: the cost of a point, as a batching writer sees it.
//!
//! The built-in renders the lines with a `dataTemplate`; the component builds them
//! itself. Target: the component within 1.5× of the built-in. Results:
//! benches/README.md.
//!
//! The server is a minimal HTTP/1.1 endpoint on its own threads (`bench-http`): it
//! reads each request, counts its lines and answers 204, as InfluxDB's `/write` does,
//! so the figures are the engine's and the sink's, not a database's. Criterion times a
//! pass (rule created, rows published, every line received, rule stopped); the CPU of
//! the process outside the server's threads per pass is printed after each variant, as
//! µs per row: criterion does not report CPU.

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use criterion::{criterion_group, criterion_main, BatchSize, BenchmarkId, Criterion, Throughput};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tributary_benches::cpu::{process_cpu, thread_cpu};
use tributary_connectors::memory::MemoryRow;

const ROWS: usize = 20_000;
const BATCH: usize = 1_000;

/// What the server received: lines so far, the first line of the last body, and
/// the requests it refused (a body without `Content-Length`).
#[derive(Default)]
struct Received {
    lines: AtomicU64,
    sample: Mutex<String>,
    refused: AtomicU64,
}

/// Answers one connection's requests (keep-alive) until it closes.
fn serve_connection(stream: TcpStream, seen: &Received) -> std::io::Result<()> {
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut out = stream;
    loop {
        let (mut length, mut chunked) = (0usize, false);
        let mut line = String::new();
        // The request line and headers.
        loop {
            line.clear();
            if reader.read_line(&mut line)? == 0 {
                return Ok(());
            }
            let l = line.trim_end();
            if l.is_empty() {
                break;
            }
            if let Some((k, v)) = l.split_once(':') {
                if k.eq_ignore_ascii_case("content-length") {
                    length = v.trim().parse().unwrap_or(0);
                }
                chunked |= k.eq_ignore_ascii_case("transfer-encoding");
            }
        }
        if chunked {
            // This server reads only sized bodies: say so, loudly, rather than wait.
            seen.refused.fetch_add(1, Ordering::Relaxed);
            out.write_all(
                b"HTTP/1.1 411 Length Required\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
            )?;
            return Ok(());
        }
        let mut body = vec![0; length];
        reader.read_exact(&mut body)?;
        let n = body.iter().filter(|b| **b == b'\n').count() as u64;
        if n > 0 {
            let first = body.split(|b| *b == b'\n').next().unwrap_or_default();
            *seen.sample.lock().expect("sample") = String::from_utf8_lossy(first).into_owned();
            seen.lines.fetch_add(n, Ordering::Relaxed);
        }
        out.write_all(b"HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n")?;
    }
}

/// The server on a free loopback port, on threads named `bench-http`.
fn server() -> (u16, Arc<Received>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let seen = Arc::new(Received::default());
    let s = seen.clone();
    std::thread::Builder::new()
        .name("bench-http".into())
        .spawn(move || {
            for conn in listener.incoming().flatten() {
                let s = s.clone();
                let _ = std::thread::Builder::new()
                    .name("bench-http".into())
                    .spawn(move || serve_connection(conn, &s));
            }
        })
        .expect("server thread");
    (port, seen)
}

/// A root holding the example root's influx component, granted `port`.
fn root(port: u16) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    let sinks = dir.path().join("plugins/sinks");
    std::fs::create_dir_all(&sinks).expect("mkdir");
    std::fs::create_dir_all(dir.path().join("etc")).expect("mkdir");
    let from = tributary_tests::wasm_root().join("plugins/sinks");
    for f in ["influx.wasm", "influx.json"] {
        std::fs::copy(from.join(f), sinks.join(f))
            .unwrap_or_else(|e| panic!("{f} (run scripts/build-guests.sh): {e}"));
    }
    std::fs::write(
        dir.path().join("etc/wasm.yaml"),
        format!("grants:\n  influx:\n    network:\n      - {{host: 127.0.0.1, ports: [{port}]}}\n"),
    )
    .expect("grants");
    dir
}

/// The two actions: the same points, to the same server.
fn actions(port: u16) -> [(&'static str, String); 2] {
    let url = format!("http://127.0.0.1:{port}");
    let template = "{% for r in data %}readings,name={{ r.name }} id={{ r.id }}i,temp={{ r.temp }} {{ r.id }}\\n{% endfor %}";
    [
        (
            "component_influx",
            format!(
                r#"{{"influx":{{"addr":"{url}","database":"edge","measurement":"readings","tags":{{"name":"{{{{.name}}}}"}},"tsFieldName":"id"}}}}"#
            ),
        ),
        (
            "builtin_rest",
            format!(
                r#"{{"rest":{{"url":"{url}/write?db=edge&precision=ms","method":"post","bodyType":"text","dataTemplate":"{template}"}}}}"#
            ),
        ),
    ]
}

fn bench(c: &mut Criterion) {
    let (port, seen) = server();
    let dir = root(port);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("tributary-rt")
        .enable_all()
        .build()
        .expect("runtime");
    let ctx = tributary_engine::EngineContext::new(
        dir.path().to_path_buf(),
        Arc::new(tributary_core::SystemClock),
    );
    let wasm = tributary_wasm::WasmEngine::new(
        tributary_wasm::WasmConfig::for_root(dir.path()).expect("wasm config"),
    )
    .expect("wasm engine");
    let host = tributary_plugin::PluginHost::new(tributary_plugin::HostConfig {
        root: dir.path().to_path_buf(),
        tiers: vec![Arc::new(tributary_wasm::WasmTier::new(wasm))],
        state: ctx.state.clone(),
        registrar: Arc::new(ctx.clone()),
        allow_scripts: false,
        failpoint: Default::default(),
    });
    let failures = host.load_all().expect("load");
    assert!(failures.is_empty(), "{failures:?}");
    let hub = ctx.hub.clone();
    let engine = Arc::new(tributary_engine::Engine::new(ctx));
    engine
        .create_stream(r#"CREATE STREAM s (id BIGINT, temp FLOAT, name STRING) WITH (TYPE="memory", DATASOURCE="bench/in")"#)
        .expect("stream");
    let data = tributary_benches::sensor_row_values(ROWS);
    let make = || -> Vec<Arc<Vec<MemoryRow>>> {
        data.chunks(BATCH)
            .map(|c| Arc::new(c.iter().cloned().map(MemoryRow::from_row).collect()))
            .collect()
    };
    let mut g = c.benchmark_group("influx_sink");
    g.throughput(Throughput::Elements(ROWS as u64));
    g.sample_size(10);
    let mut n = 0u64;
    let shapes = [
        ("row", "SELECT * FROM s"),
        ("window1000", "SELECT * FROM s GROUP BY COUNTWINDOW(1000)"),
    ];
    for ((shape, sql), (name, action)) in shapes
        .into_iter()
        .flat_map(|s| actions(port).map(move |a| (s, a)))
    {
        let (mut cpu, mut wall, mut passes) = (Duration::ZERO, Duration::ZERO, 0u32);
        g.bench_function(BenchmarkId::new(name, shape), |b| {
            b.iter_batched(
                make,
                |batches| {
                    n += 1;
                    let id = format!("bench{n}");
                    let rule = tributary_engine::RuleDef::parse(&format!(
                        r#"{{"id":"{id}","sql":"{sql}","actions":[{action}]}}"#
                    ))
                    .expect("rule");
                    let target = seen.lines.load(Ordering::Relaxed) + ROWS as u64;
                    let (engine, hub, seen) = (engine.clone(), hub.clone(), seen.clone());
                    let (cpu0, http0, t0) = (
                        process_cpu(Some(std::process::id())),
                        thread_cpu("bench-http"),
                        Instant::now(),
                    );
                    let driver = rt.spawn(async move {
                        engine.create_rule(rule).expect("create");
                        for b in batches {
                            hub.publish(tributary_connectors::memory::MemoryMessage {
                                topic: Arc::from("bench/in"),
                                rows: b,
                                timestamp: 0,
                            })
                            .await;
                        }
                        // A pass that stops making progress is a broken bench, not a
                        // slow one: fail it with what was seen.
                        let (mut last, mut since) = (0, Instant::now());
                        loop {
                            let got = seen.lines.load(Ordering::Relaxed);
                            if got >= target {
                                break;
                            }
                            let refused = seen.refused.load(Ordering::Relaxed);
                            assert_eq!(refused, 0, "the server refused {refused} chunked requests");
                            if got != last {
                                (last, since) = (got, Instant::now());
                            }
                            assert!(
                                since.elapsed() < Duration::from_secs(30),
                                "no line for 30 s: {got} of {target} received; engine: {:?}",
                                engine.rule_status(&id)
                            );
                            tokio::time::sleep(Duration::from_micros(200)).await;
                        }
                        engine.stop_rule(&id).await.expect("stop");
                    });
                    rt.block_on(driver).expect("driver");
                    wall += t0.elapsed();
                    cpu += (process_cpu(Some(std::process::id())) - cpu0)
                        .saturating_sub(thread_cpu("bench-http") - http0);
                    passes += 1;
                },
                BatchSize::PerIteration,
            )
        });
        if passes == 0 {
            // Filtered out on the command line (`--bench window1000`).
            continue;
        }
        let rows = f64::from(passes) * ROWS as f64;
        eprintln!(
            "{name}/{shape}: {:.0} rows/s over {passes} passes; CPU outside the server {:.2} µs/row ({:.0}% of a core); a line sent: {}",
            rows / wall.as_secs_f64().max(1e-9),
            cpu.as_secs_f64() * 1e6 / rows.max(1.0),
            100.0 * cpu.as_secs_f64() / wall.as_secs_f64().max(1e-9),
            seen.sample.lock().expect("sample")
        );
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
