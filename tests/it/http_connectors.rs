//! The HTTP connectors against real local servers: an `httppush` endpoint fed by a
//! real client, an `httppull` source polling a real server (incremental), and the
//! `rest` sink posting to a real server, all through `serve`.

use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tributary_tests::free_port;

#[derive(Default)]
struct Seen {
    bodies: Mutex<Vec<(String, serde_json::Value)>>,
    polls: AtomicU64,
}

/// A server with `POST /sink/{name}` (records the bodies) and `GET /data` (a reading
/// that changes every 3 polls).
fn server(seen: Arc<Seen>) -> (String, tokio::runtime::Runtime) {
    use axum::extract::{Path as P, State};
    use axum::routing::{get, post};
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let addr = rt.block_on(async move {
        let app = axum::Router::new()
            .route(
                "/sink/{name}",
                post(
                    |State(s): State<Arc<Seen>>, P(name): P<String>, body: String| async move {
                        let v =
                            serde_json::from_str(&body).unwrap_or(serde_json::Value::String(body));
                        s.bodies.lock().expect("lock").push((name, v));
                        "ok"
                    },
                ),
            )
            .route(
                "/data",
                get(|State(s): State<Arc<Seen>>| async move {
                    let n = s.polls.fetch_add(1, Ordering::SeqCst) / 3;
                    axum::Json(serde_json::json!({"n": n}))
                }),
            )
            .with_state(seen);
        let l = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = l.local_addr().expect("addr");
        tokio::spawn(async move {
            let _ = axum::serve(l, app).await;
        });
        addr
    });
    (format!("http://{addr}"), rt)
}

fn root(dir: &Path, base: &str, push_port: u16) {
    std::fs::create_dir_all(dir.join("etc/sources")).expect("mkdir");
    std::fs::create_dir_all(dir.join("data")).expect("mkdir");
    std::fs::write(
        dir.join("etc/sources/httppush.yaml"),
        format!("default:\n  server: 127.0.0.1:{push_port}\n"),
    )
    .expect("push conf");
    std::fs::write(
        dir.join("etc/sources/httppull.yaml"),
        format!("default:\n  url: {base}\n  interval: 50\n  incremental: true\n"),
    )
    .expect("pull conf");
    let rest = |name: &str| serde_json::json!({"rest": {"url": format!("{base}/sink/{name}"), "method": "post", "sendSingle": true, "headers": {"X-Rule": name}}});
    let init = serde_json::json!({
        "streams": {
            "pushed": "CREATE STREAM pushed (id BIGINT, v FLOAT) WITH (TYPE=\"httppush\", DATASOURCE=\"/api/data\", FORMAT=\"json\")",
            "pulled": "CREATE STREAM pulled (n BIGINT) WITH (TYPE=\"httppull\", DATASOURCE=\"/data\", FORMAT=\"json\")"
        },
        "rules": {
            "push": serde_json::json!({"id": "push", "sql": "SELECT id, v FROM pushed WHERE v > 1", "actions": [rest("push")]}).to_string(),
            "pull": serde_json::json!({"id": "pull", "sql": "SELECT n FROM pulled", "actions": [rest("pull")]}).to_string()
        }
    });
    std::fs::write(dir.join("data/init.json"), init.to_string()).expect("init");
}

#[test]
fn push_pull_and_rest_through_real_servers() {
    let seen = Arc::new(Seen::default());
    let (base, _rt) = server(seen.clone());
    let dir = tempfile::tempdir().expect("tempdir");
    let push_port = free_port();
    root(dir.path(), &base, push_port);
    let _serve = tributary_tests::Process::spawn(
        tributary_tests::serve_command(dir.path()).stderr(std::process::Stdio::null()),
        "serve",
    );
    let client = reqwest::blocking::Client::new();
    let push_url = format!("http://127.0.0.1:{push_port}/api/data");
    // The endpoint comes up with the rule.
    let start = Instant::now();
    while client.get(&push_url).send().is_err() {
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "httppush never listened"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(
        client.get(&push_url).send().expect("get").status().as_u16(),
        405
    );
    assert_eq!(
        client
            .post(format!("http://127.0.0.1:{push_port}/nowhere"))
            .body("{}")
            .send()
            .expect("post")
            .status()
            .as_u16(),
        404
    );
    for (id, v) in [(1, 0.5), (2, 1.5), (3, 2.5), (4, 0.1), (5, 9.0)] {
        let r = client
            .post(&push_url)
            .body(serde_json::json!({"id": id, "v": v}).to_string())
            .send()
            .expect("push");
        assert_eq!(r.status().as_u16(), 200);
    }
    let wait_for = |name: &str, n: usize| {
        let start = Instant::now();
        loop {
            let got: Vec<serde_json::Value> = seen
                .bodies
                .lock()
                .expect("lock")
                .iter()
                .filter(|(k, _)| k == name)
                .map(|(_, v)| v.clone())
                .collect();
            if got.len() >= n || start.elapsed() > Duration::from_secs(30) {
                return got;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    };
    let pushed: Vec<i64> = wait_for("push", 3)
        .iter()
        .filter_map(|v| v["id"].as_i64())
        .collect();
    assert_eq!(
        pushed,
        [2, 3, 5],
        "the rest sink got the hot readings, in order"
    );
    // The pull source skips unchanged answers: each value arrives once, in order.
    let pulled: Vec<i64> = wait_for("pull", 4)
        .iter()
        .filter_map(|v| v["n"].as_i64())
        .collect();
    assert!(pulled.len() >= 4, "{pulled:?}");
    let mut sorted = pulled.clone();
    sorted.dedup();
    assert_eq!(
        sorted, pulled,
        "incremental: no answer repeated: {pulled:?}"
    );
    assert!(pulled.windows(2).all(|w| w[0] < w[1]), "{pulled:?}");
}

#[test]
fn bad_http_props_are_clear_errors() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::create_dir_all(dir.path().join("data")).expect("mkdir");
    for (stream, action, want) in [
        (
            "TYPE=\"memory\", DATASOURCE=\"t\"",
            serde_json::json!({"rest": {}}),
            "url",
        ),
        (
            "TYPE=\"memory\", DATASOURCE=\"t\"",
            serde_json::json!({"rest": {"url": "ftp://x"}}),
            "http://",
        ),
        (
            "TYPE=\"memory\", DATASOURCE=\"t\"",
            serde_json::json!({"rest": {"url": "http://x", "method": "FETCH"}}),
            "method",
        ),
        (
            "TYPE=\"memory\", DATASOURCE=\"t\"",
            serde_json::json!({"rest": {"url": "http://x", "bodyType": "yaml"}}),
            "bodyType",
        ),
        ("TYPE=\"httppull\"", serde_json::json!({"nop": {}}), "url"),
        (
            "TYPE=\"httppush\"",
            serde_json::json!({"nop": {}}),
            "DATASOURCE",
        ),
    ] {
        let rule = serde_json::json!({"id": "r", "sql": "SELECT * FROM s", "actions": [action]});
        let init = serde_json::json!({
            "streams": {"s": format!("CREATE STREAM s () WITH ({stream})")},
            "rules": {"r": rule.to_string()}
        });
        std::fs::write(dir.path().join("data/init.json"), init.to_string()).expect("init");
        let out = tributary_tests::serve_command(dir.path())
            .output()
            .expect("serve");
        assert!(!out.status.success(), "{want}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(want), "{want}: {err}");
        let _ = std::fs::remove_dir_all(dir.path().join("data"));
        std::fs::create_dir_all(dir.path().join("data")).expect("mkdir");
    }
}
