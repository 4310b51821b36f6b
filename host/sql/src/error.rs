//! Parse and validation errors that name what is wrong and where.

use thiserror::Error;

/// An error in a SQL or DDL statement. `line`/`column` are 1-based and 0 when unknown.
#[derive(Debug, Error, Clone, PartialEq)]
#[error("{message}{}", position(*.line, *.column))]
pub struct SqlError {
    pub message: String,
    pub line: u64,
    pub column: u64,
}

fn position(line: u64, column: u64) -> String {
    if line == 0 {
        String::new()
    } else {
        format!(" at line {line}, column {column}")
    }
}

impl SqlError {
    pub fn new(message: impl Into<String>) -> Self {
        SqlError {
            message: message.into(),
            line: 0,
            column: 0,
        }
    }
    pub fn at(message: impl Into<String>, line: u64, column: u64) -> Self {
        SqlError {
            message: message.into(),
            line,
            column,
        }
    }
}

impl From<sqlparser::parser::ParserError> for SqlError {
    fn from(e: sqlparser::parser::ParserError) -> Self {
        // sqlparser already appends " at Line: x, Column: y" to its messages.
        let msg = match e {
            sqlparser::parser::ParserError::TokenizerError(m) => m,
            sqlparser::parser::ParserError::ParserError(m) => m,
            sqlparser::parser::ParserError::RecursionLimitExceeded => {
                "expression nested too deeply".to_string()
            }
        };
        SqlError::new(msg)
    }
}

impl From<SqlError> for tributary_core::Error {
    fn from(e: SqlError) -> Self {
        tributary_core::Error::User(e.to_string())
    }
}
