//! The `influx` sink: eKuiper's InfluxDB (1.x) sink as a wasm component, writing line
//! protocol over `wasi:http`.
//!
//! Props (eKuiper's names and defaults):
//!
//! - `addr` (required): the server's URL, `http://host:8086` (or `https://…`);
//!   `username`, `password`: HTTP basic authentication.
//! - `database`, `measurement` (required): where points go. The database must exist.
//! - `tags`: an object (or its JSON text) of tag names to values; a value may name
//!   columns of the row, `{"device": "{{.deviceId}}"}` (such a column is then a tag,
//!   not also a field). A tag whose value comes out
//!   empty (its column absent or null) is left out of the point.
//! - `fields`: applied by the engine before the sink sees a row, so only those columns
//!   become fields; a tag template or `tsFieldName` must name one of them.
//! - `precision`: `ns`, `us`, `ms` (default) or `s`: the unit of the timestamps.
//! - `tsFieldName`: the column holding each point's time (an integer in the precision,
//!   or a datetime); without it, the time of writing.
//! - `batchSize`: at most this many points per HTTP write (default: the whole
//!   emission in one). Rows are never held back between emissions, so nothing the
//!   engine counts as delivered waits in memory; `lingerInterval` is refused.
//!
//! Every column with a value becomes a field (nulls, NaN and infinities are left
//! out), but for the columns the tags read, which are tags only: integers as `1i`,
//! floats, booleans, text as strings, anything else as its JSON text. A failed write (the server away, a refused request, InfluxDB's error)
//! fails the delivery, which the engine retries per `retryCount` and `retryInterval`.

mod line;

use line::{Precision, Shape, Template};
use serde_json::Value as Json;
use std::cell::Cell;
use tributary_guest::context::{self, Connection as Status, Level};
use tributary_guest::props::{int_prop, known_props, props_object, str_prop};
use tributary_guest::*;

const WHO: &str = "influx sink";
const KNOWN: &[&str] = &[
    "addr",
    "username",
    "password",
    "database",
    "measurement",
    "tags",
    "precision",
    "tsFieldName",
    "batchSize",
    // The engine's: it writes only the listed fields; a format other than json is
    // refused below.
    "fields",
    "format",
];

struct InfluxSinkPlugin;

impl SinkPlugin for InfluxSinkPlugin {
    type Instance = InfluxSink;
}

struct Props {
    /// `…/write?db=…&precision=…`, and `…/ping`.
    write_url: String,
    ping_url: String,
    /// The `Authorization` header, when a username is set.
    auth: Option<String>,
    shape: Shape,
    batch: usize,
}

/// `%`-escapes a query parameter's value.
fn query_escape(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn required(p: &serde_json::Map<String, Json>, key: &str) -> Result<String, String> {
    str_prop(WHO, p, key)?
        .filter(|v| !v.is_empty())
        .ok_or_else(|| format!("{WHO}: {key} is required"))
}

/// `tags`: an object of strings, or its JSON text (eKuiper's sample writes it so).
fn tags(p: &serde_json::Map<String, Json>) -> Result<Vec<(String, Template)>, String> {
    let obj = match p.get("tags") {
        None | Some(Json::Null) => return Ok(Vec::new()),
        Some(Json::Object(o)) => o.clone(),
        Some(Json::String(s)) if s.trim().is_empty() => return Ok(Vec::new()),
        Some(Json::String(s)) => match serde_json::from_str(s) {
            Ok(Json::Object(o)) => o,
            _ => return Err(format!("{WHO}: tags must be a JSON object, not {s:?}")),
        },
        Some(other) => return Err(format!("{WHO}: tags must be an object, not {other}")),
    };
    obj.into_iter()
        .map(|(k, v)| match v {
            Json::String(s) => Template::parse(&s)
                .map(|t| (k.clone(), t))
                .map_err(|e| format!("{WHO}: tag {k}: {e}")),
            other => Err(format!("{WHO}: tag {k} must be a string, not {other}")),
        })
        .collect()
}

fn props(text: &str) -> Result<Props, String> {
    let p = props_object(WHO, text)?;
    if p.contains_key("lingerInterval") {
        return Err(format!(
            "{WHO}: lingerInterval is not supported: rows are written with the emission \
             that carries them (batchSize caps the points per write)"
        ));
    }
    known_props(WHO, &p, KNOWN)?;
    if let Some(f) = str_prop(WHO, &p, "format")?.filter(|f| !f.eq_ignore_ascii_case("json")) {
        return Err(format!(
            "{WHO}: format {f:?} is not supported: rows are written as line protocol"
        ));
    }
    let addr = required(&p, "addr")?;
    if !(addr.starts_with("http://") || addr.starts_with("https://")) {
        return Err(format!(
            "{WHO}: addr must be an http:// or https:// URL, like http://127.0.0.1:8086, \
             not {addr:?}"
        ));
    }
    let base = addr.trim_end_matches('/');
    let database = required(&p, "database")?;
    let precision = match str_prop(WHO, &p, "precision")? {
        None => Precision::Ms,
        Some(s) => Precision::parse(&s).map_err(|e| format!("{WHO}: {e}"))?,
    };
    let tags = tags(&p)?;
    let mut tag_columns: Vec<String> = tags
        .iter()
        .flat_map(|(_, t)| t.columns().map(str::to_string))
        .collect();
    tag_columns.sort();
    tag_columns.dedup();
    let shape = Shape {
        measurement: required(&p, "measurement")?,
        tags,
        tag_columns,
        precision,
        ts_field: str_prop(WHO, &p, "tsFieldName")?.filter(|f| !f.is_empty()),
    };
    check_fields(&p, &shape)?;
    let batch = match int_prop(WHO, &p, "batchSize")? {
        None | Some(0) => usize::MAX,
        Some(n) if n > 0 => n as usize,
        Some(n) => return Err(format!("{WHO}: batchSize must be positive, not {n}")),
    };
    let auth = match str_prop(WHO, &p, "username")?.filter(|u| !u.is_empty()) {
        None => None,
        Some(u) => {
            let pw = str_prop(WHO, &p, "password")?.unwrap_or_default();
            Some(format!(
                "Basic {}",
                json::base64(format!("{u}:{pw}").as_bytes())
            ))
        }
    };
    Ok(Props {
        write_url: format!(
            "{base}/write?db={}&precision={}",
            query_escape(&database),
            precision.query_name()
        ),
        ping_url: format!("{base}/ping"),
        auth,
        shape,
        batch,
    })
}

/// With `fields` set the engine drops every other column before the sink sees the
/// row, so a tag template or the time column outside them could never be read:
/// refused rather than left empty.
fn check_fields(p: &serde_json::Map<String, Json>, shape: &Shape) -> Result<(), String> {
    let Some(Json::Array(fields)) = p.get("fields") else {
        return Ok(());
    };
    let listed = |c: &str| fields.iter().any(|f| f.as_str() == Some(c));
    let used = shape
        .tag_columns
        .iter()
        .map(String::as_str)
        .chain(shape.ts_field.as_deref());
    for c in used {
        if !listed(c) {
            return Err(format!(
                "{WHO}: the column {c} (in tags or tsFieldName) is not in fields, which the \
                 engine applies before the sink: add it to fields"
            ));
        }
    }
    Ok(())
}

struct InfluxSink {
    props: Result<Props, String>,
    /// Whether the last request reached the server (for the connection status).
    reached: Cell<Option<bool>>,
}

fn now_ns() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as i64)
}

