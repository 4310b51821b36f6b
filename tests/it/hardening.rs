//! The server probed as an operator and an attacker would: cross-site requests, the
//! token, error shapes and limits, one server per root, stops that must not wait out
//! a plugin's deadline, and names that must not reach other routes. Crashes and races
//! in the middle of changes are in `crash_consistency.rs`.

use crate::crash_consistency::rule_ids;
use reqwest::Method as M;
use std::time::{Duration, Instant};
use tributary_tests::api_server::{assert_error, Server};
use tributary_tests::{sha, wasm_root, zip_of};

pub(crate) fn simulator_root() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::create_dir_all(dir.path().join("etc/sources")).expect("mkdir");
    std::fs::write(
        dir.path().join("etc/sources/simulator.yaml"),
        "default:\n  interval: 10\n  data:\n    - {id: 1, temp: 30}\n",
    )
    .expect("simulator conf");
    dir
}

pub(crate) const STREAM: &str =
    r#"{"sql": "CREATE STREAM s (id BIGINT, temp FLOAT) WITH (TYPE=\"simulator\")"}"#;

pub(crate) fn bearer(s: &Server) -> String {
    format!("Bearer {}", s.token().expect("a token"))
}

#[test]
fn the_default_server_asks_a_token_and_refuses_cross_site_requests() {
    let dir = simulator_root();
    let s = Server::start(dir.path(), None);
    let file = dir.path().join("etc/api-token");
    assert!(file.exists(), "a token is generated on first start");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&file).expect("meta").permissions().mode();
        assert_eq!(mode & 0o077, 0, "readable by the owner only: {mode:o}");
    }
    let auth = bearer(&s);
    let json = ("content-type", "application/json");
    let port = s.base.rsplit(':').next().expect("port").to_string();

    // No token, an empty one, a wrong one: 401, as JSON.
    assert_error(
        s.raw(M::GET, "/rules", &[], None),
        401,
        "unauthorized",
        "missing",
    );
    assert_error(
        s.raw(M::GET, "/rules", &[("authorization", "")], None),
        401,
        "unauthorized",
        "no token",
    );
    assert_error(
        s.raw(M::GET, "/rules", &[("authorization", "Bearer nope")], None),
        401,
        "unauthorized",
        "wrong",
    );
    // The scheme in any case; open paths are open for GET only (a method they lack is
    // a 405; a method they have but that is not open needs the token).
    let lower = auth.replacen("Bearer", "bearer", 1);
    assert_eq!(
        s.raw(M::GET, "/rules", &[("authorization", &lower)], None)
            .0,
        200
    );
    assert_eq!(s.raw(M::GET, "/ping", &[], None).0, 200);
    assert_eq!(s.raw(M::POST, "/ping", &[], None).0, 405);

    // A form or "simple" fetch body is refused; JSON goes.
    let text_plain = s.raw(
        M::POST,
        "/streams",
        &[("authorization", &auth), ("content-type", "text/plain")],
        Some(STREAM.as_bytes().to_vec()),
    );
    assert_error(
        text_plain,
        415,
        "unsupported_media_type",
        "application/json",
    );
    // A foreign Origin and a foreign Host (DNS rebinding) are refused, with the token.
    let foreign = s.raw(
        M::POST,
        "/streams",
        &[
            ("authorization", &auth),
            json,
            ("origin", "http://evil.example"),
        ],
        Some(STREAM.as_bytes().to_vec()),
    );
    assert_error(foreign, 403, "forbidden", "cross-origin");
    let host = format!("evil.example:{port}");
    let rebound = s.raw(
        M::GET,
        "/rules",
        &[("authorization", &auth), ("host", &host)],
        None,
    );
    assert_error(rebound, 403, "forbidden", "evil.example");
    // The server's own origin is fine.
    let own = format!("http://127.0.0.1:{port}");
    let created = s.raw(
        M::POST,
        "/streams",
        &[("authorization", &auth), json, ("origin", &own)],
        Some(STREAM.as_bytes().to_vec()),
    );
    assert_eq!(created.0, 201, "{}", created.1);
    // No CORS unless configured: a preflight is not answered.
    let preflight = s.raw(
        M::OPTIONS,
        "/rules",
        &[
            ("origin", "http://evil.example"),
            ("access-control-request-method", "POST"),
        ],
        None,
    );
    assert_eq!(preflight.0, 403);

    // Every error is JSON: a method the route lacks, a body over the limit, a target
    // too long, a body that is not UTF-8; and a long error message is cut.
    assert_error(
        s.raw(M::PATCH, "/rules", &[("authorization", &auth)], None),
        405,
        "method_not_allowed",
        "method",
    );
    let big = vec![b' '; (1 << 20) + 16];
    assert_error(
        s.raw(
            M::POST,
            "/rules",
            &[("authorization", &auth), json],
            Some(big),
        ),
        413,
        "payload_too_large",
        "larger",
    );
    let long = format!("/rules/{}", "x".repeat(9000));
    assert_error(
        s.raw(M::GET, &long, &[("authorization", &auth)], None),
        414,
        "uri_too_long",
        "bytes",
    );
    assert_error(
        s.raw(
            M::POST,
            "/rules",
            &[("authorization", &auth), json],
            Some(vec![0xff, 0xfe]),
        ),
        400,
        "bad_request",
        "UTF-8",
    );
    let bad_sql = serde_json::json!({"sql": format!("CREATE STREAM x ({}", "a ".repeat(300_000))});
    let (status, body) = s.raw(
        M::POST,
        "/streams",
        &[("authorization", &auth), json],
        Some(bad_sql.to_string().into_bytes()),
    );
    assert_eq!(status, 400, "{}", &body[..body.len().min(300)]);
    assert!(body.len() < 4096, "the error is cut: {} bytes", body.len());

    // file:// URLs reach only the configured folders.
    let outside = serde_json::json!({"file": "file:///etc/passwd"}).to_string();
    assert_error(
        s.raw(
            M::POST,
            "/data/import",
            &[("authorization", &auth), json],
            Some(outside.into_bytes()),
        ),
        400,
        "bad_request",
        "api.fileRoots",
    );
    s.stop();
}

