//! `textDocument/definition`: where the name under the cursor is defined (in the site's
//! files or, for a standard-library name, nowhere an editor can open).

use crate::analysis::{definition, symbol_at};
use crate::convert;
use crate::snapshot::Snapshot;
use tower_lsp_server::ls_types::{GotoDefinitionResponse, Position};

pub fn definition_at(snap: &Snapshot, pos: Position) -> Option<GotoDefinitionResponse> {
    let offset = snap.line_index().offset(snap.text(), pos);
    let (_, symbol) = symbol_at(snap, offset)?;
    let (file, span) = definition(&snap.db, snap.site, &symbol)?;
    let location = convert::location(&snap.db, file, span.start, span.end)?;
    Some(GotoDefinitionResponse::Scalar(location))
}
