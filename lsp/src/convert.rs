//! Between the compiler's world (paths, byte spans, `Diagnostic`) and the protocol's (URIs,
//! UTF-16 ranges, `lsp::Diagnostic`).

use crate::line_index::LineIndex;
use palisade_compiler::db::{Site, SourceFile};
use palisade_compiler::diagnostic::{Diagnostic, Severity};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use tower_lsp_server::ls_types::{self as lsp, Uri};

/// The line index of a file's text, recomputed only when the text changes.
#[salsa::tracked(returns(ref))]
pub fn line_index(db: &dyn salsa::Database, file: SourceFile) -> LineIndex {
    LineIndex::new(file.text(db))
}

pub fn uri_to_path(uri: &Uri) -> Option<PathBuf> {
    if uri.scheme().as_str() != "file" {
        return None;
    }
    uri.to_file_path()
        .map(|p| palisade_compiler::site::normalize_path(&p))
}

pub fn path_to_uri(path: &Path) -> Option<Uri> {
    Uri::from_file_path(path)
}

/// The file input of a path among a site's files (`None` for the standard library, which
/// has no URI an editor could open).
pub fn file_uri(db: &dyn salsa::Database, file: SourceFile) -> Option<Uri> {
    if *file.std(db) {
        return None;
    }
    path_to_uri(Path::new(file.path(db)))
}

pub fn range(db: &dyn salsa::Database, file: SourceFile, start: u32, end: u32) -> lsp::Range {
    line_index(db, file).range(file.text(db), start, end)
}

pub fn location(
    db: &dyn salsa::Database,
    file: SourceFile,
    start: u32,
    end: u32,
) -> Option<lsp::Location> {
    Some(lsp::Location {
        uri: file_uri(db, file)?,
        range: range(db, file, start, end),
    })
}

/// The site's file inputs by the path diagnostics name them with.
pub fn files_by_path(db: &dyn salsa::Database, site: Site) -> BTreeMap<&str, SourceFile> {
    site.files(db)
        .iter()
        .map(|f| (f.path(db).as_str(), *f))
        .collect()
}

/// One diagnostic for the protocol: the primary label gives the range, the other labels
/// become related information, notes and help follow the message on lines of their own.
pub fn diagnostic(
    db: &dyn salsa::Database,
    files: &BTreeMap<&str, SourceFile>,
    d: &Diagnostic,
) -> Option<(SourceFile, lsp::Diagnostic)> {
    let primary = d.primary_location();
    let file = match primary {
        Some(l) => *files.get(l.file.as_str())?,
        // A diagnostic about no place in particular goes to the top of the site's first file.
        None => files.values().copied().find(|f| !*f.std(db))?,
    };
    let range = match primary {
        Some(l) => self::range(db, file, l.start, l.end),
        None => lsp::Range::default(),
    };
    let related: Vec<lsp::DiagnosticRelatedInformation> = d
        .labels
        .iter()
        .filter(|l| !l.primary)
        .filter_map(|l| {
            let f = *files.get(l.location.file.as_str())?;
            let location = location(db, f, l.location.start, l.location.end)?;
            Some(lsp::DiagnosticRelatedInformation {
                location,
                message: l.message.clone(),
            })
        })
        .collect();
    let mut message = d.message.clone();
    if let Some(label) = d
        .labels
        .iter()
        .find(|l| l.primary)
        .filter(|l| !l.message.is_empty())
    {
        message.push_str(&format!("\n{}", label.message));
    }
    for n in &d.notes {
        message.push_str(&format!("\nnote: {n}"));
    }
    if let Some(h) = &d.help {
        message.push_str(&format!("\nhelp: {h}"));
    }
    let severity = match d.severity {
        Severity::Error => lsp::DiagnosticSeverity::ERROR,
        Severity::Warning => lsp::DiagnosticSeverity::WARNING,
        Severity::Note => lsp::DiagnosticSeverity::INFORMATION,
    };
    let out = lsp::Diagnostic {
        range,
        severity: Some(severity),
        code: Some(lsp::NumberOrString::String(d.code.clone())),
        code_description: None,
        source: Some("palisade".into()),
        message,
        related_information: (!related.is_empty()).then_some(related),
        tags: None,
        data: None,
    };
    Some((file, out))
}

/// Edits to several files: versioned `documentChanges` (in file order) when the client
/// takes them, else the plain `changes` map.
pub fn workspace_edit(
    edits: BTreeMap<Uri, Vec<lsp::TextEdit>>,
    document_changes: bool,
) -> lsp::WorkspaceEdit {
    if document_changes {
        let docs = edits
            .into_iter()
            .map(|(uri, edits)| lsp::TextDocumentEdit {
                text_document: lsp::OptionalVersionedTextDocumentIdentifier { uri, version: None },
                edits: edits.into_iter().map(lsp::OneOf::Left).collect(),
            })
            .collect();
        lsp::WorkspaceEdit {
            changes: None,
            document_changes: Some(lsp::DocumentChanges::Edits(docs)),
            change_annotations: None,
        }
    } else {
        lsp::WorkspaceEdit {
            changes: Some(edits.into_iter().collect()),
            document_changes: None,
            change_annotations: None,
        }
    }
}

/// The "did you mean `x`?" suggestion of a diagnostic's help, if any.
pub fn suggestion(help: &str) -> Option<&str> {
    let rest = help.split("did you mean `").nth(1)?;
    rest.split('`').next().filter(|s| !s.is_empty())
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    #[test]
    fn suggestions_are_read_from_help() {
        assert_eq!(suggestion("did you mean `control`?"), Some("control"));
        assert_eq!(
            suggestion("standard services come with `use std.services`"),
            None
        );
    }
}
