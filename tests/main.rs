//! The integration tests of the `palisade` package, in one binary (each test binary links
//! separately, and linking is the slow part on two cores). Add a suite with one `mod` line.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod cli;
mod examples;
mod pipeline;
mod report;
mod support;
mod ui;
