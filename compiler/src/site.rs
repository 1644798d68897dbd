//! Finding a site's files: a directory's `*.pal` files or a single file, every file they
//! import with `use "…"`, and the standard-library modules they `use`.

use crate::db::{Database, Site, SourceFile};
use crate::diagnostic::{did_you_mean, Diagnostic, Location};
use crate::stdlib;
use palisade_syntax::ast::{ItemKind, Use};
use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};
use std::io;
use std::path::{Component, Path, PathBuf};

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LoadedFile {
    pub path: String,
    pub text: String,
    pub std: bool,
}

#[derive(Clone, Debug, Default)]
pub struct Loaded {
    pub files: Vec<LoadedFile>,
    pub errors: Vec<Diagnostic>,
}

/// Lexically normalised path (no `.`, `..` folded where possible), for stable display.
pub fn normalize_path(p: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                // Only a real directory name can be folded away; `..` after `..` accumulates.
                let foldable = matches!(out.components().next_back(), Some(Component::Normal(_)));
                if !(foldable && out.pop()) {
                    out.push("..");
                }
            }
            other => out.push(other.as_os_str()),
        }
    }
    out
}

/// Load the site named by `paths` from disk. An unreadable top-level path is an I/O error
/// (usage problem); an unreadable import is a diagnostic on the `use` that names it; a file
/// that is not UTF-8 is a diagnostic (E0004) at its first offending byte.
pub fn load(paths: &[PathBuf]) -> io::Result<Loaded> {
    let not_utf8: RefCell<BTreeMap<PathBuf, usize>> = RefCell::default();
    let read = |p: &Path| -> io::Result<String> {
        let (text, invalid) = decode(&read_regular(p)?);
        if let Some(at) = invalid {
            not_utf8.borrow_mut().insert(p.to_path_buf(), at);
        }
        Ok(text)
    };
    let mut loaded = load_with(paths, &read, &|p: &Path| list_dir(p))?;
    for (path, at) in not_utf8.into_inner() {
        let file = path.display().to_string();
        loaded.errors.push(
            Diagnostic::error("E0004", format!("`{file}` is not valid UTF-8 at byte {at}"))
                .primary(
                    Location {
                        file,
                        start: at as u32,
                        end: at as u32 + 1,
                    },
                    "not UTF-8",
                )
                .help("save the file as UTF-8"),
        );
    }
    Ok(loaded)
}

/// A source file's bytes as text. Each byte that is not part of valid UTF-8 becomes a space,
/// so every offset stays that of the file; the offset of the first such byte is returned.
pub fn decode(bytes: &[u8]) -> (String, Option<usize>) {
    let mut out = String::with_capacity(bytes.len());
    let mut first = None;
    let mut rest = bytes;
    let mut offset = 0;
    loop {
        match std::str::from_utf8(rest) {
            Ok(s) => {
                out.push_str(s);
                return (out, first);
            }
            Err(e) => {
                let good = e.valid_up_to();
                let valid = rest.get(..good).unwrap_or_default();
                out.push_str(std::str::from_utf8(valid).unwrap_or_default());
                let bad = e
                    .error_len()
                    .unwrap_or(rest.len().saturating_sub(good))
                    .max(1);
                first.get_or_insert(offset + good);
                out.extend(std::iter::repeat_n(' ', bad));
                rest = rest.get(good + bad..).unwrap_or_default();
                offset += good + bad;
            }
        }
    }
}

/// Load a site whose files are in memory, `(name, text)` in the directory `dir`, as `load`
/// would from disk: for generated sites, benchmarks and tests. A `use` of a file not among
/// them is the diagnostic an unreadable import gets.
pub fn load_in_memory(dir: &Path, files: &[(String, String)]) -> io::Result<Loaded> {
    let paths: Vec<PathBuf> = files.iter().map(|(n, _)| dir.join(n)).collect();
    let read = |p: &Path| -> io::Result<String> {
        files
            .iter()
            .find(|(n, _)| dir.join(n) == p)
            .map(|(_, t)| t.clone())
            .ok_or_else(|| io::Error::new(io::ErrorKind::NotFound, p.display().to_string()))
    };
    let list = |_: &Path| -> io::Result<Vec<PathBuf>> { Ok(paths.clone()) };
    load_with(&paths, &read, &list)
}

