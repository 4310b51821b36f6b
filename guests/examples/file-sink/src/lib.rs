//! The `fileSink` sink: appends each row it receives to a file as one JSON line.
//!
//! Props: `{"path": "data/fileSink/rows.jsonl", "append": true}`. `path` is required:
//! absolute, or relative to the engine root as for the built-in `file` sink. Its
//! manifest (`fileSink.json` beside the component) asks to write `data/fileSink`, so
//! that is where it may write once the operator grants it. `append: false` truncates
//! the file when the sink opens.
//!
//! It writes with `std::fs`: the host preopens only the directories the operator
//! granted (`etc/wasm.yaml`), at their host paths, so a path anywhere else fails with
//! an error, as it should. It is not named `file` because plugin sinks may not shadow
//! the built-in `file` sink (action types are matched case-insensitively).

use serde_json::{Map, Number, Value as Json};
use std::cell::RefCell;
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use tributary_guest::*;

struct FileSinkPlugin;

impl SinkPlugin for FileSinkPlugin {
    type Instance = FileSink;
}

struct Props {
    path: PathBuf,
    append: bool,
}

fn props(text: &str) -> Result<Props, String> {
    let v: Json = serde_json::from_str(text).map_err(|e| format!("fileSink props: {e}"))?;
    let path = v
        .get("path")
        .and_then(Json::as_str)
        .filter(|p| !p.is_empty())
        .ok_or("fileSink needs a path prop (a file name)")?;
    let append = match v.get("append") {
        None | Some(Json::Null) => true,
        Some(Json::Bool(b)) => *b,
        Some(other) => {
            return Err(format!(
                "fileSink: append must be true or false, not {other}"
            ))
        }
    };
    Ok(Props {
        path: absolute(Path::new(path)),
        append,
    })
}

/// `path` made absolute against the engine root (`context.root-path`): a guest has
/// no working directory.
fn absolute(path: &Path) -> PathBuf {
    if path.is_absolute() {
        return path.to_path_buf();
    }
    PathBuf::from(context::root_path()).join(path)
}

struct FileSink {
    props: Result<Props, String>,
    file: RefCell<Option<File>>,
}

/// Days since 1970-01-01 to (year, month, day), proleptic Gregorian (Howard Hinnant's
/// `civil_from_days`), so datetimes print as the host prints them without a date crate.
fn civil(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

/// RFC 3339 in UTC, with as many fraction digits as needed (none for whole seconds).
fn rfc3339(ns: i64) -> String {
    let secs = ns.div_euclid(1_000_000_000);
    let frac = ns.rem_euclid(1_000_000_000);
    let (y, mo, d) = civil(secs.div_euclid(86_400));
    let s = secs.rem_euclid(86_400);
    let mut out = format!(
        "{y:04}-{mo:02}-{d:02}T{:02}:{:02}:{:02}",
        s / 3600,
        s / 60 % 60,
        s % 60
    );
    if frac > 0 {
        let digits = format!("{frac:09}");
        out.push('.');
        out.push_str(digits.trim_end_matches('0'));
    }
    out.push('Z');
    out
}

fn base64(bytes: &[u8]) -> String {
    const ABC: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ABC[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// A value as the host's JSON writes it: whole floats without a fraction, bytes as
/// base64, datetimes as RFC 3339, NaN and infinities as null.
fn to_json(v: Value) -> Json {
    match v {
        Value::Null => Json::Null,
        Value::Boolean(b) => Json::Bool(b),
        Value::Int(i) => Json::from(i),
        Value::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => Json::from(f as i64),
        Value::Float(f) => Number::from_f64(f).map_or(Json::Null, Json::Number),
        Value::Str(s) => Json::String(s),
        Value::Bytes(b) => Json::String(base64(&b)),
        Value::Datetime(ns) => Json::String(rfc3339(ns)),
        Value::Json(text) => serde_json::from_str(&text).unwrap_or(Json::String(text)),
    }
}

/// One row as one line (keys sorted, as the host's own file sink writes them).
fn line(row: Vec<Field>) -> Result<String, String> {
    let obj: Map<String, Json> = row
        .into_iter()
        .map(|f| (f.name, to_json(f.value)))
        .collect();
    let mut text = serde_json::to_string(&obj).map_err(|e| e.to_string())?;
    text.push('\n');
    Ok(text)
}

impl SinkInstance for FileSink {
    fn new(props_text: String) -> Self {
        FileSink {
            props: props(&props_text),
            file: RefCell::new(None),
        }
    }

    fn open(&self) -> Result<(), String> {
        let p = self.props.as_ref().map_err(String::clone)?;
        if let Some(parent) = p.path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent)
                .map_err(|e| format!("fileSink: {}: {e}", parent.display()))?;
        }
        let file = OpenOptions::new()
            .create(true)
            .write(true)
            .append(p.append)
            .truncate(!p.append)
            .open(&p.path)
            .map_err(|e| format!("fileSink: {}: {e}", p.path.display()))?;
        *self.file.borrow_mut() = Some(file);
        Ok(())
    }

    fn collect(&self, rows: Vec<Vec<Field>>) -> Result<(), String> {
        let mut text = String::new();
        for row in rows {
            text.push_str(&line(row)?);
        }
        let mut file = self.file.borrow_mut();
        let f = file.as_mut().ok_or("fileSink is not open")?;
        // One write per delivery: a failed delivery is retried whole by the host.
        f.write_all(text.as_bytes())
            .and_then(|()| f.flush())
            .map_err(|e| format!("fileSink: write: {e}"))
    }

    fn close(&self) -> Result<(), String> {
        if let Some(mut f) = self.file.borrow_mut().take() {
            f.flush().map_err(|e| format!("fileSink: close: {e}"))?;
        }
        Ok(())
    }
}

tributary_guest::export_sink_plugin!(FileSinkPlugin);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodings() {
        assert_eq!(base64(b"Man"), "TWFu");
        assert_eq!(base64(b"Ma"), "TWE=");
        assert_eq!(base64(b"M"), "TQ==");
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(
            rfc3339(1_541_152_486_013_000_000),
            "2018-11-02T09:54:46.013Z"
        );
        assert_eq!(rfc3339(-1), "1969-12-31T23:59:59.999999999Z");
    }
}
