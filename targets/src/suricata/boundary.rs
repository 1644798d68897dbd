//! The port-level half of a gateway's allowlist: everything that crosses the gateway and that
//! no conduit rule through it admits, as Suricata 7 rules.
//!
//! An IPS gateway is a complete allowlist of its boundary (what the proofs assume of it): a
//! packet passes only when some rule admits its addresses, protocol and port, and then only
//! the requests that rule's fields allow. Suricata has no "default drop" that a pass rule can
//! override without passing the rest of the flow, so the forbidden space is stated directly,
//! as rules that match exactly the packets no rule admits:
//!
//! - the address space is cut into classes of sources covered by the same rules, and within
//!   each, classes of destinations covered by the same rules (both families, the uncovered
//!   remainder included);
//! - for each (source class, destination class) the admitted transports are the union of the
//!   covering rules' services, and one rule per protocol drops the rest: TCP and UDP to other
//!   ports (`![ports]`), ICMP and ICMPv6 types and codes outside the admitted ones (`itype`,
//!   `icode` intervals), and every other IP protocol (`ip_proto:!N`, which Suricata ANDs).
//!
//! Every rule is `flow:to_server`: it judges the packet that opens a flow (and the rest of
//! that flow's initiator side), so the replies of an admitted connection pass, and a dropped
//! opening drops the whole flow. A unidirectional conduit's replies are dropped as well
//! (`flow:to_client` on its rules' flows), since a diode carries nothing back.

use super::cells::merge_ports;
use palisade_compiler::address::{complement, merge, AddrRange};
use palisade_compiler::ir::{Policy, Rule, RuleId, Transport, WorkOrderId};
use std::collections::{BTreeMap, BTreeSet};

/// What one open rule admits through the gateway.
#[derive(Clone, Debug)]
pub struct BoundaryGrant {
    pub rule: RuleId,
    pub src: Vec<AddrRange>,
    pub dst: Vec<AddrRange>,
    pub transports: Vec<Transport>,
    /// The rule's conduit is unidirectional: nothing comes back.
    pub diode: bool,
}

/// One drop (or alert) rule of the boundary, before its sid is known.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BoundaryRule {
    /// `tcp 10.0.0.0/24 any -> 10.1.0.5 ![502]`
    pub header: String,
    /// Keywords after `flow:...;` (may be empty).
    pub keywords: String,
    /// `to_server` or `to_client`.
    pub flow: &'static str,
    /// What the rule matches, for its message.
    pub what: String,
    /// The conduit rules whose admitted space borders this rule (for metadata).
    pub rules: Vec<RuleId>,
}

/// The grants of the open rules on a gateway: a rule under a work order in `open` admits only
/// packets with one end in that instance's scope (the scenario the proofs check when the
/// scope is the order's whole scope).
pub fn grants(
    policy: &Policy,
    active: &[RuleId],
    open: &BTreeMap<WorkOrderId, Vec<AddrRange>>,
) -> Vec<BoundaryGrant> {
    let mut out = Vec::new();
    for &id in active {
        let Some(r) = policy.rule(id) else { continue };
        let transports: Vec<Transport> = policy
            .leaf_services(&r.services)
            .iter()
            .filter_map(|s| policy.service(*s))
            .flat_map(|s| s.transports.iter().copied())
            .filter(|t| !matches!(t, Transport::Ethertype { .. }))
            .collect();
        let diode = policy.conduit(r.conduit).is_some_and(|c| c.unidirectional);
        if r.workorder.is_some_and(|w| !open.contains_key(&w)) {
            continue;
        }
        for (src, dst) in scoped_ends(r, r.workorder.and_then(|w| open.get(&w))) {
            out.push(BoundaryGrant {
                rule: id,
                src,
                dst,
                transports: transports.clone(),
                diode,
            });
        }
    }
    out.retain(|g| !g.src.is_empty() && !g.dst.is_empty() && !g.transports.is_empty());
    out
}

/// A rule's (sources, destinations), or with an instance's scope the two halves of it that
/// have one end in the scope.
pub fn scoped_ends(
    r: &Rule,
    scope: Option<&Vec<AddrRange>>,
) -> Vec<(Vec<AddrRange>, Vec<AddrRange>)> {
    match scope {
        Some(scope) => vec![
            (intersect(&r.src.addrs, scope), r.dst.addrs.clone()),
            (r.src.addrs.clone(), intersect(&r.dst.addrs, scope)),
        ],
        None => vec![(r.src.addrs.clone(), r.dst.addrs.clone())],
    }
}

