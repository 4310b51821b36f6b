//! Turning the content of one file into messages, per the file source's `fileType`.
//!
//! Kept apart from the source's scheduling (`file_source.rs`) so that parsing can be
//! tested on strings, and reused by a scan table that loads a file at once.
//!
//! `json` and `csv` files yield structured messages. A `lines` file yields each line
//! as raw bytes, which the engine decodes by the stream's FORMAT (JSON lines,
//! delimited, binary), exactly as bytes from any other source: a line that does not
//! decode becomes an error in the rule, and the lines after it are still read, as in
//! eKuiper.

use std::sync::Arc;
use tributary_core::connector::Payload;
use tributary_core::{Object, Value};

/// How the file is laid out (`fileType`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum FileType {
    /// One JSON array of objects (or a single object).
    #[default]
    Json,
    /// One record per line, decoded by the stream FORMAT.
    Lines,
    /// Comma (or `delimiter`) separated values, optionally with a header line.
    Csv,
}

impl FileType {
    pub fn parse(s: &str) -> Result<FileType, String> {
        match s.trim().to_ascii_lowercase().as_str() {
            "json" => Ok(FileType::Json),
            "lines" => Ok(FileType::Lines),
            "csv" => Ok(FileType::Csv),
            other => Err(format!(
                "unknown fileType \"{other}\"; available: json, lines, csv"
            )),
        }
    }
}

/// Everything that decides how content becomes messages.
#[derive(Debug, Clone, PartialEq)]
pub struct ReadOptions {
    pub file_type: FileType,
    /// `csv`: the first (non-ignored) line names the columns.
    pub has_header: bool,
    /// `csv`: column names when there is no header.
    pub columns: Option<Vec<String>>,
    /// `csv`: the separator (default `,`).
    pub delimiter: String,
    /// Non-empty lines dropped at the start and at the end of the file.
    pub ignore_start_lines: usize,
    pub ignore_end_lines: usize,
}

impl Default for ReadOptions {
    fn default() -> Self {
        ReadOptions {
            file_type: FileType::Json,
            has_header: false,
            columns: None,
            delimiter: crate::format::DEFAULT_DELIMITER.to_string(),
            ignore_start_lines: 0,
            ignore_end_lines: 0,
        }
    }
}

/// Parses a file's content into message payloads. A whole-file error (malformed
/// JSON array, broken CSV quoting, text that is not UTF-8) is returned as `Err`; the
/// caller adds the file name.
pub fn read_payloads(content: &[u8], opts: &ReadOptions) -> Result<Vec<Payload>, String> {
    let trimmed;
    let content = if opts.ignore_start_lines > 0 || opts.ignore_end_lines > 0 {
        trimmed = ignore_lines(content, opts.ignore_start_lines, opts.ignore_end_lines);
        trimmed.as_slice()
    } else {
        content
    };
    match opts.file_type {
        FileType::Lines => Ok(lines(content)
            .filter(|l| !l.trim_ascii().is_empty())
            .map(|l| Payload::Bytes(l.to_vec()))
            .collect()),
        FileType::Json => {
            if content.trim_ascii().is_empty() {
                return Ok(Vec::new());
            }
            Ok(crate::format::decode_json(content)?
                .into_iter()
                .map(|o| Payload::Object(Arc::new(o)))
                .collect())
        }
        FileType::Csv => {
            let text = std::str::from_utf8(content).map_err(|e| {
                format!("csv content is not valid UTF-8 at byte {}", e.valid_up_to())
            })?;
            Ok(read_csv(text, opts)?
                .into_iter()
                .map(|o| Payload::Object(Arc::new(o)))
                .collect())
        }
    }
}

/// The lines of `content`, without their `\n` or `\r\n`.
fn lines(content: &[u8]) -> impl Iterator<Item = &[u8]> {
    content
        .split(|b| *b == b'\n')
        .map(|l| l.strip_suffix(b"\r").unwrap_or(l))
}

/// Drops the first `start` and the last `end` lines. Empty lines are dropped too and
/// not counted, as eKuiper documents for `ignoreStartLines`/`ignoreEndLines`.
fn ignore_lines(content: &[u8], start: usize, end: usize) -> Vec<u8> {
    let kept: Vec<&[u8]> = lines(content)
        .filter(|l| !l.trim_ascii().is_empty())
        .collect();
    let stop = kept.len().saturating_sub(end);
    if start >= stop {
        return Vec::new();
    }
    kept[start..stop].join(&b'\n')
}

