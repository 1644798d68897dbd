//! `textDocument/semanticTokens/full`: keywords, literals and comments from the lexer, and
//! each name coloured by what it resolves to (zone, asset, service, role …).

use crate::analysis::{kind_of, resolve};
use crate::snapshot::Snapshot;
use palisade_compiler::symbols::{file_index, Role, SymbolKind as K};
use palisade_syntax::lexer::{is_keyword, lex, Token};
use tower_lsp_server::ls_types::{
    SemanticToken, SemanticTokenModifier, SemanticTokenType, SemanticTokens, SemanticTokensLegend,
    SemanticTokensResult,
};

/// Token types, in legend order.
const TYPES: &[SemanticTokenType] = &[
    SemanticTokenType::KEYWORD,     // 0
    SemanticTokenType::STRING,      // 1
    SemanticTokenType::NUMBER,      // 2
    SemanticTokenType::COMMENT,     // 3
    SemanticTokenType::NAMESPACE,   // 4 zone
    SemanticTokenType::VARIABLE,    // 5 asset
    SemanticTokenType::TYPE,        // 6 service
    SemanticTokenType::FUNCTION,    // 7 protocol function
    SemanticTokenType::CLASS,       // 8 role
    SemanticTokenType::ENUM_MEMBER, // 9 constant
    SemanticTokenType::STRUCT,      // 10 conduit
    SemanticTokenType::INTERFACE,   // 11 firewall, gateway, link
    SemanticTokenType::EVENT,       // 12 work order
    SemanticTokenType::PROPERTY,    // 13 data flow, group
    SemanticTokenType::OPERATOR,    // 14
];

const DECLARATION: u32 = 1;
const DEFAULT_LIBRARY: u32 = 2;

pub fn legend() -> SemanticTokensLegend {
    SemanticTokensLegend {
        token_types: TYPES.to_vec(),
        token_modifiers: vec![
            SemanticTokenModifier::DECLARATION,
            SemanticTokenModifier::DEFAULT_LIBRARY,
        ],
    }
}

fn name_type(kind: K) -> u32 {
    match kind {
        K::Zone => 4,
        K::Asset => 5,
        K::Service => 6,
        K::Function => 7,
        K::Role => 8,
        K::Const => 9,
        K::Conduit => 10,
        K::Firewall | K::Gateway | K::Link => 11,
        K::WorkOrder => 12,
        K::DataFlow | K::Group => 13,
    }
}

pub fn semantic_tokens(snap: &Snapshot) -> Option<SemanticTokensResult> {
    let text = snap.text();
    let file = snap.position_in_site()?;
    let index = file_index(&snap.db, snap.file);
    let (tokens, comments) = lex(text);
    // (start, end, type, modifiers) in text order.
    let mut spans: Vec<(u32, u32, u32, u32)> = Vec::with_capacity(tokens.len() + comments.len());
    for (start, token, end) in &tokens {
        let (start, end) = (u32::try_from(*start).ok()?, u32::try_from(*end).ok()?);
        let ty = match token {
            Token::Ident(_) => {
                let Some(occ) = index.at(start).filter(|o| o.span.start == start) else {
                    continue;
                };
                let symbol = resolve(&snap.db, snap.site, file, occ);
                let Some(kind) = kind_of(&symbol) else {
                    continue;
                };
                let mut modifiers = 0;
                if occ.is_definition() {
                    modifiers |= DECLARATION;
                }
                if let Role::Reference(_) = occ.role {
                    if let crate::analysis::Symbol::Global { def: Some(d), .. } = &symbol {
                        if d.std {
                            modifiers |= DEFAULT_LIBRARY;
                        }
                    }
                }
                spans.push((start, end, name_type(kind), modifiers));
                continue;
            }
            Token::Str(_) => 1,
            Token::Int(_)
            | Token::Ip4(_)
            | Token::Ip6(_)
            | Token::Net4(_)
            | Token::Net6(_)
            | Token::Time(_)
            | Token::Date(_)
            | Token::Duration(_) => 2,
            Token::Arrow | Token::BiArrow => 14,
            Token::Error | Token::Comment => continue,
            _ if text
                .get(start as usize..end as usize)
                .is_some_and(is_keyword) =>
            {
                0
            }
            _ => continue,
        };
        spans.push((start, end, ty, 0));
    }
    for c in &comments {
        spans.push((c.span.start, c.span.end, 3, 0));
    }
    spans.sort_by_key(|s| s.0);
    Some(SemanticTokensResult::Tokens(SemanticTokens {
        result_id: None,
        data: encode(snap, &spans),
    }))
}

/// The protocol's relative encoding; tokens spanning lines (block comments) are split.
fn encode(snap: &Snapshot, spans: &[(u32, u32, u32, u32)]) -> Vec<SemanticToken> {
    let (text, index) = (snap.text(), snap.line_index());
    let mut out = Vec::with_capacity(spans.len());
    let (mut prev_line, mut prev_col) = (0u32, 0u32);
    let mut push = |line: u32, col: u32, len: u32, ty: u32, mods: u32| {
        if len == 0 {
            return;
        }
        let delta_line = line - prev_line;
        let delta_start = if delta_line == 0 { col - prev_col } else { col };
        out.push(SemanticToken {
            delta_line,
            delta_start,
            length: len,
            token_type: ty,
            token_modifiers_bitset: mods,
        });
        prev_line = line;
        prev_col = col;
    };
    for &(start, end, ty, mods) in spans {
        let (a, b) = (index.position(text, start), index.position(text, end));
        if a.line == b.line {
            push(
                a.line,
                a.character,
                b.character.saturating_sub(a.character),
                ty,
                mods,
            );
            continue;
        }
        for line in a.line..=b.line {
            let col = if line == a.line { a.character } else { 0 };
            let line_end = if line == b.line {
                b.character
            } else {
                let next = index.offset(
                    text,
                    tower_lsp_server::ls_types::Position::new(line, u32::MAX),
                );
                index.position(text, next).character
            };
            push(line, col, line_end.saturating_sub(col), ty, mods);
        }
    }
    out
}