fn intersect(a: &[AddrRange], b: &[AddrRange]) -> Vec<AddrRange> {
    let mut out = Vec::new();
    for x in a {
        for y in b.iter().filter(|y| y.overlaps(x)) {
            out.push(AddrRange {
                v6: x.v6,
                lo: x.lo.max(y.lo),
                hi: x.hi.min(y.hi),
            });
        }
    }
    merge(out)
}

fn family_max(v6: bool) -> u128 {
    if v6 {
        u128::MAX
    } else {
        u128::from(u32::MAX)
    }
}

/// Cuts both address families into classes: the addresses covered by exactly the same sets
/// (indices into `sets`), the uncovered remainder being the class of the empty set.
pub fn classes(sets: &[&[AddrRange]]) -> Vec<(Vec<usize>, Vec<AddrRange>)> {
    let mut out: BTreeMap<Vec<usize>, Vec<AddrRange>> = BTreeMap::new();
    for v6 in [false, true] {
        // Boundaries: (address, set index, +1 at a range's start, -1 after its end).
        let mut events: Vec<(u128, usize, i32)> = Vec::new();
        for (i, set) in sets.iter().enumerate() {
            for r in set.iter().filter(|r| r.v6 == v6) {
                events.push((r.lo, i, 1));
                if r.hi < family_max(v6) {
                    events.push((r.hi + 1, i, -1));
                }
            }
        }
        events.sort();
        let mut count: BTreeMap<usize, i32> = BTreeMap::new();
        let mut at: u128 = 0;
        let mut k = 0;
        loop {
            // Apply every event at `at`, then the segment runs to the next event.
            while let Some(&(x, i, d)) = events.get(k) {
                if x != at {
                    break;
                }
                let c = count.entry(i).or_insert(0);
                *c += d;
                if *c == 0 {
                    count.remove(&i);
                }
                k += 1;
            }
            let end = match events.get(k) {
                Some(&(x, _, _)) => x - 1,
                None => family_max(v6),
            };
            let key: Vec<usize> = count.keys().copied().collect();
            out.entry(key).or_default().push(AddrRange {
                v6,
                lo: at,
                hi: end,
            });
            if end == family_max(v6) {
                break;
            }
            at = end + 1;
        }
    }
    out.into_iter().map(|(k, v)| (k, merge(v))).collect()
}

/// What a set of transports admits, per protocol.
#[derive(Default)]
struct Admitted {
    tcp: Vec<(u16, u16)>,
    udp: Vec<(u16, u16)>,
    /// ICMP type -> admitted codes (`None`: every code); `all` when every type is admitted.
    icmp: Icmp,
    icmpv6: Icmp,
    /// IP protocol numbers admitted whole.
    protocols: BTreeSet<u8>,
}

#[derive(Default)]
struct Icmp {
    all: bool,
    types: BTreeMap<u8, Option<BTreeSet<u8>>>,
}

impl Icmp {
    fn add(&mut self, icmp_type: Option<u8>, code: Option<u8>) {
        match (icmp_type, code) {
            (None, _) => self.all = true,
            (Some(t), None) => {
                self.types.insert(t, None);
            }
            (Some(t), Some(c)) => {
                if let Some(codes) = self.types.entry(t).or_insert_with(|| Some(BTreeSet::new())) {
                    codes.insert(c);
                }
            }
        }
    }
}

const TCP: u8 = 6;
const UDP: u8 = 17;
const ICMP: u8 = 1;
const ICMPV6: u8 = 58;

fn admitted<'a>(transports: impl Iterator<Item = &'a Transport>) -> Admitted {
    let mut a = Admitted::default();
    for t in transports {
        match *t {
            Transport::Tcp { lo, hi } => a.tcp.push((lo, hi)),
            Transport::Udp { lo, hi } => a.udp.push((lo, hi)),
            Transport::Icmp { icmp_type, code } => a.icmp.add(icmp_type, code),
            Transport::Icmpv6 { icmp_type, code } => a.icmpv6.add(icmp_type, code),
            Transport::Ip { number } => {
                a.protocols.insert(number);
            }
            Transport::Ethertype { .. } => {}
        }
    }
    if a.protocols.contains(&TCP) {
        a.tcp = vec![(0, u16::MAX)];
    }
    if a.protocols.contains(&UDP) {
        a.udp = vec![(0, u16::MAX)];
    }
    a.icmp.all |= a.protocols.contains(&ICMP);
    a.icmpv6.all |= a.protocols.contains(&ICMPV6);
    a.tcp = merge_ports(std::mem::take(&mut a.tcp));
    a.udp = merge_ports(std::mem::take(&mut a.udp));
    a
}

