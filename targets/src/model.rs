//! What one firewall must do, in target-neutral terms: the rules [`placement`] put on it,
//! grouped the way every firewall target dispatches them — by interface pair, then by the
//! zones of source and destination, then by conduit — with each rule's addresses and ports
//! split by family and protocol. The nftables, iptables and Cisco modules only render this.
//!
//! Connection marks (shared by the Linux targets and the validator): a connection opened by
//! a rule of a `unidirectional` conduit carries [`MARK_DIODE`]; one opened by a rule under
//! `when workorder X` carries X's number in [`MARK_WO_MASK`]. The gates before the
//! established shortcut read them, so a diode passes no replies and a closed work order stops
//! its established sessions too.
//!
//! [`placement`]: crate::placement

use crate::placement::{Placed, Placement, MAX_CROSSINGS, MAX_PATHS};
use palisade_compiler::address::{complement, merge, AddrRange};
use palisade_compiler::diagnostic::Diagnostic;
use palisade_compiler::ir::{
    ConduitId, DeviceId, Policy, RuleId, Transport, WorkOrderId, ZoneId, EXTERNAL,
};
use palisade_compiler::topology::{Crossing, Topology};
use std::collections::{BTreeMap, BTreeSet};

/// Connection-mark bit of a connection opened through a data diode.
pub const MARK_DIODE: u32 = 0x0000_0001;
/// Connection-mark bits holding the number of the work order that opened a connection.
pub const MARK_WO_MASK: u32 = 0x00ff_ff00;

/// Emit every device with `one`, collecting every device's errors: all files, or all errors.
pub fn emit_each(
    policy: &Policy,
    devices: &[DeviceId],
    one: impl Fn(&Placement, DeviceId) -> Result<Vec<crate::OutputFile>, Vec<Diagnostic>>,
) -> crate::Emitted {
    let placement = enforced(policy);
    let mut files = Vec::new();
    let mut errors = Vec::new();
    for &d in devices {
        match one(&placement, d) {
            Ok(f) => files.extend(f),
            Err(e) => errors.extend(e),
        }
    }
    if errors.is_empty() {
        Ok(files)
    } else {
        Err(errors)
    }
}

/// `v4` or `v6`, for set and chain names.
pub fn family_suffix(v6: bool) -> &'static str {
    if v6 {
        "v6"
    } else {
        "v4"
    }
}

/// Port ranges as text, a range joined by `sep` (`-` for nftables, `:` for iptables).
pub fn port_ranges(ports: &[(u16, u16)], sep: &str) -> Vec<String> {
    ports
        .iter()
        .map(|(lo, hi)| {
            if lo == hi {
                lo.to_string()
            } else {
                format!("{lo}{sep}{hi}")
            }
        })
        .collect()
}

/// The connection mark of connections opened by rules under work order `wo`.
pub fn wo_mark(wo: WorkOrderId) -> u32 {
    (wo.0.wrapping_add(1) & 0xffff) << 8
}

/// The work order whose number a connection mark carries.
pub fn wo_of_mark(mark: u32) -> Option<WorkOrderId> {
    let n = (mark & MARK_WO_MASK) >> 8;
    n.checked_sub(1).map(WorkOrderId)
}

/// The connection mark a rule gives the connections it opens.
pub fn rule_mark(policy: &Policy, rule: RuleId) -> u32 {
    let Some(r) = policy.rule(rule) else { return 0 };
    let diode = policy.conduit(r.conduit).is_some_and(|c| c.unidirectional);
    (if diode { MARK_DIODE } else { 0 }) | r.workorder.map(wo_mark).unwrap_or(0)
}

/// An ICMP match: `None` type means any message of that ICMP version.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct IcmpMatch {
    pub icmp_type: Option<u8>,
    pub code: Option<u8>,
}

/// What a rule matches above the network layer, by protocol. Port lists are merged.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct Ports {
    pub tcp: Vec<(u16, u16)>,
    pub udp: Vec<(u16, u16)>,
    pub icmp: Vec<IcmpMatch>,
    pub icmpv6: Vec<IcmpMatch>,
    /// Whole IP protocols (`proto/N`).
    pub protos: Vec<u8>,
}

fn merge_ports(mut v: Vec<(u16, u16)>) -> Vec<(u16, u16)> {
    v.sort();
    let mut out: Vec<(u16, u16)> = Vec::new();
    for (lo, hi) in v {
        match out.last_mut() {
            Some(last) if lo as u32 <= last.1 as u32 + 1 => last.1 = last.1.max(hi),
            _ => out.push((lo, hi)),
        }
    }
    out
}

