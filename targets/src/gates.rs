//! Work-order instances at run time: the commands that open the rules of one instance (its
//! own scope, for a bounded time) on a firewall, and the commands that close them again.
//!
//! An instance's scope is a set of addresses (its assets and zones). A rule under
//! `when workorder X` admits a flow while one of its ends is in the scope of an open instance
//! of X, so adding exactly the scope's addresses to X's set opens exactly that instance's
//! flows; two instances on different assets never open each other's. On Linux the elements
//! carry a timeout and the kernel removes them at expiry; the gate before the established
//! shortcut then stops established sessions too.

use crate::placement::Placement;
use crate::{cisco, iptables, nftables, suricata};
use palisade_compiler::address::{merge, AddrRange};
use palisade_compiler::ir::{DeviceId, Policy, RuleId, Target, WorkOrderId};
use std::fmt::Write;

/// Open or close.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    Open { seconds: u64 },
    Close,
}

/// The devices that carry rules of `wo`.
pub fn devices_of(policy: &Policy, placement: &Placement, wo: WorkOrderId) -> Vec<DeviceId> {
    let mut out: Vec<DeviceId> = placement
        .per_device
        .iter()
        .filter(|(_, rules)| {
            rules
                .iter()
                .any(|p| policy.rule(p.rule).is_some_and(|r| r.workorder == Some(wo)))
        })
        .map(|(d, _)| *d)
        .collect();
    out.sort();
    out
}

fn intersect(a: &[AddrRange], b: &[AddrRange]) -> Vec<AddrRange> {
    let mut out = Vec::new();
    for x in a {
        for y in b {
            if x.overlaps(y) {
                out.push(AddrRange {
                    v6: x.v6,
                    lo: x.lo.max(y.lo),
                    hi: x.hi.min(y.hi),
                });
            }
        }
    }
    merge(out)
}

/// The commands for one device, in its target's language: an `nft -f -` batch, `ipset`
/// commands, or IOS configuration lines.
pub fn commands(
    policy: &Policy,
    placement: &Placement,
    device: DeviceId,
    target: Target,
    wo: WorkOrderId,
    scope: &[AddrRange],
    action: Action,
) -> Result<String, String> {
    let scope = merge(scope.to_vec());
    let mut out = String::new();
    match target {
        Target::Nftables => {
            let sets = nftables::gate_sets(policy);
            for v6 in [false, true] {
                let elems: Vec<&AddrRange> = scope.iter().filter(|r| r.v6 == v6).collect();
                let Some(set) = sets.get(&(wo, v6)) else {
                    continue;
                };
                if elems.is_empty() {
                    continue;
                }
                let list: Vec<String> = elems
                    .iter()
                    .map(|r| match action {
                        Action::Open { seconds } => format!("{r} timeout {seconds}s"),
                        Action::Close => r.to_string(),
                    })
                    .collect();
                let verb = if matches!(action, Action::Open { .. }) {
                    "add"
                } else {
                    "delete"
                };
                let _ = writeln!(
                    out,
                    "{verb} element inet {} {set} {{ {} }}",
                    nftables::TABLE,
                    list.join(", ")
                );
            }
        }
        Target::Iptables => {
            let sets = iptables::gate_sets(policy);
            for r in &scope {
                let Some(set) = sets.get(&(wo, r.v6)) else {
                    continue;
                };
                for c in r.to_cidrs() {
                    match action {
                        Action::Open { seconds } => {
                            let _ = writeln!(out, "ipset -exist add {set} {c} timeout {seconds}");
                        }
                        Action::Close => {
                            let _ = writeln!(out, "ipset -exist del {set} {c}");
                        }
                    }
                }
            }
        }
        Target::CiscoIos => {
            let text = cisco::config(policy, placement, device).map_err(|d| {
                d.iter()
                    .map(|d| d.message.clone())
                    .collect::<Vec<_>>()
                    .join("; ")
            })?;
            let hash = cisco::config_hash(&text).ok_or("no configuration hash")?;
            let rules: Vec<RuleId> = placement
                .rules_on(device)
                .map(|p| p.rule)
                .filter(|r| policy.rule(*r).is_some_and(|r| r.workorder == Some(wo)))
                .collect();
            let mut rules = rules;
            rules.dedup();
            for id in rules {
                let Some(r) = policy.rule(id) else { continue };
                for (sources, addrs) in [(true, &r.src.addrs), (false, &r.dst.addrs)] {
                    let within: Vec<AddrRange> = intersect(addrs, &scope)
                        .into_iter()
                        .filter(|a| !a.v6)
                        .collect();
                    if within.is_empty() {
                        continue;
                    }
                    let _ = writeln!(
                        out,
                        "object-group network {}-{hash}",
                        cisco::gate_group(policy, id, sources)
                    );
                    for c in within.iter().flat_map(|a| a.to_cidrs()) {
                        let entry = cisco::v4_group_entry(&c);
                        let neg = if matches!(action, Action::Close) {
                            "no "
                        } else {
                            ""
                        };
                        let _ = writeln!(out, " {neg}{entry}");
                    }
                }
            }
            if !out.is_empty() {
                out.push_str("end\n");
            }
        }
        Target::Suricata => suricata_commands(policy, device, wo, &scope, action, &mut out)?,
        Target::AllowlistJson => {
            let name = policy
                .device(device)
                .map(|d| d.name.as_str())
                .unwrap_or("?");
            let order = policy.workorder(wo).map(|w| w.name.as_str()).unwrap_or("?");
            let addrs: Vec<String> = scope.iter().map(|r| format!("\"{r}\"")).collect();
            let (verb, seconds) = match action {
                Action::Open { seconds } => ("open", seconds.to_string()),
                Action::Close => ("close", "null".to_string()),
            };
            // Names are identifiers and addresses are printed by Palisade: no escaping needed.
            let _ = writeln!(
                out,
                "{{\"format\":\"palisade-workorder-instance\",\"format_version\":1,\"device\":\"{name}\",\"workorder\":\"{order}\",\"action\":\"{verb}\",\"scope\":[{}],\"seconds\":{seconds}}}",
                addrs.join(",")
            );
        }
    }
    Ok(out)
}

