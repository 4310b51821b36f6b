//! Plugin packages over the REST API, against the running binary: install from a
//! `file://` path, an upload and a real local `http://` server (with an expected
//! sha256); eKuiper's flat zips; update while a rule runs; refusal of unsafe or
//! mismatching packages with nothing changed; removal; plugins kept across a restart.

use reqwest::Method as M;
use std::path::Path;
use tributary_tests::api_server::{assert_error, Server};
use tributary_tests::{native_root, sha, wasm_root, zip_of};

/// Tributary's package of the wasm `echo` example at `version`.
fn echo_package(version: &str) -> Vec<u8> {
    let wasm = std::fs::read(wasm_root().join("plugins/functions/echo.wasm")).expect("echo.wasm");
    let manifest = serde_json::json!({
        "name": "echo", "version": version, "kind": "function", "tier": "wasm",
        "functions": ["echo"], "artifact": "echo.wasm", "sha256": sha(&wasm)
    });
    zip_of(&[
        ("manifest.json", manifest.to_string().as_bytes()),
        ("echo.wasm", &wasm),
        ("etc/greeting.txt", b"hello"),
    ])
}

/// Serves `body` at `http://127.0.0.1:<port>/random.zip` from this process.
fn http_server(body: Vec<u8>) -> (String, tokio::runtime::Runtime) {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let addr = rt.block_on(async move {
        let l = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = l.local_addr().expect("addr");
        let app = axum::Router::new().route(
            "/random.zip",
            axum::routing::get(move || {
                let b = body.clone();
                async move { b }
            }),
        );
        tokio::spawn(async move {
            let _ = axum::serve(l, app).await;
        });
        addr
    });
    (format!("http://{addr}/random.zip"), rt)
}

