//! The `fileSink` sink: appends each row it collects as one JSON line to the file named
//! by the `path` prop (relative paths resolve against the plugin's root path,
//! `<root>/etc/sinks/fileSink`). Props: `{"path": "out.jsonl", "append": true}`;
//! `append: false` truncates the file when the sink opens.
//!
//! It is not called `file` because that is the built-in file sink's action name.

use serde_json::{Map, Value as Json};
use std::fs::{File, OpenOptions};
use std::io::{BufWriter, Write};
use std::path::PathBuf;
use tributary_native_sdk::*;

struct FileSink {
    path: PathBuf,
    append: bool,
    out: Option<BufWriter<File>>,
}

fn to_json(v: ValueRef<'_>) -> Json {
    match v {
        ValueRef::Null => Json::Null,
        ValueRef::Bool(b) => Json::Bool(b),
        ValueRef::Int(i) => Json::from(i),
        ValueRef::Float(f) => serde_json::Number::from_f64(f).map_or(Json::Null, Json::Number),
        ValueRef::Str(s) => Json::String(s.to_string()),
        ValueRef::Bytes(b) => Json::Array(b.iter().map(|x| Json::from(*x)).collect()),
        ValueRef::Datetime(ns) => Json::from(ns / 1_000_000),
        ValueRef::Json(text) => serde_json::from_str(text).unwrap_or(Json::Null),
    }
}

impl SinkPlugin for FileSink {
    fn new(host: Host, props: &str) -> Result<Self, String> {
        let props: Json =
            serde_json::from_str(props).map_err(|e| format!("fileSink: props: {e}"))?;
        let path = props
            .get("path")
            .and_then(Json::as_str)
            .ok_or("fileSink needs a path prop (a string)")?;
        let mut full = PathBuf::from(path);
        if full.is_relative() {
            full = PathBuf::from(host.root_path()).join(full);
        }
        Ok(FileSink {
            path: full,
            append: props.get("append").and_then(Json::as_bool).unwrap_or(true),
            out: None,
        })
    }

    fn open(&mut self) -> Result<(), String> {
        if let Some(dir) = self.path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        }
        let f = OpenOptions::new()
            .create(true)
            .append(self.append)
            .write(true)
            .truncate(!self.append)
            .open(&self.path)
            .map_err(|e| format!("{}: {e}", self.path.display()))?;
        self.out = Some(BufWriter::new(f));
        Ok(())
    }

    fn collect(&mut self, rows: &[Fields<'_>]) -> Result<(), String> {
        let out = self.out.as_mut().ok_or("fileSink is not open")?;
        for row in rows {
            let obj: Map<String, Json> = row
                .iter()
                .map(|(k, v)| (k.to_string(), to_json(v)))
                .collect();
            serde_json::to_writer(&mut *out, &obj).map_err(|e| e.to_string())?;
            out.write_all(b"\n").map_err(|e| e.to_string())?;
        }
        // Each batch reaches the file before the host is told it was delivered.
        out.flush()
            .map_err(|e| format!("{}: {e}", self.path.display()))
    }

    fn close(&mut self) -> Result<(), String> {
        if let Some(mut out) = self.out.take() {
            out.flush()
                .map_err(|e| format!("{}: {e}", self.path.display()))?;
        }
        Ok(())
    }
}

export_sink_plugin!(FileSink, FileSink);
