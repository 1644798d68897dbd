//! Which allowlist applies to which traffic. Rules overlap: `any -> plc : modbus { read }`
//! and `eng_ws -> plc : modbus` together allow everything from `eng_ws` and only reads from
//! the rest. A request is forbidden only when no rule that covers its flow allows it, so the
//! address and port space is cut into cells, each covered by the same rules, and cells with
//! the same covering rules are gathered into flow groups. A cell covered by any rule without
//! protocol constraints gets no protocol rule at all.

use palisade_compiler::address::{merge, AddrRange};
use palisade_compiler::ir::RuleId;
use std::collections::{BTreeMap, BTreeSet};

/// Traffic one rule admits: addresses, one TCP port range, and whether its protocol fields
/// are constrained (for the protocol being compiled).
#[derive(Clone, Debug)]
pub struct Grant {
    pub rule: RuleId,
    pub src: Vec<AddrRange>,
    pub dst: Vec<AddrRange>,
    pub ports: (u16, u16),
    pub constrained: bool,
}

/// Traffic whose allowed requests are the union of what `rules` allow.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct FlowGroup {
    pub rules: Vec<RuleId>,
    /// Position among the groups of the same rules (0 for the first), for stable identities.
    pub ordinal: usize,
    pub src: Vec<AddrRange>,
    pub dst: Vec<AddrRange>,
    pub ports: Vec<(u16, u16)>,
}

fn family_max(v6: bool) -> u128 {
    if v6 {
        u128::MAX
    } else {
        u128::from(u32::MAX)
    }
}

/// The elementary address segments that `ranges` cut the space into, keeping only those
/// inside some range.
fn address_segments<'a>(ranges: impl Iterator<Item = &'a AddrRange> + Clone) -> Vec<AddrRange> {
    let mut starts: BTreeSet<(bool, u128)> = BTreeSet::new();
    for r in ranges.clone() {
        starts.insert((r.v6, r.lo));
        if r.hi < family_max(r.v6) {
            starts.insert((r.v6, r.hi + 1));
        }
    }
    let starts: Vec<(bool, u128)> = starts.into_iter().collect();
    let mut out = Vec::new();
    for (i, &(v6, lo)) in starts.iter().enumerate() {
        let hi = match starts.get(i + 1) {
            Some(&(next_v6, next)) if next_v6 == v6 => next - 1,
            _ => family_max(v6),
        };
        let seg = AddrRange { v6, lo, hi };
        if ranges.clone().any(|r| r.contains(&seg)) {
            out.push(seg);
        }
    }
    out
}

fn port_segments(ranges: &[(u16, u16)]) -> Vec<(u16, u16)> {
    let mut starts: BTreeSet<u32> = BTreeSet::new();
    for &(lo, hi) in ranges {
        starts.insert(u32::from(lo));
        starts.insert(u32::from(hi) + 1);
    }
    let starts: Vec<u32> = starts.into_iter().collect();
    starts
        .windows(2)
        .filter_map(|w| match w {
            [a, b] => Some((*a, *b - 1)),
            _ => None,
        })
        .filter_map(|(a, b)| Some((u16::try_from(a).ok()?, u16::try_from(b).ok()?)))
        .filter(|&(a, b)| ranges.iter().any(|&(lo, hi)| lo <= a && b <= hi))
        .collect()
}

/// Cells of one source segment: (destination segment, port segment) indexes.
type Targets = BTreeSet<(usize, usize)>;

