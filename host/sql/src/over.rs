//! eKuiper's `OVER (WHEN cond)` and `OVER (PARTITION BY a WHEN cond)`.
//!
//! Standard SQL has no `WHEN` inside `OVER (…)`, so `sqlparser` cannot read it. Rather
//! than fork the parser, the statement text is rewritten before parsing: the `WHEN`
//! part becomes one more `PARTITION BY` expression wrapped in the marker call
//! [`WHEN_MARKER`], which lowering takes back out. Only the text inside such an `OVER`
//! changes, so positions in error messages elsewhere stay right.

use crate::dialect::KuiperDialect;
use sqlparser::keywords::Keyword;
use sqlparser::tokenizer::{Token, Tokenizer};

/// The call that carries an `OVER (… WHEN cond)` condition through `sqlparser`.
pub const WHEN_MARKER: &str = "__tributary_when";

/// Rewrites every `OVER (… WHEN cond)` of `sql`; returns `sql` unchanged when there is
/// none (or when it does not tokenize: the parser then reports the error).
pub fn rewrite_over_when(sql: &str) -> String {
    let Ok(tokens) = Tokenizer::new(&KuiperDialect, sql).tokenize_with_location() else {
        return sql.to_string();
    };
    let line_starts: Vec<usize> = std::iter::once(0)
        .chain(sql.match_indices('\n').map(|(i, _)| i + 1))
        .collect();
    let offset = |line: u64, column: u64| -> Option<usize> {
        let start = *line_starts.get(usize::try_from(line).ok()?.checked_sub(1)?)?;
        let col = usize::try_from(column).ok()?.checked_sub(1)?;
        sql[start..]
            .char_indices()
            .nth(col)
            .map(|(i, _)| start + i)
            .or(Some(sql.len()))
    };
    // (byte offset, text to insert, bytes to replace)
    let mut edits: Vec<(usize, String, usize)> = Vec::new();
    let significant: Vec<_> = tokens
        .iter()
        .filter(|t| !matches!(t.token, Token::Whitespace(_)))
        .collect();
    let mut i = 0;
    while i + 1 < significant.len() {
        let is_over = matches!(&significant[i].token, Token::Word(w) if w.keyword == Keyword::OVER);
        if !is_over || significant[i + 1].token != Token::LParen {
            i += 1;
            continue;
        }
        let mut depth = 0usize;
        let mut when_at = None;
        let mut has_partition = false;
        let mut close_at = None;
        for (j, t) in significant.iter().enumerate().skip(i + 1) {
            match &t.token {
                Token::LParen => depth += 1,
                Token::RParen => {
                    depth -= 1;
                    if depth == 0 {
                        close_at = Some(j);
                        break;
                    }
                }
                Token::Word(w) if depth == 1 && w.keyword == Keyword::PARTITION => {
                    has_partition = true
                }
                Token::Word(w) if depth == 1 && w.keyword == Keyword::WHEN && when_at.is_none() => {
                    when_at = Some(j)
                }
                _ => {}
            }
        }
        if let (Some(w), Some(c)) = (when_at, close_at) {
            let ws = &significant[w].span.start;
            let cs = &significant[c].span.start;
            if let (Some(wo), Some(co)) = (offset(ws.line, ws.column), offset(cs.line, cs.column)) {
                let head = if has_partition { ", " } else { "PARTITION BY " };
                edits.push((wo, format!("{head}{WHEN_MARKER}("), "WHEN".len()));
                edits.push((co, ")".to_string(), 0));
            }
        }
        i = close_at.unwrap_or(i) + 1;
    }
    if edits.is_empty() {
        return sql.to_string();
    }
    let mut out = sql.to_string();
    for (at, text, replace) in edits.into_iter().rev() {
        out.replace_range(at..at + replace, &text);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn when_becomes_a_partition_marker() {
        assert_eq!(
            rewrite_over_when("SELECT * FROM demo GROUP BY SLIDINGWINDOW(ss, 1) OVER (WHEN size > 2)"),
            "SELECT * FROM demo GROUP BY SLIDINGWINDOW(ss, 1) OVER (PARTITION BY __tributary_when( size > 2))"
        );
        assert_eq!(
            rewrite_over_when("SELECT lag(a) OVER (PARTITION BY b when (c = 'x')) FROM demo"),
            "SELECT lag(a) OVER (PARTITION BY b , __tributary_when( (c = 'x'))) FROM demo"
        );
        let plain = "SELECT a FROM demo WHERE CASE WHEN a THEN 1 END = 1";
        assert_eq!(rewrite_over_when(plain), plain);
    }
}
