//! The `influx` sink (guests/connectors/influx-sink): a wasm component writing line
//! protocol over `wasi:http`, installed as a package through the REST API, against a
//! real InfluxDB 1.x on loopback, whose `/query` reads the points back. The network is
//! granted per port in `etc/wasm.yaml`; without the grant, or with one for another
//! port, InfluxDB sees nothing and the other rules run on.

use crate::connector_kit::{create, granted_root, install, network_denied, refused, rule, until};
use reqwest::Method as M;
use serde_json::json;
use tributary_tests::api_server::Server;
use tributary_tests::influx::Influx;

const ROWS: &str = r#"[
  {"device": "d1", "temp": 21.5, "n": 3, "ok": true, "note": "say \"hi\", ok", "ts": 1700000000000},
  {"device": "d 2,x", "temp": 19, "n": 4, "ok": false, "note": "", "ts": 1700000001000},
  {"device": "d1", "temp": 22.25, "n": 5, "ok": true, "note": "x", "ts": 1700000002000}
]"#;

/// A root granting the influx sink `port` (none when `None`), with [`ROWS`] as
/// `data/in.json`; a server there with the sink installed and the stream `s`.
fn setup(port: Option<u16>) -> (tempfile::TempDir, Server) {
    let dir = granted_root("influx", port);
    std::fs::write(dir.path().join("data/in.json"), ROWS).expect("input");
    // A stream that does not end, for a rule whose status is read while it runs.
    std::fs::create_dir_all(dir.path().join("etc/sources")).expect("mkdir");
    std::fs::write(
        dir.path().join("etc/sources/simulator.yaml"),
        "default:\n  data: [{n: 3}]\n  interval: 200\n",
    )
    .expect("simulator.yaml");
    let s = Server::start(dir.path(), None);
    install(&s, "sink", "influx");
    create(
        &s,
        "/streams",
        r#"CREATE STREAM s (device STRING, temp FLOAT, n BIGINT, ok BOOLEAN, note STRING, ts BIGINT) WITH (TYPE="file", DATASOURCE="in.json", FORMAT="json")"#,
    );
    (dir, s)
}

/// InfluxDB with the database `edge`.
fn influx(dir: &std::path::Path) -> Influx {
    let i = Influx::start(dir);
    let answer = i.query("", "CREATE DATABASE edge");
    assert!(answer["results"][0].get("error").is_none(), "{answer}");
    i
}

/// The `httpd` statistic `name` (writes answered, points written…).
fn httpd_stat(i: &Influx, name: &str) -> i64 {
    let answer = i.query("", "SHOW STATS FOR 'httpd'");
    let series = &answer["results"][0]["series"][0];
    let columns = series["columns"].as_array().cloned().unwrap_or_default();
    let at = columns.iter().position(|c| c == name).unwrap_or(usize::MAX);
    series["values"][0][at].as_i64().unwrap_or(-1)
}

