//! Checks over the resolved model that need no solver: addresses, conduit rules, bridges,
//! compensating controls, topology, work orders, data flows, unused declarations.

use crate::address::{reserved, AddrRange};
use crate::diagnostic::{Diagnostic, Location};
use crate::ir::*;
use crate::topology::{Crossing, Topology};
use std::collections::BTreeSet;

/// Facts the checks need from outside the model.
#[derive(Clone, Debug)]
pub struct CheckContext {
    /// Today, `YYYY-MM-DD`, for expiry dates.
    pub today: String,
}

/// What the site-wide checks need to know of the rules, gathered one file at a time
/// ([`rule_facts`]) so that an edit to a rule recomputes only its file's share.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct RuleFacts {
    /// Services some rule names (groups as written, not expanded).
    pub services: BTreeSet<ServiceId>,
    /// Data-flow hops `(flow, hop, forward)` a rule outside any work order carries: forward
    /// from the hop's first asset to its second, or back.
    pub carried: BTreeSet<(u32, u32, bool)>,
}

impl RuleFacts {
    pub fn extend(&mut self, other: &RuleFacts) {
        self.services.extend(other.services.iter().copied());
        self.carried.extend(other.carried.iter().copied());
    }
}

/// The facts of some rules (one file's, or all).
pub fn rule_facts(policy: &Policy, rules: &[Rule]) -> RuleFacts {
    let mut facts = RuleFacts::default();
    for r in rules {
        facts.services.extend(r.services.iter().copied());
    }
    let covers = |x: &AddrRange, a: &Asset| {
        x.contains(&a.addr) || a.interfaces.iter().any(|i| x.contains(&i.addr))
    };
    let carries = |src: &Asset, dst: &Asset| {
        rules.iter().any(|r| {
            r.workorder.is_none()
                && r.src.addrs.iter().any(|x| covers(x, src))
                && r.dst.addrs.iter().any(|x| covers(x, dst))
        })
    };
    for (f, flow) in policy.dataflows.iter().enumerate() {
        for (h, hop) in flow.hops.iter().enumerate() {
            let (Some(a), Some(b)) = (policy.asset(hop.from), policy.asset(hop.to)) else {
                continue;
            };
            for (forward, (x, y)) in [(true, (a, b)), (false, (b, a))] {
                if carries(x, y) {
                    facts.carried.insert((f as u32, h as u32, forward));
                }
            }
        }
    }
    facts
}

