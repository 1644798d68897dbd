//! Translation validation of what a build emitted: each firewall's files are read back with
//! the project's readers and proved equal to the policy on that device. A failure is a
//! compiler bug and stops the build (nothing is written).

use super::gateway::{validate_allowlist, validate_gateway};
use super::{validate, validate_cisco, Failure, Proved};
use crate::placement::Placement;
use crate::readback::{cisco as ios, iptables as ipt, nft_text, ReadError};
use crate::{cisco, iptables, nftables, OutputFile};
use palisade_compiler::address::AddrRange;
use palisade_compiler::diagnostic::Diagnostic;
use palisade_compiler::ir::WorkOrderId;
use palisade_compiler::ir::{DeviceId, Policy, Target};
use std::collections::BTreeMap;

fn file<'a>(files: &'a [OutputFile], name: &str) -> Result<&'a str, Failure> {
    files
        .iter()
        .find(|f| f.path == name)
        .map(|f| f.contents.as_str())
        .ok_or_else(|| Failure::Unsupported(format!("the build produced no file `{name}`")))
}

fn unreadable(e: ReadError) -> Failure {
    Failure::Unsupported(format!("the emitted ruleset cannot be read back: {e}"))
}

/// Validate one device's emitted files.
pub fn check_device(
    policy: &Policy,
    placement: &Placement,
    target: Target,
    device: DeviceId,
    files: &[OutputFile],
) -> Result<Proved, Failure> {
    match target {
        Target::Nftables => {
            let rs = nft_text::read(file(files, &nftables::file_name(policy, device))?)
                .map_err(unreadable)?;
            validate(
                policy,
                placement,
                device,
                &[rs],
                &nftables::gate_names(policy),
            )
        }
        Target::Iptables => {
            let [s, v4, v6] = iptables::file_names(policy, device);
            let rulesets = ipt::read_device(file(files, &s)?, file(files, &v4)?, file(files, &v6)?)
                .map_err(unreadable)?;
            validate(
                policy,
                placement,
                device,
                &rulesets,
                &iptables::gate_names(policy),
            )
        }
        Target::CiscoIos => {
            let text = file(files, &cisco::file_name(policy, device))?;
            let hash = cisco::config_hash(text).ok_or_else(|| {
                Failure::Unsupported("no configuration hash in the IOS file".into())
            })?;
            let gates = cisco::gate_names(policy, &hash);
            let rs = ios::read(text, &gates).map_err(unreadable)?;
            validate_cisco(policy, placement, device, &rs, &gates)
        }
        Target::Suricata => {
            let name = policy
                .device(device)
                .map(|d| d.name.as_str())
                .unwrap_or("?");
            let mut proved = Proved::default();
            for f in files.iter().filter(|f| {
                f.path == format!("{name}.rules") || f.path.starts_with(&format!("{name}.during-"))
            }) {
                let open: BTreeMap<WorkOrderId, Vec<AddrRange>> = match f
                    .path
                    .strip_prefix(&format!("{name}.during-"))
                    .and_then(|x| x.strip_suffix(".rules"))
                {
                    None => BTreeMap::new(),
                    Some(order) => {
                        let w = policy
                            .workorders
                            .iter()
                            .position(|w| w.name == order)
                            .map(|i| WorkOrderId(i as u32))
                            .ok_or_else(|| {
                                Failure::Unsupported(format!("`{}` names no work order", f.path))
                            })?;
                        [(w, policy.scope_addrs(w))].into_iter().collect()
                    }
                };
                let p = validate_gateway(policy, placement, device, &f.contents, &open)?;
                proved.queries += p.queries;
            }
            Ok(proved)
        }
        Target::AllowlistJson => {
            let name = policy
                .device(device)
                .map(|d| d.name.as_str())
                .unwrap_or("?");
            let text = file(files, &format!("{name}.allowlist.json"))?;
            validate_allowlist(policy, placement, device, text)
        }
    }
}

/// Validate every device of a firewall target; one diagnostic per device that fails.
pub fn check_files(
    policy: &Policy,
    target: Target,
    devices: &[DeviceId],
    files: &[OutputFile],
) -> Vec<Diagnostic> {
    if !matches!(
        target,
        Target::Nftables
            | Target::Iptables
            | Target::CiscoIos
            | Target::Suricata
            | Target::AllowlistJson
    ) {
        return Vec::new();
    }
    let placement = crate::model::enforced(policy);
    let mut out = Vec::new();
    for &d in devices {
        let Err(failure) = check_device(policy, &placement, target, d, files) else {
            continue;
        };
        let (name, span) = policy
            .device(d)
            .map(|x| (x.name.clone(), x.span))
            .unwrap_or_default();
        let diag = match &failure {
            Failure::Unknown(_) => Diagnostic::error("E0914", format!("the {} ruleset of `{name}` could not be proved equal to the policy", target.name()))
                .help("the solver gave up; the build writes nothing rather than an unproved ruleset (`--no-validate` skips this check)"),
            _ => Diagnostic::error("E0913", format!("the {} ruleset of `{name}` differs from the policy", target.name()))
                .help("this is a bug in Palisade: please report it with the site; `--no-validate` skips this check in an emergency"),
        };
        out.push(
            diag.primary(policy.location(span), "the ruleset emitted for this device")
                .note(failure.to_string()),
        );
    }
    out
}
