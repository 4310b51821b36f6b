//! The `jsonl` source: the lines of a JSON-lines file, as a stream or as a lookup
//! table.
//!
//! `DATASOURCE` is the file, absolute or relative to the engine root
//! (`context.root-path`); its manifest (`jsonl.json`) asks to read `data`, so that is
//! where files may be once the operator grants it. Props: `{"interval": 1000}`, how
//! often (ms) to look for lines appended to the file; 0 reads it once and ends.
//!
//! The file is its "connection": while it cannot be opened the source reports itself
//! disconnected (the rule's `source_<stream>_0_connection_status` is -1) and tries
//! again every interval; once open, connected (1).
//!
//! - As a stream it hands over each line as a message, and its offset is the byte
//!   position after the last line handed over: a rule under `qos` >= 1 resumes from
//!   its checkpoint, reading on from there.
//! - As a lookup table (`KIND="lookup"`) it answers the lines whose fields equal the
//!   keys asked for, reading the file again for each lookup (the host's
//!   `lookup.cache` saves the reads).

use serde_json::Value as Json;
use std::cell::{Cell, RefCell};
use std::fs::File;
use std::io::{BufRead, BufReader, Seek, SeekFrom};
use std::path::PathBuf;
use tributary_guest::*;

struct Jsonl;

impl SourcePlugin for Jsonl {
    type Instance = JsonlSource;

    fn describe() -> SourceInfo {
        SourceInfo {
            rewindable: true,
            lookup: true,
        }
    }
}

struct JsonlSource {
    path: PathBuf,
    interval: Result<u32, String>,
    /// Bytes of the file handed over so far.
    position: Cell<u64>,
    reader: RefCell<Option<BufReader<File>>>,
}

fn interval_of(props: &str) -> Result<u32, String> {
    let v: Json = serde_json::from_str(props).map_err(|e| format!("jsonl props: {e}"))?;
    let Json::Object(o) = v else {
        return Err("jsonl props must be an object".into());
    };
    let mut interval = 1000;
    for (k, v) in o {
        match (k.as_str(), v.as_u64()) {
            ("interval", Some(n)) if n <= u32::MAX as u64 => interval = n as u32,
            ("interval", _) => {
                return Err(format!("jsonl: interval must be milliseconds, not {v}"))
            }
            (other, _) => return Err(format!("jsonl: unknown prop {other:?} (it knows interval)")),
        }
    }
    Ok(interval)
}

/// One line as fields, or why it is not a JSON object.
fn fields(line: &str) -> Result<Vec<Field>, String> {
    json::row_from_text(line).map_err(|e| format!("jsonl: the line {line:?} is {e}"))
}

/// Key equality as SQL's `=`: numbers compare by value.
fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Int(x), Value::Float(y)) | (Value::Float(y), Value::Int(x)) => *x as f64 == *y,
        _ => a == b,
    }
}

impl JsonlSource {
    /// The open file, opened (and positioned) when it is not yet; the connection
    /// status follows.
    fn reader(&self) -> Result<std::cell::RefMut<'_, Option<BufReader<File>>>, String> {
        let mut r = self.reader.borrow_mut();
        if r.is_none() {
            let opened = File::open(&self.path).and_then(|mut f| {
                f.seek(SeekFrom::Start(self.position.get()))?;
                Ok(f)
            });
            match opened {
                Ok(f) => {
                    *r = Some(BufReader::new(f));
                    context::set_connection(context::Connection::Connected, "");
                }
                Err(e) => {
                    let why = format!("cannot open {}: {e}", self.path.display());
                    context::set_connection(context::Connection::Disconnected, &why);
                }
            }
        }
        Ok(r)
    }
}

impl SourceInstance for JsonlSource {
    fn new(datasource: String, props: String) -> Self {
        let path = PathBuf::from(&datasource);
        let path = if path.is_absolute() {
            path
        } else {
            PathBuf::from(context::root_path()).join(path)
        };
        JsonlSource {
            path,
            interval: interval_of(&props),
            position: Cell::new(0),
            reader: RefCell::new(None),
        }
    }

    fn open(&self) -> Result<(), String> {
        self.interval.clone()?;
        context::set_connection(context::Connection::Connecting, "");
        Ok(())
    }

    fn pull(&self, max: u32) -> Result<Pulled, String> {
        let interval = self.interval.clone()?;
        let mut reader = self.reader()?;
        let Some(r) = reader.as_mut() else {
            // Read once: a missing file is an error; otherwise try again later.
            if interval == 0 {
                return Err(format!("jsonl: cannot open {}", self.path.display()));
            }
            return Ok(Pulled {
                messages: vec![],
                done: false,
                wait_ms: interval,
            });
        };
        let mut messages = Vec::new();
        let mut line = String::new();
        while messages.len() < max as usize {
            line.clear();
            let n = r
                .read_line(&mut line)
                .map_err(|e| format!("jsonl: {}: {e}", self.path.display()))?;
            // A line without its newline is still being written: read it next time
            // (unless the file is read once: then it is the last line).
            if n == 0 || (!line.ends_with('\n') && interval > 0) {
                r.seek_relative(-(n as i64))
                    .map_err(|e| format!("jsonl: {e}"))?;
                break;
            }
            self.position.set(self.position.get() + n as u64);
            if line.trim().is_empty() {
                continue;
            }
            messages.push(Message {
                payload: Payload::Fields(fields(line.trim_end())?),
                meta: vec![],
            });
        }
        let caught_up = messages.len() < max as usize;
        Ok(Pulled {
            messages,
            done: caught_up && interval == 0,
            wait_ms: if caught_up { interval } else { 0 },
        })
    }

    fn close(&self) {
        self.reader.borrow_mut().take();
    }

    fn offset(&self) -> Option<String> {
        Some(self.position.get().to_string())
    }

    fn rewind(&self, offset: String) -> Result<(), String> {
        let at = offset
            .parse::<u64>()
            .map_err(|_| format!("jsonl: offset {offset:?} is not a byte position"))?;
        self.position.set(at);
        self.reader.borrow_mut().take();
        Ok(())
    }

    fn lookup(
        &self,
        wanted: Vec<String>,
        keys: Vec<String>,
        values: Vec<Value>,
    ) -> Result<Vec<Vec<Field>>, String> {
        let f = File::open(&self.path)
            .map_err(|e| format!("jsonl: cannot open {}: {e}", self.path.display()))?;
        let mut out = Vec::new();
        for line in BufReader::new(f).lines() {
            let line = line.map_err(|e| format!("jsonl: {}: {e}", self.path.display()))?;
            if line.trim().is_empty() {
                continue;
            }
            let row = fields(&line)?;
            let hit = keys
                .iter()
                .zip(&values)
                .all(|(k, v)| row.iter().any(|f| &f.name == k && same(&f.value, v)));
            if hit {
                out.push(if wanted.is_empty() {
                    row
                } else {
                    row.into_iter()
                        .filter(|f| wanted.contains(&f.name))
                        .collect()
                });
            }
        }
        Ok(out)
    }
}

tributary_guest::export_source_plugin!(Jsonl);