#[test]
fn auth_none_is_for_loopback_only_and_one_server_holds_a_root() {
    let dir = simulator_root();
    std::fs::write(
        dir.path().join("etc/tributary.yaml"),
        "api:\n  auth: none\n",
    )
    .expect("config");
    let s = Server::start(dir.path(), None);
    assert!(
        !dir.path().join("etc/api-token").exists(),
        "no token is made"
    );
    assert_eq!(s.raw(M::GET, "/rules", &[], None).0, 200);

    // A second server on the same root is refused, naming it.
    let out = tributary_tests::serve_command(dir.path())
        .output()
        .expect("second serve");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("already running on the root"), "{err}");
    s.stop();

    // Without a token on a wildcard listener: refused at start.
    let out = std::process::Command::new(tributary_tests::binary())
        .args(["serve", "--listen", "0.0.0.0:0", "--root"])
        .arg(dir.path())
        .output()
        .expect("serve");
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("only allowed on a loopback address"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // An empty token is refused too.
    std::fs::write(
        dir.path().join("etc/tributary.yaml"),
        "api:\n  token: \"\"\n",
    )
    .expect("config");
    let out = tributary_tests::serve_command(dir.path())
        .output()
        .expect("serve");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("token is empty"));
}

/// A root with the faulty wasm plugin, whose `spin()` never returns.
fn spin_root() -> tempfile::TempDir {
    let dir = simulator_root();
    let f = dir.path().join("plugins/functions");
    std::fs::create_dir_all(&f).expect("mkdir");
    std::fs::copy(
        wasm_root().join("plugins/functions/faulty.wasm"),
        f.join("faulty.wasm"),
    )
    .expect("copy");
    dir
}

#[test]
fn stopping_a_rule_stuck_at_its_plugin_deadline_takes_under_two_seconds() {
    let dir = spin_root();
    let s = Server::start(dir.path(), None);
    assert_eq!(s.call(M::POST, "/streams", Some(STREAM)).0, 201);
    let rule = serde_json::json!({
        "id": "stuck", "sql": "SELECT spin() AS x FROM s", "actions": [{"nop": {}}],
        "options": {"bufferLength": 64}
    })
    .to_string();
    assert_eq!(s.call(M::POST, "/rules", Some(&rule)).0, 201);
    // Let batches queue behind the spinning call (each costs the 1 s deadline).
    std::thread::sleep(Duration::from_millis(2500));
    let t = Instant::now();
    let r = s.call(M::POST, "/rules/stuck/stop", None);
    let took = t.elapsed();
    assert_eq!(r.0, 200, "{}", r.1);
    assert!(took < Duration::from_secs(2), "stop took {took:?}");
    // SIGTERM with the rule running again: the server is gone within two seconds.
    assert_eq!(s.call(M::POST, "/rules/stuck/start", None).0, 200);
    std::thread::sleep(Duration::from_millis(2500));
    let t = Instant::now();
    s.stop();
    let took = t.elapsed();
    assert!(took < Duration::from_secs(2), "SIGTERM took {took:?}");
}

