//! The `redis` sink: eKuiper's redis sink as a wasm component, over `wasi:sockets`.
//!
//! Props (eKuiper's names and defaults):
//!
//! - `addr` (required): `host:port`; `username`, `password`: the login; `db`: 0 to 15
//!   (default 0).
//! - `keyType`: `single` (default) stores each row whole, as its JSON, under one key:
//!   the value of the row's `field` when `field` is set, else `key`. `multiple`
//!   stores each column of the row under its own name.
//! - `dataType`: `string` (default, `SET`) or `list` (`LPUSH`).
//! - `expiration`: seconds a string key lives (`SET … EX n`); 0 or less (default -1)
//!   sets it without one. Lists never expire.
//! - `rowkindField`: the column saying what the row is: `insert`, `update` or
//!   `upsert` write as above; `delete` removes the key (`DEL`, or `LPOP` for a list).
//!   Without it every row is an upsert.
//!
//! A delivery's rows go in one pipeline; a failed delivery (the server away, a
//! refused connect) is an error the host retries per the action's `retryCount` and
//! `retryInterval`, and the connection is made again with back-off.

use redis_client::{list_prop, redis, server_from, text, Link};
use std::cell::RefCell;
use tributary_guest::props::{int_prop, known_props, props_object, str_prop};
use tributary_guest::*;

const WHO: &str = "redis sink";
const KNOWN: &[&str] = &[
    "addr",
    "username",
    "password",
    "db",
    "key",
    "field",
    "keyType",
    "dataType",
    "expiration",
    "rowkindField",
    // The host's: it writes only the listed fields; a format other than json is
    // refused below.
    "fields",
    "format",
];

struct RedisSinkPlugin;

impl SinkPlugin for RedisSinkPlugin {
    type Instance = RedisSink;
}

/// Where a row goes.
enum Keys {
    /// The key named by `key`.
    Fixed(String),
    /// The key is the value of this column.
    Field(String),
    /// Each column under its own name.
    Columns,
}

struct Props {
    keys: Keys,
    list: bool,
    expiration: Option<u64>,
    rowkind_field: Option<String>,
}

fn props(text: &str) -> Result<(Props, redis_client::Server), String> {
    let p = props_object(WHO, text)?;
    known_props(WHO, &p, KNOWN)?;
    if let Some(f) = str_prop(WHO, &p, "format")?.filter(|f| !f.eq_ignore_ascii_case("json")) {
        return Err(format!(
            "{WHO}: format {f:?} is not supported: rows are stored as JSON"
        ));
    }
    let server = server_from(WHO, &p, int_prop(WHO, &p, "db")?.unwrap_or(0))?;
    let key = str_prop(WHO, &p, "key")?.filter(|k| !k.is_empty());
    let field = str_prop(WHO, &p, "field")?.filter(|k| !k.is_empty());
    let keys = match str_prop(WHO, &p, "keyType")?.as_deref() {
        None | Some("single") => match (field, key) {
            (Some(f), _) => Keys::Field(f),
            (None, Some(k)) => Keys::Fixed(k),
            (None, None) => {
                return Err(format!(
                    "{WHO}: key or field is required when keyType is single"
                ))
            }
        },
        Some("multiple") => Keys::Columns,
        Some(other) => {
            return Err(format!(
                "{WHO}: keyType must be single or multiple, not {other:?}"
            ))
        }
    };
    let list = list_prop(WHO, &p)?;
    let expiration = int_prop(WHO, &p, "expiration")?
        .filter(|s| *s > 0)
        .map(|s| s as u64);
    Ok((
        Props {
            keys,
            list,
            expiration,
            rowkind_field: str_prop(WHO, &p, "rowkindField")?.filter(|f| !f.is_empty()),
        },
        server,
    ))
}

struct RedisSink {
    props: Result<Props, String>,
    link: RefCell<Option<Link>>,
}

fn column<'a>(row: &'a [Field], name: &str) -> Option<&'a Value> {
    row.iter().find(|f| f.name == name).map(|f| &f.value)
}

impl Props {
    /// Whether the row deletes its key, from its `rowkindField`.
    fn deletes(&self, row: &[Field]) -> Result<bool, String> {
        let Some(name) = &self.rowkind_field else {
            return Ok(false);
        };
        match column(row, name) {
            None => Ok(false),
            Some(Value::Str(s)) => match s.as_str() {
                "insert" | "update" | "upsert" => Ok(false),
                "delete" => Ok(true),
                other => Err(format!(
                    "{WHO}: the rowkind {other:?} in {name} is not insert, update, upsert or delete"
                )),
            },
            Some(other) => Err(format!(
                "{WHO}: the rowkind field {name} must be a string, not {}",
                text(other.clone())
            )),
        }
    }

    /// The row's (key, value) pairs.
    fn pairs(&self, row: Vec<Field>) -> Result<Vec<(String, String)>, String> {
        Ok(match &self.keys {
            Keys::Fixed(k) => vec![(k.clone(), json::row_to_text(row))],
            Keys::Field(name) => {
                let key = match column(&row, name) {
                    None | Some(Value::Null) => {
                        return Err(format!("{WHO}: field {name} does not exist in the row"))
                    }
                    Some(v) => text(v.clone()),
                };
                vec![(key, json::row_to_text(row))]
            }
            Keys::Columns => row
                .into_iter()
                .filter(|f| Some(&f.name) != self.rowkind_field.as_ref())
                .map(|f| (f.name, text(f.value)))
                .collect(),
        })
    }

    /// Adds the row's commands to the pipeline.
    fn add(&self, pipe: &mut redis::Pipeline, row: Vec<Field>) -> Result<(), String> {
        let delete = self.deletes(&row)?;
        for (key, value) in self.pairs(row)? {
            let cmd = match (delete, self.list) {
                (true, true) => redis::cmd("LPOP").arg(&key).to_owned(),
                (true, false) => redis::cmd("DEL").arg(&key).to_owned(),
                (false, true) => redis::cmd("LPUSH").arg(&key).arg(&value).to_owned(),
                (false, false) => match self.expiration {
                    Some(s) => redis::cmd("SET")
                        .arg(&key)
                        .arg(&value)
                        .arg("EX")
                        .arg(s)
                        .to_owned(),
                    None => redis::cmd("SET").arg(&key).arg(&value).to_owned(),
                },
            };
            pipe.add_command(cmd).ignore();
        }
        Ok(())
    }
}

impl SinkInstance for RedisSink {
    fn new(props_text: String) -> Self {
        let (props, link) = match props(&props_text) {
            Ok((p, server)) => (Ok(p), Some(Link::new(WHO, server))),
            Err(e) => (Err(e), None),
        };
        RedisSink {
            props,
            link: RefCell::new(link),
        }
    }

    fn open(&self) -> Result<(), String> {
        self.props.as_ref().map_err(String::clone)?;
        if let Some(link) = self.link.borrow_mut().as_mut() {
            link.connect();
        }
        Ok(())
    }

    fn collect(&self, rows: Vec<Vec<Field>>) -> Result<(), String> {
        let p = self.props.as_ref().map_err(String::clone)?;
        let mut pipe = redis::pipe();
        for row in rows {
            p.add(&mut pipe, row)?;
        }
        let mut link = self.link.borrow_mut();
        let link = link.as_mut().ok_or_else(|| format!("{WHO} is not open"))?;
        link.run(|c| pipe.query::<()>(c))
    }

    fn close(&self) -> Result<(), String> {
        if let Some(link) = self.link.borrow_mut().as_mut() {
            link.close();
        }
        Ok(())
    }
}

tributary_guest::export_sink_plugin!(RedisSinkPlugin);
