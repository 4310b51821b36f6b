//! `tributary plugin pack` and bare-file installs: a built plugin file becomes a
//! package without a hand-written manifest, the package installs into a running
//! server, and a rule calls what it holds.

use std::io::Read;
use std::path::Path;
use std::process::Output;
use tributary_tests::api_server::Server;
use tributary_tests::cli::{self, ok, refused};
use tributary_tests::{native_root, sha, wasm_root};

fn tributary(dir: &Path, args: &[&str]) -> Output {
    cli::in_dir(dir, args, &[])
}

/// The files of a zip, by name.
fn unzip(bytes: &[u8]) -> Vec<(String, Vec<u8>)> {
    let mut z = zip::ZipArchive::new(std::io::Cursor::new(bytes)).expect("zip");
    (0..z.len())
        .map(|i| {
            let mut f = z.by_index(i).expect("entry");
            let mut data = Vec::new();
            f.read_to_end(&mut data).expect("read");
            (f.name().to_string(), data)
        })
        .collect()
}

#[test]
fn pack_writes_the_manifest_from_the_plugin_itself() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let wasm = std::fs::read(wasm_root().join("plugins/functions/echo.wasm")).expect("echo");
    std::fs::write(d.join("echo@v2.1.0.wasm"), &wasm).expect("copy");
    std::fs::write(
        d.join("echo@v2.1.0.json"),
        r#"{"capabilities": {"env": []}}"#,
    )
    .expect("caps");
    std::fs::create_dir_all(d.join("conf/sub")).expect("etc");
    std::fs::write(d.join("conf/sub/a.txt"), "hello").expect("etc file");
    let text = ok(tributary(
        d,
        &["plugin", "pack", "echo@v2.1.0.wasm", "--etc", "conf"],
    ));
    assert!(
        text.starts_with("packed echo.zip: wasm function plugin echo 2.1.0, sha256 "),
        "{text}"
    );
    assert!(text.contains("functions: echo\n"), "{text}");
    let files = unzip(&std::fs::read(d.join("echo.zip")).expect("echo.zip"));
    let names: Vec<&str> = files.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        ["manifest.json", "echo.wasm", "echo.json", "etc/sub/a.txt"]
    );
    let manifest: serde_json::Value = serde_json::from_slice(&files[0].1).expect("manifest");
    assert_eq!(
        manifest,
        serde_json::json!({
            "name": "echo", "version": "2.1.0", "kind": "function", "tier": "wasm",
            "artifact": "echo.wasm", "sha256": sha(&wasm), "functions": ["echo"]
        })
    );
    assert_eq!(files[1].1, wasm);

    // A sink is found to be one; --name and --version override the file name's.
    let sink = wasm_root().join("plugins/sinks/tally.wasm");
    let text = ok(tributary(
        d,
        &[
            "plugin",
            "pack",
            sink.to_str().expect("utf-8"),
            "--name",
            "counter",
            "--version",
            "v3",
            "-o",
            "c.zip",
        ],
    ));
    assert!(text.starts_with("packed c.zip: wasm sink plugin counter 3,"));
    let manifest = &unzip(&std::fs::read(d.join("c.zip")).expect("c.zip"))[0].1;
    let manifest: serde_json::Value = serde_json::from_slice(manifest).expect("manifest");
    assert_eq!(manifest["kind"], "sink");
    assert!(manifest.get("functions").is_none());

    // Refused, naming what is wrong, and nothing written.
    let err = refused(tributary(
        d,
        &[
            "plugin",
            "pack",
            sink.to_str().expect("utf-8"),
            "--kind",
            "function",
        ],
    ));
    assert!(
        err.contains("does not export the tributary:plugin/function interface"),
        "{err}"
    );
    std::fs::write(d.join("junk.wasm"), b"not wasm").expect("junk");
    let err = refused(tributary(d, &["plugin", "pack", "junk.wasm"]));
    assert!(
        err.contains("junk.wasm") && err.contains("not a valid wasm component"),
        "{err}"
    );
    let err = refused(tributary(d, &["plugin", "pack", "conf/sub/a.txt"]));
    assert!(err.contains("a plugin file ends in .so or .wasm"), "{err}");
    std::fs::write(
        d.join("echo@v2.1.0.json"),
        r#"{"capabilities": {"nework": []}}"#,
    )
    .expect("caps");
    let err = refused(tributary(d, &["plugin", "pack", "echo@v2.1.0.wasm"]));
    assert!(
        err.contains("echo@v2.1.0.json") && err.contains("nework"),
        "{err}"
    );
    assert!(!d.join("junk.zip").exists());
}