#[test]
fn installs_and_large_statements_do_not_stall_a_running_rule() {
    let dir = simulator_root();
    let root = dir.path();
    let s = Server::start(root, None);
    assert_eq!(s.call(M::POST, "/streams", Some(STREAM)).0, 201);
    let out = root.join("out.jsonl");
    let rule = serde_json::json!({
        "id": "steady", "sql": "SELECT id, event_time() AS t FROM s",
        "actions": [{"file": {"path": out, "fileType": "lines"}}]
    })
    .to_string();
    assert_eq!(s.call(M::POST, "/rules", Some(&rule)).0, 201);
    std::thread::sleep(Duration::from_millis(500));
    // Two uploads of the 18 MB Python component (seconds of compilation each) and two
    // statements of 9,999 columns (the most a stream may declare), all at once.
    let python = std::fs::read(
        wasm_root()
            .with_file_name("wasm-python")
            .join("plugins/functions/accumulateWordCount.wasm"),
    )
    .expect("python component");
    let package = |name: &str| {
        let manifest = serde_json::json!({
            "name": name, "kind": "function", "tier": "wasm",
            "artifact": format!("{name}.wasm"), "sha256": sha(&python)
        });
        zip_of(&[
            ("manifest.json", manifest.to_string().as_bytes()),
            (&format!("{name}.wasm"), &python),
        ])
    };
    let columns: Vec<String> = (0..9_999).map(|i| format!("c{i} BIGINT")).collect();
    let ddl = |name: &str| {
        serde_json::json!({"sql": format!("CREATE STREAM {name} ({}) WITH (TYPE=\"simulator\")", columns.join(", "))}).to_string()
    };
    std::thread::scope(|t| {
        let a = t.spawn(|| {
            s.send_bytes(
                M::POST,
                "/plugins/functions?name=wordsA",
                "application/zip",
                package("wordsA"),
            )
        });
        let b = t.spawn(|| {
            s.send_bytes(
                M::POST,
                "/plugins/functions?name=wordsB",
                "application/zip",
                package("wordsB"),
            )
        });
        let c = t.spawn(|| s.call(M::POST, "/streams", Some(&ddl("wide1"))));
        let d = t.spawn(|| s.call(M::POST, "/streams", Some(&ddl("wide2"))));
        let (a, b) = (a.join().expect("a"), b.join().expect("b"));
        // One registers accumulateWordCount, the other finds it taken.
        let mut got = [a.0, b.0];
        got.sort_unstable();
        assert_eq!(got, [201, 409], "{a:?} {b:?}");
        assert_eq!(c.join().expect("c").0, 201);
        assert_eq!(d.join().expect("d").0, 201);
    });
    std::thread::sleep(Duration::from_millis(300));
    let log = s.log();
    s.stop();
    let text = std::fs::read_to_string(&out).unwrap_or_default();
    assert!(!text.is_empty(), "no output; the log:\n{log}");
    let times: Vec<i64> = text
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter_map(|v| v[0]["t"].as_i64())
        .collect();
    assert!(
        times.len() > 100,
        "the rule ran throughout: {} rows",
        times.len()
    );
    let worst = times.windows(2).map(|w| w[1] - w[0]).max().unwrap_or(0);
    assert!(worst < 100, "the longest gap between rows was {worst} ms");
}

