//! `CREATE STREAM` / `CREATE TABLE`, as eKuiper accepts them.
//!
//! sqlparser has no grammar for eKuiper's DDL, so this is a small recursive-descent
//! parser over sqlparser's *tokenizer* (which gives us positions for errors).
//!
//! ```text
//! CREATE STREAM demo (
//!     USERID BIGINT, NAME STRING, TAGS ARRAY(STRING),
//!     ADDRESS STRUCT(STREET STRING, NUMBER BIGINT),
//! ) WITH (DATASOURCE="topic/demo", FORMAT="JSON", KEY="USERID");
//! ```

use crate::dialect::KuiperDialect;
use crate::error::SqlError;
use sqlparser::tokenizer::{Token, TokenWithSpan, Tokenizer};
use tributary_core::{FieldDef, FieldType, Schema};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StreamKind {
    Stream,
    Table,
}

/// The `WITH (...)` options. Keys are case-insensitive; values keep their case.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct StreamOptions {
    pub datasource: Option<String>,
    /// Lower-cased: `json`, `binary`, `delimited`, …
    pub format: Option<String>,
    /// Lower-cased connector type: `mqtt`, `memory`, `file`, `simulator`, …
    pub source_type: Option<String>,
    pub conf_key: Option<String>,
    pub key: Option<String>,
    pub timestamp: Option<String>,
    pub timestamp_format: Option<String>,
    pub shared: bool,
    pub strict_validation: bool,
    pub delimiter: Option<String>,
    pub schema_id: Option<String>,
    /// Tables only.
    pub retain_size: Option<usize>,
    /// Tables only: `scan` (default) or `lookup`.
    pub kind: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct StreamDef {
    pub name: String,
    pub kind: StreamKind,
    /// `None` for a schemaless `()` stream.
    pub schema: Option<Schema>,
    pub options: StreamOptions,
    /// The statement as written, for describe/export.
    pub statement: String,
}

/// The option keys eKuiper knows, as listed in its error message.
const OPTION_KEYS: &str = "DATASOURCE|FORMAT|KEY|CONF_KEY|SHARED|STRICT_VALIDATION|TYPE|TIMESTAMP|TIMESTAMP_FORMAT|RETAIN_SIZE|SCHEMAID|EXTRA|VERSION|TEMP|KIND|DELIMITER";

/// The deepest nesting of ARRAY/STRUCT types accepted.
const MAX_TYPE_DEPTH: usize = 32;

/// The most columns a stream may declare (nested struct fields count too). eKuiper
/// has no limit; this one keeps a typo'd generator from making a schema that costs
/// more to check per row than the row itself.
pub const MAX_COLUMNS: usize = 10_000;

/// The longest DDL statement accepted, in bytes.
pub const MAX_DDL_BYTES: usize = 1 << 20;

/// Parses one `CREATE STREAM` or `CREATE TABLE` statement.
pub fn parse_ddl(sql: &str) -> Result<StreamDef, SqlError> {
    if sql.len() > MAX_DDL_BYTES {
        return Err(SqlError::new(format!(
            "the statement is {} bytes long; at most {MAX_DDL_BYTES} are accepted",
            sql.len()
        )));
    }
    let tokens = Tokenizer::new(&KuiperDialect, sql)
        .tokenize_with_location()
        .map_err(|e| SqlError::new(e.to_string()))?;
    let tokens: Vec<TokenWithSpan> = tokens
        .into_iter()
        .filter(|t| !matches!(t.token, Token::Whitespace(_)))
        .collect();
    let mut p = DdlParser {
        tokens,
        pos: 0,
        end: sql_end(sql),
        depth: 0,
        columns: 0,
    };
    let def = p.statement(sql)?;
    Ok(def)
}

fn sql_end(sql: &str) -> (u64, u64) {
    let line = sql.lines().count().max(1) as u64;
    let col = sql.lines().last().map(|l| l.chars().count()).unwrap_or(0) as u64 + 1;
    (line, col)
}

