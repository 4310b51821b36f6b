//! The `redis` lookup source: eKuiper's redis source, a lookup table only, as a wasm
//! component over `wasi:sockets`.
//!
//! ```sql
//! CREATE TABLE devices () WITH (TYPE="redis", DATASOURCE="0", KIND="lookup")
//! ```
//!
//! `DATASOURCE` is the database number (0 to 15). Props (the conf,
//! `etc/sources/redis.yaml`): `addr` (required, `host:port`), `username`, `password`,
//! `dataType`: `string` (default) or `list`. A join asks for one key at a time (the
//! join's one ON equality): with `string` the row is the JSON object stored at that
//! key (`GET`), none when it is missing; with `list`, one row per JSON object in the
//! list (`LRANGE key 0 -1`).
//!
//! As a stream it has nothing to read: `pull` says so.

use redis_client::{list_prop, redis, server_from, text, Link};
use std::cell::RefCell;
use tributary_guest::props::{known_props, props_object};
use tributary_guest::*;

const WHO: &str = "redis source";

struct RedisSourcePlugin;

impl SourcePlugin for RedisSourcePlugin {
    type Instance = RedisSource;

    fn describe() -> SourceInfo {
        SourceInfo {
            rewindable: false,
            lookup: true,
        }
    }
}

struct Conf {
    link: Link,
    list: bool,
}

fn conf(datasource: &str, props_text: &str) -> Result<Conf, String> {
    let p = props_object(WHO, props_text)?;
    known_props(WHO, &p, &["addr", "username", "password", "dataType"])?;
    let db = match datasource.trim() {
        "" => 0,
        d => d.parse::<i64>().map_err(|_| {
            format!("{WHO}: DATASOURCE must be the database number (0 to 15), not {d:?}")
        })?,
    };
    let list = list_prop(WHO, &p)?;
    Ok(Conf {
        link: Link::new(WHO, server_from(WHO, &p, db)?),
        list,
    })
}

struct RedisSource {
    conf: RefCell<Result<Conf, String>>,
}

/// The row stored under `key`, with only `fields` (all when empty). The contract's
/// answer is the rows whose key column equals the key: a stored object without that
/// column gets it (`column` = `value`), as eKuiper's answer is the value at the key.
fn row(
    key: &str,
    stored: &[u8],
    fields: &[String],
    (column, value): (&str, &Value),
) -> Result<Vec<Field>, String> {
    let text = std::str::from_utf8(stored)
        .map_err(|_| format!("{WHO}: the value at {key:?} is not UTF-8 text"))?;
    let mut row =
        json::row_from_text(text).map_err(|e| format!("{WHO}: the value at {key:?} is {e}"))?;
    if !fields.is_empty() {
        row.retain(|f| fields.contains(&f.name));
    }
    if !row.iter().any(|f| f.name == column) {
        row.push(Field {
            name: column.to_string(),
            value: value.clone(),
        });
    }
    Ok(row)
}

impl SourceInstance for RedisSource {
    fn new(datasource: String, props: String) -> Self {
        RedisSource {
            conf: RefCell::new(conf(&datasource, &props)),
        }
    }

    fn open(&self) -> Result<(), String> {
        let mut conf = self.conf.borrow_mut();
        let c = conf.as_mut().map_err(|e| e.clone())?;
        c.link.connect();
        Ok(())
    }

    fn pull(&self, _max: u32) -> Result<Pulled, String> {
        Err(format!(
            "{WHO}: redis is a lookup source: use it in a table with KIND=\"lookup\""
        ))
    }

    fn close(&self) {
        if let Ok(c) = self.conf.borrow_mut().as_mut() {
            c.link.close();
        }
    }

    fn offset(&self) -> Option<String> {
        None
    }

    fn rewind(&self, _offset: String) -> Result<(), String> {
        Err(format!("{WHO} cannot rewind"))
    }

    fn lookup(
        &self,
        fields: Vec<String>,
        keys: Vec<String>,
        values: Vec<Value>,
    ) -> Result<Vec<Vec<Field>>, String> {
        let ([column], [value]) = (keys.as_slice(), values.as_slice()) else {
            return Err(format!(
                "{WHO}: a lookup joins on exactly one key (the redis key), not {} ({})",
                keys.len(),
                keys.join(", ")
            ));
        };
        if *value == Value::Null {
            return Ok(Vec::new());
        }
        let key = text(value.clone());
        let mut conf = self.conf.borrow_mut();
        let c = conf.as_mut().map_err(|e| e.clone())?;
        if c.list {
            let items: Vec<Vec<u8>> = c
                .link
                .run(|conn| redis::cmd("LRANGE").arg(&key).arg(0).arg(-1).query(conn))?;
            items
                .iter()
                .map(|i| row(&key, i, &fields, (column, value)))
                .collect()
        } else {
            let stored: Option<Vec<u8>> =
                c.link.run(|conn| redis::cmd("GET").arg(&key).query(conn))?;
            stored
                .map(|s| row(&key, &s, &fields, (column, value)))
                .into_iter()
                .collect()
        }
    }
}

tributary_guest::export_source_plugin!(RedisSourcePlugin);
