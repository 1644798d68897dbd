//! Where rules go: "a conduit from A to B is emitted on every firewall on every path between
//! A and B". For each device, the rules it must enforce and the interfaces each path uses.

use palisade_compiler::ir::{DeviceId, Policy, RuleId};
use std::collections::{BTreeMap, BTreeSet};

/// Paths longer than this many crossings, or more paths than this per zone pair, are not
/// followed; sites past these bounds get a diagnostic rather than a silent gap.
pub const MAX_PATHS: usize = 64;
pub const MAX_CROSSINGS: usize = 8;

/// One rule as one device enforces it: traffic enters on `in_iface` and leaves on `out_iface`.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Placed {
    pub rule: RuleId,
    pub in_iface: String,
    pub out_iface: String,
}

#[derive(Clone, Debug, Default)]
pub struct Placement {
    pub per_device: BTreeMap<DeviceId, BTreeSet<Placed>>,
    /// Zone pairs whose paths were cut at the bounds above.
    pub truncated: Vec<(palisade_compiler::ir::ZoneId, palisade_compiler::ir::ZoneId)>,
}

impl Placement {
    pub fn rules_on(&self, device: DeviceId) -> impl Iterator<Item = &Placed> {
        self.per_device.get(&device).into_iter().flatten()
    }
}

/// Place every rule of the policy on the devices of every topology path of its zones: one
/// search for every target, the work-order commands, the workflows and translation validation
/// ([`crate::model::enforced`]: simple paths that cross each device at most once).
pub fn place(policy: &Policy) -> Placement {
    crate::model::enforced(policy)
}

/// Zone pairs whose topology paths could not all be followed when placing rules (more than
/// `MAX_PATHS` paths, or the search budget spent): a device on a path that was cut would get
/// none of the pair's rules and drop traffic the proofs say passes, so the build stops (E0915)
/// rather than write rulesets that silently differ from what was proved.
pub fn truncated_diagnostics(policy: &Policy) -> Vec<palisade_compiler::Diagnostic> {
    let mut pairs = place(policy).truncated;
    pairs.sort();
    pairs.dedup();
    pairs
        .into_iter()
        .map(|(a, b)| {
            let d = palisade_compiler::Diagnostic::error(
                "E0915",
                format!(
                    "too many topology paths between `{}` and `{}` to place their rules on every device",
                    policy.zone_name(a),
                    policy.zone_name(b)
                ),
            )
            .help(format!(
                "at most {} paths of {} crossings are followed; make interfaces face only the zones they reach, so that fewer paths join the two zones",
                MAX_PATHS,
                MAX_CROSSINGS
            ));
            match policy
                .rules
                .iter()
                .find(|r| r.from == a && r.to == b)
                .and_then(|r| policy.conduit(r.conduit))
            {
                Some(c) => d.primary(policy.location(c.span), "this conduit's rules could not be placed on every path"),
                None => d,
            }
        })
        .collect()
}
