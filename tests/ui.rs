//! UI tests: small sites under `tests/ui/` whose expected diagnostics are written in their
//! source, checked structurally (after ty's mdtest and Nickel's annotated fixtures), plus an
//! insta snapshot of each one's rendered diagnostics (after Gleam's `assert_module_error!`).
//!
//! # Fixtures
//!
//! - `tests/ui/AREA/NAME.pal` is a site of one file (plus the files it imports).
//! - `tests/ui/AREA/NAME/` is a site of every `.pal` file directly in that directory, as
//!   `palisade check DIR` reads it; files in its subdirectories come in only through `use`.
//!
//! Each fixture is a complete small site (a `site` item with its time zone, zones with
//! networks and levels), checked from scratch with today's date fixed at [`TODAY`].
//!
//! # Annotations
//!
//! An expected diagnostic is a comment on the line where its primary label starts:
//!
//! ```text
//!   allow hmi -> plc : modbus   // error[E0402]: is not in zone `control`
//! ```
//!
//! - An annotation is `SEVERITY[CODE]: TEXT`, SEVERITY being `error`, `warning` or `note`.
//!   TEXT (trimmed, not empty) must occur in the diagnostic's message; labels and help are
//!   left to the snapshot.
//! - The first `// error[`, `// warning[` or `// note[` of a line starts its annotations; the
//!   rest of the line is annotations separated by ` // `. An ordinary comment may come before
//!   them, never after. Two diagnostics on one line:
//!   `// error[E0101]: cannot find // warning[W0903]: never used`.
//! - Annotations are read from the raw lines of every file of the site, so they work on any
//!   line, even one the lexer cannot read (an unterminated string swallows them harmlessly).
//!
//! A fixture passes when the multiset of (file, line, severity, code) of its diagnostics
//! equals that of its annotations, and each annotation's text occurs in the message of the
//! diagnostic it pairs with. A fixture without annotations must check clean. A diagnostic
//! outside the fixture's own files (say, in the standard library) always fails it.
//!
//! # Snapshots
//!
//! `tests/snapshots/ui/AREA__NAME.snap` holds the fixture's source followed by its diagnostics
//! as `palisade check` prints them (without colour). After a deliberate change, review and
//! accept them: `INSTA_UPDATE=always cargo test -p palisade --test main ui::`, then read
//! `git diff tests/snapshots`.

use crate::support::{self, line_of, root, Checked, TODAY};
use palisade_compiler::codes::CODES;
use palisade_compiler::{Diagnostic, Severity};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

// ------------------------------------------------------------------ fixtures

/// One fixture: a file or a directory under `tests/ui/AREA/`.
#[derive(Clone, Debug)]
struct Fixture {
    /// Relative to the package root, e.g. `tests/ui/conduits/direction.pal`.
    path: PathBuf,
}

impl Fixture {
    /// `AREA__NAME`: the snapshot's name.
    fn name(&self) -> String {
        let rel = self.path.strip_prefix("tests/ui").unwrap_or(&self.path);
        let rel = rel.with_extension("");
        rel.components()
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .collect::<Vec<_>>()
            .join("__")
    }

    fn check(&self) -> Checked {
        support::check(std::slice::from_ref(&self.path))
            .unwrap_or_else(|e| panic!("{}: cannot load the fixture: {e}", self.path.display()))
    }
}

/// Every fixture, sorted. Cargo runs the tests in the package root, so paths stay relative.
fn fixtures() -> Vec<Fixture> {
    let ui = Path::new("tests/ui");
    assert!(
        root().join(ui).is_dir() && Path::new("Cargo.toml").is_file(),
        "the UI tests expect to run in the package root (cargo does this)"
    );
    let mut out = Vec::new();
    for area in sorted_entries(ui) {
        assert!(
            area.is_dir(),
            "{}: fixtures live in `tests/ui/AREA/`",
            area.display()
        );
        for entry in sorted_entries(&area) {
            if entry.is_dir() || entry.extension().is_some_and(|e| e == "pal") {
                out.push(Fixture { path: entry });
            }
        }
    }
    out
}

fn sorted_entries(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.expect("a directory entry").path())
        .collect();
    v.sort();
    v
}

// ------------------------------------------------------------------ annotations

#[derive(Clone, Debug, PartialEq, Eq)]
struct Annotation {
    file: String,
    line: usize,
    severity: Severity,
    code: String,
    text: String,
}