fn merge_icmp(mut v: Vec<IcmpMatch>) -> Vec<IcmpMatch> {
    if v.iter().any(|m| m.icmp_type.is_none()) {
        return vec![IcmpMatch {
            icmp_type: None,
            code: None,
        }];
    }
    let any_code: BTreeSet<Option<u8>> = v
        .iter()
        .filter(|m| m.code.is_none())
        .map(|m| m.icmp_type)
        .collect();
    v.retain(|m| m.code.is_none() || !any_code.contains(&m.icmp_type));
    v.sort();
    v.dedup();
    v
}

impl Ports {
    pub fn of(transports: impl IntoIterator<Item = Transport>) -> Ports {
        let mut p = Ports::default();
        for t in transports {
            match t {
                Transport::Tcp { lo, hi } => p.tcp.push((lo, hi)),
                Transport::Udp { lo, hi } => p.udp.push((lo, hi)),
                Transport::Icmp { icmp_type, code } => p.icmp.push(IcmpMatch { icmp_type, code }),
                Transport::Icmpv6 { icmp_type, code } => {
                    p.icmpv6.push(IcmpMatch { icmp_type, code })
                }
                Transport::Ip { number } => p.protos.push(number),
                Transport::Ethertype { .. } => {}
            }
        }
        p.tcp = merge_ports(p.tcp);
        p.udp = merge_ports(p.udp);
        p.icmp = merge_icmp(p.icmp);
        p.icmpv6 = merge_icmp(p.icmpv6);
        p.protos.sort();
        p.protos.dedup();
        p
    }
    pub fn is_empty(&self) -> bool {
        self.tcp.is_empty()
            && self.udp.is_empty()
            && self.icmp.is_empty()
            && self.icmpv6.is_empty()
            && self.protos.is_empty()
    }
}

/// One conduit rule as a firewall enforces it.
#[derive(Clone, Debug)]
pub struct Term {
    pub rule: RuleId,
    pub conduit: ConduitId,
    /// 1-based, as people count rules in a conduit.
    pub number: u32,
    pub src: Vec<AddrRange>,
    pub dst: Vec<AddrRange>,
    pub src_label: String,
    pub dst_label: String,
    pub services: Vec<String>,
    pub ports: Ports,
    pub mark: u32,
    pub workorder: Option<WorkOrderId>,
    pub log: bool,
    pub diode: bool,
}

impl Term {
    /// Source and destination addresses of one family, when the rule has both.
    pub fn family(&self, v6: bool) -> Option<(Vec<AddrRange>, Vec<AddrRange>)> {
        let s: Vec<AddrRange> = self.src.iter().filter(|r| r.v6 == v6).copied().collect();
        let d: Vec<AddrRange> = self.dst.iter().filter(|r| r.v6 == v6).copied().collect();
        (!s.is_empty() && !d.is_empty()).then_some((s, d))
    }
    /// `mes -> dcs_servers : opcua_sign_encrypt`
    pub fn describe(&self) -> String {
        format!(
            "{} -> {} : {}",
            self.src_label,
            self.dst_label,
            self.services.join(", ")
        )
    }
}

/// The rules of one conduit that one dispatch group holds.
#[derive(Clone, Debug)]
pub struct ConduitTerms {
    pub conduit: ConduitId,
    pub terms: Vec<Term>,
}

/// Traffic entering on `in_iface`, leaving on `out_iface`, from zone `from` to zone `to`.
#[derive(Clone, Debug)]
pub struct Dispatch {
    pub in_iface: String,
    pub out_iface: String,
    pub from: ZoneId,
    pub to: ZoneId,
    pub conduits: Vec<ConduitTerms>,
}

/// Everything one firewall enforces.
#[derive(Clone, Debug)]
pub struct DeviceModel {
    pub device: DeviceId,
    pub name: String,
    pub interfaces: Vec<String>,
    pub groups: Vec<Dispatch>,
    /// Work orders with rules on this device, in declaration order.
    pub workorders: Vec<WorkOrderId>,
    /// Whether any rule here belongs to a unidirectional conduit.
    pub diode: bool,
}

impl DeviceModel {
    pub fn terms(&self) -> impl Iterator<Item = &Term> {
        self.groups
            .iter()
            .flat_map(|g| g.conduits.iter().flat_map(|c| c.terms.iter()))
    }
}

