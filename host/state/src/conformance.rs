//! The state API's semantics, as one suite every store (and every tier) must pass:
//! eKuiper's — a missing state is none, a missing counter is 0, incrementing something
//! that is not an integer is an error — plus scopes that never see each other.

use tributary_core::state::{StateError, StateStore, StateWrite};
use tributary_core::{json, Value};

/// Runs the suite against `store`, under scopes starting with `prefix` (so stores
/// shared between runs do not collide). Panics with the failed expectation.
pub fn run(store: &dyn StateStore, prefix: &str) {
    let a = format!("{prefix}/rule/a/function/0/f");
    let b = format!("{prefix}/rule/b/function/0/f");
    assert_eq!(
        store.get(&a, "missing"),
        Ok(None),
        "get of a missing key is none"
    );
    assert_eq!(
        store.counter(&a, "missing"),
        Ok(0),
        "a missing counter is 0"
    );
    assert_eq!(store.incr(&a, "c", 5), Ok(5));
    assert_eq!(store.incr(&a, "c", -2), Ok(3));
    assert_eq!(store.counter(&a, "c"), Ok(3));
    assert_eq!(
        store.get(&a, "c"),
        Ok(Some(Value::Int(3))),
        "a counter is an integer state"
    );
    let values = [
        Value::str("text"),
        Value::Float(2.5),
        Value::Bool(true),
        Value::Null,
        Value::bytes(vec![1, 2, 3]),
        json::parse(r#"{"k":[1,2]}"#).expect("json"),
    ];
    for (i, v) in values.iter().enumerate() {
        let key = format!("v{i}");
        assert_eq!(store.put(&a, &key, v.clone()), Ok(()));
        assert_eq!(
            store.get(&a, &key),
            Ok(Some(v.clone())),
            "{v:?} round-trips"
        );
    }
    assert_eq!(
        store.incr(&a, "v0", 1),
        Err(StateError::NotAnInteger),
        "text is not a counter"
    );
    assert_eq!(
        store.incr(&a, "v1", 1),
        Err(StateError::NotAnInteger),
        "a float is not a counter"
    );
    assert_eq!(store.put(&a, "v0", Value::Int(10)), Ok(()), "put replaces");
    assert_eq!(store.incr(&a, "v0", 1), Ok(11));
    assert_eq!(store.delete(&a, "v0"), Ok(()));
    assert_eq!(store.get(&a, "v0"), Ok(None));
    assert_eq!(
        store.delete(&a, "never-there"),
        Ok(()),
        "deleting a missing key is fine"
    );
    // Scopes are isolated.
    assert_eq!(
        store.counter(&b, "c"),
        Ok(0),
        "another scope does not see the counter"
    );
    assert_eq!(store.incr(&b, "c", 1), Ok(1));
    assert_eq!(store.counter(&a, "c"), Ok(3));
    // A deleted rule's state goes; the other rule's stays.
    assert_eq!(store.drop_scopes(&format!("{prefix}/rule/a/")), Ok(()));
    assert_eq!(store.counter(&a, "c"), Ok(0));
    assert_eq!(store.get(&a, "v2"), Ok(None));
    assert_eq!(store.counter(&b, "c"), Ok(1));
    // A commit puts and deletes in one go; counters it wrote add on natively.
    let w = |key: &str, value: Option<Value>| StateWrite {
        scope: b.clone(),
        key: key.to_string(),
        value,
    };
    assert_eq!(
        store.commit(&[
            w("n", Some(Value::Int(7))),
            w("t", Some(Value::str("x"))),
            w("c", None)
        ]),
        Ok(())
    );
    assert_eq!(
        store.incr(&b, "n", 1),
        Ok(8),
        "a committed integer counts on"
    );
    assert_eq!(store.get(&b, "t"), Ok(Some(Value::str("x"))));
    assert_eq!(store.get(&b, "c"), Ok(None), "a commit deletes");
    assert_eq!(store.commit(&[]), Ok(()), "an empty commit is fine");
    assert_eq!(
        store.keys(&b),
        Ok(vec!["n".to_string(), "t".to_string()]),
        "the keys of one scope, sorted"
    );
    assert_eq!(store.keys(&format!("{prefix}/nothing")), Ok(vec![]));
    // A replacing commit forgets whole scopes and writes in one go.
    let d = format!("{prefix}/rule/d/function/0/f");
    assert_eq!(store.put(&d, "old", Value::Int(1)), Ok(()));
    assert_eq!(
        store.commit_replacing(
            &[format!("{prefix}/rule/d/"), format!("{prefix}/rule/b/")],
            &[StateWrite {
                scope: d.clone(),
                key: "new".into(),
                value: Some(Value::Int(2)),
            }]
        ),
        Ok(())
    );
    assert_eq!(store.get(&d, "old"), Ok(None), "the dropped scope is gone");
    assert_eq!(
        store.get(&d, "new"),
        Ok(Some(Value::Int(2))),
        "then written"
    );
    assert_eq!(store.keys(&b), Ok(vec![]), "every dropped prefix goes");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_memory_store_conforms() {
        run(&tributary_core::state::MemoryStateStore::default(), "t");
    }

    #[test]
    fn the_sqlite_store_conforms_and_survives_reopening() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("data/state.db");
        {
            let s = crate::SqliteStateStore::open(&path).expect("open");
            run(&s, "t");
            assert_eq!(s.incr("kept", "n", 41), Ok(41));
        }
        let s = crate::SqliteStateStore::open(&path).expect("reopen");
        assert_eq!(s.incr("kept", "n", 1), Ok(42), "state outlives the store");
    }

    #[test]
    fn configuration_picks_the_store() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::create_dir_all(dir.path().join("etc")).expect("mkdir");
        // No file: SQLite under data/.
        let s = crate::open_store(dir.path()).expect("default");
        assert_eq!(s.incr("x", "n", 1), Ok(1));
        assert!(dir.path().join("data/state.db").exists());
        std::fs::write(
            dir.path().join("etc/tributary.yaml"),
            "store:\n  type: memory\n",
        )
        .expect("write");
        assert!(crate::open_store(dir.path()).is_ok());
        std::fs::write(
            dir.path().join("etc/tributary.yaml"),
            "store:\n  type: etcd\n",
        )
        .expect("write");
        let e = crate::open_store(dir.path())
            .expect_err("bad type")
            .to_string();
        assert!(
            e.contains("\"etcd\" is not one of sqlite, redis, memory"),
            "{e}"
        );
        std::fs::write(
            dir.path().join("etc/tributary.yaml"),
            "store:\n  sqlit: {}\n",
        )
        .expect("write");
        let e = crate::open_store(dir.path()).expect_err("typo").to_string();
        assert!(e.contains("sqlit"), "{e}");
        let cfg = crate::StoreConfig {
            redis: crate::config::RedisConfig {
                host: Some("127.0.0.1".into()),
                port: Some(7000),
                password: Some("pw".into()),
                db: None,
            },
            ..Default::default()
        };
        assert_eq!(cfg.redis_url(), "redis://:pw@127.0.0.1:7000/0");
    }
}