/// The gaps of `allowed` (sorted, merged) within 0..=max, as inclusive intervals.
fn gaps(allowed: &[(u32, u32)], max: u32) -> Vec<(u32, u32)> {
    let mut out = Vec::new();
    let mut next = 0u32;
    for &(lo, hi) in allowed {
        if lo > next {
            out.push((next, lo - 1));
        }
        next = hi.saturating_add(1);
    }
    if next <= max {
        out.push((next, max));
    }
    out
}

/// `itype`/`icode` conditions for an inclusive interval of 0..=255 (Suricata's `<>` bounds
/// are exclusive).
fn byte_condition(keyword: &str, (lo, hi): (u32, u32)) -> String {
    match (lo, hi) {
        (l, h) if l == h => format!("{keyword}:{l};"),
        (0, h) => format!("{keyword}:<{};", h + 1),
        (l, 255) => format!("{keyword}:>{};", l - 1),
        (l, h) => format!("{keyword}:{}<>{};", l - 1, h + 1),
    }
}

/// The boundary rules of a gateway given its grants, with the address and port syntax of the
/// caller (`addr`, `ports`).
pub fn rules(
    grants: &[BoundaryGrant],
    addr: impl Fn(&[AddrRange]) -> String,
    ports: impl Fn(&[(u16, u16)]) -> String,
) -> Vec<BoundaryRule> {
    let mut out = Vec::new();
    let srcs: Vec<&[AddrRange]> = grants.iter().map(|g| g.src.as_slice()).collect();
    for (covering, src) in classes(&srcs) {
        let here: Vec<&BoundaryGrant> = covering.iter().filter_map(|i| grants.get(*i)).collect();
        let dsts: Vec<&[AddrRange]> = here.iter().map(|g| g.dst.as_slice()).collect();
        for (inner, dst) in classes(&dsts) {
            let cell: Vec<&BoundaryGrant> =
                inner.iter().filter_map(|i| here.get(*i).copied()).collect();
            let rules: Vec<RuleId> = {
                let mut v: Vec<RuleId> = cell.iter().map(|g| g.rule).collect();
                v.sort();
                v.dedup();
                v
            };
            let s = shortest(&src, (true, true), &addr);
            let d = shortest(&dst, families_of(&src), &addr);
            let mut push = |proto: &str, dport: String, keywords: String, what: String| {
                out.push(BoundaryRule {
                    header: format!("{proto} {s} any -> {d} {dport}"),
                    keywords,
                    flow: "to_server",
                    what,
                    rules: rules.clone(),
                });
            };
            if cell.is_empty() {
                push(
                    "ip",
                    "any".into(),
                    String::new(),
                    "no conduit rule admits these addresses".into(),
                );
                continue;
            }
            let a = admitted(cell.iter().flat_map(|g| g.transports.iter()));
            for (proto, list) in [("tcp", &a.tcp), ("udp", &a.udp)] {
                match list.as_slice() {
                    [] => push(
                        proto,
                        "any".into(),
                        String::new(),
                        format!("{proto}: no port admitted"),
                    ),
                    [(0, u16::MAX)] => {}
                    l => push(
                        proto,
                        format!("!{}", bracketed(&ports(l))),
                        String::new(),
                        format!("{proto} to a port no rule admits"),
                    ),
                }
            }
            for (proto, icmp) in [("icmp", &a.icmp), ("icmpv6", &a.icmpv6)] {
                if icmp.all {
                    continue;
                }
                let types: Vec<(u32, u32)> = icmp
                    .types
                    .keys()
                    .map(|t| (u32::from(*t), u32::from(*t)))
                    .collect();
                if types.is_empty() {
                    push(
                        proto,
                        "any".into(),
                        String::new(),
                        format!("{proto}: no type admitted"),
                    );
                }
                for gap in gaps(&types, 255).into_iter().filter(|_| !types.is_empty()) {
                    push(
                        proto,
                        "any".into(),
                        byte_condition("itype", gap),
                        format!("{proto} type no rule admits"),
                    );
                }
                for (t, codes) in &icmp.types {
                    let Some(codes) = codes else { continue };
                    let allowed: Vec<(u32, u32)> = codes
                        .iter()
                        .map(|c| (u32::from(*c), u32::from(*c)))
                        .collect();
                    for gap in gaps(&allowed, 255) {
                        push(
                            proto,
                            "any".into(),
                            format!(
                                "{} {}",
                                byte_condition("itype", (u32::from(*t), u32::from(*t))),
                                byte_condition("icode", gap)
                            ),
                            format!("{proto} type {t} with a code no rule admits"),
                        );
                    }
                }
            }
            let mut named: BTreeSet<u8> = [TCP, UDP, ICMP, ICMPV6].into_iter().collect();
            named.extend(a.protocols.iter().copied());
            if named.len() < 256 {
                let kw: Vec<String> = named.iter().map(|n| format!("ip_proto:!{n};")).collect();
                push(
                    "ip",
                    "any".into(),
                    kw.join(" "),
                    "an IP protocol no rule admits".into(),
                );
            }
        }
    }
    // A diode carries nothing back: drop the replies of its flows.
    for g in grants.iter().filter(|g| g.diode) {
        for t in &g.transports {
            let (proto, list) = match *t {
                Transport::Udp { lo, hi } => ("udp", vec![(lo, hi)]),
                Transport::Tcp { lo, hi } => ("tcp", vec![(lo, hi)]),
                _ => continue,
            };
            out.push(BoundaryRule {
                header: format!(
                    "{proto} {} {} -> {} any",
                    shortest(&g.dst, (true, true), &addr),
                    ports(&list),
                    shortest(&g.src, families_of(&g.dst), &addr)
                ),
                keywords: String::new(),
                flow: "to_client",
                what: "a reply over a unidirectional conduit".into(),
                rules: vec![g.rule],
            });
        }
    }
    out
}

