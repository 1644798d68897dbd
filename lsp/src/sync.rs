//! Document notifications, taken in the order they arrive.
//!
//! tower-lsp-server runs the futures of incoming messages concurrently, so two
//! `didChange` notifications handled as ordinary `async fn`s could in principle be applied
//! out of order — and incremental edits applied out of order corrupt the text. This layer
//! sits in front of the `LspService`: `call` is invoked once per message, in arrival order,
//! so it hands document notifications to the edit thread right there and lets everything
//! else through.

use crate::world::{Inbox, Msg};
use serde_json::Value;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;
use tower_lsp_server::jsonrpc::{Request, Response};
use tower_lsp_server::ls_types as lsp;
use tower_service::Service;

pub struct Ordered<S> {
    inner: S,
    inbox: Inbox,
    /// Set by `shutdown`: nothing more is published.
    stopping: Arc<AtomicBool>,
}

impl<S> Ordered<S> {
    pub fn new(inner: S, inbox: Inbox, stopping: Arc<AtomicBool>) -> Ordered<S> {
        Ordered {
            inner,
            inbox,
            stopping,
        }
    }
}

/// After `exit`, the process ends even if a large notification is still being written to
/// a client that no longer reads it (the write would block forever otherwise).
const EXIT_GRACE: Duration = Duration::from_secs(2);

type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;

impl<S> Service<Request> for Ordered<S>
where
    S: Service<Request, Response = Option<Response>>,
    S::Future: Send + 'static,
    S::Error: Send + 'static,
{
    type Response = Option<Response>;
    type Error = S::Error;
    type Future = BoxFuture<Result<Option<Response>, S::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request) -> Self::Future {
        match req.method() {
            "shutdown" => self.stopping.store(true, Ordering::SeqCst),
            "exit" => {
                let code = if self.stopping.load(Ordering::SeqCst) {
                    0
                } else {
                    1
                };
                let _ = std::thread::Builder::new()
                    .name("palisade-exit".into())
                    .spawn(move || {
                        std::thread::sleep(EXIT_GRACE);
                        std::process::exit(code);
                    });
            }
            _ => {}
        }
        if req.id().is_none() {
            if let Some(msg) = document_message(req.method(), req.params()) {
                self.inbox.send_document(msg);
                return Box::pin(async { Ok(None) });
            }
        }
        Box::pin(self.inner.call(req))
    }
}

fn params<T: serde::de::DeserializeOwned>(params: Option<&Value>) -> Option<T> {
    serde_json::from_value(params?.clone()).ok()
}

fn document_message(method: &str, p: Option<&Value>) -> Option<Msg> {
    Some(match method {
        "textDocument/didOpen" => {
            let p: lsp::DidOpenTextDocumentParams = params(p)?;
            Msg::Open {
                uri: p.text_document.uri,
                text: p.text_document.text,
                version: p.text_document.version,
            }
        }
        "textDocument/didChange" => {
            let p: lsp::DidChangeTextDocumentParams = params(p)?;
            Msg::Change {
                uri: p.text_document.uri,
                version: p.text_document.version,
                changes: p.content_changes,
            }
        }
        "textDocument/didSave" => {
            let p: lsp::DidSaveTextDocumentParams = params(p)?;
            Msg::Save {
                uri: p.text_document.uri,
            }
        }
        "textDocument/didClose" => {
            let p: lsp::DidCloseTextDocumentParams = params(p)?;
            Msg::Close {
                uri: p.text_document.uri,
            }
        }
        "workspace/didChangeWatchedFiles" => {
            let p: lsp::DidChangeWatchedFilesParams = params(p)?;
            Msg::FilesChanged {
                uris: p.changes.into_iter().map(|c| c.uri).collect(),
            }
        }
        _ => return None,
    })
}
