//! Running the grammar over a file: tokens in, syntax tree and every syntax error out.

use crate::ast::{SourceFile, Span};
use crate::grammar::FileParser;
use crate::lexer::{lex_with_extras, LexError, Token};
use lalrpop_util::{ErrorRecovery, ParseError};

/// A syntax error: where, what was found, and what would have been accepted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SyntaxError {
    /// `E0001` (unexpected token), `E0002` (unreadable text) or `E0003` (unknown escape).
    pub code: &'static str,
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
    let (tokens, extras) = lex_with_extras(text);
    let comments = extras.comments;
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
    errors.extend(extras.bad_escapes.into_iter().map(|e| SyntaxError {
        code: "E0003",
        span: e.span,
        message: format!("unknown escape `\\{}` in a string", e.escape.escape_debug()),
        expected: Vec::new(),
    }));
    errors.sort_by_key(|e| (e.span.start, e.span.end));
    Parsed {
        file: SourceFile { items, comments },
        errors,
    }
}

fn convert(e: ParseError<usize, Token, LexError>, text: &str) -> SyntaxError {
    let end = text.len();
    match e {
        ParseError::InvalidToken { location } => SyntaxError {
            code: "E0002",
            span: Span::new(location, location + 1),
            message: "unreadable character".into(),
            expected: Vec::new(),
        },
        ParseError::UnrecognizedEof { location, expected } => SyntaxError {
            code: "E0001",
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
            code: "E0002",
            span: Span::new(l, r),
            message: unreadable(text.get(l..r).unwrap_or("")),
            // What the grammar would accept says nothing about a literal that failed to lex.
            expected: Vec::new(),
        },
        ParseError::UnrecognizedToken {
            token: (l, tok, r),
            expected,
        } => SyntaxError {
            code: "E0001",
            span: Span::new(l, r),
            message: format!("unexpected {}", tok.describe()),
            expected: clean_expected(expected),
        },
        ParseError::ExtraToken { token: (l, tok, r) } => SyntaxError {
            code: "E0001",
            span: Span::new(l, r),
            message: format!("unexpected {}", tok.describe()),
            expected: Vec::new(),
        },
        ParseError::User { .. } => SyntaxError {
            code: "E0002",
            span: Span::new(0, 0),
            message: "unreadable text".into(),
            expected: Vec::new(),
        },
    }
}

/// The message for text the lexer could not read (E0002).
fn unreadable(slice: &str) -> String {
    if let Some(m) = prefix_too_long(slice) {
        return m;
    }
    let address_like = slice.contains(':')
        && slice
            .chars()
            .all(|c| c.is_ascii_hexdigit() || matches!(c, ':' | '.' | '/'));
    match slice.chars().next() {
        Some('"') => "unreadable text: unterminated string (a string ends on its own line)".into(),
        Some(c) if c.is_ascii_digit() || c == ':' || address_like => {
            format!("unreadable text: `{slice}` is not a valid number, address, network, date, time or duration")
        }
        Some('\u{feff}') => {
            "unreadable text: a byte-order mark is allowed only at the start of a file".into()
        }
        Some(c) => format!("unreadable character `{}`", c.escape_debug()),
        None => "unreadable text".into(),
    }
}

/// `fd00::/129`, `10.0.0.0/33`: an address with a prefix longer than its family allows.
fn prefix_too_long(slice: &str) -> Option<String> {
    let (addr, prefix) = slice.split_once('/')?;
    let prefix: u64 = prefix.parse().ok()?;
    let (family, max) = if addr.parse::<std::net::Ipv4Addr>().is_ok() {
        (4, 32)
    } else if addr.parse::<std::net::Ipv6Addr>().is_ok() {
        (6, 128)
    } else {
        return None;
    };
    (prefix > max).then(|| {
        format!("unreadable text: the prefix of `{slice}` is too long: an IPv{family} prefix is at most /{max}")
    })
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
#[allow(clippy::indexing_slicing)]
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

    #[test]
    fn unknown_escapes_are_errors_with_their_span() {
        let text = "role a \"C:\\new \\t ok \\\\ \\\"\"";
        let parsed = parse(text);
        let found: Vec<(&str, &str, String)> = parsed
            .errors
            .iter()
            .map(|e| {
                (
                    e.code,
                    &text[e.span.start as usize..e.span.end as usize],
                    e.message.clone(),
                )
            })
            .collect();
        assert_eq!(
            found,
            [
                (
                    "E0003",
                    "\\n",
                    "unknown escape `\\n` in a string".to_string()
                ),
                (
                    "E0003",
                    "\\t",
                    "unknown escape `\\t` in a string".to_string()
                ),
            ]
        );
    }

    #[test]
    fn a_byte_order_mark_is_skipped_only_at_the_start() {
        assert!(parse("\u{feff}role a").errors.is_empty());
        let late = parse("role a \u{feff}role b");
        assert_eq!(late.errors.len(), 1, "{:?}", late.errors);
        assert!(late.errors[0].message.contains("byte-order mark"));
    }

    #[test]
    fn a_prefix_too_long_says_so() {
        for (text, want) in [
            (
                "zone a { network fd00::/129 }",
                "the prefix of `fd00::/129` is too long: an IPv6 prefix is at most /128",
            ),
            (
                "zone a { network 10.0.0.0/33 }",
                "the prefix of `10.0.0.0/33` is too long: an IPv4 prefix is at most /32",
            ),
            (
                "zone a { network fd00::1::2 }",
                "`fd00::1::2` is not a valid number, address",
            ),
        ] {
            let parsed = parse(text);
            assert_eq!(parsed.errors.len(), 1, "{:?}", parsed.errors);
            assert_eq!(parsed.errors[0].code, "E0002");
            assert!(
                parsed.errors[0].message.contains(want),
                "{}",
                parsed.errors[0].message
            );
        }
    }
}
