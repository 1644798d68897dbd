//! iptables: for each firewall three files, loaded in this order —
//! `<fw>.ipset` (`ipset -exist restore < FILE`: the address groups and the work-order sets),
//! `<fw>.rules.v4` (`iptables-restore FILE`) and `<fw>.rules.v6` (`ip6tables-restore FILE`).
//!
//! The same semantics as the nftables output (see [`crate::nftables`] and docs/firewalls.md),
//! in iptables' terms: the filter table's FORWARD chain (policy DROP) drops invalid packets,
//! diode replies (`-m connmark --mark 0x1/0x1` in the reply direction) and established
//! packets of closed work orders, then accepts established traffic, then jumps by interface
//! pair to one chain per conduit. Groups of addresses are ipsets (`hash:net`); the work-order
//! sets are ipsets with `timeout` support, filled by `palisade workorder open`. The kernel
//! here offers ipset (`CONFIG_IP_SET`, `xt_set`); the files need the `ipset` tool to load.
//!
//! The restore files describe the whole filter table, as `iptables-save` does: loading one
//! replaces it (INPUT and OUTPUT are left empty with policy ACCEPT: Palisade governs
//! forwarding, not the firewall's own management plane).

use crate::header;
use crate::model::{self, DeviceModel, IcmpMatch, Namer, Term, MARK_DIODE, MARK_WO_MASK};
use crate::placement::Placement;
use crate::text;
use crate::{Emitted, OutputFile};
use palisade_compiler::address::AddrRange;
use palisade_compiler::diagnostic::Diagnostic;
use palisade_compiler::ir::{DeviceId, Policy, WorkOrderId};
use std::collections::BTreeMap;
use std::fmt::Write;

/// The kernel limits chain names to 28 characters, ipset names to 31.
const CHAIN_MAX: usize = 28;
const IPSET_MAX: usize = 31;
/// `--log-prefix` holds at most 29 characters.
const PREFIX_MAX: usize = 29;
/// `-m multiport` takes at most 15 ports (a range counts twice).
const MULTIPORT_MAX: usize = 15;
pub const LOG_LIMIT: &str = "-m limit --limit 5/sec --limit-burst 10";

/// The ipsets of every work order, by (order, IPv6): the same on every device.
pub fn gate_sets(policy: &Policy) -> BTreeMap<(WorkOrderId, bool), String> {
    let mut namer = Namer::new(IPSET_MAX);
    let mut out = BTreeMap::new();
    for (i, wo) in policy.workorders.iter().enumerate() {
        for v6 in [false, true] {
            out.insert(
                (WorkOrderId(i as u32), v6),
                namer.name(&format!("pal_wo_{}_{}", wo.name, model::family_suffix(v6))),
            );
        }
    }
    out
}

/// The work-order sets by name, for [`crate::validate`].
pub fn gate_names(policy: &Policy) -> crate::validate::GateNames {
    crate::validate::gates_by_name(gate_sets(policy))
}

/// The three file names of a device: ipset, IPv4 rules, IPv6 rules.
pub fn file_names(policy: &Policy, device: DeviceId) -> [String; 3] {
    let name = policy
        .device(device)
        .map(|d| d.name.as_str())
        .unwrap_or("device");
    let base = Namer::new(64).name(name);
    [
        format!("{base}.ipset"),
        format!("{base}.rules.v4"),
        format!("{base}.rules.v6"),
    ]
}

pub fn emit(policy: &Policy, devices: &[DeviceId]) -> Emitted {
    model::emit_each(policy, devices, |placement, d| {
        ruleset(policy, placement, d)
    })
}

/// The ipset file and the two restore files of one device.
pub fn ruleset(
    policy: &Policy,
    placement: &Placement,
    device: DeviceId,
) -> Result<Vec<OutputFile>, Vec<Diagnostic>> {
    let errors = model::check_linux_ifnames(policy, device, "iptables");
    if !errors.is_empty() {
        return Err(errors);
    }
    let m = model::device_model(policy, placement, device);
    let mut w = Writer::new(policy, &m);
    let v4 = w.family(false);
    let v6 = w.family(true);
    let ipset = w.ipset();
    let names = file_names(policy, device);
    let with_header = |body: String, target: &str| {
        let mut out = header::commented(policy, Some(&m.name), target, &body, "# ");
        out.push_str(&body);
        out
    };
    let [n_set, n_v4, n_v6] = names;
    Ok(vec![
        OutputFile {
            path: n_set,
            contents: with_header(ipset, "iptables (ipset restore)"),
        },
        OutputFile {
            path: n_v4,
            contents: with_header(v4, "iptables (iptables-restore)"),
        },
        OutputFile {
            path: n_v6,
            contents: with_header(v6, "iptables (ip6tables-restore)"),
        },
    ])
}

