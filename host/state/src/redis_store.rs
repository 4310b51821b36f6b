//! The shared store: Redis, one hash per scope (`tributary:state:<scope>`), so that
//! several engine nodes see one state. Counters use `HINCRBY`, atomic in Redis.

use crate::encoding::{decode, encode};
use redis::Commands;
use std::sync::Mutex;
use tributary_core::state::{StateError, StateStore, StateWrite};
use tributary_core::Value;

const PREFIX: &str = "tributary:state:";

pub struct RedisStateStore {
    client: redis::Client,
    conn: Mutex<Option<redis::Connection>>,
    url: String,
}

impl std::fmt::Debug for RedisStateStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisStateStore")
            .field("url", &self.url)
            .finish()
    }
}

fn store_err(e: redis::RedisError) -> StateError {
    StateError::Store(format!("redis: {e}"))
}

impl RedisStateStore {
    /// Connects to `url` (`redis://[:password@]host:port[/db]`) and checks that the
    /// server answers, so a wrong address fails at start rather than at the first call.
    pub fn open(url: &str) -> Result<Self, String> {
        let client = redis::Client::open(url).map_err(|e| format!("state store {url}: {e}"))?;
        let mut conn = client
            .get_connection_with_timeout(std::time::Duration::from_secs(5))
            .map_err(|e| format!("state store {url}: {e}"))?;
        redis::cmd("PING")
            .query::<String>(&mut conn)
            .map_err(|e| format!("state store {url}: {e}"))?;
        Ok(RedisStateStore {
            client,
            conn: Mutex::new(Some(conn)),
            url: url.to_string(),
        })
    }

    /// Runs `f` on the connection, reconnecting once if it was lost.
    fn with<R>(
        &self,
        f: impl Fn(&mut redis::Connection) -> redis::RedisResult<R>,
    ) -> Result<R, StateError> {
        let mut guard = self.conn.lock().unwrap_or_else(|e| e.into_inner());
        for attempt in 0..2 {
            if guard.is_none() {
                *guard = Some(self.client.get_connection().map_err(store_err)?);
            }
            let Some(conn) = guard.as_mut() else { continue };
            match f(conn) {
                Ok(r) => return Ok(r),
                Err(e) if attempt == 0 && (e.is_io_error() || e.is_connection_dropped()) => {
                    *guard = None;
                }
                Err(e) => return Err(store_err(e)),
            }
        }
        Err(StateError::Store(format!(
            "redis: {} unreachable",
            self.url
        )))
    }
}

fn hash(scope: &str) -> String {
    format!("{PREFIX}{scope}")
}

impl StateStore for RedisStateStore {
    fn put(&self, scope: &str, key: &str, value: Value) -> Result<(), StateError> {
        let v = encode(&value);
        self.with(|c| c.hset::<_, _, _, ()>(hash(scope), key, &v))
    }

    fn get(&self, scope: &str, key: &str) -> Result<Option<Value>, StateError> {
        let t: Option<String> = self.with(|c| c.hget(hash(scope), key))?;
        t.map(|t| decode(&t).map_err(StateError::Store)).transpose()
    }

    fn delete(&self, scope: &str, key: &str) -> Result<(), StateError> {
        self.with(|c| c.hdel::<_, _, ()>(hash(scope), key))
    }

    fn incr(&self, scope: &str, key: &str, amount: i64) -> Result<i64, StateError> {
        let mut guard = self.conn.lock().unwrap_or_else(|e| e.into_inner());
        if guard.is_none() {
            *guard = Some(self.client.get_connection().map_err(store_err)?);
        }
        let Some(conn) = guard.as_mut() else {
            return Err(StateError::Store("redis: no connection".into()));
        };
        match conn.hincr::<_, _, _, i64>(hash(scope), key, amount) {
            Ok(n) => Ok(n),
            // Redis refuses to add to a value that is not an integer.
            Err(e) if matches!(e.kind(), redis::ErrorKind::Server(_)) => {
                Err(StateError::NotAnInteger)
            }
            Err(e) => {
                if e.is_io_error() || e.is_connection_dropped() {
                    *guard = None;
                }
                Err(store_err(e))
            }
        }
    }

    fn drop_scopes(&self, prefix: &str) -> Result<(), StateError> {
        let keys = self.scope_keys(prefix)?;
        for chunk in keys.chunks(256) {
            self.with(|c| c.del::<_, ()>(chunk))?;
        }
        Ok(())
    }

    fn keys(&self, scope: &str) -> Result<Vec<String>, StateError> {
        let mut keys: Vec<String> = self.with(|c| c.hkeys(hash(scope)))?;
        keys.sort();
        Ok(keys)
    }

    fn commit(&self, writes: &[StateWrite]) -> Result<(), StateError> {
        self.commit_replacing(&[], writes)
    }

    fn commit_replacing(
        &self,
        drop_prefixes: &[String],
        writes: &[StateWrite],
    ) -> Result<(), StateError> {
        // The scopes to drop are listed first (SCAN cannot run inside MULTI); the
        // deletes and writes then go in one MULTI … EXEC, which Redis applies whole
        // or, if the connection drops before EXEC, not at all.
        let mut dropped = Vec::new();
        for p in drop_prefixes {
            dropped.extend(self.scope_keys(p)?);
        }
        if writes.is_empty() && dropped.is_empty() {
            return Ok(());
        }
        let mut pipe = redis::pipe();
        pipe.atomic();
        for k in &dropped {
            pipe.del(k).ignore();
        }
        for w in writes {
            match &w.value {
                Some(v) => pipe.hset(hash(&w.scope), &w.key, encode(v)).ignore(),
                None => pipe.hdel(hash(&w.scope), &w.key).ignore(),
            };
        }
        self.with(|c| pipe.query::<()>(c))
    }
}

impl RedisStateStore {
    /// The Redis keys of every scope starting with `prefix`.
    fn scope_keys(&self, prefix: &str) -> Result<Vec<String>, StateError> {
        let pattern = format!("{PREFIX}{}*", escape_glob(prefix));
        self.with(|c| {
            c.scan_match::<_, String>(&pattern)
                .and_then(|it| it.collect::<redis::RedisResult<Vec<String>>>())
        })
    }
}

fn escape_glob(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for ch in s.chars() {
        if matches!(ch, '*' | '?' | '[' | ']' | '\\') {
            out.push('\\');
        }
        out.push(ch);
    }
    out
}
