//! Turning the content of one file into rows, per the file source's `fileType`.
//!
//! Kept apart from the source's scheduling (`file_source.rs`) so that parsing can be
//! tested on strings, and reused by a scan table that loads a file at once.

use crate::format::{self, Format};
use tributary_core::{Object, Value};

/// How the file is laid out (`fileType`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum FileType {
    /// One JSON array of objects (or a single object).
    #[default]
    Json,
    /// One record per line, decoded by the stream FORMAT (JSON lines by default).
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

/// Everything that decides how content becomes rows.
#[derive(Debug, Clone, PartialEq)]
pub struct ReadOptions {
    pub file_type: FileType,
    /// `csv`: the first (non-ignored) line names the columns.
    pub has_header: bool,
    /// `csv` (and `lines` with `delimited`): column names when there is no header.
    pub columns: Option<Vec<String>>,
    /// `csv` and `delimited` lines: the separator (default `,`).
    pub delimiter: String,
    /// Non-empty lines dropped at the start and at the end of the file.
    pub ignore_start_lines: usize,
    pub ignore_end_lines: usize,
    /// `lines`: how each line is decoded (the stream FORMAT).
    pub format: Format,
}

impl Default for ReadOptions {
    fn default() -> Self {
        ReadOptions {
            file_type: FileType::Json,
            has_header: false,
            columns: None,
            delimiter: format::DEFAULT_DELIMITER.to_string(),
            ignore_start_lines: 0,
            ignore_end_lines: 0,
            format: Format::Json,
        }
    }
}

/// What reading a file produced: its rows, and the records that could not be decoded
/// (`lines` only; the rest of the file is still read, as in eKuiper).
#[derive(Debug, Default)]
pub struct ReadResult {
    pub rows: Vec<Object>,
    pub skipped: Vec<String>,
}

/// Parses a file's content. A whole-file error (malformed JSON array, broken CSV
/// quoting) is returned as `Err`; the caller adds the file name.
pub fn read_rows(content: &str, opts: &ReadOptions) -> Result<ReadResult, String> {
    let trimmed;
    let content = if opts.ignore_start_lines > 0 || opts.ignore_end_lines > 0 {
        trimmed = ignore_lines(content, opts.ignore_start_lines, opts.ignore_end_lines);
        trimmed.as_str()
    } else {
        content
    };
    match opts.file_type {
        FileType::Json => {
            if content.trim().is_empty() {
                return Ok(ReadResult::default());
            }
            Ok(ReadResult {
                rows: format::decode_json(content.as_bytes())?,
                skipped: Vec::new(),
            })
        }
        FileType::Lines => Ok(read_lines(content, opts)),
        FileType::Csv => read_csv(content, opts).map(|rows| ReadResult {
            rows,
            skipped: Vec::new(),
        }),
    }
}

/// Drops the first `start` and the last `end` lines. Empty lines are dropped too and
/// not counted, as eKuiper documents for `ignoreStartLines`/`ignoreEndLines`.
fn ignore_lines(content: &str, start: usize, end: usize) -> String {
    let lines: Vec<&str> = content
        .lines()
        .filter(|l| !l.trim().is_empty())
        .collect();
    let stop = lines.len().saturating_sub(end);
    if start >= stop {
        return String::new();
    }
    lines[start..stop].join("\n")
}

fn read_lines(content: &str, opts: &ReadOptions) -> ReadResult {
    let mut result = ReadResult::default();
    for (i, line) in content.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        match format::decode(
            line.as_bytes(),
            opts.format,
            &opts.delimiter,
            opts.columns.as_deref(),
        ) {
            Ok(rows) => result.rows.extend(rows),
            Err(e) => result.skipped.push(format!("line {}: {e}", i + 1)),
        }
    }
    result
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

    #[test]
    fn json_array_file() {
        let r = read_rows(
            "[\n {\"id\": 1, \"name\": \"John\"},\n {\"id\": 2, \"name\": \"Jane\"}\n]",
            &opts(FileType::Json),
        )
        .expect("json");
        assert_eq!(r.rows.len(), 2);
        assert_eq!(r.rows[1].get("name"), Some(&Value::str("Jane")));
        let err = read_rows("[{\"id\": 1},", &opts(FileType::Json)).expect_err("bad");
        assert!(err.starts_with("invalid JSON at line 1"), "{err}");
    }

    #[test]
    fn lines_skip_bad_records() {
        let r = read_rows("{\"a\":1}\n\nnot json\n{\"a\":2}\r\n", &opts(FileType::Lines))
            .expect("lines");
        assert_eq!(r.rows.len(), 2);
        assert_eq!(r.skipped.len(), 1);
        assert!(r.skipped[0].starts_with("line 3: invalid JSON"), "{:?}", r.skipped);
    }

    #[test]
    fn csv_with_header_and_space_delimiter() {
        let o = ReadOptions {
            has_header: true,
            delimiter: " ".into(),
            ..opts(FileType::Csv)
        };
        let r = read_rows("id name age\n1 John 56\n2 Jane 34\n", &o).expect("csv");
        assert_eq!(r.rows.len(), 2);
        assert_eq!(r.rows[0].get("name"), Some(&Value::str("John")));
        assert_eq!(r.rows[1].get("age"), Some(&Value::str("34")));
    }

    #[test]
    fn csv_without_header_uses_columns_or_cols_n() {
        let r = read_rows("1,\"a,b\", x\n", &opts(FileType::Csv)).expect("csv");
        assert_eq!(r.rows[0].get("cols0"), Some(&Value::str("1")));
        assert_eq!(r.rows[0].get("cols1"), Some(&Value::str("a,b")));
        assert_eq!(r.rows[0].get("cols2"), Some(&Value::str("x")));
        let o = ReadOptions {
            columns: Some(vec!["id".into(), "name".into()]),
            ..opts(FileType::Csv)
        };
        let r = read_rows("1,x,extra\n2\n", &o).expect("columns");
        assert_eq!(r.rows[0].len(), 2);
        assert_eq!(r.rows[1].get("id"), Some(&Value::str("2")));
        assert_eq!(r.rows[1].get("name"), None);
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
        let r = read_rows(content, &o).expect("csv");
        assert_eq!(r.rows.len(), 2);
        assert_eq!(r.rows[1].get("name"), Some(&Value::str("b")));
        // More ignored lines than there are: no rows, no error.
        let o = ReadOptions {
            ignore_start_lines: 10,
            ..opts(FileType::Lines)
        };
        assert!(read_rows("{}\n{}", &o).expect("lines").rows.is_empty());
    }

    #[test]
    fn delimited_lines_and_bad_delimiter() {
        let o = ReadOptions {
            format: Format::Delimited,
            delimiter: ";".into(),
            ..opts(FileType::Lines)
        };
        let r = read_rows("a;b\n", &o).expect("delimited");
        assert_eq!(r.rows[0].get("col1"), Some(&Value::str("b")));
        let o = ReadOptions {
            delimiter: "::".into(),
            ..opts(FileType::Csv)
        };
        assert!(read_rows("a::b", &o).is_err());
    }
}
