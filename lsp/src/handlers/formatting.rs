//! `textDocument/formatting`: the front end's formatter (`palisade fmt`). A file with
//! syntax errors is left alone, as `palisade fmt` leaves it.

use crate::snapshot::Snapshot;
use tower_lsp_server::ls_types::TextEdit;

pub fn formatting(snap: &Snapshot) -> Option<Vec<TextEdit>> {
    let text = snap.text();
    let formatted = palisade_syntax::format::format(text).ok()?;
    if formatted == text {
        return Some(Vec::new());
    }
    let index = snap.line_index();
    let whole = index.range(text, 0, u32::try_from(text.len()).ok()?);
    Some(vec![TextEdit {
        range: whole,
        new_text: formatted,
    }])
}