#[test]
fn the_influx_sink_writes_points_as_ekuipers_does() {
    let idir = tempfile::tempdir().expect("tempdir");
    let i = influx(idir.path());
    let (_dir, s) = setup(Some(i.port));
    let url = i.url();
    // One emission of three rows (a count window), written two points at a time; tags
    // from a template and a literal; each point's time from the ts column, in ms.
    rule(
        &s,
        "all",
        "SELECT * FROM s GROUP BY COUNTWINDOW(3)",
        json!({"influx": {"addr": url, "database": "edge", "measurement": "readings",
            "tags": {"device": "{{.device}}", "site": "north"}, "tsFieldName": "ts", "batchSize": 2}}),
    );
    until(&s, "the three points", || {
        i.rows("edge", "SELECT * FROM readings").len() == 3
    });
    assert_eq!(httpd_stat(&i, "writeReq"), 2, "three points, two per write");
    let rows = i.rows("edge", "SELECT * FROM readings");
    let want = [
        json!({"time": 1700000000000_i64, "device": "d1", "site": "north", "temp": 21.5, "n": 3, "ok": true, "note": "say \"hi\", ok", "ts": 1700000000000_i64}),
        json!({"time": 1700000001000_i64, "device": "d 2,x", "site": "north", "temp": 19, "n": 4, "ok": false, "note": "", "ts": 1700000001000_i64}),
        json!({"time": 1700000002000_i64, "device": "d1", "site": "north", "temp": 22.25, "n": 5, "ok": true, "note": "x", "ts": 1700000002000_i64}),
    ];
    for (got, want) in rows.iter().zip(&want) {
        assert_eq!(&serde_json::Value::Object(got.clone()), want);
    }
    // Integers stay integers (`3i`), a whole float stays a float, and the device is a
    // tag: it selects series.
    let types: Vec<(String, String)> = i
        .rows("edge", "SHOW FIELD KEYS FROM readings")
        .iter()
        .map(|r| (r["fieldKey"].to_string(), r["fieldType"].to_string()))
        .collect();
    for (k, t) in [
        ("n", "integer"),
        ("temp", "float"),
        ("ok", "boolean"),
        ("note", "string"),
    ] {
        assert!(
            types.contains(&(format!("\"{k}\""), format!("\"{t}\""))),
            "{k} {t}: {types:?}"
        );
    }
    let d1 = i.rows("edge", "SELECT temp FROM readings WHERE device = 'd1'");
    assert_eq!(d1.len(), 2, "{d1:?}");
    // The example in docs/connectors.md, pointed at this server, writes the same.
    let doc = std::fs::read_to_string(tributary_tests::workspace().join("docs/connectors.md"))
        .expect("connectors.md");
    let example = doc
        .lines()
        .find(|l| l.starts_with(r#"{"influx": "#))
        .expect("the influx example")
        .replace("http://127.0.0.1:8086", &url)
        .replace("\"readings\"", "\"documented\"");
    let action: serde_json::Value = serde_json::from_str(&example).expect("example JSON");
    rule(
        &s,
        "documented",
        "SELECT * FROM s GROUP BY COUNTWINDOW(3)",
        action,
    );
    until(&s, "the documented example's points", || {
        i.rows("edge", "SELECT * FROM documented") == rows
    });

    // eKuiper's sample writes tags as JSON text; `fields` picks the columns (the tag's
    // and the time's among them); precision s.
    rule(
        &s,
        "picked",
        "SELECT temp, device, ts / 1000 AS sec, n FROM s",
        json!({"influx": {"addr": url, "database": "edge", "measurement": "picked",
            "tags": "{\"from\": \"{{.device}}-x\"}", "fields": ["temp", "device", "sec"],
            "precision": "s", "tsFieldName": "sec"}}),
    );
    // Without tsFieldName a point is stamped with the time of writing.
    create(
        &s,
        "/streams",
        r#"CREATE STREAM live () WITH (TYPE="simulator")"#,
    );
    let before = now_ms();
    rule(
        &s,
        "stamped",
        "SELECT n FROM live",
        json!({"influx": {"addr": url, "database": "edge", "measurement": "stamped"}}),
    );
    until(&s, "the picked and stamped points", || {
        i.rows("edge", "SELECT * FROM picked").len() == 3
            && !i.rows("edge", "SELECT * FROM stamped").is_empty()
    });
    let picked = i.rows("edge", "SELECT * FROM picked");
    assert_eq!(
        serde_json::Value::Object(picked[1].clone()),
        json!({"time": 1700000001000_i64, "from": "d 2,x-x", "temp": 19, "sec": 1700000001}),
    );
    let stamped = &i.rows("edge", "SELECT * FROM stamped")[0];
    let t = stamped["time"].as_i64().unwrap_or(0);
    assert!(before - 5_000 <= t && t <= now_ms() + 5_000, "{stamped:?}");
    assert_eq!(stamped["n"], 3);
    // The sink reports its connection.
    let status = s.json("/rules/stamped/status");
    assert_eq!(
        status["sink_influx_0_0_connection_status"],
        1,
        "{status}\n{}",
        s.log()
    );
    s.stop();
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

#[test]
fn bad_influx_sink_props_are_refused_with_the_reason() {
    let idir = tempfile::tempdir().expect("tempdir");
    let i = influx(idir.path());
    let (_dir, s) = setup(Some(i.port));
    let url = i.url();
    let base = || json!({"addr": url, "database": "edge", "measurement": "m"});
    let with = |k: &str, v: serde_json::Value| {
        let mut p = base();
        p[k] = v;
        p
    };
    for (i, (props, want)) in [
        (
            json!({"addr": url, "measurement": "m"}),
            "database is required",
        ),
        (
            with("addr", json!("127.0.0.1:8086")),
            "addr must be an http:// or https:// URL",
        ),
        (
            with("tags", json!({"a": "{{.device | upper}}"})),
            "is not supported: a tag template may only name a column",
        ),
        (with("tags", json!("[1]")), "tags must be a JSON object"),
        (
            with("lingerInterval", json!(1000)),
            "lingerInterval is not supported",
        ),
        (
            {
                let mut p = with("tags", json!({"d": "{{.device}}"}));
                p["fields"] = json!(["temp"]);
                p
            },
            "the column device (in tags or tsFieldName) is not in fields",
        ),
        (
            with("precision", json!("h")),
            "precision must be ns, us, ms or s",
        ),
        (with("batchSize", json!(-1)), "batchSize must be positive"),
        (
            with("certificationPath", json!("/etc/cert.pem")),
            "unknown prop \"certificationPath\"",
        ),
        // Accepted props, a write InfluxDB refuses: its reason reaches the status.
        (with("database", json!("nodb")), "database not found"),
    ]
    .into_iter()
    .enumerate()
    {
        refused(&s, &format!("bad{i}"), json!({ "influx": props }), want);
    }
    s.stop();
}

#[test]
fn a_sink_that_cannot_open_says_so_when_its_rule_starts_not_at_its_first_row() {
    let (_dir, s) = setup(None);
    // A stream nothing is ever published to: no row reaches the sink.
    create(
        &s,
        "/streams",
        r#"CREATE STREAM idle (n BIGINT) WITH (TYPE="memory", DATASOURCE="nobody/publishes")"#,
    );
    let body = json!({"id": "early", "sql": "SELECT * FROM idle", "actions": [
        {"influx": {"addr": "http://127.0.0.1:1", "measurement": "m"}}
    ]});
    let (code, text) = s.call(M::POST, "/rules", Some(&body.to_string()));
    assert!(code < 300, "{code} {text}");
    until(&s, "the open failure in the log", || {
        let log = s.log();
        log.contains("the sink cannot open") && log.contains("database is required")
    });
    s.stop();
}

/// The sink's writes when the operator granted nothing, or another port.
fn denied(grant: Option<u16>) {
    let idir = tempfile::tempdir().expect("tempdir");
    let i = influx(idir.path());
    let (dir, s) = setup(grant);
    rule(
        &s,
        "blocked",
        "SELECT * FROM s",
        json!({"influx": {"addr": i.url(), "database": "edge", "measurement": "m",
            "retryCount": 2, "retryInterval": 50}}),
    );
    // Another rule, on a built-in sink, runs on.
    rule(
        &s,
        "other",
        "SELECT * FROM s",
        json!({"file": {"path": "data/out.jsonl"}}),
    );
    until(&s, "the denied deliveries", || {
        s.json("/rules/blocked/status")
            .to_string()
            .contains("HttpRequestDenied")
    });
    until(&s, "the other rule's rows", || {
        std::fs::read_to_string(dir.path().join("data/out.jsonl"))
            .is_ok_and(|t| t.lines().count() == 3)
    });
    assert!(
        i.rows("edge", "SHOW MEASUREMENTS").is_empty(),
        "InfluxDB saw nothing"
    );
    assert!(
        network_denied(&s, "influx") > 0,
        "{}\n{}",
        s.json("/plugins/sinks/influx"),
        s.log()
    );
    s.stop();
}

#[test]
fn the_influx_sink_without_a_grant_reaches_nothing() {
    denied(None);
}

#[test]
fn an_influx_grant_for_one_port_does_not_open_another() {
    denied(Some(tributary_tests::free_port()));
}
