use super::*;
use crate::sleep::NoSleep;
use tokio::sync::mpsc;
use tributary_core::MockClock;

fn ctx(root: &Path) -> ConnectorContext {
    ConnectorContext {
        rule_id: "r1".into(),
        root: root.to_path_buf(),
        clock: Arc::new(MockClock::new(1_000)),
        connection: Default::default(),
    }
}

fn props(pairs: &[(&str, Value)]) -> Props {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.clone()))
        .collect()
}

/// A temp root with `data/<name>` holding `content`.
fn root_with(name: &str, content: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    std::fs::create_dir_all(&data).expect("mkdir");
    std::fs::write(data.join(name), content).expect("write");
    dir
}

/// Runs a source to its end and returns every message it sent.
async fn run_all(src: FileSource) -> Vec<SourceMessage> {
    let (tx, mut rx) = mpsc::channel(16);
    let task = tokio::spawn(Box::new(src).run(SourceSender::new(tx)));
    let mut all = Vec::new();
    while let Some(batch) = rx.recv().await {
        all.extend(batch);
    }
    task.await.expect("join").expect("run");
    all
}

fn field<'a>(m: &'a SourceMessage, name: &str) -> Option<&'a Value> {
    match &m.payload {
        Payload::Object(o) => o.get(name),
        _ => None,
    }
}

