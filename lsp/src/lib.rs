//! The Palisade language server (`palisade lsp`): tower-lsp-server over stdio, answering
//! from the compiler's own salsa database — the queries `palisade check` runs, the
//! compiler's symbol table (`palisade_compiler::symbols`), and line indexes.
//!
//! How the parts fit:
//! - `sync.rs` takes document notifications in arrival order and hands them to
//! - `world.rs`, the edit thread that owns documents, sites and database inputs, applies
//!   edits, and checks sites in the background (publishing diagnostics, and after a save
//!   the proofs of `proofs.rs`);
//! - `server.rs` answers requests: each takes a snapshot (`snapshot.rs`) and calls its
//!   handler in `handlers/`, which maps position → query → response.

mod analysis;
mod convert;
mod describe;
mod diagnostics;
mod handlers;
pub mod line_index;
pub mod proofs;
mod server;
mod snapshot;
mod sync;
mod world;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tower_lsp_server::{LspService, Server};

/// Serve the protocol on stdin/stdout until the client says `exit`.
pub fn run() -> std::io::Result<()> {
    run_with(proofs::default_after_save())
}

/// As [`run`], with the checks to run after each save.
pub fn run_with(after_save: Arc<dyn proofs::AfterSave>) -> std::io::Result<()> {
    quiet_cancellation();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("palisade-lsp")
        .build()?;
    let result = runtime.block_on(serve(after_save));
    // A proof still running on a blocking thread must not keep the process alive.
    runtime.shutdown_timeout(Duration::from_millis(200));
    result
}

async fn serve(after_save: Arc<dyn proofs::AfterSave>) -> std::io::Result<()> {
    let shared = snapshot::SharedHandle::new();
    let (publish_tx, mut publish_rx) = tokio::sync::mpsc::unbounded_channel::<world::Out>();
    let inbox = world::spawn(
        shared.clone(),
        publish_tx,
        tokio::runtime::Handle::current(),
        after_save,
    )?;
    let backend_inbox = inbox.clone();
    let stopping = Arc::new(AtomicBool::new(false));
    let stopped = stopping.clone();
    let (service, socket) = LspService::new(move |client| {
        // Diagnostics go out one at a time, in the order the edit thread decided them, and
        // not at all once the client asked to shut down.
        let publisher = client.clone();
        tokio::spawn(async move {
            while let Some(out) = publish_rx.recv().await {
                if stopped.load(Ordering::SeqCst) {
                    break;
                }
                match out {
                    world::Out::Diagnostics(p) => {
                        publisher
                            .publish_diagnostics(p.uri, p.diagnostics, p.version)
                            .await
                    }
                    world::Out::Log(line) => {
                        publisher
                            .log_message(tower_lsp_server::ls_types::MessageType::LOG, line)
                            .await
                    }
                }
            }
        });
        server::Backend::new(client, shared, backend_inbox)
    });
    let service = sync::Ordered::new(service, inbox, stopping);
    Server::new(tokio::io::stdin(), tokio::io::stdout(), socket)
        .serve(service)
        .await;
    Ok(())
}

/// Salsa cancels a query by panicking with `salsa::Cancelled`; that is routine here (every
/// edit cancels the checks in flight), so it is not printed as a panic.
fn quiet_cancellation() {
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        if info.payload().is::<salsa::Cancelled>() {
            return;
        }
        previous(info);
    }));
}
