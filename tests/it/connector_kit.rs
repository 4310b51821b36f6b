//! What the tests of the connector plugins (guests/connectors) share: a root whose
//! `etc/wasm.yaml` grants a plugin one port, installing a connector as a package over
//! REST, creating rules, and reading the outcome (a refusal naming a prop, the
//! plugin's count of denied network uses).

use reqwest::Method as M;
use std::time::Duration;
use tributary_tests::api_server::Server;
use tributary_tests::wasm_package;

/// A root (with `etc` and `data`) granting the plugin `name` TCP `port` on
/// 127.0.0.1, or nothing when `None`.
pub fn granted_root(name: &str, port: Option<u16>) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    for d in ["etc", "data"] {
        std::fs::create_dir_all(dir.path().join(d)).expect("mkdir");
    }
    if let Some(p) = port {
        let grants = format!(
            "grants:\n  {name}:\n    network:\n      - {{host: 127.0.0.1, ports: [{p}]}}\n"
        );
        std::fs::write(dir.path().join("etc/wasm.yaml"), grants).expect("grants");
    }
    dir
}

/// Installs the example root's connector `name` of `kind` (`sink`, `source`) as a
/// package through the REST API.
pub fn install(s: &Server, kind: &str, name: &str) {
    let (code, body) = s.send_bytes(
        M::POST,
        &format!("/plugins/{kind}s?name={name}"),
        "application/zip",
        wasm_package(kind, name),
    );
    assert_eq!(code, 201, "{body}");
}

pub fn ok(r: (u16, String)) {
    assert!(r.0 == 200 || r.0 == 201, "{}", r.1);
}

/// Creates the stream or table of `sql` at `path` (`/streams`, `/tables`).
pub fn create(s: &Server, path: &str, sql: &str) {
    ok(s.call(
        M::POST,
        path,
        Some(&serde_json::json!({ "sql": sql }).to_string()),
    ));
}

pub fn rule(s: &Server, id: &str, sql: &str, action: serde_json::Value) {
    let body = serde_json::json!({"id": id, "sql": sql, "actions": [action]});
    ok(s.call(M::POST, "/rules", Some(&body.to_string())));
}

/// Waits up to 30 s for `done`; on a timeout, fails with the server's log.
pub fn until(s: &Server, what: &str, mut done: impl FnMut() -> bool) {
    let start = std::time::Instant::now();
    while !done() {
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "timed out waiting for {what}; the log:\n{}",
            s.log()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A rule `id` over `s` with the one action `action` is refused naming `want`: at
/// creation, or in the rule's status or the log once the sink opens. The rule is
/// deleted after.
pub fn refused(s: &Server, id: &str, action: serde_json::Value, want: &str) {
    let body = serde_json::json!({"id": id, "sql": "SELECT * FROM s", "actions": [action]});
    let (code, text) = s.call(M::POST, "/rules", Some(&body.to_string()));
    if !(code >= 400 && text.contains(want)) {
        until(s, want, || {
            let status = s.call(M::GET, &format!("/rules/{id}/status"), None).1;
            status.contains(want) || s.log().contains(want)
        });
    }
    let _ = s.call(M::DELETE, &format!("/rules/{id}"), None);
}

/// The plugin's `tributary_plugin_network_denied_total` in `/metrics` (0 if absent).
pub fn network_denied(s: &Server, plugin: &str) -> u64 {
    let (_, metrics) = s.call(M::GET, "/metrics", None);
    metrics
        .lines()
        .find(|l| {
            l.starts_with("tributary_plugin_network_denied_total")
                && l.contains(&format!("\"{plugin}\""))
        })
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
}