/// The checks of some conduits and their rules (`rules` indexed by the conduits' rule ids):
/// empty conduits, services that cannot cross, rules outside their work order's scope.
/// `workorder_at` places a label on a work order's declaration.
pub fn check_conduits(
    policy: &Policy,
    conduits: &[Conduit],
    rules: &[Rule],
    workorder_at: &dyn Fn(WorkOrderId) -> Location,
) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    let rule = |id: &RuleId| rules.get(id.0 as usize);
    for c in conduits {
        if c.rules.is_empty() {
            let d = Diagnostic::warning("W0402", format!("conduit `{}` has no rules", c.name))
                .primary(policy.location(c.span), "it permits nothing")
                .help("add `allow SOURCE -> DESTINATION : SERVICE`, or remove the conduit");
            out.push(d);
        }
        // A `<->` diode (E0407) is reported while lowering, at `unidirectional`.
        for r in c.rules.iter().filter_map(rule) {
            for sid in policy.leaf_services(&r.services) {
                let Some(s) = policy.service(sid) else {
                    continue;
                };
                if s.is_local_only() {
                    let what = if s.layer2 || s.transports.iter().any(|t| t.is_layer2()) {
                        "a layer-2"
                    } else if s.broadcast {
                        "a broadcast"
                    } else {
                        "a multicast"
                    };
                    let d = Diagnostic::error("E0404", format!("`{}` is {what} service and cannot cross a routed conduit", s.name))
                        .primary(policy.location(r.span), format!("`{}` stays inside its zone", s.name))
                        .help("layer-2, broadcast and multicast traffic never leaves its segment; keep it inside the zone, or use a routed variant of the protocol");
                    out.push(d);
                } else if c.unidirectional && s.transports.iter().any(|t| t.is_connection()) {
                    let d = Diagnostic::error("E0403", format!("`{}` needs replies and cannot cross unidirectional conduit `{}`", s.name, c.name))
                        .primary(policy.location(r.span), format!("`{}` is a TCP service", s.name))
                        .help("a diode carries only connectionless (UDP) services from source to destination; use a UDP service such as `syslog_udp`");
                    out.push(d);
                }
            }
            // An allowed encapsulating request admits whatever it carries.
            if let Some(f) = r.fields.as_ref().filter(|f| f.admits_every_function()) {
                let d = Diagnostic::warning("W0403", "CIP service 0x52 (Unconnected Send) can carry any other service")
                    .primary(policy.location(f.span), "allowing 0x52 allows every CIP service inside it, writes included")
                    .note("a gateway sees only the outer service code; the proofs count this rule as allowing every CIP service")
                    .help("leave 0x52 out and allow the services themselves, or accept that the rule is not restricted");
                out.push(d);
            }
            // A rule under a work order that reaches nothing of its scope never opens.
            let Some(wid) = r.workorder else { continue };
            let Some(wo) = policy.workorder(wid) else {
                continue;
            };
            let scope_addrs = scope_addrs(policy, wo);
            let touches = |addrs: &[AddrRange]| {
                addrs
                    .iter()
                    .any(|a| scope_addrs.iter().any(|s| s.overlaps(a)))
            };
            if !scope_addrs.is_empty() && !touches(&r.src.addrs) && !touches(&r.dst.addrs) {
                let d = Diagnostic::warning("W0702", format!("this rule opens under `{}` but touches nothing in its scope", wo.name))
                    .primary(policy.location(r.span), "neither end is in the work order's scope")
                    .secondary(workorder_at(wid), "scope declared here")
                    .help("an instance opens a rule only for the assets of its scope; widen the scope or change the rule");
                out.push(d);
            }
        }
    }
    out
}

/// The addresses a work order's scope names.
fn scope_addrs(policy: &Policy, wo: &WorkOrder) -> Vec<AddrRange> {
    wo.scope
        .iter()
        .flat_map(|s| match s {
            ScopeItem::Zone(z) => policy
                .zone(*z)
                .map(|z| z.networks.iter().map(|n| n.range()).collect::<Vec<_>>())
                .unwrap_or_default(),
            ScopeItem::Asset(a) => policy
                .asset(*a)
                .map(|a| {
                    let mut v = vec![a.addr];
                    v.extend(a.interfaces.iter().map(|i| i.addr));
                    v
                })
                .unwrap_or_default(),
        })
        .collect()
}

/// The checks over the whole site that need no rule one by one: addresses, bridges,
/// compensating controls, topology, work orders, data flows, unused declarations. `policy`
/// may lack its conduits and rules: `conduits` and `facts` stand for them.
pub fn check_site<'a>(
    policy: &'a Policy,
    conduits: Vec<&'a Conduit>,
    facts: &'a RuleFacts,
    ctx: &'a CheckContext,
) -> Vec<Diagnostic> {
    let mut c = Checker {
        p: policy,
        conduits,
        facts,
        ctx,
        out: Vec::new(),
        topology: Topology::new(policy),
    };
    c.networks();
    c.assets();
    c.topology();
    c.compensating();
    c.workorders();
    c.dataflows();
    c.unused();
    c.out
}

/// Every check over an assembled policy (conduits and rules included).
pub fn check(policy: &Policy, ctx: &CheckContext) -> Vec<Diagnostic> {
    let facts = rule_facts(policy, &policy.rules);
    let mut out = check_conduits(policy, &policy.conduits, &policy.rules, &|w| {
        policy
            .workorder(w)
            .map(|wo| policy.location(wo.span))
            .unwrap_or_default()
    });
    out.extend(check_site(
        policy,
        policy.conduits.iter().collect(),
        &facts,
        ctx,
    ));
    out
}

struct Checker<'a> {
    p: &'a Policy,
    conduits: Vec<&'a Conduit>,
    facts: &'a RuleFacts,
    ctx: &'a CheckContext,
    out: Vec<Diagnostic>,
    topology: Topology,
}

