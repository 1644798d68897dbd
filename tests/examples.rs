//! The shipped examples are real sites: each checks without an error. The standard library
//! parses cleanly and brings no diagnostic of its own into a site.

use crate::support::{self, root};
use palisade_compiler::db::{site_diagnostics, Database};
use palisade_compiler::site::{self, Loaded, LoadedFile};
use palisade_compiler::stdlib;
use std::path::PathBuf;

/// `examples/NAME` for every directory under `examples/`, relative to the package root.
fn example_dirs() -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(root().join("examples"))
        .expect("the examples directory")
        .filter_map(|e| e.ok())
        .filter(|e| e.path().is_dir())
        .map(|e| PathBuf::from("examples").join(e.file_name()))
        .collect();
    dirs.sort();
    dirs
}

#[test]
fn every_example_checks_without_errors() {
    let dirs = example_dirs();
    assert!(
        dirs.len() >= 3,
        "expected the shipped examples, found {dirs:?}"
    );
    let mut failures = Vec::new();
    let mut warnings = Vec::new();
    for dir in &dirs {
        let checked = match support::check(std::slice::from_ref(dir)) {
            Ok(c) => c,
            Err(e) => {
                failures.push(format!("{}: cannot load: {e}", dir.display()));
                continue;
            }
        };
        if checked.errors().next().is_some() {
            failures.push(format!("{}:\n{}", dir.display(), checked.human()));
        }
        for d in checked.diagnostics.iter().filter(|d| !d.is_error()) {
            warnings.push(format!(
                "  {}: {}[{}] {}",
                dir.display(),
                "warning",
                d.code,
                d.message
            ));
        }
        // Every example file belongs to the site (none is silently skipped).
        let files = support::files_under(dir, "pal");
        let loaded = checked.files.iter().filter(|f| !f.std).count();
        assert!(
            loaded >= files.len(),
            "{}: {} files on disk, {loaded} loaded",
            dir.display(),
            files.len()
        );
    }
    assert!(
        failures.is_empty(),
        "examples with errors:\n{}\n(warnings, which are allowed:\n{})",
        failures.join("\n"),
        warnings.join("\n")
    );
}

#[test]
fn the_standard_library_parses_cleanly() {
    assert!(!stdlib::MODULES.is_empty());
    for (name, path, text) in stdlib::MODULES {
        let parsed = palisade_syntax::parse(text);
        let errors: Vec<String> = parsed
            .errors
            .iter()
            .map(|e| {
                format!(
                    "{path}:{}: {}",
                    support::line_of(text, e.span.start),
                    e.message
                )
            })
            .collect();
        assert!(
            errors.is_empty(),
            "std.{name} has syntax errors:\n{}",
            errors.join("\n")
        );
        assert!(!parsed.file.items.is_empty(), "std.{name} is empty");
    }
}

/// A site that imports every module and declares nothing else: whatever the checker says
/// about the standard library itself would show here.
#[test]
fn the_standard_library_brings_no_diagnostics() {
    let mut loaded = Loaded::default();
    for (_, path, text) in stdlib::MODULES {
        loaded.files.push(LoadedFile {
            path: path.to_string(),
            text: text.to_string(),
            std: true,
        });
    }
    loaded.files.push(LoadedFile {
        path: "site.pal".into(),
        text: "site \"Empty\" { timezone \"UTC\" }\n".into(),
        std: false,
    });
    let db = Database::default();
    let site = site::into_site(&db, loaded.clone(), support::TODAY.into());
    let diags = site_diagnostics(&db, site);
    let mut sources = palisade_compiler::render::SourceMap::default();
    for f in &loaded.files {
        sources.add(&f.path, &f.text);
    }
    assert!(diags.is_empty(), "{}", support::human(diags, &sources));
}
