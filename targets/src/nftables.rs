//! nftables: one `inet` table per firewall, loaded atomically with `nft -f`.
//!
//! Layout of the table `palisade` (docs/firewalls.md explains it for operators):
//! - `forward` (hook forward, policy drop): invalid packets dropped; replies through a diode
//!   dropped; established packets of work-order connections sent to their order's gate;
//!   then the established/related shortcut; then one verdict-map lookup per family on
//!   `iifname . oifname . saddr . daddr`, which jumps straight to the chain of the conduit(s)
//!   between the two zones on that interface pair; whatever comes back is logged and dropped.
//! - one chain per conduit and interface pair, one rule per rule, family and protocol, with
//!   named sets for address and port groups, counters, and rate-limited logging of new
//!   connections for conduits that say `log`;
//! - `wo_<order>` gates: an established connection opened under a work order passes only while
//!   one of its ends is in the order's timed set `wo_<order>_v4` / `_v6`
//!   (`palisade workorder open` adds elements with a timeout).
//!
//! A packet therefore meets a bounded number of rules: the few rules of `forward`, one map
//! lookup, and the rules of the conduits between its two zones on its interface pair.

use crate::header;
use crate::model::{
    self, hex_mark, zone_ranges, DeviceModel, IcmpMatch, Namer, Term, MARK_DIODE, MARK_WO_MASK,
};
use crate::placement::Placement;
use crate::text;
use crate::{Emitted, OutputFile};
use palisade_compiler::address::AddrRange;
use palisade_compiler::diagnostic::Diagnostic;
use palisade_compiler::ir::{DeviceId, Policy, WorkOrderId};
use std::collections::BTreeMap;
use std::fmt::Write;

pub const TABLE: &str = "palisade";
/// New connections and drops are logged at most this often per rule.
pub const LOG_LIMIT: &str = "limit rate 5/second burst 10 packets";
const NAME_MAX: usize = 64;
/// The kernel keeps 127 bytes of a log prefix.
const PREFIX_MAX: usize = 100;

/// Names of the timed sets of every work order, by (order, IPv6): the same on every device.
pub fn gate_sets(policy: &Policy) -> BTreeMap<(WorkOrderId, bool), String> {
    let mut namer = Namer::new(NAME_MAX);
    let mut out = BTreeMap::new();
    for (i, wo) in policy.workorders.iter().enumerate() {
        for v6 in [false, true] {
            let name = namer.name(&format!("wo_{}_{}", wo.name, model::family_suffix(v6)));
            out.insert((WorkOrderId(i as u32), v6), name);
        }
    }
    out
}

/// The work-order sets by name, for [`crate::validate`].
pub fn gate_names(policy: &Policy) -> crate::validate::GateNames {
    crate::validate::gates_by_name(gate_sets(policy))
}

/// The file name of a device's ruleset.
pub fn file_name(policy: &Policy, device: DeviceId) -> String {
    let name = policy
        .device(device)
        .map(|d| d.name.as_str())
        .unwrap_or("device");
    format!("{}.nft", Namer::new(NAME_MAX).name(name))
}

pub fn emit(policy: &Policy, devices: &[DeviceId]) -> Emitted {
    model::emit_each(policy, devices, |placement, d| {
        ruleset(policy, placement, d).map(|text| {
            vec![OutputFile {
                path: file_name(policy, d),
                contents: text,
            }]
        })
    })
}

/// The complete file for one device: provenance header, then the table.
pub fn ruleset(
    policy: &Policy,
    placement: &Placement,
    device: DeviceId,
) -> Result<String, Vec<Diagnostic>> {
    let errors = model::check_linux_ifnames(policy, device, "nftables");
    if !errors.is_empty() {
        return Err(errors);
    }
    let m = model::device_model(policy, placement, device);
    let body = Writer::new(policy, &m).render();
    let mut out = header::commented(policy, Some(&m.name), "nftables", &body, "# ");
    out.push_str(&body);
    Ok(out)
}

fn family_word(v6: bool) -> &'static str {
    if v6 {
        "ip6"
    } else {
        "ip"
    }
}

struct Writer<'a> {
    policy: &'a Policy,
    m: &'a DeviceModel,
    sets: Namer,
    chains: Namer,
    /// Named sets by content (type, elements) → name, in order of creation.
    set_by_content: BTreeMap<(String, Vec<String>), String>,
    set_defs: Vec<(String, String, Vec<String>)>,
    gates: BTreeMap<(WorkOrderId, bool), String>,
}

