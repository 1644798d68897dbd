//! The database the server shares between the thread that applies edits and the requests
//! that read it.
//!
//! A request takes a *snapshot* (a clone of the salsa database, which shares its memoised
//! results) and answers from it on a blocking thread. When an edit arrives, the edit thread
//! sets the new text; salsa then cancels every query running on a snapshot (the query
//! panics with `salsa::Cancelled`, caught here) and the setter proceeds once those clones
//! are dropped. A request cancelled that way simply runs again on the new text.

use crate::convert;
use crate::line_index::LineIndex;
use palisade_compiler::db::{Database, Site, SourceFile};
use std::collections::BTreeMap;
use std::panic::AssertUnwindSafe;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};
use tower_lsp_server::jsonrpc;
use tower_lsp_server::ls_types::Uri;

/// Inputs of the database and how files and sites map onto them.
pub struct Shared {
    pub db: Database,
    /// Every site file loaded so far, by absolute path (one input per file, shared by every
    /// site that includes it).
    pub files: BTreeMap<PathBuf, SourceFile>,
    /// Sites by directory.
    pub sites: BTreeMap<PathBuf, Site>,
}

#[derive(Clone)]
pub struct SharedHandle(Arc<Mutex<Shared>>);

impl SharedHandle {
    pub fn new() -> SharedHandle {
        SharedHandle(Arc::new(Mutex::new(Shared {
            db: Database::default(),
            files: BTreeMap::new(),
            sites: BTreeMap::new(),
        })))
    }

    pub fn lock(&self) -> MutexGuard<'_, Shared> {
        match self.0.lock() {
            Ok(g) => g,
            // A panic elsewhere never leaves the maps half-updated in a way that matters
            // more than serving nothing at all.
            Err(poisoned) => poisoned.into_inner(),
        }
    }

    /// A snapshot for answering a request about one document.
    pub fn snapshot(&self, uri: &Uri) -> Option<Snapshot> {
        let path = convert::uri_to_path(uri)?;
        let shared = self.lock();
        let file = *shared.files.get(&path)?;
        let dir = site_dir(&path);
        let site = shared.sites.get(&dir).copied().or_else(|| {
            shared
                .sites
                .values()
                .copied()
                .find(|s| s.files(&shared.db).contains(&file))
        })?;
        Some(Snapshot {
            db: shared.db.clone(),
            file,
            site,
            path,
        })
    }

    /// A snapshot of every site, for requests about the whole workspace.
    pub fn workspace(&self) -> WorkspaceSnapshot {
        let shared = self.lock();
        WorkspaceSnapshot {
            db: shared.db.clone(),
            sites: shared.sites.values().copied().collect(),
        }
    }
}

impl Default for SharedHandle {
    fn default() -> Self {
        SharedHandle::new()
    }
}

/// The site a file belongs to: its directory.
pub fn site_dir(path: &Path) -> PathBuf {
    path.parent().map(Path::to_path_buf).unwrap_or_default()
}

/// What one request reads: the database at one revision, the document and its site.
pub struct Snapshot {
    pub db: Database,
    pub file: SourceFile,
    pub site: Site,
    pub path: PathBuf,
}

impl Snapshot {
    pub fn text(&self) -> &str {
        self.file.text(&self.db)
    }

    pub fn line_index(&self) -> &LineIndex {
        convert::line_index(&self.db, self.file)
    }

    /// Position of this document in its site's files (what IR spans call `file`).
    pub fn position_in_site(&self) -> Option<u32> {
        self.site
            .files(&self.db)
            .iter()
            .position(|f| *f == self.file)
            .and_then(|i| u32::try_from(i).ok())
    }
}

pub struct WorkspaceSnapshot {
    pub db: Database,
    pub sites: Vec<Site>,
}

/// Run `f` on a snapshot on a blocking thread; if an edit cancels it, take a new snapshot
/// and try again (a few times, then report the content as modified). The snapshot is taken
/// on the blocking thread too: the lock it needs may be held while an edit is applied, and
/// the async workers must never wait for that.
pub async fn read<S, T, F, G>(take: G, f: F) -> jsonrpc::Result<Option<T>>
where
    S: 'static,
    T: Send + 'static,
    G: Fn() -> Option<S> + Send + Sync + 'static,
    F: Fn(&S) -> Option<T> + Send + Sync + 'static,
{
    let (take, f) = (Arc::new(take), Arc::new(f));
    for _ in 0..4 {
        let (take, f) = (take.clone(), f.clone());
        let outcome = tokio::task::spawn_blocking(move || {
            let Some(snapshot) = take() else {
                return Ok(None);
            };
            let result = salsa::Cancelled::catch(AssertUnwindSafe(|| f(&snapshot)));
            // The snapshot goes before the answer is handed back, so a waiting edit can proceed.
            drop(snapshot);
            result
        })
        .await;
        match outcome {
            Ok(Ok(answer)) => return Ok(answer),
            Ok(Err(_cancelled)) => continue,
            Err(join) => {
                return Err(jsonrpc::Error {
                    code: jsonrpc::ErrorCode::InternalError,
                    message: format!("the request failed: {join}").into(),
                    data: None,
                })
            }
        }
    }
    Err(jsonrpc::Error::content_modified())
}
