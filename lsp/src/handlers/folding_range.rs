//! `textDocument/foldingRange`: every `{ … }` block spanning lines, runs of line comments,
//! block comments, and runs of `use` lines. Read from tokens, so folding keeps working in a
//! file with syntax errors.

use crate::snapshot::Snapshot;
use palisade_syntax::lexer::{lex, Token};
use tower_lsp_server::ls_types::{FoldingRange, FoldingRangeKind};

pub fn folding_ranges(snap: &Snapshot) -> Option<Vec<FoldingRange>> {
    let (text, index) = (snap.text(), snap.line_index());
    let line_of = |offset: usize| {
        index
            .position(text, u32::try_from(offset).unwrap_or(u32::MAX))
            .line
    };
    let (tokens, comments) = lex(text);
    let mut out = Vec::new();
    let fold = |start: u32, end: u32, kind: Option<FoldingRangeKind>| FoldingRange {
        start_line: start,
        start_character: None,
        end_line: end,
        end_character: None,
        kind,
        collapsed_text: None,
    };

    let mut open: Vec<u32> = Vec::new();
    let mut uses: Option<(u32, u32)> = None;
    for (start, token, _) in &tokens {
        match token {
            Token::LBrace => open.push(line_of(*start)),
            Token::RBrace => {
                if let Some(first) = open.pop() {
                    // Keep the closing brace visible.
                    let last = line_of(*start).saturating_sub(1);
                    if last > first {
                        out.push(fold(first, last, None));
                    }
                }
            }
            Token::Use => {
                let line = line_of(*start);
                uses = match uses {
                    Some((first, prev)) if line <= prev + 1 => Some((first, line)),
                    Some((first, prev)) => {
                        if prev > first {
                            out.push(fold(first, prev, Some(FoldingRangeKind::Imports)));
                        }
                        Some((line, line))
                    }
                    None => Some((line, line)),
                };
            }
            _ => {}
        }
    }
    if let Some((first, last)) = uses.filter(|(f, l)| l > f) {
        out.push(fold(first, last, Some(FoldingRangeKind::Imports)));
    }

    let mut run: Option<(u32, u32)> = None;
    for c in &comments {
        let (first, last) = (line_of(c.span.start as usize), line_of(c.span.end as usize));
        if c.text.starts_with("/*") {
            if last > first {
                out.push(fold(first, last, Some(FoldingRangeKind::Comment)));
            }
            continue;
        }
        run = match run {
            Some((a, b)) if first == b + 1 => Some((a, first)),
            Some((a, b)) => {
                if b > a {
                    out.push(fold(a, b, Some(FoldingRangeKind::Comment)));
                }
                Some((first, first))
            }
            None => Some((first, first)),
        };
    }
    if let Some((a, b)) = run.filter(|(a, b)| b > a) {
        out.push(fold(a, b, Some(FoldingRangeKind::Comment)));
    }
    out.sort_by_key(|f| (f.start_line, f.end_line));
    Some(out)
}
