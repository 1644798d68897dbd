//! `textDocument/completion`: keywords, the names in scope that fit the position (zones
//! after `faces`, services after a rule's `:`, roles in approvals …), and Modbus/DNP3/CIP
//! function names from the protocol catalogues inside `function [ … ]`.
//!
//! The context is read from the tokens before the cursor, so it works while the statement
//! being typed does not parse yet.

use crate::snapshot::Snapshot;
use palisade_compiler::db::policy_ir;
use palisade_compiler::ir::{Policy, ProtocolFamily, Target as DeviceTarget, FR_NAMES};
use palisade_compiler::lower::ASSET_KINDS;
use palisade_compiler::stdlib;
use palisade_compiler::symbols::{site_symbols, SymbolKind};
use palisade_syntax::ast::ItemKind;
use palisade_syntax::lexer::{lex, Token, KEYWORDS};
use tower_lsp_server::ls_types::{
    CompletionItem, CompletionItemKind, CompletionResponse, Position, Range, TextEdit,
};

use SymbolKind as K;

/// What fits at the cursor.
#[derive(Debug, PartialEq, Eq)]
enum Want {
    Keywords,
    Names(&'static [SymbolKind]),
    /// Names plus the words `any` and `external` (rule endpoints).
    Endpoints,
    Functions(Option<ProtocolFamily>),
    Words(Vec<String>),
}

pub fn completion(snap: &Snapshot, pos: Position) -> Option<CompletionResponse> {
    let text = snap.text();
    let offset = snap.line_index().offset(text, pos) as usize;
    let before = text.get(..offset)?;
    let word_start = before
        .rfind(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .map(|i| i + 1)
        .unwrap_or(0);
    let (tokens, _) = lex(before.get(..word_start)?);
    let tokens: Vec<Token> = tokens.into_iter().map(|(_, t, _)| t).collect();
    let policy = policy_ir(&snap.db, snap.site);
    let want = context(&tokens, policy);
    let mut items = Vec::new();
    match want {
        Want::Keywords => {
            items.extend(
                KEYWORDS
                    .iter()
                    .map(|(kw, _)| item(kw, CompletionItemKind::KEYWORD, "keyword")),
            );
            names(snap, &[], &mut items);
        }
        Want::Names(kinds) => names(snap, kinds, &mut items),
        Want::Endpoints => {
            names(snap, &[K::Asset, K::Zone, K::Group, K::Const], &mut items);
            items.push(item(
                "any",
                CompletionItemKind::KEYWORD,
                "every address of that side's zone",
            ));
            items.push(item(
                "external",
                CompletionItemKind::KEYWORD,
                "the built-in zone",
            ));
        }
        Want::Functions(family) => {
            for p in policy
                .protocols
                .iter()
                .filter(|p| family.is_none_or(|f| f == p.family))
            {
                for f in &p.functions {
                    let access = format!("{:?}", f.access).to_lowercase();
                    items.push(item(
                        &f.name,
                        CompletionItemKind::FUNCTION,
                        &format!("{} {} ({access})", p.family.name(), f.code),
                    ));
                }
            }
        }
        Want::Words(words) => items.extend(
            words
                .iter()
                .map(|w| item(w, CompletionItemKind::ENUM_MEMBER, "")),
        ),
    }
    Some(CompletionResponse::Array(items))
}

fn item(label: &str, kind: CompletionItemKind, detail: &str) -> CompletionItem {
    CompletionItem {
        label: label.to_string(),
        kind: Some(kind),
        detail: (!detail.is_empty()).then(|| detail.to_string()),
        ..CompletionItem::default()
    }
}

/// The site's names of the given kinds (all kinds when empty).
fn names(snap: &Snapshot, kinds: &[SymbolKind], out: &mut Vec<CompletionItem>) {
    for (name, def) in &site_symbols(&snap.db, snap.site).globals {
        if kinds.is_empty() || kinds.contains(&def.kind) {
            out.push(item(name, completion_kind(def.kind), def.kind.describe()));
        }
    }
    if kinds.is_empty() || kinds.contains(&K::Zone) {
        out.push(item(
            "external",
            CompletionItemKind::MODULE,
            "zone (built in)",
        ));
    }
    if kinds.contains(&K::Service) {
        standard_services(snap, out);
    }
}

/// Where a service is expected and the site does not `use std.services` yet: the standard
/// services too, each adding the `use` at the top of the file when chosen.
fn standard_services(snap: &Snapshot, out: &mut Vec<CompletionItem>) {
    let symbols = site_symbols(&snap.db, snap.site);
    if symbols.all.iter().any(|d| d.std && d.kind == K::Service) {
        return; // already imported
    }
    let Some((_, text)) = stdlib::module("services") else {
        return;
    };
    let add_use = TextEdit {
        range: Range::default(),
        new_text: "use std.services\n".into(),
    };
    for item_ in palisade_syntax::parse(text).file.items {
        let ItemKind::Service(svc) = item_.kind else {
            continue;
        };
        if symbols.globals.contains_key(&svc.name.name) {
            continue; // the site's own service of that name wins
        }
        let mut c = item(
            &svc.name.name,
            CompletionItemKind::INTERFACE,
            "service from std.services (adds `use std.services`)",
        );
        c.additional_text_edits = Some(vec![add_use.clone()]);
        out.push(c);
    }
}

fn completion_kind(kind: SymbolKind) -> CompletionItemKind {
    match kind {
        K::Zone => CompletionItemKind::MODULE,
        K::Asset => CompletionItemKind::VARIABLE,
        K::Service => CompletionItemKind::INTERFACE,
        K::Const => CompletionItemKind::CONSTANT,
        K::Role => CompletionItemKind::CLASS,
        K::Group => CompletionItemKind::STRUCT,
        K::Conduit | K::Link => CompletionItemKind::REFERENCE,
        K::Firewall | K::Gateway => CompletionItemKind::UNIT,
        K::WorkOrder => CompletionItemKind::EVENT,
        K::DataFlow => CompletionItemKind::FIELD,
        K::Function => CompletionItemKind::FUNCTION,
    }
}

fn words(list: &[&str]) -> Want {
    Want::Words(list.iter().map(|w| w.to_string()).collect())
}

/// Decide what fits after `tokens` (everything before the word being typed).
fn context(tokens: &[Token], policy: &Policy) -> Want {
    let last = tokens.last();
    let prev = tokens.len().checked_sub(2).and_then(|i| tokens.get(i));
    // Immediately after a keyword that names its argument's kind.
    match (prev, last) {
        (Some(Token::When), Some(Token::Workorder)) => return Want::Names(&[K::WorkOrder]),
        (Some(Token::ReliesOn), Some(Token::Gateway)) => return Want::Names(&[K::Gateway]),
        (Some(Token::ReliesOn), Some(Token::Firewall)) => return Want::Names(&[K::Firewall]),
        (Some(Token::ReliesOn), Some(Token::Conduit)) => return Want::Names(&[K::Conduit]),
        (Some(Token::Assert), Some(Token::SecurityLevel)) => return Want::Names(&[K::Zone]),
        (Some(Token::Assert), Some(Token::Dataflow)) => return Want::Names(&[K::DataFlow]),
        _ => {}
    }
    match last {
        Some(Token::Kind) => {
            return Want::Words(ASSET_KINDS.iter().map(|k| k.to_string()).collect())
        }
        Some(Token::Target) => {
            let targets = [
                "nftables",
                "iptables",
                "cisco_ios",
                "suricata",
                "allowlist_json",
            ];
            return Want::Words(
                targets
                    .iter()
                    .filter(|t| DeviceTarget::from_name(t).is_some())
                    .map(|t| t.to_string())
                    .collect(),
            );
        }
        Some(Token::Use) => {
            return Want::Words(stdlib::names().map(|m| format!("std.{m}")).collect())
        }
        Some(Token::Inspect) => return words(&["modbus", "dnp3", "cip"]),
        Some(Token::Access) => return words(&["read", "write", "diagnostic", "other"]),
        Some(Token::When) => return words(&["workorder"]),
        Some(Token::ReliesOn) => return words(&["gateway", "firewall", "conduit", "isolation"]),
        Some(Token::Faces | Token::Between | Token::Interface) => return Want::Names(&[K::Zone]),
        Some(Token::RequestedBy | Token::ApprovedBy) => return Want::Names(&[K::Role]),
        Some(Token::During | Token::Approvals) => return Want::Names(&[K::WorkOrder]),
        Some(Token::OnlyVia) => {
            return Want::Names(&[K::Firewall, K::Gateway, K::Conduit, K::Asset])
        }
        Some(Token::NoPath | Token::Isolated | Token::Reachable) => {
            return Want::Names(&[K::Zone, K::Asset])
        }
        _ => {}
    }
    if let Some(want) = in_list(tokens, policy) {
        return want;
    }
    // Inside the statement that started with the last of these keywords.
    let start = tokens.iter().rposition(|t| {
        matches!(
            t,
            Token::Allow
                | Token::Conduit
                | Token::Link
                | Token::Dataflow
                | Token::Assert
                | Token::Approvals
                | Token::LBrace
                | Token::RBrace
                | Token::Semi
        )
    });
    let Some(start) = start else {
        return Want::Keywords;
    };
    let stmt = tokens.get(start..).unwrap_or_default();
    let after = stmt.get(1..).unwrap_or_default();
    let has = |t: &Token| after.contains(t);
    match stmt.first() {
        Some(Token::Allow) if has(&Token::Colon) => {
            let tail = after
                .iter()
                .rposition(|t| *t == Token::Colon)
                .and_then(|i| after.get(i + 1..))
                .unwrap_or_default();
            if tail.contains(&Token::When) {
                Want::Keywords
            } else if matches!(last, Some(Token::Colon | Token::Comma)) {
                Want::Names(&[K::Service])
            } else {
                Want::Keywords
            }
        }
        Some(Token::Allow)
            if matches!(last, Some(Token::Allow | Token::Arrow | Token::BiArrow)) =>
        {
            Want::Endpoints
        }
        Some(Token::Conduit | Token::Link)
            if matches!(
                last,
                Some(Token::Colon | Token::Arrow | Token::BiArrow | Token::Comma)
            ) =>
        {
            Want::Names(&[K::Zone])
        }
        Some(Token::Dataflow) if matches!(last, Some(Token::Colon | Token::Arrow)) => {
            Want::Names(&[K::Asset])
        }
        Some(Token::Assert) if matches!(last, Some(Token::Arrow | Token::Colon)) => {
            Want::Names(&[K::Zone, K::Asset])
        }
        _ => Want::Keywords,
    }
}

/// Inside an unclosed `[ … ]`: what the list holds, by the word before the `[`.
fn in_list(tokens: &[Token], policy: &Policy) -> Option<Want> {
    let mut depth = 0i32;
    let mut open = None;
    for (i, t) in tokens.iter().enumerate().rev() {
        match t {
            Token::RBracket => depth += 1,
            Token::LBracket if depth == 0 => {
                open = Some(i);
                break;
            }
            Token::LBracket => depth -= 1,
            Token::LBrace | Token::RBrace => return None,
            _ => {}
        }
    }
    let open = open?;
    let before = tokens.get(..open)?;
    Some(match before.last()? {
        Token::Function | Token::Service => Want::Functions(rule_family(before, policy)),
        Token::Roles | Token::Of => Want::Names(&[K::Role]),
        Token::Covers | Token::SecurityLevel | Token::Capability => {
            Want::Words(FR_NAMES.iter().map(|f| f.to_string()).collect())
        }
        Token::Scope => Want::Names(&[K::Zone, K::Asset]),
        Token::Opens => Want::Names(&[K::Conduit]),
        Token::Provides => words(&["integrity", "confidentiality"]),
        Token::Eq if before.iter().rev().nth(2) == Some(&Token::Group) => Want::Endpoints,
        Token::Eq => Want::Names(&[K::Service]),
        _ => return None,
    })
}

/// The protocol family of the rule being written: the first service between its `:` and
/// its `{` that a gateway can inspect.
fn rule_family(tokens: &[Token], policy: &Policy) -> Option<ProtocolFamily> {
    let allow = tokens.iter().rposition(|t| *t == Token::Allow)?;
    let rule = tokens.get(allow..)?;
    let colon = rule.iter().position(|t| *t == Token::Colon)?;
    rule.get(colon + 1..)?
        .iter()
        .take_while(|t| **t != Token::LBrace)
        .filter_map(|t| match t {
            Token::Ident(name) => Some(name),
            _ => None,
        })
        .find_map(|name| {
            let svc = policy
                .services
                .iter()
                .filter(|s| s.name == *name)
                .min_by_key(|s| s.std)?;
            svc.inspect.or_else(|| {
                svc.members
                    .iter()
                    .filter_map(|m| policy.service(*m))
                    .find_map(|m| m.inspect)
            })
        })
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    fn want(text: &str) -> Want {
        let policy = palisade_compiler::lower::lower(&[]).policy;
        let tokens: Vec<Token> = lex(text).0.into_iter().map(|(_, t, _)| t).collect();
        context(&tokens, &policy)
    }

    #[test]
    fn contexts_follow_the_statement_being_written() {
        assert_eq!(
            want("conduit c: a -> b {\n  allow x -> y : "),
            Want::Names(&[K::Service])
        );
        assert_eq!(want("conduit c: a -> b {\n  allow x -> "), Want::Endpoints);
        assert_eq!(want("conduit c: "), Want::Names(&[K::Zone]));
        assert_eq!(
            want("firewall f { interface \"eth0\" faces "),
            Want::Names(&[K::Zone])
        );
        assert_eq!(
            want("conduit c: a -> b { allow x -> y : modbus { function ["),
            Want::Functions(None)
        );
        assert_eq!(
            want("workorder w { approved_by 2 of ["),
            Want::Names(&[K::Role])
        );
        assert_eq!(want("zone z {\n  "), Want::Keywords);
        assert_eq!(
            want("allow a -> b : s when workorder "),
            Want::Names(&[K::WorkOrder])
        );
    }
}
