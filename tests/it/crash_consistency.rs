//! Crash consistency of the control plane, probed against the server: an install or
//! an import killed at any step leaves the old state or the new, a plugin that fails
//! to load is reported and skipped, updates racing deletes never bring a rule back,
//! and rules whose plugin was removed are kept, stopped, with the reason.

use crate::hardening::{bearer, simulator_root, STREAM};
use reqwest::Method as M;
use std::path::Path;
use std::time::Duration;
use tributary_tests::api_server::{assert_error, Server};
use tributary_tests::{native_roots, zip_of};

/// An eKuiper flat zip of the native `countPlusOne` library at `version`.
fn count_plus_one(version: &str) -> Vec<u8> {
    let so = std::fs::read(native_roots().join("native/plugins/functions/countPlusOne.so"))
        .expect("countPlusOne.so");
    zip_of(&[(&format!("CountPlusOne@v{version}.so"), &so)])
}

fn plugin_files(root: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(root.join("plugins/functions"))
        .map(|d| {
            d.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

#[test]
fn an_install_killed_at_any_step_leaves_the_old_plugin_or_the_new_one() {
    for (step, landed) in [
        ("staged", false),
        ("loaded", false),
        ("committed", true),
        ("renamed-one", true),
    ] {
        let dir = simulator_root();
        let root = dir.path();
        let up = |s: &Server, zip: Vec<u8>| {
            s.send_bytes(
                M::POST,
                "/plugins/functions?name=countPlusOne",
                "application/zip",
                zip,
            )
        };
        {
            let s = Server::start(root, None);
            assert_eq!(up(&s, count_plus_one("1.0.0")).0, 201, "{step}: v1");
            s.stop();
        }
        let mut s = Server::start_with(root, None, &[("TRIBUTARY_FAILPOINT", step)]);
        let (status, _) = up(&s, count_plus_one("2.0.0"));
        assert!(
            status == 0 || status >= 500,
            "{step}: the server died mid-install"
        );
        assert!(s.exited(Duration::from_secs(10)), "{step}: aborted");
        drop(s);
        let s = Server::start(root, None);
        let v = s.json("/plugins/functions/countPlusOne");
        let want = if landed { "2.0.0" } else { "1.0.0" };
        assert_eq!(v["version"], want, "{step}: {v}");
        assert_eq!(v["status"], "loaded", "{step}: {v}");
        assert_eq!(
            plugin_files(root),
            [format!("countPlusOne@v{want}.so")],
            "{step}: one artifact, the one in use"
        );
        assert_eq!(
            std::fs::read_dir(root.join("data/staging"))
                .map(|d| d.count())
                .unwrap_or(0),
            0,
            "{step}: nothing left staged"
        );
        s.stop();
    }
}

#[test]
fn a_plugin_that_fails_to_load_is_reported_and_the_server_runs_on() {
    let dir = simulator_root();
    let root = dir.path();
    std::fs::create_dir_all(root.join("plugins/functions")).expect("mkdir");
    std::fs::copy(
        native_roots().join("native-fixtures/notElf.so"),
        root.join("plugins/functions/notElf.so"),
    )
    .expect("copy");
    let s = Server::start(root, None);
    let v = s.json("/plugins/functions/notElf");
    assert_eq!(v["status"], "failed", "{v}");
    assert!(
        v["error"]
            .as_str()
            .is_some_and(|e| e.contains("not a shared object")),
        "{v}"
    );
    assert_eq!(s.json("/plugins/functions"), serde_json::json!(["notElf"]));
    s.stop();
}

fn ruleset(prefix: &str, n: usize) -> String {
    let rules: serde_json::Map<String, serde_json::Value> = (0..n)
        .map(|i| {
            let id = format!("{prefix}{i}");
            let rule =
                serde_json::json!({"id": id, "sql": "SELECT id FROM s", "actions": [{"nop": {}}]});
            (id, serde_json::json!(rule.to_string()))
        })
        .collect();
    serde_json::json!({
        "streams": {"s": "CREATE STREAM s (id BIGINT) WITH (TYPE=\"simulator\")"},
        "rules": rules,
    })
    .to_string()
}

pub(crate) fn rule_ids(s: &Server) -> Vec<String> {
    let mut ids: Vec<String> = s
        .json("/rules")
        .as_array()
        .expect("list")
        .iter()
        .map(|r| r["id"].as_str().unwrap_or_default().to_string())
        .collect();
    ids.sort();
    ids
}

#[test]
fn an_import_killed_before_or_after_its_commit_leaves_one_whole_ruleset() {
    for (step, landed) in [("import-checked", false), ("import-committed", true)] {
        let dir = simulator_root();
        let root = dir.path();
        {
            let s = Server::start(root, None);
            let body = serde_json::json!({"content": ruleset("old", 20)}).to_string();
            let r = s.call(M::POST, "/data/import", Some(&body));
            assert_eq!(r.0, 200, "{}", r.1);
            s.stop();
        }
        let mut s = Server::start_with(root, None, &[("TRIBUTARY_FAILPOINT", step)]);
        let body = serde_json::json!({"content": ruleset("new", 30)}).to_string();
        let auth = bearer(&s);
        let headers = [
            ("authorization", auth.as_str()),
            ("content-type", "application/json"),
        ];
        let (status, _) = s.raw(M::POST, "/data/import", &headers, Some(body.into_bytes()));
        assert_eq!(status, 0, "{step}: the server died mid-import");
        assert!(s.exited(Duration::from_secs(10)), "{step}: aborted");
        drop(s);
        let s = Server::start(root, None);
        let ids = rule_ids(&s);
        let (prefix, n) = if landed { ("new", 30) } else { ("old", 20) };
        assert_eq!(ids.len(), n, "{step}: {ids:?}");
        assert!(ids.iter().all(|i| i.starts_with(prefix)), "{step}: {ids:?}");
        s.stop();
    }
}

#[test]
fn updates_racing_deletes_never_bring_a_rule_back() {
    let dir = simulator_root();
    let root = dir.path();
    let s = Server::start(root, None);
    assert_eq!(s.call(M::POST, "/streams", Some(STREAM)).0, 201);
    let rule = |id: &str| {
        serde_json::json!({"id": id, "sql": "SELECT id FROM s", "actions": [{"nop": {}}]})
            .to_string()
    };
    for round in 0..30 {
        let id = format!("r{round}");
        assert_eq!(s.call(M::POST, "/rules", Some(&rule(&id))).0, 201);
        let path = format!("/rules/{id}");
        std::thread::scope(|t| {
            let put = t.spawn(|| s.call(M::PUT, &path, Some(&rule(&id))));
            let del = t.spawn(|| s.call(M::DELETE, &path, None));
            let (p, d) = (put.join().expect("put"), del.join().expect("delete"));
            assert!(matches!(p.0, 200 | 404), "{p:?}");
            assert_eq!(d.0, 200, "{d:?}");
        });
    }
    let before = rule_ids(&s);
    assert!(before.is_empty(), "every rule was deleted: {before:?}");
    s.stop();
    let s = Server::start(root, None);
    assert_eq!(rule_ids(&s), before, "the catalog agrees after a restart");
    s.stop();
}

#[test]
fn a_rule_whose_plugin_was_removed_is_kept_stopped_with_the_reason() {
    let dir = simulator_root();
    let root = dir.path();
    let s = Server::start(root, None);
    let up = s.send_bytes(
        M::POST,
        "/plugins/functions?name=countPlusOne",
        "application/zip",
        count_plus_one("1.0.0"),
    );
    assert_eq!(up.0, 201, "{}", up.1);
    assert_eq!(s.call(M::POST, "/streams", Some(STREAM)).0, 201);
    let rule = serde_json::json!({"id": "uses", "sql": "SELECT countPlusOne(id) AS c FROM s", "actions": [{"nop": {}}]}).to_string();
    assert_eq!(s.call(M::POST, "/rules", Some(&rule)).0, 201);
    let r = s.call(M::DELETE, "/plugins/functions/countPlusOne?force=1", None);
    assert_eq!(r.0, 200, "{}", r.1);
    s.stop();
    let s = Server::start(root, None);
    assert_eq!(rule_ids(&s), ["uses"], "listed, not vanished");
    let status = s.json("/rules/uses/status");
    assert_eq!(status["status"], "stopped", "{status}");
    assert!(
        status["message"]
            .as_str()
            .is_some_and(|m| m.contains("cannot start") && m.contains("countPlusOne")),
        "{status}"
    );
    assert!(
        s.json("/data/export")["rules"]["uses"].is_string(),
        "exported"
    );
    assert_error(
        s.call(M::POST, "/rules", Some(&rule)),
        409,
        "conflict",
        "uses",
    );
    s.stop();
}
