//! Helpers shared by the suites: loading a site from disk as the command line does, but on a
//! fixed date, and rendering its diagnostics without colour.

use codespan_reporting::term::termcolor::NoColor;
use palisade_compiler::db::{site_diagnostics, Database};
use palisade_compiler::render::{self, SourceMap};
use palisade_compiler::site::{self, LoadedFile};
use palisade_compiler::Diagnostic;
use std::path::{Path, PathBuf};

/// Expiry checks compare against this date, so that results do not change with the calendar.
pub const TODAY: &str = "2026-11-21";

/// The package root. Cargo runs integration tests there, so the suites name files by paths
/// relative to it and diagnostics show `tests/ui/…` rather than a machine's home directory.
pub fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// A site checked from scratch: its files (standard library first), diagnostics and sources.
pub struct Checked {
    pub files: Vec<LoadedFile>,
    pub diagnostics: Vec<Diagnostic>,
    pub sources: SourceMap,
}

impl Checked {
    pub fn errors(&self) -> impl Iterator<Item = &Diagnostic> {
        self.diagnostics.iter().filter(|d| d.is_error())
    }

    /// The diagnostics one per line, `file:line:col: severity[code]: message`.
    pub fn short(&self) -> String {
        render::short(&self.diagnostics, &self.sources)
    }

    /// The diagnostics as a person reads them on a terminal, without colour.
    pub fn human(&self) -> String {
        human(&self.diagnostics, &self.sources)
    }
}

/// Load the site named by `paths` (a file with its imports, or a directory) and check it.
pub fn check(paths: &[PathBuf]) -> std::io::Result<Checked> {
    let loaded = site::load(paths)?;
    let files = loaded.files.clone();
    let mut sources = SourceMap::default();
    for f in &files {
        sources.add(&f.path, &f.text);
    }
    let db = Database::default();
    let site = site::into_site(&db, loaded, TODAY.to_string());
    let diagnostics = site_diagnostics(&db, site).clone();
    Ok(Checked {
        files,
        diagnostics,
        sources,
    })
}

pub fn human(diagnostics: &[Diagnostic], sources: &SourceMap) -> String {
    let mut out = NoColor::new(Vec::new());
    render::human(diagnostics, sources, &mut out).expect("rendering into memory cannot fail");
    String::from_utf8(out.into_inner()).expect("the renderer writes UTF-8")
}

/// 1-based line of a byte offset.
pub fn line_of(text: &str, offset: u32) -> usize {
    let offset = (offset as usize).min(text.len());
    text.as_bytes()[..offset]
        .iter()
        .filter(|b| **b == b'\n')
        .count()
        + 1
}

/// Every file under `dir` (recursively) whose name ends in `ext`, sorted.
pub fn files_under(dir: &Path, ext: &str) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == ext) {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

/// A fresh directory under the system's temporary directory, removed on drop.
pub struct TempDir(PathBuf);

impl TempDir {
    pub fn new(name: &str) -> TempDir {
        use std::sync::atomic::{AtomicUsize, Ordering};
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let dir =
            std::env::temp_dir().join(format!("palisade-test-{}-{n}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("creating a temporary directory");
        TempDir(dir)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }

    /// Write `text` to `name` inside the directory and return its path.
    pub fn write(&self, name: &str, text: impl AsRef<[u8]>) -> PathBuf {
        let p = self.0.join(name);
        std::fs::write(&p, text).expect("writing a temporary file");
        p
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
