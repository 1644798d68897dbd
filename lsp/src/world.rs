//! The edit thread: the one owner of the open documents, the sites and the database inputs.
//!
//! Document notifications arrive here in the order the client sent them (see `sync.rs`).
//! The thread applies each edit to its document, sets the new text in the database and
//! starts a background check of every site the file belongs to. Setting an input waits
//! until every snapshot is dropped; snapshots live only on blocking threads that salsa
//! cancels, never on this thread or on one it waits for, so an edit is never stuck behind
//! a query. Results come back here as messages and are published only if no newer edit
//! has superseded them.

use crate::convert;
use crate::diagnostics::{self, FileDiagnostics};
use crate::line_index::LineIndex;
use crate::proofs::{AfterSave, Cancel};
use crate::snapshot::{site_dir, SharedHandle};
use palisade_compiler::db::{parsed, policy_ir, site_diagnostics, Site, SourceFile};
use palisade_compiler::diagnostic::Diagnostic;
use palisade_compiler::site::{self, Loaded};
use palisade_syntax::ast::{self, ItemKind};
use salsa::Setter;
use std::collections::{BTreeMap, BTreeSet};
use std::panic::AssertUnwindSafe;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, Sender};
use std::sync::Arc;
use tower_lsp_server::ls_types::{self as lsp, Uri};

pub enum Msg {
    Open {
        uri: Uri,
        text: String,
        version: i32,
    },
    Change {
        uri: Uri,
        version: i32,
        changes: Vec<lsp::TextDocumentContentChangeEvent>,
    },
    Save {
        uri: Uri,
    },
    Close {
        uri: Uri,
    },
    /// Files changed on disk (created, changed or deleted) outside the editor.
    FilesChanged {
        uris: Vec<Uri>,
    },
    /// A background check finished (or was cancelled by an edit, or crashed).
    Checked {
        dir: PathBuf,
        job: u64,
        outcome: Outcome<FileDiagnostics>,
    },
    /// The after-save checks finished; `None` when an edit cancelled them.
    Proved {
        dir: PathBuf,
        text_rev: u64,
        outcome: Option<Vec<Diagnostic>>,
    },
}

pub enum Outcome<T> {
    Done(T),
    /// An edit cancelled the computation; it runs again on the new text.
    Cancelled,
    /// The compiler panicked: a bug, reported in the editor rather than hidden.
    Crashed(String),
}

impl<T> Outcome<T> {
    fn of(f: impl FnOnce() -> T) -> Outcome<T> {
        match std::panic::catch_unwind(AssertUnwindSafe(f)) {
            Ok(v) => Outcome::Done(v),
            Err(payload) if payload.is::<salsa::Cancelled>() => Outcome::Cancelled,
            Err(payload) => {
                let text = payload
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
                    .unwrap_or_else(|| "unknown panic".into());
                Outcome::Crashed(text)
            }
        }
    }
}

/// One `textDocument/publishDiagnostics`.
pub struct Publish {
    pub uri: Uri,
    pub diagnostics: Vec<lsp::Diagnostic>,
    pub version: Option<i32>,
}

/// What the edit thread sends the client, in order.
pub enum Out {
    Diagnostics(Publish),
    /// A line for the client's log (`window/logMessage`): what the after-save proofs do.
    Log(String),
}

/// Where document notifications go, and how many went: a request first waits until the
/// edit thread has applied every notification sent before it (read your own edits).
#[derive(Clone)]
pub struct Inbox {
    tx: Sender<Msg>,
    sent: Arc<AtomicU64>,
    applied: tokio::sync::watch::Receiver<u64>,
}

impl Inbox {
    pub fn send_document(&self, msg: Msg) {
        self.sent.fetch_add(1, Ordering::SeqCst);
        // The edit thread lives as long as the process; a failed send means it is gone and
        // there is nobody left to tell.
        let _ = self.tx.send(msg);
    }

    /// Wait until every document notification sent so far has been applied.
    pub async fn caught_up(&self) {
        let target = self.sent.load(Ordering::SeqCst);
        let mut applied = self.applied.clone();
        let _ = applied.wait_for(|n| *n >= target).await;
    }
}

struct Doc {
    text: String,
    version: i32,
}