/// Split a port list into `-m multiport` chunks of at most 15 ports (a range counts twice).
fn multiport_chunks(ports: &[(u16, u16)]) -> Vec<Vec<(u16, u16)>> {
    let mut out: Vec<Vec<(u16, u16)>> = Vec::new();
    let mut cur = Vec::new();
    let mut weight = 0;
    for &(lo, hi) in ports {
        let w = if lo == hi { 1 } else { 2 };
        if weight + w > MULTIPORT_MAX {
            out.push(std::mem::take(&mut cur));
            weight = 0;
        }
        cur.push((lo, hi));
        weight += w;
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

/// A log prefix of at most 29 characters, keeping the rule's number when the name is long.
fn log_prefix(conduit: &str, number: u32) -> String {
    let tail = format!("#{number} ");
    let mut head = text::iptables_string(&format!("pal:{conduit}"), PREFIX_MAX);
    head.truncate(PREFIX_MAX.saturating_sub(tail.len()));
    format!("{head}{tail}")
}

struct Writer<'a> {
    policy: &'a Policy,
    m: &'a DeviceModel,
    chains: Namer,
    sets: Namer,
    gates: BTreeMap<(WorkOrderId, bool), String>,
    set_by_content: BTreeMap<(bool, Vec<String>), String>,
    set_defs: Vec<(String, bool, Vec<String>)>,
}

impl<'a> Writer<'a> {
    fn new(policy: &'a Policy, m: &'a DeviceModel) -> Writer<'a> {
        let gates = gate_sets(policy);
        let mut sets = Namer::new(IPSET_MAX);
        for n in gates.values() {
            sets.reserve(n);
        }
        let mut chains = Namer::new(CHAIN_MAX);
        for n in ["INPUT", "FORWARD", "OUTPUT"] {
            chains.reserve(n);
        }
        Writer {
            policy,
            m,
            chains,
            sets,
            gates,
            set_by_content: BTreeMap::new(),
            set_defs: Vec::new(),
        }
    }

    /// Source or destination match: `-s`, `-m iprange`, or an ipset for several ranges.
    fn addr_match(
        &mut self,
        ranges: &[AddrRange],
        v6: bool,
        dst: bool,
        label: &str,
    ) -> (String, String) {
        let (flag, range_flag, dir) = if dst {
            ("-d", "--dst-range", "dst")
        } else {
            ("-s", "--src-range", "src")
        };
        if let [one] = ranges {
            return match one.to_cidrs().as_slice() {
                [c] => (format!("{flag} {c}"), String::new()),
                _ => (
                    String::new(),
                    format!(
                        "{range_flag} {}-{}",
                        palisade_compiler::address::fmt_addr(v6, one.lo),
                        palisade_compiler::address::fmt_addr(v6, one.hi)
                    ),
                ),
            };
        }
        let elements: Vec<String> = ranges
            .iter()
            .flat_map(|r| r.to_cidrs())
            .map(|c| c.to_string())
            .collect();
        let key = (v6, elements);
        let name = match self.set_by_content.get(&key) {
            Some(n) => n.clone(),
            None => {
                let n = self
                    .sets
                    .name(&format!("pal_{label}_{}", crate::model::family_suffix(v6)));
                self.set_defs.push((n.clone(), v6, key.1.clone()));
                self.set_by_content.insert(key, n.clone());
                n
            }
        };
        (format!("-m set --match-set {name} {dir}"), String::new())
    }

    fn ipset(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "# Address groups and work-order sets of firewall {}. Load before the rules:",
            text::comment(&self.m.name, 80)
        );
        let _ = writeln!(out, "#   ipset -exist restore < FILE");
        let _ = writeln!(
            out,
            "# Reloading empties the work-order sets, which closes every open work order."
        );
        for ((wo, v6), name) in &self.gates {
            if !self.m.workorders.contains(wo) {
                continue;
            }
            let _ = writeln!(
                out,
                "create {name} hash:net family {} timeout 0",
                if *v6 { "inet6" } else { "inet" }
            );
            let _ = writeln!(out, "flush {name}");
        }
        for (name, v6, elements) in &self.set_defs {
            let _ = writeln!(
                out,
                "create {name} hash:net family {}",
                if *v6 { "inet6" } else { "inet" }
            );
            let _ = writeln!(out, "flush {name}");
            for e in elements {
                let _ = writeln!(out, "add {name} {e}");
            }
        }
        out
    }

    /// The restore file of one family.
    fn family(&mut self, v6: bool) -> String {
        let m = self.m;
        let mut decl: Vec<String> = Vec::new();
        let mut rules = String::new();
        let mut fwd = String::new();
        let _ = writeln!(fwd, "-A FORWARD -m conntrack --ctstate INVALID -j DROP");
        if m.diode {
            let diode = format!(
                "-m conntrack --ctdir REPLY -m connmark --mark 0x{MARK_DIODE:x}/0x{MARK_DIODE:x}"
            );
            let _ = writeln!(fwd, "-A FORWARD {diode} {LOG_LIMIT} -j LOG --log-prefix \"pal:diode-reply \" --log-level 4");
            let _ = writeln!(fwd, "-A FORWARD {diode} -j DROP");
        }
        for wo in &m.workorders {
            let wo_name = self
                .policy
                .workorder(*wo)
                .map(|w| w.name.clone())
                .unwrap_or_default();
            let chain = self.chains.name(&format!("PAL_WO_{wo_name}"));
            decl.push(chain.clone());
            let _ = writeln!(
                fwd,
                "-A FORWARD -m conntrack --ctstate RELATED,ESTABLISHED -m connmark --mark 0x{:x}/0x{MARK_WO_MASK:x} -j {chain}",
                model::wo_mark(*wo)
            );
            if let Some(set) = self.gates.get(&(*wo, v6)) {
                let _ = writeln!(rules, "-A {chain} -m set --match-set {set} src -j RETURN");
                let _ = writeln!(rules, "-A {chain} -m set --match-set {set} dst -j RETURN");
            }
            let prefix = text::iptables_string(&format!("pal:wo-closed:{wo_name} "), PREFIX_MAX);
            let _ = writeln!(
                rules,
                "-A {chain} {LOG_LIMIT} -j LOG --log-prefix \"{prefix}\" --log-level 6"
            );
            let _ = writeln!(rules, "-A {chain} -j DROP");
        }
        let _ = writeln!(
            fwd,
            "-A FORWARD -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT"
        );
        // Interface pairs, each jumping to the conduit chains that hold rules for it.
        let mut pairs: BTreeMap<(String, String), Vec<String>> = BTreeMap::new();
        let mut mark_chains: BTreeMap<u32, String> = BTreeMap::new();
        let mut appearances: BTreeMap<u32, usize> = BTreeMap::new();
        for g in &m.groups {
            for c in &g.conduits {
                *appearances.entry(c.conduit.0).or_default() += 1;
            }
        }
        for g in &m.groups {
            for c in &g.conduits {
                let mut body = String::new();
                let cname = self
                    .policy
                    .conduit(c.conduit)
                    .map(|c| c.name.clone())
                    .unwrap_or_default();
                for t in &c.terms {
                    self.term(&mut body, &cname, t, v6, &mut mark_chains);
                }
                if body.is_empty() {
                    continue;
                }
                let wanted = if appearances.get(&c.conduit.0).copied().unwrap_or(0) > 1 {
                    format!("PAL_{cname}_{}_{}", g.in_iface, g.out_iface)
                } else {
                    format!("PAL_{cname}")
                };
                let chain = self.chains.name(&wanted);
                decl.push(chain.clone());
                rules.push_str(&body.replace("-A @CHAIN@ ", &format!("-A {chain} ")));
                pairs
                    .entry((g.in_iface.clone(), g.out_iface.clone()))
                    .or_default()
                    .push(chain);
            }
        }
        for ((i, o), chains) in &pairs {
            for c in chains {
                let _ = writeln!(fwd, "-A FORWARD -i {i} -o {o} -j {c}");
            }
        }
        for (mark, chain) in &mark_chains {
            decl.push(chain.clone());
            let _ = writeln!(
                rules,
                "-A {chain} -j CONNMARK --set-xmark 0x{mark:x}/0xffffffff"
            );
            let _ = writeln!(rules, "-A {chain} -j ACCEPT");
        }
        let _ = writeln!(
            fwd,
            "-A FORWARD {LOG_LIMIT} -j LOG --log-prefix \"pal:drop \" --log-level 6"
        );
        let _ = writeln!(fwd, "-A FORWARD -j DROP");

        let tool = if v6 {
            "ip6tables-restore"
        } else {
            "iptables-restore"
        };
        let mut out = String::new();
        let _ = writeln!(
            out,
            "# IPv{} forwarding policy of firewall {}: everything not allowed below is dropped.",
            if v6 { 6 } else { 4 },
            text::comment(&m.name, 80)
        );
        let _ = writeln!(
            out,
            "# Load the .ipset file first, then `{tool} FILE` (replaces the filter table)."
        );
        let _ = writeln!(out, "*filter");
        let _ = writeln!(out, ":INPUT ACCEPT [0:0]");
        let _ = writeln!(out, ":FORWARD DROP [0:0]");
        let _ = writeln!(out, ":OUTPUT ACCEPT [0:0]");
        decl.sort();
        for c in &decl {
            let _ = writeln!(out, ":{c} - [0:0]");
        }
        out.push_str(&fwd);
        out.push_str(&rules);
        let _ = writeln!(out, "COMMIT");
        out
    }

    /// The lines of one rule in one family, with `@CHAIN@` for the chain name.
    fn term(
        &mut self,
        out: &mut String,
        conduit: &str,
        t: &Term,
        v6: bool,
        mark_chains: &mut BTreeMap<u32, String>,
    ) {
        let Some((src, dst)) = t.family(v6) else {
            return;
        };
        let (s_flag, s_range) = self.addr_match(&src, v6, false, &t.src_label);
        let (d_flag, d_range) = self.addr_match(&dst, v6, true, &t.dst_label);
        // iptables-save order: -s -d -p, then the match modules as given.
        let mut addr_plain: Vec<String> = Vec::new();
        let mut addr_modules: Vec<String> = Vec::new();
        for f in [&s_flag, &d_flag] {
            if f.starts_with("-m ") {
                addr_modules.push(f.clone());
            } else if !f.is_empty() {
                addr_plain.push(f.clone());
            }
        }
        let ranges: Vec<&String> = [&s_range, &d_range]
            .into_iter()
            .filter(|r| !r.is_empty())
            .collect();
        if !ranges.is_empty() {
            addr_modules.push(format!(
                "-m iprange {}",
                ranges
                    .iter()
                    .map(|r| r.as_str())
                    .collect::<Vec<_>>()
                    .join(" ")
            ));
        }
        // (protocol, module options) per line.
        let mut l4: Vec<(String, String)> = Vec::new();
        for (proto, ports) in [("tcp", &t.ports.tcp), ("udp", &t.ports.udp)] {
            if ports.is_empty() {
                continue;
            }
            if ports.as_slice() == [(0, u16::MAX)] {
                l4.push((format!("-p {proto}"), String::new()));
                continue;
            }
            for chunk in multiport_chunks(ports) {
                let list = crate::model::port_ranges(&chunk, ":");
                match list.as_slice() {
                    [one] => l4.push((format!("-p {proto}"), format!("-m {proto} --dport {one}"))),
                    _ => l4.push((
                        format!("-p {proto}"),
                        format!("-m multiport --dports {}", list.join(",")),
                    )),
                }
            }
        }
        let (icmp, p_icmp, module, opt) = if v6 {
            (&t.ports.icmpv6, "ipv6-icmp", "icmp6", "--icmpv6-type")
        } else {
            (&t.ports.icmp, "icmp", "icmp", "--icmp-type")
        };
        for IcmpMatch { icmp_type, code } in icmp {
            let p = format!("-p {p_icmp}");
            l4.push(match (icmp_type, code) {
                (None, _) => (p, String::new()),
                (Some(ty), None) => (p, format!("-m {module} {opt} {ty}")),
                (Some(ty), Some(c)) => (p, format!("-m {module} {opt} {ty}/{c}")),
            });
        }
        for n in &t.ports.protos {
            l4.push((format!("-p {n}"), String::new()));
        }
        let gates: Vec<String> = match t.workorder {
            None => vec![String::new()],
            Some(wo) => match self.gates.get(&(wo, v6)) {
                Some(set) => vec![
                    format!("-m set --match-set {set} src"),
                    format!("-m set --match-set {set} dst"),
                ],
                None => Vec::new(),
            },
        };
        let target = if t.mark == 0 {
            "ACCEPT".to_string()
        } else {
            let next = format!("PAL_MARK_{:08x}", t.mark);
            mark_chains
                .entry(t.mark)
                .or_insert_with(|| self.chains.name(&next))
                .clone()
        };
        let comment =
            text::iptables_string(&format!("{conduit} #{}: {}", t.number, t.describe()), 200);
        let prefix = log_prefix(conduit, t.number);
        for (proto, opts) in &l4 {
            for g in &gates {
                let mut parts: Vec<&str> = addr_plain.iter().map(String::as_str).collect();
                parts.push(proto);
                parts.extend(addr_modules.iter().map(String::as_str));
                if !g.is_empty() {
                    parts.push(g);
                }
                if !opts.is_empty() {
                    parts.push(opts);
                }
                let m = parts.join(" ");
                if t.log {
                    let _ = writeln!(
                        out,
                        "-A @CHAIN@ {m} {LOG_LIMIT} -j LOG --log-prefix \"{prefix}\" --log-level 6"
                    );
                }
                let _ = writeln!(
                    out,
                    "-A @CHAIN@ {m} -m comment --comment \"{comment}\" -j {target}"
                );
            }
        }
    }
}