const MARKERS: [(&str, Severity); 3] = [
    ("// error[", Severity::Error),
    ("// warning[", Severity::Warning),
    ("// note[", Severity::Note),
];

fn severity_name(s: Severity) -> &'static str {
    match s {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Note => "note",
    }
}

/// The annotations of one file. A malformed annotation is an error, so that a typo never
/// silently turns an expectation into an ordinary comment.
fn annotations(file: &str, text: &str) -> Result<Vec<Annotation>, String> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let Some(start) = MARKERS.iter().filter_map(|(m, _)| line.find(m)).min() else {
            continue;
        };
        let rest = line[start..].strip_prefix("// ").unwrap_or(&line[start..]);
        for part in rest.split(" // ") {
            let a = parse_annotation(part)
                .map_err(|why| format!("{file}:{}: {why}: `{part}`", i + 1))?;
            let (severity, code, text) = a;
            out.push(Annotation {
                file: file.to_string(),
                line: i + 1,
                severity,
                code,
                text,
            });
        }
    }
    Ok(out)
}

/// `error[E0401]: text` → (severity, code, text).
fn parse_annotation(part: &str) -> Result<(Severity, String, String), &'static str> {
    let part = part.trim();
    let (severity, rest) = MARKERS
        .iter()
        .find_map(|(m, s)| part.strip_prefix(&m[3..]).map(|r| (*s, r)))
        .ok_or("an annotation starts with `error[`, `warning[` or `note[`")?;
    let (code, rest) = rest.split_once(']').ok_or("the code needs a closing `]`")?;
    let well_formed = code.len() == 5
        && code.starts_with(['E', 'W', 'N'])
        && code[1..].bytes().all(|b| b.is_ascii_digit());
    if !well_formed {
        return Err("a code is a letter and four digits, e.g. `E0401`");
    }
    let text = rest
        .strip_prefix(':')
        .ok_or("the code is followed by `: message text`")?
        .trim();
    if text.is_empty() {
        return Err("the message text is empty");
    }
    Ok((severity, code.to_string(), text.to_string()))
}

// ------------------------------------------------------------------ comparison

/// What went wrong with one fixture, one line per problem; empty when it passes.
fn compare(checked: &Checked) -> Vec<String> {
    let mut problems = Vec::new();
    let mut expected: Vec<Annotation> = Vec::new();
    let site_files: Vec<_> = checked.files.iter().filter(|f| !f.std).collect();
    for f in &site_files {
        match annotations(&f.path, &f.text) {
            Ok(a) => expected.extend(a),
            Err(e) => problems.push(e),
        }
    }
    type Key = (String, usize, Severity, String);
    let mut actual: BTreeMap<Key, Vec<&Diagnostic>> = BTreeMap::new();
    for d in &checked.diagnostics {
        let located = d.primary_location().and_then(|l| {
            let f = site_files.iter().find(|f| f.path == l.file)?;
            Some((l.file.clone(), line_of(&f.text, l.start)))
        });
        match located {
            Some((file, line)) => actual
                .entry((file, line, d.severity, d.code.clone()))
                .or_default()
                .push(d),
            None => problems.push(format!(
                "unexpected diagnostic outside the fixture's files: {}",
                support::human(std::slice::from_ref(d), &checked.sources)
            )),
        }
    }
    let mut wanted: BTreeMap<Key, Vec<&Annotation>> = BTreeMap::new();
    for a in &expected {
        wanted
            .entry((a.file.clone(), a.line, a.severity, a.code.clone()))
            .or_default()
            .push(a);
    }
    let keys: BTreeSet<&Key> = actual.keys().chain(wanted.keys()).collect();
    for key in keys {
        let (file, line, severity, code) = key;
        let diags = actual.get(key).map(Vec::as_slice).unwrap_or(&[]);
        let annots = wanted.get(key).map(Vec::as_slice).unwrap_or(&[]);
        let at = format!("{file}:{line}: {}[{code}]", severity_name(*severity));
        let pairs = pair_up(annots, diags);
        let lone_diags: Vec<&Diagnostic> = diags
            .iter()
            .enumerate()
            .filter(|(i, _)| !pairs.contains(&Some(*i)))
            .map(|(_, d)| *d)
            .collect();
        let lone_annots: Vec<&Annotation> = annots
            .iter()
            .zip(&pairs)
            .filter(|(_, p)| p.is_none())
            .map(|(a, _)| *a)
            .collect();
        // A diagnostic and an annotation left over at the same place differ in their text.
        for (a, d) in lone_annots.iter().zip(&lone_diags) {
            problems.push(format!(
                "{at}: the message {:?} does not contain {:?}",
                d.message, a.text
            ));
        }
        for d in lone_diags.iter().skip(lone_annots.len()) {
            problems.push(format!("{at}: unexpected: {}", d.message));
        }
        for a in lone_annots.iter().skip(lone_diags.len()) {
            problems.push(if diags.is_empty() {
                format!("{at}: missing: {}", a.text)
            } else {
                format!(
                    "{at}: missing: {} ({} annotated here, {} reported)",
                    a.text,
                    annots.len(),
                    diags.len()
                )
            });
        }
    }
    problems
}

