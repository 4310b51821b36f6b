//! Contract 0.2's sources end to end, in both tiers and both guest languages: a rule
//! under qos 1 over a plugin source killed with SIGKILL resumes from its checkpoint
//! (the source rewound to its saved offset) and loses and doubles nothing; a lookup
//! table backed by a plugin source is asked for each row's key (with eKuiper's lookup
//! cache); a plugin source's connection status reaches the rule's status.

use serde_json::json;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;
use tributary_tests::api_server::Server;
use tributary_tests::{
    install_plugin, json_lines, native_root, wait_for, wasm_root, write_file, Process, FIRST_OUTPUT,
};

/// Writes `<root>/etc/<path>`.
fn etc(root: &Path, path: &str, text: &str) {
    write_file(root, &format!("etc/{path}"), text);
}

/// The `random` source and `accumulateWordCount` of one tier.
struct Tier {
    label: &'static str,
    source: PathBuf,
    source_file: &'static str,
    counter: PathBuf,
    counter_file: &'static str,
}

fn tiers() -> Vec<Tier> {
    vec![
        Tier {
            label: "wasm",
            source: wasm_root().join("plugins/sources/random.wasm"),
            source_file: "sources/random.wasm",
            counter: wasm_root().join("plugins/functions/accumulateWordCount.wasm"),
            counter_file: "functions/accumulateWordCount.wasm",
        },
        Tier {
            label: "native",
            source: native_root().join("plugins/sources/random.so"),
            source_file: "sources/random.so",
            counter: native_root().join("plugins/functions/accumulateWordCount.so"),
            counter_file: "functions/accumulateWordCount.so",
        },
    ]
}

/// A root whose rule (qos 1, checkpoints every 100 ms) reads `n` records of the
/// tier's `random` source, one per 5 ms, and writes each with the running count of
/// records seen (a plugin's state) as a JSON line into `data/out.jsonl`.
fn counting_root(root: &Path, tier: &Tier, n: usize) -> PathBuf {
    install_plugin(root, &tier.source, tier.source_file);
    install_plugin(root, &tier.counter, tier.counter_file);
    etc(root, "tributary.yaml", "store:\n  type: sqlite\n");
    etc(
        root,
        "sources/random.yaml",
        &format!(
            "default:\n  interval: 5\n  count: {n}\n  seed: 7\n  pattern: {{\"v\": 1000000}}\n"
        ),
    );
    std::fs::create_dir_all(root.join("data")).expect("mkdir");
    let out = root.join("data/out.jsonl");
    let rule = json!({
        "id": "count",
        "sql": r#"SELECT v, accumulateWordCount("x", " ") AS total FROM s"#,
        "actions": [{"file": {"path": out, "fileType": "lines", "sendSingle": true}}],
        "options": {"qos": 1, "checkpointInterval": "100ms"}
    });
    let init = json!({
        "streams": {"s": "CREATE STREAM s () WITH (TYPE=\"random\", DATASOURCE=\"r\")"},
        "rules": {"count": rule.to_string()}
    });
    std::fs::write(root.join("data/init.json"), init.to_string()).expect("init");
    out
}

/// (v, total) of every line.
fn counted(out: &Path) -> Vec<(i64, i64)> {
    json_lines(out)
        .iter()
        .filter_map(|l| Some((l["v"].as_i64()?, l["total"].as_i64()?)))
        .collect()
}

fn serve(root: &Path) -> Process {
    Process::spawn(
        tributary_tests::serve_command(root).stderr(Stdio::null()),
        "serve",
    )
}

fn kill9(child: &mut Process) {
    Command::new("kill")
        .args(["-9", &child.id().to_string()])
        .status()
        .expect("kill -9");
    let _ = child.wait();
}

