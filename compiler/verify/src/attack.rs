//! Attack paths: a directed graph whose nodes are the zones (each standing for all of its
//! assets, since hosts inside a zone reach each other freely) and the bridge assets, and
//! whose edges are the permitted connections of one scenario: a conduit rule that admits
//! some packet from one zone to the other (initiator to responder; replies open nothing),
//! a `link` (both ways, unfiltered), and a bridge asset's interfaces (both ways).
//!
//! A chain of edges from A to B is an attack path: an attacker holding a host of A gains a
//! foothold in B. A [`Cut`] removes a conduit, a device or an asset first; `only_via V` holds
//! when no chain survives the removal of V.

use crate::network::{Enforcement, Network};
use crate::scenario::Scenario;
use palisade_compiler::address::AddrRange;
use palisade_compiler::ir::{AssetId, ConduitId, DeviceId, LinkId, RuleId, ZoneId};
use petgraph::graph::{DiGraph, NodeIndex};
use petgraph::visit::EdgeRef;
use std::collections::{BTreeMap, BTreeSet, VecDeque};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Node {
    Zone(ZoneId),
    Bridge(AssetId),
}

/// One step of an attack path.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Hop {
    /// Connections permitted by conduit rules (the first one is shown as the witness).
    Rules {
        from: ZoneId,
        to: ZoneId,
        rules: Vec<RuleId>,
        enforcement: Enforcement,
    },
    /// An unfiltered link between two zones.
    Link {
        link: LinkId,
        from: ZoneId,
        to: ZoneId,
    },
    /// Through a gateway in IDS mode, which watches and enforces nothing.
    Monitored {
        device: DeviceId,
        from: ZoneId,
        to: ZoneId,
    },
    /// Into a bridge asset from one of its zones.
    IntoBridge { asset: AssetId, from: ZoneId },
    /// Out of a bridge asset into another of its zones.
    OutOfBridge { asset: AssetId, to: ZoneId },
}

/// What to take out of the network before looking for chains.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Cut {
    pub conduit: Option<ConduitId>,
    pub device: Option<DeviceId>,
    /// Assets with their addresses: connections from or to them are dropped, and a bridge
    /// asset's node too.
    pub assets: Vec<(AssetId, Vec<AddrRange>)>,
}

impl Cut {
    /// The rules this cut drops in every scenario (its conduit's, and those that admit no
    /// packet once its assets' addresses are taken out). Compute once, build many graphs.
    pub fn dropped_rules(&self, net: &Network<'_>) -> BTreeSet<RuleId> {
        let p = net.policy;
        let addrs: Vec<AddrRange> = self
            .assets
            .iter()
            .flat_map(|(_, a)| a.iter().copied())
            .collect();
        let mut out = BTreeSet::new();
        for ((a, b), rules) in &net.pairs {
            let e = net.enforcement_of(*a, *b);
            for r in rules {
                let in_conduit = self
                    .conduit
                    .is_some_and(|c| p.rule(*r).is_some_and(|x| x.conduit == c));
                let cut_off = !addrs.is_empty()
                    && Network::without_addresses(&net.boxes(*r, e), &addrs).is_empty();
                if in_conduit || cut_off {
                    out.insert(*r);
                }
            }
        }
        out
    }
}

pub struct AttackGraph {
    pub graph: DiGraph<Node, Hop>,
    zones: BTreeMap<ZoneId, NodeIndex>,
}

impl AttackGraph {
    pub fn build(net: &Network<'_>, scenario: &Scenario, cut: &Cut) -> AttackGraph {
        AttackGraph::build_with(net, scenario, cut, &cut.dropped_rules(net))
    }

