//! The Palisade language server (tower-lsp-server over the compiler's salsa database).
