//! The `redis` connectors (guests/connectors): a sink and a lookup source written as
//! wasm components, installed as packages through the REST API, against a real
//! redis-server on loopback. The network is granted per port in `etc/wasm.yaml`;
//! without the grant (or with a grant for another port) the sink's deliveries fail,
//! redis sees nothing and the other rules run on.

use crate::connector_kit::{create, granted_root, install, network_denied, refused, rule, until};
use redis::Commands;
use reqwest::Method as M;
use tributary_tests::api_server::Server;
use tributary_tests::redis_server;

/// A root granting the redis plugins `port` on 127.0.0.1 (none when `None`), with
/// three input rows in `data/in.json`.
fn root(port: Option<u16>) -> tempfile::TempDir {
    let dir = granted_root("redis", port);
    std::fs::write(
        dir.path().join("data/in.json"),
        r#"[{"id": "a", "action": "insert", "t": 1}, {"id": "b", "action": "insert", "t": 2.5}, {"id": "a", "action": "delete", "t": 3}]"#,
    )
    .expect("input");
    dir
}

fn stream(s: &Server) {
    create(
        s,
        "/streams",
        r#"CREATE STREAM s (id STRING, action STRING, t FLOAT) WITH (TYPE="file", DATASOURCE="in.json", FORMAT="json")"#,
    );
}

fn client(port: u16, db: i64) -> redis::Connection {
    redis::Client::open(format!("redis://127.0.0.1:{port}/{db}"))
        .and_then(|c| c.get_connection())
        .expect("redis connection")
}

/// A redis-server, a root granting its port, and a server there with the sink
/// installed and the stream `s` created.
fn sink_setup() -> (tributary_tests::Redis, tempfile::TempDir, Server) {
    let r = redis_server();
    let dir = root(Some(r.port));
    let s = Server::start(dir.path(), None);
    install(&s, "sink", "redis");
    stream(&s);
    (r, dir, s)
}