struct DdlParser {
    tokens: Vec<TokenWithSpan>,
    pos: usize,
    end: (u64, u64),
    depth: usize,
    /// Columns declared so far, nested ones included.
    columns: usize,
}

impl DdlParser {
    fn peek(&self) -> Option<&TokenWithSpan> {
        self.tokens.get(self.pos)
    }

    fn next(&mut self) -> Option<TokenWithSpan> {
        let t = self.tokens.get(self.pos).cloned();
        self.pos += 1;
        t
    }

    fn err_here(&self, msg: impl Into<String>) -> SqlError {
        match self.tokens.get(self.pos) {
            Some(t) => SqlError::at(msg, t.span.start.line, t.span.start.column),
            None => SqlError::at(msg, self.end.0, self.end.1),
        }
    }

    fn found(&self) -> String {
        match self.peek() {
            Some(t) => format!("found \"{}\"", t.token),
            None => "found end of statement".to_string(),
        }
    }

    fn expect_word(&mut self, want: &str) -> Result<(), SqlError> {
        match self.peek() {
            Some(TokenWithSpan {
                token: Token::Word(w),
                ..
            }) if w.value.eq_ignore_ascii_case(want) => {
                self.pos += 1;
                Ok(())
            }
            _ => Err(self.err_here(format!("{}, expected {want}", self.found()))),
        }
    }

    fn expect(&mut self, want: Token, what: &str) -> Result<(), SqlError> {
        match self.peek() {
            Some(t) if t.token == want => {
                self.pos += 1;
                Ok(())
            }
            _ => Err(self.err_here(format!("{}, expected {what}", self.found()))),
        }
    }

