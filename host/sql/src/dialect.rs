//! The eKuiper dialect for `sqlparser`.
//!
//! eKuiper differs from ANSI SQL in ways the tokenizer and the precedence table must
//! know: identifiers are quoted with backticks and double quotes delimit *strings*;
//! `->` is a member access binding tighter than arithmetic; `^` is bitwise XOR.

use sqlparser::ast::{
    Expr, Function, FunctionArg, FunctionArgExpr, FunctionArgumentList, FunctionArguments, Ident,
    ObjectName,
};
use sqlparser::dialect::{Dialect, Precedence};
use sqlparser::keywords::Keyword;
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
    /// eKuiper writes casts as `cast(x, "bigint")`; sqlparser only knows
    /// `CAST(x AS bigint)`. Try the comma form first and fall back to the standard one.
    fn parse_prefix(&self, parser: &mut Parser) -> Option<Result<Expr, ParserError>> {
        let is_cast = matches!(&parser.peek_token_ref().token, Token::Word(w) if w.keyword == Keyword::CAST)
            && parser.peek_nth_token_ref(1).token == Token::LParen;
        if !is_cast {
            return None;
        }
        let parsed = parser.maybe_parse(|p| {
            p.next_token();
            p.expect_token(&Token::LParen)?;
            let value = p.parse_expr()?;
            p.expect_token(&Token::Comma)?;
            let ty = p.parse_expr()?;
            p.expect_token(&Token::RParen)?;
            Ok(cast_call(value, ty))
        });
        match parsed {
            Ok(Some(e)) => Some(Ok(e)),
            Ok(None) => None,
            Err(e) => Some(Err(e)),
        }
    }

    fn get_next_precedence(&self, parser: &Parser) -> Option<Result<u8, ParserError>> {
        match parser.peek_token_ref().token {
            // `a->b * 2` is `(a->b) * 2`: member access binds like `.` does.
            Token::Arrow => Some(Ok(self.prec_value(Precedence::DoubleColon))),
            // eKuiper binds `&` like `*`, and `|` / `^` like `+`.
            Token::Ampersand => Some(Ok(self.prec_value(Precedence::MulDivModOp))),
            Token::Pipe | Token::Caret => Some(Ok(self.prec_value(Precedence::PlusMinus))),
            _ => None,
        }
    }
}

/// `cast(value, type)` as an ordinary function call.
fn cast_call(value: Expr, ty: Expr) -> Expr {
    let arg = |e| FunctionArg::Unnamed(FunctionArgExpr::Expr(e));
    Expr::Function(Function {
        name: ObjectName::from(vec![Ident::new("cast")]),
        uses_odbc_syntax: false,
        parameters: FunctionArguments::None,
        args: FunctionArguments::List(FunctionArgumentList {
            duplicate_treatment: None,
            args: vec![arg(value), arg(ty)],
            clauses: vec![],
        }),
        filter: None,
        null_treatment: None,
        over: None,
        within_group: vec![],
    })
}
