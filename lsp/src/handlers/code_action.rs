//! `textDocument/codeAction`:
//! - "did you mean `x`?" fixes: a diagnostic whose help suggests a name gets an edit that
//!   writes the name in place of the primary label's text;
//! - a `compensating { … }` template for an asset whose capability (SL-C) is below its
//!   zone's target (SL-T) on FRs no compensating control covers yet.

use crate::convert;
use crate::describe::gaps;
use crate::snapshot::Snapshot;
use palisade_compiler::db::{parsed, policy_ir, site_diagnostics};
use palisade_compiler::ir::{DeviceKind, FR_NAMES};
use palisade_syntax::ast::{self, ItemKind};
use std::collections::BTreeMap;
use tower_lsp_server::ls_types::{
    CodeAction, CodeActionKind, CodeActionOrCommand, CodeActionResponse, Range, TextEdit, Uri,
    WorkspaceEdit,
};

pub fn code_actions(
    snap: &Snapshot,
    range: Range,
    document_changes: bool,
) -> Option<CodeActionResponse> {
    let uri = convert::path_to_uri(&snap.path)?;
    let (start, end) = snap.line_index().offsets(snap.text(), range);
    let mut out = did_you_mean(snap, &uri, start, end, document_changes);
    out.extend(compensating(snap, &uri, start, end, document_changes));
    Some(out)
}

fn edit(uri: &Uri, edits: Vec<TextEdit>, document_changes: bool) -> WorkspaceEdit {
    convert::workspace_edit(BTreeMap::from([(uri.clone(), edits)]), document_changes)
}

fn did_you_mean(
    snap: &Snapshot,
    uri: &Uri,
    start: u32,
    end: u32,
    document_changes: bool,
) -> Vec<CodeActionOrCommand> {
    let path = snap.file.path(&snap.db);
    let files = convert::files_by_path(&snap.db, snap.site);
    let mut out = Vec::new();
    for d in site_diagnostics(&snap.db, snap.site) {
        let Some(loc) = d
            .primary_location()
            .filter(|l| l.file == *path && l.start <= end && start <= l.end)
        else {
            continue;
        };
        let Some(name) = d.help.as_deref().and_then(convert::suggestion) else {
            continue;
        };
        let range = convert::range(&snap.db, snap.file, loc.start, loc.end);
        let diagnostic = convert::diagnostic(&snap.db, &files, d).map(|(_, lsp)| lsp);
        out.push(CodeActionOrCommand::CodeAction(CodeAction {
            title: format!("replace with `{name}`"),
            kind: Some(CodeActionKind::QUICKFIX),
            diagnostics: diagnostic.map(|d| vec![d]),
            edit: Some(edit(
                uri,
                vec![TextEdit {
                    range,
                    new_text: name.to_string(),
                }],
                document_changes,
            )),
            is_preferred: Some(true),
            ..CodeAction::default()
        }));
    }
    out
}

fn compensating(
    snap: &Snapshot,
    uri: &Uri,
    start: u32,
    end: u32,
    document_changes: bool,
) -> Vec<CodeActionOrCommand> {
    let Some(file) = snap.position_in_site() else {
        return Vec::new();
    };
    let policy = policy_ir(&snap.db, snap.site);
    let text = snap.text();
    let mut out = Vec::new();
    for asset in policy
        .assets
        .iter()
        .filter(|a| a.span.file == file && a.span.start <= end && start <= a.span.end)
    {
        let Some(zone) = policy.zone(asset.zone) else {
            continue;
        };
        let covered: Vec<u8> = asset
            .compensating
            .iter()
            .flat_map(|c| c.covers.iter().copied())
            .collect();
        let open: Vec<&str> = gaps(asset, zone)
            .into_iter()
            .filter(|g| !covered.contains(g))
            .filter_map(|g| FR_NAMES.get(g as usize).copied())
            .collect();
        if open.is_empty() {
            continue;
        }
        let Some(node) = asset_node(&parsed(&snap.db, snap.file).file, asset.span.start) else {
            continue;
        };
        // What the justification relies on: an inline gateway facing the zone if there is one
        // (it can inspect what reaches the asset), else a firewall facing it, else isolation.
        let faces = |k: DeviceKind| {
            policy
                .devices
                .iter()
                .find(|d| d.kind == k && d.interfaces.iter().any(|i| i.faces.contains(&asset.zone)))
        };
        let relies_on = match (faces(DeviceKind::Gateway), faces(DeviceKind::Firewall)) {
            (Some(g), _) => format!("gateway {}", g.name),
            (None, Some(f)) => format!("firewall {}", f.name),
            (None, None) => "isolation".to_string(),
        };
        let expires = a_year_after(&palisade_compiler::checks::today());
        let Some((at, new_text)) = insertion(text, node, &open, &relies_on, &expires) else {
            continue;
        };
        let range = convert::range(&snap.db, snap.file, at, at);
        out.push(CodeActionOrCommand::CodeAction(CodeAction {
            title: format!(
                "add a compensating justification for `{}` ({})",
                asset.name,
                open.join(", ")
            ),
            kind: Some(CodeActionKind::QUICKFIX),
            edit: Some(edit(
                uri,
                vec![TextEdit { range, new_text }],
                document_changes,
            )),
            ..CodeAction::default()
        }));
    }
    out
}