/// An address list as written, or as the negation of its complement when that is shorter
/// (`!172.16.100.0/24` rather than thirty blocks around it); `any` for every address.
/// `families` are the address families that matter where the list stands (a destination
/// list after an IPv4-only source list only meets IPv4 packets): the list need only be exact
/// there. Suricata negates within the families a list names (`!fd00::/64` matches no IPv4
/// address) and refuses a negation that covers a whole family ("Complete IP space
/// negated"), so a negation is written only when, in every family that matters, the list
/// holds some addresses but not all.
fn shortest(
    ranges: &[AddrRange],
    families: (bool, bool),
    addr: &impl Fn(&[AddrRange]) -> String,
) -> String {
    let matters = |r: &AddrRange| if r.v6 { families.1 } else { families.0 };
    let rest: Vec<AddrRange> = complement(ranges)
        .into_iter()
        .filter(|r| matters(r))
        .collect();
    if rest.is_empty() {
        return "any".into();
    }
    let direct = addr(ranges);
    let partial = |v6: bool| ranges.iter().any(|r| r.v6 == v6) && rest.iter().any(|r| r.v6 == v6);
    let negatable = (!families.0 || partial(false)) && (!families.1 || partial(true));
    if !negatable {
        return direct;
    }
    let negated = format!("!{}", addr(&rest));
    if negated.len() < direct.len() {
        negated
    } else {
        direct
    }
}

/// Which families (IPv4, IPv6) a list holds addresses of.
fn families_of(ranges: &[AddrRange]) -> (bool, bool) {
    (ranges.iter().any(|r| !r.v6), ranges.iter().any(|r| r.v6))
}

/// A negated port list needs brackets around a single item too (`![502]`).
fn bracketed(list: &str) -> String {
    if list.starts_with('[') {
        list.to_string()
    } else {
        format!("[{list}]")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v4(lo: u32, hi: u32) -> AddrRange {
        AddrRange {
            v6: false,
            lo: lo.into(),
            hi: hi.into(),
        }
    }

    #[test]
    fn classes_cover_both_families_exactly_once() {
        let a = [v4(10, 20)];
        let b = [v4(15, 30)];
        let c = classes(&[&a, &b]);
        let find = |k: &[usize]| c.iter().find(|(x, _)| x == k).map(|(_, r)| r.clone());
        assert_eq!(find(&[0]), Some(vec![v4(10, 14)]));
        assert_eq!(find(&[0, 1]), Some(vec![v4(15, 20)]));
        assert_eq!(find(&[1]), Some(vec![v4(21, 30)]));
        let rest = find(&[]).unwrap_or_default();
        assert!(rest.contains(&v4(0, 9)));
        assert!(rest.contains(&v4(31, u32::MAX)));
        assert!(rest.contains(&AddrRange::whole(true)));
    }

    #[test]
    fn gaps_and_conditions() {
        assert_eq!(gaps(&[(8, 8)], 255), vec![(0, 7), (9, 255)]);
        assert_eq!(byte_condition("itype", (0, 7)), "itype:<8;");
        assert_eq!(byte_condition("itype", (9, 255)), "itype:>8;");
        assert_eq!(byte_condition("icode", (2, 4)), "icode:1<>5;");
        assert_eq!(byte_condition("icode", (3, 3)), "icode:3;");
    }
}