/// The project root imports may not leave: the top of the version-control checkout that
/// holds the first site path (a directory with `.git`), else that path's directory.
fn project_root(paths: &[PathBuf]) -> PathBuf {
    let first = paths.first().cloned().unwrap_or_default();
    let dir = if first.is_dir() {
        first
    } else {
        first.parent().map(Path::to_path_buf).unwrap_or_default()
    };
    let abs = std::path::absolute(&dir).unwrap_or(dir);
    let abs = normalize_path(&abs);
    abs.ancestors()
        .find(|a| a.join(".git").exists())
        .map(Path::to_path_buf)
        .unwrap_or(abs)
}

/// Why an import target lies outside `root`, if it does.
fn outside(root: &Path, written: &str, target: &Path) -> Option<String> {
    if Path::new(written).is_absolute() {
        return Some("an absolute path".into());
    }
    let abs = normalize_path(&std::path::absolute(target).unwrap_or_else(|_| target.to_path_buf()));
    (!abs.starts_with(root)).then(|| "this path leaves the project root".into())
}

/// Files larger than this are refused rather than read (`/dev/zero` as an import, or a
/// runaway generator): the largest benchmark site is a few MB.
pub const MAX_FILE_BYTES: u64 = 64 * 1024 * 1024;

/// Read a regular file (after symlinks), at most [`MAX_FILE_BYTES`]: a FIFO, a device or a
/// directory is an error, never a read that hangs or grows without bound.
fn read_regular(p: &Path) -> io::Result<Vec<u8>> {
    use std::io::Read;
    let meta = std::fs::metadata(p)?;
    if !meta.is_file() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("{} is not a regular file", p.display()),
        ));
    }
    let mut bytes = Vec::new();
    std::fs::File::open(p)?
        .take(MAX_FILE_BYTES + 1)
        .read_to_end(&mut bytes)?;
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("{} is larger than {MAX_FILE_BYTES} bytes", p.display()),
        ));
    }
    Ok(bytes)
}

/// Every `*.pal` entry of a directory that is not itself a directory: a dangling or looping
/// symlink is listed too, so that reading it fails loudly instead of the site silently
/// losing a file.
fn list_dir(dir: &Path) -> io::Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.extension().is_some_and(|e| e == "pal") && !path.is_dir() {
            files.push(path);
        }
    }
    files.sort();
    Ok(files)
}

pub type ReadFn<'a> = &'a dyn Fn(&Path) -> io::Result<String>;
pub type ListFn<'a> = &'a dyn Fn(&Path) -> io::Result<Vec<PathBuf>>;

