//! The management REST API through a real HTTP client against the running binary:
//! every route, bad bodies, unknown ids, the bearer token, the OpenAPI document
//! against the real routes, and streams, tables and rules kept across a restart.

use reqwest::Method;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};
use tributary_tests::api_server::{assert_error, Server};
use tributary_tests::binary;

const TOKEN: &str = "t0k3n";

fn root() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::create_dir_all(dir.path().join("etc/sources")).expect("mkdir");
    std::fs::create_dir_all(dir.path().join("data")).expect("mkdir");
    std::fs::write(
        dir.path().join("etc/tributary.yaml"),
        format!("api:\n  token: {TOKEN}\n"),
    )
    .expect("config");
    std::fs::write(
        dir.path().join("etc/sources/simulator.yaml"),
        "default:\n  interval: 5\n  data:\n    - {id: 1, temp: 30}\n    - {id: 2, temp: 10}\n",
    )
    .expect("simulator conf");
    std::fs::write(
        dir.path().join("data/lookup.json"),
        r#"[{"id": 1, "name": "one"}]"#,
    )
    .expect("table data");
    dir
}

const STREAM: &str = r#"{"sql": "CREATE STREAM sensors (id BIGINT, temp FLOAT) WITH (TYPE=\"simulator\", FORMAT=\"json\")"}"#;

fn rule(id: &str, sql: &str, out: &Path) -> String {
    serde_json::json!({
        "id": id,
        "sql": sql,
        "actions": [{"file": {"path": out, "fileType": "lines"}}]
    })
    .to_string()
}