struct SiteState {
    /// The site's own files (standard library excluded), in load order.
    files: Vec<PathBuf>,
    today: String,
    /// Bumped by every change to the text of one of the site's files.
    text_rev: u64,
    /// The newest check started; older results are dropped.
    job: u64,
    /// Needs a check (after an edit, or because one was cancelled).
    dirty: bool,
    /// Document versions the newest check saw.
    versions: BTreeMap<PathBuf, i32>,
    checked: FileDiagnostics,
    /// After-save results and the text revision they were computed for.
    proofs: Option<(u64, FileDiagnostics)>,
    /// While the after-save checks run: how to stop them (an edit does).
    proving: Option<Cancel>,
    prove_again: bool,
    published: BTreeMap<PathBuf, (Option<i32>, Vec<lsp::Diagnostic>)>,
}

impl SiteState {
    /// The text of a file of the site changed: check it again, and stop a proof of the old
    /// text (its result would be discarded anyway).
    fn text_changed(&mut self) {
        self.text_rev += 1;
        self.dirty = true;
        if let Some(cancel) = &self.proving {
            cancel.cancel();
        }
    }
}

pub struct World {
    shared: SharedHandle,
    docs: BTreeMap<PathBuf, Doc>,
    std_files: BTreeMap<String, SourceFile>,
    sites: BTreeMap<PathBuf, SiteState>,
    /// The `use` items of every loaded file: when they change, the site's file set may too.
    imports: BTreeMap<PathBuf, Vec<Use>>,
    tx: Sender<Msg>,
    publish: tokio::sync::mpsc::UnboundedSender<Out>,
    runtime: tokio::runtime::Handle,
    after_save: Arc<dyn AfterSave>,
    applied: tokio::sync::watch::Sender<u64>,
    applied_count: u64,
    next_job: u64,
}

/// Start the edit thread; returns where to send document notifications.
pub fn spawn(
    shared: SharedHandle,
    publish: tokio::sync::mpsc::UnboundedSender<Out>,
    runtime: tokio::runtime::Handle,
    after_save: Arc<dyn AfterSave>,
) -> std::io::Result<Inbox> {
    let (tx, rx) = std::sync::mpsc::channel();
    let (applied, applied_rx) = tokio::sync::watch::channel(0);
    let world = World {
        shared,
        docs: BTreeMap::new(),
        std_files: BTreeMap::new(),
        sites: BTreeMap::new(),
        imports: BTreeMap::new(),
        tx: tx.clone(),
        publish,
        runtime,
        after_save,
        applied,
        applied_count: 0,
        next_job: 0,
    };
    std::thread::Builder::new()
        .name("palisade-edits".into())
        .spawn(move || world.run(rx))?;
    Ok(Inbox {
        tx,
        sent: Arc::new(AtomicU64::new(0)),
        applied: applied_rx,
    })
}

impl World {
    fn run(mut self, rx: Receiver<Msg>) {
        while let Ok(first) = rx.recv() {
            // Apply everything already queued before checking: a burst of keystrokes costs
            // one check, not one per keystroke.
            let mut next = Some(first);
            while let Some(msg) = next {
                self.handle(msg);
                next = rx.try_recv().ok();
            }
            self.start_checks();
        }
    }

    fn handle(&mut self, msg: Msg) {
        match msg {
            Msg::Open { uri, text, version } => {
                if let Some(path) = convert::uri_to_path(&uri) {
                    self.open(path, text, version);
                }
                self.mark_applied();
            }
            Msg::Change {
                uri,
                version,
                changes,
            } => {
                if let Some(path) = convert::uri_to_path(&uri) {
                    self.change(path, version, &changes);
                }
                self.mark_applied();
            }
            Msg::Save { uri } => {
                if let Some(path) = convert::uri_to_path(&uri) {
                    for dir in self.sites_with(&path) {
                        self.prove(&dir);
                    }
                }
                self.mark_applied();
            }
            Msg::Close { uri } => {
                if let Some(path) = convert::uri_to_path(&uri) {
                    self.close(&path);
                }
                self.mark_applied();
            }
            Msg::FilesChanged { uris } => {
                let paths: Vec<PathBuf> = uris.iter().filter_map(convert::uri_to_path).collect();
                self.files_changed(&paths);
                self.mark_applied();
            }
            Msg::Checked { dir, job, outcome } => self.checked(&dir, job, outcome),
            Msg::Proved {
                dir,
                text_rev,
                outcome,
            } => self.proved(&dir, text_rev, outcome),
        }
    }