#[test]
fn packed_and_bare_plugins_install_into_a_running_server() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let s = Server::start(d, None);
    let remote = |args: &[&str]| cli::remote(&s, d, args, &[]);
    let echo = wasm_root().join("plugins/functions/echo.wasm");
    ok(tributary(
        d,
        &[
            "plugin",
            "pack",
            echo.to_str().expect("utf-8"),
            "--version",
            "1.0.0",
        ],
    ));
    assert_eq!(
        ok(remote(&[
            "plugin",
            "install",
            "functions",
            "echo",
            "echo.zip"
        ])),
        "functions plugin echo is created\n"
    );
    assert!(ok(remote(&["plugin", "describe", "functions", "echo"])).contains("\"1.0.0\""));

    // A bare .so, packed on the way; a wrong --sha256 is refused before anything is sent.
    let so = native_root().join("plugins/functions/countPlusOne.so");
    let so = so.to_str().expect("utf-8");
    let err = refused(remote(&[
        "plugin",
        "install",
        "functions",
        "countPlusOne",
        so,
        "--sha256",
        "00",
    ]));
    assert!(err.contains("its sha256 is"), "{err}");
    assert_eq!(ok(remote(&["plugin", "list", "functions"])), "echo\n");
    let sum = sha(&std::fs::read(so).expect(".so"));
    assert_eq!(
        ok(remote(&[
            "plugin",
            "install",
            "functions",
            "countPlusOne",
            so,
            "--sha256",
            &sum
        ])),
        "functions plugin countPlusOne is created\n"
    );

    // A rule uses both.
    let spec = d.join("spec.json");
    std::fs::write(
        &spec,
        serde_json::json!({
            "sql": "SELECT echo(a) AS e, countPlusOne(a) AS c FROM s",
            "streams": ["CREATE STREAM s (a BIGINT) WITH (TYPE=\"mock\")"],
            "mockSource": {"s": {"data": [{"a": 7}, {"a": 8}], "timestamps": [1000, 2000]}}
        })
        .to_string(),
    )
    .expect("spec");
    assert_eq!(
        ok(remote(&["rule", "test", spec.to_str().expect("utf-8")])),
        "[{\"c\":2,\"e\":7}]\n[{\"c\":2,\"e\":8}]\n"
    );
    s.stop();
}

/// Polls install job `id` until it ends.
fn job_end(s: &Server, id: u64) -> serde_json::Value {
    let start = std::time::Instant::now();
    loop {
        let (status, body) = s.call(reqwest::Method::GET, &format!("/plugins/jobs/{id}"), None);
        assert_eq!(status, 200, "{body}");
        let job: serde_json::Value = serde_json::from_str(&body).expect("job JSON");
        if job["status"] != "running" {
            return job;
        }
        assert!(start.elapsed().as_secs() < 60, "still running: {job}");
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}

#[test]
fn an_install_sent_with_prefer_respond_async_answers_with_a_job() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let s = Server::start(d, None);
    let echo = wasm_root().join("plugins/functions/echo.wasm");
    ok(tributary(
        d,
        &["plugin", "pack", echo.to_str().expect("utf-8")],
    ));
    let zip = std::fs::read(d.join("echo.zip")).expect("zip");
    let auth = format!("Bearer {}", s.token().expect("token"));
    let post = |name: &str, body: Vec<u8>| {
        s.raw(
            reqwest::Method::POST,
            &format!("/plugins/functions?name={name}"),
            &[
                ("authorization", &auth),
                ("content-type", "application/zip"),
                ("prefer", "respond-async"),
            ],
            Some(body),
        )
    };
    let (status, body) = post("echo", zip);
    assert_eq!(status, 202, "{body}");
    let job: serde_json::Value = serde_json::from_str(&body).expect("job");
    assert_eq!(
        (&job["what"], &job["kind"], &job["name"]),
        (&"install".into(), &"functions".into(), &"echo".into())
    );
    let end = job_end(&s, job["id"].as_u64().expect("id"));
    assert_eq!(end["status"], "done", "{end}");
    assert_eq!(end["httpStatus"], 201);
    assert_eq!(end["message"], "functions plugin echo is created");
    assert_eq!(s.json("/plugins/functions"), serde_json::json!(["echo"]));

    // A package that fails to install fails its job, with the error it would have had.
    let (status, body) = post("junk", b"not a zip".to_vec());
    assert_eq!(status, 202, "{body}");
    let job: serde_json::Value = serde_json::from_str(&body).expect("job");
    let end = job_end(&s, job["id"].as_u64().expect("id"));
    assert_eq!(end["status"], "failed", "{end}");
    assert_eq!(end["httpStatus"], 400, "{end}");
    assert!(
        end["message"].as_str().is_some_and(|m| !m.is_empty()),
        "{end}"
    );
    assert_eq!(s.json("/plugins/functions"), serde_json::json!(["echo"]));

    for id in ["99999", "nope"] {
        let (status, body) = s.call(reqwest::Method::GET, &format!("/plugins/jobs/{id}"), None);
        assert_eq!(status, 404, "{body}");
        assert!(body.contains("no install job"), "{body}");
    }
    s.stop();
}
