//! The topology graph: zones joined by enforcement devices, unfiltered links and bridge
//! assets. "Topology decides where rules go": a conduit's rules belong on every device on
//! every path between its zones, and a path with no device on it is unfiltered.

use crate::ir::{AssetId, DeviceId, LinkId, Policy, ZoneId, EXTERNAL};
use std::collections::{BTreeMap, BTreeSet, VecDeque};

/// How one step of a path crosses from one zone to the next.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Crossing {
    /// Through a device, entering on one interface and leaving on another (the same
    /// interface when both zones sit behind it, e.g. on VLANs of one trunk).
    Device {
        device: DeviceId,
        in_iface: String,
        out_iface: String,
        /// Whether the device filters what crosses it (firewalls and IPS gateways); an IDS
        /// gateway only watches, so a crossing through it is as open as a link.
        filters: bool,
    },
    /// Through a `link`: no filtering.
    Link(LinkId),
    /// Through an asset with interfaces in both zones: no filtering.
    Bridge(AssetId),
}

impl Crossing {
    pub fn is_filtered(&self) -> bool {
        matches!(self, Crossing::Device { filters: true, .. })
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Step {
    pub from: ZoneId,
    pub to: ZoneId,
    pub via: Crossing,
}

/// A simple path through the zone graph: consecutive steps share a zone.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Path {
    pub steps: Vec<Step>,
}

impl Path {
    pub fn devices(&self) -> impl Iterator<Item = (DeviceId, &str, &str)> {
        self.steps.iter().filter_map(|s| match &s.via {
            Crossing::Device {
                device,
                in_iface,
                out_iface,
                ..
            } => Some((*device, in_iface.as_str(), out_iface.as_str())),
            _ => None,
        })
    }
    pub fn is_unfiltered(&self) -> bool {
        self.steps.iter().all(|s| !s.via.is_filtered())
    }
}

/// Adjacency: for each zone, the zones one crossing away and how.
#[derive(Clone, Debug, Default)]
pub struct Topology {
    pub edges: BTreeMap<ZoneId, Vec<(ZoneId, Crossing)>>,
}

impl Topology {
    pub fn new(policy: &Policy) -> Topology {
        let mut edges: BTreeMap<ZoneId, BTreeSet<(ZoneId, Crossing)>> = BTreeMap::new();
        let mut add = |a: ZoneId, b: ZoneId, c: Crossing| {
            if a != b {
                edges.entry(a).or_default().insert((b, c));
            }
        };
        for (d, dev) in policy.devices.iter().enumerate() {
            let device = DeviceId(d as u32);
            let filters = dev.filters();
            for ia in &dev.interfaces {
                for ib in &dev.interfaces {
                    for za in &ia.faces {
                        for zb in &ib.faces {
                            add(
                                *za,
                                *zb,
                                Crossing::Device {
                                    device,
                                    in_iface: ia.name.clone(),
                                    out_iface: ib.name.clone(),
                                    filters,
                                },
                            );
                        }
                    }
                }
            }
        }
        for (l, link) in policy.links.iter().enumerate() {
            for a in &link.zones {
                for b in &link.zones {
                    add(*a, *b, Crossing::Link(LinkId(l as u32)));
                }
            }
        }
        for (i, asset) in policy.assets.iter().enumerate() {
            let mut zones = vec![asset.zone];
            zones.extend(asset.interfaces.iter().map(|x| x.zone));
            for a in &zones {
                for b in &zones {
                    add(*a, *b, Crossing::Bridge(AssetId(i as u32)));
                }
            }
        }
        Topology {
            edges: edges
                .into_iter()
                .map(|(k, v)| (k, v.into_iter().collect()))
                .collect(),
        }
    }

    pub fn neighbours(&self, z: ZoneId) -> &[(ZoneId, Crossing)] {
        self.edges.get(&z).map(|v| v.as_slice()).unwrap_or(&[])
    }

    /// The crossings a path that started at `origin` may take onward from `z`. `external` is
    /// never a transit network: a path may start or end there but not pass through it (a
    /// site's traffic does not leave through one modem and come back through another, and a
    /// firewall never accepts a site zone's addresses on its Internet-facing interface).
    pub fn onward(&self, z: ZoneId, origin: ZoneId) -> &[(ZoneId, Crossing)] {
        if z == EXTERNAL && origin != EXTERNAL {
            &[]
        } else {
            self.neighbours(z)
        }
    }

    /// Whether any path joins the two zones.
    pub fn connected(&self, from: ZoneId, to: ZoneId) -> bool {
        self.shortest(from, to, |_| true).is_some()
    }

