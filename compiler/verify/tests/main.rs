//! Tests of the verifier, in one binary: counterexample snapshots of false fixtures, the
//! example sites, and a differential test against a brute-force evaluator.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod cancel;
mod differential;
mod enforcement;
mod examples;
mod fixtures;
mod support;