/// The kill -9 case of one tier: the output of an interrupted run, after the restart,
/// is exactly the output of an uninterrupted one.
fn resumes_after_kill9(tier: &Tier) {
    let n = 300;
    let reference = tempfile::tempdir().expect("tempdir");
    let out = counting_root(reference.path(), tier, n);
    let mut child = serve(reference.path());
    wait_for("the reference run", FIRST_OUTPUT, || {
        counted(&out).len() == n
    });
    let _ = child.kill();
    let _ = child.wait();
    let want = counted(&out);
    assert_eq!(
        want.iter().map(|(_, t)| *t).collect::<Vec<_>>(),
        (1..=n as i64).collect::<Vec<_>>(),
        "{}",
        tier.label
    );

    let dir = tempfile::tempdir().expect("tempdir");
    let out = counting_root(dir.path(), tier, n);
    let mut child = serve(dir.path());
    // Output reaches the file at checkpoints: wait for a few, then kill mid-stream.
    wait_for("the first checkpoints", FIRST_OUTPUT, || {
        counted(&out).len() >= 60
    });
    kill9(&mut child);
    let first = counted(&out).len();
    assert!(
        first < n,
        "{}: the run must be killed mid-stream",
        tier.label
    );
    let mut child = serve(dir.path());
    wait_for("the resumed run", FIRST_OUTPUT, || counted(&out).len() >= n);
    // A little longer: a doubled row would show up now.
    std::thread::sleep(Duration::from_millis(300));
    let _ = child.kill();
    let _ = child.wait();
    assert_eq!(
        counted(&out),
        want,
        "{}: every record once, in order, with its running count",
        tier.label
    );
}

#[test]
fn a_wasm_plugin_source_resumes_from_its_checkpoint_after_kill9() {
    resumes_after_kill9(&tiers()[0]);
}

#[test]
fn a_native_plugin_source_resumes_from_its_checkpoint_after_kill9() {
    resumes_after_kill9(&tiers()[1]);
}

/// A root with the `jsonl` source of `guests` (Rust) or `wasm-python` (Python), its
/// manifest, and the grant to read `data`.
fn jsonl_root(root: &Path, from: &Path) {
    install_plugin(
        root,
        &from.join("plugins/sources/jsonl.wasm"),
        "sources/jsonl.wasm",
    );
    install_plugin(
        root,
        &from.join("plugins/sources/jsonl.json"),
        "sources/jsonl.json",
    );
    etc(
        root,
        "wasm.yaml",
        "grants:\n  jsonl:\n    dirs: [\"data\"]\n",
    );
    std::fs::create_dir_all(root.join("data")).expect("mkdir");
}