/// Pair each annotation with a distinct diagnostic whose message contains its text
/// (a maximum bipartite matching, so the order of annotations on a line does not matter).
fn pair_up(annots: &[&Annotation], diags: &[&Diagnostic]) -> Vec<Option<usize>> {
    fn augment(
        a: usize,
        annots: &[&Annotation],
        diags: &[&Diagnostic],
        owner: &mut [Option<usize>],
        seen: &mut [bool],
    ) -> bool {
        for (d, diag) in diags.iter().enumerate() {
            if seen[d] || !diag.message.contains(&annots[a].text) {
                continue;
            }
            seen[d] = true;
            if owner[d].is_none() || augment(owner[d].unwrap_or(0), annots, diags, owner, seen) {
                owner[d] = Some(a);
                return true;
            }
        }
        false
    }
    let mut owner: Vec<Option<usize>> = vec![None; diags.len()];
    for a in 0..annots.len() {
        let mut seen = vec![false; diags.len()];
        augment(a, annots, diags, &mut owner, &mut seen);
    }
    (0..annots.len())
        .map(|a| owner.iter().position(|o| *o == Some(a)))
        .collect()
}

// ------------------------------------------------------------------ tests

#[test]
fn fixtures_report_exactly_what_they_annotate() {
    let fixtures = fixtures();
    assert!(
        fixtures.len() > 50,
        "the UI fixtures are missing ({} found)",
        fixtures.len()
    );
    let mut failures = Vec::new();
    for f in &fixtures {
        let checked = f.check();
        let problems = compare(&checked);
        if !problems.is_empty() {
            failures.push(format!(
                "{}\n  {}\n  --- what the checker reports:\n{}",
                f.path.display(),
                problems.join("\n  "),
                checked.short()
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} UI fixtures fail (today = {TODAY}):\n\n{}",
        failures.len(),
        fixtures.len(),
        failures.join("\n")
    );
}

#[test]
fn fixture_snapshots() {
    let mut failed = Vec::new();
    for f in fixtures() {
        let checked = f.check();
        let mut shown = String::new();
        for file in checked.files.iter().filter(|x| !x.std) {
            shown.push_str(&format!("--- {}\n{}", file.path, file.text));
            if !file.text.ends_with('\n') {
                shown.push('\n');
            }
        }
        shown.push_str("--- diagnostics\n");
        if checked.diagnostics.is_empty() {
            shown.push_str("(none)\n");
        } else {
            shown.push_str(&checked.human());
        }
        let mut settings = insta::Settings::clone_current();
        settings.set_snapshot_path("snapshots/ui");
        settings.set_prepend_module_to_snapshot(false);
        settings.set_omit_expression(true);
        settings.set_input_file(root().join(&f.path));
        let name = f.name();
        // One failing snapshot must not hide the others: insta panics, so catch each.
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            settings.bind(|| insta::assert_snapshot!(name.clone(), shown));
        }));
        if result.is_err() {
            failed.push(f.path.display().to_string());
        }
    }
    assert!(failed.is_empty(), "snapshots differ for:\n  {}\nreview with `cargo insta review`, or accept with INSTA_UPDATE=always", failed.join("\n  "));
}

