//! A wasm plugin's network: denied unless its manifest asks and `etc/wasm.yaml`
//! grants, per host and port, for `wasi:sockets` (TCP, UDP) and `wasi:http`. The
//! `netProbe` example component tries each against servers this test runs on
//! loopback; a refusal is the row's error, the servers never see the connection,
//! and `serve` logs and counts it. A JavaScript component built by componentize-js
//! with its default settings (which import `wasi:http`) loads and runs.

use reqwest::Method as M;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, UdpSocket};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use tributary_tests::api_server::Server;
use tributary_tests::{function_root, trial_call, trial_text, wasm_root, workspace};

/// A loopback server counting what reached it.
struct Peer {
    port: u16,
    hits: Arc<AtomicUsize>,
}

impl Peer {
    fn hits(&self) -> usize {
        self.hits.load(Ordering::SeqCst)
    }
}

/// Answers each line of each connection with `echo: <line>`.
fn tcp_echo() -> Peer {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = l.local_addr().expect("addr").port();
    let hits = Arc::new(AtomicUsize::new(0));
    let h = hits.clone();
    std::thread::spawn(move || {
        for s in l.incoming().flatten() {
            h.fetch_add(1, Ordering::SeqCst);
            let mut w = s.try_clone().expect("clone");
            let mut line = String::new();
            if BufReader::new(s).read_line(&mut line).is_ok() {
                let _ = writeln!(w, "echo: {}", line.trim_end());
            }
        }
    });
    Peer { port, hits }
}

fn udp_echo() -> Peer {
    let s = UdpSocket::bind("127.0.0.1:0").expect("bind");
    let port = s.local_addr().expect("addr").port();
    let hits = Arc::new(AtomicUsize::new(0));
    let h = hits.clone();
    std::thread::spawn(move || {
        let mut buf = [0u8; 1500];
        while let Ok((n, from)) = s.recv_from(&mut buf) {
            h.fetch_add(1, Ordering::SeqCst);
            let reply = format!("echo: {}", String::from_utf8_lossy(&buf[..n]));
            let _ = s.send_to(reply.as_bytes(), from);
        }
    });
    Peer { port, hits }
}

