//! `textDocument/references`: every use of the name under the cursor across the site.

use crate::analysis::{references, symbol_at};
use crate::convert;
use crate::snapshot::Snapshot;
use tower_lsp_server::ls_types::{Location, Position};

pub fn references_at(
    snap: &Snapshot,
    pos: Position,
    include_declaration: bool,
) -> Option<Vec<Location>> {
    let offset = snap.line_index().offset(snap.text(), pos);
    let (_, symbol) = symbol_at(snap, offset)?;
    let found = references(&snap.db, snap.site, &symbol, include_declaration);
    Some(
        found
            .into_iter()
            .filter_map(|(file, span)| convert::location(&snap.db, file, span.start, span.end))
            .collect(),
    )
}
