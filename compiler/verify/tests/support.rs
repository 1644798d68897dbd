//! Loading a site from disk or from text as the command line does, on a fixed date.

use codespan_reporting::term::termcolor::NoColor;
use palisade_compiler::db::{policy_ir, site_diagnostics, Database};
use palisade_compiler::ir::Policy;
use palisade_compiler::render::{self, SourceMap};
use palisade_compiler::site::{self, Loaded, LoadedFile};
use palisade_compiler::Diagnostic;
use std::path::PathBuf;

pub const TODAY: &str = "2026-11-21";

pub struct Loaded2 {
    pub policy: Policy,
    pub front: Vec<Diagnostic>,
    pub sources: SourceMap,
}

fn finish(loaded: Loaded) -> Loaded2 {
    let mut sources = SourceMap::default();
    for f in &loaded.files {
        sources.add(&f.path, &f.text);
    }
    let db = Database::default();
    let s = site::into_site(&db, loaded, TODAY.to_string());
    let front = site_diagnostics(&db, s).clone();
    let policy = policy_ir(&db, s).clone();
    Loaded2 {
        policy,
        front,
        sources,
    }
}

/// Load a site by a path relative to this crate (made absolute: `site::normalize_path` folds
/// a leading `../..` wrongly).
pub fn load(path: &str) -> Loaded2 {
    let p = if path.starts_with("..") {
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(path)
    } else {
        PathBuf::from(path)
    };
    finish(site::load(&[p]).unwrap())
}

/// A site written in one text, with the standard library modules it needs.
pub fn from_text(text: &str) -> Loaded2 {
    let mut loaded = site::load_with(
        &[PathBuf::from("site.pal")],
        &|_| Ok(text.to_string()),
        &|_| Ok(Vec::new()),
    )
    .unwrap();
    loaded
        .files
        .retain(|f: &LoadedFile| f.std || f.path == "site.pal");
    finish(loaded)
}

pub fn human(diags: &[Diagnostic], sources: &SourceMap) -> String {
    let mut out = NoColor::new(Vec::new());
    render::human(diags, sources, &mut out).unwrap();
    String::from_utf8(out.into_inner()).unwrap()
}