impl<'a> Writer<'a> {
    fn new(policy: &'a Policy, m: &'a DeviceModel) -> Writer<'a> {
        let gates = gate_sets(policy);
        let mut sets = Namer::new(NAME_MAX);
        for name in gates.values() {
            sets.reserve(name);
        }
        sets.reserve("dispatch_v4");
        sets.reserve("dispatch_v6");
        let mut chains = Namer::new(NAME_MAX);
        chains.reserve("forward");
        Writer {
            policy,
            m,
            sets,
            chains,
            set_by_content: BTreeMap::new(),
            set_defs: Vec::new(),
            gates,
        }
    }

    /// A named set for these elements (created once per content).
    fn named_set(&mut self, kind: &str, label: &str, elements: Vec<String>) -> String {
        let key = (kind.to_string(), elements);
        if let Some(n) = self.set_by_content.get(&key) {
            return n.clone();
        }
        let name = self.sets.name(label);
        self.set_defs
            .push((name.clone(), kind.to_string(), key.1.clone()));
        self.set_by_content.insert(key, name.clone());
        name
    }

    /// `10.0.0.1`, or `@set` for several ranges.
    fn addr_operand(&mut self, ranges: &[AddrRange], v6: bool, label: &str) -> String {
        let elements: Vec<String> = ranges.iter().map(|r| r.to_string()).collect();
        match elements.as_slice() {
            [one] => one.clone(),
            _ => {
                let kind = if v6 { "ipv6_addr" } else { "ipv4_addr" };
                format!(
                    "@{}",
                    self.named_set(
                        kind,
                        &format!("{label}_{}", crate::model::family_suffix(v6)),
                        elements
                    )
                )
            }
        }
    }

    fn port_operand(&mut self, ports: &[(u16, u16)], label: &str) -> String {
        let elements = crate::model::port_ranges(ports, "-");
        match elements.as_slice() {
            [one] => one.clone(),
            _ => format!("@{}", self.named_set("inet_service", label, elements)),
        }
    }

    fn render(mut self) -> String {
        // Chains first (they create the named sets they use), then the table around them.
        let mut chains = String::new();
        let conduit_chains = self.conduit_chains();
        let gate_chains = self.gate_chains();
        let dispatch = self.dispatch_maps(&conduit_chains.0);
        self.forward_chain(&mut chains, &gate_chains);
        for (_, _, text) in &gate_chains {
            chains.push_str(text);
        }
        chains.push_str(&conduit_chains.1);

        let mut out = String::new();
        let _ = writeln!(
            out,
            "# Forwarding policy of firewall {}: everything not allowed below is dropped.",
            text::comment(&self.m.name, 80)
        );
        let _ = writeln!(out, "# Load with `nft -f FILE`: the file replaces table inet {TABLE} in one transaction (other tables are untouched).");
        let _ = writeln!(
            out,
            "# Reloading empties the work-order sets, which closes every open work order."
        );
        let _ = writeln!(out, "table inet {TABLE}");
        let _ = writeln!(out, "delete table inet {TABLE}");
        let _ = writeln!(out);
        let _ = writeln!(out, "table inet {TABLE} {{");
        for wo in &self.m.workorders {
            let wo_name = self
                .policy
                .workorder(*wo)
                .map(|w| w.name.as_str())
                .unwrap_or("?");
            for v6 in [false, true] {
                let Some(name) = self.gates.get(&(*wo, v6)) else {
                    continue;
                };
                let _ = writeln!(out, "\tset {name} {{");
                let _ = writeln!(
                    out,
                    "\t\ttype {}",
                    if v6 { "ipv6_addr" } else { "ipv4_addr" }
                );
                let _ = writeln!(out, "\t\tflags interval,timeout");
                let _ = writeln!(
                    out,
                    "\t\tcomment \"{}\"",
                    text::nft_string(
                        &format!("work order {wo_name}: scopes of open instances"),
                        120
                    )
                );
                let _ = writeln!(out, "\t}}");
            }
        }
        for (name, kind, elements) in &self.set_defs {
            let _ = writeln!(out, "\tset {name} {{");
            let _ = writeln!(out, "\t\ttype {kind}");
            let _ = writeln!(out, "\t\tflags interval");
            let _ = writeln!(out, "\t\telements = {{ {} }}", elements.join(", "));
            let _ = writeln!(out, "\t}}");
        }
        out.push_str(&dispatch);
        out.push_str(&chains);
        out.push_str("}\n");
        out
    }

    fn forward_chain(&self, out: &mut String, gate_chains: &[(u32, String, String)]) {
        let _ = writeln!(out, "\tchain forward {{");
        let _ = writeln!(
            out,
            "\t\ttype filter hook forward priority filter; policy drop;"
        );
        let _ = writeln!(out, "\t\tct state invalid counter drop comment \"invalid\"");
        if self.m.diode {
            let m = format!(
                "ct direction reply ct mark and {} == {}",
                hex_mark(MARK_DIODE),
                hex_mark(MARK_DIODE)
            );
            let _ = writeln!(
                out,
                "\t\t{m} {LOG_LIMIT} log prefix \"pal:diode-reply \" level warn"
            );
            let _ = writeln!(
                out,
                "\t\t{m} counter drop comment \"replies through a data diode\""
            );
        }
        if !gate_chains.is_empty() {
            let elements: Vec<String> = gate_chains
                .iter()
                .map(|(mark, name, _)| format!("{} : jump {name}", hex_mark(*mark)))
                .collect();
            let _ = writeln!(
                out,
                "\t\tct state established,related ct mark and {} vmap {{ {} }}",
                hex_mark(MARK_WO_MASK),
                elements.join(", ")
            );
        }
        let _ = writeln!(out, "\t\tct state established,related counter accept");
        for v6 in [false, true] {
            let f = family_word(v6);
            let _ = writeln!(
                out,
                "\t\tiifname . oifname . {f} saddr . {f} daddr vmap @dispatch_{}",
                crate::model::family_suffix(v6)
            );
        }
        let _ = writeln!(out, "\t\t{LOG_LIMIT} log prefix \"pal:drop \" level info");
        let _ = writeln!(out, "\t\tcounter drop comment \"default deny\"");
        let _ = writeln!(out, "\t}}");
    }

    /// One gate chain per work order with rules here, keyed by its connection mark.
    fn gate_chains(&mut self) -> Vec<(u32, String, String)> {
        let mut out = Vec::new();
        for wo in self.m.workorders.clone() {
            let wo_name = self
                .policy
                .workorder(wo)
                .map(|w| w.name.clone())
                .unwrap_or_default();
            let chain = self.chains.name(&format!("wo_{wo_name}"));
            let mut s = String::new();
            let _ = writeln!(s, "\tchain {chain} {{");
            let _ = writeln!(s, "\t\t# established connections of work order {}: pass while an end is in an open instance's scope", text::comment(&wo_name, 80));
            for v6 in [false, true] {
                let Some(set) = self.gates.get(&(wo, v6)) else {
                    continue;
                };
                let f = family_word(v6);
                let _ = writeln!(s, "\t\t{f} saddr @{set} return");
                let _ = writeln!(s, "\t\t{f} daddr @{set} return");
            }
            let prefix = text::nft_string(&format!("pal:wo-closed:{wo_name} "), PREFIX_MAX);
            let _ = writeln!(s, "\t\t{LOG_LIMIT} log prefix \"{prefix}\" level info");
            let _ = writeln!(s, "\t\tcounter drop");
            let _ = writeln!(s, "\t}}");
            out.push((model::wo_mark(wo), chain, s));
        }
        out
    }

    /// The chains of every conduit on every dispatch group; returns, per group, the chain the
    /// dispatch map jumps to, and the text of all chains.
    fn conduit_chains(&mut self) -> (Vec<String>, String) {
        let m = self.m;
        // How many groups each conduit appears in: one → the chain is named after the conduit.
        let mut appearances: BTreeMap<u32, usize> = BTreeMap::new();
        for g in &m.groups {
            for c in &g.conduits {
                *appearances.entry(c.conduit.0).or_default() += 1;
            }
        }
        let mut targets = Vec::new();
        let mut text = String::new();
        for g in &m.groups {
            let mut names = Vec::new();
            for c in &g.conduits {
                let cname = self
                    .policy
                    .conduit(c.conduit)
                    .map(|c| c.name.clone())
                    .unwrap_or_default();
                let wanted = if appearances.get(&c.conduit.0).copied().unwrap_or(0) > 1 {
                    format!("{cname}_{}_{}", g.in_iface, g.out_iface)
                } else {
                    cname.clone()
                };
                let chain = self.chains.name(&wanted);
                let _ = writeln!(text, "\tchain {chain} {{");
                let title = self
                    .policy
                    .conduit(c.conduit)
                    .and_then(|c| c.title.clone())
                    .unwrap_or_default();
                let _ = writeln!(
                    text,
                    "\t\t# conduit {} \"{}\": {} -> {}, in {} out {}",
                    text::comment(&cname, 80),
                    text::nft_string(&title, 100),
                    text::comment(self.policy.zone_name(g.from), 60),
                    text::comment(self.policy.zone_name(g.to), 60),
                    g.in_iface,
                    g.out_iface
                );
                for t in &c.terms {
                    self.term_rules(&mut text, &cname, t);
                }
                let _ = writeln!(text, "\t}}");
                names.push(chain);
            }
            let target = match names.as_slice() {
                [one] => one.clone(),
                _ => {
                    let chain = self.chains.name(&format!(
                        "zones_{}_{}_{}_{}",
                        self.policy.zone_name(g.from),
                        self.policy.zone_name(g.to),
                        g.in_iface,
                        g.out_iface
                    ));
                    let _ = writeln!(text, "\tchain {chain} {{");
                    for n in &names {
                        let _ = writeln!(text, "\t\tjump {n}");
                    }
                    let _ = writeln!(text, "\t}}");
                    chain
                }
            };
            targets.push(target);
        }
        (targets, text)
    }

    fn term_rules(&mut self, out: &mut String, conduit: &str, t: &Term) {
        let comment = text::nft_string(&format!("{conduit} #{}: {}", t.number, t.describe()), 120);
        let prefix = text::nft_string(&format!("pal:{conduit}#{}:new ", t.number), PREFIX_MAX);
        let _ = writeln!(
            out,
            "\t\t# rule {}: {}",
            t.number,
            text::comment(&t.describe(), 160)
        );
        let svc_label = t.services.join("_");
        for v6 in [false, true] {
            let Some((src, dst)) = t.family(v6) else {
                continue;
            };
            let f = family_word(v6);
            let s = self.addr_operand(&src, v6, &t.src_label);
            let d = self.addr_operand(&dst, v6, &t.dst_label);
            let mut l4: Vec<String> = Vec::new();
            for (proto, ports) in [("tcp", &t.ports.tcp), ("udp", &t.ports.udp)] {
                if ports.is_empty() {
                    continue;
                }
                if ports.as_slice() == [(0, u16::MAX)] {
                    l4.push(format!("meta l4proto {proto}"));
                } else {
                    let op = self.port_operand(ports, &format!("{svc_label}_{proto}"));
                    l4.push(format!("{proto} dport {op}"));
                }
            }
            let icmp = if v6 { &t.ports.icmpv6 } else { &t.ports.icmp };
            let word = if v6 { "icmpv6" } else { "icmp" };
            for IcmpMatch { icmp_type, code } in icmp {
                l4.push(match (icmp_type, code) {
                    (None, _) => format!("meta l4proto {word}"),
                    (Some(ty), None) => format!("{word} type {ty}"),
                    (Some(ty), Some(c)) => format!("{word} type {ty} {word} code {c}"),
                });
            }
            for p in &t.ports.protos {
                l4.push(format!("meta l4proto {p}"));
            }
            let gates: Vec<String> = match t.workorder {
                None => vec![String::new()],
                Some(wo) => match self.gates.get(&(wo, v6)) {
                    Some(set) => vec![format!(" {f} saddr @{set}"), format!(" {f} daddr @{set}")],
                    None => Vec::new(),
                },
            };
            let mark = if t.mark != 0 {
                format!(" ct mark set {}", hex_mark(t.mark))
            } else {
                String::new()
            };
            for l in &l4 {
                for g in &gates {
                    let m = format!("{f} saddr {s} {f} daddr {d}{g} {l}");
                    if t.log {
                        let _ = writeln!(
                            out,
                            "\t\t{m} {LOG_LIMIT} log prefix \"{prefix}\" level info"
                        );
                    }
                    let _ = writeln!(out, "\t\t{m}{mark} counter accept comment \"{comment}\"");
                }
            }
        }
    }

    /// `dispatch_v4` / `dispatch_v6`: interface pair and zone pair to the conduit chain.
    fn dispatch_maps(&self, targets: &[String]) -> String {
        let mut out = String::new();
        for v6 in [false, true] {
            let addr = if v6 { "ipv6_addr" } else { "ipv4_addr" };
            let mut elements = Vec::new();
            for (g, target) in self.m.groups.iter().zip(targets) {
                let from: Vec<AddrRange> = zone_ranges(self.policy, g.from)
                    .into_iter()
                    .filter(|r| r.v6 == v6)
                    .collect();
                let to: Vec<AddrRange> = zone_ranges(self.policy, g.to)
                    .into_iter()
                    .filter(|r| r.v6 == v6)
                    .collect();
                for a in &from {
                    for b in &to {
                        elements.push(format!(
                            "\"{}\" . \"{}\" . {a} . {b} : jump {target}",
                            g.in_iface, g.out_iface
                        ));
                    }
                }
            }
            let _ = writeln!(out, "\tmap dispatch_{} {{", crate::model::family_suffix(v6));
            let _ = writeln!(out, "\t\ttype ifname . ifname . {addr} . {addr} : verdict");
            let _ = writeln!(out, "\t\tflags interval");
            if !elements.is_empty() {
                let _ = writeln!(out, "\t\telements = {{");
                let n = elements.len();
                for (i, e) in elements.iter().enumerate() {
                    let _ = writeln!(out, "\t\t\t{e}{}", if i + 1 < n { "," } else { "" });
                }
                let _ = writeln!(out, "\t\t}}");
            }
            let _ = writeln!(out, "\t}}");
        }
        out
    }
}