#[test]
fn names_stay_one_path_segment_and_dots_are_refused() {
    let dir = simulator_root();
    let s = Server::start(dir.path(), None);
    assert_eq!(s.call(M::POST, "/streams", Some(STREAM)).0, 201);
    let victim =
        serde_json::json!({"id": "victim", "sql": "SELECT id FROM s", "actions": [{"nop": {}}]})
            .to_string();
    assert_eq!(s.call(M::POST, "/rules", Some(&victim)).0, 201);
    let out = std::process::Command::new(tributary_tests::binary())
        .args(["stream", "drop", "../rules/victim", "--host", &s.base])
        .arg("--token-file")
        .arg(dir.path().join("etc/api-token"))
        .output()
        .expect("cli");
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("not found"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(rule_ids(&s), ["victim"], "the rule is untouched");
    for id in [".", "..", "a/b"] {
        let r = serde_json::json!({"id": id, "sql": "SELECT id FROM s"}).to_string();
        assert_error(
            s.call(M::POST, "/rules", Some(&r)),
            400,
            "bad_request",
            "rule id",
        );
    }
    let slash = r#"{"sql": "CREATE STREAM `a/b` () WITH (TYPE=\"simulator\")"}"#;
    assert_error(
        s.call(M::POST, "/streams", Some(slash)),
        400,
        "bad_request",
        "stream name",
    );
    s.stop();
}

#[test]
fn a_sink_that_cannot_deliver_says_so_in_the_rule_status() {
    let dir = simulator_root();
    let s = Server::start(dir.path(), None);
    std::fs::write(
        dir.path().join("etc/sources/simulator.yaml"),
        "default:\n  interval: 5\n  data:\n    - {id: 1, temp: 30}\n    - {id: 2, temp: 10}\n    - {id: 3, temp: \"hot\"}\n",
    )
    .expect("conf");
    assert_eq!(s.call(M::POST, "/streams", Some(STREAM)).0, 201);
    // Nothing listens on this port: every delivery fails.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://{}/in", closed.local_addr().expect("addr"));
    drop(closed);
    let rule = serde_json::json!({
        "id": "down", "sql": "SELECT id FROM s WHERE temp > 20",
        "actions": [{"rest": {"url": url, "retryInterval": 10}}, {"nop": {}}]
    })
    .to_string();
    assert_eq!(s.call(M::POST, "/rules", Some(&rule)).0, 201);
    let start = Instant::now();
    let status = loop {
        let st = s.json("/rules/down/status");
        if st["sink_rest_0_0_exceptions_total"].as_u64().unwrap_or(0) > 2
            && st["records_in_total"].as_u64().unwrap_or(0) > 30
        {
            break st;
        }
        assert!(start.elapsed() < Duration::from_secs(20), "{st}");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert_eq!(status["status"], "running");
    assert_eq!(status["sink_rest_0_0_state"], "failing", "{status}");
    assert_eq!(status["sink_state"], "failing", "{status}");
    assert!(
        status["sink_rest_0_0_last_exception"]
            .as_str()
            .is_some_and(|e| !e.is_empty()),
        "{status}"
    );
    assert_eq!(status["sink_nop_1_0_state"], "delivering", "{status}");
    s.stop();
}

/// schemathesis (PyPI; the test command installs it) against `/openapi.json`, with
/// the token and without: every answer must be one the document describes, with the
/// schema it gives, and no request may get a 5xx. (`positive_data_acceptance` is
/// left out: a schema cannot say which SQL parses, so a well-formed body with a bad
/// statement is rightly a documented 400.)
#[test]
fn the_api_matches_its_openapi_document_under_schemathesis() {
    let dir = simulator_root();
    // Downloads go nowhere but loopback, whatever URLs the fuzzer makes up.
    std::fs::write(
        dir.path().join("etc/tributary.yaml"),
        "api:\n  fetchHosts: [\"127.0.0.1\"]\n",
    )
    .expect("config");
    let s = Server::start(dir.path(), None);
    assert_eq!(s.call(M::POST, "/streams", Some(STREAM)).0, 201);
    let auth = format!("Authorization: {}", bearer(&s));
    let spec = format!("{}/openapi.json", s.base);
    for (label, header) in [("with the token", Some(auth.as_str())), ("without", None)] {
        let mut cmd = std::process::Command::new("schemathesis");
        cmd.args([
            "--no-color",
            "run",
            &spec,
            "--max-time",
            "40",
            "--seed",
            "7",
        ])
        .args(["--exclude-checks", "positive_data_acceptance"]);
        if let Some(h) = header {
            cmd.args(["-H", h]);
        }
        let out = cmd
            .output()
            .expect("schemathesis (pip install schemathesis; scripts/test.sh does)");
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "{label}: schemathesis found failures:\n{text}\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(text.contains("passed"), "{label}: {text}");
    }
    assert!(!s.log().contains("panicked"), "{}", s.log());
    s.stop();
}
