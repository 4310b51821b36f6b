//! MQTT end to end on a real mosquitto: messages published to the broker go through
//! `serve` (MQTT source → `SELECT * FROM s WHERE temperature > 50` → MQTT sink) and
//! come back on another topic; then the broker restarts mid-stream and no qos 1
//! message is lost.

use rumqttc::{Client, Event, MqttOptions, Packet, QoS};
use std::collections::BTreeSet;
use std::path::Path;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use tributary_tests::api_server::Server;
use tributary_tests::mosquitto::Mosquitto;

/// A root whose rule reads `in/#` and writes the hot readings to `out`.
fn root(dir: &Path, broker: &Mosquitto) {
    std::fs::create_dir_all(dir.join("etc")).expect("mkdir");
    std::fs::create_dir_all(dir.join("data")).expect("mkdir");
    std::fs::write(
        dir.join("etc/mqtt_source.yaml"),
        format!(
            "default:\n  server: {}\n  qos: 1\n  clientid: tributary-test-source\n",
            broker.url()
        ),
    )
    .expect("conf");
    let rule = serde_json::json!({
        "id": "hot",
        "sql": "SELECT * FROM s WHERE temperature > 50",
        "actions": [{"mqtt": {"server": broker.url(), "topic": "out", "qos": 1, "clientId": "tributary-test-sink", "sendSingle": true}}]
    });
    let init = serde_json::json!({
        "streams": {"s": "CREATE STREAM s (id BIGINT, temperature FLOAT) WITH (DATASOURCE=\"in/#\", FORMAT=\"json\")"},
        "rules": {"hot": rule.to_string()}
    });
    std::fs::write(dir.join("data/init.json"), init.to_string()).expect("init");
}

/// A client with a fixed id and a kept session, its events on a channel.
fn client(broker: &Mosquitto, id: &str) -> (Client, mpsc::Receiver<Packet>) {
    let mut o = MqttOptions::new(id, "127.0.0.1", broker.port);
    o.set_clean_session(false);
    o.set_keep_alive(Duration::from_secs(5));
    let (c, mut conn) = Client::new(o, 10_000);
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for ev in conn.iter() {
            match ev {
                Ok(Event::Incoming(p)) => {
                    if tx.send(p).is_err() {
                        return;
                    }
                }
                Ok(_) => {}
                Err(_) => std::thread::sleep(Duration::from_millis(100)),
            }
        }
    });
    (c, rx)
}

/// Waits for the subscription's SubAck.
fn subscribed(rx: &mpsc::Receiver<Packet>) {
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(10) {
        if let Ok(Packet::SubAck(_)) = rx.recv_timeout(Duration::from_millis(100)) {
            return;
        }
    }
    panic!("no SubAck");
}

/// The ids of the readings received on `out` until all of `want` arrived (qos 1 may
/// deliver some twice, or earlier ones again after a reconnect).
fn collect(rx: &mpsc::Receiver<Packet>, want: &BTreeSet<i64>, timeout: Duration) -> BTreeSet<i64> {
    let mut ids = BTreeSet::new();
    let start = Instant::now();
    while !want.is_subset(&ids) && start.elapsed() < timeout {
        if let Ok(Packet::Publish(p)) = rx.recv_timeout(Duration::from_millis(100)) {
            let v: serde_json::Value = serde_json::from_slice(&p.payload).expect("json payload");
            ids.insert(v["id"].as_i64().expect("id"));
        }
    }
    ids
}

fn publish(c: &Client, from: i64, to: i64) {
    for i in from..to {
        let t = if i % 2 == 0 { 60.0 } else { 20.0 };
        let body = serde_json::json!({"id": i, "temperature": t}).to_string();
        c.publish(format!("in/sensor{}", i % 3), QoS::AtLeastOnce, false, body)
            .expect("publish");
    }
}

/// The rule's status as the REST API shows it.
fn status(server: &Server) -> serde_json::Value {
    server.json("/rules/hot/status")
}

/// Waits until the status key `key` of rule `hot` reads `want` (the connection
/// status, 1 connected, -1 disconnected).
fn wait_status(server: &Server, key: &str, want: i64) -> serde_json::Value {
    wait_rule_status(server, "hot", key, want)
}

