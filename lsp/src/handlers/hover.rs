//! `textDocument/hover`: a name's resolved meaning, or, between names inside a rule, what
//! the rule admits.

use crate::analysis::symbol_at;
use crate::describe;
use crate::snapshot::Snapshot;
use palisade_compiler::db::policy_ir;
use tower_lsp_server::ls_types::{Hover, HoverContents, MarkupContent, MarkupKind, Position};

pub fn hover(snap: &Snapshot, pos: Position) -> Option<Hover> {
    let (text, index) = (snap.text(), snap.line_index());
    let offset = index.offset(text, pos);
    let (value, start, end) = match symbol_at(snap, offset) {
        Some((occ, symbol)) => (
            describe::symbol(&snap.db, snap.site, &symbol)?,
            occ.span.start,
            occ.span.end,
        ),
        None => {
            let file = snap.position_in_site()?;
            let policy = policy_ir(&snap.db, snap.site);
            let rule = policy
                .rules
                .iter()
                .find(|r| r.span.file == file && r.span.start <= offset && offset < r.span.end)?;
            (
                describe::rule(
                    policy,
                    crate::analysis::site_topology(&snap.db, snap.site),
                    rule,
                ),
                rule.span.start,
                rule.span.end,
            )
        }
    };
    Some(Hover {
        contents: HoverContents::Markup(MarkupContent {
            kind: MarkupKind::Markdown,
            value,
        }),
        range: Some(index.range(text, start, end)),
    })
}
