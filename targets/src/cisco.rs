//! Cisco IOS: extended named ACLs, one inbound ACL per interface and family, with network
//! object groups for groups of addresses.
//!
//! How replies pass: IOS ACLs are stateless, so every rule's ACE carries
//! `reflect PAL-RFL-<egress>-<h>` (a reflexive access list) and the inbound ACL of the interface where its replies
//! arrive starts with `evaluate PAL-RFL-<iface>-<h>`: the reply of a session passes only
//! there, and only while the session's mirrored entry lives. Rules of a `unidirectional` conduit do not reflect, so a diode passes no
//! replies. ICMP echo requests get a stateless echo-reply ACE the other way.
//!
//! Work orders: each rule under `when workorder X` is two ACEs over two empty object groups
//! (`PAL-WO-…-S`: its sources in an open instance's scope, `-D`: its destinations), filled
//! and emptied by `palisade workorder open|close --target cisco-ios`. IOS has no timed group
//! entries: the close commands must be run at expiry. The initiator's packets stop at once;
//! a reflected reply entry lives until its timeout ([`REFLECT_TIMEOUT`] seconds).
//!
//! Not expressible here (a build error, never a silent gap): work-order rules over IPv6 (IOS
//! IPv6 ACLs take no network object groups), interface names that are not IOS names.
//!
//! Every name carries a short hash of the configuration (`-<h>`), so loading a new version
//! defines new ACLs and rebinds each interface in one command; the previous ones are listed
//! in a remark to be removed afterwards. There is no offline IOS validator: tests compare
//! golden files and validate the configuration through the project's own reader.

use crate::header;
use crate::model::{self, DeviceModel, IcmpMatch, Term};
use crate::placement::Placement;
use crate::text;
use crate::{Emitted, OutputFile};
use palisade_compiler::address::{AddrRange, Cidr};
use palisade_compiler::diagnostic::Diagnostic;
use palisade_compiler::hash::sha256_hex;
use palisade_compiler::ir::{DeviceId, Policy, RuleId};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write;

pub const REFLECT_TIMEOUT: u32 = 300;
const HASH: &str = "@H@";

/// IOS interface names: a letter, then letters, digits, `/`, `.`, `:` or `-`.
pub fn ios_ifname_ok(name: &str) -> bool {
    name.len() <= 64
        && name.starts_with(|c: char| c.is_ascii_alphabetic())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'/' | b'.' | b':' | b'-'))
}

/// A name part for IOS identifiers: letters, digits and `-`.
fn ident(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect()
}

pub fn file_name(policy: &Policy, device: DeviceId) -> String {
    let name = policy
        .device(device)
        .map(|d| d.name.as_str())
        .unwrap_or("device");
    format!("{}.ios", model::Namer::new(64).name(name))
}

/// The object groups of the work-order rules on a device: (rule, sources?) → name without the
/// hash suffix. The same function serves the emitter and `palisade workorder`.
pub fn gate_group(policy: &Policy, rule: RuleId, sources: bool) -> String {
    let r = policy.rule(rule);
    let wo = r
        .and_then(|r| r.workorder)
        .and_then(|w| policy.workorder(w))
        .map(|w| w.name.as_str())
        .unwrap_or("?");
    let conduit = r
        .and_then(|r| policy.conduit(r.conduit))
        .map(|c| c.name.as_str())
        .unwrap_or("?");
    let n = r.map(|r| r.index + 1).unwrap_or(0);
    format!(
        "PAL-WO-{}-{}-{n}-{}",
        ident(wo),
        ident(conduit),
        if sources { "S" } else { "D" }
    )
}

pub fn emit(policy: &Policy, devices: &[DeviceId]) -> Emitted {
    model::emit_each(policy, devices, |placement, d| {
        config(policy, placement, d).map(|text| {
            vec![OutputFile {
                path: file_name(policy, d),
                contents: text,
            }]
        })
    })
}

/// The work-order object groups of a configuration whose names end in `-<hash>`, for
/// [`crate::validate`]: each holds the rule's sources (or destinations) in open scopes.
pub fn gate_names(policy: &Policy, hash: &str) -> crate::validate::GateNames {
    let mut out = crate::validate::GateNames::new();
    for (i, r) in policy.rules.iter().enumerate() {
        let Some(wo) = r.workorder else { continue };
        for (sources, addrs) in [(true, &r.src.addrs), (false, &r.dst.addrs)] {
            let within: Vec<(u128, u128)> = addrs
                .iter()
                .filter(|a| !a.v6)
                .map(|a| (a.lo, a.hi))
                .collect();
            let name = format!("{}-{hash}", gate_group(policy, RuleId(i as u32), sources));
            out.insert(
                name,
                crate::validate::Gate {
                    wo,
                    v6: false,
                    within: Some(within),
                },
            );
        }
    }
    out
}