fn jsonl_guests() -> [(&'static str, PathBuf); 2] {
    [
        ("Rust", wasm_root().to_path_buf()),
        ("Python", wasm_root().with_file_name("wasm-python")),
    ]
}

fn create(server: &Server, path: &str, body: serde_json::Value) {
    let (status, text) = server.call(reqwest::Method::POST, path, Some(&body.to_string()));
    assert_eq!(status, 201, "POST {path}: {text}");
}

/// A plugin's calls so far, from its status.
fn calls(server: &Server, plugin: &str) -> i64 {
    server.json(&format!("/plugins/sources/{plugin}"))["metrics"]["calls"]
        .as_i64()
        .unwrap_or(-1)
}

#[test]
fn a_lookup_table_is_answered_by_a_plugin_source_with_ekuipers_cache() {
    for (label, from) in jsonl_guests() {
        let dir = tempfile::tempdir().expect("tempdir");
        let root = dir.path();
        jsonl_root(root, &from);
        // The host consumes `lookup` (eKuiper's cache options); the plugin never
        // sees it, and would refuse it as an unknown prop.
        etc(
            root,
            "sources/jsonl.yaml",
            "default:\n  interval: 0\n  lookup:\n    cache: true\n    cacheTtl: 600\n",
        );
        std::fs::write(
            root.join("data/devices.jsonl"),
            "{\"id\":1,\"name\":\"pump\"}\n{\"id\":2,\"name\":\"fan\"}\n",
        )
        .expect("table");
        let readings: Vec<_> = [(1, 10), (2, 20), (1, 11), (3, 30), (1, 12)]
            .iter()
            .map(|(d, v)| json!({"device": d, "v": v}))
            .collect();
        std::fs::write(
            root.join("data/readings.json"),
            serde_json::Value::Array(readings).to_string(),
        )
        .expect("stream");
        let server = Server::start(root, None);
        create(
            &server,
            "/streams",
            json!({"sql": "CREATE STREAM r (device BIGINT, v BIGINT) WITH (TYPE=\"file\", DATASOURCE=\"readings.json\")"}),
        );
        create(
            &server,
            "/tables",
            json!({"sql": "CREATE TABLE dev () WITH (TYPE=\"jsonl\", DATASOURCE=\"data/devices.jsonl\", KIND=\"lookup\")"}),
        );
        let out = root.join("data/out.jsonl");
        create(
            &server,
            "/rules",
            json!({
                "id": "enrich",
                "sql": "SELECT r.v AS v, dev.name AS name FROM r LEFT JOIN dev ON r.device = dev.id",
                "actions": [{"file": {"path": out, "fileType": "lines", "sendSingle": true}}]
            }),
        );
        wait_for("the joined rows", FIRST_OUTPUT, || {
            json_lines(&out).len() == 5
        });
        let got: Vec<(i64, Option<String>)> = json_lines(&out)
            .iter()
            .map(|l| {
                (
                    l["v"].as_i64().expect("v"),
                    l["name"].as_str().map(str::to_string),
                )
            })
            .collect();
        let name = |s: &str| Some(s.to_string());
        assert_eq!(
            got,
            vec![
                (10, name("pump")),
                (20, name("fan")),
                (11, name("pump")),
                (30, None),
                (12, name("pump")),
            ],
            "{label}"
        );
        // Keys 1 and 2 were asked once each and then answered from the cache; key 3
        // matched nothing and, without `cacheMissingKey`, is not cached.
        assert_eq!(calls(&server, "jsonl"), 3, "{label}");
    }
}

#[test]
fn a_lookup_join_needs_key_equalities_and_a_source_that_answers_lookups() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    jsonl_root(root, wasm_root());
    let server = Server::start(root, None);
    create(
        &server,
        "/streams",
        json!({"sql": "CREATE STREAM r (device BIGINT) WITH (TYPE=\"memory\", DATASOURCE=\"r\")"}),
    );
    create(
        &server,
        "/tables",
        json!({"sql": "CREATE TABLE dev () WITH (TYPE=\"jsonl\", DATASOURCE=\"data/devices.jsonl\", KIND=\"lookup\")"}),
    );
    let (status, text) = server.call(
        reqwest::Method::POST,
        "/rules",
        Some(
            &json!({
                "id": "bad",
                "sql": "SELECT * FROM r INNER JOIN dev ON r.device > dev.id",
                "actions": [{"log": {}}]
            })
            .to_string(),
        ),
    );
    assert_eq!(status, 400, "{text}");
    assert!(
        text.contains("lookup table dev needs ON to be dev.field = expression"),
        "{text}"
    );
}

