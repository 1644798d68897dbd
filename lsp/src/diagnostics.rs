//! A site's diagnostics, per file, as the protocol wants them. The same query the command
//! line prints (`site_diagnostics`) is the only source.

use crate::convert;
use palisade_compiler::db::{site_diagnostics, Site};
use palisade_compiler::diagnostic::Diagnostic;
use std::collections::BTreeMap;
use std::path::PathBuf;
use tower_lsp_server::ls_types as lsp;

/// Diagnostics by file path; every site file has an entry (empty when clean), so that a
/// file whose problems are fixed gets its list cleared.
pub type FileDiagnostics = BTreeMap<PathBuf, Vec<lsp::Diagnostic>>;

pub fn for_site(db: &dyn salsa::Database, site: Site) -> FileDiagnostics {
    by_file(db, site, site_diagnostics(db, site))
}

pub fn by_file(db: &dyn salsa::Database, site: Site, diags: &[Diagnostic]) -> FileDiagnostics {
    let files = convert::files_by_path(db, site);
    let mut out: FileDiagnostics = site
        .files(db)
        .iter()
        .filter(|f| !*f.std(db))
        .map(|f| (PathBuf::from(f.path(db)), Vec::new()))
        .collect();
    for d in diags {
        if let Some((file, diag)) = convert::diagnostic(db, &files, d) {
            if let Some(list) = out.get_mut(&PathBuf::from(file.path(db))) {
                list.push(diag);
            }
        }
    }
    out
}