#[tokio::test]
async fn json_file_is_read_once_with_meta_and_clock() {
    let root = root_with("lookup.json", r#"[{"id":1},{"id":2},{"id":3}]"#);
    let src = FileSource::new("lookup.json", &Props::new(), &ctx(root.path())).expect("src");
    let offset = src.offset();
    let msgs = run_all(src).await;
    assert_eq!(msgs.len(), 3);
    assert_eq!(field(&msgs[2], "id"), Some(&Value::Int(3)));
    assert_eq!(msgs[0].timestamp, 1_000);
    let file = root.path().join("data").join("lookup.json");
    assert_eq!(
        msgs[0].meta.get("file"),
        Some(&Value::str(file.to_string_lossy()))
    );
    assert_eq!(offset.get(), 3);
}

#[tokio::test]
async fn lines_file_sends_each_line_as_bytes() {
    let root = root_with("x.lines", "{\"a\":1}\nbroken\n\n{\"a\":2}\n");
    let p = props(&[("fileType", Value::str("lines"))]);
    let msgs = run_all(FileSource::new("x.lines", &p, &ctx(root.path())).expect("src")).await;
    let payloads: Vec<_> = msgs.into_iter().map(|m| m.payload).collect();
    assert_eq!(
        payloads,
        vec![
            Payload::Bytes(b"{\"a\":1}".to_vec()),
            Payload::Bytes(b"broken".to_vec()),
            Payload::Bytes(b"{\"a\":2}".to_vec()),
        ]
    );
}

#[tokio::test]
async fn csv_with_header_without_header_and_ignored_lines() {
    let root = root_with("a.csv", "meta line\nid,name\n1,John\n2,Jane\nfooter\n");
    let p = props(&[
        ("fileType", Value::str("csv")),
        ("hasHeader", Value::Bool(true)),
        ("ignoreStartLines", Value::Int(1)),
        ("ignoreEndLines", Value::Int(1)),
    ]);
    let msgs = run_all(FileSource::new("a.csv", &p, &ctx(root.path())).expect("src")).await;
    assert_eq!(msgs.len(), 2);
    assert_eq!(field(&msgs[0], "name"), Some(&Value::str("John")));

    let root = root_with("b.csv", "1;John\n2;Jane\n");
    let p = props(&[
        ("fileType", Value::str("csv")),
        ("delimiter", Value::str(";")),
        (
            "columns",
            Value::array(vec![Value::str("id"), Value::str("name")]),
        ),
    ]);
    let msgs = run_all(FileSource::new("b.csv", &p, &ctx(root.path())).expect("src")).await;
    assert_eq!(field(&msgs[1], "id"), Some(&Value::str("2")));
    assert_eq!(field(&msgs[1], "name"), Some(&Value::str("Jane")));
}

#[tokio::test]
async fn directory_is_read_in_name_order_then_files_are_moved() {
    let root = root_with("b.json", r#"[{"f":"b"}]"#);
    std::fs::write(root.path().join("data/a.json"), r#"{"f":"a"}"#).expect("write");
    std::fs::create_dir(root.path().join("data/sub")).expect("subdir");
    let p = props(&[
        ("actionAfterRead", Value::Int(2)),
        ("moveTo", Value::str("moved")),
    ]);
    let msgs = run_all(FileSource::new("", &p, &ctx(root.path())).expect("src")).await;
    let order: Vec<_> = msgs.iter().filter_map(|m| field(m, "f")).collect();
    assert_eq!(order, vec![&Value::str("a"), &Value::str("b")]);
    assert!(root.path().join("moved/a.json").exists());
    assert!(!root.path().join("data/b.json").exists());
}

#[tokio::test]
async fn delete_after_read() {
    let root = root_with("gone.json", r#"[{"a":1}]"#);
    let p = props(&[("actionAfterRead", Value::Int(1))]);
    run_all(FileSource::new("gone.json", &p, &ctx(root.path())).expect("src")).await;
    assert!(!root.path().join("data/gone.json").exists());
}

#[tokio::test]
async fn starts_from_an_offset_and_paces_rows() {
    let root = root_with("x.json", r#"[{"n":0},{"n":1},{"n":2},{"n":3}]"#);
    let sleeper = NoSleep::new();
    let p = props(&[("sendInterval", Value::Int(10))]);
    let src = FileSource::new("x.json", &p, &ctx(root.path()))
        .expect("src")
        .with_offset(SourceOffset::new(1))
        .with_sleeper(Arc::new(sleeper.clone()));
    let offset = src.offset();
    let (tx, mut rx) = mpsc::channel(16);
    let task = tokio::spawn(Box::new(src).run(SourceSender::new(tx)));
    let mut batches = Vec::new();
    while let Some(b) = rx.recv().await {
        batches.push(b);
    }
    task.await.expect("join").expect("run");
    // One row per batch under sendInterval; the first row was skipped.
    assert_eq!(batches.len(), 3);
    assert_eq!(field(&batches[0][0], "n"), Some(&Value::Int(1)));
    assert_eq!(offset.get(), 4);
    assert_eq!(sleeper.total_ms(), 30);
}

#[tokio::test]
async fn interval_rereads_until_the_rule_stops() {
    let root = root_with("x.json", r#"[{"n":1}]"#);
    let sleeper = NoSleep::new();
    let p = props(&[("interval", Value::str("1s"))]);
    let src = FileSource::new("x.json", &p, &ctx(root.path()))
        .expect("src")
        .with_sleeper(Arc::new(sleeper.clone()));
    let (tx, mut rx) = mpsc::channel(1);
    let task = tokio::spawn(Box::new(src).run(SourceSender::new(tx)));
    for _ in 0..3 {
        assert_eq!(rx.recv().await.expect("pass").len(), 1);
    }
    drop(rx);
    task.await.expect("join").expect("run");
    assert!(sleeper.total_ms() >= 3_000);
}

#[tokio::test]
async fn bad_file_content_is_an_error_naming_the_file() {
    let root = root_with("bad.json", "[{\"a\":1},");
    let src = FileSource::new("bad.json", &Props::new(), &ctx(root.path())).expect("src");
    let (tx, _rx) = mpsc::channel(4);
    let err = Box::new(src)
        .run(SourceSender::new(tx))
        .await
        .expect_err("bad json");
    let msg = err.to_string();
    assert!(
        msg.contains("bad.json") && msg.contains("invalid JSON"),
        "{msg}"
    );
}

#[test]
fn bad_props_are_reported() {
    let root = root_with("x.json", "[]");
    let c = ctx(root.path());
    let err = FileSource::new("missing.json", &Props::new(), &c).expect_err("missing");
    assert!(err.to_string().ends_with("missing.json not exist"), "{err}");
    let err = FileSource::new("x.json", &props(&[("fileType", Value::str("xml"))]), &c)
        .expect_err("type");
    assert_eq!(
        err.to_string(),
        "invalid property \"fileType\" of file source: unknown fileType \"xml\"; available: json, lines, csv"
    );
    let err = FileSource::new("x.json", &props(&[("actionAfterRead", Value::Int(2))]), &c)
        .expect_err("moveTo");
    assert!(err.to_string().contains("\"moveTo\""), "{err}");
    let err = FileSource::new("x.json", &props(&[("interval", Value::Bool(true))]), &c)
        .expect_err("interval");
    assert!(err.to_string().contains("expected a duration"), "{err}");
}

#[test]
fn absolute_path_prop_is_used_as_is() {
    let root = root_with("x.json", "[]");
    let abs = root.path().join("data");
    let p = props(&[("path", Value::str(abs.to_string_lossy()))]);
    let other_root = tempfile::tempdir().expect("tempdir");
    let src = FileSource::new("x.json", &p, &ctx(other_root.path())).expect("src");
    assert_eq!(src.config().target, abs.join("x.json"));
}
