//! What a guest writes to its stdout and stderr.
//!
//! A guest's failure ends the same way in every language: a Rust `panic!`, a Python
//! exception and a JavaScript `throw` each print their text to stderr and then trap
//! on `unreachable`. Thrown away, that text leaves the author with "wasm
//! `unreachable` instruction executed" and nothing else. So each line a guest writes
//! goes into the host log, tagged with its plugin, rule and instance (stdout at info,
//! stderr at warn), and the instance keeps its last lines so that a trap's error
//! ([`GuestOutput::with_last_words`]) says what the guest said before it died.

use bytes::Bytes;
use std::collections::VecDeque;
use std::sync::{Arc, Mutex, MutexGuard};
use tributary_plugin::InstanceInfo;
use wasmtime_wasi::cli::{IsTerminal, StdoutStream};
use wasmtime_wasi::p2::{OutputStream, Pollable, StreamResult};

/// Lines kept for a trap's error: a Rust panic is three, the end of a Python
/// traceback names the frame and the exception.
const KEPT_LINES: usize = 8;
/// The most of them an error carries: the latest bytes are kept.
const KEPT_BYTES: usize = 1024;
/// A line longer than this is logged in pieces, so a guest that writes without
/// newlines cannot grow the host's buffer without bound.
const LINE_MAX: usize = 4096;

/// One instance's stdout and stderr: clones share the kept lines.
#[derive(Clone)]
pub struct GuestOutput {
    shared: Arc<Mutex<Kept>>,
    tags: Arc<Tags>,
}

struct Tags {
    plugin: String,
    kind: &'static str,
    rule: String,
    instance: String,
}

#[derive(Default)]
struct Kept {
    lines: VecDeque<String>,
    /// The unfinished line of each stream (stdout, stderr).
    partial: [Vec<u8>; 2],
}

/// Which of the two streams a writer is.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Stream {
    Stdout = 0,
    Stderr = 1,
}

impl GuestOutput {
    pub fn new(info: &InstanceInfo) -> Self {
        GuestOutput {
            shared: Arc::default(),
            tags: Arc::new(Tags {
                plugin: info.plugin.clone(),
                kind: info.kind(),
                rule: info.rule_id.clone(),
                instance: info.instance_id.clone(),
            }),
        }
    }

    /// The writer WASI gives the guest as `stream`.
    pub fn writer(&self, stream: Stream) -> GuestWriter {
        GuestWriter {
            out: self.clone(),
            stream,
        }
    }

    fn kept(&self) -> MutexGuard<'_, Kept> {
        // A writer that panicked mid-line leaves whole lines behind: still usable.
        self.shared.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn write(&self, stream: Stream, mut bytes: &[u8]) {
        let mut done = Vec::new();
        {
            let mut kept = self.kept();
            let partial = &mut kept.partial[stream as usize];
            while !bytes.is_empty() {
                let room = LINE_MAX - partial.len();
                let take = bytes
                    .iter()
                    .take(room)
                    .position(|b| *b == b'\n')
                    .map_or(bytes.len().min(room), |i| i + 1);
                partial.extend_from_slice(&bytes[..take]);
                bytes = &bytes[take..];
                if partial.last() == Some(&b'\n') || partial.len() >= LINE_MAX {
                    done.push(line_of(std::mem::take(partial)));
                }
            }
            // Blank lines (a Rust panic starts with one) say nothing.
            done.retain(|l| !l.trim().is_empty());
            for line in &done {
                if kept.lines.len() == KEPT_LINES {
                    kept.lines.pop_front();
                }
                kept.lines.push_back(line.clone());
            }
        }
        for line in done {
            self.log(stream, &line);
        }
    }

    fn log(&self, stream: Stream, line: &str) {
        let t = &self.tags;
        let (p, k, r, i) = (&t.plugin, t.kind, &t.rule, &t.instance);
        match stream {
            Stream::Stdout => {
                tracing::info!(plugin = %p, kind = %k, rule = %r, instance = %i, "stdout: {line}")
            }
            Stream::Stderr => {
                tracing::warn!(plugin = %p, kind = %k, rule = %r, instance = %i, "stderr: {line}")
            }
        }
    }

    /// The lines the guest wrote since the last call of this, unfinished lines too,
    /// joined by ` | `, at most [`KEPT_LINES`] lines and [`KEPT_BYTES`] (the latest kept).
    pub fn take_last_lines(&self) -> Option<String> {
        let mut kept = self.kept();
        let Kept { lines, partial } = &mut *kept;
        let mut all: Vec<String> = lines.drain(..).collect();
        for p in partial.iter_mut().filter(|p| !p.is_empty()) {
            let line = line_of(std::mem::take(p));
            if line.trim().is_empty() {
                continue;
            }
            self.log(Stream::Stderr, &line);
            all.push(line);
        }
        // One line, so that the error reads as one in a log, a status and a row.
        let text = all.join(" | ");
        if text.is_empty() {
            return None;
        }
        let cut = text.len().saturating_sub(KEPT_BYTES);
        let start = (cut..=text.len())
            .find(|i| text.is_char_boundary(*i))
            .unwrap_or(text.len());
        Some(if start == 0 {
            text
        } else {
            format!("…{}", &text[start..])
        })
    }

