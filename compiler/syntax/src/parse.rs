//! Running the grammar over a file: tokens in, syntax tree and every syntax error out.

use crate::ast::{SourceFile, Span};
use crate::grammar::FileParser;
use crate::lexer::{lex, LexError, Token};
use lalrpop_util::{ErrorRecovery, ParseError};

/// A syntax error: where, what was found, and what would have been accepted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SyntaxError {
    pub span: Span,
    pub message: String,
    pub expected: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Parsed {
    pub file: SourceFile,
    pub errors: Vec<SyntaxError>,
}

/// Parse one file. Never fails: unreadable stretches become error nodes and are reported.
pub fn parse(text: &str) -> Parsed {
    let (tokens, comments) = lex(text);
    let mut recovered: Vec<ErrorRecovery<usize, Token, LexError>> = Vec::new();
    let result = FileParser::new().parse(&mut recovered, tokens);
    let mut errors: Vec<SyntaxError> = recovered
        .into_iter()
        .map(|r| convert(r.error, text))
        .collect();
    let items = match result {
        Ok(items) => items,
        Err(e) => {
            errors.push(convert(e, text));
            Vec::new()
        }
    };
    // Recovery can report the same spot twice; one message per place is enough.
    errors.dedup_by(|a, b| a.span == b.span);
    Parsed {
        file: SourceFile { items, comments },
        errors,
    }
}

fn convert(e: ParseError<usize, Token, LexError>, text: &str) -> SyntaxError {
    let end = text.len();
    match e {
        ParseError::InvalidToken { location } => SyntaxError {
            span: Span::new(location, location + 1),
            message: "unreadable character".into(),
            expected: Vec::new(),
        },
        ParseError::UnrecognizedEof { location, expected } => SyntaxError {
            span: Span::new(location.min(end), end),
            message: "unexpected end of file".into(),
            expected: clean_expected(expected),
        },
        ParseError::UnrecognizedToken {
            token: (l, Token::Error, r),
            ..
        }
        | ParseError::ExtraToken {
            token: (l, Token::Error, r),
        } => SyntaxError {
            span: Span::new(l, r),
            message: unreadable(text.get(l..r).unwrap_or("")),
            // What the grammar would accept says nothing about a literal that failed to lex.
            expected: Vec::new(),
        },
        ParseError::UnrecognizedToken {
            token: (l, tok, r),
            expected,
        } => SyntaxError {
            span: Span::new(l, r),
            message: format!("unexpected {}", tok.describe()),
            expected: clean_expected(expected),
        },
        ParseError::ExtraToken { token: (l, tok, r) } => SyntaxError {
            span: Span::new(l, r),
            message: format!("unexpected {}", tok.describe()),
            expected: Vec::new(),
        },
        ParseError::User { .. } => SyntaxError {
            span: Span::new(0, 0),
            message: "unreadable text".into(),
            expected: Vec::new(),
        },
    }
}

/// The message for text the lexer could not read. It starts with "unreadable", which is how
/// the compiler tells these (E0002) from other syntax errors (E0001).
fn unreadable(slice: &str) -> String {
    match slice.chars().next() {
        Some('"') => "unreadable text: unterminated string (a string ends on its own line)".into(),
        Some(c) if c.is_ascii_digit() || c == ':' => {
            format!("unreadable text: `{slice}` is not a valid number, address, network, date, time or duration")
        }
        Some(c) => format!("unreadable character `{}`", c.escape_debug()),
        None => "unreadable text".into(),
    }
}

/// lalrpop names terminals as they appear in the grammar (`"zone"`, `IDENT`); turn them into
/// what a user reads.
fn clean_expected(expected: Vec<String>) -> Vec<String> {
    let mut out: Vec<String> = expected
        .into_iter()
        .filter(|e| e != "ERROR")
        .map(|e| match e.as_str() {
            "IDENT" => "a name".to_string(),
            "STR" => "a string".to_string(),
            "INT" => "a number".to_string(),
            "IP4" | "IP6" => "an address".to_string(),
            "NET4" | "NET6" => "a network".to_string(),
            "TIME" => "a time of day".to_string(),
            "DATE" => "a date".to_string(),
            "DURATION" => "a duration".to_string(),
            other => format!("`{}`", other.trim_matches('"')),
        })
        .collect();
    out.sort();
    out.dedup();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_language_reference_parses() {
        let text = include_str!("../tests/reference.pal");
        let parsed = parse(text);
        for e in &parsed.errors {
            let line = text[..e.span.start as usize].lines().count();
            eprintln!("line {line}: {} (expected {:?})", e.message, e.expected);
        }
        assert!(parsed.errors.is_empty());
        assert!(parsed.file.items.len() > 30);
    }

    #[test]
    fn recovery_reports_every_error() {
        let text = "zone a { network 10.0.0.0/24 ; asset = }\nrole ; role b\nzone c { security_level [FR1 3] }\nrole d";
        let parsed = parse(text);
        assert_eq!(parsed.errors.len(), 3, "{:?}", parsed.errors);
        let names: Vec<_> = parsed
            .file
            .items
            .iter()
            .filter_map(|i| match &i.kind {
                crate::ast::ItemKind::Role(r) => Some(r.name.name.clone()),
                _ => None,
            })
            .collect();
        assert_eq!(names, ["b", "d"]);
    }
}