fn files(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .map(|d| {
            d.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

fn root() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::create_dir_all(dir.path().join("etc/sources")).expect("mkdir");
    std::fs::write(
        dir.path().join("etc/sources/simulator.yaml"),
        "default:\n  interval: 5\n  data:\n    - {id: 1}\n",
    )
    .expect("conf");
    dir
}

#[test]
fn packages_install_update_refuse_and_remove_while_rules_run() {
    let dir = root();
    let s = Server::start(dir.path(), None);
    let functions = dir.path().join("plugins/functions");

    // From a file:// path: Tributary's layout, with an etc/ folder.
    let pkg = dir.path().join("echo-1.2.0.zip");
    std::fs::write(&pkg, echo_package("1.2.0")).expect("package");
    let body = serde_json::json!({"name": "echo", "file": format!("file://{}", pkg.display())});
    assert_eq!(
        s.call(M::POST, "/plugins/functions", Some(&body.to_string())),
        (201, "functions plugin echo is created".into())
    );
    assert_eq!(
        std::fs::read_to_string(dir.path().join("etc/functions/echo/greeting.txt")).expect("etc"),
        "hello"
    );
    // An upload: eKuiper's flat zip of a native library.
    let so = std::fs::read(native_root().join("plugins/functions/countPlusOne.so")).expect(".so");
    let flat = zip_of(&[
        ("CountPlusOne@v1.0.0.so", &so),
        ("countPlusOne.json", b"{}"),
    ]);
    assert_eq!(
        s.send_bytes(
            M::POST,
            "/plugins/functions?name=countPlusOne",
            "application/zip",
            flat
        ),
        (201, "functions plugin countPlusOne is created".into())
    );
    // From a real HTTP server, with the zip's expected sha256.
    let random = std::fs::read(native_root().join("plugins/sources/random.so")).expect("random.so");
    let zip = zip_of(&[
        ("random.so", &random),
        ("random.yaml", b"default:\n  interval: 10\n"),
    ]);
    let (url, _rt) = http_server(zip.clone());
    let wrong = serde_json::json!({"name": "random", "file": url, "sha256": "00"});
    assert_error(
        s.call(M::POST, "/plugins/sources", Some(&wrong.to_string())),
        400,
        "bad_request",
        "sha256",
    );
    let body = serde_json::json!({"name": "random", "file": url, "sha256": sha(&zip)});
    assert_eq!(
        s.call(M::POST, "/plugins/sources", Some(&body.to_string())),
        (201, "sources plugin random is created".into())
    );
    assert!(dir.path().join("etc/sources/random.yaml").exists());

    assert_eq!(
        s.json("/plugins/functions"),
        serde_json::json!(["countPlusOne", "echo"])
    );
    assert_eq!(s.json("/plugins/sources"), serde_json::json!(["random"]));
    let d = s.json("/plugins/functions/echo");
    assert_eq!(
        (d["version"].as_str(), d["tier"].as_str()),
        (Some("1.2.0"), Some("wasm"))
    );
    assert_eq!(d["functions"], serde_json::json!(["echo"]));
    assert_eq!(s.json("/plugins/functions/countPlusOne")["tier"], "native");
    assert_eq!(
        s.json("/plugins/udfs"),
        serde_json::json!(["countPlusOne", "echo"])
    );
    assert_eq!(s.json("/plugins/udfs/echo")["plugin"], "echo");
    assert_error(
        s.call(M::GET, "/plugins/udfs/nope", None),
        404,
        "not_found",
        "nope",
    );
    assert_error(
        s.call(M::GET, "/plugins/functions/nope", None),
        404,
        "not_found",
        "nope",
    );
    assert_error(
        s.call(M::GET, "/plugins/gadgets", None),
        404,
        "not_found",
        "gadgets",
    );

    // A rule uses echo; the plugin cannot go while it runs.
    assert_eq!(
        s.call(
            M::POST,
            "/streams",
            Some(r#"{"sql": "CREATE STREAM s (id BIGINT) WITH (TYPE=\"simulator\")"}"#)
        )
        .0,
        201
    );
    let out = dir.path().join("data/out.jsonl");
    let rule = serde_json::json!({"id": "r", "sql": "SELECT echo(id) AS e, countPlusOne(id) AS c FROM s",
        "actions": [{"file": {"path": out, "fileType": "lines"}}]});
    assert_eq!(s.call(M::POST, "/rules", Some(&rule.to_string())).0, 201);
    assert_error(
        s.call(M::DELETE, "/plugins/functions/echo", None),
        409,
        "conflict",
        "echo",
    );
    // Its calls and its instance's memory show in /metrics.
    let start = std::time::Instant::now();
    let plugin_line = |metrics: &str, name: &str| {
        metrics
            .lines()
            .find(|l| {
                l.starts_with(&format!(
                    "{name}{{tier=\"wasm\",kind=\"function\",plugin=\"echo\""
                ))
            })
            .and_then(|l| l.rsplit(' ').next())
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(0)
    };
    loop {
        let (_, metrics) = s.call(M::GET, "/metrics", None);
        if plugin_line(&metrics, "tributary_plugin_calls_total") > 0 {
            assert!(
                plugin_line(&metrics, "tributary_plugin_memory_bytes") > 0,
                "{metrics}"
            );
            break;
        }
        assert!(
            start.elapsed() < std::time::Duration::from_secs(20),
            "no calls counted: {metrics}"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }

    // Update while the rule runs: the new version replaces the old file.
    let pkg2 = dir.path().join("echo-1.3.0.zip");
    std::fs::write(&pkg2, echo_package("1.3.0")).expect("package");
    let body = serde_json::json!({"file": format!("file://{}", pkg2.display())});
    assert_eq!(
        s.call(M::PUT, "/plugins/functions/echo", Some(&body.to_string())),
        (200, "functions plugin echo is updated".into())
    );
    assert_eq!(s.json("/plugins/functions/echo")["version"], "1.3.0");
    assert_eq!(s.json("/rules/r/status")["status"], "running");
    let before = files(&functions);
    assert!(
        before.contains(&"echo@v1.3.0.wasm".to_string()),
        "{before:?}"
    );
    assert!(
        !before.contains(&"echo@v1.2.0.wasm".to_string()),
        "{before:?}"
    );

    // Refused packages change nothing.
    let wasm = std::fs::read(wasm_root().join("plugins/functions/echo.wasm")).expect("echo.wasm");
    let bad_manifest = |name: &str, functions: &[&str]| {
        let m = serde_json::json!({"name": name, "version": "9", "kind": "function", "tier": "wasm",
            "functions": functions, "artifact": "echo.wasm", "sha256": sha(&wasm)});
        zip_of(&[
            ("manifest.json", m.to_string().as_bytes()),
            ("echo.wasm", &wasm),
        ])
    };
    let refused: Vec<(&str, Vec<u8>, &str)> = vec![
        (
            "evil",
            zip_of(&[("../../evil.so", b"x")]),
            "escapes the package",
        ),
        ("link", zip_of(&[("link.so@", b"")]), "symlink"),
        ("echo", bad_manifest("other", &["echo"]), "names the plugin"),
        (
            "echo",
            bad_manifest("echo", &["echo", "more"]),
            "declares the functions",
        ),
        (
            "shell",
            zip_of(&[("shell.so", &so), ("install.sh", b"touch /tmp/pwned")]),
            "install.sh",
        ),
        ("junk", b"not a zip".to_vec(), "not a zip"),
        (
            "broken",
            zip_of(&[("broken.wasm", b"\0asm\x01\0\0\0garbage")]),
            "broken",
        ),
        (
            "bad name!",
            zip_of(&[("x.so", b"x")]),
            "invalid plugin name",
        ),
    ];
    for (name, zip, want) in refused {
        let path = format!(
            "/plugins/functions?name={}",
            name.replace(' ', "%20").replace('!', "%21")
        );
        assert_error(
            s.send_bytes(M::POST, &path, "application/zip", zip),
            400,
            "bad_request",
            want,
        );
    }
    assert_error(
        s.call(
            M::POST,
            "/plugins/functions",
            Some(r#"{"name": "x", "file": "ftp://h/x.zip"}"#),
        ),
        400,
        "bad_request",
        "file://",
    );
    assert_error(
        s.call(
            M::POST,
            "/plugins/functions",
            Some(r#"{"name": "x", "file": "file:///nonexistent.zip"}"#),
        ),
        400,
        "bad_request",
        "cannot read",
    );
    assert_eq!(
        files(&functions),
        before,
        "a refused package left files behind"
    );
    assert_eq!(
        s.json("/plugins/functions"),
        serde_json::json!(["countPlusOne", "echo"])
    );
    assert_eq!(s.json("/plugins/functions/echo")["version"], "1.3.0");

    // Stop the rule; now echo can go, with its files.
    assert_eq!(s.call(M::DELETE, "/rules/r", None).0, 200);
    assert_eq!(
        s.call(M::DELETE, "/plugins/functions/echo", None),
        (200, "functions plugin echo is deleted".into())
    );
    assert_eq!(s.json("/plugins/udfs"), serde_json::json!(["countPlusOne"]));
    assert!(!files(&functions).iter().any(|f| f.starts_with("echo")));
    assert!(!dir.path().join("etc/functions/echo").exists());
    assert_error(
        s.call(M::POST, "/rules", Some(&rule.to_string())),
        400,
        "bad_request",
        "echo",
    );

    // The installed plugins come back after a restart.
    s.stop();
    let s = Server::start(dir.path(), None);
    assert_eq!(
        s.json("/plugins/functions"),
        serde_json::json!(["countPlusOne"])
    );
    assert_eq!(s.json("/plugins/sources"), serde_json::json!(["random"]));
    assert_eq!(
        s.json("/plugins/functions/countPlusOne")["version"],
        "1.0.0"
    );
    s.stop();
}

#[test]
fn service_packages_install_replace_and_remove() {
    use tributary_tests::services::Services;
    let examples = tributary_tests::workspace().join("examples/external-root/etc/services");
    let svc = Services::start(&examples.join("schemas"));
    let sample = std::fs::read_to_string(examples.join("sample.json"))
        .expect("sample.json")
        .replace("127.0.0.1:51234", &svc.rest.to_string())
        .replace("127.0.0.1:50051", &svc.grpc.to_string());
    let proto = std::fs::read(examples.join("schemas/hw.proto")).expect("hw.proto");
    let dir = root();
    let s = Server::start(dir.path(), None);
    let write = |file: &str, zip: Vec<u8>| {
        let p = dir.path().join(file);
        std::fs::write(&p, zip).expect("package");
        serde_json::json!({"name": "sample", "file": format!("file://{}", p.display())}).to_string()
    };
    let trial = |sql: &str| {
        let spec = serde_json::json!({"sql": sql,
            "streams": ["CREATE STREAM s (name STRING) WITH (TYPE=\"mock\")"],
            "mockSource": {"s": {"data": [{"name": "world"}], "timestamps": [1000]}}});
        s.call(M::POST, "/ruletest", Some(&spec.to_string()))
    };

    // Refused first: no service file; an entry outside schemas/; a schema missing.
    let cases = [
        (
            zip_of(&[("other.json", sample.as_bytes())]),
            "cannot find the service file sample.json",
        ),
        (
            zip_of(&[("sample.json", sample.as_bytes()), ("bin/x", b"x")]),
            "neither sample.json nor under schemas/",
        ),
        (zip_of(&[("sample.json", sample.as_bytes())]), "hw.proto"),
    ];
    for (zip, want) in cases {
        let body = write("bad.zip", zip);
        assert_error(
            s.call(M::POST, "/services", Some(&body)),
            400,
            "bad_request",
            want,
        );
    }
    assert_eq!(s.json("/services"), serde_json::json!([]));
    assert!(
        !dir.path().join("etc/services/sample.json").exists(),
        "a refused package wrote files"
    );

    let body = write(
        "sample.zip",
        zip_of(&[
            ("sample.json", sample.as_bytes()),
            ("schemas/hw.proto", &proto),
        ]),
    );
    assert_eq!(
        s.call(M::POST, "/services", Some(&body)),
        (201, "service sample is created".into())
    );
    assert_eq!(s.json("/services"), serde_json::json!(["sample"]));
    assert_eq!(
        s.json("/services/sample")["interfaces"]["tsrpc"]["protocol"],
        "grpc"
    );
    let f = s.json("/services/functions/helloFromGrpc");
    assert_eq!(f["ServiceName"], "sample");
    assert_eq!(f["InterfaceName"], "tsrpc");
    assert_eq!(f["MethodName"], "SayHello");
    let all = s.json("/services/functions");
    assert!(all.as_array().is_some_and(|a| a.len() > 5), "{all}");
    let (status, events) = trial("SELECT helloFromGrpc(name) AS wc FROM s");
    assert_eq!(status, 200);
    assert!(
        events.contains(r#"data: [{"wc":{"message":"world"}}]"#),
        "{events}"
    );

    // Replace it, then remove it: its functions go with it.
    assert_eq!(
        s.call(M::PUT, "/services/sample", Some(&body)),
        (200, "service sample is updated".into())
    );
    assert_eq!(
        s.call(M::DELETE, "/services/sample", None),
        (200, "service sample is deleted".into())
    );
    assert_error(
        s.call(M::GET, "/services/sample", None),
        404,
        "not_found",
        "sample",
    );
    assert_error(
        s.call(M::GET, "/services/functions/helloFromGrpc", None),
        404,
        "not_found",
        "helloFromGrpc",
    );
    assert_eq!(s.json("/services/functions"), serde_json::json!([]));
    s.stop();
}

#[test]
fn the_cli_manages_plugins() {
    let dir = root();
    let s = Server::start(dir.path(), None);
    let token_file = dir.path().join("etc/api-token");
    let cli = |args: &[&str]| {
        let out = std::process::Command::new(tributary_tests::binary())
            .args(args)
            .args(["--host", &s.base])
            .arg("--token-file")
            .arg(&token_file)
            .output()
            .expect("cli");
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let so = std::fs::read(native_root().join("plugins/functions/countPlusOne.so")).expect(".so");
    let pkg = dir.path().join("cpo.zip");
    std::fs::write(&pkg, zip_of(&[("CountPlusOne@v1.0.0.so", &so)])).expect("zip");
    let pkg = pkg.to_str().expect("utf-8");
    assert_eq!(
        cli(&["plugin", "install", "functions", "countPlusOne", pkg]),
        "functions plugin countPlusOne is created\n"
    );
    assert_eq!(cli(&["plugin", "list", "functions"]), "countPlusOne\n");
    assert!(cli(&["plugin", "describe", "functions", "countPlusOne"])
        .contains("\"version\": \"1.0.0\""));
    assert_eq!(cli(&["plugin", "udfs"]), "countPlusOne\n");
    assert_eq!(
        cli(&[
            "plugin",
            "update",
            "functions",
            "countPlusOne",
            &format!("file://{pkg}")
        ]),
        "functions plugin countPlusOne is updated\n"
    );
    assert_eq!(
        cli(&["plugin", "drop", "functions", "countPlusOne"]),
        "functions plugin countPlusOne is deleted\n"
    );
    assert_eq!(cli(&["service", "list"]), "");
    s.stop();
}
