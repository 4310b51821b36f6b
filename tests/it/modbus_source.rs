//! The `modbus` source (guests/connectors/modbus-source): a wasm component polling a
//! Modbus TCP device over `wasi:sockets`, installed as a package through the REST
//! API, against a pymodbus device on loopback (tests/fixtures/modbus_server.py) with
//! known register values; the device goes away and comes back. Without a grant for
//! the device's port the source reaches nothing.

use crate::connector_kit::{create, granted_root, install, network_denied, rule, until};
use serde_json::json;
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use tributary_tests::api_server::Server;
use tributary_tests::{free_port, json_lines, workspace, Process};

/// The device on `port`, once it accepts connections.
fn device(port: u16) -> Process {
    let p = Process::spawn(
        Command::new("python3")
            .arg(workspace().join("tests/fixtures/modbus_server.py"))
            .arg(port.to_string())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null()),
        "python3 with pymodbus (installed by scripts/test.sh)",
    );
    let start = Instant::now();
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "the modbus device did not start"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    p
}

const POINTS: &str = "  points:
    - {name: counter, kind: holding, address: 0}
    - {name: delta, kind: holding, address: 1, type: int16}
    - {name: big, kind: holding, address: 2, type: int32}
    - {name: temp, kind: holding, address: 4, type: float32}
    - {name: level, kind: holding, address: 6, scale: 0.1}
    - {name: inputs, kind: input, address: 0, count: 3}
    - {name: coils, kind: coil, address: 0, count: 3}
    - {name: alarm, kind: discrete, address: 1}
";

/// A root granting the modbus source `grant`, its conf polling 127.0.0.1:`port`
/// every 100 ms, and a server there with the source installed, the stream `dev` and
/// a rule writing its rows to `data/out.jsonl`.
fn setup(port: u16, grant: Option<u16>) -> (tempfile::TempDir, Server) {
    let dir = granted_root("modbus", grant);
    let conf = format!(
        "default:\n  addr: 127.0.0.1:{port}\n  unitId: 1\n  interval: 100\n  timeout: 500\n{POINTS}\
         typo:\n  addr: 127.0.0.1:{port}\n  points:\n    - {{name: a, kind: holding, adress: 1}}\n"
    );
    std::fs::create_dir_all(dir.path().join("etc/sources")).expect("mkdir");
    std::fs::write(dir.path().join("etc/sources/modbus.yaml"), conf).expect("conf");
    let s = Server::start(dir.path(), None);
    install(&s, "source", "modbus");
    create(
        &s,
        "/streams",
        r#"CREATE STREAM dev () WITH (TYPE="modbus")"#,
    );
    rule(
        &s,
        "poll",
        "SELECT * FROM dev",
        json!({"file": {"path": "data/out.jsonl", "fileType": "lines", "sendSingle": true}}),
    );
    (dir, s)
}

fn connection(s: &Server) -> serde_json::Value {
    s.json("/rules/poll/status")["source_dev_0_connection_status"].clone()
}

#[test]
fn the_modbus_source_polls_registers_and_coils_and_outlives_the_device() {
    let port = free_port();
    let mut d = device(port);
    let (dir, s) = setup(port, Some(port));
    let out = dir.path().join("data/out.jsonl");
    until(&s, "two polls", || json_lines(&out).len() >= 2);
    assert_eq!(
        json_lines(&out)[0],
        json!({"counter": 1234, "delta": -2, "big": 100000, "temp": 21.5, "level": 25,
            "inputs": [7, 8, 9], "coils": [true, false, true], "alarm": true})
    );
    assert_eq!(connection(&s), 1, "{}", s.json("/rules/poll/status"));

    // The device goes away: the rule runs on, disconnected, with the reason.
    let _ = d.kill();
    let _ = d.wait();
    until(&s, "the disconnection", || connection(&s) == -1);
    let status = s.json("/rules/poll/status");
    assert_eq!(status["status"], "running", "{status}");
    assert!(
        !status["source_dev_0_connection_last_disconnected_message"]
            .as_str()
            .unwrap_or_default()
            .is_empty(),
        "{status}"
    );
    let away = json_lines(&out).len();
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(
        json_lines(&out).len(),
        away,
        "no rows while the device is away"
    );

    // It comes back on the same port: the rows go on.
    let _d = device(port);
    until(&s, "the rows after the device came back", || {
        json_lines(&out).len() >= away + 2
    });
    assert_eq!(connection(&s), 1);
    assert_eq!(json_lines(&out).last().expect("a row")["counter"], 1234);

    // A conf with a typo in a point is refused naming it.
    create(
        &s,
        "/streams",
        r#"CREATE STREAM typo () WITH (TYPE="modbus", CONF_KEY="typo")"#,
    );
    rule(&s, "typo", "SELECT * FROM typo", json!({"nop": {}}));
    let want = "points[0]: unknown key \"adress\"";
    until(&s, want, || {
        s.call(reqwest::Method::GET, "/rules/typo/status", None)
            .1
            .contains(want)
            || s.log().contains(want)
    });
    s.stop();
}

#[test]
fn the_modbus_source_without_a_grant_reaches_nothing() {
    let port = free_port();
    let _d = device(port);
    // A grant, but for another port.
    let (dir, s) = setup(port, Some(free_port()));
    until(&s, "the denied connects", || connection(&s) == -1);
    let status = s.json("/rules/poll/status");
    let why = status["source_dev_0_connection_last_disconnected_message"].to_string();
    assert!(why.contains("ermission denied"), "{status}");
    assert!(network_denied(&s, "modbus") > 0, "{}", s.log());
    assert!(json_lines(&dir.path().join("data/out.jsonl")).is_empty());
    s.stop();
}