fn wait_rule_status(server: &Server, rule: &str, key: &str, want: i64) -> serde_json::Value {
    let start = Instant::now();
    loop {
        let st = server.json(&format!("/rules/{rule}/status"));
        if st[key].as_i64() == Some(want) {
            return st;
        }
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "{key} never became {want}: {st}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn mqtt_round_trip_and_a_broker_restart_lose_nothing_at_qos1() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut broker = Mosquitto::start(&dir.path().join("broker"));
    root(dir.path(), &broker);
    let (sub, out) = client(&broker, "test-out");
    sub.subscribe("out", QoS::AtLeastOnce).expect("subscribe");
    subscribed(&out);
    let server = Server::start(dir.path(), None);
    wait_status(&server, "source_s_0_connection_status", 1);
    // The subscription follows the connection by one round trip.
    std::thread::sleep(Duration::from_millis(300));
    let (publisher, _acks) = client(&broker, "test-in");

    // The round trip: 200 readings, the 100 hot ones come back.
    publish(&publisher, 0, 200);
    let want: BTreeSet<i64> = (0..200).step_by(2).collect();
    let got = collect(&out, &want, Duration::from_secs(30));
    assert_eq!(got, want, "round trip: the hot readings, and only them");

    let st = status(&server);
    assert_eq!(st["sink_mqtt_0_0_connection_status"], 1, "{st}");

    // The broker stops mid-stream: the rule's status and /metrics show both
    // connectors disconnected. It comes back; every hot reading still arrives.
    publish(&publisher, 200, 300);
    broker.stop();
    let st = wait_status(&server, "source_s_0_connection_status", -1);
    assert!(
        st["source_s_0_connection_last_disconnected_message"]
            .as_str()
            .is_some_and(|m| !m.is_empty()),
        "{st}"
    );
    let (_, metrics) = server.call(reqwest::Method::GET, "/metrics", None);
    assert!(
        metrics.contains("tributary_connector_connected{rule=\"hot\",node=\"source_s_0\"} -1"),
        "{metrics}"
    );
    broker.restart();
    publish(&publisher, 300, 400);
    let want: BTreeSet<i64> = (200..400).step_by(2).collect();
    let got = collect(&out, &want, Duration::from_secs(60));
    let missing: Vec<&i64> = want.difference(&got).collect();
    assert!(
        missing.is_empty(),
        "qos 1 across a broker restart lost {missing:?}"
    );
    assert!(
        got.iter().all(|id| id % 2 == 0),
        "a cold reading came through: {got:?}"
    );
    let st = wait_status(&server, "source_s_0_connection_status", 1);
    let st = if st["sink_mqtt_0_0_connection_status"] == 1 {
        st
    } else {
        wait_status(&server, "sink_mqtt_0_0_connection_status", 1)
    };
    for node in ["source_s_0", "sink_mqtt_0_0"] {
        assert_eq!(
            st[format!("{node}_connection_disconnections_total")],
            1,
            "{st}"
        );
    }
}

#[test]
fn bad_mqtt_props_are_clear_errors() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::create_dir_all(dir.path().join("data")).expect("mkdir");
    for (action, want) in [
        (
            serde_json::json!({"mqtt": {"server": "tcp://127.0.0.1:1883"}}),
            "topic",
        ),
        (serde_json::json!({"mqtt": {"topic": "a/#"}}), "wildcard"),
        (serde_json::json!({"mqtt": {"topic": "a", "qos": 3}}), "qos"),
        (
            serde_json::json!({"mqtt": {"topic": "a", "server": "http://x:1"}}),
            "scheme",
        ),
        (
            serde_json::json!({"mqtt": {"topic": "a", "protocolVersion": "5"}}),
            "protocolVersion",
        ),
    ] {
        let rule = serde_json::json!({"id": "r", "sql": "SELECT * FROM s", "actions": [action]});
        let init = serde_json::json!({
            "streams": {"s": "CREATE STREAM s () WITH (DATASOURCE=\"t\", TYPE=\"mqtt\")"},
            "rules": {"r": rule.to_string()}
        });
        std::fs::write(dir.path().join("data/init.json"), init.to_string()).expect("init");
        let out = tributary_tests::serve_command(dir.path())
            .output()
            .expect("serve");
        assert!(!out.status.success());
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains(want) && err.contains("mqtt sink"),
            "{want}: {err}"
        );
        let _ = std::fs::remove_dir_all(dir.path().join("data"));
        std::fs::create_dir_all(dir.path().join("data")).expect("mkdir");
    }
}

