//! The network as deployed: which zone pairs a packet can travel between, what is enforced
//! on the way, and the rule sets of every pair and device, computed once and shared by
//! every property.
//!
//! Topology decides where rules go: a conduit's rules sit on every device on every path
//! between its zones, so a packet from zone A to zone B passes a path when each firewall on
//! it finds an A->B rule admitting it at port level and each gateway finds one admitting it
//! with its protocol fields. Hence, per ordered zone pair:
//! - a path with no device on it (links, bridge assets): everything passes ([`Enforcement::Unfiltered`]);
//! - else a path with no gateway: the rules at port level ([`Enforcement::PortLevel`]);
//! - else every path crosses a gateway: the rules with their fields ([`Enforcement::Inspected`]).

use crate::packet::{rule_boxes, FieldMode, HeaderBox, Interval};
use crate::scenario::{scope_addrs, Scenario};
use palisade_compiler::address::AddrRange;
use palisade_compiler::ir::{AssetId, DeviceId, Policy, RuleId, WorkOrderId, ZoneId, EXTERNAL};
use palisade_compiler::topology::{Crossing, Topology};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet, VecDeque};

/// What a packet from one zone to another meets on its best path.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Enforcement {
    /// A path with no device: every packet passes.
    Unfiltered,
    /// A path with firewalls only: ports and addresses are enforced, protocol fields not.
    PortLevel,
    /// Every path crosses an inline gateway: protocol fields are enforced too.
    Inspected,
    /// No path at all.
    Disconnected,
}

impl Enforcement {
    pub fn field_mode(self) -> FieldMode {
        match self {
            Enforcement::Inspected => FieldMode::Inspected,
            _ => FieldMode::PortLevel,
        }
    }
}

pub struct Network<'p> {
    pub policy: &'p Policy,
    pub topology: Topology,
    /// The rules of each ordered zone pair (source zone, destination zone), in source order.
    pub pairs: BTreeMap<(ZoneId, ZoneId), Vec<RuleId>>,
    /// What is enforced between each pair that has rules, on the whole topology.
    pub enforcement: BTreeMap<(ZoneId, ZoneId), Enforcement>,
    /// Per work order: the addresses of its scope.
    pub scopes: Vec<Vec<AddrRange>>,
    /// Per rule: whether the exact engine finds a packet it admits (in its scope).
    pub nonempty: Vec<bool>,
    /// Unfiltered component of each zone (zones joined by links and bridge assets).
    pub component: Vec<usize>,
    /// The assets with an interface in each zone.
    pub zone_assets: Vec<Vec<AssetId>>,
}

