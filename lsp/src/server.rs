//! The `LanguageServer` implementation: capabilities, and one line per request that hands a
//! snapshot to its handler in `handlers/`. Document notifications never reach this type;
//! `sync.rs` routes them to the edit thread in arrival order.

use crate::handlers::*;
use crate::snapshot::{self, SharedHandle, Snapshot};
use crate::world::Inbox;
use serde_json::json;
use std::sync::atomic::{AtomicBool, Ordering};
use tower_lsp_server::jsonrpc::{self, Result};
use tower_lsp_server::ls_types::*;
use tower_lsp_server::{Client, LanguageServer};

pub struct Backend {
    client: Client,
    shared: SharedHandle,
    inbox: Inbox,
    /// The client takes versioned `documentChanges` in workspace edits.
    document_changes: AtomicBool,
    /// The client lets us register a file watcher (`workspace/didChangeWatchedFiles`).
    watch_files: AtomicBool,
}

impl Backend {
    pub fn new(client: Client, shared: SharedHandle, inbox: Inbox) -> Backend {
        Backend {
            client,
            shared,
            inbox,
            document_changes: AtomicBool::new(false),
            watch_files: AtomicBool::new(false),
        }
    }

    /// Answer from a snapshot of the document's site, once every edit sent before this
    /// request has been applied.
    async fn read<T, F>(&self, uri: Uri, f: F) -> Result<Option<T>>
    where
        T: Send + 'static,
        F: Fn(&Snapshot) -> Option<T> + Send + Sync + 'static,
    {
        self.inbox.caught_up().await;
        let shared = self.shared.clone();
        snapshot::read(move || shared.snapshot(&uri), f).await
    }

    fn document_changes(&self) -> bool {
        self.document_changes.load(Ordering::Relaxed)
    }
}

/// A refused request (an invalid rename), as the protocol's `RequestFailed`.
fn refused(message: String) -> jsonrpc::Error {
    jsonrpc::Error {
        code: jsonrpc::ErrorCode::ServerError(-32803),
        message: message.into(),
        data: None,
    }
}

pub fn capabilities() -> ServerCapabilities {
    ServerCapabilities {
        position_encoding: Some(PositionEncodingKind::UTF16),
        text_document_sync: Some(TextDocumentSyncCapability::Options(
            TextDocumentSyncOptions {
                open_close: Some(true),
                change: Some(TextDocumentSyncKind::INCREMENTAL),
                will_save: None,
                will_save_wait_until: None,
                save: Some(TextDocumentSyncSaveOptions::SaveOptions(SaveOptions {
                    include_text: Some(false),
                })),
            },
        )),
        hover_provider: Some(HoverProviderCapability::Simple(true)),
        definition_provider: Some(OneOf::Left(true)),
        references_provider: Some(OneOf::Left(true)),
        rename_provider: Some(OneOf::Right(RenameOptions {
            prepare_provider: Some(true),
            work_done_progress_options: WorkDoneProgressOptions::default(),
        })),
        completion_provider: Some(CompletionOptions {
            trigger_characters: Some([":", "[", ",", ">"].iter().map(|s| s.to_string()).collect()),
            ..CompletionOptions::default()
        }),
        document_symbol_provider: Some(OneOf::Left(true)),
        workspace_symbol_provider: Some(OneOf::Left(true)),
        semantic_tokens_provider: Some(SemanticTokensServerCapabilities::SemanticTokensOptions(
            SemanticTokensOptions {
                work_done_progress_options: WorkDoneProgressOptions::default(),
                legend: semantic_tokens::legend(),
                range: None,
                full: Some(SemanticTokensFullOptions::Bool(true)),
            },
        )),
        document_formatting_provider: Some(OneOf::Left(true)),
        code_action_provider: Some(CodeActionProviderCapability::Options(CodeActionOptions {
            code_action_kinds: Some(vec![CodeActionKind::QUICKFIX]),
            work_done_progress_options: WorkDoneProgressOptions::default(),
            resolve_provider: None,
        })),
        folding_range_provider: Some(FoldingRangeProviderCapability::Simple(true)),
        ..ServerCapabilities::default()
    }
}

impl LanguageServer for Backend {
    async fn initialize(&self, params: InitializeParams) -> Result<InitializeResult> {
        let caps = &params.capabilities;
        let workspace = caps.workspace.as_ref();
        let document_changes = workspace
            .and_then(|w| w.workspace_edit.as_ref())
            .and_then(|e| e.document_changes)
            .unwrap_or(false);
        let watch = workspace
            .and_then(|w| w.did_change_watched_files.as_ref())
            .and_then(|d| d.dynamic_registration)
            .unwrap_or(false);
        self.document_changes
            .store(document_changes, Ordering::Relaxed);
        self.watch_files.store(watch, Ordering::Relaxed);
        Ok(InitializeResult {
            capabilities: capabilities(),
            server_info: Some(ServerInfo {
                name: "palisade".into(),
                version: Some(env!("CARGO_PKG_VERSION").into()),
            }),
            offset_encoding: None,
        })
    }