/// Where every device enforces each rule (what [`crate::placement::place`] returns): the
/// devices of every simple topology path between the rule's zones, each path crossing each
/// device at most once. A path that leaves a firewall into a zone and
/// comes back through the same firewall (a hairpin through a neighbouring zone) is not how
/// traffic is routed; following it would put every rule of a firewall with many zones on
/// every pair of its interfaces (the synthetic 20,000-rule site grew to 100,000 rules per
/// firewall). Translation validation proves the rulesets against this same placement.
pub fn enforced(policy: &Policy) -> Placement {
    let topology = Topology::new(policy);
    let mut placement = Placement::default();
    let mut paths_cache: BTreeMap<(ZoneId, ZoneId), Vec<DevicePath>> = BTreeMap::new();
    for (i, rule) in policy.rules.iter().enumerate() {
        let key = (rule.from, rule.to);
        let paths = paths_cache.entry(key).or_insert_with(|| {
            let mut walk = Walk {
                topology: &topology,
                to: rule.to,
                out: Vec::new(),
                zones: BTreeSet::from([rule.from]),
                devices: BTreeSet::new(),
                stack: Vec::new(),
                steps: 0,
            };
            walk.go(rule.from, 0);
            if walk.out.len() > MAX_PATHS || walk.steps >= WALK_BUDGET {
                placement.truncated.push(key);
            }
            walk.out.truncate(MAX_PATHS);
            walk.out
        });
        for path in paths.iter() {
            for (device, in_iface, out_iface) in path {
                placement
                    .per_device
                    .entry(*device)
                    .or_default()
                    .insert(Placed {
                        rule: RuleId(i as u32),
                        in_iface: in_iface.clone(),
                        out_iface: out_iface.clone(),
                    });
            }
        }
    }
    placement
}

type DevicePath = Vec<(DeviceId, String, String)>;

/// Steps a path search may take per zone pair before it stops (and reports the pair).
const WALK_BUDGET: usize = 200_000;

/// Depth-first search for simple paths (no zone twice, no device twice).
struct Walk<'a> {
    topology: &'a Topology,
    to: ZoneId,
    out: Vec<DevicePath>,
    zones: BTreeSet<ZoneId>,
    devices: BTreeSet<DeviceId>,
    stack: DevicePath,
    steps: usize,
}

impl Walk<'_> {
    fn go(&mut self, at: ZoneId, depth: usize) {
        if self.out.len() > MAX_PATHS || self.steps >= WALK_BUDGET {
            return;
        }
        self.steps += 1;
        if at == self.to && depth > 0 {
            self.out.push(self.stack.clone());
            return;
        }
        if depth >= MAX_CROSSINGS || (at == EXTERNAL && depth > 0) {
            // `external` is never a transit network (see `Topology::onward`).
            return;
        }
        for (next, crossing) in self.topology.neighbours(at) {
            if self.zones.contains(next) {
                continue;
            }
            let device = match crossing {
                Crossing::Device {
                    device,
                    in_iface,
                    out_iface,
                    ..
                } => {
                    if self.devices.contains(device) {
                        continue;
                    }
                    Some((*device, in_iface.clone(), out_iface.clone()))
                }
                _ => None,
            };
            self.zones.insert(*next);
            if let Some(d) = &device {
                self.devices.insert(d.0);
                self.stack.push(d.clone());
            }
            self.go(*next, depth + 1);
            if let Some(d) = device {
                self.devices.remove(&d.0);
                self.stack.pop();
            }
            self.zones.remove(next);
        }
    }
}

/// The networks of a zone, merged; for `external`, every address no declared zone owns.
pub fn zone_ranges(policy: &Policy, zone: ZoneId) -> Vec<AddrRange> {
    if zone == EXTERNAL {
        let all: Vec<AddrRange> = policy
            .zones
            .iter()
            .skip(1)
            .flat_map(|z| z.networks.iter().map(|n| n.range()))
            .collect();
        return complement(&merge(all));
    }
    merge(
        policy
            .zone(zone)
            .map(|z| z.networks.iter().map(|n| n.range()).collect())
            .unwrap_or_default(),
    )
}

/// A dispatch group: input and output interface, source and destination zone.
type GroupKey = (String, String, ZoneId, ZoneId);