pub fn load_with(paths: &[PathBuf], read: ReadFn<'_>, list: ListFn<'_>) -> io::Result<Loaded> {
    let mut queue: Vec<PathBuf> = Vec::new();
    for p in paths {
        if p.is_dir() {
            let files = list(p)?;
            if files.is_empty() {
                return Err(io::Error::new(
                    io::ErrorKind::NotFound,
                    format!("no .pal files in {}", p.display()),
                ));
            }
            queue.extend(files);
        } else {
            queue.push(p.clone());
        }
    }
    let mut loaded = Loaded::default();
    let root = project_root(paths);
    let mut seen: BTreeSet<PathBuf> = BTreeSet::new();
    let mut modules: BTreeSet<String> = stdlib::IMPLICIT.iter().map(|s| s.to_string()).collect();
    let mut site_files = Vec::new();
    let top_level = queue.len();
    let mut i = 0;
    while let Some(path) = queue.get(i).cloned() {
        i += 1;
        let path = normalize_path(&path);
        if !seen.insert(path.clone()) {
            continue;
        }
        let text = match read(&path) {
            Ok(t) => t,
            Err(e) if i <= top_level => {
                return Err(io::Error::new(e.kind(), format!("{}: {e}", path.display())))
            }
            Err(_) => continue, // reported on the `use` below
        };
        let display = path.display().to_string();
        let parsed = palisade_syntax::parse(&text);
        for item in &parsed.file.items {
            match &item.kind {
                ItemKind::Use(Use::File(s)) => {
                    let target =
                        normalize_path(&path.parent().unwrap_or(Path::new("")).join(&s.value));
                    let here = Location {
                        file: display.clone(),
                        start: s.span.start,
                        end: s.span.end,
                    };
                    // Checked before anything is read: whether a file outside the project
                    // exists, or what it holds, never shows in a diagnostic.
                    if let Some(why) = outside(&root, &s.value, &target) {
                        let d = Diagnostic::error(
                            "E0015",
                            format!("`use \"{}\"` reaches outside the project", s.value.escape_debug()),
                        )
                        .primary(here, why)
                        .help("imports stay inside the project: the version-control checkout that holds the site, or else its directory; copy the file into it");
                        loaded.errors.push(d);
                        continue;
                    }
                    if read(&target).is_err() {
                        let d = Diagnostic::error(
                            "E0010",
                            format!("cannot read imported file `{}`", s.value),
                        )
                        .primary(
                            Location {
                                file: display.clone(),
                                start: s.span.start,
                                end: s.span.end,
                            },
                            format!("no readable file at {}", target.display()),
                        )
                        .help("a `use \"…\"` path is relative to the file that contains it");
                        loaded.errors.push(d);
                    } else {
                        queue.push(target);
                    }
                }
                ItemKind::Use(Use::Module(parts)) => {
                    let names: Vec<&str> = parts.iter().map(|p| p.name.as_str()).collect();
                    match names.as_slice() {
                        ["std", m] if stdlib::module(m).is_some() => {
                            modules.insert(m.to_string());
                        }
                        _ => {
                            let written = names.join(".");
                            let span = parts
                                .first()
                                .map(|p| p.span)
                                .unwrap_or_default()
                                .to(parts.last().map(|p| p.span).unwrap_or_default());
                            let candidates: Vec<String> =
                                stdlib::names().map(|m| format!("std.{m}")).collect();
                            let hint =
                                did_you_mean(&written, candidates.iter().map(|s| s.as_str()))
                                    .unwrap_or_else(|| {
                                        format!(
                                            "the standard library has {}",
                                            candidates.join(", ")
                                        )
                                    });
                            let d =
                                Diagnostic::error("E0011", format!("unknown module `{written}`"))
                                    .primary(
                                        Location {
                                            file: display.clone(),
                                            start: span.start,
                                            end: span.end,
                                        },
                                        "no such module",
                                    )
                                    .help(hint);
                            loaded.errors.push(d);
                        }
                    }
                }
                _ => {}
            }
        }
        site_files.push(LoadedFile {
            path: display,
            text,
            std: false,
        });
    }
    // Standard modules first, in the library's own order, so that site files shadow them.
    for (name, path, text) in stdlib::MODULES {
        if modules.contains(*name) {
            loaded.files.push(LoadedFile {
                path: path.to_string(),
                text: text.to_string(),
                std: true,
            });
        }
    }
    loaded.files.extend(site_files);
    Ok(loaded)
}

/// Put a loaded site into the database.
pub fn into_site(db: &Database, loaded: Loaded, today: String) -> Site {
    let files = loaded
        .files
        .into_iter()
        .map(|f| SourceFile::new(db, f.path, f.text, f.std))
        .collect();
    Site::new(db, files, loaded.errors, today)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parent_directories_accumulate() {
        assert_eq!(
            normalize_path(Path::new("../../examples/x.pal")),
            PathBuf::from("../../examples/x.pal")
        );
        assert_eq!(
            normalize_path(Path::new("a/./b/../c.pal")),
            PathBuf::from("a/c.pal")
        );
        assert_eq!(
            normalize_path(Path::new("a/../../c.pal")),
            PathBuf::from("../c.pal")
        );
    }

    #[test]
    fn invalid_utf8_keeps_offsets() {
        assert_eq!(decode(b"zone a"), ("zone a".to_string(), None));
        assert_eq!(
            decode(b"ab\xffc\xe2\x82d\xc3\xa9"),
            ("ab c  d\u{e9}".to_string(), Some(2))
        );
        assert_eq!(decode(b"x\xe2\x82"), ("x  ".to_string(), Some(1)));
    }
}
