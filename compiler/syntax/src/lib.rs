//! The syntax of the Palisade language: lexer, grammar, syntax tree and formatter.
//! This crate knows nothing of names, types or proofs (and depends on neither salsa nor z3).

pub mod ast;
pub mod format;
pub mod lexer;
mod parse;

pub use parse::{parse, Parsed, SyntaxError};

// Generated code: the workspace's restriction lints (unwrap, panic, indexing) do not apply.
#[allow(
    clippy::all,
    clippy::pedantic,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    unused_parens
)]
mod grammar {
    include!(concat!(env!("OUT_DIR"), "/grammar.rs"));
}
