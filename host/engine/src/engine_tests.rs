//! Engine lifecycle: restart strategy, status, stop.

use crate::builder::EngineContext;
use crate::engine::{Engine, RuleStatus};
use crate::rule::RuleDef;
use std::sync::Arc;
use std::time::Duration;
use tributary_core::SystemClock;

async fn wait_for(engine: &Engine, id: &str, want: impl Fn(&RuleStatus) -> bool) -> RuleStatus {
    for _ in 0..500 {
        let (s, _) = engine.rule_status(id).expect("status");
        if want(&s) {
            return s;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    engine.rule_status(id).expect("status").0
}

#[tokio::test]
async fn a_failing_source_is_restarted_as_the_strategy_says_then_fails() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::create_dir_all(dir.path().join("data")).expect("mkdir");
    std::fs::write(dir.path().join("data/bad.json"), "{not json").expect("write");
    let engine = Engine::new(EngineContext::new(
        dir.path().to_path_buf(),
        Arc::new(SystemClock),
    ));
    engine
        .create_stream(r#"CREATE STREAM s () WITH (TYPE="file", DATASOURCE="bad.json")"#)
        .expect("stream");
    let rule = RuleDef::parse(
        r#"{"id":"r","sql":"SELECT * FROM s","actions":[{"nop":{}}],
            "options":{"restartStrategy":{"attempts":2,"delay":10,"multiplier":1}}}"#,
    )
    .expect("rule");
    engine.create_rule(rule).expect("create");
    let status = wait_for(&engine, "r", |s| matches!(s, RuleStatus::Failed(_))).await;
    let RuleStatus::Failed(msg) = status else {
        panic!("expected failure, got {status:?}")
    };
    assert!(msg.contains("bad.json"), "{msg}");
    let (_, m) = engine.rule_status("r").expect("status");
    assert_eq!(m.restarts, 2);
    // Stopping a failed rule keeps its failure visible.
    engine.stop_rule("r").await.expect("stop");
    assert!(matches!(
        engine.rule_status("r").expect("status").0,
        RuleStatus::Failed(_)
    ));
}

#[tokio::test]
async fn rules_and_streams_clash_and_unknowns_are_reported() {
    let dir = tempfile::tempdir().expect("tempdir");
    let engine = Engine::new(EngineContext::new(
        dir.path().to_path_buf(),
        Arc::new(SystemClock),
    ));
    engine
        .create_stream(r#"CREATE STREAM s () WITH (TYPE="memory", DATASOURCE="t")"#)
        .expect("stream");
    let e = engine
        .create_stream(r#"CREATE STREAM S () WITH (TYPE="memory", DATASOURCE="t")"#)
        .expect_err("clash");
    assert!(matches!(e, tributary_core::Error::Conflict(_)), "{e}");
    let rule = || {
        RuleDef::parse(r#"{"id":"r","sql":"SELECT * FROM s","actions":[{"nop":{}}]}"#)
            .expect("rule")
    };
    engine.create_rule(rule()).expect("create");
    assert!(matches!(
        engine.create_rule(rule()),
        Err(tributary_core::Error::Conflict(_))
    ));
    assert!(matches!(
        engine.stop_rule("nope").await,
        Err(tributary_core::Error::NotFound(_))
    ));
    let bad = RuleDef::parse(r#"{"id":"b","sql":"SELECT * FROM s","actions":[{"nosuchsink":{}}]}"#)
        .expect("rule");
    let e = engine.create_rule(bad).expect_err("sink");
    assert!(e.to_string().contains("nosuchsink"), "{e}");
    assert_eq!(engine.rule_ids(), vec!["r".to_string()]);
    engine.shutdown().await;
}
