//! Scenarios: which rules are open. The base state opens every rule outside a work order;
//! a work-order scenario adds that order's rules, each only for packets with one end in the
//! order's scope (what an instance opens); "all active" adds every order's rules.
//!
//! An assertion holds in every scenario unless scoped: `in base` checks the base state,
//! `during X` the scenarios in which X is open (X alone and all together), `except during X`
//! those in which X is closed (base, every other order alone, and all other orders together).
//! Opening more rules only adds packets, so these cover every combination of open orders.

use palisade_compiler::address::AddrRange;
use palisade_compiler::ir::{self, Policy, RuleId, WorkOrderId};
use serde::Serialize;

#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(tag = "kind", content = "workorder", rename_all = "snake_case")]
pub enum ScenarioKind {
    Base,
    /// One work order open on its whole scope.
    WorkOrder(WorkOrderId),
    /// Every work order open at once.
    AllActive,
    /// Every work order but one open at once.
    AllExcept(WorkOrderId),
}

/// One state of the network: the work orders open in it.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct Scenario {
    pub kind: ScenarioKind,
    /// `base`, `during X`, `all work orders`, `all work orders but X`.
    pub name: String,
    pub open: Vec<WorkOrderId>,
}

/// A rule open in a scenario; a work-order rule only for packets touching the order's scope.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ActiveRule {
    pub rule: RuleId,
    pub scope: Option<Vec<AddrRange>>,
}

impl Scenario {
    pub fn base() -> Scenario {
        Scenario {
            kind: ScenarioKind::Base,
            name: "base".into(),
            open: Vec::new(),
        }
    }

    pub fn work_order(policy: &Policy, w: WorkOrderId) -> Scenario {
        let name = policy.workorder(w).map(|w| w.name.as_str()).unwrap_or("?");
        Scenario {
            kind: ScenarioKind::WorkOrder(w),
            name: format!("during {name}"),
            open: vec![w],
        }
    }

    pub fn all_active(policy: &Policy) -> Scenario {
        let open = (0..policy.workorders.len())
            .map(|i| WorkOrderId(i as u32))
            .collect();
        Scenario {
            kind: ScenarioKind::AllActive,
            name: "all work orders".into(),
            open,
        }
    }

    pub fn all_except(policy: &Policy, w: WorkOrderId) -> Scenario {
        let name = policy.workorder(w).map(|w| w.name.as_str()).unwrap_or("?");
        let open = (0..policy.workorders.len())
            .map(|i| WorkOrderId(i as u32))
            .filter(|x| *x != w)
            .collect();
        Scenario {
            kind: ScenarioKind::AllExcept(w),
            name: format!("all work orders but {name}"),
            open,
        }
    }

    pub fn is_open(&self, rule: &ir::Rule) -> bool {
        rule.workorder.is_none_or(|w| self.open.contains(&w))
    }

    /// The rules open in this scenario, with their scope restrictions.
    pub fn rules(&self, policy: &Policy) -> Vec<ActiveRule> {
        policy
            .rules
            .iter()
            .enumerate()
            .filter(|(_, r)| self.is_open(r))
            .map(|(i, r)| ActiveRule {
                rule: RuleId(i as u32),
                scope: r.workorder.map(|w| scope_addrs(policy, w)),
            })
            .collect()
    }
}

/// Base, each work order alone, and all together: the scenarios every assertion is checked in.
pub fn scenarios(policy: &Policy) -> Vec<Scenario> {
    let mut out = vec![Scenario::base()];
    out.extend(
        (0..policy.workorders.len()).map(|i| Scenario::work_order(policy, WorkOrderId(i as u32))),
    );
    if policy.workorders.len() > 1 {
        out.push(Scenario::all_active(policy));
    }
    out
}

/// The scenarios an assertion's scope asks for.
pub fn scenarios_for(policy: &Policy, scope: ir::Scenario) -> Vec<Scenario> {
    let n = policy.workorders.len();
    match scope {
        ir::Scenario::All => scenarios(policy),
        ir::Scenario::InBase => vec![Scenario::base()],
        ir::Scenario::During(w) => {
            let mut out = vec![Scenario::work_order(policy, w)];
            if n > 1 {
                out.push(Scenario::all_active(policy));
            }
            out
        }
        ir::Scenario::ExceptDuring(w) => {
            let mut out = vec![Scenario::base()];
            out.extend(
                (0..n)
                    .map(|i| WorkOrderId(i as u32))
                    .filter(|x| *x != w)
                    .map(|x| Scenario::work_order(policy, x)),
            );
            if n > 2 {
                out.push(Scenario::all_except(policy, w));
            }
            out
        }
    }
}

/// The addresses of a work order's scope (zones' networks, assets with their interfaces).
pub fn scope_addrs(policy: &Policy, w: WorkOrderId) -> Vec<AddrRange> {
    policy.scope_addrs(w)
}