/// The configuration hash of a device (the `-<h>` of its names), from its text.
pub fn config_hash(text: &str) -> Option<String> {
    text.lines()
        .find_map(|l| l.strip_prefix("! Configuration hash: "))
        .map(str::to_string)
}

fn errors(policy: &Policy, device: DeviceId, m: &DeviceModel) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    if let Some(dev) = policy.device(device) {
        for i in dev.interfaces.iter().filter(|i| !ios_ifname_ok(&i.name)) {
            out.push(
                Diagnostic::error("E0911", format!("interface name `{}` of `{}` is not a valid IOS interface name", text::comment_field(&i.name), dev.name))
                    .primary(policy.location(i.span), "not usable in an IOS configuration")
                    .help("IOS interface names start with a letter and use letters, digits, `/`, `.`, `:` and `-`"),
            );
        }
    }
    for t in m.terms() {
        if t.workorder.is_some() && t.family(true).is_some() {
            if let Some(r) = policy.rule(t.rule) {
                out.push(
                    Diagnostic::error("E0912", "cisco-ios cannot gate an IPv6 rule by work order".to_string())
                        .primary(policy.location(r.span), "an IPv6 rule under `when workorder`")
                        .help("IOS IPv6 ACLs take no network object groups, so an instance's scope cannot be opened; use an nftables or iptables firewall here"),
                );
            }
        }
    }
    out
}

/// The configuration of one device.
pub fn config(
    policy: &Policy,
    placement: &Placement,
    device: DeviceId,
) -> Result<String, Vec<Diagnostic>> {
    let m = model::device_model(policy, placement, device);
    let errs = errors(policy, device, &m);
    if !errs.is_empty() {
        return Err(errs);
    }
    let mut w = Writer {
        policy,
        groups: BTreeMap::new(),
        group_names: BTreeSet::new(),
        reflected: BTreeSet::new(),
        group_defs: String::new(),
    };
    // ACEs per ingress interface and family.
    let mut acls: BTreeMap<(String, bool), String> = BTreeMap::new();
    for g in &m.groups {
        for c in &g.conduits {
            let cname = policy
                .conduit(c.conduit)
                .map(|c| c.name.clone())
                .unwrap_or_default();
            for t in &c.terms {
                for v6 in [false, true] {
                    let mut fwd = String::new();
                    let mut back = String::new();
                    w.term(&mut fwd, &mut back, &cname, t, v6, &g.out_iface);
                    if !fwd.is_empty() {
                        acls.entry((g.in_iface.clone(), v6))
                            .or_default()
                            .push_str(&fwd);
                    }
                    if !back.is_empty() {
                        acls.entry((g.out_iface.clone(), v6))
                            .or_default()
                            .push_str(&back);
                    }
                }
            }
        }
    }
    let mut body = String::new();
    let _ = writeln!(
        body,
        "! Inbound ACLs of firewall {}: everything not allowed below is dropped.",
        text::comment(&m.name, 80)
    );
    let _ = writeln!(body, "! Paste into the running configuration: new ACLs are defined, then each interface is rebound.");
    let _ = writeln!(body, "! Afterwards remove the ACLs and object groups of the previous version (names ending in another hash).");
    let _ = writeln!(body, "! Configuration hash: {HASH}");
    let _ = writeln!(body, "ip access-list logging interval 100");
    body.push_str(&w.group_defs);
    for ((iface, v6), aces) in &acls {
        let _ = writeln!(body, "!");
        body.push_str(&acl_header(iface, *v6));
        if w.reflected.contains(&(iface.clone(), *v6)) {
            let _ = writeln!(body, " evaluate {}", reflect_list(iface, *v6));
        }
        body.push_str(aces);
        let _ = writeln!(
            body,
            " deny {} any any log",
            if *v6 { "ipv6" } else { "ip" }
        );
    }
    // Interfaces with no ACEs still get an ACL: IOS forwards everything an interface
    // without an inbound ACL receives.
    for iface in &m.interfaces {
        for v6 in [false, true] {
            if !acls.contains_key(&(iface.clone(), v6)) {
                let _ = writeln!(body, "!");
                body.push_str(&acl_header(iface, v6));
                if w.reflected.contains(&(iface.clone(), v6)) {
                    let _ = writeln!(body, " evaluate {}", reflect_list(iface, v6));
                }
                let _ = writeln!(body, " deny {} any any log", if v6 { "ipv6" } else { "ip" });
            }
        }
    }
    for iface in &m.interfaces {
        let _ = writeln!(body, "!");
        let _ = writeln!(body, "interface {iface}");
        let _ = writeln!(body, " ip access-group {} in", acl_name(iface, false));
        let _ = writeln!(body, " ipv6 traffic-filter {} in", acl_name(iface, true));
    }
    let _ = writeln!(body, "end");
    let h = sha256_hex(body.as_bytes())
        .chars()
        .take(8)
        .collect::<String>();
    let body = body.replace(HASH, &h);
    let mut out = header::commented(policy, Some(&m.name), "cisco_ios", &body, "! ");
    out.push_str(&body);
    Ok(out)
}

