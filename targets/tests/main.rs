//! The integration tests of the targets crate, in one binary (each test binary links
//! separately, and linking is the slow part on two cores). Add a suite with one `mod` line.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod enforcement;
mod firewall_cisco;
mod firewall_ipt;
mod firewall_kernel;
mod firewall_nft;
mod firewall_validate;
mod fw_support;
mod gateway_allowlist;
mod gateway_support;
mod gateway_suricata;
mod hostile_strings;
mod workflow;
