//! eKuiper's file sink: writes each emission to a file, as `lines` (one emission per
//! line), `json` (one JSON array of emissions) or `csv` (delimited rows, optionally
//! under a header line).
//!
//! Output is byte-compatible with eKuiper: the file is created (truncated) at the
//! first emission, separators go between emissions (no trailing newline), the JSON
//! array is closed and the buffer flushed on `close` or when the file rolls over.
//! Rolling by count and by age is supported; the age is checked at each emission and
//! at `close` (eKuiper also checks on a timer, so an idle file may roll later here).

use crate::file_read::FileType;
use crate::format::Format;
use crate::props::PropReader;
use std::fs::File;
use std::io::{BufWriter, Seek, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tributary_core::connector::{BoxFuture, ConnectorContext, Props, Sink, SinkData};
use tributary_core::{Clock, Error, Object, Result, Value};

/// Where the creation timestamp goes in a rolled file's name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RollingNamePattern {
    None,
    Prefix,
    Suffix,
}

#[derive(Debug, Clone, PartialEq)]
pub struct FileSinkConfig {
    pub path: PathBuf,
    pub file_type: FileType,
    pub has_header: bool,
    pub delimiter: String,
    /// How a row becomes text: `json`, or `delimited` (always for `csv`).
    pub format: Format,
    /// Column order for `delimited` output and the csv header (`fields`).
    pub fields: Option<Vec<String>>,
    pub rolling_interval_ms: u64,
    pub rolling_count: u64,
    pub rolling_name_pattern: RollingNamePattern,
}

/// eKuiper's default `rollingCount`.
pub const DEFAULT_ROLLING_COUNT: u64 = 1_000_000;

impl FileSinkConfig {
    pub fn from_props(props: &Props, root: &Path) -> Result<Self> {
        let r = PropReader::new(props, "file sink");
        let path = r.string("path")?.unwrap_or_else(|| "cache".into());
        if path.is_empty() {
            return Err(r.rejected("path", "must be set"));
        }
        if path.contains("{{") {
            return Err(r.rejected("path", "dynamic file names (templates) are not supported"));
        }
        let file_type = match r.string("fileType")? {
            None => FileType::Lines,
            Some(s) => FileType::parse(&s).map_err(|e| r.rejected("fileType", e))?,
        };
        let format = match r.string("format")? {
            None if file_type == FileType::Csv => Format::Delimited,
            None => Format::Json,
            Some(s) => Format::parse(&s).map_err(|e| r.rejected("format", e))?,
        };
        if format == Format::Binary {
            return Err(r.rejected("format", "binary is not supported by the file sink"));
        }
        if file_type == FileType::Csv && format != Format::Delimited {
            return Err(r.rejected("format", "must be delimited when fileType is csv"));
        }
        let rolling_interval_ms = r.duration_ms("rollingInterval")?.unwrap_or(0);
        let rolling_count = r
            .non_negative("rollingCount")?
            .unwrap_or(DEFAULT_ROLLING_COUNT);
        if rolling_interval_ms == 0 && rolling_count == 0 {
            return Err(r.rejected(
                "rollingCount",
                "one of rollingInterval and rollingCount must be set",
            ));
        }
        // Accepted for compatibility; the age is checked at each emission instead.
        r.duration_ms("checkInterval")?;
        r.duration_ms("interval")?;
        let rolling_name_pattern = match r.string("rollingNamePattern")?.as_deref() {
            None | Some("") | Some("none") => RollingNamePattern::None,
            Some("prefix") => RollingNamePattern::Prefix,
            Some("suffix") => RollingNamePattern::Suffix,
            Some(other) => {
                return Err(r.rejected(
                    "rollingNamePattern",
                    format!("must be one of prefix, suffix or none, got \"{other}\""),
                ))
            }
        };
        if let Some(c) = r.string("compression")?.filter(|s| !s.is_empty()) {
            return Err(r.rejected("compression", format!("\"{c}\" is not supported")));
        }
        let path = Path::new(&path);
        Ok(FileSinkConfig {
            path: if path.is_absolute() {
                path.to_path_buf()
            } else {
                root.join(path)
            },
            file_type,
            has_header: r.bool("hasHeader")?.unwrap_or(false),
            delimiter: r
                .string("delimiter")?
                .filter(|s| !s.is_empty())
                .unwrap_or_else(|| ",".into()),
            format,
            fields: r.string_list("fields")?.filter(|f| !f.is_empty()),
            rolling_interval_ms,
            rolling_count,
            rolling_name_pattern,
        })
    }
}