/// Build the model of one device from the placement.
pub fn device_model(policy: &Policy, placement: &Placement, device: DeviceId) -> DeviceModel {
    let dev = policy.device(device);
    let mut groups: BTreeMap<GroupKey, BTreeMap<ConduitId, BTreeSet<RuleId>>> = BTreeMap::new();
    for p in placement.rules_on(device) {
        let Some(rule) = policy.rule(p.rule) else {
            continue;
        };
        groups
            .entry((p.in_iface.clone(), p.out_iface.clone(), rule.from, rule.to))
            .or_default()
            .entry(rule.conduit)
            .or_default()
            .insert(p.rule);
    }
    let mut workorders = BTreeSet::new();
    let mut diode = false;
    let groups = groups
        .into_iter()
        .map(|((in_iface, out_iface, from, to), conduits)| Dispatch {
            in_iface,
            out_iface,
            from,
            to,
            conduits: conduits
                .into_iter()
                .map(|(conduit, rules)| ConduitTerms {
                    conduit,
                    terms: rules
                        .into_iter()
                        .filter_map(|r| term(policy, r))
                        .inspect(|t| {
                            workorders.extend(t.workorder);
                            diode |= t.diode;
                        })
                        .collect(),
                })
                .collect(),
        })
        .collect();
    DeviceModel {
        device,
        name: dev.map(|d| d.name.clone()).unwrap_or_default(),
        interfaces: dev
            .map(|d| d.interfaces.iter().map(|i| i.name.clone()).collect())
            .unwrap_or_default(),
        groups,
        workorders: workorders.into_iter().collect(),
        diode,
    }
}

fn term(policy: &Policy, id: RuleId) -> Option<Term> {
    let r = policy.rule(id)?;
    let conduit = policy.conduit(r.conduit)?;
    let leaves = policy.leaf_services(&r.services);
    let transports = leaves
        .iter()
        .filter_map(|s| policy.service(*s))
        .flat_map(|s| s.transports.iter().copied());
    Some(Term {
        rule: id,
        conduit: r.conduit,
        number: r.index + 1,
        src: merge(r.src.addrs.clone()),
        dst: merge(r.dst.addrs.clone()),
        src_label: r.src.label.clone(),
        dst_label: r.dst.label.clone(),
        services: r
            .services
            .iter()
            .filter_map(|s| policy.service(*s))
            .map(|s| s.name.clone())
            .collect(),
        ports: Ports::of(transports),
        mark: rule_mark(policy, id),
        workorder: r.workorder,
        log: conduit.log,
        diode: conduit.unidirectional,
    })
}

/// Interface names a Linux firewall target accepts: what the kernel allows (1-15 bytes, no
/// `/`, `:` or white space), further restricted to letters, digits, `_`, `.`, `-` and `@`
/// so that no name can carry quoting or syntax into a ruleset.
pub fn linux_ifname_ok(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 15
        && name != "."
        && name != ".."
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-' | b'@'))
}

/// Every interface name of `device` must be a valid Linux name; one diagnostic per bad name.
pub fn check_linux_ifnames(policy: &Policy, device: DeviceId, target: &str) -> Vec<Diagnostic> {
    let Some(dev) = policy.device(device) else {
        return Vec::new();
    };
    dev.interfaces
        .iter()
        .filter(|i| !linux_ifname_ok(&i.name))
        .map(|i| {
            Diagnostic::error(
                "E0910",
                format!("interface name `{}` of `{}` is not a valid Linux interface name", crate::text::comment_field(&i.name), dev.name),
            )
            .primary(policy.location(i.span), format!("not usable in a {target} ruleset"))
            .help("Linux interface names have 1 to 15 characters: letters, digits, `_`, `.`, `-` or `@`")
        })
        .collect()
}

/// Hands out unique identifiers for one namespace of a ruleset (chains, sets): only ASCII
/// letters, digits and `_`, starting with a letter, at most `max` bytes. A clash or a
/// shortened name gets a numeric suffix, so the result is deterministic for a given order of
/// requests.
#[derive(Clone, Debug)]
pub struct Namer {
    used: BTreeSet<String>,
    max: usize,
}

impl Namer {
    pub fn new(max: usize) -> Namer {
        Namer {
            used: BTreeSet::new(),
            max: max.max(8),
        }
    }
    /// Reserve a fixed name (one the ruleset uses itself, e.g. `forward`).
    pub fn reserve(&mut self, name: &str) {
        self.used.insert(name.to_string());
    }
    pub fn name(&mut self, wanted: &str) -> String {
        let mut base: String = wanted
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '_' {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        if !base.starts_with(|c: char| c.is_ascii_alphabetic()) {
            base.insert(0, 'x');
        }
        if base.len() <= self.max && self.used.insert(base.clone()) {
            return base;
        }
        for n in 2u32.. {
            let suffix = format!("_{n}");
            let mut b = base.clone();
            b.truncate(self.max.saturating_sub(suffix.len()));
            let candidate = format!("{b}{suffix}");
            if self.used.insert(candidate.clone()) {
                return candidate;
            }
        }
        base
    }
}

/// `0x00000101`
pub fn hex_mark(mark: u32) -> String {
    format!("0x{mark:08x}")
}