#[test]
fn a_plugin_sources_connection_status_reaches_the_rule_status() {
    for (label, from) in jsonl_guests() {
        let dir = tempfile::tempdir().expect("tempdir");
        let root = dir.path();
        jsonl_root(root, &from);
        etc(root, "sources/jsonl.yaml", "default:\n  interval: 100\n");
        let server = Server::start(root, None);
        create(
            &server,
            "/streams",
            json!({"sql": "CREATE STREAM s () WITH (TYPE=\"jsonl\", DATASOURCE=\"data/later.jsonl\")"}),
        );
        let out = root.join("data/out.jsonl");
        create(
            &server,
            "/rules",
            json!({
                "id": "r",
                "sql": "SELECT * FROM s",
                "actions": [{"file": {"path": out, "fileType": "lines", "sendSingle": true}}]
            }),
        );
        let status = |want: i64| {
            let mut last = serde_json::Value::Null;
            wait_for(
                &format!("{label}: connection status {want}"),
                Duration::from_secs(30),
                || {
                    last = server.json("/rules/r/status");
                    last["source_s_0_connection_status"] == want
                },
            );
            last
        };
        // The file is missing: the source says it is disconnected, and why.
        let st = status(-1);
        let why = st["source_s_0_connection_last_disconnected_message"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        assert!(why.contains("later.jsonl"), "{label}: {st}");
        std::fs::write(root.join("data/later.jsonl"), "{\"a\":1}\n").expect("write");
        status(1);
        let metrics = server.call(reqwest::Method::GET, "/metrics", None).1;
        assert!(
            metrics.contains("tributary_connector_connected{rule=\"r\",node=\"source_s_0\"} 1"),
            "{label}: the connection is in /metrics:\n{metrics}"
        );
        wait_for("the row", Duration::from_secs(30), || {
            server.json("/rules/r/status")["records_in_total"] == 1
        });
        // The file sink writes its buffer out when the rule stops.
        let (code, text) = server.call(reqwest::Method::POST, "/rules/r/stop", None);
        assert_eq!(code, 200, "{text}");
        wait_for("the file", Duration::from_secs(30), || {
            json_lines(&out).len() == 1
        });
        assert_eq!(json_lines(&out)[0]["a"], 1, "{label}");
    }
}

/// A qos 1 rule over the `jsonl` source (Rust and Python) tailing a file, killed with
/// SIGKILL after its first lines; lines appended meanwhile, and the rule resumed from
/// its checkpoint: the source rewinds to its saved byte offset, so every line is
/// written once (reading the file from the start would write the first ones again).
#[test]
fn a_jsonl_source_resumes_at_its_offset_in_both_guest_languages() {
    for (label, from) in jsonl_guests() {
        let dir = tempfile::tempdir().expect("tempdir");
        let root = dir.path();
        jsonl_root(root, &from);
        etc(root, "tributary.yaml", "store:\n  type: sqlite\n");
        etc(root, "sources/jsonl.yaml", "default:\n  interval: 50\n");
        let line = |i: usize| format!("{{\"n\":{i}}}\n");
        let first: String = (0..5).map(line).collect();
        std::fs::write(root.join("data/in.jsonl"), first).expect("input");
        let out = root.join("data/out.jsonl");
        let rule = json!({
            "id": "tail",
            "sql": "SELECT n FROM s",
            "actions": [{"file": {"path": out, "fileType": "lines", "sendSingle": true}}],
            "options": {"qos": 1, "checkpointInterval": "100ms"}
        });
        let init = json!({
            "streams": {"s": "CREATE STREAM s (n BIGINT) WITH (TYPE=\"jsonl\", DATASOURCE=\"data/in.jsonl\")"},
            "rules": {"tail": rule.to_string()}
        });
        write_file(root, "data/init.json", &init.to_string());
        let ns = || -> Vec<i64> {
            json_lines(&out)
                .iter()
                .filter_map(|l| l["n"].as_i64())
                .collect()
        };
        let mut child = serve(root);
        wait_for(&format!("{label}: the first lines"), FIRST_OUTPUT, || {
            ns().len() == 5
        });
        // One more checkpoint after them, then the crash.
        std::thread::sleep(Duration::from_millis(400));
        kill9(&mut child);
        let more: String = (5..8).map(line).collect();
        let mut f = std::fs::OpenOptions::new()
            .append(true)
            .open(root.join("data/in.jsonl"))
            .expect("append");
        std::io::Write::write_all(&mut f, more.as_bytes()).expect("append");
        let mut child = serve(root);
        wait_for(
            &format!("{label}: the appended lines"),
            FIRST_OUTPUT,
            || ns().len() >= 8,
        );
        std::thread::sleep(Duration::from_millis(300));
        let _ = child.kill();
        let _ = child.wait();
        assert_eq!(ns(), (0..8).collect::<Vec<i64>>(), "{label}");
    }
}