/// Gather the grants of one protocol into flow groups. Only cells that some constrained grant
/// covers, and no unconstrained one, are returned.
pub fn flow_groups(grants: &[Grant]) -> Vec<FlowGroup> {
    let constrained_ports: Vec<(u16, u16)> = grants
        .iter()
        .filter(|g| g.constrained)
        .map(|g| g.ports)
        .collect();
    // Unconstrained grants matter only where they meet a constrained port.
    let relevant: Vec<&Grant> = grants
        .iter()
        .filter(|g| {
            g.constrained
                || constrained_ports
                    .iter()
                    .any(|&(lo, hi)| g.ports.0 <= hi && lo <= g.ports.1)
        })
        .collect();
    let srcs = address_segments(
        relevant
            .iter()
            .flat_map(|g| g.src.iter())
            .collect::<Vec<_>>()
            .into_iter(),
    );
    let dsts = address_segments(
        relevant
            .iter()
            .flat_map(|g| g.dst.iter())
            .collect::<Vec<_>>()
            .into_iter(),
    );
    let ports = port_segments(&relevant.iter().map(|g| g.ports).collect::<Vec<_>>());
    let covers_addr = |list: &[AddrRange], seg: &AddrRange| list.iter().any(|r| r.contains(seg));
    let by_src: Vec<BTreeSet<usize>> = srcs
        .iter()
        .map(|s| {
            (0..relevant.len())
                .filter(|&i| relevant.get(i).is_some_and(|g| covers_addr(&g.src, s)))
                .collect()
        })
        .collect();
    let by_dst: Vec<BTreeSet<usize>> = dsts
        .iter()
        .map(|d| {
            (0..relevant.len())
                .filter(|&i| relevant.get(i).is_some_and(|g| covers_addr(&g.dst, d)))
                .collect()
        })
        .collect();
    let by_port: Vec<BTreeSet<usize>> = ports
        .iter()
        .map(|&(a, b)| {
            (0..relevant.len())
                .filter(|&i| {
                    relevant
                        .get(i)
                        .is_some_and(|g| g.ports.0 <= a && b <= g.ports.1)
                })
                .collect()
        })
        .collect();

    // covering rules -> src segment -> its (dst segment, port segment) cells
    let mut cells: BTreeMap<Vec<RuleId>, BTreeMap<usize, Targets>> = BTreeMap::new();
    for (si, s_set) in by_src.iter().enumerate() {
        for (di, d_set) in by_dst.iter().enumerate() {
            let sd: BTreeSet<usize> = s_set.intersection(d_set).copied().collect();
            if sd.is_empty() {
                continue;
            }
            for (pi, p_set) in by_port.iter().enumerate() {
                let covering: Vec<&Grant> = sd
                    .intersection(p_set)
                    .filter_map(|&i| relevant.get(i).copied())
                    .collect();
                if covering.is_empty() || covering.iter().any(|g| !g.constrained) {
                    continue;
                }
                let rules: BTreeSet<RuleId> = covering.iter().map(|g| g.rule).collect();
                cells
                    .entry(rules.into_iter().collect())
                    .or_default()
                    .entry(si)
                    .or_default()
                    .insert((di, pi));
            }
        }
    }

    let mut out = Vec::new();
    for (rules, by_s) in cells {
        // Sources that reach the same (destination, port) cells share a group ...
        let mut by_targets: BTreeMap<BTreeSet<(usize, usize)>, Vec<usize>> = BTreeMap::new();
        for (s, targets) in by_s {
            by_targets.entry(targets).or_default().push(s);
        }
        let mut groups = Vec::new();
        for (targets, s_list) in by_targets {
            // ... and within it, destinations that take the same ports.
            let mut ports_of: BTreeMap<usize, BTreeSet<usize>> = BTreeMap::new();
            for (d, p) in targets {
                ports_of.entry(d).or_default().insert(p);
            }
            let mut by_ports: BTreeMap<BTreeSet<usize>, Vec<usize>> = BTreeMap::new();
            for (d, p_set) in ports_of {
                by_ports.entry(p_set).or_default().push(d);
            }
            for (p_set, d_list) in by_ports {
                groups.push(FlowGroup {
                    rules: rules.clone(),
                    ordinal: 0,
                    src: merge(
                        s_list
                            .iter()
                            .filter_map(|&i| srcs.get(i).copied())
                            .collect(),
                    ),
                    dst: merge(
                        d_list
                            .iter()
                            .filter_map(|&i| dsts.get(i).copied())
                            .collect(),
                    ),
                    ports: merge_ports(
                        p_set
                            .iter()
                            .filter_map(|&i| ports.get(i).copied())
                            .collect(),
                    ),
                });
            }
        }
        groups.sort();
        for (i, g) in groups.iter_mut().enumerate() {
            g.ordinal = i;
        }
        out.extend(groups);
    }
    out
}

pub fn merge_ports(mut v: Vec<(u16, u16)>) -> Vec<(u16, u16)> {
    v.sort();
    let mut out: Vec<(u16, u16)> = Vec::new();
    for (lo, hi) in v {
        match out.last_mut() {
            Some(last) if u32::from(lo) <= u32::from(last.1) + 1 => last.1 = last.1.max(hi),
            _ => out.push((lo, hi)),
        }
    }
    out
}

#[cfg(test)]
#[allow(clippy::indexing_slicing)]
mod tests {
    use super::*;

    fn v4(a: u32, b: u32) -> AddrRange {
        AddrRange {
            v6: false,
            lo: a.into(),
            hi: b.into(),
        }
    }

    fn grant(rule: u32, src: AddrRange, dst: AddrRange, constrained: bool) -> Grant {
        Grant {
            rule: RuleId(rule),
            src: vec![src],
            dst: vec![dst],
            ports: (502, 502),
            constrained,
        }
    }

    #[test]
    fn an_unconstrained_rule_lifts_the_constraint_where_it_overlaps() {
        // any (10..=20) -> plc : modbus {read}; eng_ws (15) -> plc : modbus
        let g = flow_groups(&[
            grant(0, v4(10, 20), v4(1, 1), true),
            grant(1, v4(15, 15), v4(1, 1), false),
        ]);
        assert_eq!(g.len(), 1);
        assert_eq!(g[0].rules, vec![RuleId(0)]);
        assert_eq!(g[0].src, vec![v4(10, 14), v4(16, 20)]);
    }

    #[test]
    fn overlapping_constrained_rules_take_the_union() {
        let g = flow_groups(&[
            grant(0, v4(10, 20), v4(1, 1), true),
            grant(1, v4(15, 30), v4(1, 1), true),
        ]);
        let summary: Vec<(Vec<RuleId>, Vec<AddrRange>)> =
            g.iter().map(|g| (g.rules.clone(), g.src.clone())).collect();
        assert_eq!(
            summary,
            vec![
                (vec![RuleId(0)], vec![v4(10, 14)]),
                (vec![RuleId(0), RuleId(1)], vec![v4(15, 20)]),
                (vec![RuleId(1)], vec![v4(21, 30)]),
            ]
        );
    }
}