impl InfluxSink {
    /// Sends one request; the connection status follows whether the server answered.
    fn send(
        &self,
        p: &Props,
        method: &str,
        url: &str,
        body: &[u8],
    ) -> Result<http::Response, String> {
        let mut headers = vec![("Content-Type", "text/plain; charset=utf-8")];
        if let Some(a) = &p.auth {
            headers.push(("Authorization", a.as_str()));
        }
        match http::request(method, url, &headers, body) {
            Ok(r) => {
                if self.reached.replace(Some(true)) != Some(true) {
                    context::set_connection(Status::Connected, "");
                }
                Ok(r)
            }
            Err(e) => {
                let e = format!("{WHO}: {method} {url}: {e}");
                self.reached.set(Some(false));
                context::set_connection(Status::Disconnected, &e);
                Err(e)
            }
        }
    }

    /// Writes `lines` (line protocol) in one request.
    fn write(&self, p: &Props, lines: &str) -> Result<(), String> {
        let r = self.send(p, "POST", &p.write_url, lines.as_bytes())?;
        if (200..300).contains(&r.status) {
            return Ok(());
        }
        Err(format!(
            "{WHO}: InfluxDB refused the write ({}): {}",
            r.status,
            r.text().trim()
        ))
    }
}

impl SinkInstance for InfluxSink {
    fn new(props_text: String) -> Self {
        InfluxSink {
            props: props(&props_text),
            reached: Cell::new(None),
        }
    }

    /// Checks the server is there (`/ping`); one that is away is reported, not
    /// fatal: the first delivery tries again, and is retried as its props say.
    fn open(&self) -> Result<(), String> {
        let p = self.props.as_ref().map_err(String::clone)?;
        context::set_connection(Status::Connecting, "");
        match self.send(p, "GET", &p.ping_url, &[]) {
            Ok(r) if (200..300).contains(&r.status) => {}
            Ok(r) => context::log(
                Level::Warn,
                &format!("{WHO}: {} answered the ping with {}", p.ping_url, r.status),
            ),
            Err(e) => context::log(Level::Warn, &e),
        }
        Ok(())
    }

    fn collect(&self, rows: Vec<Vec<Field>>) -> Result<(), String> {
        let p = self.props.as_ref().map_err(String::clone)?;
        let now = now_ns();
        let mut lines = String::new();
        let mut n = 0;
        for (i, row) in rows.into_iter().enumerate() {
            p.shape
                .point(&mut lines, row, now)
                .map_err(|e| format!("{WHO}: row {i}: {e}"))?;
            n += 1;
            if n == p.batch {
                self.write(p, &lines)?;
                lines.clear();
                n = 0;
            }
        }
        if n > 0 {
            self.write(p, &lines)?;
        }
        Ok(())
    }

    fn close(&self) -> Result<(), String> {
        Ok(())
    }
}

tributary_guest::export_sink_plugin!(InfluxSinkPlugin);
