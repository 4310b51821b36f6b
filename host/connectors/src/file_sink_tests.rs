use super::*;
use tributary_core::MockClock;

fn ctx(root: &Path, clock: &MockClock) -> ConnectorContext {
    ConnectorContext {
        rule_id: "r1".into(),
        root: root.to_path_buf(),
        clock: Arc::new(clock.clone()),
        connection: Default::default(),
    }
}

fn props(pairs: &[(&str, Value)]) -> Props {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.clone()))
        .collect()
}

fn row(json: &str) -> SinkData {
    SinkData::Value(tributary_core::json::parse(json).expect("json"))
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).expect("read")
}

#[tokio::test]
async fn lines_are_written_one_per_emission_and_flushed_on_close() {
    let dir = tempfile::tempdir().expect("tempdir");
    let clock = MockClock::new(0);
    let p = props(&[("path", Value::str("out/result.txt"))]);
    let mut sink = FileSink::new(&p, &ctx(dir.path(), &clock)).expect("sink");
    sink.collect(&row(r#"{"key":"value1"}"#)).await.expect("1");
    sink.collect(&row(r#"[{"key":"value2"}]"#))
        .await
        .expect("2");
    sink.collect(&SinkData::Text("plain".into()))
        .await
        .expect("3");
    let path = dir.path().join("out/result.txt");
    // Buffered until close.
    assert_eq!(read(&path), "");
    sink.close().await.expect("close");
    assert_eq!(
        read(&path),
        "{\"key\":\"value1\"}\n[{\"key\":\"value2\"}]\nplain"
    );
}

#[tokio::test]
async fn json_file_is_one_array() {
    let dir = tempfile::tempdir().expect("tempdir");
    let clock = MockClock::new(0);
    let path = dir.path().join("r.json");
    let p = props(&[
        ("path", Value::str(path.to_string_lossy())),
        ("fileType", Value::str("json")),
    ]);
    let mut sink = FileSink::new(&p, &ctx(dir.path(), &clock)).expect("sink");
    sink.collect(&row(r#"{"key":"value1"}"#)).await.expect("1");
    sink.collect(&row(r#"{"key":"value2"}"#)).await.expect("2");
    sink.close().await.expect("close");
    assert_eq!(read(&path), r#"[{"key":"value1"},{"key":"value2"}]"#);
}

#[tokio::test]
async fn csv_with_header_from_first_row_or_fields() {
    let dir = tempfile::tempdir().expect("tempdir");
    let clock = MockClock::new(0);
    let p = props(&[
        ("path", Value::str("a.csv")),
        ("fileType", Value::str("csv")),
        ("hasHeader", Value::Bool(true)),
    ]);
    let mut sink = FileSink::new(&p, &ctx(dir.path(), &clock)).expect("sink");
    sink.collect(&row(r#"{"ts":460,"key":"value0"}"#))
        .await
        .expect("1");
    sink.collect(&row(r#"[{"key":"value1","ts":910},{"key":"v2"}]"#))
        .await
        .expect("2");
    sink.close().await.expect("close");
    assert_eq!(
        read(&dir.path().join("a.csv")),
        "key,ts\nvalue0,460\nvalue1,910\nv2,<nil>"
    );

    let p = props(&[
        ("path", Value::str("b.csv")),
        ("fileType", Value::str("csv")),
        ("hasHeader", Value::Bool(true)),
        ("delimiter", Value::str("|")),
        ("fields", Value::str("ts,key")),
    ]);
    let mut sink = FileSink::new(&p, &ctx(dir.path(), &clock)).expect("sink");
    sink.collect(&row(r#"{"ts":1,"key":"k"}"#))
        .await
        .expect("1");
    sink.close().await.expect("close");
    assert_eq!(read(&dir.path().join("b.csv")), "ts|key\n1|k");
}

#[tokio::test]
async fn rolls_by_count_and_by_age_with_timestamped_names() {
    let dir = tempfile::tempdir().expect("tempdir");
    let clock = MockClock::new(100);
    let p = props(&[
        ("path", Value::str("log.txt")),
        ("rollingCount", Value::Int(2)),
        ("rollingInterval", Value::Int(1000)),
        ("rollingNamePattern", Value::str("suffix")),
    ]);
    let mut sink = FileSink::new(&p, &ctx(dir.path(), &clock)).expect("sink");
    sink.collect(&SinkData::Text("a".into())).await.expect("a");
    sink.collect(&SinkData::Text("b".into())).await.expect("b");
    // Count reached: the next emission opens a new file.
    clock.set(200);
    sink.collect(&SinkData::Text("c".into())).await.expect("c");
    // Older than rollingInterval: rolled before writing.
    clock.set(1_300);
    sink.collect(&SinkData::Text("d".into())).await.expect("d");
    sink.close().await.expect("close");
    assert_eq!(read(&dir.path().join("log-100.txt")), "a\nb");
    assert_eq!(read(&dir.path().join("log-200.txt")), "c");
    assert_eq!(read(&dir.path().join("log-1300.txt")), "d");
}

#[test]
fn bad_props_are_reported() {
    let dir = tempfile::tempdir().expect("tempdir");
    let clock = MockClock::new(0);
    let c = ctx(dir.path(), &clock);
    let err = FileSink::new(&props(&[("fileType", Value::str("xml"))]), &c).expect_err("type");
    assert!(
        err.to_string().contains("unknown fileType \"xml\""),
        "{err}"
    );
    let err = FileSink::new(
        &props(&[
            ("fileType", Value::str("csv")),
            ("format", Value::str("json")),
        ]),
        &c,
    )
    .expect_err("format");
    assert_eq!(
        err.to_string(),
        "invalid property \"format\" of file sink: must be delimited when fileType is csv"
    );
    let err = FileSink::new(
        &props(&[
            ("rollingCount", Value::Int(0)),
            ("rollingInterval", Value::Int(0)),
        ]),
        &c,
    )
    .expect_err("rolling");
    assert!(err.to_string().contains("one of rollingInterval"), "{err}");
    let err = FileSink::new(&props(&[("rollingCount", Value::Int(-1))]), &c).expect_err("neg");
    assert!(err.to_string().contains("non-negative"), "{err}");
    let err =
        FileSink::new(&props(&[("rollingNamePattern", Value::str("x"))]), &c).expect_err("pattern");
    assert!(err.to_string().contains("prefix, suffix or none"), "{err}");
}

#[tokio::test]
async fn nothing_written_means_no_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let clock = MockClock::new(0);
    let p = props(&[("path", Value::str("none.txt"))]);
    let mut sink = FileSink::new(&p, &ctx(dir.path(), &clock)).expect("sink");
    sink.close().await.expect("close");
    assert!(!dir.path().join("none.txt").exists());
    assert!(sink.current_path().is_none());
}

#[tokio::test]
async fn a_resumed_sink_cuts_its_file_back_to_the_checkpoint() {
    let dir = tempfile::tempdir().expect("tempdir");
    let clock = MockClock::new(0);
    for (file_type, want) in [
        ("lines", "{\"n\":1}\n{\"n\":2}\n{\"n\":9}"),
        ("json", "[{\"n\":1},{\"n\":2},{\"n\":9}]"),
    ] {
        let p = props(&[
            ("path", Value::str(format!("out.{file_type}"))),
            ("fileType", Value::str(file_type)),
        ]);
        let mut sink = FileSink::new(&p, &ctx(dir.path(), &clock)).expect("sink");
        assert_eq!(sink.position(), None, "nothing written, nothing to resume");
        sink.collect(&row(r#"{"n":1}"#)).await.expect("1");
        sink.collect(&row(r#"{"n":2}"#)).await.expect("2");
        sink.flush().await.expect("flush");
        let position = sink.position().expect("position");
        // Written after the checkpoint, then the process dies (no close).
        sink.collect(&row(r#"{"n":3}"#)).await.expect("3");
        sink.flush().await.expect("flush");
        drop(sink);
        let mut sink = FileSink::new(&p, &ctx(dir.path(), &clock)).expect("sink");
        sink.resume(&position).expect("resume");
        sink.collect(&row(r#"{"n":9}"#)).await.expect("9");
        sink.close().await.expect("close");
        assert_eq!(read(&dir.path().join(format!("out.{file_type}"))), want);
    }
    // A position that is not one is an error; a file that is gone starts afresh.
    let p = props(&[("path", Value::str("gone.txt"))]);
    let mut sink = FileSink::new(&p, &ctx(dir.path(), &clock)).expect("sink");
    let e = sink.resume(&Value::Int(3)).expect_err("bad position");
    assert!(e.to_string().contains("bad checkpoint position"), "{e}");
    let gone = tributary_core::json::parse(r#"{"path":"/nonexistent/x","len":4,"count":1}"#)
        .expect("json");
    sink.resume(&gone).expect("a missing file is not an error");
}