    /// [`AttackGraph::build`] with the cut's dropped rules computed beforehand.
    pub fn build_with(
        net: &Network<'_>,
        scenario: &Scenario,
        cut: &Cut,
        dropped: &BTreeSet<RuleId>,
    ) -> AttackGraph {
        let policy = net.policy;
        let mut graph = DiGraph::new();
        let mut zones = BTreeMap::new();
        for z in 0..policy.zones.len() {
            let id = ZoneId(z as u32);
            zones.insert(id, graph.add_node(Node::Zone(id)));
        }
        let enforcement = match cut.device {
            Some(d) => net.enforcement_map(Some(d)),
            None => net.enforcement.clone(),
        };
        for ((a, b), e) in &enforcement {
            if *e == Enforcement::Disconnected || a == b {
                continue;
            }
            let mut rules = net.open_rules(*a, *b, scenario);
            rules.retain(|r| !dropped.contains(r));
            if rules.is_empty() {
                continue;
            }
            if let (Some(x), Some(y)) = (zones.get(a), zones.get(b)) {
                graph.add_edge(
                    *x,
                    *y,
                    Hop::Rules {
                        from: *a,
                        to: *b,
                        rules,
                        enforcement: *e,
                    },
                );
            }
        }
        for (l, link) in policy.links.iter().enumerate() {
            for a in &link.zones {
                for b in &link.zones {
                    if let (true, Some(x), Some(y)) = (a != b, zones.get(a), zones.get(b)) {
                        graph.add_edge(
                            *x,
                            *y,
                            Hop::Link {
                                link: LinkId(l as u32),
                                from: *a,
                                to: *b,
                            },
                        );
                    }
                }
            }
        }
        for (d, dev) in policy.devices.iter().enumerate() {
            let device = DeviceId(d as u32);
            if dev.filters() || cut.device == Some(device) {
                continue;
            }
            let faces: BTreeSet<ZoneId> = dev
                .interfaces
                .iter()
                .flat_map(|i| i.faces.iter().copied())
                .collect();
            for a in &faces {
                for b in &faces {
                    if let (true, Some(x), Some(y)) = (a != b, zones.get(a), zones.get(b)) {
                        graph.add_edge(
                            *x,
                            *y,
                            Hop::Monitored {
                                device,
                                from: *a,
                                to: *b,
                            },
                        );
                    }
                }
            }
        }
        for (i, asset) in policy.assets.iter().enumerate() {
            let id = AssetId(i as u32);
            let mut its: BTreeSet<ZoneId> = asset.interfaces.iter().map(|x| x.zone).collect();
            its.insert(asset.zone);
            if its.len() < 2 || cut.assets.iter().any(|(a, _)| *a == id) {
                continue;
            }
            let node = graph.add_node(Node::Bridge(id));
            for z in its {
                if let Some(x) = zones.get(&z) {
                    graph.add_edge(*x, node, Hop::IntoBridge { asset: id, from: z });
                    graph.add_edge(node, *x, Hop::OutOfBridge { asset: id, to: z });
                }
            }
        }
        AttackGraph { graph, zones }
    }

    /// A shortest chain from any of `from` to any of `to` (empty when they share a zone).
    pub fn chain(&self, from: &[ZoneId], to: &[ZoneId]) -> Option<Vec<Hop>> {
        if from.iter().any(|z| to.contains(z)) {
            return Some(Vec::new());
        }
        let targets: BTreeSet<NodeIndex> = to
            .iter()
            .filter_map(|z| self.zones.get(z).copied())
            .collect();
        let mut prev: BTreeMap<NodeIndex, (NodeIndex, petgraph::graph::EdgeIndex)> =
            BTreeMap::new();
        let mut seen: BTreeSet<NodeIndex> = from
            .iter()
            .filter_map(|z| self.zones.get(z).copied())
            .collect();
        let mut queue: VecDeque<NodeIndex> = seen.iter().copied().collect();
        while let Some(n) = queue.pop_front() {
            if targets.contains(&n) {
                let mut hops = Vec::new();
                let mut cur = n;
                while let Some((p, e)) = prev.get(&cur) {
                    if let Some(h) = self.graph.edge_weight(*e) {
                        hops.push(h.clone());
                    }
                    cur = *p;
                }
                hops.reverse();
                return Some(hops);
            }
            for e in self.graph.edges(n) {
                let m = e.target();
                if seen.insert(m) {
                    prev.insert(m, (n, e.id()));
                    queue.push_back(m);
                }
            }
        }
        None
    }

    /// Every zone some chain from `from` reaches (including `from`).
    pub fn reachable(&self, from: &[ZoneId]) -> BTreeSet<ZoneId> {
        let mut seen: BTreeSet<NodeIndex> = from
            .iter()
            .filter_map(|z| self.zones.get(z).copied())
            .collect();
        let mut queue: VecDeque<NodeIndex> = seen.iter().copied().collect();
        while let Some(n) = queue.pop_front() {
            for m in self.graph.neighbors(n) {
                if seen.insert(m) {
                    queue.push_back(m);
                }
            }
        }
        seen.into_iter()
            .filter_map(|n| match self.graph.node_weight(n) {
                Some(Node::Zone(z)) => Some(*z),
                _ => None,
            })
            .collect()
    }

    /// Edges into or out of a zone.
    pub fn incident(&self, zone: ZoneId) -> Vec<Hop> {
        let Some(n) = self.zones.get(&zone) else {
            return Vec::new();
        };
        let mut out: Vec<Hop> = self
            .graph
            .edges_directed(*n, petgraph::Direction::Incoming)
            .map(|e| e.weight().clone())
            .collect();
        out.extend(
            self.graph
                .edges_directed(*n, petgraph::Direction::Outgoing)
                .map(|e| e.weight().clone()),
        );
        out
    }
}