/// Where `palisade workorder` installs a Suricata gateway's rule files (the build writes
/// `<gateway>.rules`; copy it there and list it in suricata.yaml's `rule-files`).
pub const SURICATA_RULES_DIR: &str = "/etc/suricata/rules";

/// A Suricata gateway opens an instance by loading its rule file with the instance's flows
/// admitted, and closes it (or a timer does, at expiry) by loading the base file again.
fn suricata_commands(
    policy: &Policy,
    device: DeviceId,
    wo: WorkOrderId,
    scope: &[AddrRange],
    action: Action,
    out: &mut String,
) -> Result<(), String> {
    let label: Vec<String> = scope.iter().map(|r| r.to_string()).collect();
    let (base, open) = suricata::instance_files(policy, device, wo, scope, &label.join(", "))
        .map_err(|d| {
            d.iter()
                .map(|d| d.message.clone())
                .collect::<Vec<_>>()
                .join("; ")
        })?;
    let dir = SURICATA_RULES_DIR;
    let name = policy
        .device(device)
        .map(|d| d.name.as_str())
        .unwrap_or("?");
    let order = policy.workorder(wo).map(|w| w.name.as_str()).unwrap_or("?");
    let file = format!("{dir}/{name}.rules");
    let unit = format!("palisade-wo-{order}-{name}");
    let install = |out: &mut String, contents: &str| {
        let _ = writeln!(out, "cat > {file}.new <<'PALISADE_EOF'");
        out.push_str(contents);
        let _ = writeln!(out, "PALISADE_EOF");
        let _ = writeln!(out, "mv {file}.new {file}");
        let _ = writeln!(out, "suricatasc -c reload-rules");
    };
    match action {
        Action::Open { seconds } => {
            let _ = writeln!(out, "cat > {file}.base <<'PALISADE_EOF'");
            out.push_str(&base.contents);
            let _ = writeln!(out, "PALISADE_EOF");
            install(out, &open.contents);
            let _ = writeln!(
                out,
                "systemd-run --on-active={seconds}s --unit={unit} --collect /bin/sh -c 'cp {file}.base {file}.new && mv {file}.new {file} && suricatasc -c reload-rules'"
            );
        }
        Action::Close => {
            install(out, &base.contents);
            let _ = writeln!(out, "systemctl stop {unit}.timer 2>/dev/null || true");
        }
    }
    Ok(())
}
