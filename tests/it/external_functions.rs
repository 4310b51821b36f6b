//! External functions end to end: eKuiper's sample service files, unchanged but for
//! their ports, served by a real REST server (axum) and a real gRPC server (tonic) on
//! free loopback ports, called from rules run by the `tributary` binary.

use std::sync::OnceLock;
use tributary_core::function::{CallSite, Column, FnContext, FunctionFactory};
use tributary_core::Value;
use tributary_tests::services::{external_root_for, Services};
use tributary_tests::{trial_text, workspace};

/// The services and a root pointing at them, shared by the tests of this file.
fn setup() -> &'static (Services, tempfile::TempDir) {
    static S: OnceLock<(Services, tempfile::TempDir)> = OnceLock::new();
    S.get_or_init(|| {
        let svc = Services::start(&workspace().join("examples/external-root/etc/services/schemas"));
        let root = tempfile::tempdir().expect("tempdir");
        external_root_for(&svc, root.path());
        (svc, root)
    })
}

fn run(sql: &str, rows: serde_json::Value) -> Vec<String> {
    let n = rows.as_array().map_or(0, Vec::len) as i64;
    let spec = serde_json::json!({
        "id": "ext",
        "sql": sql,
        "streams": ["CREATE STREAM s () WITH (TYPE=\"mock\")"],
        "mockSource": {"s": {"data": rows, "timestamps": (0..n).map(|i| 1000 + i * 1000).collect::<Vec<_>>()}}
    })
    .to_string();
    let (ok, out, err) = trial_text(&spec, Some(setup().1.path()));
    assert!(ok, "{sql}: {err}");
    assert!(!err.contains("panicked"), "{err}");
    out.lines().map(str::to_string).collect()
}

fn names() -> serde_json::Value {
    serde_json::json!([{"name": "world"}, {"name": "golang"}, {"name": "peacock"}])
}

fn commands() -> serde_json::Value {
    serde_json::json!([
        {"cmd": "get", "base64_img": "my image", "encoded_json": "{\"name\": \"name1\",\"size\": 22}"},
        {"cmd": "detect", "base64_img": "my image", "encoded_json": "{\"name\": \"name2\",\"size\": 33}"},
        {"cmd": "delete", "base64_img": "my image", "encoded_json": "{\"name\": \"name3\",\"size\": 11}"}
    ])
}