/// The reflexive list of sessions whose replies arrive on `iface`: an ACL evaluates only its
/// own interface's list, so a reply is accepted only where it really comes back.
fn reflect_list(iface: &str, v6: bool) -> String {
    format!(
        "{}-{}-{HASH}",
        if v6 { "PAL6-RFL" } else { "PAL-RFL" },
        ident(iface)
    )
}

fn acl_name(iface: &str, v6: bool) -> String {
    format!(
        "{}-{}-IN-{HASH}",
        if v6 { "PAL6" } else { "PAL" },
        ident(iface)
    )
}

fn acl_header(iface: &str, v6: bool) -> String {
    if v6 {
        format!("ipv6 access-list {}\n", acl_name(iface, true))
    } else {
        format!("ip access-list extended {}\n", acl_name(iface, false))
    }
}

/// An IPv4 wildcard operand for one prefix.
fn v4_prefix(c: &Cidr) -> String {
    if c.prefix == 32 {
        return format!(
            "host {}",
            palisade_compiler::address::fmt_addr(false, c.addr)
        );
    }
    if c.prefix == 0 {
        return "any".into();
    }
    let wild = (1u32 << (32 - c.prefix as u32)).wrapping_sub(1);
    format!(
        "{} {}",
        palisade_compiler::address::fmt_addr(false, c.addr),
        std::net::Ipv4Addr::from(wild)
    )
}

/// An object-group entry: `host A` or `A NETMASK` (groups take a netmask, ACEs a wildcard).
pub fn v4_group_entry(c: &Cidr) -> String {
    if c.prefix == 32 {
        return format!(
            "host {}",
            palisade_compiler::address::fmt_addr(false, c.addr)
        );
    }
    let mask = u32::MAX.checked_shl(32 - c.prefix as u32).unwrap_or(0);
    format!(
        "{} {}",
        palisade_compiler::address::fmt_addr(false, c.addr),
        std::net::Ipv4Addr::from(mask)
    )
}

fn v6_prefix(c: &Cidr) -> String {
    match c.prefix {
        128 => format!(
            "host {}",
            palisade_compiler::address::fmt_addr(true, c.addr)
        ),
        0 => "any".into(),
        _ => c.to_string(),
    }
}

struct Writer<'a> {
    policy: &'a Policy,
    /// Object groups by content → name.
    groups: BTreeMap<Vec<String>, String>,
    group_names: BTreeSet<String>,
    /// Interfaces whose reflexive list some ACE fills.
    reflected: BTreeSet<(String, bool)>,
    group_defs: String,
}

