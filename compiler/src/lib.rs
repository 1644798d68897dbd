//! The Palisade compiler: the semantic model and its checks over a salsa database, the
//! policy IR, and diagnostics. Syntax lives in `palisade-syntax`.

pub mod address;
pub mod approvals;
pub mod checks;
pub mod codes;
pub mod db;
pub mod diagnostic;
pub mod hash;
pub mod ir;
pub mod lower;
pub mod profile;
pub mod render;
pub mod site;
pub mod stdlib;
pub mod symbols;
pub mod synth;
pub mod topology;

pub use diagnostic::{Diagnostic, Severity};