impl<'p> Network<'p> {
    pub fn new(policy: &'p Policy) -> Network<'p> {
        let topology = Topology::new(policy);
        let mut pairs: BTreeMap<(ZoneId, ZoneId), Vec<RuleId>> = BTreeMap::new();
        for (i, r) in policy.rules.iter().enumerate() {
            pairs
                .entry((r.from, r.to))
                .or_default()
                .push(RuleId(i as u32));
        }
        let scopes: Vec<Vec<AddrRange>> = (0..policy.workorders.len())
            .map(|w| scope_addrs(policy, WorkOrderId(w as u32)))
            .collect();
        let nonempty = policy
            .rules
            .iter()
            .map(|r| {
                let scope = r
                    .workorder
                    .and_then(|w| scopes.get(w.index()))
                    .map(|s| s.as_slice());
                !rule_boxes(policy, r, FieldMode::PortLevel, scope).is_empty()
            })
            .collect();
        let component = components(policy, &topology);
        let mut zone_assets: Vec<Vec<AssetId>> = vec![Vec::new(); policy.zones.len()];
        for (i, a) in policy.assets.iter().enumerate() {
            let mut zs: Vec<ZoneId> = vec![a.zone];
            zs.extend(a.interfaces.iter().map(|x| x.zone));
            zs.sort();
            zs.dedup();
            for z in zs {
                if let Some(v) = zone_assets.get_mut(z.index()) {
                    v.push(AssetId(i as u32));
                }
            }
        }
        let mut net = Network {
            policy,
            topology,
            pairs,
            enforcement: BTreeMap::new(),
            scopes,
            nonempty,
            component,
            zone_assets,
        };
        net.enforcement = net.enforcement_map(None);
        net
    }

    /// The scope restriction of a rule (its work order's scope), if any.
    pub fn scope_of(&self, rule: RuleId) -> Option<&[AddrRange]> {
        let w = self.policy.rule(rule)?.workorder?;
        self.scopes.get(w.index()).map(|s| s.as_slice())
    }

    pub fn enforcement_of(&self, from: ZoneId, to: ZoneId) -> Enforcement {
        if from == to {
            return Enforcement::Unfiltered;
        }
        if let Some(e) = self.enforcement.get(&(from, to)) {
            return *e;
        }
        self.enforcement_between(from, to, None)
    }

    /// Enforcement of every pair with rules, with `removed` taken out of the topology.
    pub fn enforcement_map(
        &self,
        removed: Option<DeviceId>,
    ) -> BTreeMap<(ZoneId, ZoneId), Enforcement> {
        let mut by_source: BTreeMap<ZoneId, Vec<ZoneId>> = BTreeMap::new();
        for (a, b) in self.pairs.keys() {
            by_source.entry(*a).or_default().push(*b);
        }
        let mut out = BTreeMap::new();
        for (a, targets) in by_source {
            let reach = self.reach_sets(a, removed);
            for b in targets {
                out.insert((a, b), reach.classify(b));
            }
        }
        out
    }

    pub fn enforcement_between(
        &self,
        from: ZoneId,
        to: ZoneId,
        removed: Option<DeviceId>,
    ) -> Enforcement {
        self.reach_sets(from, removed).classify(to)
    }

    /// Whether a crossing passes a gateway that enforces protocol fields (IPS mode).
    fn is_gateway(&self, c: &Crossing) -> bool {
        matches!(c, Crossing::Device { device, .. } if self.policy.device(*device).is_some_and(|d| d.inspects()))
    }

    fn reach_sets(&self, from: ZoneId, removed: Option<DeviceId>) -> ReachSets {
        let not_removed = |c: &Crossing| !matches!(c, Crossing::Device { device, .. } if Some(*device) == removed);
        ReachSets {
            unfiltered: self.bfs(from, |c| !c.is_filtered()),
            no_gateway: self.bfs(from, |c| not_removed(c) && !self.is_gateway(c)),
            any: self.bfs(from, not_removed),
        }
    }

    /// The zones a packet from `from` reaches with no filtering device on its way.
    pub fn unfiltered_from(&self, from: ZoneId) -> BTreeSet<ZoneId> {
        self.bfs(from, |c| !c.is_filtered())
    }

    fn bfs(&self, from: ZoneId, allow: impl Fn(&Crossing) -> bool) -> BTreeSet<ZoneId> {
        let mut seen = BTreeSet::from([from]);
        let mut queue = VecDeque::from([from]);
        while let Some(z) = queue.pop_front() {
            for (n, c) in self.topology.onward(z, from) {
                if allow(c) && seen.insert(*n) {
                    queue.push_back(*n);
                }
            }
        }
        seen
    }

    /// The devices on a representative path from `from` to `to` that carries what
    /// `enforcement` says (a gateway-free path for port level), skipping `removed`.
    pub fn path_devices(
        &self,
        from: ZoneId,
        to: ZoneId,
        enforcement: Enforcement,
        removed: Option<DeviceId>,
    ) -> Vec<DeviceId> {
        let not_removed = |c: &Crossing| !matches!(c, Crossing::Device { device, .. } if Some(*device) == removed);
        let path = match enforcement {
            Enforcement::PortLevel => self
                .topology
                .shortest(from, to, |c| not_removed(c) && !self.is_gateway(c)),
            _ => self.topology.shortest(from, to, not_removed),
        };
        path.map(|p| p.devices().map(|(d, _, _)| d).collect())
            .unwrap_or_default()
    }

    /// The gateways that enforce fields (IPS mode) and that every path from `from` to `to`
    /// crosses.
    pub fn gateways_between(&self, from: ZoneId, to: ZoneId) -> Vec<DeviceId> {
        (0..self.policy.devices.len())
            .map(|d| DeviceId(d as u32))
            .filter(|d| self.policy.device(*d).is_some_and(|x| x.inspects()))
            .filter(|d| !self.reach_sets(from, Some(*d)).any.contains(&to))
            .collect()
    }

    /// Whether every path from `from` to `to` crosses `device`.
    pub fn device_on_every_path(&self, from: ZoneId, to: ZoneId, device: DeviceId) -> bool {
        !self.reach_sets(from, Some(device)).any.contains(&to)
    }

    /// The open rules of a pair in a scenario that admit some packet.
    pub fn open_rules(&self, from: ZoneId, to: ZoneId, scenario: &Scenario) -> Vec<RuleId> {
        self.pairs
            .get(&(from, to))
            .map(|rules| {
                rules
                    .iter()
                    .copied()
                    .filter(|r| self.nonempty.get(r.index()).copied().unwrap_or(false))
                    .filter(|r| self.policy.rule(*r).is_some_and(|r| scenario.is_open(r)))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// A rule's packets as boxes under an enforcement.
    pub fn boxes(&self, rule: RuleId, enforcement: Enforcement) -> Vec<HeaderBox> {
        match self.policy.rule(rule) {
            Some(r) => rule_boxes(
                self.policy,
                r,
                enforcement.field_mode(),
                self.scope_of(rule),
            ),
            None => Vec::new(),
        }
    }

    /// Every rule a device carries: those of each conduit with a path between its zones that
    /// crosses the device. What the firewall targets emit and translation validation checks.
    pub fn device_rules(&self, device: DeviceId) -> Vec<RuleId> {
        let mut out = Vec::new();
        for ((a, b), rules) in &self.pairs {
            let carries =
                self.reach_sets(*a, None).any.contains(b) && self.on_some_path(*a, *b, device);
            if carries {
                out.extend(rules.iter().copied());
            }
        }
        out.sort();
        out
    }

    /// Whether some simple path from `a` to `b` crosses `device`: `device` has an interface
    /// facing a zone reachable from `a` without it and one facing a zone that reaches `b`
    /// without it, on different zones.
    fn on_some_path(&self, a: ZoneId, b: ZoneId, device: DeviceId) -> bool {
        let Some(dev) = self.policy.device(device) else {
            return false;
        };
        let from_a = self.reach_sets(a, Some(device)).any;
        let to_b = self.reach_sets(b, Some(device)).any;
        let faces: Vec<ZoneId> = dev
            .interfaces
            .iter()
            .flat_map(|i| i.faces.iter().copied())
            .collect();
        faces
            .iter()
            .any(|x| from_a.contains(x) && faces.iter().any(|y| y != x && to_b.contains(y)))
    }

    /// Boxes of the packets with neither end at one of `addrs` (for cuts through an asset).
    pub fn without_addresses(boxes: &[HeaderBox], addrs: &[AddrRange]) -> Vec<HeaderBox> {
        let mut cut = Vec::new();
        for r in addrs {
            let fam = Interval::point(r.v6 as u128);
            let iv = Interval::new(r.lo, r.hi);
            cut.push(HeaderBox::all().with(0, fam).with(1, iv));
            cut.push(HeaderBox::all().with(0, fam).with(2, iv));
        }
        let mut rest: Vec<HeaderBox> = boxes.to_vec();
        for c in &cut {
            rest = rest.iter().flat_map(|b| b.subtract(c)).collect();
        }
        rest
    }
}

struct ReachSets {
    unfiltered: BTreeSet<ZoneId>,
    no_gateway: BTreeSet<ZoneId>,
    any: BTreeSet<ZoneId>,
}

impl ReachSets {
    fn classify(&self, to: ZoneId) -> Enforcement {
        if self.unfiltered.contains(&to) {
            Enforcement::Unfiltered
        } else if self.no_gateway.contains(&to) {
            Enforcement::PortLevel
        } else if self.any.contains(&to) {
            Enforcement::Inspected
        } else {
            Enforcement::Disconnected
        }
    }
}

/// Components of the zone graph over unfiltered crossings (links, bridge assets, IDS
/// gateways). `external` is never a transit network: it is a component of its own.
fn components(policy: &Policy, topology: &Topology) -> Vec<usize> {
    let n = policy.zones.len();
    let mut comp: Vec<Option<usize>> = vec![None; n];
    let mut next = 0;
    for start in 0..n {
        if start == EXTERNAL.index() {
            if let Some(c) = comp.get_mut(start) {
                *c = Some(next);
            }
            next += 1;
            continue;
        }
        if comp.get(start).copied().flatten().is_some() {
            continue;
        }
        let mut queue = VecDeque::from([ZoneId(start as u32)]);
        if let Some(c) = comp.get_mut(start) {
            *c = Some(next);
        }
        while let Some(z) = queue.pop_front() {
            for (nb, c) in topology.neighbours(z) {
                if c.is_filtered() || *nb == EXTERNAL {
                    continue;
                }
                if let Some(slot) = comp.get_mut(nb.index()) {
                    if slot.is_none() {
                        *slot = Some(next);
                        queue.push_back(*nb);
                    }
                }
            }
        }
        next += 1;
    }
    comp.into_iter().map(|c| c.unwrap_or(0)).collect()
}