/// The asset statement starting at `start`, with its statement span.
fn asset_node(file: &ast::SourceFile, start: u32) -> Option<(&ast::Asset, ast::Span)> {
    file.items.iter().find_map(|item| match &item.kind {
        ItemKind::Zone(z) => z.stmts.iter().find_map(|s| match &s.node {
            Some(ast::ZoneStmt::Asset(a)) if s.span.start == start => Some((a, s.span)),
            _ => None,
        }),
        _ => None,
    })
}

/// Where the template goes and its text, indented like the asset.
fn insertion(
    text: &str,
    (asset, span): (&ast::Asset, ast::Span),
    frs: &[&str],
    relies_on: &str,
    expires: &str,
) -> Option<(u32, String)> {
    let line_start = text
        .get(..span.start as usize)?
        .rfind('\n')
        .map(|i| i + 1)
        .unwrap_or(0);
    let indent: String = text
        .get(line_start..span.start as usize)?
        .chars()
        .take_while(|c| c.is_whitespace())
        .collect();
    let inner = format!("{indent}  ");
    let body = |ind: &str| {
        format!(
            "{ind}compensating {{\n{ind}  covers [{}]\n{ind}  relies_on {relies_on}\n{ind}  because \"<why the gap is acceptable>\"\n{ind}  owner \"<accountable owner>\"\n{ind}  expires {expires}\n{ind}}}\n",
            frs.join(", ")
        )
    };
    match &asset.body {
        None => Some((span.end, format!(" {{\n{}{indent}}}", body(&inner)))),
        Some(_) => {
            // Before the closing brace of the body.
            let close = span.end.checked_sub(1)?;
            if text.get(close as usize..span.end as usize) != Some("}") {
                return None;
            }
            let close_line = text
                .get(..close as usize)?
                .rfind('\n')
                .map(|i| i + 1)
                .unwrap_or(0);
            if text.get(close_line..close as usize)?.trim().is_empty() {
                Some((u32::try_from(close_line).ok()?, body(&inner)))
            } else {
                Some((close, format!("\n{}{indent}", body(&inner))))
            }
        }
    }
}

/// `YYYY-MM-DD` one year later (29 February becomes 28 February).
fn a_year_after(date: &str) -> String {
    let mut parts = date.splitn(3, '-');
    let (Some(y), Some(m), Some(d)) = (parts.next(), parts.next(), parts.next()) else {
        return date.to_string();
    };
    let Ok(y) = y.parse::<u32>() else {
        return date.to_string();
    };
    let d = if m == "02" && d == "29" { "28" } else { d };
    format!("{:04}-{m}-{d}", y + 1)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    #[test]
    fn templates_go_inside_the_asset() {
        let text = "zone z {\n  asset a at 10.0.0.1 {\n    kind plc\n  }\n}\n";
        let parsed = palisade_syntax::parse(text);
        let start = text.find("asset").unwrap() as u32;
        let node = asset_node(&parsed.file, start).unwrap();
        let (at, new) = insertion(text, node, &["FR1"], "isolation", "2030-01-01").unwrap();
        let mut out = text.to_string();
        out.insert_str(at as usize, &new);
        assert!(palisade_syntax::parse(&out).errors.is_empty(), "{out}");
        assert!(
            out.contains("    compensating {\n      covers [FR1]\n"),
            "{out}"
        );

        let text = "zone z { asset a at 10.0.0.1 }\n";
        let parsed = palisade_syntax::parse(text);
        let node = asset_node(&parsed.file, text.find("asset").unwrap() as u32).unwrap();
        let (at, new) = insertion(text, node, &["FR1", "FR2"], "isolation", "2030-01-01").unwrap();
        let mut out = text.to_string();
        out.insert_str(at as usize, &new);
        assert!(palisade_syntax::parse(&out).errors.is_empty(), "{out}");
    }

    #[test]
    fn a_year_later() {
        assert_eq!(a_year_after("2026-03-01"), "2027-03-01");
        assert_eq!(a_year_after("2028-02-29"), "2029-02-28");
    }
}
