//! eKuiper's file source: reads a file, or every file of a directory in name order,
//! and emits its rows; once (`interval` 0, then `run` returns) or again every
//! `interval` ms.
//!
//! The file is `<path>/<DATASOURCE>`, `path` being absolute or relative to the engine
//! root. Rows go out in batches of up to [`BATCH_SIZE`] (one by one when
//! `sendInterval` is set), each with meta `{"file": "<path of the file>"}`: as
//! structured messages for `json` and `csv` files, as raw bytes (one line each, for
//! the engine to decode by the stream FORMAT) for `lines` files.
//!
//! The source is rewindable: it counts the rows of the current pass in a
//! [`SourceOffset`] and, created with a non-zero offset, skips that many rows of its
//! first pass.

use crate::file_read::{read_payloads, FileType, ReadOptions};
use crate::offset::SourceOffset;
use crate::props::PropReader;
use crate::sleep::{Sleeper, TokioSleeper};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tributary_core::connector::{
    BoxFuture, ConnectorContext, Payload, Props, Source, SourceMessage, SourceSender,
};
use tributary_core::{Clock, Error, Meta, Object, Result, Value};

/// Most rows sent in one batch.
pub const BATCH_SIZE: usize = 1024;

/// The directory used when the conf sets no `path` (eKuiper's shipped default).
pub const DEFAULT_PATH: &str = "data";

/// What to do with a file once all its rows are sent (`actionAfterRead`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AfterRead {
    Keep,
    Delete,
    MoveTo(PathBuf),
}

/// The resolved configuration.
#[derive(Debug, Clone, PartialEq)]
pub struct FileSourceConfig {
    /// The file or directory to read.
    pub target: PathBuf,
    pub interval_ms: u64,
    pub send_interval_ms: u64,
    pub after_read: AfterRead,
    pub read: ReadOptions,
}

impl FileSourceConfig {
    /// Reads the props (see `docs/connectors.md`). Relative paths are resolved
    /// against `root`. The target must exist.
    pub fn from_props(datasource: &str, props: &Props, root: &Path) -> Result<Self> {
        let r = PropReader::new(props, "file source");
        let file_type = match r.string("fileType")? {
            None => FileType::Json,
            Some(s) => FileType::parse(&s).map_err(|e| r.rejected("fileType", e))?,
        };
        let dir = resolve(
            root,
            &r.string("path")?.unwrap_or_else(|| DEFAULT_PATH.into()),
        );
        let target = if datasource.is_empty() {
            dir
        } else {
            dir.join(datasource)
        };
        if !target.exists() {
            return Err(Error::not_found(format!(
                "file {} not exist",
                target.display()
            )));
        }
        let after_read = match r.int("actionAfterRead")?.unwrap_or(0) {
            0 => AfterRead::Keep,
            1 => AfterRead::Delete,
            2 => {
                let to = r
                    .string("moveTo")?
                    .filter(|s| !s.is_empty())
                    .ok_or_else(|| r.rejected("moveTo", "is required when actionAfterRead is 2"))?;
                let to = resolve(root, &to);
                if to.exists() && !to.is_dir() {
                    return Err(
                        r.rejected("moveTo", format!("{} is not a directory", to.display()))
                    );
                }
                std::fs::create_dir_all(&to).map_err(|e| {
                    Error::external(format!(
                        "fail to create dir for moveTo {}: {e}",
                        to.display()
                    ))
                })?;
                AfterRead::MoveTo(to)
            }
            other => {
                return Err(r.rejected(
                    "actionAfterRead",
                    format!("must be 0 (keep), 1 (delete) or 2 (move), got {other}"),
                ))
            }
        };
        for name in ["decompression", "decompress"] {
            if let Some(d) = r.string(name)?.filter(|s| !s.is_empty()) {
                return Err(r.rejected(name, format!("decompression \"{d}\" is not supported")));
            }
        }
        let count = |name: &str| -> Result<usize> {
            Ok(r.int(name)?
                .map(|n| usize::try_from(n).unwrap_or(0))
                .unwrap_or(0))
        };
        Ok(FileSourceConfig {
            target,
            interval_ms: r.duration_ms("interval")?.unwrap_or(0),
            send_interval_ms: r.duration_ms("sendInterval")?.unwrap_or(0),
            after_read,
            read: ReadOptions {
                file_type,
                has_header: r.bool("hasHeader")?.unwrap_or(false),
                columns: r.string_list("columns")?,
                delimiter: r
                    .string("delimiter")?
                    .filter(|s| !s.is_empty())
                    .unwrap_or_else(|| ",".into()),
                // eKuiper clamps negative counts to 0.
                ignore_start_lines: count("ignoreStartLines")?,
                ignore_end_lines: count("ignoreEndLines")?,
            },
        })
    }
}

/// `p` if absolute, else `root/p`.
fn resolve(root: &Path, p: &str) -> PathBuf {
    let p = Path::new(p);
    if p.is_absolute() {
        p.to_path_buf()
    } else {
        root.join(p)
    }
}

#[derive(Debug)]
pub struct FileSource {
    config: FileSourceConfig,
    clock: Arc<dyn Clock>,
    sleeper: Arc<dyn Sleeper>,
    offset: SourceOffset,
}

impl FileSource {
    pub fn new(datasource: &str, props: &Props, ctx: &ConnectorContext) -> Result<Self> {
        Ok(FileSource::from_config(
            FileSourceConfig::from_props(datasource, props, &ctx.root)?,
            ctx,
        ))
    }