/// The codes the fixtures annotate.
fn annotated_codes() -> BTreeSet<String> {
    let mut codes = BTreeSet::new();
    for f in fixtures() {
        let files = if f.path.is_dir() {
            support::files_under(&f.path, "pal")
        } else {
            vec![f.path.clone()]
        };
        for file in files {
            // Lossy: a fixture may hold bytes that are not UTF-8 on purpose (E0004).
            let text =
                String::from_utf8_lossy(&std::fs::read(&file).unwrap_or_default()).into_owned();
            let shown = file.display().to_string();
            for a in annotations(&shown, &text).unwrap_or_default() {
                codes.insert(a.code);
            }
        }
    }
    codes
}

/// Where the front end's diagnostics come from: its code literals live here.
const FRONT_END: [&str; 3] = ["compiler/src", "compiler/syntax/src", "src"];
/// Every crate that emits diagnostics; the verifier's and targets' codes are theirs to test.
const ALL_SOURCES: [&str; 6] = [
    "compiler/src",
    "compiler/syntax/src",
    "compiler/verify/src",
    "targets/src",
    "lsp/src",
    "src",
];

/// Code literals (`"E0401"`) in the `.rs` files under `dirs`, with the files naming each.
/// `codes.rs`, the catalogue itself, is left out.
fn emitted_codes(dirs: &[&str]) -> BTreeMap<String, Vec<String>> {
    let mut found: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for dir in dirs {
        for file in support::files_under(&root().join(dir), "rs") {
            if file.ends_with("compiler/src/codes.rs") {
                continue;
            }
            let text = std::fs::read_to_string(&file).expect("a readable source file");
            let shown = file
                .strip_prefix(root())
                .unwrap_or(&file)
                .display()
                .to_string();
            for code in code_literals(&text) {
                let files = found.entry(code).or_default();
                if !files.contains(&shown) {
                    files.push(shown.clone());
                }
            }
        }
    }
    found
}

/// Every code the front end (lexer, parser, loader, lowering, checks) can emit is triggered
/// by a UI fixture. Codes of `palisade verify` and of the targets are listed, not required:
/// they never come out of `site_diagnostics`, so their tests live with those crates.
#[test]
fn every_code_has_a_fixture() {
    let annotated = annotated_codes();
    let front_end = emitted_codes(&FRONT_END);
    assert!(
        front_end.len() > 40,
        "the scan of the front end found only {} codes",
        front_end.len()
    );
    let missing: Vec<&str> = CODES
        .iter()
        .map(|c| c.code)
        .filter(|c| front_end.contains_key(*c) && !annotated.contains(*c))
        .collect();
    assert!(
        missing.is_empty(),
        "no UI fixture under tests/ui/ triggers {}",
        missing.join(", ")
    );
    let unknown: Vec<&String> = annotated
        .iter()
        .filter(|c| !CODES.iter().any(|k| k.code == c.as_str()))
        .collect();
    assert!(
        unknown.is_empty(),
        "fixtures annotate codes that `codes::CODES` does not list: {unknown:?}"
    );
    let elsewhere: Vec<&str> = CODES
        .iter()
        .map(|c| c.code)
        .filter(|c| !front_end.contains_key(*c))
        .collect();
    eprintln!(
        "codes left to the verifier's and targets' suites: {}",
        elsewhere.join(", ")
    );
}

/// The catalogue holds no dead entries: every code in it is emitted somewhere.
#[test]
fn every_listed_code_is_emitted() {
    let emitted = emitted_codes(&ALL_SOURCES);
    let dead: Vec<&str> = CODES
        .iter()
        .map(|c| c.code)
        .filter(|c| !emitted.contains_key(*c))
        .collect();
    assert!(
        dead.is_empty(),
        "codes::CODES lists codes that no source emits: {}",
        dead.join(", ")
    );
}

#[test]
fn codes_are_unique_and_explained() {
    let mut seen = BTreeSet::new();
    for c in CODES {
        assert!(seen.insert(c.code), "{} is listed twice", c.code);
        assert!(!c.title.trim().is_empty(), "{} has no title", c.code);
        // Lowercase like messages, except for a leading acronym (`IPv6 …`).
        let first = c.title.split_whitespace().next().unwrap_or("");
        let capitalised =
            first.starts_with(char::is_uppercase) && first.chars().skip(1).all(char::is_lowercase);
        assert!(
            !capitalised && !c.title.ends_with('.'),
            "{}: titles are lowercase without a final period: {:?}",
            c.code,
            c.title
        );
        assert!(
            c.explanation.trim().len() > 40,
            "{} has no real explanation",
            c.code
        );
        assert_eq!(
            palisade_compiler::codes::lookup(&c.code.to_lowercase()).map(|x| x.code),
            Some(c.code)
        );
    }
}