impl Checker<'_> {
    fn loc(&self, span: Span) -> crate::diagnostic::Location {
        self.p.location(span)
    }

    fn networks(&mut self) {
        // Sweep over all networks sorted by start: each overlaps the widest one before it.
        let mut nets: Vec<(AddrRange, ZoneId, Span, String)> = Vec::new();
        for (z, zone) in self.p.zones.iter().enumerate() {
            for (i, n) in zone.networks.iter().enumerate() {
                let span = zone.network_spans.get(i).copied().unwrap_or(zone.span);
                nets.push((n.range(), ZoneId(z as u32), span, n.to_string()));
            }
        }
        nets.sort_by_key(|(r, z, _, _)| (r.v6, r.lo, std::cmp::Reverse(r.hi), *z));
        let mut widest: Option<usize> = None;
        for i in 0..nets.len() {
            let Some((r, z, span, text)) = nets.get(i).cloned() else {
                continue;
            };
            if let Some((wr, wz, wspan, wtext)) = widest.and_then(|w| nets.get(w)).cloned() {
                if wr.overlaps(&r) && wz != z {
                    let (code, msg, help) = if wr == r {
                        ("E0302", format!("zones `{}` and `{}` both claim `{text}`", self.p.zone_name(wz), self.p.zone_name(z)),
                         "repeated addressing behind 1:1 NAT is not supported yet: NAT is not modelled, so give each zone its real, distinct network")
                    } else {
                        ("E0301", format!("the networks of zones `{}` and `{}` overlap", self.p.zone_name(wz), self.p.zone_name(z)),
                         "zone networks must not overlap: every address belongs to at most one zone")
                    };
                    let d = Diagnostic::error(code, msg)
                        .primary(
                            self.loc(span),
                            format!("`{text}` in zone `{}`", self.p.zone_name(z)),
                        )
                        .secondary(
                            self.loc(wspan),
                            format!("overlaps `{wtext}` in zone `{}`", self.p.zone_name(wz)),
                        )
                        .help(help);
                    self.out.push(d);
                }
            }
            match widest.and_then(|w| nets.get(w)) {
                Some((wr, ..)) if wr.v6 == r.v6 && wr.hi >= r.hi => {}
                _ => widest = Some(i),
            }
            // One report per network, however many reserved ranges it touches (`0.0.0.0/0`
            // touches them all), and "lies in" only when it does.
            let hits: Vec<(AddrRange, &str)> = reserved()
                .into_iter()
                .filter(|(res, _)| res.overlaps(&r))
                .collect();
            if let [(first, _), ..] = hits.as_slice() {
                let names: Vec<&str> = hits.iter().map(|(_, what)| *what).collect();
                let ranges: Vec<String> = hits.iter().map(|(res, _)| res.to_string()).collect();
                let msg = if hits.len() == 1 && first.contains(&r) {
                    format!(
                        "network `{text}` of zone `{}` lies in the {} range",
                        self.p.zone_name(z),
                        names.join("")
                    )
                } else {
                    format!(
                        "network `{text}` of zone `{}` overlaps never-routed addresses ({})",
                        self.p.zone_name(z),
                        names.join(", ")
                    )
                };
                let d = Diagnostic::error("E0305", msg)
                    .primary(self.loc(span), format!("`{text}` overlaps {}", ranges.join(", ")))
                    .help("link-local, multicast, loopback and broadcast ranges belong to no zone and are never routed");
                self.out.push(d);
            }
        }
    }

    fn assets(&mut self) {
        let mut addrs: Vec<(AddrRange, AssetId, Span)> = Vec::new();
        for (i, a) in self.p.assets.iter().enumerate() {
            let id = AssetId(i as u32);
            let mut ifaces = vec![(a.zone, a.addr, a.span)];
            ifaces.extend(a.interfaces.iter().map(|x| (x.zone, x.addr, x.span)));
            for (k, (zone, addr, span)) in ifaces.into_iter().enumerate() {
                if addr.is_unresolved() {
                    continue;
                }
                addrs.push((addr, id, span));
                let Some(z) = self.p.zone(zone) else { continue };
                // `external` owns what no zone owns: an interface there must avoid every zone.
                let outside = if zone == EXTERNAL {
                    self.p
                        .zones
                        .iter()
                        .any(|o| o.networks.iter().any(|n| n.range().overlaps(&addr)))
                } else {
                    !z.networks.is_empty() && !z.networks.iter().any(|n| n.range().contains(&addr))
                };
                if outside {
                    let owner = self.p.zone_of(addr);
                    let nets: Vec<String> = z.networks.iter().map(|n| n.to_string()).collect();
                    let (msg, label) = if k == 0 {
                        (
                            format!(
                                "asset `{}` at `{addr}` is outside zone `{}`",
                                a.name, z.name
                            ),
                            format!("not in {}", nets.join(", ")),
                        )
                    } else if zone == EXTERNAL {
                        (format!("the interface of asset `{}` in zone `external` at `{addr}` lies in a declared zone", a.name), "owned by a declared zone".to_string())
                    } else {
                        (format!("the interface of asset `{}` in zone `{}` at `{addr}` is outside that zone", a.name, z.name), format!("not in {}", nets.join(", ")))
                    };
                    let mut d = Diagnostic::error("E0303", msg).primary(self.loc(span), label);
                    d = if owner != EXTERNAL && owner != zone {
                        let what = if k == 0 {
                            "move the asset there, or declare it as a bridge with an `interface`"
                        } else {
                            "declare the interface in that zone"
                        };
                        d.help(format!(
                            "`{addr}` belongs to zone `{}`; {what}",
                            self.p.zone_name(owner)
                        ))
                    } else {
                        d.help("an asset's address lies inside one of its zone's networks")
                    };
                    self.out.push(d);
                }
                for (res, what) in reserved() {
                    if res.overlaps(&addr) {
                        let d = Diagnostic::error(
                            "E0305",
                            format!("asset `{}` has an address in the {what} range", a.name),
                        )
                        .primary(self.loc(span), format!("`{addr}` is never routed"));
                        self.out.push(d);
                    }
                }
            }
            let other_zones: BTreeSet<ZoneId> = a
                .interfaces
                .iter()
                .map(|x| x.zone)
                .filter(|z| *z != a.zone)
                .collect();
            if !other_zones.is_empty() && !a.bridge {
                let names: Vec<String> = other_zones
                    .iter()
                    .map(|z| format!("`{}`", self.p.zone_name(*z)))
                    .collect();
                let d = Diagnostic::error("E0501", format!("asset `{}` is dual-homed into {} but not declared a bridge", a.name, names.join(", ")))
                    .primary(self.loc(a.span), format!("interfaces in `{}` and {}", self.p.zone_name(a.zone), names.join(", ")))
                    .help("an asset in two zones joins them with no firewall; if that is intended, add `bridge` to the asset so that every proof counts it");
                self.out.push(d);
            }
            if a.bridge && other_zones.is_empty() {
                let d = Diagnostic::warning(
                    "W0502",
                    format!(
                        "asset `{}` is declared a bridge but has no interface in another zone",
                        a.name
                    ),
                )
                .primary(self.loc(a.span), "no `interface` in another zone")
                .help("add `interface ZONE at ADDRESS`, or remove `bridge`");
                self.out.push(d);
            }
        }
        addrs.sort_by_key(|(r, id, _)| (r.v6, r.lo, *id));
        let mut widest: Option<usize> = None;
        for i in 0..addrs.len() {
            let Some((r, id, span)) = addrs.get(i).cloned() else {
                continue;
            };
            if let Some((wr, wid, wspan)) = widest.and_then(|w| addrs.get(w)).cloned() {
                if wr.overlaps(&r) && wid != id {
                    let (a, b) = (
                        self.p
                            .asset(wid)
                            .map(|a| a.name.clone())
                            .unwrap_or_default(),
                        self.p.asset(id).map(|a| a.name.clone()).unwrap_or_default(),
                    );
                    let d = Diagnostic::error(
                        "E0304",
                        format!("assets `{a}` and `{b}` share addresses"),
                    )
                    .primary(self.loc(span), format!("`{b}` at `{r}`"))
                    .secondary(self.loc(wspan), format!("`{a}` at `{wr}`"))
                    .help("two assets never share an address");
                    self.out.push(d);
                }
            }
            match widest.and_then(|w| addrs.get(w)) {
                Some((wr, ..)) if wr.v6 == r.v6 && wr.hi >= r.hi => {}
                _ => widest = Some(i),
            }
        }
    }

    fn topology(&mut self) {
        let connectivity = self.topology.connectivity();
        let joined = |a: ZoneId, b: ZoneId| connectivity.joined(a, b);
        for c in &self.conduits {
            if c.from != c.to && !joined(c.from, c.to) {
                let d = Diagnostic::error("E0405", format!("no device or link joins zones `{}` and `{}`", self.p.zone_name(c.from), self.p.zone_name(c.to)))
                    .primary(self.loc(c.span), format!("conduit `{}` has no path to run on", c.name))
                    .help("declare the firewall or gateway between the zones with `interface \"…\" faces …`");
                self.out.push(d);
            }
        }
        for (l, link) in self.p.links.iter().enumerate() {
            let zones: Vec<String> = link
                .zones
                .iter()
                .map(|z| format!("`{}`", self.p.zone_name(*z)))
                .collect();
            let _ = l;
            if link.zones.len() >= 2 {
                let d = Diagnostic::warning("W0401", format!("zones {} are joined by link `{}` with no firewall", zones.join(", "), link.name))
                    .primary(self.loc(link.span), "traffic crosses here unfiltered")
                    .note("every proof treats these zones as one network: a host in one reaches every host in the others");
                self.out.push(d);
            }
        }
        for a in self.p.assets.iter().filter(|a| a.bridge) {
            let mut zones: BTreeSet<ZoneId> = a.interfaces.iter().map(|x| x.zone).collect();
            zones.insert(a.zone);
            if zones.len() >= 2 {
                let names: Vec<String> = zones
                    .iter()
                    .map(|z| format!("`{}`", self.p.zone_name(*z)))
                    .collect();
                let d = Diagnostic::warning("W0401", format!("bridge asset `{}` joins zones {} with no firewall", a.name, names.join(", ")))
                    .primary(self.loc(a.span), "traffic can cross here unfiltered")
                    .note("every proof treats this asset as an unfiltered path: whoever holds it holds a foothold in every zone it touches");
                self.out.push(d);
            }
        }
    }

    fn compensating(&mut self) {
        for a in &self.p.assets {
            let Some(zone) = self.p.zone(a.zone) else {
                continue;
            };
            let capability = a.capability.unwrap_or_default();
            for c in &a.compensating {
                // Incomplete controls (E0604) are reported while lowering, from the source.
                if let Some(exp) = &c.expires {
                    if *exp < self.ctx.today {
                        let d = Diagnostic::error("E0603", format!("compensating control of `{}` expired on {exp}", a.name))
                            .primary(self.loc(c.span), format!("expired {exp}"))
                            .help("review the gap: renew the control with a new expiry date, or close the gap");
                        self.out.push(d);
                    }
                }
                let gaps: Vec<u8> = c
                    .covers
                    .iter()
                    .copied()
                    .filter(|fr| {
                        capability.get(*fr as usize) < zone.security_level.get(*fr as usize)
                    })
                    .collect();
                if gaps.is_empty() && !c.covers.is_empty() {
                    let frs: Vec<&str> = c
                        .covers
                        .iter()
                        .filter_map(|f| FR_NAMES.get(*f as usize).copied())
                        .collect();
                    let d = Diagnostic::error("E0601", format!("compensating control of `{}` covers no gap", a.name))
                        .primary(self.loc(c.span), format!("{} already meet zone `{}`'s target", frs.join(", "), zone.name))
                        .note(format!("SL-C {capability} against SL-T {}", zone.security_level))
                        .help("a compensating control justifies an FR where the asset's capability is below the zone's target");
                    self.out.push(d);
                } else if gaps.len() < c.covers.len() {
                    let frs: Vec<&str> = c
                        .covers
                        .iter()
                        .filter(|f| !gaps.contains(f))
                        .filter_map(|f| FR_NAMES.get(*f as usize).copied())
                        .collect();
                    let d = Diagnostic::warning(
                        "W0601",
                        format!(
                            "compensating control of `{}` covers {} where there is no gap",
                            a.name,
                            frs.join(", ")
                        ),
                    )
                    .primary(self.loc(c.span), "no gap on these requirements");
                    self.out.push(d);
                }
            }
        }
    }

    fn workorders(&mut self) {
        for wo in &self.p.workorders {
            // Incomplete work orders (E0704) are reported while lowering, from the source;
            // `opens` naming a conduit without a rule for this order (E0702) with the
            // conduit's rules; rules outside the order's scope (W0702) in `check_conduits`.
            if !self.p.persons.is_empty() {
                if let Some(why) = self.unsatisfiable(wo) {
                    let d = Diagnostic::error(
                        "E0703",
                        format!(
                            "no declared set of people can approve work order `{}`",
                            wo.name
                        ),
                    )
                    .primary(self.loc(wo.span), why)
                    .help("declare enough people holding the roles, or change the approval rule");
                    self.out.push(d);
                }
            }
        }
    }

    /// Whether distinct declared persons can fill every approval slot (and, under separation
    /// of duties, a requester distinct from them). Returns why not.
    fn unsatisfiable(&self, wo: &WorkOrder) -> Option<String> {
        let mut slots: Vec<Vec<RoleId>> = Vec::new();
        for a in &wo.approvals {
            match a {
                Approval::AllOf { roles } => slots.extend(roles.iter().map(|r| vec![*r])),
                Approval::NOf { n, roles } => slots.extend((0..*n).map(|_| roles.clone())),
            }
        }
        let approvers = slots.len();
        if wo.separation_of_duties {
            slots.push(wo.requested_by.clone());
        } else if !self
            .p
            .persons
            .iter()
            .any(|p| p.roles.iter().any(|r| wo.requested_by.contains(r)))
        {
            return Some("nobody holds a role that may request it".into());
        }
        let matched = crate::approvals::matching(&slots, &self.p.persons).len();
        if matched < slots.len() {
            return Some(if wo.separation_of_duties {
                format!("{approvers} distinct approvers and a requester who is none of them are needed; the declared people fill only {matched} of these {} places", slots.len())
            } else {
                format!("{approvers} distinct approvers are needed; the declared people fill only {matched}")
            });
        }
        None
    }

    fn dataflows(&mut self) {
        for (flow, f) in self.p.dataflows.iter().enumerate() {
            for (h, hop) in f.hops.iter().enumerate() {
                let (Some(a), Some(b)) = (self.p.asset(hop.from), self.p.asset(hop.to)) else {
                    continue;
                };
                if a.addr.is_unresolved() || b.addr.is_unresolved() {
                    continue;
                }
                let zones = |x: &Asset| {
                    let mut v = vec![x.zone];
                    v.extend(x.interfaces.iter().map(|i| i.zone));
                    v
                };
                if zones(a).iter().any(|z| zones(b).contains(z)) {
                    continue;
                }
                let carried = |forward: bool| {
                    self.facts
                        .carried
                        .contains(&(flow as u32, h as u32, forward))
                };
                let ok = match hop.mode {
                    Some(HopMode::Push) => carried(true),
                    Some(HopMode::Pull) => carried(false),
                    None => carried(true) || carried(false),
                };
                if !ok {
                    let how = match hop.mode {
                        Some(HopMode::Push) => format!("a rule `{} -> {}`", a.name, b.name),
                        Some(HopMode::Pull) => {
                            format!("a rule `{} -> {}` (the receiver pulls)", b.name, a.name)
                        }
                        None => format!(
                            "a rule `{} -> {}` (push) or `{} -> {}` (pull)",
                            a.name, b.name, b.name, a.name
                        ),
                    };
                    let d = Diagnostic::error("E0801", format!("data flow `{}` crosses from `{}` to `{}` on no conduit rule", f.name, self.p.zone_name(a.zone), self.p.zone_name(b.zone)))
                        .primary(self.loc(hop.span), format!("hop `{} -> {}` is not carried", a.name, b.name))
                        .help(format!("every hop across a zone boundary needs {how} in a conduit, outside any work order"));
                    self.out.push(d);
                }
            }
        }
    }

    fn unused(&mut self) {
        let mut used_roles: BTreeSet<RoleId> = BTreeSet::new();
        for wo in &self.p.workorders {
            used_roles.extend(wo.requested_by.iter().copied());
            for a in &wo.approvals {
                match a {
                    Approval::AllOf { roles } | Approval::NOf { roles, .. } => {
                        used_roles.extend(roles.iter().copied())
                    }
                }
            }
        }
        for (i, r) in self.p.roles.iter().enumerate() {
            let std = self
                .p
                .sources
                .get(r.span.file as usize)
                .is_some_and(|s| s.std);
            if !std && !used_roles.contains(&RoleId(i as u32)) {
                let d = Diagnostic::warning("W0901", format!("role `{}` is never used", r.name))
                    .primary(
                        self.loc(r.span),
                        "no work order requests or approves with it",
                    );
                self.out.push(d);
            }
        }
        let mut used_services: BTreeSet<ServiceId> = self.facts.services.clone();
        for s in &self.p.services {
            used_services.extend(s.members.iter().copied());
        }
        for a in &self.p.assertions {
            if let Property::Reachable {
                service: Some(s), ..
            } = a.property
            {
                used_services.insert(s);
            }
        }
        for (i, s) in self.p.services.iter().enumerate() {
            if !s.std && !used_services.contains(&ServiceId(i as u32)) {
                let d = Diagnostic::warning("W0902", format!("service `{}` is never used", s.name))
                    .primary(self.loc(s.span), "no conduit rule names it");
                self.out.push(d);
            }
        }
        let mut used_zones: BTreeSet<ZoneId> = BTreeSet::new();
        for c in &self.conduits {
            used_zones.insert(c.from);
            used_zones.insert(c.to);
        }
        for l in &self.p.links {
            used_zones.extend(l.zones.iter().copied());
        }
        for wo in &self.p.workorders {
            for s in &wo.scope {
                match s {
                    ScopeItem::Zone(z) => {
                        used_zones.insert(*z);
                    }
                    ScopeItem::Asset(a) => {
                        if let Some(a) = self.p.asset(*a) {
                            used_zones.insert(a.zone);
                        }
                    }
                }
            }
        }
        for a in &self.p.assertions {
            let places: Vec<Place> = match &a.property {
                Property::NoPath { from, to }
                | Property::OnlyVia { from, to, .. }
                | Property::Reachable { from, to, .. } => vec![*from, *to],
                Property::Isolated { zone } => vec![*zone],
                Property::SecurityLevel { zone } => vec![Place::Zone(*zone)],
                _ => vec![],
            };
            for p in places {
                // An assertion about an asset is about its zone too, as a work order's scope is.
                match p {
                    Place::Zone(z) => {
                        used_zones.insert(z);
                    }
                    Place::Asset(a) => {
                        if let Some(a) = self.p.asset(a) {
                            used_zones.insert(a.zone);
                        }
                    }
                }
            }
        }
        for (i, z) in self.p.zones.iter().enumerate().skip(1) {
            if !used_zones.contains(&ZoneId(i as u32)) {
                let d = Diagnostic::warning("W0903", format!("zone `{}` is never used", z.name))
                    .primary(self.loc(z.span), "no conduit, link, work order or assertion names it")
                    .help("a zone no conduit reaches is isolated; say so with `assert isolated` if that is the intent");
                self.out.push(d);
            }
        }
        let _ = Crossing::Link;
    }
}

/// Today's date in UTC as `YYYY-MM-DD` (or `PALISADE_TODAY` when set, for reproducible tests).
pub fn today() -> String {
    if let Ok(d) = std::env::var("PALISADE_TODAY") {
        return d;
    }
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let (y, m, d) = civil_from_days((secs / 86400) as i64);
    format!("{y:04}-{m:02}-{d:02}")
}

/// Days since 1970-01-01 to a Gregorian date (Howard Hinnant's algorithm).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_dates() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(20_413), (2025, 11, 21));
        assert_eq!(civil_from_days(11_016), (2000, 2, 29));
    }
}