    fn mark_applied(&mut self) {
        self.applied_count += 1;
        self.applied.send_replace(self.applied_count);
    }

    // ------------------------------------------------------------ documents

    fn open(&mut self, path: PathBuf, text: String, version: i32) {
        self.docs.insert(
            path.clone(),
            Doc {
                text: text.clone(),
                version,
            },
        );
        let dir = site_dir(&path);
        let known = self
            .sites
            .get(&dir)
            .is_some_and(|s| s.files.contains(&path));
        if known {
            self.set_text(&path, text);
            // Publish again even if nothing changed, now with the document's version.
            self.mark_dirty(&path);
        } else {
            self.load_site(&dir);
        }
    }

    fn change(
        &mut self,
        path: PathBuf,
        version: i32,
        changes: &[lsp::TextDocumentContentChangeEvent],
    ) {
        let Some(doc) = self.docs.get_mut(&path) else {
            return;
        };
        for change in changes {
            match change.range {
                None => doc.text = change.text.clone(),
                Some(range) => {
                    let index = LineIndex::new(&doc.text);
                    let (start, end) = index.offsets(&doc.text, range);
                    let (start, end) = (start as usize, end as usize);
                    if doc.text.is_char_boundary(start) && doc.text.is_char_boundary(end) {
                        doc.text.replace_range(start..end, &change.text);
                    }
                }
            }
        }
        doc.version = version;
        let text = doc.text.clone();
        self.set_text(&path, text);
        // Publish for the new version even when the text came out the same.
        self.mark_dirty(&path);
    }

    fn mark_dirty(&mut self, path: &Path) {
        for dir in self.sites_with(path) {
            if let Some(site) = self.sites.get_mut(&dir) {
                site.dirty = true;
            }
        }
    }

    fn close(&mut self, path: &Path) {
        self.docs.remove(path);
        let dir = site_dir(path);
        // A site stays loaded while one of its files is open in the editor.
        if self.sites.contains_key(&dir) && !self.docs.keys().any(|p| site_dir(p) == dir) {
            self.drop_site(&dir);
        }
        if self.shared.lock().files.contains_key(path) {
            match std::fs::read_to_string(path) {
                Ok(text) => self.set_text(path, text),
                Err(_) => self.reload_sites_with(path),
            }
        }
    }

    fn files_changed(&mut self, paths: &[PathBuf]) {
        for path in paths {
            if self.docs.contains_key(path) {
                continue; // the editor's buffer wins over the disk
            }
            let loaded = self.shared.lock().files.contains_key(path);
            let in_site_dir = self
                .sites
                .get(&site_dir(path))
                .is_some_and(|s| !s.files.contains(path));
            if in_site_dir && path.extension().is_some_and(|e| e == "pal") {
                self.load_site(&site_dir(path));
            } else if loaded {
                match std::fs::read_to_string(path) {
                    Ok(text) => self.set_text(path, text),
                    Err(_) => self.reload_sites_with(path),
                }
            }
        }
    }

    /// Set a file's text in the database and mark its sites for checking; reload them when
    /// its `use` items changed (the site's files may have), or moved while one of them is
    /// reported as a loading error (the error's position must follow the text).
    fn set_text(&mut self, path: &Path, text: String) {
        let (imports, load_error_here) = {
            let mut shared = self.shared.lock();
            let shared = &mut *shared;
            let Some(file) = shared.files.get(path).copied() else {
                return;
            };
            if file.text(&shared.db) == &text {
                return;
            }
            // Waits for every snapshot to be dropped; salsa cancels their queries.
            file.set_text(&mut shared.db).to(text);
            let name = file.path(&shared.db).as_str();
            let load_error_here = shared.sites.values().any(|site| {
                site.load_errors(&shared.db)
                    .iter()
                    .any(|d| d.labels.iter().any(|l| l.location.file == name))
            });
            (file_uses(&shared.db, file).clone(), load_error_here)
        };
        for dir in self.sites_with(path) {
            if let Some(site) = self.sites.get_mut(&dir) {
                site.text_changed();
            }
        }
        let previous = self.imports.get(path);
        let written = |uses: &[Use]| uses.iter().map(|u| u.written.clone()).collect::<Vec<_>>();
        let changed = match previous {
            None => true,
            Some(prev) if load_error_here => *prev != imports,
            Some(prev) => written(prev) != written(&imports),
        };
        if changed {
            self.reload_sites_with(path);
        }
    }

