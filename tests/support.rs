//! Shared helpers of the end-to-end tests: finding (or building) the `tributary`
//! binary and running it.

pub mod api_server;
pub mod cli;
pub mod influx;
pub mod mosquitto;
pub mod services;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// The hex SHA-256 of `bytes`.
pub fn sha(bytes: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A zip of `(name, bytes)`; a name ending in `@` becomes a symlink.
pub fn zip_of(entries: &[(&str, &[u8])]) -> Vec<u8> {
    use std::io::Write;
    let mut buf = std::io::Cursor::new(Vec::new());
    {
        let mut w = zip::ZipWriter::new(&mut buf);
        let o = zip::write::SimpleFileOptions::default();
        for (name, data) in entries {
            if let Some(link) = name.strip_suffix('@') {
                w.add_symlink(link, "/etc/passwd", o).expect("symlink");
                continue;
            }
            w.start_file(*name, o).expect("start");
            w.write_all(data).expect("write");
        }
        w.finish().expect("finish");
    }
    buf.into_inner()
}

/// The workspace root.
pub fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."))
}

/// The debug `tributary` binary, built on first use if it is not there yet.
pub fn binary() -> &'static Path {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        let target = std::env::var_os("CARGO_TARGET_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|| workspace().join("target"));
        let bin = target.join("debug").join("tributary");
        if std::env::var_os("TRIBUTARY_SKIP_BUILD").is_none() {
            let status = Command::new(env!("CARGO"))
                .args(["build", "--quiet", "--bin", "tributary"])
                .current_dir(workspace())
                .status()
                .expect("run cargo build");
            assert!(status.success(), "cargo build --bin tributary failed");
        }
        assert!(bin.exists(), "{} not found", bin.display());
        bin
    })
}

/// Runs `tributary` with `args` and returns its output.
pub fn run(args: &[&str]) -> Output {
    Command::new(binary())
        .args(args)
        .env("RUST_LOG", "warn")
        .output()
        .expect("run tributary")
}

/// Runs a trial spec file; returns (exit success, stdout, stderr).
pub fn trial(spec: &Path) -> (bool, String, String) {
    let out = run(&["trial", spec.to_str().expect("utf-8 path")]);
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// The wasm example root (`target/example-roots/wasm`), built by
/// `scripts/build-guests.sh` on first use unless the suite already built it.
pub fn wasm_root() -> &'static Path {
    static ROOT: OnceLock<PathBuf> = OnceLock::new();
    ROOT.get_or_init(|| {
        let root = workspace()
            .join("target")
            .join("example-roots")
            .join("wasm");
        if std::env::var_os("TRIBUTARY_SKIP_BUILD").is_none() {
            let status = Command::new("bash")
                .arg(workspace().join("scripts").join("build-guests.sh"))
                .status()
                .expect("run scripts/build-guests.sh");
            assert!(status.success(), "scripts/build-guests.sh failed");
        }
        assert!(
            root.join("plugins/functions/echo.wasm").exists(),
            "{} not built",
            root.display()
        );
        root
    })
}

/// The native example roots, built by `scripts/build-native.sh` on first use unless
/// the suite already built them: `native` (Rust examples), `native-c` (the C example)
/// and `native-fixtures` (broken libraries).
pub fn native_roots() -> &'static Path {
    static ROOTS: OnceLock<PathBuf> = OnceLock::new();
    ROOTS.get_or_init(|| {
        let roots = workspace().join("target").join("example-roots");
        if std::env::var_os("TRIBUTARY_SKIP_BUILD").is_none() {
            let status = Command::new("bash")
                .arg(workspace().join("scripts").join("build-native.sh"))
                .status()
                .expect("run scripts/build-native.sh");
            assert!(status.success(), "scripts/build-native.sh failed");
        }
        assert!(
            roots.join("native/plugins/functions/echo.so").exists(),
            "{} not built",
            roots.display()
        );
        roots
    })
}

