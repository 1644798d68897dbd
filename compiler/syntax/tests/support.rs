//! Helpers shared by the formatter tests: tree comparison modulo spans and the round trip.

use palisade_syntax::format::format;
use palisade_syntax::parse;
use std::path::{Path, PathBuf};

/// `text` with every `Span { start: N, end: M }` replaced by `Span`, so that two trees
/// printed with `{:?}` compare equal when they differ only in positions.
pub fn without_spans(debug: &str) -> String {
    const SPAN: &str = "Span { start: ";
    let mut out = String::with_capacity(debug.len());
    let mut rest = debug;
    while let Some(at) = rest.find(SPAN) {
        out.push_str(&rest[..at]);
        out.push_str("Span");
        let after = &rest[at..];
        let close = after.find('}').expect("a span's closing brace");
        rest = &after[close + 1..];
    }
    out.push_str(rest);
    out
}

/// The syntax tree of `text` without positions, and its comment texts in order.
pub fn shape(text: &str) -> (String, Vec<String>) {
    let parsed = parse(text);
    let tree = without_spans(&format!("{:?}", parsed.file.items));
    let comments = parsed.file.comments.into_iter().map(|c| c.text).collect();
    (tree, comments)
}

/// Format `text` (which must parse without errors) and check that the result parses
/// without errors to the same tree, keeps every comment in order, and is a fixed point.
/// Returns the formatted text.
pub fn round_trip(text: &str) -> Result<String, String> {
    let before = parse(text);
    if !before.errors.is_empty() {
        return Err(format!("the input has syntax errors: {:?}", before.errors));
    }
    let once = format(text).map_err(|e| format!("format refused: {e}"))?;
    let after = parse(&once);
    if !after.errors.is_empty() {
        return Err(format!(
            "the output has syntax errors {:?}\n--- output\n{once}",
            after.errors
        ));
    }
    let (tree_before, comments_before) = shape(text);
    let (tree_after, comments_after) = shape(&once);
    if tree_before != tree_after {
        return Err(format!(
            "the tree changed\n--- before\n{tree_before}\n--- after\n{tree_after}\n--- output\n{once}"
        ));
    }
    if comments_before != comments_after {
        return Err(format!(
            "the comments changed\n--- before\n{comments_before:?}\n--- after\n{comments_after:?}\n--- output\n{once}"
        ));
    }
    let twice = format(&once).map_err(|e| format!("format refused its own output: {e}"))?;
    if twice != once {
        return Err(format!(
            "not idempotent\n--- input\n{text}\n--- once\n{once}\n--- twice\n{twice}"
        ));
    }
    Ok(once)
}

/// The language reference, which exercises every construct, plus a profile (not in the
/// reference yet): the text the properties mutate.
pub const SAMPLE: &str = concat!(
    include_str!("reference.pal"),
    r#"
profile default "Site profile" {
  description "stricter than the default"
  require no_broad_rules { min_level 0x2 }
  require break_glass_limits {
    max_duration 4h
    review_within 72h
    safety_roles [safety_engineer, plant_manager]
  }
  disable inspected_writes
  require dataflow_protection
}
"#
);

/// Every `.pal` file under the repository's `examples/` and `stdlib/` (none yet is fine),
/// plus the reference.
pub fn corpus() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = vec![root.join("tests/reference.pal")];
    for dir in ["../../examples", "../../stdlib"] {
        collect(&root.join(dir), &mut files);
    }
    files
}

fn collect(dir: &Path, files: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut paths: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    paths.sort();
    for path in paths {
        if path.is_dir() {
            collect(&path, files);
        } else if path.extension().is_some_and(|e| e == "pal") {
            files.push(path);
        }
    }
}
