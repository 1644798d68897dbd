//! The syntax crate's one integration-test binary (each binary links separately).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod format;
mod properties;
mod support;
