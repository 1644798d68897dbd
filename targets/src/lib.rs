//! Palisade outputs, each a pure function of the policy IR: `emit(&Policy, …)` returns the
//! files to write, or diagnostics explaining what the target cannot express.
//!
//! Shared pieces: [`placement`] (which rules each device enforces, on which interfaces) and
//! [`header`] (the provenance header every output carries), and [`text`], through which every
//! string from the source reaches an output.

pub mod allowlist;
pub mod cisco;
pub mod gates;
pub mod header;
pub mod iptables;
pub mod model;
pub mod nftables;
pub mod placement;
pub mod readback;
pub mod suricata;
pub mod text;
pub mod validate;
pub mod workflow;

use palisade_compiler::diagnostic::Diagnostic;
use palisade_compiler::ir::{DeviceId, Policy, Target};

/// One file of output, its path relative to the output directory.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OutputFile {
    pub path: String,
    pub contents: String,
}

/// Everything a build produces for one target, or why it cannot.
pub type Emitted = Result<Vec<OutputFile>, Vec<Diagnostic>>;

/// Emit `target` for each of `devices` (the devices whose target it is).
pub fn emit(policy: &Policy, target: Target, devices: &[DeviceId]) -> Emitted {
    // One arm per target; each lives in its own module.
    match target {
        Target::Nftables => nftables::emit(policy, devices),
        Target::Iptables => iptables::emit(policy, devices),
        Target::CiscoIos => cisco::emit(policy, devices),
        Target::Suricata => suricata::emit(policy, devices),
        Target::AllowlistJson => allowlist::emit(policy, devices),
    }
}