/// Reads CSV with eKuiper's settings: leading spaces of a field trimmed, records may
/// have any number of fields, quotes as in RFC 4180. Without header or `columns`, the
/// fields are named `cols0`, `cols1`, … (eKuiper's names for CSV files; the
/// `delimited` format uses `col0`).
fn read_csv(content: &str, opts: &ReadOptions) -> Result<Vec<Object>, String> {
    let delimiter = match opts.delimiter.as_bytes() {
        [] => b',',
        [b] if b.is_ascii() => *b,
        _ => {
            return Err(format!(
                "csv delimiter must be a single ASCII character, got {:?}",
                opts.delimiter
            ))
        }
    };
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .has_headers(false)
        .flexible(true)
        .from_reader(content.as_bytes());
    let mut columns: Option<Vec<String>> = opts.columns.clone().filter(|c| !c.is_empty());
    let mut rows = Vec::new();
    let mut header_pending = opts.has_header;
    for (n, record) in reader.records().enumerate() {
        let record = record.map_err(|e| format!("csv record {}: {e}", n + 1))?;
        let fields: Vec<&str> = record.iter().map(str::trim_start).collect();
        if header_pending {
            columns = Some(fields.iter().map(|s| s.to_string()).collect());
            header_pending = false;
            continue;
        }
        let mut obj = Object::new();
        match &columns {
            Some(cols) => {
                for (name, value) in cols.iter().zip(&fields) {
                    obj.insert(name.clone(), Value::str(value));
                }
            }
            None => {
                for (i, value) in fields.iter().enumerate() {
                    obj.insert(format!("cols{i}"), Value::str(value));
                }
            }
        }
        rows.push(obj);
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts(file_type: FileType) -> ReadOptions {
        ReadOptions {
            file_type,
            ..ReadOptions::default()
        }
    }

    fn objects(payloads: Vec<Payload>) -> Vec<Object> {
        payloads
            .into_iter()
            .map(|p| match p {
                Payload::Object(o) => (*o).clone(),
                other => panic!("unexpected payload {other:?}"),
            })
            .collect()
    }

    fn read(content: &str, o: &ReadOptions) -> Vec<Object> {
        objects(read_payloads(content.as_bytes(), o).expect("read"))
    }

    #[test]
    fn json_array_file() {
        let rows = read(
            "[\n {\"id\": 1, \"name\": \"John\"},\n {\"id\": 2, \"name\": \"Jane\"}\n]",
            &opts(FileType::Json),
        );
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[1].get("name"), Some(&Value::str("Jane")));
        let err = read_payloads(b"[{\"id\": 1},", &opts(FileType::Json)).expect_err("bad");
        assert!(err.starts_with("invalid JSON at line 1"), "{err}");
    }

    #[test]
    fn lines_become_raw_payloads() {
        let got = read_payloads(
            b"{\"a\":1}\n\nnot json\r\n{\"a\":2}\n",
            &opts(FileType::Lines),
        )
        .expect("lines");
        assert_eq!(
            got,
            vec![
                Payload::Bytes(b"{\"a\":1}".to_vec()),
                Payload::Bytes(b"not json".to_vec()),
                Payload::Bytes(b"{\"a\":2}".to_vec()),
            ]
        );
    }

    #[test]
    fn csv_with_header_and_space_delimiter() {
        let o = ReadOptions {
            has_header: true,
            delimiter: " ".into(),
            ..opts(FileType::Csv)
        };
        let rows = read("id name age\n1 John 56\n2 Jane 34\n", &o);
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].get("name"), Some(&Value::str("John")));
        assert_eq!(rows[1].get("age"), Some(&Value::str("34")));
    }

    #[test]
    fn csv_without_header_uses_columns_or_cols_n() {
        let rows = read("1,\"a,b\", x\n", &opts(FileType::Csv));
        assert_eq!(rows[0].get("cols0"), Some(&Value::str("1")));
        assert_eq!(rows[0].get("cols1"), Some(&Value::str("a,b")));
        assert_eq!(rows[0].get("cols2"), Some(&Value::str("x")));
        let o = ReadOptions {
            columns: Some(vec!["id".into(), "name".into()]),
            ..opts(FileType::Csv)
        };
        let rows = read("1,x,extra\n2\n", &o);
        assert_eq!(rows[0].len(), 2);
        assert_eq!(rows[1].get("id"), Some(&Value::str("2")));
        assert_eq!(rows[1].get("name"), None);
    }

    #[test]
    fn ignore_start_and_end_lines() {
        let o = ReadOptions {
            has_header: true,
            ignore_start_lines: 2,
            ignore_end_lines: 1,
            ..opts(FileType::Csv)
        };
        let content = "# exported\n\n# by tool\nid,name\n1,a\n2,b\n# total 2\n\n";
        let rows = read(content, &o);
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[1].get("name"), Some(&Value::str("b")));
        // More ignored lines than there are: nothing, no error.
        let o = ReadOptions {
            ignore_start_lines: 10,
            ..opts(FileType::Lines)
        };
        assert!(read_payloads(b"{}\n{}", &o).expect("lines").is_empty());
    }

    #[test]
    fn csv_errors() {
        let o = ReadOptions {
            delimiter: "::".into(),
            ..opts(FileType::Csv)
        };
        assert!(read_payloads(b"a::b", &o)
            .expect_err("delimiter")
            .contains("single ASCII character"));
        assert_eq!(
            read_payloads(&[b'a', 0xff], &opts(FileType::Csv)).expect_err("utf8"),
            "csv content is not valid UTF-8 at byte 1"
        );
    }
}