impl Writer<'_> {
    /// IPv4 operands for an address list: one prefix inline, else an object group.
    fn v4_operands(&mut self, ranges: &[AddrRange], label: &str) -> Vec<String> {
        let cidrs: Vec<Cidr> = ranges.iter().flat_map(|r| r.to_cidrs()).collect();
        if let [one] = cidrs.as_slice() {
            return vec![v4_prefix(one)];
        }
        let lines: Vec<String> = cidrs.iter().map(v4_group_entry).collect();
        if let Some(n) = self.groups.get(&lines) {
            return vec![format!("object-group {n}")];
        }
        let base = format!("PAL-{}", ident(label));
        let mut name = format!("{base}-{HASH}");
        let mut k = 2;
        while self.group_names.contains(&name) {
            name = format!("{base}-{k}-{HASH}");
            k += 1;
        }
        let _ = writeln!(self.group_defs, "!\nobject-group network {name}");
        for l in &lines {
            let _ = writeln!(self.group_defs, " {l}");
        }
        self.groups.insert(lines, name.clone());
        self.group_names.insert(name.clone());
        vec![format!("object-group {name}")]
    }

    fn define_gate(&mut self, name: &str, label: &str) {
        let _ = writeln!(self.group_defs, "!\nobject-group network {name}");
        let _ = writeln!(
            self.group_defs,
            " description {}",
            text::ios_text(label, 180)
        );
    }

    /// The forward ACEs (ingress ACL) and reverse stateless ACEs (egress interface's ACL).
    fn term(
        &mut self,
        fwd: &mut String,
        back: &mut String,
        conduit: &str,
        t: &Term,
        v6: bool,
        out_iface: &str,
    ) {
        let Some((src, dst)) = t.family(v6) else {
            return;
        };
        let (srcs, dsts): (Vec<String>, Vec<String>) = if v6 {
            (
                src.iter()
                    .flat_map(|r| r.to_cidrs())
                    .map(|c| v6_prefix(&c))
                    .collect(),
                dst.iter()
                    .flat_map(|r| r.to_cidrs())
                    .map(|c| v6_prefix(&c))
                    .collect(),
            )
        } else {
            (
                self.v4_operands(&src, &t.src_label),
                self.v4_operands(&dst, &t.dst_label),
            )
        };
        // Work orders: the sources-in-scope group with every destination, then every source
        // with the destinations-in-scope group.
        let pairs: Vec<(String, String)> = match t.workorder {
            None => srcs
                .iter()
                .flat_map(|s| dsts.iter().map(move |d| (s.clone(), d.clone())))
                .collect(),
            Some(wo) => {
                let gs = format!("{}-{HASH}", gate_group(self.policy, t.rule, true));
                let gd = format!("{}-{HASH}", gate_group(self.policy, t.rule, false));
                let wo_name = self
                    .policy
                    .workorder(wo)
                    .map(|w| w.name.clone())
                    .unwrap_or_default();
                self.define_gate(
                    &gs,
                    &format!(
                        "work order {wo_name}, {conduit} #{}: sources in open scopes",
                        t.number
                    ),
                );
                self.define_gate(
                    &gd,
                    &format!(
                        "work order {wo_name}, {conduit} #{}: destinations in open scopes",
                        t.number
                    ),
                );
                let mut p: Vec<(String, String)> = dsts
                    .iter()
                    .map(|d| (format!("object-group {gs}"), d.clone()))
                    .collect();
                p.extend(
                    srcs.iter()
                        .map(|s| (s.clone(), format!("object-group {gd}"))),
                );
                p
            }
        };
        let cookie: String = format!("PAL-{}-{}", ident(conduit), t.number)
            .chars()
            .take(60)
            .collect();
        let log = if t.log {
            format!(" log {cookie}")
        } else {
            String::new()
        };
        if !t.diode && (!t.ports.tcp.is_empty() || !t.ports.udp.is_empty()) {
            self.reflected.insert((out_iface.to_string(), v6));
        }
        let reflect = if t.diode {
            String::new()
        } else {
            format!(
                " reflect {} timeout {REFLECT_TIMEOUT}",
                reflect_list(out_iface, v6)
            )
        };
        let _ = writeln!(
            fwd,
            " remark {}",
            text::ios_text(&format!("{conduit} #{}: {}", t.number, t.describe()), 90)
        );
        for (s, d) in &pairs {
            for (proto, ports) in [("tcp", &t.ports.tcp), ("udp", &t.ports.udp)] {
                for &(lo, hi) in ports.iter() {
                    let op = match (lo, hi) {
                        (0, u16::MAX) => String::new(),
                        (l, h) if l == h => format!(" eq {l}"),
                        (l, h) => format!(" range {l} {h}"),
                    };
                    let _ = writeln!(fwd, " permit {proto} {s} {d}{op}{log}{reflect}");
                }
            }
            let icmp = if v6 { &t.ports.icmpv6 } else { &t.ports.icmp };
            for IcmpMatch { icmp_type, code } in icmp {
                let tc = match (icmp_type, code) {
                    (None, _) => String::new(),
                    (Some(ty), None) => format!(" {ty}"),
                    (Some(ty), Some(c)) => format!(" {ty} {c}"),
                };
                let _ = writeln!(fwd, " permit icmp {s} {d}{tc}{log}");
                let echo = if v6 { (128u8, 129u8) } else { (8, 0) };
                if *icmp_type == Some(echo.0) && !t.diode {
                    let _ = writeln!(
                        back,
                        " remark {}",
                        text::ios_text(&format!("{conduit} #{}: echo replies", t.number), 90)
                    );
                    let _ = writeln!(back, " permit icmp {d} {s} {}", echo.1);
                }
            }
            for p in &t.ports.protos {
                let _ = writeln!(fwd, " permit {p} {s} {d}{log}");
            }
        }
    }
}
