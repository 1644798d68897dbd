//! Rendering diagnostics: for people (codespan-reporting), one line each, or JSON.

use crate::diagnostic::{Diagnostic, Location, Severity};
use codespan_reporting::diagnostic as cs;
use codespan_reporting::files::SimpleFiles;
use codespan_reporting::term::{self, termcolor::WriteColor};
use serde::Serialize;
use std::collections::BTreeMap;

/// The texts of the files diagnostics point into, by path.
#[derive(Default)]
pub struct SourceMap {
    files: SimpleFiles<String, String>,
    ids: BTreeMap<String, usize>,
    texts: BTreeMap<String, String>,
}

impl SourceMap {
    pub fn add(&mut self, path: &str, text: &str) {
        if !self.ids.contains_key(path) {
            let id = self.files.add(path.to_string(), text.to_string());
            self.ids.insert(path.to_string(), id);
            self.texts.insert(path.to_string(), text.to_string());
        }
    }

    /// 1-based line and column (in characters) of a byte offset.
    pub fn line_col(&self, path: &str, offset: u32) -> (usize, usize) {
        let Some(text) = self.texts.get(path) else {
            return (1, 1);
        };
        let offset = (offset as usize).min(text.len());
        let before = text.get(..offset).unwrap_or("");
        let line = before.matches('\n').count() + 1;
        let col = before
            .rsplit('\n')
            .next()
            .map(|l| l.chars().count())
            .unwrap_or(0)
            + 1;
        (line, col)
    }
}

fn to_codespan(d: &Diagnostic, map: &SourceMap) -> cs::Diagnostic<usize> {
    let severity = match d.severity {
        Severity::Error => cs::Severity::Error,
        Severity::Warning => cs::Severity::Warning,
        Severity::Note => cs::Severity::Note,
    };
    let labels = d
        .labels
        .iter()
        .filter_map(|l| {
            let id = *map.ids.get(&l.location.file)?;
            let len = map
                .texts
                .get(&l.location.file)
                .map(|t| t.len())
                .unwrap_or(0);
            let start = (l.location.start as usize).min(len);
            let end = (l.location.end as usize).clamp(start, len);
            let style = if l.primary {
                cs::LabelStyle::Primary
            } else {
                cs::LabelStyle::Secondary
            };
            Some(cs::Label::new(style, id, start..end).with_message(l.message.clone()))
        })
        .collect();
    let mut notes = d.notes.clone();
    if let Some(h) = &d.help {
        notes.push(format!("help: {h}"));
    }
    cs::Diagnostic::new(severity)
        .with_code(d.code.clone())
        .with_message(d.message.clone())
        .with_labels(labels)
        .with_notes(notes)
}

pub fn human(
    diags: &[Diagnostic],
    map: &SourceMap,
    out: &mut dyn WriteColor,
) -> std::io::Result<()> {
    let config = term::Config::default();
    for d in diags {
        term::emit_to_write_style(out, &config, &map.files, &to_codespan(d, map))
            .map_err(|e| std::io::Error::other(e.to_string()))?;
    }
    Ok(())
}

pub fn short(diags: &[Diagnostic], map: &SourceMap) -> String {
    let mut s = String::new();
    for d in diags {
        let sev = match d.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Note => "note",
        };
        match d.primary_location() {
            Some(l) => {
                let (line, col) = map.line_col(&l.file, l.start);
                s.push_str(&format!(
                    "{}:{line}:{col}: {sev}[{}]: {}\n",
                    l.file, d.code, d.message
                ));
            }
            None => s.push_str(&format!("{sev}[{}]: {}\n", d.code, d.message)),
        }
    }
    s
}

#[derive(Serialize)]
struct JsonLabel<'a> {
    file: &'a str,
    start: u32,
    end: u32,
    line: usize,
    column: usize,
    end_line: usize,
    end_column: usize,
    message: &'a str,
    primary: bool,
}

#[derive(Serialize)]
struct JsonDiagnostic<'a> {
    code: &'a str,
    severity: Severity,
    message: &'a str,
    labels: Vec<JsonLabel<'a>>,
    notes: &'a [String],
    help: &'a Option<String>,
}

#[derive(Serialize)]
struct JsonReport<'a> {
    diagnostics: Vec<JsonDiagnostic<'a>>,
    errors: usize,
    warnings: usize,
}

pub fn json(diags: &[Diagnostic], map: &SourceMap) -> String {
    let report = JsonReport {
        diagnostics: diags
            .iter()
            .map(|d| JsonDiagnostic {
                code: &d.code,
                severity: d.severity,
                message: &d.message,
                labels: d
                    .labels
                    .iter()
                    .map(|l| {
                        let Location { file, start, end } = &l.location;
                        let (line, column) = map.line_col(file, *start);
                        let (end_line, end_column) = map.line_col(file, *end);
                        JsonLabel {
                            file,
                            start: *start,
                            end: *end,
                            line,
                            column,
                            end_line,
                            end_column,
                            message: &l.message,
                            primary: l.primary,
                        }
                    })
                    .collect(),
                notes: &d.notes,
                help: &d.help,
            })
            .collect(),
        errors: diags
            .iter()
            .filter(|d| d.severity == Severity::Error)
            .count(),
        warnings: diags
            .iter()
            .filter(|d| d.severity == Severity::Warning)
            .count(),
    };
    serde_json::to_string_pretty(&report).unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"))
}
