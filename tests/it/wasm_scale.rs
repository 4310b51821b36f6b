//! Thousands of rules with wasm functions on one node: the instance pool's defaults
//! hold them, and when a (deliberately small) pool is full, instances are allocated
//! on demand instead of the rule being refused.

use reqwest::Method;
use serde_json::json;
use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, Instant};
use tributary_tests::api_server::Server;
use tributary_tests::wasm_root;

/// A root with the `addOne` component and, when given, `etc/wasm.yaml`.
fn root(dir: &Path, wasm_yaml: Option<&str>) {
    let functions = dir.join("plugins/functions");
    std::fs::create_dir_all(&functions).expect("mkdir");
    std::fs::copy(
        wasm_root().join("plugins/functions/addOne.wasm"),
        functions.join("addOne.wasm"),
    )
    .expect("copy");
    if let Some(y) = wasm_yaml {
        std::fs::create_dir_all(dir.join("etc")).expect("mkdir");
        std::fs::write(dir.join("etc/wasm.yaml"), y).expect("wasm.yaml");
    }
}

/// Creates `n` rules `r0`…, each calling `addOne` on a simulator stream of its own
/// records, over the REST API.
fn create_rules(server: &Server, n: usize) {
    let (code, text) = server.call(
        Method::POST,
        "/streams",
        Some(&json!({"sql": "CREATE STREAM s (x BIGINT) WITH (TYPE=\"simulator\", DATASOURCE=\"s\")"}).to_string()),
    );
    assert_eq!(code, 201, "{text}");
    for i in 0..n {
        let rule = json!({
            "id": format!("r{i}"),
            "sql": "SELECT addOne(x) AS y FROM s",
            "actions": [{"nop": {}}]
        });
        let (code, text) = server.call(Method::POST, "/rules", Some(&rule.to_string()));
        assert_eq!(code, 201, "rule {i}: {text}");
    }
}

/// Each rule's records out, from `/metrics`.
fn records_out(server: &Server) -> BTreeMap<String, u64> {
    let (_, text) = server.call(Method::GET, "/metrics", None);
    text.lines()
        .filter_map(|l| l.strip_prefix("tributary_rule_records_out_total{rule=\""))
        .filter_map(|l| {
            let (rule, rest) = l.split_once('"')?;
            let n = rest.rsplit(' ').next()?.parse().ok()?;
            Some((rule.to_string(), n))
        })
        .collect()
}

/// Waits until every one of `n` rules has sent output.
fn all_emit(server: &Server, n: usize) {
    let start = Instant::now();
    loop {
        let out = records_out(server);
        let emitting = out.values().filter(|v| **v > 0).count();
        if emitting == n {
            return;
        }
        assert!(
            start.elapsed() < Duration::from_secs(120),
            "only {emitting} of {n} rules emitted"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// The server's resident memory (Linux).
fn rss_kib(server: &Server) -> u64 {
    let status =
        std::fs::read_to_string(format!("/proc/{}/status", server.pid())).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}

#[test]
fn two_thousand_rules_with_a_wasm_function_all_run() {
    let dir = tempfile::tempdir().expect("tempdir");
    root(dir.path(), None);
    std::fs::create_dir_all(dir.path().join("etc/sources")).expect("mkdir");
    std::fs::write(
        dir.path().join("etc/sources/simulator.yaml"),
        "default:\n  interval: 1000\n  data: [{\"x\": 1}]\n",
    )
    .expect("conf");
    let server = Server::start(dir.path(), None);
    let before = rss_kib(&server);
    let n = 2000;
    let started = Instant::now();
    create_rules(&server, n);
    let created = started.elapsed();
    all_emit(&server, n);
    let after = rss_kib(&server);
    let per_rule = after.saturating_sub(before) / n as u64;
    eprintln!(
        "{n} rules with a wasm function: created in {:.1} s over the REST API, resident memory {before} KiB -> {after} KiB, {per_rule} KiB per rule",
        created.as_secs_f64()
    );
    // The pool only reserves address space: a rule's instance costs what it touches.
    assert!(per_rule < 2048, "{per_rule} KiB per rule");
    assert!(
        !server.log().contains("allocated on demand"),
        "2,000 instances fit the default pool"
    );
}

#[test]
fn a_full_pool_allocates_on_demand_instead_of_refusing_rules() {
    let dir = tempfile::tempdir().expect("tempdir");
    root(
        dir.path(),
        Some("pool: {instances: 4, coreInstances: 16, memories: 4, tables: 16}\n"),
    );
    std::fs::create_dir_all(dir.path().join("etc/sources")).expect("mkdir");
    std::fs::write(
        dir.path().join("etc/sources/simulator.yaml"),
        "default:\n  interval: 200\n  data: [{\"x\": 1}]\n",
    )
    .expect("conf");
    let server = Server::start(dir.path(), None);
    let n = 12;
    create_rules(&server, n);
    all_emit(&server, n);
    assert!(
        server.log().contains("the wasm instance pool is full"),
        "the overflow is logged once:\n{}",
        server.log()
    );
    // A bad pool setting is refused, naming the key.
    let bad = tempfile::tempdir().expect("tempdir");
    root(bad.path(), Some("pool: {instance: 4}\n"));
    let (ok, log) = tributary_tests::serve_until(bad.path(), |_| false);
    assert!(!ok && log.contains("instance"), "{log}");
}