#[test]
fn the_redis_sink_writes_as_ekuipers_does() {
    let (r, _dir, s) = sink_setup();
    let addr = format!("127.0.0.1:{}", r.port);
    // One key per row (its id), deleted by a row whose action says so, expiring.
    rule(
        &s,
        "single",
        "SELECT * FROM s",
        serde_json::json!({"redis": {"addr": addr, "field": "id", "rowkindField": "action", "expiration": 100}}),
    );
    // Each column under its own name, in database 1.
    rule(
        &s,
        "multiple",
        "SELECT id, t FROM s WHERE action = 'insert'",
        serde_json::json!({"redis": {"addr": addr, "db": 1, "keyType": "multiple"}}),
    );
    // Every row pushed onto one list, in database 2.
    rule(
        &s,
        "list",
        "SELECT id, t FROM s",
        serde_json::json!({"redis": {"addr": addr, "db": "2", "key": "events", "dataType": "list"}}),
    );
    let (mut c0, mut c1, mut c2) = (client(r.port, 0), client(r.port, 1), client(r.port, 2));
    until(&s, "the three rules' writes", || {
        let b: Option<String> = c0.get("b").unwrap_or(None);
        let t: Option<String> = c1.get("t").unwrap_or(None);
        let n: usize = c2.llen("events").unwrap_or(0);
        b.is_some() && t.as_deref() == Some("2.5") && n == 3
    });
    let b: String = c0.get("b").expect("b");
    assert_eq!(b, r#"{"action":"insert","id":"b","t":2.5}"#);
    assert!(!c0.exists::<_, bool>("a").expect("exists"), "a was deleted");
    let ttl: i64 = c0.ttl("b").expect("ttl");
    assert!((1..=100).contains(&ttl), "ttl {ttl}");
    let id: String = c1.get("id").expect("id");
    assert_eq!(id, "b");
    let events: Vec<String> = c2.lrange("events", 0, -1).expect("lrange");
    assert_eq!(
        events,
        [
            r#"{"id":"a","t":3}"#,
            r#"{"id":"b","t":2.5}"#,
            r#"{"id":"a","t":1}"#
        ]
    );
    let m = s.json("/plugins/sinks/redis");
    assert_eq!(m["capabilities"]["network"][0], addr, "{m}");
    s.stop();
}

#[test]
fn bad_redis_sink_props_are_refused_with_the_reason() {
    let (r, _dir, s) = sink_setup();
    let addr = format!("127.0.0.1:{}", r.port);
    for (i, (props, want)) in [
        (
            serde_json::json!({"addr": addr}),
            "key or field is required",
        ),
        (
            serde_json::json!({"addr": addr, "key": "k", "expire": 10}),
            "unknown prop \"expire\"",
        ),
        (
            serde_json::json!({"addr": addr, "key": "k", "dataType": "hash"}),
            "dataType must be string or list",
        ),
        (
            serde_json::json!({"addr": addr, "key": "k", "db": 16}),
            "0 to 15",
        ),
        (serde_json::json!({"key": "k"}), "addr is required"),
    ]
    .into_iter()
    .enumerate()
    {
        refused(
            &s,
            &format!("bad{i}"),
            serde_json::json!({ "redis": props }),
            want,
        );
    }
    s.stop();
}

/// The sink's writes, when the operator granted nothing, or another port.
fn denied(grant: Option<u16>) {
    let r = redis_server();
    let dir = root(grant);
    let s = Server::start(dir.path(), None);
    install(&s, "sink", "redis");
    stream(&s);
    let addr = format!("127.0.0.1:{}", r.port);
    rule(
        &s,
        "blocked",
        "SELECT * FROM s",
        serde_json::json!({"redis": {"addr": addr, "key": "k", "retryCount": 2, "retryInterval": 50}}),
    );
    // Another rule, on a built-in sink, runs on.
    rule(
        &s,
        "other",
        "SELECT * FROM s",
        serde_json::json!({"file": {"path": "data/out.jsonl"}}),
    );
    let status = |id: &str| s.json(&format!("/rules/{id}/status"));
    until(&s, "the denied deliveries", || {
        status("blocked").to_string().contains("ermission denied")
    });
    until(&s, "the other rule's rows", || {
        std::fs::read_to_string(dir.path().join("data/out.jsonl"))
            .is_ok_and(|t| t.lines().count() == 3)
    });
    let mut c = client(r.port, 0);
    let n: i64 = redis::cmd("DBSIZE").query(&mut c).expect("dbsize");
    assert_eq!(n, 0, "redis saw nothing");
    assert!(
        network_denied(&s, "redis") > 0,
        "{}\n{}",
        s.json("/plugins/sinks/redis"),
        s.log()
    );
    s.stop();
}

#[test]
fn the_redis_sink_without_a_grant_reaches_nothing() {
    denied(None);
}

#[test]
fn a_grant_for_one_port_does_not_open_another() {
    // The grant is for this server's port; the sink writes to another one.
    let other = redis_server();
    denied(Some(other.port));
}

#[test]
fn the_redis_lookup_source_answers_joins() {
    let r = redis_server();
    let dir = root(Some(r.port));
    let conf = format!(
        "default:\n  addr: 127.0.0.1:{}\nlist:\n  addr: 127.0.0.1:{}\n  dataType: list\n",
        r.port, r.port
    );
    std::fs::create_dir_all(dir.path().join("etc/sources")).expect("mkdir");
    std::fs::write(dir.path().join("etc/sources/redis.yaml"), conf).expect("conf");
    let mut c = client(r.port, 3);
    let () = c
        .set("a", r#"{"id": "a", "name": "pump", "limits": [1, 2]}"#)
        .expect("set");
    let mut c4 = client(r.port, 4);
    let _: usize = c4
        .rpush("b", &[r#"{"name": "fan"}"#, r#"{"name": "vent"}"#])
        .expect("rpush");
    let s = Server::start(dir.path(), None);
    install(&s, "source", "redis");
    stream(&s);
    for (table, db, conf_key) in [("dev", 3, "default"), ("devlist", 4, "list")] {
        let sql = format!(
            r#"CREATE TABLE {table} () WITH (TYPE="redis", DATASOURCE="{db}", KIND="lookup", CONF_KEY="{conf_key}")"#
        );
        create(&s, "/tables", &sql);
    }
    rule(
        &s,
        "one",
        "SELECT s.id AS id, dev.name AS name, dev.limits AS limits FROM s INNER JOIN dev ON s.id = dev.id",
        serde_json::json!({"file": {"path": "data/one.jsonl", "sendSingle": true}}),
    );
    rule(
        &s,
        "many",
        "SELECT s.id AS id, devlist.name AS name FROM s INNER JOIN devlist ON s.id = devlist.id",
        serde_json::json!({"file": {"path": "data/many.jsonl", "sendSingle": true}}),
    );
    let lines = |f: &str| {
        std::fs::read_to_string(dir.path().join("data").join(f))
            .unwrap_or_default()
            .lines()
            .map(str::to_string)
            .collect::<Vec<_>>()
    };
    let statuses = || {
        format!(
            "{}\n{}",
            s.call(M::GET, "/rules/one/status", None).1,
            s.call(M::GET, "/rules/many/status", None).1
        )
    };
    until(&s, &format!("the joined rows ({})", statuses()), || {
        lines("one.jsonl").len() >= 2 && !lines("many.jsonl").is_empty()
    });
    s.stop();
    // "a" joins twice (its insert and delete rows); "b" is no key of database 3, and
    // "a" none of database 4.
    let one = lines("one.jsonl");
    assert_eq!(one.len(), 2, "{one:?}");
    assert!(
        one.iter()
            .all(|l| l == r#"{"id":"a","limits":[1,2],"name":"pump"}"#),
        "{one:?}"
    );
    let many = lines("many.jsonl");
    assert_eq!(
        many,
        [r#"{"id":"b","name":"fan"}"#, r#"{"id":"b","name":"vent"}"#],
        "{many:?}"
    );
}
