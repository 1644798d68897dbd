//! SARIF 2.1.0 rendering of diagnostics (`--message-format sarif` of `check` and `verify`), for
//! code-review tools such as GitHub code scanning (see docs/ci.md).
//!
//! One run, one result per diagnostic. The rule id is the diagnostic code; each rule carries
//! the code's title and its `palisade explain` text as help. Every label becomes a location:
//! the primary one in `locations`, the others in `relatedLocations`. Regions are 1-based
//! lines and columns counted in Unicode code points (`columnKind`), artifact URIs are relative
//! to `%SRCROOT%` (the working directory) whenever the file lies under it.

use palisade_compiler::codes;
use palisade_compiler::diagnostic::{Diagnostic, Location, Severity};
use palisade_compiler::render::SourceMap;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::path::Path;

pub const SCHEMA: &str = "https://json.schemastore.org/sarif-2.1.0.json";

/// The SARIF log of `diags`, pretty-printed. `root` is the directory artifact URIs are relative to.
pub fn render(diags: &[Diagnostic], sources: &SourceMap, root: &Path) -> String {
    let mut rules: BTreeMap<&str, Value> = BTreeMap::new();
    for d in diags {
        rules
            .entry(d.code.as_str())
            .or_insert_with(|| rule(&d.code));
    }
    let index: BTreeMap<&str, usize> = rules.keys().enumerate().map(|(i, k)| (*k, i)).collect();
    let mut artifacts: Vec<String> = Vec::new();
    let results: Vec<Value> = diags
        .iter()
        .map(|d| {
            let mut primary = Vec::new();
            let mut related = Vec::new();
            for (i, l) in d.labels.iter().enumerate() {
                let uri = artifact_uri(&l.location.file, root);
                if !artifacts.contains(&uri) {
                    artifacts.push(uri.clone());
                }
                let mut loc = location(&l.location, &uri, sources);
                if let Some(obj) = loc.as_object_mut() {
                    if !l.message.is_empty() {
                        obj.insert("message".into(), json!({ "text": l.message }));
                    }
                }
                if l.primary && primary.is_empty() {
                    primary.push(loc);
                } else {
                    if let Some(obj) = loc.as_object_mut() {
                        obj.insert("id".into(), json!(i));
                    }
                    related.push(loc);
                }
            }
            let mut text = d.message.clone();
            for n in &d.notes {
                text.push_str(&format!("\nnote: {n}"));
            }
            if let Some(h) = &d.help {
                text.push_str(&format!("\nhelp: {h}"));
            }
            let mut r = json!({
                "ruleId": d.code,
                "ruleIndex": index.get(d.code.as_str()).copied().unwrap_or(0),
                "level": level(d.severity),
                "message": { "text": text },
            });
            if let Some(obj) = r.as_object_mut() {
                if !primary.is_empty() {
                    obj.insert("locations".into(), Value::Array(primary));
                }
                if !related.is_empty() {
                    obj.insert("relatedLocations".into(), Value::Array(related));
                }
            }
            r
        })
        .collect();
    artifacts.sort();
    let log = json!({
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": { "driver": {
                "name": "palisade",
                "version": env!("CARGO_PKG_VERSION"),
                "rules": rules.into_values().collect::<Vec<_>>(),
            }},
            "originalUriBaseIds": { "%SRCROOT%": { "description": { "text": "the directory palisade ran in" } } },
            "artifacts": artifacts.iter().map(|u| json!({ "location": { "uri": u, "uriBaseId": "%SRCROOT%" } })).collect::<Vec<_>>(),
            "columnKind": "unicodeCodePoints",
            "results": results,
        }],
    });
    serde_json::to_string_pretty(&log).unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"))
}

fn level(s: Severity) -> &'static str {
    match s {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Note => "note",
    }
}

fn rule(code: &str) -> Value {
    match codes::lookup(code) {
        Some(c) => json!({
            "id": c.code,
            "name": c.code,
            "shortDescription": { "text": c.title },
            "fullDescription": { "text": c.title },
            "help": { "text": format!("{}\n\n{}\n\n(`palisade explain {}`)", c.title, c.explanation, c.code) },
            "defaultConfiguration": { "level": if c.code.starts_with('W') { "warning" } else { "error" } },
        }),
        None => json!({ "id": code, "shortDescription": { "text": code } }),
    }
}

fn location(l: &Location, uri: &str, sources: &SourceMap) -> Value {
    let (line, col) = sources.line_col(&l.file, l.start);
    let (end_line, end_col) = sources.line_col(&l.file, l.end.max(l.start));
    json!({
        "physicalLocation": {
            "artifactLocation": { "uri": uri, "uriBaseId": "%SRCROOT%" },
            "region": { "startLine": line, "startColumn": col, "endLine": end_line, "endColumn": end_col },
        }
    })
}

/// The file as a URI reference relative to `root` (forward slashes, percent-encoded).
pub fn artifact_uri(file: &str, root: &Path) -> String {
    let p = Path::new(file);
    let rel = if p.is_absolute() {
        p.strip_prefix(root).unwrap_or(p)
    } else {
        p
    };
    let s = rel.to_string_lossy().replace('\\', "/");
    let s = s.strip_prefix("./").unwrap_or(&s);
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~/".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uris_are_relative_and_encoded() {
        assert_eq!(
            artifact_uri("/w/site/a b.pal", Path::new("/w")),
            "site/a%20b.pal"
        );
        assert_eq!(artifact_uri("./x.pal", Path::new("/w")), "x.pal");
    }
}