    // ------------------------------------------------------------ sites

    /// Directories of the sites that include a file.
    fn sites_with(&self, path: &Path) -> Vec<PathBuf> {
        self.sites
            .iter()
            .filter(|(_, s)| s.files.iter().any(|f| f == path))
            .map(|(d, _)| d.clone())
            .collect()
    }

    fn reload_sites_with(&mut self, path: &Path) {
        for dir in self.sites_with(path) {
            self.load_site(&dir);
        }
    }

    /// (Re)load a site: the directory's `*.pal` files and what they import, open buffers
    /// taking the place of the files on disk.
    fn load_site(&mut self, dir: &Path) {
        let docs = &self.docs;
        let read = |p: &Path| match docs.get(p) {
            Some(d) => Ok(d.text.clone()),
            None => std::fs::read_to_string(p),
        };
        let list = |d: &Path| -> std::io::Result<Vec<PathBuf>> {
            let mut files: BTreeSet<PathBuf> = docs
                .keys()
                .filter(|p| site_dir(p) == d && p.extension().is_some_and(|e| e == "pal"))
                .cloned()
                .collect();
            if let Ok(entries) = std::fs::read_dir(d) {
                for entry in entries.flatten() {
                    let p = entry.path();
                    if p.extension().is_some_and(|e| e == "pal") && p.is_file() {
                        files.insert(p);
                    }
                }
            }
            Ok(files.into_iter().collect())
        };
        let loaded = if dir.is_dir() {
            site::load_with(&[dir.to_path_buf()], &read, &list)
        } else {
            // A directory that exists only in the editor: the open files in it.
            let files = list(dir).unwrap_or_default();
            site::load_with(&files, &read, &list)
        };
        match loaded {
            Ok(loaded) => self.install(dir, loaded),
            Err(_) => self.drop_site(dir),
        }
    }

    fn install(&mut self, dir: &Path, loaded: Loaded) {
        let mut paths = Vec::new();
        {
            let mut shared = self.shared.lock();
            let shared = &mut *shared;
            let mut inputs = Vec::new();
            for f in loaded.files {
                let input = if f.std {
                    *self
                        .std_files
                        .entry(f.path.clone())
                        .or_insert_with(|| SourceFile::new(&shared.db, f.path, f.text, true))
                } else {
                    let path = PathBuf::from(&f.path);
                    let input = match shared.files.get(&path).copied() {
                        Some(input) => {
                            if input.text(&shared.db) != &f.text {
                                input.set_text(&mut shared.db).to(f.text);
                            }
                            input
                        }
                        None => {
                            let input = SourceFile::new(&shared.db, f.path, f.text, false);
                            shared.files.insert(path.clone(), input);
                            input
                        }
                    };
                    self.imports
                        .insert(path.clone(), file_uses(&shared.db, input).clone());
                    paths.push(path);
                    input
                };
                inputs.push(input);
            }
            match shared.sites.get(dir).copied() {
                Some(site) => {
                    if site.files(&shared.db) != &inputs {
                        site.set_files(&mut shared.db).to(inputs);
                    }
                    if site.load_errors(&shared.db) != &loaded.errors {
                        site.set_load_errors(&mut shared.db).to(loaded.errors);
                    }
                }
                None => {
                    let today = palisade_compiler::checks::today();
                    let site = Site::new(&shared.db, inputs, loaded.errors, today);
                    shared.sites.insert(dir.to_path_buf(), site);
                }
            }
        }
        let state = self
            .sites
            .entry(dir.to_path_buf())
            .or_insert_with(|| SiteState {
                files: Vec::new(),
                today: palisade_compiler::checks::today(),
                text_rev: 0,
                job: 0,
                dirty: true,
                versions: BTreeMap::new(),
                checked: BTreeMap::new(),
                proofs: None,
                proving: None,
                prove_again: false,
                published: BTreeMap::new(),
            });
        state.files = paths;
        state.text_changed();
    }

    /// Forget a site: its files' diagnostics are cleared in the editor.
    fn drop_site(&mut self, dir: &Path) {
        self.shared.lock().sites.remove(dir);
        let Some(state) = self.sites.remove(dir) else {
            return;
        };
        // Nobody will read its proofs.
        if let Some(cancel) = &state.proving {
            cancel.cancel();
        }
        for (path, (_, diags)) in state.published {
            if diags.is_empty() {
                continue;
            }
            if let Some(uri) = convert::path_to_uri(&path) {
                let _ = self.publish.send(Out::Diagnostics(Publish {
                    uri,
                    diagnostics: Vec::new(),
                    version: None,
                }));
            }
        }
    }