    async fn initialized(&self, _: InitializedParams) {
        if self.watch_files.load(Ordering::Relaxed) {
            // Files changed outside the editor (a `git checkout`) reach the sites too.
            let registration = Registration {
                id: "palisade-watch-pal".into(),
                method: "workspace/didChangeWatchedFiles".into(),
                register_options: Some(json!({ "watchers": [{ "globPattern": "**/*.pal" }] })),
            };
            let _ = self.client.register_capability(vec![registration]).await;
        }
    }

    async fn shutdown(&self) -> Result<()> {
        Ok(())
    }

    async fn hover(&self, p: HoverParams) -> Result<Option<Hover>> {
        let TextDocumentPositionParams {
            text_document,
            position,
        } = p.text_document_position_params;
        self.read(text_document.uri, move |s| hover::hover(s, position))
            .await
    }

    async fn goto_definition(
        &self,
        p: GotoDefinitionParams,
    ) -> Result<Option<GotoDefinitionResponse>> {
        let TextDocumentPositionParams {
            text_document,
            position,
        } = p.text_document_position_params;
        self.read(text_document.uri, move |s| {
            definition::definition_at(s, position)
        })
        .await
    }

    async fn references(&self, p: ReferenceParams) -> Result<Option<Vec<Location>>> {
        let TextDocumentPositionParams {
            text_document,
            position,
        } = p.text_document_position;
        let with_declaration = p.context.include_declaration;
        self.read(text_document.uri, move |s| {
            references::references_at(s, position, with_declaration)
        })
        .await
    }

    async fn prepare_rename(
        &self,
        p: TextDocumentPositionParams,
    ) -> Result<Option<PrepareRenameResponse>> {
        let position = p.position;
        match self
            .read(p.text_document.uri, move |s| {
                Some(rename::prepare(s, position))
            })
            .await?
        {
            Some(Ok(answer)) => Ok(answer),
            Some(Err(rename::Refusal(why))) => Err(refused(why)),
            None => Ok(None),
        }
    }

    async fn rename(&self, p: RenameParams) -> Result<Option<WorkspaceEdit>> {
        let TextDocumentPositionParams {
            text_document,
            position,
        } = p.text_document_position;
        let (new_name, versioned) = (p.new_name, self.document_changes());
        match self
            .read(text_document.uri, move |s| {
                Some(rename::rename(s, position, &new_name, versioned))
            })
            .await?
        {
            Some(Ok(edit)) => Ok(edit),
            Some(Err(rename::Refusal(why))) => Err(refused(why)),
            None => Ok(None),
        }
    }

    async fn completion(&self, p: CompletionParams) -> Result<Option<CompletionResponse>> {
        let TextDocumentPositionParams {
            text_document,
            position,
        } = p.text_document_position;
        self.read(text_document.uri, move |s| {
            completion::completion(s, position)
        })
        .await
    }

    async fn document_symbol(
        &self,
        p: DocumentSymbolParams,
    ) -> Result<Option<DocumentSymbolResponse>> {
        self.read(p.text_document.uri, document_symbol::document_symbols)
            .await
    }

    async fn symbol(&self, p: WorkspaceSymbolParams) -> Result<Option<WorkspaceSymbolResponse>> {
        self.inbox.caught_up().await;
        let shared = self.shared.clone();
        let query = p.query;
        snapshot::read(
            move || Some(shared.workspace()),
            move |ws| workspace_symbol::workspace_symbols(ws, &query),
        )
        .await
    }

    async fn semantic_tokens_full(
        &self,
        p: SemanticTokensParams,
    ) -> Result<Option<SemanticTokensResult>> {
        self.read(p.text_document.uri, semantic_tokens::semantic_tokens)
            .await
    }

    async fn formatting(&self, p: DocumentFormattingParams) -> Result<Option<Vec<TextEdit>>> {
        self.read(p.text_document.uri, formatting::formatting).await
    }

    async fn code_action(&self, p: CodeActionParams) -> Result<Option<CodeActionResponse>> {
        let (range, versioned) = (p.range, self.document_changes());
        self.read(p.text_document.uri, move |s| {
            code_action::code_actions(s, range, versioned)
        })
        .await
    }

    async fn folding_range(&self, p: FoldingRangeParams) -> Result<Option<Vec<FoldingRange>>> {
        self.read(p.text_document.uri, folding_range::folding_ranges)
            .await
    }
}
