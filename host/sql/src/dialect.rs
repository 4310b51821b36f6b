//! The eKuiper dialect for `sqlparser`.
//!
//! eKuiper differs from ANSI SQL in ways the tokenizer and the precedence table must
//! know: identifiers are quoted with backticks and double quotes delimit *strings*;
//! `->` is a member access binding tighter than arithmetic; `^` is bitwise XOR.

use sqlparser::dialect::{Dialect, Precedence};
use sqlparser::parser::{Parser, ParserError};
use sqlparser::tokenizer::Token;

#[derive(Debug, Default, Clone, Copy)]
pub struct KuiperDialect;

impl Dialect for KuiperDialect {
    fn is_delimited_identifier_start(&self, ch: char) -> bool {
        ch == '`'
    }
    fn is_identifier_start(&self, ch: char) -> bool {
        ch.is_alphabetic() || ch == '_' || ch == '$'
    }
    fn is_identifier_part(&self, ch: char) -> bool {
        ch.is_alphanumeric() || ch == '_' || ch == '$'
    }
    fn supports_filter_during_aggregation(&self) -> bool {
        true
    }
    fn supports_string_literal_backslash_escape(&self) -> bool {
        true
    }
    fn get_next_precedence(&self, parser: &Parser) -> Option<Result<u8, ParserError>> {
        match parser.peek_token_ref().token {
            // `a->b * 2` is `(a->b) * 2`: member access binds like `.` does.
            Token::Arrow => Some(Ok(self.prec_value(Precedence::DoubleColon))),
            _ => None,
        }
    }
}
