//! `textDocument/prepareRename` and `textDocument/rename`: rename a name and every use of
//! it across the site; refused when the new name is not a name, is a keyword, or is taken.

use crate::analysis::{definition, function, references, symbol_at, Symbol};
use crate::convert;
use crate::snapshot::Snapshot;
use palisade_compiler::db::policy_ir;
use palisade_compiler::symbols::site_symbols;
use palisade_syntax::lexer::is_keyword;
use std::collections::BTreeMap;
use tower_lsp_server::ls_types::{Position, PrepareRenameResponse, TextEdit, Uri, WorkspaceEdit};

/// Why a rename is refused, shown to the user.
pub struct Refusal(pub String);

pub fn prepare(snap: &Snapshot, pos: Position) -> Result<Option<PrepareRenameResponse>, Refusal> {
    let offset = snap.line_index().offset(snap.text(), pos);
    let Some((occ, symbol)) = symbol_at(snap, offset) else {
        return Ok(None);
    };
    renamable(snap, &symbol)?;
    let range = snap
        .line_index()
        .range(snap.text(), occ.span.start, occ.span.end);
    Ok(Some(PrepareRenameResponse::Range(range)))
}

pub fn rename(
    snap: &Snapshot,
    pos: Position,
    new_name: &str,
    document_changes: bool,
) -> Result<Option<WorkspaceEdit>, Refusal> {
    let offset = snap.line_index().offset(snap.text(), pos);
    let Some((_, symbol)) = symbol_at(snap, offset) else {
        return Ok(None);
    };
    renamable(snap, &symbol)?;
    if new_name == symbol.name() {
        return Ok(None);
    }
    check_new_name(snap, &symbol, new_name)?;
    let mut edits: BTreeMap<Uri, Vec<TextEdit>> = BTreeMap::new();
    for (file, span) in references(&snap.db, snap.site, &symbol, true) {
        let Some(uri) = convert::file_uri(&snap.db, file) else {
            continue;
        };
        let range = convert::range(&snap.db, file, span.start, span.end);
        edits.entry(uri).or_default().push(TextEdit {
            range,
            new_text: new_name.to_string(),
        });
    }
    Ok(Some(convert::workspace_edit(edits, document_changes)))
}

fn renamable(snap: &Snapshot, symbol: &Symbol) -> Result<(), Refusal> {
    if *symbol == Symbol::External {
        return Err(Refusal(
            "`external` is the built-in zone and cannot be renamed".into(),
        ));
    }
    let Some((file, _)) = definition(&snap.db, snap.site, symbol) else {
        return Err(Refusal(format!(
            "`{}` is not defined in this site",
            symbol.name()
        )));
    };
    if *file.std(&snap.db) {
        return Err(Refusal(format!(
            "`{}` is defined in the standard library, which cannot be edited",
            symbol.name()
        )));
    }
    Ok(())
}

fn check_new_name(snap: &Snapshot, symbol: &Symbol, new_name: &str) -> Result<(), Refusal> {
    let mut chars = new_name.chars();
    let valid = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_');
    if !valid {
        return Err(Refusal(format!(
            "`{new_name}` is not a name: use letters, digits and `_`, not starting with a digit"
        )));
    }
    if is_keyword(new_name) {
        return Err(Refusal(format!(
            "`{new_name}` is a keyword of the language"
        )));
    }
    match symbol {
        Symbol::Global { .. } => {
            if let Some(other) = site_symbols(&snap.db, snap.site).globals.get(new_name) {
                let place = if other.std {
                    " in the standard library".to_string()
                } else {
                    String::new()
                };
                return Err(Refusal(format!(
                    "`{new_name}` is already defined as a {}{place}",
                    other.kind.describe()
                )));
            }
        }
        Symbol::Function { family, .. } => {
            if let Some((p, _)) = function(policy_ir(&snap.db, snap.site), *family, new_name) {
                return Err(Refusal(format!(
                    "`{new_name}` is already a {} entry",
                    p.family.name()
                )));
            }
        }
        Symbol::External => {}
    }
    Ok(())
}