/// Answers every request `200 hello over http`.
fn http_server() -> Peer {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = l.local_addr().expect("addr").port();
    let hits = Arc::new(AtomicUsize::new(0));
    let h = hits.clone();
    std::thread::spawn(move || {
        for mut s in l.incoming().flatten() {
            h.fetch_add(1, Ordering::SeqCst);
            let mut head = Vec::new();
            let mut byte = [0u8; 1];
            while !head.ends_with(b"\r\n\r\n") && s.read(&mut byte).is_ok_and(|n| n == 1) {
                head.push(byte[0]);
            }
            let body = "hello over http";
            let _ = write!(
                s,
                "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    Peer { port, hits }
}

/// A root with only `netProbe`, its manifest and the operator's grants.
fn probe_root(manifest: Option<String>, grants: Option<String>) -> tempfile::TempDir {
    let wasm = wasm_root().join("plugins/functions/netProbe.wasm");
    function_root(&wasm, "netProbe", manifest, grants)
}

/// The emission of `SELECT <call> AS r` on one row, through `tributary trial`.
fn call(root: &std::path::Path, call: &str) -> String {
    let (ok, out, err) = trial_call(root, call, &[]);
    assert!(ok, "{call}: {err}");
    out
}

fn is_error(out: &str, want: &str) -> bool {
    out.contains(r#""error""#) && out.to_lowercase().contains(&want.to_lowercase())
}

#[test]
fn a_plugin_without_a_grant_reaches_nothing_and_sees_an_error() {
    let (tcp, udp, web) = (tcp_echo(), udp_echo(), http_server());
    // It asks, but the operator grants nothing: the same as asking for nothing.
    let manifest = serde_json::json!({"capabilities": {"network": [{"host": "*"}, "http://*:1"]}});
    for dir in [
        probe_root(None, None),
        probe_root(Some(manifest.to_string()), None),
    ] {
        let root = dir.path();
        let out = call(root, &format!("tcpAsk('127.0.0.1:{}', 'ping')", tcp.port));
        assert!(is_error(&out, "permission denied"), "{out}");
        let out = call(root, &format!("udpAsk('127.0.0.1:{}', 'ping')", udp.port));
        assert!(is_error(&out, "access-denied"), "{out}");
        let out = call(root, &format!("httpGet('http://127.0.0.1:{}/x')", web.port));
        assert!(is_error(&out, "HttpRequestDenied"), "{out}");
    }
    assert_eq!((tcp.hits(), udp.hits(), web.hits()), (0, 0, 0));
}

#[test]
fn a_grant_opens_its_hosts_and_ports_and_nothing_beside_them() {
    let (tcp, other, udp, web) = (tcp_echo(), tcp_echo(), udp_echo(), http_server());
    // The plugin asks broadly; the operator narrows it to one address and its ports.
    let manifest = serde_json::json!({"capabilities": {"network": [
        {"host": "*", "ports": [tcp.port, other.port, udp.port]},
        format!("http://*:{}", web.port)
    ]}});
    let grants = format!(
        "grants:\n  netProbe:\n    network:\n      - {{host: 127.0.0.1, ports: [{}, {}]}}\n      - http://127.0.0.1:{}\n",
        tcp.port, udp.port, web.port
    );
    let dir = probe_root(Some(manifest.to_string()), Some(grants));
    let root = dir.path();
    let out = call(root, &format!("tcpAsk('127.0.0.1:{}', 'ping')", tcp.port));
    assert!(out.contains(r#""r":"echo: ping""#), "{out}");
    let out = call(root, &format!("udpAsk('127.0.0.1:{}', 'ping')", udp.port));
    assert!(out.contains(r#""r":"echo: ping""#), "{out}");
    let out = call(root, &format!("httpGet('http://127.0.0.1:{}/x')", web.port));
    assert!(out.contains(r#""r":"200 hello over http""#), "{out}");

    // Another port on the same host; the granted HTTP port over plain TCP; the HTTP
    // server by a name the grant does not list.
    let out = call(root, &format!("tcpAsk('127.0.0.1:{}', 'ping')", other.port));
    assert!(is_error(&out, "permission denied"), "{out}");
    let out = call(
        root,
        &format!("tcpAsk('127.0.0.1:{}', 'GET / HTTP/1.0')", web.port),
    );
    assert!(is_error(&out, "permission denied"), "{out}");
    let out = call(root, &format!("httpGet('http://localhost:{}/x')", web.port));
    assert!(is_error(&out, "HttpRequestDenied"), "{out}");
    assert_eq!(
        (tcp.hits(), other.hits(), udp.hits(), web.hits()),
        (1, 0, 1, 1)
    );
}

#[test]
fn serve_shows_the_effective_grants_and_counts_and_logs_each_refusal() {
    let tcp = tcp_echo();
    let manifest = serde_json::json!({"capabilities": {"network": [
        {"host": "*", "ports": [tcp.port]}, {"host": "*.corp.example", "ports": [1]}
    ]}});
    let grants = format!(
        "grants:\n  netProbe:\n    network: [{{host: 127.0.0.1, ports: [{}]}}]\n",
        tcp.port
    );
    let dir = probe_root(Some(manifest.to_string()), Some(grants));
    let root = dir.path();
    std::fs::create_dir_all(root.join("data")).expect("mkdir");
    std::fs::write(root.join("data/in.json"), r#"[{"id": 1}, {"id": 2}]"#).expect("input");
    let s = Server::start(root, None);
    let described = s.json("/plugins/functions/netProbe");
    let caps = &described["capabilities"];
    assert_eq!(
        caps["network"],
        serde_json::json!([format!("127.0.0.1:{}", tcp.port)]),
        "{described}"
    );
    assert_eq!(
        caps["networkNotGranted"],
        serde_json::json!(["*.corp.example:1"]),
        "{described}"
    );

    let (status, body) = s.call(
        M::POST,
        "/streams",
        Some(r#"{"sql": "CREATE STREAM s (id BIGINT) WITH (TYPE=\"file\", DATASOURCE=\"in.json\", FORMAT=\"json\")"}"#),
    );
    assert_eq!(status, 201, "{body}");
    let rule = serde_json::json!({
        "id": "denied",
        "sql": "SELECT tcpAsk('127.0.0.1:9', 'x') AS r FROM s",
        "actions": [{"nop": {}}]
    });
    let (status, body) = s.call(M::POST, "/rules", Some(&rule.to_string()));
    assert_eq!(status, 201, "{body}");
    let start = std::time::Instant::now();
    let denied = loop {
        let (_, metrics) = s.call(M::GET, "/metrics", None);
        let n = metrics
            .lines()
            .find(|l| l.starts_with("tributary_plugin_network_denied_total{tier=\"wasm\",kind=\"function\",plugin=\"netProbe\""))
            .and_then(|l| l.rsplit(' ').next())
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(0);
        if n >= 2 || start.elapsed() > std::time::Duration::from_secs(30) {
            break n;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    };
    assert_eq!(denied, 2, "one refusal per row: {}", s.log());
    let log = s.log();
    assert!(
        log.contains("network access denied") && log.contains("plugin=netProbe rule=denied"),
        "{log}"
    );
    // The host and the rule carry on: the refusals are the rows' errors, and the rule
    // ends with its (finite) source, not with a fault.
    let status = s.json("/rules/denied/status");
    assert_eq!(status["message"], "Stopped: the source ended.", "{status}");
    assert_eq!(tcp.hits(), 0);
}

#[test]
fn waiting_on_io_is_not_cpu_time_but_io_wait_ms_bounds_the_call() {
    let dir = probe_root(None, Some("limits: {deadlineMs: 200}\n".into()));
    let out = call(dir.path(), "sleepMs(600)");
    assert!(
        out.contains(r#""r":600"#),
        "a 600 ms wait within a 200 ms deadline: {out}"
    );
    let dir = probe_root(
        None,
        Some("limits: {deadlineMs: 200, ioWaitMs: 300}\n".into()),
    );
    let out = call(dir.path(), "sleepMs(600)");
    assert!(
        is_error(&out, "took longer than ioWaitMs (300 ms)"),
        "{out}"
    );
}

#[test]
fn an_http_server_that_never_answers_fails_the_request_within_io_wait_ms() {
    // Accepts, reads the request and holds the connection open without a word.
    let l = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = l.local_addr().expect("addr").port();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for s in l.incoming().flatten() {
            held.push(s);
        }
    });
    let grants = format!(
        "limits: {{ioWaitMs: 500}}\ngrants:\n  netProbe:\n    network: [http://127.0.0.1:{port}]\n"
    );
    let manifest =
        serde_json::json!({"capabilities": {"network": [format!("http://127.0.0.1:{port}")]}});
    let dir = probe_root(Some(manifest.to_string()), Some(grants));
    let started = std::time::Instant::now();
    let out = call(dir.path(), &format!("httpGet('http://127.0.0.1:{port}/x')"));
    // Without the host's cap the request would wait wasmtime's default of ten
    // minutes; this bound only tells a hang from an answer.
    assert!(
        started.elapsed() < std::time::Duration::from_secs(60),
        "{:?}",
        started.elapsed()
    );
    assert!(
        is_error(&out, "ConnectionReadTimeout") || is_error(&out, "ioWaitMs (500 ms)"),
        "{out}"
    );
}

#[test]
fn a_default_built_javascript_component_imports_wasi_http_and_runs() {
    let built = workspace().join("target/example-roots/wasm-js/plugins/functions/greet.wasm");
    let wasm = std::fs::read(&built).expect("greet.wasm (scripts/build-guests.sh)");
    assert!(
        wasm.windows(16).any(|w| w == b"wasi:http/types@"),
        "componentize-js's defaults import wasi:http"
    );
    let dir = function_root(&built, "greet", None, None);
    let out = call(dir.path(), "greet('tributary')");
    assert!(out.contains(r#""r":"hello, tributary""#), "{out}");
    let out = call(dir.path(), "greet(size)");
    assert!(is_error(&out, "greet expects a string"), "{out}");
}

/// A root holding the default-built JavaScript `greet` component (its `fetchText`
/// does a `fetch`), granted `grants` (etc/wasm.yaml) and asking `asks` (manifest).
fn js_root(asks: &[String], grants: &[String]) -> tempfile::TempDir {
    let wasm = workspace().join("target/example-roots/wasm-js/plugins/functions/greet.wasm");
    let manifest = serde_json::json!({"capabilities": {"network": asks}});
    // YAML is a superset of JSON.
    let grants = serde_json::json!({"grants": {"greet": {"network": grants}}});
    function_root(
        &wasm,
        "greet",
        Some(manifest.to_string()),
        Some(grants.to_string()),
    )
}

#[test]
fn a_javascript_fetch_is_refused_unless_granted_and_then_reaches_its_server() {
    let (web, other) = (http_server(), http_server());
    let url = |p: &Peer| format!("http://127.0.0.1:{}", p.port);
    let fetch = |p: &Peer| format!("fetchText('{}/x')", url(p));
    // Nothing granted: `fetch` rejects, the row carries the error, the server is
    // never reached.
    let dir = js_root(&[url(&web)], &[]);
    let out = call(dir.path(), &fetch(&web));
    assert!(is_error(&out, "NetworkError"), "{out}");
    assert_eq!(web.hits(), 0);
    // Granted: the request goes through.
    let dir = js_root(&[url(&web)], &[url(&web)]);
    let out = call(dir.path(), &fetch(&web));
    assert!(out.contains(r#""r":"200 hello over http""#), "{out}");
    assert_eq!(web.hits(), 1);
    // A grant for one port does not open another on the same host.
    let out = call(dir.path(), &fetch(&other));
    assert!(is_error(&out, "NetworkError"), "{out}");
    assert_eq!(other.hits(), 0);
}

/// Answers every request of a connection `200 ok`, keeping it open; counts the
/// connections and the requests apart.
fn keep_alive_server() -> (Peer, Arc<AtomicUsize>) {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = l.local_addr().expect("addr").port();
    let (conns, requests) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let (c, r) = (conns.clone(), requests.clone());
    std::thread::spawn(move || {
        for s in l.incoming().flatten() {
            c.fetch_add(1, Ordering::SeqCst);
            let r = r.clone();
            std::thread::spawn(move || {
                let mut w = s.try_clone().expect("clone");
                let mut reader = BufReader::new(s);
                let mut line = String::new();
                loop {
                    line.clear();
                    match reader.read_line(&mut line) {
                        Ok(0) | Err(_) => return,
                        Ok(_) if line == "\r\n" => {
                            r.fetch_add(1, Ordering::SeqCst);
                            let _ = w.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
                        }
                        Ok(_) => {}
                    }
                }
            });
        }
    });
    (Peer { port, hits: conns }, requests)
}

#[test]
fn an_instance_sends_its_requests_over_one_kept_open_connection() {
    let (web, requests) = keep_alive_server();
    let grants = format!(
        "grants:\n  netProbe:\n    network: [http://127.0.0.1:{}]\n",
        web.port
    );
    let manifest = serde_json::json!({"capabilities": {"network": [format!("http://127.0.0.1:{}", web.port)]}});
    let dir = probe_root(Some(manifest.to_string()), Some(grants));
    let spec = serde_json::json!({
        "id": "reuse",
        "sql": format!("SELECT httpGet('http://127.0.0.1:{}/x') AS r FROM demo", web.port),
        "streams": ["CREATE STREAM demo (size BIGINT) WITH (TYPE=\"mock\")"],
        "options": {"sendError": true},
        "mockSource": {"demo": {"data": [{"size": 1}, {"size": 2}, {"size": 3}], "timestamps": [1000, 2000, 3000]}}
    });
    let (ok, text, err) = trial_text(&spec.to_string(), Some(dir.path()));
    assert!(ok, "{text} {err}");
    assert_eq!(text.matches("200 ok").count(), 3, "{text}");
    assert_eq!(requests.load(Ordering::SeqCst), 3);
    assert_eq!(web.hits(), 1, "three requests, one connection");
}
