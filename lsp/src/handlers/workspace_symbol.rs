//! `workspace/symbol`: every definition in the loaded sites whose name matches the query
//! (case-insensitive, letters in order).

use crate::convert;
use crate::snapshot::WorkspaceSnapshot;
use palisade_compiler::symbols::{site_symbols, SymbolKind as K};
use std::collections::BTreeSet;
use tower_lsp_server::ls_types::{SymbolInformation, SymbolKind, WorkspaceSymbolResponse};

/// At most this many answers; the editor asks again as the query grows.
const LIMIT: usize = 500;

pub fn workspace_symbols(ws: &WorkspaceSnapshot, query: &str) -> Option<WorkspaceSymbolResponse> {
    let mut seen = BTreeSet::new();
    let mut out = Vec::new();
    for site in &ws.sites {
        for def in &site_symbols(&ws.db, *site).all {
            if def.std
                || !matches(query, &def.name)
                || !seen.insert((def.file.path(&ws.db).clone(), def.span))
            {
                continue;
            }
            let Some(location) = convert::location(&ws.db, def.file, def.span.start, def.span.end)
            else {
                continue;
            };
            #[allow(deprecated)] // `SymbolInformation::deprecated` must still be written
            out.push(SymbolInformation {
                name: def.name.clone(),
                kind: lsp_kind(def.kind),
                tags: None,
                deprecated: None,
                location,
                container_name: Some(def.kind.describe().to_string()),
            });
            if out.len() >= LIMIT {
                return Some(WorkspaceSymbolResponse::Flat(out));
            }
        }
    }
    Some(WorkspaceSymbolResponse::Flat(out))
}

/// Whether the query's characters appear in the name in order, ignoring case.
fn matches(query: &str, name: &str) -> bool {
    let mut name = name.chars().flat_map(char::to_lowercase);
    query
        .chars()
        .flat_map(char::to_lowercase)
        .all(|q| name.any(|c| c == q))
}

pub fn lsp_kind(kind: K) -> SymbolKind {
    match kind {
        K::Const => SymbolKind::CONSTANT,
        K::Role => SymbolKind::CLASS,
        K::Service => SymbolKind::INTERFACE,
        K::Group => SymbolKind::ARRAY,
        K::Zone => SymbolKind::NAMESPACE,
        K::Asset => SymbolKind::OBJECT,
        K::Conduit => SymbolKind::STRUCT,
        K::Firewall | K::Gateway => SymbolKind::INTERFACE,
        K::Link => SymbolKind::OPERATOR,
        K::WorkOrder => SymbolKind::EVENT,
        K::DataFlow => SymbolKind::FIELD,
        K::Function => SymbolKind::FUNCTION,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::matches;

    #[test]
    fn fuzzy_matching() {
        assert!(matches("plc", "plc_crude"));
        assert!(matches("pcr", "plc_crude"));
        assert!(matches("", "anything"));
        assert!(!matches("xyz", "plc_crude"));
    }
}