#[test]
fn grpc_functions_as_ekuiper_runs_them() {
    assert_eq!(
        run("SELECT helloFromGrpc(name) AS wc FROM s", names()),
        [
            r#"[{"wc":{"message":"world"}}]"#,
            r#"[{"wc":{"message":"golang"}}]"#,
            r#"[{"wc":{"message":"peacock"}}]"#
        ]
    );
    assert_eq!(
        run(
            "SELECT objectDetectFromGrpc(cmd, base64_img)->result AS r FROM s",
            commands()
        ),
        [
            r#"[{"r":"get success"}]"#,
            r#"[{"r":"detect success"}]"#,
            r#"[{"r":"delete success"}]"#
        ]
    );
    // A gRPC result carries every field, defaults included.
    assert_eq!(
        run(
            "SELECT objectDetectFromGrpc(*) AS r FROM s",
            serde_json::json!([{"cmd": "get", "base64_img": "img"}])
        ),
        [r#"[{"r":{"code":200,"image":"img","info":"get","result":"get success","type":"S"}}]"#]
    );
    // A BytesValue argument; a wrapper result comes back as a scalar.
    assert_eq!(
        run(
            "SELECT getFeatureFromGrpc(name)->feature[0]->box->h AS h, getStatusFromGrpc() AS st FROM s",
            names()
        ),
        [r#"[{"h":105,"st":true}]"#, r#"[{"h":106,"st":true}]"#, r#"[{"h":107,"st":true}]"#]
    );
}

#[test]
fn rest_functions_as_ekuiper_runs_them() {
    assert_eq!(
        run("SELECT helloFromRest(name) AS wc FROM s", names())[0],
        r#"[{"wc":{"message":"world"}}]"#
    );
    // `*` passes the row, unfolded into the request by field name; a REST result holds
    // only the fields the answer had.
    assert_eq!(
        run("SELECT objectDetectFromRest(*) AS r FROM s", commands())[1],
        r#"[{"r":{"image":"my image","result":"detect success","type":"S"}}]"#
    );
    // text/plain answers for wrapper results; a StringValue argument sent as raw JSON.
    assert_eq!(
        run(
            "SELECT getStatusFromRest() AS st, restEncodedJson(encoded_json) AS name FROM s",
            commands()
        ),
        [
            r#"[{"name":"name1","st":true}]"#,
            r#"[{"name":"name2","st":false}]"#,
            r#"[{"name":"name3","st":true}]"#
        ]
    );
}

#[test]
fn google_api_http_annotations_shape_the_requests() {
    let shelves = serde_json::json!([
        {"name": "name1", "size": 2, "shelf": {"id": 1541152486013i64, "theme": "tandra", "subfield": "sub1"}},
        {"name": "name2", "size": 3, "shelf": {"id": 1541152486822i64, "theme": "claro", "subfield": "sub2"}}
    ]);
    assert_eq!(
        run(
            "SELECT CreateShelf(shelf)->theme AS theme, SearchMessage(name, size, shelf)->text AS m FROM s",
            shelves
        ),
        [r#"[{"m":"name12sub1","theme":"tandra"}]"#, r#"[{"m":"name23sub2","theme":"claro"}]"#]
    );
    let demo = serde_json::json!([{"size": 3, "ts": 1541152486013i64, "id": "1541152486013", "text": "message1"}]);
    assert_eq!(
        run(
            r#"SELECT GetBook(size, ts)->title AS title, GetMessage(concat("messages/", ts))->text AS g, PatchMessage(id, text)->text AS p FROM s"#,
            demo
        ),
        [r#"[{"g":"1541152486013 content","p":"message1","title":"title_1541152486013"}]"#]
    );
}

#[test]
fn schemaless_rest_functions() {
    assert_eq!(
        run(
            r#"SELECT tsschemaless("post", "/SayHello", *) AS wc FROM s"#,
            names()
        )[0],
        r#"[{"wc":{"message":"world"}}]"#
    );
    assert_eq!(
        run(
            r#"SELECT tsschemaless("POST", "/echo", name, 1) AS a, tsschemaless("get", "/echo") AS b FROM s"#,
            serde_json::json!([{"name": "x"}])
        ),
        [r#"[{"a":{"got":["x",1]},"b":{"got":null}}]"#]
    );
}

#[test]
fn timeouts_retries_and_failure_policies() {
    // Flaky answers 503 twice per id, then succeeds: three attempts are enough.
    assert_eq!(
        run(
            "SELECT flakyEcho(id, 0)->n AS n FROM s",
            serde_json::json!([{"id": "a"}, {"id": "b"}])
        ),
        [r#"[{"n":3}]"#, r#"[{"n":3}]"#]
    );
    let rows = serde_json::json!([{"id": "fast", "ms": 0}, {"id": "slow", "ms": 1000}, {"id": "last", "ms": 0}]);
    let out = run("SELECT slowOrError(id, ms)->id AS r FROM s", rows.clone());
    assert_eq!(out[0], r#"[{"r":"fast"}]"#);
    assert!(
        out[1].contains("error") && out[1].contains("no answer within 300 ms"),
        "{}",
        out[1]
    );
    assert_eq!(out[2], r#"[{"r":"last"}]"#);
    assert_eq!(
        run("SELECT slowOrNull(id, ms) AS r FROM s", rows.clone()),
        // A null field is left out of the emission (sendNilField is off by default).
        [
            r#"[{"r":{"id":"fast"}}]"#,
            r#"[{}]"#,
            r#"[{"r":{"id":"last"}}]"#
        ]
    );
    assert_eq!(
        run("SELECT slowOrSkip(id, ms)->id AS r FROM s", rows),
        [r#"[{"r":"fast"}]"#, r#"[{"r":"last"}]"#]
    );
}

#[test]
fn a_batch_runs_concurrently_within_the_bound_and_keeps_row_order() {
    let root = setup().1.path();
    let fs = tributary_external::loader::load_services(root).expect("load");
    let def = fs
        .into_iter()
        .find(|f| f.name == "inFlight")
        .expect("inFlight");
    let factory = tributary_external::function::ExternalFunctionFactory::new(def);
    let mut imp = factory.instantiate(&CallSite::default()).expect("instance");
    let ids: Vec<Value> = (0..20).map(|i| Value::str(format!("r{i}"))).collect();
    let mut out = Vec::new();
    imp.exec_batch(
        &FnContext::default(),
        &[Column::Values(ids.clone()), Column::Scalar(Value::Int(0))],
        20,
        &mut out,
    );
    assert_eq!(out.len(), 20);
    let mut most = 0;
    for (i, r) in out.iter().enumerate() {
        let Ok(Value::Object(o)) = r else {
            panic!("row {i}: {r:?}")
        };
        assert_eq!(o.get("id"), Some(&ids[i]), "row order");
        let Some(Value::Int(n)) = o.get("n") else {
            panic!("n")
        };
        most = most.max(*n);
    }
    // concurrency 4: never more than 4 in flight, and more than one at once.
    assert!((2..=4).contains(&most), "in flight at most {most}");
}

#[test]
fn bad_service_files_stop_the_engine_with_the_file_named() {
    let dir = tempfile::tempdir().expect("tempdir");
    let services = dir.path().join("etc/services");
    std::fs::create_dir_all(&services).expect("mkdir");
    std::fs::write(services.join("broken.json"), r#"{"interfaces": {"x": {"address": "http://127.0.0.1:1", "protocol": "rest", "schemaFile": "nope.proto"}}}"#)
        .expect("write");
    let spec = serde_json::json!({
        "id": "b", "sql": "SELECT a FROM s",
        "streams": ["CREATE STREAM s () WITH (TYPE=\"mock\")"],
        "mockSource": {"s": {"data": [{"a": 1}], "timestamps": [1000]}}
    })
    .to_string();
    let (ok, _, err) = trial_text(&spec, Some(dir.path()));
    assert!(!ok);
    assert!(
        err.contains("broken.json") && err.contains("nope.proto"),
        "{err}"
    );
}