    fn consume(&mut self, want: &Token) -> bool {
        if self.peek().map(|t| &t.token) == Some(want) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn ident(&mut self, what: &str) -> Result<String, SqlError> {
        match self.peek() {
            Some(TokenWithSpan {
                token: Token::Word(w),
                ..
            }) => {
                let v = w.value.clone();
                self.pos += 1;
                Ok(v)
            }
            _ => Err(self.err_here(format!("{}, expected {what}", self.found()))),
        }
    }

    fn statement(&mut self, sql: &str) -> Result<StreamDef, SqlError> {
        self.expect_word("CREATE")?;
        let kind = match self.peek() {
            Some(TokenWithSpan {
                token: Token::Word(w),
                ..
            }) if w.value.eq_ignore_ascii_case("STREAM") => StreamKind::Stream,
            Some(TokenWithSpan {
                token: Token::Word(w),
                ..
            }) if w.value.eq_ignore_ascii_case("TABLE") => StreamKind::Table,
            _ => return Err(self.err_here(format!("{}, expected STREAM or TABLE", self.found()))),
        };
        self.pos += 1;
        let at = self.pos;
        let name = self.ident("a stream name")?;
        if let Err(e) = tributary_core::names::check("stream name", &name) {
            self.pos = at;
            return Err(self.err_here(e));
        }
        self.expect(Token::LParen, "( after the stream name")?;
        let fields = self.field_list()?;
        let mut options = StreamOptions::default();
        if self.peek().is_some() && !self.is_end() {
            self.expect_word("WITH")?;
            self.options(&mut options)?;
        }
        self.consume(&Token::SemiColon);
        if let Some(t) = self.peek() {
            return Err(SqlError::at(
                format!("found \"{}\", expected end of statement", t.token),
                t.span.start.line,
                t.span.start.column,
            ));
        }
        check_options(kind, &options)?;
        check_binary(kind, &options, &fields)?;
        Ok(StreamDef {
            name,
            kind,
            schema: if fields.is_empty() {
                None
            } else {
                Some(Schema::new(fields))
            },
            options,
            statement: sql.trim().trim_end_matches(';').trim().to_string(),
        })
    }

    fn is_end(&self) -> bool {
        matches!(self.peek().map(|t| &t.token), Some(Token::SemiColon) | None)
    }

    /// Column definitions up to the closing `)`; a trailing comma is allowed, as
    /// eKuiper's own examples have one.
    fn field_list(&mut self) -> Result<Vec<FieldDef>, SqlError> {
        let mut fields: Vec<FieldDef> = Vec::new();
        // Lower-cased names seen in this list: a linear check, however many columns.
        let mut seen = std::collections::HashSet::new();
        loop {
            if self.consume(&Token::RParen) {
                return Ok(fields);
            }
            let at = self.pos;
            let name = self.ident("a column name or )")?;
            if !seen.insert(name.to_ascii_lowercase()) {
                self.pos = at;
                return Err(self.err_here(format!("duplicate column {name}")));
            }
            self.columns += 1;
            if self.columns > MAX_COLUMNS {
                self.pos = at;
                return Err(self.err_here(format!(
                    "more than {MAX_COLUMNS} columns; that is the most a stream may declare"
                )));
            }
            if name.len() > tributary_core::names::MAX_NAME_LEN {
                self.pos = at;
                return Err(self.err_here(format!(
                    "a column name of {} bytes; at most {} are allowed",
                    name.len(),
                    tributary_core::names::MAX_NAME_LEN
                )));
            }
            let ty = self.field_type()?;
            fields.push(FieldDef { name, ty });
            if !self.consume(&Token::Comma) {
                self.expect(Token::RParen, ", or ) after a column definition")?;
                return Ok(fields);
            }
        }
    }

    fn field_type(&mut self) -> Result<FieldType, SqlError> {
        if self.depth >= MAX_TYPE_DEPTH {
            return Err(self.err_here(format!("types nested deeper than {MAX_TYPE_DEPTH} levels")));
        }
        self.depth += 1;
        let r = self.field_type_inner();
        self.depth -= 1;
        r
    }

    fn field_type_inner(&mut self) -> Result<FieldType, SqlError> {
        let at = self.pos;
        let word = match self.peek() {
            Some(TokenWithSpan {
                token: Token::Word(w),
                ..
            }) => w.value.to_ascii_uppercase(),
            _ => return Err(self.err_here(format!("{}, expected a data type", self.found()))),
        };
        self.pos += 1;
        Ok(match word.as_str() {
            "BIGINT" => FieldType::Bigint,
            "FLOAT" => FieldType::Float,
            "STRING" => FieldType::String,
            "DATETIME" => FieldType::Datetime,
            "BOOLEAN" => FieldType::Boolean,
            "BYTEA" => FieldType::Bytea,
            "ARRAY" => {
                self.expect(Token::LParen, "( after ARRAY")?;
                let inner = self.field_type()?;
                self.expect(Token::RParen, ") after the ARRAY element type")?;
                FieldType::Array(Box::new(inner))
            }
            "STRUCT" => {
                self.expect(Token::LParen, "( after STRUCT")?;
                let fields = self.field_list()?;
                if fields.is_empty() {
                    self.pos = at;
                    return Err(self.err_here("STRUCT needs at least one field"));
                }
                FieldType::Struct(fields)
            }
            other => {
                self.pos = at;
                return Err(self.err_here(format!(
                    "found \"{other}\", expected a data type (BIGINT, FLOAT, STRING, DATETIME, BOOLEAN, BYTEA, ARRAY, STRUCT)"
                )));
            }
        })
    }

    fn options(&mut self, o: &mut StreamOptions) -> Result<(), SqlError> {
        self.expect(Token::LParen, "( after WITH")?;
        loop {
            if self.consume(&Token::RParen) {
                return Ok(());
            }
            let at = self.pos;
            let key = self.ident("an option name")?.to_ascii_uppercase();
            self.expect(Token::Eq, &format!("= after {key}"))?;
            let value = match self.next().map(|t| t.token) {
                Some(Token::DoubleQuotedString(s)) | Some(Token::SingleQuotedString(s)) => s,
                Some(Token::Number(n, _)) => n,
                Some(Token::Word(w)) => w.value,
                _ => {
                    self.pos -= 1;
                    return Err(self.err_here(format!(
                        "{}, expected a quoted value for {key}",
                        self.found()
                    )));
                }
            };
            let bool_opt = |v: &str| -> Option<bool> {
                match v.to_ascii_lowercase().as_str() {
                    "true" => Some(true),
                    "false" => Some(false),
                    _ => None,
                }
            };
            match key.as_str() {
                "DATASOURCE" => o.datasource = Some(value),
                "FORMAT" => o.format = Some(value.to_ascii_lowercase()),
                "TYPE" => o.source_type = Some(value.to_ascii_lowercase()),
                "CONF_KEY" => o.conf_key = Some(value),
                "KEY" => o.key = Some(value),
                "TIMESTAMP" => o.timestamp = Some(value),
                "TIMESTAMP_FORMAT" => o.timestamp_format = Some(value),
                "DELIMITER" => o.delimiter = Some(value),
                "SCHEMAID" => o.schema_id = Some(value),
                "KIND" => o.kind = Some(value.to_ascii_lowercase()),
                // Accepted for compatibility with eKuiper 2 exports; they change nothing.
                "EXTRA" | "VERSION" | "TEMP" => {}
                "SHARED" | "STRICT_VALIDATION" => {
                    let Some(b) = bool_opt(&value) else {
                        self.pos = at;
                        return Err(self.err_here(format!(
                            "invalid {key} value \"{value}\", expected \"true\" or \"false\""
                        )));
                    };
                    if key == "SHARED" {
                        o.shared = b
                    } else {
                        o.strict_validation = b
                    }
                }
                "RETAIN_SIZE" => match value.parse::<usize>() {
                    Ok(n) => o.retain_size = Some(n),
                    Err(_) => {
                        self.pos = at;
                        return Err(self.err_here(format!(
                            "invalid RETAIN_SIZE \"{value}\", expected a non-negative integer"
                        )));
                    }
                },
                _ => {
                    self.pos = at;
                    return Err(self.err_here(format!(
                        "found \"{key}\", unknown option keys({OPTION_KEYS})"
                    )));
                }
            }
            if !self.consume(&Token::Comma) {
                self.expect(Token::RParen, ", or ) after an option")?;
                return Ok(());
            }
        }
    }
}

/// eKuiper's rules for `FORMAT="binary"`: the whole payload is one BYTEA column.
fn check_binary(kind: StreamKind, o: &StreamOptions, fields: &[FieldDef]) -> Result<(), SqlError> {
    if o.format.as_deref() != Some("binary") {
        return Ok(());
    }
    if kind == StreamKind::Table {
        return Err(SqlError::new("'binary' format is not supported for table"));
    }
    match fields {
        [] => Ok(()),
        [f] if f.ty == FieldType::Bytea => Ok(()),
        [_] => Err(SqlError::new(
            "'binary' format stream can have only 'bytea' type field",
        )),
        _ => Err(SqlError::new(
            "'binary' format stream can have only one field",
        )),
    }
}

fn check_options(kind: StreamKind, o: &StreamOptions) -> Result<(), SqlError> {
    if let Some(f) = &o.format {
        if !matches!(f.as_str(), "json" | "binary" | "delimited") {
            return Err(SqlError::new(format!(
                "unsupported FORMAT \"{f}\", expected json, binary or delimited"
            )));
        }
    }
    if let Some(k) = &o.kind {
        if kind == StreamKind::Stream {
            return Err(SqlError::new("KIND is only valid for tables"));
        }
        if !matches!(k.as_str(), "scan" | "lookup") {
            return Err(SqlError::new(format!(
                "invalid KIND \"{k}\", expected scan or lookup"
            )));
        }
    }
    if kind == StreamKind::Stream && o.retain_size.is_some() {
        return Err(SqlError::new("RETAIN_SIZE is only valid for tables"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_ekuiper_doc_example_with_trailing_comma() {
        let sql = "CREATE STREAM demo (\n\tUSERID BIGINT,\n\tFIRST_NAME STRING,\n\tNICKNAMES ARRAY(STRING),\n\tGender BOOLEAN,\n\tADDRESS STRUCT(STREET_NAME STRING, NUMBER BIGINT),\n) WITH (DATASOURCE=\"topic/demo\", FORMAT=\"JSON\", KEY=\"USERID\", CONF_KEY=\"demo\");";
        let d = parse_ddl(sql).expect("parse");
        assert_eq!(d.name, "demo");
        assert_eq!(d.kind, StreamKind::Stream);
        let s = d.schema.expect("schema");
        assert_eq!(s.fields.len(), 5);
        assert_eq!(
            s.fields[2].ty,
            FieldType::Array(Box::new(FieldType::String))
        );
        assert_eq!(d.options.format.as_deref(), Some("json"));
        assert_eq!(d.options.datasource.as_deref(), Some("topic/demo"));
        assert_eq!(d.options.conf_key.as_deref(), Some("demo"));
    }

    #[test]
    fn schemaless_and_table_options() {
        let d = parse_ddl("create table t () WITH (DATASOURCE=\"t\", TYPE=\"memory\", KIND=\"lookup\", RETAIN_SIZE=\"3\")").expect("parse");
        assert_eq!(d.kind, StreamKind::Table);
        assert!(d.schema.is_none());
        assert_eq!(d.options.retain_size, Some(3));
        assert_eq!(d.options.kind.as_deref(), Some("lookup"));
        assert_eq!(d.options.source_type.as_deref(), Some("memory"));
    }

    #[test]
    fn errors_name_the_problem_and_position() {
        let e = parse_ddl("CREATE STREAM demo (a BIGINTX) WITH (DATASOURCE=\"x\")")
            .expect_err("bad type");
        assert!(e.message.contains("BIGINTX"), "{e}");
        assert_eq!((e.line, e.column), (1, 23));
        let e = parse_ddl("CREATE STREAM demo () WITH (DATASOURC=\"x\")").expect_err("bad key");
        assert!(e.to_string().contains("unknown option keys"), "{e}");
        let e = parse_ddl("CREATE STREAM demo (a BIGINT").expect_err("eof");
        assert!(e.to_string().contains("end of statement"), "{e}");
        let e = parse_ddl("CREATE STREAM demo (a BIGINT, a STRING) WITH (DATASOURCE=\"x\")")
            .expect_err("dup");
        assert!(e.to_string().contains("duplicate column a"), "{e}");
        let e =
            parse_ddl("CREATE STREAM demo () WITH (DATASOURCE=\"x\") extra").expect_err("trailing");
        assert!(e.to_string().contains("extra"), "{e}");
    }
}

#[cfg(test)]
mod binary_tests {
    use super::*;

    #[test]
    fn binary_format_rules() {
        assert!(parse_ddl("CREATE STREAM img (image BYTEA) WITH (FORMAT=\"binary\")").is_ok());
        assert!(parse_ddl("CREATE STREAM img () WITH (FORMAT=\"binary\")").is_ok());
        let e = parse_ddl("CREATE STREAM img (a BYTEA, b BYTEA) WITH (FORMAT=\"binary\")")
            .expect_err("two");
        assert!(e.to_string().contains("only one field"), "{e}");
        let e =
            parse_ddl("CREATE STREAM img (a STRING) WITH (FORMAT=\"binary\")").expect_err("type");
        assert!(e.to_string().contains("bytea"), "{e}");
        let deep = format!(
            "CREATE STREAM s (a {}BIGINT{}) WITH ()",
            "ARRAY(".repeat(40),
            ")".repeat(40)
        );
        assert!(parse_ddl(&deep)
            .expect_err("deep")
            .to_string()
            .contains("nested"));
        assert!(parse_ddl("CREATE STREAM s () WITH (EXTRA=\"{}\", VERSION=\"1\")").is_ok());
    }
}