/// A CA, and a certificate for 127.0.0.1 that it issued, with its key (PEM).
fn certificates() -> (String, String, String) {
    let ca_key = rcgen::KeyPair::generate().expect("key");
    let mut ca = rcgen::CertificateParams::new(Vec::<String>::new()).expect("params");
    ca.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    let ca = ca.self_signed(&ca_key).expect("ca");
    let key = rcgen::KeyPair::generate().expect("key");
    let cert = rcgen::CertificateParams::new(vec!["127.0.0.1".to_string()])
        .expect("params")
        .signed_by(&key, &ca, &ca_key)
        .expect("cert");
    (ca.pem(), cert.pem(), key.serialize_pem())
}

#[test]
fn mqtt_over_tls_checks_the_broker_unless_told_not_to() {
    let dir = tempfile::tempdir().expect("tempdir");
    let bdir = dir.path().join("broker");
    std::fs::create_dir_all(&bdir).expect("mkdir");
    let (ca, cert, key) = certificates();
    let (other_ca, _, _) = certificates();
    std::fs::write(bdir.join("ca.pem"), &ca).expect("ca");
    std::fs::write(bdir.join("cert.pem"), &cert).expect("cert");
    std::fs::write(bdir.join("key.pem"), &key).expect("key");
    std::fs::write(dir.path().join("other-ca.pem"), &other_ca).expect("ca");
    let broker = Mosquitto::start_tls(&bdir);
    let tls = format!("ssl://127.0.0.1:{}", broker.tls_port.expect("tls port"));

    // Stream s checks the broker against its CA; stream w trusts another CA and
    // must not connect; the sink skips the check.
    std::fs::create_dir_all(dir.path().join("etc")).expect("mkdir");
    std::fs::create_dir_all(dir.path().join("data")).expect("mkdir");
    std::fs::write(
        dir.path().join("etc/mqtt_source.yaml"),
        format!(
            "tls:\n  server: {tls}\n  rootCaPath: {}\nwrongca:\n  server: {tls}\n  rootCaPath: {}\n",
            bdir.join("ca.pem").display(),
            dir.path().join("other-ca.pem").display()
        ),
    )
    .expect("conf");
    let hot = serde_json::json!({
        "id": "hot",
        "sql": "SELECT * FROM s WHERE temperature > 50",
        "actions": [{"mqtt": {"server": tls, "topic": "out", "insecureSkipVerify": true, "sendSingle": true}}]
    });
    let bad = serde_json::json!({"id": "bad", "sql": "SELECT * FROM w", "actions": [{"nop": {}}]});
    let init = serde_json::json!({
        "streams": {
            "s": "CREATE STREAM s (id BIGINT, temperature FLOAT) WITH (DATASOURCE=\"in/#\", FORMAT=\"json\", CONF_KEY=\"tls\")",
            "w": "CREATE STREAM w () WITH (DATASOURCE=\"in/#\", FORMAT=\"json\", CONF_KEY=\"wrongca\")"
        },
        "rules": {"hot": hot.to_string(), "bad": bad.to_string()}
    });
    std::fs::write(dir.path().join("data/init.json"), init.to_string()).expect("init");

    let (sub, out) = client(&broker, "tls-test-out");
    sub.subscribe("out", QoS::AtLeastOnce).expect("subscribe");
    subscribed(&out);
    let server = Server::start(dir.path(), None);
    wait_status(&server, "source_s_0_connection_status", 1);
    std::thread::sleep(Duration::from_millis(300));
    let (publisher, _acks) = client(&broker, "tls-test-in");
    publish(&publisher, 0, 20);
    let want: BTreeSet<i64> = (0..20).step_by(2).collect();
    assert_eq!(collect(&out, &want, Duration::from_secs(30)), want);
    assert_eq!(status(&server)["sink_mqtt_0_0_connection_status"], 1);

    let st = wait_rule_status(&server, "bad", "source_w_0_connection_status", -1);
    let why = st["source_w_0_connection_last_disconnected_message"]
        .as_str()
        .unwrap_or_default()
        .to_lowercase();
    assert!(why.contains("certificate"), "{st}");
}
