//! The embedded store: one SQLite file in WAL mode, written through on every operation
//! (a put returns once SQLite has it), so state outlives a crash of the process.

use crate::encoding::{decode, encode};
use rusqlite::{params, Connection, OptionalExtension};
use std::path::Path;
use std::sync::Mutex;
use tributary_core::state::{StateError, StateStore, StateWrite};
use tributary_core::Value;

#[derive(Debug)]
pub struct SqliteStateStore {
    conn: Mutex<Connection>,
}

fn store_err(e: rusqlite::Error) -> StateError {
    StateError::Store(format!("sqlite: {e}"))
}

impl SqliteStateStore {
    /// Opens (creating if needed) the database at `path`.
    pub fn open(path: &Path) -> Result<Self, String> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)
                .map_err(|e| format!("state store {}: {e}", dir.display()))?;
        }
        let conn =
            Connection::open(path).map_err(|e| format!("state store {}: {e}", path.display()))?;
        conn.execute_batch(
            "PRAGMA journal_mode=WAL;
             PRAGMA synchronous=NORMAL;
             PRAGMA busy_timeout=5000;
             CREATE TABLE IF NOT EXISTS state (
                 scope TEXT NOT NULL,
                 key TEXT NOT NULL,
                 value TEXT NOT NULL,
                 PRIMARY KEY (scope, key)
             ) WITHOUT ROWID;",
        )
        .map_err(|e| format!("state store {}: {e}", path.display()))?;
        Ok(SqliteStateStore {
            conn: Mutex::new(conn),
        })
    }

    /// Writes a consistent copy of the database to `dest` (`VACUUM INTO`): a snapshot
    /// of one transaction, taken while a server keeps writing, with no `-wal` file
    /// beside it to forget.
    pub fn snapshot(&self, dest: &Path) -> Result<(), String> {
        let target = dest
            .to_str()
            .ok_or_else(|| format!("{} is not a UTF-8 path", dest.display()))?;
        self.lock()
            .execute("VACUUM INTO ?1", params![target])
            .map(|_| ())
            .map_err(|e| format!("snapshot to {}: {e}", dest.display()))
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Connection> {
        // A statement either ran or not; the connection is usable after a panic.
        self.conn.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl StateStore for SqliteStateStore {
    fn put(&self, scope: &str, key: &str, value: Value) -> Result<(), StateError> {
        self.lock()
            .execute(
                "INSERT INTO state (scope, key, value) VALUES (?1, ?2, ?3)
                 ON CONFLICT (scope, key) DO UPDATE SET value = excluded.value",
                params![scope, key, encode(&value)],
            )
            .map(|_| ())
            .map_err(store_err)
    }

    fn get(&self, scope: &str, key: &str) -> Result<Option<Value>, StateError> {
        let text: Option<String> = self
            .lock()
            .query_row(
                "SELECT value FROM state WHERE scope = ?1 AND key = ?2",
                params![scope, key],
                |r| r.get(0),
            )
            .optional()
            .map_err(store_err)?;
        text.map(|t| decode(&t).map_err(StateError::Store))
            .transpose()
    }

    fn delete(&self, scope: &str, key: &str) -> Result<(), StateError> {
        self.lock()
            .execute(
                "DELETE FROM state WHERE scope = ?1 AND key = ?2",
                params![scope, key],
            )
            .map(|_| ())
            .map_err(store_err)
    }

    fn incr(&self, scope: &str, key: &str, amount: i64) -> Result<i64, StateError> {
        let mut conn = self.lock();
        let tx = conn.transaction().map_err(store_err)?;
        let current: Option<String> = tx
            .query_row(
                "SELECT value FROM state WHERE scope = ?1 AND key = ?2",
                params![scope, key],
                |r| r.get(0),
            )
            .optional()
            .map_err(store_err)?;
        let n = match current {
            None => 0,
            Some(t) => t.parse::<i64>().map_err(|_| StateError::NotAnInteger)?,
        };
        let sum = n
            .checked_add(amount)
            .ok_or(StateError::Store("counter overflow".into()))?;
        tx.execute(
            "INSERT INTO state (scope, key, value) VALUES (?1, ?2, ?3)
             ON CONFLICT (scope, key) DO UPDATE SET value = excluded.value",
            params![scope, key, sum.to_string()],
        )
        .map_err(store_err)?;
        tx.commit().map_err(store_err)?;
        Ok(sum)
    }

    fn drop_scopes(&self, prefix: &str) -> Result<(), StateError> {
        self.lock()
            .execute(
                "DELETE FROM state WHERE substr(scope, 1, length(?1)) = ?1",
                params![prefix],
            )
            .map(|_| ())
            .map_err(store_err)
    }

    fn keys(&self, scope: &str) -> Result<Vec<String>, StateError> {
        let conn = self.lock();
        let mut stmt = conn
            .prepare_cached("SELECT key FROM state WHERE scope = ?1 ORDER BY key")
            .map_err(store_err)?;
        let rows = stmt
            .query_map(params![scope], |r| r.get::<_, String>(0))
            .map_err(store_err)?;
        rows.collect::<Result<Vec<_>, _>>().map_err(store_err)
    }

    fn commit(&self, writes: &[StateWrite]) -> Result<(), StateError> {
        self.commit_replacing(&[], writes)
    }

    fn commit_replacing(
        &self,
        drop_prefixes: &[String],
        writes: &[StateWrite],
    ) -> Result<(), StateError> {
        let mut conn = self.lock();
        // One transaction: SQLite's journal makes it all-or-nothing across a crash.
        let tx = conn.transaction().map_err(store_err)?;
        {
            let mut drop = tx
                .prepare_cached("DELETE FROM state WHERE substr(scope, 1, length(?1)) = ?1")
                .map_err(store_err)?;
            for p in drop_prefixes {
                drop.execute(params![p]).map_err(store_err)?;
            }
            let mut put = tx
                .prepare_cached(
                    "INSERT INTO state (scope, key, value) VALUES (?1, ?2, ?3)
                     ON CONFLICT (scope, key) DO UPDATE SET value = excluded.value",
                )
                .map_err(store_err)?;
            let mut del = tx
                .prepare_cached("DELETE FROM state WHERE scope = ?1 AND key = ?2")
                .map_err(store_err)?;
            for w in writes {
                match &w.value {
                    Some(v) => put.execute(params![w.scope, w.key, encode(v)]),
                    None => del.execute(params![w.scope, w.key]),
                }
                .map_err(store_err)?;
            }
        }
        tx.commit().map_err(store_err)
    }
}