/// Every code literal in the sources (`"E0401"`, `"W0903"`, in `Diagnostic::error` calls or
/// in tables of codes) names an entry of `CODES` with an explanation for `palisade explain`.
#[test]
fn every_emitted_code_is_explained() {
    let found = emitted_codes(&ALL_SOURCES);
    assert!(
        found.len() > 40,
        "the scan found only {} codes",
        found.len()
    );
    let unexplained: Vec<String> = found
        .iter()
        .filter(|(code, _)| {
            !CODES
                .iter()
                .any(|c| c.code == code.as_str() && !c.explanation.trim().is_empty())
        })
        .map(|(code, files)| format!("{code} (in {})", files.join(", ")))
        .collect();
    assert!(
        unexplained.is_empty(),
        "codes emitted but missing from codes::CODES: {}",
        unexplained.join("; ")
    );
}

/// String literals of the shape `"E0000"` or `"W0000"`.
fn code_literals(text: &str) -> Vec<String> {
    let b = text.as_bytes();
    let mut out = Vec::new();
    for i in 0..b.len().saturating_sub(6) {
        let lit = &b[i..i + 7];
        if lit[0] == b'"'
            && matches!(lit[1], b'E' | b'W')
            && lit[2..6].iter().all(u8::is_ascii_digit)
            && lit[6] == b'"'
        {
            out.push(String::from_utf8_lossy(&lit[1..6]).into_owned());
        }
    }
    out
}

// ------------------------------------------------------------------ the harness itself

#[test]
fn annotation_syntax() {
    let text = "zone a { } // an ordinary comment // error[E0306]: has no network // warning[W0903]: never used\n\
                role r\n\
                // note[N0001]: a note on its own line\n";
    let a = annotations("f.pal", text).unwrap();
    let got: Vec<(usize, &str, &str)> = a
        .iter()
        .map(|a| (a.line, a.code.as_str(), a.text.as_str()))
        .collect();
    assert_eq!(
        got,
        [
            (1, "E0306", "has no network"),
            (1, "W0903", "never used"),
            (3, "N0001", "a note on its own line")
        ]
    );
    assert_eq!(a[1].severity, Severity::Warning);
    for bad in [
        "x // error[E0306] no colon",
        "x // error[E401]: short code",
        "x // error[E0306]:   ",
        "x // error[E0306: unclosed",
    ] {
        assert!(annotations("f.pal", bad).is_err(), "accepted {bad:?}");
    }
}

#[test]
fn the_comparison_catches_every_kind_of_mismatch() {
    use palisade_compiler::diagnostic::Location;
    let text = "site \"s\" { timezone \"UTC\" }\nzone a { } // error[E0306]: has no network // error[E0306]: has no network\nzone b { } // error[E0306]: lacks a network\n";
    let mut sources = palisade_compiler::render::SourceMap::default();
    sources.add("f.pal", text);
    let at = |line_start: u32| Location {
        file: "f.pal".into(),
        start: line_start,
        end: line_start + 4,
    };
    let line2 = text.find("zone a").unwrap() as u32;
    let line3 = text.find("zone b").unwrap() as u32;
    let checked = Checked {
        files: vec![palisade_compiler::site::LoadedFile {
            path: "f.pal".into(),
            text: text.into(),
            std: false,
        }],
        diagnostics: vec![
            Diagnostic::error("E0306", "zone `a` has no network").primary(at(line2), ""),
            Diagnostic::error("E0306", "zone `b` has no network").primary(at(line3), ""),
            Diagnostic::warning("W0903", "zone `b` is never used").primary(at(line3), ""),
        ],
        sources,
    };
    let problems = compare(&checked);
    assert_eq!(problems.len(), 3, "{problems:#?}");
    assert!(
        problems.iter().any(|p| p.contains(
            "f.pal:2: error[E0306]: missing: has no network (2 annotated here, 1 reported)"
        )),
        "{problems:#?}"
    );
    assert!(problems.iter().any(|p| p.contains(":3: error[E0306]: the message \"zone `b` has no network\" does not contain \"lacks a network\"")), "{problems:#?}");
    assert!(
        problems
            .iter()
            .any(|p| p.contains(":3: warning[W0903]: unexpected")),
        "{problems:#?}"
    );
}