/// `target/example-roots/native`: the Rust native examples.
pub fn native_root() -> PathBuf {
    native_roots().join("native")
}

/// A root with only the function plugin `name` (copied from `wasm`), its manifest
/// and the operator's grants (`etc/wasm.yaml`).
pub fn function_root(
    wasm: &std::path::Path,
    name: &str,
    manifest: Option<String>,
    grants: Option<String>,
) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    let functions = dir.path().join("plugins/functions");
    std::fs::create_dir_all(&functions).expect("mkdir");
    std::fs::create_dir_all(dir.path().join("etc")).expect("mkdir");
    std::fs::copy(wasm, functions.join(format!("{name}.wasm")))
        .unwrap_or_else(|e| panic!("{} (scripts/build-guests.sh): {e}", wasm.display()));
    if let Some(m) = manifest {
        std::fs::write(functions.join(format!("{name}.json")), m).expect("manifest");
    }
    if let Some(g) = grants {
        std::fs::write(dir.path().join("etc/wasm.yaml"), g).expect("grants");
    }
    dir
}

/// Runs a trial spec (JSON text) against `root`; returns (exit success, stdout, stderr).
pub fn trial_text(spec: &str, root: Option<&Path>) -> (bool, String, String) {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("spec.json");
    std::fs::write(&path, spec).expect("write spec");
    let mut args = vec!["trial".to_string(), path.to_string_lossy().into_owned()];
    if let Some(r) = root {
        args.push("--root".into());
        args.push(r.to_string_lossy().into_owned());
    }
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = run(&refs);
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// `tributary serve` on `root`, its REST API on a free loopback port (so tests can
/// run side by side). Its stdin and stdout are closed unless the caller pipes them:
/// an inherited stdout would be the test runner's own.
pub fn serve_command(root: &Path) -> Command {
    let mut c = Command::new(binary());
    c.args(["serve", "--listen", "127.0.0.1:0", "--root"])
        .arg(root)
        .stdin(Stdio::null())
        .stdout(Stdio::null());
    c
}

/// How long a test waits for a server's first output: a root with a Python
/// component compiles ~18 MB of wasm on its first start (its code cache is per
/// root), slow on a busy 2-core machine running other tests beside it.
pub const FIRST_OUTPUT: Duration = Duration::from_secs(180);

/// A child process that is killed and reaped when dropped, so a test that fails
/// half-way never leaves a server running behind it (one holding the runner's output
/// pipe keeps `cargo test | tee` waiting until CI's time limit).
pub struct Process(Option<Child>);

impl Process {
    /// Spawns `cmd`, naming `what` if it cannot start.
    pub fn spawn(cmd: &mut Command, what: &str) -> Process {
        Process(Some(
            cmd.spawn().unwrap_or_else(|e| panic!("spawn {what}: {e}")),
        ))
    }

    /// The child itself, for the callers that wait for its output.
    pub fn into_child(mut self) -> Child {
        self.0.take().expect("a process is taken once")
    }
}

impl std::ops::Deref for Process {
    type Target = Child;
    fn deref(&self) -> &Child {
        self.0.as_ref().expect("a process is taken once")
    }
}

impl std::ops::DerefMut for Process {
    fn deref_mut(&mut self) -> &mut Child {
        self.0.as_mut().expect("a process is taken once")
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        if let Some(mut c) = self.0.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// Serves `root` until `done(stderr so far)`, the process exits, or 60 s, then
/// SIGTERMs it if it still runs; returns (exit success, stderr).
pub fn serve_until(root: &Path, done: impl Fn(&str) -> bool) -> (bool, String) {
    let log = root.join("serve.log");
    let mut child = Process::spawn(
        serve_command(root)
            .env("RUST_LOG", "info")
            .env("NO_COLOR", "1")
            .stderr(std::fs::File::create(&log).expect("log")),
        "serve",
    );
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(60) {
        if done(&std::fs::read_to_string(&log).unwrap_or_default())
            || child.try_wait().expect("try_wait").is_some()
        {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    if child.try_wait().expect("try_wait").is_none() {
        Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status()
            .expect("kill");
    }
    let out = child.into_child().wait_with_output().expect("wait");
    (
        out.status.success(),
        std::fs::read_to_string(&log).unwrap_or_default(),
    )
}

/// Copies the plugin file `from` to `<root>/plugins/<to>` (`functions/x.wasm`).
pub fn install_plugin(root: &Path, from: &Path, to: &str) {
    let dest = root.join("plugins").join(to);
    std::fs::create_dir_all(dest.parent().expect("parent")).expect("mkdir");
    std::fs::copy(from, &dest)
        .unwrap_or_else(|e| panic!("copy {} to {}: {e}", from.display(), dest.display()));
}

/// Writes `<root>/<path>`, making its folders.
pub fn write_file(root: &Path, path: &str, text: &str) {
    let p = root.join(path);
    std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
    std::fs::write(&p, text).unwrap_or_else(|e| panic!("write {}: {e}", p.display()));
}

/// The JSON lines of a file written so far; a line cut short (by a kill) is skipped.
pub fn json_lines(path: &Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect()
}

/// Polls `done` every 20 ms; fails the test naming `what` after `within`.
pub fn wait_for(what: &str, within: Duration, mut done: impl FnMut() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(start.elapsed() < within, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// `SELECT <call> AS r` on one mock row, through `tributary trial --root root` (errors
/// sent as emissions), with `env` added; returns (exit success, stdout, stderr). The
/// spec is written into `root`. For probing one plugin call from the outside.
pub fn trial_call(root: &Path, call: &str, env: &[(&str, &str)]) -> (bool, String, String) {
    let spec = serde_json::json!({
        "id": "probe",
        "sql": format!("SELECT {call} AS r FROM demo"),
        "streams": ["CREATE STREAM demo (size BIGINT) WITH (TYPE=\"mock\")"],
        "options": {"sendError": true},
        "mockSource": {"demo": {"data": [{"size": 1}], "timestamps": [1000]}}
    });
    let file = root.join("spec.json");
    std::fs::write(&file, spec.to_string()).expect("spec");
    let out = Command::new(binary())
        .arg("trial")
        .arg(&file)
        .arg("--root")
        .arg(root)
        .env("RUST_LOG", "warn")
        .envs(env.iter().copied())
        .output()
        .expect("run tributary");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).trim_end().to_string(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// A free TCP port on 127.0.0.1 (free when asked: a server started next takes it).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port()
}

/// A Tributary package (zip) of the wasm plugin `name` of `kind` (`sink`, `source`)
/// in the example root, with its capabilities manifest `<name>.json`.
pub fn wasm_package(kind: &str, name: &str) -> Vec<u8> {
    let dir = wasm_root().join(format!("plugins/{kind}s"));
    let file = format!("{name}.wasm");
    let caps_file = format!("{name}.json");
    let wasm = std::fs::read(dir.join(&file)).unwrap_or_else(|e| panic!("{file}: {e}"));
    let caps = std::fs::read(dir.join(&caps_file)).unwrap_or_else(|e| panic!("{caps_file}: {e}"));
    let manifest = serde_json::json!({
        "name": name, "version": "0.1.0", "kind": kind, "tier": "wasm",
        "artifact": file, "sha256": sha(&wasm)
    });
    zip_of(&[
        ("manifest.json", manifest.to_string().as_bytes()),
        (&file, &wasm),
        (&caps_file, &caps),
    ])
}

/// A redis-server on a free port, killed on drop.
pub struct Redis {
    pub port: u16,
    child: Child,
}

impl Drop for Redis {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn redis_server() -> Redis {
    let port = free_port();
    let child = Command::new("redis-server")
        .args([
            "--port",
            &port.to_string(),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
        ])
        .stdout(Stdio::null())
        .spawn()
        .expect("redis-server (installed by scripts/test.sh)");
    let start = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "redis-server did not start"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    Redis { port, child }
}