/// The file currently written to.
#[derive(Debug)]
struct OpenFile {
    writer: BufWriter<File>,
    path: PathBuf,
    opened_ms: i64,
    count: u64,
    written: bool,
    /// Bytes written to the file so far (header included).
    len: u64,
}

#[derive(Debug)]
pub struct FileSink {
    config: FileSinkConfig,
    clock: Arc<dyn Clock>,
    current: Option<OpenFile>,
    /// Delimited column order, fixed by `fields` or by the first row (as eKuiper's
    /// converter does), so every line lines up with the header.
    columns: Option<Vec<String>>,
}

impl FileSink {
    pub fn new(props: &Props, ctx: &ConnectorContext) -> Result<Self> {
        Ok(FileSink::from_config(
            FileSinkConfig::from_props(props, &ctx.root)?,
            ctx,
        ))
    }

    pub fn from_config(config: FileSinkConfig, ctx: &ConnectorContext) -> Self {
        FileSink {
            columns: config.fields.clone(),
            config,
            clock: ctx.clock.clone(),
            current: None,
        }
    }

    /// The path of the file being written, if one is open.
    pub fn current_path(&self) -> Option<&Path> {
        self.current.as_ref().map(|f| f.path.as_path())
    }

    /// The text of one emission.
    fn encode(&mut self, data: &SinkData) -> Result<String> {
        match data {
            SinkData::Text(t) => Ok(t.clone()),
            structured if self.config.format == Format::Delimited => match structured.to_value() {
                Value::Object(o) => Ok(self.delimited_row(&o)),
                Value::Array(items) => {
                    let mut lines = Vec::with_capacity(items.len());
                    for item in items.iter() {
                        match item {
                            Value::Object(o) => lines.push(self.delimited_row(o)),
                            other => return Err(not_a_row(other)),
                        }
                    }
                    Ok(lines.join("\n"))
                }
                other => Err(not_a_row(&other)),
            },
            _ => Ok(data.to_text()),
        }
    }

    /// One delimited line; a missing or null value prints as Go's `<nil>`.
    fn delimited_row(&mut self, row: &Object) -> String {
        let columns = self
            .columns
            .get_or_insert_with(|| row.keys().cloned().collect());
        columns
            .iter()
            .map(|c| match row.get(c) {
                None | Some(Value::Null) => "<nil>".to_string(),
                Some(v) => v.to_string(),
            })
            .collect::<Vec<_>>()
            .join(&self.config.delimiter)
    }

    /// The file name for a file opened now.
    fn next_path(&self) -> PathBuf {
        let path = &self.config.path;
        let now = self.clock.now_ms();
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let name = match self.config.rolling_name_pattern {
            RollingNamePattern::None => return path.clone(),
            RollingNamePattern::Prefix => format!("{now}-{name}"),
            RollingNamePattern::Suffix => match name.rsplit_once('.') {
                Some((stem, ext)) if !stem.is_empty() => format!("{stem}-{now}.{ext}"),
                _ => format!("{name}-{now}"),
            },
        };
        path.with_file_name(name)
    }

    fn open(&mut self) -> Result<OpenFile> {
        let path = self.next_path();
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| {
                Error::external(format!("fail to create file {}: {e}", path.display()))
            })?;
        }
        let file = File::create(&path)
            .map_err(|e| Error::external(format!("fail to create file {}: {e}", path.display())))?;
        let mut open = OpenFile {
            writer: BufWriter::new(file),
            path,
            opened_ms: self.clock.now_ms(),
            count: 0,
            written: false,
            len: 0,
        };
        let header = match self.config.file_type {
            FileType::Json => "[".to_string(),
            FileType::Csv if self.config.has_header => match &self.columns {
                Some(cols) if !cols.is_empty() => {
                    format!("{}\n", cols.join(&self.config.delimiter))
                }
                _ => String::new(),
            },
            _ => String::new(),
        };
        write_all(&mut open, header.as_bytes())?;
        Ok(open)
    }

    /// Writes the footer, flushes and closes the current file.
    fn finish(&mut self) -> Result<()> {
        if let Some(mut open) = self.current.take() {
            if self.config.file_type == FileType::Json {
                write_all(&mut open, b"]")?;
            }
            open.writer.flush().map_err(|e| {
                Error::external(format!("fail to flush file {}: {e}", open.path.display()))
            })?;
            open.writer.get_ref().sync_all().map_err(|e| {
                Error::external(format!("fail to sync file {}: {e}", open.path.display()))
            })?;
        }
        Ok(())
    }

    fn write(&mut self, data: &SinkData) -> Result<()> {
        let interval = i64::try_from(self.config.rolling_interval_ms).unwrap_or(i64::MAX);
        if let Some(open) = &self.current {
            if interval > 0 && self.clock.now_ms() - open.opened_ms > interval {
                self.finish()?;
            }
        }
        let text = self.encode(data)?;
        let mut open = match self.current.take() {
            Some(open) => open,
            None => self.open()?,
        };
        let separator: &[u8] = match self.config.file_type {
            FileType::Json => b",",
            FileType::Lines | FileType::Csv => b"\n",
        };
        let result = append(&mut open, separator, text.as_bytes());
        let full = self.config.rolling_count > 0 && open.count >= self.config.rolling_count;
        self.current = Some(open);
        result?;
        if full {
            self.finish()?;
        }
        Ok(())
    }
}