    /// Which zone pairs some path joins, for all pairs in one pass over the edges (a search
    /// per conduit was the checker's hot spot on large sites). Paths do not transit
    /// `external`, so the site's zones fall into components of their own, and `external`
    /// is joined to every zone of a component that touches it.
    pub fn connectivity(&self) -> Connectivity {
        let mut component: BTreeMap<ZoneId, usize> = BTreeMap::new();
        for (number, start) in self.edges.keys().enumerate() {
            if *start == EXTERNAL || component.contains_key(start) {
                continue;
            }
            component.insert(*start, number);
            let mut stack = vec![*start];
            while let Some(z) = stack.pop() {
                for (n, _) in self.neighbours(z) {
                    if *n == EXTERNAL {
                        continue;
                    }
                    if let std::collections::btree_map::Entry::Vacant(e) = component.entry(*n) {
                        e.insert(number);
                        stack.push(*n);
                    }
                }
            }
        }
        let touch_external = self
            .neighbours(EXTERNAL)
            .iter()
            .filter_map(|(n, _)| component.get(n).copied())
            .collect();
        Connectivity {
            component,
            touch_external,
        }
    }

    /// A shortest path using only crossings that `allow` accepts.
    pub fn shortest(
        &self,
        from: ZoneId,
        to: ZoneId,
        allow: impl Fn(&Crossing) -> bool,
    ) -> Option<Path> {
        let mut prev: BTreeMap<ZoneId, (ZoneId, Crossing)> = BTreeMap::new();
        let mut queue = VecDeque::from([from]);
        let mut seen = BTreeSet::from([from]);
        while let Some(z) = queue.pop_front() {
            if z == to {
                let mut steps = Vec::new();
                let mut cur = to;
                while let Some((p, c)) = prev.get(&cur) {
                    steps.push(Step {
                        from: *p,
                        to: cur,
                        via: c.clone(),
                    });
                    cur = *p;
                }
                steps.reverse();
                return Some(Path { steps });
            }
            for (n, c) in self.onward(z, from) {
                if allow(c) && seen.insert(*n) {
                    prev.insert(*n, (z, c.clone()));
                    queue.push_back(*n);
                }
            }
        }
        None
    }

    /// Every simple path (no zone twice) from `from` to `to`, at most `limit` of them, with at
    /// most `max_len` crossings each, in a stable order.
    pub fn paths(&self, from: ZoneId, to: ZoneId, limit: usize, max_len: usize) -> Vec<Path> {
        let mut out = Vec::new();
        let mut stack: Vec<Step> = Vec::new();
        let mut on_path = BTreeSet::from([from]);
        self.walk(from, to, limit, max_len, &mut stack, &mut on_path, &mut out);
        out
    }

    #[allow(clippy::too_many_arguments)]
    fn walk(
        &self,
        at: ZoneId,
        to: ZoneId,
        limit: usize,
        max_len: usize,
        stack: &mut Vec<Step>,
        on_path: &mut BTreeSet<ZoneId>,
        out: &mut Vec<Path>,
    ) {
        if out.len() >= limit {
            return;
        }
        if at == to && !stack.is_empty() {
            out.push(Path {
                steps: stack.clone(),
            });
            return;
        }
        if stack.len() >= max_len {
            return;
        }
        let origin = stack.first().map(|s| s.from).unwrap_or(at);
        for (n, c) in self.onward(at, origin) {
            if on_path.contains(n) {
                continue;
            }
            on_path.insert(*n);
            stack.push(Step {
                from: at,
                to: *n,
                via: c.clone(),
            });
            self.walk(*n, to, limit, max_len, stack, on_path, out);
            stack.pop();
            on_path.remove(n);
        }
    }
}

/// Which zones some path joins (see [`Topology::connectivity`]).
#[derive(Clone, Debug, Default)]
pub struct Connectivity {
    component: BTreeMap<ZoneId, usize>,
    /// Components with a zone next to `external`.
    touch_external: BTreeSet<usize>,
}

impl Connectivity {
    /// Whether some path joins `a` and `b` (two different zones).
    pub fn joined(&self, a: ZoneId, b: ZoneId) -> bool {
        match (a == EXTERNAL, b == EXTERNAL) {
            (true, true) => true,
            (true, false) => self
                .component
                .get(&b)
                .is_some_and(|c| self.touch_external.contains(c)),
            (false, true) => self
                .component
                .get(&a)
                .is_some_and(|c| self.touch_external.contains(c)),
            (false, false) => self
                .component
                .get(&a)
                .is_some_and(|x| self.component.get(&b) == Some(x)),
        }
    }
}