    // ------------------------------------------------------------ checks

    fn start_checks(&mut self) {
        let dirty: Vec<PathBuf> = self
            .sites
            .iter()
            .filter(|(_, s)| s.dirty)
            .map(|(d, _)| d.clone())
            .collect();
        for dir in dirty {
            self.start_check(&dir);
        }
    }

    fn start_check(&mut self, dir: &Path) {
        let (snapshot, input) = {
            let shared = self.shared.lock();
            let Some(input) = shared.sites.get(dir).copied() else {
                return;
            };
            (shared.db.clone(), input)
        };
        self.next_job += 1;
        let job = self.next_job;
        let docs = &self.docs;
        let Some(state) = self.sites.get_mut(dir) else {
            return;
        };
        state.dirty = false;
        state.job = job;
        state.versions = state
            .files
            .iter()
            .filter_map(|p| Some((p.clone(), docs.get(p)?.version)))
            .collect();
        let tx = self.tx.clone();
        let dir = dir.to_path_buf();
        self.runtime.spawn_blocking(move || {
            let outcome = Outcome::of(|| diagnostics::for_site(&snapshot, input));
            drop(snapshot);
            let _ = tx.send(Msg::Checked { dir, job, outcome });
        });
    }

    fn checked(&mut self, dir: &Path, job: u64, outcome: Outcome<FileDiagnostics>) {
        let Some(state) = self.sites.get_mut(dir) else {
            return;
        };
        if state.job != job {
            return; // superseded by a newer check
        }
        match outcome {
            // Cancelled by an edit, perhaps to another site: check again on the new text.
            Outcome::Cancelled => state.dirty = true,
            Outcome::Done(diags) => {
                state.checked = diags;
                self.publish_site(dir);
            }
            Outcome::Crashed(why) => {
                let crash = lsp::Diagnostic {
                    severity: Some(lsp::DiagnosticSeverity::ERROR),
                    source: Some("palisade".into()),
                    message: format!("palisade crashed while checking this site: {why}\nthis is a bug in palisade; please report it with the site's files"),
                    ..lsp::Diagnostic::default()
                };
                state.checked = state
                    .files
                    .iter()
                    .map(|p| (p.clone(), Vec::new()))
                    .collect();
                if let Some(first) = state.files.first() {
                    state.checked.insert(first.clone(), vec![crash]);
                }
                self.publish_site(dir);
            }
        }
    }

    /// Run the after-save checks of a site on a blocking thread (one run at a time).
    fn prove(&mut self, dir: &Path) {
        let Some(state) = self.sites.get_mut(dir) else {
            return;
        };
        if state.proving.is_some() {
            state.prove_again = true;
            return;
        }
        let (snapshot, input) = {
            let shared = self.shared.lock();
            let Some(input) = shared.sites.get(dir).copied() else {
                return;
            };
            (shared.db.clone(), input)
        };
        let cancel = Cancel::new();
        state.proving = Some(cancel.clone());
        let text_rev = state.text_rev;
        let today = state.today.clone();
        let tx = self.tx.clone();
        let log = self.publish.clone();
        let after_save = self.after_save.clone();
        let dir = dir.to_path_buf();
        self.runtime.spawn_blocking(move || {
            let say = |line: String| {
                let _ = log.send(Out::Log(line));
            };
            let ir = Outcome::of(|| {
                let clean = !site_diagnostics(&snapshot, input)
                    .iter()
                    .any(|d| d.is_error());
                clean.then(|| policy_ir(&snapshot, input).clone())
            });
            // Proofs run on plain data: an edit never waits for a solver.
            drop(snapshot);
            let site = dir.display();
            let outcome = match ir {
                Outcome::Done(Some(policy)) => {
                    say(format!("proofs of {site} (revision {text_rev}): started"));
                    let start = std::time::Instant::now();
                    let outcome = Outcome::of(|| after_save.run(&policy, &today, &cancel));
                    let ms = start.elapsed().as_millis();
                    match outcome {
                        Outcome::Done(Some(diags)) => {
                            say(format!("proofs of {site} (revision {text_rev}): done in {ms} ms, {} finding(s)", diags.len()));
                            Some(diags)
                        }
                        Outcome::Done(None) | Outcome::Cancelled => {
                            say(format!("proofs of {site} (revision {text_rev}): cancelled after {ms} ms, the text changed"));
                            None
                        }
                        Outcome::Crashed(why) => {
                            say(format!("proofs of {site} (revision {text_rev}): the verifier crashed: {why}"));
                            None
                        }
                    }
                }
                // A site with errors has nothing worth proving yet.
                Outcome::Done(None) => {
                    say(format!("proofs of {site} (revision {text_rev}): not run, the site has errors"));
                    Some(Vec::new())
                }
                Outcome::Cancelled | Outcome::Crashed(_) => None,
            };
            let _ = tx.send(Msg::Proved {
                dir,
                text_rev,
                outcome,
            });
        });
    }