#[test]
fn every_route_works_refuses_bad_input_and_keeps_state_across_a_restart() {
    let dir = root();
    let out = dir.path().join("data/out.jsonl");
    let s = Server::start(dir.path(), Some(TOKEN));
    use Method as M;

    // Auth: open paths without the token; the rest need it (Bearer or bare).
    assert_eq!(
        s.call_with(M::GET, "/ping", None, None),
        (200, String::new())
    );
    assert_eq!(s.call_with(M::GET, "/metrics", None, None).0, 200);
    assert_error(
        s.call_with(M::GET, "/streams", None, None),
        401,
        "unauthorized",
        "missing",
    );
    assert_error(
        s.call_with(M::GET, "/streams", None, Some("Bearer nope")),
        401,
        "unauthorized",
        "wrong",
    );
    assert_eq!(s.call_with(M::GET, "/streams", None, Some(TOKEN)).0, 200);

    // Streams.
    assert_eq!(
        s.call(M::POST, "/streams", Some(STREAM)),
        (201, "Stream sensors is created.".into())
    );
    assert_error(
        s.call(M::POST, "/streams", Some(STREAM)),
        409,
        "conflict",
        "sensors",
    );
    assert_error(
        s.call(M::POST, "/streams", Some("{\"sql\": ")),
        400,
        "bad_request",
        "line 1",
    );
    assert_error(
        s.call(M::POST, "/streams", Some("{}")),
        400,
        "bad_request",
        "\"sql\"",
    );
    assert_error(
        s.call(
            M::POST,
            "/streams",
            Some(r#"{"sql": "CREATE STREAM x (a BIGINT"}"#),
        ),
        400,
        "bad_request",
        "",
    );
    assert_error(
        s.call(
            M::POST,
            "/streams",
            Some(r#"{"sql": "CREATE TABLE t () WITH (TYPE=\"file\")"}"#),
        ),
        400,
        "bad_request",
        "/tables",
    );
    assert_eq!(s.json("/streams"), serde_json::json!(["sensors"]));
    let d = s.json("/streams/sensors");
    assert_eq!(d["Name"], "sensors");
    assert_eq!(d["StreamFields"][1]["Name"], "temp");
    assert_eq!(d["Options"]["type"], "simulator");
    assert_error(
        s.call(M::GET, "/streams/nope", None),
        404,
        "not_found",
        "nope",
    );
    assert_error(
        s.call(
            M::PUT,
            "/streams/sensors",
            Some(r#"{"sql": "CREATE STREAM other () WITH (TYPE=\"simulator\")"}"#),
        ),
        400,
        "bad_request",
        "other",
    );
    assert_eq!(
        s.call(
            M::PUT,
            "/streams/sensors",
            Some(&STREAM.replace("temp FLOAT", "temp FLOAT, hum FLOAT"))
        ),
        (200, "Stream sensors is replaced.".into())
    );
    assert_eq!(s.json("/streams/sensors")["StreamFields"][2]["Name"], "hum");

    // Tables.
    let table = r#"{"sql": "CREATE TABLE names (id BIGINT, name STRING) WITH (TYPE=\"file\", DATASOURCE=\"lookup.json\")"}"#;
    assert_eq!(
        s.call(M::POST, "/tables", Some(table)),
        (201, "Table names is created.".into())
    );
    assert_eq!(s.json("/tables"), serde_json::json!(["names"]));
    assert_eq!(s.json("/tables?kind=scan"), serde_json::json!(["names"]));
    assert_eq!(s.json("/tables?kind=lookup"), serde_json::json!([]));
    assert_eq!(s.json("/tables/names")["StreamType"], 1);
    assert_error(
        s.call(M::GET, "/tables/sensors", None),
        404,
        "not_found",
        "sensors",
    );

    // Rules.
    let r1 = rule("r1", "SELECT id, temp FROM sensors WHERE temp > 20", &out);
    assert_eq!(
        s.call(M::POST, "/rules", Some(&r1)),
        (201, "Rule r1 was created successfully.".into())
    );
    assert_error(s.call(M::POST, "/rules", Some(&r1)), 409, "conflict", "r1");
    assert_error(
        s.call(M::POST, "/rules", Some("[1")),
        400,
        "bad_request",
        "line 1",
    );
    assert_error(
        s.call(
            M::POST,
            "/rules",
            Some(&rule("bad", "SELECT * FROM nowhere", &out)),
        ),
        400,
        "bad_request",
        "nowhere",
    );
    let r2 = rule(
        "r2",
        "SELECT count(*) AS n FROM sensors GROUP BY TumblingWindow(ss, 1)",
        &out.with_extension("r2"),
    );
    assert_eq!(s.call(M::POST, "/rules", Some(&r2)).0, 201);
    let list = s.json("/rules");
    assert_eq!(list[0]["id"], "r1");
    assert_eq!(list[0]["status"], "running");
    assert_eq!(
        s.json("/rules/r1")["sql"],
        "SELECT id, temp FROM sensors WHERE temp > 20"
    );
    // Counters move while the simulator runs.
    let start = Instant::now();
    while s.json("/rules/r1/status")["records_in_total"]
        .as_u64()
        .unwrap_or(0)
        < 4
    {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "no records counted"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let st = s.json("/rules/r1/status");
    assert_eq!(st["status"], "running");
    assert!(st["records_out_total"].as_u64().unwrap_or(0) >= 1, "{st}");
    assert!(
        st["source_sensors_0_records_in_total"]
            .as_u64()
            .unwrap_or(0)
            >= 4,
        "{st}"
    );
    let topo = s.json("/rules/r1/topo");
    assert_eq!(topo["sources"], serde_json::json!(["source_sensors"]));
    assert!(topo["edges"]["source_sensors"].is_array(), "{topo}");
    let explain = s.json("/rules/r2/explain");
    assert_eq!(explain["from"], "sensors");
    assert!(
        explain["window"]
            .as_str()
            .unwrap_or_default()
            .contains("Tumbling"),
        "{explain}"
    );
    assert_eq!(
        s.call(M::POST, "/rules/r2/stop", None),
        (200, "Rule r2 was stopped.".into())
    );
    assert_eq!(s.json("/rules/r2/status")["status"], "stopped");
    assert_eq!(
        s.call(M::POST, "/rules/r1/restart", None),
        (200, "Rule r1 was restarted".into())
    );
    assert_eq!(
        s.call(M::POST, "/rules/r1/start", None),
        (200, "Rule r1 was started".into())
    );
    for path in [
        "/rules/zz",
        "/rules/zz/status",
        "/rules/zz/topo",
        "/rules/zz/explain",
    ] {
        assert_error(s.call(M::GET, path, None), 404, "not_found", "zz");
    }
    for path in ["/rules/zz/start", "/rules/zz/stop", "/rules/zz/restart"] {
        assert_error(s.call(M::POST, path, None), 404, "not_found", "zz");
    }
    assert_error(s.call(M::DELETE, "/rules/zz", None), 404, "not_found", "zz");
    let updated = rule("r1", "SELECT id FROM sensors WHERE temp > 25", &out);
    assert_eq!(
        s.call(M::PUT, "/rules/r1", Some(&updated)),
        (200, "Rule r1 was updated successfully.".into())
    );
    assert_error(
        s.call(
            M::PUT,
            "/rules/r1",
            Some(&rule("r9", "SELECT 1 FROM sensors", &out)),
        ),
        400,
        "bad_request",
        "r9",
    );
    assert_error(
        s.call(
            M::PUT,
            "/rules/r1",
            Some(&rule("r1", "SELECT * FROM nowhere", &out)),
        ),
        400,
        "bad_request",
        "nowhere",
    );
    assert_eq!(
        s.json("/rules/r1")["sql"],
        "SELECT id FROM sensors WHERE temp > 25",
        "a bad update changed nothing"
    );
    assert_error(
        s.call(M::DELETE, "/streams/sensors", None),
        409,
        "conflict",
        "r1",
    );

    // A trial over the API, as server-sent events.
    let spec = serde_json::json!({
        "id": "t", "sql": "SELECT a * 2 AS b FROM s",
        "streams": ["CREATE STREAM s (a BIGINT) WITH (TYPE=\"mock\")"],
        "mockSource": {"s": {"data": [{"a": 1}, {"a": 2}], "timestamps": [1000, 2000]}}
    });
    let (status, events) = s.call(M::POST, "/ruletest", Some(&spec.to_string()));
    assert_eq!(status, 200, "{events}");
    assert!(
        events.contains("data: [{\"b\":2}]") && events.contains("data: [{\"b\":4}]"),
        "{events}"
    );
    assert!(events.contains("event: end"), "{events}");
    assert_error(
        s.call(M::POST, "/ruletest", Some("{\"sql\": 1}")),
        400,
        "bad_request",
        "trial spec",
    );

    // Metrics.
    let (_, metrics) = s.call(M::GET, "/metrics", None);
    assert!(
        metrics.contains("tributary_rule_records_in_total{rule=\"r1\"}"),
        "{metrics}"
    );
    assert!(
        metrics.contains("tributary_rule_running{rule=\"r2\"} 0"),
        "{metrics}"
    );

    // Export, and a partial import adding a stream and a stopped rule.
    let exported = s.json("/data/export");
    assert!(exported["streams"]["sensors"]
        .as_str()
        .unwrap_or_default()
        .contains("CREATE STREAM"));
    assert!(exported["rules"]["r1"].is_string(), "{exported}");
    let ruleset = serde_json::json!({
        "streams": {"extra": "CREATE STREAM extra () WITH (TYPE=\"simulator\")"},
        "rules": {"r3": rule("r3", "SELECT * FROM extra", &out.with_extension("r3")).replace("\"id\"", "\"triggered\":false,\"id\"")}
    });
    let body = serde_json::json!({"content": ruleset.to_string()}).to_string();
    let (status, answer) = s.call(M::POST, "/data/import?partial=1", Some(&body));
    assert_eq!(status, 200, "{answer}");
    assert_eq!(s.json("/streams"), serde_json::json!(["extra", "sensors"]));
    assert_error(
        s.call(M::POST, "/data/import", Some("{}")),
        400,
        "bad_request",
        "content",
    );
    assert_error(
        s.call(M::POST, "/data/import", Some(r#"{"content": "{\"rules\": {\"x\": \"{\\\"id\\\":\\\"x\\\",\\\"sql\\\":\\\"SELECT * FROM nowhere\\\",\\\"actions\\\":[{\\\"nop\\\":{}}]}\"}}"}"#)),
        400,
        "bad_request",
        "nowhere",
    );
    assert_eq!(
        s.json("/rules").as_array().map(Vec::len),
        Some(3),
        "a bad import changed nothing"
    );

    // Unknown routes answer JSON 404s.
    assert_error(
        s.call(M::GET, "/nothing/here", None),
        404,
        "not_found",
        "/nothing/here",
    );

    // Restart: streams, tables and rules come back; r2 and r3 stay stopped.
    s.stop();
    let s = Server::start(dir.path(), Some(TOKEN));
    assert_eq!(s.json("/streams"), serde_json::json!(["extra", "sensors"]));
    assert_eq!(s.json("/tables"), serde_json::json!(["names"]));
    assert_eq!(
        s.json("/streams/sensors")["StreamFields"][2]["Name"],
        "hum",
        "the update was kept"
    );
    let status: Vec<(String, String)> = s
        .json("/rules")
        .as_array()
        .expect("list")
        .iter()
        .map(|r| {
            (
                r["id"].as_str().unwrap_or_default().to_string(),
                r["status"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect();
    assert_eq!(
        status,
        [
            ("r1".to_string(), "running".to_string()),
            ("r2".to_string(), "Stopped: canceled manually.".to_string()),
            ("r3".to_string(), "Stopped: canceled manually.".to_string()),
        ]
    );
    assert_eq!(
        s.json("/rules/r1")["sql"],
        "SELECT id FROM sensors WHERE temp > 25"
    );

    // Drop everything; a full import then replaces it all.
    for id in ["r1", "r2", "r3"] {
        assert_eq!(
            s.call(M::DELETE, &format!("/rules/{id}"), None),
            (200, format!("Rule {id} is dropped."))
        );
    }
    assert_eq!(
        s.call(M::DELETE, "/streams/extra", None),
        (200, "Stream extra is dropped.".into())
    );
    assert_eq!(
        s.call(M::DELETE, "/tables/names", None),
        (200, "Table names is dropped.".into())
    );
    let body = serde_json::json!({"content": exported.to_string()}).to_string();
    assert_eq!(s.call(M::POST, "/data/import", Some(&body)).0, 200);
    assert_eq!(s.json("/streams"), serde_json::json!(["sensors"]));
    assert_eq!(s.json("/rules").as_array().map(Vec::len), Some(2));
    s.stop();
}

#[test]
fn the_openapi_document_lists_the_real_routes() {
    let dir = root();
    let s = Server::start(dir.path(), Some(TOKEN));
    let doc = s.json("/openapi.json");
    let paths = doc["paths"].as_object().expect("paths");
    let routes: usize = paths
        .values()
        .filter_map(|m| m.as_object())
        .map(|m| m.len())
        .sum();
    assert!(routes >= 27, "{routes} routes: {doc}");
    for (path, methods) in paths {
        for method in methods.as_object().expect("methods").keys() {
            let concrete = path.replace("{name}", "missing").replace("{id}", "missing");
            let m = Method::from_bytes(method.to_uppercase().as_bytes()).expect("method");
            let body = matches!(m, Method::POST | Method::PUT).then_some("{}");
            let (status, text) = s.call(m.clone(), &concrete, body);
            // Every documented route exists: never 405, and a 404 is a JSON error about
            // the missing stream or rule, never "no route".
            assert_ne!(status, 405, "{method} {path}: {text}");
            assert!(
                !text.contains("no route"),
                "{method} {path} is not routed: {text}"
            );
        }
    }
    s.stop();
}

/// Runs the CLI against `s`; returns (success, stdout, stderr).
fn cli(s: &Server, args: &[&str]) -> (bool, String, String) {
    let out = Command::new(binary())
        .args(args)
        .args(["--host", &s.base, "--token", TOKEN])
        .output()
        .expect("cli");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn the_cli_drives_a_running_server() {
    let dir = root();
    let s = Server::start(dir.path(), Some(TOKEN));
    let ok = |args: &[&str]| {
        let (ok, out, err) = cli(&s, args);
        assert!(ok, "{args:?}: {err}");
        out
    };
    assert_eq!(
        ok(&[
            "stream",
            "create",
            r#"CREATE STREAM sensors (id BIGINT, temp FLOAT) WITH (TYPE="simulator")"#
        ]),
        "Stream sensors is created.\n"
    );
    assert_eq!(ok(&["stream", "list"]), "sensors\n");
    assert!(ok(&["stream", "describe", "sensors"]).contains("\"Name\": \"sensors\""));
    let rule_file = dir.path().join("r1.json");
    std::fs::write(
        &rule_file,
        rule(
            "r1",
            "SELECT id FROM sensors",
            &dir.path().join("data/out.jsonl"),
        ),
    )
    .expect("rule file");
    assert_eq!(
        ok(&["rule", "create", rule_file.to_str().expect("utf-8")]),
        "Rule r1 was created successfully.\n"
    );
    assert!(ok(&["rule", "list"]).starts_with("r1 "), "readable list");
    let json = ok(&["rule", "list", "--json"]);
    let v: serde_json::Value = serde_json::from_str(&json).expect("--json prints JSON");
    assert_eq!(v[0]["id"], "r1");
    assert_eq!(ok(&["rule", "stop", "r1"]), "Rule r1 was stopped.\n");
    assert!(ok(&["rule", "status", "r1"]).contains("Stopped: canceled manually."));
    // A reader that went away (`tributary rule status r1 | head -0`): the command
    // ends quietly, as Unix tools do, instead of panicking on the broken pipe.
    let (reader, writer) = std::io::pipe().expect("pipe");
    drop(reader);
    let out = Command::new(binary())
        .args(["rule", "status", "r1", "--host", &s.base, "--token", TOKEN])
        .stdout(writer)
        .output()
        .expect("cli");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{:?}: {err}", out.status);
    assert!(
        !err.contains("panicked") && !err.contains("Broken pipe"),
        "{err}"
    );
    assert!(ok(&["rule", "topo", "r1"]).contains("source_sensors"));
    let spec = dir.path().join("spec.json");
    std::fs::write(
        &spec,
        serde_json::json!({
            "sql": "SELECT a + 1 AS b FROM s",
            "streams": ["CREATE STREAM s (a BIGINT) WITH (TYPE=\"mock\")"],
            "mockSource": {"s": {"data": [{"a": 1}], "timestamps": [1000]}}
        })
        .to_string(),
    )
    .expect("spec");
    assert_eq!(
        ok(&["rule", "test", spec.to_str().expect("utf-8")]),
        "[{\"b\":2}]\n"
    );
    let export = dir.path().join("export.json");
    ok(&["data", "export", export.to_str().expect("utf-8")]);
    assert!(std::fs::read_to_string(&export)
        .expect("export")
        .contains("sensors"));
    // Errors name the problem and exit non-zero.
    let (ok_, _, err) = cli(&s, &["rule", "describe", "nope"]);
    assert!(!ok_);
    assert!(
        err.contains("rule nope not found") && err.contains("HTTP 404"),
        "{err}"
    );
    let (ok_, _, err) = cli(&s, &["stream", "create", "CREATE STREAM x ("]);
    assert!(!ok_ && err.contains("HTTP 400"), "{err}");
    let out = Command::new(binary())
        .args(["stream", "list", "--host", &s.base])
        .output()
        .expect("cli");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("HTTP 401"));
    ok(&["rule", "drop", "r1"]);
    assert_eq!(
        ok(&["stream", "drop", "sensors"]),
        "Stream sensors is dropped.\n"
    );
    s.stop();
}