    /// `error` with the guest's last lines after it, if it wrote any.
    pub fn with_last_words(&self, error: String) -> String {
        match self.take_last_lines() {
            Some(words) => format!("{error}; the guest wrote: {words}"),
            None => error,
        }
    }
}

/// A finished line as text: without its newline, invalid UTF-8 replaced.
fn line_of(mut bytes: Vec<u8>) -> String {
    while matches!(bytes.last(), Some(b'\n' | b'\r')) {
        bytes.pop();
    }
    String::from_utf8_lossy(&bytes).into_owned()
}

/// One of an instance's two streams, as WASI's `stdout` / `stderr`.
#[derive(Clone)]
pub struct GuestWriter {
    out: GuestOutput,
    stream: Stream,
}

impl IsTerminal for GuestWriter {
    fn is_terminal(&self) -> bool {
        false
    }
}

impl StdoutStream for GuestWriter {
    fn p2_stream(&self) -> Box<dyn OutputStream> {
        Box::new(self.clone())
    }

    fn async_stream(&self) -> Box<dyn tokio::io::AsyncWrite + Send + Sync> {
        Box::new(self.clone())
    }
}

/// Always ready: a write only appends to memory and logs whole lines.
#[async_trait::async_trait]
impl Pollable for GuestWriter {
    async fn ready(&mut self) {}
}

impl OutputStream for GuestWriter {
    fn write(&mut self, bytes: Bytes) -> StreamResult<()> {
        self.out.write(self.stream, &bytes);
        Ok(())
    }

    fn flush(&mut self) -> StreamResult<()> {
        Ok(())
    }

    fn check_write(&mut self) -> StreamResult<usize> {
        Ok(LINE_MAX)
    }
}

impl tokio::io::AsyncWrite for GuestWriter {
    fn poll_write(
        self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
        buf: &[u8],
    ) -> std::task::Poll<std::io::Result<usize>> {
        self.out.write(self.stream, buf);
        std::task::Poll::Ready(Ok(buf.len()))
    }

    fn poll_flush(
        self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::task::Poll::Ready(Ok(()))
    }

    fn poll_shutdown(
        self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::task::Poll::Ready(Ok(()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn output() -> GuestOutput {
        GuestOutput::new(&InstanceInfo {
            plugin: "p".into(),
            rule_id: "r".into(),
            ..Default::default()
        })
    }

    #[test]
    fn a_trap_carries_the_lines_written_before_it_once() {
        let out = output();
        let mut err = out.writer(Stream::Stderr);
        err.write(Bytes::from_static(
            b"\nthread '<unnamed>' panicked at src/lib.rs:5:9:\npanicIf saw 3\n",
        ))
        .expect("write");
        assert_eq!(
            out.with_last_words("trap: unreachable".into()),
            "trap: unreachable; the guest wrote: thread '<unnamed>' panicked at src/lib.rs:5:9: | panicIf saw 3"
        );
        assert_eq!(out.with_last_words("again".into()), "again", "taken once");
    }

    #[test]
    fn lines_split_across_writes_and_streams_stay_whole() {
        let out = output();
        let (mut o, mut e) = (out.writer(Stream::Stdout), out.writer(Stream::Stderr));
        o.write(Bytes::from_static(b"hal")).expect("write");
        e.write(Bytes::from_static(
            b"Traceback (most recent call last):\n  File",
        ))
        .expect("write");
        o.write(Bytes::from_static(b"f\r\n")).expect("write");
        e.write(Bytes::from_static(
            b" \"app.py\"\nZeroDivisionError: division by zero",
        ))
        .expect("write");
        assert_eq!(
            out.take_last_lines().as_deref(),
            Some("Traceback (most recent call last): | half |   File \"app.py\" | ZeroDivisionError: division by zero")
        );
    }

    #[test]
    fn only_the_latest_lines_and_bytes_are_kept() {
        let out = output();
        let mut e = out.writer(Stream::Stderr);
        for i in 0..20 {
            e.write(Bytes::from(format!("line {i}\n"))).expect("write");
        }
        let kept = out.take_last_lines().expect("lines");
        assert_eq!(kept.split(" | ").count(), KEPT_LINES);
        assert!(
            kept.starts_with("line 12") && kept.ends_with("line 19"),
            "{kept}"
        );
        // One endless line: logged in pieces, the error keeps its end.
        e.write(Bytes::from("é".repeat(10_000))).expect("write");
        let kept = out.take_last_lines().expect("lines");
        assert!(kept.starts_with('…'), "cut from the front");
        assert!(kept.len() <= KEPT_BYTES + '…'.len_utf8(), "{}", kept.len());
    }
}
