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

use serde_json::Value as Json;
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

/// One row as one line (keys sorted, as the host's own file sink writes them).
fn line(row: Vec<Field>) -> String {
    let mut text = json::row_to_text(row);
    text.push('\n');
    text
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
            text.push_str(&line(row));
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