fn not_a_row(v: &Value) -> Error {
    Error::user(format!(
        "file sink: delimited output needs an object or a list of objects, got {}",
        v.type_name()
    ))
}

/// Writes one emission, preceded by the separator unless it is the file's first.
fn append(open: &mut OpenFile, separator: &[u8], text: &[u8]) -> Result<()> {
    if open.written {
        write_all(open, separator)?;
    }
    write_all(open, text)?;
    open.written = true;
    open.count += 1;
    Ok(())
}

fn write_all(open: &mut OpenFile, bytes: &[u8]) -> Result<()> {
    open.writer
        .write_all(bytes)
        .map_err(|e| Error::external(format!("fail to write file {}: {e}", open.path.display())))?;
    open.len += bytes.len() as u64;
    Ok(())
}

impl FileSink {
    /// Reopens the checkpointed file, cut back to its checkpointed length.
    fn reopen(&mut self, position: &Value) -> Result<()> {
        let bad = || Error::internal(format!("file sink: bad checkpoint position {position}"));
        let Value::Object(p) = position else {
            return Err(bad());
        };
        let (Some(Value::String(path)), Some(Value::Int(len)), Some(Value::Int(count))) =
            (p.get("path"), p.get("len"), p.get("count"))
        else {
            return Err(bad());
        };
        let path = PathBuf::from(&**path);
        let len = u64::try_from(*len).map_err(|_| bad())?;
        let file = match std::fs::OpenOptions::new().write(true).open(&path) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                tracing::warn!(path = %path.display(), "file sink: the checkpointed file is gone; starting a new one");
                return Ok(());
            }
            Err(e) => {
                return Err(Error::external(format!(
                    "fail to open file {}: {e}",
                    path.display()
                )))
            }
        };
        // What was written after the checkpoint is written again by the replay.
        file.set_len(len)
            .and_then(|_| (&file).seek(std::io::SeekFrom::End(0)))
            .map_err(|e| Error::external(format!("fail to rewind file {}: {e}", path.display())))?;
        self.current = Some(OpenFile {
            writer: BufWriter::new(file),
            path,
            opened_ms: self.clock.now_ms(),
            count: u64::try_from(*count).unwrap_or(0),
            written: matches!(p.get("written"), Some(Value::Bool(true))),
            len,
        });
        Ok(())
    }
}

impl Sink for FileSink {
    fn collect<'a>(&'a mut self, data: &'a SinkData) -> BoxFuture<'a, Result<()>> {
        let result = self.write(data);
        Box::pin(async move { result })
    }

    fn flush(&mut self) -> BoxFuture<'_, Result<()>> {
        let result = match self.current.as_mut() {
            None => Ok(()),
            Some(open) => open
                .writer
                .flush()
                .and_then(|_| open.writer.get_ref().sync_data())
                .map_err(|e| {
                    Error::external(format!("fail to flush file {}: {e}", open.path.display()))
                }),
        };
        Box::pin(async move { result })
    }

    fn position(&self) -> Option<Value> {
        let open = self.current.as_ref()?;
        let mut o = Object::new();
        o.insert("path".into(), Value::str(open.path.to_string_lossy()));
        o.insert(
            "len".into(),
            Value::Int(i64::try_from(open.len).unwrap_or(i64::MAX)),
        );
        o.insert(
            "count".into(),
            Value::Int(i64::try_from(open.count).unwrap_or(i64::MAX)),
        );
        o.insert("written".into(), Value::Bool(open.written));
        Some(Value::object(o))
    }

    fn resume(&mut self, position: &Value) -> Result<()> {
        self.reopen(position)
    }

    fn close(&mut self) -> BoxFuture<'_, Result<()>> {
        let result = self.finish();
        Box::pin(async move { result })
    }
}

#[cfg(test)]
#[path = "file_sink_tests.rs"]
mod tests;
