//! Rendering diagnostics: for people (codespan-reporting), one line each, or JSON.

use crate::diagnostic::{Diagnostic, Location, Severity};
use codespan_reporting::diagnostic as cs;
use codespan_reporting::files::SimpleFiles;
use codespan_reporting::term::{self, termcolor::WriteColor};
use serde::Serialize;
use std::collections::BTreeMap;

/// Characters a terminal must not receive raw: controls (they move the cursor, change colours,
/// end lines) and bidi controls and invisible formatting (they reorder or hide what a reader
/// sees). Tabs and line feeds pass; so does a CR that ends a line (`\r\n`).
fn hidden(c: char, next: Option<char>) -> bool {
    (c.is_control() && c != '\n' && c != '\t' && !(c == '\r' && next == Some('\n')))
        || matches!(c, '\u{200b}'..='\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2060}'..='\u{2069}' | '\u{061c}' | '\u{feff}')
}

/// Text for a terminal: every [`hidden`] character written as its Rust escape (`\u{1b}`),
/// everything else as it is.
pub fn escape_for_terminal(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        if hidden(c, chars.peek().copied()) {
            out.push_str(&format!("\\u{{{:x}}}", c as u32));
        } else {
            out.push(c);
        }
    }
    out
}

/// A file as the terminal shows it ([`escape_for_terminal`]), with the offsets of the
/// original: `(original end of an escaped character, how much longer the text is from there)`.
struct Shown {
    text: String,
    shifts: Vec<(usize, usize)>,
}

impl Shown {
    fn new(text: &str) -> Shown {
        let mut out = String::with_capacity(text.len());
        let mut shifts = Vec::new();
        let mut chars = text.char_indices().peekable();
        while let Some((i, c)) = chars.next() {
            if hidden(c, chars.peek().map(|(_, n)| *n)) {
                out.push_str(&format!("\\u{{{:x}}}", c as u32));
                shifts.push((i + c.len_utf8(), out.len() - (i + c.len_utf8())));
            } else {
                out.push(c);
            }
        }
        Shown { text: out, shifts }
    }

    /// Where an offset of the original lies in the shown text.
    fn offset(&self, original: usize) -> usize {
        let before = self.shifts.partition_point(|(end, _)| *end <= original);
        let shift = before
            .checked_sub(1)
            .and_then(|i| self.shifts.get(i))
            .map(|(_, s)| *s)
            .unwrap_or(0);
        original + shift
    }
}

/// The texts of the files diagnostics point into, by path.
#[derive(Default)]
pub struct SourceMap {
    files: SimpleFiles<String, String>,
    ids: BTreeMap<String, usize>,
    texts: BTreeMap<String, String>,
    shown: BTreeMap<String, Shown>,
}

impl SourceMap {
    pub fn add(&mut self, path: &str, text: &str) {
        if !self.ids.contains_key(path) {
            let shown = Shown::new(text);
            let id = self
                .files
                .add(escape_for_terminal(path), shown.text.clone());
            self.ids.insert(path.to_string(), id);
            self.texts.insert(path.to_string(), text.to_string());
            self.shown.insert(path.to_string(), shown);
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
            // Offsets into the file as shown, where hidden characters are escapes.
            let (start, end) = match map.shown.get(&l.location.file) {
                Some(shown) => (shown.offset(start), shown.offset(end)),
                None => (start, end),
            };
            let style = if l.primary {
                cs::LabelStyle::Primary
            } else {
                cs::LabelStyle::Secondary
            };
            Some(
                cs::Label::new(style, id, start..end).with_message(escape_for_terminal(&l.message)),
            )
        })
        .collect();
    let mut notes: Vec<String> = d.notes.iter().map(|n| escape_for_terminal(n)).collect();
    if let Some(h) = &d.help {
        notes.push(format!("help: {}", escape_for_terminal(h)));
    }
    cs::Diagnostic::new(severity)
        .with_code(d.code.clone())
        .with_message(escape_for_terminal(&d.message))
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
                    escape_for_terminal(&l.file),
                    d.code,
                    escape_for_terminal(&d.message)
                ));
            }
            None => s.push_str(&format!(
                "{sev}[{}]: {}\n",
                d.code,
                escape_for_terminal(&d.message)
            )),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terminal_text_shows_hidden_characters_as_escapes() {
        assert_eq!(
            escape_for_terminal("a\u{1b}[2Jb\r\u{202e}c\td\r\n"),
            "a\\u{1b}[2Jb\\u{d}\\u{202e}c\td\r\n"
        );
        assert_eq!(escape_for_terminal("Zürich"), "Zürich");
    }

    #[test]
    fn labels_point_at_the_same_text_after_escaping() {
        let text = "role r \"\u{1b}[31mred\" zone z\n";
        let mut map = SourceMap::default();
        map.add("f.pal", text);
        let start = text.find("zone").unwrap_or(0) as u32;
        let d = Diagnostic::error("E0101", "bad \u{7}")
            .primary(
                Location {
                    file: "f.pal".into(),
                    start,
                    end: start + 4,
                },
                "here",
            )
            .help("x\u{202e}y");
        let mut out = codespan_reporting::term::termcolor::NoColor::new(Vec::new());
        human(std::slice::from_ref(&d), &map, &mut out).unwrap_or_default();
        let shown = String::from_utf8(out.into_inner()).unwrap_or_default();
        assert!(
            !shown.contains('\u{1b}') && !shown.contains('\u{7}') && !shown.contains('\u{202e}'),
            "{shown}"
        );
        assert!(
            shown.contains("\\u{1b}[31mred") && shown.contains("bad \\u{7}"),
            "{shown}"
        );
        // The caret stands under `zone` in the escaped line.
        let lines: Vec<&str> = shown.lines().collect();
        let at = lines.iter().position(|l| l.contains("zone z")).unwrap_or(0);
        let column = |l: Option<&&str>, pat: &str| l.and_then(|l| l.find(pat));
        assert_eq!(
            column(lines.get(at), "zone"),
            column(lines.get(at + 1), "^^^^"),
            "{shown}"
        );
        assert_eq!(short(&[d], &map), "f.pal:1:19: error[E0101]: bad \\u{7}\n");
    }
}
