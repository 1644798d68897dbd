//! One module per request: position → query → response. Each takes a snapshot and returns
//! the protocol's answer; the server (`server.rs`) runs them on a blocking thread.

pub mod code_action;
pub mod completion;
pub mod definition;
pub mod document_symbol;
pub mod folding_range;
pub mod formatting;
pub mod hover;
pub mod references;
pub mod rename;
pub mod semantic_tokens;
pub mod workspace_symbol;