    fn proved(&mut self, dir: &Path, text_rev: u64, outcome: Option<Vec<Diagnostic>>) {
        let input = self.shared.lock().sites.get(dir).copied();
        let Some(state) = self.sites.get_mut(dir) else {
            return;
        };
        state.proving = None;
        if let (Some(diags), Some(input)) = (outcome, input) {
            if text_rev == state.text_rev {
                let shared = self.shared.lock();
                state.proofs = Some((text_rev, diagnostics::by_file(&shared.db, input, &diags)));
                drop(shared);
                self.publish_site(dir);
            }
        }
        if let Some(state) = self.sites.get_mut(dir) {
            if state.prove_again {
                state.prove_again = false;
                self.prove(dir);
            }
        }
    }

    /// Publish the site's diagnostics for every file whose list or version changed. A file
    /// is published by the site of its own directory when that site is loaded.
    fn publish_site(&mut self, dir: &Path) {
        let homes: BTreeSet<PathBuf> = self.sites.keys().cloned().collect();
        let Some(state) = self.sites.get_mut(dir) else {
            return;
        };
        let proofs = state
            .proofs
            .as_ref()
            .filter(|(rev, _)| *rev == state.text_rev)
            .map(|(_, p)| p);
        for (path, diags) in &state.checked {
            let home = site_dir(path);
            if home != dir && homes.contains(&home) {
                continue;
            }
            let mut all = diags.clone();
            if let Some(extra) = proofs.and_then(|p| p.get(path)) {
                all.extend(extra.iter().cloned());
            }
            let version = state.versions.get(path).copied();
            if state
                .published
                .get(path)
                .is_some_and(|(v, d)| *v == version && *d == all)
            {
                continue;
            }
            let Some(uri) = convert::path_to_uri(path) else {
                continue;
            };
            let _ = self.publish.send(Out::Diagnostics(Publish {
                uri,
                diagnostics: all.clone(),
                version,
            }));
            state.published.insert(path.clone(), (version, all));
        }
        // Files no longer in the site (deleted, no longer imported) lose their diagnostics.
        let gone: Vec<PathBuf> = state
            .published
            .keys()
            .filter(|p| !state.checked.contains_key(*p))
            .cloned()
            .collect();
        for path in gone {
            if let (Some((_, diags)), Some(uri)) =
                (state.published.remove(&path), convert::path_to_uri(&path))
            {
                if !diags.is_empty() {
                    let _ = self.publish.send(Out::Diagnostics(Publish {
                        uri,
                        diagnostics: Vec::new(),
                        version: None,
                    }));
                }
            }
        }
    }
}

/// A `use` item as written, and where.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Use {
    written: String,
    start: u32,
    end: u32,
}

/// The `use` items of a file, in order.
#[salsa::tracked(returns(ref))]
fn file_uses(db: &dyn salsa::Database, file: SourceFile) -> Vec<Use> {
    parsed(db, file)
        .file
        .items
        .iter()
        .filter_map(|item| {
            let written = match &item.kind {
                ItemKind::Use(ast::Use::File(s)) => format!("\"{}\"", s.value),
                ItemKind::Use(ast::Use::Module(parts)) => parts
                    .iter()
                    .map(|p| p.name.as_str())
                    .collect::<Vec<_>>()
                    .join("."),
                _ => return None,
            };
            Some(Use {
                written,
                start: item.span.start,
                end: item.span.end,
            })
        })
        .collect()
}