    pub fn from_config(config: FileSourceConfig, ctx: &ConnectorContext) -> Self {
        FileSource {
            config,
            clock: ctx.clock.clone(),
            sleeper: Arc::new(TokioSleeper),
            offset: SourceOffset::default(),
        }
    }

    /// Waits with `sleeper` between rows and between passes.
    pub fn with_sleeper(mut self, sleeper: Arc<dyn Sleeper>) -> Self {
        self.sleeper = sleeper;
        self
    }

    /// Shares `offset`: the first pass skips `offset.get()` rows, and the count of
    /// rows sent is kept there.
    pub fn with_offset(mut self, offset: SourceOffset) -> Self {
        self.offset = offset;
        self
    }

    /// The shared row counter (clone it before `run` to checkpoint).
    pub fn offset(&self) -> SourceOffset {
        self.offset.clone()
    }

    pub fn config(&self) -> &FileSourceConfig {
        &self.config
    }

    /// The files of one pass: the target, or the files of the target directory
    /// sorted by name (subdirectories skipped).
    async fn files(&self) -> Result<Vec<PathBuf>> {
        let target = &self.config.target;
        if !target.is_dir() {
            return Ok(if target.exists() {
                vec![target.clone()]
            } else {
                Vec::new()
            });
        }
        let mut entries = tokio::fs::read_dir(target)
            .await
            .map_err(|e| Error::external(format!("read dir {}: {e}", target.display())))?;
        let mut files = Vec::new();
        while let Some(entry) = entries
            .next_entry()
            .await
            .map_err(|e| Error::external(format!("read dir {}: {e}", target.display())))?
        {
            if entry
                .file_type()
                .await
                .map(|t| t.is_file())
                .unwrap_or(false)
            {
                files.push(entry.path());
            }
        }
        files.sort();
        Ok(files)
    }

    /// Reads and parses one file.
    async fn load(&self, file: &Path) -> Result<Vec<Payload>> {
        let bytes = tokio::fs::read(file)
            .await
            .map_err(|e| Error::external(format!("read file {}: {e}", file.display())))?;
        read_payloads(&bytes, &self.config.read)
            .map_err(|e| Error::user(format!("file {}: {e}", file.display())))
    }

    /// Sends `rows` (skipping the first `skip`); `false` when the rule stopped.
    async fn send_rows(
        &self,
        out: &SourceSender,
        rows: Vec<Payload>,
        meta: &Meta,
        skip: &mut u64,
    ) -> bool {
        let per_batch = if self.config.send_interval_ms > 0 {
            1
        } else {
            BATCH_SIZE
        };
        let mut batch = Vec::with_capacity(per_batch.min(rows.len()));
        for row in rows {
            if *skip > 0 {
                *skip -= 1;
                continue;
            }
            batch.push(SourceMessage {
                payload: row,
                meta: meta.clone(),
                timestamp: self.clock.now_ms(),
                stream: 0,
                position: None,
            });
            if batch.len() == per_batch {
                let n = batch.len() as u64;
                if !out.send(std::mem::take(&mut batch)).await {
                    return false;
                }
                self.offset.advance(n);
                if self.config.send_interval_ms > 0 {
                    self.sleeper.sleep(self.config.send_interval_ms).await;
                }
            }
        }
        let n = batch.len() as u64;
        if n > 0 {
            if !out.send(batch).await {
                return false;
            }
            self.offset.advance(n);
        }
        true
    }

    /// Deletes or moves a file that was read completely.
    async fn after_read(&self, file: &Path) {
        let result = match &self.config.after_read {
            AfterRead::Keep => return,
            AfterRead::Delete => tokio::fs::remove_file(file).await,
            AfterRead::MoveTo(dir) => match file.file_name() {
                Some(name) => tokio::fs::rename(file, dir.join(name)).await,
                None => return,
            },
        };
        if let Err(e) = result {
            tracing::warn!(
                "file source: action after reading {} failed: {e}",
                file.display()
            );
        }
    }

    /// One pass over the target. `Ok(false)` when the rule stopped.
    async fn pass(&self, out: &SourceSender, skip: &mut u64, first: bool) -> Result<bool> {
        let is_dir = self.config.target.is_dir();
        let files = self.files().await?;
        if files.is_empty() && !is_dir && first {
            return Err(Error::not_found(format!(
                "file {} not exist",
                self.config.target.display()
            )));
        }
        for file in files {
            let rows = match self.load(&file).await {
                Ok(rows) => rows,
                // In a directory one bad file does not stop the others (as in eKuiper).
                Err(e) if is_dir => {
                    tracing::warn!("file source: {e}");
                    continue;
                }
                Err(e) => return Err(e),
            };
            let mut meta = Object::new();
            meta.insert("file".into(), Value::str(file.to_string_lossy()));
            if !self.send_rows(out, rows, &Arc::new(meta), skip).await {
                return Ok(false);
            }
            self.after_read(&file).await;
        }
        Ok(true)
    }
}

impl Source for FileSource {
    fn run(self: Box<Self>, out: SourceSender) -> BoxFuture<'static, Result<()>> {
        Box::pin(async move {
            let mut skip = self.offset.get();
            let mut first = true;
            loop {
                if !self.pass(&out, &mut skip, first).await? {
                    return Ok(());
                }
                if self.config.interval_ms == 0 {
                    return Ok(());
                }
                first = false;
                self.sleeper.sleep(self.config.interval_ms).await;
                self.offset.set(0);
                skip = 0;
            }
        })
    }

    fn rewindable(&self) -> bool {
        true
    }
}

#[cfg(test)]
#[path = "file_source_tests.rs"]
mod tests;
